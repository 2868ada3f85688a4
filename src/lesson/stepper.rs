//! `packetpath lesson run NAME` in a plain terminal: one step at a time, line by line. Enter or
//! `n` goes forward, `p` back, `r` checks again, `q` quits. Each step shows its text, runs its
//! actions (once), shows the focused field with its value from the capture, each expectation
//! ✓/✗ with what was observed, and asks its questions, checking the typed answer against the
//! student's own capture.

use std::io::{BufRead, Write};

use super::checks::Verdict;
use super::runner::{LessonRun, RunOptions};
use super::LessonError;

fn out_err(e: std::io::Error) -> LessonError {
    LessonError::Output(e.to_string())
}

fn read_line(input: &mut dyn BufRead) -> Result<Option<String>, LessonError> {
    let mut line = String::new();
    match input.read_line(&mut line).map_err(out_err)? {
        0 => Ok(None),
        _ => Ok(Some(line.trim().to_string())),
    }
}

/// What the student types to look at the capture instead of answering (plain mode has no
/// layer columns): `frames` lists every frame, `show N` shows frame N's fields layer by layer.
const LOOK_HELP: &str =
    "type `frames` to list the captured frames, or `show N` to see frame N's fields";

/// Answers a `frames` or `show N` typed at a prompt; `None` if `typed` is neither.
pub fn look_at_capture(trace: &crate::journey::Trace, typed: &str) -> Option<String> {
    let t = typed.trim().to_lowercase();
    let indent = |text: &str, out: &mut String| {
        for line in text.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
    };
    if t == "frames" {
        let Some(first) = trace.frames().first() else {
            return Some("    (nothing captured yet)\n".into());
        };
        let t0 = first.frame.at;
        let app = crate::report::app_events_by_frame(trace);
        let mut out = String::new();
        for entry in trace.frames() {
            let events = app.get(&entry.number).map(Vec::as_slice).unwrap_or(&[]);
            indent(
                &crate::report::frame_text(trace, entry, events, t0),
                &mut out,
            );
        }
        return Some(out);
    }
    let n = t.strip_prefix("show")?.trim().trim_start_matches('#');
    let Ok(number) = n.parse::<u32>() else {
        return Some("    show which frame? e.g. `show 3` (`frames` lists them)\n".into());
    };
    let Some(entry) = trace.frame(number) else {
        return Some(format!(
            "    there is no frame #{number}: this capture has frames #1 to #{}\n",
            trace.frames().len()
        ));
    };
    let packet = entry.packet();
    let t0 = trace
        .frames()
        .first()
        .map_or(entry.frame.at, |f| f.frame.at);
    let mut out = String::new();
    indent(&crate::report::frame_text(trace, entry, &[], t0), &mut out);
    for layer in packet.layers() {
        out.push_str(&format!("    {}\n", layer.name()));
        for field in packet.fields(layer, &entry.frame.data) {
            out.push_str(&format!(
                "      {}: {}\n",
                field.name,
                super::value::shorten(&field.value, 100)
            ));
        }
    }
    Some(out)
}

