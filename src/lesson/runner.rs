//! Running a lesson: its actions on a live [`Session`] (real sockets, live capture in the lab),
//! then its focus, expectations and questions against what was captured. [`LessonRun`] moves
//! step by step (for the terminal stepper and the UI); [`check_lesson`] runs every step headless
//! and prints each result.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::lab::Lab;
use crate::session::{Session, SessionError, SessionOptions};

use super::actions::{self, ActionEnv};
use super::checks::{self, CheckOutcome, FocusView, Verdict};
use super::format::Lesson;
use super::query::Context;
use super::record::{AnswerLog, StudentRecord};
use super::state::LessonState;
use super::LessonError;

/// Where a lesson runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The certificate folder (made on first use).
    pub cert_dir: PathBuf,
    /// The lab, already entered by `main` (see [`crate::lab::enter`]).
    pub lab: Lab,
}

/// An action that failed: the lesson cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {step} (line {line}): action \"{action}\" failed: {reason}")]
pub struct ActionFailure {
    /// The step, from 1.
    pub step: usize,
    /// The action as written.
    pub action: String,
    /// Its line in the lesson file.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// What a step shows once its actions have run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The focus, found in the capture (or why not).
    pub focus: Option<Result<FocusView, String>>,
    /// Each expectation's result.
    pub checks: Vec<CheckOutcome>,
    /// Each question's answer as computed from the capture (or why it cannot be).
    pub answers: Vec<Result<String, String>>,
}

impl StepReport {
    /// True when the focus was found, every expectation held and every question has an answer.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
            && !matches!(self.focus, Some(Err(_)))
            && self.answers.iter().all(Result::is_ok)
    }
}

/// Removes the lesson's scratch folder (the "wrong" CA) when the run ends.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A lesson in progress.
pub struct LessonRun {
    lesson: Lesson,
    session: Session,
    state: LessonState,
    env: ActionEnv,
    done: usize,
    answers: AnswerLog,
    _scratch: ScratchDir,
}

/// After a step's actions: how long the capture must be silent before the step is judged, so
/// that teardowns and delayed ACKs (Linux waits up to 40 ms) are in the trace.
const QUIET: Duration = Duration::from_millis(120);

impl LessonRun {
    /// Opens the session (no server yet: the first step's actions start one).
    pub async fn start(lesson: Lesson, options: &RunOptions) -> Result<LessonRun, LessonError> {
        let session = Session::new(SessionOptions {
            cert_dir: options.cert_dir.clone(),
            lab: options.lab.clone(),
            ipv6: lesson.lab.ipv6,
        })?;
        let scratch = std::env::temp_dir().join(format!(
            "packetpath-lesson-{}-{}",
            std::process::id(),
            lesson.name
        ));
        Ok(LessonRun {
            env: ActionEnv {
                cert_dir: options.cert_dir.clone(),
                transport: lesson.transport,
                scratch: scratch.clone(),
            },
            lesson,
            session,
            state: LessonState::default(),
            done: 0,
            answers: AnswerLog::default(),
            _scratch: ScratchDir(scratch),
        })
    }

    /// The lesson.
    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    /// How many steps have had their actions run.
    pub fn steps_done(&self) -> usize {
        self.done
    }

    /// The live session (for a UI that shows the capture).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The live session, mutably (e.g. to poll it).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The lesson's record of its clients.
    pub fn state(&self) -> &LessonState {
        &self.state
    }

    /// Runs the actions of every step up to and including `index` (from 0) that has not run yet,
    /// calling `on_action` with each action's text before and its note after. Then waits until
    /// the capture holds what the actions caused.
    pub async fn run_through(
        &mut self,
        index: usize,
        on_action: &mut dyn FnMut(&str, Option<&str>),
    ) -> Result<(), ActionFailure> {
        while self.done <= index && self.done < self.lesson.steps.len() {
            let step_no = self.done + 1;
            let actions = self
                .lesson
                .steps
                .get(self.done)
                .map(|s| s.actions.clone())
                .unwrap_or_default();
            for a in &actions {
                on_action(&a.source, None);
                let note =
                    actions::perform(&a.action, &mut self.session, &mut self.state, &self.env)
                        .await
                        .map_err(|reason| ActionFailure {
                            step: step_no,
                            action: a.source.clone(),
                            line: a.line,
                            reason,
                        })?;
                on_action(&a.source, Some(&note));
            }
            self.settle().await.map_err(|e| ActionFailure {
                step: step_no,
                action: "(waiting for the capture)".into(),
                line: self.lesson.steps.get(self.done).map_or(0, |s| s.line),
                reason: e.to_string(),
            })?;
            self.done += 1;
        }
        Ok(())
    }

