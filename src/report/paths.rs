//! What happens to packet sizes along a path: IPv4 packets cut into fragments (by their sender
//! or by a router facing a narrower link), and path MTU discovery (RFC 1191) — a segment sent
//! with "don't fragment" that a router could not forward, its ICMP "fragmentation needed"
//! answer naming the next link's MTU, and the smaller segments the sender sends after it.

use serde_json::{json, Value};

use crate::flow::DatagramState;
use crate::journey::Trace;

/// One fragment of a fragmented IPv4 packet, with the fields the classic IP lab asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentRow {
    /// Its frame.
    pub frame: u32,
    /// The identification all fragments of the packet share.
    pub id: u32,
    /// More fragments follow (MF).
    pub more: bool,
    /// Where its data goes in the packet, in bytes.
    pub offset: u32,
    /// The same in the header's 8-byte units (`ip.frag_offset` in the header itself).
    pub offset_units: u32,
    /// Its IP total length (header included).
    pub total_len: u32,
    /// Its data bytes (after the IP header).
    pub data_len: u32,
}

/// A packet that travelled in fragments on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragmented {
    /// The interface its fragments were captured on (the first link they crossed).
    pub interface: String,
    /// Its fragments in offset order.
    pub fragments: Vec<FragmentRow>,
    /// The frame that completed it (`None`: never complete).
    pub reassembled_in: Option<u32>,
    /// Its data bytes after the IP header, once complete.
    pub data_len: Option<u32>,
    /// When a router made these fragments: the frames (on the link before) they were cut from,
    /// the whole packet or the larger fragments of it (empty: the sender made them).
    pub cut_from: Vec<u32>,
    /// The node that cut it: the router (or the sending host) on the fragments' side.
    pub cut_by: Option<String>,
}

/// Every fragmented packet of the trace, one per interface where it was first seen in pieces
/// (copies of the same fragments on the next interfaces are not repeated).
pub fn fragmented(trace: &Trace) -> Vec<Fragmented> {
    trace
        .datagrams()
        .iter()
        .filter(|d| d.version == 4)
        .map(|d| {
            let fragments: Vec<FragmentRow> = d
                .fragments
                .iter()
                .filter_map(|&n| {
                    let e = trace.frame(n)?;
                    let p = e.headers();
                    let ip = p.ip?;
                    let data_len = ip.packet.end.saturating_sub(ip.header.end) as u32;
                    let offset = u32::from(ip.fragment_offset);
                    Some(FragmentRow {
                        frame: n,
                        id: ip.identification.unwrap_or(0),
                        more: ip.more_fragments,
                        offset,
                        offset_units: offset / 8,
                        total_len: ip.total_len,
                        data_len,
                    })
                })
                .collect();
            let first = d.fragments.first().copied().unwrap_or(0);
            let entry = trace.frame(first);
            let interface = entry
                .and_then(|e| trace.interface_name(e.frame.interface))
                .map(str::to_string)
                .unwrap_or_default();
            let mut cut_from: Vec<u32> = d
                .fragments
                .iter()
                .filter_map(|&n| trace.piece_of(n))
                .collect();
            cut_from.sort_unstable();
            cut_from.dedup();
            let cut_by = entry
                .and_then(|e| trace.hop_place(e.frame.interface))
                .map(|p| p.node.clone());
            Fragmented {
                interface,
                fragments,
                reassembled_in: match d.state {
                    DatagramState::Reassembled { frame } => Some(frame),
                    _ => None,
                },
                data_len: d.data_len,
                cut_from,
                cut_by,
            }
        })
        .collect()
}

/// Path MTU discovery as it happened: the segment refused, the answer, what came after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtuStory {
    /// The ICMP "fragmentation needed" (type 3, code 4) frame, as first captured.
    pub icmp: u32,
    /// The router that sent it (its address on the link towards the sender).
    pub router: std::net::IpAddr,
    /// The node that router is, on a lab path.
    pub router_node: Option<String>,
    /// The next-hop MTU it names.
    pub mtu: u32,
    /// The segment it refused (the quoted packet), as the sender sent it.
    pub refused: Option<u32>,
    /// That packet's IP total length.
    pub refused_len: u32,
    /// The sender's next data segments on that connection after the answer (up to 5), with
    /// their IP total lengths.
    pub after: Vec<(u32, u32)>,
}

/// Every "fragmentation needed" answer of the trace, with the segment it refused and the
/// sender's segments after it.
pub fn pmtu_stories(trace: &Trace) -> Vec<PmtuStory> {
    let mut stories = Vec::new();
    for e in trace.frames() {
        if e.copy_of.is_some() {
            continue;
        }
        let p = e.headers();
        let (Some(ip), Some(icmp)) = (p.ip.as_ref(), p.icmp.as_ref()) else {
            continue;
        };
        if !(icmp.version == 4 && icmp.icmp_type == 3 && icmp.code == 4) {
            continue;
        }
        let Some(q) = icmp.quoted.as_deref() else {
            continue;
        };
        let Some(mtu) = icmp.mtu else { continue };
        // The refused packet: the latest frame before the answer with the quoted addresses and
        // identification, as its sender sent it (an original, not a copy).
        // The frames before the answer (those kept: a long demo forgets its past).
        let before = e.number.saturating_sub(trace.frames_forgotten() + 1) as usize;
        let frames = trace.frames();
        let refused = frames[..before.min(frames.len())].iter().rev().find(|f| {
            f.copy_of.is_none()
                && f.headers().ip.is_some_and(|fip| {
                    fip.src == q.ip.src
                        && fip.dst == q.ip.dst
                        && fip.identification == q.ip.identification
                        && fip.protocol == q.ip.protocol
                })
        });
        let stream = refused.and_then(|f| f.segment.as_ref().map(|s| (s.stream, s.dir)));
        let after: Vec<(u32, u32)> = trace
            .frames()
            .iter()
            .skip(before + 1)
            .filter(|f| f.copy_of.is_none())
            .filter(|f| {
                f.segment
                    .as_ref()
                    .is_some_and(|s| Some((s.stream, s.dir)) == stream && s.payload_len > 0)
            })
            .filter_map(|f| Some((f.number, f.headers().ip?.total_len)))
            .take(5)
            .collect();
        // An ICMP error is first captured on the link its sender put it on.
        let router_node = trace.hop_place(e.frame.interface).map(|p| p.node.clone());
        stories.push(PmtuStory {
            icmp: e.number,
            router: ip.src,
            router_node,
            mtu,
            refused: refused.map(|f| f.number),
            refused_len: q.ip.total_len,
            after,
        });
    }
    stories
}

