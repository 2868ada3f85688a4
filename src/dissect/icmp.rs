//! ICMP (RFC 792) and ICMPv6 (RFC 4443): the network layer's own messages. Echo request and reply
//! (what `ping` sends); errors a router or host sends back about a packet it could not deliver
//! (destination unreachable, with "fragmentation needed" and the next-hop MTU of RFC 1191; packet
//! too big with its MTU; time exceeded, what `traceroute` relies on), which quote the start of
//! that packet: its IP header and at least 8 bytes of what followed, so the sender can tell which
//! of its packets failed (RFC 792, RFC 1812 §4.3.2.3, RFC 4443 §2.4). And, for IPv6, neighbour
//! discovery (RFC 4861), which does ARP's job and more: router and neighbour solicitations and
//! advertisements, each naming its target address.
//!
//! The quoted packet is dissected with the IPv4/IPv6 parsers (its header only: it is cut short
//! on purpose) and the first 8 bytes of its TCP or UDP header (the ports), as traceroute reads it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::checksum::{self, ChecksumStatus};
use super::field::{
    array, be16, be32, byte, byte_count, hex_string, mac_string, DissectError, Field, Layer,
    StopKind,
};
use super::ip::{IpInfo, Transport};
use super::Packet;

/// IP protocol number of ICMP (IPv4).
pub(crate) const PROTOCOL_ICMP: u8 = 1;
/// IPv6 next header number of ICMPv6.
pub(crate) const PROTOCOL_ICMPV6: u8 = 58;

/// Type, code and checksum: the part every ICMP message has.
const MIN_LEN: usize = 4;
/// Where the quoted packet starts in an error message, and the data of an echo.
const BODY: usize = 8;

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpInfo {
    /// 4 for ICMP (IPv4), 6 for ICMPv6.
    pub version: u8,
    /// The whole message's bytes in the frame (header and data, as far as captured).
    pub range: Range<usize>,
    /// The message type (8 echo request, 3 destination unreachable, 135 neighbour solicitation…).
    pub icmp_type: u8,
    /// The code, which refines the type (for destination unreachable: which part failed).
    pub code: u8,
    /// What checking the checksum found.
    pub checksum: ChecksumStatus,
    /// Echo request or reply: identifier and sequence number.
    pub echo: Option<(u16, u16)>,
    /// "Fragmentation needed" (RFC 1191): the next-hop MTU; "packet too big": the MTU.
    pub mtu: Option<u32>,
    /// Neighbour discovery and redirects: the target address (IPv4 redirect: the gateway).
    pub target: Option<IpAddr>,
    /// In an error message: the start of the packet that caused it.
    pub quoted: Option<Box<Quoted>>,
}

/// The start of the packet an ICMP error is about, as quoted inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    /// The quoted bytes in the frame (from its IP header to the end of the ICMP message).
    pub range: Range<usize>,
    /// Its IP header, as dissected (the packet itself is cut short: only its start is quoted).
    pub ip: IpInfo,
    /// Where its transport header starts in the frame.
    pub transport: usize,
    /// The ports of its TCP or UDP header, when quoted.
    pub ports: Option<(u16, u16)>,
}

impl IcmpInfo {
    /// True for an error message (which quotes the packet that caused it).
    pub fn is_error(&self) -> bool {
        is_error(self.version, self.icmp_type)
    }

