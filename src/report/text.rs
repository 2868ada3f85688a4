//! Text renderings: one line per frame like a packet list, then indented lines for its TLS
//! records and application events; and a message's journey layer by layer.

use std::fmt::Write as _;

use super::quoted as shown;
use crate::chat::{Direction as AppDir, Side};
use crate::journey::{FrameEntry, Journey, Trace};

/// The text lines of one frame. `t0` is the first frame's time, so times read as seconds since
/// the capture started.
pub fn frame_text(
    trace: &Trace,
    entry: &FrameEntry,
    app: &[usize],
    t0: crate::frame::Timestamp,
) -> String {
    let p = &entry.packet();
    let secs = (entry.frame.at.0 - t0.0) as f64 / 1e9;
    let mut out = format!("#{:<5} {secs:>10.6}  ", entry.number);
    if trace.several_interfaces() {
        // Which interface of the path saw it: `r1-eth1`.
        let name = trace.interface_name(entry.frame.interface).unwrap_or("?");
        let _ = write!(out, "{name:<12} ");
    }
    // The frame that completes a fragmented packet shows the packet's TCP segment.
    let whole = trace.reassembled(entry.number);
    let tcp = whole
        .as_ref()
        .and_then(|(_, w)| w.tcp.as_ref())
        .or(p.tcp.as_ref());
    match (&p.ip, tcp, &entry.segment) {
        (Some(ip), Some(tcp), Some(seg)) => {
            let _ = write!(
                out,
                "{} → {}  TCP {} {} len={} win={}",
                std::net::SocketAddr::new(ip.src, tcp.src_port),
                std::net::SocketAddr::new(ip.dst, tcp.dst_port),
                tcp.flags,
                super::seq_ack(tcp.flags, seg.rel_seq, seg.rel_ack),
                seg.payload_len,
                seg.window_bytes(tcp.window)
            );
            if let Some(mss) = tcp.options.mss {
                let _ = write!(out, " mss={mss}");
            }
            for name in seg.analysis.names() {
                let _ = write!(out, " [{name}]");
            }
        }
        (Some(ip), _, _) => {
            let packet = whole.as_ref().map_or(p, |(_, w)| w);
            if let Some(udp) = &packet.udp {
                let _ = write!(
                    out,
                    "{} → {}  UDP len={}",
                    std::net::SocketAddr::new(ip.src, udp.src_port),
                    std::net::SocketAddr::new(ip.dst, udp.dst_port),
                    usize::from(udp.length).saturating_sub(8)
                );
            } else if let Some(icmp) = &packet.icmp {
                let _ = write!(out, "{} → {}  {}", ip.src, ip.dst, icmp.summary());
            } else {
                let _ = write!(
                    out,
                    "{} → {}  {}",
                    ip.src,
                    ip.dst,
                    super::ip_payload_summary(ip)
                );
            }
        }
        _ => {
            if let Some(arp) = &p.arp {
                let _ = if arp.op == 1 {
                    write!(
                        out,
                        "ARP request: who has {}? tell {} ({})",
                        arp.target_ip,
                        arp.sender_ip,
                        super::mac(&arp.sender_mac)
                    )
                } else {
                    write!(
                        out,
                        "ARP reply: {} is at {}",
                        arp.sender_ip,
                        super::mac(&arp.sender_mac)
                    )
                };
            } else {
                out.push_str("(not IP)");
            }
        }
    }
    let _ = write!(out, "  ({} bytes)", entry.frame.orig_len);
    if let Some(line) = super::fragment_line(trace, entry.number) {
        let _ = write!(out, "\n        IP {line}");
    }
    // A fragment after the first carries no transport header: its fragment line says so.
    let later_fragment = p.ip.as_ref().is_some_and(|ip| ip.fragment_offset != 0);
    if let Some(stop) = p
        .stop
        .as_ref()
        .filter(|s| !(later_fragment && s.kind == crate::dissect::StopKind::NotDissected))
    {
        let _ = write!(out, "\n        ! {stop}");
    }
    for line in hop_lines(trace, entry.number) {
        let _ = write!(out, "\n        {line}");
    }
    for rec in trace.records_of(entry) {
        let info = &rec.info;
        let _ = write!(
            out,
            "\n        TLS {} {} length={}",
            info.header.content_type.name(),
            crate::tls::version_name(info.header.version),
            info.header.length
        );
        if !info.handshake.is_empty() {
            let names: Vec<&str> = info.handshake.iter().map(|h| h.name()).collect();
            let _ = write!(out, " [{}]", names.join(", "));
        }
        if let Some((level, description)) = info.alert {
            let _ = write!(
                out,
                "  alert: {} ({})",
                crate::tls::alert_name(description),
                crate::tls::alert_level_name(level)
            );
        }
        if let Some(d) = &info.decrypted {
            if d.content_type == crate::tls::ContentType::ApplicationData {
                let _ = write!(
                    out,
                    "  decrypted {}: {}",
                    d.content_type.name(),
                    super::quoted_plaintext(trace, rec, 60)
                );
            } else {
                let _ = write!(
                    out,
                    "  decrypted {} ({} bytes)",
                    d.content_type.name(),
                    d.len
                );
            }
        } else if let Some(note) = &info.note {
            let _ = write!(out, "  ({note})");
        }
    }
    for event in app.iter().filter_map(|&i| trace.app_events().get(i)) {
        let _ = write!(
            out,
            "\n        app: {} {} {}",
            match event.side {
                Side::Client => "client",
                Side::Server => "server",
            },
            match event.dir {
                AppDir::Write => "wrote",
                AppDir::Read => "read",
            },
            shown(&event.bytes, 60)
        );
    }
    out
}

