//! The lesson pane's state (`packetpath lesson run NAME` in the terminal UI): the step's text, the
//! actions it ran, each expectation ✓/✗ with the observed value, and the questions, answered in
//! the input line below it and judged against the student's own capture. The pane takes the chat
//! pane's place ([`super::pane::lesson`] draws it); the focus is selected in the timeline, the
//! layer columns and the hex pane like any field the student picks
//! ([`super::model::Model::select_lesson_focus`]).

use crate::lesson::runner::StepReport;

/// One question of the current step, as the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// What is asked.
    pub ask: String,
    /// The hint shown after a wrong answer.
    pub hint: Option<String>,
    /// Answered right (or given up on: the capture's answer is shown).
    pub done: bool,
    /// Wrong answers so far.
    pub tries: usize,
    /// What the last answer got ("✓ right …", "✗ … Hint: …").
    pub feedback: Option<String>,
    /// Asked before the step's actions run (a prediction), judged once they have.
    pub predict: bool,
    /// A prediction made, waiting for the actions to run to be judged.
    pub prediction: Option<String>,
}

/// The lesson's state on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LessonPane {
    /// The lesson's title.
    pub title: String,
    /// The step shown, from 0.
    pub step: usize,
    /// How many steps the lesson has.
    pub total: usize,
    /// The step's title.
    pub step_title: String,
    /// The step's text.
    pub text: String,
    /// Its actions as they ran ("▸ connect alice (…)"), or why one failed.
    pub actions: Vec<String>,
    /// The step judged against the capture.
    pub report: Option<StepReport>,
    /// The step's questions.
    pub questions: Vec<Question>,
    /// Lines scrolled down from the top: the step's title and text show first; ↓ scrolls to its
    /// results and questions when the pane has the focus (a "↓ N more" line says how many are
    /// below). While the answer line has the focus the pane shows its end instead.
    pub scroll: usize,
}

impl LessonPane {
    /// The first question not yet answered, which the input line answers.
    pub fn open_question(&self) -> Option<usize> {
        self.questions.iter().position(|q| !q.done)
    }
}
