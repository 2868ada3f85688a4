//! JSON renderings. Field names and meanings are a contract (ARCHITECTURE.md): add, never change.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use super::mac;
use crate::chat::{AppEvent, Side};
use crate::journey::{FrameEntry, Journey, RecordEntry, Trace};

/// The JSON of packetpath's reports: compact, and a byte string (serde's `bytes`) is written as
/// a string of lowercase hex digits in one pass, with no escaping to scan for (hex needs none).
/// Everything else is serde_json's `CompactFormatter`.
struct HexBytes;

impl serde_json::ser::Formatter for HexBytes {
    fn write_byte_array<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: &[u8],
    ) -> std::io::Result<()> {
        let mut buf = [0u8; 8192];
        writer.write_all(b"\"")?;
        for chunk in value.chunks(buf.len() / 2) {
            let out = &mut buf[..chunk.len() * 2];
            // The slice is exactly twice the chunk's length, so this cannot fail.
            const_hex::encode_to_slice(chunk, out).map_err(std::io::Error::other)?;
            writer.write_all(out)?;
        }
        writer.write_all(b"\"")
    }
}

/// Bytes written as hex (see [`HexBytes`]).
struct Hex<'a>(&'a [u8]);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A 16-bit field as `0x0800` (an EtherType, a TLS version).
struct Hex16(u16);

impl Serialize for Hex16 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = super::hex16_bytes(self.0);
        s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// The `link` object: `type`, `src`, `dst`, `ethertype`, and `vlan` when tagged.
struct Link<'a>(&'a crate::dissect::LinkInfo);

impl Link<'_> {
    /// Writes the object by hand (see [`Tcp::write`]).
    fn write(&self, out: &mut Vec<u8>) {
        let link = self.0;
        let mut m = Obj::open(out);
        if let Some(dst) = &link.dst {
            m.quoted("dst", &super::mac_bytes(dst));
        }
        m.quoted("ethertype", &super::hex16_bytes(link.ethertype));
        if let Some(src) = &link.src {
            m.quoted("src", &super::mac_bytes(src));
        }
        m.ser("type", link.kind.name());
        if let Some(vlan) = link.vlan {
            m.ser("vlan", &vlan);
        }
        m.close();
    }
}

/// `text` when the bytes are UTF-8, `hex` otherwise, as an object's last entry (both keys sort
/// after every other key of the objects that end with them).
fn text_or_hex<M: SerializeMap>(m: &mut M, bytes: &[u8]) -> Result<(), M::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => m.serialize_entry("text", text),
        Err(_) => m.serialize_entry("hex", &Hex(bytes)),
    }
}

/// Objects are written with their keys in alphabetical order (as a `serde_json::Map` keeps them),
/// so output stays byte for byte what it was when it was built as `Value`s.
struct Decrypted<'a> {
    content_type: u8,
    bytes: &'a [u8],
    reopened: bool,
}

impl Serialize for Decrypted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("content_type", &self.content_type)?;
        if !self.reopened {
            m.serialize_entry("error", super::NOT_REOPENED)?;
        }
        text_or_hex(&mut m, self.bytes)?;
        m.end()
    }
}

struct Record<'a> {
    trace: &'a Trace,
    rec: &'a RecordEntry,
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let info = &self.rec.info;
        let mut m = s.serialize_map(None)?;
        if let Some((level, description)) = info.alert {
            m.serialize_entry(
                "alert",
                &json!({"level": level, "description": description,
                        "name": crate::tls::alert_name(description)}),
            )?;
        }
        m.serialize_entry("content_type", &info.header.content_type.number())?;
        if let Some(p) = &info.decrypted {
            let plain = self.trace.plaintext(self.rec);
            m.serialize_entry(
                "decrypted",
                &Decrypted {
                    content_type: p.content_type.number(),
                    bytes: plain.as_deref().unwrap_or_default(),
                    reopened: plain.is_some(),
                },
            )?;
        }
        let handshake: Vec<&str> = info.handshake.iter().map(|h| h.name()).collect();
        m.serialize_entry("handshake", &handshake)?;
        m.serialize_entry("length", &info.header.length)?;
        if let Some(note) = &info.note {
            m.serialize_entry("note", note)?;
        }
        m.serialize_entry("stream_offset", &self.rec.stream_range.start)?;
        m.serialize_entry("type_name", info.header.content_type.name())?;
        m.serialize_entry("version", &Hex16(info.header.version))?;
        m.end()
    }
}

