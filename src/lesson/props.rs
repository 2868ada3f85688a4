//! The properties a query can read from a packet, a TLS record, a message or a connection. Packet
//! properties are named after Wireshark's display-filter fields (`ip.ttl`, `tcp.seq`,
//! `tcp.analysis.retransmission`) so that a teacher who knows Wireshark knows them already.
//!
//! The tables below are the single source: type checking, evaluation and the reference in
//! `lessons/README.md` (a test keeps it complete) all follow them.

use crate::dissect::{ChecksumStatus, Packet, TcpFlags};
use crate::flow::Direction;
use crate::journey::FrameEntry;
use crate::tls::{alert_name, cipher_suite_name, encode_hex, group_name, version_name};

use super::query::Context;
use super::value::{Ty, Value};

/// The kinds of things that have properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A captured frame.
    Packet,
    /// A TLS record.
    Record,
    /// An application message.
    Message,
    /// A TCP connection.
    Conn,
}

impl Entity {
    /// The entity a value is, if it is one.
    pub fn of(v: &Value) -> Option<Entity> {
        match v {
            Value::Packet(_) => Some(Entity::Packet),
            Value::Record(_) => Some(Entity::Record),
            Value::Message(_) => Some(Entity::Message),
            Value::Conn(_) => Some(Entity::Conn),
            _ => None,
        }
    }

    fn of_ty(ty: &Ty) -> Option<Entity> {
        match ty {
            Ty::Packet => Some(Entity::Packet),
            Ty::Record => Some(Entity::Record),
            Ty::Message => Some(Entity::Message),
            Ty::Conn => Some(Entity::Conn),
            _ => None,
        }
    }

    /// Its property table.
    pub fn props(self) -> &'static [PropDef] {
        match self {
            Entity::Packet => PACKET_PROPS,
            Entity::Record => RECORD_PROPS,
            Entity::Message => MESSAGE_PROPS,
            Entity::Conn => CONN_PROPS,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Entity::Packet => "a packet",
            Entity::Record => "a TLS record",
            Entity::Message => "a message",
            Entity::Conn => "a connection",
        }
    }
}

/// The type of a property, in a form tables can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PTy {
    /// A number.
    Num,
    /// A text.
    Text,
    /// Yes/no.
    Bool,
    /// A packet.
    Packet,
    /// A connection.
    Conn,
    /// A list of packets.
    Packets,
    /// A list of TLS records.
    Records,
    /// A list of texts.
    Texts,
    /// A list of numbers.
    Nums,
}

impl PTy {
    /// As a query type.
    pub fn ty(self) -> Ty {
        match self {
            PTy::Num => Ty::Num,
            PTy::Text => Ty::Text,
            PTy::Bool => Ty::Bool,
            PTy::Packet => Ty::Packet,
            PTy::Conn => Ty::Conn,
            PTy::Packets => Ty::List(Box::new(Ty::Packet)),
            PTy::Records => Ty::List(Box::new(Ty::Record)),
            PTy::Texts => Ty::List(Box::new(Ty::Text)),
            PTy::Nums => Ty::List(Box::new(Ty::Num)),
        }
    }

    /// Whether a value of this type has properties of its own (`.frame.tcp.seq`).
    fn has_props(self) -> bool {
        matches!(self, PTy::Packet | PTy::Conn | PTy::Packets | PTy::Records)
    }
}

/// One property: its dotted name, type and meaning (shown in the teachers' reference).
#[derive(Debug, Clone, Copy)]
pub struct PropDef {
    /// The dotted name.
    pub name: &'static str,
    /// Its type.
    pub ty: PTy,
    /// What it means.
    pub doc: &'static str,
}

const fn p(name: &'static str, ty: PTy, doc: &'static str) -> PropDef {
    PropDef { name, ty, doc }
}

