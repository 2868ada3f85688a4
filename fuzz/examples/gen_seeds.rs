//! Writes the seed corpora of the three fuzz targets into `corpus/<target>/`.
//!
//! ```text
//! cargo run --example gen_seeds -- [CAPTURE_FILE...]
//! ```
//!
//! - hand-built frames for every link type (IPv4/IPv6, TCP options, ARP, VLAN, a fragment), and
//!   UDP, ICMP and ICMPv6 ones (echo, errors quoting a packet, neighbour discovery);
//! - every frame of the capture files given (pcap or pcapng, e.g. from `tcpdump -w` or
//!   `packetpath trace --write`), and the files themselves for `read_capture`, plus a pcapng
//!   written by packetpath's own writer and a big-endian classic pcap;
//! - TLS streams for `tls_records`: synthetic TLS 1.3 (one with 0-RTT early data) and TLS 1.2
//!   (AEAD, and AES-CBC with either MAC order) sessions whose protected records are sealed with
//!   the secrets of the target's fixed key log (so they decrypt), and the TCP
//!   payloads of the TLS connections in the capture files (these decrypt only with their own keys).
//!
//! Not part of packetpath; seeds stay out of git (`corpus/` is ignored).

use std::fs;
use std::path::{Path, PathBuf};

use packetpath::capture::{read_capture, PcapngWriter};
use packetpath::dissect::dissect;
use packetpath::frame::{Frame, LinkType, Timestamp};
use aes::{Aes128, Aes256};
use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use packetpath::tls::{
    cbc_suite_params, hkdf_expand_label, suite_params, tls12_prf, CbcCipher, Direction, Keys,
    SuiteAead, SuiteParams, TlsConnection,
};
use ring::{aead, hmac};

#[path = "../fuzz_targets/keylog.rs"]
mod keylog;

const LINKS: [LinkType; 5] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::NullLoopback,
];

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut seeds = Seeds::new(&root);
    let captures: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();

    // --- dissect_frame: hand-built frames, each link type.
    let ipv4 = ipv4_tcp(b"\x16\x03\x01\x00\x05hello", true);
    let ipv6 = ipv6_tcp(b"\x17\x03\x03\x00\x03abc", false);
    for (name, ip) in [("v4", &ipv4), ("v6", &ipv6)] {
        let ethertype: u16 = if ip[0] >> 4 == 4 { 0x0800 } else { 0x86dd };
        seeds.frame(
            &format!("eth_{name}"),
            LinkType::Ethernet,
            &ethernet(ethertype, ip),
        );
        seeds.frame(
            &format!("sll_{name}"),
            LinkType::LinuxSll,
            &sll(ethertype, ip),
        );
        seeds.frame(
            &format!("sll2_{name}"),
            LinkType::LinuxSll2,
            &sll2(ethertype, ip),
        );
        seeds.frame(&format!("raw_{name}"), LinkType::RawIp, ip);
        let family: u32 = if ethertype == 0x0800 { 2 } else { 30 };
        let mut null = family.to_le_bytes().to_vec();
        null.extend_from_slice(ip);
        seeds.frame(&format!("null_{name}"), LinkType::NullLoopback, &null);
    }
    let mut vlan = ethernet(0x8100, &[]);
    vlan.extend_from_slice(&[0x00, 0x2a, 0x08, 0x00]); // VLAN 42, then IPv4
    vlan.extend_from_slice(&ipv4);
    seeds.frame("eth_vlan_v4", LinkType::Ethernet, &vlan);
    let mut padded = ethernet(0x0800, &ipv4_tcp(b"", false));
    padded.resize(60.max(padded.len() + 6), 0); // Ethernet padding after a short packet
    seeds.frame("eth_v4_padding", LinkType::Ethernet, &padded);
    seeds.frame("eth_arp", LinkType::Ethernet, &ethernet(0x0806, &arp()));
    seeds.frame(
        "eth_v4_fragment",
        LinkType::Ethernet,
        &ethernet(0x0800, &ipv4_fragment()),
    );
    seeds.frame(
        "eth_v6_hop_by_hop",
        LinkType::Ethernet,
        &ethernet(0x86dd, &ipv6_tcp(b"x", true)),
    );
    let mut cut = ethernet(0x0800, &ipv4);
    cut.truncate(cut.len() - 4);
    seeds.frame("eth_v4_truncated", LinkType::Ethernet, &cut);
    for (name, ip) in transport_seeds() {
        let ethertype: u16 = if ip[0] >> 4 == 4 { 0x0800 } else { 0x86dd };
        seeds.frame(&format!("eth_{name}"), LinkType::Ethernet, &ethernet(ethertype, &ip));
        seeds.frame(&format!("raw_{name}"), LinkType::RawIp, &ip);
    }

    // --- frames and TLS streams of real captures.
    for path in &captures {
        let Ok(bytes) = fs::read(path) else {
            eprintln!("cannot read {}", path.display());
            continue;
        };
        let stem = path
            .file_stem()
            .map_or("capture".into(), |s| s.to_string_lossy().into_owned());
        seeds.put("read_capture", &stem, &bytes);
        match read_capture(&bytes) {
            Ok(file) => {
                for (i, frame) in file.frames.iter().enumerate() {
                    seeds.frame(&format!("{stem}_{i}"), frame.link, &frame.data);
                }
                if let Some(stream) = tls_stream_of_capture(&file.frames) {
                    seeds.put("tls_records", &format!("capture_{stem}"), &stream);
                }
            }
            Err(e) => eprintln!("{}: {e}", path.display()),
        }
    }

    // --- read_capture: packetpath's own pcapng (secrets, comment, custom block), classic BE pcap.
    seeds.put(
        "read_capture",
        "packetpath_writer",
        &pcapng_of(&[&ipv4, &ipv6]),
    );
    seeds.put(
        "read_capture",
        "classic_be_null",
        &pcap_be_null(&[&ipv4, &ipv6]),
    );

    // --- tls_records: synthetic sessions sealed with the fixed key log's secrets.
    let keys = Keys::parse_nss(keylog::KEYLOG).0;
    for session in [
        tls13_session(0x1301, false),
        tls13_session(0x1302, false),
        tls13_session(0x1301, true),
        tls12_session(0xc02f),
        tls12_session(0xcca8),
        tls12_cbc_session(0xc013, true),
        tls12_cbc_session(0xc028, false),
    ] {
        session.check(&keys);
        seeds.put(
            "tls_records",
            &format!("{}_records", session.name),
            &session.chunks(usize::MAX),
        );
        seeds.put(
            "tls_records",
            &format!("{}_chunks7", session.name),
            &session.chunks(7),
        );
    }
    seeds.put("tls_records", "keylog_text", keylog::KEYLOG.as_bytes());
    println!("wrote {} seeds under {}", seeds.count, root.display());
}

