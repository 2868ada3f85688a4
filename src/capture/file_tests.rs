//! Classic pcap reading and format recognition.

use super::*;
use crate::capture::test_support::tcp_frame;

/// A little-endian microsecond pcap file with one 4-byte record, field by field.
const LITTLE_ENDIAN_MICROS: &[u8] = &[
    0xd4, 0xc3, 0xb2, 0xa1, // magic a1b2c3d4 stored little-endian: µs timestamps
    0x02, 0x00, 0x04, 0x00, // version 2.4
    0x00, 0x00, 0x00, 0x00, // this zone (unused, 0)
    0x00, 0x00, 0x00, 0x00, // sigfigs (unused, 0)
    0x00, 0x00, 0x04, 0x00, // snap length 262144
    0x01, 0x00, 0x00, 0x00, // link type 1: Ethernet
    // record header
    0x00, 0xf1, 0x53, 0x65, // seconds 1_700_000_000
    0x40, 0xe2, 0x01, 0x00, // microseconds 123_456
    0x04, 0x00, 0x00, 0x00, // captured length 4
    0x40, 0x00, 0x00, 0x00, // original length 64
    0xde, 0xad, 0xbe, 0xef, // the captured bytes
];

#[test]
fn reads_literal_pcap() {
    let file = read_capture(LITTLE_ENDIAN_MICROS).unwrap();
    assert_eq!(file.format, FileFormat::Pcap);
    assert_eq!(file.error, None);
    assert_eq!(file.frames.len(), 1);
    let f = &file.frames[0];
    assert_eq!(f.at, Timestamp(1_700_000_000_123_456_000));
    assert_eq!(f.link, LinkType::Ethernet);
    assert_eq!(&f.data[..], &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(f.orig_len, 64);
}

/// Builds a classic pcap file; returns it and each record's (start, end).
fn pcap(
    big: bool,
    nanos: bool,
    link: u32,
    records: &[(u32, u32, &[u8])],
) -> (Vec<u8>, Vec<(usize, usize)>) {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }).to_vec(); // magic
    f.extend_from_slice(&if big { [0, 2, 0, 4] } else { [2, 0, 4, 0] }); // version 2.4
    f.extend_from_slice(&[0; 8]); // this zone, sigfigs
    f.extend_from_slice(&u32b(65_535)); // snap length
    f.extend_from_slice(&u32b(link)); // link type
    let mut spans = Vec::new();
    for (secs, frac, data) in records {
        let start = f.len();
        f.extend_from_slice(&u32b(*secs));
        f.extend_from_slice(&u32b(*frac));
        f.extend_from_slice(&u32b(data.len() as u32)); // captured length
        f.extend_from_slice(&u32b(data.len() as u32 + 10)); // original length
        f.extend_from_slice(data);
        spans.push((start, f.len()));
    }
    (f, spans)
}

#[test]
fn both_byte_orders_both_resolutions_and_link_types() {
    let cases = [
        (false, false, 1, LinkType::Ethernet, 1_000_000_123_000),
        (true, false, 113, LinkType::LinuxSll, 1_000_000_123_000),
        (false, true, 276, LinkType::LinuxSll2, 1_000_000_000_123),
        (true, true, 101, LinkType::RawIp, 1_000_000_000_123),
        (false, false, 12, LinkType::RawIp, 1_000_000_123_000),
        // FCS information in the upper bits does not change the link type.
        (
            true,
            false,
            0x1400_0001,
            LinkType::Ethernet,
            1_000_000_123_000,
        ),
        (false, true, 0, LinkType::NullLoopback, 1_000_000_000_123),
    ];
    for (big, nanos, link_field, link, at) in cases {
        let (bytes, _) = pcap(
            big,
            nanos,
            link_field,
            &[(1000, 123, b"abc"), (1001, 0, b"")],
        );
        let file = read_capture(&bytes).unwrap();
        assert_eq!(file.error, None);
        let got: Vec<_> = file
            .frames
            .iter()
            .map(|f| (f.link, f.at.0, f.data.len(), f.orig_len))
            .collect();
        assert_eq!(
            got,
            vec![(link, at, 3, 13), (link, 1_001_000_000_000, 0, 10)],
            "{big} {nanos} {link_field}"
        );
    }
}

