//! What the layer columns show for the selection: for a message, every record, segment, packet
//! and frame that carried it; for a frame, its own layers. Built once when the selection changes
//! (not on every draw), from the engine's [`Trace`]: header fields come from
//! [`Packet::fields`](crate::dissect::Packet::fields), TLS records from [`RecordEntry`]s, and byte
//! positions from TCP's carriers (which frame carried which stream bytes).

use std::ops::Range;

use super::strings;
use super::theme::UiLayer;
use crate::chat::{AppEvent, Direction as AppDir, Side};
use crate::dissect::Layer;
use crate::flow::Direction;
use crate::journey::{RecordEntry, Stack, StreamKind, Trace};
use crate::report::{quoted, quoted_plaintext};
use crate::tls::ContentType;

mod record;

/// Bytes of one frame: (frame number, range in that frame).
pub type Span = (u32, Range<usize>);

/// One field as a column lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiField {
    /// Its layer (column).
    pub layer: UiLayer,
    /// Short name ("Source port").
    pub name: String,
    /// The value as shown.
    pub value: String,
    /// The sentence a student reads.
    pub meaning: String,
    /// Where its bytes are (a field of a TLS record may straddle two frames).
    pub spans: Vec<Span>,
}

/// One line of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A sub-heading ("frame #12", "record 2").
    Heading(String),
    /// A field (index into [`Detail::fields`]).
    Field(usize),
    /// A remark.
    Note(String),
}

/// What is selected, as far as the columns care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// One application write (index into the trace's app events) and everything that carried it.
    Message(usize),
    /// One frame; with the message it belongs to, if any.
    Frame(u32, Option<usize>),
}

/// The layer columns' content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// What this is about, in words.
    pub title: String,
    /// The frames shown, in order.
    pub frames: Vec<u32>,
    /// Every field, in column order.
    pub fields: Vec<UiField>,
    /// Lines of each column, Application first.
    pub columns: [Vec<Item>; 5],
    /// Bytes per column ("3 B", "+22 B").
    pub bytes: [String; 5],
    /// The encapsulation strip: `3 B text → 25 B TLS record → …`, one part per layer.
    pub strip: Vec<(UiLayer, String)>,
    /// What the transport column holds when it is not TCP ("UDP", "ICMP", "ICMPv6"): its title.
    pub transport: Option<&'static str>,
}

impl Detail {
    /// A column's title: the layer's, except that the TCP column is named after what it holds
    /// for a UDP or ICMP frame.
    pub fn title(&self, layer: UiLayer) -> &'static str {
        match (layer, self.transport) {
            (UiLayer::Tcp, Some(name)) => name,
            _ => layer.title(),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What the TCP tracker adds to a raw TCP header field, shown right after it as Wireshark does:
/// relative sequence and acknowledgment numbers, and the window in bytes after scaling.
fn tcp_derived(
    field: &str,
    seg: &crate::flow::SegmentInfo,
    tcp: &crate::dissect::TcpInfo,
) -> Option<(&'static str, String, String)> {
    match field {
        "Sequence number" => Some((
            "rel. seq",
            seg.rel_seq.to_string(),
            strings::relative_seq_meaning(seg.rel_seq, seg.dir.sender()),
        )),
        "Acknowledgment number" if tcp.flags.contains(crate::dissect::TcpFlags::ACK) => Some((
            "rel. ack",
            seg.rel_ack.to_string(),
            strings::relative_ack_meaning(seg.rel_ack, seg.dir.reverse().sender()),
        )),
        "Window" => Some((
            "win. bytes",
            seg.window_bytes(tcp.window).to_string(),
            strings::window_bytes_meaning(tcp.window, seg.window_shift),
        )),
        _ => None,
    }
}

/// The bytes of some spans, read from their frames.
pub fn span_bytes(trace: &Trace, spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::new();
    for (frame, range) in spans {
        if let Some(bytes) = trace
            .frame(*frame)
            .and_then(|f| f.frame.data.get(range.clone()))
        {
            out.extend_from_slice(bytes);
        }
    }
    out
}

fn hex_preview(bytes: &[u8], max: usize) -> String {
    let mut s: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        s.push("…".into());
    }
    s.join(" ")
}

struct Builder<'a> {
    trace: &'a Trace,
    names: &'a super::index::Names,
    decrypted: bool,
    detail: Detail,
}