/// On a path of routers: the packet's copies along its path (on the original's line), or what
/// changed in this copy since its original and what did not (on a copy's line).
pub fn hop_lines(trace: &Trace, number: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(entry) = trace.frame(number) else {
        return lines;
    };
    if entry.copy_of.is_none() {
        let path = trace.path_of(number);
        if path.len() > 1 {
            let mut line = format!(
                "the same IP packet on {} interfaces: {}",
                path.len(),
                path_text(trace, &path)
            );
            if let Some(cut) = cut_text(trace, &path) {
                let _ = write!(line, " → {cut}");
            }
            lines.push(line);
        }
        return lines;
    }
    let Some(c) = trace.hop_check(number) else {
        return lines;
    };
    let mut line = format!("copy of #{}", c.original);
    if let Some(place) = trace.hop_place(entry.frame.interface) {
        let _ = write!(line, " on link {}", place.link);
    }
    match c.routers {
        Some(0) => {
            let _ = write!(
                line,
                ", the link's other end, no router between: TTL {}{}",
                c.ttl,
                if c.ttl == c.ttl_before {
                    " (unchanged ✓)".to_string()
                } else {
                    format!(" (✗ was {})", c.ttl_before)
                }
            );
        }
        Some(r) => {
            let _ = write!(
                line,
                ", {r} router{} on: TTL {} → {}",
                plural(r as usize),
                c.ttl_before,
                c.ttl
            );
            let _ = match c.ttl_as_expected() {
                Some(true) => write!(line, " (one less per router ✓)"),
                _ => write!(
                    line,
                    " (✗ expected {})",
                    i64::from(c.ttl_before) - i64::from(r)
                ),
            };
        }
        None => {
            let _ = write!(line, ": TTL {} → {}", c.ttl_before, c.ttl);
        }
    }
    if let (Some((src, dst)), Some((src0, dst0))) = (c.macs, c.macs_before) {
        if (src, dst) == (src0, dst0) {
            let _ = write!(line, "; same MACs (same link)");
        } else {
            let _ = write!(
                line,
                "; MACs {} → {} (were {} → {})",
                super::mac(&src),
                super::mac(&dst),
                super::mac(&src0),
                super::mac(&dst0)
            );
        }
    }
    if let (Some((sum, status)), Some(before)) = (c.checksum, c.checksum_before) {
        let _ = write!(
            line,
            "; IPv4 checksum 0x{sum:04x} {}{}",
            super::json::checksum_name(status),
            if sum == before {
                String::new()
            } else {
                format!(" (recomputed, was 0x{before:04x})")
            }
        );
    }
    let _ = write!(
        line,
        "; {} B above IP {}",
        c.above_ip_len,
        if c.above_ip_identical {
            "byte-identical ✓".to_string()
        } else {
            format!("DIFFERENT ✗{}", changed_bytes(&c.changed))
        }
    );
    lines.push(line);
    lines
}

