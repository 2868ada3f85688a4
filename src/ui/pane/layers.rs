//! The layer columns: Application | TLS | TCP | IP | Link side by side, each listing its fields
//! (name and value) and how many bytes the layer adds, with the encapsulation strip above them and
//! the selected field's meaning below.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use crate::ui::detail::{Detail, Item};
use crate::ui::model::Model;
use crate::ui::strings;
use crate::ui::theme::{Theme, UiLayer};

/// The first item line drawn in a column of `height` lines, so that the selected field shows.
pub fn column_offset(
    detail: &Detail,
    layer: UiLayer,
    field: Option<usize>,
    height: usize,
) -> usize {
    let items = &detail.columns[layer.index()];
    let Some(pos) = field.and_then(|f| items.iter().position(|i| *i == Item::Field(f))) else {
        return 0;
    };
    if pos < height {
        0
    } else {
        // Show the field's sub-heading too, when it has one just above.
        (pos + 2).saturating_sub(height).min(pos)
    }
}

/// A field's name, shortened so that its value still fits in a column `width` wide.
pub fn fit_name(name: &str, value_len: usize, width: u16) -> String {
    let width = width as usize;
    let room = width.saturating_sub(value_len + 1).max(6);
    if name.chars().count() <= room {
        format!("{name} ")
    } else {
        let cut: String = name.chars().take(room.saturating_sub(1)).collect();
        format!("{cut}… ")
    }
}

/// The encapsulation strip, coloured by layer.
pub fn strip_line(detail: &Detail, theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (layer, text)) in detail.strip.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" → ", theme.dim()));
        }
        spans.push(Span::styled(
            text.clone(),
            theme.layer(*layer).add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// Draws the columns into `area`.
pub fn render(f: &mut Frame, model: &Model, area: Rect, block: Block, focused: bool) {
    let theme = model.theme;
    let detail = &model.detail;
    f.render_widget(block, area);
    if detail.fields.is_empty() && detail.columns.iter().all(Vec::is_empty) {
        let inner = model.areas.columns[0].union(model.areas.columns[4]);
        f.render_widget(
            Paragraph::new(Span::styled(strings::NOTHING_SELECTED, theme.dim())),
            inner,
        );
        return;
    }
    for layer in UiLayer::ALL {
        let col = model.areas.columns[layer.index()];
        if col.height == 0 || col.width == 0 {
            continue;
        }
        let head_style = theme.layer(layer).add_modifier(Modifier::BOLD);
        let head_style = if focused && model.column == layer {
            head_style.add_modifier(Modifier::UNDERLINED)
        } else {
            head_style
        };
        let title = if layer == UiLayer::Application && col.width < 20 {
            "App"
        } else {
            layer.title()
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(title, head_style),
            Span::styled(format!(" {}", detail.bytes[layer.index()]), theme.dim()),
        ])];
        let height = col.height.saturating_sub(1) as usize;
        let offset = column_offset(detail, layer, model.field, height);
        for item in detail.columns[layer.index()]
            .iter()
            .skip(offset)
            .take(height)
        {
            lines.push(match item {
                Item::Heading(h) => Line::from(Span::styled(format!("─ {h}"), theme.dim())),
                Item::Note(n) => Line::from(Span::styled(n.clone(), theme.dim())),
                Item::Field(i) => {
                    let Some(field) = detail.fields.get(*i) else {
                        continue;
                    };
                    let line = Line::from(vec![
                        Span::styled(
                            fit_name(&field.name, field.value.chars().count(), col.width),
                            theme.dim(),
                        ),
                        Span::styled(field.value.clone(), theme.layer(layer)),
                    ]);
                    if model.field == Some(*i) {
                        line.patch_style(if focused {
                            theme.selected()
                        } else {
                            Style::new().add_modifier(Modifier::UNDERLINED)
                        })
                    } else {
                        line
                    }
                }
            });
        }
        // A note is a sentence: let it wrap; fields stay one per line so the column stays a list.
        let wrap = detail.columns[layer.index()]
            .iter()
            .all(|i| matches!(i, Item::Note(_)));
        let p = Paragraph::new(lines);
        let p = if wrap { p.wrap(Wrap { trim: true }) } else { p };
        f.render_widget(p, col);
    }
    let meaning = model
        .field
        .and_then(|i| detail.fields.get(i))
        .map(|field| {
            Line::from(vec![
                Span::styled(
                    format!("{} = {}: ", field.name, field.value),
                    theme.layer(field.layer).add_modifier(Modifier::BOLD),
                ),
                Span::raw(field.meaning.clone()),
            ])
        })
        .unwrap_or_else(|| {
            Line::from(Span::styled(
                format!(
                    "{} · {}",
                    detail.title,
                    strings::view_name(model.decrypted, model.plain)
                ),
                theme.dim(),
            ))
        });
    f.render_widget(
        Paragraph::new(meaning).wrap(Wrap { trim: true }),
        model.areas.meaning,
    );
}