    /// The type's name: "echo request", "destination unreachable", "neighbor solicitation"…
    pub fn type_name(&self) -> &'static str {
        type_name(self.version, self.icmp_type)
    }

    /// The code's name, where the type gives codes names ("port unreachable").
    pub fn code_name(&self) -> Option<&'static str> {
        code_name(self.version, self.icmp_type, self.code)
    }

    /// One line about the message: "ICMP echo request id=0x0001 seq=1", "ICMP destination
    /// unreachable (fragmentation needed, next-hop MTU 1000) about 10.0.0.1 → 10.0.2.1 UDP 4000 →
    /// 33434", "ICMPv6 neighbor solicitation for fe80::1".
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} {}",
            if self.version == 6 { "ICMPv6" } else { "ICMP" },
            self.type_name()
        );
        match (self.code_name(), self.mtu) {
            (Some(code), Some(mtu)) => s.push_str(&format!(" ({code}, MTU {mtu})")),
            (Some(code), None) => s.push_str(&format!(" ({code})")),
            (None, Some(mtu)) => s.push_str(&format!(" (MTU {mtu})")),
            (None, None) if self.code != 0 => s.push_str(&format!(" (code {})", self.code)),
            (None, None) => {}
        }
        if let Some((id, seq)) = self.echo {
            s.push_str(&format!(" id=0x{id:04x} seq={seq}"));
        }
        if let Some(target) = self.target {
            s.push_str(&format!(" for {target}"));
        }
        if let Some(q) = &self.quoted {
            s.push_str(&format!(" about {}", q.summary()));
        }
        s
    }
}

impl Quoted {
    /// "10.0.0.1:40000 → 10.0.2.1:33434 UDP" or "10.0.0.1 → 10.0.2.1 ICMP".
    pub fn summary(&self) -> String {
        let name = super::field::ip_protocol_name(self.ip.protocol);
        match self.ports {
            Some((src, dst)) => format!(
                "{} → {} {name}",
                std::net::SocketAddr::new(self.ip.src, src),
                std::net::SocketAddr::new(self.ip.dst, dst)
            ),
            None => format!("{} → {} {name}", self.ip.src, self.ip.dst),
        }
    }
}

fn is_error(version: u8, icmp_type: u8) -> bool {
    if version == 6 {
        icmp_type < 128
    } else {
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    }
}

/// The name of an ICMP (RFC 792, RFC 950) or ICMPv6 (RFC 4443, RFC 4861, RFC 2710, RFC 3810)
/// message type, as Wireshark names it.
pub fn type_name(version: u8, icmp_type: u8) -> &'static str {
    if version == 6 {
        return match icmp_type {
            1 => "destination unreachable",
            2 => "packet too big",
            3 => "time exceeded",
            4 => "parameter problem",
            128 => "echo request",
            129 => "echo reply",
            130 => "multicast listener query",
            131 => "multicast listener report",
            132 => "multicast listener done",
            133 => "router solicitation",
            134 => "router advertisement",
            135 => "neighbor solicitation",
            136 => "neighbor advertisement",
            137 => "redirect",
            143 => "multicast listener report v2",
            _ => "unknown type",
        };
    }
    match icmp_type {
        0 => "echo reply",
        3 => "destination unreachable",
        4 => "source quench",
        5 => "redirect",
        8 => "echo request",
        9 => "router advertisement",
        10 => "router solicitation",
        11 => "time exceeded",
        12 => "parameter problem",
        13 => "timestamp request",
        14 => "timestamp reply",
        17 => "address mask request",
        18 => "address mask reply",
        _ => "unknown type",
    }
}

/// The name of a code, for the types whose codes have names.
pub fn code_name(version: u8, icmp_type: u8, code: u8) -> Option<&'static str> {
    Some(match (version, icmp_type, code) {
        (4, 3, 0) => "network unreachable",
        (4, 3, 1) => "host unreachable",
        (4, 3, 2) => "protocol unreachable",
        (4, 3, 3) => "port unreachable",
        (4, 3, 4) => "fragmentation needed",
        (4, 3, 5) => "source route failed",
        (4, 3, 6) => "destination network unknown",
        (4, 3, 7) => "destination host unknown",
        (4, 3, 8) => "source host isolated",
        (4, 3, 9) => "network administratively prohibited",
        (4, 3, 10) => "host administratively prohibited",
        (4, 3, 11) => "network unreachable for type of service",
        (4, 3, 12) => "host unreachable for type of service",
        (4, 3, 13) => "communication administratively prohibited",
        (4, 3, 14) => "host precedence violation",
        (4, 3, 15) => "precedence cutoff in effect",
        (4, 5, 0) => "for the network",
        (4, 5, 1) => "for the host",
        (4, 5, 2) => "for the type of service and network",
        (4, 5, 3) => "for the type of service and host",
        (4, 11, 0) | (6, 3, 0) => "TTL exceeded in transit",
        (4, 11, 1) | (6, 3, 1) => "fragment reassembly time exceeded",
        (4, 12, 0) => "pointer indicates the error",
        (4, 12, 1) => "missing a required option",
        (4, 12, 2) => "bad length",
        (6, 1, 0) => "no route to destination",
        (6, 1, 1) => "administratively prohibited",
        (6, 1, 2) => "beyond scope of source address",
        (6, 1, 3) => "address unreachable",
        (6, 1, 4) => "port unreachable",
        (6, 1, 5) => "source address failed policy",
        (6, 1, 6) => "reject route to destination",
        (6, 1, 7) => "error in source routing header",
        (6, 4, 0) => "erroneous header field",
        (6, 4, 1) => "unrecognized next header",
        (6, 4, 2) => "unrecognized IPv6 option",
        _ => return None,
    })
}