/// Writes seed files.
struct Seeds {
    root: PathBuf,
    count: usize,
}

impl Seeds {
    fn new(root: &Path) -> Self {
        Seeds {
            root: root.to_path_buf(),
            count: 0,
        }
    }

    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("create corpus directory");
        fs::write(dir.join(format!("seed_{name}")), bytes).expect("write seed");
        self.count += 1;
    }

    /// A dissect_frame seed: the link type's index, then the frame.
    fn frame(&mut self, name: &str, link: LinkType, frame: &[u8]) {
        let Some(index) = LINKS.iter().position(|l| *l == link) else {
            return;
        };
        if let Some(stop) = dissect(link, frame).stop {
            println!("frame seed {name}: dissection stops: {stop}");
        }
        let mut seed = vec![index as u8];
        seed.extend_from_slice(frame);
        self.put("dissect_frame", name, &seed);
    }
}

// ---------------------------------------------------------------------------------------------
// Frames

/// RFC 1071 ones'-complement sum.
fn sum16(parts: &[&[u8]]) -> u16 {
    let bytes = parts.concat();
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|p| u32::from(p[0]) << 8 | u32::from(p.get(1).copied().unwrap_or(0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A TCP header (with MSS, SACK-permitted, timestamps and window-scale options when `options`)
/// plus payload, ports 50412 -> 8443.
fn tcp(payload: &[u8], options: bool) -> Vec<u8> {
    let opts: &[u8] = if options {
        &[
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ]
    } else {
        &[]
    };
    let data_offset = (20 + opts.len()) / 4;
    let mut t = vec![0xc4, 0xec, 0x20, 0xfb, 0, 0, 0x10, 0, 0, 0, 0x20, 0];
    t.push((data_offset as u8) << 4);
    t.push(if payload.is_empty() { 0x02 } else { 0x18 }); // SYN, or PSH+ACK
    t.extend_from_slice(&[0xff, 0xd7, 0, 0, 0, 0]); // window, checksum, urgent
    t.extend_from_slice(opts);
    t.extend_from_slice(payload);
    t
}

fn ipv4_tcp(payload: &[u8], options: bool) -> Vec<u8> {
    let segment = tcp(payload, options);
    let total = 20 + segment.len();
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ];
    ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
    let c = sum16(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut pseudo = ip[12..20].to_vec();
    pseudo.extend_from_slice(&[0, 6, (segment.len() >> 8) as u8, segment.len() as u8]);
    let mut segment = segment;
    let c = sum16(&[&pseudo, &segment]);
    segment[16..18].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&segment);
    ip
}

fn ipv6_tcp(payload: &[u8], hop_by_hop: bool) -> Vec<u8> {
    let mut segment = tcp(payload, true);
    let mut ext = Vec::new();
    if hop_by_hop {
        ext.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // next TCP, 8 bytes, PadN
    }
    let plen = ext.len() + segment.len();
    let mut ip = vec![
        0x60,
        0,
        0,
        0,
        (plen >> 8) as u8,
        plen as u8,
        if hop_by_hop { 0 } else { 6 },
        64,
    ];
    let loopback = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    ip.extend_from_slice(&loopback);
    ip.extend_from_slice(&loopback);
    let mut pseudo = [loopback, loopback].concat();
    pseudo.extend_from_slice(&(segment.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 6]);
    let c = sum16(&[&pseudo, &segment]);
    segment[16..18].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&ext);
    ip.extend_from_slice(&segment);
    ip
}

const A4: [u8; 4] = [10, 0, 0, 2];
const B4: [u8; 4] = [10, 0, 1, 2];
const R4: [u8; 4] = [10, 0, 0, 1];
const A6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const B6: [u8; 16] = [0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const R6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// An IPv4 packet of `protocol` with a correct header checksum.
fn ip4(src: [u8; 4], dst: [u8; 4], ttl: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut ip = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, ttl, protocol, 0, 0];
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = sum16(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(payload);
    ip
}

/// An IPv6 packet with next header `next`.
fn ip6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![0x60, 0, 0, 0, (payload.len() >> 8) as u8, payload.len() as u8, next, 64];
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    ip.extend_from_slice(payload);
    ip
}

fn pseudo(src: &[u8], dst: &[u8], protocol: u8, len: usize) -> Vec<u8> {
    let mut v = [src, dst].concat();
    if src.len() == 4 {
        v.extend_from_slice(&[0, protocol, (len >> 8) as u8, len as u8]);
    } else {
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, protocol]);
    }
    v
}

