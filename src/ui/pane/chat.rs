//! The chat pane: what alice and bob each sent and received, and the input line where the user
//! types as one of them.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::ui::keys::{keys_label, Action, Context};
use crate::ui::model::{Focus, Model};
use crate::ui::strings;

/// Draws the transcript into `area` (inside `block`) and the input line into `input`.
pub fn render(f: &mut Frame, model: &Model, area: Rect, input: Rect, block: Block) {
    let theme = model.theme;
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height.saturating_sub(u16::from(input.height > 0)) as usize;
    let end = model.chat.len().saturating_sub(model.chat_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = model
        .chat
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|l| {
            if l.incoming {
                Line::from(vec![
                    Span::styled(format!("{} ◂ ", l.who), theme.server_side()),
                    Span::raw(l.text.clone()),
                ])
            } else {
                Line::from(vec![
                    Span::styled(
                        format!("{} ▸ ", l.who),
                        theme.client_side().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(l.text.clone()),
                ])
            }
        })
        .collect();
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
    f.render_widget(Paragraph::new(line), input);
}
