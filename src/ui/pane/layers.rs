//! The layer columns: Application | TLS | TCP | IP | Link side by side, each listing its fields
//! (name and value) and how many bytes the layer adds, with the encapsulation strip above them and
//! the selected field's meaning below.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::ui::detail::{Detail, Item, UiField};
use crate::ui::fit::{ellipsize, shortened, width_of, wrap_exact, wrap_words};
use crate::ui::model::Model;
use crate::ui::strings;
use crate::ui::theme::{Theme, UiLayer};

/// What one line of a column shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A sub-heading.
    Heading(String),
    /// A line of a note.
    Note(String),
    /// A field's first line: its name (shortened if it had to be) and the start of its value
    /// (all of it when it fits).
    Name(usize, String, String),
    /// The rest of a field's value, carried on to an indented line.
    More(usize, String),
}

impl Piece {
    /// The field this line belongs to.
    pub fn field(&self) -> Option<usize> {
        match self {
            Piece::Name(f, ..) | Piece::More(f, _) => Some(*f),
            _ => None,
        }
    }
}

/// Indent of a value carried on to its own lines.
const CARRY: &str = "  ";
/// The shortest a shortened name gets ("Seque…").
const MIN_NAME: usize = 6;

/// A field's name shortened only as far as its value needs (kept for callers that place a name
/// and value on one line).
pub fn fit_name(name: &str, value_len: usize, width: u16) -> String {
    let room = (width as usize).saturating_sub(value_len + 1).max(MIN_NAME);
    format!("{} ", shortened(name, room))
}

/// Every line of `layer`'s column at `width` columns, with no value cut: a field that does not
/// fit on one line first has its name shortened, then its value goes on indented lines of its
/// own, as many as it needs.
pub fn column_pieces(detail: &Detail, layer: UiLayer, width: u16) -> Vec<Piece> {
    let width = usize::from(width).max(MIN_NAME + 2);
    let mut out = Vec::new();
    for item in &detail.columns[layer.index()] {
        match item {
            Item::Heading(h) => {
                out.push(Piece::Heading(shortened(&format!("─ {h}"), width)));
            }
            Item::Note(n) => out.extend(wrap_words(n, width).into_iter().map(Piece::Note)),
            Item::Field(i) => {
                let Some(field) = detail.fields.get(*i) else {
                    continue;
                };
                let value = field.value.as_str();
                let name_room = width.saturating_sub(width_of(value) + 1);
                if name_room >= width_of(&field.name).min(MIN_NAME) {
                    // Name (shortened if need be) and the whole value on one line.
                    let name = shortened(&field.name, name_room);
                    out.push(Piece::Name(*i, name, value.to_string()));
                    continue;
                }
                // The value on lines of its own under the name.
                out.push(Piece::Name(
                    *i,
                    shortened(&field.name, width),
                    String::new(),
                ));
                let room = width - CARRY.len();
                out.extend(wrap_exact(value, room).map(|l| Piece::More(*i, l.to_string())));
            }
        }
    }
    out
}

/// Which of `total` lines a column of `height` rows shows, so that `want` (a range of lines)
/// is in view: the first line, how many, and how many are hidden above and below (each takes
/// a row for its "↑ N above" or "↓ N more" mark).
pub fn column_window(
    total: usize,
    height: usize,
    want: Option<std::ops::Range<usize>>,
) -> (usize, usize, usize, usize) {
    if total <= height {
        return (0, total, 0, 0);
    }
    let want = want.unwrap_or(0..0);
    // From the top, the last row taken by the "↓ N more" mark.
    let top = height.saturating_sub(1);
    if want.end <= top || height < 3 {
        return (0, top, 0, total - top);
    }
    // The last lines, the first row taken by the "↑ N above" mark.
    let last = total - top;
    if want.start >= last {
        return (last, top, last, 0);
    }
    // In the middle: both marks.
    let body = height - 2;
    let start = want.end.saturating_sub(body).min(want.start).max(1);
    (start, body, start, total - start - body)
}

/// The lines a field takes in a column.
fn lines_of(pieces: &[Piece], field: Option<usize>) -> Option<std::ops::Range<usize>> {
    let field = field?;
    let first = pieces.iter().position(|p| p.field() == Some(field))?;
    let count = pieces[first..]
        .iter()
        .take_while(|p| p.field() == Some(field))
        .count();
    Some(first..first + count)
}

/// [`column_window`] for a column's lines, never ending part-way through a field (other than
/// the selected one): a field cut by the bottom mark goes below it whole.
fn window(
    pieces: &[Piece],
    height: usize,
    selected: Option<usize>,
) -> (usize, usize, usize, usize) {
    let (start, mut body, above, mut below) =
        column_window(pieces.len(), height, lines_of(pieces, selected));
    if below > 0 {
        let last = pieces.get(start + body - 1).and_then(Piece::field);
        let next = pieces.get(start + body).and_then(Piece::field);
        if last.is_some() && last == next && last != selected {
            let part = pieces[start..start + body]
                .iter()
                .rev()
                .take_while(|p| p.field() == last)
                .count();
            if part < body {
                body -= part;
                below += part;
            }
        }
    }
    (start, body, above, below)
}

