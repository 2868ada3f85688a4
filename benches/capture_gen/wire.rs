//! The wire side of the generator: TCP endpoints with real sequence/acknowledgement numbers, and
//! Ethernet II / IPv4 / TCP frames built byte by byte (correct lengths and checksums, TCP
//! timestamps on every segment as Linux sends them), written to pcapng as they are made.

use std::io::Write;

use bytes::Bytes;
use packetpath::capture::PcapngWriter;
use packetpath::frame::{Frame, LinkType, Timestamp};

/// TCP payload per segment: MSS 1460 minus the 12-byte timestamp option, as on an Ethernet-MTU
/// link with segmentation offload off (RFC 9293 section 3.7.1, RFC 7323 section 3).
pub const SEGMENT: usize = 1448;

/// TCP flag bits (RFC 9293 section 3.1).
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// One end of a TCP connection.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub ip: [u8; 4],
    pub port: u16,
    /// Sequence number of the next byte this end sends.
    pub next_seq: u32,
    /// Sequence number of the next byte this end expects (what it acknowledges).
    pub rcv_next: u32,
    /// Data segments received and not yet acknowledged.
    pub unacked: u32,
    /// Offset added to the millisecond clock for this end's TSval.
    ts_offset: u32,
    /// The peer's latest TSval, echoed as TSecr.
    peer_tsval: u32,
    /// IPv4 identification counter.
    ip_id: u16,
}

impl Endpoint {
    /// An endpoint whose initial sequence number is `isn`.
    pub fn new(ip: [u8; 4], port: u16, isn: u32, ts_offset: u32) -> Self {
        Endpoint {
            ip,
            port,
            next_seq: isn,
            rcv_next: 0,
            unacked: 0,
            ts_offset,
            peer_tsval: 0,
            ip_id: (isn >> 16) as u16,
        }
    }
}

/// Makes frames and writes them to a pcapng file; keeps the clock and counters.
pub struct Wire<W: Write> {
    writer: PcapngWriter<W>,
    /// Capture time of the next frame, nanoseconds since 1970.
    pub clock_ns: i128,
    /// Frames written.
    pub frames: u64,
    /// Bytes of frame data written.
    pub bytes: u64,
}

impl<W: Write> Wire<W> {
    /// A wire starting at `start_ns` writing Ethernet frames to `writer`.
    pub fn new(writer: PcapngWriter<W>, start_ns: i128) -> Self {
        Wire {
            writer,
            clock_ns: start_ns,
            frames: 0,
            bytes: 0,
        }
    }

    /// Finishes the pcapng file.
    pub fn finish(self) -> std::io::Result<W> {
        self.writer.finish().map_err(std::io::Error::other)
    }

    /// Sends one segment from `src` to `dst` with `flags` and `payload` (SYN and FIN count one
    /// sequence number each), advancing both ends' sequence state. `options` are the TCP options
    /// besides timestamps (SYN only).
    pub fn segment(
        &mut self,
        src: &mut Endpoint,
        dst: &mut Endpoint,
        flags: u8,
        syn_options: &[u8],
        payload: &[u8],
    ) -> std::io::Result<()> {
        let tsval = ((self.clock_ns / 1_000_000) as u32).wrapping_add(src.ts_offset);
        let mut options = Vec::with_capacity(syn_options.len() + 12);
        options.extend_from_slice(syn_options);
        // NOP, NOP, Timestamps (kind 8, length 10, TSval, TSecr): RFC 7323 section 3.2.
        options.extend_from_slice(&[1, 1, 8, 10]);
        options.extend_from_slice(&tsval.to_be_bytes());
        options.extend_from_slice(&src.peer_tsval.to_be_bytes());
        while options.len() % 4 != 0 {
            options.push(1);
        }
        let ack = if flags & ACK != 0 { src.rcv_next } else { 0 };
        let data = frame_bytes(src, dst, src.next_seq, ack, flags, &options, payload);

        let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        src.next_seq = src.next_seq.wrapping_add(advance);
        if flags & SYN != 0 {
            dst.rcv_next = src.next_seq;
        } else {
            dst.rcv_next = dst.rcv_next.wrapping_add(advance);
        }
        if advance > 0 {
            dst.unacked += 1;
        }
        if flags & ACK != 0 {
            // This segment acknowledges everything `src` has received.
            src.unacked = 0;
        }
        dst.peer_tsval = tsval;
        src.ip_id = src.ip_id.wrapping_add(1);

        self.bytes += data.len() as u64;
        self.frames += 1;
        let frame = Frame {
            at: Timestamp(self.clock_ns),
            link: LinkType::Ethernet,
            orig_len: data.len() as u32,
            interface: 0,
            data: Bytes::from(data),
        };
        self.writer
            .write_frame(&frame)
            .map_err(std::io::Error::other)
    }

    /// Moves the clock on by `ns` nanoseconds.
    pub fn wait(&mut self, ns: u64) {
        self.clock_ns += i128::from(ns);
    }
}

/// Ethernet II (zero addresses, as on Linux loopback) + IPv4 (DF, TTL 64) + TCP.
fn frame_bytes(
    src: &Endpoint,
    dst: &Endpoint,
    seq: u32,
    ack: u32,
    flags: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let tcp_len = 20 + options.len() + payload.len();
    let ip_len = 20 + tcp_len;
    let mut f = Vec::with_capacity(14 + ip_len);
    // Ethernet II: destination, source, EtherType 0x0800 (IPv4).
    f.extend_from_slice(&[0; 12]);
    f.extend_from_slice(&[0x08, 0x00]);
    // IPv4 (RFC 791 section 3.1): version 4 / IHL 5, DSCP 0, total length, identification,
    // flags DF, TTL 64, protocol 6 (TCP), header checksum (filled below), addresses.
    let ip_start = f.len();
    f.extend_from_slice(&[0x45, 0x00]);
    f.extend_from_slice(&(ip_len as u16).to_be_bytes());
    f.extend_from_slice(&src.ip_id.to_be_bytes());
    f.extend_from_slice(&[0x40, 0x00, 64, 6, 0, 0]);
    f.extend_from_slice(&src.ip);
    f.extend_from_slice(&dst.ip);
    let ip_sum = checksum(sum(&f[ip_start..], 0));
    f[ip_start + 10..ip_start + 12].copy_from_slice(&ip_sum.to_be_bytes());
    // TCP (RFC 9293 section 3.1): ports, seq, ack, data offset, flags, window 512 (scaled by the
    // window-scale shift 7 announced in the SYN: 64 KiB), checksum (below), urgent pointer.
    let tcp_start = f.len();
    f.extend_from_slice(&src.port.to_be_bytes());
    f.extend_from_slice(&dst.port.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.push((((20 + options.len()) / 4) as u8) << 4);
    f.push(flags);
    f.extend_from_slice(&512u16.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(options);
    f.extend_from_slice(payload);
    // Pseudo-header: source, destination, zero, protocol, TCP length (RFC 9293 section 3.1).
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.ip);
    pseudo[4..8].copy_from_slice(&dst.ip);
    pseudo[9] = 6;
    pseudo[10..].copy_from_slice(&(tcp_len as u16).to_be_bytes());
    let tcp_sum = checksum(sum(&f[tcp_start..], sum(&pseudo, 0)));
    f[tcp_start + 16..tcp_start + 18].copy_from_slice(&tcp_sum.to_be_bytes());
    f
}

/// Adds `data` as big-endian 16-bit words (odd tail padded with zero) to `acc`.
fn sum(data: &[u8], mut acc: u64) -> u64 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// The Internet checksum: ones' complement of the ones'-complement sum (RFC 1071).
fn checksum(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}
