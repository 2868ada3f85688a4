//! Saved captures that open anywhere: the committed samples, tshark reading our files, our reader
//! reading files that Wireshark's tools changed, and a lossless round trip.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn json_frames(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn decrypted_texts(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| f["tls"].as_array())
        .flatten()
        .filter_map(|r| r["decrypted"]["text"].as_str().map(str::to_string))
        .collect()
}

fn tool(cmd: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The frames of `trace` that packetpath's display filter `filter` lets through (in the
/// eavesdropper's view with `wire_only`).
fn filtered_by_us(trace: &packetpath::journey::Trace, filter: &str, wire_only: bool) -> Vec<u32> {
    use packetpath::lesson::filter::{DisplayFilter, Tester};
    let parsed = DisplayFilter::parse(filter)
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .expect("not empty");
    let state = packetpath::lesson::LessonState::default();
    let tester = Tester::new(trace, &state, wire_only);
    trace
        .frames()
        .iter()
        .map(|f| f.number)
        .filter(|&n| parsed.matches_frame(&tester, n))
        .collect()
}

/// The timeline's display filter picks the frames tshark's `-Y` picks, for every filter whose
/// fields mean the same in both, on the committed samples (IPv4 and IPv6, TLS 1.3, 1.2, plain).
fn display_filters_select_the_frames_tshark_selects() {
    // (ours, tshark's, IPv4 only): where the names differ, the second is Wireshark's spelling.
    let filters: &[(&str, &str, bool)] = &[
        ("tcp.port == PORT && tls", "tcp.port == PORT && tls", false),
        (
            "tcp.port eq PORT and tcp.len > 0",
            "tcp.port eq PORT and tcp.len > 0",
            false,
        ),
        (
            "tcp.flags.syn && !tcp.flags.ack",
            "tcp.flags.syn == 1 && tcp.flags.ack == 0",
            false,
        ),
        (
            "tcp.flags.fin == 1 || tcp.flags.rst",
            "tcp.flags.fin == 1 || tcp.flags.reset == 1",
            false,
        ),
        ("tcp.flags.push == 1", "tcp.flags.push == 1", false),
        (
            "tcp.srcport == PORT && tcp.len >= 30",
            "tcp.srcport == PORT && tcp.len >= 30",
            false,
        ),
        (
            "tcp.analysis.retransmission",
            "tcp.analysis.retransmission",
            false,
        ),
        (
            "tcp.analysis.duplicate_ack",
            "tcp.analysis.duplicate_ack",
            false,
        ),
        ("frame contains \"hi\"", "frame contains \"hi\"", false),
        (
            "frame contains \"localhost\"",
            "frame contains \"localhost\"",
            false,
        ),
        ("tcp.options.mss", "tcp.option_kind == 2", false),
        (
            "tcp.stream == 1 && tcp.seq == 1",
            "tcp.stream == 1 && tcp.seq == 1",
            false,
        ),
        ("tcp.window_size > 60000", "tcp.window_size > 60000", false),
        (
            "tcp.nxtseq > 300 && tcp.ack < 500",
            "tcp.nxtseq > 300 && tcp.ack < 500",
            false,
        ),
        (
            "tls.records.real_type == 23",
            "tls.record.content_type == 23",
            false,
        ),
        (
            "tls.record.content_type == 21",
            "tls.record.content_type == 21",
            false,
        ),
        (
            "tls.record.content_type == 22",
            "tls.record.content_type == 22",
            false,
        ),
        (
            "tcp.options.mss_val == 1460",
            "tcp.options.mss_val == 1460",
            false,
        ),
        (
            "ip.ttl == 64 && ip.len > 100",
            "ip.ttl == 64 && ip.len > 100",
            true,
        ),
        ("ip.addr == 127.0.0.1", "ip.addr == 127.0.0.1", true),
        ("ip.src != 127.0.0.1", "ip.src != 127.0.0.1", true),
        ("eth.type == 0x0800", "eth.type == 0x0800", false),
        ("ipv6 && tcp.len == 0", "ipv6 && tcp.len == 0", false),
    ];
    // One thread per sample: most of the time is tshark starting up.
    let compared: usize = std::thread::scope(|scope| {
        let runs: Vec<_> = [
            "tls13-chat",
            "tls12-chat",
            "plain-chat",
            "ipv6-chat",
            "small-mss",
        ]
        .into_iter()
        .map(|sample| scope.spawn(move || compare_filters(sample, filters)))
        .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .sum()
    });
    assert!(
        compared >= 40,
        "only {compared} filters matched any frame: the comparison proves little"
    );
}

/// Runs each filter on one sample with packetpath and tshark, and says how many matched a frame.
fn compare_filters(sample: &str, filters: &[(&str, &str, bool)]) -> usize {
    let path = repo().join(format!("captures/{sample}.pcapng"));
    let trace = packetpath::ui::load_capture(&path, None).expect("the sample opens");
    let port = trace
        .tcp()
        .connections()
        .first()
        .map(|c| c.server.port().to_string())
        .expect("a connection");
    let ipv6 = trace
        .frames()
        .iter()
        .any(|f| f.packet().ip.is_some_and(|ip| ip.version == 6));
    let mut compared = 0;
    for (ours, theirs, ipv4_only) in filters {
        if *ipv4_only && ipv6 {
            continue;
        }
        let (ours, theirs) = (ours.replace("PORT", &port), theirs.replace("PORT", &port));
        let expected = tshark_frames_passing(&path, &theirs);
        assert_eq!(
            filtered_by_us(&trace, &ours, false),
            expected,
            "{sample}: `{ours}` (tshark: `{theirs}`)"
        );
        compared += usize::from(!expected.is_empty());
    }
    compared
}

/// The frames tshark's display filter `filter` lets through.
fn tshark_frames_passing(path: &Path, filter: &str) -> Vec<u32> {
    tool(
        "tshark",
        &[
            "-r",
            path.to_str().expect("a UTF-8 path"),
            "-Y",
            filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        repo(),
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect()
}

/// In the eavesdropper's view a filter knows only what is on the wire: it picks what tshark picks
/// in the same capture with its TLS secrets removed (editcap --discard-all-secrets).
fn the_eavesdroppers_filter_knows_what_tshark_knows_without_keys() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for sample in ["tls13-chat", "tls12-chat"] {
        let path = repo().join(format!("captures/{sample}.pcapng"));
        let stripped = dir.path().join(format!("{sample}-no-keys.pcapng"));
        tool(
            "editcap",
            &[
                "--discard-all-secrets",
                path.to_str().expect("a UTF-8 path"),
                stripped.to_str().expect("a UTF-8 path"),
            ],
            repo(),
        );
        let trace = packetpath::ui::load_capture(&path, None).expect("the sample opens");
        for filter in [
            "tls.record.content_type == 22",
            "tls.record.content_type == 23",
            "tls.record.content_type == 21",
            "tls",
        ] {
            assert_eq!(
                filtered_by_us(&trace, filter, true),
                tshark_frames_passing(&stripped, filter),
                "{sample}: `{filter}` in the eavesdropper's view"
            );
        }
        // With the keys, TLS 1.3 handshake records hide inside application_data ones.
        if sample == "tls13-chat" {
            assert_ne!(
                filtered_by_us(&trace, "tls.record.content_type == 22", true),
                filtered_by_us(&trace, "tls.record.content_type == 22", false),
            );
        }
    }
}

/// `packetpath inspect FILE --format json`, which must succeed: one object per frame.
fn inspect_json(dir: &Path, file: &str) -> Vec<Value> {
    let (code, out, err) = packetpath(dir, &["inspect", file, "--format", "json"]);
    assert_eq!(code, 0, "{file}: {err}");
    json_frames(&out)
}

/// Per frame, the TCP fields both tools report, from `packetpath inspect --format json`:
/// stream, seq, ack, len, retransmission, lost segment, reused ports, and the TLS records'
/// content types (inner type once decrypted, as tshark's `tls.record.content_type`).
fn our_tcp_fields(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            let t = &f["tcp"];
            let flag = |name: &str| if t[name] == true { "1" } else { "" };
            let types: Vec<String> = f["tls"]
                .as_array()
                .map(|records| {
                    records
                        .iter()
                        .map(|r| {
                            let inner = &r["decrypted"]["content_type"];
                            if inner.is_null() {
                                &r["content_type"]
                            } else {
                                inner
                            }
                            .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "#{} stream {} seq {} ack {} len {} retrans '{}' lost '{}' reused '{}' tls [{}]",
                f["frame"],
                t["stream"],
                t["seq"],
                t["ack"],
                t["payload_len"],
                flag("retransmission"),
                flag("lost_segment"),
                flag("reused_ports"),
                types.join(",")
            )
        })
        .collect()
}

/// The same fields from tshark.
fn tshark_tcp_fields(dir: &Path, file: &str) -> Vec<String> {
    let out = tool(
        "tshark",
        &[
            "-r",
            file,
            "-o",
            "tcp.analyze_sequence_numbers:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=;",
            "-e",
            "frame.number",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.ack",
            "-e",
            "tcp.len",
            "-e",
            "tcp.analysis.retransmission",
            "-e",
            "tcp.analysis.lost_segment",
            "-e",
            "tcp.analysis.reused_ports",
            "-e",
            "tls.record.content_type",
            "-e",
            "tls.record.opaque_type",
        ],
        dir,
    );
    out.lines()
        .map(|line| {
            let f: Vec<&str> = line.split(';').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or_default();
            // tshark prints a present flag as its frame reference or 1; absent as nothing.
            let flag = |i: usize| if at(i).is_empty() { "" } else { "1" };
            // A TLS 1.3 record tshark could not decrypt has only its outer ("opaque") type.
            let types = if at(8).is_empty() { at(9) } else { at(8) };
            format!(
                "#{} stream {} seq {} ack {} len {} retrans '{}' lost '{}' reused '{}' tls [{}]",
                at(0),
                at(1),
                at(2),
                at(3),
                at(4),
                flag(5),
                flag(6),
                flag(7),
                types
            )
        })
        .collect()
}

/// Per frame: number, interface, raw sequence and acknowledgment numbers, TCP payload (hex) and
/// VLAN ID, from `packetpath inspect --format json`. A TLS stream has no `tcp.payload` by design
/// (its records are in `tls`), so with `plain_only` the payload is left out.
fn our_raw_fields(frames: &[Value], plain_only: bool) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            let t = &f["tcp"];
            let text = |v: &Value| match v {
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let payload = match (&t["payload"]["hex"], &t["payload"]["text"]) {
                (Value::String(hex), _) => hex.clone(),
                (_, Value::String(text)) => text.bytes().map(|b| format!("{b:02x}")).collect(),
                _ => String::new(),
            };
            format!(
                "#{} if {} seq_raw {} ack_raw {} payload [{}] vlan {}",
                f["frame"],
                f["interface"],
                text(&t["seq_raw"]),
                text(&t["ack_raw"]),
                if plain_only { &payload } else { "" },
                text(&f["link"]["vlan"]),
            )
        })
        .collect()
}

/// The same fields from tshark.
fn tshark_raw_fields(dir: &Path, file: &str, plain_only: bool) -> Vec<String> {
    let fields = [
        "frame.number",
        "frame.interface_id",
        "tcp.seq_raw",
        "tcp.ack_raw",
        "tcp.payload",
        "vlan.id",
    ];
    let mut args = vec!["-r", file, "-T", "fields", "-E", "separator=;"];
    for f in &fields {
        args.extend(["-e", f]);
    }
    tool("tshark", &args, dir)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split(';').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or_default();
            // tshark 4.0 prints a SYN's acknowledgment field (0, no ACK flag) as present.
            format!(
                "#{} if {} seq_raw {} ack_raw {} payload [{}] vlan {}",
                at(0),
                at(1),
                at(2),
                at(3),
                if plain_only { at(4) } else { "" },
                at(5),
            )
        })
        .collect()
}

