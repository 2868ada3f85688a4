//! TCP (RFC 9293 §3.1): ports, sequence and acknowledgment numbers, flags, window, checksum and
//! urgent pointer. The fixed header is read with etherparse's `TcpHeaderSlice`; options are in
//! `tcp_options.rs`, the checksum in `checksum.rs`.

use std::fmt;
use std::ops::Range;

use etherparse::err::tcp::{HeaderError, HeaderSliceError};
use etherparse::TcpHeaderSlice;

use super::checksum::{self, ChecksumStatus};
use super::field::{be16, DissectError, Field, Layer, StopKind};
use super::ip::Transport;
use super::tcp_options::{self, TcpOptions};
use super::Packet;

/// Length of the TCP header without options.
const MIN_HEADER_LEN: usize = 20;

/// The TCP header of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpInfo {
    /// The header's bytes in the frame, options included.
    pub header: Range<usize>,
    /// The sending program's port.
    pub src_port: u16,
    /// The receiving program's port.
    pub dst_port: u16,
    /// Raw sequence number: the stream position of the first data byte (of the SYN if set).
    pub seq: u32,
    /// Raw acknowledgment number: the next byte expected from the other side (if ACK is set).
    pub ack: u32,
    /// The control bits.
    pub flags: TcpFlags,
    /// Receive window as sent, before window scaling.
    pub window: u16,
    /// Header length in bytes (data offset × 4), 20 to 60.
    pub header_len: u8,
    /// What checking the checksum found.
    pub checksum: ChecksumStatus,
    /// The urgent pointer (meaningful only with URG).
    pub urgent: u16,
    /// The decoded options.
    pub options: TcpOptions,
}

/// The TCP control bits: the 12 bits after the data offset (RFC 9293 §3.1; ECE and CWR from
/// RFC 3168; AE, the Accurate ECN bit, was the experimental NS bit of RFC 3540).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from the sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronise sequence numbers: opens a connection.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset: abort the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push: hand the data to the application without waiting for more.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// The acknowledgment number is valid.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// The urgent pointer is valid.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN echo: the peer saw congestion marks (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion window reduced: answer to ECE (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// Accurate ECN (formerly the experimental NS bit of RFC 3540).
    pub const AE: TcpFlags = TcpFlags(0x100);

    const NAMED: [(TcpFlags, &'static str); 9] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
        (Self::AE, "AE"),
    ];

    /// True if every bit of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The names of the set flags, lowest bit first: a data segment gives `["PSH", "ACK"]`, a
    /// SYN-ACK `["SYN", "ACK"]`.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect()
    }
}

impl fmt::Display for TcpFlags {
    /// `[SYN, ACK]`, or `[none]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        if names.is_empty() {
            f.write_str("[none]")
        } else {
            write!(f, "[{}]", names.join(", "))
        }
    }
}

