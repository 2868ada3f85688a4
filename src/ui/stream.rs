//! Follow stream: one TCP connection's conversation, reassembled, both directions in their own
//! colour — decrypted where the session keys are known (and the endpoints' view is on); in the
//! eavesdropper's view each encrypted record as it travels: its header and its bytes in hex.
//!
//! A stream can be most of a capture (a 1.5 GB transfer), so the view is a virtual list: a
//! [`StreamView`] keeps the numbers of the connection's records (or, over plain TCP, of its
//! segments), 8 bytes each, and makes lines only for the entries on screen plus a margin. The
//! entries are the heading, the records or segments in order, and a closing note.

use std::collections::BTreeMap;

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

/// What makes the lines of an entry.
#[derive(Clone, Copy)]
pub struct Maker<'a> {
    /// The trace.
    pub trace: &'a Trace,
    /// Client names.
    pub names: &'a Names,
    /// Colours.
    pub theme: Theme,
}

/// One item of the conversation: a TLS record, or (plain TCP) a run of bytes one segment carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// An index into [`Trace::records`].
    Record(u32),
    /// A carrier (index into the connection's carriers of that direction).
    Piece(Direction, u32),
}

/// Where the screen starts: an entry (0 is the heading) and a line within it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// The entry.
    pub entry: usize,
    /// The line within the entry.
    pub line: usize,
}

/// Follow stream over one connection, scrolled somewhere: the index of its entries (numbers only)
/// and the lines of the entries around the screen.
#[derive(Debug, Clone)]
pub struct StreamView {
    /// The connection.
    pub stream: usize,
    /// Endpoints' view (decrypted) or eavesdropper's.
    pub decrypted: bool,
    /// The first line on screen.
    pub top: Pos,
    /// Rows the view had when last laid out (the page the margin is measured in).
    pub height: usize,
    kind: StreamKind,
    items: Vec<Item>,
    /// Records of the trace already looked at (the index grows with the trace), forgotten ones
    /// included.
    records_seen: usize,
    /// The frames the trace had forgotten when the items were made (a long demo forgets its
    /// past: the items of what it forgot go too).
    forgotten: u32,
    /// Carriers of each direction already indexed (plain TCP).
    carriers_seen: [usize; 2],
    /// Lines of the entries near the screen, by entry.
    made: BTreeMap<usize, Vec<Line<'static>>>,
    /// Lines made since the view opened (the work a scroll costs; drawing makes none).
    pub lines_made: usize,
}

impl StreamView {
    /// Follow stream over connection `stream`, at its top, for a screen of `height` rows.
    pub fn open(m: Maker, stream: usize, decrypted: bool, height: usize) -> StreamView {
        let mut view = StreamView {
            stream,
            decrypted,
            top: Pos::default(),
            height: height.max(1),
            kind: StreamKind::Unknown,
            items: Vec::new(),
            records_seen: 0,
            forgotten: 0,
            carriers_seen: [0, 0],
            made: BTreeMap::new(),
            lines_made: 0,
        };
        view.catch_up(m.trace);
        view.fill(m);
        view
    }

    /// Takes in what the trace gained since (records, segments), and makes the lines on screen
    /// again (a grown trace can change the heading and the last entries).
    pub fn refresh(&mut self, m: Maker) {
        self.catch_up(m.trace);
        self.made.clear();
        self.fill(m);
    }

    /// Switches between the endpoints' and the eavesdropper's view, staying at the same entry.
    pub fn set_decrypted(&mut self, m: Maker, decrypted: bool) {
        if decrypted != self.decrypted {
            self.decrypted = decrypted;
            self.top.line = 0;
            self.made.clear();
            self.fill(m);
        }
    }

    /// A new screen height.
    pub fn set_height(&mut self, m: Maker, height: usize) {
        if height.max(1) != self.height {
            self.height = height.max(1);
            self.fill(m);
        }
    }

