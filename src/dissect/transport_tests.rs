//! ICMP, ICMPv6 and UDP through [`dissect`]: summaries, fields, checksums, the quoted packet of
//! an error, and robustness on cut and mutated frames.

use std::net::IpAddr;

use super::fixtures::*;
use super::*;

fn field<'a>(fields: &'a [Field], name: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:#?}"))
}

/// Every byte of every parsed layer is in some field, every field inside the frame.
fn assert_covered(p: &Packet, frame: &[u8]) {
    for layer in p.layers() {
        let fields = p.fields(layer, frame);
        for f in &fields {
            assert!(f.range.end <= frame.len(), "{f:?}");
            assert!(!f.value.is_empty() && !f.meaning.is_empty(), "{f:?}");
        }
        for byte in p.range(layer).unwrap_or_default() {
            assert!(
                fields.iter().any(|f| f.range.contains(&byte)),
                "byte {byte} of {layer} is in no field"
            );
            assert_eq!(p.layer_at(byte), Some(layer), "byte {byte}");
        }
    }
}

#[test]
fn icmp_echo_request() {
    let frame = eth_icmp_echo();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let icmp = p.icmp.as_ref().unwrap();
    assert_eq!((icmp.version, icmp.icmp_type, icmp.code), (4, 8, 0));
    assert_eq!(icmp.echo, Some((0x1234, 1)));
    assert_eq!(icmp.checksum, ChecksumStatus::Verified);
    assert_eq!(icmp.range, 34..50);
    assert_eq!(icmp.summary(), "ICMP echo request id=0x1234 seq=1");
    assert!(p.tcp.is_none() && p.udp.is_none());
    let f = p.fields(Layer::Icmp, &frame);
    assert_eq!(field(&f, "Type").value, "8 (echo request)");
    assert_eq!(field(&f, "Sequence number").range, 40..42);
    assert_eq!(field(&f, "Data").value, "8 bytes");
    assert_covered(&p, &frame);
    assert_eq!(
        p.layers().collect::<Vec<_>>(),
        [Layer::Link, Layer::Ip, Layer::Icmp]
    );

    let mut bad = frame.clone();
    bad[45] ^= 1;
    let p = dissect(LinkType::Ethernet, &bad);
    assert!(matches!(
        p.icmp.unwrap().checksum,
        ChecksumStatus::Wrong { .. }
    ));
}

#[test]
fn time_exceeded_quotes_the_probe_as_traceroute_reads_it() {
    let frame = eth_icmp_time_exceeded();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let icmp = p.icmp.as_ref().unwrap();
    assert_eq!((icmp.icmp_type, icmp.code), (11, 0));
    assert_eq!(icmp.checksum, ChecksumStatus::Verified);
    let q = icmp.quoted.as_ref().unwrap();
    assert_eq!(q.ip.src, IpAddr::from(HOST_A));
    assert_eq!(q.ip.dst, IpAddr::from(HOST_B));
    assert_eq!((q.ip.ttl, q.ip.protocol), (1, 17));
    assert_eq!(q.ip.checksum, Some(ChecksumStatus::Verified));
    assert_eq!(q.ports, Some((40000, 33434)));
    assert_eq!(q.range, 42..82);
    assert_eq!(
        icmp.summary(),
        "ICMP time exceeded (TTL exceeded in transit) about 10.0.0.2:40000 → 10.0.1.2:33434 UDP"
    );
    let f = p.fields(Layer::Icmp, &frame);
    assert_eq!(field(&f, "Original destination port").value, "33434");
    assert_eq!(field(&f, "Original destination port").range, 64..66);
    assert_eq!(field(&f, "TTL").value, "1");
    assert_eq!(field(&f, "Code").value, "0 (TTL exceeded in transit)");
    assert_covered(&p, &frame);
}

#[test]
fn fragmentation_needed_names_the_next_hop_mtu() {
    let frame = eth_icmp_frag_needed();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let icmp = p.icmp.as_ref().unwrap();
    assert_eq!((icmp.icmp_type, icmp.code, icmp.mtu), (3, 4, Some(1000)));
    assert_eq!(icmp.checksum, ChecksumStatus::Verified);
    let q = icmp.quoted.as_ref().unwrap();
    assert_eq!((q.ip.total_len, q.ip.ttl), (1400, 63));
    assert_eq!(q.ports, Some((40000, 33434)));
    let f = p.fields(Layer::Icmp, &frame);
    assert_eq!(field(&f, "Next-hop MTU").value, "1000 bytes");
    assert_eq!(field(&f, "Next-hop MTU").range, 40..42);
    assert!(icmp
        .summary()
        .starts_with("ICMP destination unreachable (fragmentation needed, MTU 1000) about"));
    assert_covered(&p, &frame);
}