/// The field drawn on row `row` (from 0, below the header) of `layer`'s column `width` wide and
/// `height` rows tall (header excluded), for mouse clicks.
pub fn field_at_row(
    detail: &Detail,
    layer: UiLayer,
    selected: Option<usize>,
    width: u16,
    height: usize,
    row: usize,
) -> Option<usize> {
    let pieces = column_pieces(detail, layer, width);
    let (start, body, above, _) = window(&pieces, height, selected);
    let row = row.checked_sub(usize::from(above > 0))?;
    if row >= body {
        return None;
    }
    pieces.get(start + row)?.field()
}

/// How many lines `layer`'s column takes at `width` ([`column_pieces`]'s count, without
/// making the text).
pub fn column_lines(detail: &Detail, layer: UiLayer, width: u16) -> usize {
    let width = usize::from(width).max(MIN_NAME + 2);
    detail.columns[layer.index()]
        .iter()
        .map(|item| match item {
            Item::Heading(_) => 1,
            Item::Note(n) => wrap_words(n, width).len(),
            Item::Field(i) => detail.fields.get(*i).map_or(0, |field| {
                let name_room = width.saturating_sub(width_of(&field.value) + 1);
                if name_room >= width_of(&field.name).min(MIN_NAME) {
                    1
                } else {
                    1 + wrap_exact(&field.value, width - CARRY.len()).count()
                }
            }),
        })
        .sum()
}

/// Shares `total` columns among the five layer columns so that together they need as few lines
/// as they can: each starts at 12 columns, and the room goes, a few columns at a time, to
/// whichever column saves the most lines per column given (a column whose fields all sit on one
/// line takes no more). What no column can use is spread evenly.
pub fn share_widths(detail: &Detail, total: u16) -> [u16; 5] {
    const NARROWEST: u16 = 12;
    /// How far ahead a column looks for its next saved line.
    const LOOK: u16 = 16;
    if total < NARROWEST * 5 {
        return [total / 5; 5];
    }
    let mut widths = [NARROWEST; 5];
    let mut left = total - NARROWEST * 5;
    let mut lines = UiLayer::ALL.map(|l| column_lines(detail, l, NARROWEST));
    while left > 0 {
        // For each column: the fewest extra columns that save a line, and how many they save.
        let mut best: Option<(usize, u16, usize)> = None;
        for (i, layer) in UiLayer::ALL.into_iter().enumerate() {
            for extra in 1..=LOOK.min(left) {
                let fewer = column_lines(detail, layer, widths[i] + extra);
                if fewer < lines[i] {
                    let saved = lines[i] - fewer;
                    // Compare saved/extra without fractions; ties go to the taller column.
                    let better = best.is_none_or(|(j, e, sv)| {
                        let (a, b) = (saved * usize::from(e), sv * usize::from(extra));
                        a > b || (a == b && lines[i] > lines[j])
                    });
                    if better {
                        best = Some((i, extra, saved));
                    }
                    break;
                }
            }
        }
        let Some((i, extra, saved)) = best else { break };
        widths[i] += extra;
        lines[i] -= saved;
        left -= extra;
    }
    for k in 0..usize::from(left) {
        widths[k % 5] += 1;
    }
    widths
}

/// The encapsulation strip, coloured by layer, in at most `width` columns: in full
/// ("29 B TLS record → 61 B TCP segment"), else with each layer's short name ("29 B TLS → 61 B
/// TCP"), else the numbers alone; never a number cut.
pub fn strip_line(detail: &Detail, theme: Theme, width: u16) -> Line<'static> {
    let width = usize::from(width);
    let mut form = Form::Full;
    let mut parts: Vec<(UiLayer, String)> = Vec::new();
    for f in [Form::Full, Form::Short, Form::Numbers] {
        form = f;
        parts = detail
            .strip
            .iter()
            .map(|(layer, text)| (*layer, strip_part(*layer, text, f)))
            .collect();
        let total: usize = parts.iter().map(|(_, t)| width_of(t)).sum::<usize>()
            + width_of(form.separator()) * parts.len().saturating_sub(1)
            + if f == Form::Numbers { 2 } else { 0 };
        if total <= width {
            break;
        }
    }
    let mut spans = Vec::new();
    for (i, (layer, text)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(form.separator(), theme.dim()));
        }
        spans.push(Span::styled(
            text,
            theme.layer(layer).add_modifier(Modifier::BOLD),
        ));
    }
    if form == Form::Numbers && !spans.is_empty() {
        spans.push(Span::styled(" B", theme.dim()));
    }
    Line::from(spans)
}

/// How much of each strip part is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// "29 B TLS record"
    Full,
    /// "29 B TLS"
    Short,
    /// "29"
    Numbers,
}

