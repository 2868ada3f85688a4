//! Live capture internals: the permission error, the fallback dedupe, and an on-demand load test
//! (the tests that capture on the loopback are in tests/live_capture.rs, run by the test harness).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use super::*;

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

/// Opens a capture for the on-demand load test below (run with --ignored, as root or with
/// CAP_NET_RAW; it fails saying why otherwise).
fn open_or_explain(ports: &[u16]) -> LiveCapture {
    match LiveCapture::open("lo", ports) {
        Ok(c) => c,
        Err(e) => panic!("the load test needs capture on lo: {e}"),
    }
}

#[test]
fn permission_error_says_what_to_do() {
    let err = open_error("lo", std::io::Error::from_raw_os_error(libc::EPERM));
    let text = err.to_string();
    assert!(matches!(err, CaptureError::NoPermission { .. }));
    for needed in [
        "run as root",
        "setcap cap_net_raw+ep",
        "packetpath inspect FILE",
        "\"lo\"",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in: {text}");
    }
    assert!(matches!(
        open_error("lo", std::io::Error::from_raw_os_error(libc::EMFILE)),
        CaptureError::Io(..)
    ));
}

/// A bulk transfer (many 64 KiB loopback segments) is captured completely: every payload byte, no
/// kernel drops. Timing-dependent on a busy machine, so run on demand: `cargo test -- --ignored`.
#[test]
#[ignore = "load test; run with --ignored"]
fn bulk_transfer_is_captured_without_drops() {
    const TOTAL: usize = 200 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(open_or_explain(&[port]));
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

/// The fallback dedupe (kernels without `PACKET_IGNORE_OUTGOING`), as a pure function: of each
/// pair of identical consecutive frames the second is dropped; a third identical one (a real
/// resend right after) is kept, and different frames always are. Runs without privileges.
#[test]
fn fallback_dedupe_drops_only_the_second_identical_copy() {
    let syn = Bytes::from(crate::capture::test_support::tcp_frame(
        40000, 8443, 0x02, b"",
    ));
    let data = Bytes::from(crate::capture::test_support::tcp_frame(
        40000, 8443, 0x18, b"hi",
    ));
    let ack = Bytes::from(crate::capture::test_support::tcp_frame(
        8443, 40000, 0x10, b"",
    ));
    // What the loopback shows: every packet as sent and as received, then `data` resent (twice).
    let seen = [
        &syn, &syn, &data, &data, &ack, &ack, &data, &data, &data, &data,
    ];
    let mut dedupe = LoopbackDedupe::default();
    let kept: Vec<&Bytes> = seen
        .iter()
        .copied()
        .filter(|f| !dedupe.is_second_copy(f))
        .collect();
    assert_eq!(kept, [&syn, &data, &ack, &data, &data]);
    // A frame differing in one byte from the one before is not a copy.
    let mut other = data.to_vec();
    other[20] ^= 1;
    let mut dedupe = LoopbackDedupe::default();
    assert!(!dedupe.is_second_copy(&data));
    assert!(!dedupe.is_second_copy(&Bytes::from(other)));
    assert!(!dedupe.is_second_copy(&data));
    assert!(dedupe.is_second_copy(&data));
}
