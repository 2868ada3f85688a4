//! Whole-frame tests of the dissector: each fixture through [`dissect`], then its fields, its
//! layer map, and robustness on cut and random bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::fixtures::*;
use super::*;

fn field<'a>(fields: &'a [Field], name: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:#?}"))
}

#[test]
fn ipv4_syn_with_options_over_ethernet() {
    let frame = eth_ipv4_syn();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);

    let link = p.link.as_ref().unwrap();
    assert_eq!((link.range.clone(), link.ethertype), (0..14, 0x0800));
    assert_eq!((link.src, link.dst), (Some([0; 6]), Some([0; 6])));

    let ip = p.ip.as_ref().unwrap();
    assert_eq!(ip.version, 4);
    assert_eq!((ip.header.clone(), ip.packet.clone()), (14..34, 14..74));
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!((ip.ttl, ip.total_len, ip.protocol), (64, 60, 6));
    assert_eq!(ip.identification, Some(0x1234));
    assert!(ip.dont_fragment && !ip.more_fragments && ip.fragment_offset == 0);
    assert_eq!(ip.checksum, Some(ChecksumStatus::Verified));

    let tcp = p.tcp.as_ref().unwrap();
    assert_eq!(tcp.header, 34..74);
    assert_eq!((tcp.src_port, tcp.dst_port), (50412, 8443));
    assert_eq!((tcp.seq, tcp.ack), (0x9a3b_1c2d, 0));
    assert_eq!(tcp.flags.names(), ["SYN"]);
    assert_eq!((tcp.window, tcp.header_len, tcp.urgent), (65495, 40, 0));
    assert_eq!(tcp.checksum, ChecksumStatus::Verified);
    let o = &tcp.options;
    assert_eq!(o.mss, Some(65495));
    assert_eq!(o.window_scale, Some(7));
    assert!(o.sack_permitted);
    assert!(o.sack_blocks.is_empty());
    assert_eq!(o.timestamps, Some((123_456, 0)));
    assert_eq!(o.malformed_at, None);
    assert!(p.payload.is_empty());
    assert_eq!(
        p.layers().collect::<Vec<_>>(),
        [Layer::Link, Layer::Ip, Layer::Tcp]
    );
}

/// Source and destination differ at every layer, so swapping any pair fails here (with the
/// loopback fixtures, where both are the same, it would pass).
#[test]
fn ipv4_between_two_hosts_keeps_source_and_destination_apart() {
    let frame = eth_ipv4_between_hosts();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let link = p.link.as_ref().unwrap();
    assert_eq!(link.src, Some([2, 0, 0, 0, 0, 1]), "source MAC");
    assert_eq!(link.dst, Some([2, 0, 0, 0, 0, 2]), "destination MAC");
    let ip = p.ip.as_ref().unwrap();
    assert_eq!(
        ip.src,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        "source address"
    );
    assert_eq!(
        ip.dst,
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)),
        "destination address"
    );
    assert_eq!(
        (ip.ttl, ip.total_len, ip.identification),
        (63, 43, Some(0xbeef))
    );
    assert_eq!(ip.checksum, Some(ChecksumStatus::Verified));
    let tcp = p.tcp.as_ref().unwrap();
    assert_eq!((tcp.src_port, tcp.dst_port), (40000, 443));
    assert_eq!((tcp.seq, tcp.ack, tcp.window), (16, 32, 256));
    assert_eq!(tcp.checksum, ChecksumStatus::Verified);
    assert_eq!(&frame[p.payload.clone()], b"abc");
    let ip_fields = p.fields(Layer::Ip, &frame);
    let source = field(&ip_fields, "Source");
    assert!(source.value.contains("192.0.2.1"), "{source:?}");
    assert_eq!(source.range, 26..30);
    let destination = field(&ip_fields, "Destination");
    assert!(
        destination.value.contains("198.51.100.2"),
        "{destination:?}"
    );
    assert_eq!(destination.range, 30..34);
    let link_fields = p.fields(Layer::Link, &frame);
    assert!(field(&link_fields, "Source")
        .value
        .contains("02:00:00:00:00:01"));
    assert!(field(&link_fields, "Destination")
        .value
        .contains("02:00:00:00:00:02"));
}

