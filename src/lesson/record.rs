//! A student's record of a lesson (`packetpath lesson run NAME --record FILE`) and its grading
//! (`packetpath lesson grade FILE...`).
//!
//! The record is one pcapng file: the lesson's capture with its TLS secrets and application
//! events (as `--record` writes for `demo`), and one more Custom Block holding, on one line,
//!
//! ```text
//! packetpath-lesson-record {"format":1,"lesson":"tcp-handshake","student":"sam",…}
//! ```
//!
//! the lesson's own text (so a teacher's file can be graded without it), which connection each
//! client had, every answer typed with its verdict and time, the score, and a SHA-256 digest of
//! the frames. Grading opens the file, computes each question's answer again from the file's own
//! capture, judges every recorded attempt again, and compares: a record whose answers do not
//! follow from its capture (edited, or its capture swapped for another) is flagged.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::checks::{self, Verdict};
use super::format::{parse_lesson, Lesson};
use super::query::Context;
use super::state::LessonState;
use crate::frame::Frame;
use crate::journey::Trace;

/// The prefix of the record's line in its Custom Block (packetpath's Private Enterprise Number,
/// like the application-event ledger, whose reader skips this line).
pub const RECORD_PREFIX: &str = "packetpath-lesson-record ";

/// The version of the record's JSON.
pub const RECORD_FORMAT: u32 = 1;

/// Why a record cannot be read or graded at all.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The capture could not be opened.
    #[error(transparent)]
    Open(#[from] crate::capture::OpenError),
    /// A pcapng without a lesson record in it.
    #[error(
        "{} holds no lesson record (write one with `packetpath lesson run NAME --record FILE`)",
        .0.display()
    )]
    NoRecord(PathBuf),
    /// The record's line is not a record this packetpath reads.
    #[error("{}: the lesson record cannot be read: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// One typed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// What the student typed.
    pub typed: String,
    /// Milliseconds since the lesson started.
    pub after_ms: u64,
    /// The verdict when it was typed: "right", "wrong", "not a choice" or "unanswerable".
    pub verdict: String,
}

/// A question's attempts and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRecord {
    /// The step, from 1.
    pub step: usize,
    /// The question within the step, from 1.
    pub question: usize,
    /// The question as asked.
    pub ask: String,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// How it ended: see [`Outcome`].
    pub outcome: Outcome,
}

/// How a question ended for the student.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered right (on the first or the second try).
    Right,
    /// Wrong twice: the capture's answer was shown.
    Wrong,
    /// Not answered (skipped, or left after one wrong answer).
    Unanswered,
    /// The capture could not answer it (the run went wrong).
    Unanswerable,
}

impl Outcome {
    /// A mark for a table: ✓ ✗ – ?.
    pub fn mark(self) -> &'static str {
        match self {
            Outcome::Right => "✓",
            Outcome::Wrong => "✗",
            Outcome::Unanswered => "–",
            Outcome::Unanswerable => "?",
        }
    }

    /// The word, as in the JSON.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Right => "right",
            Outcome::Wrong => "wrong",
            Outcome::Unanswered => "unanswered",
            Outcome::Unanswerable => "unanswerable",
        }
    }
}

/// How a question ends after these verdicts: right at the first right answer; wrong at the
/// second wrong one (the plain stepper and the UI both show the capture's answer then), or at the
/// first for a prediction (one answer, given before the actions ran); answers that were none of
/// the choices do not count.
pub fn outcome_of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>, predict: bool) -> Outcome {
    let tries = if predict { 1 } else { 2 };
    let mut wrong = 0;
    for v in verdicts {
        match v {
            Verdict::Right => return Outcome::Right,
            Verdict::Wrong => {
                wrong += 1;
                if wrong == tries {
                    return Outcome::Wrong;
                }
            }
            Verdict::Unanswerable(_) => return Outcome::Unanswerable,
            Verdict::NotAChoice(_) => {}
        }
    }
    Outcome::Unanswered
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Right => "right",
        Verdict::Wrong => "wrong",
        Verdict::NotAChoice(_) => "not a choice",
        Verdict::Unanswerable(_) => "unanswerable",
    }
}

