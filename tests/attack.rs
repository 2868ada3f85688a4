//! `packetpath trace --attack`: an attacker on the lab path's first link changes one byte of the
//! line's segment. Over TLS a fixed checksum does not help it: the server's record check fails
//! (bad_record_mac); over plain TCP the changed line is delivered; without the checksum fixed the
//! server's kernel drops the segment and the client's retransmission delivers the line intact.
//! A replayed segment is read twice over plain TCP and refused over TLS; a removed one goes
//! unnoticed over plain TCP and ends TLS at the next record. A man in the middle on r1 is refused
//! by a verifying client (unknown_ca) and reads an insecure client's lines. Each is checked on
//! the JSON and against tshark; as root and as an ordinary user.

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
    // A man in the middle has its own key; the link's attacks are under `attack`.
    if v["mitm"].is_object() {
        assert!(v["attack"].is_null(), "{v:#}");
        v["mitm"].clone()
    } else {
        v["attack"].clone()
    }
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

/// tshark's raw sequence number and data (hex) of one frame.
fn tshark_segment(dir: &Path, file: &str, frame: u64) -> (String, String) {
    let out = std::process::Command::new("tshark")
        .current_dir(dir)
        .args([
            "-r",
            file,
            "-Y",
            &format!("frame.number == {frame}"),
            "-T",
            "fields",
            "-e",
            "tcp.seq_raw",
            "-e",
            "tcp.payload",
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.trim().split('\t');
    let seq = fields.next().unwrap_or_default().to_string();
    let payload = fields.next().unwrap_or_default().replace(':', "");
    (seq, payload)
}

fn lines(a: &Value) -> Vec<String> {
    a["server_lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no server_lines: {a:#}"))
        .iter()
        .map(|l| l.as_str().unwrap_or_default().to_string())
        .collect()
}

fn replay_over_tls_ends_in_bad_record_mac(nobody: bool, version: &str) {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        nobody,
        &[
            "--attack",
            "replay",
            "--tls-version",
            version,
            "--write",
            "replay.pcapng",
        ],
    );
    assert_eq!(a["attack"], "replay", "{a:#}");
    assert_eq!(a["alert"]["name"], "bad_record_mac", "{a:#}");
    assert_eq!(
        lines(&a),
        ["hi there"],
        "read once, the copy refused: {a:#}"
    );
    let (before, copy) = (frame(&a, "before_frame"), frame(&a, "replay_frame"));
    assert!(before < copy, "{a:#}");
    // The copy carries the line's old bytes as the next bytes of the stream (tshark's reading).
    let (seq, payload) = tshark_segment(dir.path(), "replay.pcapng", before);
    let (copy_seq, copy_payload) = tshark_segment(dir.path(), "replay.pcapng", copy);
    assert_eq!(copy_payload, payload, "the same bytes");
    let seq: u64 = seq.parse().expect("a number");
    let len = a["tampering"]["payload_len"].as_u64().expect("a length");
    assert_eq!(copy_seq, ((seq + len) % (1 << 32)).to_string());
    assert_eq!(a["tampering"]["replay_seq"].as_u64(), copy_seq.parse().ok());
    assert!(
        a["alert"]["frame"].as_u64().is_some_and(|f| f > copy),
        "the alert answers the copy: {a:#}"
    );
}

fn replay_over_tls13_ends_in_bad_record_mac_as_root() {
    replay_over_tls_ends_in_bad_record_mac(false, "1.3")
}

fn replay_over_tls12_ends_in_bad_record_mac_as_an_ordinary_user() {
    replay_over_tls_ends_in_bad_record_mac(true, "1.2")
}

fn replay_over_plain_tcp_delivers_the_line_twice() {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        true,
        &["--attack", "replay", "--plain", "--write", "replay.pcapng"],
    );
    assert_eq!(lines(&a), ["hi there", "hi there"], "{a:#}");
    assert!(a["alert"].is_null() && a["client_error"].is_null(), "{a:#}");
    assert!(
        a["outcome"].as_str().is_some_and(|o| o.contains("twice")),
        "{a:#}"
    );
    // The client's later segments, renumbered by the attacker, are copies whose sequence
    // number (bytes 4 to 7 above IP) changed in transit.
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &["inspect", "replay.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let renumbered = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|f| !f["copy_of"].is_null())
        .filter(|f| {
            f["hop_check"]["above_ip_changed"]
                .as_array()
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c["offset"].as_u64().is_some_and(|o| (4..8).contains(&o)))
                })
        })
        .count();
    assert!(renumbered > 0, "no renumbered copy found");
}