/// A UDP datagram with its checksum.
fn udp(src: &[u8], dst: &[u8], ports: (u16, u16), data: &[u8]) -> Vec<u8> {
    let len = 8 + data.len();
    let mut d = [ports.0.to_be_bytes(), ports.1.to_be_bytes(), (len as u16).to_be_bytes(), [0, 0]].concat();
    d.extend_from_slice(data);
    let c = sum16(&[&pseudo(src, dst, 17, len), &d]);
    d[6..8].copy_from_slice(&c.to_be_bytes());
    d
}

/// An ICMP message (ICMPv6 when `v6` gives the addresses) with its checksum.
fn icmp(kind: u8, code: u8, rest: [u8; 4], body: &[u8], v6: Option<([u8; 16], [u8; 16])>) -> Vec<u8> {
    let mut m = vec![kind, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = match v6 {
        Some((src, dst)) => sum16(&[&pseudo(&src, &dst, 58, m.len()), &m]),
        None => sum16(&[&m]),
    };
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// UDP, ICMP and ICMPv6 packets: echo, time exceeded and fragmentation needed quoting a UDP
/// probe, packet too big, a neighbour solicitation, UDP without a checksum.
fn transport_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let probe = ip4(A4, B4, 1, 17, &udp(&A4, &B4, (40000, 33434), b"probe"));
    let probe6 = ip6(A6, B6, 17, &udp(&A6, &B6, (40000, 33434), b"probe"));
    let mut no_checksum = udp(&A4, &B4, (5000, 53), b"query");
    no_checksum[6..8].copy_from_slice(&[0, 0]);
    let mut ns = R6.to_vec();
    ns.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 1]);
    vec![
        ("v4_udp", ip4(A4, B4, 64, 17, &udp(&A4, &B4, (40000, 53), b"hello"))),
        ("v4_udp_no_checksum", ip4(A4, B4, 64, 17, &no_checksum)),
        ("v6_udp", probe6.clone()),
        ("v4_icmp_echo", ip4(A4, B4, 64, 1, &icmp(8, 0, [0, 1, 0, 1], b"ping", None))),
        ("v4_icmp_time_exceeded", ip4(R4, A4, 64, 1, &icmp(11, 0, [0; 4], &probe, None))),
        ("v4_icmp_frag_needed", ip4(R4, A4, 64, 1, &icmp(3, 4, [0, 0, 5, 0xdc], &probe[..28], None))),
        ("v6_icmp_echo", ip6(A6, B6, 58, &icmp(128, 0, [0, 1, 0, 1], b"ping", Some((A6, B6))))),
        ("v6_icmp_too_big", ip6(R6, A6, 58, &icmp(2, 0, [0, 0, 5, 0], &probe6, Some((R6, A6))))),
        ("v6_icmp_time_exceeded", ip6(R6, A6, 58, &icmp(3, 0, [0; 4], &probe6, Some((R6, A6))))),
        ("v6_neighbor_solicitation", ip6(A6, R6, 58, &icmp(135, 0, [0; 4], &ns, Some((A6, R6))))),
    ]
}

