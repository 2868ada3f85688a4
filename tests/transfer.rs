//! `packetpath transfer`: a bulk upload in the lab, measured from the wire and from the kernel
//! (TCP_INFO), run as root and as an ordinary user. A cable that holds every frame 20 ms each way
//! has a round trip of 40 ms: the wire's SampleRTTs, the estimator built on them and the
//! kernel's smoothed RTT must all say so; slow start must grow the congestion window; a slow
//! reader must close its window; the samples must survive the pcapng file.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn transfer(dir: &Path, nobody: bool, args: &[&str]) -> Value {
    let mut all = vec!["transfer"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let (code, out, err) = run_as(dir, nobody, &all);
    assert_eq!(code, 0, "{all:?}: {err}\n{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn ms(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN) / 1000.0
}

/// 1 MB through a router whose first link holds every frame 20 ms each way: every byte arrives,
/// the RTTs are 40 ms (plus a few for queueing and delayed ACKs), measured where the sender
/// sends, the kernel agrees with the wire, and cwnd leaves its start.
fn round_trip_times_agree_on_a_delayed_path(nobody: bool) {
    let dir = shared_dir();
    let s = transfer(
        dir.path(),
        nobody,
        &[
            "1M",
            "--link",
            "routers:1",
            "--delay-on",
            "1:20",
            "--write",
            "t.pcapng",
        ],
    );
    assert_eq!(s["wire_rtt"]["interface"], "client-eth0", "{s}");
    assert_eq!(s["wire_rtt"]["at_sender"], true, "{s}");
    assert_eq!(s["bytes_sent"], 1_000_000, "{s}");
    assert_eq!(s["bytes_received"], 1_000_000, "{s}");
    assert_eq!(s["congestion"], "reno", "{s}");
    let wire = &s["wire_rtt"];
    assert!(wire["samples"].as_u64().unwrap_or(0) >= 20, "{s}");
    // No sample can beat the link: 20 ms each way.
    assert!(ms(&wire["min_us"]) >= 40.0, "{s}");
    let median = ms(&wire["median_us"]);
    assert!(
        (40.0..50.0).contains(&median),
        "wire median {median} ms: {s}"
    );
    let estimated = ms(&wire["estimated_us"]);
    assert!(
        (40.0..55.0).contains(&estimated),
        "EstimatedRTT {estimated} ms: {s}"
    );
    let kernel = &s["kernel"];
    // The kernel's srtt at the end: its first samples carry the SYN's round trip, which waited
    // for ARP on the first link, and a 1 MB transfer is over in a few round trips, so a median
    // over it leans on them (seen once at 47 ms against the wire's 41).
    let srtt = ms(&kernel["last_srtt_us"]);
    assert!((40.0..55.0).contains(&srtt), "kernel srtt {srtt} ms: {s}");
    assert!(
        (srtt - median).abs() / median < 0.15,
        "the kernel's {srtt} ms and the wire's {median} ms differ by more than 15%: {s}"
    );
    // Slow start: from the initial window (10 segments, RFC 6928) to several times that.
    let (first, max) = (
        kernel["first_cwnd"].as_u64().unwrap_or(0),
        kernel["max_cwnd"].as_u64().unwrap_or(0),
    );
    assert!(max >= 4 * first.max(10), "cwnd {first} → {max}: {s}");
    // The samples travel in the file, and its frames agree with the run.
    let (trace, damage) =
        packetpath::capture::open_capture(&dir.path().join("t.pcapng"), None, &mut |_, _| {})
            .expect("the written capture opens");
    assert!(damage.is_none());
    assert_eq!(
        trace.tcp_info().len() as u64,
        kernel["samples"].as_u64().unwrap_or(0)
            + trace
                .tcp_info()
                .iter()
                .filter(|t| t.side == packetpath::chat::Side::Server)
                .count() as u64,
        "every sample of both sockets is in the file"
    );
    assert_eq!(
        trace.frames().len() as u64,
        s["frames"].as_u64().unwrap_or(0)
    );
    let series = packetpath::journey::timing::Series::of(
        &trace,
        s["stream"].as_u64().unwrap_or(0) as usize,
        packetpath::flow::Direction::ClientToServer,
    );
    assert_eq!(
        series.samples.len() as u64,
        wire["samples"].as_u64().unwrap_or(0)
    );
    // One segment timed at a time: about one per round trip, far fewer than the samples.
    assert_eq!(series.rtt.len() as u64, wire["timed"].as_u64().unwrap_or(0));
    assert!(!series.rtt.is_empty() && series.rtt.len() < series.samples.len() / 2);
    // `inspect --series` reads the same series and the kernel's samples back from the file.
    let (code, out, err) = run_as(
        dir.path(),
        nobody,
        &["inspect", "t.pcapng", "--series", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let conns: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let c = conns
        .iter()
        .find(|c| c["stream"] == s["stream"])
        .unwrap_or_else(|| panic!("no series of the transfer's stream: {out}"));
    let up = &c["directions"][0];
    assert_eq!(up["from"], "client", "{c}");
    assert_eq!(up["interface"], "client-eth0", "{c}");
    assert_eq!(
        up["samples"].as_array().map(Vec::len),
        Some(series.samples.len())
    );
    assert_eq!(
        up["estimator"].as_array().map(Vec::len),
        Some(series.rtt.len())
    );
    let last = &up["estimator"][series.rtt.len() - 1];
    assert!(
        (ms(&last["estimated_us"]) - estimated).abs() < 0.001,
        "{last} vs {s}"
    );
    assert_eq!(
        c["kernel"].as_array().map(Vec::len),
        Some(trace.tcp_info().len())
    );
    assert!(c["kernel"][0]["snd_cwnd"].as_u64().is_some(), "{c}");
}

fn round_trip_times_agree_on_a_delayed_path_as_root() {
    round_trip_times_agree_on_a_delayed_path(false);
}

fn round_trip_times_agree_on_a_delayed_path_as_an_ordinary_user() {
    round_trip_times_agree_on_a_delayed_path(true);
}

/// A path through a router with a rate: the throughput settles near the bottleneck's rate.
fn throughput_meets_the_bottleneck() {
    let dir = shared_dir();
    let s = transfer(
        dir.path(),
        true,
        &[
            "2M",
            "--plain",
            "--link",
            "routers:1",
            "--rate",
            "4mbit",
            "--delay-on",
            "1:10",
        ],
    );
    let goodput = s["goodput_bps"].as_f64().unwrap_or(0.0) / 1e6;
    // Below the rate (headers, slow start), but not far below it.
    assert!((2.5..4.0).contains(&goodput), "{goodput} Mbit/s: {s}");
    // 10 ms each way on the first link only: 20 ms at least.
    assert!(ms(&s["wire_rtt"]["min_us"]) >= 20.0, "{s}");
}

/// A receiver that reads slowly closes its window: zero windows and window updates on the wire.
fn a_slow_reader_closes_its_window() {
    let dir = shared_dir();
    let s = transfer(
        dir.path(),
        true,
        &[
            "600k",
            "--plain",
            "--slow-reader",
            "--link",
            "wire",
            "--write",
            "s.pcapng",
        ],
    );
    assert_eq!(s["bytes_received"], 600_000, "{s}");
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &["inspect", "s.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let frames: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    let flagged = |k: &str| frames.iter().filter(|f| f["tcp"][k] == true).count();
    assert!(
        flagged("zero_window") > 0,
        "no zero window in {} frames",
        frames.len()
    );
    assert!(flagged("window_update") > 0, "no window update");
}

/// On a cable the capture sits at the receiver's end: the summary says its round trips are not
/// the sender's, and the kernel still gives the real one.
fn a_cable_says_where_it_measured() {
    let dir = shared_dir();
    let (code, out, err) = run_as(
        dir.path(),
        false,
        &["transfer", "200k", "--link", "wire", "--delay", "20"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("captured at the receiver's end"), "{out}");
    let s = transfer(
        dir.path(),
        false,
        &["200k", "--link", "wire", "--delay", "20"],
    );
    assert_eq!(s["wire_rtt"]["at_sender"], false, "{s}");
    assert!(ms(&s["wire_rtt"]["median_us"]) < 20.0, "{s}");
    assert!(ms(&s["kernel"]["last_srtt_us"]) >= 40.0, "{s}");
}

/// A size that is no size, and an algorithm the kernel lacks, are refused with what to do.
fn bad_sizes_and_algorithms_are_refused() {
    let dir = shared_dir();
    let (code, _, err) = run_as(dir.path(), false, &["transfer", "5T"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a unit"), "{err}");
    let (code, _, err) = run_as(
        dir.path(),
        false,
        &[
            "transfer",
            "10k",
            "--link",
            "wire",
            "--congestion",
            "no-such-cc",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no-such-cc") && err.contains("cubic"), "{err}");
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            round_trip_times_agree_on_a_delayed_path_as_root,
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(
            round_trip_times_agree_on_a_delayed_path_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser
        ),
        test!(
            throughput_meets_the_bottleneck,
            Need::Lab,
            Need::LabLink("routers:1"),
            Need::OrdinaryUser
        ),
        test!(
            a_slow_reader_closes_its_window,
            Need::Lab,
            Need::OrdinaryUser
        ),
        test!(a_cable_says_where_it_measured, Need::Lab),
        test!(bad_sizes_and_algorithms_are_refused, Need::Lab),
    ])
}
