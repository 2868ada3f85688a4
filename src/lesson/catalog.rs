//! Where lessons come from: those built into the binary (from `lessons/`), a folder of a
//! teacher's own (`--dir`), or a file named directly. Also `check` of several lessons, each in a
//! fresh process because each may need a different lab.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::format::{name_of_file, parse_lesson, Lesson};
use super::LessonError;

/// The lessons that ship with packetpath: (file name, contents).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "01-layers.toml",
        include_str!("../../lessons/01-layers.toml"),
    ),
    (
        "02-tcp-handshake.toml",
        include_str!("../../lessons/02-tcp-handshake.toml"),
    ),
    (
        "03-tls13-handshake.toml",
        include_str!("../../lessons/03-tls13-handshake.toml"),
    ),
    (
        "04-encrypted-vs-plain.toml",
        include_str!("../../lessons/04-encrypted-vs-plain.toml"),
    ),
    (
        "05-byte-stream.toml",
        include_str!("../../lessons/05-byte-stream.toml"),
    ),
    (
        "06-records-vs-segments.toml",
        include_str!("../../lessons/06-records-vs-segments.toml"),
    ),
    (
        "07-many-clients.toml",
        include_str!("../../lessons/07-many-clients.toml"),
    ),
    (
        "08-certificates.toml",
        include_str!("../../lessons/08-certificates.toml"),
    ),
    (
        "09-tls12-vs-tls13.toml",
        include_str!("../../lessons/09-tls12-vs-tls13.toml"),
    ),
    (
        "10-ipv4-vs-ipv6.toml",
        include_str!("../../lessons/10-ipv4-vs-ipv6.toml"),
    ),
    (
        "11-key-log.toml",
        include_str!("../../lessons/11-key-log.toml"),
    ),
    (
        "12-link-layer.toml",
        include_str!("../../lessons/12-link-layer.toml"),
    ),
    (
        "13-loss-and-recovery.toml",
        include_str!("../../lessons/13-loss-and-recovery.toml"),
    ),
    (
        "14-routing-and-ttl.toml",
        include_str!("../../lessons/14-routing-and-ttl.toml"),
    ),
    (
        "15-round-trip-time.toml",
        include_str!("../../lessons/15-round-trip-time.toml"),
    ),
    (
        "16-traceroute.toml",
        include_str!("../../lessons/16-traceroute.toml"),
    ),
    (
        "17-path-mtu.toml",
        include_str!("../../lessons/17-path-mtu.toml"),
    ),
    (
        "18-ip-fragmentation.toml",
        include_str!("../../lessons/18-ip-fragmentation.toml"),
    ),
    (
        "19-ip-identification.toml",
        include_str!("../../lessons/19-ip-identification.toml"),
    ),
    (
        "20-ipv6-header.toml",
        include_str!("../../lessons/20-ipv6-header.toml"),
    ),
    (
        "21-tls-handshake-types.toml",
        include_str!("../../lessons/21-tls-handshake-types.toml"),
    ),
    (
        "22-tcp-acks-and-window.toml",
        include_str!("../../lessons/22-tcp-acks-and-window.toml"),
    ),
    (
        "23-rtt-and-timeout.toml",
        include_str!("../../lessons/23-rtt-and-timeout.toml"),
    ),
    (
        "24-slow-start.toml",
        include_str!("../../lessons/24-slow-start.toml"),
    ),
    (
        "25-flow-control.toml",
        include_str!("../../lessons/25-flow-control.toml"),
    ),
    (
        "26-throughput-and-bottleneck.toml",
        include_str!("../../lessons/26-throughput-and-bottleneck.toml"),
    ),
    (
        "27-errors-and-integrity.toml",
        include_str!("../../lessons/27-errors-and-integrity.toml"),
    ),
    (
        "28-replay-and-removal.toml",
        include_str!("../../lessons/28-replay-and-removal.toml"),
    ),
    (
        "29-man-in-the-middle.toml",
        include_str!("../../lessons/29-man-in-the-middle.toml"),
    ),
];

/// A built-in lesson, parsed.
fn builtin(file: &str, text: &str) -> Result<Lesson, LessonError> {
    let mut lesson = parse_lesson(&format!("lessons/{file}"), text)?;
    lesson.builtin = true;
    Ok(lesson)
}

