//! TCP sequence analysis as Wireshark does it (its `tcp.analysis.*` flags), so that a segment
//! packetpath calls a retransmission is one Wireshark calls a retransmission too.
//!
//! Wireshark decides from what each direction has shown so far, in capture order, and from time:
//!
//! - **lost segment** ("previous segment not captured"): the segment starts beyond the highest
//!   sequence number seen so far in its direction, so something before it was never captured;
//! - **duplicate ACK**: a pure ACK repeating the previous segment's acknowledgement and window,
//!   counted per direction until the acknowledgement moves;
//! - **zero window**: the sender has no room left to receive (not said of SYN, FIN or RST);
//! - for a segment with data (or SYN/FIN) that does not advance the sequence number:
//!   - **spurious retransmission** if the other side had already acknowledged all of it;
//!   - **fast retransmission** if the other side sent two or more duplicate ACKs for exactly its
//!     first byte, the last one less than 20 ms before;
//!   - **out of order** if it came less than one handshake round trip (3 ms without a handshake)
//!     after the segment that carried the highest sequence number, and does not end exactly where
//!     that one ended;
//!   - otherwise a **retransmission**.
//!
//! Fast and spurious retransmissions are retransmissions too (tshark sets
//! `tcp.analysis.retransmission` on them as well). Sequence numbers here are the raw 32-bit ones,
//! compared modulo 2^32 (RFC 9293 §3.4); 0 means "not seen yet", as in Wireshark.

use crate::dissect::TcpFlags;

/// Fast retransmissions come within this long of the duplicate ACK that asked for them.
const FAST_RETRANSMISSION_NS: i128 = 20_000_000;
/// The out-of-order window when the handshake (and so the first round trip) was not captured.
const DEFAULT_OOO_NS: i128 = 3_000_000;

/// `a` comes before `b` in sequence space (RFC 9293 §3.4: comparisons modulo 2^32).
pub(super) fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// What one direction has shown so far.
#[derive(Debug, Default, Clone)]
pub(super) struct DirState {
    /// The sequence number after the highest byte seen (SYN and FIN count one); 0 = none yet.
    nextseq: u32,
    /// When the segment that set `nextseq` was captured (ns).
    nextseq_at: i128,
    /// The last acknowledgement number this direction sent; 0 = none yet.
    lastack: u32,
    /// When it was sent (ns).
    lastack_at: i128,
    /// The last window field this direction sent (raw).
    window: u16,
    /// Duplicate ACKs sent since the acknowledgement last moved.
    dupacks: u32,
    /// This direction's last segment was a keep-alive / a zero window probe.
    last_keep_alive: bool,
    last_zero_window_probe: bool,
    /// The highest acknowledgement number this direction has sent; `None` before its first ACK.
    highest_ack: Option<u32>,
}

/// The header facts the analysis looks at.
#[derive(Debug, Clone, Copy)]
pub(super) struct SegmentFacts {
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Capture time (ns).
    pub at: i128,
}

/// Wireshark's verdicts on one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnalysisFlags {
    /// `tcp.analysis.retransmission` (set for fast and spurious retransmissions too).
    pub retransmission: bool,
    /// `tcp.analysis.fast_retransmission`.
    pub fast_retransmission: bool,
    /// `tcp.analysis.spurious_retransmission`.
    pub spurious_retransmission: bool,
    /// `tcp.analysis.out_of_order`.
    pub out_of_order: bool,
    /// `tcp.analysis.lost_segment`: a previous segment was not captured.
    pub lost_segment: bool,
    /// `tcp.analysis.keep_alive`.
    pub keep_alive: bool,
    /// `tcp.analysis.zero_window_probe`.
    pub zero_window_probe: bool,
    /// `tcp.analysis.window_update`.
    pub window_update: bool,
    /// `tcp.analysis.duplicate_ack_num`: this is the n-th duplicate of the same acknowledgement.
    pub duplicate_ack: Option<u32>,
    /// `tcp.analysis.zero_window`: the receive window is zero, the receiver asks the sender to
    /// pause (never said of SYN, FIN or RST segments).
    pub zero_window: bool,
    /// `tcp.analysis.reused_ports`: a SYN with a new initial sequence number on the ports of an
    /// earlier connection, which starts a new stream.
    pub reused_ports: bool,
}