/// Parses the ICMP (version 4) or ICMPv6 (version 6) message of the transport bytes `t`, storing
/// it in `p.icmp`. `fragment` is true when the IP packet is one piece of a larger one.
pub(crate) fn parse(
    version: u8,
    data: &[u8],
    t: &Transport,
    fragment: bool,
    p: &mut Packet,
) -> Result<(), DissectError> {
    let what = if version == 6 { "ICMPv6" } else { "ICMP" };
    let captured_end = t.claimed_end.min(data.len());
    let claimed_len = t.claimed_end.saturating_sub(t.start);
    if claimed_len < MIN_LEN {
        return Err(DissectError::new(
            StopKind::Malformed,
            Layer::Icmp,
            t.start,
            format!(
                "the IP packet leaves only {claimed_len} bytes for {what} (bytes {}..{}), less than its type, code and checksum (4 bytes)",
                t.start, t.claimed_end
            ),
        ));
    }
    let message = data.get(t.start..captured_end).unwrap_or_default();
    let (Some(icmp_type), Some(code), Some(_)) =
        (byte(message, 0), byte(message, 1), be16(message, 2))
    else {
        return Err(DissectError::truncated(
            Layer::Icmp,
            &format!("{what} header"),
            t.start,
            MIN_LEN,
            message.len(),
        ));
    };
    let checksum = match u32::try_from(claimed_len) {
        Ok(len) if version == 6 => checksum::icmpv6(&t.pseudo, len, message, !fragment),
        Ok(len) => checksum::icmpv4(len, message, !fragment),
        Err(_) => ChecksumStatus::NotChecked,
    };
    let word = |at: usize| be16(message, at);
    let echo = match (version, icmp_type) {
        (4, 0 | 8) | (6, 128 | 129) => word(4).zip(word(6)),
        _ => None,
    };
    let mtu = match (version, icmp_type, code) {
        (4, 3, 4) => word(6).map(u32::from),
        (6, 2, _) => be32(message, 4),
        _ => None,
    };
    let target = match (version, icmp_type) {
        (4, 5) => array::<4>(message, 4).map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        (6, 135..=137) => array::<16>(message, 8).map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    };
    let quoted = if is_error(version, icmp_type) && !fragment {
        // Only the bytes of this message: the quote must not run into padding after the packet.
        data.get(..captured_end)
            .and_then(|within| quoted(within, t.start + BODY))
            .map(Box::new)
    } else {
        None
    };
    p.icmp = Some(IcmpInfo {
        version,
        range: t.start..captured_end.max(t.start),
        icmp_type,
        code,
        checksum,
        echo,
        mtu,
        target,
        quoted,
    });
    Ok(())
}

/// The packet quoted in an error message, starting at `start` of `data` (which ends where the
/// ICMP message ends). `None` when not even its IP header is there.
fn quoted(data: &[u8], start: usize) -> Option<Quoted> {
    let mut inner = Packet::empty(data.len());
    let t = match byte(data, start)? >> 4 {
        4 => super::ipv4::parse(data, start, &mut inner).ok()?,
        6 => super::ipv6::parse(data, start, &mut inner).ok()?,
        _ => return None,
    };
    let ip = inner.ip?;
    let ports = match ip.protocol {
        6 | 17 if ip.fragment_offset == 0 => be16(data, t.start).zip(be16(data, t.start + 2)),
        _ => None,
    };
    Some(Quoted {
        range: start..data.len(),
        ip,
        transport: t.start,
        ports,
    })
}

