//! [`Trace`]: everything captured in one run (or read from one file), indexed by frame number,
//! connection and message. It grows one frame at a time, so live capture and files share it.

use std::borrow::Cow;
use std::ops::Range;

use super::hops::{CopyIndex, HopCheck, HopPlace, PieceIndex};
use crate::chat::AppEvent;
use crate::dissect::{dissect, dissect_without_tcp_checksum, IpInfo, Packet};
use crate::flow::{
    Carrier, Datagram, DatagramState, Defragmenter, Direction, FrameMap, Pushed, SegmentInfo,
    TcpTracker,
};
use crate::frame::{Frame, LinkType, Timestamp};
use crate::tls::{
    frame_record, looks_like_tls, ContentType, Framing, Keys, RecordHeader, RecordInfo,
    TlsConnection,
};

/// One captured frame with everything learnt from it.
#[derive(Debug, Clone)]
pub struct FrameEntry {
    /// Frame number, from 1 (as in Wireshark).
    pub number: u32,
    /// The bytes as captured.
    pub frame: Frame,
    /// Its place in a TCP connection, for TCP segments.
    pub segment: Option<SegmentInfo>,
    /// Indices (into [`Trace::records`]) of the TLS records that became complete in this frame.
    pub records: Range<usize>,
    /// On a path of routers: the frame this one is a copy of (the same IP packet captured
    /// earlier on another link; see [`super::hops`]). A copy shares its original's `segment`
    /// and goes through neither TCP nor TLS again.
    pub copy_of: Option<u32>,
    /// On a path of routers: the earlier frame (on the link before) whose packet a router cut
    /// this IPv4 fragment from (see [`super::hops::PieceIndex`]). The fragments are put
    /// together again to show the packet, but TCP and UDP see that packet once, as the original.
    pub piece_of: Option<u32>,
}

impl FrameEntry {
    /// Its layers, dissected again from the frame's bytes, TCP checksum verified (about 65 ns
    /// plus the checksum's pass over the segment; the trace stores no
    /// dissection, so a large capture needs little more memory than its frames).
    pub fn packet(&self) -> Packet {
        dissect(self.frame.link, &self.frame.data)
    }

    /// Its layers without the TCP checksum's verdict (left "not checked"), for work that needs
    /// only where the layers are and what the headers say: summaries, filters, byte counts.
    pub fn headers(&self) -> Packet {
        dissect_without_tcp_checksum(self.frame.link, &self.frame.data)
    }
}

/// One TLS record in its connection.
#[derive(Debug, Clone)]
pub struct RecordEntry {
    /// The connection (`tcp.stream`).
    pub stream: usize,
    /// Which way it travels.
    pub dir: Direction,
    /// Where the record (header included) lies in its direction's TCP byte stream.
    pub stream_range: Range<u64>,
    /// The frame that supplied its last byte.
    pub frame: u32,
    /// What the record holds.
    pub info: RecordInfo,
    /// For decrypted application data: where its plaintext lies in the direction's plaintext stream
    /// (the bytes the application wrote and read).
    pub plaintext: Option<Range<u64>>,
}

/// What a TCP connection carries, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// No data yet.
    Unknown,
    /// TLS records.
    Tls,
    /// Anything else: the TCP bytes are the application's bytes.
    Plain,
}

#[derive(Debug)]
struct StreamState {
    kind: StreamKind,
    /// Stream bytes not yet cut into records, per direction, and the stream offset of their start.
    pending: [Vec<u8>; 2],
    pending_offset: [u64; 2],
    /// Plaintext bytes seen so far per direction.
    plaintext_len: [u64; 2],
    /// Record framing gave up in this direction (not TLS after all).
    lost_framing: [bool; 2],
    /// Bytes of this direction were not captured (a snapshot length): its records are framed
    /// but no longer decrypted.
    gapped: [bool; 2],
    tls: TlsConnection,
    /// Records of each direction that carry application data, in stream (and plaintext) order,
    /// so the records holding a given plaintext byte are found by binary search.
    app_records: [Vec<usize>; 2],
}

impl StreamState {
    fn new() -> Self {
        StreamState {
            kind: StreamKind::Unknown,
            pending: [Vec::new(), Vec::new()],
            pending_offset: [0, 0],
            plaintext_len: [0, 0],
            lost_framing: [false, false],
            gapped: [false, false],
            tls: TlsConnection::new(),
            app_records: [Vec::new(), Vec::new()],
        }
    }
}

fn di(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// The bytes one message occupies at each layer, headers added on the way down included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerBytes {
    /// The application's bytes.
    pub application: u64,
    /// TLS records carrying them (5-byte headers, encryption overhead included); 0 for plain TCP.
    pub tls: u64,
    /// TCP segments carrying those (TCP headers included).
    pub tcp: u64,
    /// IP packets around those segments.
    pub ip: u64,
    /// Frames on the wire.
    pub link: u64,
}

/// One application message's path down (or up) the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journey {
    /// The connection.
    pub stream: usize,
    /// Which way the bytes travelled.
    pub dir: Direction,
    /// Where the message's bytes lie in the plaintext stream.
    pub plaintext: Range<u64>,
    /// The TLS records that carried them (indices into [`Trace::records`]).
    pub records: Vec<usize>,
    /// The frames whose TCP payload carried those records (or the plain bytes), in order.
    pub frames: Vec<u32>,
    /// Bytes per layer.
    pub bytes: LayerBytes,
}

