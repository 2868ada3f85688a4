//! Draws the lesson pane: the step's title and text from the top, its actions, each expectation
//! ✓/✗ with the observed value, and the questions, with a "↓ N more" mark when they do not fit.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::ui::keys::{keys_label, Action, Context};
use crate::ui::lesson::LessonPane;
use crate::ui::model::{Focus, Model};
use crate::ui::strings;

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
        // A check's value that answers a question still open waits for the answer.
        let open: Vec<&str> = report
            .answers
            .iter()
            .zip(&pane.questions)
            .filter(|(_, q)| !q.done)
            .filter_map(|(a, _)| a.as_deref().ok())
            .collect();
        for c in &report.checks {
            lines.extend(wrapped(&c.line_for_student(&open), plain));
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
    let inner = super::inner(model.areas.chat, model.areas.screen);
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