    fn catch_up(&mut self, trace: &Trace) {
        let kind = trace.stream_kind(self.stream);
        if kind != self.kind {
            self.kind = kind;
            self.items.clear();
            self.records_seen = 0;
            self.carriers_seen = [0, 0];
        }
        let from = trace.records_forgotten();
        if trace.frames_forgotten() != self.forgotten {
            self.forgotten = trace.frames_forgotten();
            let before = self.items.len();
            let conn = trace.tcp().connection(self.stream);
            self.items.retain(|item| match item {
                Item::Record(r) => *r as usize >= from,
                Item::Piece(dir, i) => {
                    conn.is_some_and(|c| *i as usize >= c.carriers_forgotten(*dir))
                }
            });
            // The screen stays on the entry it showed (entry 0 is the heading), or on the first
            // one kept if its own was forgotten.
            let gone = before - self.items.len();
            if self.top.entry > 0 && gone > 0 {
                let entry = self.top.entry.saturating_sub(gone);
                if entry == 0 {
                    self.top = Pos { entry: 1, line: 0 };
                } else {
                    self.top.entry = entry;
                }
            }
            // The carriers left moved down: index them again.
            self.carriers_seen = [usize::MAX; 2];
        }
        match kind {
            StreamKind::Tls => {
                let records = trace.records();
                let start = self.records_seen.saturating_sub(from);
                let new = records.get(start..).unwrap_or_default();
                self.items.extend(
                    new.iter()
                        .enumerate()
                        .filter(|(_, r)| r.stream == self.stream)
                        .map(|(i, _)| Item::Record((from + start + i) as u32)),
                );
                self.records_seen = from + records.len();
            }
            StreamKind::Plain => {
                let Some(conn) = trace.tcp().connection(self.stream) else {
                    return;
                };
                let dirs = [Direction::ClientToServer, Direction::ServerToClient];
                let counts = dirs.map(|d| conn.carriers(d).len());
                if counts == self.carriers_seen {
                    return;
                }
                // A late segment can fill a gap before the last one: index them again, in order
                // of the frames that carried them (numbers only, so this is cheap).
                let mut pieces: Vec<(u32, Item)> = Vec::with_capacity(counts[0] + counts[1]);
                for dir in dirs {
                    // Numbered from the connection's first carrier, forgotten ones included.
                    let forgotten = conn.carriers_forgotten(dir);
                    for (i, c) in conn.carriers(dir).iter().enumerate() {
                        pieces.push((c.frame, Item::Piece(dir, (forgotten + i) as u32)));
                    }
                }
                pieces.sort_by_key(|(f, _)| *f);
                self.items = pieces.into_iter().map(|(_, item)| item).collect();
                self.carriers_seen = counts;
            }
            StreamKind::Unknown => {}
        }
    }

    /// Entries: the heading, the items, and a closing note where there is one.
    pub fn entries(&self) -> usize {
        1 + self.items.len() + usize::from(self.closing().is_some())
    }

    /// Records (or, over plain TCP, segments) in the stream.
    pub fn items(&self) -> usize {
        self.items.len()
    }