/// The JSON fields a user comparing with Wireshark reaches for, against tshark on every frame:
/// raw sequence and acknowledgment numbers, the payload of plain TCP (as text, and as hex once a
/// byte is not UTF-8), the 802.1Q VLAN ID (the plain chat with a VLAN tag added to every frame),
/// and the pcapng interface (the routers' capture of six interfaces).
fn raw_numbers_payload_vlan_and_interface_agree_with_tshark() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let plain = packetpath::capture::read_capture_file(&repo().join("captures/plain-chat.pcapng"))
        .expect("the sample reads");
    let mut binary_done = false;
    let tagged: Vec<packetpath::frame::Frame> = plain
        .frames
        .iter()
        .map(|f| {
            let mut data = f.data.to_vec();
            let p = packetpath::dissect::dissect(f.link, &data);
            // One segment's payload made binary: its JSON payload turns to hex.
            if !binary_done && p.payload.len() > 4 {
                if let Some(b) = data.get_mut(p.payload.start + 1) {
                    *b = 0xff;
                    binary_done = true;
                }
            }
            // VLAN 42 between the source MAC and the EtherType.
            data.splice(12..12, [0x81, 0x00, 0x00, 0x2a]);
            packetpath::frame::Frame {
                at: f.at,
                link: f.link,
                orig_len: f.orig_len + 4,
                interface: 0,
                data: data.into(),
            }
        })
        .collect();
    assert!(binary_done, "a segment with data");
    write_capture(&dir.path().join("vlan.pcapng"), &tagged, "");
    let routers = repo().join("captures/routers-chat.pcapng");
    for (file, plain_only) in [
        ("vlan.pcapng", true),
        (routers.to_str().expect("UTF-8"), false),
    ] {
        let frames = inspect_json(dir.path(), file);
        let ours = our_raw_fields(&frames, plain_only);
        // tshark 4.0 lists packetpath's custom blocks (kept in the file) as records of their
        // own after the frames: frames only.
        let theirs: Vec<String> = tshark_raw_fields(dir.path(), file, plain_only)
            .into_iter()
            .take(ours.len())
            .collect();
        assert_eq!(ours.len(), theirs.len(), "{file}");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{file}: packetpath, then tshark");
        }
        assert!(
            ours.iter()
                .filter(|l| !l.contains("seq_raw  ack_raw"))
                .count()
                > ours.len() / 2,
            "{file}: raw numbers on the TCP frames: {ours:#?}"
        );
        if plain_only {
            assert!(ours.iter().all(|l| l.ends_with("vlan 42")), "{ours:#?}");
            assert!(ours.iter().any(|l| l.contains("ff")), "the binary payload");
            assert!(
                frames
                    .iter()
                    .any(|f| f["tcp"]["payload"]["hex"].is_string()),
                "a payload that is not UTF-8 is given as hex"
            );
        } else {
            let interfaces: std::collections::BTreeSet<&str> = ours
                .iter()
                .filter_map(|l| l.split(" if ").nth(1)?.split(' ').next())
                .collect();
            assert!(interfaces.len() >= 4, "{interfaces:?}");
        }
    }
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// tshark's `-z follow,tls,raw,N`: the decrypted application data of stream N, one byte string
/// per endpoint (in no particular order).
fn tshark_follow_tls(dir: &Path, file: &str, stream: u64) -> Vec<Vec<u8>> {
    let out = tool(
        "tshark",
        &["-r", file, "-q", "-z", &format!("follow,tls,raw,{stream}")],
        dir,
    );
    let mut sides = vec![Vec::new(), Vec::new()];
    let mut in_body = false;
    for line in out.lines() {
        if line.starts_with("Node 1: ") {
            in_body = true;
        } else if line.starts_with("=====") {
            in_body = false;
        } else if in_body && !line.trim().is_empty() {
            let side = usize::from(line.starts_with('\t'));
            sides[side].extend(unhex(line.trim()));
        }
    }
    sides.retain(|s| !s.is_empty());
    sides
}

