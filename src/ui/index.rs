//! The timeline's index: which rows the timeline has (group headings, frames, TLS records,
//! application writes and reads), in capture order, and which group each row belongs to — the TCP
//! handshake, the TLS handshake, one application message, or the connection's close.
//!
//! The index holds only numbers (frame numbers, record and event indices); the text of a row is
//! made from the [`Trace`] when the row is drawn, so a million-frame trace costs a few bytes per row
//! and drawing one screen touches only the rows on it.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::chat::{AppEvent, Direction as AppDir, Side};
use crate::dissect::TcpFlags;
use crate::journey::Trace;
use crate::tls::ContentType;

/// What a row of the timeline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// The heading of a group (index into [`Index::groups`]).
    Group,
    /// A captured frame (number from 1).
    Frame(u32),
    /// A TLS record (index into [`Trace::records`]) completed by a frame.
    Record(u32, u32),
    /// An application write or read (index into [`Trace::app_events`]).
    App(u32),
}

/// One row and the group it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// What it shows.
    pub kind: RowKind,
    /// Its group (index into [`Index::groups`]).
    pub group: u32,
}

/// What a group of rows is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// SYN, SYN-ACK, ACK (RFC 9293 §3.5).
    TcpHandshake,
    /// The TLS handshake (RFC 8446 §2): hellos, certificate, finished.
    TlsHandshake,
    /// One application write (index into [`Trace::app_events`]) and every frame that carried it.
    Message(usize),
    /// FIN or RST and their acknowledgements (RFC 9293 §3.6).
    Close,
    /// Anything else on a connection (or off any connection).
    Other,
}

/// A group of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// What it is about.
    pub kind: GroupKind,
    /// The TCP connection, if any.
    pub stream: Option<usize>,
    /// Its first frame (the frame a heading selects), if it has one yet.
    pub first_frame: Option<u32>,
    /// The row of its first heading (later headings continue it after other groups' rows).
    pub first_row: u32,
}

/// Who is who: chat names of client endpoints, learnt from their `/name` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    by_client: HashMap<SocketAddr, String>,
}

impl Names {
    /// Learns names from the chat's own protocol: a client's first line `/name NAME`.
    pub fn learn(&mut self, events: &[AppEvent]) {
        for e in events {
            if e.side == Side::Client && e.dir == AppDir::Write && e.offset == 0 {
                if let Some(rest) = e.bytes.strip_prefix(b"/name ") {
                    let name = String::from_utf8_lossy(rest).trim().to_string();
                    if !name.is_empty() {
                        self.by_client.entry(e.conn.client).or_insert(name);
                    }
                }
            }
        }
    }

    /// Names a client endpoint explicitly (the demo knows its clients).
    pub fn insert(&mut self, client: SocketAddr, name: &str) {
        self.by_client.insert(client, name.to_string());
    }

    /// The name of a client endpoint: its chat name, or "client :PORT".
    pub fn client(&self, addr: SocketAddr) -> String {
        self.by_client
            .get(&addr)
            .cloned()
            .unwrap_or_else(|| format!("client :{}", addr.port()))
    }

    /// The client of connection `stream`, by name.
    pub fn stream_client(&self, trace: &Trace, stream: usize) -> String {
        trace
            .tcp()
            .connection(stream)
            .map_or_else(|| format!("stream {stream}"), |c| self.client(c.client))
    }

    /// Who sent an application event's bytes, and who received them.
    pub fn parties(&self, event: &AppEvent) -> (String, String) {
        let client = self.client(event.conn.client);
        if event.client_to_server() {
            (client, "server".into())
        } else {
            ("server".into(), client)
        }
    }
}

/// The timeline's rows and groups.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Every row, in order.
    pub rows: Vec<Row>,
    /// Every group, in order of first appearance.
    pub groups: Vec<Group>,
    /// For each frame kept (number − 1 − [`Index::first`]), its row: see [`Index::frame_row`].
    frame_rows: Vec<u32>,
    /// Frames the trace had forgotten when the index was built (a long demo forgets its past).
    pub first: u32,
    /// Application events the trace had forgotten then: event indices count from the next one.
    pub events_from: usize,
    /// For each application event, its row (if placed yet).
    pub event_row: HashMap<usize, u32>,
    /// Frames indexed so far.
    pub frames: usize,
    /// Application events seen so far.
    pub events: usize,
    /// Frames indexed so far that are copies of a packet on another link (a path of routers).
    pub copies: usize,
    /// Where the last frame left the grouping, so frames that arrive later are appended.
    state: Building,
}