fn drop_record(nobody: bool, plain: bool) -> Value {
    let dir = shared_dir();
    let mut args = vec!["--attack", "drop-record", "--write", "drop.pcapng"];
    if plain {
        args.push("--plain");
    }
    let a = attack(dir.path(), nobody, &args);
    assert_eq!(a["attack"], "drop-record", "{a:#}");
    assert!(a["after_frame"].is_null(), "removed: {a:#}");
    // The line after the removed one took its place in the stream (tshark's reading of the
    // server's interface).
    let seq = a["tampering"]["seq"].as_u64().expect("seq");
    let out = std::process::Command::new("tshark")
        .current_dir(dir.path())
        .args([
            "-r",
            "drop.pcapng",
            "-Y",
            &format!(
                "tcp.seq_raw == {seq} && tcp.len > 0 && frame.interface_name == \"server-eth0\""
            ),
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
        .expect("tshark runs");
    assert!(
        !String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "no segment took the removed one's place on server-eth0: {a:#}"
    );
    a
}

fn drop_record_over_tls_ends_in_bad_record_mac_as_an_ordinary_user() {
    let a = drop_record(true, false);
    assert_eq!(a["alert"]["name"], "bad_record_mac", "{a:#}");
    assert!(lines(&a).is_empty(), "the server read nothing: {a:#}");
}

fn drop_record_over_plain_tcp_goes_unnoticed() {
    let a = drop_record(false, true);
    assert_eq!(lines(&a), ["next line"], "{a:#}");
    assert!(a["alert"].is_null() && a["client_error"].is_null(), "{a:#}");
}

/// tshark's fields of the frames matching `filter` (the TLS secrets are in the pcapng).
fn tshark_fields(dir: &Path, file: &str, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut args = vec!["-r", file, "-Y", filter, "-T", "fields"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let out = std::process::Command::new("tshark")
        .current_dir(dir)
        .args(&args)
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// tshark's decrypted conversation of TLS stream `stream`, in ASCII.
fn tshark_follow_tls(dir: &Path, file: &str, stream: u64) -> String {
    let out = std::process::Command::new("tshark")
        .current_dir(dir)
        .args([
            "-r",
            file,
            "-q",
            "-z",
            &format!("follow,tls,ascii,{stream}"),
        ])
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn mitm_is_refused_by_a_verifying_client(nobody: bool, version: &str) {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        nobody,
        &[
            "--attack",
            "mitm",
            "--tls-version",
            version,
            "--write",
            "mitm.pcapng",
        ],
    );
    assert_eq!(a["attack"], "mitm", "{a:#}");
    assert!(
        a["refused"]
            .as_str()
            .is_some_and(|r| r.contains("unknown CA")),
        "{a:#}"
    );
    assert_eq!(a["alert"]["name"], "unknown_ca", "{a:#}");
    // TLS 1.3 sends the alert under the handshake keys; TLS 1.2 before any keys, in clear.
    assert_eq!(a["alert"]["encrypted"], version == "1.3", "{a:#}");
    assert_eq!(
        a["connections"].as_array().map(Vec::len),
        Some(1),
        "the attacker never reached the server: {a:#}"
    );
    assert!(a["lines"].as_array().is_some_and(Vec::is_empty), "{a:#}");
    // tshark (with the secrets in the file) reads the same alert, unknown_ca (48), in that frame.
    let frame = frame(&a["alert"], "frame");
    let found = tshark_fields(
        dir.path(),
        "mitm.pcapng",
        "tls.alert_message.desc == 48",
        &["frame.number"],
    );
    assert!(found.contains(&frame.to_string()), "{found:?} vs {a:#}");
}

fn mitm_is_refused_by_a_verifying_client_over_tls13_as_an_ordinary_user() {
    mitm_is_refused_by_a_verifying_client(true, "1.3")
}

fn mitm_is_refused_by_a_verifying_client_over_tls12() {
    mitm_is_refused_by_a_verifying_client(false, "1.2")
}

fn mitm_with_a_trusted_certificate_for_another_name_is_refused_for_the_name() {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        true,
        &["--attack", "mitm-wrong-name", "--write", "name.pcapng"],
    );
    assert_eq!(a["attack"], "mitm-wrong-name", "{a:#}");
    assert!(
        a["refused"]
            .as_str()
            .is_some_and(|r| r.contains("name mismatch") && r.contains("\"localhost\"")),
        "{a:#}"
    );
    assert_eq!(a["alert"]["name"], "bad_certificate", "{a:#}");
    // tshark reads the same alert, bad_certificate (42), and the certificate the attacker
    // showed: issued by packetpath's CA, for attacker.example.
    let frame = frame(&a["alert"], "frame");
    let found = tshark_fields(
        dir.path(),
        "name.pcapng",
        "tls.alert_message.desc == 42",
        &["frame.number"],
    );
    assert!(found.contains(&frame.to_string()), "{found:?} vs {a:#}");
    let names = tshark_fields(
        dir.path(),
        "name.pcapng",
        "tls.handshake.type == 11",
        &[
            "x509ce.dNSName",
            "x509sat.printableString",
            "x509sat.uTF8String",
        ],
    );
    let names = names.join(" ");
    assert!(names.contains("attacker.example"), "{names}");
    assert!(names.contains("packetpath local CA"), "{names}");
}

fn mitm_reads_an_insecure_clients_lines_as_an_ordinary_user() {
    let dir = shared_dir();
    let a = attack(
        dir.path(),
        true,
        &["--attack", "mitm", "--insecure", "--write", "mitm.pcapng"],
    );
    assert!(a["refused"].is_null() && a["alert"].is_null(), "{a:#}");
    let lines = a["lines"].as_array().cloned().unwrap_or_default();
    assert!(
        lines.iter().any(|l| l["to_server"] == true
            && l["read"] == "hi there"
            && l["sent"] == "hi there [changed by the attacker]"),
        "{a:#}"
    );
    // Two connections, two TLS sessions with different randoms (so different keys).
    let conns = a["connections"].as_array().cloned().unwrap_or_default();
    assert_eq!(conns.len(), 2, "{a:#}");
    assert_ne!(conns[0]["client_random"], conns[1]["client_random"]);
    assert!(
        conns.iter().all(|c| c["client_random"].is_string()),
        "{a:#}"
    );
    // tshark finds the two ClientHellos and decrypts each session with its own keys: the
    // client's has the line as written, the attacker's the line as changed.
    let hellos = tshark_fields(
        dir.path(),
        "mitm.pcapng",
        "tls.handshake.type == 1",
        &["tls.handshake.random"],
    );
    let mut randoms: Vec<String> = hellos.iter().map(|r| r.replace(':', "")).collect();
    randoms.sort();
    randoms.dedup();
    assert_eq!(randoms.len(), 2, "{hellos:?}");
    let (first, second) = (
        tshark_follow_tls(dir.path(), "mitm.pcapng", 0),
        tshark_follow_tls(dir.path(), "mitm.pcapng", 1),
    );
    assert!(
        first.contains("hi there") && !first.contains("changed by the attacker"),
        "{first}"
    );
    assert!(
        second.contains("hi there [changed by the attacker]"),
        "{second}"
    );
}

fn mitm_over_plain_tcp_reads_and_changes_lines_unseen() {
    let dir = shared_dir();
    let a = attack(dir.path(), false, &["--attack", "mitm", "--plain"]);
    assert!(a["tls_version"].is_null(), "{a:#}");
    let lines = a["lines"].as_array().cloned().unwrap_or_default();
    // The server's answer quotes the changed line; the attacker hands the client the original.
    assert!(
        lines.iter().any(|l| l["to_server"] == false
            && l["read"]
                .as_str()
                .is_some_and(|r| r.contains("changed by the attacker"))
            && l["sent"] == "server: received \"hi there\""),
        "{a:#}"
    );
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
        test!(
            replay_over_tls13_ends_in_bad_record_mac_as_root,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::Tool("tshark")
        ),
        test!(
            replay_over_tls12_ends_in_bad_record_mac_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(
            replay_over_plain_tcp_delivers_the_line_twice,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser
        ),
        test!(
            drop_record_over_tls_ends_in_bad_record_mac_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(
            drop_record_over_plain_tcp_goes_unnoticed,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::Tool("tshark")
        ),
        test!(
            mitm_is_refused_by_a_verifying_client_over_tls13_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(
            mitm_is_refused_by_a_verifying_client_over_tls12,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::Tool("tshark")
        ),
        test!(
            mitm_with_a_trusted_certificate_for_another_name_is_refused_for_the_name,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(
            mitm_reads_an_insecure_clients_lines_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser,
            Need::Tool("tshark")
        ),
        test!(
            mitm_over_plain_tcp_reads_and_changes_lines_unseen,
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(an_attack_needs_a_path_of_routers),
    ])
}
