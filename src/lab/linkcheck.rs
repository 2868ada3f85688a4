//! `packetpath link-check` (hidden): measures the forwarding link on its own, for the tests and
//! the benchmark. In a lab namespace of its own it builds
//!
//! ```text
//!   sender ─► pp-h1 ═══ pp-fa ─► [forwarder] ─► pp-fb ═══ pp-h2 ─► receiver
//! ```
//!
//! (or, with `direct`, `pp-h1 ═══ pp-h2`, a bare veth pair, to measure what the forwarder adds),
//! sends numbered frames from a packet socket on `pp-h1` and reads them on `pp-h2`: which arrived,
//! in what order, how long each took, how many per second.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, SockFilter, Socket, Type};

use super::forwarder::{self, LinkProps, LinkStats};
use super::setup::{offloads_off, run, sysctl_if_present, wait_running};
use super::{LabError, LabOptions};
use crate::capture::sys;

/// The EtherType of the test frames: IEEE 802 "local experimental" (802.1-2014 §9.2).
const ETHERTYPE: u16 = 0x88B5;
/// Ethernet header, sequence number, send time.
const HEADER: usize = 14 + 8 + 8;

/// What to send through the link.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Frames to send.
    pub frames: u64,
    /// Bytes per frame, Ethernet header included (30 to 1514).
    pub size: usize,
    /// Frames per second (0: as fast as the sender can).
    pub rate: u64,
    /// The link's settings.
    pub props: LinkProps,
    /// A bare veth pair instead of the forwarder (the baseline).
    pub direct: bool,
}

/// Percentiles of the one-way time, microseconds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Latency {
    /// Fastest frame.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest frame.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// What arrived.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// Frames sent.
    pub sent: u64,
    /// Times the sender had to retry because the kernel's queue was full.
    pub send_retries: u64,
    /// Frames received (duplicates included).
    pub received: u64,
    /// Sequence numbers never received, in order.
    pub missing: Vec<u64>,
    /// Frames that arrived after a frame sent later than them.
    pub reordered: u64,
    /// Frames that arrived more than once.
    pub duplicated: u64,
    /// Send to receive, per frame.
    pub latency_us: Latency,
    /// From the first frame sent to the last received, seconds.
    pub seconds: f64,
    /// Frames received per second over that time.
    pub received_per_second: f64,
    /// The forwarder's counters (`a_to_b` is the direction measured), none when direct.
    pub link: Option<LinkStats>,
    /// One sentence on where it ran.
    pub setup: String,
}

/// Enters a lab namespace (must be called while the process is single-threaded, as
/// [`super::enter`]), builds the link and measures it.
pub fn run_check(options: CheckOptions) -> Result<CheckReport, LabError> {
    if !(HEADER..=1514).contains(&options.size) {
        return Err(LabError::Options(format!(
            "frame size {} B: use {HEADER} to 1514",
            options.size
        )));
    }
    let lab = super::enter(LabOptions::default())?;
    // No IPv6 link-local chatter on the test interfaces: only our frames cross the link, so the
    // loss decisions fall on the same frames in every run.
    sysctl_if_present("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")?;
    let pairs: &[(&str, &str)] = if options.direct {
        &[("pp-h1", "pp-h2")]
    } else {
        &[("pp-h1", "pp-fa"), ("pp-fb", "pp-h2")]
    };
    for (x, y) in pairs {
        run("ip", &["link", "add", x, "type", "veth", "peer", "name", y])?;
        for dev in [x, y] {
            run("ip", &["link", "set", dev, "up"])?;
            offloads_off(dev, &["tx", "off", "rx", "off"])?;
        }
    }
    let ends: Vec<&str> = pairs.iter().flat_map(|(x, y)| [*x, *y]).collect();
    wait_running(&ends)?;
    let link = if options.direct {
        None
    } else {
        Some(forwarder::start(None, "pp-fa", "pp-fb", options.props)?)
    };
    let setup = format!(
        "{} ({}), {} frames of {} B at {}",
        if options.direct {
            "a bare veth pair"
        } else {
            "veth ⇄ forwarder ⇄ veth"
        },
        if lab.user_namespace {
            "user namespace"
        } else {
            "as root"
        },
        options.frames,
        options.size,
        if options.rate == 0 {
            "full speed".to_string()
        } else {
            format!("{} frames/s", options.rate)
        }
    );
    let sender = open("pp-h1", false)?;
    let receiver = open("pp-h2", true)?;
    let base = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let thread = {
        let (sent, done) = (sent.clone(), done.clone());
        std::thread::Builder::new()
            .name("link-check sender".into())
            .spawn(move || {
                let retries = send_all(&sender, &options, base, &sent);
                done.store(true, Ordering::Release);
                retries
            })
            .map_err(|e| LabError::Link(format!("cannot start the sender: {e}")))?
    };
    let outcome = receive(&receiver, &options, base, &sent, &done, link.as_ref());
    let retries = thread
        .join()
        .map_err(|_| LabError::Link("the sender panicked".into()))?;
    let mut report = outcome.map_err(|e| LabError::Link(format!("receiving: {e}")))?;
    report.send_retries = retries;
    report.sent = sent.load(Ordering::Acquire);
    report.link = link.as_ref().map(|l| l.stats());
    report.setup = setup;
    Ok(report)
}

