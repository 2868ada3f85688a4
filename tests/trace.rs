//! `packetpath trace` and `inspect` end to end: the real binary, real sockets, real capture.

mod common;

use common::*;
use serde_json::Value;

fn trace_json(args: &[&str]) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["trace"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let (code, out, err) = packetpath(dir.path(), &all);
    assert_eq!(code, 0, "stderr: {err}");
    (dir, serde_json::from_str(&out).expect("one JSON object"))
}

fn layers(v: &Value) -> Vec<(String, u64)> {
    v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["layer"].as_str().unwrap().to_string(),
                l["bytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn tls13_hi_adds_the_textbook_bytes_at_every_layer() {
    let (_dir, v) = trace_json(&["hi"]);
    assert_eq!(v["text"], "hi\n");
    assert_eq!(v["transport"], "tls1.3");
    // 3 bytes of text; TLS 1.3 adds a 5-byte header, 1 byte of inner content type and a 16-byte
    // AEAD tag; TCP adds 20 bytes + 12 of timestamps; IPv4 20; Ethernet 14.
    assert_eq!(
        layers(&v),
        vec![
            ("application".into(), 3),
            ("tls".into(), 25),
            ("tcp".into(), 57),
            ("ip".into(), 77),
            ("link".into(), 91)
        ]
    );
    let frames = v["frames"].as_array().unwrap();
    let carrying = frames
        .iter()
        .find(|f| {
            f["app"]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e["text"] == "hi\n" && e["dir"] == "write"))
        })
        .expect("a frame carries the write");
    let tls = &carrying["tls"][0];
    assert_eq!(
        tls["content_type"], 23,
        "on the wire it is application_data"
    );
    assert_eq!(tls["length"], 20);
    assert_eq!(tls["decrypted"]["text"], "hi\n");
    assert_eq!(tls["decrypted"]["content_type"], 23);
    assert_eq!(carrying["tcp"]["payload_len"], 25);
    assert_eq!(carrying["ip"]["ttl"], 64);
    assert_eq!(carrying["link"]["type"], "ethernet");
    // The connection's time series: both ends sent data, so both directions have one, and
    // each SampleRTT names the earlier frame it times.
    let series = v["series"].as_array().expect("a series field");
    assert_eq!(series.len(), 1, "{series:?}");
    let dirs = series[0]["directions"].as_array().unwrap();
    assert_eq!(dirs.len(), 2);
    for d in dirs {
        for sample in d["samples"].as_array().unwrap() {
            let (ack, timed) = (sample["frame"].as_u64(), sample["acks_frame"].as_u64());
            assert!(timed.is_some() && timed < ack, "{sample}");
            assert!(
                sample["rtt_us"].as_f64().is_some_and(|us| us > 0.0),
                "{sample}"
            );
        }
    }
    assert!(!dirs[0]["samples"].as_array().unwrap().is_empty());
}

fn plain_hi_is_visible_on_the_wire() {
    let (_dir, v) = trace_json(&["hi", "--plain"]);
    assert_eq!(v["transport"], "plain");
    assert_eq!(
        layers(&v),
        vec![
            ("application".into(), 3),
            ("tcp".into(), 35),
            ("ip".into(), 55),
            ("link".into(), 69)
        ]
    );
    let frames = v["frames"].as_array().unwrap();
    assert!(
        frames.iter().all(|f| f.get("tls").is_none()),
        "no TLS on a plain connection"
    );
}

fn tls12_hi_carries_an_explicit_nonce() {
    let (_dir, v) = trace_json(&["hi", "--tls-version", "1.2"]);
    assert_eq!(v["transport"], "tls1.2");
    // rustls picks ECDHE-ECDSA-AES256-GCM first for our ECDSA certificate: in TLS 1.2 each GCM
    // record carries an 8-byte explicit nonce before the ciphertext and a 16-byte tag after it
    // (RFC 5288 §3), and no hidden content-type byte (that is TLS 1.3's).
    assert_eq!(
        layers(&v)[1].1,
        5 + 3 + 8 + 16,
        "header + text + nonce + tag"
    );
}

fn a_long_line_is_split_into_segments_and_reassembled() {
    let text = "x".repeat(60_000);
    let (_dir, v) = trace_json(&[&text]);
    let frames = v["frames"].as_array().unwrap();
    let records: usize = frames
        .iter()
        .filter_map(|f| f["tls"].as_array())
        .flatten()
        .filter(|r| r["decrypted"]["content_type"] == 23)
        .count();
    assert!(
        records >= 5,
        "70,000 bytes need at least 5 records of at most 16 KiB, got {records}"
    );
    let decrypted: String = frames
        .iter()
        .filter(|f| f["tcp"]["dst_port"] != frames[0]["tcp"]["src_port"])
        .filter_map(|f| f["tls"].as_array())
        .flatten()
        .filter_map(|r| r["decrypted"]["text"].as_str())
        .collect();
    assert!(
        decrypted.contains(&text),
        "the whole line is recovered from the records"
    );
    assert_eq!(layers(&v)[0].1, 60_001);
}