#[test]
fn udp_checksums_verified_wrong_and_absent() {
    let frame = eth_udp(None);
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let udp = p.udp.as_ref().unwrap();
    assert_eq!((udp.src_port, udp.dst_port, udp.length), (40000, 53, 13));
    assert_eq!(udp.checksum, ChecksumStatus::Verified);
    assert_eq!((udp.header.clone(), udp.payload.clone()), (34..42, 42..47));
    assert_eq!(p.payload, 0..0, "Packet::payload stays TCP's");
    assert_eq!(p.range(Layer::Payload), Some(42..47));
    let f = p.fields(Layer::Udp, &frame);
    assert_eq!(field(&f, "Length").value, "13 bytes");
    assert!(field(&f, "Destination port").meaning.contains("DNS"));
    assert_eq!(
        field(&p.fields(Layer::Payload, &frame), "UDP payload").range,
        42..47
    );
    assert_covered(&p, &frame);

    let p = dissect(LinkType::Ethernet, &eth_udp(Some(0)));
    assert_eq!(p.udp.unwrap().checksum, ChecksumStatus::Absent);
    let p = dissect(LinkType::Ethernet, &eth_udp(Some(0x1234)));
    assert!(matches!(
        p.udp.unwrap().checksum,
        ChecksumStatus::Wrong { found: 0x1234, .. }
    ));
    // The checksum is skipped when the caller asks.
    let p = dissect_without_tcp_checksum(LinkType::Ethernet, &frame);
    assert_eq!(p.udp.unwrap().checksum, ChecksumStatus::NotChecked);

    let frame = eth_udp6();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    assert_eq!(p.udp.as_ref().unwrap().checksum, ChecksumStatus::Verified);
    assert_covered(&p, &frame);
    // Over IPv6 a checksum of 0 is not "none": it is wrong (RFC 8200 §8.1).
    let mut zero = frame.clone();
    zero[60..62].copy_from_slice(&[0, 0]);
    let p = dissect(LinkType::Ethernet, &zero);
    assert!(matches!(
        p.udp.unwrap().checksum,
        ChecksumStatus::Wrong { found: 0, .. }
    ));
}

#[test]
fn udp_length_errors_stop_with_reasons() {
    let mut frame = eth_udp(None);
    frame[38..40].copy_from_slice(&5u16.to_be_bytes()); // UDP length 5 < 8
    let p = dissect(LinkType::Ethernet, &frame);
    let stop = p.stop.unwrap();
    assert_eq!(
        (stop.layer, stop.offset, stop.kind),
        (Layer::Udp, 38, StopKind::Malformed)
    );
    assert!(p.udp.is_some(), "the header is kept");
    let mut frame = eth_udp(None);
    frame[38..40].copy_from_slice(&200u16.to_be_bytes()); // beyond the IP packet
    assert_eq!(
        dissect(LinkType::Ethernet, &frame).stop.unwrap().layer,
        Layer::Udp
    );
    // Cut inside the header: truncated.
    let frame = eth_udp(None);
    let p = dissect(LinkType::Ethernet, &frame[..38]);
    let stop = p.stop.unwrap();
    assert_eq!((stop.layer, stop.kind), (Layer::Udp, StopKind::Truncated));
    // Cut in the payload: the header is read, the stop is in the payload.
    let p = dissect(LinkType::Ethernet, &frame[..44]);
    assert_eq!(p.udp.as_ref().unwrap().checksum, ChecksumStatus::NotChecked);
    assert_eq!(p.stop.unwrap().layer, Layer::Payload);
    assert_eq!(p.not_captured, 3);
}

#[test]
fn icmpv6_echo_packet_too_big_and_neighbor_discovery() {
    let frame = eth_icmpv6_echo();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let icmp = p.icmp.as_ref().unwrap();
    assert_eq!(
        (icmp.version, icmp.icmp_type, icmp.echo),
        (6, 128, Some((7, 3)))
    );
    assert_eq!(icmp.checksum, ChecksumStatus::Verified);
    assert_eq!(icmp.summary(), "ICMPv6 echo request id=0x0007 seq=3");
    assert_covered(&p, &frame);

    let frame = eth_icmpv6_too_big();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let icmp = p.icmp.as_ref().unwrap();
    assert_eq!((icmp.icmp_type, icmp.mtu), (2, Some(1280)));
    assert_eq!(icmp.checksum, ChecksumStatus::Verified);
    let q = icmp.quoted.as_ref().unwrap();
    assert_eq!((q.ip.version, q.ip.ttl, q.ports), (6, 63, Some((40000, 9))));
    assert_eq!(
        field(&p.fields(Layer::Icmp, &frame), "MTU").value,
        "1280 bytes"
    );
    assert_eq!(
        icmp.summary(),
        "ICMPv6 packet too big (MTU 1280) about [fd00::2]:40000 → [fd00:1::2]:9 UDP"
    );
    assert_covered(&p, &frame);

    let frame = eth_icmpv6_neighbor_solicitation();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let icmp = p.icmp.as_ref().unwrap();
    assert_eq!(icmp.icmp_type, 135);
    assert_eq!(icmp.checksum, ChecksumStatus::Verified);
    assert_eq!(icmp.target, Some(IpAddr::from(ROUTER6)));
    assert_eq!(icmp.summary(), "ICMPv6 neighbor solicitation for fd00::1");
    let f = p.fields(Layer::Icmp, &frame);
    assert_eq!(field(&f, "Target address").range, 62..78);
    assert_eq!(
        field(&f, "Source link-layer address").value,
        "02:00:00:00:00:01"
    );
    assert_covered(&p, &frame);
}

