//! Tests of the kernel filter: a tiny classic-BPF interpreter runs our program, and (when tcpdump is
//! installed) tcpdump's own compilation of the same expression, over hand-built frames.

mod common;

use common::*;
use packetpath::capture::{lab_filter, tcp_ports_filter, BpfError, BpfInstruction, MAX_PORTS};

/// Runs a classic BPF program the way the kernel does for the opcodes tcpdump emits here; returns
/// the number of bytes to keep (0 = drop). A load past the end of the packet drops it.
fn run(program: &[BpfInstruction], packet: &[u8]) -> u32 {
    let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
    let byte = |at: u32| packet.get(at as usize).map(|&b| u32::from(b));
    let half = |at: u32| Some(byte(at)? << 8 | byte(at.checked_add(1)?)?);
    while let Some(i) = program.get(pc) {
        pc += 1;
        let jump = |cond: bool| if cond { i.jt as usize } else { i.jf as usize };
        match i.code {
            0x28 => match half(i.k) {
                Some(v) => a = v,
                None => return 0,
            },
            0x30 => match byte(i.k) {
                Some(v) => a = v,
                None => return 0,
            },
            0x48 => match half(x.wrapping_add(i.k)) {
                Some(v) => a = v,
                None => return 0,
            },
            0xb1 => match byte(i.k) {
                Some(v) => x = 4 * (v & 0xf),
                None => return 0,
            },
            0x15 => pc += jump(a == i.k),
            0x45 => pc += jump(a & i.k != 0),
            0x25 => pc += jump(a > i.k),
            0x35 => pc += jump(a >= i.k),
            0x06 => return i.k,
            other => panic!("opcode {other:#x} not in the test interpreter"),
        }
    }
    panic!("program fell off its end")
}

/// Ethernet II header, zero MACs (as on loopback), then the EtherType.
fn ether(ethertype: u16) -> Vec<u8> {
    let mut f = vec![0u8; 12]; // destination MAC (6) + source MAC (6)
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

/// IPv4 + a 20-byte TCP/UDP-like header carrying the ports.
fn ipv4(protocol: u8, sport: u16, dport: u16, options: usize, frag: u16) -> Vec<u8> {
    let mut f = ether(0x0800);
    let ihl = 5 + options / 4;
    f.push(0x40 | ihl as u8); // version 4, IHL
    f.push(0); // DSCP/ECN
    f.extend_from_slice(&((ihl * 4 + 20) as u16).to_be_bytes()); // total length
    f.extend_from_slice(&[0, 1]); // identification
    f.extend_from_slice(&frag.to_be_bytes()); // flags + fragment offset
    f.extend_from_slice(&[64, protocol, 0, 0]); // TTL, protocol, checksum
    f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]); // source, destination
    f.extend(std::iter::repeat_n(1u8, options)); // NOP options
    f.extend_from_slice(&sport.to_be_bytes()); // source port
    f.extend_from_slice(&dport.to_be_bytes()); // destination port
    f.extend_from_slice(&[0; 16]); // rest of the TCP header
    f
}

/// IPv6 (next header `nh`) + 20 bytes of transport header carrying the ports.
fn ipv6(nh: u8, sport: u16, dport: u16) -> Vec<u8> {
    let mut f = ether(0x86dd);
    f.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, traffic class, flow label
    f.extend_from_slice(&20u16.to_be_bytes()); // payload length
    f.extend_from_slice(&[nh, 64]); // next header, hop limit
    f.extend_from_slice(&[0; 15]);
    f.push(1); // source ::1
    f.extend_from_slice(&[0; 15]);
    f.push(1); // destination ::1
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[0; 16]);
    f
}

/// Frames with the verdict `tcp port 8443 or tcp port 8080` must give.
fn cases() -> Vec<(&'static str, Vec<u8>, bool)> {
    let mut v6_frag = ipv6(44, 0, 0);
    if let Some(b) = v6_frag.get_mut(54) {
        *b = 6; // the fragment header says TCP follows
    }
    vec![
        ("v4 tcp dst 8443", ipv4(6, 50000, 8443, 0, 0x4000), true),
        ("v4 tcp src 8443", ipv4(6, 8443, 50000, 0, 0), true),
        ("v4 tcp dst 8080", ipv4(6, 50000, 8080, 0, 0), true),
        ("v4 tcp other ports", ipv4(6, 50000, 9000, 0, 0), false),
        ("v4 udp 8443", ipv4(17, 50000, 8443, 0, 0), false),
        ("v4 tcp with options", ipv4(6, 50000, 8443, 8, 0), true),
        (
            "v4 tcp with 4 option bytes",
            ipv4(6, 9000, 8080, 4, 0),
            true,
        ),
        (
            "v4 non-first fragment",
            ipv4(6, 8443, 8443, 0, 0x0010),
            false,
        ),
        ("v6 tcp dst 8443", ipv6(6, 40000, 8443), true),
        ("v6 tcp src 8080", ipv6(6, 8080, 40000), true),
        ("v6 tcp other", ipv6(6, 40000, 40001), false),
        ("v6 udp 8443", ipv6(17, 40000, 8443), false),
        ("v6 fragment header", v6_frag, false),
        ("arp", ether(0x0806), true),
        (
            "truncated v4",
            ipv4(6, 50000, 8443, 0, 0)[..30].to_vec(),
            false,
        ),
        ("empty", Vec::new(), false),
    ]
}

