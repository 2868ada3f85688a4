//! pcapng reading: a literal fixture, every block kind, byte orders, time resolutions, damage.

use super::*;
use crate::capture::test_support::{tcp_frame, Pcapng};
use crate::capture::{read_capture, FileFormat};

/// A minimal little-endian pcapng file, field by field.
const LITTLE_ENDIAN_FILE: &[u8] = &[
    // Section Header Block
    0x0a, 0x0d, 0x0d, 0x0a, // block type SHB
    0x1c, 0x00, 0x00, 0x00, // total length 28
    0x4d, 0x3c, 0x2b, 0x1a, // byte-order magic 0x1A2B3C4D, stored little-endian
    0x01, 0x00, 0x00, 0x00, // version 1.0
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // section length -1: not given
    0x1c, 0x00, 0x00, 0x00, // total length again
    // Interface Description Block (no options: time unit defaults to microseconds)
    0x01, 0x00, 0x00, 0x00, // block type IDB
    0x14, 0x00, 0x00, 0x00, // total length 20
    0x01, 0x00, 0x00, 0x00, // link type 1 (Ethernet), reserved
    0x00, 0x00, 0x04, 0x00, // snap length 262144
    0x14, 0x00, 0x00, 0x00, // total length again
    // Enhanced Packet Block
    0x06, 0x00, 0x00, 0x00, // block type EPB
    0x34, 0x00, 0x00, 0x00, // total length 52
    0x00, 0x00, 0x00, 0x00, // interface 0
    0x24, 0x0a, 0x06, 0x00, // timestamp high: 1_700_000_000_123_456 µs >> 32
    0x40, 0x22, 0x20, 0x18, // timestamp low
    0x05, 0x00, 0x00, 0x00, // captured length 5
    0x3c, 0x00, 0x00, 0x00, // original length 60
    b'h', b'e', b'l', b'l', b'o', 0, 0, 0, // packet data, padded to 4
    0x01, 0x00, 0x02, 0x00, b'h', b'i', 0, 0, // opt_comment, length 2, "hi", padding
    0x00, 0x00, 0x00, 0x00, // opt_endofopt
    0x34, 0x00, 0x00, 0x00, // total length again
];

#[test]
fn reads_literal_little_endian_file() {
    let file = read_capture(LITTLE_ENDIAN_FILE).unwrap();
    assert_eq!(file.format, FileFormat::Pcapng);
    assert_eq!(file.error, None);
    assert_eq!(file.frames.len(), 1);
    let f = &file.frames[0];
    assert_eq!(
        f.at,
        Timestamp(1_700_000_000_123_456_000),
        "µs rescaled to ns"
    );
    assert_eq!(f.link, LinkType::Ethernet);
    assert_eq!(&f.data[..], b"hello");
    assert_eq!(f.orig_len, 60);
    assert_eq!(file.comments, vec![(0, "hi".to_string())]);
}

#[test]
fn big_endian_interfaces_with_different_links_and_resolutions() {
    let mut p = Pcapng::new(true);
    p.interface(113, 0, Some(9)); // 0: Linux SLL, nanoseconds
    p.interface(276, 0, None); // 1: Linux SLL2, default microseconds
    p.interface(101, 0, Some(0x80 | 10)); // 2: raw IP, 2^-10 s units
    p.interface(147, 0, Some(3)); // 3: a user link type, milliseconds
    p.packet(0, 1_500_000_000_987_654_321, b"sll", 3, None);
    p.packet(1, 1_500_000_000_987_654, b"sll2", 4, None);
    p.packet(2, 1024 * 7 + 512, b"raw", 3, None);
    p.packet(3, 42_001, b"user", 4, None);
    let file = read_capture(&p.bytes).unwrap();
    assert_eq!(file.error, None);
    let got: Vec<_> = file.frames.iter().map(|f| (f.link, f.at.0)).collect();
    assert_eq!(
        got,
        vec![
            (LinkType::LinuxSll, 1_500_000_000_987_654_321),
            (LinkType::LinuxSll2, 1_500_000_000_987_654_000),
            (LinkType::RawIp, 7_500_000_000),
            (LinkType::Unknown(147), 42_001_000_000),
        ]
    );
    let interfaces: Vec<u32> = file.frames.iter().map(|f| f.interface).collect();
    assert_eq!(interfaces, [0, 1, 2, 3], "each frame knows its interface");
}