/// Writes `frames` (and the secrets) as a pcapng file.
fn write_capture(path: &Path, frames: &[packetpath::frame::Frame], keys: &str) {
    let out = std::fs::File::create(path).expect("created");
    let link = frames
        .first()
        .map_or(packetpath::frame::LinkType::Ethernet, |f| f.link);
    let mut writer = packetpath::capture::PcapngWriter::new(out, link).expect("a writer");
    writer.write_secrets(keys).expect("written");
    for frame in frames {
        writer.write_frame(frame).expect("written");
    }
    writer.finish().expect("finished");
}

/// A frame whose client's sequence numbers (and the server's acknowledgements of them) are moved
/// by `delta`: the same connection again with another initial sequence number. With `rst`, the
/// client's segment becomes a bare RST.
fn renumbered(
    frame: &packetpath::frame::Frame,
    client_port: u16,
    delta: u32,
    at: i128,
    rst: bool,
) -> packetpath::frame::Frame {
    let p = packetpath::dissect::dissect(frame.link, &frame.data);
    let tcp = p.tcp.as_ref().expect("a TCP segment");
    let mut data = frame.data.to_vec();
    let h = tcp.header.start;
    let add = |data: &mut Vec<u8>, at: usize| {
        let v = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        data[at..at + 4].copy_from_slice(&v.wrapping_add(delta).to_be_bytes());
    };
    if tcp.src_port == client_port {
        add(&mut data, h + 4);
    } else if tcp.flags.contains(packetpath::dissect::TcpFlags::ACK) {
        add(&mut data, h + 8);
    }
    if rst {
        data[h + 13] = 0x04; // RST alone, so no acknowledgement number either
        data[h + 8..h + 12].copy_from_slice(&[0; 4]);
        data.truncate(p.payload.start);
        let ip = p.ip.as_ref().expect("IP").header.start;
        let total = (data.len() - ip) as u16;
        data[ip + 2..ip + 4].copy_from_slice(&total.to_be_bytes());
    }
    packetpath::frame::Frame {
        at: packetpath::frame::Timestamp(at),
        link: frame.link,
        orig_len: data.len() as u32,
        interface: 0,
        data: data.into(),
    }
}

