//! The same IP packet seen on several links: a capture of every interface of a path of routers
//! holds each packet once per interface it crossed. Those copies differ only where a router
//! changes a packet — the link addresses, the TTL (hop limit) and so the IPv4 header checksum —
//! and are byte-identical above IP (TCP header, TLS record, ciphertext).
//!
//! A frame is a copy of an earlier one when both carry an IP packet with the same addresses,
//! protocol and IPv4 identification (IPv6 flow label), the same bytes above the IP header, on
//! another interface that has not yet seen that packet, within [`COPY_WINDOW`] of it. Only the
//! first one captured (on the sender's link) goes through TCP and TLS: a copy is never taken for
//! a retransmission.
//!
//! A router that fragments a packet too large for its next link (IPv4, "don't fragment" clear)
//! sends pieces that are no copy: each carries a slice of the packet's data. A fragment is a
//! **piece of** an earlier original on another interface when both have the same addresses,
//! protocol and identification and the earlier one (whole, or itself a larger fragment from an
//! earlier link) holds the fragment's data at the fragment's offset, byte for byte
//! ([`PieceIndex`]). The pieces are still put together (per interface) to show the packet they
//! make, but TCP and UDP see that packet once, as its whole original.
//!
//! A TCP segment changed in transit (an attacker on a link: `trace --attack`) is an **altered
//! copy**: the same addresses, protocol, identification and length, captured on another
//! interface within [`COPY_WINDOW`], with the same TCP header except its checksum and at most
//! [`MAX_ALTERED_BYTES`] bytes of data different. It is a copy (TCP sees the segment once, as
//! sent), and its [`HopCheck`] lists the bytes that changed.
//!
//! Interfaces named as packetpath's lab names them (`client-eth0`, `r1-eth0`, `r1-eth1`, …,
//! `server-eth0`) have a place on the path, which orders the copies and says how many routers
//! lie between two of them.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::dissect::IpInfo;
use crate::frame::{Frame, Timestamp};

/// How far apart in time two copies of one packet may be (a rate-limited, delayed path holds a
/// packet for a while; a retransmission comes on the same interface, never as a copy).
pub const COPY_WINDOW: i128 = 10_000_000_000;

/// The most data bytes an altered copy may differ in (an attacker flips one; more is another
/// segment).
pub const MAX_ALTERED_BYTES: usize = 8;

/// Where an interface sits on a path of routers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopPlace {
    /// The node it belongs to: `client`, `r1` …, `server`.
    pub node: String,
    /// The link it is an end of, from 1 on the client's side.
    pub link: u32,
    /// Its place along the path: 0 for `client-eth0`, then `r1-eth0`, `r1-eth1`, … .
    pub position: u32,
}

/// The places of interfaces named `names`, as the lab names them; `None` for another name.
pub fn places(names: &[String]) -> Vec<Option<HopPlace>> {
    let router = |name: &str| -> Option<(u32, u32)> {
        let rest = name.strip_prefix('r')?;
        let (n, side) = rest.split_once("-eth")?;
        let n = n.parse::<u32>().ok().filter(|n| *n > 0)?;
        let side = side.parse::<u32>().ok().filter(|s| *s <= 1)?;
        Some((n, side))
    };
    let routers = names
        .iter()
        .filter_map(|n| router(n))
        .map(|(n, _)| n)
        .max()
        .unwrap_or(0);
    names
        .iter()
        .map(|name| match name.as_str() {
            "client-eth0" => Some(HopPlace {
                node: "client".into(),
                link: 1,
                position: 0,
            }),
            "server-eth0" => Some(HopPlace {
                node: "server".into(),
                link: routers + 1,
                position: 2 * routers + 1,
            }),
            other => router(other).map(|(n, side)| HopPlace {
                node: format!("r{n}"),
                link: n + side,
                position: 2 * n - 1 + side,
            }),
        })
        .collect()
}

/// What identifies one IP packet on every link it crosses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PacketKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    /// IPv4 identification, or the IPv6 flow label.
    id: Option<u32>,
    /// Bytes above the IP header: how many, and a hash of them.
    above_len: usize,
    above_hash: u64,
}

