//! The link layer: the header a capture puts in front of the network packet. Ethernet II (with
//! 802.1Q/802.1ad VLAN tags), Linux "cooked" headers v1 and v2 (captures on the "any" device), raw
//! IP (no header at all) and BSD null loopback (a 4-byte address family).
//!
//! Ethernet and VLAN tags are read with etherparse; the null header is hand-parsed, and the
//! Linux cooked headers live in `sll.rs`.

use std::ops::Range;

use etherparse::{Ethernet2HeaderSlice, SingleVlanHeaderSlice};

use super::field::{
    be16, byte, ethertype_meaning, ethertype_value, hex_string, mac_meaning, mac_string,
    DissectError, Field, Layer, StopKind,
};
use super::sll;
use super::Packet;
use crate::frame::LinkType;

/// EtherType of IPv4 (RFC 894).
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP (RFC 826).
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6 (RFC 2464).
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Length of the Ethernet II header: destination MAC, source MAC, EtherType.
const ETHERNET_LEN: usize = 14;
/// Length of the BSD loopback header (LINKTYPE_NULL).
const NULL_LEN: usize = 4;
/// At most this many stacked VLAN tags are read (802.1ad "Q-in-Q" uses two).
const MAX_VLAN_TAGS: usize = 4;

/// The link-layer header of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Which kind of header this is (from the capture's link type).
    pub kind: LinkType,
    /// The header's bytes in the frame, including VLAN tags (empty for raw IP).
    pub range: Range<usize>,
    /// The sender's hardware (MAC) address, when the header carries a 6-byte one.
    pub src: Option<[u8; 6]>,
    /// The receiver's hardware (MAC) address (Ethernet only: cooked headers keep just the sender).
    pub dst: Option<[u8; 6]>,
    /// The EtherType naming the network protocol inside: 0x0800 IPv4, 0x86DD IPv6, 0x0806 ARP.
    /// For raw IP and BSD loopback, which have no EtherType, the matching one is filled in (0 if
    /// the protocol is not IP).
    pub ethertype: u16,
    /// The VLAN ID of the outermost 802.1Q tag, if the frame is tagged.
    pub vlan: Option<u16>,
}

/// Parses the link-layer header at the start of `data`, storing it in `p.link`. Returns the
/// offset where the network-layer packet starts.
pub(crate) fn parse(kind: LinkType, data: &[u8], p: &mut Packet) -> Result<usize, DissectError> {
    let info = match kind {
        LinkType::Ethernet => ethernet(data)?,
        LinkType::LinuxSll => sll::parse_v1(data)?,
        LinkType::LinuxSll2 => sll::parse_v2(data)?,
        LinkType::RawIp => raw_ip(data)?,
        LinkType::NullLoopback => null(data)?,
        LinkType::Unknown(n) => {
            return Err(DissectError::new(
                StopKind::NotDissected,
                Layer::Link,
                0,
                format!("link type {n} is not one packetpath reads (it knows Ethernet, Linux cooked SLL and SLL2, raw IP and BSD loopback)"),
            ))
        }
    };
    let start = info.range.end;
    let unknown_family = info.ethertype == 0 && matches!(kind, LinkType::NullLoopback);
    let unknown_version = info.ethertype == 0 && matches!(kind, LinkType::RawIp);
    p.link = Some(info);
    if unknown_family {
        let bytes = hex_string(data.get(..NULL_LEN).unwrap_or_default(), NULL_LEN);
        return Err(DissectError::new(
            StopKind::NotDissected,
            Layer::Link,
            0,
            format!("the BSD loopback address family (bytes {bytes}) is neither IPv4 (2) nor IPv6 (24, 28 or 30) in either byte order"),
        ));
    }
    if unknown_version {
        let version = byte(data, 0).unwrap_or(0) >> 4;
        return Err(DissectError::new(
            StopKind::Malformed,
            Layer::Ip,
            0,
            format!("a raw IP frame starts with the IP version, 4 or 6, but its first 4 bits say {version}"),
        ));
    }
    Ok(start)
}

fn ethernet(data: &[u8]) -> Result<LinkInfo, DissectError> {
    let header = Ethernet2HeaderSlice::from_slice(data).map_err(|_| {
        DissectError::truncated(Layer::Link, "Ethernet header", 0, ETHERNET_LEN, data.len())
    })?;
    let mut ethertype = header.ether_type().0;
    let mut end = ETHERNET_LEN;
    let mut vlan = None;
    for _ in 0..MAX_VLAN_TAGS {
        if !is_vlan_tpid(ethertype) {
            break;
        }
        // The 4-byte tag starts with the TPID we just read; etherparse's slice starts at the TCI.
        let rest = data.get(end..).unwrap_or_default();
        let tag = SingleVlanHeaderSlice::from_slice(rest).map_err(|_| {
            DissectError::truncated(Layer::Link, "802.1Q VLAN tag", end - 2, 6, rest.len() + 2)
        })?;
        vlan = vlan.or(Some(tag.vlan_identifier().value()));
        ethertype = tag.ether_type().0;
        end += 4;
    }
    Ok(LinkInfo {
        kind: LinkType::Ethernet,
        range: 0..end,
        src: Some(header.source()),
        dst: Some(header.destination()),
        ethertype,
        vlan,
    })
}