/// A 4-tuple used again: a TLS connection cut by the client's RST, then the same conversation
/// twice more on the same ports with new initial sequence numbers (the second after a FIN close).
/// packetpath numbers the streams, sequence numbers and flags as tshark does, and parses and
/// decrypts every connection's records.
fn a_reused_four_tuple_starts_a_new_stream_as_in_tshark() {
    let sample = repo().join("captures/tls13-chat.pcapng");
    let original = packetpath::capture::read_capture_file(&sample).expect("the sample reads");
    let trace = packetpath::ui::load_capture(&sample, None).expect("the sample opens");
    let conn = &trace.tcp().connections()[0];
    let client_port = conn.client.port();
    let frames: Vec<&packetpath::frame::Frame> = trace
        .frames()
        .iter()
        .filter(|f| f.segment.as_ref().is_some_and(|s| s.stream == 0))
        .map(|f| &f.frame)
        .collect();
    let mut out = Vec::new();
    let mut at = frames[0].at.0;
    let mut next = |out: &mut Vec<packetpath::frame::Frame>,
                    f: &packetpath::frame::Frame,
                    delta: u32,
                    rst: bool| {
        at += 1_000_000;
        out.push(renumbered(f, client_port, delta, at, rst));
    };
    // The first connection: the handshake and a little more, then the client resets it.
    let cut = frames.len() / 2;
    for f in &frames[..cut] {
        next(&mut out, f, 0, false);
    }
    let last_client = frames[..cut]
        .iter()
        .rev()
        .find(|f| {
            packetpath::dissect::dissect(f.link, &f.data)
                .tcp
                .is_some_and(|t| t.src_port == client_port)
        })
        .expect("a client segment");
    next(&mut out, last_client, 0, true);
    // Twice more, whole, with other initial sequence numbers.
    for delta in [0x1000_0000, 0x2345_6789] {
        for f in &frames {
            next(&mut out, f, delta, false);
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("reused.pcapng");
    write_capture(&file, &out, &original.keylog);
    let frames = inspect_json(dir.path(), "reused.pcapng");
    let ours = our_tcp_fields(&frames);
    let theirs = tshark_tcp_fields(dir.path(), "reused.pcapng");
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b, "packetpath, then tshark");
    }
    assert!(
        ours.iter().any(|l| l.contains("stream 2 ")),
        "three streams"
    );
    assert_eq!(ours.iter().filter(|l| l.contains("reused '1'")).count(), 2);
    // And the decrypted application data of each connection, each way, is tshark's.
    for stream in 0..3u64 {
        let mut mine: std::collections::BTreeMap<u64, Vec<u8>> = Default::default();
        for f in frames.iter().filter(|f| f["tcp"]["stream"] == stream) {
            for r in f["tls"].as_array().into_iter().flatten() {
                let d = &r["decrypted"];
                if d["content_type"] != 23 {
                    continue;
                }
                let side = mine
                    .entry(f["tcp"]["src_port"].as_u64().unwrap_or(0))
                    .or_default();
                match (d["text"].as_str(), d["hex"].as_str()) {
                    (Some(text), _) => side.extend_from_slice(text.as_bytes()),
                    (None, Some(hex)) => side.extend(unhex(hex)),
                    _ => {}
                }
            }
        }
        let mut mine: Vec<Vec<u8>> = mine.into_values().collect();
        let mut theirs = tshark_follow_tls(dir.path(), "reused.pcapng", stream);
        mine.sort();
        theirs.sort();
        assert!(mine.iter().all(|b| !b.is_empty()), "stream {stream}");
        assert_eq!(
            mine, theirs,
            "stream {stream}: decrypted bytes, packetpath then tshark"
        );
    }
    // Every connection's application data decrypted (23 inside) in all three.
    for stream in 0..3 {
        assert!(
            ours.iter()
                .any(|l| l.contains(&format!("stream {stream} ")) && l.contains("23")),
            "stream {stream}"
        );
    }
}

