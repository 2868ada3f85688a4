//! pcapng writing: round trips through our reader, exact block bytes, and tshark as a reference.

use bytes::Bytes;

use super::*;
use crate::capture::test_support::tcp_frame;
use crate::capture::{read_capture, CustomBlock, FileFormat};
use crate::frame::Timestamp;

fn frame(at: i128, link: LinkType, data: Vec<u8>) -> Frame {
    let orig_len = data.len() as u32 + 3;
    Frame {
        at: Timestamp(at),
        link,
        data: Bytes::from(data),
        orig_len,
        interface: 0,
    }
}

const KEYLOG: &str =
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET 0011 2233\nSERVER_HANDSHAKE_TRAFFIC_SECRET 0011 4455\n";

fn sample() -> (Vec<Frame>, Vec<u8>) {
    let frames = vec![
        frame(
            1_764_389_000_123_456_789,
            LinkType::Ethernet,
            tcp_frame(50412, 8443, 0x02, b""),
        ),
        frame(
            1_764_389_000_123_457_001,
            LinkType::Ethernet,
            tcp_frame(8443, 50412, 0x12, b""),
        ),
        frame(
            1_764_389_001_000_000_000,
            LinkType::RawIp,
            vec![0x45, 0, 0, 20],
        ),
        frame(
            1_764_389_002_999_999_999,
            LinkType::Ethernet,
            tcp_frame(50412, 8443, 0x18, b"hi\n"),
        ),
    ];
    // A raw IP frame comes from an interface of its own (one link type per interface).
    let mut frames = frames;
    frames[2].interface = 1;
    let mut w = PcapngWriter::new(Vec::new(), LinkType::Ethernet).unwrap();
    w.write_secrets(KEYLOG).unwrap();
    w.write_frame(&frames[0]).unwrap();
    w.write_frame(&frames[1]).unwrap();
    w.write_frame(&frames[2]).unwrap();
    w.write_frame_with_comment(&frames[3], "client wrote \"hi\"")
        .unwrap();
    // Last, because Wireshark numbers custom blocks as frames (see the tshark test).
    w.write_custom(32473, b"app event 1\n").unwrap();
    (frames, w.finish().unwrap())
}

#[test]
fn round_trip_is_identical() {
    let (frames, bytes) = sample();
    let file = read_capture(&bytes).unwrap();
    assert_eq!(file.format, FileFormat::Pcapng);
    assert_eq!(file.error, None);
    assert_eq!(
        file.frames, frames,
        "times in ns, links, bytes and original lengths survive"
    );
    assert_eq!(file.keylog, KEYLOG);
    assert_eq!(
        file.custom,
        vec![CustomBlock {
            pen: 32473,
            data: bytes::Bytes::from_static(b"app event 1\n")
        }]
    );
    assert_eq!(file.comments, vec![(3, "client wrote \"hi\"".to_string())]);
}

#[test]
fn custom_data_comes_back_with_its_padding() {
    let mut w = PcapngWriter::new(Vec::new(), LinkType::Ethernet).unwrap();
    w.write_custom(1, b"abcde").unwrap();
    let file = read_capture(&w.finish().unwrap()).unwrap();
    assert_eq!(
        file.custom,
        vec![CustomBlock {
            pen: 1,
            data: bytes::Bytes::from_static(b"abcde\0\0\0")
        }]
    );
}

#[test]
fn block_bytes_follow_the_pcapng_layout() {
    let mut w = PcapngWriter::new(Vec::new(), LinkType::Ethernet).unwrap();
    let header_len = w.inner.get_ref().len();
    w.write_secrets("K 1\n12").unwrap();
    let bytes = w.finish().unwrap();
    let ne = |v: u32| v.to_ne_bytes().to_vec();
    let mut dsb = ne(0x0000_000A); // block type: Decryption Secrets Block
    dsb.extend(ne(28)); // total length: 8 + 8 + 6 text + 2 padding + 4
    dsb.extend(ne(0x544c_534b)); // secrets type "TLSK"
    dsb.extend(ne(6)); // secrets length
    dsb.extend(b"K 1\n12\0\0"); // key log, zero padding to 4
    dsb.extend(ne(28)); // total length again
    assert_eq!(&bytes[header_len..], &dsb[..]);
    // The Interface Description Block carries if_tsresol = 9: code 9, length 1, value 9, padding.
    let mut tsresol = (9u16).to_ne_bytes().to_vec();
    tsresol.extend((1u16).to_ne_bytes());
    tsresol.extend([9, 0, 0, 0]);
    assert!(
        bytes[..header_len].windows(8).any(|w| w == &tsresol[..]),
        "if_tsresol option present"
    );
}

#[test]
fn times_before_1970_are_refused() {
    let mut w = PcapngWriter::new(Vec::new(), LinkType::Ethernet).unwrap();
    let err = w
        .write_frame(&frame(-1, LinkType::Ethernet, vec![1]))
        .unwrap_err();
    assert!(matches!(err, FileError::TimestampOutOfRange(-1)), "{err}");
}

#[test]
fn interface_names_survive_a_round_trip() {
    let names: Vec<String> = ["client-eth0", "r1-eth0", "r1-eth1", "server-eth0"]
        .map(String::from)
        .to_vec();
    let mut w = PcapngWriter::with_interface_names(Vec::new(), LinkType::Ethernet, &names).unwrap();
    let mut frames = Vec::new();
    // Frames come from the interfaces in any order; each keeps its interface's ID.
    for (i, iface) in [2u32, 0, 3, 1].into_iter().enumerate() {
        let mut f = frame(
            1_764_389_000_000_000_000 + i as i128,
            LinkType::Ethernet,
            tcp_frame(50412, 8443, 0x10, b""),
        );
        f.interface = iface;
        w.write_frame(&f).unwrap();
        frames.push(f);
    }
    let file = read_capture(&w.finish().unwrap()).unwrap();
    assert_eq!(file.error, None);
    assert_eq!(file.interface_names, names);
    assert_eq!(file.frames, frames);
}
