//! Draws the timeline pane from the model: only the rows that fit are made.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::journey::Trace;
use crate::ui::fit::ellipsize;
use crate::ui::model::{Focus, Model};
use crate::ui::strings;
use crate::ui::timeline::row_line;

/// Draws the timeline into `area`: only the rows that fit are made.
pub fn render(f: &mut Frame, area: Rect, model: &Model, trace: &Trace, block: Block) {
    let state = &model.timeline;
    let names = &model.names;
    let theme = model.theme;
    let focused = model.focus == Focus::Timeline;
    let inner = block.inner(area);
    let height = inner.height as usize;
    let t0 = trace.frames().first().map_or(0, |f| f.frame.at.0);
    let lines: Vec<Line> = (state.offset..state.offset + height)
        .filter_map(|pos| {
            let at = state.row_at(pos)?;
            let line = row_line(trace, names, &state.index, at, t0, state.reveal, theme);
            // A row longer than the pane ends in "…" rather than being cut without a sign.
            let line = ellipsize(line, usize::from(inner.width));
            Some(if pos == state.selected {
                let style = if focused {
                    theme.selected()
                } else {
                    Style::new().add_modifier(ratatui::style::Modifier::UNDERLINED)
                };
                line.patch_style(style)
            } else {
                line
            })
        })
        .collect();
    let lines = if lines.is_empty() {
        let why = if !state.filter.is_empty() {
            strings::TIMELINE_FILTERED_OUT
        } else if model.live {
            strings::TIMELINE_EMPTY
        } else {
            strings::TIMELINE_EMPTY_FILE
        };
        vec![Line::from(Span::styled(why, theme.dim()))]
    } else {
        lines
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}
