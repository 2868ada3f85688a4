//! The properties of a packet: one captured frame, read as Wireshark names its fields.

use crate::dissect::{ChecksumStatus, Packet, TcpFlags};
use crate::journey::FrameEntry;

use super::super::scope::Scope;
use super::super::value::Value;
use super::{num, opt, text};

fn checksum_word(status: ChecksumStatus) -> &'static str {
    match status {
        ChecksumStatus::Verified => "correct",
        ChecksumStatus::Wrong { .. } => "wrong",
        ChecksumStatus::Offloaded { .. } => "offloaded",
        ChecksumStatus::NotChecked => "not checked",
        ChecksumStatus::Absent => "none",
    }
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The flags as Wireshark lists them, e.g. "SYN, ACK".
pub fn flags_text(flags: TcpFlags) -> String {
    let mut names = flags.names();
    // Wireshark and textbooks say "SYN, ACK", "FIN, ACK": the ACK last.
    if let Some(i) = names.iter().position(|n| *n == "ACK") {
        let ack = names.remove(i);
        names.push(ack);
    }
    names.join(", ")
}

/// Property `name` of frame `e`, whose dissection is `p` (a filter dissects each frame once for
/// all the fields it reads).
pub fn packet(scope: &Scope<'_>, e: &FrameEntry, p: &Packet, name: &str) -> Value {
    let no_tcp = || Value::missing(format!("frame #{} is not a TCP segment", e.number));
    let no_ip = || Value::missing(format!("frame #{} has no IP header", e.number));
    let no_arp = || Value::missing(format!("frame #{} is not ARP", e.number));
    if let Some(field) = name.strip_prefix("arp.") {
        let Some(arp) = &p.arp else { return no_arp() };
        return match field {
            "opcode" => text(match arp.op {
                1 => "request".to_string(),
                2 => "reply".to_string(),
                n => format!("unknown ({n})"),
            }),
            "sender_mac" => text(mac(&arp.sender_mac)),
            "sender_ip" => text(arp.sender_ip.to_string()),
            "target_mac" => text(mac(&arp.target_mac)),
            "target_ip" => text(arp.target_ip.to_string()),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("eth.") {
        let Some(link) = &p.link else {
            return Value::missing(format!("frame #{} has no link-layer header", e.number));
        };
        return match field {
            "src" => link.src.map_or_else(
                || Value::missing("no source MAC in this link header"),
                |m| text(mac(&m)),
            ),
            "dst" => link.dst.map_or_else(
                || Value::missing("no destination MAC in this link header"),
                |m| text(mac(&m)),
            ),
            "type" => text(format!("0x{:04x}", link.ethertype)),
            "hdr_len" => num(link.range.len() as i64),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("udp.") {
        let Some(udp) = &p.udp else {
            return Value::missing(format!("frame #{} is not UDP", e.number));
        };
        return match field {
            "srcport" => num(udp.src_port),
            "dstport" => num(udp.dst_port),
            "port" => Value::List(vec![num(udp.src_port), num(udp.dst_port)]),
            "length" => num(udp.length),
            "checksum" => text(checksum_word(udp.checksum)),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("icmp.") {
        let Some(icmp) = &p.icmp else {
            return Value::missing(format!("frame #{} is not ICMP", e.number));
        };
        let quoted = || {
            icmp.quoted
                .as_deref()
                .ok_or_else(|| Value::missing("this ICMP message quotes no packet"))
        };
        return match field {
            "type" => num(icmp.icmp_type),
            "code" => num(icmp.code),
            "type_name" => text(icmp.type_name()),
            "ident" => opt(icmp.echo.map(|(id, _)| id), "not an echo request or reply"),
            "seq" => opt(
                icmp.echo.map(|(_, seq)| seq),
                "not an echo request or reply",
            ),
            "mtu" => opt(icmp.mtu, "no MTU in this ICMP message"),
            "checksum" => text(checksum_word(icmp.checksum)),
            "quoted.ttl" => quoted().map_or_else(|m| m, |q| num(q.ip.ttl)),
            "quoted.dstport" => quoted().map_or_else(
                |m| m,
                |q| {
                    opt(
                        q.ports.map(|(_, dst)| dst),
                        "the quoted packet is not TCP or UDP",
                    )
                },
            ),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("ip.") {
        let Some(ip) = &p.ip else { return no_ip() };
        return match field {
            "version" => num(ip.version),
            "src" => text(ip.src.to_string()),
            "dst" => text(ip.dst.to_string()),
            "addr" => Value::List(vec![text(ip.src.to_string()), text(ip.dst.to_string())]),
            "ttl" => num(ip.ttl),
            "hdr_len" => num(ip.header.len() as i64),
            "len" => num(ip.total_len),
            "id" => opt(
                ip.identification,
                "IPv6 packets have no identification field unless fragmented",
            ),
            "df" => Value::Bool(ip.dont_fragment),
            "mf" => Value::Bool(ip.more_fragments),
            "frag_offset" => num(ip.fragment_offset / 8),
            "fragments" | "reassembled_in" => {
                let Some((fragments, done)) = scope.trace.fragments_on_link(e.number) else {
                    return Value::missing(format!(
                        "frame #{} carries no piece of a fragmented packet on its link",
                        e.number
                    ));
                };
                if field == "fragments" {
                    Value::List(fragments.into_iter().map(Value::Packet).collect())
                } else {
                    done.map_or_else(
                        || {
                            Value::missing(format!(
                                "the packet of frame #{}'s fragment was never put together",
                                e.number
                            ))
                        },
                        Value::Packet,
                    )
                }
            }
            "cut_from" => scope.trace.piece_of(e.number).map_or_else(
                || {
                    Value::missing(format!(
                        "frame #{} is no fragment a router cut from a packet on the link before",
                        e.number
                    ))
                },
                Value::Packet,
            ),
            "proto" => num(ip.protocol),
            "checksum" => text(ip.checksum.map_or("none", checksum_word)),
            "checksum_value" => opt(
                (ip.version == 4)
                    .then(|| e.frame.data.get(ip.header.start + 10..ip.header.start + 12))
                    .flatten()
                    .map(|b| u16::from_be_bytes([b[0], b[1]])),
                "only IPv4 has a header checksum",
            ),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("ipv6.") {
        let Some(ip) = &p.ip else { return no_ip() };
        if ip.version != 6 {
            return Value::missing(format!(
                "frame #{} is IPv4: `ipv6.{field}` is a field of the IPv6 header",
                e.number
            ));
        }
        let header = e.frame.data.get(ip.header.start..ip.header.start + 8);
        return match (field, header) {
            ("plen", Some(h)) => num(u16::from_be_bytes([h[4], h[5]])),
            ("nxt", Some(h)) => num(h[6]),
            ("flow", _) => opt(ip.flow_label, "no flow label"),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("hop.") {
        let Some(place) = scope.trace.hop_place(e.frame.interface) else {
            return Value::missing(format!(
                "frame #{}'s interface has no place on a path of routers",
                e.number
            ));
        };
        return match field {
            "node" => text(place.node.clone()),
            "link" => num(place.link),
            "position" => num(place.position),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    match name {
        "frame" => return text(String::from_utf8_lossy(&e.frame.data)),
        "frame.interface_name" => {
            return scope.trace.interface_name(e.frame.interface).map_or_else(
                || Value::missing("the capture does not name its interfaces"),
                text,
            )
        }
        "copy_of" => {
            return e.copy_of.map_or_else(
                || Value::missing(format!("frame #{} is no copy of another frame", e.number)),
                Value::Packet,
            )
        }
        "path" => {
            return Value::List(
                scope
                    .trace
                    .path_of(e.number)
                    .into_iter()
                    .map(Value::Packet)
                    .collect(),
            )
        }
        "above_ip" => {
            let Some(ip) = &p.ip else { return no_ip() };
            return text(crate::tls::encode_hex(crate::journey::hops::above_ip(
                &e.frame.data,
                ip,
            )));
        }
        "eth" => {
            return Value::Bool(
                p.link
                    .as_ref()
                    .is_some_and(|l| l.kind == crate::frame::LinkType::Ethernet),
            );
        }
        "arp" => return Value::Bool(p.arp.is_some()),
        "ip" => return Value::Bool(p.ip.is_some()),
        "ipv6" => return Value::Bool(p.ip.as_ref().is_some_and(|ip| ip.version == 6)),
        "tcp" => return Value::Bool(p.tcp.is_some()),
        "udp" => return Value::Bool(p.udp.is_some()),
        "icmp" => return Value::Bool(p.icmp.is_some()),
        "icmpv6" => return Value::Bool(p.icmp.as_ref().is_some_and(|i| i.version == 6)),
        "tls" => return Value::Bool(!e.records.is_empty() || starts_a_record(scope, e)),
        "frame.number" => return num(e.number),
        "frame.len" => return num(e.frame.data.len() as i64),
        "frame.time_ms" => {
            let first = scope.trace.first_time().map_or(e.frame.at.0, |t| t.0);
            return num(i64::try_from((e.frame.at.0 - first) / 1_000_000).unwrap_or(i64::MAX));
        }
        "frame.time_us" => {
            let first = scope.trace.first_time().map_or(e.frame.at.0, |t| t.0);
            return num(i64::try_from((e.frame.at.0 - first) / 1_000).unwrap_or(i64::MAX));
        }
        "kind" => {
            return text(if p.tcp.is_some() {
                "tcp"
            } else if p.udp.is_some() {
                "udp"
            } else if p.icmp.is_some() {
                "icmp"
            } else if p.arp.is_some() {
                "arp"
            } else {
                "other"
            })
        }
        "payload" => {
            let bytes = e.frame.data.get(p.payload.clone()).unwrap_or_default();
            return if p.tcp.is_some() {
                text(String::from_utf8_lossy(bytes))
            } else {
                no_tcp()
            };
        }
        _ => {}
    }
    let (Some(tcp), Some(seg)) = (&p.tcp, &e.segment) else {
        return no_tcp();
    };
    let flag = |f: TcpFlags| Value::Bool(tcp.flags.contains(f));
    match name {
        "from" => text(seg.dir.sender()),
        "client" => scope.client_of_stream(seg.stream).map_or_else(
            || Value::missing("the connection belongs to no client of this lesson"),
            text,
        ),
        "tcp.srcport" => num(tcp.src_port),
        "tcp.dstport" => num(tcp.dst_port),
        "tcp.port" => Value::List(vec![num(tcp.src_port), num(tcp.dst_port)]),
        "tcp.stream" => num(seg.stream as i64),
        "tcp.seq" => num(seg.rel_seq),
        "tcp.ack" => num(seg.rel_ack),
        "tcp.seq_raw" => num(tcp.seq),
        "tcp.ack_raw" => num(tcp.ack),
        "tcp.nxtseq" => {
            let extra = i64::from(tcp.flags.contains(TcpFlags::SYN))
                + i64::from(tcp.flags.contains(TcpFlags::FIN));
            num(i64::from(seg.rel_seq) + seg.payload_len as i64 + extra)
        }
        "tcp.len" => num(seg.payload_len as i64),
        "tcp.hdr_len" => num(tcp.header_len),
        "tcp.flags" => text(flags_text(tcp.flags)),
        "tcp.flags.syn" => flag(TcpFlags::SYN),
        "tcp.flags.ack" => flag(TcpFlags::ACK),
        "tcp.flags.fin" => flag(TcpFlags::FIN),
        "tcp.flags.rst" => flag(TcpFlags::RST),
        "tcp.flags.psh" => flag(TcpFlags::PSH),
        "tcp.window" => num(tcp.window),
        "tcp.window_size" => num(i64::from(tcp.window) << window_shift(e)),
        "tcp.window_size_scalefactor" => {
            if tcp.flags.contains(TcpFlags::SYN) {
                Value::missing("a SYN's or SYN-ACK's window is never scaled (RFC 7323 §2.2)")
            } else {
                seg.window_shift.map_or_else(
                    || Value::missing("the handshake was not captured, so the window scale is unknown"),
                    |shift| num(1i64 << shift),
                )
            }
        }
        "tcp.options.mss" => opt(
            tcp.options.mss,
            "this segment has no MSS option (only SYN and SYN-ACK carry one)",
        ),
        "tcp.options.wscale" => opt(
            tcp.options.window_scale,
            "this segment has no window scale option (only SYN and SYN-ACK carry one)",
        ),
        "tcp.options.sack_perm" => Value::Bool(tcp.options.sack_permitted),
        "tcp.options.sack" => Value::List(
            tcp.options
                .sack_blocks
                .as_slice()
                .iter()
                .map(|(l, r)| {
                    text(format!(
                        "{}-{}",
                        l.wrapping_sub(seg.peer_base),
                        r.wrapping_sub(seg.peer_base)
                    ))
                })
                .collect(),
        ),
        "tcp.options.timestamps" => Value::Bool(tcp.options.timestamps.is_some()),
        "tcp.checksum" => text(checksum_word(tcp.checksum)),
        "tcp.analysis.retransmission" => Value::Bool(seg.analysis.retransmission),
        "tcp.analysis.fast_retransmission" => Value::Bool(seg.analysis.fast_retransmission),
        "tcp.analysis.spurious_retransmission" => Value::Bool(seg.analysis.spurious_retransmission),
        "tcp.analysis.out_of_order" => Value::Bool(seg.analysis.out_of_order),
        "tcp.analysis.lost_segment" => Value::Bool(seg.analysis.lost_segment),
        "tcp.analysis.duplicate_ack" => Value::Bool(seg.analysis.duplicate_ack.is_some()),
        "tcp.analysis.duplicate_ack_num" => match seg.analysis.duplicate_ack {
            Some(n) => num(i64::from(n)),
            None => Value::missing("this segment is not a duplicate ACK"),
        },
        "tcp.analysis.bytes_in_flight" => opt(
            seg.measures.bytes_in_flight,
            "only a segment carrying data, sent after the other side acknowledged something, has bytes in flight",
        ),
        "tcp.analysis.zero_window" => Value::Bool(seg.analysis.zero_window),
        "tcp.analysis.window_update" => Value::Bool(seg.analysis.window_update),
        "tcp.analysis.keep_alive" => Value::Bool(seg.analysis.keep_alive),
        "tcp.analysis.zero_window_probe" => Value::Bool(seg.analysis.zero_window_probe),
        "tcp.analysis.acks_frame" => opt(
            seg.measures.ack_rtt.map(|a| a.acks_frame),
            "this segment answers no earlier segment (it acknowledges nothing new, or only part of a segment)",
        ),
        "tcp.analysis.ack_rtt_us" => opt(
            seg.measures.ack_rtt.map(|a| a.rtt_ns / 1_000),
            "this segment answers no earlier segment (it acknowledges nothing new, or only part of a segment)",
        ),
        "tcp.analysis.rtt_sample_us" => match seg.measures.ack_rtt {
            Some(a) if a.karn => num(a.rtt_ns / 1_000),
            Some(_) => Value::missing("some of the bytes it acknowledges were sent twice: no SampleRTT (Karn's rule, RFC 6298 §3)"),
            None => Value::missing("this segment answers no earlier segment (it acknowledges nothing new, or only part of a segment)"),
        },
        "tcp.acked_bytes" => opt(
            seg.measures.acked,
            "this segment acknowledges nothing: its ACK flag is clear",
        ),
        "tls.records" => Value::List(e.records.clone().map(Value::Record).collect()),
        _ => Value::missing(format!("no property {name}")),
    }
}

/// Whether frame `e` carries the first byte of a TLS record that a later frame completes.
fn starts_a_record(scope: &Scope<'_>, e: &FrameEntry) -> bool {
    let Some(seg) = e.segment.as_ref().filter(|s| s.payload_len > 0) else {
        return false;
    };
    let bytes = seg.stream_offset..seg.stream_offset + seg.payload_len as u64;
    // Records are kept in the order they complete: the next one of this direction to complete
    // is the only one that can have started here and not ended. Other connections' records may
    // come between; a bounded look ahead keeps this cheap.
    let trace = scope.trace;
    trace
        .records()
        .iter()
        .skip(e.records.end.saturating_sub(trace.records_forgotten()))
        .take(64)
        .find(|r| r.stream == seg.stream && r.dir == seg.dir)
        .is_some_and(|r| bytes.contains(&r.stream_range.start))
}

/// The window scale shift that applies to a segment (RFC 7323 §2.3), as the TCP tracker worked
/// it out from the two SYNs; 0 when unknown.
fn window_shift(e: &FrameEntry) -> u32 {
    e.segment
        .as_ref()
        .and_then(|s| s.window_shift)
        .map_or(0, u32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_in_textbooks() {
        assert_eq!(flags_text(TcpFlags(0x012)), "SYN, ACK");
        assert_eq!(flags_text(TcpFlags(0x011)), "FIN, ACK");
        assert_eq!(flags_text(TcpFlags(0x018)), "PSH, ACK");
        assert_eq!(flags_text(TcpFlags(0x002)), "SYN");
    }
}