impl Form {
    fn separator(self) -> &'static str {
        if self == Form::Numbers {
            "→"
        } else {
            " → "
        }
    }
}

/// One part of the strip ("29 B TLS record") in `form`.
fn strip_part(layer: UiLayer, text: &str, form: Form) -> String {
    let mut words = text.split(' ');
    let (Some(n), Some(unit)) = (words.next(), words.next()) else {
        return text.to_string();
    };
    match form {
        Form::Full => text.to_string(),
        Form::Numbers => n.to_string(),
        Form::Short => {
            let name = match layer {
                UiLayer::Application => "text",
                UiLayer::Tls => "TLS",
                UiLayer::Tcp => "TCP",
                UiLayer::Ip if text.contains("ARP") => "ARP",
                UiLayer::Ip => "IP",
                UiLayer::Link => "frame",
            };
            format!("{n} {unit} {name}")
        }
    }
}

/// The explanation line of a field, in two parts: "name = value: " and what the value means
/// (the value said once: see [`strings::explanation`]).
pub fn explanation_line(field: &UiField) -> (String, String) {
    (
        format!("{} = {}: ", field.name, field.value),
        strings::explanation(&field.value, &field.meaning).to_string(),
    )
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
        let bytes = &detail.bytes[layer.index()];
        let long = width_of(detail.title(layer)) + 1 + width_of(bytes) > usize::from(col.width);
        let title = if layer == UiLayer::Application && long {
            "App"
        } else {
            detail.title(layer)
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(title, head_style),
            Span::styled(format!(" {bytes}"), theme.dim()),
        ])];
        let height = col.height.saturating_sub(1) as usize;
        let pieces = column_pieces(detail, layer, col.width);
        let (start, body, above, below) = window(&pieces, height, model.field);
        if above > 0 {
            lines.push(Line::from(Span::styled(
                format!("↑ {above} above"),
                theme.dim(),
            )));
        }
        for piece in pieces.iter().skip(start).take(body) {
            let line = match piece {
                Piece::Heading(h) => Line::from(Span::styled(h.clone(), theme.dim())),
                Piece::Note(n) => Line::from(Span::styled(n.clone(), theme.dim())),
                Piece::Name(_, name, value) if value.is_empty() => {
                    Line::from(Span::styled(name.clone(), theme.dim()))
                }
                Piece::Name(_, name, value) => Line::from(vec![
                    Span::styled(format!("{name} "), theme.dim()),
                    Span::styled(value.clone(), theme.layer(layer)),
                ]),
                Piece::More(_, value) => Line::from(vec![
                    Span::raw(CARRY),
                    Span::styled(value.clone(), theme.layer(layer)),
                ]),
            };
            let selected = piece.field().is_some() && piece.field() == model.field;
            lines.push(if selected {
                line.patch_style(if focused {
                    theme.selected()
                } else {
                    Style::new().add_modifier(Modifier::UNDERLINED)
                })
            } else {
                line
            });
        }
        if below > 0 {
            lines.push(Line::from(Span::styled(
                format!("↓ {below} more"),
                theme.dim(),
            )));
        }
        f.render_widget(Paragraph::new(lines), col);
    }
    // The selected field's meaning (or what is shown), wrapped; when it needs more rows than
    // there are, the last row ends in "…" (zoom with z gives the columns more room).
    let area = model.areas.meaning;
    let (head, text, style) = match model.field.and_then(|i| detail.fields.get(i)) {
        Some(field) => {
            let (head, text) = explanation_line(field);
            (
                head,
                text,
                theme.layer(field.layer).add_modifier(Modifier::BOLD),
            )
        }
        None => (
            String::new(),
            format!(
                "{} · {}",
                detail.title,
                strings::view_name(model.decrypted, model.plain)
            ),
            theme.dim(),
        ),
    };
    let width = usize::from(area.width);
    let rows = usize::from(area.height);
    let mut wrapped = wrap_words(&format!("{head}{text}"), width);
    let cut = wrapped.len() > rows;
    wrapped.truncate(rows);
    let last = wrapped.len().saturating_sub(1);
    let head_width = width_of(head.trim_end());
    let lines: Vec<Line> = wrapped
        .into_iter()
        .enumerate()
        .map(|(k, row)| {
            // The field's name and value keep their colour on the first row.
            let line = if k == 0 && !head.is_empty() && width_of(&row) >= head_width {
                let (h, rest) = crate::ui::fit::split_at_width(&row, head_width);
                Line::from(vec![
                    Span::styled(h.to_string(), style),
                    Span::raw(rest.to_string()),
                ])
            } else if head.is_empty() {
                Line::from(Span::styled(row, style))
            } else {
                Line::from(row)
            };
            match (k == last && cut, line.width() < width) {
                (true, true) => {
                    let mut line = line;
                    line.spans.push(Span::raw("…"));
                    line
                }
                (true, false) => ellipsize(line, width),
                _ => line,
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}
