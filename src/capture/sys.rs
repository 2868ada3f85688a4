//! The few packet-socket system calls that neither socket2 nor pnet wrap, and the memory advice
//! for reading large files ([`read_file`]); the only `unsafe` code of packetpath's capture. The
//! socket functions take the raw descriptor of a packet socket that the caller keeps open for the
//! duration of the call (see `LiveCapture`, which owns it through pnet's receiver).
//!
//! Reference: packet(7) and `<linux/if_packet.h>`.

#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::RawFd;
use std::time::Duration;

/// `SIOCGSTAMPNS` (`<asm-generic/sockios.h>`, 0x8907): the kernel time of the last packet read.
/// On 64-bit targets the "old" and the y2038-safe request are the same, with a 64-bit `timespec`.
#[cfg(target_pointer_width = "64")]
const SIOCGSTAMPNS: libc::c_ulong = 0x8907;

/// Sets an integer socket option.
fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: `value` is a live c_int on our stack and the length passed is exactly its size; the kernel
    // only reads it. An invalid descriptor makes the call fail with EBADF, it cannot touch our memory.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `PACKET_IGNORE_OUTGOING` (Linux 4.20+): do not deliver copies of packets this host sends. On loopback
/// every packet is both sent and received, so without this each one would be captured twice.
pub(crate) fn ignore_outgoing(fd: RawFd) -> io::Result<()> {
    set_int(fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1)
}

/// `IP_MTU_DISCOVER`: with `df`, `IP_PMTUDISC_DO` (every packet leaves with "don't fragment" and
/// is never fragmented by this host); without, `IP_PMTUDISC_DONT` (DF clear: routers may
/// fragment). Used by `ping --df` on its raw socket.
pub(crate) fn set_dont_fragment(fd: RawFd, df: bool) -> io::Result<()> {
    let mode = if df {
        libc::IP_PMTUDISC_DO
    } else {
        libc::IP_PMTUDISC_DONT
    };
    set_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, mode)
}

/// `SO_RCVBUFFORCE`: a receive buffer above `net.core.rmem_max` (needs CAP_NET_ADMIN), so a burst of
/// traffic is queued instead of dropped while we are busy. The kernel doubles the value for bookkeeping.
pub(crate) fn force_receive_buffer(fd: RawFd, bytes: usize) -> io::Result<()> {
    let bytes = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes)
}

