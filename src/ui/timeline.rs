//! The timeline's rows: every event in capture order — group headings, frames (TCP segments with
//! their flags), TLS records (handshake messages named), application writes and reads — the
//! selection and scroll over them, and the filter. Each row is only numbers until it is turned
//! into text ([`row_line`]) for the screen, so a million frames draw as fast as ten
//! ([`super::pane::timeline`] draws the ones that fit).

use std::time::{Duration, Instant};

use ratatui::text::{Line, Span};

use super::index::{GroupKind, Index, Names, Row, RowKind};
use super::strings;
use super::theme::{Theme, UiLayer};
use crate::chat::Direction as AppDir;
use crate::journey::Trace;
use crate::lesson::filter::{DisplayFilter, FilterKind, Tester};
use crate::lesson::query::QueryError;
use crate::lesson::LessonState;
use crate::report::{quoted, quoted_plaintext};
use crate::tls::ContentType;

/// True if an application event's bytes travel encrypted (its connection carries TLS).
pub fn encrypted_event(trace: &Trace, event: &crate::chat::AppEvent) -> bool {
    trace
        .tcp()
        .find(event.conn.client, event.conn.server)
        .is_some_and(|c| trace.stream_kind(c.index) == crate::journey::StreamKind::Tls)
}

/// An event's text, or only its size when it travels encrypted and the eavesdropper's view is on.
fn event_text(trace: &Trace, event: &crate::chat::AppEvent, reveal: bool, max: usize) -> String {
    if reveal || !encrypted_event(trace, event) {
        quoted(&event.bytes, max)
    } else {
        "•••".into()
    }
}

/// What the timeline shows: the index, the filter, the selection and the scroll position.
#[derive(Debug, Clone, Default)]
pub struct TimelineState {
    /// Rows and groups.
    pub index: Index,
    /// The filter as typed ("" = none).
    pub filter: String,
    /// Rows passing the filter (indices into `index.rows`); `None` when there is no filter.
    pub visible: Option<Vec<u32>>,
    /// Position of the selected row among the visible rows.
    pub selected: usize,
    /// First visible row drawn.
    pub offset: usize,
    /// Follow live traffic: keep the newest message selected and the end in view.
    pub follow: bool,
    /// Show decrypted text (the endpoints' view); false shows what an eavesdropper sees.
    pub reveal: bool,
    /// The expression a one-word filter stands for (`syn` → `tcp.flags.syn`).
    pub expands_to: Option<String>,
    /// A filter being applied, a slice of rows at a time.
    pub job: Option<FilterJob>,
}

/// A filter being applied: the rows tested so far and those that passed.
#[derive(Debug, Clone)]
pub struct FilterJob {
    /// The filter.
    pub filter: DisplayFilter,
    /// As typed.
    pub text: String,
    /// The next row to test.
    pub next: usize,
    /// The rows that passed so far.
    pub out: Vec<u32>,
}

/// Rows tested between two looks at the clock.
const FILTER_CHUNK: usize = 2048;

impl TimelineState {
    /// How many rows pass the filter.
    pub fn len(&self) -> usize {
        self.visible
            .as_ref()
            .map_or(self.index.rows.len(), |v| v.len())
    }

    /// True when no row passes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row index (into `index.rows`) of visible position `pos`.
    pub fn row_at(&self, pos: usize) -> Option<usize> {
        match &self.visible {
            Some(v) => v.get(pos).map(|&r| r as usize),
            None => (pos < self.index.rows.len()).then_some(pos),
        }
    }

    /// The selected row (index into `index.rows`).
    pub fn selected_row(&self) -> Option<usize> {
        self.row_at(self.selected)
    }

    /// The visible position of row `row`, or the nearest visible row before it.
    pub fn position_of(&self, row: usize) -> usize {
        match &self.visible {
            Some(v) => v
                .partition_point(|&r| (r as usize) <= row)
                .saturating_sub(1),
            None => row,
        }
    }