/// The score: right answers out of the lesson's questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Questions answered right.
    pub right: usize,
    /// Questions in the lesson.
    pub of: usize,
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.right, self.of)
    }
}

/// A student's record of one lesson run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The lesson's name.
    pub lesson: String,
    /// Its title.
    pub title: String,
    /// Built into packetpath (else a teacher's file).
    pub builtin: bool,
    /// The file it came from, as named.
    pub file: String,
    /// The lesson's text, as run.
    pub source: String,
    /// Who ran it (`--student`, else the login name).
    pub student: String,
    /// packetpath's version.
    pub packetpath: String,
    /// When the lesson started, seconds since 1970 (UTC).
    pub started_unix: u64,
    /// How long it ran, in seconds.
    pub seconds: u64,
    /// Steps whose actions ran.
    pub steps_done: usize,
    /// Which connection each client had, who was refused, what each received: what the
    /// lesson's queries need besides the capture.
    #[serde(flatten)]
    pub state: LessonState,
    /// Every question of the lesson, answered or not.
    pub answers: Vec<AnswerRecord>,
    /// The score.
    pub score: Score,
    /// Frames in the capture.
    pub frames: usize,
    /// SHA-256 of the frames' bytes (each frame's length, then its bytes), in hex.
    pub frames_sha256: String,
}

/// SHA-256 of the frames' captured bytes, each preceded by its length (8 bytes, big-endian), in
/// hex: what grading compares to see that a record's capture is the one it was recorded with.
pub fn frames_digest<'a>(frames: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for data in frames {
        ctx.update(&(data.len() as u64).to_be_bytes());
        ctx.update(data);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The answers a lesson run collects as the student types them.
#[derive(Debug, Clone)]
pub struct AnswerLog {
    started: Instant,
    started_unix: u64,
    attempts: BTreeMap<(usize, usize), Vec<(Attempt, Verdict)>>,
}

impl Default for AnswerLog {
    fn default() -> Self {
        AnswerLog {
            started: Instant::now(),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            attempts: BTreeMap::new(),
        }
    }
}

impl AnswerLog {
    /// Notes an answer to question `question` of step `step` (both from 0). An empty answer
    /// (Enter to skip) is not an attempt.
    pub fn note(&mut self, step: usize, question: usize, typed: &str, verdict: &Verdict) {
        if typed.trim().is_empty() {
            return;
        }
        let after_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.attempts.entry((step, question)).or_default().push((
            Attempt {
                typed: typed.to_string(),
                after_ms,
                verdict: verdict_word(verdict).to_string(),
            },
            verdict.clone(),
        ));
    }

    /// The record of `lesson` as run: every question with its attempts, the clients, the score.
    pub fn to_record(
        &self,
        lesson: &Lesson,
        state: &LessonState,
        steps_done: usize,
        student: &str,
        frames: &[Frame],
    ) -> StudentRecord {
        let mut answers = Vec::new();
        for (si, step) in lesson.steps.iter().enumerate() {
            for (qi, q) in step.questions.iter().enumerate() {
                let tried = self.attempts.get(&(si, qi));
                answers.push(AnswerRecord {
                    step: si + 1,
                    question: qi + 1,
                    ask: q.ask_text(),
                    attempts: tried
                        .map(|t| t.iter().map(|(a, _)| a.clone()).collect())
                        .unwrap_or_default(),
                    outcome: outcome_of(tried.into_iter().flatten().map(|(_, v)| v), q.predict),
                });
            }
        }
        let right = answers
            .iter()
            .filter(|a| a.outcome == Outcome::Right)
            .count();
        StudentRecord {
            format: RECORD_FORMAT,
            lesson: lesson.name.clone(),
            title: lesson.title.clone(),
            builtin: lesson.builtin,
            file: lesson.file.clone(),
            source: lesson.source.clone(),
            student: student.to_string(),
            packetpath: env!("CARGO_PKG_VERSION").to_string(),
            started_unix: self.started_unix,
            seconds: self.started.elapsed().as_secs(),
            steps_done,
            state: state.clone(),
            score: Score {
                right,
                of: answers.len(),
            },
            answers,
            frames: frames.len(),
            frames_sha256: frames_digest(frames.iter().map(|f| &f.data[..])),
        }
    }
}

