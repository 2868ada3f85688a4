//! Live capture from an `AF_PACKET` socket (packet(7)), read through pnet's datalink channel.
//!
//! pnet's Linux backend creates a bare socket with no filter, no buffer size and no way to skip
//! outgoing copies, so the socket is built here and handed to pnet with `Config::socket_fd`. pnet 0.35
//! then binds it again to the same interface (harmless), switches it to non-blocking mode, and from then
//! on owns and closes the descriptor. On the socket, in this order:
//! 1. created with protocol 0, so the kernel queues nothing yet;
//! 2. the BPF filter from `bpf.rs` (only the chat's TCP ports);
//! 3. `PACKET_IGNORE_OUTGOING`: loopback shows each packet as sent and as received, byte-identical;
//!    on kernels before 4.20 consecutive identical frames are dropped instead;
//! 4. a 32 MiB receive buffer (`SO_RCVBUFFORCE`, else `SO_RCVBUF` up to `net.core.rmem_max`): with the
//!    default buffer a bulk transfer on loopback loses a third of its packets;
//! 5. kernel receive timestamps switched on;
//! 6. bound to the interface for all EtherTypes: capture starts.

use std::cell::Cell;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pnet_datalink::{Channel, DataLinkReceiver};
use socket2::{Domain, SockFilter, Socket, Type};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::{bpf, sys, tcp_ports_filter, CaptureError};
use crate::frame::{Frame, LinkType, Timestamp};

/// Receive buffer asked for (the kernel doubles it for its own bookkeeping).
const RECEIVE_BUFFER: usize = 32 << 20;
/// pnet's read buffer: loopback frames reach 65,549 bytes (a 65,535-byte IP packet and 14 bytes of
/// Ethernet); pnet's default 4,096 would cut them silently. A frame filling the whole buffer was cut.
const READ_BUFFER: usize = 256 << 10;
/// How often the capture thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);
/// `ARPHRD_ETHER` and `ARPHRD_LOOPBACK` (`<linux/if_arp.h>`): frames begin with an Ethernet header.
const ARPHRD_ETHER: u32 = 1;
const ARPHRD_LOOPBACK: u32 = 772;

/// The kernel's packet counters for one capture, cumulative since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets that passed the kernel filter, whether or not they could be queued (tcpdump's
    /// "packets received by filter"). Outgoing loopback copies are not counted when ignored.
    pub received: u64,
    /// Packets the kernel had to drop because the socket's receive buffer was full
    /// (tcpdump's "packets dropped by kernel"): frames missing from the capture.
    pub dropped: u64,
}

/// A live capture on one interface, keeping only TCP to or from the given ports.
pub struct LiveCapture {
    rx: Box<dyn DataLinkReceiver>,
    /// The socket's descriptor. Owned by `rx` (pnet closes it on drop), so it stays valid as long as
    /// `self` does; every system call through it happens in a method of `self`.
    fd: RawFd,
    interface: String,
    /// False on old kernels without `PACKET_IGNORE_OUTGOING`: drop consecutive identical copies instead.
    ignores_outgoing: bool,
    dedupe: LoopbackDedupe,
    kernel_times: bool,
    stats: Cell<CaptureStats>,
    /// The `interface` given to every frame (the index in the lab's interface table).
    interface_id: u32,
}

impl LiveCapture {
    /// Opens an AF_PACKET socket on `interface` ("lo" in the lab) that receives only TCP to or from
    /// `ports` (empty = all TCP), filtered in the kernel by a BPF program. Needs CAP_NET_RAW.
    ///
    /// The kernel switches packet time stamping on asynchronously when the first socket asks for it, so
    /// frames in the first milliseconds after opening may carry the time they were read instead.
    pub fn open(interface: &str, ports: &[u16]) -> Result<Self, CaptureError> {
        Self::open_with(interface, ports, tcp_ports_filter(ports)?)
    }

    /// As [`LiveCapture::open`], for an interface of packetpath's lab: also keeps ICMP, ICMPv6
    /// and the UDP of traceroute's probes ([`bpf::lab_filter`]), so that echo, time exceeded,
    /// unreachable and neighbour discovery show in the trace.
    pub fn open_lab(interface: &str, ports: &[u16]) -> Result<Self, CaptureError> {
        Self::open_with(interface, ports, bpf::lab_filter(ports)?)
    }