    /// Keeps the selection within `height` rows of the scroll position.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
        if self.follow {
            self.offset = max_offset.max(self.offset.min(self.selected));
            if self.selected < self.offset {
                self.offset = self.selected;
            }
        }
    }

    /// Applies `filter` (a display filter, see [`DisplayFilter`]) to all the rows at once. A
    /// filter that does not parse changes nothing and says why. The screen uses
    /// [`TimelineState::start_filter`] instead, which never makes a key wait.
    pub fn apply_filter(
        &mut self,
        trace: &Trace,
        names: &Names,
        filter: &str,
    ) -> Result<(), QueryError> {
        self.start_filter(filter)?;
        self.continue_filter(trace, names, Duration::MAX);
        Ok(())
    }

    /// Starts filtering the rows with `filter`: [`TimelineState::continue_filter`] tests them a
    /// slice at a time, and the rows shown change when all are tested. An empty filter shows
    /// every row at once; one that does not parse changes nothing and says why.
    pub fn start_filter(&mut self, filter: &str) -> Result<(), QueryError> {
        let parsed = DisplayFilter::parse(filter)?;
        let text = filter.trim().to_string();
        match parsed {
            None => {
                self.job = None;
                let current = self.selected_row();
                self.filter = text;
                self.expands_to = None;
                self.visible = None;
                self.selected = current.map_or(0, |r| self.position_of(r));
            }
            Some(filter) => {
                self.job = Some(FilterJob {
                    filter,
                    text,
                    next: 0,
                    out: Vec::new(),
                })
            }
        }
        Ok(())
    }

    /// Tests rows for the filter being applied for about `budget`; true when it finished now
    /// (the rows shown changed).
    pub fn continue_filter(&mut self, trace: &Trace, names: &Names, budget: Duration) -> bool {
        let started = Instant::now();
        let Some(job) = &mut self.job else {
            return false;
        };
        let rows = self.index.rows.len();
        loop {
            let end = job.next.saturating_add(FILTER_CHUNK).min(rows);
            filtered_rows(
                &job.filter,
                trace,
                names,
                &self.index,
                self.reveal,
                job.next..end,
                &mut job.out,
            );
            job.next = end;
            if end >= rows {
                break;
            }
            if started.elapsed() >= budget {
                return false;
            }
        }
        let Some(job) = self.job.take() else {
            return false;
        };
        let current = self.selected_row();
        self.filter = job.text;
        self.expands_to = job.filter.expands_to.clone();
        self.visible = Some(job.out);
        self.selected = current.map_or(0, |r| self.position_of(r));
        self.offset = self.offset.min(self.selected);
        true
    }

    /// While a filter is being applied: the text, and how far it got (percent of the rows).
    pub fn filtering(&self) -> Option<(&str, usize)> {
        self.job.as_ref().map(|job| {
            let rows = self.index.rows.len().max(1);
            (job.text.as_str(), job.next * 100 / rows)
        })
    }

    /// Brings the filtered rows up to date after the index appended rows from `from` on (the
    /// rows before it unchanged): only the new rows are tested.
    pub fn filter_appended(
        &mut self,
        trace: &Trace,
        names: &Names,
        from: usize,
    ) -> Result<(), QueryError> {
        let Some(filter) = DisplayFilter::parse(&self.filter)? else {
            return Ok(());
        };
        let reveal = self.reveal;
        // A filter still being applied reaches the new rows by itself.
        if let (Some(visible), None) = (&mut self.visible, &self.job) {
            let rows = from..self.index.rows.len();
            filtered_rows(&filter, trace, names, &self.index, reveal, rows, visible);
        }
        Ok(())
    }
}