struct App<'a>(&'a AppEvent);

impl Serialize for App<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let event = self.0;
        let mut m = s.serialize_map(None)?;
        let dir = match event.dir {
            crate::chat::Direction::Write => "write",
            crate::chat::Direction::Read => "read",
        };
        m.serialize_entry("dir", dir)?;
        let text = std::str::from_utf8(&event.bytes).ok();
        if text.is_none() {
            m.serialize_entry("hex", &Hex(&event.bytes))?;
        }
        m.serialize_entry("offset", &event.offset)?;
        let side = match event.side {
            Side::Client => "client",
            Side::Server => "server",
        };
        m.serialize_entry("side", side)?;
        if let Some(text) = text {
            m.serialize_entry("text", text)?;
        }
        m.end()
    }
}

/// A checksum's state in one word: `verified`, `wrong`, `offloaded`, `not_checked`, or `none`
/// (UDP over IPv4 without a checksum).
pub fn checksum_name(status: crate::dissect::ChecksumStatus) -> &'static str {
    use crate::dissect::ChecksumStatus;
    match status {
        ChecksumStatus::Verified => "verified",
        ChecksumStatus::Wrong { .. } => "wrong",
        ChecksumStatus::Offloaded { .. } => "offloaded",
        ChecksumStatus::NotChecked => "not_checked",
        ChecksumStatus::Absent => "none",
    }
}

/// The `ip` object, with the fields of an IP fragment: `fragment` {`offset` (bytes), `more`,
/// `id`, `offset_units` (the header's 8-byte units), `data_len`} on every fragment; `piece_of`
/// (the frame on the link before that a router cut it from) on a router's fragment;
/// `reassembled_in` (the frame that completed the packet) on the others, and `fragments` (the
/// frames of all its fragments, in offset order) with `reassembled_len` (the packet's data
/// bytes after its IP header) on that frame; `not_reassembled` (why) when it never was.
struct Ip<'a> {
    trace: &'a Trace,
    number: u32,
    ip: &'a crate::dissect::IpInfo,
}

impl Ip<'_> {
    /// Writes the object by hand (see [`Tcp::write`]).
    fn write(&self, out: &mut Vec<u8>) {
        use crate::flow::DatagramState;
        let ip = self.ip;
        let datagram = if ip.is_fragment() {
            self.trace.fragment_of(self.number)
        } else {
            None
        };
        let mut m = Obj::open(out);
        if let Some(status) = ip.checksum {
            m.ser("checksum", checksum_name(status));
        }
        m.ser("dst", &ip.dst);
        if ip.is_fragment() {
            m.ser(
                "fragment",
                &json!({"offset": ip.fragment_offset, "more": ip.more_fragments,
                       "id": ip.identification.unwrap_or(0),
                       "offset_units": ip.fragment_offset / 8,
                       "data_len": ip.packet.end.saturating_sub(ip.fragment_data_start())}),
            );
        }
        let completes = datagram.filter(
            |d| matches!(d.state, DatagramState::Reassembled { frame } if frame == self.number),
        );
        if let Some(d) = completes {
            m.ser("fragments", &d.fragments);
        }
        if ip.version == 6 {
            m.uint("hop_limit", ip.ttl);
        }
        if let Some(id) = ip.identification {
            m.uint("identification", id);
        }
        if let Some(d) = datagram {
            if !matches!(d.state, DatagramState::Reassembled { .. }) {
                m.ser("not_reassembled", &super::not_reassembled(d, &d.state));
            }
        }
        if ip.is_fragment() {
            if let Some(whole) = self.trace.piece_of(self.number) {
                m.ser("piece_of", &whole);
            }
        }
        m.uint("protocol", ip.protocol);
        if let Some(d) = datagram {
            match d.state {
                DatagramState::Reassembled { frame } if frame != self.number => {
                    m.ser("reassembled_in", &frame);
                }
                _ => {}
            }
        }
        if let Some(d) = completes {
            m.ser("reassembled_len", &d.data_len.unwrap_or(0));
        }
        m.ser("src", &ip.src);
        m.uint("total_len", ip.total_len);
        if ip.version != 6 {
            m.uint("ttl", ip.ttl);
        }
        m.uint("version", ip.version);
        m.close();
    }
}