fn trace_writes_a_capture_that_inspect_reads_back_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = packetpath(dir.path(), &["trace", "round trip", "--write", "t.pcapng"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = packetpath(dir.path(), &["inspect", "t.pcapng", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let texts: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|f| f["tls"].as_array().cloned())
        .flatten()
        .filter_map(|r| r["decrypted"]["text"].as_str().map(str::to_string))
        .collect();
    assert!(texts.contains(&"round trip\n".to_string()), "{texts:?}");
}

fn inspect_reports_where_a_file_is_cut_and_keeps_the_frames_before() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = packetpath(
        dir.path(),
        &["trace", "cut", "--plain", "--write", "t.pcapng"],
    );
    assert_eq!(code, 0, "{err}");
    let whole = std::fs::read(dir.path().join("t.pcapng")).unwrap();
    let (_, full, _) = packetpath(dir.path(), &["inspect", "t.pcapng", "--format", "json"]);
    let all = full.lines().count();
    // Cut inside the last block (the application-event ledger, after the frames) ...
    std::fs::write(dir.path().join("cut.pcapng"), &whole[..whole.len() - 30]).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["inspect", "cut.pcapng", "--format", "json"]);
    assert_eq!(code, 1, "a damaged file is an error");
    assert_eq!(
        out.lines().count(),
        all,
        "every frame before the damage is shown"
    );
    assert!(err.contains("byte"), "the error names the offset: {err}");
    // ... and in the middle of the frames.
    std::fs::write(dir.path().join("half.pcapng"), &whole[..whole.len() / 2]).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["inspect", "half.pcapng", "--format", "json"]);
    assert_eq!(code, 1, "a damaged file is an error");
    let shown = out.lines().count();
    assert!(shown > 0 && shown < all, "{shown} of {all} frames");
    assert!(err.contains("byte"), "the error names the offset: {err}");
}

fn trace_refuses_a_line_longer_than_the_chat_allows() {
    let dir = tempfile::tempdir().unwrap();
    let text = "z".repeat(70_000);
    let (code, _, err) = packetpath(dir.path(), &["trace", &text, "--host-loopback"]);
    assert_eq!(code, 1);
    assert!(err.contains("at most 65536"), "{err}");
}

fn inspect_refuses_a_file_that_is_not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let (code, _, err) = packetpath(dir.path(), &["inspect", "notes.txt"]);
    assert_eq!(code, 1);
    assert!(err.contains("notes.txt"), "{err}");
    let (code, _, err) = packetpath(dir.path(), &["inspect", "missing.pcap"]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.pcap"), "{err}");
}

fn a_piped_log_is_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    // As a user would run it (no NO_COLOR), with the log on: stderr is a pipe here.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["trace", "hi"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        .output()
        .expect("packetpath runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("INFO"), "the log is on: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "colour codes in a piped log: {err:?}"
    );
}

fn demo_without_a_terminal_prints_each_message_down_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    for (args, record) in [(vec!["demo"], "TLS record"), (vec!["demo", "--plain"], "")] {
        let (code, out, err) = packetpath(dir.path(), &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        for needle in [
            "alice sends: hi bob, can you read this?",
            "  bob reads: alice: hi bob, can you read this?",
            "alice's write, alice → server",
            "the server's relay, server → bob",
            "bob's write, bob → server",
            "the server's relay, server → alice",
            "bob leaves; alice reads: * bob left",
        ] {
            assert!(
                out.contains(needle),
                "{args:?}: {needle:?} missing in\n{out}"
            );
        }
        assert!(
            !out.contains("not found in the capture"),
            "{args:?}:\n{out}"
        );
        // The relay to bob carries "alice: " in front: 34 bytes of text, in TLS 22 more.
        let strip = if record.is_empty() {
            "34 B text → 66 B TCP segment"
        } else {
            "34 B text → 56 B TLS record → 88 B TCP segment"
        };
        assert!(out.contains(strip), "{args:?}: {strip:?} missing in\n{out}");
    }
    // --record saves the session without a terminal too, and the file carries its secrets.
    let (code, out, err) = packetpath(dir.path(), &["demo", "--record", "class.pcapng"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("saved to class.pcapng"), "{out}");
    let (code, shown, err) = packetpath(dir.path(), &["inspect", "class.pcapng"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        shown.contains("decrypted application_data: \"alice: hi bob, can you read this?\\n\""),
        "{shown}"
    );
}

/// Commands that print a result print only that: no INFO log lines before it unless RUST_LOG asks.
fn trace_and_doctor_print_no_info_log_by_default() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["trace", "hi"][..], &["doctor"][..]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(!err.contains(" INFO "), "{args:?} logged at INFO: {err}");
    }
}

/// A port already taken: the error says so once, with what to do.
fn a_taken_port_is_named_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = packetpath(dir.path(), &["server", "--plain", "--listen", &addr]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.matches("Address already in use").count(), 1, "{err}");
    assert!(err.contains("pick another with --listen"), "{err}");
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(trace_and_doctor_print_no_info_log_by_default, Need::Lab),
        test!(a_taken_port_is_named_once),
        test!(tls13_hi_adds_the_textbook_bytes_at_every_layer, Need::Lab),
        test!(plain_hi_is_visible_on_the_wire, Need::Lab),
        test!(tls12_hi_carries_an_explicit_nonce, Need::Lab),
        test!(
            a_long_line_is_split_into_segments_and_reassembled,
            Need::Lab
        ),
        test!(
            trace_writes_a_capture_that_inspect_reads_back_with_its_keys,
            Need::Lab
        ),
        test!(
            inspect_reports_where_a_file_is_cut_and_keeps_the_frames_before,
            Need::Lab
        ),
        test!(trace_refuses_a_line_longer_than_the_chat_allows),
        test!(inspect_refuses_a_file_that_is_not_a_capture),
        test!(a_piped_log_is_plain_text, Need::Lab),
        test!(
            demo_without_a_terminal_prints_each_message_down_the_stack,
            Need::Lab
        ),
    ])
}