/// The stories in text, one paragraph each (empty when there are none).
pub fn paths_text(trace: &Trace) -> String {
    let mut out = String::new();
    for f in fragmented(trace) {
        let id = f.fragments.first().map_or(0, |r| r.id);
        let from: Vec<String> = f.cut_from.iter().map(|n| format!("#{n}")).collect();
        let on = if f.interface.is_empty() {
            String::new()
        } else {
            format!(" on {}", f.interface)
        };
        let head = match (from.is_empty(), &f.cut_by) {
            (false, Some(by)) => format!(
                "{by} cut {} {} (id 0x{id:04x}) into {} fragments on {}:",
                if from.len() == 1 {
                    "packet"
                } else {
                    "the fragments"
                },
                from.join(", "),
                f.fragments.len(),
                f.interface
            ),
            (_, by) => format!(
                "{} sent a packet in {} fragments (id 0x{id:04x}){}:",
                by.as_deref().unwrap_or("the sender"),
                f.fragments.len(),
                on
            ),
        };
        out.push_str(&format!("fragmentation: {head}\n"));
        for r in &f.fragments {
            out.push_str(&format!(
                "  #{:<6} id 0x{:04x}  MF={}  offset {:>5} B = {:>4} × 8  IP length {:>5} = 20 + {} B of data\n",
                r.frame,
                r.id,
                u8::from(r.more),
                r.offset,
                r.offset_units,
                r.total_len,
                r.data_len
            ));
        }
        match (f.reassembled_in, f.data_len) {
            (Some(n), Some(len)) => out.push_str(&format!(
                "  reassembled in #{n}: {len} B after the IP header, a {} B IP packet{}\n",
                len + 20,
                if !f.cut_from.is_empty() {
                    " (the same packet as before the router: TCP and UDP see it once)"
                } else {
                    ""
                }
            )),
            _ => out.push_str("  never reassembled: fragments are missing\n"),
        }
    }
    for s in pmtu_stories(trace) {
        let router = s
            .router_node
            .as_ref()
            .map_or(s.router.to_string(), |n| format!("{n} ({})", s.router));
        out.push_str("path MTU discovery (RFC 1191):\n");
        match s.refused {
            Some(n) => out.push_str(&format!(
                "  #{n}: {} B IP packet with \"don't fragment\" set, too large for the next link\n",
                s.refused_len
            )),
            None => out.push_str(&format!(
                "  {} B IP packet with \"don't fragment\" set (not captured)\n",
                s.refused_len
            )),
        }
        out.push_str(&format!(
            "  #{}: {router} answers ICMP destination unreachable, fragmentation needed (type 3, code 4), next-hop MTU {}\n",
            s.icmp, s.mtu
        ));
        if s.after.is_empty() {
            out.push_str("  no later segment from the sender was captured\n");
        } else {
            let list: Vec<String> = s
                .after
                .iter()
                .map(|(n, len)| format!("#{n} {len} B"))
                .collect();
            let fit = s.after.iter().all(|(_, len)| *len <= s.mtu);
            out.push_str(&format!(
                "  then the sender's segments shrink: {}{}\n",
                list.join(", "),
                if fit {
                    format!(" (each ≤ {} B: they fit the narrow link)", s.mtu)
                } else {
                    String::new()
                }
            ));
        }
    }
    out
}

/// The stories in JSON: `fragmented` (one object per packet and interface) and `path_mtu`.
pub fn paths_json(trace: &Trace) -> (Value, Value) {
    let fragmented: Vec<Value> = fragmented(trace)
        .into_iter()
        .map(|f| {
            json!({
                "interface_name": f.interface,
                "cut_from": f.cut_from,
                "cut_by": f.cut_by,
                "reassembled_in": f.reassembled_in,
                "reassembled_len": f.data_len,
                "fragments": f.fragments.iter().map(|r| json!({
                    "frame": r.frame, "id": r.id, "more": r.more, "offset": r.offset,
                    "offset_units": r.offset_units, "total_len": r.total_len,
                    "data_len": r.data_len,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let pmtu: Vec<Value> = pmtu_stories(trace)
        .into_iter()
        .map(|s| {
            json!({
                "icmp": s.icmp,
                "router": s.router.to_string(),
                "router_node": s.router_node,
                "mtu": s.mtu,
                "refused": s.refused,
                "refused_len": s.refused_len,
                "after": s.after.iter().map(|(n, len)| json!({"frame": n, "ip_len": len})).collect::<Vec<_>>(),
            })
        })
        .collect();
    (Value::from(fragmented), Value::from(pmtu))
}