/// The `icmp` object: `version` (4 for ICMP, 6 for ICMPv6), `type`, `code`, `type_name`,
/// `code_name` (when the code has one), `checksum`, and as they apply `id` and `seq` (echo), `mtu`
/// (fragmentation needed, packet too big), `target` (neighbour discovery; the gateway of an IPv4
/// redirect), and `quoted` {`src`, `dst`, `protocol`, `ttl`, `src_port`, `dst_port`}: the packet an
/// error is about.
struct Icmp<'a>(&'a crate::dissect::IcmpInfo);

impl Serialize for Icmp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let icmp = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("checksum", checksum_name(icmp.checksum))?;
        m.serialize_entry("code", &icmp.code)?;
        if let Some(name) = icmp.code_name() {
            m.serialize_entry("code_name", name)?;
        }
        if let Some((id, _)) = icmp.echo {
            m.serialize_entry("id", &id)?;
        }
        if let Some(mtu) = icmp.mtu {
            m.serialize_entry("mtu", &mtu)?;
        }
        if let Some(q) = &icmp.quoted {
            let mut o = Map::new();
            o.insert("src".into(), Value::from(q.ip.src.to_string()));
            o.insert("dst".into(), Value::from(q.ip.dst.to_string()));
            o.insert("protocol".into(), Value::from(q.ip.protocol));
            o.insert("ttl".into(), Value::from(q.ip.ttl));
            if let Some((src, dst)) = q.ports {
                o.insert("src_port".into(), Value::from(src));
                o.insert("dst_port".into(), Value::from(dst));
            }
            m.serialize_entry("quoted", &o)?;
        }
        if let Some((_, seq)) = icmp.echo {
            m.serialize_entry("seq", &seq)?;
        }
        if let Some(target) = icmp.target {
            m.serialize_entry("target", &target)?;
        }
        m.serialize_entry("type", &icmp.icmp_type)?;
        m.serialize_entry("type_name", icmp.type_name())?;
        m.serialize_entry("version", &icmp.version)?;
        m.end()
    }
}

/// The `tcp` object of a frame.
struct Tcp<'a> {
    tcp: &'a crate::dissect::TcpInfo,
    seg: &'a crate::flow::SegmentInfo,
    /// The segment's bytes when the connection is not TLS.
    payload: Option<&'a [u8]>,
}

/// `text` or `hex`, as an object of its own.
struct Payload<'a>(&'a [u8]);

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        text_or_hex(&mut m, self.0)?;
        m.end()
    }
}