impl Builder<'_> {
    fn field(
        &mut self,
        layer: UiLayer,
        name: &str,
        value: String,
        meaning: String,
        spans: Vec<Span>,
    ) {
        self.detail.fields.push(UiField {
            layer,
            name: name.to_string(),
            value,
            meaning,
            spans,
        });
        let i = self.detail.fields.len() - 1;
        self.detail.columns[layer.index()].push(Item::Field(i));
    }

    fn heading(&mut self, layer: UiLayer, text: String) {
        self.detail.columns[layer.index()].push(Item::Heading(text));
    }

    fn note(&mut self, layer: UiLayer, text: &str) {
        self.detail.columns[layer.index()].push(Item::Note(text.to_string()));
    }

    /// The fields of the link, IP and TCP headers of the frames, each under "frame #N" when
    /// there are several.
    fn packet_layers(&mut self, frames: &[u32]) {
        for &n in frames {
            let Some(entry) = self.trace.frame(n) else {
                continue;
            };
            let data = &entry.frame.data;
            let p = &entry.packet();
            if let Some(icmp) = &p.icmp {
                self.detail.transport = Some(if icmp.version == 6 { "ICMPv6" } else { "ICMP" });
            } else if p.udp.is_some() {
                self.detail.transport = Some("UDP");
            }
            for (layer, ui) in [
                (Layer::Tcp, UiLayer::Tcp),
                (Layer::Udp, UiLayer::Tcp),
                (Layer::Icmp, UiLayer::Tcp),
                (Layer::Ip, UiLayer::Ip),
                (Layer::Arp, UiLayer::Ip),
                (Layer::Link, UiLayer::Link),
            ] {
                if p.range(layer).is_none() {
                    continue;
                }
                if frames.len() > 1 {
                    self.heading(ui, format!("frame #{n}"));
                }
                for f in p.fields(layer, data) {
                    let derived = match (layer, &entry.segment, &p.tcp) {
                        (Layer::Tcp, Some(seg), Some(tcp)) => tcp_derived(f.name, seg, tcp),
                        _ => None,
                    };
                    let range = f.range.clone();
                    self.field(ui, f.name, f.value, f.meaning, vec![(n, f.range)]);
                    if let Some((name, value, meaning)) = derived {
                        self.field(ui, name, value, meaning, vec![(n, range)]);
                    }
                }
                if let (Layer::Tcp, Some(seg), Some(tcp)) = (layer, &entry.segment, &p.tcp) {
                    let names = seg.analysis.names();
                    if !names.is_empty() {
                        // Points at the sequence and acknowledgment numbers the verdict rests on.
                        let numbers = tcp.header.start + 4..tcp.header.start + 12;
                        self.field(
                            ui,
                            "analysis",
                            names.join(", "),
                            strings::analysis_meaning(&seg.analysis),
                            vec![(n, numbers)],
                        );
                    }
                }
            }
            if let Some(line) = crate::report::fragment_line(self.trace, n) {
                // "fragment 2 of 3 (offset 48, …), reassembled in #14"
                self.note(UiLayer::Ip, &line);
            }
            if let Some(stop) = &p.stop {
                let ui = match stop.layer {
                    Layer::Link => UiLayer::Link,
                    Layer::Arp | Layer::Ip => UiLayer::Ip,
                    Layer::Tcp | Layer::Udp | Layer::Icmp => UiLayer::Tcp,
                    Layer::Payload => UiLayer::Tls,
                };
                self.field(
                    ui,
                    "dissection stopped",
                    format!("at byte {}", stop.offset),
                    stop.reason.clone(),
                    vec![(n, stop.offset..stop.offset + 1)],
                );
            }
        }
    }

    /// The application column for one write or read.
    fn app_event(&mut self, event: &AppEvent, tls: bool, spans: Vec<Span>) {
        let (from, to) = self.names.parties(event);
        let verb = match event.dir {
            AppDir::Write => "wrote",
            AppDir::Read => "read",
        };
        let who = match event.side {
            Side::Client => self.names.client(event.conn.client),
            Side::Server => "server".into(),
        };
        self.heading(UiLayer::Application, format!("{who} {verb}"));
        let hidden = tls && !self.decrypted;
        let (value, meaning) = if hidden {
            (
                "•".repeat(event.bytes.len().clamp(1, 12)),
                strings::eavesdropper_text(event.bytes.len()),
            )
        } else {
            (
                quoted(&event.bytes, 200),
                strings::text_meaning(event.bytes.len(), tls),
            )
        };
        self.field(UiLayer::Application, "text", value, meaning, spans);
        self.field(
            UiLayer::Application,
            "length",
            format!("{} B", event.bytes.len()),
            if tls {
                strings::APP_LENGTH_MEANING_TLS
            } else {
                strings::APP_LENGTH_MEANING
            }
            .into(),
            Vec::new(),
        );
        self.field(
            UiLayer::Application,
            "from → to",
            format!("{from} → {to}"),
            strings::PARTIES_MEANING.into(),
            Vec::new(),
        );
    }

    fn tls_or_plain(&self, stream: usize) -> bool {
        self.trace.stream_kind(stream) == StreamKind::Tls
    }

    /// Where a message's plaintext went: in plain TCP its own bytes; in TLS its records' bodies.
    fn message_spans(
        &self,
        event: &AppEvent,
        stream: usize,
        dir: Direction,
        records: &[usize],
    ) -> Vec<Span> {
        if !self.tls_or_plain(stream) {
            let range = event.offset..event.offset + event.bytes.len() as u64;
            return self.trace.stream_spans(stream, dir, range);
        }
        records
            .iter()
            .filter_map(|&r| Some((self.trace.record(r)?, self.trace.record_text(r)?)))
            .flat_map(|(rec, text): (&RecordEntry, _)| {
                self.trace.stream_spans(rec.stream, rec.dir, text)
            })
            .collect()
    }
}