/// A later IPv4 fragment (offset 185 * 8 bytes) of a TCP packet.
fn ipv4_fragment() -> Vec<u8> {
    let mut ip = ipv4_tcp(b"fragment data", false);
    ip[6] = 0x00;
    ip[7] = 0xb9;
    ip[10] = 0;
    ip[11] = 0;
    let c = sum16(&[&ip[..20]]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip
}

/// An ARP request (RFC 826): who has 192.168.1.1? tell 192.168.1.2.
fn arp() -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&[2, 0, 0, 0, 0, 2, 192, 168, 1, 2]);
    a.extend_from_slice(&[0, 0, 0, 0, 0, 0, 192, 168, 1, 1]);
    a
}

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f[5] = 1;
    f[11] = 2;
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked header v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
fn sll(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked header v2: protocol, reserved, interface index, ARPHRD, packet type, address
/// length, 8 address bytes.
fn sll2(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = ethertype.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

// ---------------------------------------------------------------------------------------------
// Capture files

fn pcapng_of(packets: &[&[u8]]) -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new(), LinkType::RawIp).expect("pcapng writer");
    w.write_secrets(keylog::KEYLOG).expect("secrets");
    for (i, p) in packets.iter().enumerate() {
        let frame = Frame {
            at: Timestamp::from_parts(1_700_000_000 + i as i64, 123_456_789),
            link: LinkType::RawIp,
            data: bytes::Bytes::copy_from_slice(p),
            orig_len: p.len() as u32,
            interface: 0,
        };
        if i == 0 {
            w.write_frame_with_comment(&frame, "first packet")
                .expect("frame");
        } else {
            w.write_frame(&frame).expect("frame");
        }
    }
    w.write_custom(32473, b"custom!").expect("custom");
    w.finish().expect("finish")
}

/// Classic pcap, big-endian, microseconds, LINKTYPE_NULL (family in host order: here big-endian).
fn pcap_be_null(packets: &[&[u8]]) -> Vec<u8> {
    let mut f = vec![0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&65535u32.to_be_bytes());
    f.extend_from_slice(&0u32.to_be_bytes()); // LINKTYPE_NULL
    for (i, p) in packets.iter().enumerate() {
        let family: u32 = if p[0] >> 4 == 4 { 2 } else { 24 };
        let len = (p.len() + 4) as u32;
        f.extend_from_slice(&(1_700_000_000 + i as u32).to_be_bytes());
        f.extend_from_slice(&250_000u32.to_be_bytes());
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&family.to_be_bytes());
        f.extend_from_slice(p);
    }
    f
}

/// The TLS connection(s) of a capture as a tls_records input: one chunk per TCP segment with
/// payload, the direction taken from the first SYN (or the first segment) of each connection.
fn tls_stream_of_capture(frames: &[Frame]) -> Option<Vec<u8>> {
    let mut client: Option<(u16, u16)> = None; // (client port, server port)
    let mut out = Chunks::default();
    for frame in frames {
        let packet = dissect(frame.link, &frame.data);
        let Some(tcp) = &packet.tcp else { continue };
        let ports = (tcp.src_port, tcp.dst_port);
        let conn = *client.get_or_insert(ports);
        let to_server = if ports == conn {
            true
        } else if ports == (conn.1, conn.0) {
            false
        } else {
            continue; // another connection
        };
        if let Some(payload) = frame.data.get(packet.payload.clone()) {
            if !payload.is_empty() {
                out.push(to_server, payload);
            }
        }
    }
    (!out.bytes.is_empty()).then_some(out.bytes)
}

// ---------------------------------------------------------------------------------------------
// TLS

/// The tls_records input format: control byte (bit 7 = server->client, bits 0-6 = length, 127 =
/// two length bytes follow), then the chunk.
#[derive(Default)]
struct Chunks {
    bytes: Vec<u8>,
}

impl Chunks {
    fn push(&mut self, to_server: bool, data: &[u8]) {
        for piece in data.chunks(0xffff) {
            let dir = if to_server { 0 } else { 0x80 };
            if piece.len() < 0x7f {
                self.bytes.push(dir | piece.len() as u8);
            } else {
                self.bytes.push(dir | 0x7f);
                self.bytes
                    .extend_from_slice(&(piece.len() as u16).to_be_bytes());
            }
            self.bytes.extend_from_slice(piece);
        }
    }
}