fn read(path: &Path) -> Result<Lesson, LessonError> {
    let text = std::fs::read_to_string(path).map_err(|reason| LessonError::Io {
        path: path.display().to_string(),
        reason,
    })?;
    Ok(parse_lesson(&path.display().to_string(), &text)?)
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>, LessonError> {
    let entries = std::fs::read_dir(dir).map_err(|reason| LessonError::Io {
        path: dir.display().to_string(),
        reason,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Every lesson: those in `dir` if given, else the built-in ones. A broken file is an error.
pub fn all(dir: Option<&Path>) -> Result<Vec<Lesson>, LessonError> {
    match dir {
        Some(dir) => files_in(dir)?.iter().map(|p| read(p)).collect(),
        None => BUILTIN
            .iter()
            .map(|(file, text)| builtin(file, text))
            .collect(),
    }
}

/// Every lesson that reads, and for each file that does not, why: a teacher's folder with one
/// broken file still lists the others (`lesson list --dir`). The built-in lessons always read.
pub fn all_readable(dir: Option<&Path>) -> Result<(Vec<Lesson>, Vec<LessonError>), LessonError> {
    let Some(dir) = dir else {
        return Ok((all(None)?, Vec::new()));
    };
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for path in files_in(dir)? {
        match read(&path) {
            Ok(lesson) => good.push(lesson),
            Err(e) => bad.push(e),
        }
    }
    Ok((good, bad))
}

/// The names of the lessons available (built in, or in `dir`), in order.
pub fn names(dir: Option<&Path>) -> Vec<String> {
    match dir {
        Some(dir) => files_in(dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| name_of_file(&n.to_string_lossy()))
            .collect(),
        None => BUILTIN.iter().map(|(f, _)| name_of_file(f)).collect(),
    }
}

/// The number a lesson file's name starts with (`02-tcp-handshake.toml`: 2), which `lesson run`
/// and `lesson export` take for the lesson; `None` if it starts with none. `file` may be a path.
pub fn number_of_file(file: &str) -> Option<u32> {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.strip_suffix(".toml")
        .unwrap_or(name)
        .split(['-', '_'])
        .next()
        .and_then(|n| n.parse::<u32>().ok())
}

/// Finds a lesson: a path to a `.toml` file, or a name (`tcp-handshake`), a file stem
/// (`02-tcp-handshake`) or a number (`2`) among the lessons of `dir` or the built-in ones.
pub fn find(name: &str, dir: Option<&Path>) -> Result<Lesson, LessonError> {
    let as_path = Path::new(name);
    if name.ends_with(".toml") || name.contains('/') {
        return read(as_path);
    }
    let matches = |file: &str| {
        let stem = file.strip_suffix(".toml").unwrap_or(file);
        let number = number_of_file(file);
        name_of_file(file) == name
            || stem == name
            || (number.is_some() && number == name.parse::<u32>().ok())
    };
    match dir {
        Some(dir) => {
            for p in files_in(dir)? {
                if p.file_name().is_some_and(|f| matches(&f.to_string_lossy())) {
                    return read(&p);
                }
            }
        }
        None => {
            if let Some((file, text)) = BUILTIN.iter().find(|(f, _)| matches(f)) {
                return builtin(file, text);
            }
        }
    }
    Err(LessonError::NotFound {
        name: name.to_string(),
        available: names(dir).join(", "),
    })
}

/// Checks several lessons, each `repeat` times, each run by running this program again (`lesson
/// check NAME` plus `extra` arguments) so that each enters its own lab with fresh sockets. Prints
/// each child's report as it comes, then a summary naming every failure (and its run). Returns
/// true if all passed.
pub fn check_in_turn(
    names: &[String],
    repeat: usize,
    extra: &[String],
    json: bool,
    out: &mut dyn Write,
) -> Result<bool, LessonError> {
    let exe = std::env::current_exe().map_err(|e| {
        LessonError::Output(format!("cannot find this program to run it again: {e}"))
    })?;
    let mut failures: Vec<String> = Vec::new();
    let started = std::time::Instant::now();
    let io = |e: std::io::Error| LessonError::Output(e.to_string());
    let repeat = repeat.max(1);
    let runs = names
        .iter()
        .flat_map(|name| (1..=repeat).map(move |run| (name, run)));
    for (name, run) in runs {
        if repeat > 1 && !json {
            writeln!(out, "— {name}, run {run} of {repeat}").map_err(io)?;
        }
        let mut child = Command::new(&exe)
            .arg("lesson")
            .arg("check")
            .arg(name)
            .args(extra)
            .args(if json { &["--format", "json"][..] } else { &[] })
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| LessonError::Output(format!("cannot run {}: {e}", exe.display())))?;
        let mut fail_line = None;
        if let Some(stdout) = child.stdout.take() {
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line.map_err(io)?;
                if json {
                    // One JSON object per run: add which run it was.
                    let mut value: serde_json::Value = serde_json::from_str(&line)
                        .unwrap_or_else(|_| serde_json::json!({ "output": line }));
                    if let Some(f) = value.get("failure").and_then(|f| f.as_str()) {
                        fail_line = Some(format!("FAIL {name}: {f}"));
                    }
                    if let Some(obj) = value.as_object_mut() {
                        obj.insert("run".into(), run.into());
                    }
                    writeln!(out, "{value}").map_err(io)?;
                    continue;
                }
                if line.starts_with("FAIL ") {
                    fail_line = Some(line.clone());
                }
                writeln!(out, "{line}").map_err(io)?;
            }
        }
        let status = child.wait().map_err(io)?;
        if !status.success() {
            let line = fail_line.unwrap_or_else(|| {
                format!("FAIL {name}: the check exited with {status} (see the messages above)")
            });
            failures.push(if repeat > 1 {
                format!("{line} (run {run} of {repeat})")
            } else {
                line
            });
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total = names.len() * repeat;
    let lessons = match names.len() {
        1 => "1 lesson".to_string(),
        n => format!("{n} lessons"),
    };
    if json {
        let summary = serde_json::json!({
            "summary": {
                "lessons": names.len(),
                "repeat": repeat,
                "runs": total,
                "passed": total - failures.len(),
                "failed": failures.len(),
                "seconds": (secs * 10.0).round() / 10.0,
                "failures": failures,
            }
        });
        writeln!(out, "{summary}").map_err(io)?;
        return Ok(failures.is_empty());
    }
    let what = if repeat > 1 {
        format!("{lessons} checked {repeat} times each ({total} runs)")
    } else {
        format!("{lessons} checked")
    };
    writeln!(
        out,
        "\n{what} in {secs:.1} s: {} passed, {} failed",
        total - failures.len(),
        failures.len()
    )
    .map_err(io)?;
    for f in &failures {
        writeln!(out, "{f}").map_err(io)?;
    }
    Ok(failures.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_lesson_parses() {
        let lessons = all(None).unwrap();
        assert_eq!(lessons.len(), 29);
        let names: Vec<&str> = lessons.iter().map(|l| l.name.as_str()).collect();
        for l in &lessons {
            assert!(!l.steps.is_empty(), "{}", l.name);
            assert!(l.block.is_some(), "{} belongs to no block", l.name);
            for p in &l.prerequisites {
                let earlier = names.iter().position(|n| n == p);
                let this = names.iter().position(|n| *n == l.name);
                assert!(
                    earlier < this && earlier.is_some(),
                    "{}'s prerequisite {p} is not an earlier lesson",
                    l.name
                );
            }
            assert!(
                l.steps.iter().any(|s| !s.expects.is_empty()),
                "{} checks nothing",
                l.name
            );
            assert!(
                l.steps.iter().any(|s| !s.questions.is_empty()),
                "{} asks nothing",
                l.name
            );
        }
    }

    #[test]
    fn every_built_in_question_has_a_hint_of_its_own() {
        for l in all(None).unwrap() {
            let mut seen = std::collections::HashSet::new();
            for q in l.steps.iter().flat_map(|s| &s.questions) {
                let hint = q.hint.as_deref().unwrap_or_default().trim();
                assert!(
                    !hint.is_empty(),
                    "{} line {}: \"{}\" has no hint",
                    l.name,
                    q.line,
                    q.ask
                );
                assert!(
                    seen.insert(hint.to_string()),
                    "{} line {}: the hint is another question's too",
                    l.name,
                    q.line
                );
            }
        }
    }

    #[test]
    fn lessons_are_found_by_name_stem_or_number() {
        assert_eq!(find("tcp-handshake", None).unwrap().name, "tcp-handshake");
        assert_eq!(
            find("02-tcp-handshake", None).unwrap().name,
            "tcp-handshake"
        );
        assert_eq!(find("2", None).unwrap().name, "tcp-handshake");
        let e = find("nope", None).unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("layers"), "{e}");
    }
}
