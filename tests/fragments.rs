//! IP fragment reassembly against tshark's, frame by frame (issue 12, item 4).
//!
//! A fragment writer takes the committed TLS chat samples (IPv4 and IPv6) and splits the IP
//! packet of every TCP segment that carries data into fragments of 48 data bytes (IPv4: the
//! header copied, Don't-fragment cleared, More fragments and the offset set, the checksum made
//! again; IPv6: a Fragment extension header inserted after the fixed header, RFC 8200 §4.5).
//! The fragments of successive segments are written in order, reversed, in order with a
//! duplicate, and last-first, into a pcapng that keeps the sample's TLS secrets. Then every frame
//! of `packetpath inspect --format json` is compared with tshark's reading of the same file:
//! where each fragment was reassembled, the fragment list of the reassembling frame, the TCP
//! numbers and analysis flags, and the TLS records completed in each frame; and the records
//! decrypted must be those of the unfragmented sample.
//!
//! Set `PACKETPATH_KEEP_CAPTURES=1` to keep a copy of each written capture in the temp folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use packetpath::capture::{read_capture_file, PcapngWriter};
use packetpath::dissect::dissect;
use packetpath::frame::Frame;
use serde_json::Value;

/// Data bytes per fragment (a multiple of 8, and more than a TCP header with timestamps).
const FRAGMENT: usize = 48;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// The ones' complement sum of 16-bit words (RFC 1071), folded.
fn fold(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The fragments of a frame's IP packet, each a whole frame (link header copied), in offset order;
/// `None` if the frame is not a TCP segment with data, or too small to split.
fn split(frame: &Frame, id: u32) -> Option<Vec<Vec<u8>>> {
    let p = dissect(frame.link, &frame.data);
    let ip = p.ip.as_ref()?;
    p.tcp.as_ref()?;
    if p.payload.is_empty() {
        return None;
    }
    let data = &frame.data[..];
    let link = &data[..ip.header.start];
    let header = &data[ip.header.clone()];
    let body = &data[ip.header.end..ip.packet.end];
    if body.len() <= FRAGMENT {
        return None;
    }
    let mut out = Vec::new();
    for (i, chunk) in body.chunks(FRAGMENT).enumerate() {
        let offset = i * FRAGMENT;
        let more = offset + chunk.len() < body.len();
        let mut f = link.to_vec();
        if ip.version == 4 {
            let mut h = header.to_vec();
            let total = (h.len() + chunk.len()) as u16;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[4..6].copy_from_slice(&(id as u16).to_be_bytes());
            let word = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&word.to_be_bytes());
            h[10..12].copy_from_slice(&[0, 0]);
            let sum = !fold(&h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            f.extend_from_slice(&h);
        } else {
            assert_eq!(header.len(), 40, "the samples have no extension headers");
            let mut h = header.to_vec();
            h[4..6].copy_from_slice(&((8 + chunk.len()) as u16).to_be_bytes());
            let next = h[6];
            h[6] = 44;
            f.extend_from_slice(&h);
            f.extend_from_slice(&[next, 0]);
            f.extend_from_slice(&(offset as u16 | u16::from(more)).to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
        }
        f.extend_from_slice(chunk);
        out.push(f);
    }
    Some(out)
}

/// The sample with every data segment split into fragments, written to `out`: the k-th split
/// segment's fragments go in order (k % 4 = 0), reversed (1), in order with the second one twice
/// (2), or the last first (3). Returns how many frames were split.
fn write_fragmented(sample: &Path, out: &Path) -> usize {
    let file = read_capture_file(sample).expect("the sample reads");
    let link = file.frames[0].link;
    let mut w = PcapngWriter::new(std::fs::File::create(out).expect("create"), link)
        .expect("pcapng writer");
    w.write_secrets(&file.keylog).expect("secrets");
    let mut split_count = 0;
    for (n, frame) in file.frames.iter().enumerate() {
        let Some(mut frags) = split(frame, 0x7000 + n as u32) else {
            w.write_frame(frame).expect("write");
            continue;
        };
        match split_count % 4 {
            0 => {}
            1 => frags.reverse(),
            2 => {
                let dup = frags[1].clone();
                frags.insert(2, dup);
            }
            _ => {
                let last = frags.pop().expect("fragments");
                frags.insert(0, last);
            }
        }
        split_count += 1;
        for (i, bytes) in frags.into_iter().enumerate() {
            let piece = Frame {
                at: packetpath::frame::Timestamp(frame.at.0 + i as i128),
                link: frame.link,
                orig_len: bytes.len() as u32,
                interface: 0,
                data: bytes.into(),
            };
            w.write_frame(&piece).expect("write");
        }
    }
    w.finish().expect("finish");
    split_count
}

fn inspect(path: &Path) -> Vec<Value> {
    let file = path.to_str().expect("UTF-8 path");
    let dir = path.parent().expect("a folder");
    let (code, out, err) = common::packetpath(dir, &["inspect", file, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// tshark's fields per frame, tab-separated, `,` between the values of one field.
fn tshark(path: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    // Two passes, so a fragment knows the frame that reassembles it (`reassembled_in`).
    cmd.arg("-2").arg("-r").arg(path).args([
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "aggregator=,",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn num(v: &Value) -> String {
    v.as_u64().map(|n| n.to_string()).unwrap_or_default()
}

fn list(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(num).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// One frame as both tools are compared: reassembled in, fragment list, TCP stream, seq, ack,
/// len, analysis flags, TLS record content types.
fn ours_row(o: &Value) -> Vec<String> {
    let ip = &o["ip"];
    let tcp = &o["tcp"];
    let flag = |k: &str| {
        if tcp[k].as_bool().unwrap_or(false) {
            "1".to_string()
        } else {
            String::new()
        }
    };
    let types: Vec<String> = o["tls"]
        .as_array()
        .map(|a| {
            // tshark names a decrypted record by its inner type.
            a.iter()
                .map(|r| {
                    num(r["decrypted"]
                        .get("content_type")
                        .unwrap_or(&r["content_type"]))
                })
                .collect()
        })
        .unwrap_or_default();
    vec![
        num(&o["frame"]),
        num(&ip["reassembled_in"]),
        list(&ip["fragments"]),
        num(&tcp["stream"]),
        num(&tcp["seq"]),
        num(&tcp["ack"]),
        num(&tcp["payload_len"]),
        flag("lost_segment"),
        flag("retransmission"),
        flag("out_of_order"),
        types.join(","),
    ]
}

fn decrypted(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| f["tls"].as_array())
        .flatten()
        .filter_map(|r| r["decrypted"]["text"].as_str().map(str::to_string))
        .collect()
}

fn record_count(frames: &[Value]) -> usize {
    frames
        .iter()
        .filter_map(|f| f["tls"].as_array())
        .map(Vec::len)
        .sum()
}

/// Compares every frame of `path` between packetpath and tshark (the TLS record types too when
/// `tls`); returns our JSON objects.
fn compare_with_tshark(path: &Path, v6: bool, tls: bool) -> Vec<Value> {
    let fields = [
        "frame.number",
        // Wireshark spells it differently for each version.
        if v6 {
            "ipv6.reassembled.in"
        } else {
            "ip.reassembled_in"
        },
        if v6 { "ipv6.fragment" } else { "ip.fragment" },
        "tcp.stream",
        "tcp.seq",
        "tcp.ack",
        "tcp.len",
        "tcp.analysis.lost_segment",
        "tcp.analysis.retransmission",
        "tcp.analysis.out_of_order",
        "tls.record.content_type",
    ];
    let fields = &fields[..if tls { fields.len() } else { fields.len() - 1 }];
    let theirs = tshark(path, fields);
    let ours = inspect(path);
    let name = path.display();
    assert_eq!(ours.len(), theirs.len(), "{name}: frame count");
    let mut wrong = Vec::new();
    for (o, t) in ours.iter().zip(&theirs) {
        let mut mine = ours_row(o);
        mine.truncate(fields.len());
        // tshark writes a flag as 1, and nothing when it is not set (as `ours_row` does).
        if &mine != t {
            wrong.push(format!("  ours {mine:?}\n  tshark {t:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{name}: {} frames differ ({fields:?}):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    ours
}

/// `inspect` reads a file once and shows each frame when it is settled: a fragment only once its
/// packet is complete (or never will be). Frame for frame, that must be what reading the whole
/// file first shows.
fn streaming_matches_reading_whole(path: &Path) {
    use packetpath::capture::{open_capture, stream_capture_batched, OpenError};
    use packetpath::report::{app_events_by_frame, frame_json, frame_text};
    let (trace, _) = open_capture(path, None, &mut |_, _| {}).expect("opens");
    let app = app_events_by_frame(&trace);
    let t0 = trace.frames()[0].frame.at;
    let whole: Vec<String> = trace
        .frames()
        .iter()
        .map(|e| {
            let events = app.get(&e.number).map_or(&[][..], |v| v.as_slice());
            format!(
                "{}\n{}",
                frame_text(&trace, e, events, t0),
                frame_json(&trace, e, events)
            )
        })
        .collect();
    // In batches of one frame, a fragment waits for its packet; in larger ones too.
    for batch in [1, 2, 5, 4096] {
        let mut streamed = Vec::new();
        stream_capture_batched(
            path,
            None,
            batch,
            &mut |_, _| {},
            |trace, e, events| -> Result<(), OpenError> {
                streamed.push(format!(
                    "{}\n{}",
                    frame_text(trace, e, events, t0),
                    frame_json(trace, e, events)
                ));
                Ok(())
            },
        )
        .expect("streams");
        assert_eq!(streamed.len(), whole.len(), "{}", path.display());
        for (s, w) in streamed.iter().zip(&whole) {
            assert_eq!(s, w, "{} (batch {batch})", path.display());
        }
    }
}

fn matches_tshark(name: &str, v6: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let original = sample(name);
    let path = dir.path().join(format!("fragmented-{name}"));
    let split = write_fragmented(&original, &path);
    assert!(split >= 20, "{name}: {split} segments split");
    if std::env::var_os("PACKETPATH_KEEP_CAPTURES").is_some() {
        eprintln!("writing {}", path.display());
        std::fs::copy(
            &path,
            std::env::temp_dir().join(format!("fragmented-{name}")),
        )
        .expect("keep a copy");
    }
    let ours = compare_with_tshark(&path, v6, true);
    streaming_matches_reading_whole(&path);
    let reassembled = ours
        .iter()
        .filter(|o| !o["ip"]["fragments"].is_null())
        .count();
    assert_eq!(
        reassembled, split,
        "{name}: every split segment reassembled"
    );
    // The same TLS records, decrypted to the same text, as in the unfragmented sample.
    let before = inspect(&original);
    assert_eq!(
        record_count(&ours),
        record_count(&before),
        "{name}: records"
    );
    assert_eq!(
        decrypted(&ours),
        decrypted(&before),
        "{name}: decrypted texts"
    );
    assert!(!decrypted(&ours).is_empty());
    // The text output says where each fragment went.
    let file = path.to_str().expect("UTF-8 path");
    let (code, text, err) = common::packetpath(dir.path(), &["inspect", file]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("IP fragment 1 of 6 (offset 0, "), "{text}");
    assert!(text.contains(", reassembled in #"), "{text}");
    assert!(text.contains("; reassembled here from #"), "{text}");
}

/// One fragment deleted (editcap) from the fragmented IPv4 capture: its packet is never
/// reassembled (said so in the JSON), the TCP segment it carried is missing, and every frame
/// still matches tshark in its fragment and TCP fields (previous segment not captured). (The TLS
/// records are left out: without its ClientHello, what each tool makes of the session is not
/// about fragments.)
fn a_missing_fragment_leaves_its_packet_unreassembled_as_in_tshark() {
    let dir = tempfile::tempdir().expect("temp dir");
    let full = dir.path().join("fragmented.pcapng");
    write_fragmented(&sample("tls13-chat.pcapng"), &full);
    // Frame 5 is the second fragment of the ClientHello's packet (frames 4 to 9).
    let cut = dir.path().join("without-5.pcapng");
    let status = Command::new("editcap")
        .arg(&full)
        .arg(&cut)
        .arg("5")
        .status()
        .expect("editcap runs");
    assert!(status.success(), "editcap failed");
    let ours = compare_with_tshark(&cut, false, false);
    streaming_matches_reading_whole(&cut);
    let why = ours[3]["ip"]["not_reassembled"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        why,
        "never reassembled: 212 of its 260 data bytes were captured"
    );
    assert!(ours[3]["tcp"].is_null(), "a fragment is not a TCP segment");
}

/// TLS 1.3 over IPv4, every data segment in fragments: the same as tshark on every frame.
fn ipv4_fragments_are_reassembled_as_in_tshark() {
    matches_tshark("tls13-chat.pcapng", false);
}

/// TLS 1.3 over IPv6, every data segment in fragments (Fragment extension header).
fn ipv6_fragments_are_reassembled_as_in_tshark() {
    matches_tshark("ipv6-chat.pcapng", true);
}

fn main() -> std::process::ExitCode {
    use common::Need;
    common::harness::run(vec![
        test!(
            ipv4_fragments_are_reassembled_as_in_tshark,
            Need::Tool("tshark")
        ),
        test!(
            ipv6_fragments_are_reassembled_as_in_tshark,
            Need::Tool("tshark")
        ),
        test!(
            a_missing_fragment_leaves_its_packet_unreassembled_as_in_tshark,
            Need::Tool("tshark"),
            Need::Tool("editcap")
        ),
    ])
}
