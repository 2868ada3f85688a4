//! ARP (RFC 826): how a host finds the MAC address that belongs to an IPv4 address on its link.
//! Read with etherparse's `ArpPacketSlice`; only Ethernet/IPv4 ARP (6- and 4-byte addresses) is
//! summarised in [`ArpInfo`].

use std::net::Ipv4Addr;
use std::ops::Range;

use etherparse::ArpPacketSlice;

use super::field::{
    array, be16, byte, mac_meaning, mac_string, DissectError, Field, Layer, StopKind,
};
use super::link::ETHERTYPE_IPV4;
use super::Packet;

/// Length of an Ethernet/IPv4 ARP packet.
const ARP_LEN: usize = 28;

/// An Ethernet/IPv4 ARP request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpInfo {
    /// The ARP packet's bytes in the frame.
    pub range: Range<usize>,
    /// Operation: 1 request ("who has target IP?"), 2 reply ("sender IP is at sender MAC").
    pub op: u16,
    /// The MAC address of the host sending this packet.
    pub sender_mac: [u8; 6],
    /// The IPv4 address of the host sending this packet.
    pub sender_ip: Ipv4Addr,
    /// The MAC address asked about (all zero in a request: that is the question).
    pub target_mac: [u8; 6],
    /// The IPv4 address asked about.
    pub target_ip: Ipv4Addr,
}

/// Parses the ARP packet starting at `start`, storing it in `p.arp`.
pub(crate) fn parse(data: &[u8], start: usize, p: &mut Packet) -> Result<(), DissectError> {
    let rest = data.get(start..).unwrap_or_default();
    let arp = ArpPacketSlice::from_slice(rest).map_err(|e| {
        DissectError::truncated(Layer::Arp, "ARP packet", start, e.required_len, e.len)
    })?;
    let (hw, proto) = (arp.hw_addr_size(), arp.proto_addr_size());
    if hw != 6 || proto != 4 || arp.proto_addr_type().0 != ETHERTYPE_IPV4 {
        return Err(DissectError::new(
            StopKind::NotDissected,
            Layer::Arp,
            start,
            format!(
                "ARP for protocol 0x{:04x} with {hw}-byte hardware and {proto}-byte protocol addresses is not dissected; packetpath reads Ethernet/IPv4 ARP (6 and 4 bytes)",
                arp.proto_addr_type().0
            ),
        ));
    }
    let (Some(sender_mac), Some(sender_ip), Some(target_mac), Some(target_ip)) = (
        array::<6>(arp.sender_hw_addr(), 0),
        array::<4>(arp.sender_protocol_addr(), 0),
        array::<6>(arp.target_hw_addr(), 0),
        array::<4>(arp.target_protocol_addr(), 0),
    ) else {
        return Err(DissectError::truncated(
            Layer::Arp,
            "ARP packet",
            start,
            ARP_LEN,
            rest.len(),
        ));
    };
    p.arp = Some(ArpInfo {
        range: start..start + arp.slice().len(),
        op: arp.operation().0,
        sender_mac,
        sender_ip: Ipv4Addr::from(sender_ip),
        target_mac,
        target_ip: Ipv4Addr::from(target_ip),
    });
    Ok(())
}

/// The annotated fields of an ARP packet.
pub(crate) fn fields(arp: &ArpInfo, data: &[u8]) -> Vec<Field> {
    let s = arp.range.start;
    let (Some(hw_type), Some(proto_type), Some(hw_size), Some(proto_size)) = (
        be16(data, s),
        be16(data, s + 2),
        byte(data, s + 4),
        byte(data, s + 5),
    ) else {
        return Vec::new();
    };
    let r = |a: usize, b: usize| s + a..s + b;
    let (op_name, op_meaning) = match arp.op {
        1 => (
            "request",
            format!(
                "request: who has {}? Tell {} — sent to everyone on the link",
                arp.target_ip, arp.sender_ip
            ),
        ),
        2 => (
            "reply",
            format!(
                "reply: {} is at {}",
                arp.sender_ip,
                mac_string(&arp.sender_mac)
            ),
        ),
        _ => (
            "unknown",
            "an ARP operation other than request (1) or reply (2)".to_string(),
        ),
    };
    let target_mac_meaning = if arp.op == 1 && arp.target_mac == [0; 6] {
        "00:00:00:00:00:00: not known yet, that is exactly what the request asks".to_string()
    } else {
        arp_mac_meaning(&arp.target_mac, "target")
    };
    let target_ip_meaning = if arp.op == 2 {
        "the IPv4 address of the host that asked: the reply goes back to it"
    } else {
        "the IPv4 address whose MAC address is asked for"
    };
    vec![
        Field::new(
            "Hardware type",
            r(0, 2),
            format!(
                "{hw_type} ({})",
                if hw_type == 1 { "Ethernet" } else { "unknown" }
            ),
            "the kind of link whose addresses are being resolved",
        ),
        Field::new(
            "Protocol type",
            r(2, 4),
            super::field::ethertype_value(proto_type),
            "the kind of address being resolved into a hardware address",
        ),
        Field::new(
            "Hardware size",
            r(4, 5),
            format!("{hw_size} bytes"),
            "length of a MAC address",
        ),
        Field::new(
            "Protocol size",
            r(5, 6),
            format!("{proto_size} bytes"),
            "length of an IPv4 address",
        ),
        Field::new(
            "Opcode",
            r(6, 8),
            format!("{} ({op_name})", arp.op),
            op_meaning,
        ),
        Field::new(
            "Sender MAC",
            r(8, 14),
            mac_string(&arp.sender_mac),
            arp_mac_meaning(&arp.sender_mac, "sender"),
        ),
        Field::new(
            "Sender IP",
            r(14, 18),
            arp.sender_ip.to_string(),
            "the sender's IPv4 address; receivers may remember it together with the sender MAC",
        ),
        Field::new(
            "Target MAC",
            r(18, 24),
            mac_string(&arp.target_mac),
            target_mac_meaning,
        ),
        Field::new(
            "Target IP",
            r(24, 28),
            arp.target_ip.to_string(),
            target_ip_meaning,
        ),
    ]
}

/// A MAC address in an ARP message: ARP asks and answers on one link, never through a router.
fn arp_mac_meaning(mac: &[u8; 6], role: &str) -> String {
    if mac.iter().all(|&b| b == 0) || mac.iter().all(|&b| b == 0xff) || mac[0] & 1 == 1 {
        return mac_meaning(mac, role);
    }
    format!(
        "{}: the {role}'s network card; ARP asks and answers on one link only, never through a router",
        mac_string(mac)
    )
}