/// The bytes above the IP header of a frame's packet.
pub fn above_ip<'a>(data: &'a [u8], ip: &IpInfo) -> &'a [u8] {
    data.get(ip.header.end..ip.packet.end).unwrap_or_default()
}

fn key(data: &[u8], ip: &IpInfo) -> PacketKey {
    let above = above_ip(data, ip);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    above.hash(&mut h);
    PacketKey {
        src: ip.src,
        dst: ip.dst,
        protocol: ip.protocol,
        id: if ip.version == 4 {
            ip.identification
        } else {
            ip.flow_label
        },
        above_len: above.len(),
        above_hash: h.finish(),
    }
}

/// A TCP segment with data, by everything but the bytes above IP: to find altered copies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LooseKey {
    src: IpAddr,
    dst: IpAddr,
    id: Option<u32>,
    above_len: usize,
}

/// The packets seen so far, to recognise their copies.
#[derive(Debug, Default)]
pub(crate) struct CopyIndex {
    /// Frames that are no copy (originals), by packet.
    originals: HashMap<PacketKey, Vec<u32>>,
    /// Originals that are TCP segments with data, by [`LooseKey`].
    segments: HashMap<LooseKey, Vec<u32>>,
    /// Each original's copies, in capture order.
    copies: HashMap<u32, Vec<u32>>,
}

impl CopyIndex {
    /// The original `frame` (number `number`, packet `ip`) is a copy of, if any, and whether it
    /// is an altered copy (its bytes above IP differ); otherwise it is remembered as an original.
    /// `earlier(n)` gives frame `n`.
    pub(crate) fn push<'a>(
        &mut self,
        number: u32,
        frame: &Frame,
        ip: &IpInfo,
        earlier: impl Fn(u32) -> Option<&'a Frame>,
    ) -> Option<(u32, bool)> {
        let key = key(&frame.data, ip);
        let above = above_ip(&frame.data, ip);
        let candidates = self.originals.get(&key).map_or(&[][..], Vec::as_slice);
        let found = candidates.iter().rev().copied().find(|&o| {
            self.may_be_copy(o, frame, &earlier).is_some_and(|orig| {
                crate::dissect::dissect_without_tcp_checksum(orig.link, &orig.data)
                    .ip
                    .is_some_and(|oip| above_ip(&orig.data, &oip) == above)
            })
        });
        // TCP with data (more bytes above IP than the TCP header's own length), or any TCP
        // segment over IPv4, whose identification tells a renumbered copy from another segment.
        let tcp_header = usize::from(above.get(12).map_or(0, |b| b >> 4)) * 4;
        let loose = (ip.protocol == 6 && (above.len() > tcp_header || ip.version == 4)).then_some(
            LooseKey {
                src: ip.src,
                dst: ip.dst,
                id: key.id,
                above_len: above.len(),
            },
        );
        let found = found.map(|o| (o, false)).or_else(|| {
            let altered = self.segments.get(loose.as_ref()?)?;
            altered
                .iter()
                .rev()
                .take(64)
                .copied()
                .find(|&o| {
                    self.may_be_copy(o, frame, &earlier)
                        .is_some_and(|orig| altered_segment(orig, frame))
                })
                .map(|o| (o, true))
        });
        match found {
            Some((o, altered)) => {
                self.copies.entry(o).or_default().push(number);
                Some((o, altered))
            }
            None => {
                if let Some(loose) = loose {
                    self.segments.entry(loose).or_default().push(number);
                }
                self.originals.entry(key).or_default().push(number);
                None
            }
        }
    }

    /// Original `o` (frame `earlier(o)`) if `frame` could be a copy of it: captured on an
    /// interface that has not seen that packet yet, within [`COPY_WINDOW`] of it.
    fn may_be_copy<'a>(
        &self,
        o: u32,
        frame: &Frame,
        earlier: &impl Fn(u32) -> Option<&'a Frame>,
    ) -> Option<&'a Frame> {
        let orig = earlier(o)?;
        let seen_here = orig.interface == frame.interface
            || self.copies.get(&o).is_some_and(|c| {
                c.iter()
                    .any(|&n| earlier(n).is_some_and(|f| f.interface == frame.interface))
            });
        let close = frame.at.0.abs_diff(orig.at.0) <= COPY_WINDOW as u128;
        (!seen_here && close).then_some(orig)
    }

    /// The copies of original `number`, in capture order.
    pub(crate) fn copies(&self, number: u32) -> &[u32] {
        self.copies.get(&number).map_or(&[], Vec::as_slice)
    }

    /// Forgets the frames before `number` (a trace that forgets its past).
    pub(crate) fn forget_before(&mut self, number: u32) {
        forget_numbers(&mut self.originals, number);
        forget_numbers(&mut self.segments, number);
        self.copies.retain(|&original, _| original >= number);
    }
}

