//! Draws the timeline pane from the model: only the rows that fit are made.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::journey::Trace;
use crate::ui::fit::ellipsize;
use crate::ui::index::RowKind;
use crate::ui::model::{Focus, Model};
use crate::ui::strings;
use crate::ui::timeline::{row_line, Clock, Columns, DELTA_MIN_WIDTH};

/// Where the rows go inside the pane (`inner`): under a line of column headings when the pane
/// is at least 5 rows tall, else all of it.
pub fn rows_area(inner: Rect) -> Rect {
    let header = u16::from(inner.height >= 5);
    Rect {
        y: inner.y + header,
        height: inner.height - header,
        ..inner
    }
}

/// How far back to look for the frame shown above a row, for its Δt.
const DELTA_LOOKBACK: usize = 256;

/// The time of the frame shown nearest above visible position `pos`, if one is within reach.
pub fn previous_frame_at(model: &Model, trace: &Trace, pos: usize) -> Option<i128> {
    let state = &model.timeline;
    (pos.saturating_sub(DELTA_LOOKBACK)..pos)
        .rev()
        .find_map(|p| match state.index.rows.get(state.row_at(p)?)?.kind {
            RowKind::Frame(n) => trace.frame(n).map(|f| f.frame.at.0),
            _ => None,
        })
}

/// Draws the timeline into `area`: only the rows that fit are made.
pub fn render(f: &mut Frame, area: Rect, model: &Model, trace: &Trace, block: Block) {
    let state = &model.timeline;
    let names = &model.names;
    let theme = model.theme;
    let focused = model.focus == Focus::Timeline;
    let inner = block.inner(area);
    let rows = rows_area(inner);
    let height = rows.height as usize;
    let t0 = trace.first_time().map_or(0, |t| t.0);
    let delta = inner.width >= DELTA_MIN_WIDTH;
    let columns = Columns::of(trace);
    let header = (rows.y > inner.y).then(|| {
        let text = columns.headings(delta);
        ellipsize(
            Line::from(Span::styled(text, theme.heading())),
            usize::from(inner.width),
        )
    });
    let lines: Vec<Line> = (state.offset..state.offset + height)
        .filter_map(|pos| {
            let at = state.row_at(pos)?;
            let clock = Clock {
                t0,
                previous: if delta {
                    previous_frame_at(model, trace, pos)
                } else {
                    None
                },
                delta,
                columns,
            };
            let line = row_line(trace, names, &state.index, at, clock, state.reveal, theme);
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
    let lines: Vec<Line> = header.into_iter().chain(lines).collect();
    f.render_widget(Paragraph::new(lines).block(block), area);
}