#[test]
fn fields_read_like_wireshark_and_explain() {
    let frame = eth_ipv4_syn();
    let p = dissect(LinkType::Ethernet, &frame);

    let link = p.fields(Layer::Link, &frame);
    assert_eq!(field(&link, "Type").value, "0x0800 (IPv4)");
    assert_eq!(
        field(&link, "Source").meaning,
        "00:00:00:00:00:00: loopback has no hardware, so the kernel writes zero MAC addresses"
    );

    let ip = p.fields(Layer::Ip, &frame);
    assert_eq!(field(&ip, "TTL").value, "64");
    assert!(field(&ip, "TTL").meaning.starts_with(
        "TTL 64: routers on the way may decrement this 64 more times before the packet is discarded"
    ));
    assert_eq!(field(&ip, "TTL").range, 22..23);
    assert_eq!(
        field(&ip, "Version").range,
        field(&ip, "Header length").range
    );
    assert_eq!(field(&ip, "Flags").value, "0x2 (Don't fragment)");
    assert!(field(&ip, "Header checksum").value.ends_with("[correct]"));

    let tcp = p.fields(Layer::Tcp, &frame);
    assert_eq!(field(&tcp, "Source port").value, "50412");
    assert_eq!(field(&tcp, "Flags").value, "[SYN]");
    assert_eq!(field(&tcp, "Flags").range, 46..48);
    assert_eq!(field(&tcp, "Header length").value, "40 bytes (10 words)");
    assert_eq!(field(&tcp, "Option: MSS").value, "65495 bytes");
    assert_eq!(field(&tcp, "Option: MSS").range, 54..58);
    assert_eq!(
        field(&tcp, "Option: Window scale").value,
        "7 (multiply by 128)"
    );
    assert_eq!(
        field(&tcp, "Option: Timestamps").value,
        "TSval 123456, TSecr 0"
    );
    assert_eq!(field(&tcp, "Option: NOP").range, 70..71);
    assert!(p.fields(Layer::Payload, &frame).is_empty());
    assert!(p.fields(Layer::Arp, &frame).is_empty());
}

