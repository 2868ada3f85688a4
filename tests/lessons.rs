//! Lessons, run as a student or a teacher would: `packetpath lesson list | check | run`, with real
//! sockets and live capture in each lesson's lab.

mod common;

use common::*;

/// A lesson that is right in every way but one: the MSS it expects.
const WRONG_MSS: &str = r#"
title = "A lesson with a mistake"
goal = "Fail, and say why."

[[step]]
title = "The handshake"
text = "alice connects."
actions = ["start server", "connect alice"]

[[step.expect]]
that = "the SYN announces an MSS of 1234 bytes"
value = "syn(alice).tcp.options.mss"
equals = 1234

[[step.question]]
ask = "Which port?"
answer = "syn(alice).tcp.srcport"
"#;

/// The same lesson, expecting the right value.
fn right_mss() -> String {
    WRONG_MSS.replace("1234", "1460")
}

/// Runs every built-in lesson five times (as root, or as `nobody` with `nobody`) and checks
/// that each run passed: a check that holds only on some runs (which FIN goes first) fails here
/// rather than once in a while in class.
fn every_lesson_passes_five_times(nobody: bool) {
    const REPEAT: usize = 5;
    let dir = shared_dir();
    let started = std::time::Instant::now();
    let (code, out, err) = run_as(
        dir.path(),
        nobody,
        &["lesson", "check", "--all", "--repeat", &REPEAT.to_string()],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let lessons = packetpath::lesson::BUILTIN.len();
    let runs = lessons * REPEAT;
    assert!(
        out.contains(&format!(
            "{lessons} lessons checked {REPEAT} times each ({runs} runs)"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("{runs} passed, 0 failed")), "{out}");
    assert!(!out.contains('✗'), "{out}");
    // Every run printed its own verdict.
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        runs,
        "{out}"
    );
    eprintln!(
        "lesson check --all --repeat {REPEAT} took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn every_lesson_passes_five_times_as_root() {
    every_lesson_passes_five_times(false);
}

/// The same as an ordinary user (the lab's user namespace, traceroute's raw ICMP socket in it).
fn every_lesson_passes_five_times_as_an_ordinary_user() {
    every_lesson_passes_five_times(true);
}

fn a_wrong_expectation_fails_naming_the_step_and_the_observed_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wrong.toml"), WRONG_MSS).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["lesson", "check", "wrong.toml"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let fail = out
        .lines()
        .find(|l| l.starts_with("FAIL "))
        .expect("a FAIL line");
    assert!(fail.contains("step 1 \"The handshake\""), "{fail}");
    assert!(
        fail.contains("the SYN announces an MSS of 1234 bytes"),
        "{fail}"
    );
    assert!(
        fail.contains("observed syn(alice).tcp.options.mss = 1460"),
        "{fail}"
    );
    assert!(fail.contains("expected equal to 1234"), "{fail}");
    assert!(err.contains("lesson wrong failed"), "{err}");

    // The same lesson with the right value passes: the check really reads the capture.
    std::fs::write(dir.path().join("wrong.toml"), right_mss()).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["lesson", "check", "wrong.toml"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("✓ the SYN announces an MSS of 1460 bytes"),
        "{out}"
    );
}

fn checking_several_lessons_runs_each_and_names_the_failures() {
    let dir = tempfile::tempdir().unwrap();
    let lessons = dir.path().join("mine");
    std::fs::create_dir(&lessons).unwrap();
    std::fs::write(lessons.join("01-good.toml"), right_mss()).unwrap();
    std::fs::write(lessons.join("02-bad.toml"), WRONG_MSS).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["lesson", "check", "--all", "--dir", "mine"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("PASS good"), "{out}");
    assert!(out.contains("2 lessons checked"), "{out}");
    assert!(out.contains("1 passed, 1 failed"), "{out}");
    let summary = out.rsplit("lessons checked").next().unwrap_or_default();
    assert!(summary.contains("FAIL bad: step 1"), "{out}");
    assert!(summary.contains("= 1460"), "{out}");
}

/// A check whose value is the answer to the step's question does not print it before the
/// question is answered; it does after.
fn a_check_does_not_print_the_answer_before_the_question() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let lesson = right_mss().replace(
        "answer = \"syn(alice).tcp.srcport\"",
        "answer = \"syn(alice).tcp.options.mss\"",
    );
    std::fs::write(dir.path().join("mss.toml"), lesson).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["lesson", "run", "mss.toml", "--plain"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"1460\n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (before, after) = text.split_once("  ? Which port?").unwrap_or_default();
    assert!(
        before.contains("✓ the SYN announces an MSS of 1460 bytes — (its value after your answer)"),
        "{text}"
    );
    assert!(
        !before.contains("= 1460"),
        "the answer before the question: {text}"
    );
    assert!(after.contains("✓ right"), "{text}");
    assert!(
        after.contains("syn(alice).tcp.options.mss = 1460"),
        "shown after: {text}"
    );
}

fn lesson_list_dir_lists_the_good_files_and_names_the_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let lessons = dir.path().join("mine");
    std::fs::create_dir(&lessons).unwrap();
    std::fs::write(lessons.join("01-good.toml"), right_mss()).unwrap();
    let broken = WRONG_MSS.replace("tcp.options.mss", "tcp.options.mms");
    std::fs::write(lessons.join("02-broken.toml"), broken).unwrap();
    std::fs::write(lessons.join("03-also-good.toml"), right_mss()).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["lesson", "list", "--dir", "mine"]);
    assert_eq!(code, 1, "a broken file is not silent: {out}\n{err}");
    assert!(out.contains("good") && out.contains("also-good"), "{out}");
    assert!(out.contains("not loaded (1 of 3)"), "{out}");
    let named = out
        .lines()
        .find(|l| l.starts_with("✗ "))
        .unwrap_or_default();
    assert!(
        named.contains("02-broken.toml") && named.contains("tcp.options.mms"),
        "{out}"
    );
}