    fn open_with(
        interface: &str,
        ports: &[u16],
        program: Vec<super::BpfInstruction>,
    ) -> Result<Self, CaptureError> {
        let filter: Vec<SockFilter> = program
            .iter()
            .map(|i| SockFilter::new(i.code, i.jt, i.jf, i.k))
            .collect();
        let iface = pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == interface)
            .ok_or_else(|| CaptureError::NoSuchInterface(interface.to_owned()))?;
        check_ethernet_framing(interface)?;
        let socket =
            Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| open_error(interface, e))?;
        socket
            .attach_filter(&filter)
            .map_err(|e| CaptureError::Io("attaching the BPF port filter", e))?;
        let fd = socket.as_raw_fd();
        // Only loopback shows each packet twice (as sent and as received). On a real or virtual
        // cable the outgoing copies are the only copy of what this host sends: keep them.
        let ignores_outgoing = if !iface.is_loopback() {
            true
        } else {
            match sys::ignore_outgoing(fd) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "PACKET_IGNORE_OUTGOING unavailable; dropping duplicate loopback copies instead");
                    false
                }
            }
        };
        if let Err(e) = sys::force_receive_buffer(fd, RECEIVE_BUFFER) {
            tracing::debug!(error = %e, "SO_RCVBUFFORCE refused; asking for SO_RCVBUF (capped by net.core.rmem_max)");
            socket
                .set_recv_buffer_size(RECEIVE_BUFFER)
                .map_err(|e| CaptureError::Io("setting the receive buffer size", e))?;
        }
        let kernel_times = match sys::last_packet_time(fd) {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(error = %e, "no kernel timestamps; stamping frames when they are read");
                false
            }
        };
        sys::bind_to_interface(fd, iface.index)
            .map_err(|e| CaptureError::Io("binding to the interface", e))?;
        let config = pnet_datalink::Config {
            read_buffer_size: READ_BUFFER,
            // We wait in `next_frame` ourselves; pnet's own poll must then not wait at all.
            read_timeout: Some(Duration::ZERO),
            promiscuous: false,
            socket_fd: Some(socket.into_raw_fd()),
            ..Default::default()
        };
        // From here pnet owns the descriptor (it closes it itself if `channel` fails).
        let rx = match pnet_datalink::channel(&iface, config) {
            Ok(Channel::Ethernet(_tx, rx)) => rx,
            Ok(_) => {
                return Err(CaptureError::Io(
                    "opening the pnet channel",
                    std::io::Error::other("not an Ethernet channel"),
                ))
            }
            Err(e) => return Err(CaptureError::Io("opening the pnet channel", e)),
        };
        tracing::info!(interface, ?ports, ignores_outgoing, "live capture started");
        Ok(LiveCapture {
            rx,
            fd,
            interface: interface.to_owned(),
            ignores_outgoing,
            dedupe: LoopbackDedupe::default(),
            kernel_times,
            stats: Cell::new(CaptureStats::default()),
            interface_id: 0,
        })
    }

    /// The next frame the filter let through, or `None` if none arrives within `timeout`
    /// (`Duration::ZERO` = only what is already queued).
    ///
    /// The frame's time is the kernel's receive time (`SIOCGSTAMPNS`). Where that is unavailable (32-bit
    /// targets; outgoing copies on kernels without `PACKET_IGNORE_OUTGOING`, which the kernel leaves
    /// unstamped) it is [`Timestamp::now`] when the frame is read, which lags the wire by the time the
    /// frame waited in the socket queue.
    pub fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, CaptureError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            // Read first (pnet polls with a zero timeout): under load a packet is usually waiting,
            // and only an empty socket costs the extra wait below.
            let data = match self.rx.next() {
                Ok(bytes) => Bytes::copy_from_slice(bytes),
                Err(e) if is_retry(&e) => {
                    let wait = deadline.map_or(Duration::MAX, |d| {
                        d.saturating_duration_since(Instant::now())
                    });
                    if wait.is_zero() {
                        return Ok(None);
                    }
                    match sys::wait_readable(self.fd, wait) {
                        Ok(false) => return Ok(None),
                        Ok(true) => continue,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(CaptureError::Io("waiting for a packet", e)),
                    }
                }
                Err(e) => return Err(CaptureError::Io("reading a packet", e)),
            };
            let at = self.packet_time();
            if !self.ignores_outgoing && self.dedupe.is_second_copy(&data) {
                continue;
            }
            if data.len() >= READ_BUFFER {
                tracing::warn!(
                    len = data.len(),
                    "frame filled the whole read buffer and may be cut short"
                );
            }
            let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            return Ok(Some(Frame {
                at,
                link: self.link(),
                data,
                orig_len,
                interface: self.interface_id,
            }));
        }
    }

    /// The kernel's counters (`PACKET_STATISTICS`), cumulative since [`LiveCapture::open`]. The kernel
    /// resets them on each read, so they are accumulated here.
    pub fn stats(&self) -> Result<CaptureStats, CaptureError> {
        let (packets, drops) = sys::packet_statistics(self.fd)
            .map_err(|e| CaptureError::Io("reading PACKET_STATISTICS", e))?;
        let mut s = self.stats.get();
        s.received += u64::from(packets);
        s.dropped += u64::from(drops);
        self.stats.set(s);
        Ok(s)
    }

    /// The link-layer header frames start with: Ethernet (loopback uses one with zero addresses).
    pub fn link(&self) -> LinkType {
        LinkType::Ethernet
    }

    /// Whether the kernel drops the outgoing copy of each loopback packet for us
    /// (`PACKET_IGNORE_OUTGOING`); if not, the capture thread drops the second of each identical pair.
    pub fn ignores_outgoing(&self) -> bool {
        self.ignores_outgoing
    }

    /// Tags every frame with `id` as its [`Frame::interface`] (the interface's index in a table
    /// of several captured at once; 0 by default).
    pub fn with_interface_id(mut self, id: u32) -> Self {
        self.interface_id = id;
        self
    }

    /// The interface captured on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    fn packet_time(&self) -> Timestamp {
        if self.kernel_times {
            match sys::last_packet_time(self.fd) {
                Ok(Some((secs, nanos))) => return Timestamp::from_parts(secs, nanos),
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "SIOCGSTAMPNS failed"),
            }
        }
        Timestamp::now()
    }
}