impl Tcp<'_> {
    /// Writes the object by hand: its keys are fixed identifiers with nothing to escape, and a
    /// frame's JSON is mostly this object (serde's per-entry work was a fifth of `inspect
    /// --format json`).
    fn write(&self, out: &mut Vec<u8>) {
        let (tcp, seg) = (self.tcp, self.seg);
        let a = &seg.analysis;
        let mut m = Obj::open(out);
        m.uint("ack", seg.rel_ack);
        m.uint("ack_raw", tcp.ack);
        // Only on frames that have them, as tshark shows them.
        let rtt = seg.measures.ack_rtt;
        if let Some(r) = rtt {
            m.ser("ack_rtt", &(r.rtt_ns as f64 / 1e9));
            m.uint("acks_frame", r.acks_frame);
        }
        if let Some(b) = seg.measures.bytes_in_flight {
            m.uint("bytes_in_flight", b);
        }
        m.ser("checksum", checksum_name(tcp.checksum));
        m.uint("dst_port", tcp.dst_port);
        m.opt_uint("duplicate_ack", a.duplicate_ack);
        m.bool("fast_retransmission", a.fast_retransmission);
        m.ser("flags", &tcp.flags.names());
        m.uint("header_len", tcp.header_len);
        m.bool("keep_alive", a.keep_alive);
        m.bool("lost_segment", a.lost_segment);
        m.opt_uint("mss", tcp.options.mss);
        m.bool("out_of_order", a.out_of_order);
        if let Some(payload) = self.payload {
            m.ser("payload", &Payload(payload));
        }
        m.uint("payload_len", seg.payload_len as u64);
        m.bool("retransmission", a.retransmission);
        m.bool("reused_ports", a.reused_ports);
        if let Some(r) = rtt {
            m.bool("rtt_sample", r.karn);
        }
        m.key("sack_blocks");
        m.out.push(b'[');
        for (i, (a, b)) in tcp.options.sack_blocks.as_slice().iter().enumerate() {
            if i > 0 {
                m.out.push(b',');
            }
            m.out.push(b'[');
            m.number(a.wrapping_sub(seg.peer_base));
            m.out.push(b',');
            m.number(b.wrapping_sub(seg.peer_base));
            m.out.push(b']');
        }
        m.out.push(b']');
        m.bool("sack_permitted", tcp.options.sack_permitted);
        m.uint("seq", seg.rel_seq);
        m.uint("seq_raw", tcp.seq);
        m.bool("spurious_retransmission", a.spurious_retransmission);
        m.uint("src_port", tcp.src_port);
        m.uint("stream", seg.stream as u64);
        m.key("timestamps");
        match tcp.options.timestamps {
            Some((tsval, tsecr)) => {
                m.out.push(b'[');
                m.number(tsval);
                m.out.push(b',');
                m.number(tsecr);
                m.out.push(b']');
            }
            None => m.out.extend_from_slice(b"null"),
        }
        m.uint("window", tcp.window);
        m.opt_uint("window_scale", tcp.options.window_scale);
        m.opt_uint("window_shift", seg.window_shift);
        m.uint("window_size", seg.window_bytes(tcp.window));
        m.bool("window_update", a.window_update);
        m.bool("zero_window", a.zero_window);
        m.bool("zero_window_probe", a.zero_window_probe);
        m.close();
    }
}