/// Everything captured in one run or file.
#[derive(Debug, Default)]
pub struct Trace {
    frames: Vec<FrameEntry>,
    records: Vec<RecordEntry>,
    tracker: TcpTracker,
    /// IP fragments waiting for the rest of their packet, and every fragmented packet seen.
    defrag: Defragmenter,
    streams: Vec<StreamState>,
    keys: Keys,
    app: Vec<AppEvent>,
    /// What the kernel reported about packetpath's own sockets (TCP_INFO), in time order.
    tcp_info: Vec<crate::tcpinfo::TcpInfoSample>,
    /// One buffer that every record is decrypted into while frames are added.
    scratch: Vec<u8>,
    /// The capture interfaces' names, by [`Frame::interface`] (pcapng `if_name`).
    interfaces: Vec<String>,
    /// Their places on a path of routers.
    places: Vec<Option<HopPlace>>,
    /// Packets seen, to recognise their copies on other links.
    copies: CopyIndex,
    /// IPv4 originals, to recognise the pieces routers cut them into.
    pieces: PieceIndex,
    /// The other way: the frames a router cut from a frame, by the frame cut.
    cut_into: std::collections::HashMap<u32, Vec<u32>>,
    /// Frames and records a streaming trace has forgotten (see [`Trace::streaming`]): `frames`
    /// starts at frame `frames_forgotten + 1`, `records` at record `records_forgotten`.
    frames_forgotten: u32,
    records_forgotten: usize,
    /// Application events forgotten with their frames ([`Trace::forget_older_than`]): `app`
    /// starts at the event that was `events_forgotten`-th.
    events_forgotten: usize,
    /// When frame #1 was captured (kept when it is forgotten: times count from it).
    first_at: Option<Timestamp>,
    /// A streaming trace keeps the plaintext of each record it decrypts until the record is
    /// forgotten.
    streaming: bool,
    recent_plaintext: std::collections::VecDeque<KeptPlaintext>,
    /// A trace that forgot its first frames keeps the plaintext of the records that began in them
    /// and ended in frames it kept (at most one or two per direction).
    cut_plaintext: Vec<KeptPlaintext>,
}

/// A decrypted record's plaintext, kept until the record is forgotten (by a streaming trace, or
/// when a trace forgets the frames it began in).
#[derive(Debug)]
struct KeptPlaintext {
    /// The record's index (see [`Trace::record`]).
    record: usize,
    /// Its connection, direction and where it starts in the stream, as its [`RecordEntry`] says.
    at: (usize, Direction, u64),
    bytes: Vec<u8>,
}

/// How long [`Trace::forget_older_than`] keeps, beyond its cutoff, what later frames may still
/// need: an application event whose bytes have not reached the capture (a write queued behind a
/// slow reader), the frames of a record not yet complete or of a fragment still waiting for the
/// rest of its packet. Ten minutes, in ns; after that they are taken to be lost (an attacker
/// removed them, the connection broke off) and go too.
pub(crate) const PENDING_GRACE: i128 = 600_000_000_000;

