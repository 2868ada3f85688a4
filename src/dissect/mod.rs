//! Pure packet dissection: a captured frame's bytes in, a [`Packet`] out, which says where each
//! layer sits in the frame (link header, ARP or IP header, TCP header, payload) and what its main
//! fields hold. Nothing here does I/O, and [`dissect`] never panics, whatever the bytes.
//!
//! Dissection is lax in the way etherparse's `LaxSlicedPacket` is: every layer that parsed is
//! kept, and [`Packet::stop`] says where and why parsing stopped, so a view can point at the byte
//! that broke it. The annotated [`Field`]s a student reads are computed only on demand by
//! [`Packet::fields`], from the frame's bytes and the ranges stored here; dissecting a frame
//! allocates nothing per field.
//!
//! ```text
//! frame:  | link header | IPv4/IPv6 header (+options/ext) | TCP header (+options) | payload | padding |
//!           LinkInfo.range   IpInfo.header                  TcpInfo.header          payload   (Link)
//!                            \------------------- IpInfo.packet ------------------------------/
//! ```
//!
//! One file per protocol: `link.rs` (with `sll.rs` for Linux cooked headers), `arp.rs`, `ip.rs` (shared by) `ipv4.rs` and `ipv6.rs`,
//! `tcp.rs` with `tcp_options.rs`, `udp.rs`, `icmp.rs` (ICMP and ICMPv6); `checksum.rs` and
//! `field.rs` are shared.

use std::ops::Range;

use crate::frame::LinkType;

mod arp;
mod checksum;
mod field;
mod icmp;
mod ip;
mod ipv4;
mod ipv6;
mod link;
mod sll;
mod tcp;
mod tcp_options;
mod udp;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod transport_tests;

pub use arp::ArpInfo;
pub use checksum::ChecksumStatus;
pub(crate) use field::ip_protocol_name;
pub use field::{byte_count, DissectError, Field, Layer, StopKind};
pub use icmp::{IcmpInfo, Quoted};
pub use ip::IpInfo;
pub use link::LinkInfo;
pub use tcp::{TcpFlags, TcpInfo};
pub use tcp_options::{SackBlocks, TcpOptions, MAX_SACK_BLOCKS};
pub use udp::UdpInfo;

/// One dissected frame: where each layer is in the frame's bytes and what its main fields hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// How many bytes were captured (the frame's length as dissected).
    pub len: usize,
    /// The link-layer header, if it could be read.
    pub link: Option<LinkInfo>,
    /// The ARP packet, for ARP frames.
    pub arp: Option<ArpInfo>,
    /// The IPv4 or IPv6 packet, for IP frames.
    pub ip: Option<IpInfo>,
    /// The TCP header, for TCP segments.
    pub tcp: Option<TcpInfo>,
    /// The UDP header, for UDP datagrams (their data is [`UdpInfo::payload`]).
    pub udp: Option<UdpInfo>,
    /// The ICMP or ICMPv6 message, for those packets.
    pub icmp: Option<IcmpInfo>,
    /// TCP payload bytes within the frame (empty range if none): from the end of the TCP header
    /// to the end of the IP packet by its length field, clipped to what was captured, so Ethernet
    /// padding is excluded.
    pub payload: Range<usize>,
    /// Bytes of the IP packet that its length field counts but the capture did not keep (the
    /// snapshot length cut the frame short, as `tcpdump -s 80` does); 0 for whole frames. See
    /// [`Packet::tcp_len`] for the TCP payload's real length.
    pub not_captured: usize,
    /// Where and why parsing stopped, if it did not reach the end of what packetpath reads
    /// (malformed, cut short, or not dissected). `None` also for a complete non-TCP IP packet or a
    /// frame with a non-IP EtherType: those are fine, just outside packetpath's layers.
    pub stop: Option<DissectError>,
}

/// Dissects one frame whose bytes start with the given link-layer header. Never panics.
pub fn dissect(link: LinkType, data: &[u8]) -> Packet {
    dissect_with(link, data, true)
}

/// As [`dissect`], but the TCP and UDP checksums (sums over the whole segment) are left
/// [`ChecksumStatus::NotChecked`]. For passes that need only where the layers are and what the
/// headers say, such as following the TCP streams of a large capture; what a student is shown
/// comes from [`dissect`].
pub fn dissect_without_tcp_checksum(link: LinkType, data: &[u8]) -> Packet {
    dissect_with(link, data, false)
}

