//! Byte fixtures for the dissector's tests, commented field by field, and an independent
//! checksum implementation (a plain RFC 1071 loop, not etherparse's) to fill them in.

/// The ones'-complement sum of 16-bit big-endian words over the concatenated parts, folded.
pub fn folded_sum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let hi = u32::from(pair[0]) << 8;
        let lo = pair.get(1).map_or(0, |&b| u32::from(b));
        sum += hi | lo;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The TCP pseudo-header for the IP packet at `ip` (IPv4, or IPv6 without extension headers).
fn pseudo_header(frame: &[u8], ip: usize) -> (Vec<u8>, usize) {
    if frame[ip] >> 4 == 4 {
        let ihl = usize::from(frame[ip] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([frame[ip + 2], frame[ip + 3]]));
        let tcp_len = total - ihl;
        let mut v = frame[ip + 12..ip + 20].to_vec(); // source and destination
        v.extend_from_slice(&[0, 6]); // zero, protocol TCP
        v.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        (v, ip + ihl)
    } else {
        let tcp_len = usize::from(u16::from_be_bytes([frame[ip + 4], frame[ip + 5]]));
        let mut v = frame[ip + 8..ip + 40].to_vec(); // source and destination
        v.extend_from_slice(&(tcp_len as u32).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 6]); // zeros, next header TCP
        (v, ip + 40)
    }
}

/// The correct TCP checksum of the (complete) segment in the IP packet at `ip`.
pub fn tcp_checksum(frame: &[u8], ip: usize) -> u16 {
    let (pseudo, tcp) = pseudo_header(frame, ip);
    let mut segment = frame[tcp..].to_vec();
    if frame[ip] >> 4 == 4 {
        let total = usize::from(u16::from_be_bytes([frame[ip + 2], frame[ip + 3]]));
        segment.truncate(ip + total - tcp); // leave Ethernet padding out
    }
    segment[16] = 0;
    segment[17] = 0;
    !folded_sum(&[&pseudo, &segment])
}

/// What Linux leaves in the field when the card (or nobody, on loopback) should finish it.
pub fn partial_checksum(frame: &[u8], ip: usize) -> u16 {
    let (pseudo, _) = pseudo_header(frame, ip);
    folded_sum(&[&pseudo])
}

/// Writes the TCP checksum field of the segment in the IP packet at `ip`.
pub fn set_tcp_checksum(frame: &mut [u8], ip: usize, value: u16) {
    let (_, tcp) = pseudo_header(frame, ip);
    frame[tcp + 16..tcp + 18].copy_from_slice(&value.to_be_bytes());
}