/// Frames cut by a snapshot length (`editcap -s 80`, `-s 120`): TCP lengths come from the IP
/// header, so no segment is "previous segment not captured"; the missing bytes are reported per
/// frame; the TLS records whose headers were captured are listed; tshark agrees on every frame.
fn frames_cut_by_a_snap_length_keep_their_real_lengths() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // 80 bytes cut every data segment; 120 keeps the short records of the chat whole, so
    // framing after a hole meets complete records too.
    for (sample, snap) in [
        ("tls13-chat", 80),
        ("tls13-chat", 120),
        ("tls12-chat", 80),
        ("tls12-chat", 120),
        ("plain-chat", 80),
        ("ipv6-chat", 80),
        // Records longer than a segment (MSS 536): framing starts again mid-record.
        ("small-mss", 80),
        ("small-mss", 300),
    ] {
        let path = repo().join(format!("captures/{sample}.pcapng"));
        let file = format!("{sample}-s{snap}.pcapng");
        tool(
            "editcap",
            &[
                "-s",
                &snap.to_string(),
                path.to_str().expect("UTF-8"),
                &file,
            ],
            dir.path(),
        );
        let frames = inspect_json(dir.path(), &file);
        let ours = our_tcp_fields(&frames);
        // tshark 4.0 lists the ledger's custom block (kept by editcap) as a record of its own,
        // after the last frame: TCP segments only.
        let theirs: Vec<String> = tshark_tcp_fields(dir.path(), &file)
            .into_iter()
            .filter(|l| !l.contains("stream  "))
            .collect();
        assert_eq!(ours.len(), theirs.len());
        // TLS records whose header lies in a cut frame's captured bytes are listed by both,
        // framing starting again at the next segment's first byte.
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{sample} cut to {snap}: packetpath, then tshark");
        }
        // The ChangeCipherSpec and the record after it (TLS 1.3: the encrypted flight as
        // application_data; TLS 1.2: the encrypted Finished as handshake), from one cut frame.
        let after_ccs = match (sample, snap) {
            ("tls13-chat", 80) => Some("tls [20,23]"),
            ("tls12-chat", 80) => Some("tls [20,22]"),
            _ => None,
        };
        if let Some(after_ccs) = after_ccs {
            assert!(
                ours.iter().any(|l| l.contains(after_ccs)),
                "{sample}: {after_ccs}: {ours:#?}"
            );
        }
        assert!(
            ours.iter().all(|l| l.contains("lost ''")),
            "{sample}: {ours:#?}"
        );
        let cut: Vec<Value> = frames
            .into_iter()
            .filter(|f| f["not_captured"].as_u64().is_some_and(|n| n > 0))
            .collect();
        assert!(
            !cut.is_empty(),
            "{sample}: frames longer than {snap} bytes say what is missing"
        );
        for f in &cut {
            let missing = f["not_captured"].as_u64().unwrap_or(0);
            assert_eq!(
                f["len"].as_u64().unwrap_or(0),
                snap + missing,
                "{sample}: frame {}: {snap} bytes kept and the rest missing",
                f["frame"]
            );
        }
    }
}