    fn closing(&self) -> Option<&'static str> {
        match self.kind {
            StreamKind::Unknown => Some("no data on this connection yet"),
            StreamKind::Tls if !self.decrypted => Some(strings::STREAM_CIPHERTEXT),
            _ => None,
        }
    }

    /// The lines of entry `e`, made now.
    fn make(&self, m: Maker, e: usize) -> Vec<Line<'static>> {
        let trace = m.trace;
        let theme = m.theme;
        let Some(conn) = trace.tcp().connection(self.stream) else {
            return if e == 0 {
                vec![Line::from("no such connection")]
            } else {
                Vec::new()
            };
        };
        let client = m.names.client(conn.client);
        let style = |dir: Direction| match dir {
            Direction::ClientToServer => theme.client_side(),
            Direction::ServerToClient => theme.server_side(),
        };
        if e == 0 {
            return vec![Line::from(Span::styled(
                format!(
                    "stream {}: {client} {} ⇄ server {} · {}",
                    self.stream,
                    conn.client,
                    conn.server,
                    match trace.tls_session(self.stream) {
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
        }
        let Some(item) = self.items.get(e - 1) else {
            return match (e == 1 + self.items.len(), self.closing()) {
                (true, Some(text)) => vec![Line::from(Span::styled(text, theme.dim()))],
                _ => Vec::new(),
            };
        };
        let mut out = Vec::new();
        match *item {
            Item::Record(r) => {
                let Some(rec) = trace.record(r as usize) else {
                    return out;
                };
                let who = side(rec.dir, &client);
                let info = &rec.info;
                if info.encrypted && !self.decrypted {
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
                    // Only the bytes shown are copied: a record can be 16 KB.
                    let spans = trace.stream_spans(rec.stream, rec.dir, rec.stream_range.clone());
                    let captured: usize = spans.iter().map(|(_, r)| r.len()).sum();
                    let mut first = Vec::new();
                    let mut room = HEX_MAX;
                    for (frame, range) in &spans {
                        if room == 0 {
                            break;
                        }
                        let take = range.start..range.end.min(range.start + room);
                        let bytes = span_bytes(trace, &[(*frame, take)]);
                        room = room.saturating_sub(bytes.len());
                        first.extend_from_slice(&bytes);
                    }
                    out.extend(hex_lines(&first, captured, style(rec.dir)));
                    return out;
                }
                match (&info.decrypted, self.decrypted) {
                    (Some(p), true) if p.content_type == ContentType::ApplicationData => {
                        let data = trace.plaintext(rec).unwrap_or(std::borrow::Cow::Borrowed(
                            crate::report::NOT_REOPENED.as_bytes(),
                        ));
                        for text in String::from_utf8_lossy(&data).lines() {
                            out.push(Line::from(vec![
                                Span::styled(format!("{who}: "), style(rec.dir)),
                                Span::styled(text.to_string(), style(rec.dir)),
                            ]));
                        }
                    }
                    _ => {
                        let what = if info.handshake.is_empty() {
                            match (&info.decrypted, self.decrypted) {
                                (Some(p), true) => format!("{} ({} B)", p.content_type, p.len),
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
            Item::Piece(dir, i) => {
                let Some(c) = (i as usize)
                    .checked_sub(conn.carriers_forgotten(dir))
                    .and_then(|i| conn.carriers(dir).get(i))
                else {
                    return out;
                };
                let range = c.stream_offset..c.stream_offset + u64::from(c.len);
                let bytes = span_bytes(trace, &trace.stream_spans(self.stream, dir, range));
                let who = side(dir, &client);
                for text in String::from_utf8_lossy(&bytes).lines() {
                    out.push(Line::from(Span::styled(
                        format!("{who}: {text}"),
                        style(dir),
                    )));
                }
            }
        }
        out
    }

    /// How many lines entry `e` has (made, and kept, if it was not yet).
    fn len(&mut self, m: Maker, e: usize) -> usize {
        if let Some(lines) = self.made.get(&e) {
            return lines.len();
        }
        let lines = self.make(m, e);
        self.lines_made += lines.len().max(1);
        let n = lines.len();
        self.made.insert(e, lines);
        n
    }

    /// The next position `n` lines down (stopping at the last line).
    fn down(&mut self, m: Maker, mut at: Pos, mut n: usize) -> Pos {
        let entries = self.entries();
        while n > 0 {
            if at.line + 1 < self.len(m, at.entry) {
                at.line += 1;
                n -= 1;
                continue;
            }
            let next = (at.entry + 1..entries).find(|&e| self.len(m, e) > 0);
            match next {
                Some(e) => {
                    at = Pos { entry: e, line: 0 };
                    n -= 1;
                }
                None => break,
            }
        }
        at
    }

    /// The position `n` lines up (stopping at the first line).
    fn up(&mut self, m: Maker, mut at: Pos, mut n: usize) -> Pos {
        while n > 0 {
            if at.line > 0 {
                at.line -= 1;
                n -= 1;
                continue;
            }
            let prev = (0..at.entry).rev().find(|&e| self.len(m, e) > 0);
            match prev {
                Some(e) => {
                    at = Pos {
                        entry: e,
                        line: self.len(m, e) - 1,
                    };
                    n -= 1;
                }
                None => break,
            }
        }
        at
    }

    /// Where the screen starts when its last row shows the stream's last line.
    fn bottom_pos(&mut self, m: Maker) -> Pos {
        let last = self.entries() - 1;
        let end = Pos {
            entry: last,
            line: self.len(m, last).saturating_sub(1),
        };
        self.up(m, end, self.height.saturating_sub(1))
    }

    /// Scrolls by `delta` lines (down if positive), never past the last screen.
    pub fn scroll(&mut self, m: Maker, delta: isize) {
        let n = delta.unsigned_abs();
        self.top = if delta >= 0 {
            self.down(m, self.top, n)
        } else {
            self.up(m, self.top, n)
        };
        self.fill(m);
    }

    /// The first line of entry `entry` (0 is the heading; records or segments from 1).
    pub fn to_entry(&mut self, m: Maker, entry: usize) {
        self.top = Pos { entry, line: 0 };
        self.fill(m);
    }

    /// The first line.
    pub fn to_top(&mut self, m: Maker) {
        self.top = Pos::default();
        self.fill(m);
    }

    /// The last screen.
    pub fn to_bottom(&mut self, m: Maker) {
        self.top = self.bottom_pos(m);
        self.fill(m);
    }

    /// Makes the lines of the screen from `top` and a screen's margin either side, keeps no
    /// others, and moves `top` back if the screen would end before the stream does.
    fn fill(&mut self, m: Maker) {
        let entries = self.entries();
        if self.top.entry >= entries {
            self.top = Pos {
                entry: entries - 1,
                line: 0,
            };
        }
        if self.top.line >= self.len(m, self.top.entry) {
            self.top.line = 0;
        }
        // A screen ending before the stream does not: show the last screen instead.
        let end = self.down(m, self.top, self.height.saturating_sub(1));
        let last = self.down(m, end, 1);
        if last == end {
            let bottom = self.bottom_pos(m);
            if bottom < self.top {
                self.top = bottom;
            }
        }
        let below = self.down(m, self.top, 2 * self.height);
        let above = self.up(m, self.top, self.height);
        self.made
            .retain(|&e, _| e >= above.entry && e <= below.entry);
    }

    /// Lines held now (the screen and its margin).
    pub fn lines_held(&self) -> usize {
        self.made.values().map(Vec::len).sum()
    }

    /// The lines from `top`, at most `rows`, and how many entries (and, in the last entry
    /// shown, lines) are below them. Makes nothing: what is not made yet is not shown.
    fn screen(&self, rows: usize) -> (Vec<Line<'static>>, usize, usize) {
        let mut out = Vec::new();
        let mut e = self.top.entry;
        let mut rest_in_last = 0;
        while out.len() < rows {
            let Some(lines) = self.made.get(&e) else {
                break;
            };
            let skip = if e == self.top.entry {
                self.top.line
            } else {
                0
            };
            let take = lines.len().saturating_sub(skip).min(rows - out.len());
            out.extend(lines.iter().skip(skip).take(take).cloned());
            rest_in_last = lines.len().saturating_sub(skip + take);
            e += 1;
        }
        let entries_below = self.entries().saturating_sub(e);
        (out, entries_below, rest_in_last)
    }

    /// Draws the view over `area`: the lines on screen, and on the last row, when more follows,
    /// how much.
    pub fn render(&self, f: &mut Frame, area: Rect, block: Block, theme: Theme) {
        f.render_widget(Clear, area);
        let rows = usize::from(area.height.saturating_sub(2));
        let (mut shown, entries_below, lines_below) = self.screen(rows);
        // The closing note is an entry, not a record.
        let items_below = entries_below.saturating_sub(usize::from(self.closing().is_some()));
        let mark = if items_below > 0 {
            let what = match self.kind {
                StreamKind::Plain => "segments",
                _ => "records",
            };
            Some(format!("↓ {items_below} more {what}"))
        } else if lines_below + entries_below > 0 {
            Some(format!("↓ {} more lines", lines_below + entries_below))
        } else {
            None
        };
        if let (Some(mark), true) = (mark, rows > 0) {
            shown.truncate(rows - 1);
            shown.push(Line::from(Span::styled(mark, theme.dim())));
        }
        f.render_widget(Paragraph::new(shown).block(block), area);
    }
}

/// The whole conversation of connection `stream`, as lines (for tests and small streams: the
/// screen makes only what it shows, see [`StreamView`]).
pub fn lines(
    trace: &Trace,
    names: &Names,
    stream: usize,
    decrypted: bool,
    theme: Theme,
) -> Vec<Line<'static>> {
    let m = Maker {
        trace,
        names,
        theme,
    };
    let view = StreamView::open(m, stream, decrypted, 1);
    (0..view.entries()).flat_map(|e| view.make(m, e)).collect()
}

/// Bytes of one record shown in follow stream, at most: a 16 KB record would fill many screens.
const HEX_MAX: usize = 128;

/// A record's first bytes as they travel (header, then ciphertext), 16 to a line, in the colour
/// of its direction; past them, how many more of the `total` there are.
fn hex_lines(shown: &[u8], total: usize, style: ratatui::style::Style) -> Vec<Line<'static>> {
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
    if total > shown.len() {
        out.push(Line::from(Span::styled(
            strings::more_bytes(total - shown.len()),
            style,
        )));
    }
    out
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
