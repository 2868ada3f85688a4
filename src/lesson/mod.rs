//! Lessons: step-by-step, self-checking walks through the stack, written by teachers as TOML
//! files (the format is described in `lessons/README.md`).
//!
//! A lesson declares its lab (link, MTU, loss) and the server's transport in its header, because
//! the lab is entered once per process before anything else runs. Each step has a text for the
//! student, actions run with real sockets ([`actions`]), a focus on one field of one packet, and
//! expectations and questions written in a small query language ([`expr`], [`query`],
//! [`functions`], [`props`]) that reads the live capture.
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
mod calls;
pub mod catalog;
pub mod checks;
pub mod expr;
pub mod filter;
pub mod format;
pub mod functions;
pub mod props;
mod props_more;
pub mod query;
pub mod record;
pub mod reference;
pub mod runner;
pub mod state;
pub mod stepper;
pub mod value;

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

/// One line per lesson for `packetpath lesson list`: name, title, lab and goal.
pub fn list_text(lessons: &[Lesson]) -> String {
    let width = lessons.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in lessons {
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
        if l.lab.ipv6 {
            lab.push("IPv6".into());
        }
        out.push_str(&format!(
            "{:width$}  {}  [{}]\n{:width$}  {}\n",
            l.name,
            l.title,
            lab.join(", "),
            "",
            value::shorten(&l.goal.replace('\n', " "), 100)
        ));
    }
    out
}