#[test]
fn ipv6_data_segment() {
    let frame = eth_ipv6_data();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let ip = p.ip.as_ref().unwrap();
    assert_eq!(
        (ip.version, ip.header.clone(), ip.total_len),
        (6, 14..54, 77)
    );
    assert_eq!(ip.dst, IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!((ip.ttl, ip.protocol, ip.checksum), (64, 6, None));
    assert_eq!(ip.flow_label, Some(0x32b7c));
    let tcp = p.tcp.as_ref().unwrap();
    assert_eq!(tcp.flags.names(), ["PSH", "ACK"]);
    assert_eq!((tcp.seq, tcp.ack), (4097, 518));
    assert_eq!(tcp.checksum, ChecksumStatus::Verified);
    assert_eq!(tcp.options.timestamps, Some((100, 99)));
    assert_eq!(p.payload, 86..91);
    assert_eq!(&frame[p.payload.clone()], b"hello");
    let payload = p.fields(Layer::Payload, &frame);
    assert_eq!(payload[0].value, "5 bytes");
    let tcp_fields = p.fields(Layer::Tcp, &frame);
    assert_eq!(field(&tcp_fields, "Flags").value, "[PSH, ACK]");
    let ip_fields = p.fields(Layer::Ip, &frame);
    assert_eq!(field(&ip_fields, "Hop limit").range, 21..22);
    assert_eq!(field(&ip_fields, "Payload length").value, "37 bytes");
}

#[test]
fn the_same_packet_under_every_link_type() {
    let packet = ipv4_syn_packet();
    let with = |header: &[u8]| [header, &packet].concat();
    let cases = [
        (LinkType::LinuxSll, with(&SLL_HEADER), 16),
        (LinkType::LinuxSll2, with(&SLL2_HEADER), 20),
        (LinkType::RawIp, packet.clone(), 0),
        (LinkType::NullLoopback, with(&[2, 0, 0, 0]), 4), // AF_INET, little-endian writer
        (LinkType::NullLoopback, with(&[0, 0, 0, 2]), 4), // AF_INET, big-endian writer
    ];
    for (kind, frame, ip_start) in cases {
        let p = dissect(kind, &frame);
        assert_eq!(p.stop, None, "{kind:?}");
        let link = p.link.as_ref().unwrap();
        assert_eq!(
            (link.kind, link.range.clone(), link.ethertype),
            (kind, 0..ip_start, 0x0800)
        );
        assert_eq!(
            p.ip.as_ref().unwrap().header,
            ip_start..ip_start + 20,
            "{kind:?}"
        );
        let tcp = p.tcp.as_ref().unwrap();
        assert_eq!(
            (tcp.src_port, tcp.checksum),
            (50412, ChecksumStatus::Verified)
        );
        assert_eq!(
            p.layer_at(0),
            Some(if ip_start == 0 {
                Layer::Ip
            } else {
                Layer::Link
            })
        );
        assert!(!p.fields(Layer::Link, &frame).is_empty(), "{kind:?}");
    }
    let sll = with(&SLL_HEADER);
    let p = dissect(LinkType::LinuxSll, &sll);
    let f = p.fields(Layer::Link, &sll);
    assert_eq!(field(&f, "Link-layer address type").value, "772 (loopback)");
    assert_eq!(field(&f, "Protocol").range, 14..16);
    let sll2 = with(&SLL2_HEADER);
    let p = dissect(LinkType::LinuxSll2, &sll2);
    let f = p.fields(Layer::Link, &sll2);
    assert_eq!(field(&f, "Packet type").value, "4 (sent by us)");
    assert_eq!(field(&f, "Interface index").range, 4..8);

    // IPv6 over BSD loopback with macOS's AF_INET6 (30) written big-endian.
    let v6 = [&[0, 0, 0, 30][..], &eth_ipv6_data()[14..]].concat();
    let p = dissect(LinkType::NullLoopback, &v6);
    assert_eq!((p.stop, p.payload.clone()), (None, 76..81));
}

#[test]
fn arp_request_with_padding() {
    let frame = eth_arp_request();
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let arp = p.arp.as_ref().unwrap();
    assert_eq!((arp.range.clone(), arp.op), (14..42, 1));
    assert_eq!(arp.sender_mac, [0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
    assert_eq!(arp.sender_ip, Ipv4Addr::new(172, 17, 0, 2));
    assert_eq!(
        (arp.target_mac, arp.target_ip),
        ([0; 6], Ipv4Addr::new(172, 17, 0, 1))
    );
    assert!(p.ip.is_none() && p.tcp.is_none());
    let f = p.fields(Layer::Arp, &frame);
    assert_eq!(field(&f, "Opcode").value, "1 (request)");
    assert!(field(&f, "Opcode")
        .meaning
        .starts_with("request: who has 172.17.0.1? Tell 172.17.0.2"));
    let link = p.fields(Layer::Link, &frame);
    assert_eq!(field(&link, "Padding").range, 42..60);
    assert!(field(&link, "Destination").meaning.contains("broadcast"));
    assert_eq!(p.layer_at(14), Some(Layer::Arp));
    assert_eq!(p.layer_at(42), Some(Layer::Link));
    assert_eq!(p.layer_at(60), None);
}

#[test]
fn truncated_frames_keep_what_parsed() {
    // Cut inside the TCP header: link and IP stay, the stop names TCP and its first byte.
    let frame = eth_ipv4_syn();
    let p = dissect(LinkType::Ethernet, &frame[..44]);
    assert!(p.link.is_some() && p.ip.is_some() && p.tcp.is_none());
    let stop = p.stop.unwrap();
    assert_eq!(
        (stop.layer, stop.offset, stop.kind),
        (Layer::Tcp, 34, StopKind::Truncated)
    );
    assert_eq!(
        stop.to_string(),
        "TCP layer, byte 34: the TCP header starting at byte 34 needs 20 bytes, but only 10 were captured"
    );

    // Cut inside the IP header.
    let p = dissect(LinkType::Ethernet, &frame[..20]);
    assert!(p.link.is_some() && p.ip.is_none());
    assert_eq!(p.stop.unwrap().layer, Layer::Ip);

    // Cut inside the payload (a snap length): TCP stays, the payload is clipped, the checksum
    // cannot be checked, and the stop says how many bytes are missing.
    let frame = eth_ipv6_data();
    let p = dissect(LinkType::Ethernet, &frame[..89]);
    assert_eq!(p.payload, 86..89);
    assert_eq!(p.tcp.as_ref().unwrap().checksum, ChecksumStatus::NotChecked);
    let stop = p.stop.clone().unwrap();
    assert_eq!(
        (stop.layer, stop.offset, stop.kind),
        (Layer::Payload, 89, StopKind::Truncated)
    );
    assert!(
        stop.reason.contains("the last 2 are missing"),
        "{}",
        stop.reason
    );
    assert!(p.fields(Layer::Payload, &frame[..89])[0]
        .meaning
        .contains("only 3 of the 5 bytes"));
}

#[test]
fn tcp_data_offset_errors_name_offsets() {
    let mut frame = eth_ipv4_syn();
    frame[46] = 0x32; // data offset 3, flags SYN
    let p = dissect(LinkType::Ethernet, &frame);
    assert!(p.ip.is_some() && p.tcp.is_none());
    let stop = p.stop.unwrap();
    assert_eq!(
        (stop.layer, stop.offset, stop.kind),
        (Layer::Tcp, 46, StopKind::Malformed)
    );
    assert_eq!(
        stop.reason,
        "TCP data offset 3 is below the minimum 5 (20 bytes)"
    );

    let mut frame = eth_ipv4_syn();
    frame[46] = 0xf2; // data offset 15 (60 bytes), but IP leaves 40 bytes for TCP
    frame.extend_from_slice(&[0; 20]); // even with more bytes captured (padding)
    let stop = dissect(LinkType::Ethernet, &frame).stop.unwrap();
    assert_eq!(stop.kind, StopKind::Malformed);
    assert_eq!(
        stop.reason,
        "TCP data offset 15 (60 bytes) reaches beyond the end of the segment: the IP packet leaves only 40 bytes for TCP (bytes 34..74)"
    );
}

#[test]
fn fragments() {
    // A later fragment: IP parses, TCP is not looked for, and the stop says why in calm words.
    let mut frame = eth_ipv4_syn();
    frame[20] = 0x00; // flags none
    frame[21] = 0xb9; // fragment offset 185 (1480 bytes)
    fill_checksums(&mut frame, 14);
    let p = dissect(LinkType::Ethernet, &frame);
    let ip = p.ip.as_ref().unwrap();
    assert_eq!((ip.fragment_offset, ip.more_fragments), (1480, false));
    assert!(ip.is_fragment());
    assert_eq!(ip.checksum, Some(ChecksumStatus::Verified));
    assert!(p.tcp.is_none());
    let stop = p.stop.clone().unwrap();
    assert_eq!(
        (stop.layer, stop.offset, stop.kind),
        (Layer::Tcp, 34, StopKind::NotDissected)
    );
    assert!(stop.reason.contains("first fragment"), "{}", stop.reason);
    assert_eq!(p.layer_at(40), Some(Layer::Ip));

    // A first fragment: TCP parses, but its checksum covers bytes in other fragments.
    let mut frame = eth_ipv4_syn();
    frame[20] = 0x20; // More fragments, offset 0
    fill_checksums(&mut frame, 14);
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    assert_eq!(p.tcp.unwrap().checksum, ChecksumStatus::NotChecked);
}

#[test]
fn checksum_verified_wrong_offloaded() {
    let good = eth_ipv4_syn();
    let verified = dissect(LinkType::Ethernet, &good);
    assert_eq!(verified.tcp.unwrap().checksum, ChecksumStatus::Verified);

    let mut bad = good.clone();
    bad[40] ^= 0x01; // damage the sequence number
    let found = u16::from_be_bytes([bad[50], bad[51]]);
    let expected = tcp_checksum(&bad, 14);
    assert_ne!(found, expected);
    let p = dissect(LinkType::Ethernet, &bad);
    assert_eq!(
        p.tcp.as_ref().unwrap().checksum,
        ChecksumStatus::Wrong { found, expected }
    );
    let f = p.fields(Layer::Tcp, &bad);
    assert_eq!(
        field(&f, "Checksum").value,
        format!("0x{found:04x} [wrong, should be 0x{expected:04x}]")
    );

    let mut bad_ip = good.clone();
    bad_ip[22] = 63; // TTL changed without fixing the header checksum
    let ip = dissect(LinkType::Ethernet, &bad_ip).ip.unwrap();
    assert!(matches!(ip.checksum, Some(ChecksumStatus::Wrong { .. })));

    for frame in [eth_ipv4_syn(), eth_ipv6_data()] {
        let mut offloaded = frame.clone();
        let partial = partial_checksum(&offloaded, 14);
        set_tcp_checksum(&mut offloaded, 14, partial);
        let p = dissect(LinkType::Ethernet, &offloaded);
        assert_eq!(
            p.tcp.as_ref().unwrap().checksum,
            ChecksumStatus::Offloaded { found: partial }
        );
        let f = p.fields(Layer::Tcp, &offloaded);
        assert!(field(&f, "Checksum").meaning.starts_with(&format!(
            "Checksum 0x{partial:04x}: not filled in (offloaded — normal on loopback"
        )));
        set_tcp_checksum(&mut offloaded, 14, !partial); // the complement is accepted too
        let p = dissect(LinkType::Ethernet, &offloaded);
        assert_eq!(
            p.tcp.unwrap().checksum,
            ChecksumStatus::Offloaded { found: !partial }
        );
    }

    // The tracking pass skips only the TCP checksum: everything else is the same packet.
    for frame in [good, bad, eth_ipv6_data()] {
        let full = dissect(LinkType::Ethernet, &frame);
        let mut fast = dissect_without_tcp_checksum(LinkType::Ethernet, &frame);
        let tcp = fast.tcp.as_mut().unwrap();
        assert_eq!(tcp.checksum, ChecksumStatus::NotChecked);
        tcp.checksum = full.tcp.as_ref().unwrap().checksum;
        assert_eq!(fast, full);
    }
}

#[test]
fn ipv4_total_length_zero_takes_the_captured_length() {
    // Segmentation offload can hand the capture a packet whose total length is still 0.
    let mut frame = REAL_LOOPBACK_IPV4_DATA.to_vec();
    frame[16..18].copy_from_slice(&[0, 0]); // total length 0
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    assert_eq!(p.ip.as_ref().unwrap().packet, 14..71);
    assert_eq!(p.payload, 66..71);
    let f = p.fields(Layer::Ip, &frame);
    assert_eq!(field(&f, "Total length").value, "0");
    assert!(field(&f, "Total length")
        .meaning
        .contains("segmentation offload"));
}

#[test]
fn real_loopback_frames_are_offloaded() {
    for (frame, partial, payload) in [
        (&REAL_LOOPBACK_IPV4_DATA[..], 0xfe2d, 66..71),
        (&REAL_LOOPBACK_IPV6_DATA[..], 0x002d, 86..91),
    ] {
        let p = dissect(LinkType::Ethernet, frame);
        assert_eq!(p.stop, None);
        let ip = p.ip.as_ref().unwrap();
        // The kernel always fills in the IPv4 header checksum; IPv6 has none.
        let ip_checksum = (ip.version == 4).then_some(ChecksumStatus::Verified);
        assert_eq!(ip.checksum, ip_checksum);
        let tcp = p.tcp.as_ref().unwrap();
        assert_eq!(tcp.checksum, ChecksumStatus::Offloaded { found: partial });
        assert_eq!(tcp.flags.names(), ["PSH", "ACK"]);
        assert_eq!(p.payload, payload);
        assert_eq!(&frame[p.payload.clone()], b"hello");
    }
}

#[test]
fn other_transports_and_ethertypes_stop_quietly() {
    let mut sctp = eth_ipv4_syn();
    sctp[23] = 132; // protocol SCTP, which packetpath does not dissect
    fill_checksums(&mut sctp, 14);
    let p = dissect(LinkType::Ethernet, &sctp);
    assert!(p.ip.is_some() && p.tcp.is_none() && p.stop.is_none());
    assert_eq!(p.layer_at(40), Some(Layer::Ip));

    let mut lldp = eth_arp_request();
    lldp[12..14].copy_from_slice(&[0x88, 0xcc]);
    let p = dissect(LinkType::Ethernet, &lldp);
    assert!(p.link.is_some() && p.arp.is_none() && p.stop.is_none());
    assert_eq!(
        field(&p.fields(Layer::Link, &lldp), "Type").value,
        "0x88cc (LLDP)"
    );

    let p = dissect(LinkType::Unknown(147), &lldp);
    assert_eq!(p.stop.unwrap().kind, StopKind::NotDissected);
}

#[test]
fn sack_blocks_and_unknown_options_survive() {
    let mut frame = eth_ipv6_data();
    // Replace the options (NOP, NOP, timestamps: bytes 74..86) by 16 bytes, bytes 74..90:
    frame.splice(
        74..86,
        [
            30, 4, 0xaa, 0xbb, // option kind 30 (Multipath TCP), length 4, two data bytes
            5, 10, // option SACK, length 10 (one block)
            0, 0, 0x03, 0xe8, //   left edge 1000
            0, 0, 0x07, 0xd0, //   right edge 2000
            1,    // NOP
            0,    // end of option list
        ],
    );
    frame[66] = 0x90; // data offset 9 (36 bytes)
    frame[19] = 41; // IPv6 payload length 36 + 5
    fill_checksums(&mut frame, 14);
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.stop, None);
    let tcp = p.tcp.as_ref().unwrap();
    assert_eq!(tcp.checksum, ChecksumStatus::Verified);
    assert_eq!(tcp.options.sack_blocks.as_slice(), &[(1000, 2000)]);
    assert_eq!(tcp.options.timestamps, None);
    assert_eq!(p.payload, 90..95);
    let f = p.fields(Layer::Tcp, &frame);
    assert_eq!(
        field(&f, "Option: unknown").value,
        "option kind 30, 4 bytes"
    );
    assert!(field(&f, "Option: unknown")
        .meaning
        .contains("Multipath TCP"));
    assert_eq!(field(&f, "Option: SACK").value, "1000-2000");
    assert_eq!(field(&f, "Option: SACK").range, 78..88);
    assert_eq!(field(&f, "Option: End of list").range, 89..90);

    // A length byte that runs past the header is reported, not trusted.
    frame[74..76].copy_from_slice(&[30, 40]);
    let p = dissect(LinkType::Ethernet, &frame);
    assert_eq!(p.tcp.as_ref().unwrap().options.malformed_at, Some(74));
    assert_eq!(
        field(&p.fields(Layer::Tcp, &frame), "Option: malformed").range,
        74..90
    );
}

/// Every byte of every parsed header belongs to some field, and no field points outside the frame.
fn assert_fields_cover(p: &Packet, frame: &[u8]) {
    for layer in [
        Layer::Link,
        Layer::Arp,
        Layer::Ip,
        Layer::Icmp,
        Layer::Udp,
        Layer::Tcp,
        Layer::Payload,
    ] {
        let fields = p.fields(layer, frame);
        for f in &fields {
            assert!(
                f.range.start <= f.range.end && f.range.end <= frame.len(),
                "{f:?}"
            );
            assert!(!f.value.is_empty() && !f.meaning.is_empty(), "{f:?}");
        }
        if let Some(range) = p.range(layer) {
            for byte in range {
                assert!(
                    fields.iter().any(|f| f.range.contains(&byte)),
                    "byte {byte} of {layer} is in no field"
                );
                assert_eq!(p.layer_at(byte), Some(layer));
            }
        }
    }
}

#[test]
fn fields_stay_inside_the_frame_and_cover_every_header() {
    let packet = ipv4_syn_packet();
    let frames = [
        (LinkType::Ethernet, eth_ipv4_syn()),
        (LinkType::Ethernet, eth_ipv6_data()),
        (LinkType::Ethernet, eth_arp_request()),
        (LinkType::LinuxSll, [&SLL_HEADER[..], &packet].concat()),
        (LinkType::LinuxSll2, [&SLL2_HEADER[..], &packet].concat()),
        (
            LinkType::NullLoopback,
            [&[2, 0, 0, 0][..], &packet].concat(),
        ),
    ];
    for (kind, frame) in frames {
        let p = dissect(kind, &frame);
        assert_fields_cover(&p, &frame);
    }
}

#[test]
fn layer_at_maps_bytes_to_layers() {
    let frame = eth_ipv6_data();
    let p = dissect(LinkType::Ethernet, &frame);
    let expect = [
        (0, Some(Layer::Link)),
        (13, Some(Layer::Link)),
        (14, Some(Layer::Ip)),
        (53, Some(Layer::Ip)),
        (54, Some(Layer::Tcp)),
        (85, Some(Layer::Tcp)),
        (86, Some(Layer::Payload)),
        (90, Some(Layer::Payload)),
        (91, None),
    ];
    for (offset, layer) in expect {
        assert_eq!(p.layer_at(offset), layer, "offset {offset}");
    }
    // Ethernet padding after a short IPv4 packet belongs to the link layer, not the payload.
    let mut padded = eth_ipv4_syn();
    padded.extend_from_slice(&[0; 6]);
    let p = dissect(LinkType::Ethernet, &padded);
    assert_eq!(p.payload, 74..74);
    assert_eq!(p.layer_at(75), Some(Layer::Link));
    assert_eq!(
        field(&p.fields(Layer::Link, &padded), "Padding").range,
        74..80
    );
}

/// A small deterministic generator (xorshift64), so the robustness test needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Dissects and renders everything, which must not panic.
fn exercise(kind: LinkType, data: &[u8]) {
    let p = dissect(kind, data);
    for layer in [
        Layer::Link,
        Layer::Arp,
        Layer::Ip,
        Layer::Icmp,
        Layer::Udp,
        Layer::Tcp,
        Layer::Payload,
    ] {
        for f in p.fields(layer, data) {
            assert!(f.range.end <= data.len(), "{kind:?} {f:?}");
        }
    }
    for offset in 0..=data.len() {
        let _ = p.layer_at(offset);
    }
    assert!(p.payload.end <= data.len());
}

#[test]
fn never_panics_on_prefixes_mutations_or_random_bytes() {
    let kinds = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
        LinkType::NullLoopback,
        LinkType::Unknown(99),
    ];
    let packet = ipv4_syn_packet();
    let v6 = eth_ipv6_data()[14..].to_vec();
    let valid = [
        (LinkType::Ethernet, eth_ipv4_syn()),
        (LinkType::Ethernet, eth_ipv6_data()),
        (LinkType::Ethernet, eth_arp_request()),
        (LinkType::LinuxSll, [&SLL_HEADER[..], &packet].concat()),
        (LinkType::LinuxSll2, [&SLL2_HEADER[..], &packet].concat()),
        (LinkType::RawIp, v6.clone()),
        (LinkType::NullLoopback, [&[0, 0, 0, 30][..], &v6].concat()),
        (LinkType::Ethernet, eth_icmp_echo()),
        (LinkType::Ethernet, eth_icmp_time_exceeded()),
        (LinkType::Ethernet, eth_icmp_frag_needed()),
        (LinkType::Ethernet, eth_udp(None)),
        (LinkType::Ethernet, eth_udp6()),
        (LinkType::Ethernet, eth_icmpv6_too_big()),
        (LinkType::Ethernet, eth_icmpv6_neighbor_solicitation()),
    ];
    for (kind, frame) in &valid {
        for end in 0..=frame.len() {
            exercise(*kind, &frame[..end]);
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (kind, frame) in &valid {
        for _ in 0..2_000 {
            let mut m = frame.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() % m.len() as u64) as usize;
                m[at] = rng.next() as u8;
            }
            exercise(*kind, &m);
        }
    }
    for _ in 0..5_000 {
        let len = (rng.next() % 160) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for kind in kinds {
            exercise(kind, &data);
        }
    }
}
