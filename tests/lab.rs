//! The lab: textbook packets in a private network namespace, as root and as an ordinary user.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

fn frames_of(inspect_json: &str) -> Vec<Value> {
    inspect_json
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn check_small_mss(nobody: bool) {
    let dir = shared_dir();
    let text = "x".repeat(5000);
    let (code, _, err) = run_as(
        dir.path(),
        nobody,
        &["trace", &text, "--mss", "536", "--write", "t.pcapng"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run_as(
        dir.path(),
        nobody,
        &["inspect", "t.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let frames = frames_of(&out);
    let lens: Vec<u64> = frames
        .iter()
        .filter_map(|f| f["tcp"]["payload_len"].as_u64())
        .filter(|&l| l > 0)
        .collect();
    assert!(
        lens.contains(&524),
        "full segments carry 536 - 12 bytes of timestamps: {lens:?}"
    );
    assert!(
        lens.iter().all(|&l| l <= 524),
        "a segment exceeds the MSS: {lens:?}"
    );
    // The SYN announces the MSS we asked for.
    let syn = frames
        .iter()
        .find(|f| f["tcp"]["flags"] == serde_json::json!(["SYN"]))
        .unwrap();
    assert_eq!(syn["tcp"]["mss"], 536);
}

fn small_mss_gives_textbook_segments_as_root() {
    check_small_mss(false);
}

fn small_mss_gives_textbook_segments_as_an_ordinary_user() {
    check_small_mss(true);
}

fn check_wire(nobody: bool) {
    let dir = shared_dir();
    let (code, _, err) = run_as(
        dir.path(),
        nobody,
        &["trace", "hi", "--link", "wire", "--write", "w.pcapng"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run_as(
        dir.path(),
        nobody,
        &["inspect", "w.pcapng", "--format", "json"],
    );
    let frames = frames_of(&out);
    let first_arp = frames
        .iter()
        .position(|f| f.get("arp").is_some())
        .expect("an ARP frame");
    let first_syn = frames
        .iter()
        .position(|f| f["tcp"]["flags"] == serde_json::json!(["SYN"]))
        .expect("a SYN");
    assert!(first_arp < first_syn, "ARP precedes the SYN");
    assert_eq!(frames[first_arp]["arp"]["op"], "request");
    for f in frames.iter().filter(|f| f.get("tcp").is_some()) {
        assert_ne!(
            f["link"]["src"], "00:00:00:00:00:00",
            "real MAC addresses on a wire"
        );
        assert_eq!(f["tcp"]["checksum"], "verified", "frame {}", f["frame"]);
        assert!(f["ip"]["src"].as_str().unwrap().starts_with("10.73.0."));
    }
}

fn wire_shows_mac_addresses_arp_and_valid_checksums_as_root() {
    check_wire(false);
}

fn wire_shows_mac_addresses_arp_and_valid_checksums_as_an_ordinary_user() {
    check_wire(true);
}

fn loss_in_the_lab_causes_retransmissions() {
    let dir = shared_dir();
    let text = "y".repeat(60_000);
    let (code, _, err) = run_as(
        dir.path(),
        false,
        &["trace", &text, "--loss", "10", "--write", "l.pcapng"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run_as(
        dir.path(),
        false,
        &["inspect", "l.pcapng", "--format", "json"],
    );
    let frames = frames_of(&out);
    let retransmitted = frames
        .iter()
        .filter(|f| f["tcp"]["retransmission"] == true)
        .count();
    assert!(
        retransmitted > 0,
        "10% loss over ~45 segments and their ACKs (all lost: 0.9^90) retransmits something"
    );
    let decrypted: String = frames
        .iter()
        .filter_map(|f| f["tls"].as_array())
        .flatten()
        .filter_map(|r| r["decrypted"]["text"].as_str())
        .collect();
    assert!(
        decrypted.contains(&text),
        "TCP recovered every byte and TLS decrypts them in order"
    );
}

fn host_loopback_runs_without_a_lab() {
    let dir = shared_dir();
    let (code, out, err) = run_as(dir.path(), false, &["trace", "hi", "--host-loopback"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("the machine's own loopback"), "{out}");
}

fn without_user_namespaces_the_refusal_says_why_and_what_to_do() {
    let dir = shared_dir();
    // A user namespace of our own (never the host's settings), where user namespaces are then
    // disabled, and packetpath runs as an ordinary user. We (root outside) write its uid/gid maps
    // once it exists: the script says "ready" after unsharing and waits for a line.
    let script = format!(
        // (exec again after the maps exist: capabilities are granted at exec time, as uid 0)
        "echo ready; read go; exec sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- {} trace hi'",
        binary_for_nobody().display()
    );
    let mut child = Command::new("unshare")
        .args(["--user", "--mount", "--", "sh", "-c", &script])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    let pid = child.id();
    std::fs::write(format!("/proc/{pid}/uid_map"), "0 0 65536").unwrap();
    std::fs::write(format!("/proc/{pid}/gid_map"), "0 0 65536").unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("user.max_user_namespaces is 0"), "{err}");
    assert!(err.contains("setcap cap_net_raw+ep"), "{err}");
    assert!(err.contains("--host-loopback"), "{err}");
    assert!(err.contains("packetpath inspect captures/"), "{err}");
}

fn doctor_explains_every_method() {
    let dir = shared_dir();
    for nobody in [false, true] {
        let (code, out, err) = run_as(dir.path(), nobody, &["doctor"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("[ok] lab with --link loopback"), "{out}");
        assert!(out.contains("[ok] lab with --link wire"), "{out}");
        let host = if nobody {
            "[no] capture on the machine's loopback"
        } else {
            "[ok] capture on the machine's loopback"
        };
        assert!(out.contains(host), "{out}");
    }
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            small_mss_gives_textbook_segments_as_root,
            Need::Root,
            Need::Lab
        ),
        test!(
            small_mss_gives_textbook_segments_as_an_ordinary_user,
            Need::OrdinaryUser,
            Need::Lab
        ),
        test!(
            wire_shows_mac_addresses_arp_and_valid_checksums_as_root,
            Need::Root,
            Need::Lab
        ),
        test!(
            wire_shows_mac_addresses_arp_and_valid_checksums_as_an_ordinary_user,
            Need::OrdinaryUser,
            Need::Lab
        ),
        test!(
            loss_in_the_lab_causes_retransmissions,
            Need::Lab,
            Need::Tool("iptables")
        ),
        test!(host_loopback_runs_without_a_lab, Need::HostCapture),
        test!(
            without_user_namespaces_the_refusal_says_why_and_what_to_do,
            Need::Root,
            Need::Tool("unshare")
        ),
        test!(
            doctor_explains_every_method,
            Need::Root,
            Need::OrdinaryUser,
            Need::Lab
        ),
    ])
}