/// Prompts and reads one line, answering `frames` and `show N` (and prompting again) until the
/// student types something else; `None` at the end of the input.
fn prompt_for(
    run: &mut LessonRun,
    prompt: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Option<String>, LessonError> {
    loop {
        write!(out, "{prompt}").map_err(out_err)?;
        out.flush().map_err(out_err)?;
        let Some(typed) = read_line(input)? else {
            return Ok(None);
        };
        run.session_mut().poll();
        match look_at_capture(run.session().trace(), &typed) {
            Some(shown) => write!(out, "{shown}").map_err(out_err)?,
            None => return Ok(Some(typed)),
        }
    }
}

/// Reflows a lesson text to `width` columns, indented by `indent`: lines of one paragraph are
/// joined, a blank line separates paragraphs, and list items (`- `, `1. `) start their own line
/// with a hanging indent.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    // Gather the blocks: (first-line prefix, words).
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            blocks.push((String::new(), String::new()));
            open = false;
            continue;
        }
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        let item = if t.starts_with("- ") {
            Some(2)
        } else if digits > 0 && t.get(digits..digits + 2) == Some(". ") {
            Some(digits + 2)
        } else {
            None
        };
        match (item, blocks.last_mut()) {
            (None, Some((_, words))) if open => {
                words.push(' ');
                words.push_str(t);
            }
            (Some(n), _) => {
                blocks.push((
                    t.get(..n).unwrap_or_default().to_string(),
                    t.get(n..).unwrap_or_default().to_string(),
                ));
                open = true;
            }
            (None, _) => {
                blocks.push((String::new(), t.to_string()));
                open = true;
            }
        }
    }
    let mut out = String::new();
    for (prefix, words) in blocks {
        let hang = " ".repeat(prefix.chars().count());
        let mut line = prefix.clone();
        let mut empty = true;
        for word in words.split_whitespace() {
            if !empty && line.chars().count() + 1 + word.chars().count() > width {
                out.push_str(indent);
                out.push_str(&line);
                out.push('\n');
                line = hang.clone();
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(word);
            empty = false;
        }
        out.push_str(indent);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Runs a lesson interactively on `input`/`out`, for `student` (named in the record it returns).
/// `block_on` runs a future on the async runtime (the lab is already entered and the runtime
/// built by `main`).
pub fn run_interactive(
    rt: &tokio::runtime::Runtime,
    lesson: super::format::Lesson,
    options: &RunOptions,
    student: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Finished, LessonError> {
    let mut run = rt.block_on(LessonRun::start(lesson, options))?;
    let total = run.lesson().steps.len();
    {
        let l = run.lesson();
        writeln!(
            out,
            "\n{}\n{}",
            l.title,
            "═".repeat(l.title.chars().count())
        )
        .map_err(out_err)?;
        write!(out, "{}", wrap(&l.goal, 76, "")).map_err(out_err)?;
        if !l.prerequisites.is_empty() {
            writeln!(out, "Before this lesson: {}", l.prerequisites.join(", ")).map_err(out_err)?;
        }
        writeln!(out, "Running on {}.", options.lab.describe()).map_err(out_err)?;
        writeln!(
            out,
            "Keys: Enter or n = next step · p = previous · r = check again · q = quit\n\
             At any prompt, {LOOK_HELP}."
        )
        .map_err(out_err)?;
    }
    let mut answered: Vec<Vec<bool>> = run
        .lesson()
        .steps
        .iter()
        .map(|s| vec![false; s.questions.len()])
        .collect();
    let mut i = 0usize;
    while let Some(step) = run.lesson().steps.get(i).cloned() {
        writeln!(out, "\n── Step {}/{total}: {} ──", i + 1, step.title).map_err(out_err)?;
        write!(out, "{}", wrap(&step.text, 76, "  ")).map_err(out_err)?;
        // Predictions are asked before the step's actions run, and judged once they have.
        let mut predictions: Vec<Option<String>> = vec![None; step.questions.len()];
        if i >= run.steps_done() {
            for (qi, q) in step.questions.iter().enumerate().filter(|(_, q)| q.predict) {
                loop {
                    let prompt = format!(
                        "  ? Predict, before it happens: {}\n    your prediction (Enter to skip): ",
                        q.ask_text()
                    );
                    let Some(typed) = prompt_for(&mut run, &prompt, input, out)? else {
                        return finish(rt, run, student, out);
                    };
                    if !typed.is_empty() && !q.takes(&typed) {
                        writeln!(
                            out,
                            "    that is none of the choices: type a letter or a choice's words"
                        )
                        .map_err(out_err)?;
                        continue;
                    }
                    if let Some(p) = predictions.get_mut(qi) {
                        *p = Some(typed).filter(|t| !t.is_empty());
                    }
                    break;
                }
            }
            let mut shown: Vec<String> = Vec::new();
            let result = rt.block_on(run.run_through(i, &mut |action, note| {
                if let Some(note) = note {
                    shown.push(if note.is_empty() {
                        format!("  ▸ {action}")
                    } else {
                        format!("  ▸ {action}   ({note})")
                    });
                }
            }));
            for s in shown {
                writeln!(out, "{s}").map_err(out_err)?;
            }
            if let Err(failure) = result {
                writeln!(out, "  ✗ {failure}\nThe lesson cannot go on from here.")
                    .map_err(out_err)?;
                break;
            }
        } else if !step.actions.is_empty() {
            writeln!(
                out,
                "  (its actions already ran: {})",
                step.actions
                    .iter()
                    .map(|a| a.source.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            .map_err(out_err)?;
        }
        let report = run.report(i);
        match &report.focus {
            Some(Ok(f)) => {
                writeln!(
                    out,
                    "  ◎ Look at frame #{}, {} layer, {}: {}",
                    f.frame,
                    f.layer.name(),
                    f.field,
                    f.value
                )
                .map_err(out_err)?;
                write!(out, "{}", wrap(&f.meaning, 72, "      ")).map_err(out_err)?;
            }
            Some(Err(why)) => {
                writeln!(out, "  ◎ (the focus cannot be shown: {why})").map_err(out_err)?
            }
            None => {}
        }
        // A check's value that is the answer to a question still open waits for the answer.
        let open: Vec<&str> = report
            .answers
            .iter()
            .enumerate()
            .filter(|(qi, _)| {
                !answered
                    .get(i)
                    .and_then(|a| a.get(*qi))
                    .copied()
                    .unwrap_or(false)
            })
            .filter_map(|(_, a)| a.as_deref().ok())
            .collect();
        let mut withheld = Vec::new();
        for c in &report.checks {
            writeln!(out, "  {}", c.line_for_student(&open)).map_err(out_err)?;
            if c.passed && c.gives_away(&open) {
                withheld.push(c);
            }
        }
        for (qi, q) in step.questions.iter().enumerate() {
            // What this capture answers (empty if it cannot be measured).
            let answer = report
                .answers
                .get(qi)
                .and_then(|a| a.as_ref().ok())
                .cloned()
                .unwrap_or_default();
            let done = answered
                .get(i)
                .and_then(|a| a.get(qi))
                .copied()
                .unwrap_or(false);
            if done {
                writeln!(out, "  ? {}  ✓ {answer}", q.ask_text()).map_err(out_err)?;
                continue;
            }
            if let Some(predicted) = predictions.get(qi).cloned().flatten() {
                writeln!(out, "  ? {}  (you predicted: {predicted})", q.ask_text())
                    .map_err(out_err)?;
                match run.judge(i, qi, &predicted) {
                    Verdict::Right => {
                        writeln!(out, "    ✓ as you predicted: your capture says so too.")
                            .map_err(out_err)?;
                        if let Some(a) = answered.get_mut(i).and_then(|a| a.get_mut(qi)) {
                            *a = true;
                        }
                    }
                    Verdict::Wrong | Verdict::NotAChoice(_) => {
                        writeln!(out, "    ✗ not as predicted: your capture says {answer}")
                            .map_err(out_err)?;
                    }
                    Verdict::Unanswerable(why) => {
                        writeln!(out, "    (this capture cannot answer it: {why})")
                            .map_err(out_err)?;
                    }
                }
                if let Some(e) = &q.explain {
                    write!(out, "{}", wrap(e, 72, "    ")).map_err(out_err)?;
                }
                continue;
            }
            let mut tries = 0;
            loop {
                let prompt = format!("  ? {}\n    your answer (Enter to skip): ", q.ask_text());
                let Some(typed) = prompt_for(&mut run, &prompt, input, out)? else {
                    return finish(rt, run, student, out);
                };
                if typed.is_empty() {
                    break;
                }
                tries += 1;
                match run.judge(i, qi, &typed) {
                    Verdict::Right => {
                        writeln!(out, "    ✓ right, your capture says so too.").map_err(out_err)?;
                        if let Some(e) = &q.explain {
                            write!(out, "{}", wrap(e, 72, "    ")).map_err(out_err)?;
                        }
                        if let Some(a) = answered.get_mut(i).and_then(|a| a.get_mut(qi)) {
                            *a = true;
                        }
                        break;
                    }
                    Verdict::Wrong if tries < 2 => {
                        let hint = q
                            .hint
                            .as_deref()
                            .unwrap_or("look at the focused field again");
                        writeln!(out, "    ✗ not what your capture says. Hint: {hint}")
                            .map_err(out_err)?;
                    }
                    Verdict::Wrong => {
                        writeln!(out, "    ✗ your capture says: {answer}").map_err(out_err)?;
                        if let Some(e) = &q.explain {
                            write!(out, "{}", wrap(e, 72, "    ")).map_err(out_err)?;
                        }
                        break;
                    }
                    Verdict::NotAChoice(what) => {
                        tries -= 1;
                        writeln!(out, "    that is none of the choices: type {what}")
                            .map_err(out_err)?;
                    }
                    Verdict::Unanswerable(why) => {
                        writeln!(out, "    (this capture cannot answer it: {why})")
                            .map_err(out_err)?;
                        break;
                    }
                }
            }
        }
        for c in withheld {
            writeln!(out, "  ✓ {} — {}", c.that, c.observed).map_err(out_err)?;
        }
        let last = i + 1 == total;
        let prompt = if last {
            "[Enter] finish · p back · r again · q quit > "
        } else {
            "[Enter/n] next · p back · r again · q quit > "
        };
        let Some(cmd) = prompt_for(&mut run, prompt, input, out)? else {
            break;
        };
        match cmd.as_str() {
            "p" | "b" => i = i.saturating_sub(1),
            "r" => {}
            "q" => break,
            _ if last => {
                writeln!(
                    out,
                    "\nThat was the last step of \"{}\". Well done.",
                    run.lesson().title
                )
                .map_err(out_err)?;
                break;
            }
            _ => i += 1,
        }
    }
    finish(rt, run, student, out)
}

fn finish(
    rt: &tokio::runtime::Runtime,
    run: LessonRun,
    student: &str,
    out: &mut dyn Write,
) -> Result<Finished, LessonError> {
    let (trace, frames, record) = rt.block_on(run.finish_recorded(student))?;
    writeln!(
        out,
        "({} frames were captured during the lesson; {} of {} questions answered right.)",
        trace.frames().len(),
        record.score.right,
        record.score.of
    )
    .map_err(out_err)?;
    Ok(Finished {
        trace,
        frames,
        record,
    })
}

/// A lesson run that has ended: its capture and the student's record of it.
pub struct Finished {
    /// The capture, analysed.
    pub trace: crate::journey::Trace,
    /// Its frames, to save.
    pub frames: Vec<crate::frame::Frame>,
    /// Every answer typed, the clients, the score.
    pub record: super::record::StudentRecord,
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_paragraphs() {
        assert_eq!(wrap("aa bb cc", 5, "> "), "> aa bb\n> cc\n");
        assert_eq!(wrap("a\n\nb", 10, ""), "a\n\nb\n");
        // Lines of a paragraph are joined; list items keep their own lines, hanging.
        assert_eq!(
            wrap("one\ntwo\n- a b c\n  d\n2. e", 6, ""),
            "one\ntwo\n- a b\n  c d\n2. e\n"
        );
    }
}
