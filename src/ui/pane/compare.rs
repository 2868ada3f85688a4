//! Compare mode: the same chat line sent over TLS and over plain TCP, side by side, frame against
//! frame. The demo runs a second chat (the "twin", with the other transport) and sends every line
//! typed in compare mode through both, so the two journeys can be set next to each other: the same
//! text, readable in the plain frames' bytes, random-looking in the TLS ones, and 22 bytes longer.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::layers::strip_line;
use crate::chat::{Direction as AppDir, Side};
use crate::journey::{StreamKind, Trace};
use crate::ui::detail::{Detail, Subject};
use crate::ui::hex::{bytes_per_line, layers_of, HexView};
use crate::ui::model::Model;
use crate::ui::strings;

/// The newest line a client wrote (not its `/name`), optionally with these exact bytes.
fn newest_write(trace: &Trace, bytes: Option<&[u8]>) -> Option<usize> {
    trace.app_events().iter().rposition(|e| {
        e.side == Side::Client
            && e.dir == AppDir::Write
            && !e.bytes.starts_with(b"/name ")
            && bytes.is_none_or(|b| &e.bytes[..] == b)
            && trace.journey(e).is_some()
    })
}

/// The line compared: the selected message if it was sent in both chats, else the newest line
/// sent in both.
fn pick(model: &Model, main: &Trace, twin: &Trace) -> Option<(usize, usize)> {
    let selected = match model.subject {
        Some(Subject::Message(i)) => main.app_events().get(i).map(|e| (i, e.bytes.clone())),
        _ => None,
    };
    if let Some((i, bytes)) = selected {
        if let Some(j) = newest_write(twin, Some(&bytes)) {
            return Some((i, j));
        }
    }
    let j = newest_write(twin, None)?;
    let bytes = twin.app_events().get(j)?.bytes.clone();
    Some((newest_write(main, Some(&bytes))?, j))
}

/// One side: what the transport is, the strip, and every frame of the journey in hex.
fn side_lines(model: &Model, trace: &Trace, event: usize, width: u16) -> Vec<Line<'static>> {
    let theme = model.theme;
    // The demo's clients, both chats' (a long demo forgets their `/name` lines).
    let mut names = model.names.clone();
    names.learn(trace.app_events());
    let detail = Detail::build(trace, &names, Subject::Message(event), model.decrypted);
    let mut out = vec![strip_line(&detail, theme, width)];
    if let Some(arrived) = arrival(trace, event) {
        out.push(Line::from(Span::styled(arrived, theme.dim())));
    }
    out.push(Line::default());
    let per = bytes_per_line(width);
    for &n in &detail.frames {
        let Some(entry) = trace.frame(n) else {
            continue;
        };
        out.push(Line::from(Span::styled(
            format!("frame #{n} ({} B)", entry.frame.data.len()),
            theme.heading(),
        )));
        let data = &entry.frame.data;
        let layers = layers_of(trace, entry);
        let view = HexView {
            data,
            layers: &layers,
            highlight: &[],
            changed: &[],
            cursor: None,
            scroll: 0,
            extra: Vec::new(),
            theme,
        };
        out.extend(view.all_lines(per));
        out.push(Line::default());
    }
    out
}

/// What the server's application made of the line (an attacker on the path may have changed,
/// doubled or stopped it): the lines it read on that connection from the write on, or the alert
/// its TLS sent instead.
fn arrival(trace: &Trace, event: usize) -> Option<String> {
    let e = trace.app_events().get(event)?;
    let written = String::from_utf8_lossy(&e.bytes).trim_end().to_string();
    // The server reads the line after its first frame left the client: a read from that frame
    // on, or at a time after it (an attacker that removed bytes before it makes the server's
    // reads land on earlier frames of the client's numbering).
    let first = trace.journey(e).and_then(|j| j.frames.first().copied())?;
    let sent = trace.frame(first).map(|f| f.frame.at)?;
    let events = trace.app_events();
    let read: Vec<String> = crate::journey::lines_read_on(trace, Side::Server, Some(e.conn))
        .into_iter()
        .filter(|(i, _)| {
            events.get(*i).is_some_and(|r| {
                r.at >= sent || trace.app_event_frame(r).is_some_and(|n| n >= first)
            })
        })
        .map(|(_, line)| line)
        .collect();
    let alert = trace
        .tcp()
        .find(e.conn.client, e.conn.server)
        .and_then(|c| {
            crate::journey::fatal_alert(
                trace,
                Some(c.index),
                crate::flow::Direction::ServerToClient,
            )
        })
        .map(|(_, name, _)| name);
    Some(match (read.first(), alert) {
        (None, Some(alert)) => {
            format!("the server read nothing more: its TLS sent a {alert} alert and closed")
        }
        (None, None) => "the server has not read it (yet)".into(),
        (Some(first), _) => {
            let times = read.iter().filter(|l| **l == *first).count();
            let changed = if *first == written {
                ""
            } else {
                " (changed in transit)"
            };
            let twice = match times {
                0 | 1 => String::new(),
                2 => ", twice".into(),
                n => format!(", {n} times"),
            };
            let after = alert
                .map(|a| format!("; then its TLS sent a {a} alert"))
                .unwrap_or_default();
            format!("the server read {first:?}{changed}{twice}{after}")
        }
    })
}

fn transport_of(trace: &Trace, event: usize) -> &'static str {
    let stream = trace
        .app_events()
        .get(event)
        .and_then(|e| trace.tcp().find(e.conn.client, e.conn.server))
        .map(|c| c.index);
    match stream.map(|s| (trace.stream_kind(s), trace.tls_session(s))) {
        Some((StreamKind::Tls, Some(s))) => s.version.map_or("TLS", crate::tls::version_name),
        Some((StreamKind::Tls, None)) => "TLS",
        _ => "plain TCP",
    }
}

/// Draws compare mode over `area`.
pub fn render(f: &mut Frame, area: Rect, model: &Model, main: &Trace, twin: Option<&Trace>) {
    let theme = model.theme;
    f.render_widget(Clear, area);
    let outer = Block::bordered()
        .style(theme.base())
        .border_style(theme.focused_border())
        .border_type(theme.focused_border_type())
        .title(format!(
            " {} · {} ",
            strings::COMPARE,
            strings::view_name(model.decrypted, false)
        ));
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let Some(twin) = twin else {
        f.render_widget(
            Paragraph::new(Span::styled(strings::COMPARE_STARTING, theme.dim())),
            inner,
        );
        return;
    };
    let Some((i, j)) = pick(model, main, twin) else {
        f.render_widget(
            Paragraph::new(Span::styled(strings::COMPARE_EMPTY, theme.dim())),
            inner,
        );
        return;
    };
    let halves = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
        .spacing(1)
        .split(inner);
    let text = main
        .app_events()
        .get(i)
        .map(|e| crate::report::quoted(&e.bytes, 40))
        .unwrap_or_default();
    for ((trace, event), half) in [(main, i), (twin, j)].into_iter().zip(halves.iter()) {
        let mut lines = vec![Line::from(vec![
            Span::styled(
                transport_of(trace, event),
                theme.heading().add_modifier(Modifier::UNDERLINED),
            ),
            Span::raw(format!(": {text}")),
        ])];
        lines.extend(side_lines(model, trace, event, half.width));
        let shown: Vec<Line> = lines.into_iter().skip(model.compare_scroll).collect();
        f.render_widget(Paragraph::new(shown), *half);
    }
}