/// A JSON object written by hand into a buffer, keys in the order given. Keys are identifiers
/// (nothing to escape); values are numbers and booleans written here, or anything serde
/// serializes ([`Obj::ser`], through serde_json with [`HexBytes`]).
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// An unsigned number, as serde_json writes it.
    fn number(&mut self, value: impl Into<u64>) {
        use serde_json::ser::Formatter;
        // Writing into a Vec cannot fail.
        let _ = serde_json::ser::CompactFormatter.write_u64(&mut *self.out, value.into());
    }

    fn uint(&mut self, key: &str, value: impl Into<u64>) {
        self.key(key);
        self.number(value);
    }

    fn opt_uint<T: Into<u64>>(&mut self, key: &str, value: Option<T>) {
        self.key(key);
        match value {
            Some(v) => self.number(v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    /// Text known to need no escaping (hex digits and colons).
    fn quoted(&mut self, key: &str, text: &[u8]) {
        self.key(key);
        self.out.push(b'"');
        self.out.extend_from_slice(text);
        self.out.push(b'"');
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// Any value, through serde_json.
    fn ser<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.key(key);
        let mut ser = serde_json::Serializer::with_formatter(&mut *self.out, HexBytes);
        // Serializing into a Vec fails only on a map key that is not a string, and every key
        // here is one.
        if let Err(e) = value.serialize(&mut ser) {
            tracing::error!("could not write {key} in JSON: {e}");
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// The `inspect` JSON object of one frame (see [`write_frame_json`]).
struct Frame<'a> {
    trace: &'a Trace,
    entry: &'a FrameEntry,
    app: &'a [usize],
}

impl Frame<'_> {
    /// Writes the object by hand at the top (see [`Tcp::write`]).
    fn write(&self, out: &mut Vec<u8>) {
        let (trace, entry) = (self.trace, self.entry);
        let p = &entry.packet();
        // The frame that completes a fragmented packet shows the packet's TCP segment, UDP
        // datagram or ICMP message, as tshark does.
        let whole = trace.reassembled(entry.number);
        let packet = whole.as_ref().map_or(p, |(_, w)| w);
        let hops = trace.several_interfaces();
        let mut m = Obj::open(out);
        let events: Vec<App> = self
            .app
            .iter()
            .filter_map(|&i| trace.app_events().get(i))
            .map(App)
            .collect();
        if !events.is_empty() {
            m.ser("app", &events);
        }
        if let Some(arp) = &p.arp {
            let op = match arp.op {
                1 => "request".to_string(),
                2 => "reply".to_string(),
                n => n.to_string(),
            };
            m.ser(
                "arp",
                &json!({
                    "op": op,
                    "sender_ip": arp.sender_ip.to_string(),
                    "target_ip": arp.target_ip.to_string(),
                    "sender_mac": mac(&arp.sender_mac),
                }),
            );
        }
        let original = if hops { entry.copy_of } else { None };
        if let Some(original) = original {
            m.ser("copy_of", &original);
        }
        m.uint("frame", entry.number);
        let iface = entry.frame.interface;
        if hops {
            if let Some(place) = trace.hop_place(iface) {
                m.ser(
                    "hop",
                    &json!({"node": place.node, "link": place.link, "position": place.position}),
                );
            }
        }
        if original.is_some() {
            if let Some(c) = trace.hop_check(entry.number) {
                m.ser("hop_check", &hop_check_json(&c));
            }
        }
        if let Some(icmp) = &packet.icmp {
            m.ser("icmp", &Icmp(icmp));
        }
        // Which capture interface (pcapng Interface Description Block, from 0):
        // frame.interface_id.
        m.uint("interface", iface);
        if hops {
            if let Some(name) = trace.interface_name(iface) {
                m.ser("interface_name", name);
            }
        }
        if let Some(ip) = &p.ip {
            m.key("ip");
            Ip {
                trace,
                number: entry.number,
                ip,
            }
            .write(m.out);
        }
        m.uint("len", entry.frame.orig_len);
        if let Some(link) = &p.link {
            m.key("link");
            Link(link).write(m.out);
        }
        if p.not_captured > 0 {
            // The snapshot length cut the frame: these bytes of its IP packet are not in the file.
            m.ser("not_captured", &p.not_captured);
        }
        if hops {
            let path = trace.path_of(entry.number);
            if path.len() > 1 {
                m.ser("path", &path);
            }
        }
        if let Some(stop) = &p.stop {
            m.ser("stop", &stop.to_string());
        }
        let tcp = whole
            .as_ref()
            .and_then(|(_, w)| w.tcp.as_ref())
            .or(p.tcp.as_ref());
        if let (Some(tcp), Some(seg)) = (tcp, &entry.segment) {
            // A plain TCP segment's bytes, as a decrypted record's: text when they are text
            // (from the reassembled packet when fragments brought them).
            let payload = match &whole {
                Some((bytes, w)) => bytes.get(w.payload.clone()),
                None => entry.frame.data.get(p.payload.clone()),
            }
            .unwrap_or_default();
            let payload = (!payload.is_empty()
                && trace.stream_kind(seg.stream) != crate::journey::StreamKind::Tls)
                .then_some(payload);
            m.key("tcp");
            Tcp { tcp, seg, payload }.write(m.out);
        }
        m.ser("time", &entry.frame.at.as_secs_f64());
        let records: Vec<Record> = trace
            .records_of(entry)
            .iter()
            .map(|rec| Record { trace, rec })
            .collect();
        if !records.is_empty() {
            m.ser("tls", &records);
        }
        if let Some(udp) = &packet.udp {
            m.ser(
                "udp",
                &json!({
                    "src_port": udp.src_port,
                    "dst_port": udp.dst_port,
                    "length": udp.length,
                    "checksum": checksum_name(udp.checksum),
                }),
            );
        }
        m.close();
    }
}

/// On a copy of a packet on a path of routers, what changed since the original.
fn hop_check_json(c: &crate::journey::hops::HopCheck) -> Value {
    let mut h = Map::new();
    h.insert("routers".into(), json!(c.routers));
    h.insert("ttl_before".into(), Value::from(c.ttl_before));
    h.insert("ttl".into(), Value::from(c.ttl));
    h.insert("ttl_as_expected".into(), json!(c.ttl_as_expected()));
    if let Some((src, dst)) = c.macs_before {
        h.insert("src_before".into(), Value::from(mac(&src)));
        h.insert("dst_before".into(), Value::from(mac(&dst)));
    }
    if let Some((sum, status)) = c.checksum {
        h.insert("ip_checksum".into(), Value::from(format!("0x{sum:04x}")));
        h.insert(
            "ip_checksum_status".into(),
            Value::from(checksum_name(status)),
        );
    }
    if let Some(before) = c.checksum_before {
        h.insert(
            "ip_checksum_before".into(),
            Value::from(format!("0x{before:04x}")),
        );
    }
    h.insert("above_ip_len".into(), Value::from(c.above_ip_len));
    h.insert(
        "above_ip_identical".into(),
        Value::from(c.above_ip_identical),
    );
    if !c.changed.is_empty() {
        // An altered copy (an attacker on the link): offsets from the end of the IP header.
        h.insert(
            "above_ip_changed".into(),
            Value::Array(
                c.changed
                    .iter()
                    .map(|(at, before, after)| json!({"offset": at, "before": before, "after": after}))
                    .collect(),
            ),
        );
    }
    Value::Object(h)
}

/// Writes the `inspect` JSON object of one frame, and a newline, to `out`. `app` lists the
/// application events shown on it. Written straight from the trace (no `Value` in between: a
/// large capture's JSON is mostly decrypted bytes in hex, which go from the plaintext to `out`
/// in one pass).
pub fn write_frame_json(out: &mut Vec<u8>, trace: &Trace, entry: &FrameEntry, app: &[usize]) {
    (Frame { trace, entry, app }).write(out);
    out.push(b'\n');
}

/// [`write_frame_json`] into a line of its own.
pub fn frame_json_line(trace: &Trace, entry: &FrameEntry, app: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame_json(&mut out, trace, entry, app);
    out
}

/// The `inspect` JSON object of one frame as a value (for reports that embed frames).
pub fn frame_json(trace: &Trace, entry: &FrameEntry, app: &[usize]) -> Value {
    serde_json::from_slice(&frame_json_line(trace, entry, app)).unwrap_or_default()
}

/// The `trace` JSON object: a message, its size at every layer, and the frames that carried it.
pub fn journey_json(trace: &Trace, text: &str, transport: &str, journeys: &[Journey]) -> Value {
    let first = journeys.first();
    let bytes = first.map(|j| j.bytes).unwrap_or_default();
    let mut layers = vec![json!({"layer": "application", "bytes": bytes.application})];
    if transport != "plain" {
        layers.push(json!({"layer": "tls", "bytes": bytes.tls}));
    }
    layers.push(json!({"layer": "tcp", "bytes": bytes.tcp}));
    layers.push(json!({"layer": "ip", "bytes": bytes.ip}));
    layers.push(json!({"layer": "link", "bytes": bytes.link}));
    let app = super::app_events_by_frame(trace);
    let mut numbers: Vec<u32> = journeys
        .iter()
        .flat_map(|j| j.frames.iter().copied())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let frames: Vec<Value> = numbers
        .iter()
        .filter_map(|n| trace.frame(*n))
        .map(|e| {
            frame_json(
                trace,
                e,
                app.get(&e.number).map_or(&[][..], |v| v.as_slice()),
            )
        })
        .collect();
    json!({
        "text": text,
        "transport": transport,
        "layers": layers,
        "frames": frames,
        "reply_layers": journeys.get(1).map(|j| json!({
            "application": j.bytes.application, "tls": j.bytes.tls, "tcp": j.bytes.tcp,
            "ip": j.bytes.ip, "link": j.bytes.link})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::read_capture_file;
    use crate::tls::Keys;

    /// How many `hex` values are in `v`, each checked to be lowercase hex digits, two a byte.
    fn hex_strings(v: &Value) -> usize {
        match v {
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("hex", Value::String(h)) => {
                        assert!(
                            h.len() % 2 == 0
                                && h.bytes()
                                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                            "{h}"
                        );
                        1
                    }
                    _ => hex_strings(v),
                })
                .sum(),
            Value::Array(a) => a.iter().map(hex_strings).sum(),
            _ => 0,
        }
    }

    /// The writer puts every object's keys in alphabetical order, as the `Value` maps it
    /// replaced did (so output stays byte for byte what it was), and decrypted bytes that are not
    /// text are lowercase hex: each frame of every sample reads back to the same bytes.
    #[test]
    fn frames_are_written_with_sorted_keys_and_read_back_the_same() {
        let mut hex = 0;
        for path in crate::capture::test_support::sample_captures() {
            let (trace, _) = crate::capture::open_capture(&path, None, &mut |_, _| {}).unwrap();
            let app = super::super::app_events_by_frame(&trace);
            for entry in trace.frames() {
                let events = app.get(&entry.number).map_or(&[][..], |v| v.as_slice());
                let mut written = Vec::new();
                write_frame_json(&mut written, &trace, entry, events);
                let value: Value = serde_json::from_slice(&written).unwrap();
                let mut again = serde_json::to_vec(&value).unwrap();
                again.push(b'\n');
                assert_eq!(
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(&again),
                    "{}: frame {}",
                    path.display(),
                    entry.number
                );
                hex += hex_strings(&value);
            }
        }
        assert!(hex > 0, "no sample frame has bytes written as hex");
    }

    /// Every TLS record's `length` is its header's length field: the records of one direction tile
    /// the byte stream, each one starting 5 + `length` bytes after the previous one, and the length
    /// matches the header bytes on the wire where the header lies inside the frame.
    #[test]
    fn tls_record_length_is_the_header_length_field() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/tls13-chat.pcapng");
        let capture = read_capture_file(&path).expect("the sample capture reads");
        let (keys, _) = Keys::parse_nss(&capture.keylog);
        let trace = Trace::from_frames(capture.frames, keys);
        // (stream, source port) -> where the next record must start.
        let mut next: std::collections::HashMap<(u64, u64), u64> = Default::default();
        let mut checked = 0;
        for entry in trace.frames() {
            let json = frame_json(&trace, entry, &[]);
            let Some(records) = json["tls"].as_array() else {
                continue;
            };
            let key = (
                json["tcp"]["stream"].as_u64().expect("stream"),
                json["tcp"]["src_port"].as_u64().expect("src_port"),
            );
            for r in records {
                let length = r["length"].as_u64().expect("length");
                let offset = r["stream_offset"].as_u64().expect("stream_offset");
                if let Some(expected) = next.get(&key) {
                    assert_eq!(
                        offset, *expected,
                        "frame {}: record {r} does not start where the previous one ended",
                        entry.number
                    );
                }
                next.insert(key, offset + 5 + length);
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} records in the sample");
        // The first record of the sample, the ClientHello, read straight from the frame bytes.
        let first = trace
            .frames()
            .iter()
            .find(|e| !e.records.is_empty())
            .expect("a frame with a record");
        let json = frame_json(&trace, first, &[]);
        let data = &first.frame.data;
        let payload = &data[data.len() - json["tcp"]["payload_len"].as_u64().unwrap() as usize..];
        assert_eq!(payload[0], 22, "a handshake record starts the payload");
        let on_wire = u64::from(u16::from_be_bytes([payload[3], payload[4]]));
        assert_eq!(json["tls"][0]["length"].as_u64(), Some(on_wire));
    }
}