#[test]
fn time_units_convert_to_nanoseconds() {
    assert_eq!(to_nanos(5, 6), 5_000);
    assert_eq!(to_nanos(5, 9), 5);
    assert_eq!(to_nanos(5_000, 12), 5);
    assert_eq!(to_nanos(u64::MAX, 127), 0);
    assert_eq!(to_nanos(3, 0x80 | 1), 1_500_000_000);
    assert_eq!(to_nanos(u64::MAX, 0xff), 0);
    assert_eq!(to_nanos(u64::MAX, 0), i128::from(u64::MAX) * 1_000_000_000);
}

#[test]
fn secrets_custom_simple_obsolete_and_unknown_blocks() {
    let mut p = Pcapng::new(false);
    p.interface(1, 4, None); // snap length 4: a Simple Packet Block is cut to it
                             // Decryption Secrets Block: type TLSK, length, key log without its final newline.
    let log = b"CLIENT_RANDOM 00 11";
    let mut dsb = p.u32(0x544c_534b).to_vec();
    dsb.extend_from_slice(&p.u32(log.len() as u32));
    dsb.extend_from_slice(log);
    p.block(0x0A, &dsb, false);
    // A WireGuard secrets block is not a TLS key log and is skipped.
    let mut wg = p.u32(0x5747_4b4c).to_vec();
    wg.extend_from_slice(&p.u32(4));
    wg.extend_from_slice(b"wgkk");
    p.block(0x0A, &wg, false);
    // Custom blocks, copyable and not: PEN, data.
    let mut custom = p.u32(32473).to_vec();
    custom.extend_from_slice(b"abcd");
    p.block(0x0BAD, &custom, false);
    let mut no_copy = p.u32(7).to_vec();
    no_copy.extend_from_slice(b"xy");
    p.block(0x4000_0BAD, &no_copy, false);
    // Simple Packet Block: original length 6, data (cut to the snap length 4).
    let mut spb = p.u32(6).to_vec();
    spb.extend_from_slice(b"simple");
    p.block(3, &spb, true);
    // Obsolete Packet Block: interface (2), drops (2), time high, time low, captured, original, data,
    // then an opt_comment.
    let mut pb = p.u16(0).to_vec();
    pb.extend_from_slice(&p.u16(0));
    pb.extend_from_slice(&p.u32(0));
    pb.extend_from_slice(&p.u32(2_000_000));
    pb.extend_from_slice(&p.u32(3));
    pb.extend_from_slice(&p.u32(3));
    pb.extend_from_slice(b"old\0");
    pb.extend(p.opt(1, b"obsolete \xff"));
    p.block(2, &pb, true);
    // Name Resolution, Interface Statistics and an unknown block: skipped by their length.
    p.block(4, &[0; 4], false);
    p.block(5, &[0; 12], false);
    p.block(0x1234_5678, &[9; 7], false);
    p.packet(0, 3_000_000, b"last", 4, None);
    let file = read_capture(&p.bytes).unwrap();
    assert_eq!(file.error, None);
    assert_eq!(file.keylog, "CLIENT_RANDOM 00 11\n");
    assert_eq!(
        file.custom,
        vec![
            CustomBlock {
                pen: 32473,
                data: bytes::Bytes::from_static(b"abcd")
            },
            CustomBlock {
                pen: 7,
                data: bytes::Bytes::from_static(b"xy\0\0")
            }
        ]
    );
    let frames: Vec<_> = file
        .frames
        .iter()
        .map(|f| (&f.data[..], f.orig_len, f.at.0))
        .collect();
    assert_eq!(
        frames,
        vec![
            (&b"simp"[..], 6, 0),
            (&b"old"[..], 3, 2_000_000_000),
            (&b"last"[..], 4, 3_000_000_000)
        ]
    );
    assert_eq!(file.comments, vec![(1, "obsolete \u{fffd}".to_string())]);
}