/// Whether one row passes `filter`. Frames pass by their fields, a TLS record row with the frame
/// that completed it, the application's rows only for `app`; a text search looks at every row's
/// words and its group's heading.
fn row_passes(
    filter: &DisplayFilter,
    tester: &Tester<'_>,
    trace: &Trace,
    names: &Names,
    index: &Index,
    row: &Row,
    reveal: bool,
) -> bool {
    match (&filter.kind, row.kind) {
        (_, RowKind::Group) => false,
        (FilterKind::App, kind) => matches!(kind, RowKind::App(_)),
        (FilterKind::Frames(_), RowKind::Frame(n) | RowKind::Record(n, _)) => {
            filter.matches_frame(tester, n)
        }
        (FilterKind::Frames(_), _) => false,
        (FilterKind::Text(t), _) => {
            row_text(trace, names, index, row, reveal)
                .to_lowercase()
                .contains(t.as_str())
                || group_text(trace, names, index, row.group, reveal)
                    .to_lowercase()
                    .contains(t.as_str())
        }
    }
}

/// Appends to `out` the rows of `rows` that pass `filter`, each run of them under its group
/// heading (`out` holds those passing before `rows.start`).
pub fn filtered_rows(
    filter: &DisplayFilter,
    trace: &Trace,
    names: &Names,
    index: &Index,
    reveal: bool,
    rows: std::ops::Range<usize>,
    out: &mut Vec<u32>,
) {
    let from = rows.start;
    let state = LessonState::default();
    let tester = Tester::new(trace, &state, !reveal);
    // Carry on where the rows before `from` left off: the heading above and the group shown.
    let mut heading: Option<u32> = index
        .rows
        .get(..from)
        .unwrap_or_default()
        .iter()
        .rposition(|r| r.kind == RowKind::Group)
        .map(|h| h as u32);
    let mut shown_group: Option<u32> = out
        .last()
        .and_then(|&r| index.rows.get(r as usize))
        .map(|r| r.group);
    // A frame's TLS record rows follow it: test the frame once.
    let mut last: Option<(u32, bool)> = None;
    for (i, row) in index.rows.iter().enumerate().take(rows.end).skip(from) {
        if row.kind == RowKind::Group {
            heading = Some(i as u32);
            continue;
        }
        let passes = match (row.kind, last) {
            (RowKind::Frame(n) | RowKind::Record(n, _), Some((m, verdict)))
                if n == m && matches!(filter.kind, FilterKind::Frames(_)) =>
            {
                verdict
            }
            _ => {
                let verdict = row_passes(filter, &tester, trace, names, index, row, reveal);
                if let RowKind::Frame(n) = row.kind {
                    last = Some((n, verdict));
                }
                verdict
            }
        };
        if passes {
            if shown_group != Some(row.group) {
                if let Some(h) = heading {
                    out.push(h);
                }
                shown_group = Some(row.group);
            }
            out.push(i as u32);
        }
    }
}

/// The heading of a group, in words.
pub fn group_text(trace: &Trace, names: &Names, index: &Index, group: u32, reveal: bool) -> String {
    let Some(g) = index.groups.get(group as usize) else {
        return String::new();
    };
    let who = g
        .stream
        .map(|s| names.stream_client(trace, s))
        .unwrap_or_default();
    // "alice :40000 ⇄ :9000", but "client :40000 ⇄ :9000" when the name is the port already.
    let ports = g
        .stream
        .and_then(|s| trace.tcp().connection(s))
        .map(|c| {
            let client = format!(":{}", c.client.port());
            if who.ends_with(&client) {
                format!(" ⇄ :{}", c.server.port())
            } else {
                format!(" {client} ⇄ :{}", c.server.port())
            }
        })
        .unwrap_or_default();
    match g.kind {
        GroupKind::TcpHandshake => format!("TCP handshake · {who}{ports}"),
        GroupKind::TlsHandshake => format!("TLS handshake · {who}"),
        GroupKind::Close => format!("connection close · {who}"),
        GroupKind::Other => {
            if g.stream.is_some() {
                format!("more traffic · {who}")
            } else {
                "other frames".into()
            }
        }
        GroupKind::Message(i) => match trace.app_events().get(i) {
            Some(e) => {
                let (from, to) = names.parties(e);
                let text = event_text(trace, e, reveal, 40);
                format!("message {from} → {to}: {text} ({} B)", e.bytes.len())
            }
            None => "message".into(),
        },
    }
}

