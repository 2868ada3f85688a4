//! The kernel packet filter: a classic BPF program (Linux `Documentation/networking/filter.rst`) that
//! keeps only TCP segments to or from the chat's ports, so the kernel never copies anything else to us.
//!
//! It follows the logic `tcpdump -dd 'tcp port A or tcp port B'` compiles for an Ethernet link (Linux
//! loopback hands packet sockets an Ethernet header with zero MAC addresses):
//! - IPv6 (EtherType 0x86DD): Next Header at byte 20 must be 6 (TCP); ports at bytes 54 and 56. As in
//!   tcpdump, a TCP header behind IPv6 extension headers is not found (loopback traffic has none).
//! - IPv4 (EtherType 0x0800): Protocol at byte 23 must be 6; only the first fragment carries the TCP
//!   header (fragment offset, the low 13 bits of bytes 20-21, must be 0, RFC 791 section 3.1); the header
//!   length comes from the IHL nibble at byte 14, so IPv4 options are skipped correctly.
//!
//! With no ports, every TCP packet is kept (like `tcpdump tcp`, which also accepts IPv6 fragments of TCP).

use thiserror::Error;

/// One classic BPF instruction, laid out like `struct sock_filter` in `<linux/filter.h>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInstruction {
    /// Operation: class | size | mode (loads), class | op | source (jumps), ...
    pub code: u16,
    /// Jump distance (in instructions, after this one) when the condition holds.
    pub jt: u8,
    /// Jump distance when the condition does not hold.
    pub jf: u8,
    /// The constant operand: an offset for loads, a value for comparisons, a length for returns.
    pub k: u32,
}

/// Why no filter program could be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BpfError {
    /// Classic BPF jumps reach at most 255 instructions ahead; too many ports make the program too long.
    #[error(
        "{0} ports are too many for one kernel packet filter (classic BPF jumps reach 255 instructions; \
         at most {MAX_PORTS} ports fit)"
    )]
    TooManyPorts(usize),
}

/// The most distinct ports one filter can hold (each costs four instructions; jumps reach 255 ahead).
pub const MAX_PORTS: usize = 60;

/// How many bytes of an accepted packet the kernel keeps (tcpdump's default snapshot length).
const SNAPLEN: u32 = 262_144;

/// Instruction codes used here (class | size | mode, see `<linux/bpf_common.h>`).
mod op {
    /// `ldh [k]`: load the 16-bit big-endian value at byte k.
    pub const LDH_ABS: u16 = 0x28;
    /// `ldb [k]`: load the byte at k.
    pub const LDB_ABS: u16 = 0x30;
    /// `ldh [x + k]`: load the 16-bit value at byte x + k.
    pub const LDH_IND: u16 = 0x48;
    /// `ldxb 4*([k]&0xf)`: X = the IPv4 header length in bytes, from the IHL nibble at byte k.
    pub const LDXB_MSH: u16 = 0xb1;
    /// `jeq #k`: jump if A == k.
    pub const JEQ: u16 = 0x15;
    /// `jset #k`: jump if A & k != 0.
    pub const JSET: u16 = 0x45;
    /// `jgt #k`: jump if A > k.
    pub const JGT: u16 = 0x25;
    /// `jge #k`: jump if A >= k.
    pub const JGE: u16 = 0x35;
    /// `ret #k`: keep k bytes of the packet (0 = drop it).
    pub const RET: u16 = 0x06;
}

/// Where a conditional jump goes, before distances are known.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Next,
    Accept,
    Reject,
    Ipv4,
    Arp,
    Udp4,
    Udp6,
    Frag6,
}

enum Asm {
    Plain(u16, u32),
    Jump(u16, u32, Target, Target),
    Label(Target),
}

/// Ethernet II layout (IEEE 802.3 clause 3.2.6): the EtherType is at byte 12.
const ETHERTYPE_AT: u32 = 12;
/// IPv6 Next Header (RFC 8200 section 3) sits at byte 6 of the IPv6 header, after 14 bytes of Ethernet.
const IPV6_NEXT_HEADER_AT: u32 = 14 + 6;
/// The TCP header follows the fixed 40-byte IPv6 header.
const IPV6_TCP_AT: u32 = 14 + 40;
/// IPv4 Protocol (RFC 791 section 3.1) is byte 9 of the IPv4 header.
const IPV4_PROTOCOL_AT: u32 = 14 + 9;
/// IPv4 flags + fragment offset, bytes 6-7 of the IPv4 header.
const IPV4_FRAGMENT_AT: u32 = 14 + 6;
const TCP: u32 = 6;
const IPV6_FRAGMENT_HEADER: u32 = 44;
const ICMP: u32 = 1;
const UDP: u32 = 17;
const ICMPV6: u32 = 58;