/// The fallback for kernels without `PACKET_IGNORE_OUTGOING`: loopback then shows every packet
/// twice in a row (as sent, as received), byte-identical. Remembers the last frame kept, and calls
/// the next one a second copy if it is identical; after a second copy it forgets, so a third
/// identical frame (a real resend) is kept again.
#[derive(Debug, Default)]
pub(crate) struct LoopbackDedupe {
    last: Option<Bytes>,
}

impl LoopbackDedupe {
    /// True if `data` is the second copy of the frame just before it (skip it); false to keep it.
    pub(crate) fn is_second_copy(&mut self, data: &Bytes) -> bool {
        if self.last.as_ref() == Some(data) {
            self.last = None;
            return true;
        }
        self.last = Some(data.clone());
        false
    }
}

fn is_retry(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
    matches!(e.kind(), TimedOut | WouldBlock | Interrupted)
}

/// Maps a failure to create the packet socket: EPERM/EACCES mean the CAP_NET_RAW capability is missing.
fn open_error(interface: &str, e: std::io::Error) -> CaptureError {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => CaptureError::NoPermission {
            interface: interface.to_owned(),
            binary: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "/path/to/packetpath".into()),
            cause: e,
        },
        _ => CaptureError::Io("creating the packet socket", e),
    }
}

/// The filter reads IP headers at Ethernet offsets; refuse interfaces whose frames start otherwise.
fn check_ethernet_framing(interface: &str) -> Result<(), CaptureError> {
    let path = format!("/sys/class/net/{interface}/type");
    match std::fs::read_to_string(&path).map(|s| s.trim().parse::<u32>()) {
        Ok(Ok(ARPHRD_ETHER | ARPHRD_LOOPBACK)) => Ok(()),
        Ok(Ok(arphrd)) => Err(CaptureError::UnsupportedInterface {
            interface: interface.to_owned(),
            arphrd,
        }),
        _ => {
            tracing::debug!(
                path,
                "cannot read the interface type; assuming Ethernet framing"
            );
            Ok(())
        }
    }
}

/// A capture running on its own thread; see [`spawn_live`].
pub struct LiveHandle {
    stop: Arc<AtomicBool>,
    progress: Arc<[AtomicU64; 2]>,
    thread: Option<JoinHandle<Result<CaptureStats, CaptureError>>>,
}

