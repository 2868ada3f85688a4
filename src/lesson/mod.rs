//! Lessons: step-by-step, self-checking walks through the stack, written by teachers as TOML
//! files (the format is described in `lessons/README.md`).
//!
//! A lesson declares its lab (link, MTU, loss) and the server's transport in its header, because
//! the lab is entered once per process before anything else runs. Each step has a text for the
//! student, actions run with real sockets ([`actions`]), a focus on one field of one packet, and
//! expectations and questions written in a small query language ([`query`]) that reads the
//! live capture.
//!
//! ```text
//!  lessons/*.toml ──format──► Lesson ──runner──► actions on a Session (chat + live capture)
//!                                        │
//!                                        └──► checks: Trace + LessonState ──► ✓/✗ + observed value
//!                                                                       └──► answers from the capture
//! ```
//!
//! `packetpath lesson check` prints every step's results ([`runner::check_lesson`]);
//! `packetpath lesson run` steps through a lesson in the terminal ([`stepper`]); a UI can drive
//! a [`LessonRun`] step by step.

pub mod actions;
pub mod catalog;
pub mod checks;
pub mod format;
pub mod query;
pub mod record;
pub mod reference;
pub mod runner;
pub mod state;
pub mod stepper;

pub use query::{expr, filter, value};

pub use catalog::{all, check_in_turn, find, BUILTIN};
pub use checks::{CheckOutcome, FocusView, Verdict};
pub use format::{parse_lesson, FormatError, Lesson, LessonLab, Step};
pub use runner::{check_lesson, CheckSummary, LessonRun, RunOptions, StepReport};
pub use state::LessonState;

/// What can stop a lesson.
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// The lesson file is broken.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// No lesson has that name.
    #[error("no lesson named {name:?}; the lessons are: {available}")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The names there are.
        available: String,
    },
    /// A file or folder could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// Which.
        path: String,
        /// Why (named `reason`, not `source`: the message says it once, a chain would repeat it).
        reason: std::io::Error,
    },
    /// The session (chat or capture) failed.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    /// Writing the report failed, or a subprocess could not run.
    #[error("{0}")]
    Output(String),
}

/// `packetpath lesson list`: for each lesson its number (which `lesson run` and `lesson export`
/// take too), name, title and lab, its goal, and the lessons to take first. Lessons with a
/// `block` are grouped under its heading, in the order of [`format::BLOCKS`], and those without
/// one follow; a list with no blocks at all (a teacher's folder) is shown as it comes.
pub fn list_text(lessons: &[Lesson]) -> String {
    let numbers: Vec<String> = lessons
        .iter()
        .map(|l| catalog::number_of_file(&l.file).map_or(String::new(), |n| n.to_string()))
        .collect();
    let number_width = numbers.iter().map(String::len).max().unwrap_or(0);
    let width = lessons.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let entry = |i: usize, l: &Lesson| {
        let number = numbers.get(i).map_or("", String::as_str);
        let text = list_entry(l, width);
        if number_width == 0 {
            return text;
        }
        // The number before the name, the lines under it indented as far.
        text.lines()
            .enumerate()
            .map(|(k, line)| {
                let shown = if k == 0 { number } else { "" };
                format!("{shown:>number_width$}  {line}\n")
            })
            .collect::<String>()
    };
    if lessons.iter().all(|l| l.block.is_none()) {
        return lessons
            .iter()
            .enumerate()
            .map(|(i, l)| entry(i, l))
            .collect();
    }
    let mut out = String::new();
    let blocks = format::BLOCKS.iter().copied().map(Some).chain([None]);
    for block in blocks {
        let members: Vec<(usize, &Lesson)> = lessons
            .iter()
            .enumerate()
            .filter(|(_, l)| l.block == block)
            .collect();
        if members.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let count = match members.len() {
            1 => "1 lesson".to_string(),
            n => format!("{n} lessons"),
        };
        out.push_str(&format!(
            "━━ {} · {count}\n",
            block.unwrap_or("Other lessons")
        ));
        for (i, l) in members {
            out.push_str(&entry(i, l));
        }
    }
    out
}

/// One lesson in `lesson list`: name, title and lab; its goal; its prerequisites, if any.
fn list_entry(l: &Lesson, width: usize) -> String {
    let mut lab = vec![l.transport.name().to_string()];
    if l.lab.link != crate::lab::LinkMode::Loopback {
        lab.push(format!("--link {}", l.lab.link));
    }
    if l.lab.mtu != 1500 {
        lab.push(format!("mtu {}", l.lab.mtu));
    }
    if l.lab.loss > 0.0 {
        lab.push(format!("{}% loss", l.lab.loss));
    }
    if l.lab.delay_ms > 0.0 {
        lab.push(format!("{} ms delay each way", l.lab.delay_ms));
    }
    for d in &l.lab.delay_on {
        lab.push(format!(
            "{} ms delay each way on link {}",
            d.delay.as_secs_f64() * 1000.0,
            d.link
        ));
    }
    if let Some(rate) = l.lab.rate {
        lab.push(format!("{rate} per link"));
    }
    if l.lab.ipv6 {
        lab.push("IPv6".into());
    }
    let mut out = format!(
        "{:width$}  {}  [{}]\n{:width$}  {}\n",
        l.name,
        l.title,
        lab.join(", "),
        "",
        value::shorten(&l.goal.replace('\n', " "), 100)
    );
    if !l.prerequisites.is_empty() {
        out.push_str(&format!(
            "{:width$}  prerequisites: {}\n",
            "",
            l.prerequisites.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_groups_lessons_by_block_and_names_prerequisites() {
        let text = list_text(&all(None).unwrap());
        let heading = |b: &str| text.find(&format!("━━ {b} · ")).expect(b);
        assert!(heading("IP and link") < heading("TCP") && heading("TCP") < heading("TLS"));
        assert!(!text.contains("Other lessons"), "{text}");
        // Each lesson under its block's heading, with its prerequisites under its goal.
        let tcp = &text[heading("TCP")..heading("TLS")];
        // With its number, which `lesson run 2` takes.
        assert!(
            tcp.lines().any(|l| l.starts_with(" 2  tcp-handshake ")),
            "{tcp}"
        );
        assert!(!tcp.lines().any(|l| l.contains("  link-layer ")), "{tcp}");
        let after_handshake = tcp.split(" 2  tcp-handshake ").nth(1).unwrap_or_default();
        assert_eq!(
            after_handshake.lines().nth(2).map(str::trim),
            Some("prerequisites: layers"),
            "{tcp}"
        );
        // A folder whose lessons name no block is listed as it comes, without headings.
        let mut plain = all(None).unwrap();
        plain.truncate(2);
        for l in &mut plain {
            l.block = None;
        }
        let flat = list_text(&plain);
        assert!(!flat.contains("━━"), "{flat}");
        assert!(flat.starts_with("1  layers "), "{flat}");
        // Some with a block and some without: those without come last, under their own heading.
        plain[0].block = Some("TLS");
        let mixed = list_text(&plain);
        assert!(
            mixed.find("━━ TLS · 1 lesson").unwrap()
                < mixed.find("━━ Other lessons · 1 lesson").unwrap(),
            "{mixed}"
        );
    }
}
