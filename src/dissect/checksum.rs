//! The Internet checksum (RFC 1071) as used by the IPv4 header, TCP, UDP, ICMP and ICMPv6,
//! including how to recognise a checksum the sender left for the network card to fill in
//! ("checksum offload").
//!
//! The sums themselves use etherparse's [`Sum16BitWords`], which adds 8 bytes at a time.

use etherparse::checksum::Sum16BitWords;

/// What checking a checksum field found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumStatus {
    /// The field matches the checksum computed over the bytes: they arrived as they were sent.
    Verified,
    /// The field does not match: the bytes were damaged, or the sender computed it wrongly.
    Wrong {
        /// The value in the field.
        found: u16,
        /// The value the bytes call for.
        expected: u16,
    },
    /// The field holds only the sum of the pseudo-header: the sender's kernel left the rest for
    /// the network card ("checksum offload"). Normal on loopback, where no card ever finishes it.
    Offloaded {
        /// The value in the field.
        found: u16,
    },
    /// Not all bytes covered by the checksum were captured (or the packet is an IP fragment), so
    /// it cannot be checked.
    NotChecked,
    /// The field is 0: the sender computed no checksum, which UDP over IPv4 allows (RFC 768).
    Absent,
}

impl ChecksumStatus {
    /// `0x1c46 [correct]`: the field's value followed by the verdict.
    pub fn value(self, found: u16) -> String {
        match self {
            ChecksumStatus::Verified => format!("0x{found:04x} [correct]"),
            ChecksumStatus::Wrong { expected, .. } => {
                format!("0x{found:04x} [wrong, should be 0x{expected:04x}]")
            }
            ChecksumStatus::Offloaded { .. } => format!("0x{found:04x} [offloaded]"),
            ChecksumStatus::NotChecked => format!("0x{found:04x} [not checked]"),
            ChecksumStatus::Absent => format!("0x{found:04x} [none]"),
        }
    }

    /// A sentence for a student about what the verdict means for the bytes it covers (`covers`
    /// is e.g. "the IPv4 header" or "the TCP header, the payload and the IP addresses").
    pub fn meaning(self, found: u16, covers: &str) -> String {
        match self {
            ChecksumStatus::Verified => format!(
                "Checksum 0x{found:04x}: correct, so {covers} arrived exactly as sent (RFC 1071 ones'-complement sum)"
            ),
            ChecksumStatus::Wrong { expected, .. } => format!(
                "Checksum 0x{found:04x}: wrong, {covers} add up to 0x{expected:04x}; a receiver drops such a packet silently"
            ),
            ChecksumStatus::Offloaded { .. } => format!(
                "Checksum 0x{found:04x}: not filled in (offloaded — normal on loopback: the sender's kernel left it for a network card to fill in, and loopback has none and does not check it); it holds only the sum of the pseudo-header"
            ),
            ChecksumStatus::NotChecked => format!(
                "Checksum 0x{found:04x}: not checked, because not all of {covers} were captured (or this is one fragment of a larger packet)"
            ),
            ChecksumStatus::Absent => format!(
                "Checksum 0x{found:04x}: none, the sender computed no checksum over {covers} (UDP over IPv4 allows that: 0 means \"no checksum\", RFC 768)"
            ),
        }
    }
}

/// Checks the IPv4 header checksum (RFC 791 §3.1: the ones'-complement of the ones'-complement sum
/// of the header's 16-bit words, computed with the checksum field as zero).
pub(crate) fn ipv4_header(header: &[u8]) -> ChecksumStatus {
    let (Some(before), Some(after), Some(found)) = (
        header.get(..10),
        header.get(12..),
        super::field::be16(header, 10),
    ) else {
        return ChecksumStatus::NotChecked;
    };
    let sum = Sum16BitWords::new().add_slice(before).add_slice(after);
    verdict(sum, found)
}

/// The addresses of the pseudo-header that the TCP, UDP and ICMPv6 checksums also cover, so a
/// segment delivered to the wrong host fails the check (RFC 9293 §3.1, RFC 768; for IPv6 RFC 8200
/// §8.1 and RFC 4443 §2.3). ICMP for IPv4 has no pseudo-header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PseudoHeader {
    /// IPv4: source, destination, zero, protocol, 16-bit transport length.
    V4 { src: [u8; 4], dst: [u8; 4] },
    /// IPv6: source, destination, 32-bit upper-layer length, three zero bytes, next header.
    V6 { src: [u8; 16], dst: [u8; 16] },
}

