//! IPv4 (RFC 791 §3.1): the header with its options, fragmentation fields and header checksum.
//! The header is read with etherparse's `Ipv4HeaderSlice`; lengths, fragments and the checksum
//! are judged here so every stop says what was expected in a student's words.

use std::net::IpAddr;

use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
use etherparse::Ipv4HeaderSlice;

use super::checksum::{self, PseudoHeader};
use super::field::{be16, byte, hex_string, DissectError, Field, Layer, StopKind};
use super::ip::{address_meaning, ecn_name, protocol_texts, ttl_meaning, IpInfo, Transport};
use super::Packet;

/// Don't-fragment flag in the flags/fragment-offset word.
const FLAG_DF: u16 = 0x4000;
/// More-fragments flag.
const FLAG_MF: u16 = 0x2000;
/// Fragment offset, in units of 8 bytes.
const OFFSET_MASK: u16 = 0x1fff;

/// Parses the IPv4 header starting at `start`, storing it in `p.ip`.
pub(crate) fn parse(data: &[u8], start: usize, p: &mut Packet) -> Result<Transport, DissectError> {
    let rest = data.get(start..).unwrap_or_default();
    let header = Ipv4HeaderSlice::from_slice(rest).map_err(|e| match e {
        HeaderSliceError::Len(len) => {
            DissectError::truncated(Layer::Ip, "IPv4 header", start, len.required_len, len.len)
        }
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { version_number }) => {
            DissectError::new(
                StopKind::Malformed,
                Layer::Ip,
                start,
                format!("the link layer announced IPv4, but the version field is {version_number} instead of 4"),
            )
        }
        HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader { ihl }) => {
            DissectError::new(
                StopKind::Malformed,
                Layer::Ip,
                start,
                format!("IPv4 header length field (IHL) {ihl} is below the minimum 5 (20 bytes)"),
            )
        }
    })?;
    let header_len = header.slice().len();
    let total_len = header.total_len();
    let claimed_end = if total_len == 0 {
        // Segmentation offload hands the capture a packet whose length is not yet filled in.
        data.len()
    } else if usize::from(total_len) < header_len {
        return Err(DissectError::new(
            StopKind::Malformed,
            Layer::Ip,
            start + 2,
            format!(
                "IPv4 total length {total_len} is smaller than its own header ({header_len} bytes)"
            ),
        ));
    } else {
        start + usize::from(total_len)
    };
    let flags = be16(rest, 6).unwrap_or(0);
    p.ip = Some(IpInfo {
        version: 4,
        header: start..start + header_len,
        packet: start..claimed_end.min(data.len()),
        src: IpAddr::V4(header.source_addr()),
        dst: IpAddr::V4(header.destination_addr()),
        ttl: header.ttl(),
        total_len: total_len.into(),
        protocol: header.protocol().0,
        identification: Some(header.identification().into()),
        dont_fragment: flags & FLAG_DF != 0,
        more_fragments: flags & FLAG_MF != 0,
        fragment_offset: (flags & OFFSET_MASK) * 8,
        fragment_header: None,
        checksum: Some(checksum::ipv4_header(header.slice())),
        traffic_class: byte(rest, 1).unwrap_or(0),
        flow_label: None,
    });
    Ok(Transport {
        start: start + header_len,
        claimed_end,
        pseudo: PseudoHeader::V4 {
            src: header.source(),
            dst: header.destination(),
        },
    })
}