#[test]
fn a_new_section_switches_byte_order_and_resets_interfaces() {
    let mut p = Pcapng::new(false);
    p.interface(1, 0, None);
    p.packet(0, 1, b"le", 2, None);
    p.section(true);
    p.interface(101, 0, Some(9));
    p.packet(0, 1, b"be", 2, None);
    p.packet(1, 1, b"no such interface", 17, None);
    let file = read_capture(&p.bytes).unwrap();
    let links: Vec<_> = file.frames.iter().map(|f| (f.link, f.at.0)).collect();
    assert_eq!(
        links,
        vec![(LinkType::Ethernet, 1_000), (LinkType::RawIp, 1)]
    );
    let err = file.error.unwrap();
    assert_eq!(err.offset, p.blocks.last().unwrap().0 as u64);
    assert!(
        err.reason
            .contains("refers to interface 1, but only 1 Interface Description Blocks"),
        "{}",
        err.reason
    );
}

#[test]
fn damaged_blocks_stop_reading_with_offset_and_reason() {
    let base = || {
        let mut p = Pcapng::new(false);
        p.interface(1, 0, None);
        p.packet(0, 1, b"ok", 2, None);
        p
    };
    // (how to damage the last block, text the reason must contain)
    type Damage = fn(&mut Vec<u8>, usize);
    let cases: [(Damage, &str); 4] = [
        (|b, at| b[at + 4] = 13, "multiples of 4 and at least 12"),
        (|b, at| b[at + 4] = 4, "multiples of 4 and at least 12"),
        (|b, _| *b.last_mut().unwrap() = 1, "at the start but"),
        (|b, at| b[at + 20] = 200, "has room for only"), // captured length 200
    ];
    for (damage, expect) in cases {
        let mut p = base();
        p.packet(0, 2, b"bad", 3, None);
        let at = p.blocks.last().unwrap().0;
        damage(&mut p.bytes, at);
        let file = read_capture(&p.bytes).unwrap();
        assert_eq!(file.frames.len(), 1, "{expect}");
        let err = file.error.unwrap();
        assert_eq!(err.offset, at as u64);
        assert!(err.reason.contains(expect), "{}", err.reason);
        assert!(err.reason.contains(&format!("byte {at}")), "{}", err.reason);
    }
    let mut v2 = base();
    v2.bytes[12] = 2; // major version 2 (little-endian u16 at body offset 4)
    let err = read_capture(&v2.bytes).unwrap().error.unwrap();
    assert!(err.reason.contains("version 2.0"), "{}", err.reason);
}

#[test]
fn not_pcapng_at_all_is_an_error() {
    assert!(read_capture(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 1, 2, 3, 4]).is_err());
    assert!(read_capture(b"GET / HTTP/1.1\r\n").is_err());
    assert!(read_capture(b"").is_err());
}

#[test]
fn truncated_at_every_length() {
    let mut p = Pcapng::new(false);
    p.interface(1, 0, Some(9));
    p.packet(0, 1, &tcp_frame(1, 2, 0x02, b""), 54, Some("first"));
    p.packet(0, 2, &tcp_frame(2, 1, 0x12, b"x"), 55, None);
    p.packet(0, 3, &tcp_frame(1, 2, 0x10, b"yz"), 56, None);
    let full = p.bytes.clone();
    for len in 0..=full.len() {
        let cut = &full[..len];
        let Ok(file) = read_capture(cut) else {
            assert!(
                len < 12,
                "only files too short to show a section header may be refused ({len})"
            );
            continue;
        };
        let whole = p
            .blocks
            .iter()
            .filter(|(_, end, frame)| *frame && *end <= len)
            .count();
        assert_eq!(file.frames.len(), whole, "cut at {len}");
        match p
            .blocks
            .iter()
            .find(|(start, end, _)| *start < len && len < *end)
        {
            Some((start, _, _)) => {
                let err = file
                    .error
                    .as_ref()
                    .unwrap_or_else(|| panic!("cut at {len}: no error"));
                assert_eq!(err.offset, *start as u64, "cut at {len}");
                assert!(
                    err.reason.starts_with("truncated block at byte"),
                    "{}",
                    err.reason
                );
            }
            None => assert_eq!(file.error, None, "cut at a block boundary {len}"),
        }
    }
}

#[test]
fn random_damage_never_panics() {
    let mut p = Pcapng::new(true);
    p.interface(1, 0, Some(9));
    p.packet(0, 1, &tcp_frame(1, 2, 0x18, b"payload"), 61, Some("c"));
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let mut bytes = p.bytes.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() as usize) % bytes.len();
            bytes[i] = next() as u8;
        }
        let _ = read_capture(&bytes);
    }
}