/// A session: records in the order they were sent, with their direction.
struct Session {
    name: String,
    records: Vec<(bool, Vec<u8>)>,
}

impl Session {
    /// Feeds the records to packetpath and insists that every protected one decrypts.
    fn check(&self, keys: &Keys) {
        let mut conn = TlsConnection::new();
        for (i, (to_server, record)) in self.records.iter().enumerate() {
            let dir = if *to_server {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            let info = conn.on_record(dir, record, keys);
            assert!(
                !info.encrypted || info.decrypted.is_some(),
                "{} record {i} did not decrypt: {:?}",
                self.name,
                info.note
            );
            println!(
                "{} #{i}: {:?} {:?} {:?}",
                self.name, info.epoch, info.handshake, info.note
            );
        }
        assert!(
            conn.summary().decrypted_records > 0,
            "{}: nothing decrypted",
            self.name
        );
    }

    /// As a tls_records input: each record cut into pieces of at most `piece` bytes.
    fn chunks(&self, piece: usize) -> Vec<u8> {
        let mut out = Chunks::default();
        for (to_server, record) in &self.records {
            for p in record.chunks(piece.min(0xffff)) {
                out.push(*to_server, p);
            }
        }
        out.bytes
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![msg_type];
    h.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    h.extend_from_slice(body);
    h
}

fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut e = kind.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

fn vec16(data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(data);
    v
}

fn client_hello(random: &[u8], tls13: bool, early_data: bool) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(random);
    b.push(32);
    b.extend_from_slice(&[0xcd; 32]); // legacy session id
    b.extend_from_slice(&vec16(&[
        0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2f, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x28,
    ]));
    b.extend_from_slice(&[1, 0]); // compression: null
    let mut exts = Vec::new();
    let mut sni = vec![0];
    sni.extend_from_slice(&vec16(b"fuzz.example"));
    exts.extend(ext(0x0000, &vec16(&sni)));
    exts.extend(ext(0x000a, &vec16(&[0x00, 0x1d, 0x00, 0x17])));
    exts.extend(ext(0x000d, &vec16(&[0x04, 0x03, 0x08, 0x04])));
    let mut alpn = vec![8];
    alpn.extend_from_slice(b"http/1.1");
    exts.extend(ext(0x0010, &vec16(&alpn)));
    if tls13 {
        exts.extend(ext(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]));
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend_from_slice(&[0x42; 32]);
        exts.extend(ext(0x0033, &vec16(&share)));
    } else {
        exts.extend(ext(0x0016, &[])); // encrypt_then_mac (RFC 7366)
    }
    if early_data {
        exts.extend(ext(0x002a, &[]));
    }
    b.extend_from_slice(&vec16(&exts));
    handshake(1, &b)
}

fn server_hello(server_random: &[u8], suite: u16, tls13: bool, etm: bool) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(server_random);
    b.push(32);
    b.extend_from_slice(&[0xcd; 32]);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    let mut exts = Vec::new();
    if tls13 {
        exts.extend(ext(0x002b, &[0x03, 0x04]));
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend_from_slice(&[0x24; 32]);
        exts.extend(ext(0x0033, &share));
    } else {
        exts.extend(ext(0xff01, &[0])); // renegotiation_info
        if etm {
            exts.extend(ext(0x0016, &[]));
        }
        let mut alpn = vec![8];
        alpn.extend_from_slice(b"http/1.1");
        exts.extend(ext(0x0010, &vec16(&alpn)));
    }
    b.extend_from_slice(&vec16(&exts));
    handshake(2, &b)
}

fn certificate(tls13: bool) -> Vec<u8> {
    let cert = vec![0x30; 40]; // not a real certificate: packetpath does not parse X.509
    let mut entry = (cert.len() as u32).to_be_bytes()[1..].to_vec();
    entry.extend_from_slice(&cert);
    if tls13 {
        entry.extend_from_slice(&[0, 0]); // no extensions
    }
    let mut body = if tls13 { vec![0] } else { vec![] }; // request context
    body.extend_from_slice(&(entry.len() as u32).to_be_bytes()[1..]);
    body.extend_from_slice(&entry);
    handshake(11, &body)
}

/// Seals TLS 1.3 records of one direction and epoch (RFC 8446 §5.2).
struct Tls13Sealer {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Tls13Sealer {
    fn new(suite: SuiteParams, secret: &[u8]) -> Self {
        let key =
            hkdf_expand_label(suite.hash, secret, "key", &[], suite.aead.key_len()).expect("key");
        let iv = hkdf_expand_label(suite.hash, secret, "iv", &[], 12).expect("iv");
        Tls13Sealer {
            key: aead::LessSafeKey::new(
                aead::UnboundKey::new(ring_alg(suite.aead), &key).expect("key"),
            ),
            iv: iv.try_into().expect("12-byte iv"),
            seq: 0,
        }
    }

