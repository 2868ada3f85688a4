//! Paths of routers in the lab (`--link routers:N`): hop by hop, as root and as an ordinary user.

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

/// `trace hi --link routers:2`, written to `r.pcapng` in `dir`; returns the trace's text and
/// the file's frames as `inspect --format json` gives them.
fn trace_two_routers(dir: &std::path::Path, nobody: bool) -> (String, Vec<Value>) {
    let (code, text, err) = run_as(
        dir,
        nobody,
        &["trace", "hi", "--link", "routers:2", "--write", "r.pcapng"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run_as(dir, nobody, &["inspect", "r.pcapng", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    (text, frames_of(&out))
}

fn check_ttl_across_two_routers(nobody: bool) {
    let dir = shared_dir();
    let (text, frames) = trace_two_routers(dir.path(), nobody);
    assert!(
        text.contains("through 2 routers: client → r1 → r2 → server"),
        "{text}"
    );
    let by_number = |n: &Value| &frames[n.as_u64().unwrap() as usize - 1];
    // The frame carrying "hi" on the client's link, decrypted once, and its copies.
    let hi = frames
        .iter()
        .find(|f| {
            f["tls"]
                .as_array()
                .is_some_and(|records| records.iter().any(|r| r["decrypted"]["text"] == "hi\n"))
        })
        .expect("the message's frame");
    assert_eq!(
        hi["interface_name"], "client-eth0",
        "the original is the sender's"
    );
    assert!(hi.get("copy_of").is_none());
    let path: Vec<&Value> = hi["path"]
        .as_array()
        .expect("a path")
        .iter()
        .map(by_number)
        .collect();
    let names: Vec<&str> = path
        .iter()
        .map(|f| f["interface_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "client-eth0",
            "r1-eth0",
            "r1-eth1",
            "r2-eth0",
            "r2-eth1",
            "server-eth0"
        ]
    );
    let ttls: Vec<u64> = path
        .iter()
        .map(|f| f["ip"]["ttl"].as_u64().unwrap())
        .collect();
    assert_eq!(ttls, [64, 64, 63, 63, 62, 62], "one less per router");
    for (i, f) in path.iter().enumerate() {
        let link = i / 2 + 1;
        assert_eq!(f["hop"]["link"], link);
        assert_eq!(
            f["link"]["src"],
            format!("02:73:00:00:{link:02x}:01"),
            "MACs of link {link}"
        );
        assert_eq!(f["link"]["dst"], format!("02:73:00:00:{link:02x}:02"));
        assert_eq!(f["ip"]["checksum"], "verified");
        assert_eq!(f["tcp"]["checksum"], "verified");
        assert_eq!(f["ip"]["identification"], hi["ip"]["identification"]);
        if i > 0 {
            assert_eq!(f["copy_of"], hi["frame"]);
            let check = &f["hop_check"];
            assert_eq!(check["routers"], i / 2);
            assert_eq!(check["ttl_as_expected"], true);
            assert_eq!(
                check["above_ip_identical"], true,
                "TCP and TLS bytes unchanged"
            );
            assert_eq!(check["above_ip_len"], 57);
            assert!(f.get("tls").is_none(), "a copy is not parsed again");
        }
    }
    // Every frame of every link is either an original or a copy; none is a retransmission.
    assert!(frames.iter().all(|f| f["tcp"]["retransmission"] != true));
    let copies = frames.iter().filter(|f| f.get("copy_of").is_some()).count();
    let tcp = frames.iter().filter(|f| f.get("tcp").is_some()).count();
    assert_eq!(copies * 6, tcp * 5, "each TCP packet seen on 6 interfaces");
    assert!(text.contains("along the path: #"), "{text}");
    assert!(text.contains("byte-identical ✓"), "{text}");
    assert!(!text.contains('✗'), "{text}");
}

/// The merged pcapng against tshark, frame by frame: interface names, MACs, TTL, IPv4
/// checksum status and identification.
fn pcapng_of_every_link_matches_tshark() {
    let dir = shared_dir();
    let (_, frames) = trace_two_routers(dir.path(), true);
    let out = Command::new("tshark")
        .args([
            "-r",
            "r.pcapng",
            "-o",
            "ip.check_checksum:TRUE",
            "-T",
            "fields",
        ])
        .args([
            "-e",
            "frame.interface_name",
            "-e",
            "eth.src",
            "-e",
            "eth.dst",
        ])
        .args(["-e", "ip.ttl", "-e", "ip.checksum.status", "-e", "ip.id"])
        .args(["-E", "separator=|"])
        .current_dir(dir.path())
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    // tshark lists packetpath's ledger (a custom block, after the last frame) as one more record.
    assert_eq!(rows.len(), frames.len() + 1, "{text}");
    let mut ip_frames = 0;
    for (row, f) in rows.iter().zip(&frames) {
        let n = &f["frame"];
        assert_eq!(row[0], f["interface_name"], "frame {n}");
        assert_eq!(row[1], f["link"]["src"], "frame {n}");
        assert_eq!(row[2], f["link"]["dst"], "frame {n}");
        if f.get("ip").is_none() {
            continue;
        }
        ip_frames += 1;
        assert_eq!(row[3], f["ip"]["ttl"].to_string(), "frame {n}");
        // tshark 4: 1 = good.
        assert_eq!(row[4], "1", "frame {n}: IPv4 checksum verifies");
        assert_eq!(f["ip"]["checksum"], "verified", "frame {n}");
        let id = u64::from_str_radix(row[5].trim_start_matches("0x"), 16).unwrap();
        assert_eq!(f["ip"]["identification"], id, "frame {n}");
    }
    assert!(ip_frames > 30, "{ip_frames} IP frames");
}

fn ttl_drops_by_one_per_router_as_root() {
    check_ttl_across_two_routers(false);
}

fn ttl_drops_by_one_per_router_as_an_ordinary_user() {
    check_ttl_across_two_routers(true);
}

fn narrow_link_and_rate_are_set_up() {
    let dir = shared_dir();
    let text = "z".repeat(3000);
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &[
            "trace",
            &text,
            "--link",
            "routers:1",
            "--mtu-on",
            "2:576",
            "--rate",
            "10mbit",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("MTU 1500/576 per link, 10mbit per link"),
        "{out}"
    );
    // The server's link is the narrow one: the MSS it announces is 576 − 40.
    assert!(out.contains("mss=536"), "{out}");
}

fn options_that_do_not_fit_say_what_to_do() {
    let dir = shared_dir();
    for (args, says) in [
        (
            &["trace", "hi", "--link", "routers:2", "--mtu-on", "4:576"][..],
            "has 3 links",
        ),
        (&["trace", "hi", "--link", "routers:5"][..], "routers:N"),
        (&["trace", "hi", "--rate", "1mbit"][..], "--link routers:N"),
        (
            &["trace", "hi", "--link", "routers:1", "--rate", "fast"][..],
            "1mbit",
        ),
    ] {
        let (code, _, err) = run_as(dir.path(), false, args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

fn doctor_says_whether_routers_work() {
    let dir = shared_dir();
    let (_, out, _) = run_as(dir.path(), true, &["doctor"]);
    assert!(out.contains("[ok] lab with --link routers:2"), "{out}");
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            ttl_drops_by_one_per_router_as_root,
            Need::Root,
            Need::LabLink("routers:2")
        ),
        test!(
            ttl_drops_by_one_per_router_as_an_ordinary_user,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            narrow_link_and_rate_are_set_up,
            Need::OrdinaryUser,
            Need::LabLink("routers:2"),
            Need::Tool("tc")
        ),
        test!(
            pcapng_of_every_link_matches_tshark,
            Need::OrdinaryUser,
            Need::LabLink("routers:2"),
            Need::Tool("tshark")
        ),
        test!(options_that_do_not_fit_say_what_to_do),
        test!(
            doctor_says_whether_routers_work,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
    ])
}
