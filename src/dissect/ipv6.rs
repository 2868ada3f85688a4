//! IPv6 (RFC 8200 §3): the fixed 40-byte header and the extension headers between it and the
//! transport header (hop-by-hop options, routing, fragment, destination options, and AH), which
//! are skipped so the final next header names the transport protocol (RFC 8200 §4.1).
//! The fixed header and the generic extension headers are read with etherparse.

use std::net::IpAddr;

use etherparse::err::ipv6::{HeaderError, HeaderSliceError};
use etherparse::{Ipv6FragmentHeaderSlice, Ipv6HeaderSlice, Ipv6RawExtHeaderSlice};

use super::checksum::PseudoHeader;
use super::field::{be16, be32, byte, DissectError, Field, Layer, StopKind};
use super::ip::{address_meaning, ecn_name, protocol_texts, ttl_meaning, IpInfo, Transport};
use super::Packet;

/// Length of the fixed IPv6 header.
const FIXED_LEN: usize = 40;
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH: u8 = 51;
const NO_NEXT_HEADER: u8 = 59;
const DEST_OPTIONS: u8 = 60;

/// Parses the IPv6 header and its extension headers starting at `start`, storing them in `p.ip`.
/// If an extension header is cut short, the fixed header (and the extension headers before it) are
/// kept in `p.ip` and the error names the broken one.
pub(crate) fn parse(data: &[u8], start: usize, p: &mut Packet) -> Result<Transport, DissectError> {
    let rest = data.get(start..).unwrap_or_default();
    let header = Ipv6HeaderSlice::from_slice(rest).map_err(|e| match e {
        HeaderSliceError::Len(len) => {
            DissectError::truncated(Layer::Ip, "IPv6 header", start, len.required_len, len.len)
        }
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { version_number }) => {
            DissectError::new(
                StopKind::Malformed,
                Layer::Ip,
                start,
                format!("the link layer announced IPv6, but the version field is {version_number} instead of 6"),
            )
        }
    })?;
    let payload_len = header.payload_length();
    let mut next = header.next_header().0;
    let claimed_end = if payload_len == 0 && next != NO_NEXT_HEADER {
        // A jumbogram (RFC 2675) or a segmentation-offload packet: the length is not in the field.
        data.len().max(start + FIXED_LEN)
    } else {
        start + FIXED_LEN + usize::from(payload_len)
    };
    let end = claimed_end.min(data.len());
    let mut ip = IpInfo {
        version: 6,
        header: start..start + FIXED_LEN,
        packet: start..end,
        src: IpAddr::V6(header.source_addr()),
        dst: IpAddr::V6(header.destination_addr()),
        ttl: header.hop_limit(),
        total_len: FIXED_LEN as u32 + u32::from(payload_len),
        protocol: next,
        identification: None,
        dont_fragment: false,
        more_fragments: false,
        fragment_offset: 0,
        fragment_header: None,
        checksum: None,
        traffic_class: header.traffic_class(),
        flow_label: Some(header.flow_label().value()),
    };
    let pseudo = PseudoHeader::V6 {
        src: header.source(),
        dst: header.destination(),
    };
    let mut at = start + FIXED_LEN;
    // Each extension header is at least 8 bytes, so this ends; the bound is belt and braces.
    while is_extension(next) && at < claimed_end {
        let slice = data.get(at..end).unwrap_or_default();
        // Ok((following header, this header's length)) or Err((bytes needed, bytes available)).
        let parsed = match next {
            FRAGMENT => Ipv6FragmentHeaderSlice::from_slice(slice)
                .map(|f| {
                    ip.identification = Some(f.identification());
                    ip.more_fragments = f.more_fragments();
                    ip.fragment_offset = f.fragment_offset().byte_offset();
                    ip.fragment_header = Some(at..at + f.slice().len());
                    (f.next_header().0, f.slice().len())
                })
                .map_err(|e| (e.required_len, e.len)),
            AUTH => auth_header(slice),
            _ => Ipv6RawExtHeaderSlice::from_slice(slice)
                .map(|h| (h.next_header().0, h.slice().len()))
                .map_err(|e| (e.required_len, e.len)),
        };
        match parsed {
            Ok((following, len)) => {
                next = following;
                at += len;
                ip.header.end = at;
                ip.protocol = next;
                if ip.fragment_offset != 0 {
                    // RFC 8200 §4.5: after the Fragment header of a later fragment come the
                    // fragment's data bytes, not the headers named by its next header field.
                    break;
                }
            }
            Err((needed, have)) => {
                let what = extension_name(next);
                let error = if claimed_end > data.len() {
                    DissectError::truncated(Layer::Ip, what, at, needed, have)
                } else {
                    DissectError::new(
                        StopKind::Malformed,
                        Layer::Ip,
                        at,
                        format!("the {what} at byte {at} needs {needed} bytes, but the IPv6 payload length leaves only {have}"),
                    )
                };
                p.ip = Some(ip);
                return Err(error);
            }
        }
    }
    p.ip = Some(ip);
    Ok(Transport {
        start: at,
        claimed_end,
        pseudo,
    })
}