/// Drops the frame numbers before `number` from each list (in capture order), and the lists left
/// empty.
fn forget_numbers<K>(map: &mut HashMap<K, Vec<u32>>, number: u32) {
    map.retain(|_, frames| {
        let gone = frames.partition_point(|&n| n < number);
        frames.drain(..gone);
        !frames.is_empty()
    });
}

/// IPv4 originals by (source, destination, protocol, identification), to recognise the pieces a
/// router cut them into on the next link.
#[derive(Debug, Default)]
pub(crate) struct PieceIndex {
    originals: HashMap<(IpAddr, IpAddr, u8, u32), Vec<u32>>,
}

/// Where an IPv4 packet's data lies in the original datagram: (offset, bytes); for a whole
/// packet, offset 0 and everything above the header.
fn data_span<'a>(data: &'a [u8], ip: &IpInfo) -> (usize, &'a [u8]) {
    (usize::from(ip.fragment_offset), above_ip(data, ip))
}

impl PieceIndex {
    /// Forgets the frames before `number` (a trace that forgets its past).
    pub(crate) fn forget_before(&mut self, number: u32) {
        forget_numbers(&mut self.originals, number);
    }

    /// Remembers an original IPv4 packet (whole or a fragment), frame `number`.
    pub(crate) fn remember(&mut self, number: u32, ip: &IpInfo) {
        if ip.version != 4 {
            return;
        }
        let Some(id) = ip.identification else { return };
        self.originals
            .entry((ip.src, ip.dst, ip.protocol, id))
            .or_default()
            .push(number);
    }

    /// The earlier original (on another interface, within [`COPY_WINDOW`]) that fragment
    /// `frame` is a piece of: one that holds this fragment's data at its offset, byte for byte,
    /// and more besides (an equal span would be a copy). The most recent such frame: for a packet
    /// fragmented twice, the fragment it was cut from on the link before.
    pub(crate) fn piece_of<'a>(
        &self,
        frame: &Frame,
        ip: &IpInfo,
        earlier: impl Fn(u32) -> Option<&'a Frame>,
    ) -> Option<u32> {
        if ip.version != 4 || !ip.is_fragment() {
            return None;
        }
        let id = ip.identification?;
        let (offset, bytes) = data_span(&frame.data, ip);
        let candidates = self.originals.get(&(ip.src, ip.dst, ip.protocol, id))?;
        candidates.iter().rev().copied().find(|&n| {
            let Some(orig) = earlier(n) else {
                return false;
            };
            if orig.interface == frame.interface
                || frame.at.0.abs_diff(orig.at.0) > COPY_WINDOW as u128
            {
                return false;
            }
            let p = crate::dissect::dissect_without_tcp_checksum(orig.link, &orig.data);
            let Some(oip) = p.ip.as_ref() else {
                return false;
            };
            let (o_offset, o_bytes) = data_span(&orig.data, oip);
            let Some(start) = offset.checked_sub(o_offset) else {
                return false;
            };
            o_bytes.len() > bytes.len() && o_bytes.get(start..start + bytes.len()) == Some(bytes)
        })
    }
}