/// The annotated fields of an ICMP or ICMPv6 message, the packet it quotes included.
pub(crate) fn fields(icmp: &IcmpInfo, data: &[u8]) -> Vec<Field> {
    let s = icmp.range.start;
    let end = icmp.range.end;
    let (Some(found), Some(message)) = (be16(data, s + 2), data.get(icmp.range.clone())) else {
        return Vec::new();
    };
    let r = |a: usize, b: usize| (s + a).min(end)..(s + b).min(end);
    let has = |a: usize, b: usize| s + b <= end && b > a;
    let v6 = icmp.version == 6;
    let name = icmp.type_name();
    let mut out = vec![
        Field::new(
            "Type",
            r(0, 1),
            format!("{} ({name})", icmp.icmp_type),
            type_meaning(icmp.version, icmp.icmp_type),
        ),
        Field::new(
            "Code",
            r(1, 2),
            match icmp.code_name() {
                Some(code) => format!("{} ({code})", icmp.code),
                None => icmp.code.to_string(),
            },
            code_meaning(icmp),
        ),
        Field::new(
            "Checksum",
            r(2, 4),
            icmp.checksum.value(found),
            icmp.checksum.meaning(
                found,
                if v6 {
                    "the ICMPv6 message and the IP addresses (pseudo-header)"
                } else {
                    "the ICMP message"
                },
            ),
        ),
    ];
    let word = |at: usize| be16(message, at);
    let body = match (icmp.version, icmp.icmp_type) {
        (4, 0 | 8) | (6, 128 | 129) => {
            if let (Some(id), Some(seq)) = (word(4), word(6)) {
                out.push(Field::new(
                    "Identifier",
                    r(4, 6),
                    format!("0x{id:04x} ({id})"),
                    "picked by the pinging program, so it can tell its own replies from other programs' (the reply copies it)",
                ));
                out.push(Field::new(
                    "Sequence number",
                    r(6, 8),
                    seq.to_string(),
                    "counts the echo requests (1, 2, 3…); the reply copies it, so ping can match each reply to its request, measure the round trip and see which ones were lost",
                ));
            }
            if has(BODY, message.len()) {
                let bytes = message.get(BODY..).unwrap_or_default();
                out.push(Field::new(
                    "Data",
                    r(BODY, message.len()),
                    byte_count(bytes.len()),
                    format!(
                        "any bytes the sender chose (ping puts a timestamp and a pattern); the reply carries them back unchanged: {}",
                        hex_string(bytes, 16)
                    ),
                ));
            }
            return out;
        }
        (4, 3) if icmp.code == 4 => {
            if let Some(mtu) = icmp.mtu {
                out.push(Field::new(
                    "Unused",
                    r(4, 6),
                    format!("0x{:04x}", word(4).unwrap_or(0)),
                    "not used, zero",
                ));
                out.push(Field::new(
                    "Next-hop MTU",
                    r(6, 8),
                    byte_count(mtu as usize),
                    format!("the largest packet the router's next link carries is {mtu} bytes; the sender's packet was larger and said \"don't fragment\", so the router dropped it. The sender now sends smaller packets (path MTU discovery, RFC 1191)"),
                ));
            }
            BODY
        }
        (6, 2) => {
            if let Some(mtu) = icmp.mtu {
                out.push(Field::new(
                    "MTU",
                    r(4, 8),
                    byte_count(mtu as usize),
                    format!("the largest packet the next link carries is {mtu} bytes; IPv6 routers never fragment, so the router dropped the packet and tells the sender to send smaller ones (path MTU discovery, RFC 8201)"),
                ));
            }
            BODY
        }
        (4, 5) => {
            if let Some(gw) = icmp.target {
                out.push(Field::new(
                    "Gateway address",
                    r(4, 8),
                    gw.to_string(),
                    format!("the router to use instead for this destination: {gw} is on the sender's own network and closer to it"),
                ));
            }
            BODY
        }
        (4, 12) | (6, 4) => {
            let (len, value) = if v6 {
                (4, be32(message, 4).map(|p| p.to_string()))
            } else {
                (1, byte(message, 4).map(|p| p.to_string()))
            };
            if let Some(value) = value {
                out.push(Field::new(
                    "Pointer",
                    r(4, 4 + len),
                    value.clone(),
                    format!("the problem is at byte {value} of the quoted packet"),
                ));
                if !v6 && has(5, 8) {
                    out.push(Field::new("Unused", r(5, 8), "0", "not used, zero"));
                }
            }
            BODY
        }
        (6, 133..=137) => return neighbor_discovery(icmp, message, s, out),
        _ if icmp.is_error() => {
            if has(4, 8) {
                out.push(Field::new(
                    "Unused",
                    r(4, 8),
                    format!("0x{:08x}", be32(message, 4).unwrap_or(0)),
                    "not used, zero",
                ));
            }
            BODY
        }
        _ => {
            if has(4, 8) {
                out.push(Field::new(
                    "Rest of header",
                    r(4, 8),
                    hex_string(message.get(4..8).unwrap_or_default(), 4),
                    "four bytes whose meaning depends on the message type",
                ));
            }
            BODY
        }
    };
    if let Some(q) = &icmp.quoted {
        quoted_fields(q, data, &mut out);
    } else if message.len() > body {
        out.push(Field::new(
            if icmp.is_error() { "Quoted packet" } else { "Data" },
            r(body, message.len()),
            byte_count(message.len() - body),
            format!(
                "{}: {}",
                if icmp.is_error() {
                    "the start of the packet this error is about, too short (or too damaged) to read as an IP header"
                } else {
                    "the message's data"
                },
                hex_string(message.get(body..).unwrap_or_default(), 16)
            ),
        ));
    }
    out
}