/// Who sent a frame, in words ("alice → server").
fn frame_direction(trace: &Trace, names: &Names, n: u32) -> String {
    let Some(seg) = trace.frame(n).and_then(|f| f.segment.as_ref()) else {
        return String::new();
    };
    let client = names.stream_client(trace, seg.stream);
    match seg.dir {
        crate::flow::Direction::ClientToServer => format!("{client} → server"),
        crate::flow::Direction::ServerToClient => format!("server → {client}"),
    }
}

/// The words of one frame row (without number and time).
pub fn frame_summary(trace: &Trace, n: u32) -> String {
    let Some(entry) = trace.frame(n) else {
        return String::new();
    };
    let p = &entry.headers();
    let mut out = match (&p.tcp, &entry.segment) {
        (Some(tcp), Some(seg)) => {
            let mut s = format!(
                "TCP {} {} len={}",
                tcp.flags,
                crate::report::seq_ack(tcp.flags, seg.rel_seq, seg.rel_ack),
                seg.payload_len
            );
            if let Some(mss) = tcp.options.mss {
                s.push_str(&format!(" mss={mss}"));
            }
            s
        }
        _ => match (&p.ip, &p.arp) {
            (Some(ip), _) => match (&p.udp, &p.icmp) {
                (Some(udp), _) => format!(
                    "UDP {} → {} len={}",
                    udp.src_port,
                    udp.dst_port,
                    usize::from(udp.length).saturating_sub(8)
                ),
                (_, Some(icmp)) => format!("{} → {} {}", ip.src, ip.dst, icmp.summary()),
                _ => crate::report::ip_payload_summary(ip),
            },
            (None, Some(arp)) => {
                if arp.op == 1 {
                    format!("ARP who has {}?", arp.target_ip)
                } else {
                    format!("ARP {} is here", arp.sender_ip)
                }
            }
            _ => "not IP".into(),
        },
    };
    if let Some(seg) = &entry.segment {
        for name in seg.analysis.names() {
            out.push_str(&format!(" [{name}]"));
        }
    }
    if p.stop.is_some() {
        out.push_str(" [!]");
    }
    out
}

/// The words of one TLS record row.
pub fn record_summary(trace: &Trace, r: u32, reveal: bool) -> String {
    let Some(rec) = trace.record(r as usize) else {
        return String::new();
    };
    let info = &rec.info;
    if info.encrypted && !reveal {
        // The eavesdropper's view: only the header is on the wire, not what the record holds.
        return format!(
            "TLS {}",
            strings::wire_record(info.header.content_type, info.header.record_len())
        );
    }
    let mut out = format!(
        "TLS {} {} B",
        info.header.content_type,
        info.header.record_len()
    );
    if !info.handshake.is_empty() {
        let names: Vec<&str> = info.handshake.iter().map(|h| h.name()).collect();
        out.push_str(&format!(" [{}]", names.join(", ")));
    }
    if let Some((level, description)) = info.alert {
        out.push_str(&format!(
            " alert: {} ({})",
            crate::tls::alert_name(description),
            crate::tls::alert_level_name(level)
        ));
    }
    match info.decrypted.as_ref().filter(|_| reveal) {
        Some(d) if d.content_type == ContentType::ApplicationData => {
            out.push_str(&format!(" → {}", quoted_plaintext(trace, rec, 30)));
        }
        Some(d) if info.handshake.is_empty() => {
            out.push_str(&format!(" → {} ({} B)", d.content_type, d.len));
        }
        Some(_) => {}
        None if info.encrypted => out.push_str(" (encrypted)"),
        None => {}
    }
    out
}