/// What changed between a packet's original and one of its copies, and what did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopCheck {
    /// The copy's frame.
    pub frame: u32,
    /// The original's frame (the first captured, on the sender's link).
    pub original: u32,
    /// The original's TTL (hop limit) and the copy's.
    pub ttl_before: u8,
    /// The copy's TTL.
    pub ttl: u8,
    /// How many routers lie between the two interfaces (from their names), if known.
    pub routers: Option<u32>,
    /// The copy's MAC addresses (source, destination) and the original's.
    pub macs: Option<([u8; 6], [u8; 6])>,
    /// The original's MAC addresses.
    pub macs_before: Option<([u8; 6], [u8; 6])>,
    /// The copy's IPv4 header checksum and whether it verifies (recomputed by each router).
    pub checksum: Option<(u16, crate::dissect::ChecksumStatus)>,
    /// The original's IPv4 header checksum.
    pub checksum_before: Option<u16>,
    /// How many bytes lie above the IP header, and whether they are byte-identical.
    pub above_ip_len: usize,
    /// True when everything above IP is the same bytes in both.
    pub above_ip_identical: bool,
    /// Where they differ above IP (an altered copy): the offset from the end of the IP header,
    /// the original's byte and the copy's; at most 16.
    pub changed: Vec<(usize, u8, u8)>,
}

impl HopCheck {
    /// True when the TTL went down by exactly one per router crossed (unknown: `None`).
    pub fn ttl_as_expected(&self) -> Option<bool> {
        self.routers
            .map(|r| u32::from(self.ttl_before).checked_sub(u32::from(self.ttl)) == Some(r))
    }
}

/// Compares a copy with its original.
pub(crate) fn check(
    original: (u32, &Frame),
    copy: (u32, &Frame),
    routers: Option<u32>,
) -> Option<HopCheck> {
    let a = crate::dissect::dissect_without_tcp_checksum(original.1.link, &original.1.data);
    let b = crate::dissect::dissect(copy.1.link, &copy.1.data);
    let (aip, bip) = (a.ip.as_ref()?, b.ip.as_ref()?);
    let macs = |p: &crate::dissect::Packet| p.link.as_ref().and_then(|l| Some((l.src?, l.dst?)));
    let checksum_field = |data: &[u8], ip: &IpInfo| {
        (ip.version == 4)
            .then(|| data.get(ip.header.start + 10..ip.header.start + 12))
            .flatten()
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let above_a = above_ip(&original.1.data, aip);
    let above_b = above_ip(&copy.1.data, bip);
    Some(HopCheck {
        frame: copy.0,
        original: original.0,
        ttl_before: aip.ttl,
        ttl: bip.ttl,
        routers,
        macs: macs(&b),
        macs_before: macs(&a),
        checksum: checksum_field(&copy.1.data, bip).zip(bip.checksum),
        checksum_before: checksum_field(&original.1.data, aip),
        above_ip_len: above_b.len(),
        above_ip_identical: above_a == above_b,
        changed: above_a
            .iter()
            .zip(above_b)
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| (i, *x, *y))
            .take(16)
            .collect(),
    })
}

/// True if `copy` is `original`'s TCP segment with a few bytes of its data changed, or (over
/// IPv4, where the identification ties the two together) renumbered: the same TCP header but
/// for the checksum (and over IPv4 the sequence and acknowledgment numbers), the same length, at
/// most [`MAX_ALTERED_BYTES`] data bytes different, and something different.
fn altered_segment(original: &Frame, copy: &Frame) -> bool {
    let a = crate::dissect::dissect_without_tcp_checksum(original.link, &original.data);
    let b = crate::dissect::dissect_without_tcp_checksum(copy.link, &copy.data);
    let (Some(at), Some(bt)) = (a.tcp.as_ref(), b.tcp.as_ref()) else {
        return false;
    };
    let renumbered = a.ip.as_ref().is_some_and(|ip| ip.version == 4);
    let header = |data: &[u8], range: &std::ops::Range<usize>| {
        let h = data.get(range.clone()).unwrap_or_default();
        // Everything but the checksum (bytes 16 and 17), and over IPv4 but the sequence and
        // acknowledgment numbers (bytes 4 to 11).
        let numbers = if renumbered { 12 } else { 4 };
        (
            h.get(..4).unwrap_or_default().to_vec(),
            h.get(numbers..12).unwrap_or_default().to_vec(),
            h.get(12..16).unwrap_or_default().to_vec(),
            h.get(18..).unwrap_or_default().to_vec(),
        )
    };
    if header(&original.data, &at.header) != header(&copy.data, &bt.header) {
        return false;
    }
    let (pa, pb) = (
        original.data.get(a.payload.clone()).unwrap_or_default(),
        copy.data.get(b.payload.clone()).unwrap_or_default(),
    );
    if pa.len() != pb.len() {
        return false;
    }
    let differing = pa.iter().zip(pb).filter(|(x, y)| x != y).count();
    let numbers_differ = (at.seq, at.ack) != (bt.seq, bt.ack);
    differing <= MAX_ALTERED_BYTES && (differing > 0 || numbers_differ)
}