/// Properties of a packet (a captured frame).
pub const PACKET_PROPS: &[PropDef] = &[
    p("frame", PTy::Text, "the whole frame's bytes as text, for `contains` (bytes that are not text show as �); as a filter on its own, every frame"),
    p("eth", PTy::Bool, "the frame has an Ethernet header"),
    p("arp", PTy::Bool, "the frame is an ARP packet"),
    p("ip", PTy::Bool, "the frame carries an IP packet, IPv4 or IPv6 (in Wireshark `ip` is IPv4 only: write `ip.version == 4`)"),
    p("ipv6", PTy::Bool, "the frame carries an IPv6 packet"),
    p("tcp", PTy::Bool, "the frame carries a TCP segment"),
    p("udp", PTy::Bool, "the frame carries a UDP datagram"),
    p("icmp", PTy::Bool, "the frame carries an ICMP or ICMPv6 message (in Wireshark `icmp` is ICMP for IPv4 only: write `icmpv6` for IPv6's)"),
    p("icmpv6", PTy::Bool, "the frame carries an ICMPv6 message"),
    p("tls", PTy::Bool, "the frame carries the first or the last byte of a TLS record (the frames Wireshark marks as TLS; the ones in between are only TCP)"),
    p("frame.number", PTy::Num, "the frame's number in the capture, from 1"),
    p("frame.len", PTy::Num, "bytes of the whole frame, link-layer header included"),
    p("frame.time_ms", PTy::Num, "milliseconds since the first frame of the capture"),
    p("frame.interface_name", PTy::Text, "the capture interface the frame was seen on (pcapng if_name, as Wireshark's frame.interface_name): on a path of routers \"client-eth0\", \"r1-eth0\", \"r1-eth1\", …, \"server-eth0\""),
    p("hop.node", PTy::Text, "on a path of routers: the node whose interface saw the frame, \"client\", \"r1\", \"r2\", … or \"server\""),
    p("hop.link", PTy::Num, "on a path of routers: the link the interface is an end of, from 1 on the client's side"),
    p("hop.position", PTy::Num, "on a path of routers: the interface's place along the path, 0 for client-eth0, then r1-eth0, r1-eth1, … (2 × routers + 1 for server-eth0)"),
    p("copy_of", PTy::Packet, "on a path of routers: the frame this one is a copy of (the same IP packet, first captured on the sender's link); missing for that first frame"),
    p("path", PTy::Packets, "the frames carrying the same IP packet, in order along its path from the sender's link (only this frame for a packet captured once): `syn(alice).path.ip.ttl` gives the SYN's TTL on every interface"),
    p("above_ip", PTy::Text, "the bytes above the IP header (the TCP header and data, so the TLS records) in hex: the same on every link of a path"),
    p("kind", PTy::Text, "\"tcp\", \"udp\", \"icmp\" (ICMP or ICMPv6), \"arp\" or \"other\""),
    p("from", PTy::Text, "\"client\" or \"server\": which end of its TCP connection sent it"),
    p("client", PTy::Text, "the name of the client whose connection the segment belongs to"),
    p("eth.src", PTy::Text, "the sender's MAC address, e.g. \"02:1a:…\" (all zeros on loopback)"),
    p("eth.dst", PTy::Text, "the receiver's MAC address (ff:ff:ff:ff:ff:ff is broadcast)"),
    p("eth.type", PTy::Text, "the EtherType as hex: \"0x0800\" IPv4, \"0x86dd\" IPv6, \"0x0806\" ARP"),
    p("eth.hdr_len", PTy::Num, "bytes of link-layer header (14 for Ethernet)"),
    p("ip.version", PTy::Num, "4 or 6"),
    p("ip.src", PTy::Text, "the sender's IP address"),
    p("ip.dst", PTy::Text, "the receiver's IP address"),
    p("ip.addr", PTy::Texts, "both addresses, source and destination: `ip.addr == 10.0.0.1` matches either"),
    p("ip.ttl", PTy::Num, "time to live (IPv4) or hop limit (IPv6)"),
    p("ip.hdr_len", PTy::Num, "bytes of IP header (20 without options for IPv4, 40 for IPv6)"),
    p("ip.len", PTy::Num, "the whole IP packet in bytes, header included (IPv4 total length; IPv6: 40 + payload length)"),
    p("ip.id", PTy::Num, "the IPv4 identification field"),
    p("ip.df", PTy::Bool, "the IPv4 don't-fragment flag"),
    p("ip.mf", PTy::Bool, "the more-fragments flag: more pieces of the same packet follow this one (IPv4, or an IPv6 fragment header)"),
    p("ip.frag_offset", PTy::Num, "the fragment offset field as sent, in units of 8 bytes (× 8 gives the byte where this piece's data goes in the original packet's data), as Wireshark's ip.frag_offset; 0 for an unfragmented packet and for a first fragment"),
    p("ip.fragments", PTy::Packets, "for an IP fragment: the frames whose fragments make its packet on this link, in offset order as Wireshark lists ip.fragment (the same for each of them); missing for an unfragmented packet"),
    p("ip.reassembled_in", PTy::Packet, "for an IP fragment: the frame whose fragment completed its packet on this link, as Wireshark's ip.reassembled_in; missing when the packet never was"),
    p("ip.cut_from", PTy::Packet, "for a fragment a router made: the frame, on the link before, whose packet it was cut from; missing otherwise"),
    p("ip.proto", PTy::Num, "the protocol inside: 6 is TCP"),
    p("ip.checksum_value", PTy::Num, "the IPv4 header checksum field as sent (IPv4 only), which every router recomputes as it changes the TTL (RFC 791 §3.1)"),
    p("ip.checksum", PTy::Text, "the IPv4 header checksum's verdict: \"correct\", \"wrong\", \"offloaded\", \"not checked\" (\"none\" for IPv6, which has no header checksum)"),
    p("ipv6.plen", PTy::Num, "the IPv6 payload length field: bytes after the 40-byte header, extension headers included (ip.len − 40), as Wireshark's ipv6.plen; IPv6 only"),
    p("ipv6.flow", PTy::Num, "the IPv6 flow label (20 bits), as Wireshark's ipv6.flow: a source gives every packet of one flow the same label (RFC 6437 §3); 0 if it labels none; IPv6 only"),
    p("ipv6.nxt", PTy::Num, "the IPv6 header's next header field, as Wireshark's ipv6.nxt: 6 TCP, 17 UDP, 58 ICMPv6, or an extension header (0 hop-by-hop options, 44 fragment); IPv6 only"),
    p("tcp.srcport", PTy::Num, "the sender's port"),
    p("tcp.dstport", PTy::Num, "the receiver's port"),
    p("tcp.port", PTy::Nums, "both ports, source and destination: `tcp.port == 8443` matches either"),
    p("tcp.stream", PTy::Num, "the connection's number in the capture, from 0 (as Wireshark's tcp.stream)"),
    p("tcp.seq", PTy::Num, "sequence number relative to the sender's ISN (the SYN is 0, the first data byte 1)"),
    p("tcp.ack", PTy::Num, "acknowledgement number relative to the other side's ISN (0 without the ACK flag)"),
    p("tcp.seq_raw", PTy::Num, "the sequence number as sent (the SYN's is the ISN)"),
    p("tcp.ack_raw", PTy::Num, "the acknowledgement number as sent"),
    p("tcp.nxtseq", PTy::Num, "relative sequence number just after this segment: tcp.seq + tcp.len, plus 1 for a SYN or FIN"),
    p("tcp.len", PTy::Num, "bytes of TCP payload (data) in the segment"),
    p("tcp.hdr_len", PTy::Num, "bytes of TCP header, options included"),
    p("tcp.flags", PTy::Text, "the flags set, e.g. \"SYN\", \"SYN, ACK\", \"PSH, ACK\", \"FIN, ACK\""),
    p("tcp.flags.syn", PTy::Bool, "the SYN flag"),
    p("tcp.flags.ack", PTy::Bool, "the ACK flag"),
    p("tcp.flags.fin", PTy::Bool, "the FIN flag"),
    p("tcp.flags.rst", PTy::Bool, "the RST flag"),
    p("tcp.flags.psh", PTy::Bool, "the PSH flag"),
    p("tcp.window", PTy::Num, "the window field as sent (before scaling)"),
    p("tcp.window_size", PTy::Num, "the receive window in bytes: the field times 2^(window scale) after the handshake"),
    p("tcp.options.mss", PTy::Num, "the MSS option (only in SYN and SYN-ACK)"),
    p("tcp.options.wscale", PTy::Num, "the window scale option's shift count (only in SYN and SYN-ACK)"),
    p("tcp.options.sack_perm", PTy::Bool, "the SACK-permitted option is present"),
    p("tcp.options.sack", PTy::Texts, "SACK blocks, relative, as \"left-right\" (bytes left..right-1 arrived)"),
    p("tcp.options.timestamps", PTy::Bool, "the timestamps option is present"),
    p("tcp.checksum", PTy::Text, "the TCP checksum's verdict: \"correct\", \"wrong\", \"offloaded\" or \"not checked\""),
    p("tcp.analysis.retransmission", PTy::Bool, "Wireshark's verdict: the segment repeats bytes sent before (fast and spurious retransmissions included)"),
    p("tcp.analysis.fast_retransmission", PTy::Bool, "a retransmission sent right after two or more duplicate ACKs asked for it"),
    p("tcp.analysis.spurious_retransmission", PTy::Bool, "a retransmission of bytes the receiver had already acknowledged"),
    p("tcp.analysis.out_of_order", PTy::Bool, "the segment arrived just after bytes that follow it (within one round trip)"),
    p("tcp.analysis.lost_segment", PTy::Bool, "a previous segment was not captured: this one starts beyond everything seen so far"),
    p("tcp.analysis.duplicate_ack", PTy::Bool, "a pure ACK repeating the previous acknowledgement and window of its direction"),
    p("tcp.analysis.duplicate_ack_num", PTy::Num, "which duplicate of the same acknowledgement this is (1, 2, 3…)"),
    p("tcp.analysis.bytes_in_flight", PTy::Num, "for a segment carrying data: bytes its sender has sent and not yet seen acknowledged, this segment included, as Wireshark's tcp.analysis.bytes_in_flight computes it from sequence numbers (the highest byte sent so far, minus the other side's highest acknowledgement, minus bytes its latest SACK blocks report received); missing for segments without data"),
    p("tcp.acked_bytes", PTy::Num, "what this segment's acknowledgement newly acknowledges: its tcp.ack minus the highest acknowledgement its sender sent before (0 if nothing new; a SYN or FIN counts 1, so the SYN-ACK's is 1); not a Wireshark field; missing without the ACK flag"),
    p("tls.records", PTy::Records, "the TLS records this frame completed"),
    p("payload", PTy::Text, "the TCP payload as text (bytes that are not text show as �)"),
    p("udp.srcport", PTy::Num, "the UDP sender's port"),
    p("udp.dstport", PTy::Num, "the UDP receiver's port"),
    p("udp.port", PTy::Nums, "both UDP ports: `udp.port == 53` matches either"),
    p("udp.length", PTy::Num, "the UDP length field: 8 header bytes plus the data"),
    p("udp.checksum", PTy::Text, "the UDP checksum's verdict: \"correct\", \"wrong\", \"offloaded\", \"not checked\" or \"none\" (0 over IPv4: the sender computed none)"),
    p("icmp.type", PTy::Num, "the ICMP type: 8 echo request, 0 echo reply, 3 destination unreachable, 11 time exceeded; for ICMPv6 128, 129, 1, 3, 2 packet too big, 135 neighbor solicitation…"),
    p("icmp.code", PTy::Num, "the ICMP code, which refines the type (destination unreachable: 3 port unreachable, 4 fragmentation needed)"),
    p("icmp.type_name", PTy::Text, "the type in words: \"echo request\", \"time exceeded\", \"packet too big\"…"),
    p("icmp.ident", PTy::Num, "an echo's identifier (the pinging program's)"),
    p("icmp.seq", PTy::Num, "an echo's sequence number (1, 2, 3… per request)"),
    p("icmp.mtu", PTy::Num, "the MTU a \"fragmentation needed\" or \"packet too big\" error names"),
    p("icmp.checksum", PTy::Text, "the ICMP checksum's verdict: \"correct\", \"wrong\" or \"not checked\""),
    p("icmp.quoted.ttl", PTy::Num, "in an ICMP error: the TTL (hop limit) of the packet it quotes, as the router received it"),
    p("icmp.quoted.dstport", PTy::Num, "in an ICMP error: the TCP or UDP destination port of the packet it quotes"),
    p("arp.opcode", PTy::Text, "\"request\" or \"reply\""),
    p("arp.sender_mac", PTy::Text, "the MAC address of the ARP packet's sender"),
    p("arp.sender_ip", PTy::Text, "the IPv4 address of the ARP packet's sender"),
    p("arp.target_mac", PTy::Text, "the MAC address asked about (zeros in a request)"),
    p("arp.target_ip", PTy::Text, "the IPv4 address asked about"),
];