/// 802.1Q (0x8100), 802.1ad (0x88a8) and the pre-standard Q-in-Q 0x9100 tag protocol identifiers.
fn is_vlan_tpid(ethertype: u16) -> bool {
    matches!(ethertype, 0x8100 | 0x88a8 | 0x9100)
}

fn raw_ip(data: &[u8]) -> Result<LinkInfo, DissectError> {
    let first = byte(data, 0)
        .ok_or_else(|| DissectError::truncated(Layer::Ip, "raw IP packet", 0, 1, data.len()))?;
    let ethertype = match first >> 4 {
        4 => ETHERTYPE_IPV4,
        6 => ETHERTYPE_IPV6,
        _ => 0,
    };
    Ok(LinkInfo {
        kind: LinkType::RawIp,
        range: 0..0,
        src: None,
        dst: None,
        ethertype,
        vlan: None,
    })
}

/// The BSD loopback family, written in the byte order of the machine that wrote the capture.
fn null_family(data: &[u8]) -> Option<(u32, bool)> {
    let bytes: [u8; 4] = super::field::array(data, 0)?;
    let little = u32::from_le_bytes(bytes);
    let big = u32::from_be_bytes(bytes);
    // The two readings cannot both be small, so whichever is a known family wins.
    Some(if family_ethertype(little) != 0 {
        (little, true)
    } else {
        (big, false)
    })
}

/// AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS).
fn family_ethertype(family: u32) -> u16 {
    match family {
        2 => ETHERTYPE_IPV4,
        24 | 28 | 30 => ETHERTYPE_IPV6,
        _ => 0,
    }
}

fn null(data: &[u8]) -> Result<LinkInfo, DissectError> {
    let (family, _) = null_family(data).ok_or_else(|| {
        DissectError::truncated(Layer::Link, "BSD loopback header", 0, NULL_LEN, data.len())
    })?;
    Ok(LinkInfo {
        kind: LinkType::NullLoopback,
        range: 0..NULL_LEN,
        src: None,
        dst: None,
        ethertype: family_ethertype(family),
        vlan: None,
    })
}

/// The annotated fields of the link-layer header, plus Ethernet padding after the packet.
pub(crate) fn fields(p: &Packet, info: &LinkInfo, data: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    match info.kind {
        LinkType::Ethernet => ethernet_fields(info, data, &mut out),
        LinkType::LinuxSll => sll::fields_v1(data, &mut out),
        LinkType::LinuxSll2 => sll::fields_v2(data, &mut out),
        LinkType::NullLoopback => null_fields(data, &mut out),
        LinkType::RawIp => out.push(Field::new(
            "Link-layer header",
            0..0,
            "none (raw IP)",
            "This capture stores packets without a link-layer header: the first byte is already the IP header",
        )),
        LinkType::Unknown(_) => {}
    }
    // Bytes after the network-layer packet belong to the frame only (RFC 894 minimum frame size).
    let network_end =
        p.ip.as_ref()
            .map(|ip| ip.packet.end)
            .or(p.arp.as_ref().map(|arp| arp.range.end));
    if let Some(end) = network_end {
        if end < data.len() {
            let tail = data.get(end..).unwrap_or_default();
            out.push(Field::new(
                "Padding",
                end..data.len(),
                super::field::byte_count(tail.len()),
                "Ethernet frames must be at least 60 bytes (64 with the checksum the card strips), so a short packet is padded; these bytes belong to no higher layer",
            ));
        }
    }
    out
}

fn ethernet_fields(info: &LinkInfo, data: &[u8], out: &mut Vec<Field>) {
    if let Some(dst) = info.dst {
        out.push(Field::new(
            "Destination",
            0..6,
            mac_string(&dst),
            mac_meaning(&dst, "receiver"),
        ));
    }
    if let Some(src) = info.src {
        out.push(Field::new(
            "Source",
            6..12,
            mac_string(&src),
            mac_meaning(&src, "sender"),
        ));
    }
    let mut at = 12;
    while at + 2 < info.range.end {
        let (Some(tpid), Some(tci)) = (be16(data, at), be16(data, at + 2)) else {
            return;
        };
        out.push(Field::new(
            "VLAN tag protocol",
            at..at + 2,
            ethertype_value(tpid),
            "this frame carries a VLAN tag (IEEE 802.1Q): the switch keeps it inside one virtual LAN",
        ));
        out.push(Field::new(
            "Priority",
            at + 2..at + 4,
            format!("{} (drop eligible: {})", tci >> 13, tci >> 12 & 1),
            "priority code point 0-7 used by switches for quality of service; 0 is best effort",
        ));
        out.push(Field::new(
            "VLAN ID",
            at + 2..at + 4,
            (tci & 0x0fff).to_string(),
            format!(
                "virtual LAN number {}: only ports in this VLAN see the frame",
                tci & 0x0fff
            ),
        ));
        at += 4;
    }
    if let Some(ethertype) = be16(data, at) {
        out.push(Field::new(
            "Type",
            at..at + 2,
            ethertype_value(ethertype),
            ethertype_meaning(ethertype),
        ));
    }
}