impl Detail {
    /// The columns for `subject`; `decrypted` shows what the endpoints see, otherwise what an
    /// eavesdropper sees.
    pub fn build(
        trace: &Trace,
        names: &super::index::Names,
        subject: Subject,
        decrypted: bool,
    ) -> Detail {
        let mut b = Builder {
            trace,
            names,
            decrypted,
            detail: Detail::default(),
        };
        match subject {
            Subject::Message(i) => b.message(i),
            Subject::Frame(n, message) => b.frame(n, message),
        }
        b.detail
    }
}

impl Builder<'_> {
    fn message(&mut self, i: usize) {
        let trace = self.trace;
        let Some(event) = trace.app_events().get(i) else {
            return;
        };
        let Some(journey) = trace.journey(event) else {
            self.detail.title = strings::NOT_CAPTURED_YET.into();
            self.app_event(event, false, Vec::new());
            return;
        };
        let tls = self.tls_or_plain(journey.stream);
        let spans = self.message_spans(event, journey.stream, journey.dir, &journey.records);
        let (from, to) = self.names.parties(event);
        self.detail.title = format!("message {from} → {to}");
        self.app_event(event, tls, spans);
        if tls {
            let several = journey.records.len() > 1;
            for (k, &r) in journey.records.iter().enumerate() {
                let frame = trace.record(r).map_or(0, |x| x.frame);
                let h = several.then(|| format!("record {} · #{frame}", k + 1));
                self.record(r, h);
            }
        } else {
            self.note(UiLayer::Tls, strings::NO_TLS);
        }
        self.packet_layers(&journey.frames);
        self.detail.frames = journey.frames.clone();
        let b = journey.bytes;
        let stack = Stack {
            text: Some(b.application),
            tls: tls.then_some(b.tls),
            tcp: Some(b.tcp),
            ip: Some(b.ip),
            frame: b.link,
        };
        self.sizes(stack, journey.records.len(), journey.frames.len(), false);
    }

    fn frame(&mut self, n: u32, message: Option<usize>) {
        let trace = self.trace;
        let Some(entry) = trace.frame(n) else {
            return;
        };
        self.detail.title = format!("frame #{n}");
        self.detail.frames = vec![n];
        let p = &entry.packet();
        let tls = entry
            .segment
            .as_ref()
            .is_some_and(|s| self.tls_or_plain(s.stream));
        let records = trace.records_in_frame(n);
        // Application column: the message this frame helps carry, or what its records decrypt to.
        // A frame listed under a message's heading need not carry it (an ACK, or the other side's
        // retransmission that happened meanwhile): then the message is not shown.
        let carried = message
            .and_then(|i| trace.app_events().get(i))
            .and_then(|event| Some((event, trace.journey(event)?)))
            .filter(|(_, j)| j.frames.contains(&n));
        match carried {
            Some((event, j)) => {
                let spans = self
                    .message_spans(event, j.stream, j.dir, &j.records)
                    .into_iter()
                    .filter(|(f, _)| *f == n)
                    .collect();
                self.app_event(event, tls, spans);
            }
            None if p.udp.as_ref().is_some_and(|u| !u.payload.is_empty()) => {
                let range = p.udp.as_ref().map_or(0..0, |u| u.payload.clone());
                let data = entry.frame.data.get(range.clone()).unwrap_or_default();
                self.field(
                    UiLayer::Application,
                    "UDP payload",
                    quoted(data, 200),
                    strings::UDP_PAYLOAD_MEANING.into(),
                    vec![(n, range)],
                );
            }
            None if p.icmp.is_some() => self.note(UiLayer::Application, strings::ICMP_NO_APP),
            None if !tls && !p.payload.is_empty() && p.tcp.is_some() => {
                let data = entry.frame.data.get(p.payload.clone()).unwrap_or_default();
                let value = quoted(data, 200);
                self.field(
                    UiLayer::Application,
                    "TCP payload",
                    value,
                    strings::PLAIN_PAYLOAD_MEANING.into(),
                    vec![(n, p.payload.clone())],
                );
            }
            None if tls
                && !self.decrypted
                && records.iter().filter_map(|&r| trace.record(r)).any(|r| {
                    r.info.encrypted
                        && trace
                            .tls_session(r.stream)
                            .is_some_and(|s| s.version == Some(0x0304))
                }) =>
            {
                // In TLS 1.3 which records hold the application's bytes is inside the encryption
                // (TLS 1.2 shows each record's real type).
                self.note(UiLayer::Application, strings::ENCRYPTED_RECORDS);
            }
            None => {
                // Without the application's own events (a capture from another tool), the
                // decrypted records are the best view of what the application sent.
                let mut shown = false;
                for &r in &records {
                    let Some(rec) = trace.record(r) else {
                        continue;
                    };
                    let Some(p) = rec.info.decrypted.as_ref() else {
                        continue;
                    };
                    if p.content_type != ContentType::ApplicationData {
                        continue;
                    }
                    let Some(text) = trace.record_text(r) else {
                        continue;
                    };
                    let spans = trace.stream_spans(rec.stream, rec.dir, text);
                    let (value, meaning) = if self.decrypted {
                        (
                            quoted_plaintext(trace, rec, 200),
                            strings::text_meaning(p.len, true),
                        )
                    } else {
                        (
                            "•".repeat(p.len.clamp(1, 12)),
                            strings::eavesdropper_text(p.len),
                        )
                    };
                    self.field(
                        UiLayer::Application,
                        "decrypted data",
                        value,
                        meaning,
                        spans,
                    );
                    shown = true;
                }
                if !shown {
                    self.note(UiLayer::Application, strings::NO_APP_DATA);
                }
            }
        }
        if tls {
            let several = records.len() > 1;
            for (k, &r) in records.iter().enumerate() {
                self.record(r, several.then(|| format!("record {}", k + 1)));
            }
            if records.is_empty() {
                self.note(UiLayer::Tls, strings::NO_RECORD_HERE);
            }
        } else if p.tcp.is_some() {
            self.note(UiLayer::Tls, strings::NO_TLS);
        }
        self.packet_layers(&[n]);
        if let Some(mut stack) = trace.frame_stack(n) {
            // Which TLS 1.3 records hold application data is inside the encryption.
            let tls13_hidden = !self.decrypted
                && records.iter().filter_map(|&r| trace.record(r)).any(|r| {
                    r.info.encrypted
                        && trace
                            .tls_session(r.stream)
                            .is_some_and(|s| s.version == Some(0x0304))
                });
            if tls13_hidden {
                stack.text = None;
            }
            let arp = p.ip.is_none() && p.range(Layer::Arp).is_some();
            self.sizes(stack, records.len(), 1, arp);
        }
    }

    /// The strip and the columns' byte counts, both from one [`Stack`]: the strip gives each
    /// layer's size, a column's header that layer's own bytes, so they always add up.
    fn sizes(&mut self, stack: Stack, records: usize, frames: usize, arp: bool) {
        let own = stack.own();
        let hidden = stack.tls.is_some() && stack.text.is_none();
        self.detail.bytes = [
            match own[0] {
                Some(n) => format!("{n} B"),
                None if hidden => "? B".into(),
                None => "—".into(),
            },
            own[1].map_or("—".into(), |n| format!("+{n} B")),
            own[2].map_or("—".into(), |n| format!("+{n} B")),
            own[3].map_or("—".into(), |n| format!("+{n} B")),
            own[4].map_or("—".into(), |n| format!("+{n} B")),
        ];
        let mut strip = Vec::new();
        let (data, unit) = match self.detail.transport {
            Some("UDP") => ("data", "UDP datagram"),
            Some("ICMP") => ("text", "ICMP message"),
            Some("ICMPv6") => ("text", "ICMPv6 message"),
            _ => ("text", "TCP segment"),
        };
        match stack.text {
            Some(n) if stack.tcp.is_some() => {
                strip.push((UiLayer::Application, format!("{n} B {data}")))
            }
            None if hidden => strip.push((UiLayer::Application, strings::TEXT_HIDDEN.into())),
            _ => {}
        }
        if let Some(n) = stack.tls {
            strip.push((UiLayer::Tls, format!("{n} B TLS record{}", plural(records))));
        }
        if let Some(n) = stack.tcp {
            strip.push((UiLayer::Tcp, format!("{n} B {unit}{}", plural(frames))));
        }
        match stack.ip {
            Some(n) if arp => strip.push((UiLayer::Ip, format!("{n} B ARP message"))),
            Some(n) => strip.push((UiLayer::Ip, format!("{n} B IP packet{}", plural(frames)))),
            None => {}
        }
        strip.push((
            UiLayer::Link,
            format!("{} B frame{}", stack.frame, plural(frames)),
        ));
        self.detail.strip = strip;
    }
}

impl Detail {
    /// The fields whose bytes include `offset` of frame `frame`, narrowest first.
    pub fn fields_at(&self, frame: u32, offset: usize) -> Vec<usize> {
        let mut found: Vec<(usize, usize)> = self
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.spans
                    .iter()
                    .find(|(n, r)| *n == frame && r.contains(&offset))
                    .map(|(_, r)| (r.len(), i))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, i)| i).collect()
    }

    /// The column (layer) a field is in, and its position among that column's fields.
    pub fn field_position(&self, field: usize) -> Option<(UiLayer, usize)> {
        let layer = self.fields.get(field)?.layer;
        let pos = self.columns[layer.index()]
            .iter()
            .filter_map(|item| match item {
                Item::Field(i) => Some(*i),
                _ => None,
            })
            .position(|i| i == field)?;
        Some((layer, pos))
    }

    /// The fields of one column, in order.
    pub fn column_fields(&self, layer: UiLayer) -> Vec<usize> {
        self.columns[layer.index()]
            .iter()
            .filter_map(|item| match item {
                Item::Field(i) => Some(*i),
                _ => None,
            })
            .collect()
    }
}