/// Frame `number` of `frames`, which starts at frame `forgotten + 1`.
fn frame_in(frames: &[FrameEntry], forgotten: u32, number: u32) -> Option<&FrameEntry> {
    frames.get(number.checked_sub(forgotten)?.checked_sub(1)? as usize)
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// A trace holding `keys` for decryption from the start.
    pub fn with_keys(keys: Keys) -> Self {
        Trace {
            keys,
            ..Self::default()
        }
    }

    /// A trace of a whole capture: every frame added in order, decrypted with `keys`.
    pub fn from_frames(frames: Vec<Frame>, keys: Keys) -> Self {
        let mut trace = Trace::with_keys(keys);
        trace.reserve(frames.len());
        for frame in frames {
            trace.push_frame(frame);
        }
        trace
    }

    /// A trace that is read once, front to back, and forgets as it goes: the caller shows each
    /// frame once it is settled ([`Trace::settled_before`]) and then calls
    /// [`Trace::forget_before`], so that what is held is per-connection state, not the capture
    /// (`inspect` reads a file larger than memory this way). Each decrypted record's plaintext is
    /// kept until then, so it is shown without reading the record back from its frames.
    pub fn streaming(keys: Keys) -> Self {
        Trace {
            keys,
            streaming: true,
            ..Self::default()
        }
    }

    /// Frames from this number on may still change (a fragment whose packet is incomplete is
    /// described by the frame that completes it); those before are settled and can be shown. On
    /// a path of routers nothing is settled before the end: an original names its later copies.
    pub fn settled_before(&self) -> u32 {
        let next = self.frame_count() + 1;
        if self.several_interfaces() {
            return self.frames_forgotten + 1;
        }
        self.defrag
            .oldest_waiting_frame()
            .map_or(next, |f| f.min(next))
    }

    /// Forgets frames before `number`, the records they completed, and what tied stream bytes to
    /// them (journeys of the forgotten bytes are no longer known). Frame numbers stay as they
    /// were. Nothing is forgotten that an unsettled frame needs, nor, on a path of routers, a
    /// frame within the copy window of the last one.
    pub fn forget_before(&mut self, number: u32) {
        self.forget_frames_before(number.min(self.forgettable_before()));
    }

    /// [`Trace::forget_before`] without its limit (the caller has worked out what may go).
    fn forget_frames_before(&mut self, number: u32) {
        let Some(drop) = number.checked_sub(self.frames_forgotten + 1) else {
            return;
        };
        let drop = (drop as usize).min(self.frames.len());
        if drop == 0 {
            return;
        }
        self.keep_cut_records(number);
        self.frames.drain(..drop);
        self.frames_forgotten += drop as u32;
        let records = self.records.partition_point(|r| r.frame < number);
        self.records.drain(..records);
        self.records_forgotten += records;
        let first_record = self.records_forgotten;
        for state in &mut self.streams {
            for list in &mut state.app_records {
                let gone = list.partition_point(|&r| r < first_record);
                list.drain(..gone);
            }
        }
        self.cut_plaintext
            .retain(|kept| kept.record >= first_record);
        self.tracker.forget_carriers_before(number);
        self.copies.forget_before(number);
        self.pieces.forget_before(number);
        self.cut_into.retain(|&whole, _| whole >= number);
        while self
            .recent_plaintext
            .front()
            .is_some_and(|kept| kept.record < first_record)
        {
            self.recent_plaintext.pop_front();
        }
    }

    /// Before the frames before `number` go: the plaintext of each kept record that began in one
    /// of them, which could no longer be read back from its frames. In a direction, bytes come in
    /// stream order, so that is its first kept record (a segment carried the end of one record
    /// and the start of the next), or the first few when a segment that waited ahead of a gap or
    /// an IP fragment brought later bytes before earlier ones: the direction's records are looked
    /// at until one lies wholly in kept frames. A streaming trace keeps every record's plaintext
    /// anyway.
    fn keep_cut_records(&mut self, number: u32) {
        if self.streaming {
            return;
        }
        let first_kept = self.records.partition_point(|r| r.frame < number);
        let directions = 2 * self
            .streams
            .iter()
            .filter(|s| s.kind == StreamKind::Tls)
            .count();
        let mut done = std::collections::HashSet::new();
        let mut cut = Vec::new();
        for (i, r) in self.records.iter().enumerate().skip(first_kept) {
            if done.len() >= directions {
                break;
            }
            if done.contains(&(r.stream, r.dir)) {
                continue;
            }
            let began_before = self.tracker.connection(r.stream).is_some_and(|c| {
                overlapping(c.carriers(r.dir), &r.stream_range).any(|c| c.frame < number)
            });
            if !began_before {
                done.insert((r.stream, r.dir));
                continue;
            }
            let index = self.records_forgotten + i;
            if r.info.decrypted.is_none() || self.cut_plaintext.iter().any(|k| k.record == index) {
                continue;
            }
            if let Some(bytes) = self.plaintext(r) {
                cut.push(KeptPlaintext {
                    record: index,
                    at: (r.stream, r.dir, r.stream_range.start),
                    bytes: bytes.into_owned(),
                });
            }
        }
        self.cut_plaintext.extend(cut);
    }

    /// The first frame that may not be forgotten yet: on one link, the first unsettled one
    /// ([`Trace::settled_before`]); on a path of routers, where an original names copies
    /// captured after it, the first frame within [`super::hops::COPY_WINDOW`] of the last one
    /// (no later frame can be a copy of an earlier one), and never a fragment still waiting.
    fn forgettable_before(&self) -> u32 {
        if !self.several_interfaces() {
            return self.settled_before();
        }
        let Some(last) = self.frames.last() else {
            return self.frames_forgotten + 1;
        };
        let horizon = last.frame.at.0 - super::hops::COPY_WINDOW;
        let old = self.frames.partition_point(|e| e.frame.at.0 < horizon);
        let number = self.frames_forgotten + 1 + old as u32;
        self.defrag
            .oldest_waiting_frame()
            .map_or(number, |f| f.min(number))
    }

    /// The frame [`Trace::forget_older_than`]`(cutoff)` would keep first: the first frame
    /// captured at or after `cutoff`, or an earlier one that later frames still need.
    pub fn forget_point(&self, cutoff: Timestamp) -> u32 {
        let first = self.frames_forgotten + 1;
        let before =
            |at: Timestamp| first + self.frames.partition_point(|e| e.frame.at < at) as u32;
        // What later frames need is kept, but not for ever: a fragment whose other pieces never
        // came, a record never completed (its connection broke off), are given up
        // [`PENDING_GRACE`] after the cutoff.
        let floor = before(Timestamp(cutoff.0 - PENDING_GRACE));
        let held = |n: u32| n.max(floor);
        let mut number = before(cutoff).min(held(self.forgettable_before()));
        // Bytes not yet cut into a record are read back from their frames once the record is
        // complete (to show its plaintext): those frames stay. (A record already complete whose
        // first frames go keeps its plaintext instead: see `keep_cut_records`.)
        for (stream, state) in self.streams.iter().enumerate() {
            if state.kind != StreamKind::Tls {
                continue;
            }
            let Some(conn) = self.tracker.connection(stream) else {
                continue;
            };
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let d = di(dir);
                if state.lost_framing[d] || state.gapped[d] {
                    continue;
                }
                // The carriers from the pending bytes on (a record's worth at most), and segments
                // waiting ahead of a gap (no carrier names them until it is filled).
                let range = state.pending_offset[d]..u64::MAX;
                let frame = overlapping(conn.carriers(dir), &range)
                    .map(|c| c.frame)
                    .chain(conn.oldest_held_frame(dir))
                    .min();
                if let Some(frame) = frame {
                    number = number.min(held(frame));
                }
            }
        }
        number
    }

    /// Forgets what is older than `cutoff`: the frames before [`Trace::forget_point`] (as
    /// [`Trace::forget_before`] does), and the application events before `cutoff` whose bytes
    /// went out in those frames. A live session that runs for hours calls this to keep its
    /// memory flat. Event indices, like frame numbers, then count from the first event kept:
    /// [`Trace::events_forgotten`] says by how much they moved. Returns how many frames were
    /// forgotten, and the events.
    pub fn forget_older_than(&mut self, cutoff: Timestamp) -> (u32, Vec<AppEvent>) {
        let number = self.forget_point(cutoff);
        // The events go first: where their bytes went is known only while the frames are.
        let given_up = Timestamp(cutoff.0 - PENDING_GRACE);
        let events = self
            .app
            .iter()
            .take_while(|e| {
                e.at < cutoff
                    && match self.app_event_frame(e) {
                        Some(frame) => frame < number,
                        None => !self.still_coming(e) || e.at < given_up,
                    }
            })
            .count();
        let events: Vec<AppEvent> = self.app.drain(..events).collect();
        self.events_forgotten += events.len();
        let frames_before = self.frames_forgotten;
        self.forget_frames_before(number);
        (self.frames_forgotten - frames_before, events)
    }

    /// True if `event`'s bytes have not all reached the capture yet, so they may still come (a
    /// write waits in a full socket buffer while the reader is slow): its connection is not
    /// captured yet, or its direction's stream (for TLS, its plaintext) ends before them.
    fn still_coming(&self, event: &AppEvent) -> bool {
        let Some((stream, dir)) = self.locate(event) else {
            return true;
        };
        let end = event.offset.saturating_add(event.bytes.len() as u64);
        match self.streams.get(stream).map(|s| (s.kind, s)) {
            Some((StreamKind::Tls, state)) => end > state.plaintext_len[di(dir)],
            Some((StreamKind::Plain, _)) => self
                .tracker
                .connection(stream)
                .is_some_and(|c| end > c.delivered_len(dir)),
            Some((StreamKind::Unknown, _)) | None => true,
        }
    }

    /// How many frames were forgotten ([`Trace::forget_before`]): the first kept frame is the
    /// next one.
    pub fn frames_forgotten(&self) -> u32 {
        self.frames_forgotten
    }

    /// How many TLS records were forgotten with their frames: the first kept record's index.
    pub fn records_forgotten(&self) -> usize {
        self.records_forgotten
    }

    /// How many application events were forgotten ([`Trace::forget_older_than`]).
    pub fn events_forgotten(&self) -> usize {
        self.events_forgotten
    }

    /// When frame #1 was captured, forgotten or not: the Time column and `frame.time_ms` count
    /// from it, so they do not move when a long demo forgets its first frames.
    pub fn first_time(&self) -> Option<Timestamp> {
        self.first_at
    }

    /// How many frames were added (forgotten ones included): the last frame's number.
    pub fn frame_count(&self) -> u32 {
        self.frames_forgotten + self.frames.len() as u32
    }

    /// The TLS records that became complete in `entry`'s frame.
    pub fn records_of(&self, entry: &FrameEntry) -> &[RecordEntry] {
        let (start, end) = (
            entry.records.start.saturating_sub(self.records_forgotten),
            entry.records.end.saturating_sub(self.records_forgotten),
        );
        self.records.get(start..end).unwrap_or_default()
    }

    /// One record by index (as [`FrameEntry::records`] and [`Journey::records`] count them).
    pub fn record(&self, index: usize) -> Option<&RecordEntry> {
        self.records.get(index.checked_sub(self.records_forgotten)?)
    }

    /// Makes room for `frames` more frames (a file's frame count is known before they are added).
    pub fn reserve(&mut self, frames: usize) {
        self.frames.reserve(frames);
    }

    /// Adds TLS secrets; records that arrive afterwards can use them.
    pub fn add_keys(&mut self, keys: &Keys) {
        self.keys.merge(keys);
    }

    /// The secrets known so far.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Names the capture interfaces (`names[i]` is interface `i`'s, as [`Frame::interface`]
    /// counts them; empty for an unnamed one).
    pub fn set_interface_names(&mut self, names: Vec<String>) {
        self.places = super::hops::places(&names);
        self.interfaces = names;
    }

    /// Where capture interface `id` sits on a path of routers, from its name.
    pub fn hop_place(&self, id: u32) -> Option<&HopPlace> {
        self.places.get(id as usize)?.as_ref()
    }

    /// True when frames came from several named interfaces (a path of routers), so that each
    /// frame's interface is worth naming.
    pub fn several_interfaces(&self) -> bool {
        self.interfaces.len() > 1
    }

    /// The frames carrying one IP packet along its path: the original (first captured) and
    /// its copies, ordered along the path from the original's interface (by capture order where
    /// the interfaces' places are unknown). Just `[number]` for a packet seen once.
    pub fn path_of(&self, number: u32) -> Vec<u32> {
        let Some(entry) = self.frame(number) else {
            return Vec::new();
        };
        let original = entry.copy_of.unwrap_or(number);
        let mut all = vec![original];
        all.extend_from_slice(self.copies.copies(original));
        // Along the way the packet went: the TTL falls router by router, and of the two ends of
        // one link the sender's comes first. Where places are unknown, capture order.
        let place = |n: u32| {
            let e = self.frame(n)?;
            let position = self.hop_place(e.frame.interface)?.position;
            Some((e.headers().ip?.ttl, position))
        };
        let known: Option<Vec<(u8, u32)>> = all.iter().map(|&n| place(n)).collect();
        if let Some(known) = known {
            let first = known
                .iter()
                .max_by_key(|(ttl, p)| (*ttl, std::cmp::Reverse(*p)));
            let last = known.iter().min_by_key(|(ttl, p)| (*ttl, *p));
            // Towards the server (positions growing) unless the TTL falls the other way, or,
            // on one link, the original sits at its server-side end.
            let towards_server = match (first, last) {
                (Some(a), Some(b)) if a.0 != b.0 => a.1 < b.1,
                _ => known.first().is_some_and(|(_, p)| p % 2 == 0),
            };
            let mut keyed: Vec<(u32, (u8, u32))> = all.iter().copied().zip(known).collect();
            keyed.sort_by_key(|&(n, (ttl, p))| {
                let along = if towards_server { p } else { u32::MAX - p };
                (std::cmp::Reverse(ttl), along, n)
            });
            return keyed.into_iter().map(|(n, _)| n).collect();
        }
        all.sort_unstable();
        all
    }

    /// For a copy: what changed since its original (link addresses, TTL, IPv4 checksum) and
    /// whether everything above IP is byte-identical.
    pub fn hop_check(&self, number: u32) -> Option<HopCheck> {
        let entry = self.frame(number)?;
        let original = self.frame(entry.copy_of?)?;
        let routers = self
            .hop_place(original.frame.interface)
            .zip(self.hop_place(entry.frame.interface))
            .map(|(a, b)| a.link.abs_diff(b.link));
        super::hops::check(
            (original.number, &original.frame),
            (number, &entry.frame),
            routers,
        )
    }

    /// The capture interfaces' names, by interface number.
    pub fn interface_names(&self) -> &[String] {
        &self.interfaces
    }

    /// The name of capture interface `id`, if it has one.
    pub fn interface_name(&self, id: u32) -> Option<&str> {
        self.interfaces
            .get(id as usize)
            .map(String::as_str)
            .filter(|n| !n.is_empty())
    }

    /// Records an application write or read reported by the chat's tap.
    pub fn add_app_event(&mut self, event: AppEvent) {
        self.app.push(event);
    }

    /// All application events (but those forgotten, see [`Trace::forget_older_than`]).
    pub fn app_events(&self) -> &[AppEvent] {
        &self.app
    }

    /// Gives application event `i` its bytes (a streaming reader decodes them just before the
    /// event is shown, and empties them after).
    pub fn set_app_event_bytes(&mut self, i: usize, bytes: bytes::Bytes) {
        if let Some(event) = self.app.get_mut(i) {
            event.bytes = bytes;
        }
    }

    /// Records what the kernel reported about one of packetpath's sockets.
    pub fn add_tcp_info(&mut self, sample: crate::tcpinfo::TcpInfoSample) {
        self.tcp_info.push(sample);
    }

    /// The kernel's reports (TCP_INFO), in the order they were taken.
    pub fn tcp_info(&self) -> &[crate::tcpinfo::TcpInfoSample] {
        &self.tcp_info
    }

    /// All frames, in capture order (in a streaming trace, those not yet forgotten).
    pub fn frames(&self) -> &[FrameEntry] {
        &self.frames
    }

    /// One frame by number (from 1).
    pub fn frame(&self, number: u32) -> Option<&FrameEntry> {
        frame_in(&self.frames, self.frames_forgotten, number)
    }

    /// All TLS records, in the order they became complete (in a streaming trace, those not yet
    /// forgotten: index them through [`Trace::record`]).
    pub fn records(&self) -> &[RecordEntry] {
        &self.records
    }

    /// The TCP connections.
    pub fn tcp(&self) -> &TcpTracker {
        &self.tracker
    }

    /// What connection `stream` carries.
    pub fn stream_kind(&self, stream: usize) -> StreamKind {
        self.streams
            .get(stream)
            .map_or(StreamKind::Unknown, |s| s.kind)
    }

    /// The TLS session of connection `stream` (handshake details, negotiated version).
    pub fn tls_session(&self, stream: usize) -> Option<&crate::tls::SessionSummary> {
        self.streams
            .get(stream)
            .filter(|s| s.kind == StreamKind::Tls)
            .map(|s| s.tls.summary())
    }

    /// Adds one frame: dissects it, places it in its TCP connection, and parses the TLS records it
    /// completes. Returns its number.
    pub fn push_frame(&mut self, frame: Frame) -> u32 {
        self.first_at.get_or_insert(frame.at);
        let number = self.frame_count() + 1;
        // Only the headers matter here; checksums are verified when a frame is shown.
        let packet = dissect_without_tcp_checksum(frame.link, &frame.data);
        let records_start = self.records_forgotten + self.records.len();
        if self.several_interfaces() {
            if let Some(ip) = &packet.ip {
                let (frames, forgotten) = (&self.frames, self.frames_forgotten);
                let earlier = |n: u32| frame_in(frames, forgotten, n).map(|e| &e.frame);
                if let Some((original, altered)) = self.copies.push(number, &frame, ip, earlier) {
                    let mut segment = self.frame(original).and_then(|o| o.segment.clone());
                    // A copy an attacker renumbered (a replay or a removal hidden from TCP) shows
                    // its own numbers, relative to the same bases. Only an altered copy can have
                    // other numbers: an exact one is not dissected again.
                    if let (true, Some(seg), Some(tcp)) =
                        (altered, segment.as_mut(), packet.tcp.as_ref())
                    {
                        if let Some(was) = self.frame(original).and_then(|o| o.headers().tcp) {
                            seg.rel_seq = seg.rel_seq.wrapping_add(tcp.seq.wrapping_sub(was.seq));
                            seg.rel_ack = seg.rel_ack.wrapping_add(tcp.ack.wrapping_sub(was.ack));
                        }
                    }
                    // A fragment forwarded whole to a link where a router cut the packet's other
                    // fragments smaller: it is one of the pieces that make the packet there.
                    if ip.is_fragment() && self.defrag.waiting_on(frame.interface, ip) {
                        self.pieces.remember(number, ip);
                        self.push_fragment(number, &frame, ip, Some(original));
                    }
                    self.frames.push(FrameEntry {
                        number,
                        frame,
                        segment,
                        records: records_start..records_start,
                        copy_of: Some(original),
                        piece_of: None,
                    });
                    return number;
                }
            }
        }
        let mut segment = None;
        let mut piece_of = None;
        if let Some(ip) = packet.ip.as_ref().filter(|ip| ip.is_fragment()) {
            if self.several_interfaces() {
                let (frames, forgotten) = (&self.frames, self.frames_forgotten);
                let earlier = |n: u32| frame_in(frames, forgotten, n).map(|e| &e.frame);
                piece_of = self.pieces.piece_of(&frame, ip, earlier);
                self.pieces.remember(number, ip);
                if let Some(whole) = piece_of {
                    self.cut_into.entry(whole).or_default().push(number);
                }
            }
            // A piece of an IP packet: TCP sees the packet when its last piece arrives (unless a
            // router cut it from a packet TCP has already seen).
            let origin = piece_of.map(|p| self.piece_origin(p).unwrap_or(p));
            segment = self.push_fragment(number, &frame, ip, origin);
        } else if let Some((info, delivered)) = {
            if self.several_interfaces() {
                if let Some(ip) = &packet.ip {
                    self.pieces.remember(number, ip);
                }
            }
            self.tracker.push(number, frame.at, &packet, &frame.data)
        } {
            let stream = info.stream;
            while self.streams.len() <= stream {
                self.streams.push(StreamState::new());
            }
            if !delivered.is_empty() {
                let bytes = delivered.as_slice(&frame.data);
                match delivered.gap_at {
                    None => self.on_stream_bytes(stream, info.dir, number, bytes),
                    Some(at) => {
                        // The capture cut this segment short: what follows its captured bytes
                        // is not what follows them in the stream.
                        let (before, after) = bytes.split_at(at.min(bytes.len()));
                        self.on_stream_bytes(stream, info.dir, number, before);
                        self.on_stream_gap(stream, info.dir, number, delivered.resume_at);
                        self.on_stream_bytes(stream, info.dir, number, after);
                    }
                }
            }
            segment = Some(info);
        }
        self.frames.push(FrameEntry {
            number,
            frame,
            segment,
            records: records_start..self.records_forgotten + self.records.len(),
            copy_of: None,
            piece_of,
        });
        number
    }

    /// The fragments a router cut frame `number`'s packet into on the next link, in capture
    /// order (empty when it went on whole, or was not captured there).
    pub fn cut_into(&self, number: u32) -> &[u32] {
        self.cut_into.get(&number).map_or(&[], Vec::as_slice)
    }

    /// The frame whose packet a router cut fragment `number` from (on the link before), if any.
    pub fn piece_of(&self, number: u32) -> Option<u32> {
        self.frame(number).and_then(|e| e.piece_of)
    }

    /// The whole original a router-made fragment goes back to: following [`Trace::piece_of`]
    /// to the first frame that is no such piece (for a packet fragmented twice, through the
    /// fragment of the link before).
    pub fn piece_origin(&self, number: u32) -> Option<u32> {
        let mut at = self.piece_of(number)?;
        let mut steps = 0;
        while let Some(up) = self.piece_of(at) {
            at = up;
            steps += 1;
            if steps > 16 {
                break;
            }
        }
        Some(at)
    }

    /// Stream bytes are missing at this point (the snapshot length cut a segment short), up to
    /// stream offset `resume_at`. As tshark does, a record whose header was captured is still
    /// listed (header only: its body is not all there), and framing starts again where the
    /// stream resumes — the next segment's first byte, where a sender usually starts a record.
    /// From here on this direction's records are not decrypted: records were missed, so their
    /// sequence numbers, and the keys a missed handshake message would have switched to, are
    /// unknown.
    fn on_stream_gap(&mut self, stream: usize, dir: Direction, frame: u32, resume_at: u64) {
        let Some(state) = self.streams.get_mut(stream) else {
            return;
        };
        let d = di(dir);
        if state.kind != StreamKind::Tls {
            return;
        }
        // A record is listed if its header was captured and it ends within this segment (one
        // that goes on past it would need the segments after, which tshark does not join
        // across a cut either).
        let header = (!state.lost_framing[d])
            .then(|| RecordHeader::parse(&state.pending[d]))
            .flatten()
            .filter(|h| state.pending_offset[d] + h.record_len() as u64 <= resume_at);
        if let Some(header) = header {
            let start = state.pending_offset[d];
            let len = header.record_len();
            let note = format!(
                "only {} of the record's {len} bytes were captured (the capture's snapshot length cut the frame short): its body cannot be read or decrypted",
                state.pending[d].len().min(len)
            );
            self.records.push(RecordEntry {
                stream,
                dir,
                stream_range: start..start + len as u64,
                frame,
                info: RecordInfo::header_only(header, note),
                plaintext: None,
            });
        }
        tracing::debug!(
            stream,
            ?dir,
            frame,
            "bytes not captured after frame {frame}: TLS framing starts again at stream offset {resume_at}"
        );
        state.pending[d].clear();
        state.pending_offset[d] = resume_at;
        state.gapped[d] = true;
        // Framing lost inside a cut segment (it began mid-record) is tried again at the next.
        state.lost_framing[d] = false;
    }

    /// Hands an IP fragment to reassembly; when it completes its packet, the packet's TCP
    /// segment is placed in its connection as if it had come whole in this frame. `origin` is
    /// the frame, captured earlier on the path, this fragment came from (cut by a router from it,
    /// or forwarded as it was): a packet whose every fragment has one was seen by TCP already.
    fn push_fragment(
        &mut self,
        number: u32,
        frame: &Frame,
        ip: &IpInfo,
        origin: Option<u32>,
    ) -> Option<SegmentInfo> {
        let (frames, forgotten) = (&self.frames, self.frames_forgotten);
        let earlier = |n: u32| frame_in(frames, forgotten, n).map(|e| &e.frame.data[..]);
        let whole =
            match self
                .defrag
                .push_on(frame.interface, number, frame.at, ip, &frame.data, earlier)
            {
                Pushed::Complete(whole) => whole,
                Pushed::Held => return None,
                Pushed::Discarded(e) => {
                    tracing::debug!(frame = number, "IP fragments not reassembled: {e}");
                    return None;
                }
            };
        // Pieces a router cut from packets already seen: the packet they make is shown, and TCP
        // does not see it a second time; it shares the original's place in its connection.
        let fragments = &self.defrag.datagram(whole.datagram)?.fragments;
        let origins: Vec<Option<u32>> = fragments
            .iter()
            .map(|&f| {
                if f == number {
                    origin
                } else {
                    self.piece_origin(f)
                        .or_else(|| self.frame(f).and_then(|e| e.copy_of))
                }
            })
            .collect();
        if origins.iter().all(Option::is_some) {
            // The original's segment: of the whole packet's frame, or, when the packet came in
            // fragments on the link before too, of the frame that completed it there.
            return origins.iter().flatten().find_map(|&o| {
                self.frame(o).and_then(|e| e.segment.clone()).or_else(|| {
                    match self.fragment_of(o)?.state {
                        DatagramState::Reassembled { frame } => {
                            self.frame(frame).and_then(|e| e.segment.clone())
                        }
                        _ => None,
                    }
                })
            });
        }
        let packet = dissect_without_tcp_checksum(LinkType::RawIp, &whole.bytes);
        let (info, delivered) = {
            let pieces = self.defrag.datagram(whole.datagram)?.pieces();
            let map = FrameMap {
                pieces,
                data_start: whole.data_start,
            };
            self.tracker
                .push_mapped(number, frame.at, &packet, &whole.bytes, Some(map))?
        };
        while self.streams.len() <= info.stream {
            self.streams.push(StreamState::new());
        }
        if !delivered.is_empty() {
            self.on_stream_bytes(
                info.stream,
                info.dir,
                number,
                delivered.as_slice(&whole.bytes),
            );
        }
        Some(info)
    }

    /// The fragmented IP packet frame `number` carries a piece of, if it is a fragment.
    pub fn fragment_of(&self, number: u32) -> Option<&Datagram> {
        self.defrag.of_frame(number).map(|(_, d)| d)
    }

    /// The fragments that make frame `number`'s packet on its own link, in offset order, and
    /// the one that completed it (`None` if it never was). For a copy of a fragment (the far
    /// end of a link, or a router forwarding it whole), the copies on this interface of the
    /// fragments of the packet it is a copy of. `None` when the frame is no fragment.
    pub fn fragments_on_link(&self, number: u32) -> Option<(Vec<u32>, Option<u32>)> {
        let done = |d: &Datagram| match d.state {
            DatagramState::Reassembled { frame } => Some(frame),
            _ => None,
        };
        if let Some(d) = self.fragment_of(number) {
            return Some((d.fragments.clone(), done(d)));
        }
        let entry = self.frame(number)?;
        let d = self.fragment_of(entry.copy_of?)?;
        let here = entry.frame.interface;
        let on_this_link = |f: u32| {
            self.path_of(f)
                .into_iter()
                .find(|&c| self.frame(c).is_some_and(|e| e.frame.interface == here))
        };
        let fragments: Option<Vec<u32>> = d.fragments.iter().map(|&f| on_this_link(f)).collect();
        Some((fragments?, done(d).and_then(on_this_link)))
    }

    /// Every fragmented IP packet seen, in the order their first fragments came.
    pub fn datagrams(&self) -> &[Datagram] {
        self.defrag.datagrams()
    }

    /// For the frame that completed a fragmented IP packet: the whole packet, put together again
    /// from its fragments' frames, and its dissection (TCP checksum verified over the whole
    /// segment). Its ranges are in the returned bytes, not in the frame. `None` for any other
    /// frame.
    pub fn reassembled(&self, number: u32) -> Option<(Vec<u8>, Packet)> {
        let d = self.fragment_of(number)?;
        if d.state != (DatagramState::Reassembled { frame: number }) {
            return None;
        }
        let (bytes, _) =
            crate::flow::rebuild_datagram(d, |n| self.frame(n).map(|e| &e.frame.data[..])).ok()?;
        let packet = dissect(LinkType::RawIp, &bytes);
        Some((bytes, packet))
    }

    fn on_stream_bytes(&mut self, stream: usize, dir: Direction, frame: u32, bytes: &[u8]) {
        let Some(state) = self.streams.get_mut(stream) else {
            return;
        };
        let d = di(dir);
        if state.kind == StreamKind::Unknown {
            state.kind = if looks_like_tls(bytes) {
                StreamKind::Tls
            } else {
                StreamKind::Plain
            };
        }
        if state.kind == StreamKind::Plain {
            state.plaintext_len[d] += bytes.len() as u64;
            return;
        }
        if state.lost_framing[d] {
            return;
        }
        // Usually no partial record is waiting: cut records straight from the new bytes and keep
        // only the unfinished tail. Otherwise append to what is waiting and cut from there.
        let from_pending = !state.pending[d].is_empty();
        if from_pending {
            state.pending[d].extend_from_slice(bytes);
        }
        let data: &[u8] = if from_pending {
            &state.pending[d]
        } else {
            bytes
        };
        let base = state.pending_offset[d];
        let mut consumed = 0usize;
        loop {
            let rest = data.get(consumed..).unwrap_or_default();
            match frame_record(rest) {
                Framing::Complete(header) => {
                    let len = header.record_len();
                    let record = rest.get(..len).unwrap_or_default();
                    let info = if state.gapped[d] {
                        let note = if header.content_type == ContentType::ApplicationData {
                            "not decrypted: earlier bytes of this direction were not captured (the capture's snapshot length), so the record's sequence number and keys are unknown"
                        } else {
                            "its contents are not read: earlier bytes of this direction were not captured (the capture's snapshot length), so what they set up is unknown"
                        };
                        RecordInfo::header_only(header, note.into())
                    } else {
                        state
                            .tls
                            .on_record_with(dir, record, &self.keys, &mut self.scratch)
                    };
                    let start = base + consumed as u64;
                    let plaintext = match &info.decrypted {
                        Some(p) if p.content_type == ContentType::ApplicationData => {
                            let from = state.plaintext_len[d];
                            state.plaintext_len[d] += p.len as u64;
                            Some(from..state.plaintext_len[d])
                        }
                        _ => None,
                    };
                    if plaintext.is_some() {
                        state.app_records[d].push(self.records_forgotten + self.records.len());
                    }
                    if let (true, Some(p)) = (self.streaming, &info.decrypted) {
                        // The plaintext is at the start of the scratch buffer: a large one is
                        // kept as it is (the next record gets a new buffer), a small one copied.
                        let bytes = if p.len >= self.scratch.capacity() / 2 {
                            let mut kept = std::mem::take(&mut self.scratch);
                            kept.truncate(p.len);
                            kept
                        } else {
                            self.scratch.get(..p.len).unwrap_or_default().to_vec()
                        };
                        self.recent_plaintext.push_back(KeptPlaintext {
                            record: self.records_forgotten + self.records.len(),
                            at: (stream, dir, base + consumed as u64),
                            bytes,
                        });
                    }
                    self.records.push(RecordEntry {
                        stream,
                        dir,
                        stream_range: start..start + len as u64,
                        frame,
                        info,
                        plaintext,
                    });
                    consumed += len;
                }
                Framing::NeedMore { .. } => break,
                Framing::Malformed(e) => {
                    tracing::debug!(stream, ?dir, "TLS record framing lost: {e}");
                    state.lost_framing[d] = true;
                    break;
                }
            }
        }
        if from_pending {
            let n = consumed.min(state.pending[d].len());
            state.pending[d].drain(..n);
        } else if !state.lost_framing[d] {
            state.pending[d].extend_from_slice(bytes.get(consumed..).unwrap_or_default());
        }
        state.pending_offset[d] += consumed as u64;
    }

    /// The connection an application event belongs to, and which way its bytes travel.
    fn locate(&self, event: &AppEvent) -> Option<(usize, Direction)> {
        let conn = self.tracker.find(event.conn.client, event.conn.server)?;
        let dir = if event.client_to_server() {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        Some((conn.index, dir))
    }

    /// Follows one application event's bytes down the stack: its records, segments and frames.
    /// `None` if its connection was not captured.
    pub fn journey(&self, event: &AppEvent) -> Option<Journey> {
        let (stream, dir) = self.locate(event)?;
        let state = self.streams.get(stream)?;
        let plaintext = event.offset..event.offset.checked_add(event.bytes.len() as u64)?;
        let conn = self.tracker.connection(stream)?;
        let carriers = conn.carriers(dir);
        let mut records = Vec::new();
        let mut stream_ranges: Vec<Range<u64>> = Vec::new();
        match state.kind {
            StreamKind::Tls => {
                for r in self.app_records_overlapping(state, dir, &plaintext) {
                    if let Some(rec) = self.record(r) {
                        records.push(r);
                        stream_ranges.push(rec.stream_range.clone());
                    }
                }
            }
            StreamKind::Plain => stream_ranges.push(plaintext.clone()),
            StreamKind::Unknown => {}
        }
        let mut frames: Vec<u32> = Vec::new();
        for range in &stream_ranges {
            for c in overlapping(carriers, range) {
                if !frames.contains(&c.frame) {
                    frames.push(c.frame);
                }
            }
        }
        frames.sort_unstable();
        let mut bytes = LayerBytes {
            application: event.bytes.len() as u64,
            ..LayerBytes::default()
        };
        for &r in &records {
            if let Some(rec) = self.record(r) {
                bytes.tls += rec.stream_range.end - rec.stream_range.start;
            }
        }
        for &f in &frames {
            let Some(entry) = self.frame(f) else { continue };
            bytes.link += entry.frame.data.len() as u64;
            let packet = entry.headers();
            if let Some(ip) = &packet.ip {
                bytes.ip += (ip.packet.end - ip.packet.start) as u64;
                if ip.is_fragment() {
                    // A fragment carries a piece of the TCP segment (the first one its header).
                    bytes.tcp += ip.packet.end.saturating_sub(ip.fragment_data_start()) as u64;
                    continue;
                }
            }
            if let Some(tcp) = &packet.tcp {
                bytes.tcp += (packet.payload.end.max(tcp.header.end) - tcp.header.start) as u64;
            }
        }
        if frames.is_empty() {
            return None;
        }
        Some(Journey {
            stream,
            dir,
            plaintext,
            records,
            frames,
            bytes,
        })
    }

    /// Where the bytes `range` of one direction's TCP byte stream lie in the frames that carried
    /// them: (frame number, byte range in that frame), in stream order. Bytes never captured are
    /// missing from the list.
    pub fn stream_spans(
        &self,
        stream: usize,
        dir: Direction,
        range: Range<u64>,
    ) -> Vec<(u32, Range<usize>)> {
        let Some(conn) = self.tracker.connection(stream) else {
            return Vec::new();
        };
        overlapping(conn.carriers(dir), &range)
            .filter_map(|c| {
                let start = range.start.max(c.stream_offset) - c.stream_offset;
                let end = range.end.min(c.stream_offset + u64::from(c.len)) - c.stream_offset;
                let base = c.frame_offset as usize;
                (start < end).then(|| (c.frame, base + start as usize..base + end as usize))
            })
            .collect()
    }

    /// The bytes `range` of one direction's TCP byte stream, put together from the frames that
    /// carried them; `None` if some of them were never captured.
    pub fn stream_bytes(
        &self,
        stream: usize,
        dir: Direction,
        range: Range<u64>,
    ) -> Option<Vec<u8>> {
        let want = usize::try_from(range.end.checked_sub(range.start)?).ok()?;
        let mut out = Vec::with_capacity(want);
        for (frame, within) in self.stream_spans(stream, dir, range) {
            out.extend_from_slice(self.frame(frame)?.frame.data.get(within)?);
        }
        (out.len() == want).then_some(out)
    }

    /// The plaintext of a decrypted record: the record is read back from its frames and
    /// decrypted again with the keys and sequence number that opened it when it was captured (the
    /// trace keeps no plaintext, so a large capture needs no more memory than its frames). `None`
    /// if the record was not decrypted, or if opening it again failed (which would be a bug; it
    /// is logged).
    pub fn plaintext(&self, record: &RecordEntry) -> Option<Cow<'_, [u8]>> {
        record.info.decrypted?;
        if self.streaming {
            let key = (record.stream, record.dir, record.stream_range.start);
            return self
                .recent_plaintext
                .iter()
                .rev()
                .find(|kept| kept.at == key)
                .map(|kept| Cow::Borrowed(kept.bytes.as_slice()));
        }
        let key = (record.stream, record.dir, record.stream_range.start);
        if let Some(kept) = self.cut_plaintext.iter().find(|kept| kept.at == key) {
            return Some(Cow::Borrowed(kept.bytes.as_slice()));
        }
        let state = self.streams.get(record.stream)?;
        let bytes = self.stream_bytes(record.stream, record.dir, record.stream_range.clone())?;
        match state.tls.reopen(record.dir, &record.info, &bytes)? {
            Ok(plain) => Some(Cow::Owned(plain)),
            Err(e) => {
                tracing::warn!(
                    stream = record.stream,
                    frame = record.frame,
                    "a record decrypted during capture did not open again: {e}"
                );
                None
            }
        }
    }

    /// The frame on which an application event's last byte arrived (where reports show it).
    pub fn app_event_frame(&self, event: &AppEvent) -> Option<u32> {
        self.app_event_frame_with_len(event, event.bytes.len())
    }

    /// [`Trace::app_event_frame`] of an event of `len` bytes whose bytes are not read yet
    /// ([`crate::journey::ledger::LazyEvent`]).
    pub fn app_event_frame_with_len(&self, event: &AppEvent, len: usize) -> Option<u32> {
        let (stream, dir) = self.locate(event)?;
        let state = self.streams.get(stream)?;
        // The offset comes from the file: no overflow on a damaged one.
        let last = event.offset.checked_add(len as u64)?.checked_sub(1)?;
        let end = last.checked_add(1)?;
        match state.kind {
            StreamKind::Tls => self
                .app_records_overlapping(state, dir, &(last..end))
                .next()
                .and_then(|r| self.record(r))
                .map(|rec| rec.frame),
            StreamKind::Plain => {
                let conn = self.tracker.connection(stream)?;
                overlapping(conn.carriers(dir), &(last..end))
                    .next()
                    .map(|c| c.frame)
            }
            StreamKind::Unknown => None,
        }
    }
}

