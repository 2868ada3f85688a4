//! TCP connections as Wireshark sees them: numbered in order of first appearance (`tcp.stream`),
//! sequence and acknowledgement numbers made relative to each side's initial sequence number, each
//! direction's byte stream put back in order, and segments flagged with Wireshark's analysis
//! (`tcp.analysis.*`: retransmission, out of order, lost segment, duplicate ACK…, see `analysis`).
//!
//! TCP numbers every byte it sends (RFC 9293 §3.4): the SYN takes one number (the ISN), so the first
//! data byte is ISN+1, which Wireshark shows as relative sequence number 1.

mod analysis;
mod fragments;
mod reassembly;
mod unacked;

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::dissect::{Packet, TcpFlags};
use crate::frame::Timestamp;
pub use crate::tls::Direction;
pub use analysis::{AnalysisFlags, Measures};
use analysis::{DirState, SegmentFacts};
pub use fragments::{
    rebuild as rebuild_datagram, Datagram, DatagramState, Defragmenter, FragmentError, FragmentKey,
    Piece, Pushed, Reassembled, MAX_FRAGMENTS, MAX_PENDING_BYTES, MAX_PENDING_DATAGRAMS,
    TIMEOUT_NS,
};
pub use reassembly::{Carrier, Delivered, FrameMap};
use reassembly::{HalfStream, Segment};
pub use unacked::AckRtt;

/// One TCP segment placed in its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The connection's number (Wireshark's `tcp.stream`), from 0.
    pub stream: usize,
    /// Which way the segment travels.
    pub dir: Direction,
    /// Sequence number relative to this direction's ISN (Wireshark's `tcp.seq`).
    pub rel_seq: u32,
    /// Acknowledgement number relative to the other direction's ISN (`tcp.ack`); 0 without ACK.
    pub rel_ack: u32,
    /// The other direction's base (its ISN): subtract it from an acknowledgement or SACK edge to
    /// get the relative number Wireshark shows.
    pub peer_base: u32,
    /// Bytes of data the segment carries (`tcp.len`), counted from the IP header: a frame the
    /// capture's snapshot length cut short has fewer of them in the frame (see
    /// [`crate::dissect::Packet::not_captured`]).
    pub payload_len: usize,
    /// Wireshark's verdicts (`tcp.analysis.*`): retransmission, out of order, lost segment,
    /// duplicate ACK and the rest, decided as Wireshark decides them.
    pub analysis: AnalysisFlags,
    /// Position of the segment's first data byte in its direction's byte stream (0-based).
    pub stream_offset: u64,
    /// How far the window field is shifted left to give the real window in bytes (the window
    /// scale option both SYNs agreed on, RFC 7323; 0 in a SYN and when either SYN lacked the
    /// option). `None` when the handshake was not captured, so the scale is unknown, as
    /// Wireshark's `tcp.window_size_scalefactor` -1.
    pub window_shift: Option<u8>,
    /// What this segment newly acknowledges and how many bytes its direction has in flight
    /// (see [`Measures`]).
    pub measures: Measures,
}

impl SegmentInfo {
    /// The receive window in bytes (Wireshark's `tcp.window_size`): the window field shifted by
    /// [`SegmentInfo::window_shift`], or the field itself when the shift is unknown.
    pub fn window_bytes(&self, window_field: u16) -> u32 {
        u32::from(window_field) << self.window_shift.unwrap_or(0)
    }
}

/// A TCP connection and the two byte streams it carries.
#[derive(Debug)]
pub struct Connection {
    /// Its number, as Wireshark's `tcp.stream`.
    pub index: usize,
    /// The end that opened the connection (sent the SYN), or our best guess.
    pub client: SocketAddr,
    /// The end that accepted it.
    pub server: SocketAddr,
    halves: [HalfStream; 2],
    /// Wireshark's sequence analysis state per direction (client → server first).
    analysis: [DirState; 2],
    /// When the most recent SYN was captured (ns), and the handshake's round trip: SYN to the
    /// first pure ACK (Wireshark's `tcp.analysis.initial_rtt`).
    last_syn_at: Option<i128>,
    first_rtt: Option<i128>,
    /// Each direction's segments not yet acknowledged, for the round-trip times.
    unanswered: [unacked::Unanswered; 2],
}

