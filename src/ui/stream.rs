//! Follow stream: one TCP connection's conversation, reassembled, both directions in their own
//! colour — decrypted where the session keys are known (and the endpoints' view is on); in the
//! eavesdropper's view each encrypted record as it travels: its header and its bytes in hex.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::detail::span_bytes;
use super::index::Names;
use super::strings;
use super::theme::Theme;
use crate::flow::Direction;
use crate::journey::{StreamKind, Trace};
use crate::tls::ContentType;

fn side(dir: Direction, client: &str) -> String {
    match dir {
        Direction::ClientToServer => format!("{client} → server"),
        Direction::ServerToClient => format!("server → {client}"),
    }
}

/// The conversation of connection `stream`, as lines.
pub fn lines(
    trace: &Trace,
    names: &Names,
    stream: usize,
    decrypted: bool,
    theme: Theme,
) -> Vec<Line<'static>> {
    let Some(conn) = trace.tcp().connection(stream) else {
        return vec![Line::from("no such connection")];
    };
    let client = names.client(conn.client);
    let style = |dir: Direction| match dir {
        Direction::ClientToServer => theme.client_side(),
        Direction::ServerToClient => theme.server_side(),
    };
    let mut out = vec![Line::from(Span::styled(
        format!(
            "stream {stream}: {client} {} ⇄ server {} · {}",
            conn.client,
            conn.server,
            match trace.tls_session(stream) {
                Some(s) => format!(
                    "{} {}",
                    s.version.map_or("TLS", crate::tls::version_name),
                    s.cipher_suite_name.unwrap_or("")
                ),
                None => "plain TCP".into(),
            }
        ),
        theme.heading(),
    ))];
    match trace.stream_kind(stream) {
        StreamKind::Tls => {
            for rec in trace.records().iter().filter(|r| r.stream == stream) {
                let who = side(rec.dir, &client);
                let info = &rec.info;
                if info.encrypted && !decrypted {
                    // What a capture holds: the header, then bytes unreadable without the keys.
                    out.push(Line::from(Span::styled(
                        format!(
                            "{who}: [#{} TLS {}]",
                            rec.frame,
                            strings::wire_record(
                                info.header.content_type,
                                info.header.record_len()
                            )
                        ),
                        style(rec.dir),
                    )));
                    let spans = trace.stream_spans(rec.stream, rec.dir, rec.stream_range.clone());
                    let bytes = span_bytes(trace, &spans);
                    out.extend(hex_lines(&bytes, style(rec.dir)));
                    continue;
                }
                match (&info.decrypted, decrypted) {
                    (Some(p), true) if p.content_type == ContentType::ApplicationData => {
                        let data = trace
                            .plaintext(rec)
                            .unwrap_or_else(|| crate::report::NOT_REOPENED.as_bytes().to_vec());
                        for text in String::from_utf8_lossy(&data).lines() {
                            out.push(Line::from(vec![
                                Span::styled(format!("{who}: "), style(rec.dir)),
                                Span::styled(text.to_string(), style(rec.dir)),
                            ]));
                        }
                    }
                    _ => {
                        let what = if info.handshake.is_empty() {
                            match (&info.decrypted, decrypted) {
                                (Some(p), true) => {
                                    format!("{} ({} B)", p.content_type, p.len)
                                }
                                _ if info.encrypted => {
                                    format!("{} B of ciphertext", info.header.length)
                                }
                                _ => info.header.content_type.to_string(),
                            }
                        } else {
                            info.handshake
                                .iter()
                                .map(|h| h.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        out.push(Line::from(Span::styled(
                            format!("{who}: [#{} TLS {what}]", rec.frame),
                            theme.dim(),
                        )));
                    }
                }
            }
        }
        StreamKind::Plain => {
            let mut pieces: Vec<(u32, Direction, Vec<u8>)> = Vec::new();
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                for c in conn.carriers(dir) {
                    let range = c.stream_offset..c.stream_offset + u64::from(c.len);
                    let bytes = span_bytes(trace, &trace.stream_spans(stream, dir, range));
                    pieces.push((c.frame, dir, bytes));
                }
            }
            pieces.sort_by_key(|(f, _, _)| *f);
            for (_, dir, bytes) in pieces {
                let who = side(dir, &client);
                for text in String::from_utf8_lossy(&bytes).lines() {
                    out.push(Line::from(Span::styled(
                        format!("{who}: {text}"),
                        style(dir),
                    )));
                }
            }
        }
        StreamKind::Unknown => out.push(Line::from(Span::styled(
            "no data on this connection yet",
            theme.dim(),
        ))),
    }
    if !decrypted && trace.stream_kind(stream) == StreamKind::Tls {
        out.push(Line::from(Span::styled(
            strings::STREAM_CIPHERTEXT,
            theme.dim(),
        )));
    }
    out
}

/// Bytes of one record shown in follow stream, at most: a 16 KB record would fill many screens.
const HEX_MAX: usize = 128;

/// A record's bytes as they travel (header, then ciphertext), 16 to a line, in the colour of
/// its direction; past [`HEX_MAX`] only how many more there are.
fn hex_lines(bytes: &[u8], style: ratatui::style::Style) -> Vec<Line<'static>> {
    let shown = bytes.get(..HEX_MAX).unwrap_or(bytes);
    let mut out: Vec<Line<'static>> = shown
        .chunks(16)
        .enumerate()
        .map(|(k, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            Line::from(Span::styled(
                format!("    {:04x}  {}", k * 16, hex.join(" ")),
                style,
            ))
        })
        .collect();
    if bytes.len() > shown.len() {
        out.push(Line::from(Span::styled(
            strings::more_bytes(bytes.len() - shown.len()),
            style,
        )));
    }
    out
}

/// Draws the stream view over `area`.
pub fn render(f: &mut Frame, area: Rect, all: &[Line<'static>], scroll: usize, block: Block) {
    f.render_widget(Clear, area);
    // Only what fits is copied: a long conversation has many more lines than the screen.
    let shown: Vec<Line> = all
        .iter()
        .skip(scroll)
        .take(usize::from(area.height))
        .cloned()
        .collect();
    f.render_widget(Paragraph::new(shown).block(block), area);
}
