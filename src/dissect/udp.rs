//! UDP (RFC 768): ports, length and checksum, then the datagram's data. No connection, no
//! numbering, no retransmission: the 8-byte header is all there is.

use std::ops::Range;

use super::checksum::{self, ChecksumStatus};
use super::field::{be16, byte_count, DissectError, Field, Layer, StopKind};
use super::ip::Transport;
use super::Packet;

/// Length of the UDP header.
pub(crate) const HEADER_LEN: usize = 8;

/// The UDP header of a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpInfo {
    /// The header's 8 bytes in the frame.
    pub header: Range<usize>,
    /// The datagram's data in the frame (after the header, to the end the length field gives,
    /// clipped to what was captured).
    pub payload: Range<usize>,
    /// The sending program's port.
    pub src_port: u16,
    /// The receiving program's port.
    pub dst_port: u16,
    /// The length field: header plus data, in bytes.
    pub length: u16,
    /// What checking the checksum found.
    pub checksum: ChecksumStatus,
}

/// Parses the UDP header of the transport bytes `t`, storing it in `p.udp`. `fragment` is true
/// when the IP packet is one piece of a fragmented packet; `verify` false leaves the checksum
/// unchecked.
pub(crate) fn parse(
    data: &[u8],
    t: &Transport,
    fragment: bool,
    verify: bool,
    p: &mut Packet,
) -> Result<(), DissectError> {
    let captured_end = t.claimed_end.min(data.len());
    let claimed_len = t.claimed_end.saturating_sub(t.start);
    if claimed_len < HEADER_LEN {
        return Err(DissectError::new(
            StopKind::Malformed,
            Layer::Udp,
            t.start,
            format!(
                "the IP packet leaves only {claimed_len} bytes for UDP (bytes {}..{}), less than the 8-byte UDP header",
                t.start, t.claimed_end
            ),
        ));
    }
    let datagram = data.get(t.start..captured_end).unwrap_or_default();
    let (Some(src_port), Some(dst_port), Some(length)) =
        (be16(datagram, 0), be16(datagram, 2), be16(datagram, 4))
    else {
        return Err(DissectError::truncated(
            Layer::Udp,
            "UDP header",
            t.start,
            HEADER_LEN,
            datagram.len(),
        ));
    };
    if be16(datagram, 6).is_none() {
        return Err(DissectError::truncated(
            Layer::Udp,
            "UDP header",
            t.start,
            HEADER_LEN,
            datagram.len(),
        ));
    }
    let header_end = t.start + HEADER_LEN;
    // The length field says where the datagram ends; a fragment's says so for the whole datagram.
    let udp_end = if fragment {
        t.claimed_end
    } else {
        t.start + usize::from(length)
    };
    let bad_length = !fragment && (usize::from(length) < HEADER_LEN || udp_end > t.claimed_end);
    let status = if verify && !bad_length {
        // Bytes after the UDP length but inside the IP packet are not the datagram's.
        let covered = datagram.get(..usize::from(length)).unwrap_or(datagram);
        checksum::udp(&t.pseudo, u32::from(length), covered, !fragment)
    } else {
        ChecksumStatus::NotChecked
    };
    p.udp = Some(UdpInfo {
        header: t.start..header_end,
        payload: header_end..udp_end.min(captured_end).max(header_end),
        src_port,
        dst_port,
        length,
        checksum: status,
    });
    if bad_length {
        return Err(DissectError::new(
            StopKind::Malformed,
            Layer::Udp,
            t.start + 4,
            format!(
                "UDP length {length} does not fit: it must be at least 8 (the header) and at most the {claimed_len} bytes the IP packet leaves for UDP"
            ),
        ));
    }
    Ok(())
}

/// The annotated fields of the UDP header.
pub(crate) fn fields(udp: &UdpInfo, data: &[u8]) -> Vec<Field> {
    let s = udp.header.start;
    let Some(found) = be16(data, s + 6) else {
        return Vec::new();
    };
    let r = |a: usize, b: usize| s + a..s + b;
    vec![
        Field::new(
            "Source port",
            r(0, 2),
            udp.src_port.to_string(),
            port_meaning(udp.src_port, "sending"),
        ),
        Field::new(
            "Destination port",
            r(2, 4),
            udp.dst_port.to_string(),
            port_meaning(udp.dst_port, "receiving"),
        ),
        Field::new(
            "Length",
            r(4, 6),
            byte_count(usize::from(udp.length)),
            format!(
                "the whole datagram: this 8-byte header and {} of data; UDP delivers them in one piece or not at all",
                byte_count(usize::from(udp.length).saturating_sub(HEADER_LEN))
            ),
        ),
        Field::new(
            "Checksum",
            r(6, 8),
            udp.checksum.value(found),
            udp.checksum.meaning(
                found,
                "the UDP header, the data and the IP addresses (pseudo-header)",
            ),
        ),
    ]
}

/// The UDP data as one field of the payload layer.
pub(crate) fn payload_field(udp: &UdpInfo, data: &[u8]) -> Vec<Field> {
    let range = udp.payload.clone();
    if range.is_empty() || data.len() < range.end {
        return Vec::new();
    }
    let claimed = usize::from(udp.length).saturating_sub(HEADER_LEN);
    let mut meaning = format!(
        "{} a program handed to UDP in one send; the receiver reads them in one piece, as a message (TCP would see a stream of bytes)",
        byte_count(range.len())
    );
    if claimed > range.len() {
        meaning.push_str(&format!(
            "; only {} of the {claimed} bytes are in this frame",
            range.len()
        ));
    }
    vec![Field::new(
        "UDP payload",
        range.clone(),
        byte_count(range.len()),
        meaning,
    )]
}

/// What a UDP port says, for a student.
fn port_meaning(port: u16, role: &str) -> String {
    let service = match port {
        53 => " (DNS)",
        67 | 68 => " (DHCP)",
        123 => " (NTP)",
        443 => " (QUIC, HTTP/3)",
        546 | 547 => " (DHCPv6)",
        5353 => " (multicast DNS)",
        33434..=33534 => " (the range traceroute sends its probes to)",
        _ => "",
    };
    let kind = match port {
        0..=1023 => "a well-known port, reserved for standard services",
        1024..=32767 => "a registered port, usually where a server listens",
        32768..=60999 => {
            "in Linux's ephemeral range (32768–60999): picked by the kernel, for a client or for a server that asked for any free port (as packetpath's lab server does)"
        }
        _ => "a dynamic port, usually picked by the kernel for a client",
    };
    format!("the {role} program's port{service}, {kind}; UDP keeps no connection, each datagram names both ports")
}