impl StudentRecord {
    /// The Custom Block's contents.
    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{RECORD_PREFIX}{json}\n").into_bytes()
    }

    /// The record in a Custom Block's contents, if the block holds one.
    pub fn decode(data: &[u8]) -> Option<Result<StudentRecord, String>> {
        let text = crate::journey::ledger::block_text(data);
        let json = text.lines().find_map(|l| l.strip_prefix(RECORD_PREFIX))?;
        Some(serde_json::from_str(json).map_err(|e| e.to_string()))
    }
}

/// One question graded again from the record's capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradedQuestion {
    /// "2.1": step 2, question 1.
    pub id: String,
    /// The question.
    pub ask: String,
    /// How it ended, judged again now.
    pub outcome: Outcome,
    /// How the record says it ended.
    pub recorded: Outcome,
    /// Attempts typed.
    pub attempts: usize,
    /// The capture's answer (or why it has none).
    pub answer: String,
}

/// A record graded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Graded {
    /// The file.
    pub file: String,
    /// The student.
    pub student: String,
    /// The lesson's name.
    pub lesson: String,
    /// The score judged again from the capture.
    pub score: Score,
    /// The score the record claims.
    pub recorded_score: Score,
    /// Minutes the lesson ran.
    pub minutes: f64,
    /// Each question.
    pub questions: Vec<GradedQuestion>,
    /// What does not add up (empty when the record follows from its capture).
    pub flags: Vec<String>,
}

/// Grades one record file: opens its capture and judges every recorded answer again against it.
pub fn grade_file(path: &Path) -> Result<Graded, RecordError> {
    let capture = crate::capture::read_capture_file(path)
        .map_err(|e| RecordError::Open(crate::capture::OpenError::Capture(e)))?;
    let record = capture
        .custom
        .iter()
        .filter(|b| b.pen == crate::journey::ledger::LEDGER_PEN)
        .find_map(|b| StudentRecord::decode(&b.data))
        .ok_or_else(|| RecordError::NoRecord(path.to_path_buf()))?
        .map_err(|reason| RecordError::Unreadable {
            path: path.to_path_buf(),
            reason,
        })?;
    let digest = frames_digest(capture.frames.iter().map(|f| &f.data[..]));
    let (trace, damaged) = crate::capture::open_capture(path, None, &mut |_, _| {})?;
    let mut graded = grade(&record, &trace, &path.display().to_string());
    if digest != record.frames_sha256 || capture.frames.len() != record.frames {
        graded.flags.insert(
            0,
            format!(
                "the capture is not the one the answers were recorded with ({} frames, digest \
                 differs; recorded: {} frames)",
                capture.frames.len(),
                record.frames
            ),
        );
    }
    if let Some(e) = damaged {
        graded
            .flags
            .push(format!("the file is damaged after its first frames: {e}"));
    }
    Ok(graded)
}