impl PseudoHeader {
    /// The ones'-complement sum of the pseudo-header for a transport message of `len` bytes of
    /// `protocol` (6 TCP, 17 UDP, 58 ICMPv6), or `None` when the length does not fit the IPv4
    /// pseudo-header's 16-bit field.
    fn sum(&self, protocol: u8, len: u32) -> Option<Sum16BitWords> {
        let mut sum = Sum16BitWords::new();
        Some(match self {
            PseudoHeader::V4 { src, dst } => sum
                .add_4bytes(*src)
                .add_4bytes(*dst)
                .add_2bytes([0, protocol])
                .add_2bytes(u16::try_from(len).ok()?.to_be_bytes()),
            PseudoHeader::V6 { src, dst } => sum
                .add_16bytes(*src)
                .add_16bytes(*dst)
                .add_4bytes(len.to_be_bytes())
                .add_4bytes([0, 0, 0, protocol]),
        })
    }
}

/// Checks a TCP checksum. `tcp_len` is the segment length the IP header claims (header plus
/// payload); `segment` is what was captured of it; `complete` is false when the IP packet is a
/// fragment, whose checksum covers bytes in other packets.
///
/// The offload test comes first: it costs a few additions, and on loopback captures it matches
/// every segment, so the payload is never summed there. (A real checksum that happens to equal
/// the pseudo-header sum, a 1-in-32768 chance, is therefore reported as offloaded.)
pub(crate) fn tcp(
    pseudo: &PseudoHeader,
    tcp_len: u32,
    segment: &[u8],
    complete: bool,
) -> ChecksumStatus {
    transport(pseudo, 6, 16, tcp_len, segment, complete)
}

/// Checks a UDP checksum (RFC 768), as [`tcp`] does; over IPv4 a field of 0 means the sender
/// computed none ([`ChecksumStatus::Absent`]). Over IPv6 a checksum is mandatory (RFC 8200 §8.1),
/// so 0 there is judged like any other value (and is wrong).
pub(crate) fn udp(
    pseudo: &PseudoHeader,
    udp_len: u32,
    datagram: &[u8],
    complete: bool,
) -> ChecksumStatus {
    if matches!(pseudo, PseudoHeader::V4 { .. }) && super::field::be16(datagram, 6) == Some(0) {
        return ChecksumStatus::Absent;
    }
    transport(pseudo, 17, 6, udp_len, datagram, complete)
}

/// Checks an ICMPv6 checksum (RFC 4443 §2.3: over the message and the IPv6 pseudo-header with
/// next header 58). The kernel computes ICMP checksums itself, so none is ever offloaded.
pub(crate) fn icmpv6(
    pseudo: &PseudoHeader,
    len: u32,
    message: &[u8],
    complete: bool,
) -> ChecksumStatus {
    let (Some(found), Some(pseudo_sum)) = (super::field::be16(message, 2), pseudo.sum(58, len))
    else {
        return ChecksumStatus::NotChecked;
    };
    summed(pseudo_sum, 2, len, message, complete, found)
}

/// Checks an ICMP (IPv4) checksum (RFC 792: over the ICMP message only, no pseudo-header).
pub(crate) fn icmpv4(len: u32, message: &[u8], complete: bool) -> ChecksumStatus {
    let Some(found) = super::field::be16(message, 2) else {
        return ChecksumStatus::NotChecked;
    };
    summed(Sum16BitWords::new(), 2, len, message, complete, found)
}

/// A transport checksum at byte `at` of `message` (`len` bytes as the IP header claims it),
/// covering the pseudo-header for `protocol`: offloaded, verified, wrong or not checked.
fn transport(
    pseudo: &PseudoHeader,
    protocol: u8,
    at: usize,
    len: u32,
    message: &[u8],
    complete: bool,
) -> ChecksumStatus {
    let (Some(found), Some(pseudo_sum)) =
        (super::field::be16(message, at), pseudo.sum(protocol, len))
    else {
        return ChecksumStatus::NotChecked;
    };
    if is_pseudo_only(&pseudo_sum, found) {
        return ChecksumStatus::Offloaded { found };
    }
    summed(pseudo_sum, at, len, message, complete, found)
}