/// The annotated fields of the IPv4 header and its options.
pub(crate) fn fields(ip: &IpInfo, data: &[u8]) -> Vec<Field> {
    let s = ip.header.start;
    let Some(h) = data.get(ip.header.clone()).filter(|h| h.len() >= 20) else {
        return Vec::new();
    };
    let (Some(tos), Some(ident), Some(flags), Some(found)) =
        (byte(h, 1), be16(h, 4), be16(h, 6), be16(h, 10))
    else {
        return Vec::new();
    };
    let r = |a: usize, b: usize| s + a..s + b;
    let words = h.len() / 4;
    let (protocol_value, protocol_meaning) = protocol_texts(ip.protocol);
    let total = if ip.total_len == 0 {
        (
            "0".to_string(),
            format!("0: the kernel passed this packet to segmentation offload before filling in its length, so packetpath uses the {} captured bytes", ip.packet.len()),
        )
    } else {
        (
            format!("{} bytes", ip.total_len),
            "the size of the whole IP packet, header included; anything after it in the frame is padding".to_string(),
        )
    };
    let mut out = vec![
        Field::new("Version", r(0, 1), "4", "IP version 4: addresses are 32 bits, written as four numbers"),
        Field::new(
            "Header length",
            r(0, 1),
            format!("{} bytes ({words} words)", h.len()),
            if h.len() > 20 {
                format!("the header is {} bytes: 20 fixed bytes plus {} bytes of options (counted in 4-byte words)", h.len(), h.len() - 20)
            } else {
                "20 bytes, the minimum: no options (counted in 4-byte words)".to_string()
            },
        ),
        Field::new(
            "DSCP",
            r(1, 2),
            format!("{}", tos >> 2),
            "Differentiated Services code point (RFC 2474): a traffic class routers may prioritise; 0 is best effort",
        ),
        Field::new(
            "ECN",
            r(1, 2),
            format!("{} ({})", tos & 3, ecn_name(tos)),
            "Explicit Congestion Notification (RFC 3168): routers can mark congestion here instead of dropping the packet",
        ),
        Field::new("Total length", r(2, 4), total.0, total.1),
        Field::new(
            "Identification",
            r(4, 6),
            format!("0x{ident:04x} ({ident})"),
            "a number the sender gives each packet, so the pieces of a fragmented packet can be put back together",
        ),
        Field::new("Flags", r(6, 7), flags_value(flags), flags_meaning(flags)),
        Field::new(
            "Fragment offset",
            r(6, 8),
            if ip.fragment_offset == 0 {
                "0".to_string()
            } else {
                format!("{} (× 8 = {} bytes)", ip.fragment_offset / 8, ip.fragment_offset)
            },
            if ip.fragment_offset == 0 {
                "0: this packet starts at the beginning of the original data (it is unfragmented, or the first fragment)".to_string()
            } else {
                format!("counted in units of 8 bytes (RFC 791 §3.1): this fragment's data belongs {} bytes into the original packet's data", ip.fragment_offset)
            },
        ),
        Field::new("TTL", r(8, 9), ip.ttl.to_string(), ttl_meaning("TTL", ip.ttl)),
        Field::new("Protocol", r(9, 10), protocol_value, protocol_meaning),
    ];
    let status = ip.checksum.unwrap_or(checksum::ChecksumStatus::NotChecked);
    out.push(Field::new(
        "Header checksum",
        r(10, 12),
        status.value(found),
        status.meaning(found, "the IPv4 header's bytes"),
    ));
    out.push(Field::new(
        "Source",
        r(12, 16),
        ip.src.to_string(),
        address_meaning(ip.src, "sender"),
    ));
    out.push(Field::new(
        "Destination",
        r(16, 20),
        ip.dst.to_string(),
        address_meaning(ip.dst, "receiver"),
    ));
    options(h, s, &mut out);
    out
}

fn flags_value(flags: u16) -> String {
    let bits = flags >> 13;
    match (flags & FLAG_DF != 0, flags & FLAG_MF != 0) {
        (true, true) => format!("0x{bits:x} (Don't fragment, More fragments)"),
        (true, false) => format!("0x{bits:x} (Don't fragment)"),
        (false, true) => format!("0x{bits:x} (More fragments)"),
        (false, false) => format!("0x{bits:x}"),
    }
}

fn flags_meaning(flags: u16) -> String {
    let mut s = String::new();
    if flags & 0x8000 != 0 {
        s.push_str("the reserved bit is set (it must be zero); ");
    }
    if flags & FLAG_DF != 0 {
        s.push_str("Don't fragment: routers must not split this packet; if it is too big for a link they drop it and report back (ICMP), which is how path MTU discovery works (RFC 1191)");
    } else {
        s.push_str(
            "fragmenting allowed: a router may split this packet if a link's MTU is too small",
        );
    }
    if flags & FLAG_MF != 0 {
        s.push_str("; More fragments: further pieces of the same original packet follow");
    }
    s
}