/// Parses the TCP header of the transport bytes `t`, storing it in `p.tcp` and the payload range
/// in `p.payload`. `fragment` is true when the IP packet is one piece of a fragmented packet;
/// `verify` false leaves the checksum unchecked.
pub(crate) fn parse(
    data: &[u8],
    t: &Transport,
    fragment: bool,
    verify: bool,
    p: &mut Packet,
) -> Result<(), DissectError> {
    let captured_end = t.claimed_end.min(data.len());
    let segment = data.get(t.start..captured_end).unwrap_or_default();
    let claimed_len = t.claimed_end.saturating_sub(t.start);
    let header = TcpHeaderSlice::from_slice(segment).map_err(|e| match e {
        HeaderSliceError::Content(HeaderError::DataOffsetTooSmall { data_offset }) => {
            DissectError::new(
                StopKind::Malformed,
                Layer::Tcp,
                t.start + 12,
                format!("TCP data offset {data_offset} is below the minimum 5 (20 bytes)"),
            )
        }
        HeaderSliceError::Len(len) if len.required_len > claimed_len => {
            let reason = if len.required_len == MIN_HEADER_LEN {
                format!(
                    "the IP packet leaves only {claimed_len} bytes for TCP (bytes {}..{}), less than the minimum 20-byte TCP header",
                    t.start, t.claimed_end
                )
            } else {
                format!(
                    "TCP data offset {} ({} bytes) reaches beyond the end of the segment: the IP packet leaves only {claimed_len} bytes for TCP (bytes {}..{})",
                    len.required_len / 4,
                    len.required_len,
                    t.start,
                    t.claimed_end
                )
            };
            let at = if len.required_len == MIN_HEADER_LEN { t.start } else { t.start + 12 };
            DissectError::new(StopKind::Malformed, Layer::Tcp, at, reason)
        }
        HeaderSliceError::Len(len) => {
            DissectError::truncated(Layer::Tcp, "TCP header", t.start, len.required_len, len.len)
        }
    });
    let header = match header {
        Ok(header) => header,
        Err(e) if e.kind == StopKind::Truncated && segment.len() >= MIN_HEADER_LEN => {
            // The capture kept the fixed header but cut its options (a small snapshot length):
            // what is there is read, as Wireshark does, and the stop says what is missing.
            p.tcp = Some(partial_header(segment, t.start));
            p.payload = captured_end..captured_end;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let header_len = header.slice().len();
    let header_end = t.start + header_len;
    let status = match u32::try_from(claimed_len) {
        Ok(len) if verify => checksum::tcp(&t.pseudo, len, segment, !fragment),
        _ => ChecksumStatus::NotChecked,
    };
    p.tcp = Some(TcpInfo {
        header: t.start..header_end,
        src_port: header.source_port(),
        dst_port: header.destination_port(),
        seq: header.sequence_number(),
        ack: header.acknowledgment_number(),
        flags: TcpFlags(be16(segment, 12).unwrap_or(0) & 0x0fff),
        window: header.window_size(),
        header_len: u8::try_from(header_len).unwrap_or(u8::MAX),
        checksum: status,
        urgent: header.urgent_pointer(),
        options: tcp_options::parse(header.options(), t.start + MIN_HEADER_LEN),
    });
    p.payload = header_end..captured_end.max(header_end);
    Ok(())
}

/// The fields of a TCP header whose options the capture cut short: the 20 fixed bytes (which
/// `segment` holds) and the options that are whole.
fn partial_header(segment: &[u8], start: usize) -> TcpInfo {
    let be32 = |at: usize| {
        segment
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_be_bytes)
    };
    let header_len = usize::from(segment.get(12).map_or(5, |b| b >> 4)) * 4;
    let options = segment
        .get(MIN_HEADER_LEN..header_len.min(segment.len()))
        .unwrap_or_default();
    TcpInfo {
        header: start..start + header_len.min(segment.len()),
        src_port: be16(segment, 0).unwrap_or(0),
        dst_port: be16(segment, 2).unwrap_or(0),
        seq: be32(4),
        ack: be32(8),
        flags: TcpFlags(be16(segment, 12).unwrap_or(0) & 0x0fff),
        window: be16(segment, 14).unwrap_or(0),
        header_len: u8::try_from(header_len).unwrap_or(u8::MAX),
        checksum: ChecksumStatus::NotChecked,
        urgent: be16(segment, 18).unwrap_or(0),
        options: tcp_options::parse(options, start + MIN_HEADER_LEN),
    }
}

/// The annotated fields of the TCP header and its options.
pub(crate) fn fields(tcp: &TcpInfo, payload_len: usize, data: &[u8]) -> Vec<Field> {
    let s = tcp.header.start;
    let Some(found) = be16(data, s + 16) else {
        return Vec::new();
    };
    let r = |a: usize, b: usize| s + a..s + b;
    let flags = tcp.flags;
    let hl = usize::from(tcp.header_len);
    let mut out = vec![
        Field::new("Source port", r(0, 2), tcp.src_port.to_string(), port_meaning(tcp.src_port, "sending")),
        Field::new(
            "Destination port",
            r(2, 4),
            tcp.dst_port.to_string(),
            port_meaning(tcp.dst_port, "receiving"),
        ),
        Field::new("Sequence number", r(4, 8), tcp.seq.to_string(), seq_meaning(tcp, payload_len)),
        Field::new(
            "Acknowledgment number",
            r(8, 12),
            tcp.ack.to_string(),
            if flags.contains(TcpFlags::ACK) {
                "the next byte expected from the other side, as a raw sequence number: every byte before it has arrived".to_string()
            } else {
                "not used: the ACK flag is not set (only a connection's very first SYN, or a reset, goes without it)".to_string()
            },
        ),
        Field::new(
            "Header length",
            r(12, 13),
            format!("{hl} bytes ({} words)", hl / 4),
            format!("data offset: the payload starts {hl} bytes in, after 20 fixed bytes and {} bytes of options (counted in 4-byte words)", hl.saturating_sub(MIN_HEADER_LEN)),
        ),
        Field::new("Flags", r(12, 14), flags.to_string(), flags_meaning(flags)),
        Field::new("Window", r(14, 16), tcp.window.to_string(), window_meaning(tcp)),
        Field::new(
            "Checksum",
            r(16, 18),
            tcp.checksum.value(found),
            tcp.checksum.meaning(found, "the TCP header, the payload and the IP addresses (pseudo-header)"),
        ),
        Field::new(
            "Urgent pointer",
            r(18, 20),
            tcp.urgent.to_string(),
            match (flags.contains(TcpFlags::URG), tcp.urgent) {
                (true, u) => format!("urgent data ends {u} bytes into this segment's payload"),
                (false, 0) => "unused: the URG flag is not set".to_string(),
                (false, u) => format!("{u}, ignored because the URG flag is not set"),
            },
        ),
    ];
    if let Some(options) = data.get(s + MIN_HEADER_LEN..tcp.header.end) {
        tcp_options::fields(options, s + MIN_HEADER_LEN, &mut out);
    }
    out
}

/// The single field of the payload layer.
pub(crate) fn payload_fields(p: &Packet, data: &[u8]) -> Vec<Field> {
    let range = p.payload.clone();
    if range.is_empty() || data.len() < range.end {
        return Vec::new();
    }
    let claimed = p.ip.as_ref().map_or(0, |ip| {
        (ip.header.start as u64 + u64::from(ip.total_len)).saturating_sub(range.start as u64)
    });
    let mut meaning = format!(
        "{} the application (here usually TLS records) handed to TCP; TCP numbers these bytes but never looks inside them",
        super::field::byte_count(range.len())
    );
    if claimed > range.len() as u64 {
        meaning.push_str(&format!(
            "; only {} of the {claimed} bytes were captured",
            range.len()
        ));
    }
    vec![Field::new(
        "TCP payload",
        range.clone(),
        super::field::byte_count(range.len()),
        meaning,
    )]
}

fn port_meaning(port: u16, role: &str) -> String {
    let kind = match port {
        0..=1023 => "a well-known port, reserved for standard services (443 is HTTPS)",
        1024..=32767 => "a registered port, usually where a server listens",
        32768..=60999 => {
            "in Linux's ephemeral range (32768–60999): picked by the kernel, for a client or for a server that asked for any free port (as packetpath's lab server does)"
        }
        _ => "a dynamic port, usually picked by the kernel for a client",
    };

    format!(
        "the {role} program's port, {kind}; with both addresses and ports it names the connection"
    )
}

fn seq_meaning(tcp: &TcpInfo, payload_len: usize) -> String {
    if tcp.flags.contains(TcpFlags::SYN) {
        format!("{}: the initial sequence number, picked at random; the SYN itself counts as one byte, so data starts at {}", tcp.seq, tcp.seq.wrapping_add(1))
    } else if payload_len > 0 {
        format!("the position of this segment's first data byte in the sender's byte stream, as sent (counting from the random initial sequence number; the relative number counts from the SYN, which is 0); the next segment starts at {}", tcp.seq.wrapping_add(payload_len as u32))
    } else {
        "the position of the next byte the sender will send; this segment carries no data"
            .to_string()
    }
}

fn window_meaning(tcp: &TcpInfo) -> String {
    if tcp.flags.contains(TcpFlags::SYN) {
        "the sender can receive this many bytes before the other side must wait; never scaled in a SYN".to_string()
    } else {
        format!("{}: how many more bytes the sender can receive, in units set by the window scale option of the handshake", tcp.window)
    }
}

fn flags_meaning(flags: TcpFlags) -> String {
    let syn = flags.contains(TcpFlags::SYN);
    let ack = flags.contains(TcpFlags::ACK);
    if syn && !ack {
        return "SYN: first step of the three-way handshake, the client asks to open a connection"
            .to_string();
    }
    if syn && ack {
        return "SYN, ACK: second step of the three-way handshake, the server agrees and acknowledges the client's SYN".to_string();
    }
    let mut parts = Vec::new();
    for (flag, text) in [
        (TcpFlags::FIN, "FIN: the sender has no more data to send"),
        (TcpFlags::RST, "RST: abort the connection at once"),
        (
            TcpFlags::PSH,
            "PSH: deliver the data to the application now",
        ),
        (TcpFlags::ACK, "ACK: the acknowledgment number is valid"),
        (TcpFlags::URG, "URG: the urgent pointer is valid"),
        (
            TcpFlags::ECE,
            "ECE: the peer saw congestion marked by a router",
        ),
        (TcpFlags::CWR, "CWR: the sender slowed down after an ECE"),
        (TcpFlags::AE, "AE: accurate ECN counter bit"),
    ] {
        if flags.contains(flag) {
            parts.push(text);
        }
    }
    if flags.0 & 0x0e00 != 0 {
        parts.push("reserved bits are set (they must be zero)");
    }
    if parts.is_empty() {
        "no flags set: unusual, most stacks drop such a segment".to_string()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_lowest_bit_first() {
        assert_eq!(TcpFlags(0x012).names(), ["SYN", "ACK"]);
        assert_eq!(TcpFlags(0x018).names(), ["PSH", "ACK"]);
        assert_eq!(TcpFlags(0x0c2).names(), ["SYN", "ECE", "CWR"]);
        assert_eq!(TcpFlags(0x011).to_string(), "[FIN, ACK]");
        assert_eq!(TcpFlags(0).to_string(), "[none]");
        assert!(TcpFlags(0x012).contains(TcpFlags::SYN));
        assert!(!TcpFlags(0x010).contains(TcpFlags(0x012)));
        assert!(flags_meaning(TcpFlags(0x012)).starts_with("SYN, ACK: second step"));
        assert!(flags_meaning(TcpFlags(0x204)).contains("reserved bits"));
    }

    #[test]
    fn port_ranges() {
        assert!(port_meaning(443, "sending").contains("well-known"));
        assert!(port_meaning(8443, "sending").contains("registered"));
        assert!(port_meaning(50412, "sending").contains("ephemeral"));
        assert!(port_meaning(65000, "sending").contains("dynamic"));
    }
}
