//! The vocabulary shared by every protocol file: which [`Layer`] a byte belongs to, the annotated
//! [`Field`] shown to a student, the [`DissectError`] that says where and why parsing stopped, and
//! small panic-free readers and formatters for big-endian fields, MAC addresses and protocol numbers.

use std::fmt;
use std::ops::Range;

/// A layer of the stack as packetpath shows it, from the wire upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// The link-layer header (Ethernet, Linux "cooked" header, BSD loopback family) and any
    /// Ethernet padding after the IP packet.
    Link,
    /// An ARP packet (RFC 826), which sits directly on the link layer instead of IP.
    Arp,
    /// The IPv4 header with its options, or the IPv6 header with its extension headers.
    Ip,
    /// An ICMP (RFC 792) or ICMPv6 (RFC 4443) message, whole: the network layer's own messages
    /// (echo, errors with the start of the packet that caused them, neighbour discovery).
    Icmp,
    /// The UDP header (RFC 768); its payload is [`Layer::Payload`].
    Udp,
    /// The TCP header with its options.
    Tcp,
    /// The bytes TCP (or UDP) carries for the application (here usually TLS records).
    Payload,
}

impl Layer {
    /// The layer's name as a student reads it ("TCP", "IP", ...).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Arp => "ARP",
            Layer::Ip => "IP",
            Layer::Icmp => "ICMP",
            Layer::Udp => "UDP",
            Layer::Tcp => "TCP",
            Layer::Payload => "payload",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why dissection stopped, so a view can colour a broken packet differently from a cut-short or a
/// merely unsupported one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopKind {
    /// The capture holds fewer bytes than the headers say the packet has (snap length, or a frame
    /// cut short by the capture buffer). Everything before the cut was dissected.
    Truncated,
    /// A header contradicts itself or the protocol (e.g. a TCP data offset below 5).
    Malformed,
    /// The bytes are fine but packetpath does not dissect them (an unknown link type, or an IP
    /// fragment that does not start the original packet and so carries no TCP header).
    NotDissected,
}

/// Where and why dissection stopped. Every layer that parsed before this point is kept in the
/// [`Packet`](super::Packet), so the hex view can point at the offending byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{layer} layer, byte {offset}: {reason}")]
pub struct DissectError {
    /// The layer that could not be parsed (or was not parsed).
    pub layer: Layer,
    /// The offset in the frame of the byte where the problem is (usually that layer's first byte).
    pub offset: usize,
    /// What was expected and what was found, in words a student understands.
    pub reason: String,
    /// Whether the frame was cut short, is malformed, or is simply not dissected.
    pub kind: StopKind,
}

impl DissectError {
    /// A stop of the given kind at `offset` in `layer`.
    pub fn new(kind: StopKind, layer: Layer, offset: usize, reason: String) -> Self {
        tracing::trace!(%layer, offset, ?kind, %reason, "dissection stopped");
        DissectError {
            layer,
            offset,
            reason,
            kind,
        }
    }

    /// The header of `layer` starting at `offset` needs `needed` bytes but only `have` were captured.
    pub(crate) fn truncated(
        layer: Layer,
        what: &str,
        offset: usize,
        needed: usize,
        have: usize,
    ) -> Self {
        DissectError::new(
            StopKind::Truncated,
            layer,
            offset,
            format!(
                "the {what} starting at byte {offset} needs {needed} bytes, but only {have} were captured"
            ),
        )
    }
}

/// One header field, annotated for display: computed on demand by
/// [`Packet::fields`](super::Packet::fields), never during dissection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Short Wireshark-like name, e.g. "Source port".
    pub name: &'static str,
    /// The bytes of the frame that hold this field. Fields packed into the same bytes (bit fields
    /// such as IPv4 version and header length) share their byte range.
    pub range: Range<usize>,
    /// The value as displayed, e.g. "64", "0x0800 (IPv4)", "[SYN, ACK]", "1460 bytes".
    pub value: String,
    /// A sentence explaining what the value means, for a student.
    pub meaning: String,
}

impl Field {
    /// Builds a field from anything that displays.
    pub(crate) fn new(
        name: &'static str,
        range: Range<usize>,
        value: impl Into<String>,
        meaning: impl Into<String>,
    ) -> Self {
        Field {
            name,
            range,
            value: value.into(),
            meaning: meaning.into(),
        }
    }
}