/// Properties of a TLS record.
pub const RECORD_PROPS: &[PropDef] = &[
    p("content_type", PTy::Num, "the record header's type byte: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data"),
    p("type", PTy::Text, "the same as a name: \"handshake\", \"application_data\", …"),
    p("real_type", PTy::Num, "the type Wireshark shows as tls.record.content_type: the header's type byte, except for an encrypted TLS 1.3 record, whose real type is inside the encryption (RFC 8446 §5.2): known once decrypted, missing to an eavesdropper"),
    p("version", PTy::Text, "the record header's legacy version as hex, e.g. \"0x0303\""),
    p("length", PTy::Num, "the record header's length field: bytes of body after the 5-byte header"),
    p("handshake", PTy::Text, "the handshake messages completed in it, e.g. \"ClientHello\" or \"EncryptedExtensions, Certificate\" (empty if none)"),
    p("handshake_types", PTy::Nums, "the type numbers of those handshake messages, in order, as Wireshark's tls.handshake.type (RFC 8446 §4, RFC 5246 §7.4): 1 ClientHello, 2 ServerHello, 4 NewSessionTicket, 8 EncryptedExtensions, 11 Certificate, 12 ServerKeyExchange, 13 CertificateRequest, 14 ServerHelloDone, 15 CertificateVerify, 16 ClientKeyExchange, 20 Finished"),
    p("encrypted", PTy::Bool, "the body is encrypted"),
    p("decrypted", PTy::Bool, "the body was decrypted with the session's keys"),
    p("inner_type", PTy::Text, "after decryption, what the record really carries (TLS 1.3 hides it inside)"),
    p("plaintext", PTy::Text, "the decrypted application bytes as text"),
    p("plaintext_len", PTy::Num, "bytes of decrypted application data"),
    p("alert", PTy::Text, "the alert's description, e.g. \"unknown_ca\", \"close_notify\""),
    p("from", PTy::Text, "\"client\" or \"server\""),
    p("frame", PTy::Packet, "the frame that completed the record"),
    p("frames", PTy::Packets, "the frames that carried its bytes, header included, in stream order (Wireshark lists them as the record's reassembled TCP segments): one frame for a record that fits in one segment"),
    p("hex", PTy::Text, "the whole record (header and body) as it crossed the wire, in hex"),
    p("stream", PTy::Num, "its TCP connection's number"),
];