fn ports_filter_keeps_exactly_the_chat_traffic() {
    let program = tcp_ports_filter(&[8443, 8080, 8443]).unwrap();
    for (name, frame, keep) in cases() {
        assert_eq!(run(&program, &frame) > 0, keep, "{name}");
    }
}

fn empty_port_list_keeps_all_tcp() {
    let program = tcp_ports_filter(&[]).unwrap();
    for (name, frame, keep_all_tcp) in [
        ("v4 tcp", ipv4(6, 1, 2, 0, 0), true),
        ("v4 tcp fragment", ipv4(6, 1, 2, 0, 0x0010), true),
        ("v4 udp", ipv4(17, 1, 2, 0, 0), false),
        ("v6 tcp", ipv6(6, 1, 2), true),
        ("v6 udp", ipv6(17, 1, 2), false),
        ("arp", ether(0x0806), true),
    ] {
        assert_eq!(run(&program, &frame) > 0, keep_all_tcp, "{name}");
    }
}

fn program_shape_matches_tcpdump_layout() {
    let program = tcp_ports_filter(&[8443]).unwrap();
    // ldh [12]; jeq #0x86dd jt 0 jf 6 (to the IPv4 branch at instruction 8), whose
    // jeq #0x0800 falls to the ARP check when the frame is not IPv4
    assert_eq!(
        program[0],
        BpfInstruction {
            code: 0x28,
            jt: 0,
            jf: 0,
            k: 12
        }
    );
    assert_eq!(
        program[1],
        BpfInstruction {
            code: 0x15,
            jt: 0,
            jf: 6,
            k: 0x86dd
        }
    );
    assert_eq!(
        program[8],
        BpfInstruction {
            code: 0x15,
            jt: 0,
            jf: 9,
            k: 0x0800
        }
    );
    assert_eq!(
        program.last(),
        Some(&BpfInstruction {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0
        })
    );
}

fn too_many_ports_is_an_error_not_a_wrong_filter() {
    let ports: Vec<u16> = (1000..1000 + MAX_PORTS as u16).collect();
    let program = tcp_ports_filter(&ports).unwrap();
    assert!(run(&program, &ipv6(6, 1, 1000 + MAX_PORTS as u16 - 1)) > 0);
    assert!(run(&program, &ipv4(6, 1000 + MAX_PORTS as u16 - 1, 7, 0, 0)) > 0);
    let ports: Vec<u16> = (1000..1000 + MAX_PORTS as u16 + 1).collect();
    assert_eq!(
        tcp_ports_filter(&ports),
        Err(BpfError::TooManyPorts(MAX_PORTS + 1))
    );
}

/// Parses `tcpdump -dd` output (`{ 0x28, 0, 0, 0x0000000c },` per line).
fn parse_dd(text: &str) -> Vec<BpfInstruction> {
    let num = |s: &str| {
        let s = s.trim();
        match s.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).unwrap(),
            None => s.parse().unwrap(),
        }
    };
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('{')?
                .split('}')
                .next()
                .map(str::to_owned)
        })
        .map(|l| {
            let f: Vec<u32> = l.split(',').map(num).collect();
            BpfInstruction {
                code: f[0] as u16,
                jt: f[1] as u8,
                jf: f[2] as u8,
                k: f[3],
            }
        })
        .collect()
}