impl Trace {
    /// The application-data records of one direction whose plaintext overlaps `range`.
    fn app_records_overlapping<'a>(
        &'a self,
        state: &'a StreamState,
        dir: Direction,
        range: &Range<u64>,
    ) -> impl Iterator<Item = usize> + 'a {
        let list = &state.app_records[di(dir)];
        let end_of = |r: usize| {
            self.record(r)
                .and_then(|rec| rec.plaintext.as_ref())
                .map_or(0, |p| p.end)
        };
        let start_of = move |r: usize| {
            self.record(r)
                .and_then(|rec| rec.plaintext.as_ref())
                .map_or(u64::MAX, |p| p.start)
        };
        let first = list.partition_point(|&r| end_of(r) <= range.start);
        let end = range.end;
        list.get(first..)
            .unwrap_or_default()
            .iter()
            .copied()
            .take_while(move |&r| start_of(r) < end)
    }
}

/// The carriers whose bytes overlap `range` (carriers are sorted by stream offset).
fn overlapping<'a>(
    carriers: &'a [Carrier],
    range: &Range<u64>,
) -> impl Iterator<Item = &'a Carrier> {
    let first = carriers.partition_point(|c| c.stream_offset + u64::from(c.len) <= range.start);
    let end = range.end;
    carriers
        .get(first..)
        .unwrap_or_default()
        .iter()
        .take_while(move |c| c.stream_offset < end)
}