/// Properties of a message (one line of the chat).
pub const MESSAGE_PROPS: &[PropDef] = &[
    p("text", PTy::Text, "the line, without its newline"),
    p("from", PTy::Text, "\"client\" or \"server\": which end wrote it"),
    p("client", PTy::Text, "the name of the client whose connection carried it"),
    p("app_bytes", PTy::Num, "bytes the application wrote (the line and its newline)"),
    p("tls_bytes", PTy::Num, "bytes of the TLS records that carried it, headers and encryption overhead included (0 for plain TCP)"),
    p("tcp_bytes", PTy::Num, "bytes of the TCP segments that carried it, headers included"),
    p("ip_bytes", PTy::Num, "bytes of the IP packets around those segments"),
    p("link_bytes", PTy::Num, "bytes of the frames on the wire"),
    p("frames", PTy::Packets, "the frames that carried its bytes"),
    p("records", PTy::Records, "the TLS records that carried its bytes"),
    p("conn", PTy::Conn, "its connection"),
];

/// Properties of a TCP connection.
pub const CONN_PROPS: &[PropDef] = &[
    p("stream", PTy::Num, "its number in the capture, from 0"),
    p("client", PTy::Text, "the name of the client that opened it"),
    p("client_ip", PTy::Text, "the client's IP address"),
    p("client_port", PTy::Num, "the client's (ephemeral) port"),
    p("server_ip", PTy::Text, "the server's IP address"),
    p("server_port", PTy::Num, "the server's port"),
    p("four_tuple", PTy::Text, "\"client ip:port → server ip:port\""),
    p("packets", PTy::Packets, "all its frames"),
    p("records", PTy::Records, "all its TLS records, in the order they completed"),
    p("bytes_from_client", PTy::Num, "stream bytes the client sent that reached the capture in order"),
    p("bytes_from_server", PTy::Num, "stream bytes the server sent that reached the capture in order"),
    p("tls.version", PTy::Text, "the negotiated version: \"TLS 1.3\" or \"TLS 1.2\""),
    p("tls.cipher_suite", PTy::Text, "the chosen cipher suite's name, e.g. \"TLS_AES_256_GCM_SHA384\""),
    p("tls.client_random", PTy::Text, "the ClientHello's 32 random bytes, hex"),
    p("tls.server_random", PTy::Text, "the ServerHello's 32 random bytes, hex"),
    p("tls.offered_suites", PTy::Texts, "the cipher suites the client offered, in its order"),
    p("tls.offered_versions", PTy::Texts, "the versions the client offered in supported_versions"),
    p("tls.offered_groups", PTy::Texts, "the key-exchange groups the client sent key shares for"),
    p("tls.key_share", PTy::Text, "the key-exchange group used, e.g. \"x25519\""),
    p("tls.sni", PTy::Text, "the server name the client asked for"),
    p("tls.round_trips", PTy::Num, "how many times the client waited for the server before it could send its first application data"),
    p("tls.encrypted_records", PTy::Num, "records with encrypted bodies"),
    p("tls.decrypted_records", PTy::Num, "of those, how many the keys decrypted"),
];

/// The longest prefix of `path` that names a property of `entity`: how many segments it takes
/// and the property's name.
pub fn longest(entity: Entity, path: &[String]) -> Option<(usize, &'static str)> {
    (1..=path.len()).rev().find_map(|k| {
        let joined = path.get(..k)?.join(".");
        entity
            .props()
            .iter()
            // A shorter name only counts if what it gives has properties of its own: `tcp.seqq`
            // is an unknown property, not the property `tcp` followed by `.seqq`.
            .find(|d| d.name == joined && (k == path.len() || d.ty.has_props()))
            .map(|d| (k, d.name))
    })
}

/// The type of reading `path` from a value of type `ty`, or what is wrong.
pub fn check_path(ty: &Ty, path: &[String]) -> Result<Ty, String> {
    if path.is_empty() {
        return Ok(ty.clone());
    }
    match ty {
        Ty::List(inner) => {
            let each = check_path(inner, path)?;
            Ok(match each {
                Ty::List(t) => Ty::List(t),
                t => Ty::List(Box::new(t)),
            })
        }
        Ty::Any => Ok(Ty::Any),
        other => {
            let Some(entity) = Entity::of_ty(other) else {
                return Err(format!(
                    "`.{}`: {} has no properties",
                    path.join("."),
                    other.name()
                ));
            };
            let Some((taken, name)) = longest(entity, path) else {
                let wanted = path.join(".");
                let mut names: Vec<&str> = entity.props().iter().map(|d| d.name).collect();
                // Suggest the properties that share the longest prefix with what was written.
                for k in (1..path.len().max(2)).rev() {
                    let prefix = format!("{}.", path.get(..k).unwrap_or_default().join("."));
                    let close: Vec<&str> = names
                        .iter()
                        .copied()
                        .filter(|n| n.starts_with(&prefix))
                        .collect();
                    if !close.is_empty() {
                        names = close;
                        break;
                    }
                }
                return Err(format!(
                    "{} has no property `{wanted}`; it has: {}",
                    entity.name(),
                    names.join(", ")
                ));
            };
            let ty = entity
                .props()
                .iter()
                .find(|d| d.name == name)
                .map_or(Ty::Any, |d| d.ty.ty());
            check_path(&ty, path.get(taken..).unwrap_or_default())
        }
    }
}

