//! What a query can name: the four kinds of things in a capture that have properties (packets,
//! TLS records, messages, connections), and for each the table of its properties with their
//! types and meanings. Packet properties are named after Wireshark's display-filter fields
//! (`ip.ttl`, `tcp.seq`, `tcp.analysis.retransmission`) so that a teacher who knows Wireshark
//! knows them already.
//!
//! The tables are the single source: type checking ([`super::typing`]), reading the values
//! ([`super::properties`]) and the reference in `lessons/README.md` (a test keeps it complete)
//! all follow them. Adding a property means a line here and an arm in `properties/`.

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
    p("frame.time_ms", PTy::Num, "milliseconds since the first frame of the capture (whole milliseconds, rounded down)"),
    p("frame.time_us", PTy::Num, "microseconds since the first frame of the capture"),
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
    p("tcp.window_size_scalefactor", PTy::Num, "what the window field is multiplied by: 2^(the sender's window scale) after the handshake, 1 when either SYN had no window scale option (Wireshark's tcp.window_size_scalefactor); missing in a SYN or SYN-ACK, and when the handshake was not captured"),
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
    p("tcp.analysis.bytes_in_flight", PTy::Num, "for a segment carrying data: bytes its sender has sent and not yet seen acknowledged, this segment included, as Wireshark's tcp.analysis.bytes_in_flight counts them (from the lowest unacknowledged sequence number to the highest sent, minus the bytes the other side's latest SACK blocks report received); missing for segments without data, and after a gap until the other side acknowledges again. Like Wireshark's, it is counted where each packet was first captured: on a path of routers, where an ACK is seen leaving the receiver, half a round trip before the sender gets it (the connection's rtt.* properties are the sender's view)"),
    p("tcp.analysis.zero_window", PTy::Bool, "Wireshark's verdict: the segment announces a window of 0 (not said of SYN, FIN or RST)"),
    p("tcp.analysis.window_update", PTy::Bool, "Wireshark's verdict: a pure ACK that only changes the window (same acknowledgement, no data)"),
    p("tcp.analysis.keep_alive", PTy::Bool, "Wireshark's verdict: a segment one below the next expected sequence number with at most one byte (a keep-alive; Linux probes a zero window this way too)"),
    p("tcp.analysis.zero_window_probe", PTy::Bool, "Wireshark's verdict: one byte at the next sequence number while the other side's window is 0"),
    p("tcp.analysis.acks_frame", PTy::Num, "the frame of the segment this acknowledgement answers: the earliest one that ends exactly at its acknowledgement number, as Wireshark's tcp.analysis.acks_frame; missing when it answers none (a duplicate ACK, or an ACK for only part of a segment)"),
    p("tcp.analysis.ack_rtt_us", PTy::Num, "microseconds from that segment to this acknowledgement (Wireshark's tcp.analysis.ack_rtt, in seconds there), measured where each packet was first captured: on a path of routers from the segment leaving the client to the ACK leaving the server, about half the round trip (the connection's rtt.samples_us are timed at the sender)"),
    p("tcp.analysis.rtt_sample_us", PTy::Num, "the same, but only when it is a SampleRTT under Karn's rule (RFC 6298 §3): missing when any byte it acknowledges was sent twice"),
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
    p("rtt.samples_us", PTy::Nums, "the SampleRTTs of the client's data, µs, in order: each acknowledgement that answers a segment sent once (Karn's rule, RFC 6298 §3), timed at the interface where the client's packets were first captured (on a path: the client's own; on a cable, where only the receiver's end is captured, these are the receiver's turnaround times)"),
    p("rtt.estimated_us", PTy::Num, "EstimatedRTT (RFC 6298 SRTT, α = 1/8) after the last timed segment, µs: one segment is timed at a time, as the textbook does it"),
    p("rtt.dev_us", PTy::Num, "DevRTT (RFC 6298 RTTVAR, β = 1/4) after the last timed segment, µs"),
    p("rtt.timeout_us", PTy::Num, "EstimatedRTT + 4·DevRTT after the last timed segment, µs (before RFC 6298 §2.4 rounds it up to 1 s; Linux keeps RTTVAR at 200 ms or more instead)"),
    p("goodput_bps", PTy::Num, "the client's application data in bits per second: the bytes it wrote, over the time from its first data segment (over TLS, its ClientHello) to the acknowledgement of its last byte"),
    p("kernel.srtt_us", PTy::Nums, "the client socket's smoothed RTT as its kernel reported it (TCP_INFO, sampled every 10 ms during a `transfer`), µs"),
    p("kernel.cwnd", PTy::Nums, "the client socket's congestion window in each of those samples, in segments"),
    p("kernel.ssthresh", PTy::Nums, "its slow-start threshold in the samples where one was set (after a loss, or when cubic's HyStart ended slow start), in segments"),
    p("kernel.retransmits", PTy::Num, "segments the client's kernel retransmitted, in its last sample"),
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
}