    async fn settle(&mut self) -> Result<(), SessionError> {
        self.session.settle().await?;
        actions::quiet(&mut self.session, QUIET).await;
        actions::snapshot_received(&mut self.session, &mut self.state);
        Ok(())
    }

    /// Judges step `index` against the capture as it is now.
    pub fn report(&mut self, index: usize) -> StepReport {
        self.session.poll();
        let Some(step) = self.lesson.steps.get(index) else {
            return StepReport {
                focus: None,
                checks: Vec::new(),
                answers: Vec::new(),
            };
        };
        let ctx = Context::new(self.session.trace(), &self.state);
        StepReport {
            focus: step.focus.as_ref().map(|f| checks::resolve_focus(&ctx, f)),
            checks: step
                .expects
                .iter()
                .map(|e| checks::evaluate(&ctx, e))
                .collect(),
            answers: step
                .questions
                .iter()
                .map(|q| checks::answer_of(&ctx, q))
                .collect(),
        }
    }

    /// Judges a typed answer to question `question` of step `index`.
    pub fn judge(&mut self, index: usize, question: usize, typed: &str) -> Verdict {
        self.session.poll();
        let Some(q) = self
            .lesson
            .steps
            .get(index)
            .and_then(|s| s.questions.get(question))
        else {
            return Verdict::Unanswerable("no such question".into());
        };
        let ctx = Context::new(self.session.trace(), &self.state);
        let verdict = checks::judge(&ctx, q, typed);
        self.answers.note(index, question, typed, &verdict);
        verdict
    }

    /// Closes every client, stops the server and the capture.
    pub async fn finish(self) -> Result<crate::journey::Trace, LessonError> {
        let (trace, _, _) = self.session.finish().await?;
        Ok(trace)
    }

    /// Closes every client, stops the server and the capture, and returns the capture with the
    /// student's record of the run: every answer typed, the clients' connections, the score.
    pub async fn finish_recorded(
        self,
        student: &str,
    ) -> Result<
        (
            crate::journey::Trace,
            Vec<crate::frame::Frame>,
            StudentRecord,
        ),
        LessonError,
    > {
        let LessonRun {
            lesson,
            session,
            state,
            done,
            answers,
            ..
        } = self;
        let (trace, frames, _) = session.finish().await?;
        let record = answers.to_record(&lesson, &state, done, student, &frames);
        Ok((trace, frames, record))
    }
}

/// One expectation's result, for `lesson check --format json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckedExpectation {
    /// What it checks.
    pub that: String,
    /// It held.
    pub passed: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What the capture showed.
    pub observed: String,
    /// Its line in the lesson file.
    pub line: usize,
}

/// One question's answer from the capture, for `lesson check --format json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckedQuestion {
    /// The question as asked (with its choices).
    pub ask: String,
    /// Its line in the lesson file.
    pub line: usize,
    /// The capture's answer.
    pub answer: Option<String>,
    /// Why the capture holds no answer.
    pub error: Option<String>,
}

/// One step's results, for `lesson check --format json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckedStep {
    /// The step, from 1.
    pub step: usize,
    /// Its title.
    pub title: String,
    /// Its actions as they ran, with their notes.
    pub actions: Vec<String>,
    /// The focus ("frame #3 · TCP › Flags = [SYN]"), or why it cannot be shown.
    pub focus: Option<Result<String, String>>,
    /// Each expectation.
    pub checks: Vec<CheckedExpectation>,
    /// Each question.
    pub questions: Vec<CheckedQuestion>,
}

/// The outcome of checking one lesson headless.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckSummary {
    /// The lesson's name.
    pub lesson: String,
    /// Steps run.
    pub steps: usize,
    /// Expectations checked, and how many held.
    pub checks: usize,
    /// How many held.
    pub passed: usize,
    /// Questions whose answers the capture gave.
    pub questions: usize,
    /// The first failure: step, line, what, observed value.
    pub failure: Option<String>,
    /// Every step that ran, with its results.
    pub results: Vec<CheckedStep>,
    /// How long the check took, in milliseconds.
    pub millis: u64,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn w(out: &mut dyn Write, line: String) -> Result<(), LessonError> {
    writeln!(out, "{line}").map_err(|e| LessonError::Output(e.to_string()))
}