/// Reads property `name` (a name from the entity's table) of `v`.
pub fn read(ctx: &Context<'_>, v: &Value, name: &str) -> Value {
    match v {
        Value::Packet(n) => match ctx.trace.frame(*n) {
            Some(entry) => packet(ctx, entry, &entry.packet(), name),
            None => Value::missing(format!("frame #{n} is not in the capture")),
        },
        Value::Record(i) => super::props_more::record(ctx, *i, name),
        Value::Message(m) => super::props_more::message(ctx, m, name),
        Value::Conn(s) => super::props_more::conn(ctx, *s, name),
        other => Value::missing(format!("{other:?} has no property {name}")),
    }
}

fn checksum_word(status: ChecksumStatus) -> &'static str {
    match status {
        ChecksumStatus::Verified => "correct",
        ChecksumStatus::Wrong { .. } => "wrong",
        ChecksumStatus::Offloaded { .. } => "offloaded",
        ChecksumStatus::NotChecked => "not checked",
        ChecksumStatus::Absent => "none",
    }
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn num(n: impl Into<i64>) -> Value {
    Value::Num(n.into())
}

fn opt<T: Into<i64>>(v: Option<T>, why: &str) -> Value {
    v.map_or_else(|| Value::missing(why), |n| Value::Num(n.into()))
}

/// The flags as Wireshark lists them, e.g. "SYN, ACK".
pub fn flags_text(flags: TcpFlags) -> String {
    let mut names = flags.names();
    // Wireshark and textbooks say "SYN, ACK", "FIN, ACK": the ACK last.
    if let Some(i) = names.iter().position(|n| *n == "ACK") {
        let ack = names.remove(i);
        names.push(ack);
    }
    names.join(", ")
}

