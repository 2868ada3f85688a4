//! Live capture on the machine's own loopback: needs root or CAP_NET_RAW (CI also runs these as
//! `nobody` with `setcap cap_net_raw+ep` on this binary). Moved out of the library's unit tests
//! so that a machine without the capability reports them as skipped instead of passing them.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use packetpath::capture::{spawn_capture, spawn_live, CaptureError, CaptureStats, LiveCapture};
use packetpath::frame::{Frame, LinkType, Timestamp};

/// (source port, destination port, TCP flags, payload) of a TCP segment.
type Segment<'a> = (u16, u16, u8, &'a [u8]);

/// The [`Segment`] fields of an Ethernet + IPv4 + TCP frame.
fn tcp_fields(frame: &Frame) -> Option<Segment<'_>> {
    let d = &frame.data[..];
    if d.get(12..14)? != [0x08, 0x00] || *d.get(23)? != 6 {
        return None;
    }
    let ip_len = usize::from(d.get(14)? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*d.get(16)?, *d.get(17)?]));
    let tcp = d.get(14 + ip_len..14 + total)?;
    let data_offset = usize::from(tcp.get(12)? >> 4) * 4;
    let port = |at: usize| Some(u16::from_be_bytes([*tcp.get(at)?, *tcp.get(at + 1)?]));
    Some((port(0)?, port(2)?, *tcp.get(13)?, tcp.get(data_offset..)?))
}

fn each_packet_of_the_filtered_port_appears_exactly_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    let (handle, mut rx) = spawn_live("lo", &[port]).unwrap();

    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"hello packetpath\n").unwrap();
    let mut got = [0u8; 17];
    server.read_exact(&mut got).unwrap();
    let mut noise = TcpStream::connect(("127.0.0.1", other_port)).unwrap();
    let (mut noise_server, _) = other.accept().unwrap();
    noise.write_all(b"not for us").unwrap();
    noise_server.read_exact(&mut [0u8; 10]).unwrap();

    // Stop right away: the drain must still deliver what the kernel queued.
    let stats = handle.stop().unwrap();
    let mut frames = Vec::new();
    while let Some(f) = rx.blocking_recv() {
        frames.push(f);
    }
    let fields: Vec<_> = frames.iter().filter_map(tcp_fields).collect();
    assert_eq!(
        fields.len(),
        frames.len(),
        "every frame is Ethernet + IPv4 + TCP"
    );
    let count = |pred: &dyn Fn(&Segment<'_>) -> bool| fields.iter().filter(|f| pred(f)).count();
    assert_eq!(
        count(&|f| f.1 == port && f.2 & 0x12 == 0x02),
        1,
        "one SYN in {fields:?}"
    );
    assert_eq!(
        count(&|f| f.0 == port && f.2 & 0x12 == 0x12),
        1,
        "one SYN-ACK in {fields:?}"
    );
    assert_eq!(
        count(&|f| f.3 == b"hello packetpath\n"),
        1,
        "one data segment in {fields:?}"
    );
    assert_eq!(
        count(&|f| f.0 == other_port || f.1 == other_port),
        0,
        "other port filtered out"
    );
    assert!(fields.iter().all(|f| f.0 == port || f.1 == port));
    assert!(
        stats.received >= frames.len() as u64,
        "{stats:?} for {} frames",
        frames.len()
    );
    assert_eq!(stats.dropped, 0);
    assert!(frames
        .iter()
        .all(|f| f.link == LinkType::Ethernet && f.orig_len as usize == f.data.len()));
}

fn frames_carry_the_kernel_receive_time() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut capture =
        LiveCapture::open("lo", &[port]).expect("the harness checked that capture works");
    // The kernel switches time stamping on asynchronously (a deferred static-key update when the first
    // socket asks for it); give it a moment before the packets this test measures.
    std::thread::sleep(Duration::from_millis(100));
    let before = Timestamp::now();
    let _client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let syn = capture
        .next_frame(Duration::from_secs(2))
        .unwrap()
        .expect("the SYN");
    let read_at = Timestamp::now();
    assert!(syn.at >= before, "{syn:?}");
    if capture.ignores_outgoing() {
        // (Without PACKET_IGNORE_OUTGOING the first copy is the outgoing one, which the kernel does
        // not stamp: those frames get the time they are read.)
        assert!(
            read_at.0 - syn.at.0 > 250_000_000,
            "time is when the kernel saw it, not when we read it"
        );
    }
    assert_eq!(capture.stats().unwrap().dropped, 0);
}

