//! Benchmark of the whole file pipeline on a large capture of real TLS 1.3 traffic: read a pcapng
//! file, then push every frame into a [`Trace`] holding the session keys, which dissects it, places it
//! in its TCP connection, reassembles the byte stream, cuts TLS records and decrypts them.
//!
//! Run with `cargo bench --bench pipeline` (see BENCHMARKS.md). Besides criterion's figure it prints,
//! once: MB/s, a breakdown by stage, tshark's time on the same file and the ratio, and the peak memory
//! of the pipeline and of `packetpath inspect` in child processes compared with the file size.
//! `PACKETPATH_BENCH_REFERENCE=0` skips those extra measurements.
//!
//! Under `cargo test --benches` (no `--bench` argument) a small capture is used and each benchmark
//! runs once, as a smoke test.

mod capture_gen;
mod reference;

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use packetpath::capture::read_capture_file;
use packetpath::dissect::dissect;
use packetpath::journey::{FrameEntry, RecordEntry};
use packetpath::tls::Keys;

/// Frames in the benchmark capture.
const BENCH_FRAMES: u64 = 200_000;
/// Set to `pipeline` (with the two variables below) to run the pipeline once and exit, or to `read` to
/// only read the file: how the peak memory of the library alone is measured, in a child process.
const CHILD_ENV: &str = "PACKETPATH_BENCH_CHILD";
const CHILD_FILE: &str = "PACKETPATH_BENCH_FILE";
const CHILD_KEYS: &str = "PACKETPATH_BENCH_KEYS";
const GROUP: &str = "pipeline";
const BENCH: &str = "file_to_trace";

fn load_keys(path: &Path) -> Keys {
    let text = std::fs::read_to_string(path).expect("the generated key log reads back");
    let (keys, warnings) = Keys::parse_nss(&text);
    assert!(warnings.is_empty(), "key log warnings: {warnings:?}");
    keys
}

fn main() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        let file = PathBuf::from(std::env::var_os(CHILD_FILE).expect("PACKETPATH_BENCH_FILE"));
        if mode == "read" {
            let capture = read_capture_file(&file).expect("the capture reads back");
            println!("{} frames", capture.frames.len());
        } else {
            let keys = load_keys(Path::new(
                &std::env::var_os(CHILD_KEYS).expect("PACKETPATH_BENCH_KEYS"),
            ));
            let trace = reference::pipeline(&file, Some(&keys));
            println!(
                "{} frames, {} records",
                trace.frames().len(),
                trace.records().len()
            );
        }
        return;
    }
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let capture =
        capture_gen::for_this_run(BENCH_FRAMES).expect("generating the benchmark capture");
    let keys = load_keys(&capture.keylog);
    let criterion_dir = capture_gen::target_dir().join("criterion");
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .output_directory(&criterion_dir)
        .configure_from_args();

    let mut group = criterion.benchmark_group(GROUP);
    // Each iteration takes around a second: one iteration per sample, ten samples.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(capture.frames));
    group.bench_function(BENCH, |b| {
        b.iter_with_large_drop(|| reference::pipeline(&capture.pcapng, Some(&keys)))
    });
    group.finish();
    criterion.final_summary();

    let wanted = std::env::var("PACKETPATH_BENCH_REFERENCE").map_or(true, |v| v != "0");
    if benchmarking && wanted {
        report(&capture, &keys, &criterion_dir);
    }
}