/// IPv4 options (RFC 791 §3.1): type, length, data; 0 ends the list, 1 is one byte of padding.
fn options(h: &[u8], s: usize, out: &mut Vec<Field>) {
    let mut i = 20;
    while let Some(kind) = byte(h, i) {
        let len = match kind {
            0 | 1 => 1,
            _ => match byte(h, i + 1) {
                Some(len) if len >= 2 && i + usize::from(len) <= h.len() => usize::from(len),
                _ => {
                    out.push(Field::new(
                        "Option",
                        s + i..s + h.len(),
                        format!("malformed option {kind}"),
                        "the option's length byte is missing or runs past the header; the rest of the options cannot be read",
                    ));
                    return;
                }
            },
        };
        let name = match kind {
            0 => "End of options list",
            1 => "No operation",
            7 => "Record route",
            68 => "Timestamp",
            130 => "Security",
            131 => "Loose source route",
            137 => "Strict source route",
            148 => "Router alert",
            _ => "unknown",
        };
        let bytes = h.get(i..i + len).unwrap_or_default();
        out.push(Field::new(
            "Option",
            s + i..s + i + len,
            format!("{name} (type {kind}, {len} bytes)"),
            format!(
                "an IPv4 option asking routers for extra processing; bytes {}",
                hex_string(bytes, 12)
            ),
        ));
        if kind == 0 {
            if h.len() > i + 1 {
                out.push(Field::new(
                    "Padding",
                    s + i + 1..s + h.len(),
                    super::field::byte_count(h.len() - i - 1),
                    "zero bytes that fill the header up to a multiple of 4 bytes",
                ));
            }
            return;
        }
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::checksum::ChecksumStatus;

    /// An IPv4 header with options: NOP, NOP, router alert (4 bytes), EOL + 3 padding bytes.
    #[rustfmt::skip]
    const WITH_OPTIONS: [u8; 32] = [
        0x48, 0x00, 0x00, 0x20, // version 4, IHL 8 (32 bytes), DSCP/ECN 0, total length 32
        0xab, 0xcd, 0x20, 0x00, // identification 0xabcd, flags MF, offset 0
        0x01, 0x11, 0x00, 0x00, // TTL 1, protocol 17 (UDP), checksum (filled in below)
        0x0a, 0x00, 0x00, 0x01, // source 10.0.0.1
        0xe0, 0x00, 0x00, 0x16, // destination 224.0.0.22
        0x01, 0x01, 0x94, 0x04, // NOP, NOP, router alert (148), length 4
        0x00, 0x00, 0x00, 0x00, // router alert value 0, EOL, 2 padding bytes
        0x00, 0x00, 0x00, 0x00, // padding
    ];

    fn with_checksum(mut h: [u8; 32]) -> [u8; 32] {
        let sum = crate::dissect::fixtures::folded_sum(&[&h[..28]]);
        h[10..12].copy_from_slice(&(!sum).to_be_bytes());
        h
    }

    #[test]
    fn options_fragment_flags_and_checksum() {
        // Shrink the fixture to a 28-byte header (IHL 7) that is the whole packet (total length 28).
        let mut h = WITH_OPTIONS;
        h[3] = 28;
        h[0] = 0x47; // IHL 7: 28-byte header
        let h: [u8; 32] = with_checksum(h);
        let data = &h[..28];
        let mut p = Packet::empty(data.len());
        let t = parse(data, 0, &mut p).unwrap();
        let ip = p.ip.unwrap();
        assert_eq!(ip.header, 0..28);
        assert_eq!(t.start, 28);
        assert!(ip.more_fragments && !ip.dont_fragment);
        assert_eq!(ip.identification, Some(0xabcd));
        assert_eq!(ip.checksum, Some(ChecksumStatus::Verified));
        let f = fields(&ip, data);
        let opts: Vec<_> = f
            .iter()
            .filter(|f| f.name == "Option")
            .map(|f| f.value.as_str())
            .collect();
        assert_eq!(
            opts,
            [
                "No operation (type 1, 1 bytes)",
                "No operation (type 1, 1 bytes)",
                "Router alert (type 148, 4 bytes)",
                "End of options list (type 0, 1 bytes)"
            ]
        );
        assert!(f
            .iter()
            .all(|f| f.range.end <= 28 && f.range.start < f.range.end));
    }

    #[test]
    fn bad_lengths_stop_with_reasons() {
        let mut h = WITH_OPTIONS;
        h[0] = 0x43; // IHL 3
        let mut p = Packet::empty(32);
        let e = parse(&h, 0, &mut p).unwrap_err();
        assert_eq!(
            e.reason,
            "IPv4 header length field (IHL) 3 is below the minimum 5 (20 bytes)"
        );
        assert!(p.ip.is_none());

        let mut h = WITH_OPTIONS;
        h[3] = 24; // total length 24 < 32-byte header
        let e = parse(&h, 0, &mut p).unwrap_err();
        assert_eq!((e.offset, e.kind), (2, StopKind::Malformed));

        let e = parse(&WITH_OPTIONS[..30], 0, &mut p).unwrap_err();
        assert_eq!((e.layer, e.kind), (Layer::Ip, StopKind::Truncated));
        assert!(
            e.reason.contains("needs 32 bytes, but only 30"),
            "{}",
            e.reason
        );

        let mut h = WITH_OPTIONS;
        h[0] = 0x65;
        let e = parse(&h, 0, &mut p).unwrap_err();
        assert!(e.reason.contains("version field is 6"));
    }

    #[test]
    fn flags_texts() {
        assert_eq!(flags_value(0x4000), "0x2 (Don't fragment)");
        assert_eq!(flags_value(0x2000), "0x1 (More fragments)");
        assert!(flags_meaning(0x4000).starts_with("Don't fragment"));
    }
}
