//! The chat pane: what alice and bob each sent and received, and the input line where the user
//! types as one of them.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::ui::fit::{ellipsize, width_of, wrap_exact};
use crate::ui::keys::{keys_label, Action, Context};
use crate::ui::model::{Focus, Model};
use crate::ui::strings;

/// Draws the transcript into `area` (inside `block`) and the input line into `input`.
pub fn render(f: &mut Frame, model: &Model, area: Rect, input: Rect, block: Block) {
    let theme = model.theme;
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height.saturating_sub(u16::from(input.height > 0)) as usize;
    // Newest lines at the bottom; a long line wraps onto more rows (every character kept), so
    // lines are taken from the end until the rows are full.
    let end = model.chat.len().saturating_sub(model.chat_scroll);
    let width = usize::from(inner.width).max(1);
    let mut rows: Vec<Line> = Vec::new();
    for l in model.chat.get(..end).unwrap_or_default().iter().rev() {
        if rows.len() >= height {
            break;
        }
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
        rows.extend(lines.into_iter().rev());
    }
    rows.truncate(height);
    rows.reverse();
    let lines = rows;
    let text_area = Rect {
        height: height as u16,
        ..inner
    };
    f.render_widget(Paragraph::new(lines), text_area);
    if input.height == 0 {
        return;
    }
    let line = if !model.live {
        Line::from(Span::styled(strings::NO_INPUT, theme.dim()))
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