/// Where the application events go: the frames of each write's journey (its message group),
/// the frame before which a write shows, the frame after which a read (or unplaced write) shows.
#[derive(Default)]
struct Places {
    message_of_frame: HashMap<u32, usize>,
    writes_by_first_frame: HashMap<u32, Vec<usize>>,
    at_frame: HashMap<u32, Vec<usize>>,
}

/// The grouping state between two frames.
#[derive(Debug, Clone, Default)]
struct Building {
    streams: Vec<StreamGroups>,
    message_group: HashMap<usize, u32>,
    other: Option<u32>,
    last_group: Option<u32>,
}

#[derive(Debug, Clone, Default)]
struct StreamGroups {
    handshake: Option<u32>,
    tls: Option<u32>,
    close: Option<u32>,
    current: Option<u32>,
}

impl Index {
    /// True if the trace has grown since the index was built.
    pub fn is_stale(&self, trace: &Trace) -> bool {
        self.frames != trace.frames().len()
            || self.events != trace.app_events().len()
            || self.forgot(trace)
    }

    /// True if the trace has forgotten frames or events since the index was built.
    fn forgot(&self, trace: &Trace) -> bool {
        self.first != trace.frames_forgotten() || self.events_from != trace.events_forgotten()
    }

    /// The row of frame `number`, if the index has it.
    pub fn frame_row(&self, number: u32) -> Option<usize> {
        let i = number.checked_sub(self.first)?.checked_sub(1)?;
        self.frame_rows.get(i as usize).map(|&r| r as usize)
    }

    /// How many frames have a row.
    pub fn frames_indexed(&self) -> usize {
        self.frame_rows.len()
    }

    /// Brings the index up to date with a trace that grew. Without application events, the
    /// new frames are appended (a frame's row depends only on the frames before it), so loading
    /// a large file costs each frame once; with them, a new frame can change where a message
    /// starts, and the index is built again. Returns the first new row when rows were only
    /// appended (the rows before it are as they were), `None` when it was built again.
    pub fn update(&mut self, trace: &Trace) -> Option<usize> {
        let from = self.rows.len();
        if !self.is_stale(trace) {
            return Some(from);
        }
        if self.events != 0 || !trace.app_events().is_empty() || self.forgot(trace) {
            *self = Index::build(trace);
            return None;
        }
        let mut state = std::mem::take(&mut self.state);
        let places = Places::default();
        for entry in trace.frames().get(self.frames..).unwrap_or_default() {
            self.add_frame(trace, entry, &mut state, &places);
        }
        self.state = state;
        self.frames = trace.frames().len();
        Some(from)
    }

    /// Builds the index of a whole trace.
    pub fn build(trace: &Trace) -> Index {
        let events = trace.app_events();
        // Where each write's journey went, and where each read (or unplaced write) completes.
        let mut message_of_frame: HashMap<u32, usize> = HashMap::new();
        let mut writes_by_first_frame: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut at_frame: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            let journey = (e.dir == AppDir::Write).then(|| trace.journey(e)).flatten();
            match journey {
                Some(j) => {
                    for &f in &j.frames {
                        message_of_frame.entry(f).or_insert(i);
                    }
                    if let Some(&first) = j.frames.first() {
                        writes_by_first_frame.entry(first).or_default().push(i);
                    }
                }
                None => {
                    if let Some(f) = trace.app_event_frame(e) {
                        at_frame.entry(f).or_default().push(i);
                    }
                }
            }
        }
        for list in at_frame
            .values_mut()
            .chain(writes_by_first_frame.values_mut())
        {
            list.sort_by_key(|&i| events.get(i).map(|e| e.at));
        }

