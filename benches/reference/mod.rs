//! Figures measured outside criterion, once per run: tshark's time on the same file (the reference
//! the speed target is stated against), peak memory of child processes (`/usr/bin/time -v`), a
//! breakdown of where the pipeline spends its time, and a cross-check that packetpath and tshark
//! see the same TLS records in the same frames.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use packetpath::capture::read_capture_file;
use packetpath::journey::Trace;
use packetpath::tls::Keys;

/// What `/usr/bin/time -v` reported about one child process.
#[derive(Debug, Clone, Copy)]
pub struct ChildRun {
    /// Wall-clock time measured around the child.
    pub wall: Duration,
    /// Peak resident set size in bytes ("Maximum resident set size").
    pub max_rss: Option<u64>,
    /// Whether it exited with status 0.
    pub ok: bool,
}

/// Runs `program args...` under `/usr/bin/time -v` (if present) with stdout to /dev/null.
pub fn run_child(
    program: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> std::io::Result<ChildRun> {
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-v").arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd.output()?;
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let max_rss = stderr.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Maximum resident set size (kbytes):")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    Ok(ChildRun {
        wall,
        max_rss,
        ok: out.status.success(),
    })
}

/// The tshark command of the speed comparison (frame numbers and TLS record content types, decrypted).
pub fn tshark_args(pcapng: &Path, keylog: &Path, count: Option<u64>) -> Vec<String> {
    let mut args = vec![
        "-r".to_string(),
        pcapng.display().to_string(),
        "-o".to_string(),
        format!("tls.keylog_file:{}", keylog.display()),
    ];
    if let Some(n) = count {
        args.extend(["-c".to_string(), n.to_string()]);
    }
    args.extend(
        [
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tls.record.content_type",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    args
}

/// Where tshark is, if installed.
pub fn tshark() -> Option<&'static Path> {
    ["/usr/bin/tshark", "/usr/local/bin/tshark"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
}

/// Runs the whole library pipeline once: read the file, push every frame into a trace.
pub fn pipeline(pcapng: &Path, keys: Option<&Keys>) -> Trace {
    let capture = read_capture_file(pcapng).expect("the generated capture reads back");
    // As `packetpath inspect` does it.
    Trace::from_frames(capture.frames, keys.cloned().unwrap_or_default())
}

/// Best of `runs` timings of `f`.
pub fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = f();
            let took = start.elapsed();
            drop(out);
            took
        })
        .min()
        .unwrap_or_default()
}

/// Per frame, the TLS content types (inner type when decrypted) of the records completed in it, as
/// tshark's `tls.record.content_type` lists them.
fn our_content_types(trace: &Trace, frames: usize) -> Vec<String> {
    trace
        .frames()
        .iter()
        .take(frames)
        .map(|entry| {
            trace
                .records()
                .get(entry.records.clone())
                .unwrap_or_default()
                .iter()
                .map(|r| match &r.info.decrypted {
                    Some(p) => p.content_type.number().to_string(),
                    None => r.info.header.content_type.number().to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// Compares the records per frame of the first `frames` frames with tshark's. Returns
/// (frames compared, frames that differ, decrypted application-data records seen by tshark).
pub fn cross_check(
    tshark: &Path,
    pcapng: &Path,
    keylog: &Path,
    trace: &Trace,
    frames: u64,
) -> std::io::Result<(usize, usize, usize)> {
    let out = Command::new(tshark)
        .args(tshark_args(pcapng, keylog, Some(frames)))
        .stderr(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: Vec<String> = text
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap_or("").trim().to_string())
        .collect();
    let ours = our_content_types(trace, frames as usize);
    let differ = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count()
        + ours.len().abs_diff(theirs.len());
    let app_data = theirs
        .iter()
        .flat_map(|t| t.split(','))
        .filter(|t| *t == "23")
        .count();
    Ok((theirs.len(), differ, app_data))
}

/// The pipeline on the first `frames` frames only (for the cross-check).
pub fn pipeline_prefix(pcapng: &Path, keys: &Keys, frames: usize) -> Trace {
    let capture = read_capture_file(pcapng).expect("the generated capture reads back");
    let mut trace = Trace::with_keys(keys.clone());
    for frame in capture.frames.into_iter().take(frames) {
        trace.push_frame(frame);
    }
    trace
}