/// Binds the packet socket to one interface and to every EtherType (`ETH_P_ALL`), which is the moment
/// the kernel starts queueing packets for it (after the filter is attached, so nothing unfiltered slips in).
pub(crate) fn bind_to_interface(fd: RawFd, ifindex: u32) -> io::Result<()> {
    let ifindex =
        libc::c_int::try_from(ifindex).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: sockaddr_ll is plain old data; all-zero bytes are a valid value of it.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as libc::c_ushort;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex;
    // SAFETY: `addr` is a fully initialised sockaddr_ll that outlives the call, and the length passed is
    // its exact size; the kernel only reads it.
    let rc = unsafe {
        libc::bind(
            fd,
            (&addr as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `PACKET_STATISTICS`: (packets that passed the filter, including dropped ones; packets dropped because
/// the receive buffer was full) since the previous call: the kernel resets the counters on each read.
pub(crate) fn packet_statistics(fd: RawFd) -> io::Result<(u32, u32)> {
    let mut stats = MaybeUninit::<libc::tpacket_stats>::zeroed();
    let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: `stats` is a writable buffer of `len` bytes that outlives the call; the kernel writes at
    // most `len` bytes and updates `len` with what it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            stats.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the buffer started zeroed (a valid tpacket_stats: two integers) and the kernel filled it.
    let stats = unsafe { stats.assume_init() };
    Ok((stats.tp_packets, stats.tp_drops))
}

/// Waits until a packet can be read or `timeout` passes: `Ok(true)` if readable, `Ok(false)` on timeout,
/// an `Interrupted` error if a signal arrived first.
pub(super) fn wait_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // Round up so that a sub-millisecond wait still waits rather than spinning.
    let millis = timeout.as_nanos().div_ceil(1_000_000);
    let millis = libc::c_int::try_from(millis).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pfd` is one valid pollfd that outlives the call, and we pass a count of 1.
    let rc = unsafe { libc::poll(&mut pfd, 1, millis) };
    match rc {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(false),
        _ if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 => Err(io::Error::other(format!(
            "poll reported an error condition on the packet socket (revents {:#x})",
            pfd.revents
        ))),
        _ => Ok(true),
    }
}

/// Waits until `fd` is readable or `timeout` passes, to the nanosecond (`ppoll(2)`; `poll` counts in
/// milliseconds): `Ok(true)` if readable, `Ok(false)` on timeout. Used by the lab's forwarding link,
/// which must send each frame at its deadline, not up to a millisecond later.
pub(crate) fn wait_readable_precise(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        // Below 10^9, so it fits a c_long of 32 bits too.
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `pfd` is one valid pollfd and `ts` a valid timespec, both outliving the call; we pass
    // a count of 1 and no signal mask (null: the thread's mask is left as it is).
    let rc = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
    match rc {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(false),
        _ if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 => Err(io::Error::other(format!(
            "poll reported an error condition on the packet socket (revents {:#x})",
            pfd.revents
        ))),
        _ => Ok(true),
    }
}

/// Sets the calling thread's timer slack (`PR_SET_TIMERSLACK`, prctl(2)): how late the kernel may
/// wake it from a timed wait to batch wake-ups (50 µs by default). The forwarding link asks for
/// 1 µs so that a frame leaves at its deadline.
pub(crate) fn set_thread_timer_slack(nanos: u64) -> io::Result<()> {
    let nanos = libc::c_ulong::try_from(nanos).unwrap_or(libc::c_ulong::MAX);
    // SAFETY: PR_SET_TIMERSLACK takes its value as the second argument and reads no memory; it
    // affects only the calling thread.
    let rc = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, nanos, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The kernel receive time of the packet read last (`SIOCGSTAMPNS`, socket(7)): seconds and nanoseconds
/// since 1970. `Ok(None)` before the first packet. The first call also switches time stamping on.
/// For a packet the kernel did not stamp, it answers with the current time.
#[cfg(target_pointer_width = "64")]
pub(super) fn last_packet_time(fd: RawFd) -> io::Result<Option<(i64, u32)>> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the caller guarantees `fd` is a packet socket, for which this request writes one 64-bit
    // timespec (this target's `libc::timespec`) into `ts`, which is valid and outlives the call.
    let rc = unsafe { libc::ioctl(fd, SIOCGSTAMPNS as _, &mut ts as *mut libc::timespec) };
    if rc == 0 {
        Ok(u32::try_from(ts.tv_nsec).ok().map(|ns| (ts.tv_sec, ns)))
    } else {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENOENT) {
            Ok(None)
        } else {
            Err(e)
        }
    }
}

/// On 32-bit targets the `timespec` layout of the request differs; times come from the clock instead.
#[cfg(not(target_pointer_width = "64"))]
pub(super) fn last_packet_time(_fd: RawFd) -> io::Result<Option<(i64, u32)>> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Maps `path` into memory, read-only: its bytes come from the page cache as they are first
/// touched, so a reader can start on a large file at once, and the file is held once, by the
/// kernel (shared with any other reader of it), however many frames point into it.
pub fn map_file(path: &std::path::Path) -> io::Result<bytes::Bytes> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(bytes::Bytes::new());
    }
    // SAFETY: the map is read-only and private to this process, and nothing here writes the
    // file. Should another program cut the file short while it is mapped, reading the pages it
    // lost raises SIGBUS, as in every program that maps its input files; a program that only
    // appends (a capture still being written) does no harm.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    // Read front to back: the kernel may read ahead generously and drop pages behind.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(bytes::Bytes::from_owner(map))
}

/// A file mapped as [`map_file`] maps it, whose pages a reader that has moved on can give back.
/// Pages the process touched count in its resident memory until they are unmapped or given
/// back; giving back the part already read keeps a front-to-back reader's memory flat however
/// large the file.
pub struct MappedFile {
    bytes: bytes::Bytes,
    map: Option<std::sync::Arc<memmap2::Mmap>>,
}

/// Lets [`bytes::Bytes`] share a map that [`MappedFile`] also holds.
struct SharedMap(std::sync::Arc<memmap2::Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0[..]
    }
}

impl MappedFile {
    /// Maps `path` read-only (an empty file maps to no bytes).
    pub fn open(path: &std::path::Path) -> io::Result<MappedFile> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(MappedFile {
                bytes: bytes::Bytes::new(),
                map: None,
            });
        }
        // SAFETY: as in `map_file`.
        let map = std::sync::Arc::new(unsafe { memmap2::Mmap::map(&file)? });
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(MappedFile {
            bytes: bytes::Bytes::from_owner(SharedMap(map.clone())),
            map: Some(map),
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &bytes::Bytes {
        &self.bytes
    }

    /// Where `slice` (a slice of [`MappedFile::bytes`]) starts in the file, if it is one.
    pub fn offset_of(&self, slice: &[u8]) -> Option<usize> {
        (slice.as_ptr() as usize)
            .checked_sub(self.bytes.as_ptr() as usize)
            .filter(|&at| at <= self.bytes.len())
    }

    /// Gives back the pages wholly inside bytes `from..to`. They stay mapped: reading them again
    /// fetches them again from the page cache (or the disk), so this changes how much memory the
    /// process holds, never what it reads. Returns where the pages given back end (`to` rounded
    /// down to a page), from where the next call can go on.
    pub fn release(&self, from: usize, to: usize) -> usize {
        self.release_pages(from, to, false)
    }

    /// Gives back every page that holds a byte of `from..to` (pages shared with bytes around
    /// them too: they are read again from the page cache if needed).
    pub fn release_around(&self, from: usize, to: usize) {
        self.release_pages(from, to, true);
    }

    fn release_pages(&self, from: usize, to: usize, outward: bool) -> usize {
        let page = page_size();
        // The map is whole pages: a file's last, partial page can be given back outward.
        let (from, to) = if outward {
            (
                from / page * page,
                to.div_ceil(page).min(self.bytes.len().div_ceil(page)) * page,
            )
        } else {
            (
                from.div_ceil(page) * page,
                to.min(self.bytes.len()) / page * page,
            )
        };
        let Some(map) = self.map.as_ref().filter(|_| from < to) else {
            return from.min(to);
        };
        // SAFETY: the map is read-only and private, so no page holds a change of this process's
        // that MADV_DONTNEED would discard: a page given back reads again as the file's bytes.
        let given = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
        };
        if let Err(e) = given {
            tracing::debug!("cannot give back the pages read: {e}");
        }
        to
    }
}

/// The size of a memory page (4096 where the system cannot say).
fn page_size() -> usize {
    // SAFETY: sysconf reads a system constant and touches no memory of ours.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}