#[test]
fn a_later_fragment_of_a_udp_datagram_is_not_dissected_as_udp() {
    let mut frame = eth_udp(None);
    frame[20..22].copy_from_slice(&0x0001u16.to_be_bytes()); // offset 8 bytes, no DF
    fill_ipv4_checksum(&mut frame);
    let p = dissect(LinkType::Ethernet, &frame);
    assert!(p.udp.is_none());
    let stop = p.stop.unwrap();
    assert_eq!(
        (stop.layer, stop.kind),
        (Layer::Udp, StopKind::NotDissected)
    );
    // The first fragment: the header is read, the checksum cannot be checked.
    let mut frame = eth_udp(None);
    frame[20..22].copy_from_slice(&0x2000u16.to_be_bytes()); // MF
    fill_ipv4_checksum(&mut frame);
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    assert_eq!(p.udp.unwrap().checksum, ChecksumStatus::NotChecked);
}

fn fill_ipv4_checksum(frame: &mut [u8]) {
    frame[24] = 0;
    frame[25] = 0;
    let sum = !folded_sum(&[&frame[14..34]]);
    frame[24..26].copy_from_slice(&sum.to_be_bytes());
}

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn never_panics_on_cut_or_mutated_icmp_and_udp() {
    let frames = [
        eth_icmp_echo(),
        eth_icmp_time_exceeded(),
        eth_icmp_frag_needed(),
        eth_udp(None),
        eth_udp(Some(0)),
        eth_udp6(),
        eth_icmpv6_echo(),
        eth_icmpv6_too_big(),
        eth_icmpv6_neighbor_solicitation(),
    ];
    let exercise = |data: &[u8]| {
        for p in [
            dissect(LinkType::Ethernet, data),
            dissect(LinkType::RawIp, data.get(14..).unwrap_or_default()),
        ] {
            for layer in p.layers() {
                let _ = p.fields(layer, data);
            }
            for f in p
                .fields(Layer::Icmp, data)
                .into_iter()
                .chain(p.fields(Layer::Udp, data))
            {
                assert!(f.range.end <= data.len(), "{f:?}");
            }
            if let Some(i) = &p.icmp {
                let _ = i.summary();
            }
            for offset in 0..=data.len() {
                let _ = p.layer_at(offset);
            }
        }
    };
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for frame in &frames {
        for end in 0..=frame.len() {
            exercise(&frame[..end]);
        }
        for _ in 0..3_000 {
            let mut m = frame.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = 14 + (rng.next() % (m.len() as u64 - 14)) as usize;
                m[at] = rng.next() as u8;
            }
            exercise(&m);
        }
    }
}

/// One byte is "1 byte", in the values and in the sentences.
#[test]
fn one_byte_is_one_byte_not_one_bytes() {
    let frame = ethernet(
        0x0800,
        &ipv4(
            HOST_A,
            HOST_B,
            64,
            17,
            &udp(&HOST_A, &HOST_B, 1000, 2000, b"x"),
        ),
    );
    let p = dissect(LinkType::Ethernet, &frame);
    let udp_fields = p.fields(Layer::Udp, &frame);
    assert!(field(&udp_fields, "Length")
        .meaning
        .contains("header and 1 byte of data"));
    let payload = p.fields(Layer::Payload, &frame);
    let data = field(&payload, "UDP payload");
    assert_eq!(data.value, "1 byte");
    assert!(
        data.meaning.starts_with("1 byte a program"),
        "{}",
        data.meaning
    );

    // A TCP segment with one byte of data: the SYN fixture, its flags made ACK, plus a byte.
    let mut frame = eth_ipv4_syn();
    frame.push(b'x');
    frame[16..18].copy_from_slice(&61u16.to_be_bytes());
    frame[47] = 0x10;
    fill_checksums(&mut frame, 14);
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let payload = p.fields(Layer::Payload, &frame);
    let data = field(&payload, "TCP payload");
    assert_eq!(data.value, "1 byte");
    assert!(
        data.meaning.starts_with("1 byte the application"),
        "{}",
        data.meaning
    );
    assert!(!data.meaning.contains("1 bytes"), "{}", data.meaning);
}