/// Adds the message (all but its checksum field at `at`) to `sum` and judges the field, when the
/// whole message was captured and is not one fragment of a larger packet.
fn summed(
    sum: Sum16BitWords,
    at: usize,
    len: u32,
    message: &[u8],
    complete: bool,
    found: u16,
) -> ChecksumStatus {
    let whole = complete && usize::try_from(len).is_ok_and(|len| len == message.len());
    match (whole, message.get(..at), message.get(at + 2..)) {
        (true, Some(before), Some(after)) => verdict(sum.add_slice(before).add_slice(after), found),
        _ => ChecksumStatus::NotChecked,
    }
}

/// Linux leaves a "partial" checksum for the card to finish: the folded pseudo-header sum, which
/// it writes as `~csum_tcpudp_magic(saddr, daddr, len, proto, 0)`. Some stacks store its
/// complement instead; both are accepted.
fn is_pseudo_only(pseudo_sum: &Sum16BitWords, found: u16) -> bool {
    let complement = field_value(pseudo_sum.ones_complement());
    found == complement || found == !complement
}

/// Compares a field with the sum of everything else it covers. Adding the field to the sum must
/// give all ones (0xffff); this also accepts the other zero of ones'-complement arithmetic.
fn verdict(sum_without_field: Sum16BitWords, found: u16) -> ChecksumStatus {
    let expected = field_value(sum_without_field.clone().ones_complement());
    if sum_without_field
        .add_2bytes(found.to_be_bytes())
        .ones_complement()
        == 0
    {
        ChecksumStatus::Verified
    } else {
        ChecksumStatus::Wrong { found, expected }
    }
}

/// etherparse sums native-endian words (faster), so its result has the field's bytes in memory
/// order; this turns it into the number the big-endian field holds.
fn field_value(native: u16) -> u16 {
    u16::from_be_bytes(native.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example header from Wikipedia's "IPv4 header checksum" article.
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, // version 4, IHL 5, DSCP/ECN 0, total length 115
        0x00, 0x00, 0x40, 0x00, // identification 0, DF, offset 0
        0x40, 0x11, 0xb8, 0x61, // TTL 64, protocol UDP, checksum 0xb861
        0xc0, 0xa8, 0x00, 0x01, // source 192.168.0.1
        0xc0, 0xa8, 0x00, 0xc7, // destination 192.168.0.199
    ];

    #[test]
    fn ipv4_header_checksum_verified_and_wrong() {
        assert_eq!(ipv4_header(&HEADER), ChecksumStatus::Verified);
        let mut bad = HEADER;
        bad[8] = 0x3f; // TTL decremented without updating the checksum
        assert_eq!(
            ipv4_header(&bad),
            ChecksumStatus::Wrong {
                found: 0xb861,
                expected: 0xb961
            }
        );
        assert_eq!(ipv4_header(&HEADER[..11]), ChecksumStatus::NotChecked);
    }

    #[test]
    fn tcp_checksum_offload_is_the_pseudo_header_sum() {
        let pseudo = PseudoHeader::V4 {
            src: [127, 0, 0, 1],
            dst: [127, 0, 0, 1],
        };
        // pseudo-header words: 7f00 0001 7f00 0001 0006 0014 -> sum 0xfe1c
        let mut segment = [0u8; 20];
        segment[12] = 0x50;
        segment[16..18].copy_from_slice(&0xfe1cu16.to_be_bytes());
        assert_eq!(
            tcp(&pseudo, 20, &segment, true),
            ChecksumStatus::Offloaded { found: 0xfe1c }
        );
        segment[16..18].copy_from_slice(&0x01e3u16.to_be_bytes()); // its complement
        assert_eq!(
            tcp(&pseudo, 20, &segment, true),
            ChecksumStatus::Offloaded { found: 0x01e3 }
        );
        // A truncated segment can still be recognised as offloaded, but not verified.
        segment[16..18].copy_from_slice(&0x1234u16.to_be_bytes());
        assert_eq!(tcp(&pseudo, 40, &segment, true), ChecksumStatus::NotChecked);
        assert_eq!(
            tcp(&pseudo, 70_000, &segment, true),
            ChecksumStatus::NotChecked
        );
    }

    #[test]
    fn status_texts() {
        let s = ChecksumStatus::Offloaded { found: 0x1c46 };
        assert_eq!(s.value(0x1c46), "0x1c46 [offloaded]");
        assert!(s.meaning(0x1c46, "x").starts_with(
            "Checksum 0x1c46: not filled in (offloaded — normal on loopback: the sender's kernel"
        ));
        let w = ChecksumStatus::Wrong {
            found: 1,
            expected: 2,
        };
        assert_eq!(w.value(1), "0x0001 [wrong, should be 0x0002]");
    }
}