/// Starts a live capture (see [`LiveCapture::open`]) on a dedicated thread that sends every frame on
/// the returned channel. Opening errors (permission, interface) are returned here, not later.
pub fn spawn_live(
    interface: &str,
    ports: &[u16],
) -> Result<(LiveHandle, UnboundedReceiver<Frame>), CaptureError> {
    spawn_capture(LiveCapture::open(interface, ports)?)
}

/// Runs an already opened capture on its own thread, as [`spawn_live`] does. Frames the kernel
/// queued since the capture was opened are delivered too, even if the capture is stopped at once:
/// stopping drains the socket first.
pub fn spawn_capture(
    capture: LiveCapture,
) -> Result<(LiveHandle, UnboundedReceiver<Frame>), CaptureError> {
    let (tx, rx) = unbounded_channel();
    Ok((spawn_capture_into(capture, tx)?, rx))
}

/// Runs several opened captures, each on its own thread (as [`spawn_capture`]), all sending
/// their frames on one channel: each frame says its interface ([`LiveCapture::with_interface_id`]);
/// frames of different interfaces arrive in about, not exactly, time order.
pub fn spawn_captures(
    captures: Vec<LiveCapture>,
) -> Result<(Vec<LiveHandle>, UnboundedReceiver<Frame>), CaptureError> {
    let (tx, rx) = unbounded_channel();
    let handles = captures
        .into_iter()
        .map(|c| spawn_capture_into(c, tx.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((handles, rx))
}

fn spawn_capture_into(
    capture: LiveCapture,
    tx: UnboundedSender<Frame>,
) -> Result<LiveHandle, CaptureError> {
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let (flag, counters) = (Arc::clone(&stop), Arc::clone(&progress));
    let thread = std::thread::Builder::new()
        .name("packetpath-capture".into())
        .spawn(move || capture_loop(capture, &tx, &flag, &counters))
        .map_err(|e| CaptureError::Io("starting the capture thread", e))?;
    Ok(LiveHandle {
        stop,
        progress,
        thread: Some(thread),
    })
}

fn capture_loop(
    mut capture: LiveCapture,
    tx: &UnboundedSender<Frame>,
    stop: &AtomicBool,
    progress: &[AtomicU64; 2],
) -> Result<CaptureStats, CaptureError> {
    let mut last_stats = Instant::now();
    while !stop.load(Ordering::Acquire) {
        if let Some(frame) = capture.next_frame(STOP_POLL)? {
            if tx.send(frame).is_err() {
                tracing::debug!("frame receiver dropped; ending capture");
                return capture.stats();
            }
        }
        if last_stats.elapsed() >= Duration::from_millis(500) {
            publish(&capture.stats()?, progress);
            last_stats = Instant::now();
        }
    }
    // Drain: everything the kernel queued before the stop still belongs to the capture.
    let mut drained = 0u64;
    while let Some(frame) = capture.next_frame(Duration::ZERO)? {
        drained += 1;
        if tx.send(frame).is_err() {
            break;
        }
    }
    let stats = capture.stats()?;
    publish(&stats, progress);
    tracing::info!(
        drained,
        received = stats.received,
        dropped = stats.dropped,
        "live capture stopped"
    );
    Ok(stats)
}

fn publish(stats: &CaptureStats, progress: &[AtomicU64; 2]) {
    progress[0].store(stats.received, Ordering::Relaxed);
    progress[1].store(stats.dropped, Ordering::Relaxed);
}

impl LiveHandle {
    /// Stops the capture: the thread drains what the kernel still holds (reading until the socket is
    /// empty), sends it, and returns the final counters. The frame channel closes afterwards.
    pub fn stop(mut self) -> Result<CaptureStats, CaptureError> {
        self.stop.store(true, Ordering::Release);
        let thread = self
            .thread
            .take()
            .ok_or_else(|| CaptureError::Thread("already stopped".into()))?;
        thread
            .join()
            .map_err(|_| CaptureError::Thread("it panicked".into()))?
    }

    /// The counters as of the last half second (the capture thread refreshes them), for a live display.
    pub fn current_stats(&self) -> CaptureStats {
        CaptureStats {
            received: self.progress[0].load(Ordering::Relaxed),
            dropped: self.progress[1].load(Ordering::Relaxed),
        }
    }
}

impl Drop for LiveHandle {
    /// Dropping the handle without [`LiveHandle::stop`] still ends the thread (after its drain).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
