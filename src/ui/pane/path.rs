//! The path view: one IP packet on every link of a path of routers, in place of the layer
//! columns. The hops as a strip (`client → r1 → r2 → server`) with the time at each hop and the
//! time between hops, then the copies — one column each where the pane is wide enough, a compact
//! table of one row each otherwise — with what a router changed highlighted (link addresses, TTL,
//! IPv4 header checksum), and a line saying whether the bytes above IP are identical.
//!
//! Nothing is cut without a mark: a row too wide puts its MAC addresses on the line below, and
//! the pane's title says "↓ N more" when lines are out of sight.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::super::detail::Subject;
use super::super::fit::{ellipsize, wrap_words};
use super::super::model::Model;
use super::super::strings;
use super::super::theme::Theme;
use crate::journey::Trace;
use crate::ui::hops::{cells, stops, verdict};
pub use crate::ui::hops::{copies, Copy};

/// The frame the path view is about: the selected frame, or the selected message's first.
pub fn selected_frame(model: &Model) -> Option<u32> {
    match model.subject? {
        Subject::Frame(n, _) => Some(n),
        Subject::Message(_) => model.detail.frames.first().copied(),
    }
}

/// The hops as a strip, with the time the packet reached each node (since the first frame of
/// the capture) and the time between two nodes, in pieces that wrap between hops.
fn strip(copies: &[Copy], t0: i128, theme: Theme) -> Vec<Vec<Span<'static>>> {
    stops(copies, t0)
        .into_iter()
        .map(|stop| match (stop.at, stop.after) {
            (Some(at), _) => vec![Span::styled(
                format!("{} {at} ", stop.node),
                theme.heading(),
            )],
            (None, after) => vec![
                Span::styled(format!("─ {} → ", after.unwrap_or_default()), theme.dim()),
                Span::styled(format!("{} ", stop.node), theme.heading()),
            ],
        })
        .collect()
}

/// Packs pieces into lines of at most `width` columns, a piece never split (a piece wider than
/// the line is ellipsized, which marks the cut).
fn pack(pieces: Vec<Vec<Span<'static>>>, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for piece in pieces {
        let w: usize = piece.iter().map(Span::width).sum();
        if used > 0 && used + w > width {
            lines.push(ellipsize(Line::from(std::mem::take(&mut current)), width));
            used = 0;
        }
        used += w;
        current.extend(piece);
    }
    if !current.is_empty() {
        lines.push(ellipsize(Line::from(current), width));
    }
    lines
}

