//! `packetpath trace --attack`: an attacker on the lab path's first link changes one byte of the
//! line's segment. Over TLS a fixed checksum does not help it: the server's record check fails
//! (bad_record_mac); over plain TCP the changed line is delivered; without the checksum fixed the
//! server's kernel drops the segment and the client's retransmission delivers the line intact.
//! Each is checked on the JSON and, for the checksum, against tshark; as root and as an ordinary
//! user.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn attack(dir: &Path, nobody: bool, args: &[&str]) -> Value {
    let mut all = vec![
        "trace",
        "hi there",
        "--link",
        "routers:1",
        "--format",
        "json",
    ];
    all.extend(args);
    let (code, out, err) = run_as(dir, nobody, &all);
    assert_eq!(code, 0, "{all:?}: {err}\n{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["attack"].clone()
}

/// tshark's verdict on a frame's TCP checksum (with checking on): "1" good, "0" bad.
fn tshark_checksum(dir: &Path, file: &str, frame: u64) -> String {
    let out = std::process::Command::new("tshark")
        .current_dir(dir)
        .args([
            "-r",
            file,
            "-o",
            "tcp.check_checksum:TRUE",
            "-Y",
            &format!("frame.number == {frame}"),
            "-T",
            "fields",
            "-e",
            "tcp.checksum.status",
        ])
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn frame(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key}: {v:#}"))
}

fn flip_over_tls_ends_in_bad_record_mac(nobody: bool) {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        nobody,
        &["--attack", "flip", "--write", "flip.pcapng"],
    );
    assert_eq!(a["attack"], "flip", "{a:#}");
    assert_eq!(a["tampering"]["checksum_fixed"], true, "{a:#}");
    assert_eq!(a["after_checksum"], "verified", "{a:#}");
    assert_eq!(a["alert"]["name"], "bad_record_mac", "{a:#}");
    assert!(
        a["client_error"]
            .as_str()
            .is_some_and(|e| e.contains("BadRecordMac")),
        "{a:#}"
    );
    assert!(a["server_read"].is_null(), "the server read nothing: {a:#}");
    // Before the attacker and after it: the same segment, one byte apart; tshark finds both
    // checksums good.
    let (before, after) = (frame(&a, "before_frame"), frame(&a, "after_frame"));
    assert!(before < after);
    assert_eq!(tshark_checksum(dir.path(), "flip.pcapng", after), "1");
}

fn flip_over_tls_ends_in_bad_record_mac_as_root() {
    flip_over_tls_ends_in_bad_record_mac(false)
}

fn flip_over_tls_ends_in_bad_record_mac_as_an_ordinary_user() {
    flip_over_tls_ends_in_bad_record_mac(true)
}

fn flip_over_plain_tcp_delivers_the_changed_line() {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        true,
        &["--attack", "flip", "--plain", "--write", "plain.pcapng"],
    );
    assert_eq!(a["server_read"], "Hi there\n", "{a:#}");
    assert!(a["alert"].is_null() && a["client_error"].is_null(), "{a:#}");
    assert_eq!(
        a["tampering"]["payload_offset"], 0,
        "the first letter: {a:#}"
    );
    // The segment after the attacker is a copy of the one before it, altered: the capture says
    // which bytes above IP changed (the letter, and the checksum fixed to match).
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &["inspect", "plain.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let after = frame(&a, "after_frame");
    let f: Value = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|f| f["frame"] == after)
        .unwrap_or_else(|| panic!("frame {after}"));
    assert_eq!(f["copy_of"], a["before_frame"], "{f:#}");
    let check = &f["hop_check"];
    assert_eq!(check["above_ip_identical"], false, "{check:#}");
    let header = f["tcp"]["header_len"].as_u64().unwrap_or(0);
    let changed = check["above_ip_changed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        changed
            .iter()
            .any(|c| c["offset"] == header && c["before"] == 0x68 && c["after"] == 0x48),
        "the letter h made H: {check:#}"
    );
    assert!(
        changed
            .iter()
            .all(|c| c["offset"] == header
                || c["offset"].as_u64().is_some_and(|o| o == 16 || o == 17)),
        "nothing but the letter and the checksum: {check:#}"
    );
}

fn corrupt_is_dropped_and_sent_again(nobody: bool, plain: bool) {
    let dir = shared_dir();
    let mut args = vec!["--attack", "corrupt", "--write", "corrupt.pcapng"];
    if plain {
        args.push("--plain");
    }
    let a = attack(dir.path(), nobody, &args);
    assert_eq!(a["tampering"]["checksum_fixed"], false, "{a:#}");
    assert_eq!(a["after_checksum"], "wrong", "{a:#}");
    assert_eq!(a["server_read"], "hi there\n", "intact: {a:#}");
    assert!(a["alert"].is_null(), "{a:#}");
    let (after, resent) = (frame(&a, "after_frame"), frame(&a, "resent_frame"));
    assert!(after < resent, "{a:#}");
    assert_eq!(tshark_checksum(dir.path(), "corrupt.pcapng", after), "0");
    assert_eq!(tshark_checksum(dir.path(), "corrupt.pcapng", resent), "1");
}

fn corrupt_is_dropped_and_sent_again_over_tls() {
    corrupt_is_dropped_and_sent_again(false, false)
}

fn corrupt_is_dropped_and_sent_again_over_plain_tcp_as_an_ordinary_user() {
    corrupt_is_dropped_and_sent_again(true, true)
}

fn an_attack_needs_a_path_of_routers() {
    let dir = shared_dir();
    for link in ["loopback", "wire"] {
        let (code, _, err) = packetpath(
            dir.path(),
            &["trace", "hi", "--link", link, "--attack", "flip"],
        );
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("--link routers:N"), "{err}");
    }
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            flip_over_tls_ends_in_bad_record_mac_as_root,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::Tool("tshark")
        ),
        test!(
            flip_over_tls_ends_in_bad_record_mac_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(
            flip_over_plain_tcp_delivers_the_changed_line,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser
        ),
        test!(
            corrupt_is_dropped_and_sent_again_over_tls,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::Tool("tshark")
        ),
        test!(
            corrupt_is_dropped_and_sent_again_over_plain_tcp_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(an_attack_needs_a_path_of_routers),
    ])
}
