//! The chat pane: what alice and bob each sent and received, and the input line where the user
//! types as one of them.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::ui::fit::{cut_mark, ellipsize, width_of, wrap_exact};
use crate::ui::keys::{keys_label, Action, Context};
use crate::ui::model::{Focus, Model};
use crate::ui::strings;

/// What the transcript shows: whole chat lines only (a long line wraps onto more rows, every
/// character kept), newest at the bottom, and how many lines are out of sight above and below
/// (the pane's title says so).
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// The rows, top to bottom.
    pub lines: Vec<Line<'static>>,
    /// Chat lines hidden above the first row.
    pub above: usize,
    /// Chat lines hidden below the last row (scrolled back).
    pub below: usize,
}

/// The transcript in `width` × `height`: lines are taken from the newest shown (the end, less
/// the scroll) back while they fit whole. A line taller than the whole pane shows its start,
/// its last row ending in "…".
pub fn transcript(model: &Model, width: usize, height: usize) -> Transcript {
    let theme = model.theme;
    let width = width.max(1);
    let end = model.chat.len().saturating_sub(model.chat_scroll);
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut shown = 0;
    for l in model.chat.get(..end).unwrap_or_default().iter().rev() {
        let (prefix, style) = if l.incoming {
            (format!("{} ◂ ", l.who), theme.server_side())
        } else {
            (
                format!("{} ▸ ", l.who),
                theme.client_side().add_modifier(Modifier::BOLD),
            )
        };
        let first = width.saturating_sub(width_of(&prefix)).max(1);
        let head = wrap_exact(&l.text, first).next().unwrap_or_default();
        let rest = l.text.get(head.len()..).unwrap_or_default();
        let mut lines = vec![Line::from(vec![
            Span::styled(prefix, style),
            Span::raw(head.to_string()),
        ])];
        lines.extend(wrap_exact(rest, width).map(|r| Line::from(r.to_string())));
        if rows.len() + lines.len() > height {
            if shown == 0 && height > 0 {
                lines.truncate(height);
                if let Some(last) = lines.pop() {
                    lines.push(cut_mark(last, width));
                }
                rows.extend(lines.into_iter().rev());
                shown = 1;
            }
            break;
        }
        rows.extend(lines.into_iter().rev());
        shown += 1;
    }
    rows.reverse();
    Transcript {
        lines: rows,
        above: end - shown,
        below: model.chat.len() - end,
    }
}

/// The pane's title in at most `room` columns, with how many lines are out of sight: "Chat · ↑ 3
/// above · ↓ 2 more", or shorter ("Chat ↑3 ↓2") on a narrow pane.
pub fn title(t: &Transcript, room: usize) -> String {
    let mut long = strings::CHAT.to_string();
    let mut short = strings::CHAT.to_string();
    if t.above > 0 {
        long.push_str(&format!(" · ↑ {} above", t.above));
        short.push_str(&format!(" ↑{}", t.above));
    }
    if t.below > 0 {
        long.push_str(&format!(" · ↓ {} more", t.below));
        short.push_str(&format!(" ↓{}", t.below));
    }
    if width_of(&long) <= room {
        long
    } else {
        short
    }
}

/// The rows the transcript has inside the pane at `area` (the input line takes the last).
pub fn transcript_size(area: Rect, input: Rect, size: Rect) -> (usize, usize) {
    let inner = crate::ui::pane::inner(area, size);
    (
        usize::from(inner.width),
        usize::from(inner.height.saturating_sub(u16::from(input.height > 0))),
    )
}

/// Draws `transcript` into `area` (inside `block`) and the input line into `input`.
pub fn render(
    f: &mut Frame,
    model: &Model,
    area: Rect,
    input: Rect,
    block: Block,
    transcript: Transcript,
) {
    let theme = model.theme;
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height.saturating_sub(u16::from(input.height > 0));
    // When lines are hidden above, the newest stays just over the input line and a row left
    // over (the next line did not fit whole) stays empty at the top.
    let used = u16::try_from(transcript.lines.len())
        .unwrap_or(u16::MAX)
        .min(height);
    let gap = if transcript.above > 0 {
        height - used
    } else {
        0
    };
    let text_area = Rect {
        y: inner.y + gap,
        height: used,
        ..inner
    };
    f.render_widget(Paragraph::new(transcript.lines), text_area);
    if input.height == 0 {
        return;
    }
    let line = if !model.live {
        Line::from(Span::styled(strings::NO_INPUT, theme.dim()))
    } else if model.senders.is_empty() {
        Line::from(Span::styled(strings::NOBODY_CONNECTED, theme.dim()))
    } else if model.focus == Focus::Input {
        let hint = format!(
            "  ({}: send as {})",
            keys_label(Context::Input, Action::SwitchSender),
            model
                .senders
                .get((model.sender + 1) % model.senders.len().max(1))
                .map_or("", String::as_str)
        );
        let prompt = Span::styled(
            format!("{}> ", model.sender_name()),
            theme.client_side().add_modifier(Modifier::BOLD),
        );
        let room = input.width.saturating_sub(prompt.width() as u16);
        let mut spans = vec![prompt];
        spans.extend(model.input.spans(room, theme));
        spans.push(Span::styled(hint, theme.dim()));
        Line::from(spans)
    } else {
        Line::from(vec![
            Span::styled(format!("{}> ", model.sender_name()), theme.dim()),
            Span::styled(model.input.value().to_string(), theme.dim()),
            Span::styled(format!("  {}", strings::INPUT_AWAY), theme.dim()),
        ])
    };
    f.render_widget(
        Paragraph::new(ellipsize(line, usize::from(input.width))),
        input,
    );
}