/// Reads the byte at `at`, or `None` past the end.
/// "1 byte", "20 bytes".
pub fn byte_count(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

pub(crate) fn byte(data: &[u8], at: usize) -> Option<u8> {
    data.get(at).copied()
}

/// Reads a big-endian (network byte order) 16-bit field at `at`.
pub(crate) fn be16(data: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

/// Reads a big-endian (network byte order) 32-bit field at `at`.
pub(crate) fn be32(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// Reads `N` bytes at `at` as an array.
pub(crate) fn array<const N: usize>(data: &[u8], at: usize) -> Option<[u8; N]> {
    data.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Formats a hardware address as `aa:bb:cc:dd:ee:ff` (any length).
pub(crate) fn mac_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Formats bytes as space-separated hex, shortened with "…" after `max` bytes.
pub(crate) fn hex_string(bytes: &[u8], max: usize) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().take(max).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    if bytes.len() > max {
        s.push_str(" …");
    }
    s
}

/// What a MAC address is, in a student's words.
pub(crate) fn mac_meaning(mac: &[u8], role: &str) -> String {
    let text = mac_string(mac);
    if mac.iter().all(|&b| b == 0) {
        format!("{text}: loopback has no hardware, so the kernel writes zero MAC addresses")
    } else if mac.iter().all(|&b| b == 0xff) {
        format!("{text}: broadcast, so every device on the local network receives this frame")
    } else if mac.first().is_some_and(|b| b & 1 == 1) {
        format!("{text}: a multicast address (lowest bit of the first byte set), the {role} of a group of devices")
    } else {
        format!("{text}: the network card of this frame's {role} on this link (a router's, where one forwards the packet); a MAC address means something on one link only, and a router sends the packet on in a new frame with new addresses")
    }
}

/// The name of an EtherType (IEEE registry), as shown after its number.
pub(crate) fn ethertype_name(ethertype: u16) -> &'static str {
    match ethertype {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q VLAN",
        0x88a8 => "802.1ad VLAN",
        0x88cc => "LLDP",
        0x8035 => "RARP",
        0x8847 => "MPLS",
        0x888e => "802.1X",
        0x88e5 => "MACsec",
        0x0001 => "802.3 frames (Linux)",
        0x0003 => "all protocols (Linux)",
        0x0004 => "802.2 LLC (Linux)",
        _ => "unknown",
    }
}

/// `0x0800 (IPv4)`: an EtherType as displayed.
pub(crate) fn ethertype_value(ethertype: u16) -> String {
    format!("0x{ethertype:04x} ({})", ethertype_name(ethertype))
}

/// What the EtherType field means, naming the protocol it announces.
pub(crate) fn ethertype_meaning(ethertype: u16) -> String {
    format!(
        "EtherType: tells the receiver which protocol the payload holds, here {}",
        ethertype_name(ethertype)
    )
}

/// The name of an IP protocol number (IANA "Assigned Internet Protocol Numbers").
pub(crate) fn ip_protocol_name(protocol: u8) -> &'static str {
    match protocol {
        0 => "IPv6 hop-by-hop options",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPv4 in IP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6 in IP",
        43 => "IPv6 routing header",
        44 => "IPv6 fragment header",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        59 => "no next header",
        60 => "IPv6 destination options",
        132 => "SCTP",
        136 => "UDP-Lite",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_stop_at_the_end_instead_of_panicking() {
        let data = [0x12, 0x34, 0x56];
        assert_eq!(be16(&data, 0), Some(0x1234));
        assert_eq!(be16(&data, 1), Some(0x3456));
        assert_eq!(be16(&data, 2), None);
        assert_eq!(be32(&data, 0), None);
        assert_eq!(be16(&data, usize::MAX), None);
        assert_eq!(array::<2>(&data, usize::MAX - 1), None);
        assert_eq!(byte(&data, 3), None);
    }

    #[test]
    fn formats_addresses_and_names() {
        assert_eq!(mac_string(&[0, 0x1b, 0xff, 1, 2, 3]), "00:1b:ff:01:02:03");
        assert_eq!(hex_string(&[1, 2, 3], 2), "01 02 …");
        assert_eq!(ethertype_value(0x0800), "0x0800 (IPv4)");
        assert_eq!(ethertype_value(0x1234), "0x1234 (unknown)");
        assert!(mac_meaning(&[0; 6], "sender").contains("zero MAC"));
        assert!(mac_meaning(&[0xff; 6], "receiver").contains("broadcast"));
        assert_eq!(ip_protocol_name(6), "TCP");
    }

    #[test]
    fn error_message_names_layer_and_offset() {
        let e = DissectError::truncated(Layer::Tcp, "TCP header", 34, 20, 8);
        assert_eq!(
            e.to_string(),
            "TCP layer, byte 34: the TCP header starting at byte 34 needs 20 bytes, but only 8 were captured"
        );
        assert_eq!(e.kind, StopKind::Truncated);
    }
}