/// Runs every step of `lesson` headless and prints each result: ✓ or ✗ with the observed value.
/// Stops at the first action that fails; otherwise runs to the end so that every failure shows.
pub async fn check_lesson(
    lesson: Lesson,
    options: &RunOptions,
    out: &mut dyn Write,
) -> Result<CheckSummary, LessonError> {
    let started = Instant::now();
    w(out, format!("━━ lesson {}: {}", lesson.name, lesson.title))?;
    w(
        out,
        format!(
            "   {} · server {} · {}",
            options.lab.describe(),
            lesson.transport.name(),
            if lesson.builtin {
                format!("built in (from {})", lesson.file)
            } else {
                lesson.file.clone()
            }
        ),
    )?;
    let total = lesson.steps.len();
    let mut run = LessonRun::start(lesson, options).await?;
    let mut summary = CheckSummary {
        lesson: run.lesson().name.clone(),
        steps: 0,
        checks: 0,
        passed: 0,
        questions: 0,
        failure: None,
        results: Vec::new(),
        millis: 0,
    };
    for i in 0..total {
        let (title, questions) = match run.lesson().steps.get(i) {
            Some(s) => (s.title.clone(), s.questions.clone()),
            None => break,
        };
        w(out, format!("step {}/{total} · {title}", i + 1))?;
        let mut lines: Vec<String> = Vec::new();
        let outcome = run
            .run_through(i, &mut |action, note| match note {
                None => {}
                Some("") => lines.push(format!("  ▸ {action}")),
                Some(note) => lines.push(format!("  ▸ {action}   ({note})")),
            })
            .await;
        let mut result = CheckedStep {
            step: i + 1,
            title: title.clone(),
            actions: lines.iter().map(|l| l.trim().to_string()).collect(),
            focus: None,
            checks: Vec::new(),
            questions: Vec::new(),
        };
        for l in lines {
            w(out, l)?;
        }
        if let Err(failure) = outcome {
            result.actions.push(format!("✗ {failure}"));
            summary.results.push(result);
            w(out, format!("  ✗ {failure}"))?;
            summary.failure = Some(failure.to_string());
            break;
        }
        summary.steps += 1;
        let report = run.report(i);
        let fail = |summary: &mut CheckSummary, what: String| {
            if summary.failure.is_none() {
                summary.failure = Some(format!("step {} \"{title}\": {what}", i + 1));
            }
        };
        match &report.focus {
            Some(Ok(f)) => {
                let focus = format!(
                    "frame #{} · {} › {} = {}",
                    f.frame,
                    f.layer.name(),
                    f.field,
                    f.value
                );
                w(out, format!("  ◎ focus: {focus}"))?;
                result.focus = Some(Ok(focus));
            }
            Some(Err(why)) => {
                let line = run
                    .lesson()
                    .steps
                    .get(i)
                    .and_then(|s| s.focus.as_ref())
                    .map_or(0, |f| f.line);
                w(out, format!("  ✗ focus (line {line}): {why}"))?;
                result.focus = Some(Err(format!("line {line}: {why}")));
                fail(
                    &mut summary,
                    format!("the focus (line {line}) cannot be shown: {why}"),
                );
            }
            None => {}
        }
        for c in &report.checks {
            summary.checks += 1;
            result.checks.push(CheckedExpectation {
                that: c.that.clone(),
                passed: c.passed,
                expected: c.expected.clone(),
                observed: c.observed.clone(),
                line: c.line,
            });
            if c.passed {
                summary.passed += 1;
                w(out, format!("  ✓ {} — {}", c.that, c.observed))?;
            } else {
                w(
                    out,
                    format!(
                        "  ✗ {} — expected {}; observed {} (line {})",
                        c.that, c.expected, c.observed, c.line
                    ),
                )?;
                fail(
                    &mut summary,
                    format!(
                        "{} (line {}) — observed {}, expected {}",
                        c.that, c.line, c.observed, c.expected
                    ),
                );
            }
        }
        for (q, a) in questions.iter().zip(&report.answers) {
            result.questions.push(CheckedQuestion {
                ask: q.ask_text(),
                line: q.line,
                answer: a.as_ref().ok().cloned(),
                error: a.as_ref().err().cloned(),
            });
            match a {
                Ok(answer) => {
                    summary.questions += 1;
                    w(
                        out,
                        format!(
                            "  ? {} → {}",
                            q.ask_text(),
                            super::value::shorten(answer, 100)
                        ),
                    )?;
                }
                Err(why) => {
                    w(
                        out,
                        format!(
                            "  ✗ question (line {}) has no answer in this capture: {why}",
                            q.line
                        ),
                    )?;
                    fail(
                        &mut summary,
                        format!(
                            "the question \"{}\" (line {}) has no answer in this capture: {why}",
                            q.ask, q.line
                        ),
                    );
                }
            }
        }
        summary.results.push(result);
    }
    run.finish().await?;
    let secs = started.elapsed().as_secs_f64();
    summary.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match &summary.failure {
        None => w(
            out,
            format!(
                "PASS {}: {}, {}/{} checks, {} answered from the capture ({secs:.1} s)",
                summary.lesson,
                plural(summary.steps, "step"),
                summary.passed,
                summary.checks,
                plural(summary.questions, "question")
            ),
        )?,
        Some(f) => w(out, format!("FAIL {}: {f}", summary.lesson))?,
    }
    Ok(summary)
}
