//! Linux "cooked" capture headers (LINKTYPE_LINUX_SLL and LINKTYPE_LINUX_SLL2), which libpcap
//! and the kernel's packet sockets put in place of the real link header when capturing on the
//! "any" device. Hand-parsed: etherparse has no SLL2 and rejects SLL packet types it does not know,
//! while here unknown values are shown as "unknown (n)".

use std::ops::Range;

use super::field::{
    be16, be32, byte, ethertype_meaning, ethertype_value, mac_meaning, mac_string, DissectError,
    Field, Layer,
};
use super::link::LinkInfo;
use crate::frame::LinkType;

/// Length of the Linux cooked header v1 (LINKTYPE_LINUX_SLL).
const SLL_LEN: usize = 16;
/// Length of the Linux cooked header v2 (LINKTYPE_LINUX_SLL2).
const SLL2_LEN: usize = 20;

/// Linux cooked v1: packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2).
pub(crate) fn parse_v1(data: &[u8]) -> Result<LinkInfo, DissectError> {
    let (Some(addr_len), Some(protocol)) = (be16(data, 4), be16(data, 14)) else {
        return Err(DissectError::truncated(
            Layer::Link,
            "Linux cooked header (SLL)",
            0,
            SLL_LEN,
            data.len(),
        ));
    };
    Ok(LinkInfo {
        kind: LinkType::LinuxSll,
        range: 0..SLL_LEN,
        src: six_byte_address(data, 6, addr_len.into()),
        dst: None,
        ethertype: protocol,
        vlan: None,
    })
}

/// Linux cooked v2: protocol (2), reserved (2), interface index (4), ARPHRD type (2), packet type
/// (1), address length (1), address (8).
pub(crate) fn parse_v2(data: &[u8]) -> Result<LinkInfo, DissectError> {
    let (Some(protocol), Some(addr_len), true) =
        (be16(data, 0), byte(data, 11), data.len() >= SLL2_LEN)
    else {
        return Err(DissectError::truncated(
            Layer::Link,
            "Linux cooked header v2 (SLL2)",
            0,
            SLL2_LEN,
            data.len(),
        ));
    };
    Ok(LinkInfo {
        kind: LinkType::LinuxSll2,
        range: 0..SLL2_LEN,
        src: six_byte_address(data, 12, addr_len.into()),
        dst: None,
        ethertype: protocol,
        vlan: None,
    })
}

/// The address field of a cooked header, when it holds a 6-byte (Ethernet-style) address.
fn six_byte_address(data: &[u8], at: usize, len: usize) -> Option<[u8; 6]> {
    if len == 6 {
        super::field::array(data, at)
    } else {
        None
    }
}

fn packet_type_name(t: u16) -> &'static str {
    match t {
        0 => "to us",
        1 => "broadcast",
        2 => "multicast",
        3 => "to another host",
        4 => "sent by us",
        _ => "unknown",
    }
}

fn arphrd_name(t: u16) -> &'static str {
    match t {
        1 => "Ethernet",
        772 => "loopback",
        776 => "IPv6-in-IPv4 tunnel",
        778 => "GRE tunnel",
        824 => "netlink",
        65534 => "none (tun device)",
        _ => "unknown",
    }
}

fn address_fields(data: &[u8], at: usize, len: usize, out: &mut Vec<Field>) {
    let shown = data.get(at..at + len.min(8)).unwrap_or_default();
    let meaning = if len == 6 {
        mac_meaning(shown, "sender")
    } else {
        format!("the sender's link-layer address ({len} bytes used of 8)")
    };
    out.push(Field::new(
        "Source address",
        at..at + 8,
        mac_string(shown),
        meaning,
    ));
}

pub(crate) fn fields_v1(data: &[u8], out: &mut Vec<Field>) {
    let (Some(pkt), Some(hw), Some(len), Some(proto)) =
        (be16(data, 0), be16(data, 2), be16(data, 4), be16(data, 14))
    else {
        return;
    };
    out.push(packet_type_field(0..2, pkt));
    out.push(hw_type_field(2..4, hw));
    out.push(addr_len_field(4..6, len));
    address_fields(data, 6, usize::from(len), out);
    out.push(Field::new(
        "Protocol",
        14..16,
        ethertype_value(proto),
        ethertype_meaning(proto),
    ));
}

pub(crate) fn fields_v2(data: &[u8], out: &mut Vec<Field>) {
    let (Some(proto), Some(reserved), Some(ifindex), Some(hw), Some(pkt), Some(len)) = (
        be16(data, 0),
        be16(data, 2),
        be32(data, 4),
        be16(data, 8),
        byte(data, 10),
        byte(data, 11),
    ) else {
        return;
    };
    out.push(Field::new(
        "Protocol",
        0..2,
        ethertype_value(proto),
        ethertype_meaning(proto),
    ));
    out.push(Field::new(
        "Reserved",
        2..4,
        format!("0x{reserved:04x}"),
        "reserved, always zero",
    ));
    out.push(Field::new(
        "Interface index",
        4..8,
        ifindex.to_string(),
        "the kernel's number for the network interface the packet used (see `ip link`); 1 is usually lo",
    ));
    out.push(hw_type_field(8..10, hw));
    out.push(packet_type_field(10..11, pkt.into()));
    out.push(addr_len_field(11..12, len.into()));
    address_fields(data, 12, usize::from(len), out);
}

fn packet_type_field(range: Range<usize>, t: u16) -> Field {
    Field::new(
        "Packet type",
        range,
        format!("{t} ({})", packet_type_name(t)),
        "Linux cooked capture: which way the packet went, as the kernel saw it",
    )
}

fn hw_type_field(range: Range<usize>, t: u16) -> Field {
    Field::new(
        "Link-layer address type",
        range,
        format!("{t} ({})", arphrd_name(t)),
        "the kind of interface (Linux ARPHRD_ number); the real link header was replaced by this cooked one",
    )
}

fn addr_len_field(range: Range<usize>, len: u16) -> Field {
    Field::new(
        "Link-layer address length",
        range,
        super::field::byte_count(usize::from(len)),
        "how many bytes of the address field are used",
    )
}
