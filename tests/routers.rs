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
        (
            &["trace", "hi", "--link", "routers:1", "--delay-on", "3:20"][..],
            "has 2 links",
        ),
        (
            &["trace", "hi", "--link", "wire", "--loss-on", "1:5"][..],
            "--link routers:N",
        ),
        (
            &["trace", "hi", "--link", "routers:1", "--loss-on", "1:120"][..],
            "0 to 100",
        ),
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

/// Gaps (ms) between a packet's copies at the two ends of the same link, for every TCP packet of
/// a capture's paths; and the frames by number.
fn link_crossings(frames: &[Value]) -> Vec<(u64, f64)> {
    let by_number = |n: &Value| &frames[n.as_u64().unwrap() as usize - 1];
    let mut gaps = Vec::new();
    for f in frames {
        if f.get("tcp").is_none() || f.get("copy_of").is_some() {
            continue;
        }
        let Some(path) = f["path"].as_array() else {
            continue;
        };
        let copies: Vec<&Value> = path.iter().map(by_number).collect();
        for pair in copies.windows(2) {
            if pair[0]["hop"]["link"] == pair[1]["hop"]["link"] {
                let link = pair[0]["hop"]["link"].as_u64().unwrap();
                let gap = pair[1]["time"].as_f64().unwrap() - pair[0]["time"].as_f64().unwrap();
                gaps.push((link, gap * 1000.0));
            }
        }
    }
    gaps
}