fn dissect_with(link: LinkType, data: &[u8], verify_transport: bool) -> Packet {
    let mut p = Packet::empty(data.len());
    if let Err(stop) = dissect_layers(link, data, &mut p, verify_transport) {
        p.stop = Some(stop);
    }
    p
}

/// Parses layer after layer, each storing itself in `p` before the next is tried.
fn dissect_layers(
    kind: LinkType,
    data: &[u8],
    p: &mut Packet,
    verify_transport: bool,
) -> Result<(), DissectError> {
    let start = link::parse(kind, data, p)?;
    let transport = match p.link.as_ref().map_or(0, |l| l.ethertype) {
        link::ETHERTYPE_IPV4 => ipv4::parse(data, start, p)?,
        link::ETHERTYPE_IPV6 => ipv6::parse(data, start, p)?,
        link::ETHERTYPE_ARP => return arp::parse(data, start, p),
        _ => return Ok(()),
    };
    let Some(ip) = p.ip.as_ref() else {
        return Ok(());
    };
    let version = ip.version;
    let layer = match (ip.protocol, version) {
        (ip::PROTOCOL_TCP, _) => Some(Layer::Tcp),
        (ip::PROTOCOL_UDP, _) => Some(Layer::Udp),
        (icmp::PROTOCOL_ICMP, 4) | (icmp::PROTOCOL_ICMPV6, 6) => Some(Layer::Icmp),
        _ => None,
    };
    if let Some(layer) = layer {
        if ip.fragment_offset != 0 {
            // RFC 791 §2.3 / RFC 8200 §4.5: only the first fragment carries the transport header.
            return Err(DissectError::new(
                StopKind::NotDissected,
                layer,
                transport.start,
                format!(
                    "this is a later fragment (identification 0x{:x}) whose data belongs {} bytes into the original packet; the {layer} header travelled in the first fragment, so these bytes are IP payload only",
                    ip.identification.unwrap_or(0),
                    ip.fragment_offset
                ),
            ));
        }
        let fragment = ip.is_fragment();
        p.not_captured = transport.claimed_end.saturating_sub(data.len());
        match layer {
            Layer::Tcp => tcp::parse(data, &transport, fragment, verify_transport, p)?,
            Layer::Udp => udp::parse(data, &transport, fragment, verify_transport, p)?,
            _ => icmp::parse(version, data, &transport, fragment, p)?,
        }
    }
    if transport.claimed_end > data.len() {
        p.not_captured = transport.claimed_end - data.len();
        let layer = if p.tcp.is_some() || p.udp.is_some() {
            Layer::Payload
        } else if p.icmp.is_some() {
            Layer::Icmp
        } else {
            Layer::Ip
        };
        return Err(DissectError::new(
            StopKind::Truncated,
            layer,
            data.len(),
            format!(
                "the IP packet's length says it ends at byte {}, but only {} bytes were captured: the last {} are missing (the capture's snapshot length cut the frame short)",
                transport.claimed_end,
                data.len(),
                transport.claimed_end - data.len()
            ),
        ));
    }
    Ok(())
}

impl Packet {
    /// The TCP payload's length as the headers count it (Wireshark's `tcp.len`): the bytes in
    /// the frame, plus those the snapshot length cut off. 0 without TCP.
    pub fn tcp_len(&self) -> usize {
        match &self.tcp {
            None => 0,
            Some(_) if self.not_captured == 0 => self.payload.len(),
            Some(tcp) => (self.len + self.not_captured)
                .saturating_sub(tcp.header.start + usize::from(tcp.header_len)),
        }
    }

    /// A packet with no layers yet, for a frame of `len` captured bytes.
    pub(crate) fn empty(len: usize) -> Self {
        Packet {
            len,
            link: None,
            arp: None,
            ip: None,
            tcp: None,
            udp: None,
            icmp: None,
            payload: 0..0,
            not_captured: 0,
            stop: None,
        }
    }