/// The words of one application event row.
pub fn event_summary(trace: &Trace, names: &Names, i: u32, reveal: bool) -> String {
    let Some(e) = trace.app_events().get(i as usize) else {
        return String::new();
    };
    let who = match e.side {
        crate::chat::Side::Client => names.client(e.conn.client),
        crate::chat::Side::Server => "server".into(),
    };
    let verb = match e.dir {
        AppDir::Write => "wrote",
        AppDir::Read => "read",
    };
    let text = event_text(trace, e, reveal, 40);
    format!("app: {who} {verb} {text} ({} B)", e.bytes.len())
}

/// A row's whole text, as the filter searches it.
pub fn row_text(trace: &Trace, names: &Names, index: &Index, row: &Row, reveal: bool) -> String {
    match row.kind {
        RowKind::Group => group_text(trace, names, index, row.group, reveal),
        RowKind::Frame(n) => format!(
            "#{n} {} {}",
            frame_direction(trace, names, n),
            frame_summary(trace, n)
        ),
        RowKind::Record(_, r) => record_summary(trace, r, reveal),
        RowKind::App(i) => event_summary(trace, names, i, reveal),
    }
}

/// How a frame row shows its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The first frame's time (nanoseconds): the Time column counts from it.
    pub t0: i128,
    /// The time of the frame shown above, for the Δt column (none: Δt is 0).
    pub previous: Option<i128>,
    /// Whether the Δt column is shown (it is left out on narrow panes).
    pub delta: bool,
    /// How wide the number and time columns are.
    pub columns: Columns,
}

/// The widths of a frame row's number and time columns (the time's width serves Δt too), sized
/// for the largest frame number and time of the capture so that rows and headings line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// Digits of the frame number, at least 5.
    pub number: usize,
    /// The time with its six decimals and the space before it, at least 9.
    pub time: usize,
}

impl Default for Columns {
    fn default() -> Self {
        Columns { number: 5, time: 9 }
    }
}

impl Columns {
    /// The widths for frames numbered up to `last` and times (seconds) up to `secs`.
    pub fn fitting(last: u32, secs: f64) -> Columns {
        Columns {
            number: last.to_string().len().max(5),
            time: (format!("{secs:.6}").len() + 1).max(9),
        }
    }

    /// The widths for `trace`'s frames, from its last frame (frames come in time order; a row
    /// whose time is wider all the same still keeps a space before it).
    pub fn of(trace: &Trace) -> Columns {
        let (Some(first), Some(last)) = (trace.first_time(), trace.frames().last()) else {
            return Columns::default();
        };
        let secs = (last.frame.at.0 - first.0) as f64 / 1e9;
        Columns::fitting(last.number, secs)
    }

    /// A frame row's number cell: `mark` ('#', or '↳' for a copy) and the number, padded.
    pub fn number_cell(self, mark: char, n: u32) -> String {
        format!("  {mark}{n:<w$}", w = self.number)
    }

    /// A time cell (Time or Δt), right-aligned, always after at least one space.
    pub fn time_cell(self, secs: f64) -> String {
        format!(" {secs:>w$.6}", w = self.time.saturating_sub(1))
    }

    /// The headings over the frame rows, lined up with [`Columns::number_cell`] and
    /// [`Columns::time_cell`]; `delta` when the Δt column is shown.
    pub fn headings(self, delta: bool) -> String {
        let mut out = format!(
            "{:<n$}{:>t$}",
            strings::TIMELINE_NUMBER,
            strings::TIMELINE_TIME,
            n = self.number + 3,
            t = self.time
        );
        if delta {
            out.push_str(&format!(
                "{:>t$}",
                strings::TIMELINE_DELTA,
                t = self.time + 1
            ));
        }
        out.push(' ');
        out.push_str(strings::TIMELINE_WHAT);
        out
    }
}