/// The UDP ports traceroute's probes go to (33434 and up, as in the classic traceroute): the
/// lab's filter keeps UDP to these, the only UDP packetpath sends.
pub const TRACEROUTE_PORTS: std::ops::RangeInclusive<u16> = 33434..=33434 + 255;

/// The UDP port `trace --datagram` sends its large datagram to (discard, RFC 863): the lab's
/// filter keeps IPv4 UDP to it, and every later IPv4 fragment of a UDP datagram.
pub const DATAGRAM_PORT: u16 = 9;

/// Builds the filter keeping TCP over IPv4 or IPv6 (Ethernet framing) whose source or destination port
/// is one of `ports` (an empty list keeps all TCP), and ARP, which a lab's cable shows before the
/// first packet can be sent.
pub fn tcp_ports_filter(ports: &[u16]) -> Result<Vec<BpfInstruction>, BpfError> {
    build(ports, false)
}

/// The filter of the lab's interfaces: [`tcp_ports_filter`]'s TCP and ARP, and also every ICMP and
/// ICMPv6 message (echo, time exceeded, unreachable, neighbour discovery; IPv4 fragments of them
/// too, and IPv6 fragments whose next header is ICMPv6), UDP over IPv4 to [`DATAGRAM_PORT`] and
/// its later fragments, and UDP to [`TRACEROUTE_PORTS`] (the
/// probes of `packetpath traceroute`). Nothing else runs in the lab, so this is everything
/// packetpath's own programs send there.
pub fn lab_filter(ports: &[u16]) -> Result<Vec<BpfInstruction>, BpfError> {
    build(ports, true)
}

fn build(ports: &[u16], lab: bool) -> Result<Vec<BpfInstruction>, BpfError> {
    let mut ports: Vec<u32> = ports.iter().map(|&p| u32::from(p)).collect();
    ports.sort_unstable();
    ports.dedup();
    if ports.len() > MAX_PORTS {
        return Err(BpfError::TooManyPorts(ports.len()));
    }
    use Asm::{Jump, Label, Plain};
    use Target::{Accept, Arp, Frag6, Ipv4, Next, Reject, Udp4, Udp6};
    let mut asm = vec![
        Plain(op::LDH_ABS, ETHERTYPE_AT),
        Jump(op::JEQ, 0x86dd, Next, Ipv4),
        Plain(op::LDB_ABS, IPV6_NEXT_HEADER_AT),
    ];
    if lab {
        asm.extend([
            Jump(op::JEQ, ICMPV6, Accept, Next),
            Jump(op::JEQ, UDP, Udp6, Next),
            Jump(op::JEQ, IPV6_FRAGMENT_HEADER, Frag6, Next),
        ]);
    }
    if ports.is_empty() {
        asm.extend([
            Jump(op::JEQ, TCP, Accept, Next),
            Jump(op::JEQ, IPV6_FRAGMENT_HEADER, Next, Reject),
            // The fragment header's own Next Header is its first byte.
            Plain(op::LDB_ABS, IPV6_TCP_AT),
            Jump(op::JEQ, TCP, Accept, Reject),
        ]);
    } else {
        asm.push(Jump(op::JEQ, TCP, Next, Reject));
        push_port_checks(&mut asm, &ports, op::LDH_ABS, IPV6_TCP_AT);
    }
    asm.extend([
        Label(Ipv4),
        Jump(op::JEQ, 0x0800, Next, Arp),
        Plain(op::LDB_ABS, IPV4_PROTOCOL_AT),
    ]);
    if lab {
        asm.extend([
            Jump(op::JEQ, ICMP, Accept, Next),
            Jump(op::JEQ, UDP, Udp4, Next),
        ]);
    }
    if ports.is_empty() {
        asm.push(Jump(op::JEQ, TCP, Accept, Reject));
    } else {
        asm.extend([
            Jump(op::JEQ, TCP, Next, Reject),
            Plain(op::LDH_ABS, IPV4_FRAGMENT_AT),
            Jump(op::JSET, 0x1fff, Reject, Next),
            Plain(op::LDXB_MSH, 14),
        ]);
        push_port_checks(&mut asm, &ports, op::LDH_IND, 14);
    }
    asm.extend([
        // ARP is kept too: on a cable it comes before the first packet (A still holds the EtherType).
        Label(Arp),
        Jump(op::JEQ, 0x0806, Accept, Reject),
    ]);
    if lab {
        let (low, high) = (
            u32::from(*TRACEROUTE_PORTS.start()),
            u32::from(*TRACEROUTE_PORTS.end()),
        );
        asm.extend([
            // An IPv6 fragment of ICMPv6 (the fragment header's first byte is its next header).
            Label(Frag6),
            Plain(op::LDB_ABS, IPV6_TCP_AT),
            Jump(op::JEQ, ICMPV6, Accept, Next),
            // With no ports every TCP fragment is kept, as outside the lab.
            Jump(
                op::JEQ,
                if ports.is_empty() { TCP } else { u32::MAX },
                Accept,
                Reject,
            ),
            // UDP to the traceroute ports: the destination port is bytes 2-3 of the UDP header.
            Label(Udp6),
            Plain(op::LDH_ABS, IPV6_TCP_AT + 2),
            Jump(op::JGE, low, Next, Reject),
            Jump(op::JGT, high, Reject, Accept),
            Label(Udp4),
            Plain(op::LDH_ABS, IPV4_FRAGMENT_AT),
            // A later fragment of a UDP datagram has no ports to look at: kept (the lab's only
            // large UDP is `trace --datagram`'s, cut by a narrow link's router).
            Jump(op::JSET, 0x1fff, Accept, Next),
            Plain(op::LDXB_MSH, 14),
            Plain(op::LDH_IND, 14 + 2),
            Jump(op::JEQ, u32::from(DATAGRAM_PORT), Accept, Next),
            Jump(op::JGE, low, Next, Reject),
            Jump(op::JGT, high, Reject, Accept),
        ]);
    }
    asm.extend([
        Label(Accept),
        Plain(op::RET, SNAPLEN),
        Label(Reject),
        Plain(op::RET, 0),
    ]);
    assemble(&asm, ports.len())
}