/// The bytes an altered copy changed, e.g. " (bytes after the IP header, from 0: 16: 0x3c →
/// 0x3d; 32: 0x68 → 0x48)" (bytes 16 and 17 of a TCP segment are its checksum); empty when none
/// are known.
pub fn changed_bytes(changed: &[(usize, u8, u8)]) -> String {
    if changed.is_empty() {
        return String::new();
    }
    let bytes: Vec<String> = changed
        .iter()
        .map(|(at, before, after)| format!("{at}: {before:#04x} → {after:#04x}"))
        .collect();
    format!(" (bytes after the IP header, from 0: {})", bytes.join("; "))
}

/// `#5 client-eth0 TTL 64 → #6 r1-eth0 TTL 64 → …`: the frames of one packet along its path.
/// Where a packet's path goes on in pieces: "r1 cut it into #11, #13, #15", when a router
/// fragmented it on the next link.
pub fn cut_text(trace: &Trace, path: &[u32]) -> Option<String> {
    let pieces = path
        .iter()
        .map(|&n| trace.cut_into(n))
        .find(|p| !p.is_empty())?;
    let router = pieces
        .first()
        .and_then(|&n| trace.frame(n))
        .and_then(|e| trace.hop_place(e.frame.interface))
        .map_or_else(|| "a router".to_string(), |place| place.node.clone());
    let list: Vec<String> = pieces.iter().map(|n| format!("#{n}")).collect();
    Some(format!("{router} cut it into {}", list.join(", ")))
}

pub fn path_text(trace: &Trace, path: &[u32]) -> String {
    path.iter()
        .filter_map(|&n| {
            let e = trace.frame(n)?;
            let ttl = e.headers().ip.map(|ip| ip.ttl)?;
            Some(format!(
                "#{n} {} TTL {ttl}",
                trace.interface_name(e.frame.interface).unwrap_or("?")
            ))
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// A message's journey, layer by layer, for people.
pub fn journey_text(
    trace: &Trace,
    text: &str,
    transport: &str,
    journey: &Journey,
    title: &str,
) -> String {
    let b = journey.bytes;
    let mut out = format!("{title} ({transport}): {}\n", shown(text.as_bytes(), 60));
    let _ = write!(out, "  {} B text", b.application);
    if b.tls > 0 {
        let _ = write!(
            out,
            " → {} B TLS record{}",
            b.tls,
            if journey.records.len() > 1 { "s" } else { "" }
        );
    }
    let _ = writeln!(
        out,
        " → {} B TCP segment{} → {} B IP packet{} → {} B frame{}",
        b.tcp,
        plural(journey.frames.len()),
        b.ip,
        plural(journey.frames.len()),
        b.link,
        plural(journey.frames.len())
    );
    for &r in &journey.records {
        if let Some(rec) = trace.record(r) {
            let _ = writeln!(
                out,
                "  TLS record: type {} ({}), version 0x{:04x}, length {} (+5 header) in frame {}",
                rec.info.header.content_type.number(),
                rec.info.header.content_type.name(),
                rec.info.header.version,
                rec.info.header.length,
                rec.frame
            );
        }
    }
    for &f in &journey.frames {
        if let Some(entry) = trace.frame(f) {
            let p = &entry.packet();
            if let (Some(ip), Some(tcp), Some(seg)) = (&p.ip, &p.tcp, &entry.segment) {
                let _ = writeln!(
                    out,
                    "  frame {f}: {} B = link header {} + IPv{} header {} (TTL/hop limit {}) + TCP header {} ({} {}) + {} B payload",
                    entry.frame.orig_len,
                    p.link.as_ref().map_or(0, |l| l.range.len()),
                    ip.version,
                    ip.header.len(),
                    ip.ttl,
                    tcp.header_len,
                    tcp.flags,
                    super::seq_ack(tcp.flags, seg.rel_seq, seg.rel_ack),
                    seg.payload_len
                );
                let path = trace.path_of(f);
                if path.len() > 1 {
                    // Whether everything above IP crossed the path untouched (an attacker on a
                    // link changes it: an altered copy).
                    let changed: Vec<String> = path
                        .iter()
                        .filter(|&&n| trace.hop_check(n).is_some_and(|c| !c.above_ip_identical))
                        .map(|n| format!("#{n}"))
                        .collect();
                    let verdict = if changed.is_empty() {
                        "TCP and TLS bytes identical on every link".to_string()
                    } else {
                        format!(
                            "TCP or TLS bytes CHANGED in transit in {}",
                            changed.join(", ")
                        )
                    };
                    let _ = writeln!(
                        out,
                        "    along the path: {}; {verdict}",
                        path_text(trace, &path)
                    );
                }
            }
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