/// Compiles `expr` with tcpdump for an Ethernet link (from an empty pcap file, so no privileges needed).
fn tcpdump_program(expr: &str) -> Vec<BpfInstruction> {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    // pcap global header: magic a1b2c3d4 (LE), version 2.4, zone 0, sigfigs 0, snaplen 262144, link 1.
    let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    header.extend_from_slice(&262_144u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    std::fs::write(&empty, header).unwrap();
    let out = std::process::Command::new("tcpdump")
        .arg("-r")
        .arg(&empty)
        .arg("-dd")
        .arg(expr)
        .output();
    match out {
        Ok(o) if o.status.success() => parse_dd(&String::from_utf8_lossy(&o.stdout)),
        Err(e) => panic!("cannot run tcpdump -dd {expr:?}: {e}"),
        Ok(o) => panic!(
            "tcpdump -dd {expr:?} failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

fn same_verdicts_as_tcpdump() {
    let pairs = [
        (vec![8443u16, 8080], "tcp port 8443 or tcp port 8080 or arp"),
        (vec![], "tcp or arp"),
    ];
    for (ports, expr) in pairs {
        let reference = tcpdump_program(expr);
        assert!(!reference.is_empty());
        let ours = tcp_ports_filter(&ports).unwrap();
        let mut frames: Vec<_> = cases().into_iter().map(|(n, f, _)| (n, f)).collect();
        frames.push(("v4 tcp 1-2", ipv4(6, 1, 2, 0, 0)));
        frames.push(("v4 tcp fragment", ipv4(6, 8080, 2, 0, 0x0010)));
        for (name, frame) in frames {
            assert_eq!(
                run(&ours, &frame) > 0,
                run(&reference, &frame) > 0,
                "{expr}: {name}"
            );
        }
    }
}

/// The lab's filter keeps what the port filter keeps, and ICMP, ICMPv6 (fragments too) and UDP
/// to traceroute's ports; not other UDP, nor TCP of other ports.
fn lab_filter_adds_icmp_and_traceroute_udp() {
    let lab = lab_filter(&[8443, 8080]).unwrap();
    let ports = tcp_ports_filter(&[8443, 8080]).unwrap();
    for (name, frame, keep) in cases() {
        assert_eq!(run(&ports, &frame) > 0, keep, "port filter: {name}");
        assert_eq!(run(&lab, &frame) > 0, keep, "lab filter: {name}");
    }
    let mut v6_icmp_frag = ipv6(44, 0, 0);
    if let Some(b) = v6_icmp_frag.get_mut(54) {
        *b = 58;
    }
    for (name, frame, keep) in [
        ("v4 icmp", ipv4(1, 0x0800, 0, 0, 0), true),
        ("v4 icmp fragment", ipv4(1, 0, 0, 0, 0x0010), true),
        ("v6 icmpv6", ipv6(58, 0x8700, 0), true),
        ("v6 fragment of icmpv6", v6_icmp_frag, true),
        ("v4 udp to 33434", ipv4(17, 40000, 33434, 0, 0), true),
        ("v4 udp to 33689", ipv4(17, 40000, 33689, 0, 0), true),
        ("v4 udp to 33690", ipv4(17, 40000, 33690, 0, 0), false),
        ("v4 udp to 53", ipv4(17, 40000, 53, 0, 0), false),
        ("v4 udp with options", ipv4(17, 40000, 33440, 8, 0), true),
        ("v6 udp to 33435", ipv6(17, 40000, 33435), true),
        ("v6 udp to 33433", ipv6(17, 40000, 33433), false),
        ("v4 tcp to 33434", ipv4(6, 40000, 33434, 0, 0), false),
        ("v4 tcp to 8443", ipv4(6, 40000, 8443, 0, 0), true),
        (
            "v4 udp to 9 (trace --datagram)",
            ipv4(17, 40000, 9, 0, 0),
            true,
        ),
        (
            "v4 udp to 9, first fragment",
            ipv4(17, 40000, 9, 0, 0x2000),
            true,
        ),
        ("v4 udp later fragment", ipv4(17, 0, 0, 0, 0x0045), true),
        ("v4 tcp later fragment", ipv4(6, 0, 0, 0, 0x0045), false),
    ] {
        assert_eq!(run(&lab, &frame) > 0, keep, "lab filter: {name}");
        if name.contains("icmp") || name.contains("udp") {
            assert_eq!(run(&ports, &frame), 0, "port filter: {name}");
        }
    }
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(ports_filter_keeps_exactly_the_chat_traffic),
        test!(empty_port_list_keeps_all_tcp),
        test!(program_shape_matches_tcpdump_layout, Need::Tool("tcpdump")),
        test!(too_many_ports_is_an_error_not_a_wrong_filter),
        test!(same_verdicts_as_tcpdump, Need::Tool("tcpdump")),
        test!(lab_filter_adds_icmp_and_traceroute_udp),
    ])
}