fn every_sample_opens_small_and_complete() {
    let dir = repo().join("captures");
    for sample in packetpath::commands::samples::SAMPLES {
        let path = dir.join(sample.file);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|_| panic!("{} is committed", sample.file))
            .len();
        assert!(size < 100 * 1024, "{} is {size} bytes", sample.file);
        let (code, out, err) = packetpath(
            repo(),
            &["inspect", path.to_str().unwrap(), "--format", "json"],
        );
        assert_eq!(code, 0, "{}: {err}", sample.file);
        let frames = json_frames(&out);
        let texts = decrypted_texts(&frames);
        let apps = frames.iter().filter(|f| f.get("app").is_some()).count();
        match sample.file {
            "tls13-chat.pcapng" | "tls12-chat.pcapng" | "ipv6-chat.pcapng" => {
                assert!(
                    texts.contains(&"hi bob\n".to_string()),
                    "{}: {texts:?}",
                    sample.file
                );
                assert!(apps > 0, "{}: application events restored", sample.file);
            }
            "plain-chat.pcapng" => {
                assert!(texts.is_empty());
                assert!(apps > 0);
            }
            "wrong-ca.pcapng" => {
                let alert = frames
                    .iter()
                    .filter_map(|f| f["tls"].as_array())
                    .flatten()
                    .any(|r| {
                        r["alert"]["name"]
                            .as_str()
                            .is_some_and(|n| n.contains("unknown_ca"))
                    });
                assert!(alert, "the refusal is an unknown_ca alert");
            }
            "small-mss.pcapng" => {
                let lens: Vec<u64> = frames
                    .iter()
                    .filter_map(|f| f["tcp"]["payload_len"].as_u64())
                    .collect();
                assert!(
                    lens.contains(&524) && lens.iter().all(|&l| l <= 524),
                    "{lens:?}"
                );
            }
            other => panic!("untested sample {other}"),
        }
        if sample.file == "ipv6-chat.pcapng" {
            assert!(frames
                .iter()
                .any(|f| f["ip"]["version"] == 6 && f["ip"]["hop_limit"] == 64));
        }
    }
}