    fn seal(&mut self, content_type: u8, content: &[u8], padding: usize) -> Vec<u8> {
        let mut inner = content.to_vec();
        inner.push(content_type);
        inner.resize(inner.len() + padding, 0);
        let len = inner.len() + 16;
        let header = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(header),
                &mut inner,
            )
            .expect("seal");
        let mut r = header.to_vec();
        r.extend_from_slice(&inner);
        r
    }
}

fn ring_alg(a: SuiteAead) -> &'static aead::Algorithm {
    match a {
        SuiteAead::Aes128Gcm => &aead::AES_128_GCM,
        SuiteAead::Aes256Gcm => &aead::AES_256_GCM,
        SuiteAead::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
    }
}

fn secret(label: &str, random: &str) -> Vec<u8> {
    let prefix = format!("{label} {random} ");
    let line = keylog::KEYLOG
        .lines()
        .find(|l| l.starts_with(&prefix))
        .expect("secret in key log");
    hex(&line[prefix.len()..])
}

/// A TLS 1.3 session with suite 0x1301 (random RANDOM_TLS13) or 0x1302 (RANDOM_TLS13_384):
/// hellos, middlebox CCS, encrypted server flight split over records, client Finished,
/// NewSessionTicket, data both ways, a client KeyUpdate, close_notify alerts. With `early`
/// (0x1301 only), the client sends 0-RTT data after its ClientHello and EndOfEarlyData before its
/// Finished, under CLIENT_EARLY_TRAFFIC_SECRET.
fn tls13_session(suite_id: u16, early: bool) -> Session {
    let suite = suite_params(suite_id).expect("suite");
    let random = if suite_id == 0x1301 {
        keylog::RANDOM_TLS13
    } else {
        keylog::RANDOM_TLS13_384
    };
    let hash_len = suite.hash.output_len();
    let mut chs = Tls13Sealer::new(suite, &secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", random));
    let mut shs = Tls13Sealer::new(suite, &secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", random));
    let client_app = secret("CLIENT_TRAFFIC_SECRET_0", random);
    let mut cap = Tls13Sealer::new(suite, &client_app);
    let mut sap = Tls13Sealer::new(suite, &secret("SERVER_TRAFFIC_SECRET_0", random));

    let mut r = Vec::new();
    r.push((true, record(22, &client_hello(&hex(random), true, early))));
    let mut early_sealer = early.then(|| {
        Tls13Sealer::new(suite, &secret("CLIENT_EARLY_TRAFFIC_SECRET", random))
    });
    if let Some(e) = early_sealer.as_mut() {
        r.push((true, record(20, &[1])));
        r.push((true, e.seal(23, b"0-RTT: early data\n", 0)));
    }
    // Server flight: ServerHello in clear, CCS, then EncryptedExtensions + Certificate in one
    // record, CertificateVerify in the next, Finished in a third (padded).
    r.push((
        false,
        record(22, &server_hello(&[0x5e; 32], suite_id, true, false)),
    ));
    r.push((false, record(20, &[1])));
    let ee = handshake(8, &vec16(&ext(0x0010, &vec16(b"\x08http/1.1"))));
    r.push((false, shs.seal(22, &[ee, certificate(true)].concat(), 0)));
    let mut cv = vec![0x08, 0x04];
    cv.extend_from_slice(&vec16(&[0x5c; 64]));
    r.push((false, shs.seal(22, &handshake(15, &cv), 0)));
    r.push((
        false,
        shs.seal(22, &handshake(20, &vec![0xf1; hash_len]), 7),
    ));
    // Client: CCS (or EndOfEarlyData under the early keys), Finished.
    match early_sealer.as_mut() {
        Some(e) => r.push((true, e.seal(22, &handshake(5, &[]), 0))),
        None => r.push((true, record(20, &[1]))),
    }
    r.push((true, chs.seal(22, &handshake(20, &vec![0xf2; hash_len]), 0)));
    // Server: NewSessionTicket (lifetime, age_add, nonce, ticket, extensions).
    let mut nst = 7200u32.to_be_bytes().to_vec();
    nst.extend_from_slice(&[1, 2, 3, 4, 1, 0]);
    nst.extend_from_slice(&vec16(&[0x7e; 16]));
    nst.extend_from_slice(&[0, 0]);
    r.push((false, sap.seal(22, &handshake(4, &nst), 0)));
    r.push((true, cap.seal(23, b"/name fuzz\n", 0)));
    r.push((false, sap.seal(23, b"* welcome, fuzz (1 online)\n", 3)));
    // Client KeyUpdate (update_not_requested), then data under the next secret (RFC 8446 §7.2).
    r.push((true, cap.seal(22, &handshake(24, &[0]), 0)));
    let next =
        hkdf_expand_label(suite.hash, &client_app, "traffic upd", &[], hash_len).expect("next");
    let mut cap1 = Tls13Sealer::new(suite, &next);
    r.push((true, cap1.seal(23, b"hello after key update\n", 0)));
    r.push((false, sap.seal(23, b"server: received\n", 0)));
    r.push((true, cap1.seal(21, &[1, 0], 0)));
    r.push((false, sap.seal(21, &[1, 0], 0)));
    Session {
        name: format!("tls13_{suite_id:04x}{}", if early { "_0rtt" } else { "" }),
        records: r,
    }
}

/// Seals TLS 1.2 AEAD records of one direction (RFC 5246 §6.2.3.3, RFC 5288, RFC 7905).
struct Tls12Sealer {
    key: aead::LessSafeKey,
    iv: Vec<u8>,
    chacha: bool,
    seq: u64,
}

impl Tls12Sealer {
    fn seal(&mut self, content_type: u8, content: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        let explicit = self.seq.to_be_bytes();
        if self.chacha {
            nonce.copy_from_slice(&self.iv);
            for (n, s) in nonce[4..].iter_mut().zip(explicit) {
                *n ^= s;
            }
        } else {
            nonce[..4].copy_from_slice(&self.iv);
            nonce[4..].copy_from_slice(&explicit);
        }
        let mut aad = self.seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&[content_type, 3, 3]);
        aad.extend_from_slice(&(content.len() as u16).to_be_bytes());
        self.seq += 1;
        let mut sealed = content.to_vec();
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                &mut sealed,
            )
            .expect("seal");
        let mut body = if self.chacha {
            Vec::new()
        } else {
            explicit.to_vec()
        };
        body.extend_from_slice(&sealed);
        record(content_type, &body)
    }
}

