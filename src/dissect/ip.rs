//! What IPv4 and IPv6 have in common: the [`IpInfo`] summary of the network layer and the hand-off
//! to the transport layer (where its bytes start and end, and the pseudo-header TCP's checksum
//! covers). The versions themselves live in `ipv4.rs` and `ipv6.rs`.

use std::net::IpAddr;
use std::ops::Range;

use super::checksum::{ChecksumStatus, PseudoHeader};

/// IP protocol number of TCP.
pub(crate) const PROTOCOL_TCP: u8 = 6;
/// IP protocol number of UDP.
pub(crate) const PROTOCOL_UDP: u8 = 17;

/// The network layer of a frame: one IPv4 or IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpInfo {
    /// 4 or 6.
    pub version: u8,
    /// The header's bytes in the frame, including IPv4 options or IPv6 extension headers.
    pub header: Range<usize>,
    /// The whole packet's bytes in the frame: from the header to the end the length field gives,
    /// clipped to what was captured. Ethernet padding after it is excluded.
    pub packet: Range<usize>,
    /// The sender's address (unchanged from host to host, unlike MAC addresses).
    pub src: IpAddr,
    /// The final receiver's address.
    pub dst: IpAddr,
    /// Time to live (IPv4) or hop limit (IPv6): how many more routers may forward the packet.
    pub ttl: u8,
    /// IPv4: the total length field. IPv6: 40 plus the payload length field.
    pub total_len: u32,
    /// The protocol of the payload (IPv6: the next header after all extension headers), 6 for TCP.
    pub protocol: u8,
    /// IPv4: the identification field. IPv6: the fragment header's identification, if any.
    pub identification: Option<u32>,
    /// IPv4 "don't fragment" flag (IPv6 routers never fragment, so always false there).
    pub dont_fragment: bool,
    /// More fragments of the same original packet follow this one.
    pub more_fragments: bool,
    /// Where this fragment's data goes in the original packet, in bytes (0 for unfragmented).
    pub fragment_offset: u16,
    /// IPv6: where the Fragment extension header lies in the frame, if the packet has one. What
    /// follows it is this fragment's data (the headers before it travel in every fragment).
    pub fragment_header: Option<Range<usize>>,
    /// The IPv4 header checksum; IPv6 has none (RFC 8200 leaves it to the transport layer).
    pub checksum: Option<ChecksumStatus>,
    /// IPv4 DSCP and ECN byte (former type of service), or the IPv6 traffic class.
    pub traffic_class: u8,
    /// The IPv6 flow label (20 bits); `None` for IPv4.
    pub flow_label: Option<u32>,
}

impl IpInfo {
    /// True when this packet is one piece of a fragmented packet.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }

    /// Where this fragment's data starts in the frame: after the IPv4 header, or after the IPv6
    /// Fragment header. Its data runs to the end of [`IpInfo::packet`].
    pub fn fragment_data_start(&self) -> usize {
        self.fragment_header
            .as_ref()
            .map_or(self.header.end, |f| f.end)
    }

    /// True when fewer bytes were captured than the length field says the packet has.
    pub fn is_truncated(&self) -> bool {
        (self.packet.len() as u64) < u64::from(self.total_len)
    }
}

/// Where the transport-layer bytes of an IP packet are, handed from the IP parser to TCP's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transport {
    /// First byte after the IP header (and IPv6 extension headers).
    pub start: usize,
    /// End of the packet as its length field says, which may be beyond the captured bytes.
    pub claimed_end: usize,
    /// The addresses TCP's checksum also covers.
    pub pseudo: PseudoHeader,
}

/// What an address is, for a student.
pub(crate) fn address_meaning(addr: IpAddr, role: &str) -> String {
    let kind = match addr {
        IpAddr::V4(a) if a.is_loopback() => {
            "loopback, this same machine: the packet never leaves the kernel"
        }
        IpAddr::V6(a) if a.is_loopback() => {
            "the IPv6 loopback address, this same machine: the packet never leaves the kernel"
        }
        IpAddr::V4(a) if a.is_private() => {
            "a private address (RFC 1918), valid only inside a local network"
        }
        IpAddr::V4(a) if a.is_broadcast() => "broadcast to every host on the local network",
        a if a.is_multicast() => "a multicast group address",
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => {
            "a link-local address, valid only on this link"
        }
        _ => "a public address",
    };
    format!("{addr}: the {role}'s address, {kind}; it stays the same on every hop")
}

/// `TTL 64: ...` for IPv4, `Hop limit 64: ...` for IPv6.
pub(crate) fn ttl_meaning(name: &str, ttl: u8) -> String {
    if ttl == 0 {
        format!("{name} 0: the next router must discard this packet and report it back (ICMP time exceeded)")
    } else {
        format!("{name} {ttl}: routers on the way may decrement this {ttl} more times before the packet is discarded (this stops packets looping forever)")
    }
}

/// The protocol field, as displayed, and its meaning.
pub(crate) fn protocol_texts(protocol: u8) -> (String, String) {
    let name = super::field::ip_protocol_name(protocol);
    (
        format!("{protocol} ({name})"),
        format!("which protocol the payload belongs to: {name}; the receiving kernel hands the payload to it"),
    )
}

/// The ECN codepoint (RFC 3168 §5) in words.
pub(crate) fn ecn_name(ecn: u8) -> &'static str {
    match ecn & 3 {
        0 => "not ECN-capable",
        1 => "ECN-capable (ECT 1)",
        2 => "ECN-capable (ECT 0)",
        _ => "congestion experienced",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn texts_for_students() {
        assert_eq!(
            ttl_meaning("TTL", 64),
            "TTL 64: routers on the way may decrement this 64 more times before the packet is discarded (this stops packets looping forever)"
        );
        assert!(address_meaning(IpAddr::V4(Ipv4Addr::LOCALHOST), "sender").contains("loopback"));
        assert!(address_meaning(IpAddr::V6(Ipv6Addr::LOCALHOST), "sender").contains("loopback"));
        assert!(address_meaning("10.0.0.1".parse().unwrap(), "sender").contains("private"));
        assert!(address_meaning("fe80::1".parse().unwrap(), "sender").contains("link-local"));
        assert_eq!(protocol_texts(17).0, "17 (UDP)");
        assert_eq!(protocol_texts(200).0, "200 (unknown)");
        assert_eq!(ecn_name(3), "congestion experienced");
    }
}