/// Grades a record against a trace: each question's answer computed again from the trace, each
/// recorded attempt judged again, the outcome compared with the recorded one.
pub fn grade(record: &StudentRecord, trace: &Trace, file: &str) -> Graded {
    let mut flags = Vec::new();
    if record.format != RECORD_FORMAT {
        flags.push(format!(
            "record format {} (this packetpath reads {RECORD_FORMAT})",
            record.format
        ));
    }
    let lesson = match parse_lesson(&record.file, &record.source) {
        Ok(l) => Some(l),
        Err(e) => {
            flags.push(format!("the recorded lesson text does not read: {e}"));
            None
        }
    };
    if record.builtin {
        let same = super::catalog::BUILTIN
            .iter()
            .find(|(name, _)| super::format::name_of_file(name) == record.lesson)
            .map(|(_, text)| *text == record.source);
        match same {
            Some(true) => {}
            Some(false) => flags.push(format!(
                "lesson {} was run from another version of its text than this packetpath's \
                 (graded with the recorded text)",
                record.lesson
            )),
            None => flags.push(format!(
                "this packetpath has no built-in lesson {} (graded with the recorded text)",
                record.lesson
            )),
        }
    }
    let ctx = Context::new(trace, &record.state);
    let mut questions = Vec::new();
    let mut recorded_of: BTreeMap<(usize, usize), &AnswerRecord> = BTreeMap::new();
    for a in &record.answers {
        recorded_of.insert((a.step, a.question), a);
    }
    if let Some(lesson) = &lesson {
        for (si, step) in lesson.steps.iter().enumerate() {
            for (qi, q) in step.questions.iter().enumerate() {
                let recorded = recorded_of.remove(&(si + 1, qi + 1));
                let typed: Vec<&str> = recorded
                    .map(|r| r.attempts.iter().map(|a| a.typed.as_str()).collect())
                    .unwrap_or_default();
                let verdicts: Vec<Verdict> =
                    typed.iter().map(|t| checks::judge(&ctx, q, t)).collect();
                let outcome = outcome_of(&verdicts, q.predict);
                let recorded_outcome = recorded.map_or(Outcome::Unanswered, |r| r.outcome);
                let id = format!("{}.{}", si + 1, qi + 1);
                if recorded.is_none() {
                    flags.push(format!("question {id} is missing from the record"));
                }
                if outcome != recorded_outcome {
                    flags.push(format!(
                        "question {id}: recorded {}, but the capture makes it {}",
                        recorded_outcome.word(),
                        outcome.word()
                    ));
                }
                questions.push(GradedQuestion {
                    id,
                    ask: q.ask_text(),
                    outcome,
                    recorded: recorded_outcome,
                    attempts: typed.len(),
                    answer: checks::answer_of(&ctx, q).unwrap_or_else(|why| format!("({why})")),
                });
            }
        }
    }
    for ((step, question), _) in recorded_of {
        flags.push(format!(
            "the record answers question {step}.{question}, which the lesson does not have"
        ));
    }
    let right = questions
        .iter()
        .filter(|q| q.outcome == Outcome::Right)
        .count();
    let score = Score {
        right,
        of: questions.len(),
    };
    if score != record.score {
        flags.push(format!(
            "the record claims {}, the capture gives {score}",
            record.score
        ));
    }
    Graded {
        file: file.to_string(),
        student: record.student.clone(),
        lesson: record.lesson.clone(),
        score,
        recorded_score: record.score,
        minutes: record.seconds as f64 / 60.0,
        questions,
        flags,
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The gradebook as text: one row per record, a column per question (✓ right, ✗ wrong,
/// – unanswered, ? no answer in the capture), then each record's flags and a key to the columns.
pub fn grades_text(graded: &[Graded]) -> String {
    let mut out = String::new();
    let ids: Vec<String> = graded
        .iter()
        .max_by_key(|g| g.questions.len())
        .map(|g| g.questions.iter().map(|q| q.id.clone()).collect())
        .unwrap_or_default();
    let student_w = graded
        .iter()
        .map(|g| g.student.chars().count())
        .chain([7])
        .max()
        .unwrap_or(7);
    let lesson_w = graded
        .iter()
        .map(|g| g.lesson.chars().count())
        .chain([6])
        .max()
        .unwrap_or(6);
    let _ = write!(
        out,
        "{:student_w$}  {:lesson_w$}  {:>6}  {:>5}",
        "student", "lesson", "score", "min"
    );
    for id in &ids {
        let _ = write!(out, " {id:>4}");
    }
    out.push_str("  check    file\n");
    for g in graded {
        let _ = write!(
            out,
            "{:student_w$}  {:lesson_w$}  {:>6}  {:>5.1}",
            g.student,
            g.lesson,
            g.score.to_string(),
            g.minutes
        );
        for id in &ids {
            let mark = g
                .questions
                .iter()
                .find(|q| &q.id == id)
                .map_or(" ", |q| q.outcome.mark());
            let _ = write!(out, " {mark:>4}");
        }
        let _ = writeln!(
            out,
            "  {:7}  {}",
            if g.flags.is_empty() { "ok" } else { "FLAGGED" },
            g.file
        );
    }
    for g in graded.iter().filter(|g| !g.flags.is_empty()) {
        let _ = writeln!(out, "\n✗ {} ({}):", g.file, g.student);
        for f in &g.flags {
            let _ = writeln!(out, "  - {f}");
        }
    }
    out.push_str("\n✓ right · ✗ wrong twice · – not answered · ? the capture holds no answer\n");
    if let Some(g) = graded.iter().max_by_key(|g| g.questions.len()) {
        for q in &g.questions {
            let _ = writeln!(out, "{:>4}  {}", q.id, q.ask);
        }
    }
    out
}

/// The gradebook as CSV: one row per record and question.
pub fn grades_csv(graded: &[Graded]) -> String {
    let mut out =
        String::from("file,student,lesson,question,ask,outcome,recorded,attempts,score,flagged\n");
    for g in graded {
        for q in &g.questions {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                csv_field(&g.file),
                csv_field(&g.student),
                csv_field(&g.lesson),
                q.id,
                csv_field(&q.ask),
                q.outcome.word(),
                q.recorded.word(),
                q.attempts,
                g.score,
                !g.flags.is_empty()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_ends_at_the_first_right_or_the_second_wrong_answer() {
        let r = Verdict::Right;
        let w = Verdict::Wrong;
        let n = Verdict::NotAChoice("a or b".into());
        assert_eq!(outcome_of(&[], false), Outcome::Unanswered);
        assert_eq!(outcome_of(std::slice::from_ref(&w), true), Outcome::Wrong);
        assert_eq!(
            outcome_of(std::slice::from_ref(&w), false),
            Outcome::Unanswered
        );
        assert_eq!(outcome_of(&[w.clone(), r.clone()], false), Outcome::Right);
        assert_eq!(
            outcome_of(&[n.clone(), w.clone(), n, r.clone()], false),
            Outcome::Right
        );
        assert_eq!(
            outcome_of(&[w.clone(), w.clone(), r], false),
            Outcome::Wrong
        );
    }

    #[test]
    fn the_digest_covers_frame_boundaries() {
        let a = frames_digest([&b"ab"[..], b"c"]);
        assert_eq!(a.len(), 64);
        assert_ne!(a, frames_digest([&b"a"[..], b"bc"]));
        assert_eq!(a, frames_digest([&b"ab"[..], b"c"]));
    }

    const TINY: &str = r#"
title = "Count"
goal = "Count the frames."

[[step]]
title = "Frames"
text = "Count them."

[[step.question]]
ask = "How many frames?"
answer = "count(packets())"

[[step.question]]
ask = "Over TLS?"
answer = "true"
"#;

    #[test]
    fn a_record_is_graded_against_its_own_capture() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join("tls13-chat.pcapng");
        let file = crate::capture::read_capture_file(&sample).expect("the sample");
        let (trace, _) =
            crate::capture::open_capture(&sample, None, &mut |_, _| {}).expect("the sample");
        let lesson = parse_lesson("tiny.toml", TINY).expect("a good lesson");
        let state = LessonState::default();
        let frames = trace.frames().len();
        let mut log = AnswerLog::default();
        log.note(0, 0, "3", &Verdict::Wrong);
        log.note(0, 0, &frames.to_string(), &Verdict::Right);
        log.note(0, 1, "", &Verdict::Wrong);
        let record = log.to_record(&lesson, &state, 1, "sam", &file.frames);
        assert_eq!(record.score, Score { right: 1, of: 2 });
        assert_eq!(record.answers[0].attempts.len(), 2);
        assert!(record.answers[1].attempts.is_empty(), "Enter is no attempt");
        assert_eq!(record.answers[1].outcome, Outcome::Unanswered);
        let back = StudentRecord::decode(&record.encode())
            .expect("a record")
            .expect("readable");
        assert_eq!(back, record);
        let graded = grade(&back, &trace, "sam.pcapng");
        assert!(graded.flags.is_empty(), "{:?}", graded.flags);
        assert_eq!(graded.score, record.score);
        assert_eq!(graded.questions[0].answer, frames.to_string());
        // Answers that do not follow from the capture are flagged.
        let mut edited = back.clone();
        edited.answers[0].attempts[1].typed = "2".into();
        let graded = grade(&edited, &trace, "edited.pcapng");
        assert!(
            graded
                .flags
                .iter()
                .any(|f| f.contains("question 1.1: recorded right, but the capture makes it wrong")),
            "{:?}",
            graded.flags
        );
        assert_eq!(graded.score, Score { right: 0, of: 2 });
        let text = grades_text(&[graded]);
        assert!(text.contains("FLAGGED") && text.contains("0/2"), "{text}");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