/// The quoted packet: one field for all of it, then its IP header's fields and the ports.
fn quoted_fields(q: &Quoted, data: &[u8], out: &mut Vec<Field>) {
    let ttl = if q.ip.version == 6 {
        "hop limit"
    } else {
        "TTL"
    };
    out.push(Field::new(
        "Original packet",
        q.range.clone(),
        q.summary(),
        format!(
            "the start of the packet this error is about, as the reporting router or host received it ({} bytes: its IP header and the first bytes of what it carried). The sender matches it to the packet it sent by addresses, protocol and ports; traceroute reads which probe it was. Its {ttl} as received there: {}",
            q.range.len(),
            q.ip.ttl
        ),
    ));
    let inner = if q.ip.version == 6 {
        super::ipv6::fields(&q.ip, data)
    } else {
        super::ipv4::fields(&q.ip, data)
    };
    out.extend(inner);
    let t = q.transport;
    if let Some((src, dst)) = q.ports {
        let proto = super::field::ip_protocol_name(q.ip.protocol);
        out.push(Field::new(
            "Original source port",
            t..t + 2,
            src.to_string(),
            format!("the {proto} source port of the packet that failed: the sender's program it came from"),
        ));
        out.push(Field::new(
            "Original destination port",
            t + 2..t + 4,
            dst.to_string(),
            format!("the {proto} destination port of the packet that failed (traceroute's probes go to 33434 and up, one port per probe, so each answer names its probe)"),
        ));
    }
}

