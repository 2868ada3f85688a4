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
use super::strings;
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

/// The pane's text, wrapped to `width` columns: title, text, actions, results, questions.
fn lines(model: &Model, pane: &LessonPane, width: usize) -> Vec<Line<'static>> {
    let theme = model.theme;
    let bold = Modifier::BOLD;
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
                    if fv.inside_encryption && !model.decrypted && !model.plain {
                        strings::FOCUS_ENCRYPTED
                    } else {
                        &fv.value
                    }
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
    lines
}

/// The text's width and height inside the lesson pane as last laid out (the answer line takes the
/// pane's last row).
fn text_size(model: &Model) -> (usize, usize) {
    let inner = super::view::inner(model.areas.chat, model.areas.screen);
    let width = usize::from(inner.width.max(20)) - 1;
    let height = usize::from(inner.height.saturating_sub(u16::from(inner.height > 0)));
    (width, height)
}

/// Which of `total` lines show in `height` rows: the first one, how many, and the mark for the
/// last row when they do not all fit ("↓ N more", or "↑ N above" at the end); `how` says how to
/// scroll.
fn window(
    total: usize,
    height: usize,
    scroll: usize,
    at_end: bool,
    how: &str,
) -> (usize, usize, Option<String>) {
    if total <= height {
        return (0, total, None);
    }
    let body = height.saturating_sub(1);
    let last_start = total - body;
    let start = if at_end {
        last_start
    } else {
        scroll.min(last_start)
    };
    let below = total - start - body;
    let mark = if below > 0 {
        format!("↓ {below} more lines ({how})")
    } else {
        format!("↑ {start} lines above ({how})")
    };
    (start, body, Some(mark))
}

/// The furthest the pane scrolls: its last line on its last text row.
pub fn max_scroll(model: &Model) -> usize {
    let Some(pane) = &model.lesson else { return 0 };
    let (width, height) = text_size(model);
    let total = lines(model, pane, width).len();
    if total <= height {
        0
    } else {
        total - height.saturating_sub(1)
    }
}

/// Draws the lesson pane into `area` (inside `block`) and the answer line into `input`: the text
/// from its top (title and explanation first), with a "↓ N more" mark when it does not fit.
pub fn render(f: &mut Frame, model: &Model, area: Rect, input: Rect, block: Block) {
    let theme = model.theme;
    let Some(pane) = &model.lesson else { return };
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bold = Modifier::BOLD;
    let width = usize::from(inner.width.max(20)) - 1;
    let lines = lines(model, pane, width);
    let height = usize::from(inner.height.saturating_sub(u16::from(input.height > 0)));
    // While the student answers, the question and its feedback (at the end) show.
    let how = if model.focus == Focus::Chat {
        format!(
            "{} {} scroll",
            keys_label(Context::Navigation, Action::Down),
            keys_label(Context::Navigation, Action::Up)
        )
    } else {
        format!(
            "{} to this pane, then {}",
            keys_label(Context::Navigation, Action::NextPane),
            keys_label(Context::Navigation, Action::Down)
        )
    };
    let (start, count, mark) = window(
        lines.len(),
        height,
        pane.scroll,
        model.focus == Focus::Input,
        &how,
    );
    let mut shown: Vec<Line> = lines.into_iter().skip(start).take(count).collect();
    if let Some(mark) = mark {
        shown.push(Line::from(Span::styled(mark, theme.heading())));
    }
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