fn is_extension(next: u8) -> bool {
    matches!(next, HOP_BY_HOP | ROUTING | FRAGMENT | AUTH | DEST_OPTIONS)
}

/// AH (RFC 4302 §2.2): next header, then a length byte counting 4-byte words minus 2.
fn auth_header(slice: &[u8]) -> Result<(u8, usize), (usize, usize)> {
    let needed = byte(slice, 1).map_or(2, |words| (usize::from(words) + 2) * 4);
    match byte(slice, 0) {
        Some(next) if slice.len() >= needed => Ok((next, needed)),
        _ => Err((needed, slice.len())),
    }
}

fn extension_name(next: u8) -> &'static str {
    match next {
        HOP_BY_HOP => "hop-by-hop options header",
        ROUTING => "routing header",
        FRAGMENT => "fragment header",
        AUTH => "authentication header",
        _ => "destination options header",
    }
}

/// The annotated fields of the IPv6 header and its extension headers.
pub(crate) fn fields(ip: &IpInfo, data: &[u8]) -> Vec<Field> {
    let s = ip.header.start;
    let (Some(first), Some(payload_len), Some(next)) =
        (be32(data, s), be16(data, s + 4), byte(data, s + 6))
    else {
        return Vec::new();
    };
    let r = |a: usize, b: usize| s + a..s + b;
    let tc = ip.traffic_class;
    let (next_value, next_meaning) = protocol_texts(next);
    let mut out = vec![
        Field::new("Version", r(0, 1), (first >> 28).to_string(), "IP version 6: addresses are 128 bits, written in hexadecimal groups"),
        Field::new(
            "Traffic class",
            r(0, 2),
            format!("0x{tc:02x} (DSCP {}, ECN {})", tc >> 2, ecn_name(tc)),
            "like IPv4's DSCP and ECN: a priority class for routers, and room to signal congestion without dropping",
        ),
        Field::new(
            "Flow label",
            r(1, 4),
            format!("0x{:05x}", first & 0x000f_ffff),
            "a number the sender picks for all packets of one flow, so routers can keep them on the same path",
        ),
        Field::new(
            "Payload length",
            r(4, 6),
            super::field::byte_count(usize::from(payload_len)),
            "the bytes that follow this 40-byte header (extension headers included); the header itself is not counted, unlike IPv4's total length".to_string(),
        ),
        Field::new("Next header", r(6, 7), next_value, next_meaning),
        Field::new("Hop limit", r(7, 8), ip.ttl.to_string(), ttl_meaning("Hop limit", ip.ttl)),
        Field::new("Source", r(8, 24), ip.src.to_string(), address_meaning(ip.src, "sender")),
        Field::new("Destination", r(24, 40), ip.dst.to_string(), address_meaning(ip.dst, "receiver")),
    ];
    let mut at = s + FIXED_LEN;
    let mut kind = next;
    while at < ip.header.end {
        let (Some(following), Some(len_byte)) = (byte(data, at), byte(data, at + 1)) else {
            break;
        };
        let len = match kind {
            FRAGMENT => 8,
            AUTH => (usize::from(len_byte) + 2) * 4,
            _ => (usize::from(len_byte) + 1) * 8,
        };
        let end = (at + len).min(ip.header.end);
        let (name, detail) = match kind {
            HOP_BY_HOP => (
                "Hop-by-hop options",
                "options every router on the path must look at",
            ),
            ROUTING => (
                "Routing header",
                "a list of routers the packet must visit on its way",
            ),
            FRAGMENT => (
                "Fragment header",
                "only the sender fragments in IPv6: this packet is one piece of a bigger one",
            ),
            AUTH => (
                "Authentication header",
                "IPsec authentication of the packet (RFC 4302)",
            ),
            _ => ("Destination options", "options for the receiver only"),
        };
        let value = if kind == FRAGMENT {
            format!(
                "offset {} bytes{}, id 0x{:08x}, next header {following}",
                ip.fragment_offset,
                if ip.more_fragments {
                    ", more fragments"
                } else {
                    ""
                },
                ip.identification.unwrap_or(0)
            )
        } else {
            format!("{len} bytes, next header {following}")
        };
        out.push(Field::new(
            name,
            at..end,
            value,
            format!("IPv6 extension header: {detail}"),
        ));
        at += len;
        kind = following;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv6 ::1 -> ::1, hop-by-hop options, fragment header, then 4 bytes of TCP-ish payload.
    #[rustfmt::skip]
    fn packet(payload_len: u8) -> Vec<u8> {
        let mut v = vec![
            0x60, 0x0a, 0xbc, 0xde, // version 6, traffic class 0x00, flow label 0xabcde
            0x00, payload_len, 0x00, 0x40, // payload length, next header 0 (hop-by-hop), hop limit 64
        ];
        v.extend_from_slice(&[0; 15]); v.push(1); // source ::1
        v.extend_from_slice(&[0; 15]); v.push(1); // destination ::1
        v.extend_from_slice(&[
            44, 0, 1, 4, 0, 0, 0, 0, // hop-by-hop: next 44 (fragment), length 0 (8 bytes), PadN option
            6, 0, 0x00, 0x09,        // fragment: next 6 (TCP), reserved, offset 1 (8 bytes), M set
            0x12, 0x34, 0x56, 0x78,  // identification
            0xde, 0xad, 0xbe, 0xef,  // payload
        ]);
        v
    }

    #[test]
    fn extension_headers_are_skipped_to_the_transport() {
        let data = packet(20);
        let mut p = Packet::empty(data.len());
        let t = parse(&data, 0, &mut p).unwrap();
        let ip = p.ip.unwrap();
        assert_eq!(t.start, 56);
        assert_eq!(ip.header, 0..56);
        assert_eq!(ip.protocol, 6);
        assert_eq!(ip.total_len, 60);
        assert_eq!(ip.flow_label, Some(0xabcde));
        assert_eq!(ip.identification, Some(0x1234_5678));
        assert_eq!((ip.fragment_offset, ip.more_fragments), (8, true));
        let f = fields(&ip, &data);
        let names: Vec<_> = f.iter().map(|f| f.name).collect();
        assert_eq!(&names[8..], ["Hop-by-hop options", "Fragment header"]);
        assert_eq!(f[9].range, 48..56);
        assert_eq!(
            f[9].value,
            "offset 8 bytes, more fragments, id 0x12345678, next header 6"
        );
    }

    #[test]
    fn a_later_fragment_ends_the_headers_at_its_fragment_header() {
        // The fragment header names destination options (60) next, but this fragment starts
        // 8 bytes into the original data: what follows is data, not a header.
        let mut data = packet(20);
        data[48] = 60;
        let mut p = Packet::empty(data.len());
        let t = parse(&data, 0, &mut p).unwrap();
        let ip = p.ip.unwrap();
        assert_eq!((t.start, ip.header.end), (56, 56));
        assert_eq!(ip.fragment_header, Some(48..56));
        assert_eq!(ip.fragment_data_start(), 56);
        assert_eq!(ip.protocol, 60);
    }

    #[test]
    fn short_extension_header_keeps_the_fixed_header() {
        let data = packet(20);
        let mut p = Packet::empty(50);
        let e = parse(&data[..50], 0, &mut p).unwrap_err();
        assert_eq!(
            (e.layer, e.offset, e.kind),
            (Layer::Ip, 48, StopKind::Truncated)
        );
        assert!(e.reason.contains("fragment header"), "{}", e.reason);
        assert_eq!(p.ip.as_ref().unwrap().header, 0..48);
        // Payload length 10 does not leave room for the 8-byte fragment header after 8 bytes.
        let e = parse(&packet(10), 0, &mut p).unwrap_err();
        assert_eq!(e.kind, StopKind::Malformed);
    }
}