/// Fills in the IPv4 header checksum (if IPv4) and the TCP checksum of the packet at `ip`.
pub fn fill_checksums(frame: &mut [u8], ip: usize) {
    if frame[ip] >> 4 == 4 {
        let ihl = usize::from(frame[ip] & 0x0f) * 4;
        frame[ip + 10] = 0;
        frame[ip + 11] = 0;
        let sum = !folded_sum(&[&frame[ip..ip + ihl]]);
        frame[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
    }
    let sum = tcp_checksum(frame, ip);
    set_tcp_checksum(frame, ip, sum);
}

/// A TCP SYN from 127.0.0.1:50412 to 127.0.0.1:8443 over Ethernet, as Linux sends it on
/// loopback (74 bytes). The IP packet starts at byte 14, TCP at 34.
#[rustfmt::skip]
pub fn eth_ipv4_syn() -> Vec<u8> {
    let mut f = vec![
        // Ethernet II, bytes 0..14
        0, 0, 0, 0, 0, 0,               // destination MAC 00:00:00:00:00:00 (loopback)
        0, 0, 0, 0, 0, 0,               // source MAC 00:00:00:00:00:00
        0x08, 0x00,                     // EtherType 0x0800 IPv4
        // IPv4, bytes 14..34
        0x45, 0x00,                     // version 4, IHL 5 (20 bytes); DSCP 0, ECN 0
        0x00, 0x3c,                     // total length 60
        0x12, 0x34,                     // identification 0x1234
        0x40, 0x00,                     // flags DF, fragment offset 0
        0x40, 0x06,                     // TTL 64, protocol 6 (TCP)
        0x00, 0x00,                     // header checksum (filled in below)
        127, 0, 0, 1,                   // source 127.0.0.1
        127, 0, 0, 1,                   // destination 127.0.0.1
        // TCP, bytes 34..74
        0xc4, 0xec,                     // source port 50412
        0x20, 0xfb,                     // destination port 8443
        0x9a, 0x3b, 0x1c, 0x2d,         // sequence number 0x9a3b1c2d
        0x00, 0x00, 0x00, 0x00,         // acknowledgment number 0
        0xa0, 0x02,                     // data offset 10 (40 bytes), flags SYN
        0xff, 0xd7,                     // window 65495
        0x00, 0x00,                     // checksum (filled in below)
        0x00, 0x00,                     // urgent pointer 0
        0x02, 0x04, 0xff, 0xd7,         // option MSS 65495
        0x04, 0x02,                     // option SACK permitted
        0x08, 0x0a,                     // option timestamps, length 10
        0x00, 0x01, 0xe2, 0x40,         //   TSval 123456
        0x00, 0x00, 0x00, 0x00,         //   TSecr 0
        0x01,                           // option NOP
        0x03, 0x03, 0x07,               // option window scale 7
    ];
    fill_checksums(&mut f, 14);
    f
}

/// A TCP ACK carrying 3 bytes from 192.0.2.1:40000 to 198.51.100.2:443 between two distinct
/// MACs (02:00:00:00:00:01 → 02:00:00:00:00:02), so that every pair of source and destination
/// fields differs: a dissector swapping any of them fails on it. 57 bytes; IP at 14, TCP at 34.
#[rustfmt::skip]
pub fn eth_ipv4_between_hosts() -> Vec<u8> {
    let mut f = vec![
        // Ethernet II, bytes 0..14
        0x02, 0, 0, 0, 0, 0x02,         // destination MAC 02:00:00:00:00:02
        0x02, 0, 0, 0, 0, 0x01,         // source MAC 02:00:00:00:00:01
        0x08, 0x00,                     // EtherType 0x0800 IPv4
        // IPv4, bytes 14..34
        0x45, 0x00,                     // version 4, IHL 5 (20 bytes); DSCP 0, ECN 0
        0x00, 0x2b,                     // total length 43
        0xbe, 0xef,                     // identification 0xbeef
        0x40, 0x00,                     // flags DF, fragment offset 0
        0x3f, 0x06,                     // TTL 63, protocol 6 (TCP)
        0x00, 0x00,                     // header checksum (filled in below)
        192, 0, 2, 1,                   // source 192.0.2.1
        198, 51, 100, 2,                // destination 198.51.100.2
        // TCP, bytes 34..54
        0x9c, 0x40,                     // source port 40000
        0x01, 0xbb,                     // destination port 443
        0x00, 0x00, 0x00, 0x10,         // sequence number 16
        0x00, 0x00, 0x00, 0x20,         // acknowledgment number 32
        0x50, 0x18,                     // data offset 5 (20 bytes), flags PSH, ACK
        0x01, 0x00,                     // window 256
        0x00, 0x00,                     // checksum (filled in below)
        0x00, 0x00,                     // urgent pointer 0
        b'a', b'b', b'c',               // payload, bytes 54..57
    ];
    fill_checksums(&mut f, 14);
    f
}

/// The IPv4 packet of [`eth_ipv4_syn`] without its Ethernet header (60 bytes).
pub fn ipv4_syn_packet() -> Vec<u8> {
    eth_ipv4_syn()[14..].to_vec()
}

/// A TLS-carrying data segment from [::1]:8443 to [::1]:50412 over Ethernet with the PSH and ACK
/// flags, timestamps, and a 5-byte payload (91 bytes). IPv6 starts at 14, TCP at 54, payload at 86.
#[rustfmt::skip]
pub fn eth_ipv6_data() -> Vec<u8> {
    let mut f = vec![
        // Ethernet II, bytes 0..14
        0, 0, 0, 0, 0, 0,               // destination MAC
        0, 0, 0, 0, 0, 0,               // source MAC
        0x86, 0xdd,                     // EtherType 0x86DD IPv6
        // IPv6, bytes 14..54
        0x60, 0x03, 0x2b, 0x7c,         // version 6, traffic class 0, flow label 0x32b7c
        0x00, 0x25,                     // payload length 37 (32 TCP header + 5 data)
        0x06, 0x40,                     // next header 6 (TCP), hop limit 64
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // source ::1
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // destination ::1
        // TCP, bytes 54..86
        0x20, 0xfb,                     // source port 8443
        0xc4, 0xec,                     // destination port 50412
        0x00, 0x00, 0x10, 0x01,         // sequence number 4097
        0x00, 0x00, 0x02, 0x06,         // acknowledgment number 518
        0x80, 0x18,                     // data offset 8 (32 bytes), flags PSH, ACK
        0x02, 0x00,                     // window 512
        0x00, 0x00,                     // checksum (filled in below)
        0x00, 0x00,                     // urgent pointer 0
        0x01, 0x01,                     // options NOP, NOP
        0x08, 0x0a,                     // option timestamps, length 10
        0x00, 0x00, 0x00, 0x64,         //   TSval 100
        0x00, 0x00, 0x00, 0x63,         //   TSecr 99
        // payload, bytes 86..91
        b'h', b'e', b'l', b'l', b'o',
    ];
    fill_checksums(&mut f, 14);
    f
}

/// An ARP request "who has 172.17.0.1? tell 172.17.0.2" over Ethernet, padded to 60 bytes.
#[rustfmt::skip]
pub fn eth_arp_request() -> Vec<u8> {
    let mut f = vec![
        // Ethernet II, bytes 0..14
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination MAC broadcast
        0x02, 0x42, 0xac, 0x11, 0x00, 0x02, // source MAC 02:42:ac:11:00:02
        0x08, 0x06,                     // EtherType 0x0806 ARP
        // ARP, bytes 14..42
        0x00, 0x01,                     // hardware type 1 (Ethernet)
        0x08, 0x00,                     // protocol type 0x0800 (IPv4)
        0x06, 0x04,                     // hardware size 6, protocol size 4
        0x00, 0x01,                     // opcode 1 (request)
        0x02, 0x42, 0xac, 0x11, 0x00, 0x02, // sender MAC
        172, 17, 0, 2,                  // sender IP 172.17.0.2
        0, 0, 0, 0, 0, 0,               // target MAC (unknown: the question)
        172, 17, 0, 1,                  // target IP 172.17.0.1
    ];
    f.resize(60, 0); // Ethernet padding, bytes 42..60
    f
}

/// Linux cooked v1 header (16 bytes) for an IPv4 packet captured on loopback.
#[rustfmt::skip]
pub const SLL_HEADER: [u8; 16] = [
    0x00, 0x00,                         // packet type 0 (to us)
    0x03, 0x04,                         // ARPHRD type 772 (loopback)
    0x00, 0x06,                         // address length 6
    0, 0, 0, 0, 0, 0, 0, 0,             // address 00:00:00:00:00:00 + 2 unused bytes
    0x08, 0x00,                         // protocol 0x0800 IPv4
];

/// Linux cooked v2 header (20 bytes) for an IPv4 packet captured on loopback.
#[rustfmt::skip]
pub const SLL2_HEADER: [u8; 20] = [
    0x08, 0x00,                         // protocol 0x0800 IPv4
    0x00, 0x00,                         // reserved
    0x00, 0x00, 0x00, 0x01,             // interface index 1
    0x03, 0x04,                         // ARPHRD type 772 (loopback)
    0x04,                               // packet type 4 (sent by us)
    0x06,                               // address length 6
    0, 0, 0, 0, 0, 0, 0, 0,             // address + 2 unused bytes
];

/// A real frame captured on Linux loopback (AF_PACKET on `lo`, kernel 6.18): 127.0.0.1:51690 ->
/// 127.0.0.1:8443, PSH+ACK, timestamps, payload "hello". Its TCP checksum 0xfe2d is the "partial"
/// one the kernel leaves for offload: the pseudo-header sum for a 37-byte segment.
#[rustfmt::skip]
pub const REAL_LOOPBACK_IPV4_DATA: [u8; 71] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, // Ethernet: zero MACs, IPv4
    0x45, 0x00, 0x00, 0x39,                         // IPv4, IHL 5, total length 57
    0xd1, 0xb1, 0x40, 0x00,                         // identification 0xd1b1, DF
    0x40, 0x06, 0x6b, 0x0b,                         // TTL 64, TCP, header checksum 0x6b0b
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, // 127.0.0.1 -> 127.0.0.1
    0xc9, 0xea, 0x20, 0xfb,                         // ports 51690 -> 8443
    0xfc, 0xf9, 0x41, 0xa6,                         // sequence number
    0xfd, 0x9c, 0x38, 0x56,                         // acknowledgment number
    0x80, 0x18, 0x00, 0x40,                         // data offset 8, PSH+ACK, window 64
    0xfe, 0x2d, 0x00, 0x00,                         // checksum 0xfe2d (partial), urgent 0
    0x01, 0x01, 0x08, 0x0a,                         // NOP, NOP, timestamps
    0x46, 0x91, 0x28, 0xe5, 0x85, 0x57, 0x23, 0xda, //   TSval, TSecr
    b'h', b'e', b'l', b'l', b'o',                   // payload
];