/// Property `name` of frame `e`, whose dissection is `p` (a filter dissects each frame once for
/// all the fields it reads).
pub fn packet(ctx: &Context<'_>, e: &FrameEntry, p: &Packet, name: &str) -> Value {
    let no_tcp = || Value::missing(format!("frame #{} is not a TCP segment", e.number));
    let no_ip = || Value::missing(format!("frame #{} has no IP header", e.number));
    let no_arp = || Value::missing(format!("frame #{} is not ARP", e.number));
    if let Some(field) = name.strip_prefix("arp.") {
        let Some(arp) = &p.arp else { return no_arp() };
        return match field {
            "opcode" => text(match arp.op {
                1 => "request".to_string(),
                2 => "reply".to_string(),
                n => format!("unknown ({n})"),
            }),
            "sender_mac" => text(mac(&arp.sender_mac)),
            "sender_ip" => text(arp.sender_ip.to_string()),
            "target_mac" => text(mac(&arp.target_mac)),
            "target_ip" => text(arp.target_ip.to_string()),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("eth.") {
        let Some(link) = &p.link else {
            return Value::missing(format!("frame #{} has no link-layer header", e.number));
        };
        return match field {
            "src" => link.src.map_or_else(
                || Value::missing("no source MAC in this link header"),
                |m| text(mac(&m)),
            ),
            "dst" => link.dst.map_or_else(
                || Value::missing("no destination MAC in this link header"),
                |m| text(mac(&m)),
            ),
            "type" => text(format!("0x{:04x}", link.ethertype)),
            "hdr_len" => num(link.range.len() as i64),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("udp.") {
        let Some(udp) = &p.udp else {
            return Value::missing(format!("frame #{} is not UDP", e.number));
        };
        return match field {
            "srcport" => num(udp.src_port),
            "dstport" => num(udp.dst_port),
            "port" => Value::List(vec![num(udp.src_port), num(udp.dst_port)]),
            "length" => num(udp.length),
            "checksum" => text(checksum_word(udp.checksum)),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("icmp.") {
        let Some(icmp) = &p.icmp else {
            return Value::missing(format!("frame #{} is not ICMP", e.number));
        };
        let quoted = || {
            icmp.quoted
                .as_deref()
                .ok_or_else(|| Value::missing("this ICMP message quotes no packet"))
        };
        return match field {
            "type" => num(icmp.icmp_type),
            "code" => num(icmp.code),
            "type_name" => text(icmp.type_name()),
            "ident" => opt(icmp.echo.map(|(id, _)| id), "not an echo request or reply"),
            "seq" => opt(
                icmp.echo.map(|(_, seq)| seq),
                "not an echo request or reply",
            ),
            "mtu" => opt(icmp.mtu, "no MTU in this ICMP message"),
            "checksum" => text(checksum_word(icmp.checksum)),
            "quoted.ttl" => quoted().map_or_else(|m| m, |q| num(q.ip.ttl)),
            "quoted.dstport" => quoted().map_or_else(
                |m| m,
                |q| {
                    opt(
                        q.ports.map(|(_, dst)| dst),
                        "the quoted packet is not TCP or UDP",
                    )
                },
            ),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("ip.") {
        let Some(ip) = &p.ip else { return no_ip() };
        return match field {
            "version" => num(ip.version),
            "src" => text(ip.src.to_string()),
            "dst" => text(ip.dst.to_string()),
            "addr" => Value::List(vec![text(ip.src.to_string()), text(ip.dst.to_string())]),
            "ttl" => num(ip.ttl),
            "hdr_len" => num(ip.header.len() as i64),
            "len" => num(ip.total_len),
            "id" => opt(
                ip.identification,
                "IPv6 packets have no identification field unless fragmented",
            ),
            "df" => Value::Bool(ip.dont_fragment),
            "mf" => Value::Bool(ip.more_fragments),
            "frag_offset" => num(ip.fragment_offset / 8),
            "fragments" | "reassembled_in" => {
                let Some((fragments, done)) = ctx.trace.fragments_on_link(e.number) else {
                    return Value::missing(format!(
                        "frame #{} carries no piece of a fragmented packet on its link",
                        e.number
                    ));
                };
                if field == "fragments" {
                    Value::List(fragments.into_iter().map(Value::Packet).collect())
                } else {
                    done.map_or_else(
                        || {
                            Value::missing(format!(
                                "the packet of frame #{}'s fragment was never put together",
                                e.number
                            ))
                        },
                        Value::Packet,
                    )
                }
            }
            "cut_from" => ctx.trace.piece_of(e.number).map_or_else(
                || {
                    Value::missing(format!(
                        "frame #{} is no fragment a router cut from a packet on the link before",
                        e.number
                    ))
                },
                Value::Packet,
            ),
            "proto" => num(ip.protocol),
            "checksum" => text(ip.checksum.map_or("none", checksum_word)),
            "checksum_value" => opt(
                (ip.version == 4)
                    .then(|| e.frame.data.get(ip.header.start + 10..ip.header.start + 12))
                    .flatten()
                    .map(|b| u16::from_be_bytes([b[0], b[1]])),
                "only IPv4 has a header checksum",
            ),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("ipv6.") {
        let Some(ip) = &p.ip else { return no_ip() };
        if ip.version != 6 {
            return Value::missing(format!(
                "frame #{} is IPv4: `ipv6.{field}` is a field of the IPv6 header",
                e.number
            ));
        }
        let header = e.frame.data.get(ip.header.start..ip.header.start + 8);
        return match (field, header) {
            ("plen", Some(h)) => num(u16::from_be_bytes([h[4], h[5]])),
            ("nxt", Some(h)) => num(h[6]),
            ("flow", _) => opt(ip.flow_label, "no flow label"),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    if let Some(field) = name.strip_prefix("hop.") {
        let Some(place) = ctx.trace.hop_place(e.frame.interface) else {
            return Value::missing(format!(
                "frame #{}'s interface has no place on a path of routers",
                e.number
            ));
        };
        return match field {
            "node" => text(place.node.clone()),
            "link" => num(place.link),
            "position" => num(place.position),
            _ => Value::missing(format!("no property {name}")),
        };
    }
    match name {
        "frame" => return text(String::from_utf8_lossy(&e.frame.data)),
        "frame.interface_name" => {
            return ctx.trace.interface_name(e.frame.interface).map_or_else(
                || Value::missing("the capture does not name its interfaces"),
                text,
            )
        }
        "copy_of" => {
            return e.copy_of.map_or_else(
                || Value::missing(format!("frame #{} is no copy of another frame", e.number)),
                Value::Packet,
            )
        }
        "path" => {
            return Value::List(
                ctx.trace
                    .path_of(e.number)
                    .into_iter()
                    .map(Value::Packet)
                    .collect(),
            )
        }
        "above_ip" => {
            let Some(ip) = &p.ip else { return no_ip() };
            return text(crate::tls::encode_hex(crate::journey::hops::above_ip(
                &e.frame.data,
                ip,
            )));
        }
        "eth" => {
            return Value::Bool(
                p.link
                    .as_ref()
                    .is_some_and(|l| l.kind == crate::frame::LinkType::Ethernet),
            );
        }
        "arp" => return Value::Bool(p.arp.is_some()),
        "ip" => return Value::Bool(p.ip.is_some()),
        "ipv6" => return Value::Bool(p.ip.as_ref().is_some_and(|ip| ip.version == 6)),
        "tcp" => return Value::Bool(p.tcp.is_some()),
        "udp" => return Value::Bool(p.udp.is_some()),
        "icmp" => return Value::Bool(p.icmp.is_some()),
        "icmpv6" => return Value::Bool(p.icmp.as_ref().is_some_and(|i| i.version == 6)),
        "tls" => return Value::Bool(!e.records.is_empty() || starts_a_record(ctx, e)),
        "frame.number" => return num(e.number),
        "frame.len" => return num(e.frame.data.len() as i64),
        "frame.time_ms" => {
            let first = ctx
                .trace
                .frames()
                .first()
                .map_or(e.frame.at.0, |f| f.frame.at.0);
            return num(i64::try_from((e.frame.at.0 - first) / 1_000_000).unwrap_or(i64::MAX));
        }
        "kind" => {
            return text(if p.tcp.is_some() {
                "tcp"
            } else if p.udp.is_some() {
                "udp"
            } else if p.icmp.is_some() {
                "icmp"
            } else if p.arp.is_some() {
                "arp"
            } else {
                "other"
            })
        }
        "payload" => {
            let bytes = e.frame.data.get(p.payload.clone()).unwrap_or_default();
            return if p.tcp.is_some() {
                text(String::from_utf8_lossy(bytes))
            } else {
                no_tcp()
            };
        }
        _ => {}
    }
    let (Some(tcp), Some(seg)) = (&p.tcp, &e.segment) else {
        return no_tcp();
    };
    let flag = |f: TcpFlags| Value::Bool(tcp.flags.contains(f));
    match name {
        "from" => text(seg.dir.sender()),
        "client" => ctx.client_of_stream(seg.stream).map_or_else(
            || Value::missing("the connection belongs to no client of this lesson"),
            text,
        ),
        "tcp.srcport" => num(tcp.src_port),
        "tcp.dstport" => num(tcp.dst_port),
        "tcp.port" => Value::List(vec![num(tcp.src_port), num(tcp.dst_port)]),
        "tcp.stream" => num(seg.stream as i64),
        "tcp.seq" => num(seg.rel_seq),
        "tcp.ack" => num(seg.rel_ack),
        "tcp.seq_raw" => num(tcp.seq),
        "tcp.ack_raw" => num(tcp.ack),
        "tcp.nxtseq" => {
            let extra = i64::from(tcp.flags.contains(TcpFlags::SYN))
                + i64::from(tcp.flags.contains(TcpFlags::FIN));
            num(i64::from(seg.rel_seq) + seg.payload_len as i64 + extra)
        }
        "tcp.len" => num(seg.payload_len as i64),
        "tcp.hdr_len" => num(tcp.header_len),
        "tcp.flags" => text(flags_text(tcp.flags)),
        "tcp.flags.syn" => flag(TcpFlags::SYN),
        "tcp.flags.ack" => flag(TcpFlags::ACK),
        "tcp.flags.fin" => flag(TcpFlags::FIN),
        "tcp.flags.rst" => flag(TcpFlags::RST),
        "tcp.flags.psh" => flag(TcpFlags::PSH),
        "tcp.window" => num(tcp.window),
        "tcp.window_size" => num(i64::from(tcp.window) << window_shift(e)),
        "tcp.options.mss" => opt(
            tcp.options.mss,
            "this segment has no MSS option (only SYN and SYN-ACK carry one)",
        ),
        "tcp.options.wscale" => opt(
            tcp.options.window_scale,
            "this segment has no window scale option (only SYN and SYN-ACK carry one)",
        ),
        "tcp.options.sack_perm" => Value::Bool(tcp.options.sack_permitted),
        "tcp.options.sack" => Value::List(
            tcp.options
                .sack_blocks
                .as_slice()
                .iter()
                .map(|(l, r)| {
                    text(format!(
                        "{}-{}",
                        l.wrapping_sub(seg.peer_base),
                        r.wrapping_sub(seg.peer_base)
                    ))
                })
                .collect(),
        ),
        "tcp.options.timestamps" => Value::Bool(tcp.options.timestamps.is_some()),
        "tcp.checksum" => text(checksum_word(tcp.checksum)),
        "tcp.analysis.retransmission" => Value::Bool(seg.analysis.retransmission),
        "tcp.analysis.fast_retransmission" => Value::Bool(seg.analysis.fast_retransmission),
        "tcp.analysis.spurious_retransmission" => Value::Bool(seg.analysis.spurious_retransmission),
        "tcp.analysis.out_of_order" => Value::Bool(seg.analysis.out_of_order),
        "tcp.analysis.lost_segment" => Value::Bool(seg.analysis.lost_segment),
        "tcp.analysis.duplicate_ack" => Value::Bool(seg.analysis.duplicate_ack.is_some()),
        "tcp.analysis.duplicate_ack_num" => match seg.analysis.duplicate_ack {
            Some(n) => num(i64::from(n)),
            None => Value::missing("this segment is not a duplicate ACK"),
        },
        "tcp.analysis.bytes_in_flight" => opt(
            seg.measures.bytes_in_flight,
            "only a segment carrying data, sent after the other side acknowledged something, has bytes in flight",
        ),
        "tcp.acked_bytes" => opt(
            seg.measures.acked,
            "this segment acknowledges nothing: its ACK flag is clear",
        ),
        "tls.records" => Value::List(e.records.clone().map(Value::Record).collect()),
        _ => Value::missing(format!("no property {name}")),
    }
}

/// Whether frame `e` carries the first byte of a TLS record that a later frame completes.
fn starts_a_record(ctx: &Context<'_>, e: &FrameEntry) -> bool {
    let Some(seg) = e.segment.as_ref().filter(|s| s.payload_len > 0) else {
        return false;
    };
    let bytes = seg.stream_offset..seg.stream_offset + seg.payload_len as u64;
    // Records are kept in the order they complete: the next one of this direction to complete
    // is the only one that can have started here and not ended. Other connections' records may
    // come between; a bounded look ahead keeps this cheap.
    ctx.trace
        .records()
        .iter()
        .skip(e.records.end)
        .take(64)
        .find(|r| r.stream == seg.stream && r.dir == seg.dir)
        .is_some_and(|r| bytes.contains(&r.stream_range.start))
}

/// Frames of connection `stream` sent in direction `dir`, in capture order.
pub fn frames_in<'a>(
    ctx: &Context<'a>,
    stream: usize,
    dir: Option<Direction>,
) -> impl Iterator<Item = &'a FrameEntry> + 'a {
    let trace = ctx.trace;
    trace.frames().iter().filter(move |f| {
        f.segment
            .as_ref()
            .is_some_and(|s| s.stream == stream && dir.is_none_or(|d| s.dir == d))
    })
}

/// The window scale shift that applies to a segment (RFC 7323 §2.3), as the TCP tracker worked
/// it out from the two SYNs; 0 when unknown.
fn window_shift(e: &FrameEntry) -> u32 {
    e.segment
        .as_ref()
        .and_then(|s| s.window_shift)
        .map_or(0, u32::from)
}

/// Helpers for the other entities' properties live in `props_more.rs`; these shared helpers are
/// used by both.
pub(super) fn hex_of(bytes: &[u8]) -> String {
    encode_hex(bytes)
}

/// Names of TLS numbers, shared with `props_more.rs`.
pub(super) fn suite_name(id: u16) -> String {
    cipher_suite_name(id).map_or_else(|| format!("0x{id:04x}"), str::to_string)
}

/// Shared with `props_more.rs`.
pub(super) fn names_of_version(v: u16) -> String {
    match version_name(v) {
        "unknown" => format!("0x{v:04x}"),
        name => name.to_string(),
    }
}

/// Shared with `props_more.rs`.
pub(super) fn names_of_group(g: u16) -> String {
    match group_name(g) {
        "unknown" => format!("0x{g:04x}"),
        name => name.to_string(),
    }
}

/// Shared with `props_more.rs`.
pub(super) fn alert_text(description: u8) -> String {
    match alert_name(description) {
        "unknown" => format!("unknown ({description})"),
        name => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let path: Vec<String> = ["tcp", "flags", "syn"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(longest(Entity::Packet, &path), Some((3, "tcp.flags.syn")));
        let path: Vec<String> = ["frames", "tcp", "len"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(longest(Entity::Message, &path), Some((1, "frames")));
        assert_eq!(
            check_path(&Ty::Message, &path),
            Ok(Ty::List(Box::new(Ty::Num)))
        );
    }

    #[test]
    fn unknown_properties_list_the_close_ones() {
        let path = vec!["tcp".to_string(), "sequence".to_string()];
        let e = check_path(&Ty::Packet, &path).unwrap_err();
        assert!(
            e.contains("`tcp.sequence`") && e.contains("tcp.seq_raw") && !e.contains("ip.ttl"),
            "{e}"
        );
        let path: Vec<String> = ["tcp", "options", "mms"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = check_path(&Ty::Packet, &path).unwrap_err();
        assert!(e.ends_with("it has: tcp.options.mss, tcp.options.wscale, tcp.options.sack_perm, tcp.options.sack, tcp.options.timestamps"), "{e}");
    }

    #[test]
    fn flags_read_as_in_textbooks() {
        assert_eq!(flags_text(TcpFlags(0x012)), "SYN, ACK");
        assert_eq!(flags_text(TcpFlags(0x011)), "FIN, ACK");
        assert_eq!(flags_text(TcpFlags(0x018)), "PSH, ACK");
        assert_eq!(flags_text(TcpFlags(0x002)), "SYN");
    }

    #[test]
    fn every_property_name_is_unique() {
        for entity in [
            Entity::Packet,
            Entity::Record,
            Entity::Message,
            Entity::Conn,
        ] {
            let mut names: Vec<&str> = entity.props().iter().map(|d| d.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{entity:?}");
        }
    }

    /// Evaluates queries on a saved capture in `captures/` (no clients named).
    fn on_capture(file: &str, check: impl FnOnce(&dyn Fn(&str) -> Value)) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(file);
        let (trace, damage) =
            crate::capture::open_capture(&path, None, &mut |_, _| {}).expect("the capture opens");
        assert!(damage.is_none(), "{file}");
        let state = super::super::LessonState::default();
        let ctx = Context::new(&trace, &state);
        let env = super::super::query::TypeEnv {
            clients: vec![],
            item: None,
        };
        let eval = |q: &str| ctx.eval_query(&super::super::query::Query::parse(q, &env).expect(q));
        check(&eval);
    }

    fn nums(v: &[i64]) -> Value {
        Value::List(v.iter().map(|n| Value::Num(*n)).collect())
    }

    /// captures/ipv6-chat.pcapng: the chat over ::1. tshark reads frame 4 (the ClientHello) as
    /// ipv6.plen 260, ipv6.flow 0x0a725d, ipv6.nxt 6, and the client's other frames with the
    /// same flow label.
    #[test]
    fn ipv6_header_fields() {
        on_capture("ipv6-chat.pcapng", |eval| {
            assert_eq!(eval("nth(packets(), 4).ipv6.plen"), Value::Num(260));
            assert_eq!(
                eval("nth(packets(), 4).ip.len - nth(packets(), 4).ipv6.plen"),
                Value::Num(40)
            );
            assert_eq!(eval("nth(packets(), 4).ipv6.flow"), Value::Num(0x0a725d));
            assert_eq!(eval("nth(packets(), 4).ipv6.nxt"), Value::Num(6));
            assert_eq!(
                eval("distinct(where(packets(), .tcp.srcport == 40146).ipv6.flow)"),
                nums(&[0x0a725d])
            );
            assert_eq!(eval("nth(packets(), 2).ipv6.flow"), Value::Num(0x0a4f19));
        });
        on_capture("tls13-chat.pcapng", |eval| {
            let Value::Missing(why) = eval("first(packets()).ipv6.plen") else {
                panic!("an IPv4 packet has no IPv6 payload length")
            };
            assert!(why.contains("IPv4"), "{why}");
        });
    }

    /// captures/small-mss.pcapng: a client with MSS 536 writes a 3,000-byte line. The bytes in
    /// flight are tshark 4.0's tcp.analysis.bytes_in_flight for the same frames; the bytes each
    /// ACK acknowledges follow from tcp.ack (frame 20 acknowledges the line's six segments at
    /// once, frame 31 the client's last 24 bytes and its FIN).
    #[test]
    fn bytes_in_flight_and_acked_bytes() {
        on_capture("small-mss.pcapng", |eval| {
            assert_eq!(
                eval("where(packets(), .tcp.len > 0).tcp.analysis.bytes_in_flight"),
                nums(&[
                    228, 524, 761, 80, 184, 34, 50, 524, 1048, 1572, 2096, 2620, 3023, 524, 1048,
                    1572, 2096, 2620, 3042, 24, 24
                ])
            );
            assert!(matches!(
                eval("nth(packets(), 30).tcp.analysis.bytes_in_flight"),
                Value::Missing(_)
            ));
            assert_eq!(
                eval("packets().tcp.acked_bytes"),
                nums(&[
                    1, 1, 0, 228, 0, 0, 524, 237, 0, 80, 184, 34, 50, 0, 0, 0, 0, 0, 3023, 0, 0, 0,
                    0, 0, 0, 3042, 0, 24, 0, 25, 1
                ])
            );
            let Value::Missing(why) = eval("first(packets()).tcp.acked_bytes") else {
                panic!("a SYN acknowledges nothing")
            };
            assert!(why.contains("ACK flag"), "{why}");
            // Each side's ACKs add up to its last acknowledgement: every sequence number once.
            assert_eq!(
                eval("sum(where(packets(), .tcp.srcport == 32901).tcp.acked_bytes)"),
                Value::Num(3391)
            );
            assert_eq!(
                eval("sum(where(packets(), .tcp.srcport == 34618).tcp.acked_bytes)"),
                Value::Num(4063)
            );
        });
    }

    /// The records of captures/small-mss.pcapng as tshark 4.0 shows them: tls.handshake.type of
    /// each, and tcp.segment for those that span frames (the server's encrypted flight, frames 6
    /// and 7; the client's 3,000-byte line, frames 14 to 19).
    #[test]
    fn record_handshake_types_and_frames() {
        on_capture("small-mss.pcapng", |eval| {
            let records = "first(conns()).records";
            assert_eq!(
                eval(&format!("nth({records}, 1).handshake_types")),
                nums(&[1])
            );
            assert_eq!(
                eval(&format!("nth({records}, 2).handshake_types")),
                nums(&[2])
            );
            assert_eq!(
                eval(&format!("nth({records}, 3).handshake_types")),
                nums(&[]),
                "a ChangeCipherSpec record holds no handshake message"
            );
            assert_eq!(
                eval(&format!("nth({records}, 4).handshake_types")),
                nums(&[8, 11, 15, 20])
            );
            assert_eq!(
                eval(&format!("nth({records}, 4).frames.frame.number")),
                nums(&[6, 7])
            );
            assert_eq!(
                eval(&format!("nth({records}, 1).frames.frame.number")),
                nums(&[4])
            );
            assert_eq!(
                eval(&format!(
                    "first(where({records}, count(.frames) > 4)).frames.frame.number"
                )),
                nums(&[14, 15, 16, 17, 18, 19])
            );
            // An eavesdropper without the keys sees no handshake message inside it.
            assert_eq!(
                eval(&format!("without_keys(nth({records}, 4).handshake_types)")),
                nums(&[])
            );
        });
    }
}
