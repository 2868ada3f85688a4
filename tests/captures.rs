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