/// The same exchange over IPv6 loopback: [::1]:39510 -> [::1]:8443, PSH+ACK, "hello"; the
/// partial checksum is 0x002d.
#[rustfmt::skip]
pub const REAL_LOOPBACK_IPV6_DATA: [u8; 91] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd, // Ethernet: zero MACs, IPv6
    0x60, 0x0c, 0x18, 0x35,                         // version 6, flow label 0xc1835
    0x00, 0x25, 0x06, 0x40,                         // payload length 37, TCP, hop limit 64
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // source ::1
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // destination ::1
    0x9a, 0x56, 0x20, 0xfb,                         // ports 39510 -> 8443
    0x33, 0x23, 0x67, 0x78,                         // sequence number
    0x62, 0x3e, 0xce, 0x3a,                         // acknowledgment number
    0x80, 0x18, 0x00, 0x40,                         // data offset 8, PSH+ACK, window 64
    0x00, 0x2d, 0x00, 0x00,                         // checksum 0x002d (partial), urgent 0
    0x01, 0x01, 0x08, 0x0a,                         // NOP, NOP, timestamps
    0xb3, 0xa6, 0xb3, 0x8c, 0xd5, 0x10, 0x83, 0xaf, //   TSval, TSecr
    b'h', b'e', b'l', b'l', b'o',                   // payload
];