/// The Δt column is shown when the timeline is at least this wide inside.
pub const DELTA_MIN_WIDTH: u16 = 100;

/// One row as a styled line.
pub fn row_line<'a>(
    trace: &Trace,
    names: &Names,
    index: &Index,
    at: usize,
    clock: Clock,
    reveal: bool,
    theme: Theme,
) -> Line<'a> {
    let Some(row) = index.rows.get(at) else {
        return Line::default();
    };
    match row.kind {
        RowKind::Group => {
            let continued = index
                .groups
                .get(row.group as usize)
                .is_some_and(|g| g.first_row as usize != at);
            Line::from(Span::styled(
                format!(
                    "▾ {}{}",
                    group_text(trace, names, index, row.group, reveal),
                    if continued { strings::CONTINUED } else { "" }
                ),
                theme.heading(),
            ))
        }
        RowKind::Frame(n) => {
            let cols = clock.columns;
            let at = trace.frame(n).map_or(0, |f| f.frame.at.0);
            let secs = (at - clock.t0) as f64 / 1e9;
            // Δt: since the frame shown above (0 for the first), as Wireshark's
            // frame.time_delta_displayed.
            let delta = clock.previous.map_or(0.0, |p| (at - p) as f64 / 1e9);
            let warn = trace
                .frame(n)
                .and_then(|f| f.segment.as_ref())
                // Wireshark's "Bad TCP" (any analysis flag but window updates and keep-alives),
                // without zero windows, which are the receiver working as meant.
                .is_some_and(|s| {
                    let a = &s.analysis;
                    a.any() && !a.window_update && !a.keep_alive && !a.zero_window
                });
            // A copy of a packet on another link (a path of routers) sits indented under the
            // packet, saying where it was seen and its TTL there; `r` shows what changed.
            let copy = trace.frame(n).and_then(|e| {
                let original = e.copy_of?;
                let iface = trace.interface_name(e.frame.interface).map_or_else(
                    || format!("interface {}", e.frame.interface),
                    str::to_string,
                );
                let ttl = e.headers().ip.map_or(0, |ip| ip.ttl);
                Some(strings::copy_row(&iface, original, ttl))
            });
            if let Some(copy) = copy {
                return Line::from(vec![
                    Span::styled(cols.number_cell('↳', n), theme.dim()),
                    Span::styled(format!("{} ", cols.time_cell(secs)), theme.dim()),
                    Span::styled(
                        if clock.delta {
                            format!("{} ", cols.time_cell(delta))
                        } else {
                            String::new()
                        },
                        theme.dim(),
                    ),
                    Span::styled(copy, theme.dim()),
                ]);
            }
            let first_link = trace
                .frame(n)
                .filter(|_| trace.several_interfaces())
                .and_then(|e| trace.interface_name(e.frame.interface))
                .map(|i| format!("{i} "))
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(cols.number_cell('#', n), theme.dim()),
                Span::styled(format!("{} ", cols.time_cell(secs)), theme.dim()),
                Span::styled(
                    if clock.delta {
                        format!("{} ", cols.time_cell(delta))
                    } else {
                        String::new()
                    },
                    theme.dim(),
                ),
                Span::raw(format!("{first_link}{} ", frame_direction(trace, names, n))),
                Span::styled(
                    frame_summary(trace, n),
                    if warn {
                        theme.warn()
                    } else {
                        theme.layer(UiLayer::Tcp)
                    },
                ),
            ])
        }
        RowKind::Record(_, r) => Line::from(Span::styled(
            format!("           └ {}", record_summary(trace, r, reveal)),
            theme.layer(UiLayer::Tls),
        )),
        RowKind::App(i) => Line::from(Span::styled(
            format!("    {}", event_summary(trace, names, i, reveal)),
            theme.layer(UiLayer::Application),
        )),
    }
}