impl AnalysisFlags {
    /// Wireshark's words for the verdicts that hold, in the order it lists them, for summaries:
    /// "previous segment not captured", "dup ACK 2", "fast retransmission", ...
    pub fn names(&self) -> Vec<String> {
        let plain_retransmission =
            self.retransmission && !self.fast_retransmission && !self.spurious_retransmission;
        let dup_ack = self.duplicate_ack.map(|n| format!("dup ACK {n}"));
        [
            (self.reused_ports, "port numbers reused"),
            (self.zero_window_probe, "zero window probe"),
            (self.lost_segment, "previous segment not captured"),
            (self.keep_alive, "keep-alive"),
            (self.window_update, "window update"),
            (dup_ack.is_some(), dup_ack.as_deref().unwrap_or_default()),
            (self.fast_retransmission, "fast retransmission"),
            (self.out_of_order, "out-of-order"),
            (self.spurious_retransmission, "spurious retransmission"),
            (plain_retransmission, "retransmission"),
            (self.zero_window, "zero window"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_string())
        .collect()
    }

    /// True if Wireshark would flag the segment at all.
    pub fn any(&self) -> bool {
        *self != AnalysisFlags::default()
    }
}

/// Analyses one segment sent by `fwd` (the other direction is `rev`); `first_rtt` is the
/// connection's handshake round trip (ns), if it was captured. Updates both states.
pub(super) fn analyze(
    fwd: &mut DirState,
    rev: &mut DirState,
    first_rtt: Option<i128>,
    s: &SegmentFacts,
) -> AnalysisFlags {
    let control = s.flags.0 & (TcpFlags::SYN.0 | TcpFlags::FIN.0 | TcpFlags::RST.0) != 0;
    let mut out = AnalysisFlags::default();
    let syn_or_fin = s.flags.0 & (TcpFlags::SYN.0 | TcpFlags::FIN.0) != 0;
    let repeats_last = s.len == 0 && s.seq == fwd.nextseq && s.ack == fwd.lastack && !control;

    'header_checks: {
        if s.len == 1 && s.seq == fwd.nextseq && rev.window == 0 {
            out.zero_window_probe = true;
            break 'header_checks;
        }
        out.zero_window = s.window == 0 && !control;
        if fwd.nextseq != 0 && before(fwd.nextseq, s.seq) && !s.flags.contains(TcpFlags::RST) {
            out.lost_segment = true;
        }
        if s.len <= 1 && s.seq == fwd.nextseq.wrapping_sub(1) && !control {
            out.keep_alive = true;
        }
        if repeats_last && s.window != 0 && s.window != fwd.window {
            out.window_update = true;
        }
        // An answer to a keep-alive or a zero window probe is not a duplicate ACK.
        let answers_probe =
            (s.window != 0 && rev.last_keep_alive) || (s.window == 0 && rev.last_zero_window_probe);
        if repeats_last && s.window == fwd.window && answers_probe {
            break 'header_checks;
        }
        if repeats_last && s.window != 0 && s.window == fwd.window {
            fwd.dupacks += 1;
            out.duplicate_ack = Some(fwd.dupacks);
        }
    }
    if s.ack != fwd.lastack {
        fwd.dupacks = 0;
    }