fn a_broken_lesson_file_is_refused_with_file_line_and_what() {
    let dir = tempfile::tempdir().unwrap();
    // Line 12: a property that does not exist.
    let broken = WRONG_MSS.replace("tcp.options.mss", "tcp.options.mms");
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let (code, out, err) = packetpath(dir.path(), &["lesson", "check", "broken.toml"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("broken.toml:12:"), "{err}");
    assert!(err.contains("tcp.options.mms"), "{err}");
    assert!(
        err.contains("tcp.options.mss"),
        "the message suggests the right name: {err}"
    );

    // TOML itself broken: a string left open on line 7.
    let broken = WRONG_MSS.replace("text = \"alice connects.\"", "text = \"alice connects.");
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let (code, _, err) = packetpath(dir.path(), &["lesson", "check", "broken.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("broken.toml:7:"), "{err}");

    // Listing a folder with a broken lesson says which file.
    // (`lesson list --dir` names the files that do not read on its standard output, with
    // those that do, and exits 1.)
    let (code, out, err) = packetpath(dir.path(), &["lesson", "list", "--dir", "."]);
    assert_eq!(code, 1);
    assert!(out.contains("broken.toml:7:"), "{out}\n{err}");
}

fn lesson_list_shows_every_lesson_with_its_lab() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = packetpath(dir.path(), &["lesson", "list"]);
    assert_eq!(code, 0, "{err}");
    for name in [
        "layers",
        "tcp-handshake",
        "tls13-handshake",
        "encrypted-vs-plain",
        "byte-stream",
        "records-vs-segments",
        "many-clients",
        "certificates",
        "tls12-vs-tls13",
        "ipv4-vs-ipv6",
        "key-log",
        "link-layer",
        "loss-and-recovery",
    ] {
        // Each under its number, which `lesson run N` takes.
        assert!(
            out.lines().any(|l| {
                let mut words = l.split_whitespace();
                words.next().is_some_and(|n| n.parse::<u32>().is_ok()) && words.next() == Some(name)
            }),
            "{name} missing:\n{out}"
        );
    }
    assert!(out.contains("--link wire"), "{out}");
    assert!(out.contains("5% loss"), "{out}");
    for block in ["━━ IP and link · ", "━━ TCP · ", "━━ TLS · "] {
        assert!(out.contains(block), "{block} missing:\n{out}");
    }
    assert!(out.contains("prerequisites: layers"), "{out}");
    let (code, _, err) = packetpath(dir.path(), &["lesson", "check", "no-such-lesson"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no-such-lesson") && err.contains("tcp-handshake"),
        "{err}"
    );
}

fn lesson_run_steps_through_and_checks_typed_answers() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["lesson", "run", "layers"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Step 1: 94 bytes on the wire; a wrong total length (81), then the right one (80); next.
    // Step 2: 113 bytes for the answer; next. Step 3: the zero MAC, protocol 6; finish.
    let answers = "94\n81\n80\n\n113\n\n00:00:00:00:00:00\n6\n\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("✓ right").count(), 5, "{text}");
    assert_eq!(
        text.matches("✗ not what your capture says").count(),
        1,
        "{text}"
    );
    assert!(text.contains("Step 3/3"), "{text}");
    assert!(text.contains("◎ Look at frame #"), "{text}");
    assert!(text.contains("That was the last step"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("  ✗ ")),
        "every check holds: {text}"
    );
}

/// Runs `lesson run ARGS --plain` in `dir` with `input` typed, and returns its exit code and
/// output.
fn run_lesson_typing(dir: &std::path::Path, args: &[&str], input: &str) -> (i32, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["lesson", "run"])
        .args(args)
        .arg("--plain")
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{text}\n{err}"))
}

/// A student's recorded run is graded back with the same score; `frames` and `show N` answer
/// from the capture without counting as answers; a record whose capture lost a frame, or whose
/// answers were edited, is flagged.
fn a_recorded_run_is_graded_back_with_the_same_score() {
    use packetpath::capture::{read_capture_file, PcapngWriter};
    use packetpath::lesson::record::StudentRecord;
    let dir = tempfile::tempdir().unwrap();
    // Step 1: look at the frames and frame 1, then 94 (right), 81 twice (wrong twice: the
    // answer is shown); step 2: skipped; step 3: "show 99" (no such frame), then the zero MAC
    // (right), 7 then 6 (right on the second try).
    let typed = "frames\nshow 1\n94\n81\n81\n\n\n\nshow 99\n00:00:00:00:00:00\n7\n6\n\n";
    let (code, out) = run_lesson_typing(
        dir.path(),
        &["layers", "--record", "sam.pcapng", "--student", "sam"],
        typed,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("#1 "), "frames lists frame 1: {out}");
    assert!(
        out.contains("    IP\n") && out.contains("      Total length: "),
        "show 1 lists its fields by layer: {out}"
    );
    assert!(out.contains("there is no frame #99"), "{out}");
    assert!(
        out.contains("3 of 5 questions answered right"),
        "the score at the end: {out}"
    );
    assert!(out.contains("score 3/5, as sam"), "{out}");
    let record = dir.path().join("sam.pcapng");
    let (code, out, err) = packetpath(
        dir.path(),
        &["lesson", "grade", "sam.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let graded: serde_json::Value = serde_json::from_str(&out).unwrap();
    let g = &graded[0];
    assert_eq!(g["student"], "sam", "{out}");
    assert_eq!(g["score"]["right"], 3, "{out}");
    assert_eq!(g["score"], g["recorded_score"], "{out}");
    assert_eq!(g["flags"].as_array().map(Vec::len), Some(0), "{out}");
    let outcomes: Vec<&str> = g["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["outcome"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        outcomes,
        ["right", "wrong", "unanswered", "right", "right"],
        "{out}"
    );
    let (code, table, _) = packetpath(dir.path(), &["lesson", "grade", "sam.pcapng"]);
    assert_eq!(code, 0, "{table}");
    assert!(table.contains("sam") && table.contains("3/5"), "{table}");

    // The same record over a capture that lost its first frame: flagged, exit code 1.
    let file = read_capture_file(&record).unwrap();
    let write = |name: &str, frames: &[packetpath::frame::Frame], blocks: &[Vec<u8>]| {
        let out = std::fs::File::create(dir.path().join(name)).unwrap();
        let mut w =
            PcapngWriter::with_interface_names(out, file.frames[0].link, &file.interface_names)
                .unwrap();
        w.write_secrets(&file.keylog).unwrap();
        for f in frames {
            w.write_frame(f).unwrap();
        }
        for b in blocks {
            w.write_custom(32473, b).unwrap();
        }
        w.finish().unwrap();
    };
    let blocks: Vec<Vec<u8>> = file.custom.iter().map(|b| b.data.to_vec()).collect();
    write("swapped.pcapng", &file.frames[1..], &blocks);
    let (code, out, _) = packetpath(dir.path(), &["lesson", "grade", "swapped.pcapng"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FLAGGED") && out.contains("not the one the answers were recorded with"),
        "{out}"
    );

    // The record edited to claim question 1.2 right (its answers stay wrong): flagged.
    let mut edited = file
        .custom
        .iter()
        .find_map(|b| StudentRecord::decode(&b.data))
        .unwrap()
        .unwrap();
    edited.answers[1].outcome = packetpath::lesson::record::Outcome::Right;
    edited.score.right += 1;
    let others: Vec<Vec<u8>> = file
        .custom
        .iter()
        .filter(|b| StudentRecord::decode(&b.data).is_none())
        .map(|b| b.data.to_vec())
        .chain([edited.encode()])
        .collect();
    write("edited.pcapng", &file.frames, &others);
    let (code, out, _) = packetpath(dir.path(), &["lesson", "grade", "edited.pcapng"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("question 1.2: recorded right, but the capture makes it wrong")
            && out.contains("the record claims 4/5, the capture gives 3/5"),
        "{out}"
    );
    // A file with no record is named, not graded.
    let (code, _, err) = packetpath(
        dir.path(),
        &["lesson", "grade", "../captures/none.pcapng", "sam.pcapng"],
    );
    assert_eq!(code, 1, "{err}");
}

/// A prediction is asked before the step's actions run and judged against the capture after;
/// an answer that is none of the choices is asked again; the record grades it back.
fn a_prediction_is_asked_before_the_actions_and_judged_after() {
    let dir = tempfile::tempdir().unwrap();
    let lesson = r#"
title = "Predict, then observe"
goal = "Say what the SYN will announce, then look."

[lab]
mtu = 1500

[[step]]
title = "Connect"
text = "alice connects."
actions = ["start server", "connect alice"]

[[step.question]]
ask = "Which MSS will alice's SYN announce?"
answer = "syn(alice).tcp.options.mss"
choices = ["536", "1460", "65495"]
predict = true
hint = "The MTU minus 40 bytes of IPv4 and TCP headers."

[[step.expect]]
that = "the SYN announces 1460"
value = "syn(alice).tcp.options.mss"
equals = 1460
"#;
    std::fs::write(dir.path().join("predict.toml"), lesson).unwrap();
    let (code, out) = run_lesson_typing(
        dir.path(),
        &["predict.toml", "--record", "p.pcapng", "--student", "kim"],
        "d\nb\n\n",
    );
    assert_eq!(code, 0, "{out}");
    let asked = out.find("Predict, before it happens").expect("asked");
    let ran = out.find("▸ start server").expect("the actions ran");
    assert!(asked < ran, "asked before the actions: {out}");
    assert!(out.contains("that is none of the choices"), "{out}");
    assert!(out.contains("✓ as you predicted"), "{out}");
    assert!(
        !out[..ran].contains("= 1460"),
        "nothing gives the answer away before: {out}"
    );
    let (code, json, err) = packetpath(
        dir.path(),
        &["lesson", "grade", "p.pcapng", "--format", "json"],
    );
    assert_eq!(code, 0, "{json}\n{err}");
    let graded: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(graded[0]["questions"][0]["outcome"], "right", "{json}");
    assert_eq!(graded[0]["questions"][0]["attempts"], 1, "{json}");
}

/// `lesson check --format json`: one object per run with every step's checks and answers, and
/// a summary object after several runs.
fn lesson_check_speaks_json_for_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = packetpath(
        dir.path(),
        &["lesson", "check", "layers", "--format", "json"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let run: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(run["lesson"], "layers", "{out}");
    assert!(run["failure"].is_null(), "{out}");
    assert_eq!(run["results"].as_array().map(Vec::len), Some(3), "{out}");
    assert_eq!(run["results"][0]["checks"][0]["passed"], true, "{out}");
    assert!(
        run["results"][0]["questions"][0]["answer"].is_string(),
        "{out}"
    );
    std::fs::write(dir.path().join("wrong.toml"), WRONG_MSS).unwrap();
    let (code, out, _) = packetpath(
        dir.path(),
        &[
            "lesson",
            "check",
            "wrong.toml",
            "--repeat",
            "2",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[1]["run"], 2, "{out}");
    assert!(
        lines[0]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("1460")),
        "{out}"
    );
    assert_eq!(lines[2]["summary"]["failed"], 2, "{out}");
}

/// The query language on a saved capture (no privileges needed): alice and bob chatting over
/// TLS 1.3 in `captures/tls13-chat.pcapng`, with its secrets and application events.
fn queries_read_a_saved_capture() {
    use packetpath::journey::{ledger, Trace};
    use packetpath::lesson::query::{Context, Query, TypeEnv};
    use packetpath::lesson::value::Value;
    use packetpath::lesson::LessonState;

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/tls13-chat.pcapng");
    let capture = packetpath::capture::read_capture_file(&path).unwrap();
    let (keys, _) = packetpath::tls::Keys::parse_nss(&capture.keylog);
    let mut trace = Trace::with_keys(keys);
    for block in capture
        .custom
        .iter()
        .filter(|b| b.pen == ledger::LEDGER_PEN)
    {
        for event in ledger::decode(&block.data).0 {
            trace.add_app_event(event);
        }
    }
    for frame in capture.frames {
        trace.push_frame(frame);
    }
    // alice connected first, then bob.
    let mut state = LessonState::default();
    for (name, c) in ["alice", "bob"].iter().zip(trace.tcp().connections()) {
        let conn = packetpath::chat::ConnId {
            client: c.client,
            server: c.server,
        };
        state.clients.insert(name.to_string(), conn);
    }
    let env = TypeEnv {
        clients: vec!["alice".into(), "bob".into()],
        item: None,
    };
    let ctx = Context::new(&trace, &state);
    let eval = |q: &str| ctx.eval_query(&Query::parse(q, &env).unwrap());
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(eval("syn(alice).tcp.flags"), text("SYN"));
    assert_eq!(eval("syn(alice).tcp.options.mss"), Value::Num(1460));
    assert_eq!(
        eval("synack(alice).tcp.ack_raw - syn(alice).tcp.seq_raw"),
        Value::Num(1)
    );
    assert_eq!(eval("conn(alice).tls.version"), text("TLS 1.3"));
    assert_eq!(
        eval(r#"record(alice, "ClientHello").content_type"#),
        Value::Num(22)
    );
    assert_eq!(
        eval(r#"record(alice, "Certificate").encrypted"#),
        Value::Bool(true)
    );
    assert_eq!(eval("message(alice, 1).text"), text("hi bob"));
    assert_eq!(
        eval("first(message(alice, 1).records).plaintext"),
        text("hi bob\n")
    );
    assert_eq!(
        eval("message(alice, 1).tls_bytes - message(alice, 1).app_bytes"),
        Value::Num(22)
    );
    assert_eq!(eval("relay(bob, 1).text"), text("alice: hi bob"));
    assert_eq!(eval("conn(alice).tls.round_trips"), Value::Num(1));
    assert_eq!(
        eval(r#"appears(conn(alice), "hi bob")"#),
        Value::Bool(false)
    );
    assert_eq!(eval("count(distinct(conns().server_port))"), Value::Num(1));
    assert_eq!(
        eval("without_keys(count(where(records(alice), .decrypted)))"),
        Value::Num(0)
    );
    assert!(matches!(eval("count(where(records(alice), .decrypted))"), Value::Num(n) if n > 3));
    // What cannot be measured says why.
    match eval("message(alice, 9).text") {
        Value::Missing(why) => assert!(why.contains("line 9"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// The whole example lesson in lessons/README.md (the one a teacher copies first) passes, run
/// after run: its checks must not depend on which side's FIN happens to go first.
fn the_teachers_readme_example_lesson_passes_every_time() {
    let readme = include_str!("../lessons/README.md");
    let example = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("title = \"Who closes first?\""))
        .expect("the README still shows the example lesson");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/01-who-closes.toml"), example).unwrap();
    for run in 1..=5 {
        let (code, out, err) =
            packetpath(dir.path(), &["lesson", "check", "mine/01-who-closes.toml"]);
        assert_eq!(code, 0, "run {run}:\n{out}\n{err}");
    }
}

/// The fragment properties on a saved capture (no privileges needed):
/// `captures/routers-fragments.pcapng`, one 2,000-byte ping through two routers whose middle link
/// has MTU 576. The client sends the request in 2 fragments (#5, #27); r1 cuts #5 into #11, #13,
/// #15 and forwards #27 whole as #29, so the request crosses link 2 in 4 pieces, which r2-eth0
/// sees as #12, #14, #16, #30.
fn queries_read_a_fragmented_ping() {
    use packetpath::lesson::query::{Context, Query, TypeEnv};
    use packetpath::lesson::value::Value;
    use packetpath::lesson::LessonState;

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/routers-fragments.pcapng");
    let (trace, damage) = packetpath::capture::open_capture(&path, None, &mut |_, _| {}).unwrap();
    assert!(damage.is_none());
    let state = LessonState::default();
    let env = TypeEnv {
        clients: vec![],
        item: None,
    };
    let ctx = Context::new(&trace, &state);
    let eval = |q: &str| ctx.eval_query(&Query::parse(q, &env).unwrap());
    let frames = |v: &[u32]| Value::List(v.iter().map(|n| Value::Packet(*n)).collect());
    let nums = |v: &[i64]| Value::List(v.iter().map(|n| Value::Num(*n)).collect());
    assert_eq!(eval("nth(packets(), 5).ip.fragments"), frames(&[5, 27]));
    assert_eq!(eval("nth(packets(), 5).ip.mf"), Value::Bool(true));
    assert_eq!(eval("nth(packets(), 27).ip.mf"), Value::Bool(false));
    assert_eq!(
        eval("nth(packets(), 27).ip.frag_offset"),
        Value::Num(185),
        "in 8-byte units, as Wireshark's ip.frag_offset"
    );
    assert_eq!(
        eval("nth(packets(), 5).ip.reassembled_in"),
        Value::Packet(27)
    );
    // On the narrow link, the forwarded fragment is one of the pieces of the packet there.
    assert_eq!(
        eval("nth(packets(), 11).ip.fragments"),
        frames(&[11, 13, 15, 29])
    );
    assert_eq!(
        eval("nth(packets(), 11).ip.fragments.ip.frag_offset"),
        nums(&[0, 69, 138, 185])
    );
    assert_eq!(
        eval("nth(packets(), 13).ip.reassembled_in"),
        Value::Packet(29)
    );
    assert_eq!(eval("nth(packets(), 13).ip.cut_from"), Value::Packet(5));
    assert!(matches!(
        eval("nth(packets(), 29).ip.cut_from"),
        Value::Missing(_)
    ));
    // The far end of the link: the copies of the same pieces.
    assert_eq!(
        eval("nth(packets(), 12).ip.fragments"),
        frames(&[12, 14, 16, 30])
    );
    assert_eq!(
        eval("nth(packets(), 14).ip.reassembled_in"),
        Value::Packet(30)
    );
    // An unfragmented packet has none, and says why.
    assert!(matches!(
        eval("first(where(packets(), .arp)).ip.fragments"),
        Value::Missing(_)
    ));
    // Wireshark's names filter the timeline too (tshark -Y picks the same frames).
    use packetpath::lesson::filter::{DisplayFilter, Tester};
    let parsed =
        DisplayFilter::parse("ip.flags.mf == 0 && ip.frag_offset == 185 && ip.id == 0x2f4d")
            .unwrap()
            .expect("not empty");
    let tester = Tester::new(&trace, &state, false);
    let picked: Vec<u32> = trace
        .frames()
        .iter()
        .map(|f| f.number)
        .filter(|&n| parsed.matches_frame(&tester, n))
        .collect();
    assert_eq!(picked, vec![27, 28, 29, 30, 31, 32]);
}

/// The path properties on a saved capture of a path of routers (no privileges needed):
/// `captures/routers-chat.pcapng`, alice's "hi bob" through two routers.
fn queries_read_a_routers_capture() {
    use packetpath::lesson::query::{Context, Query, TypeEnv};
    use packetpath::lesson::value::Value;
    use packetpath::lesson::LessonState;

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/routers-chat.pcapng");
    let (trace, damage) = packetpath::capture::open_capture(&path, None, &mut |_, _| {}).unwrap();
    assert!(damage.is_none());
    let mut state = LessonState::default();
    let c = &trace.tcp().connections()[0];
    state.clients.insert(
        "alice".into(),
        packetpath::chat::ConnId {
            client: c.client,
            server: c.server,
        },
    );
    let env = TypeEnv {
        clients: vec!["alice".into()],
        item: None,
    };
    let ctx = Context::new(&trace, &state);
    let eval = |q: &str| ctx.eval_query(&Query::parse(q, &env).unwrap());
    let text = |s: &str| Value::Text(s.into());
    let nums = |v: &[i64]| Value::List(v.iter().map(|n| Value::Num(*n)).collect());
    assert_eq!(eval("count(syn(alice).path)"), Value::Num(6));
    assert_eq!(
        eval("syn(alice).path.ip.ttl"),
        nums(&[64, 64, 63, 63, 62, 62])
    );
    assert_eq!(
        eval("syn(alice).path.hop.position"),
        nums(&[0, 1, 2, 3, 4, 5])
    );
    assert_eq!(eval("syn(alice).path.hop.link"), nums(&[1, 1, 2, 2, 3, 3]));
    assert_eq!(
        eval("first(syn(alice).path).frame.interface_name"),
        text("client-eth0")
    );
    assert_eq!(eval("last(syn(alice).path).hop.node"), text("server"));
    assert_eq!(
        eval("count(distinct(syn(alice).path.ip.checksum_value))"),
        Value::Num(3)
    );
    assert_eq!(
        eval("count(distinct(syn(alice).path.above_ip))"),
        Value::Num(1)
    );
    assert_eq!(
        eval("last(syn(alice).path).copy_of.frame.number == syn(alice).frame.number"),
        Value::Bool(true)
    );
    // The original is no copy, and says why.
    assert!(matches!(eval("syn(alice).copy_of"), Value::Missing(_)));
    // The same properties filter the timeline.
    assert_eq!(
        eval("count(where(packets(), .hop.node == \"r1\" and .tcp.flags.syn))"),
        Value::Num(4),
        "the SYN and the SYN-ACK, each on r1-eth0 and r1-eth1"
    );
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            every_lesson_passes_five_times_as_root,
            Need::Lab,
            Need::LabLink("routers:2")
        ),
        test!(
            every_lesson_passes_five_times_as_an_ordinary_user,
            Need::Lab,
            Need::LabLink("routers:2"),
            Need::OrdinaryUser
        ),
        test!(queries_read_a_routers_capture),
        test!(queries_read_a_fragmented_ping),
        test!(
            a_wrong_expectation_fails_naming_the_step_and_the_observed_value,
            Need::Lab
        ),
        test!(
            checking_several_lessons_runs_each_and_names_the_failures,
            Need::Lab
        ),
        test!(a_broken_lesson_file_is_refused_with_file_line_and_what),
        test!(lesson_list_shows_every_lesson_with_its_lab),
        test!(lesson_list_dir_lists_the_good_files_and_names_the_bad_ones),
        test!(
            a_check_does_not_print_the_answer_before_the_question,
            Need::Lab
        ),
        test!(lesson_run_steps_through_and_checks_typed_answers, Need::Lab),
        test!(a_recorded_run_is_graded_back_with_the_same_score, Need::Lab),
        test!(lesson_check_speaks_json_for_scripts, Need::Lab),
        test!(
            a_prediction_is_asked_before_the_actions_and_judged_after,
            Need::Lab
        ),
        test!(queries_read_a_saved_capture),
        test!(
            the_teachers_readme_example_lesson_passes_every_time,
            Need::Lab
        ),
    ])
}