/// Neighbour discovery (RFC 4861 §4): the fixed part after the checksum, then its options.
fn neighbor_discovery(
    icmp: &IcmpInfo,
    message: &[u8],
    s: usize,
    mut out: Vec<Field>,
) -> Vec<Field> {
    let end = s + message.len();
    let r = |a: usize, b: usize| (s + a).min(end)..(s + b).min(end);
    let target_meaning = |what: &str| {
        format!(
            "the address {what}; neighbour discovery is IPv6's ARP, sent to a multicast group rather than broadcast"
        )
    };
    let options_at = match icmp.icmp_type {
        133 => {
            out.push(Field::new("Reserved", r(4, 8), "0", "not used, zero"));
            8
        }
        134 => {
            let (Some(hop), Some(flags), Some(life), Some(reach), Some(retrans)) = (
                byte(message, 4),
                byte(message, 5),
                be16(message, 6),
                be32(message, 8),
                be32(message, 12),
            ) else {
                return out;
            };
            out.push(Field::new("Cur hop limit", r(4, 5), hop.to_string(), format!("hosts on this link should send with hop limit {hop} (0: the router does not say)")));
            out.push(Field::new(
                "Flags",
                r(5, 6),
                format!("0x{flags:02x}"),
                format!(
                    "M (managed addresses by DHCPv6) {}, O (other settings by DHCPv6) {}",
                    if flags & 0x80 != 0 { "set" } else { "not set" },
                    if flags & 0x40 != 0 { "set" } else { "not set" }
                ),
            ));
            out.push(Field::new("Router lifetime", r(6, 8), format!("{life} s"), format!("hosts may use this router as their default router for {life} seconds (0: it is not a default router)")));
            out.push(Field::new(
                "Reachable time",
                r(8, 12),
                format!("{reach} ms"),
                "how long a neighbour counts as reachable after a confirmation (0: unspecified)",
            ));
            out.push(Field::new(
                "Retrans timer",
                r(12, 16),
                format!("{retrans} ms"),
                "time between neighbour solicitations sent again (0: unspecified)",
            ));
            16
        }
        135..=137 => {
            let reserved_meaning = if icmp.icmp_type == 136 {
                let flags = byte(message, 4).unwrap_or(0);
                let mut set = Vec::new();
                for (bit, name) in [
                    (0x80, "R: the sender is a router"),
                    (0x40, "S: an answer to a solicitation"),
                    (0x20, "O: override the cached link-layer address"),
                ] {
                    if flags & bit != 0 {
                        set.push(name);
                    }
                }
                out.push(Field::new(
                    "Flags",
                    r(4, 8),
                    format!("0x{flags:02x}"),
                    if set.is_empty() {
                        "no flags set".to_string()
                    } else {
                        set.join("; ")
                    },
                ));
                None
            } else {
                Some("not used, zero")
            };
            if let Some(meaning) = reserved_meaning {
                out.push(Field::new("Reserved", r(4, 8), "0", meaning));
            }
            if let Some(target) = icmp.target {
                out.push(Field::new(
                    "Target address",
                    r(8, 24),
                    target.to_string(),
                    match icmp.icmp_type {
                        135 => target_meaning("whose link-layer (MAC) address the sender asks for (or checks nobody else uses, before taking it)"),
                        136 => target_meaning("the sender answers for: its link-layer (MAC) address is in the option below"),
                        _ => "the better first hop for the destination below (a router, or the destination itself when it is on the link)".to_string(),
                    },
                ));
            }
            if icmp.icmp_type == 137 {
                if let Some(dst) = array::<16>(message, 24) {
                    out.push(Field::new(
                        "Destination address",
                        r(24, 40),
                        Ipv6Addr::from(dst).to_string(),
                        "the destination whose packets should go to the target instead",
                    ));
                }
                40
            } else {
                24
            }
        }
        _ => return out,
    };
    let mut at = options_at;
    while at < message.len() {
        let (Some(kind), Some(units)) = (byte(message, at), byte(message, at + 1)) else {
            out.push(Field::new(
                "Option",
                r(at, message.len()),
                "cut short",
                "an option whose length byte is missing",
            ));
            break;
        };
        let len = usize::from(units) * 8;
        if len == 0 || at + len > message.len() {
            out.push(Field::new(
                "Option",
                r(at, message.len()),
                format!("malformed option {kind} (length {units})"),
                "the option's length is 0 or runs past the message; the rest of the options cannot be read (RFC 4861 §4.6 says to discard such a message)",
            ));
            break;
        }
        let body = message.get(at + 2..at + len).unwrap_or_default();
        let (name, value, meaning) = match kind {
            1 | 2 => {
                let mac = mac_string(body.get(..6).unwrap_or(body));
                if kind == 1 {
                    ("Source link-layer address", mac, "the sender's link-layer (MAC) address, so the receiver need not ask for it".to_string())
                } else {
                    ("Target link-layer address", mac, "the target's link-layer (MAC) address: the answer to the solicitation".to_string())
                }
            }
            3 => (
                "Prefix information",
                match (byte(body, 0), array::<16>(body, 14)) {
                    (Some(plen), Some(prefix)) => format!("{}/{plen}", Ipv6Addr::from(prefix)),
                    _ => byte_count(len),
                },
                "a prefix of this link: hosts may form addresses in it themselves (SLAAC, RFC 4862)".to_string(),
            ),
            5 => (
                "MTU",
                be32(body, 2).map_or_else(|| byte_count(len), |m| byte_count(m as usize)),
                "the link's MTU: hosts should send no larger packets on it".to_string(),
            ),
            _ => ("Option", format!("type {kind}, {}", byte_count(len)), format!("a neighbour discovery option: {}", hex_string(body, 12))),
        };
        out.push(Field::new(name, r(at, at + len), value, meaning));
        at += len;
    }
    out
}