/// A TLS 1.2 ECDHE session (0xc02f AES-128-GCM or 0xcca8 ChaCha20-Poly1305), random
/// RANDOM_TLS12, master secret from CLIENT_RANDOM.
fn tls12_session(suite_id: u16) -> Session {
    let suite = suite_params(suite_id).expect("suite");
    let client_random = hex(keylog::RANDOM_TLS12);
    let server_random = [0x12u8; 32];
    let master = secret("CLIENT_RANDOM", keylog::RANDOM_TLS12);
    let chacha = suite.aead == SuiteAead::ChaCha20Poly1305;
    let (iv_len, key_len) = (if chacha { 12 } else { 4 }, suite.aead.key_len());
    let seed = [&server_random[..], &client_random].concat();
    let block = tls12_prf(
        suite.hash,
        &master,
        b"key expansion",
        &seed,
        2 * key_len + 2 * iv_len,
    );
    let sealer = |key: &[u8], iv: &[u8]| Tls12Sealer {
        key: aead::LessSafeKey::new(aead::UnboundKey::new(ring_alg(suite.aead), key).expect("key")),
        iv: iv.to_vec(),
        chacha,
        seq: 0,
    };
    let mut client = sealer(&block[..key_len], &block[2 * key_len..2 * key_len + iv_len]);
    let mut server = sealer(&block[key_len..2 * key_len], &block[2 * key_len + iv_len..]);

    let mut r = Vec::new();
    r.push((true, record(22, &client_hello(&client_random, false, false))));
    let mut ske = vec![3, 0x00, 0x1d, 32];
    ske.extend_from_slice(&[0x33; 32]);
    ske.extend_from_slice(&[0x04, 0x01]);
    ske.extend_from_slice(&vec16(&[0x5c; 64]));
    let flight = [
        server_hello(&server_random, suite_id, false, false),
        certificate(false),
        handshake(12, &ske),
        handshake(14, &[]),
    ]
    .concat();
    r.push((false, record(22, &flight)));
    let mut cke = vec![32];
    cke.extend_from_slice(&[0x44; 32]);
    r.push((true, record(22, &handshake(16, &cke))));
    r.push((true, record(20, &[1])));
    r.push((true, client.seal(22, &handshake(20, &[0xf3; 12]))));
    r.push((false, record(20, &[1])));
    r.push((false, server.seal(22, &handshake(20, &[0xf4; 12]))));
    r.push((true, client.seal(23, b"/name fuzz\n")));
    r.push((false, server.seal(23, b"* welcome, fuzz (1 online)\n")));
    r.push((true, client.seal(21, &[1, 0])));
    r.push((false, server.seal(21, &[1, 0])));
    Session {
        name: format!("tls12_{suite_id:04x}"),
        records: r,
    }
}