        let mut index = Index {
            frames: trace.frames().len(),
            events: events.len(),
            frame_rows: Vec::with_capacity(trace.frames().len()),
            first: trace.frames_forgotten(),
            events_from: trace.events_forgotten(),
            rows: Vec::with_capacity(trace.frames().len() + events.len() * 2),
            ..Index::default()
        };
        let places = Places {
            message_of_frame,
            writes_by_first_frame,
            at_frame,
        };
        let mut state = Building::default();
        for entry in trace.frames() {
            index.add_frame(trace, entry, &mut state, &places);
        }
        index.state = state;
        index
    }

    /// Places one frame (and the records and events that belong there) after those before it.
    fn add_frame(
        &mut self,
        trace: &Trace,
        entry: &crate::journey::FrameEntry,
        state: &mut Building,
        places: &Places,
    ) {
        let Places {
            message_of_frame,
            writes_by_first_frame,
            at_frame,
        } = places;
        let index = self;
        let Building {
            streams,
            message_group,
            other,
            last_group,
        } = state;
        let n = entry.number;
        let stream = entry.segment.as_ref().map(|s| s.stream);
        let flags = entry.headers().tcp.map(|t| t.flags);
        let has = |f: TcpFlags| flags.is_some_and(|x| x.contains(f));
        let records = trace.records_of(entry);
        let handshake_record = records.iter().any(|r| {
            let inner = r.info.decrypted.as_ref().map(|d| d.content_type);
            matches!(
                r.info.header.content_type,
                ContentType::Handshake | ContentType::ChangeCipherSpec
            ) || inner == Some(ContentType::Handshake)
                || !r.info.handshake.is_empty()
                || r.info.handshake_partial.is_some()
        });
        let group = if let Some(&event) = message_of_frame.get(&n) {
            *message_group
                .entry(event)
                .or_insert_with(|| index.push_group(GroupKind::Message(event), stream, n))
        } else if let Some(s) = stream {
            while streams.len() <= s {
                streams.push(StreamGroups::default());
            }
            let kind = if has(TcpFlags::SYN) {
                GroupKind::TcpHandshake
            } else if has(TcpFlags::FIN) || has(TcpFlags::RST) {
                GroupKind::Close
            } else if handshake_record {
                GroupKind::TlsHandshake
            } else {
                GroupKind::Other
            };
            let sg = streams.get_mut(s);
            let existing = sg.and_then(|sg| match kind {
                GroupKind::TcpHandshake => sg.handshake,
                GroupKind::TlsHandshake => sg.tls,
                GroupKind::Close => sg.close,
                _ => sg.current,
            });
            match existing {
                Some(g) => g,
                None => {
                    let g = index.push_group(kind, Some(s), n);
                    if let Some(sg) = streams.get_mut(s) {
                        match kind {
                            GroupKind::TcpHandshake => sg.handshake = Some(g),
                            GroupKind::TlsHandshake => sg.tls = Some(g),
                            GroupKind::Close => sg.close = Some(g),
                            _ => {}
                        }
                    }
                    g
                }
            }
        } else {
            *other.get_or_insert_with(|| index.push_group(GroupKind::Other, None, n))
        };
        if let Some(s) = stream {
            if let Some(sg) = streams.get_mut(s) {
                sg.current = Some(group);
            }
        }
        if *last_group != Some(group) {
            index.rows.push(Row {
                kind: RowKind::Group,
                group,
            });
            *last_group = Some(group);
        }
        // A write shows where its journey starts: before its first frame.
        for &i in writes_by_first_frame.get(&n).into_iter().flatten() {
            index.push_event(i, group);
        }
        index.copies += usize::from(entry.copy_of.is_some());
        index.frame_rows.push(index.rows.len() as u32);
        index.rows.push(Row {
            kind: RowKind::Frame(n),
            group,
        });
        for r in entry.records.clone() {
            index.rows.push(Row {
                kind: RowKind::Record(n, r as u32),
                group,
            });
        }
        // A read (or a write whose journey is unknown) shows where its last byte arrived.
        for &i in at_frame.get(&n).into_iter().flatten() {
            index.push_event(i, group);
        }
    }

    fn push_group(&mut self, kind: GroupKind, stream: Option<usize>, first: u32) -> u32 {
        self.groups.push(Group {
            kind,
            stream,
            first_frame: Some(first),
            first_row: self.rows.len() as u32,
        });
        (self.groups.len() - 1) as u32
    }

    fn push_event(&mut self, event: usize, group: u32) {
        self.event_row.insert(event, self.rows.len() as u32);
        self.rows.push(Row {
            kind: RowKind::App(event as u32),
            group,
        });
    }

    /// The group of a row.
    pub fn group_of(&self, row: usize) -> Option<&Group> {
        let r = self.rows.get(row)?;
        self.groups.get(r.group as usize)
    }

    /// The frame a row is about: its own frame, its record's frame, its event's frame, or its
    /// group's first frame.
    pub fn frame_of(&self, trace: &Trace, row: usize) -> Option<u32> {
        let r = self.rows.get(row)?;
        match r.kind {
            RowKind::Frame(n) | RowKind::Record(n, _) => Some(n),
            RowKind::App(i) => {
                let e = trace.app_events().get(i as usize)?;
                trace
                    .journey(e)
                    .and_then(|j| j.frames.first().copied())
                    .or_else(|| trace.app_event_frame(e))
            }
            RowKind::Group => self.groups.get(r.group as usize)?.first_frame,
        }
    }
}