fn nothing_within_the_timeout_is_none() {
    // A port nobody uses: the filter lets nothing through.
    let unused = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = unused.local_addr().unwrap().port();
    let mut capture =
        LiveCapture::open("lo", &[port]).expect("the harness checked that capture works");
    let start = Instant::now();
    assert!(capture
        .next_frame(Duration::from_millis(100))
        .unwrap()
        .is_none());
    assert!(start.elapsed() >= Duration::from_millis(90));
    assert!(capture.next_frame(Duration::ZERO).unwrap().is_none());
    assert_eq!(capture.stats().unwrap(), CaptureStats::default());
    assert_eq!(capture.link(), LinkType::Ethernet);
    assert_eq!(capture.interface(), "lo");
}

fn unknown_interface_and_too_many_ports_are_explained() {
    let err = LiveCapture::open("nosuch0", &[]).err().unwrap();
    assert!(
        matches!(err, CaptureError::NoSuchInterface(ref n) if n == "nosuch0"),
        "{err}"
    );
    let ports: Vec<u16> = (1..=200).collect();
    let err = LiveCapture::open("lo", &ports).err().unwrap();
    assert!(matches!(err, CaptureError::Filter(_)), "{err}");
}

fn stopping_drains_what_the_kernel_still_holds() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let capture = LiveCapture::open("lo", &[port]).expect("the harness checked that capture works");
    // Traffic queued in the kernel while nobody reads...
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    for i in 0..20u8 {
        client.write_all(&[i; 100]).unwrap();
        server.read_exact(&mut [0u8; 100]).unwrap();
    }
    // ...then a capture thread that is told to stop at once: all of it must still come out.
    let ignores_outgoing = capture.ignores_outgoing();
    let (handle, mut rx) = spawn_capture(capture).unwrap();
    let stats = handle.stop().unwrap();
    let mut payloads = 0;
    let mut frames = 0u64;
    while let Ok(f) = rx.try_recv() {
        frames += 1;
        payloads += usize::from(tcp_fields(&f).is_some_and(|t| t.3.len() == 100));
    }
    assert_eq!(payloads, 20, "all 20 data segments drained");
    if ignores_outgoing {
        assert_eq!(
            stats.received, frames,
            "kernel count equals frames delivered"
        );
    } else {
        assert_eq!(
            stats.received,
            2 * frames,
            "the kernel also counts the outgoing copies"
        );
    }
}

/// A bulk transfer (many 64 KiB loopback segments) is captured completely: every payload byte, no
/// kernel drops. Timing-dependent on a busy machine, so run on demand:
/// `cargo test --test live_capture -- --ignored`.
fn bulk_transfer_is_captured_without_drops() {
    const TOTAL: usize = 200 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (handle, mut rx) = spawn_live("lo", &[port]).unwrap();
    let counter = std::thread::spawn(move || {
        let (mut server, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut got = 0;
        while got < TOTAL {
            got += server.read(&mut buf).unwrap();
        }
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..TOTAL >> 20 {
        client.write_all(&chunk).unwrap();
    }
    counter.join().unwrap();
    let stats = handle.stop().unwrap();
    let mut payload = 0usize;
    let mut frames = 0usize;
    while let Some(f) = rx.blocking_recv() {
        frames += 1;
        payload += tcp_fields(&f).map_or(0, |t| t.3.len());
    }
    eprintln!("{frames} frames, {payload} payload bytes, {stats:?}");
    assert_eq!(stats.dropped, 0);
    assert!(payload >= TOTAL, "captured {payload} of {TOTAL} bytes");
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            bulk_transfer_is_captured_without_drops,
            Need::HostCapture,
            Need::OnDemand("a 200 MB load test; run it with --ignored")
        ),
        test!(
            stopping_drains_what_the_kernel_still_holds,
            Need::HostCapture
        ),
        test!(
            each_packet_of_the_filtered_port_appears_exactly_once,
            Need::HostCapture
        ),
        test!(frames_carry_the_kernel_receive_time, Need::HostCapture),
        test!(nothing_within_the_timeout_is_none, Need::HostCapture),
        test!(
            unknown_interface_and_too_many_ports_are_explained,
            Need::HostCapture
        ),
    ])
}