/// `--delay 20` on `routers:2`: every link holds every frame 20 ms each way. Each packet's copy
/// at the far end of a link comes ≈ 20 ms after its copy at the near end; the round trip of
/// the handshake seen at the server (SYN-ACK out, ACK in) is 2 × 20 ms × 3 links.
///
/// Tolerance, measured (6 runs, 342 link crossings, while other builds loaded this 2-core
/// machine): min 20.051 ms, median 20.164, p99 22.64, max 25.0. The forwarding link never
/// releases a frame early (absolute deadlines), so a crossing is never shorter than the delay
/// (50 µs allowed for timestamp rounding); its median stays within 1 ms of it; single frames
/// wait for a busy CPU, so the longest is allowed 15 ms more.
fn check_delay_on_every_link(nobody: bool) {
    let dir = shared_dir();
    let (code, text, err) = run_as(
        dir.path(),
        nobody,
        &[
            "trace",
            "hi",
            "--link",
            "routers:2",
            "--delay",
            "20",
            "--write",
            "d.pcapng",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("20 ms delay each way on every link"),
        "{text}"
    );
    let (code, out, err) = run_as(
        dir.path(),
        nobody,
        &["inspect", "d.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let frames = frames_of(&out);
    // The forwarding namespaces' own ends are not captured: only the six hops' interfaces.
    assert!(frames
        .iter()
        .all(|f| !f["interface_name"].as_str().unwrap().starts_with("fwd-")));
    let mut gaps = link_crossings(&frames);
    assert!(gaps.len() >= 3 * 15, "{} crossings", gaps.len());
    for link in 1..=3 {
        assert!(gaps.iter().any(|(l, _)| *l == link), "link {link} crossed");
    }
    gaps.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (min, median, max) = (gaps[0].1, gaps[gaps.len() / 2].1, gaps[gaps.len() - 1].1);
    eprintln!(
        "{} crossings: min {min:.3} ms, median {median:.3}, max {max:.3}",
        gaps.len()
    );
    assert!(min >= 19.95, "a frame left early: {min} ms");
    assert!(median <= 21.0, "median crossing {median} ms");
    assert!(max <= 35.0, "longest crossing {max} ms");
    // The handshake's round trip at the server: SYN-ACK out, the client's ACK in.
    let at_server = |flags: &[&str]| {
        frames
            .iter()
            .find(|f| {
                f["interface_name"] == "server-eth0"
                    && f["tcp"]["flags"].as_array().is_some_and(|a| {
                        a.iter()
                            .map(|x| x.as_str().unwrap())
                            .eq(flags.iter().copied())
                    })
            })
            .unwrap_or_else(|| panic!("{flags:?} at the server"))["time"]
            .as_f64()
            .unwrap()
    };
    let rtt = (at_server(&["ACK"]) - at_server(&["SYN", "ACK"])) * 1000.0;
    eprintln!("handshake round trip at the server: {rtt:.3} ms (2 × 20 × 3 = 120)");
    assert!((120.0..=135.0).contains(&rtt), "round trip {rtt} ms");
}

fn delay_shows_hop_by_hop_as_root() {
    check_delay_on_every_link(false);
}

fn delay_shows_hop_by_hop_as_an_ordinary_user() {
    check_delay_on_every_link(true);
}

/// `--loss-on 2:15` loses frames on link 2 only (the middle of routers:2's path): copies reach
/// r1-eth1 and not r2-eth0, while link 1 and link 3 lose nothing;
/// `--delay-on 2:10` holds frames on that link alone. TCP recovers and the message arrives.
fn loss_and_delay_on_one_link() {
    let dir = shared_dir();
    let (code, text, err) = run_as(
        dir.path(),
        true,
        &[
            "trace",
            "hi",
            "--link",
            "routers:2",
            "--loss-on",
            "2:15",
            "--delay-on",
            "2:10",
            "--seed",
            "7",
            "--write",
            "l.pcapng",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("delay 0/10/0 ms per link each way, loss 0/15/0% per link each way (seed 7)"),
        "{text}"
    );
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &["inspect", "l.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let frames = frames_of(&out);
    let by_number = |n: &Value| &frames[n.as_u64().unwrap() as usize - 1];
    let (mut lost_on_2, mut lost_elsewhere) = (0, 0);
    // The six captures stop one after another at the end of the trace: the last packets may miss
    // an interface for that reason alone, so they are left out.
    let end = frames
        .iter()
        .filter_map(|f| f["time"].as_f64())
        .fold(f64::MIN, f64::max);
    for f in &frames {
        if f.get("tcp").is_none()
            || f.get("copy_of").is_some()
            || f["time"].as_f64().unwrap() > end - 0.2
        {
            continue;
        }
        let Some(path) = f["path"].as_array() else {
            continue;
        };
        let hops: Vec<&Value> = path.iter().map(by_number).collect();
        // A packet's path ends where it was lost: at the near end of the link that lost it.
        let last = hops[hops.len() - 1];
        if hops.len() < 6 {
            if last["hop"]["link"] == 2 && (hops.len() == 3) {
                lost_on_2 += 1;
            } else {
                eprintln!(
                    "frame {}: path {:?}",
                    f["frame"],
                    hops.iter()
                        .map(|h| &h["interface_name"])
                        .collect::<Vec<_>>()
                );
                lost_elsewhere += 1;
            }
        }
    }
    assert!(lost_on_2 > 0, "15% loss on link 2 lost nothing");
    assert_eq!(lost_elsewhere, 0, "links 1 and 3 lose nothing");
    let gaps = link_crossings(&frames);
    for (link, gap) in &gaps {
        if *link == 2 {
            assert!(*gap >= 9.95, "link 2 holds frames 10 ms: {gap}");
        } else {
            assert!(*gap < 5.0, "link {link} has no delay: {gap}");
        }
    }
}

/// `tshark -T fields` rows of a file in `dir`, split on `|`.
fn tshark_rows(dir: &std::path::Path, file: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-r", file, "-T", "fields", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.current_dir(dir).output().expect("tshark runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// A 4000-byte UDP datagram, "don't fragment" clear, over `--mtu-on 2:576`: the client cuts it
/// into three fragments for link 1 (MTU 1500), r1 cuts each again for link 2, and the server
/// receives all 4000 bytes. The trace lists both sets of fragments (ID, MF, offset in bytes and
/// in 8-byte units, lengths), knows that r1's pieces come from the client's fragments, puts
/// each set together into the 4008-byte UDP packet, and every fragment's fields agree with
/// tshark's (`ip.id`, `ip.flags.mf`, `ip.frag_offset`, `ip.len`).
fn datagram_is_fragmented_by_the_router() {
    let dir = shared_dir();
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &[
            "trace",
            "hi",
            "--link",
            "routers:2",
            "--mtu-on",
            "2:576",
            "--datagram",
            "4000",
            "--format",
            "json",
            "--write",
            "f.pcapng",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(json["datagram"]["sent"], 4000);
    assert_eq!(json["datagram"]["received"], 4000, "{}", json["datagram"]);
    let sets = json["fragmented"].as_array().expect("fragmented");
    let on = |name: &str| {
        sets.iter()
            .find(|s| s["interface_name"] == name)
            .unwrap_or_else(|| panic!("fragments on {name}: {sets:?}"))
    };
    let client = on("client-eth0");
    let r1 = on("r1-eth1");
    assert_eq!(sets.len(), 2, "each set once, its copies not repeated");
    let sizes = |set: &Value| -> Vec<(u64, bool, u64, u64)> {
        set["fragments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["offset"].as_u64().unwrap(),
                    f["more"].as_bool().unwrap(),
                    f["offset_units"].as_u64().unwrap(),
                    f["data_len"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // 4000 B of data + 8 of UDP header: 1480 + 1480 + 1048 on link 1 (MTU 1500).
    assert_eq!(
        sizes(client),
        [
            (0, true, 0, 1480),
            (1480, true, 185, 1480),
            (2960, false, 370, 1048)
        ]
    );
    // On link 2 (MTU 576) each piece holds at most 556 B, cut to a multiple of 8: 552.
    assert_eq!(
        sizes(r1),
        [
            (0, true, 0, 552),
            (552, true, 69, 552),
            (1104, true, 138, 376),
            (1480, true, 185, 552),
            (2032, true, 254, 552),
            (2584, true, 323, 376),
            (2960, true, 370, 552),
            (3512, false, 439, 496)
        ]
    );
    assert!(client["cut_from"].as_array().unwrap().is_empty());
    let client_frames: Vec<&Value> = client["fragments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["frame"])
        .collect();
    let cut_from: Vec<&Value> = r1["cut_from"].as_array().unwrap().iter().collect();
    assert_eq!(
        cut_from, client_frames,
        "r1's pieces come from the client's fragments"
    );
    assert_eq!(r1["cut_by"], "r1");
    for set in [client, r1] {
        assert_eq!(set["reassembled_len"], 4008);
        let ids: Vec<&Value> = set["fragments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["id"])
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "one ID: {ids:?}");
    }
    // Every fragment captured, on every interface, against tshark.
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &["inspect", "f.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let frames = frames_of(&out);
    let rows = tshark_rows(
        dir.path(),
        "f.pcapng",
        &["ip.id", "ip.flags.mf", "ip.frag_offset", "ip.len"],
    );
    let mut fragments = 0;
    for f in &frames {
        let Some(frag) = f["ip"].get("fragment") else {
            continue;
        };
        fragments += 1;
        let n = f["frame"].as_u64().unwrap() as usize;
        let row = &rows[n - 1];
        let id = u64::from_str_radix(row[0].trim_start_matches("0x"), 16).unwrap();
        assert_eq!(frag["id"], id, "frame {n}");
        assert_eq!(
            row[1],
            if frag["more"] == true { "1" } else { "0" },
            "frame {n}"
        );
        assert_eq!(frag["offset_units"].to_string(), row[2], "frame {n}");
        assert_eq!(
            frag["offset"].as_u64().unwrap(),
            8 * row[2].parse::<u64>().unwrap(),
            "frame {n}"
        );
        assert_eq!(f["ip"]["total_len"].to_string(), row[3], "frame {n}");
        assert_eq!(
            frag["data_len"].as_u64().unwrap() + 20,
            row[3].parse::<u64>().unwrap(),
            "frame {n}"
        );
        // r1's pieces, and their copies further on, point back to the link before.
        if f["hop"]["link"].as_u64().unwrap() >= 2 && f.get("copy_of").is_none() {
            assert!(f["ip"].get("piece_of").is_some(), "frame {n}: {f}");
        }
    }
    // 3 on link 1 (twice: both ends), 8 on links 2 and 3 (four interfaces).
    assert_eq!(fragments, 3 * 2 + 8 * 4);
}

/// A long line over `--mtu-on 2:576`: the client's full-sized segments (DF set) meet r1's
/// "fragmentation needed" naming MTU 576, and its next segments fit the narrow link. The story
/// is in the trace's JSON and text, and the ICMP's MTU agrees with tshark's `icmp.mtu`.
fn path_mtu_discovery_is_told() {
    let dir = shared_dir();
    let line = "x".repeat(3000);
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &[
            "trace",
            &line,
            "--link",
            "routers:2",
            "--mtu-on",
            "2:576",
            "--format",
            "json",
            "--write",
            "p.pcapng",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(out.trim()).expect("JSON");
    let stories = json["path_mtu"].as_array().expect("path_mtu");
    let story = stories
        .iter()
        .find(|s| s["router_node"] == "r1")
        .unwrap_or_else(|| panic!("r1 answers the client: {stories:?}"));
    assert_eq!(story["mtu"], 576);
    assert_eq!(story["router"], "10.73.1.2");
    assert_eq!(story["refused_len"], 1500, "a full-sized segment");
    assert!(story["refused"].is_u64());
    let after = story["after"].as_array().unwrap();
    assert!(!after.is_empty(), "{story}");
    assert!(
        after.iter().all(|a| a["ip_len"].as_u64().unwrap() <= 576),
        "the next segments fit: {story}"
    );
    let icmp = story["icmp"].as_u64().unwrap() as usize;
    let rows = tshark_rows(
        dir.path(),
        "p.pcapng",
        &["icmp.type", "icmp.code", "icmp.mtu"],
    );
    assert_eq!(rows[icmp - 1], ["3", "4", "576"], "frame {icmp}");
    let (code, text, err) = run_as(
        dir.path(),
        true,
        &["trace", &line, "--link", "routers:2", "--mtu-on", "2:576"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("path MTU discovery (RFC 1191):"), "{text}");
    assert!(
        text.contains("r1 (10.73.1.2) answers ICMP destination unreachable, fragmentation needed (type 3, code 4), next-hop MTU 576"),
        "{text}"
    );
    assert!(text.contains("then the sender's segments shrink"), "{text}");
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
        test!(
            delay_shows_hop_by_hop_as_root,
            Need::Root,
            Need::LabLink("routers:2")
        ),
        test!(
            delay_shows_hop_by_hop_as_an_ordinary_user,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            loss_and_delay_on_one_link,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            datagram_is_fragmented_by_the_router,
            Need::OrdinaryUser,
            Need::LabLink("routers:2"),
            Need::Tool("tshark")
        ),
        test!(
            path_mtu_discovery_is_told,
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