/// What a type means, for a student.
fn type_meaning(version: u8, icmp_type: u8) -> String {
    let text = match (version, icmp_type) {
        (4, 8) | (6, 128) => "echo request: \"are you there?\"; the receiver answers with an echo reply carrying the same identifier, sequence number and data (this is ping)",
        (4, 0) | (6, 129) => "echo reply: the answer to an echo request, with its identifier, sequence number and data copied back (this is ping's answer)",
        (4, 3) | (6, 1) => "destination unreachable: a router or the destination host could not deliver a packet; the code says why and the packet's start is quoted below",
        (6, 2) => "packet too big: a router could not forward a packet because the next link's MTU is smaller; IPv6 routers never fragment, so the sender must send smaller packets",
        (4, 11) | (6, 3) => "time exceeded: a router dropped a packet whose TTL (hop limit) reached 0, or a host gave up reassembling fragments; traceroute provokes these on purpose to learn each router on the path",
        (4, 12) | (6, 4) => "parameter problem: a header field of the quoted packet could not be understood",
        (4, 5) | (6, 137) => "redirect: a router tells a host on its link that another first hop is better for this destination",
        (4, 4) => "source quench: an old way to ask the sender to slow down (deprecated, RFC 6633)",
        (6, 133) => "router solicitation: a host asks the routers on its link to announce themselves now",
        (6, 134) => "router advertisement: a router announces itself, the link's prefixes and settings, so hosts can configure their addresses",
        (6, 135) => "neighbor solicitation: IPv6's ARP request, \"who has this address? tell me your MAC address\" (also used to check that an address is unused)",
        (6, 136) => "neighbor advertisement: IPv6's ARP reply, \"this address is at this MAC address\"",
        (6, 130..=132 | 143) => "multicast listener discovery: which multicast groups the hosts on this link listen to",
        _ => "a message type packetpath names but does not explain further",
    };
    format!(
        "{} type {icmp_type}: {text}",
        if version == 6 { "ICMPv6" } else { "ICMP" }
    )
}

/// What a code means, for a student.
fn code_meaning(icmp: &IcmpInfo) -> String {
    match (icmp.version, icmp.icmp_type, icmp.code) {
        (4, 3, 4) => "fragmentation needed: the packet was too big for the next link and its \"don't fragment\" flag was set, so the router dropped it instead of splitting it".to_string(),
        (4, 3, 3) | (6, 1, 4) => "port unreachable: the destination host got the packet but no program listens on its port (traceroute's last answer: its probe reached the end)".to_string(),
        (4, 11, 0) | (6, 3, 0) => "TTL exceeded in transit: a router decremented the TTL (hop limit) to 0 and dropped the packet; the router's address is this message's source".to_string(),
        (_, _, code) => match icmp.code_name() {
            Some(name) => format!("code {code}: {name}"),
            None => format!("code {code}: this type has no codes other than 0"),
        },
    }
}
