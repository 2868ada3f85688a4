//! The lesson pane (`packetpath lesson run NAME` in the terminal UI): the step's text, the actions
//! it ran, the focused field, each expectation ✓/✗ with the observed value, and the questions,
//! answered in the input line below it and judged against the student's own capture. The pane
//! takes the chat pane's place; the focus is selected in the timeline, the layer columns and the
//! hex pane like any field the student picks.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::keys::{keys_label, Action, Context};
use super::model::{Focus, Model};
use crate::journey::Trace;
use crate::lesson::checks::FocusView;
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
    /// Lines scrolled back from the end (the step's results show at the bottom; the lesson pane
    /// scrolls up to the start of its text with ↑ when it has the focus).
    pub scroll: usize,
}

impl LessonPane {
    /// The first question not yet answered, which the input line answers.
    pub fn open_question(&self) -> Option<usize> {
        self.questions.iter().position(|q| !q.done)
    }
}

/// Selects the focus in the timeline, the columns and the hex pane: the frame's row, then the
/// field whose bytes are exactly the focus's (or, failing that, its name in its layer).
pub fn select_focus(model: &mut Model, trace: &Trace, focus: &FocusView) {
    let Some(&row) = model
        .timeline
        .index
        .frame_row
        .get((focus.frame as usize).saturating_sub(1))
    else {
        return;
    };
    model.timeline.follow = false;
    model.timeline.selected = model.timeline.position_of(row as usize);
    let height = model.timeline_height();
    model.timeline.scroll_into_view(height);
    model.refresh_detail(trace, false);
    model.hex_frame = Some(focus.frame);
    let by_bytes = focus.range.as_ref().and_then(|want| {
        model
            .detail
            .fields
            .iter()
            .position(|f| f.spans.iter().any(|(n, r)| *n == focus.frame && r == want))
    });
    let short = focus.field.rsplit(" › ").next().unwrap_or(&focus.field);
    let by_name = || {
        model
            .detail
            .fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(short))
    };
    if let Some(i) = by_bytes.or_else(by_name) {
        model.select_field(i);
        model.focus = Focus::Layers;
    }
}

/// Draws the lesson pane into `area` (inside `block`) and the answer line into `input`.
pub fn render(f: &mut Frame, model: &Model, area: Rect, input: Rect, block: Block) {
    let theme = model.theme;
    let Some(pane) = &model.lesson else { return };
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bold = Modifier::BOLD;
    let width = usize::from(inner.width.max(20)) - 1;
    // Every line wrapped here, so that the pane knows its height and can keep the results (at
    // the end) in view.
    let wrapped = |text: &str, style: Style| -> Vec<Line<'static>> {
        crate::lesson::stepper::wrap(text, width, "")
            .lines()
            .map(|l| Line::from(Span::styled(l.to_string(), style)))
            .collect()
    };
    let plain = Style::new();
    let mut lines = wrapped(
        &format!(
            "Step {}/{} · {}",
            pane.step + 1,
            pane.total,
            pane.step_title
        ),
        theme.client_side().add_modifier(bold),
    );
    lines.extend(wrapped(&pane.text, plain));
    for a in &pane.actions {
        lines.extend(wrapped(a, theme.dim()));
    }
    if let Some(report) = &pane.report {
        match &report.focus {
            Some(Ok(fv)) => lines.extend(wrapped(
                &format!(
                    "◎ frame #{} · {} › {} = {}",
                    fv.frame,
                    fv.layer.name(),
                    fv.field,
                    fv.value
                ),
                theme.focused_border(),
            )),
            Some(Err(why)) => lines.extend(wrapped(
                &format!("◎ (the focus cannot be shown: {why})"),
                plain,
            )),
            None => {}
        }
        for c in &report.checks {
            let line = if c.passed {
                format!("✓ {} — {}", c.that, c.observed)
            } else {
                format!(
                    "✗ {} — expected {}; observed {}",
                    c.that, c.expected, c.observed
                )
            };
            lines.extend(wrapped(&line, plain));
        }
    }
    for q in &pane.questions {
        lines.extend(wrapped(&format!("? {}", q.ask), plain.add_modifier(bold)));
        if let Some(fb) = &q.feedback {
            lines.extend(wrapped(&format!("- {fb}"), plain));
        }
    }
    let height = usize::from(inner.height.saturating_sub(u16::from(input.height > 0)));
    let skip = lines
        .len()
        .saturating_sub(height)
        .saturating_sub(pane.scroll);
    let shown: Vec<Line> = lines.into_iter().skip(skip).take(height).collect();
    let text_area = Rect {
        height: height as u16,
        ..inner
    };
    f.render_widget(Paragraph::new(shown), text_area);
    if input.height == 0 {
        return;
    }
    let line = match pane.open_question() {
        Some(_) if model.focus == Focus::Input => {
            let prompt = Span::styled("answer> ", theme.client_side().add_modifier(bold));
            let room = input.width.saturating_sub(prompt.width() as u16);
            let mut spans = vec![prompt];
            spans.extend(model.input.spans(room, theme));
            spans.push(Span::styled(
                format!(
                    "  ({}: done)",
                    keys_label(Context::Input, Action::LeaveInput)
                ),
                theme.dim(),
            ));
            Line::from(spans)
        }
        Some(_) => Line::from(Span::styled(
            format!(
                "{}: answer · {}/{}: next/previous step",
                keys_label(Context::Navigation, Action::FocusInput),
                keys_label(Context::Lesson, Action::LessonNext),
                keys_label(Context::Lesson, Action::LessonPrev)
            ),
            theme.dim(),
        )),
        None => Line::from(Span::styled(
            format!(
                "{}/{}: next/previous step",
                keys_label(Context::Lesson, Action::LessonNext),
                keys_label(Context::Lesson, Action::LessonPrev)
            ),
            theme.dim(),
        )),
    };
    f.render_widget(Paragraph::new(line), input);
}