    if (s.len > 0 || syn_or_fin) && !out.keep_alive {
        let mut not_advanced = fwd.nextseq != 0 && before(s.seq, fwd.nextseq);
        // One byte short of the highest seen but carrying more: after a zero window probe.
        if s.len > 1 && fwd.nextseq.wrapping_sub(1) == s.seq {
            not_advanced = false;
        }
        let end = s.seq.wrapping_add(s.len);
        let ooo_window = first_rtt.filter(|&t| t > 0).unwrap_or(DEFAULT_OOO_NS);
        if s.len > 0 && rev.lastack != 0 && !before(rev.lastack, end) {
            out.spurious_retransmission = true;
        } else if not_advanced
            && rev.dupacks >= 2
            && rev.lastack == s.seq
            && s.at - rev.lastack_at < FAST_RETRANSMISSION_NS
        {
            out.fast_retransmission = true;
        } else if not_advanced
            && s.at - fwd.nextseq_at < ooo_window
            && fwd.nextseq != end.wrapping_add(u32::from(syn_or_fin))
        {
            out.out_of_order = true;
        } else if not_advanced {
            out.retransmission = true;
        }
        out.retransmission |= out.fast_retransmission || out.spurious_retransmission;
    }

    let next = s
        .seq
        .wrapping_add(s.len)
        .wrapping_add(u32::from(syn_or_fin));
    if (fwd.nextseq == 0 || before(fwd.nextseq, next)) && !out.zero_window_probe {
        fwd.nextseq = next;
        fwd.nextseq_at = s.at;
    }
    fwd.window = s.window;
    fwd.lastack = s.ack;
    fwd.lastack_at = s.at;
    fwd.last_keep_alive = out.keep_alive;
    fwd.last_zero_window_probe = out.zero_window_probe;
    out
}

/// What a segment tells about the bytes moving each way, beyond Wireshark's verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measures {
    /// Sequence numbers its acknowledgement newly acknowledges: the acknowledgement number minus
    /// the highest one its direction sent before (0 if it acknowledges nothing new). For the
    /// first ACK of a direction, `first_ack` (its relative acknowledgement number, 1 for the
    /// SYN-ACK and for the ACK of the handshake: the SYN counts one). `None` without the ACK flag.
    pub acked: Option<u32>,
    /// For a segment carrying data: bytes sent in its direction and not yet acknowledged, as
    /// Wireshark's `tcp.analysis.bytes_in_flight` (see [`super::unacked`]).
    pub bytes_in_flight: Option<u32>,
    /// The earlier segment of the other direction this acknowledgement answers, and after how
    /// long (Wireshark's `tcp.analysis.acks_frame` and `ack_rtt`; see [`super::unacked`]).
    pub ack_rtt: Option<super::unacked::AckRtt>,
}

