//! `packetpath ping` and `packetpath traceroute` in the lab (`--link routers:2`), run as an
//! ordinary user: the hops answer in order, replies are counted, a narrow link answers
//! "fragmentation needed", and the captured ICMP fields agree with tshark's.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

/// Runs packetpath in `dir` as an ordinary user: `nobody` through setpriv when the tests run as
/// root, else the user running them.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_as(dir, true, args)
}

fn json_run(dir: &Path, args: &[&str], expect_code: i32) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(dir, &all);
    assert_eq!(code, expect_code, "{args:?}: {err}\n{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn answers(report: &Value) -> Vec<&Value> {
    report["probes"]
        .as_array()
        .expect("probes")
        .iter()
        .map(|p| &p["answer"])
        .collect()
}

fn traceroute_lists_both_routers_then_the_server() {
    let dir = shared_dir();
    for (probe, last_type, last_says) in [("udp", 3, "port unreachable"), ("icmp", 0, "echo reply")]
    {
        let report = json_run(
            dir.path(),
            &["traceroute", "--link", "routers:2", "--probe", probe],
            0,
        );
        let hops: Vec<(&str, &str, u64)> = answers(&report)
            .iter()
            .map(|a| {
                (
                    a["hop"].as_str().expect("a hop"),
                    a["from"].as_str().expect("an address"),
                    a["icmp_type"].as_u64().expect("a type"),
                )
            })
            .collect();
        // Three probes per TTL (traceroute's default), each answered by the same hop.
        let each_thrice = |hop| [hop, hop, hop];
        assert_eq!(
            hops,
            [
                each_thrice(("r1", "10.73.1.2", 11)),
                each_thrice(("r2", "10.73.2.2", 11)),
                each_thrice(("server", "10.73.3.2", last_type))
            ]
            .concat(),
            "{probe}"
        );
        let probes = report["probes"].as_array().unwrap();
        for (n, p) in probes.iter().enumerate() {
            let i = n / 3;
            assert_eq!(p["ttl"], i as u64 + 1);
            assert_eq!(p["number"], n as u64 + 1, "each probe its own number");
            // The probe's own copies: on every link up to the hop that answered.
            let sent_on: Vec<&str> = p["frames"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["ip"]["src"] == "10.73.1.1")
                .map(|f| f["interface_name"].as_str().unwrap())
                .collect();
            assert_eq!(
                sent_on.len(),
                2 * (i + 1),
                "{probe} ttl {}: {sent_on:?}",
                i + 1
            );
            assert!(p["answer"]["rtt_ms"].as_f64().unwrap() > 0.0);
        }
        assert_eq!(probes[8]["answer"]["says"], last_says);
        // ARP on each link is there too, beside the probes.
        assert!(report["other_frames"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.get("arp").is_some()));
    }
    let (code, text, err) = run(dir.path(), &["traceroute", "--link", "routers:2"]);
    assert_eq!(code, 0, "{err}");
    for line in [
        " 1  r1 (10.73.1.2)  ",
        " 2  r2 (10.73.2.2)  ",
        " 3  server (10.73.3.2)  ",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    assert!(text.contains(" ms  time exceeded\n"), "{text}");
    // One line per TTL with the three round trips, as traceroute prints them.
    let hop1 = text
        .lines()
        .find(|l| l.starts_with(" 1  r1 "))
        .expect("the first hop's line");
    assert_eq!(hop1.matches(" ms").count(), 3, "{hop1}");
    // --queries 1: one probe per TTL.
    let report = json_run(
        dir.path(),
        &["traceroute", "--link", "routers:2", "--queries", "1"],
        0,
    );
    assert_eq!(answers(&report).len(), 3);
}

/// The same path as root (no user namespace): the hops answer in the same order.
fn traceroute_as_root() {
    let dir = shared_dir();
    let (code, text, err) = packetpath(dir.path(), &["traceroute", "--link", "routers:2"]);
    assert_eq!(code, 0, "{err}");
    for line in [
        " 1  r1 (10.73.1.2)  ",
        " 2  r2 (10.73.2.2)  ",
        " 3  server (10.73.3.2)  ",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
}

/// On the wire there is one hop: the server answers the first probe.
fn traceroute_on_the_wire_reaches_the_server_at_once() {
    let dir = shared_dir();
    let report = json_run(dir.path(), &["traceroute", "--link", "wire"], 0);
    let hops: Vec<&str> = answers(&report)
        .iter()
        .map(|a| a["hop"].as_str().unwrap())
        .collect();
    assert_eq!(hops, ["server", "server", "server"]);
    assert_eq!(answers(&report)[0]["from"], "10.73.0.1");
}

/// `--delay 10` on each of routers:1's two links: an echo crosses four delayed links there and
/// back, so its round trip is 40 ms and a little more (the first also waits for ARP on each link).
fn ping_round_trip_shows_the_delay() {
    let dir = shared_dir();
    let report = json_run(
        dir.path(),
        &[
            "ping",
            "--link",
            "routers:1",
            "--delay",
            "10",
            "--count",
            "3",
        ],
        0,
    );
    assert_eq!(report["replies"], 3);
    for a in answers(&report).iter().skip(1) {
        let rtt = a["rtt_ms"].as_f64().unwrap();
        assert!((40.0..80.0).contains(&rtt), "round trip {rtt} ms");
    }
}

fn ping_counts_replies() {
    let dir = shared_dir();
    let report = json_run(
        dir.path(),
        &["ping", "--link", "routers:2", "--count", "4"],
        0,
    );
    assert_eq!(report["replies"], 4);
    for (i, a) in answers(&report).iter().enumerate() {
        assert_eq!(a["hop"], "server", "seq {}", i + 1);
        assert_eq!(a["icmp_type"], 0);
        // The reply crossed two routers on its way back.
        assert_eq!(a["ttl"], 62);
    }
    // Each request and its reply, on all six interfaces.
    for p in report["probes"].as_array().unwrap() {
        assert_eq!(p["frames"].as_array().unwrap().len(), 12, "{p}");
    }
    // Over IPv6: ICMPv6 echo replies, after neighbour discovery, which the capture holds.
    let report = json_run(dir.path(), &["ping", "--link", "routers:2", "--ipv6"], 0);
    assert_eq!(report["replies"], 3);
    for a in answers(&report) {
        assert_eq!(
            (a["hop"].as_str(), a["icmp_type"].as_u64()),
            (Some("server"), Some(129))
        );
        assert_eq!(a["from"], "fd73:0:0:3::2");
    }
    assert!(report["other_frames"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["icmp"]["type"] == 135));
    let (code, text, err) = run(dir.path(), &["ping", "--link", "routers:1", "--count", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("2 sent, 2 answered, 2 by the destination, 0% without reply"),
        "{text}"
    );
}

fn ping_with_df_meets_the_narrow_link() {
    let dir = shared_dir();
    // Links 1 and 3 carry 4000 bytes, so the 2028-byte packet leaves the client whole; link 2
    // carries 576, and r1 answers instead of fragmenting.
    let args = [
        "ping",
        "--size",
        "2000",
        "--df",
        "--count",
        "1",
        "--link",
        "routers:2",
        "--mtu",
        "4000",
        "--mtu-on",
        "2:576",
        "--write",
        "df.pcapng",
    ];
    let report = json_run(dir.path(), &args, 1);
    let a = answers(&report)[0];
    assert_eq!(a["hop"], "r1");
    assert_eq!(a["from"], "10.73.1.2");
    assert_eq!(
        (a["icmp_type"].as_u64(), a["icmp_code"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(a["mtu"], 576);
    assert_eq!(a["says"], "fragmentation needed (next-hop MTU 576)");
    compare_with_tshark(&dir.path().join("df.pcapng"), &report);
    // Without DF r1 fragments it, and the server answers; the probe's frames include every
    // fragment (the second has no ICMP header: it is found by its IP identification).
    let report = json_run(
        dir.path(),
        &[
            "ping",
            "--size",
            "1000",
            "--count",
            "1",
            "--link",
            "routers:2",
            "--mtu-on",
            "2:576",
        ],
        0,
    );
    assert_eq!(answers(&report)[0]["hop"], "server");
    let frames = report["probes"][0]["frames"].as_array().unwrap();
    let later_fragments = frames
        .iter()
        .filter(|f| {
            f["ip"]["fragment"]["offset"]
                .as_u64()
                .is_some_and(|o| o > 0)
        })
        .count();
    // The request's second fragment on links 2 and 3, the reply's on links 2 and 1 (2 ends each).
    assert_eq!(later_fragments, 8, "{frames:?}");
    assert!(
        report["other_frames"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["ip"]["version"] != 4),
        "no IPv4 packet left unclaimed"
    );
    // With DF over a 1500-byte first link the client cannot send it, and says what to do.
    let (code, text, _) = run(
        dir.path(),
        &[
            "ping",
            "--size",
            "2000",
            "--df",
            "--count",
            "1",
            "--link",
            "routers:2",
            "--mtu-on",
            "2:576",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        text.contains("not sent") && text.contains("leave out --df"),
        "{text}"
    );
}

fn traceroute_frames_match_tshark() {
    let dir = shared_dir();
    let report = json_run(
        dir.path(),
        &["traceroute", "--link", "routers:2", "--write", "t.pcapng"],
        0,
    );
    compare_with_tshark(&dir.path().join("t.pcapng"), &report);
}

/// Every ICMP frame of the report's probes against tshark's first `icmp.type`, `icmp.code`,
/// `icmp.mtu` and `ip.ttl` of the same frame number in the written file.
fn compare_with_tshark(file: &Path, report: &Value) {
    if !tool_found("tshark") {
        return;
    }
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"])
        .args(["-e", "frame.number", "-e", "icmp.type", "-e", "icmp.code"])
        .args(["-e", "icmp.mtu", "-e", "ip.ttl"])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let mut compared = 0;
    for p in report["probes"].as_array().unwrap() {
        for f in p["frames"].as_array().unwrap() {
            let n = f["frame"].as_u64().unwrap() as usize;
            let row = &rows[n - 1];
            assert_eq!(row[0], n.to_string());
            let field = |v: &Value| v.as_u64().map(|x| x.to_string()).unwrap_or_default();
            assert_eq!(row[4], field(&f["ip"]["ttl"]), "ip.ttl of frame {n}");
            if let Some(icmp) = f.get("icmp") {
                assert_eq!(row[1], field(&icmp["type"]), "icmp.type of frame {n}");
                assert_eq!(row[2], field(&icmp["code"]), "icmp.code of frame {n}");
                assert_eq!(row[3], field(&icmp["mtu"]), "icmp.mtu of frame {n}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 2, "no ICMP frames compared");
}

fn tool_found(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn options_that_do_not_fit_say_what_to_do() {
    let dir = shared_dir();
    for (args, says) in [
        (&["ping"][..], "--link routers:N"),
        (
            &["traceroute", "--link", "routers:1", "--probe", "tcp"][..],
            "udp or icmp",
        ),
        (
            &["ping", "--ipv6", "--link", "routers:1", "--mtu-on", "2:576"][..],
            "no IPv6 path",
        ),
    ] {
        let (code, _, err) = run(dir.path(), args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// `ping` and `traceroute` as a lesson's actions: their packets are in the lesson's capture.
fn lesson_actions_ping_and_traceroute() {
    let dir = shared_dir();
    let lesson = r#"
title = "Probes"
goal = "ping and traceroute as actions"

[lab]
link = "routers:2"

[[step]]
title = "traceroute"
text = "TTL 1, 2, 3"
actions = ['traceroute --probe icmp']

[[step.expect]]
that = "the first time exceeded comes from r1"
value = 'first(where(packets(), .icmp.type == 11)).ip.src'
equals = "10.73.1.2"

[[step.expect]]
that = "the server answers the last probe"
value = 'first(where(packets(), .icmp.type == 0)).ip.src'
equals = "10.73.3.2"

[[step]]
title = "ping"
text = "four echo requests"
actions = ['ping --count 4']

[[step.expect]]
that = "the last echo request is seq 4"
value = 'max(where(packets(), .icmp.type == 8 and .ip.ttl == 64).icmp.seq)'
equals = 4
"#;
    std::fs::write(dir.path().join("probes.toml"), lesson).unwrap();
    let (code, out, err) = run(dir.path(), &["lesson", "check", "probes.toml"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("✓ the first time exceeded comes from r1"),
        "{out}"
    );
    // On the loopback there is nowhere to go: the lesson is refused before it runs.
    let on_loopback = lesson.replace("link = \"routers:2\"", "link = \"loopback\"");
    std::fs::write(dir.path().join("loop.toml"), on_loopback).unwrap();
    let (code, out, err) = run(dir.path(), &["lesson", "check", "loop.toml"]);
    assert_ne!(code, 0);
    assert!(
        format!("{out}{err}").contains("link = \"routers:2\""),
        "{out}{err}"
    );
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(traceroute_as_root, Need::Root, Need::LabLink("routers:2")),
        test!(
            ping_round_trip_shows_the_delay,
            Need::OrdinaryUser,
            Need::LabLink("routers:1")
        ),
        test!(
            traceroute_on_the_wire_reaches_the_server_at_once,
            Need::OrdinaryUser,
            Need::Lab
        ),
        test!(
            traceroute_lists_both_routers_then_the_server,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            ping_counts_replies,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            ping_with_df_meets_the_narrow_link,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            traceroute_frames_match_tshark,
            Need::OrdinaryUser,
            Need::LabLink("routers:2"),
            Need::Tool("tshark")
        ),
        test!(
            lesson_actions_ping_and_traceroute,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            options_that_do_not_fit_say_what_to_do,
            Need::OrdinaryUser,
            Need::LabLink("routers:1")
        ),
    ])
}