/// Mean time of the criterion benchmark, from its `estimates.json`.
fn criterion_mean(dir: &Path) -> Option<(Duration, Duration, Duration)> {
    let path = dir
        .join(GROUP)
        .join(BENCH)
        .join("new")
        .join("estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let mean = json.get("mean")?;
    let ns = |v: &serde_json::Value| v.as_f64().map(|n| Duration::from_nanos(n as u64));
    Some((
        ns(mean.get("point_estimate")?)?,
        ns(mean.get("confidence_interval")?.get("lower_bound")?)?,
        ns(mean.get("confidence_interval")?.get("upper_bound")?)?,
    ))
}

fn per_s(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The measurements outside criterion, printed as `figure: value` lines for BENCHMARKS.md.
fn report(capture: &capture_gen::Generated, keys: &Keys, criterion_dir: &Path) {
    let frames = capture.frames;
    let size = capture.file_bytes;
    println!();
    println!("== packetpath pipeline reference figures ==");
    println!(
        "capture: {} ({frames} frames, {size} bytes = {:.1} MB, {} TLS secrets in {})",
        capture.pcapng.display(),
        mb(size),
        keys.len(),
        capture.keylog.display()
    );
    let ours = match criterion_mean(criterion_dir) {
        Some((mean, lo, hi)) => {
            println!(
                "pipeline (criterion mean, 95% CI {:.3}..{:.3} s): {:.3} s = {:.0} frames/s, {:.1} MB/s",
                lo.as_secs_f64(),
                hi.as_secs_f64(),
                mean.as_secs_f64(),
                per_s(frames, mean),
                per_s(size, mean) / 1e6
            );
            mean
        }
        None => {
            let best = reference::best_of(3, || reference::pipeline(&capture.pcapng, Some(keys)));
            println!(
                "pipeline (best of 3, criterion estimates not found): {:.3} s = {:.0} frames/s, {:.1} MB/s",
                best.as_secs_f64(),
                per_s(frames, best),
                per_s(size, best) / 1e6
            );
            best
        }
    };

    // Where the time goes (best of 2 each; each stage includes the ones before it).
    let read = reference::best_of(2, || {
        read_capture_file(&capture.pcapng).map(|c| c.frames.len())
    });
    let captured = read_capture_file(&capture.pcapng).expect("capture reads back");
    let dissect_only = reference::best_of(2, || {
        captured
            .frames
            .iter()
            .map(|f| dissect(f.link, &f.data))
            .filter(|p| p.stop.is_some())
            .count()
    });
    drop(captured);
    let no_keys = reference::best_of(2, || reference::pipeline(&capture.pcapng, None));
    let with_keys = reference::best_of(2, || reference::pipeline(&capture.pcapng, Some(keys)));
    for (what, d) in [
        ("stage: read_capture_file", read),
        (
            "stage: dissect every frame (frames already in memory)",
            dissect_only,
        ),
        ("stage: read + Trace without keys (no decryption)", no_keys),
        ("stage: read + Trace with keys (full pipeline)", with_keys),
    ] {
        println!(
            "{what}: {:.3} s = {:.0} frames/s, {:.1} MB/s",
            d.as_secs_f64(),
            per_s(frames, d),
            per_s(size, d) / 1e6
        );
    }

    // tshark on the same file: best wall-clock time of 3 runs.
    match reference::tshark() {
        Some(tshark) => {
            let args = reference::tshark_args(&capture.pcapng, &capture.keylog, None);
            println!("tshark command: tshark {} > /dev/null", args.join(" "));
            let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut best: Option<reference::ChildRun> = None;
            for run in 1..=3 {
                match reference::run_child(tshark, &arg_refs, &[]) {
                    Ok(r) => {
                        println!(
                            "tshark run {run}: {:.2} s, peak RSS {}{}",
                            r.wall.as_secs_f64(),
                            r.max_rss.map_or("?".into(), |b| format!("{:.1} MB", mb(b))),
                            if r.ok { "" } else { " (exit status not 0)" }
                        );
                        if best.is_none_or(|b| r.wall < b.wall) {
                            best = Some(r);
                        }
                    }
                    Err(e) => println!("tshark run {run} failed: {e}"),
                }
            }
            if let Some(b) = best {
                let theirs = per_s(frames, b.wall);
                let ours_fps = per_s(frames, ours);
                println!(
                    "tshark best: {:.2} s = {:.0} frames/s; packetpath/tshark = {:.1}x (target >= 20x: {})",
                    b.wall.as_secs_f64(),
                    theirs,
                    ours_fps / theirs,
                    if ours_fps / theirs >= 20.0 { "met" } else { "MISSED" }
                );
            }
            let small = reference::pipeline_prefix(&capture.pcapng, keys, 5_000);
            match reference::cross_check(tshark, &capture.pcapng, &capture.keylog, &small, 5_000) {
                Ok((compared, differ, app)) => println!(
                    "cross-check with tshark, first {compared} frames: {differ} frames list different TLS records; tshark decrypted {app} application-data records"
                ),
                Err(e) => println!("cross-check with tshark failed: {e}"),
            }
        }
        None => println!("tshark: not installed, no comparison (apt-get install tshark)"),
    }

    // Peak memory in child processes, against the file size.
    let me = std::env::current_exe().expect("the benchmark's own path");
    let file = capture.pcapng.display().to_string();
    let keylog = capture.keylog.display().to_string();
    for (mode, what) in [
        ("read", "read_capture_file only (this benchmark as a child)"),
        (
            "pipeline",
            "library pipeline only (this benchmark as a child)",
        ),
    ] {
        match reference::run_child(
            &me,
            &[],
            &[
                (CHILD_ENV, mode),
                (CHILD_FILE, &file),
                (CHILD_KEYS, &keylog),
            ],
        ) {
            Ok(r) => print_memory(what, r, size),
            Err(e) => println!("peak memory, {what}: child failed: {e}"),
        }
    }
    // What a trace of this file holds, by kind.
    let trace = reference::pipeline(&capture.pcapng, Some(keys));
    let records = trace.records();
    let plaintext: usize = records
        .iter()
        .filter_map(|r| r.info.decrypted.as_ref())
        .map(|p| p.len)
        .sum();
    let frame_entry = std::mem::size_of::<FrameEntry>();
    let record_entry = std::mem::size_of::<RecordEntry>();
    println!(
        "held by the trace: {frames} FrameEntry x {frame_entry} B = {:.1} MB (the Vec's spare \
         capacity comes on top), {} RecordEntry x {record_entry} B = {:.1} MB, decrypted plaintext \
         {:.1} MB (not held: decrypted again when shown), frame bytes (slices of the file buffer) {:.1} MB",
        mb(frames * frame_entry as u64),
        records.len(),
        mb(std::mem::size_of_val(records) as u64),
        mb(plaintext as u64),
        mb(size)
    );
    // What the views pay for keeping no plaintext and no dissection: everything shown again.
    let reopen = reference::best_of(2, || {
        records
            .iter()
            .filter_map(|r| trace.plaintext(r))
            .map(|p| p.len())
            .sum::<usize>()
    });
    let reopened: usize = records.iter().filter_map(|r| trace.plaintext(r)).count();
    println!(
        "on demand: Trace::plaintext for all {reopened} decrypted records: {:.3} s ({:.2} us per record); \
         FrameEntry::packet for every frame: see the dissect stage above",
        reopen.as_secs_f64(),
        reopen.as_secs_f64() * 1e6 / reopened.max(1) as f64
    );
    drop(trace);
    let bin = Path::new(env!("CARGO_BIN_EXE_packetpath"));
    println!(
        "inspect command: /usr/bin/time -v {} inspect {file} --keylog {keylog} --format json > /dev/null",
        bin.display()
    );
    match reference::run_child(
        bin,
        &["inspect", &file, "--keylog", &keylog, "--format", "json"],
        &[],
    ) {
        Ok(r) => print_memory("packetpath inspect --format json", r, size),
        Err(e) => println!("peak memory of inspect: {e}"),
    }
}

fn print_memory(what: &str, r: reference::ChildRun, file_size: u64) {
    match r.max_rss {
        Some(rss) => println!(
            "peak RSS, {what}: {:.1} MB = {:.2}x the file ({:.1} MB) (target <= 2x: {}); wall {:.2} s{}",
            mb(rss),
            rss as f64 / file_size as f64,
            mb(file_size),
            if rss <= 2 * file_size { "met" } else { "MISSED" },
            r.wall.as_secs_f64(),
            if r.ok { "" } else { " (exit status not 0)" }
        ),
        None => println!(
            "peak RSS, {what}: unknown (/usr/bin/time missing: apt-get install time); wall {:.2} s",
            r.wall.as_secs_f64()
        ),
    }
}
