//! Costs of TCP's time series: reading TCP_INFO from a socket (what `transfer` does for each of
//! its two sockets every 10 ms), and computing one connection's series from the wire (SampleRTTs
//! with Karn's rule, the RFC 6298 estimator, acknowledgements, bytes in flight; then the UI's
//! four graphs and a throughput series) on a 1,000,000-frame bulk transfer.
//!
//! Run with `cargo bench --bench timing` (see BENCHMARKS.md). It uses the transfer capture of
//! the UI benchmark (`benches/capture_gen`, `Pattern::Transfer`, cached under the target
//! directory). Besides criterion's figures it prints, once, how long loading took and how many
//! points the series have.
//!
//! `t` in the UI makes the graphs a slice at a time (`GraphsJob`, within `GRAPHS_BUDGET` each turn
//! of the loop): it also prints how many slices that took, the longest (a key must be answered
//! within a 16 ms frame).
//!
//! Under `cargo test --benches` (no `--bench` argument) a small capture is used and each benchmark
//! runs once, as a smoke test.

#[allow(dead_code)] // shared with the other benchmarks; this one uses the transfer capture only
mod capture_gen;

use std::time::{Duration, Instant};

use criterion::Criterion;
use packetpath::chat::{ConnId, Side};
use packetpath::flow::Direction;
use packetpath::journey::timing::{Budget, Series};
use packetpath::journey::Trace;
use packetpath::ui::graphs::GraphsJob;

/// Frames in the benchmark capture.
const BENCH_FRAMES: u64 = 1_000_000;

/// The connection that carried the most bytes.
fn busiest(trace: &Trace) -> (usize, Direction) {
    trace
        .tcp()
        .connections()
        .iter()
        .flat_map(|c| {
            [Direction::ClientToServer, Direction::ServerToClient]
                .map(|d| (c.delivered_len(d), c.index, d))
        })
        .max_by_key(|(bytes, _, _)| *bytes)
        .map(|(_, i, d)| (i, d))
        .expect("the capture has a TCP connection")
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .output_directory(&capture_gen::target_dir().join("criterion"))
        .configure_from_args();

    // One TCP_INFO read of a connected loopback socket.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    let server = listener.local_addr().expect("an address");
    let client = std::net::TcpStream::connect(server).expect("connect on loopback");
    let _accepted = listener.accept().expect("accept");
    let conn = ConnId {
        client: client.local_addr().expect("an address"),
        server,
    };
    let fd = std::os::fd::AsFd::as_fd(&client);
    criterion.bench_function("timing/tcp_info_sample", |b| {
        b.iter(|| packetpath::tcpinfo::sample(fd, conn, Side::Client).expect("TCP_INFO"))
    });

    let capture = capture_gen::for_this_run_pattern(BENCH_FRAMES, capture_gen::Pattern::Transfer)
        .expect("generating the transfer capture");
    let started = Instant::now();
    let (trace, damage) =
        packetpath::capture::open_capture(&capture.pcapng, Some(&capture.keylog), &mut |_, _| {})
            .expect("the transfer capture opens");
    assert!(damage.is_none());
    let loaded = started.elapsed();
    let (stream, dir) = busiest(&trace);
    let started = Instant::now();
    let series = Series::of(&trace, stream, dir);
    let once = started.elapsed();
    println!(
        "timing: {} ({} frames, {:.1} MB) loaded in {:.1} s; connection {stream}: {} data segments, {} ACKs, {} SampleRTTs; Series::of took {:.0} ms once",
        capture.pcapng.display(),
        trace.frames().len(),
        capture.file_bytes as f64 / 1e6,
        loaded.as_secs_f64(),
        series.segments.len(),
        series.acks.len(),
        series.samples.len(),
        once.as_secs_f64() * 1000.0
    );
    criterion.bench_function("timing/series_of", |b| {
        b.iter(|| Series::of(&trace, stream, dir))
    });
    criterion.bench_function("timing/throughput", |b| {
        b.iter(|| series.throughput(100_000_000))
    });
    criterion.bench_function("timing/graphs_open", |b| {
        b.iter(|| packetpath::ui::graphs::Graphs::open(&trace, stream).expect("graphs"))
    });
    // As the run loop makes them after `t`: a slice per turn. Five times; the longest slice.
    let budget = packetpath::ui::model::GRAPHS_BUDGET;
    let (mut slices, mut longest, mut all) = (0, Duration::ZERO, Duration::ZERO);
    for _ in 0..5 {
        let started = Instant::now();
        let mut job = GraphsJob::start(&trace, stream).expect("graphs");
        slices = 0;
        loop {
            let slice = Instant::now();
            let done = job.step(&trace, Budget::Time(budget));
            longest = longest.max(slice.elapsed());
            slices += 1;
            if let Some(graphs) = done {
                graphs.expect("graphs");
                break;
            }
        }
        all = all.max(started.elapsed());
    }
    println!(
        "timing: graphs made in slices of {} ms: {slices} slices, the longest {:.2} ms, {:.0} ms in all (the slowest of 5)",
        budget.as_millis(),
        longest.as_secs_f64() * 1000.0,
        all.as_secs_f64() * 1000.0
    );
    criterion.final_summary();
}