// ---------------------------------------------------------------------------------------------
// ICMP, ICMPv6 and UDP: built from parts, checksums from `folded_sum`.
// ---------------------------------------------------------------------------------------------

/// Source MAC 02:00:00:00:00:01 → destination 02:00:00:00:00:02, then the EtherType.
pub fn ethernet(ethertype: u16, packet: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(packet);
    f
}

/// An IPv4 packet (20-byte header, identification 0x0101, DF) with a correct header checksum.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], ttl: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x01, 0x40, 0x00, ttl, protocol, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let sum = !folded_sum(&[&p]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv6 packet (no extension headers, flow label 0x12345).
pub fn ipv6(src: [u8; 16], dst: [u8; 16], hop: u8, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0x01, 0x23, 0x45];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hop]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

/// The pseudo-header for a transport message of `len` bytes of `protocol` between the addresses.
fn pseudo(src: &[u8], dst: &[u8], protocol: u8, len: usize) -> Vec<u8> {
    let mut v = src.to_vec();
    v.extend_from_slice(dst);
    if src.len() == 4 {
        v.extend_from_slice(&[0, protocol]);
        v.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, protocol]);
    }
    v
}

/// A UDP datagram with a correct checksum over the pseudo-header of `src` → `dst` (4 or 16 bytes).
pub fn udp(src: &[u8], dst: &[u8], sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let len = 8 + data.len();
    let mut d = sport.to_be_bytes().to_vec();
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&(len as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(data);
    let mut sum = !folded_sum(&[&pseudo(src, dst, 17, len), &d]);
    if sum == 0 {
        sum = 0xffff; // RFC 768: a computed 0 is sent as all ones
    }
    d[6..8].copy_from_slice(&sum.to_be_bytes());
    d
}

/// An ICMP message (type, code, the 4 bytes after the checksum, body) with a correct checksum;
/// with `v6` = Some((src, dst)) an ICMPv6 one, whose checksum covers the pseudo-header.
pub fn icmp(
    kind: u8,
    code: u8,
    rest: [u8; 4],
    body: &[u8],
    v6: Option<([u8; 16], [u8; 16])>,
) -> Vec<u8> {
    let mut m = vec![kind, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let sum = match v6 {
        Some((src, dst)) => !folded_sum(&[&pseudo(&src, &dst, 58, m.len()), &m]),
        None => !folded_sum(&[&m]),
    };
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

pub const HOST_A: [u8; 4] = [10, 0, 0, 2];
pub const ROUTER: [u8; 4] = [10, 0, 0, 1];
pub const HOST_B: [u8; 4] = [10, 0, 1, 2];
pub const HOST_A6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
pub const ROUTER6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const HOST_B6: [u8; 16] = [0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// ping's echo request 10.0.0.2 → 10.0.1.2, identifier 0x1234, sequence 1, 8 data bytes.
pub fn eth_icmp_echo() -> Vec<u8> {
    let m = icmp(8, 0, [0x12, 0x34, 0, 1], b"pingdata", None);
    ethernet(0x0800, &ipv4(HOST_A, HOST_B, 64, 1, &m))
}

/// A UDP probe 10.0.0.2:40000 → 10.0.1.2:33434 with TTL 1 and 12 data bytes.
pub fn udp_probe_packet(ttl: u8) -> Vec<u8> {
    let d = udp(&HOST_A, &HOST_B, 40000, 33434, b"probe-bytes!");
    ipv4(HOST_A, HOST_B, ttl, 17, &d)
}

/// The router 10.0.0.1 answers the probe: ICMP time exceeded, quoting the probe's IP header and
/// its first 8 bytes (the UDP header), as Linux does (RFC 792 asks for 8; Linux quotes more when
/// it fits, RFC 1812 §4.3.2.3: here the whole probe).
pub fn eth_icmp_time_exceeded() -> Vec<u8> {
    let m = icmp(11, 0, [0; 4], &udp_probe_packet(1), None);
    ethernet(0x0800, &ipv4(ROUTER, HOST_A, 64, 1, &m))
}

/// The router answers a 1400-byte DF packet with "fragmentation needed", next-hop MTU 1000,
/// quoting the IP header and 8 bytes.
pub fn eth_icmp_frag_needed() -> Vec<u8> {
    let mut probe = udp_probe_packet(63);
    probe.truncate(28);
    probe[2..4].copy_from_slice(&1400u16.to_be_bytes()); // the original's total length
    probe[10] = 0;
    probe[11] = 0;
    let sum = !folded_sum(&[&probe[..20]]);
    probe[10..12].copy_from_slice(&sum.to_be_bytes());
    let m = icmp(3, 4, [0, 0, 0x03, 0xe8], &probe, None);
    ethernet(0x0800, &ipv4(ROUTER, HOST_A, 64, 1, &m))
}

/// A UDP datagram over IPv4 with the given checksum field (`None`: a correct one).
pub fn eth_udp(checksum: Option<u16>) -> Vec<u8> {
    let mut d = udp(&HOST_A, &HOST_B, 40000, 53, b"hello");
    if let Some(c) = checksum {
        d[6..8].copy_from_slice(&c.to_be_bytes());
    }
    ethernet(0x0800, &ipv4(HOST_A, HOST_B, 64, 17, &d))
}

/// UDP over IPv6, fd00::2:5353 → fd00:1::2:5353.
pub fn eth_udp6() -> Vec<u8> {
    let d = udp(&HOST_A6, &HOST_B6, 5353, 5353, b"hello6");
    ethernet(0x86dd, &ipv6(HOST_A6, HOST_B6, 64, 17, &d))
}

/// ICMPv6 echo request fd00::2 → fd00:1::2, identifier 7, sequence 3.
pub fn eth_icmpv6_echo() -> Vec<u8> {
    let m = icmp(128, 0, [0, 7, 0, 3], b"abcd", Some((HOST_A6, HOST_B6)));
    ethernet(0x86dd, &ipv6(HOST_A6, HOST_B6, 64, 58, &m))
}

/// The router fd00::1 says "packet too big, MTU 1280" about a UDP datagram of fd00::2.
pub fn eth_icmpv6_too_big() -> Vec<u8> {
    let d = udp(&HOST_A6, &HOST_B6, 40000, 9, &[0x55; 24]);
    let quoted = ipv6(HOST_A6, HOST_B6, 63, 17, &d);
    let m = icmp(
        2,
        0,
        1280u32.to_be_bytes(),
        &quoted,
        Some((ROUTER6, HOST_A6)),
    );
    ethernet(0x86dd, &ipv6(ROUTER6, HOST_A6, 64, 58, &m))
}

/// A neighbour solicitation from fd00::2 for fd00::1 with a source link-layer address option.
pub fn eth_icmpv6_neighbor_solicitation() -> Vec<u8> {
    let mut body = ROUTER6.to_vec();
    body.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 0x01]); // option 1, 8 bytes, the MAC
    let dst = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1]; // solicited-node
    let m = icmp(135, 0, [0; 4], &body, Some((HOST_A6, dst)));
    ethernet(0x86dd, &ipv6(HOST_A6, dst, 255, 58, &m))
}