/// Seals TLS 1.2 AES-CBC records of one direction (RFC 5246 §6.2.3.2; RFC 7366 when `etm`).
struct CbcSealer {
    cipher: CbcCipher,
    key: Vec<u8>,
    mac: hmac::Key,
    etm: bool,
    seq: u64,
}

impl CbcSealer {
    fn mac(&self, content_type: u8, data: &[u8]) -> Vec<u8> {
        let mut m = self.seq.to_be_bytes().to_vec();
        m.extend_from_slice(&[content_type, 3, 3]);
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
        hmac::sign(&self.mac, &m).as_ref().to_vec()
    }

    fn seal(&mut self, content_type: u8, content: &[u8]) -> Vec<u8> {
        let iv = [self.seq as u8 ^ 0xa5; 16];
        let mut plain = content.to_vec();
        if !self.etm {
            plain.extend(self.mac(content_type, content));
        }
        // Padding: 1 to 16 bytes, each holding padding_length, to whole blocks.
        let pad = 15 - plain.len() % 16;
        plain.extend(std::iter::repeat_n(pad as u8, pad + 1));
        let n = plain.len();
        let enc = match self.cipher {
            CbcCipher::Aes128 => cbc::Encryptor::<Aes128>::new_from_slices(&self.key, &iv)
                .expect("key")
                .encrypt_padded_mut::<NoPadding>(&mut plain, n)
                .expect("whole blocks")
                .to_vec(),
            CbcCipher::Aes256 => cbc::Encryptor::<Aes256>::new_from_slices(&self.key, &iv)
                .expect("key")
                .encrypt_padded_mut::<NoPadding>(&mut plain, n)
                .expect("whole blocks")
                .to_vec(),
        };
        let mut body = [&iv[..], &enc].concat();
        if self.etm {
            let m = self.mac(content_type, &body);
            body.extend(m);
        }
        self.seq += 1;
        record(content_type, &body)
    }
}

/// A TLS 1.2 ECDHE session with an AES-CBC suite (0xc013: HMAC-SHA1, 0xc028: HMAC-SHA384 and the
/// SHA-384 PRF), encrypt-then-MAC or MAC-then-encrypt, random RANDOM_TLS12.
fn tls12_cbc_session(suite_id: u16, etm: bool) -> Session {
    let suite = cbc_suite_params(suite_id).expect("CBC suite");
    let client_random = hex(keylog::RANDOM_TLS12);
    let server_random = [0x13u8; 32];
    let master = secret("CLIENT_RANDOM", keylog::RANDOM_TLS12);
    let (mac_len, key_len) = (suite.mac.output_len(), suite.cipher.key_len());
    let seed = [&server_random[..], &client_random].concat();
    let block = tls12_prf(
        suite.prf,
        &master,
        b"key expansion",
        &seed,
        2 * mac_len + 2 * key_len,
    );
    let mac_alg = match mac_len {
        20 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        32 => hmac::HMAC_SHA256,
        _ => hmac::HMAC_SHA384,
    };
    let sealer = |mac: &[u8], key: &[u8]| CbcSealer {
        cipher: suite.cipher,
        key: key.to_vec(),
        mac: hmac::Key::new(mac_alg, mac),
        etm,
        seq: 0,
    };
    let keys_at = 2 * mac_len;
    let mut client = sealer(&block[..mac_len], &block[keys_at..keys_at + key_len]);
    let mut server = sealer(&block[mac_len..keys_at], &block[keys_at + key_len..]);

    let mut r = Vec::new();
    r.push((true, record(22, &client_hello(&client_random, false, false))));
    let flight = [
        server_hello(&server_random, suite_id, false, etm),
        certificate(false),
        handshake(14, &[]),
    ]
    .concat();
    r.push((false, record(22, &flight)));
    r.push((true, record(22, &handshake(16, &vec16(&[0x44; 64])))));
    r.push((true, record(20, &[1])));
    r.push((true, client.seal(22, &handshake(20, &[0xf3; 12]))));
    r.push((false, record(20, &[1])));
    r.push((false, server.seal(22, &handshake(20, &[0xf4; 12]))));
    r.push((true, client.seal(23, b"/name fuzz\n")));
    // 15 bytes + MAC: padding of every length shows up across the records.
    r.push((false, server.seal(23, b"* welcome, fuzz (1 online)\n")));
    r.push((true, client.seal(23, b"0123456789abcdef")));
    r.push((true, client.seal(21, &[1, 0])));
    r.push((false, server.seal(21, &[1, 0])));
    Session {
        name: format!(
            "tls12_cbc_{suite_id:04x}_{}",
            if etm { "etm" } else { "mte" }
        ),
        records: r,
    }
}