fn null_fields(data: &[u8], out: &mut Vec<Field>) {
    let Some((family, little)) = null_family(data) else {
        return;
    };
    let name = match family_ethertype(family) {
        ETHERTYPE_IPV4 => "AF_INET, IPv4",
        ETHERTYPE_IPV6 => "AF_INET6, IPv6",
        _ => "unknown",
    };
    let order = if little {
        "little-endian"
    } else {
        "big-endian"
    };
    out.push(Field::new(
        "Family",
        0..4,
        format!("{family} ({name})"),
        format!(
            "BSD loopback header: the address family of the packet, in the capturing machine's byte order (here {order}); bytes {}",
            hex_string(data.get(..4).unwrap_or_default(), 4)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_of(kind: LinkType, data: &[u8]) -> (Option<LinkInfo>, Result<usize, DissectError>) {
        let mut p = Packet::empty(data.len());
        let r = parse(kind, data, &mut p);
        (p.link, r)
    }

    #[test]
    fn ethernet_with_vlan_tag() {
        let frame = [
            0x02, 0, 0, 0, 0, 0x01, // destination MAC
            0x02, 0, 0, 0, 0, 0x02, // source MAC
            0x81, 0x00, // TPID 802.1Q
            0x20, 0x2a, // PCP 1, DEI 0, VLAN 42
            0x08, 0x00, // EtherType IPv4
        ];
        let (link, r) = link_of(LinkType::Ethernet, &frame);
        let link = link.unwrap();
        assert_eq!(r, Ok(18));
        assert_eq!(link.vlan, Some(42));
        assert_eq!(link.ethertype, ETHERTYPE_IPV4);
        assert_eq!(link.dst, Some([2, 0, 0, 0, 0, 1]));
        let p = Packet::empty(frame.len());
        let f = fields(&p, &link, &frame);
        let names: Vec<_> = f.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Destination",
                "Source",
                "VLAN tag protocol",
                "Priority",
                "VLAN ID",
                "Type"
            ]
        );
        assert_eq!(f[5].range, 16..18);
        assert_eq!(f[4].value, "42");
    }

    #[test]
    fn truncated_vlan_tag_stops_in_link_layer() {
        let frame = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x00, 0x00];
        let (link, r) = link_of(LinkType::Ethernet, &frame);
        assert!(link.is_none());
        let e = r.unwrap_err();
        assert_eq!(
            (e.layer, e.offset, e.kind),
            (Layer::Link, 12, StopKind::Truncated)
        );
    }

    #[test]
    fn null_loopback_accepts_both_byte_orders() {
        for (bytes, ethertype) in [
            ([2u8, 0, 0, 0], ETHERTYPE_IPV4), // AF_INET written little-endian
            ([0, 0, 0, 2], ETHERTYPE_IPV4),   // AF_INET written big-endian
            ([30, 0, 0, 0], ETHERTYPE_IPV6),  // AF_INET6 on macOS
            ([0, 0, 0, 28], ETHERTYPE_IPV6),  // AF_INET6 on FreeBSD, big-endian
            ([24, 0, 0, 0], ETHERTYPE_IPV6),  // AF_INET6 on NetBSD/OpenBSD
        ] {
            let (link, r) = link_of(LinkType::NullLoopback, &bytes);
            assert_eq!(r, Ok(4));
            assert_eq!(link.unwrap().ethertype, ethertype, "{bytes:?}");
        }
        let (link, r) = link_of(LinkType::NullLoopback, &[7, 0, 0, 0]);
        assert_eq!(link.unwrap().ethertype, 0);
        assert_eq!(r.unwrap_err().kind, StopKind::NotDissected);
    }

    #[test]
    fn unknown_link_type_and_bad_raw_version_stop() {
        let (link, r) = link_of(LinkType::Unknown(147), &[1, 2, 3]);
        assert!(link.is_none());
        assert!(r.unwrap_err().reason.contains("link type 147"));
        let (link, r) = link_of(LinkType::RawIp, &[0x50, 0, 0]);
        assert_eq!(link.unwrap().range, 0..0);
        let e = r.unwrap_err();
        assert_eq!((e.layer, e.kind), (Layer::Ip, StopKind::Malformed));
        let (_, r) = link_of(LinkType::RawIp, &[]);
        assert_eq!(r.unwrap_err().kind, StopKind::Truncated);
    }
}