fn tshark_decrypts_our_file_with_no_keylog_option() {
    let path = repo().join("captures/tls13-chat.pcapng");
    let out = tool(
        "tshark",
        &[
            "-r",
            path.to_str().unwrap(),
            "-q",
            "-z",
            "follow,tls,ascii,0",
        ],
        repo(),
    );
    assert!(out.contains("hi bob"), "{out}");
    assert!(
        out.contains("only we (and whoever has the keys) can read it"),
        "{out}"
    );
}

fn secrets_stripped_and_injected_by_editcap_and_plain_pcap_with_a_keylog() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // SSLKEYLOGFILE: packetpath appends the session secrets there, as other TLS tools do.
    let status = Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["trace", "injected", "--write", "t.pcapng"])
        .current_dir(d)
        .env("SSLKEYLOGFILE", d.join("keys.txt"))
        .output()
        .unwrap();
    assert!(status.status.success());
    let keys = std::fs::read_to_string(d.join("keys.txt")).unwrap();
    assert!(keys.contains("CLIENT_TRAFFIC_SECRET_0 "), "{keys}");
    tool(
        "editcap",
        &["--discard-all-secrets", "t.pcapng", "bare.pcapng"],
        d,
    );
    let (_, out, _) = packetpath(d, &["inspect", "bare.pcapng", "--format", "json"]);
    assert!(
        decrypted_texts(&json_frames(&out)).is_empty(),
        "no secrets, no plaintext"
    );
    tool(
        "editcap",
        &[
            "--inject-secrets",
            "tls,keys.txt",
            "bare.pcapng",
            "injected.pcapng",
        ],
        d,
    );
    let (code, out, err) = packetpath(d, &["inspect", "injected.pcapng", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(decrypted_texts(&json_frames(&out)).contains(&"injected\n".to_string()));
    // Classic pcap holds frames only (no secrets, no custom blocks): keep the Ethernet frames.
    tool(
        "tshark",
        &[
            "-r",
            "bare.pcapng",
            "-Y",
            "eth",
            "-F",
            "pcap",
            "-w",
            "bare.pcap",
        ],
        d,
    );
    let (code, out, err) = packetpath(
        d,
        &[
            "inspect",
            "bare.pcap",
            "--keylog",
            "keys.txt",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(decrypted_texts(&json_frames(&out)).contains(&"injected\n".to_string()));
}

fn record_open_inspect_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out, err) = packetpath(
        d,
        &[
            "trace",
            "round trip",
            "--format",
            "json",
            "--write",
            "t.pcapng",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let live: Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = packetpath(d, &["inspect", "t.pcapng", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let saved = json_frames(&out);
    let live_frames = live["frames"].as_array().unwrap();
    assert!(!live_frames.is_empty());
    for frame in live_frames {
        let n = frame["frame"].as_u64().unwrap() as usize;
        assert_eq!(
            &saved[n - 1],
            frame,
            "frame {n} differs after the round trip"
        );
    }
}

fn garbage_secrets_give_a_warning_and_everything_else_still_shows() {
    let dir = tempfile::tempdir().unwrap();
    let sample =
        packetpath::capture::read_capture_file(&repo().join("captures/tls13-chat.pcapng")).unwrap();
    let path = dir.path().join("garbage.pcapng");
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = packetpath::capture::PcapngWriter::new(file, sample.frames[0].link).unwrap();
    writer
        .write_secrets("this is not a key log\nCLIENT_TRAFFIC_SECRET_0 zz 00\n")
        .unwrap();
    for frame in &sample.frames {
        writer.write_frame(frame).unwrap();
    }
    writer.finish().unwrap();
    let (code, out, err) = packetpath(
        dir.path(),
        &["inspect", "garbage.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("secrets embedded in"),
        "the bad key log is reported: {err}"
    );
    let frames = json_frames(&out);
    assert_eq!(
        frames.len(),
        sample.frames.len(),
        "every frame is still shown"
    );
    assert!(
        decrypted_texts(&frames).is_empty(),
        "no usable keys, no plaintext"
    );
    assert!(
        frames.iter().any(|f| f["tls"].is_array()),
        "records are still parsed"
    );
}

fn a_key_log_with_a_line_that_is_not_utf8_still_decrypts() {
    let dir = tempfile::tempdir().unwrap();
    let sample =
        packetpath::capture::read_capture_file(&repo().join("captures/tls13-chat.pcapng")).unwrap();
    // The same frames without their secrets, and the secrets in a key log with a Latin-1 line.
    let bare = dir.path().join("bare.pcapng");
    let file = std::fs::File::create(&bare).unwrap();
    let mut writer = packetpath::capture::PcapngWriter::new(file, sample.frames[0].link).unwrap();
    for frame in &sample.frames {
        writer.write_frame(frame).unwrap();
    }
    writer.finish().unwrap();
    let mut keylog = b"# written on a machine with a Latin-1 locale: caf\xe9\n".to_vec();
    keylog.extend_from_slice(b"CLIENT_RANDOM caf\xe9 00\n"); // garbage, and not UTF-8

    keylog.extend_from_slice(sample.keylog.as_bytes());
    std::fs::write(dir.path().join("keys.log"), &keylog).unwrap();

    let (code, embedded, err) = packetpath(
        &repo().join("captures"),
        &["inspect", "tls13-chat.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = packetpath(
        dir.path(),
        &[
            "inspect",
            "bare.pcapng",
            "--keylog",
            "keys.log",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("key log line 2: not UTF-8"),
        "the bad line is named: {err}"
    );
    let expected = decrypted_texts(&json_frames(&embedded));
    assert!(!expected.is_empty());
    assert_eq!(decrypted_texts(&json_frames(&out)), expected);
}

fn write_never_replaces_a_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "my notes").unwrap();
    for args in [
        &["trace", "hi", "--write", "notes.txt"][..],
        &[
            "capture",
            "--port",
            "1",
            "--count",
            "1",
            "--write",
            "notes.txt",
        ][..],
        &["demo", "--script", "--record", "notes.txt"][..],
    ] {
        let (code, _, err) = packetpath(dir.path(), args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            err.contains("notes.txt already exists") && err.contains("--force"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
            "my notes"
        );
    }
}

fn written_captures_are_private_and_replaced_only_with_force() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _, err) = packetpath(d, &["trace", "secret", "--write", "t.pcapng"]);
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(d.join("t.pcapng"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "it holds the session keys");
    let (code, _, err) = packetpath(d, &["trace", "again", "--write", "t.pcapng", "--force"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = packetpath(d, &["inspect", "t.pcapng", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(decrypted_texts(&json_frames(&out)).contains(&"again\n".to_string()));
}

/// `capture --write` stopped by SIGTERM or SIGHUP (not only Ctrl-C) still drains the socket and
/// writes its file: a capture is not lost because a terminal closed or a script said `kill`.
fn capture_stopped_by_a_signal_still_writes_its_file() {
    use std::io::{BufRead, BufReader, Read, Write};
    for signal in ["TERM", "HUP", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_packetpath"))
            .args(["capture", "--port", &port, "--write", "c.pcapng"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("capturing on") {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "capture exited early"
            );
        }
        let mut client =
            std::net::TcpStream::connect(("127.0.0.1", listener.local_addr().unwrap().port()))
                .unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"caught\n").unwrap();
        server.read_exact(&mut [0u8; 7]).unwrap();
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "SIG{signal}: {status:?}");
        let file = packetpath::capture::read_capture_file(&dir.path().join("c.pcapng")).unwrap();
        assert!(
            file.frames.iter().any(|f| f.data.ends_with(b"caught\n")),
            "SIG{signal}: the line's frame was saved ({} frames)",
            file.frames.len()
        );
    }
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(every_sample_opens_small_and_complete),
        test!(
            capture_stopped_by_a_signal_still_writes_its_file,
            Need::Root,
            Need::HostCapture
        ),
        test!(
            tshark_decrypts_our_file_with_no_keylog_option,
            Need::Tool("tshark")
        ),
        test!(
            display_filters_select_the_frames_tshark_selects,
            Need::Tool("tshark")
        ),
        test!(
            a_reused_four_tuple_starts_a_new_stream_as_in_tshark,
            Need::Tool("tshark")
        ),
        test!(
            frames_cut_by_a_snap_length_keep_their_real_lengths,
            Need::Tool("tshark"),
            Need::Tool("editcap")
        ),
        test!(
            raw_numbers_payload_vlan_and_interface_agree_with_tshark,
            Need::Tool("tshark")
        ),
        test!(
            the_eavesdroppers_filter_knows_what_tshark_knows_without_keys,
            Need::Tool("tshark"),
            Need::Tool("editcap")
        ),
        test!(
            secrets_stripped_and_injected_by_editcap_and_plain_pcap_with_a_keylog,
            Need::Lab,
            Need::Tool("tshark"),
            Need::Tool("editcap")
        ),
        test!(record_open_inspect_loses_nothing, Need::Lab),
        test!(garbage_secrets_give_a_warning_and_everything_else_still_shows),
        test!(a_key_log_with_a_line_that_is_not_utf8_still_decrypts),
        test!(write_never_replaces_a_file_unless_forced),
        test!(
            written_captures_are_private_and_replaced_only_with_force,
            Need::Lab
        ),
    ])
}