/// The time between two frames, in milliseconds.
pub fn millis_between(a: Timestamp, b: Timestamp) -> f64 {
    (b.0 - a.0) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_interface_names_have_places_on_the_path() {
        let names: Vec<String> = [
            "client-eth0",
            "r1-eth0",
            "r1-eth1",
            "r2-eth0",
            "r2-eth1",
            "server-eth0",
            "lo",
        ]
        .map(String::from)
        .to_vec();
        let p = places(&names);
        let got: Vec<Option<(String, u32, u32)>> = p
            .into_iter()
            .map(|p| p.map(|p| (p.node, p.link, p.position)))
            .collect();
        assert_eq!(
            got,
            vec![
                Some(("client".into(), 1, 0)),
                Some(("r1".into(), 1, 1)),
                Some(("r1".into(), 2, 2)),
                Some(("r2".into(), 2, 3)),
                Some(("r2".into(), 3, 4)),
                Some(("server".into(), 3, 5)),
                None,
            ]
        );
    }

    fn segment(payload: &[u8], seq: u32) -> Frame {
        segment_over(payload, seq, false)
    }

    fn segment_over(payload: &[u8], seq: u32, v6: bool) -> Frame {
        let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let builder = if v6 {
            builder.ipv6([0xfd; 16], [0xfe; 16], 64)
        } else {
            builder.ipv4([10, 73, 1, 1], [10, 73, 2, 2], 64)
        };
        let builder = builder.tcp(40000, 8443, seq, 64000).ack(7);
        let mut data = Vec::new();
        builder.write(&mut data, payload).expect("a frame");
        Frame {
            at: Timestamp(0),
            link: crate::frame::LinkType::Ethernet,
            orig_len: data.len() as u32,
            interface: 0,
            data: data.into(),
        }
    }

    #[test]
    fn an_altered_segment_differs_in_a_few_data_bytes_and_nothing_else() {
        let original = segment(b"hi there\n", 1000);
        // One letter changed (the checksum differs too, as it must).
        assert!(altered_segment(&original, &segment(b"Hi there\n", 1000)));
        // Over IPv4 (the identification ties them), renumbered by an attacker hiding a replay or
        // a removal: with or without data.
        assert!(altered_segment(&original, &segment(b"hi there\n", 1040)));
        assert!(altered_segment(&segment(b"", 1000), &segment(b"", 960)));
        // Over IPv6 another sequence number is another segment.
        assert!(!altered_segment(
            &segment_over(b"hi there\n", 1000, true),
            &segment_over(b"hi there\n", 1001, true)
        ));
        assert!(altered_segment(
            &segment_over(b"hi there\n", 1000, true),
            &segment_over(b"hi there.", 1000, true)
        ));
        // Another segment: other length, too many bytes, no data and nothing changed.
        assert!(!altered_segment(&original, &segment(b"hi there!\n", 1000)));
        assert!(!altered_segment(&original, &segment(b"xxxxxxxxx", 1000)));
        assert!(
            !altered_segment(&original, &original.clone()),
            "identical is a copy, not altered"
        );
        assert!(!altered_segment(&segment(b"", 1000), &segment(b"", 1000)));
    }
}

#[cfg(test)]
mod piece_tests {
    use crate::frame::{Frame, LinkType, Timestamp};
    use crate::journey::Trace;