fn open(dev: &str, receive: bool) -> Result<Socket, LabError> {
    let fail = |step: &str, e: std::io::Error| LabError::Link(format!("{step} on {dev}: {e}"));
    let index = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == dev)
        .map(|i| i.index)
        .ok_or_else(|| LabError::Link(format!("no interface called {dev}")))?;
    let socket = Socket::new(Domain::PACKET, Type::RAW, None)
        .map_err(|e| fail("opening a packet socket", e))?;
    let filter = if receive {
        // ldh [12]; jeq #ETHERTYPE, keep, drop; keep: ret #65535; drop: ret #0
        vec![
            SockFilter::new(0x28, 0, 0, 12),
            SockFilter::new(0x15, 0, 1, u32::from(ETHERTYPE)),
            SockFilter::new(0x06, 0, 0, 65_535),
            SockFilter::new(0x06, 0, 0, 0),
        ]
    } else {
        // The sender reads nothing.
        vec![SockFilter::new(0x06, 0, 0, 0)]
    };
    socket
        .attach_filter(&filter)
        .map_err(|e| fail("attaching a filter", e))?;
    let fd = socket.as_raw_fd();
    sys::ignore_outgoing(fd).map_err(|e| fail("PACKET_IGNORE_OUTGOING", e))?;
    if receive && sys::force_receive_buffer(fd, 32 << 20).is_err() {
        let _ = socket.set_recv_buffer_size(32 << 20);
    }
    sys::bind_to_interface(fd, index).map_err(|e| fail("binding", e))?;
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| fail("setting a read timeout", e))?;
    Ok(socket)
}

fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Sends every frame, paced at `rate` (in bursts of what is due, sleeping in between), retrying
/// when the kernel's queue is full. Returns the retries.
fn send_all(socket: &Socket, options: &CheckOptions, base: Instant, sent: &AtomicU64) -> u64 {
    let _ = sys::set_thread_timer_slack(1_000);
    let mut frame = vec![0u8; options.size];
    if let Some(head) = frame.get_mut(..14) {
        // A locally administered unicast destination that no interface has, and a source.
        head.copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xB5]);
    }
    let start = Instant::now();
    let mut retries = 0u64;
    let mut seq = 0u64;
    while seq < options.frames {
        let due = if options.rate == 0 {
            options.frames
        } else {
            let elapsed = start.elapsed().as_secs_f64();
            ((elapsed * options.rate as f64) as u64 + 1).min(options.frames)
        };
        while seq < due {
            if let Some(s) = frame.get_mut(14..22) {
                s.copy_from_slice(&seq.to_be_bytes());
            }
            let t = nanos_since(base);
            if let Some(s) = frame.get_mut(22..30) {
                s.copy_from_slice(&t.to_be_bytes());
            }
            match socket.send(&frame) {
                Ok(_) => {
                    seq += 1;
                    sent.store(seq, Ordering::Release);
                }
                Err(_) => {
                    // ENOBUFS: the peer's backlog is full. Let the other threads run.
                    retries += 1;
                    std::thread::yield_now();
                }
            }
        }
        if seq < options.frames && options.rate > 0 {
            let next = Duration::from_secs_f64((seq as f64) / options.rate as f64);
            if let Some(wait) = next.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    retries
}

fn receive(
    socket: &Socket,
    options: &CheckOptions,
    base: Instant,
    sent: &AtomicU64,
    done: &AtomicBool,
    link: Option<&forwarder::Forwarder>,
) -> std::io::Result<CheckReport> {
    let total = usize::try_from(options.frames).unwrap_or(usize::MAX);
    let mut seen = vec![false; total];
    let mut latencies: Vec<u64> = Vec::with_capacity(total);
    let (mut received, mut reordered, mut duplicated) = (0u64, 0u64, 0u64);
    let mut highest: Option<u64> = None;
    let mut last_at = base;
    let mut buf = vec![0u8; 2048];
    // After the last frame is sent, wait this long for stragglers once nothing more can come.
    let quiet = options.props.delay + Duration::from_millis(500);
    loop {
        match (&*socket).read(&mut buf) {
            Ok(n) if n >= HEADER => {
                let now = nanos_since(base);
                let word = |r: std::ops::Range<usize>| {
                    buf.get(r)
                        .and_then(|b| <[u8; 8]>::try_from(b).ok())
                        .map(u64::from_be_bytes)
                };
                let (Some(seq), Some(at)) = (word(14..22), word(22..30)) else {
                    continue;
                };
                received += 1;
                last_at = Instant::now();
                match seen.get_mut(usize::try_from(seq).unwrap_or(usize::MAX)) {
                    Some(s) if *s => duplicated += 1,
                    Some(s) => *s = true,
                    None => continue,
                }
                if highest.is_some_and(|h| seq < h) {
                    reordered += 1;
                }
                highest = highest.max(Some(seq));
                latencies.push(now.saturating_sub(at));
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
        if done.load(Ordering::Acquire) {
            let expected = sent.load(Ordering::Acquire);
            let dropped = link.map_or(0, |l| l.stats().a_to_b.dropped());
            if received.saturating_add(dropped) >= expected
                || last_at.elapsed() > quiet.max(Duration::from_secs(1))
            {
                break;
            }
        }
    }
    let missing = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i as u64)
        .collect();
    let seconds = last_at.duration_since(base).as_secs_f64();
    Ok(CheckReport {
        sent: 0,
        send_retries: 0,
        received,
        missing,
        reordered,
        duplicated,
        latency_us: percentiles(&mut latencies),
        seconds,
        received_per_second: if seconds > 0.0 {
            received as f64 / seconds
        } else {
            0.0
        },
        link: None,
        setup: String::new(),
    })
}

fn percentiles(ns: &mut [u64]) -> Latency {
    ns.sort_unstable();
    let at = |q: f64| -> f64 {
        if ns.is_empty() {
            return 0.0;
        }
        let i = ((ns.len() - 1) as f64 * q).round() as usize;
        ns.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    let mean = if ns.is_empty() {
        0.0
    } else {
        ns.iter().map(|&n| n as f64).sum::<f64>() / ns.len() as f64 / 1000.0
    };
    Latency {
        min: at(0.0),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: at(1.0),
        mean,
    }
}