    /// The annotated fields of one layer, computed now from the frame's bytes (`data` must be the
    /// frame this packet was dissected from). Empty if the layer is absent.
    pub fn fields(&self, layer: Layer, data: &[u8]) -> Vec<Field> {
        match layer {
            Layer::Link => self
                .link
                .as_ref()
                .map(|l| link::fields(self, l, data))
                .unwrap_or_default(),
            Layer::Arp => self
                .arp
                .as_ref()
                .map(|a| arp::fields(a, data))
                .unwrap_or_default(),
            Layer::Ip => match &self.ip {
                Some(ip) if ip.version == 4 => ipv4::fields(ip, data),
                Some(ip) => ipv6::fields(ip, data),
                None => Vec::new(),
            },
            Layer::Icmp => self
                .icmp
                .as_ref()
                .map(|i| icmp::fields(i, data))
                .unwrap_or_default(),
            Layer::Udp => self
                .udp
                .as_ref()
                .map(|u| udp::fields(u, data))
                .unwrap_or_default(),
            Layer::Tcp => self
                .tcp
                .as_ref()
                .map(|t| tcp::fields(t, self.payload.len(), data))
                .unwrap_or_default(),
            Layer::Payload => match &self.udp {
                Some(u) => udp::payload_field(u, data),
                None => tcp::payload_fields(self, data),
            },
        }
    }

    /// The bytes a layer's header occupies (for the payload: the payload bytes), if present.
    pub fn range(&self, layer: Layer) -> Option<Range<usize>> {
        match layer {
            Layer::Link => self.link.as_ref().map(|l| l.range.clone()),
            Layer::Arp => self.arp.as_ref().map(|a| a.range.clone()),
            Layer::Ip => self.ip.as_ref().map(|ip| ip.header.clone()),
            Layer::Icmp => self.icmp.as_ref().map(|i| i.range.clone()),
            Layer::Udp => self.udp.as_ref().map(|u| u.header.clone()),
            Layer::Tcp => self.tcp.as_ref().map(|t| t.header.clone()),
            Layer::Payload => match &self.udp {
                Some(u) => (!u.payload.is_empty()).then(|| u.payload.clone()),
                None => {
                    (self.tcp.is_some() && !self.payload.is_empty()).then(|| self.payload.clone())
                }
            },
        }
    }

    /// The layers present, from the wire upwards.
    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        [
            Layer::Link,
            Layer::Arp,
            Layer::Ip,
            Layer::Icmp,
            Layer::Udp,
            Layer::Tcp,
            Layer::Payload,
        ]
        .into_iter()
        .filter(|&layer| self.range(layer).is_some())
    }

    /// Which layer the byte at `offset` belongs to, for the hex view. Bytes of an IP packet that
    /// no parsed header claims (a later fragment's data, an unknown protocol) belong to IP; Ethernet
    /// padding after the packet belongs to the link layer; bytes after a stop, or past the end,
    /// belong to none.
    pub fn layer_at(&self, offset: usize) -> Option<Layer> {
        if offset >= self.len {
            return None;
        }
        let within = |r: &Range<usize>| r.contains(&offset);
        if self.tcp.as_ref().is_some_and(|t| within(&t.header)) {
            return Some(Layer::Tcp);
        }
        if self.tcp.is_some() && within(&self.payload) {
            return Some(Layer::Payload);
        }
        if let Some(u) = &self.udp {
            if within(&u.header) {
                return Some(Layer::Udp);
            }
            if within(&u.payload) {
                return Some(Layer::Payload);
            }
        }
        if self.icmp.as_ref().is_some_and(|i| within(&i.range)) {
            return Some(Layer::Icmp);
        }
        if self
            .ip
            .as_ref()
            .is_some_and(|ip| within(&ip.header) || within(&ip.packet))
        {
            return Some(Layer::Ip);
        }
        if self.arp.as_ref().is_some_and(|a| within(&a.range)) {
            return Some(Layer::Arp);
        }
        let link = self.link.as_ref()?;
        if within(&link.range) {
            return Some(Layer::Link);
        }
        let network_end = self
            .ip
            .as_ref()
            .map(|ip| ip.packet.end)
            .or(self.arp.as_ref().map(|a| a.range.end))?;
        (!link.range.is_empty() && offset >= network_end).then_some(Layer::Link)
    }
}