    /// An Ethernet + IPv4 packet 10.73.1.1 → 10.73.3.2, protocol TCP, identification 0x4242,
    /// "don't fragment" clear, carrying `data` (a TCP header and payload) from `offset`, with
    /// More fragments as given; TTL `ttl`.
    fn ipv4(data: &[u8], offset: usize, more: bool, ttl: u8) -> Vec<u8> {
        let mut f = vec![2, 0x73, 0, 0, 1, 2, 2, 0x73, 0, 0, 1, 1, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&(20 + data.len() as u16).to_be_bytes());
        f.extend_from_slice(&[0x42, 0x42]);
        let word = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        f.extend_from_slice(&word.to_be_bytes());
        f.extend_from_slice(&[ttl, 6, 0, 0, 10, 73, 1, 1, 10, 73, 3, 2]);
        f.extend_from_slice(data);
        f
    }

    fn frame(data: Vec<u8>, interface: u32, at_us: i128) -> Frame {
        let orig_len = data.len() as u32;
        Frame {
            at: Timestamp(at_us * 1000),
            link: LinkType::Ethernet,
            data: data.into(),
            orig_len,
            interface,
        }
    }

    /// A TCP segment seen whole on link 1, cut into two fragments by r1 for link 2: the
    /// fragments are pieces of the whole packet, are put together on r1-eth1, and TCP sees the
    /// segment once (no retransmission), sharing the original's place in its connection; their
    /// copies on r2-eth0 are copies of the fragments.
    #[test]
    fn router_fragments_are_pieces_of_the_whole_packet() {
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&8443u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&1000u32.to_be_bytes());
        tcp[12] = 0x50;
        tcp[13] = 0x18;
        tcp[14] = 0xff;
        tcp.extend((0..1000).map(|i| (i % 251) as u8));
        let mut trace = Trace::new();
        trace.set_interface_names(
            ["client-eth0", "r1-eth0", "r1-eth1", "r2-eth0"]
                .map(String::from)
                .to_vec(),
        );
        let whole = trace.push_frame(frame(ipv4(&tcp, 0, false, 64), 0, 0));
        let copy = trace.push_frame(frame(ipv4(&tcp, 0, false, 64), 1, 10));
        let a = trace.push_frame(frame(ipv4(&tcp[..552], 0, true, 63), 2, 20));
        let a2 = trace.push_frame(frame(ipv4(&tcp[..552], 0, true, 63), 3, 25));
        let b = trace.push_frame(frame(ipv4(&tcp[552..], 552, false, 63), 2, 30));
        assert_eq!(trace.frame(copy).and_then(|e| e.copy_of), Some(whole));
        assert_eq!(trace.piece_of(a), Some(whole));
        assert_eq!(trace.piece_of(b), Some(whole));
        assert_eq!(trace.frame(a2).and_then(|e| e.copy_of), Some(a));
        assert_eq!(trace.piece_of(copy), None);
        let d = trace.fragment_of(b).expect("a datagram");
        assert_eq!(d.fragments, vec![a, b]);
        assert_eq!(
            d.state,
            crate::flow::DatagramState::Reassembled { frame: b }
        );
        assert_eq!(d.interface, 2);
        let original = trace.frame(whole).and_then(|e| e.segment.clone());
        let again = trace.frame(b).and_then(|e| e.segment.clone());
        assert!(original.is_some());
        assert_eq!(again, original, "TCP sees the segment once");
        assert!(!again.is_some_and(|s| s.analysis.retransmission));
        let stories = crate::report::paths::fragmented(&trace);
        assert_eq!(stories.len(), 1);
        assert_eq!(stories[0].cut_from, vec![whole]);
        assert_eq!(stories[0].cut_by.as_deref(), Some("r1"));
        let rows: Vec<(u32, bool, u32, u32)> = stories[0]
            .fragments
            .iter()
            .map(|r| (r.offset, r.more, r.offset_units, r.data_len))
            .collect();
        assert_eq!(rows, vec![(0, true, 0, 552), (552, false, 69, 468)]);
    }
}