impl Connection {
    /// The direction of a segment from `src`.
    pub fn direction_from(&self, src: SocketAddr) -> Direction {
        if src == self.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    /// Which frames carried which stream bytes in direction `dir`, in stream order.
    pub fn carriers(&self, dir: Direction) -> &[Carrier] {
        self.halves[idx(dir)].carriers()
    }

    /// The earliest frame of direction `dir` whose bytes wait ahead of a gap.
    pub fn oldest_held_frame(&self, dir: Direction) -> Option<u32> {
        self.halves[idx(dir)].oldest_held_frame()
    }

    /// How many of direction `dir`'s carriers were forgotten (a trace that forgets its past):
    /// [`Connection::carriers`] starts at the next one.
    pub fn carriers_forgotten(&self, dir: Direction) -> usize {
        self.halves[idx(dir)].carriers_forgotten()
    }

    /// How many bytes of direction `dir` were delivered in order so far.
    pub fn delivered_len(&self, dir: Direction) -> u64 {
        self.halves[idx(dir)].next_offset()
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// Tracks every TCP connection in a capture.
#[derive(Debug, Default)]
pub struct TcpTracker {
    /// Keyed by the two endpoints in a fixed order. foldhash (already in the tree through
    /// ratatui's hashbrown) is seeded at random per process like std's SipHash, at a fraction of
    /// its cost per lookup, which matters at one lookup per frame.
    by_endpoints: HashMap<(SocketAddr, SocketAddr), usize, foldhash::fast::RandomState>,
    connections: Vec<Connection>,
}

impl TcpTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets, in every connection, which frames carried the stream bytes before frame
    /// `frame` (see `HalfStream::forget_carriers_before`).
    pub fn forget_carriers_before(&mut self, frame: u32) {
        for c in &mut self.connections {
            for half in &mut c.halves {
                half.forget_carriers_before(frame);
            }
        }
    }

    /// All connections, indexed by stream number.
    pub fn connections(&self) -> &[Connection] {
        &self.connections
    }

    /// One connection.
    pub fn connection(&self, stream: usize) -> Option<&Connection> {
        self.connections.get(stream)
    }

    /// The connection between two endpoints, whichever started it.
    pub fn find(&self, a: SocketAddr, b: SocketAddr) -> Option<&Connection> {
        self.by_endpoints
            .get(&key(a, b))
            .and_then(|i| self.connections.get(*i))
    }

    /// Places one dissected frame (`frame_no` from 1) in its connection. Returns `None` for frames
    /// without a TCP header, else the segment's analysis and the stream bytes it completed
    /// (possibly none, possibly including bytes of earlier out-of-order segments).
    pub fn push(
        &mut self,
        frame_no: u32,
        at: Timestamp,
        packet: &Packet,
        data: &[u8],
    ) -> Option<(SegmentInfo, Delivered)> {
        self.push_mapped(frame_no, at, packet, data, None)
    }

    /// As [`TcpTracker::push`], for a segment that came in a reassembled IP packet: `packet` was
    /// dissected from `data`, the whole packet, and `map` says which fragment frames carried its
    /// bytes (the [`Carrier`]s name those frames). The delivered bytes' `in_frame` range is in
    /// `data`.
    pub fn push_mapped(
        &mut self,
        frame_no: u32,
        at: Timestamp,
        packet: &Packet,
        data: &[u8],
        map: Option<FrameMap<'_>>,
    ) -> Option<(SegmentInfo, Delivered)> {
        let ip = packet.ip.as_ref()?;
        let tcp = packet.tcp.as_ref()?;
        let src = SocketAddr::new(ip.src, tcp.src_port);
        let dst = SocketAddr::new(ip.dst, tcp.dst_port);
        let syn_only = tcp.flags.contains(TcpFlags::SYN) && !tcp.flags.contains(TcpFlags::ACK);
        let k = key(src, dst);
        let earlier = self.by_endpoints.get(&k).copied();
        let reused = earlier.is_some_and(|i| syn_only && self.is_new_syn(i, src, tcp.seq));
        let stream = match earlier {
            Some(i) if !reused => i,
            _ => {
                let i = self.connections.len();
                let (client, server) = if syn_only {
                    (src, dst)
                } else if tcp.flags.contains(TcpFlags::SYN) {
                    (dst, src)
                } else if src.port() > dst.port() {
                    (src, dst)
                } else {
                    (dst, src)
                };
                self.connections.push(Connection {
                    index: i,
                    client,
                    server,
                    halves: [HalfStream::default(), HalfStream::default()],
                    analysis: [DirState::default(), DirState::default()],
                    unanswered: Default::default(),
                    last_syn_at: None,
                    first_rtt: None,
                });
                self.by_endpoints.insert(k, i);
                i
            }
        };
        let conn = self.connections.get_mut(stream)?;
        let dir = conn.direction_from(src);
        let payload = data.get(packet.payload.clone()).unwrap_or_default();
        let [c2s, s2c] = &mut conn.halves;
        let (mine, theirs) = match dir {
            Direction::ClientToServer => (c2s, s2c),
            Direction::ServerToClient => (s2c, c2s),
        };
        let syn = tcp.flags.contains(TcpFlags::SYN);
        let fin = tcp.flags.contains(TcpFlags::FIN);
        mine.observe_start(tcp.seq, syn);
        if syn {
            mine.observe_syn_window_scale(tcp.options.window_scale);
        }
        // A SYN's own window is never scaled (RFC 7323 §2.2).
        let window_shift = if syn {
            Some(0)
        } else {
            mine.window_shift(theirs)
        };
        let rel_seq = mine.relative(tcp.seq);
        let rel_ack = if tcp.flags.contains(TcpFlags::ACK) {
            theirs.relative_ack(tcp.ack)
        } else {
            0
        };
        let peer_base = theirs.base();
        // A frame the snapshot length cut short still counts its whole payload, as tcp.len does.
        let real_len = packet.tcp_len().max(payload.len());
        let missing = real_len - payload.len();
        let placed = mine.accept(Segment {
            frame: frame_no,
            seq: tcp.seq,
            frame_offset: packet.payload.start,
            payload,
            missing,
            syn,
            fin,
            map,
        });
        let facts = SegmentFacts {
            seq: tcp.seq,
            ack: tcp.ack,
            len: u32::try_from(real_len).unwrap_or(u32::MAX),
            flags: tcp.flags,
            window: tcp.window,
            at: at.0,
        };
        let [a2s, s2c_state] = &mut conn.analysis;
        let (fwd, rev) = match dir {
            Direction::ClientToServer => (a2s, s2c_state),
            Direction::ServerToClient => (s2c_state, a2s),
        };
        let mut analysis = analysis::analyze(fwd, rev, conn.first_rtt, &facts);
        analysis.reused_ports = reused;
        let mut measures = analysis::measure(fwd, &facts, rel_ack);
        // Round-trip times and bytes in flight, in Wireshark's order (src/flow/unacked.rs).
        let [c2s_sent, s2c_sent] = &mut conn.unanswered;
        let (mine_sent, theirs_sent) = match dir {
            Direction::ClientToServer => (c2s_sent, s2c_sent),
            Direction::ServerToClient => (s2c_sent, c2s_sent),
        };
        let has_ack = tcp.flags.contains(TcpFlags::ACK);
        if has_ack {
            theirs_sent.acknowledged();
        }
        if analysis.lost_segment {
            mine_sent.gap();
        }
        let nextseq = tcp
            .seq
            .wrapping_add(facts.len)
            .wrapping_add(u32::from(syn) + u32::from(fin));
        // Karn: Wireshark calls some resends "out of order" (sent within a round trip of the
        // newest segment); an answer to bytes that may have been sent twice is no sample.
        let resend = analysis.retransmission || analysis.out_of_order;
        mine_sent.sent(frame_no, tcp.seq, nextseq, at.0, resend);
        if has_ack {
            measures.ack_rtt = theirs_sent.acknowledge(tcp.ack, at.0);
        }
        if facts.len > 0 {
            measures.bytes_in_flight = mine_sent.in_flight(theirs_sent.sacked(), syn || fin);
        }
        mine_sent.sack_blocks(tcp.options.sack_blocks.as_slice());
        // The handshake's round trip, as Wireshark measures it: from the latest SYN to the first
        // pure ACK after it.
        if syn && !tcp.flags.contains(TcpFlags::ACK) {
            conn.last_syn_at = Some(at.0);
        } else if !syn && tcp.flags.contains(TcpFlags::ACK) && conn.first_rtt.is_none() {
            conn.first_rtt = conn.last_syn_at.map(|t| at.0 - t);
        }
        Some((
            SegmentInfo {
                stream,
                dir,
                rel_seq,
                rel_ack,
                peer_base,
                payload_len: real_len,
                analysis,
                stream_offset: placed.stream_offset,
                window_shift,
                measures,
            },
            placed.delivered,
        ))
    }

    /// Whether a SYN from `src` with sequence number `seq` opens a new connection on the ports of
    /// connection `stream`, as Wireshark decides it: that direction has already been seen, and
    /// the SYN's number is not where its numbering starts (a SYN sent again keeps its ISN).
    /// Whether the old connection ended with FIN, RST or not at all does not matter.
    fn is_new_syn(&self, stream: usize, src: SocketAddr, seq: u32) -> bool {
        self.connections.get(stream).is_some_and(|c| {
            let half = &c.halves[idx(c.direction_from(src))];
            half.started() && half.base() != seq
        })
    }
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}
