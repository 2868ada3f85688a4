//! packetpath's capture files against the tools that made the formats: tshark and capinfos read
//! what packetpath writes, and packetpath reads what tcpdump and dumpcap capture, at the same
//! nanosecond times as tshark. Run under the test harness: a missing tool or privilege is reported
//! as skipped with its reason.

mod common;

use bytes::Bytes;
use common::external::{capture_exchange, tshark_fields, tshark_times};
use common::*;
use packetpath::capture::{read_capture_file, FileFormat, PcapngWriter};
use packetpath::frame::{Frame, LinkType, Timestamp};

/// Frame times as tshark prints `frame.time_epoch`.
fn epoch_times(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| format!("{}.{:09}", f.at.secs(), f.at.subsec_nanos()))
        .collect()
}

/// Three frames (a minimum-size Ethernet frame, a raw IPv4 header, a frame with a comment), the
/// TLS secrets block and a custom block, as packetpath writes a capture.
fn written(path: &std::path::Path) -> Vec<Frame> {
    let frame = |at: i128, link, data: Vec<u8>| Frame {
        at: Timestamp(at),
        link,
        orig_len: data.len() as u32,
        interface: 0,
        data: Bytes::from(data),
    };
    let mut ethernet = vec![0u8; 60];
    ethernet[12] = 0x08; // EtherType 0x0800 (IPv4), nothing valid after it: tshark still counts it
    let frames = vec![
        frame(
            1_764_389_000_123_456_789,
            LinkType::Ethernet,
            ethernet.clone(),
        ),
        frame(
            1_764_389_001_000_000_000,
            LinkType::RawIp,
            vec![0x45, 0, 0, 20],
        ),
        frame(1_764_389_002_999_999_999, LinkType::Ethernet, ethernet),
    ];
    let file = std::fs::File::create(path).expect("a file");
    let mut w = PcapngWriter::new(file, LinkType::Ethernet).expect("a writer");
    w.write_secrets("CLIENT_TRAFFIC_SECRET_0 0011 2233\n")
        .expect("secrets");
    w.write_frame(&frames[0]).expect("frame 1");
    w.write_frame(&frames[1]).expect("frame 2");
    w.write_frame_with_comment(&frames[2], "client wrote \"hi\"")
        .expect("frame 3");
    w.write_custom(32473, b"app event 1\n")
        .expect("custom block");
    w.finish().expect("finished");
    frames
}

fn tshark_reads_the_written_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("written.pcapng");
    let frames = written(&path);
    let rows = tshark_fields(
        &path,
        &["frame.number", "frame.time_epoch", "frame.comment"],
    );
    let expected: Vec<String> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let comment = if i == 2 { "client wrote \"hi\"" } else { "" };
            format!(
                "{}\t{}.{:09}\t{comment}",
                i + 1,
                f.at.secs(),
                f.at.subsec_nanos()
            )
        })
        .collect();
    assert_eq!(
        rows.get(..3),
        Some(&expected[..]),
        "tshark sees the same frames at the same nanosecond times"
    );
    // tshark 4.0 counts the custom block as record 4, with no time.
    assert_eq!(rows.get(3..), Some(&["4\t\t".to_string()][..]));
    let info = std::process::Command::new("capinfos")
        .arg(&path)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Number of decryption secrets in file: 1"),
        "{info}"
    );
    assert!(info.contains("Time precision = nanoseconds (9)"), "{info}");
}

/// Captures a short TCP exchange on loopback with dumpcap writing pcapng (its default format), then
/// checks every frame time against tshark's own reading of the file.
fn reads_pcapng_written_by_dumpcap_with_tshark_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dumpcap.pcapng");
    capture_exchange("dumpcap", &path);
    let file = read_capture_file(&path).unwrap();
    assert_eq!(file.format, FileFormat::Pcapng);
    assert_eq!(file.error, None);
    assert!(file.frames.len() >= 4, "{} frames", file.frames.len());
    assert!(file.frames.iter().all(|f| f.link == LinkType::Ethernet));
    assert_eq!(epoch_times(&file.frames), tshark_times(&path));
}

/// The same with tcpdump writing classic pcap (microsecond times).
fn reads_pcap_written_by_tcpdump_with_tshark_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tcpdump.pcap");
    capture_exchange("tcpdump", &path);
    let file = read_capture_file(&path).unwrap();
    assert_eq!(file.format, FileFormat::Pcap);
    assert_eq!(file.error, None);
    assert_eq!(file.frames.len(), 4);
    let now = Timestamp::now().0;
    for f in &file.frames {
        assert_eq!(f.link, LinkType::Ethernet);
        assert_eq!(
            f.data.get(12..14),
            Some(&[0x08, 0x00][..]),
            "IPv4 over Ethernet"
        );
        assert!(
            (now - f.at.0).abs() < 60_000_000_000,
            "frame time {} is not recent",
            f.at.0
        );
        assert_eq!(f.at.0 % 1_000, 0, "tcpdump writes microseconds");
    }
    assert_eq!(epoch_times(&file.frames), tshark_times(&path));
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            tshark_reads_the_written_file,
            Need::Tool("tshark"),
            Need::Tool("capinfos")
        ),
        // Both tools capture on the machine's loopback: root (a capability on the test binary
        // does not pass to them).
        test!(
            reads_pcapng_written_by_dumpcap_with_tshark_times,
            Need::Tool("dumpcap"),
            Need::Tool("tshark"),
            Need::Root
        ),
        test!(
            reads_pcap_written_by_tcpdump_with_tshark_times,
            Need::Tool("tcpdump"),
            Need::Tool("tshark"),
            Need::Root
        ),
    ])
}
