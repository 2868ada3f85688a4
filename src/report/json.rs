//! JSON renderings. Field names and meanings are a contract (ARCHITECTURE.md): add, never change.

use serde_json::{json, Map, Value};

use super::mac;
use crate::chat::{AppEvent, Side};
use crate::journey::{FrameEntry, Journey, RecordEntry, Trace};
use crate::tls::Plaintext;

fn text_or_hex(bytes: &[u8], obj: &mut Map<String, Value>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            obj.insert("text".into(), Value::from(text));
        }
        Err(_) => {
            obj.insert("hex".into(), Value::from(crate::tls::encode_hex(bytes)));
        }
    }
}

fn plaintext_json(p: &Plaintext, data: &[u8]) -> Value {
    let mut obj = Map::new();
    obj.insert("content_type".into(), Value::from(p.content_type.number()));
    text_or_hex(data, &mut obj);
    Value::Object(obj)
}

fn record_json(trace: &Trace, rec: &RecordEntry) -> Value {
    let info = &rec.info;
    let mut obj = Map::new();
    obj.insert(
        "content_type".into(),
        Value::from(info.header.content_type.number()),
    );
    obj.insert(
        "type_name".into(),
        Value::from(info.header.content_type.name()),
    );
    obj.insert(
        "version".into(),
        Value::from(format!("0x{:04x}", info.header.version)),
    );
    obj.insert("length".into(), Value::from(info.header.length));
    obj.insert(
        "handshake".into(),
        Value::from(info.handshake.iter().map(|h| h.name()).collect::<Vec<_>>()),
    );
    if let Some(p) = &info.decrypted {
        let plain = trace.plaintext(rec);
        let mut decrypted = plaintext_json(p, plain.as_deref().unwrap_or_default());
        if plain.is_none() {
            decrypted["error"] = Value::from(super::NOT_REOPENED);
        }
        obj.insert("decrypted".into(), decrypted);
    }
    if let Some((level, description)) = info.alert {
        obj.insert(
            "alert".into(),
            json!({"level": level, "description": description,
                   "name": crate::tls::alert_name(description)}),
        );
    }
    if let Some(note) = &info.note {
        obj.insert("note".into(), Value::from(note.as_str()));
    }
    obj.insert("stream_offset".into(), Value::from(rec.stream_range.start));
    Value::Object(obj)
}