/// The lines of the path view for frame `n` in a pane `width` columns wide (`n`'s own frame
/// number marked as selected); `None` when the packet was seen on one link only.
pub fn lines(trace: &Trace, n: u32, width: u16, theme: Theme) -> Option<Vec<Line<'static>>> {
    let copies = copies(trace, n);
    if copies.is_empty() {
        return None;
    }
    let width = usize::from(width);
    let t0 = trace.first_time().map_or(0, |t| t.0);
    let mut out = pack(strip(&copies, t0, theme), width);
    // What matters most first: whether everything above IP crossed the path untouched.
    let (verdict, identical) = verdict(trace, &copies);
    let style = if identical {
        theme.heading()
    } else {
        theme.warn()
    };
    out.extend(
        wrap_words(&verdict, width)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, style))),
    );
    // A fragment: which piece of which packet, and where a router cut it smaller again.
    let path: Vec<u32> = copies.iter().map(|c| c.frame).collect();
    let fragment = copies
        .first()
        .and_then(|c| crate::report::fragment_line(trace, c.frame))
        .map(|l| format!("IP {l}"));
    let cut = crate::report::cut_text(trace, &path).map(|c| strings::path_cut(&c));
    for text in fragment.into_iter().chain(cut) {
        out.extend(
            wrap_words(&text, width)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme.base()))),
        );
    }
    let rows: Vec<[(String, bool); 6]> = copies
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let prev = i.checked_sub(1).and_then(|p| copies.get(p));
            cells(c, prev, prev.map(|p| p.at))
        })
        .collect();
    let labels = strings::PATH_ROWS;
    let changed_style = theme.warn();
    // One column per copy, when every column fits beside the labels.
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let col_w: Vec<usize> = rows
        .iter()
        .map(|r| {
            r.iter()
                .take(5)
                .map(|(s, _)| s.chars().count())
                .chain(
                    // MACs on two rows of the column: source, then "→ destination".
                    r[5].0.split(" → ").map(|s| s.chars().count() + 2),
                )
                .max()
                .unwrap_or(0)
        })
        .collect();
    let wide = label_w + 1 + col_w.iter().map(|w| w + 2).sum::<usize>() <= width;
    if wide {
        for (k, label) in labels.iter().enumerate() {
            let mut parts: Vec<Vec<String>> = vec![Vec::new(); rows.len()];
            for (i, r) in rows.iter().enumerate() {
                if k == 5 {
                    let mut it = r[5].0.split(" → ");
                    parts[i].push(it.next().unwrap_or_default().to_string());
                    parts[i].push(it.next().map_or(String::new(), |d| format!("→ {d}")));
                } else {
                    parts[i].push(r[k].0.clone());
                }
            }
            let height = parts.iter().map(Vec::len).max().unwrap_or(1);
            for line in 0..height {
                let mut spans = vec![Span::styled(
                    format!(
                        "{:<label_w$} ",
                        if line == 0 { *label } else { "" },
                        label_w = label_w
                    ),
                    theme.dim(),
                )];
                for (i, r) in rows.iter().enumerate() {
                    let text = parts[i].get(line).cloned().unwrap_or_default();
                    let style = if r[k].1 {
                        changed_style
                    } else if k == 0 && copies.get(i).is_some_and(|c| c.frame == n) {
                        // The frame selected in the timeline.
                        theme.selected()
                    } else {
                        theme.base()
                    };
                    spans.push(Span::styled(format!("{text:<w$}  ", w = col_w[i]), style));
                }
                out.push(Line::from(spans));
            }
        }
    } else {
        // The compact table: one row per copy, its MACs on the line below when the row is
        // too wide for them.
        let w: Vec<usize> = (0..5)
            .map(|k| {
                rows.iter()
                    .map(|r| r[k].0.chars().count())
                    .chain(std::iter::once(strings::PATH_COLUMNS[k].chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let fixed: usize = w.iter().map(|w| w + 1).sum();
        let mac_w = rows
            .iter()
            .map(|r| r[5].0.chars().count())
            .max()
            .unwrap_or(0);
        let one_line = fixed + mac_w <= width;
        let mut header: Vec<Span<'static>> = (0..5)
            .map(|k| {
                Span::styled(
                    format!("{:<w$} ", strings::PATH_COLUMNS[k], w = w[k]),
                    theme.dim(),
                )
            })
            .collect();
        if one_line {
            header.push(Span::styled(strings::PATH_COLUMNS[5], theme.dim()));
        }
        out.push(ellipsize(Line::from(header), width));
        for (i, r) in rows.iter().enumerate() {
            let selected = copies.get(i).is_some_and(|c| c.frame == n);
            let mut spans: Vec<Span<'static>> = (0..5)
                .map(|k| {
                    let style = if r[k].1 {
                        changed_style
                    } else if k == 0 && selected {
                        // The frame selected in the timeline.
                        theme.selected()
                    } else {
                        theme.base()
                    };
                    Span::styled(format!("{:<w$} ", r[k].0, w = w[k]), style)
                })
                .collect();
            let mac_style = if r[5].1 { changed_style } else { theme.base() };
            if one_line {
                spans.push(Span::styled(r[5].0.clone(), mac_style));
                out.push(ellipsize(Line::from(spans), width));
            } else {
                out.push(ellipsize(Line::from(spans), width));
                out.push(ellipsize(
                    Line::from(vec![
                        Span::styled(format!("  {} ", strings::PATH_COLUMNS[5]), theme.dim()),
                        Span::styled(r[5].0.clone(), mac_style),
                    ]),
                    width,
                ));
            }
        }
    }
    out.extend(
        wrap_words(strings::PATH_CHANGED, width)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.dim()))),
    );
    Some(out)
}

/// Draws the path view of the selected frame in `area` (in place of the layer columns), in the
/// block `block` makes from a title; says so when the selected packet was seen on one link only.
pub fn render(
    f: &mut Frame,
    model: &Model,
    trace: &Trace,
    area: Rect,
    block: impl Fn(String) -> Block<'static>,
) {
    let theme = model.theme;
    let mut title = title(model, trace);
    let inner = block(title.clone()).inner(area);
    let lines = selected_frame(model)
        .and_then(|n| lines(trace, n, inner.width, theme))
        .unwrap_or_else(|| {
            vec![ellipsize(
                Line::from(Span::styled(strings::PATH_NONE, theme.dim())),
                usize::from(inner.width),
            )]
        });
    let hidden = lines.len().saturating_sub(usize::from(inner.height));
    if hidden > 0 {
        title.push_str(&format!(" · ↓ {hidden} more (z: zoom)"));
    }
    f.render_widget(block(title), area);
    f.render_widget(Paragraph::new(lines), inner);
}

/// The path view's title: what it shows.
pub fn title(model: &Model, trace: &Trace) -> String {
    let n = selected_frame(model);
    let copies = n.map_or(0, |n| trace.path_of(n).len());
    match n {
        Some(n) if copies > 1 => strings::path_title(trace.path_of(n)[0], copies),
        _ => strings::PATH.to_string(),
    }
}