/// Source port (first 2 bytes of TCP) then destination port: either matching one of `ports` accepts.
fn push_port_checks(asm: &mut Vec<Asm>, ports: &[u32], load: u16, tcp_at: u32) {
    for (field, last_field) in [(tcp_at, false), (tcp_at + 2, true)] {
        asm.push(Asm::Plain(load, field));
        for (i, &port) in ports.iter().enumerate() {
            let miss = if last_field && i + 1 == ports.len() {
                Target::Reject
            } else {
                Target::Next
            };
            asm.push(Asm::Jump(op::JEQ, port, Target::Accept, miss));
        }
    }
}

/// Resolves labels into the relative jump distances classic BPF uses.
fn assemble(asm: &[Asm], port_count: usize) -> Result<Vec<BpfInstruction>, BpfError> {
    let mut labels: Vec<(Target, usize)> = Vec::new();
    let mut count = 0usize;
    for item in asm {
        match item {
            Asm::Label(t) => labels.push((*t, count)),
            _ => count += 1,
        }
    }
    let mut program = Vec::with_capacity(count);
    for item in asm {
        let (code, k, jt, jf) = match item {
            Asm::Label(_) => continue,
            Asm::Plain(code, k) => (*code, *k, Target::Next, Target::Next),
            Asm::Jump(code, k, jt, jf) => (*code, *k, *jt, *jf),
        };
        let here = program.len();
        let distance = |t: Target| -> Result<u8, BpfError> {
            let to = match t {
                Target::Next => here + 1,
                t => labels
                    .iter()
                    .find(|(l, _)| *l == t)
                    .map_or(here + 1, |(_, at)| *at),
            };
            u8::try_from(to.saturating_sub(here + 1))
                .map_err(|_| BpfError::TooManyPorts(port_count))
        };
        program.push(BpfInstruction {
            code,
            jt: distance(jt)?,
            jf: distance(jf)?,
            k,
        });
    }
    Ok(program)
}

// Tests: tests/bpf_filter.rs (a classic-BPF interpreter runs the program, and tcpdump's own
// compilation of the same expression is compared where tcpdump is installed).