fn app_json(event: &AppEvent) -> Value {
    let mut obj = Map::new();
    obj.insert(
        "side".into(),
        Value::from(match event.side {
            Side::Client => "client",
            Side::Server => "server",
        }),
    );
    obj.insert(
        "dir".into(),
        Value::from(match event.dir {
            crate::chat::Direction::Write => "write",
            crate::chat::Direction::Read => "read",
        }),
    );
    text_or_hex(&event.bytes, &mut obj);
    obj.insert("offset".into(), Value::from(event.offset));
    Value::Object(obj)
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

/// The fields of an IP fragment: `fragment` {`offset` (bytes), `more`, `id`, `offset_units`
/// (the header's 8-byte units), `data_len`} on every fragment; `piece_of` (the frame on the link
/// before that a router cut it from) on a router's fragment;
/// `reassembled_in` (the frame that completed the packet) on the others, and `fragments` (the
/// frames of all its fragments, in offset order) with `reassembled_len` (the packet's data
/// bytes after its IP header) on that frame; `not_reassembled` (why) when it never was.
fn fragment_json(
    trace: &Trace,
    number: u32,
    ip: &crate::dissect::IpInfo,
    obj: &mut Map<String, Value>,
) {
    use crate::flow::DatagramState;
    if !ip.is_fragment() {
        return;
    }
    obj.insert(
        "fragment".into(),
        json!({"offset": ip.fragment_offset, "more": ip.more_fragments,
               "id": ip.identification.unwrap_or(0),
               "offset_units": ip.fragment_offset / 8,
               "data_len": ip.packet.end.saturating_sub(ip.fragment_data_start())}),
    );
    if let Some(whole) = trace.piece_of(number) {
        obj.insert("piece_of".into(), Value::from(whole));
    }
    let Some(d) = trace.fragment_of(number) else {
        return;
    };
    match &d.state {
        DatagramState::Reassembled { frame } if *frame == number => {
            obj.insert("fragments".into(), Value::from(d.fragments.clone()));
            obj.insert(
                "reassembled_len".into(),
                Value::from(d.data_len.unwrap_or(0)),
            );
        }
        DatagramState::Reassembled { frame } => {
            obj.insert("reassembled_in".into(), Value::from(*frame));
        }
        state => {
            obj.insert(
                "not_reassembled".into(),
                Value::from(super::not_reassembled(d, state)),
            );
        }
    }
}

/// The `icmp` object: `version` (4 for ICMP, 6 for ICMPv6), `type`, `code`, `type_name`,
/// `code_name` (when the code has one), `checksum`, and as they apply `id` and `seq` (echo), `mtu`
/// (fragmentation needed, packet too big), `target` (neighbour discovery; the gateway of an IPv4
/// redirect), and `quoted` {`src`, `dst`, `protocol`, `ttl`, `src_port`, `dst_port`}: the packet an
/// error is about.
fn icmp_json(icmp: &crate::dissect::IcmpInfo) -> Value {
    let mut i = Map::new();
    i.insert("version".into(), Value::from(icmp.version));
    i.insert("type".into(), Value::from(icmp.icmp_type));
    i.insert("code".into(), Value::from(icmp.code));
    i.insert("type_name".into(), Value::from(icmp.type_name()));
    if let Some(name) = icmp.code_name() {
        i.insert("code_name".into(), Value::from(name));
    }
    i.insert("checksum".into(), Value::from(checksum_name(icmp.checksum)));
    if let Some((id, seq)) = icmp.echo {
        i.insert("id".into(), Value::from(id));
        i.insert("seq".into(), Value::from(seq));
    }
    if let Some(mtu) = icmp.mtu {
        i.insert("mtu".into(), Value::from(mtu));
    }
    if let Some(target) = icmp.target {
        i.insert("target".into(), Value::from(target.to_string()));
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
        i.insert("quoted".into(), Value::Object(o));
    }
    Value::Object(i)
}

/// The `inspect` JSON object of one frame. `app` lists the application events shown on it.
pub fn frame_json(trace: &Trace, entry: &FrameEntry, app: &[usize]) -> Value {
    let p = &entry.packet();
    let mut obj = Map::new();
    obj.insert("frame".into(), Value::from(entry.number));
    obj.insert("time".into(), Value::from(entry.frame.at.as_secs_f64()));
    obj.insert("len".into(), Value::from(entry.frame.orig_len));
    // Which capture interface (pcapng Interface Description Block, from 0): frame.interface_id.
    obj.insert("interface".into(), Value::from(entry.frame.interface));
    if let Some(link) = &p.link {
        let mut l = Map::new();
        l.insert("type".into(), Value::from(link.kind.name()));
        if let Some(src) = &link.src {
            l.insert("src".into(), Value::from(mac(src)));
        }
        if let Some(dst) = &link.dst {
            l.insert("dst".into(), Value::from(mac(dst)));
        }
        l.insert(
            "ethertype".into(),
            Value::from(format!("0x{:04x}", link.ethertype)),
        );
        if let Some(vlan) = link.vlan {
            l.insert("vlan".into(), Value::from(vlan));
        }
        obj.insert("link".into(), Value::Object(l));
    }
    if let Some(arp) = &p.arp {
        obj.insert(
            "arp".into(),
            json!({
                "op": match arp.op { 1 => "request".to_string(), 2 => "reply".to_string(), n => n.to_string() },
                "sender_ip": arp.sender_ip.to_string(),
                "target_ip": arp.target_ip.to_string(),
                "sender_mac": mac(&arp.sender_mac),
            }),
        );
    }
    if let Some(ip) = &p.ip {
        let mut i = Map::new();
        i.insert("version".into(), Value::from(ip.version));
        i.insert("src".into(), Value::from(ip.src.to_string()));
        i.insert("dst".into(), Value::from(ip.dst.to_string()));
        if ip.version == 6 {
            i.insert("hop_limit".into(), Value::from(ip.ttl));
        } else {
            i.insert("ttl".into(), Value::from(ip.ttl));
        }
        i.insert("total_len".into(), Value::from(ip.total_len));
        i.insert("protocol".into(), Value::from(ip.protocol));
        if let Some(id) = ip.identification {
            i.insert("identification".into(), Value::from(id));
        }
        if let Some(status) = ip.checksum {
            i.insert("checksum".into(), Value::from(checksum_name(status)));
        }
        fragment_json(trace, entry.number, ip, &mut i);
        obj.insert("ip".into(), Value::Object(i));
    }
    if p.not_captured > 0 {
        // The snapshot length cut the frame: these bytes of its IP packet are not in the file.
        obj.insert("not_captured".into(), Value::from(p.not_captured));
    }
    // The frame that completes a fragmented packet shows the packet's TCP segment, as tshark does.
    let whole = trace.reassembled(entry.number);
    let tcp = whole
        .as_ref()
        .and_then(|(_, w)| w.tcp.as_ref())
        .or(p.tcp.as_ref());
    if let (Some(tcp), Some(seg)) = (tcp, &entry.segment) {
        obj.insert(
            "tcp".into(),
            json!({
                "src_port": tcp.src_port,
                "dst_port": tcp.dst_port,
                "stream": seg.stream,
                "seq": seg.rel_seq,
                "ack": seg.rel_ack,
                "flags": tcp.flags.names(),
                "payload_len": seg.payload_len,
                "retransmission": seg.analysis.retransmission,
                "out_of_order": seg.analysis.out_of_order,
                "fast_retransmission": seg.analysis.fast_retransmission,
                "spurious_retransmission": seg.analysis.spurious_retransmission,
                "lost_segment": seg.analysis.lost_segment,
                "duplicate_ack": seg.analysis.duplicate_ack,
                "keep_alive": seg.analysis.keep_alive,
                "window_update": seg.analysis.window_update,
                "zero_window_probe": seg.analysis.zero_window_probe,
                "window": tcp.window,
                "window_size": seg.window_bytes(tcp.window),
                "window_shift": seg.window_shift,
                "zero_window": seg.analysis.zero_window,
                "header_len": tcp.header_len,
                "mss": tcp.options.mss,
                "window_scale": tcp.options.window_scale,
                "sack_permitted": tcp.options.sack_permitted,
                "timestamps": tcp.options.timestamps.map(|(tsval, tsecr)| [tsval, tsecr]),
                "sack_blocks": tcp.options.sack_blocks.as_slice().iter()
                    .map(|(a, b)| [a.wrapping_sub(seg.peer_base), b.wrapping_sub(seg.peer_base)])
                    .collect::<Vec<_>>(),
                "checksum": checksum_name(tcp.checksum),
                "seq_raw": tcp.seq,
                "ack_raw": tcp.ack,
                "reused_ports": seg.analysis.reused_ports,
            }),
        );
        if let Some(Value::Object(t)) = obj.get_mut("tcp") {
            // Only on frames that have them, as tshark shows them.
            if let Some(a) = seg.measures.ack_rtt {
                t.insert("acks_frame".into(), Value::from(a.acks_frame));
                t.insert("ack_rtt".into(), Value::from(a.rtt_ns as f64 / 1e9));
                t.insert("rtt_sample".into(), Value::from(a.karn));
            }
            if let Some(b) = seg.measures.bytes_in_flight {
                t.insert("bytes_in_flight".into(), Value::from(b));
            }
        }
        // A plain TCP segment's bytes, as a decrypted record's: text when they are text (from
        // the reassembled packet when fragments brought them).
        let payload = match &whole {
            Some((bytes, w)) => bytes.get(w.payload.clone()),
            None => entry.frame.data.get(p.payload.clone()),
        }
        .unwrap_or_default();
        if !payload.is_empty() && trace.stream_kind(seg.stream) != crate::journey::StreamKind::Tls {
            let mut data = Map::new();
            text_or_hex(payload, &mut data);
            if let Some(Value::Object(t)) = obj.get_mut("tcp") {
                t.insert("payload".into(), Value::Object(data));
            }
        }
    }
    // UDP and ICMP: of the whole packet when fragments brought it, as for TCP.
    let packet = whole.as_ref().map_or(p, |(_, w)| w);
    if let Some(udp) = &packet.udp {
        obj.insert(
            "udp".into(),
            json!({
                "src_port": udp.src_port,
                "dst_port": udp.dst_port,
                "length": udp.length,
                "checksum": checksum_name(udp.checksum),
            }),
        );
    }
    if let Some(icmp) = &packet.icmp {
        obj.insert("icmp".into(), icmp_json(icmp));
    }
    let records: Vec<Value> = trace
        .records_of(entry)
        .iter()
        .map(|rec| record_json(trace, rec))
        .collect();
    if !records.is_empty() {
        obj.insert("tls".into(), Value::from(records));
    }
    let events: Vec<Value> = app
        .iter()
        .filter_map(|&i| trace.app_events().get(i))
        .map(app_json)
        .collect();
    if !events.is_empty() {
        obj.insert("app".into(), Value::from(events));
    }
    if let Some(stop) = &p.stop {
        obj.insert("stop".into(), Value::from(stop.to_string()));
    }
    hop_json(trace, entry, &mut obj);
    Value::Object(obj)
}

/// On a path of routers: the frame's interface and hop, the packet's frames along its path, and
/// on a copy what changed since the original.
fn hop_json(trace: &Trace, entry: &FrameEntry, obj: &mut Map<String, Value>) {
    if !trace.several_interfaces() {
        return;
    }
    let iface = entry.frame.interface;
    if let Some(name) = trace.interface_name(iface) {
        obj.insert("interface_name".into(), Value::from(name));
    }
    if let Some(place) = trace.hop_place(iface) {
        obj.insert(
            "hop".into(),
            json!({"node": place.node, "link": place.link, "position": place.position}),
        );
    }
    let path = trace.path_of(entry.number);
    if path.len() > 1 {
        obj.insert("path".into(), Value::from(path));
    }
    let Some(original) = entry.copy_of else {
        return;
    };
    obj.insert("copy_of".into(), Value::from(original));
    if let Some(c) = trace.hop_check(entry.number) {
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
                        .map(|(at, before, after)| {
                            json!({"offset": at, "before": before, "after": after})
                        })
                        .collect(),
                ),
            );
        }
        obj.insert("hop_check".into(), Value::Object(h));
    }
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
