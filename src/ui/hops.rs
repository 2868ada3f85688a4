//! One IP packet on every link of a path of routers, as the path view and the handouts show it:
//! its copies in path order, each with what a router changed (link addresses, TTL, IPv4 header
//! checksum) and whether the bytes above IP are the first copy's. Free of ratatui: the path pane
//! draws it, and so does the handout of a message on a path of routers.

use super::strings;
use crate::journey::Trace;

/// One copy of the packet, as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Its frame.
    pub frame: u32,
    /// The interface it was captured on.
    pub interface: String,
    /// The node that interface belongs to (`client`, `r1`, …), if the name says.
    pub node: Option<String>,
    /// When (ns since the epoch).
    pub at: i128,
    /// TTL (hop limit).
    pub ttl: Option<u8>,
    /// IPv4 header checksum.
    pub checksum: Option<u16>,
    /// Source and destination MAC addresses.
    pub macs: Option<(String, String)>,
    /// Bytes above the IP header, and whether they equal the first copy's.
    pub above_ip: usize,
    /// True when the bytes above IP are the first copy's.
    pub identical: bool,
}

/// The copies of frame `n`'s packet along its path; empty when it was seen once.
pub fn copies(trace: &Trace, n: u32) -> Vec<Copy> {
    let path = trace.path_of(n);
    if path.len() < 2 {
        return Vec::new();
    }
    let mac = |m: [u8; 6]| {
        m.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let mut first_above: Option<Vec<u8>> = None;
    path.iter()
        .filter_map(|&f| {
            let entry = trace.frame(f)?;
            let packet = entry.headers();
            let ip = packet.ip.as_ref()?;
            let data = &entry.frame.data;
            let above = crate::journey::hops::above_ip(data, ip);
            let identical = match &first_above {
                Some(first) => first.as_slice() == above,
                None => {
                    first_above = Some(above.to_vec());
                    true
                }
            };
            let checksum = (ip.version == 4)
                .then(|| data.get(ip.header.start + 10..ip.header.start + 12))
                .flatten()
                .map(|b| u16::from_be_bytes([b[0], b[1]]));
            let iface = entry.frame.interface;
            Some(Copy {
                frame: f,
                interface: trace
                    .interface_name(iface)
                    .map_or_else(|| format!("interface {iface}"), str::to_string),
                node: trace.hop_place(iface).map(|p| p.node.clone()),
                at: entry.frame.at.0,
                ttl: Some(ip.ttl),
                checksum,
                macs: packet
                    .link
                    .as_ref()
                    .and_then(|l| Some((mac(l.src?), mac(l.dst?)))),
                above_ip: above.len(),
                identical,
            })
        })
        .collect()
}

/// What the bytes above frame `n`'s IP header are, in a few words.
pub fn above_ip_names(trace: &Trace, n: u32) -> String {
    let Some(entry) = trace.frame(n) else {
        return "IP payload".into();
    };
    let p = entry.headers();
    if p.ip.as_ref().is_some_and(|ip| ip.fragment_offset != 0) {
        return "a fragment's data".into();
    }
    if p.tcp.is_some() {
        let tls = entry
            .segment
            .as_ref()
            .is_some_and(|s| trace.stream_kind(s.stream) == crate::journey::StreamKind::Tls);
        return if tls { "TCP, TLS" } else { "TCP" }.into();
    }
    if p.udp.is_some() {
        "UDP".into()
    } else if p.icmp.is_some() {
        "ICMP".into()
    } else {
        "IP payload".into()
    }
}

/// Nanoseconds as milliseconds, to the microsecond.
pub fn millis(ns: i128) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The cells of one copy, by row of the table: frame, interface, Δ, TTL, checksum, MACs.
pub fn cells(c: &Copy, previous: Option<&Copy>, t_prev: Option<i128>) -> [(String, bool); 6] {
    let changed = |f: &dyn Fn(&Copy) -> String| previous.is_some_and(|p| f(p) != f(c));
    let ttl = |c: &Copy| c.ttl.map_or("–".into(), |t| t.to_string());
    let sum = |c: &Copy| c.checksum.map_or("–".into(), |s| format!("0x{s:04x}"));
    let macs = |c: &Copy| {
        c.macs
            .as_ref()
            .map_or("–".into(), |(s, d)| format!("{s} → {d}"))
    };
    [
        (format!("#{}", c.frame), false),
        (c.interface.clone(), false),
        (
            t_prev.map_or_else(|| "0.000 ms".into(), |p| format!("+{}", millis(c.at - p))),
            false,
        ),
        (ttl(c), changed(&ttl)),
        (sum(c), changed(&sum)),
        (macs(c), changed(&macs)),
    ]
}

/// Whether everything above IP crossed the path untouched, in a sentence, and true if it did
/// (otherwise the sentence names the copies that differ, and their changed bytes).
pub fn verdict(trace: &Trace, copies: &[Copy]) -> (String, bool) {
    let above = copies.first().map_or(0, |c| c.above_ip);
    let differ: Vec<String> = copies
        .iter()
        .filter(|c| !c.identical)
        .map(|c| {
            let changed = trace
                .hop_check(c.frame)
                .map(|h| crate::report::changed_bytes(&h.changed))
                .unwrap_or_default();
            format!("#{}{changed}", c.frame)
        })
        .collect();
    match copies.first() {
        Some(first) if differ.is_empty() => (
            strings::path_identical(above, copies.len(), &above_ip_names(trace, first.frame)),
            true,
        ),
        _ => (strings::path_differs(&differ.join(", ")), false),
    }
}

/// One stop of the strip `client at 0.003501 s ─ +0.005 ms → r1 ─ … → server`: a node, with the
/// time since the first frame of the capture at the first stop and the time since the stop
/// before at the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// The node (`client`, `r1`, …), or the interface when its name does not say.
    pub node: String,
    /// At the first stop: "at 0.003501 s".
    pub at: Option<String>,
    /// At the others: "+0.005 ms".
    pub after: Option<String>,
}

/// The stops of the packet along its path (a node once, however many of its interfaces saw it).
pub fn stops(copies: &[Copy], t0: i128) -> Vec<Stop> {
    let mut out: Vec<Stop> = Vec::new();
    let mut last: Option<(String, i128)> = None;
    for c in copies {
        let node = c.node.clone().unwrap_or_else(|| c.interface.clone());
        if last.as_ref().is_some_and(|(n, _)| *n == node) {
            continue;
        }
        out.push(match &last {
            None => Stop {
                node: node.clone(),
                at: Some(strings::path_at(&format!(
                    "{:.6} s",
                    (c.at - t0) as f64 / 1e9
                ))),
                after: None,
            },
            Some((_, at)) => Stop {
                node: node.clone(),
                at: None,
                after: Some(format!("+{}", millis(c.at - at))),
            },
        });
        last = Some((node, c.at));
    }
    out
}