/// What segment `s` newly acknowledges, after [`analyze`] has placed it; records its
/// acknowledgement in `fwd`. (Its bytes in flight and round-trip time come from
/// [`super::unacked`].)
pub(super) fn measure(fwd: &mut DirState, s: &SegmentFacts, first_ack: u32) -> Measures {
    let mut out = Measures::default();
    if s.flags.contains(TcpFlags::ACK) {
        out.acked = Some(match fwd.highest_ack {
            None => first_ack,
            Some(high) if before(high, s.ack) => s.ack.wrapping_sub(high),
            Some(_) => 0,
        });
        if fwd.highest_ack.is_none_or(|high| before(high, s.ack)) {
            fwd.highest_ack = Some(s.ack);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYN: TcpFlags = TcpFlags::SYN;
    const ACK: TcpFlags = TcpFlags::ACK;
    const SYN_ACK: TcpFlags = TcpFlags(0x12);
    const PSH_ACK: TcpFlags = TcpFlags(0x18);

    struct Conn {
        a: DirState,
        b: DirState,
        rtt: Option<i128>,
    }

    impl Conn {
        /// Feeds one segment: `from_a` picks the direction; `ms` is the capture time.
        fn seg(
            &mut self,
            from_a: bool,
            ms: f64,
            seq: u32,
            ack: u32,
            len: u32,
            flags: TcpFlags,
        ) -> AnalysisFlags {
            let s = SegmentFacts {
                seq,
                ack,
                len,
                flags,
                window: 512,
                at: (ms * 1e6) as i128,
            };
            let (fwd, rev) = if from_a {
                (&mut self.a, &mut self.b)
            } else {
                (&mut self.b, &mut self.a)
            };
            analyze(fwd, rev, self.rtt, &s)
        }
    }

    /// The same conversation tshark 4.0 was run on (a pcap written by hand): it said spurious
    /// retransmission for frame 6, previous segment not captured for frame 7, duplicate ACKs 1-3
    /// for frames 8-10 and fast retransmission for frame 11.
    #[test]
    fn verdicts_match_tshark_on_a_hand_made_conversation() {
        let mut c = Conn {
            a: DirState::default(),
            b: DirState::default(),
            rtt: None,
        };
        assert_eq!(c.seg(true, 0.0, 100, 0, 0, SYN), AnalysisFlags::default());
        c.seg(false, 1.0, 500, 101, 0, SYN_ACK);
        c.seg(true, 2.0, 101, 501, 0, ACK);
        c.rtt = Some(2_000_000);
        assert_eq!(
            c.seg(true, 10.0, 101, 501, 10, PSH_ACK),
            AnalysisFlags::default()
        );
        c.seg(false, 11.0, 501, 111, 0, ACK);
        let spurious = c.seg(true, 1000.0, 101, 501, 10, PSH_ACK);
        assert!(spurious.spurious_retransmission && spurious.retransmission);
        let gap = c.seg(true, 1100.0, 121, 501, 10, PSH_ACK);
        assert_eq!(
            gap,
            AnalysisFlags {
                lost_segment: true,
                ..Default::default()
            }
        );
        for n in 1..=3 {
            let dup = c.seg(false, 1200.0 + f64::from(n) * 10.0, 501, 111, 0, ACK);
            assert_eq!(dup.duplicate_ack, Some(n));
        }
        let fast = c.seg(true, 1235.0, 111, 501, 10, PSH_ACK);
        assert!(fast.fast_retransmission && fast.retransmission && !fast.out_of_order);
    }

    /// Wireshark's rule asks for two duplicate ACKs: after none or one, the resend is a plain
    /// retransmission; after two (or more), a fast one. The resend comes 5 ms after the last ACK
    /// (inside the 20 ms window) and long after the highest segment (not out of order).
    #[test]
    fn fast_retransmission_needs_exactly_two_duplicate_acks() {
        for (dups, fast) in [(0, false), (1, false), (2, true), (3, true)] {
            let mut c = Conn {
                a: DirState::default(),
                b: DirState::default(),
                rtt: Some(1_000_000),
            };
            c.seg(true, 0.0, 1, 1, 10, PSH_ACK); // 1..11
            c.seg(true, 1.0, 11, 1, 10, PSH_ACK); // 11..21, lost before the receiver
            c.seg(true, 2.0, 21, 1, 10, PSH_ACK); // 21..31
            c.seg(false, 10.0, 1, 11, 0, ACK); // acknowledges 1..11
            for n in 1..=dups {
                let dup = c.seg(false, 10.0 + f64::from(n), 1, 11, 0, ACK);
                assert_eq!(dup.duplicate_ack, Some(n), "{dups} duplicates");
            }
            let resend = c.seg(true, 15.0 + f64::from(dups), 11, 1, 10, PSH_ACK);
            assert_eq!(
                (
                    resend.fast_retransmission,
                    resend.retransmission,
                    resend.out_of_order
                ),
                (fast, true, false),
                "resend after {dups} duplicate ACKs"
            );
        }
    }

    #[test]
    fn out_of_order_needs_to_come_soon_after_the_highest_segment() {
        for (late_ms, ooo) in [(0.5, true), (5.0, false)] {
            let mut c = Conn {
                a: DirState::default(),
                b: DirState::default(),
                rtt: Some(1_000_000),
            };
            c.seg(true, 0.0, 1, 1, 10, PSH_ACK); // 1..11
            c.seg(true, 1.0, 21, 1, 10, PSH_ACK); // 21..31: 11..21 missing
            let filler = c.seg(true, 1.0 + late_ms, 11, 1, 10, PSH_ACK);
            assert_eq!(filler.out_of_order, ooo, "{late_ms} ms later");
            assert_eq!(filler.retransmission, !ooo, "{late_ms} ms later");
        }
        // Wrapping sequence numbers compare modulo 2^32.
        assert!(before(u32::MAX - 5, 3) && !before(3, u32::MAX - 5));
    }

    #[test]
    fn keep_alive_and_window_update() {
        let mut c = Conn {
            a: DirState::default(),
            b: DirState::default(),
            rtt: None,
        };
        c.seg(true, 0.0, 1, 1, 10, PSH_ACK);
        let ka = c.seg(true, 100.0, 10, 1, 1, ACK);
        assert!(ka.keep_alive && !ka.retransmission);
        let s = SegmentFacts {
            seq: 11,
            ack: 1,
            len: 0,
            flags: ACK,
            window: 1024,
            at: 200_000_000,
        };
        let update = analyze(&mut c.a, &mut c.b, None, &s);
        assert!(update.window_update && update.duplicate_ack.is_none());
    }

    /// One segment through [`analyze`] and [`measure`], as the tracker does it: what it
    /// newly acknowledges.
    fn acked(
        fwd: &mut DirState,
        rev: &mut DirState,
        seq: u32,
        ack: u32,
        len: u32,
        flags: TcpFlags,
        first_ack: u32,
    ) -> Option<u32> {
        let s = SegmentFacts {
            seq,
            ack,
            len,
            flags,
            window: 512,
            at: 0,
        };
        analyze(fwd, rev, None, &s);
        measure(fwd, &s, first_ack).acked
    }

    /// A handshake, three segments of 100 bytes, a delayed ACK for two of them, a duplicate
    /// ACK, then an ACK for all: what each ACK newly acknowledges.
    #[test]
    fn acked_bytes() {
        let (mut a, mut b) = (DirState::default(), DirState::default());
        let fin_ack = TcpFlags(0x11);
        assert_eq!(
            acked(&mut a, &mut b, 1000, 0, 0, SYN, 0),
            None,
            "a SYN acknowledges nothing"
        );
        assert_eq!(
            acked(&mut b, &mut a, 5000, 1001, 0, SYN_ACK, 1),
            Some(1),
            "SYN-ACK"
        );
        assert_eq!(
            acked(&mut a, &mut b, 1001, 5001, 0, ACK, 1),
            Some(1),
            "the handshake's ACK"
        );
        for seq in [1001, 1101, 1201] {
            assert_eq!(acked(&mut a, &mut b, seq, 5001, 100, PSH_ACK, 1), Some(0));
        }
        // A delayed ACK for the first two segments.
        assert_eq!(acked(&mut b, &mut a, 5001, 1201, 0, ACK, 201), Some(200));
        assert_eq!(acked(&mut a, &mut b, 1301, 5001, 100, PSH_ACK, 1), Some(0));
        // 1201..1301 was lost: a duplicate ACK acknowledges nothing new.
        assert_eq!(acked(&mut b, &mut a, 5001, 1201, 0, ACK, 201), Some(0));
        assert_eq!(acked(&mut b, &mut a, 5001, 1501, 0, ACK, 501), Some(300));
        assert_eq!(acked(&mut a, &mut b, 1501, 5001, 0, fin_ack, 1), Some(0));
        // An ACK that goes back (reordered) acknowledges nothing, and does not lower the mark.
        assert_eq!(acked(&mut b, &mut a, 5001, 1401, 0, ACK, 401), Some(0));
        assert_eq!(
            acked(&mut b, &mut a, 5001, 1502, 0, ACK, 502),
            Some(1),
            "the FIN counts one"
        );
    }

    #[test]
    fn acknowledgements_across_the_wrap() {
        let (mut a, mut b) = (DirState::default(), DirState::default());
        acked(&mut b, &mut a, 7, u32::MAX - 15, 0, ACK, 1);
        assert_eq!(acked(&mut b, &mut a, 7, 0x10, 0, ACK, 1), Some(0x20));
    }
}