#[test]
fn truncated_at_every_length() {
    let frames = [
        tcp_frame(1, 2, 0x02, b""),
        tcp_frame(2, 1, 0x12, b""),
        tcp_frame(1, 2, 0x18, b"hi"),
    ];
    let records: Vec<(u32, u32, &[u8])> = frames.iter().map(|f| (7, 8, &f[..])).collect();
    let (full, spans) = pcap(false, true, 1, &records);
    for len in 0..=full.len() {
        let cut = &full[..len];
        let Ok(file) = read_capture(cut) else {
            assert!(len < 4, "refused a cut file of {len} bytes");
            continue;
        };
        let whole = spans.iter().filter(|(_, end)| *end <= len).count();
        assert_eq!(file.frames.len(), whole, "cut at {len}");
        let inside = spans.iter().find(|(start, end)| *start < len && len < *end);
        match (inside, file.error) {
            (Some((start, _)), Some(err)) => {
                assert_eq!(err.offset, *start as u64, "cut at {len}");
                assert!(
                    err.reason.starts_with("truncated packet record at byte"),
                    "{}",
                    err.reason
                );
            }
            (None, Some(err)) if len < 24 => assert_eq!(err.offset, 0, "{}", err.reason),
            (None, None) if len >= 24 => {}
            (inside, err) => panic!("cut at {len}: inside {inside:?}, error {err:?}"),
        }
    }
}

#[test]
fn absurd_record_length_is_corrupt() {
    let (mut bytes, spans) = pcap(true, false, 1, &[(1, 1, b"ok"), (2, 2, b"bad")]);
    let at = spans[1].0;
    bytes[at + 8] = 0x7f; // captured length 0x7f000003
    let file = read_capture(&bytes).unwrap();
    assert_eq!(file.frames.len(), 1);
    let err = file.error.unwrap();
    assert_eq!(err.offset, at as u64);
    assert!(
        err.reason.contains("corrupt packet record"),
        "{}",
        err.reason
    );
}

#[test]
fn unknown_formats_are_refused_with_the_magic_shown() {
    let err = read_capture(b"\x7fELF\x02\x01").unwrap_err();
    assert!(err.to_string().contains("[7f, 45, 4c, 46]"), "{err}");
    let err = read_capture_file(std::path::Path::new("/nonexistent/x.pcap")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/x.pcap"), "{err}");
}

/// Reads `bytes` a few frames at a time, taking the frames out as a caller showing them would.
fn read_in_steps(bytes: &[u8], step: usize) -> CaptureFile {
    let mut reader = CaptureReader::new(Bytes::copy_from_slice(bytes)).expect("a capture");
    let mut frames = Vec::new();
    let mut turns = 0;
    loop {
        let more = reader.read(step);
        frames.extend(reader.take_frames());
        assert!(reader.position() <= reader.total_bytes());
        turns += 1;
        assert!(turns < 1_000_000, "reading never ends");
        if !more {
            break;
        }
    }
    let mut file = reader.file;
    file.frames = frames;
    file.taken = 0;
    file
}

#[test]
fn reading_a_few_frames_at_a_time_gives_the_whole_file() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files: Vec<Vec<u8>> = ["tls13-chat", "plain-chat", "ipv6-chat", "small-mss"]
        .iter()
        .map(|n| std::fs::read(samples.join(format!("{n}.pcapng"))).expect("a sample"))
        .collect();
    let (syn, synack) = (tcp_frame(1, 2, 0x02, b""), tcp_frame(2, 1, 0x12, b"x"));
    files.push(pcap(false, false, 1, &[(1, 5, &syn), (2, 7, &synack)]).0);
    let data = tcp_frame(1, 2, 0x18, b"hello");
    files.push(pcap(true, true, 1, &[(3, 9, &data)]).0);
    for bytes in &files {
        // Whole, and cut at a few places (damage keeps the frames before it, step by step too).
        for cut in [bytes.len(), bytes.len() - 1, bytes.len() * 2 / 3, 30] {
            let bytes = &bytes[..cut];
            let whole = read_capture(bytes).expect("a capture");
            for step in [1, 3, 4096] {
                let stepped = read_in_steps(bytes, step);
                assert_eq!(stepped.frames, whole.frames, "step {step}, cut {cut}");
                assert_eq!(stepped.keylog, whole.keylog);
                assert_eq!(stepped.custom, whole.custom);
                assert_eq!(stepped.comments, whole.comments);
                assert_eq!(stepped.error, whole.error);
            }
        }
    }
}
