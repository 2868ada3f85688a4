//! Segments not yet acknowledged, and what they tell: which earlier segment an acknowledgement
//! answers and how long after it was sent (Wireshark's `tcp.analysis.acks_frame` and
//! `tcp.analysis.ack_rtt`), whether that time is a fair RTT sample under Karn's rule, and how
//! many bytes are in flight (`tcp.analysis.bytes_in_flight`).
//!
//! Wireshark keeps, per direction, every segment that takes sequence space (data, SYN or FIN) and
//! is not yet acknowledged. An acknowledgement then walks the other direction's list:
//!
//! - a segment that ends exactly at the acknowledgement number is what it answers; when several
//!   do (a segment and its retransmission), the one sent first wins, so the time is measured from
//!   the original transmission;
//! - a segment it covers only in part is trimmed to the unacknowledged rest, and kept;
//! - a segment it covers entirely, but that does not end there, is dropped without a sample
//!   (one ACK for several segments answers the last of them only).
//!
//! Wireshark does not apply Karn's rule (Karn and Partridge, 1987; RFC 6298 §3): an RTT measured
//! on bytes that were sent more than once cannot tell which transmission the ACK answers. Each
//! answer here says whether any of the bytes it acknowledges was retransmitted; only answers that
//! say no are SampleRTTs.
//!
//! Bytes in flight, as Wireshark counts them when a segment with data is sent: from the lowest
//! unacknowledged sequence number of its direction to the highest sent, less the bytes the other
//! side's latest SACK blocks report received (RFC 2018), less one for a SYN or FIN. Wireshark
//! stops counting after a gap in the sequence numbers (a segment it did not capture) until the
//! other side next acknowledges something.

use std::collections::VecDeque;

use super::analysis::before;

/// Wireshark stops listing unacknowledged segments of a direction at this many
/// (`TCP_MAX_UNACKED_SEGMENTS`); so do we, so that a capture missing its ACKs stays cheap.
const MAX_UNACKED: usize = 10_000;

/// What an acknowledgement answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckRtt {
    /// The frame of the segment it acknowledges (`tcp.analysis.acks_frame`).
    pub acks_frame: u32,
    /// Time from that segment to this acknowledgement, in nanoseconds (`tcp.analysis.ack_rtt`).
    pub rtt_ns: i64,
    /// No byte this acknowledgement newly covers was sent twice: the time is a SampleRTT under
    /// Karn's rule.
    pub karn: bool,
}

#[derive(Debug, Clone, Copy)]
struct Unacked {
    frame: u32,
    seq: u32,
    nextseq: u32,
    at: i128,
    /// Some of its bytes were sent again (or it is itself a retransmission).
    resent: bool,
}

/// One direction's segments still waiting for an acknowledgement, oldest first.
#[derive(Debug, Default, Clone)]
pub(super) struct Unanswered {
    segments: VecDeque<Unacked>,
    /// Bytes in flight can be counted: the other side has acknowledged something since the
    /// last gap.
    counting: bool,
    /// Bytes reported by the SACK blocks of this direction's latest segment.
    sacked: u32,
}

fn overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    before(a.0, b.1) && before(b.0, a.1)
}

impl Unanswered {
    /// Notes a segment sent in this direction: `seq`..`nextseq` (SYN and FIN count one), captured
    /// at `at` (ns) in frame `frame`; `resend` if the analysis called it a retransmission (or
    /// out of order: Wireshark gives that name to some resends).
    pub(super) fn sent(&mut self, frame: u32, seq: u32, nextseq: u32, at: i128, resend: bool) {
        if seq == nextseq {
            return;
        }
        if resend {
            for u in &mut self.segments {
                if overlaps((u.seq, u.nextseq), (seq, nextseq)) {
                    u.resent = true;
                }
            }
        }
        if self.segments.len() < MAX_UNACKED {
            self.segments.push_back(Unacked {
                frame,
                seq,
                nextseq,
                at,
                resent: resend,
            });
        }
    }

    /// The other side acknowledged something: bytes in flight can be counted again.
    pub(super) fn acknowledged(&mut self) {
        self.counting = true;
    }

    /// A segment came after a gap in this direction's sequence numbers: stop counting.
    pub(super) fn gap(&mut self) {
        self.counting = false;
    }

    /// Notes the SACK blocks of this direction's latest segment (Wireshark reads the first
    /// three).
    pub(super) fn sack_blocks(&mut self, blocks: &[(u32, u32)]) {
        self.sacked = blocks
            .iter()
            .take(3)
            .map(|(left, right)| right.wrapping_sub(*left))
            .fold(0, u32::saturating_add);
    }

    /// Bytes in flight in this direction once a segment with data is sent (after [`Self::sent`]
    /// and the acknowledgement it carries); `sacked_by_peer` is what the other side's latest
    /// SACK blocks report, `syn_or_fin` whether the segment has one of those flags.
    pub(super) fn in_flight(&self, sacked_by_peer: u32, syn_or_fin: bool) -> Option<u32> {
        if !self.counting {
            return None;
        }
        // Compared as signed distances from one of them (RFC 9293 §3.4): a retransmission
        // starts below the oldest segment listed.
        let base = self.segments.front()?.seq;
        let from_base = |s: &u32| s.wrapping_sub(base) as i32;
        let low = self.segments.iter().map(|u| u.seq).min_by_key(from_base)?;
        let high = self
            .segments
            .iter()
            .map(|u| u.nextseq)
            .max_by_key(from_base)?;
        let span = high.wrapping_sub(low);
        let flight = span.wrapping_sub(sacked_by_peer);
        (flight > 0 && flight < 2_000_000_000).then(|| flight - u32::from(syn_or_fin))
    }

    /// What the SACK blocks of this direction's latest segment reported.
    pub(super) fn sacked(&self) -> u32 {
        self.sacked
    }

    /// Applies acknowledgement number `ack`, captured at `at` (ns), to this direction's segments.
    pub(super) fn acknowledge(&mut self, ack: u32, at: i128) -> Option<AckRtt> {
        let mut answered: Option<Unacked> = None;
        let mut covers_resent = false;
        self.segments.retain_mut(|u| {
            if u.nextseq == ack {
                // Oldest first: the first match is the original transmission.
                answered.get_or_insert(*u);
                covers_resent |= u.resent;
                false
            } else if before(u.seq, ack) && before(ack, u.nextseq) {
                u.seq = ack;
                true
            } else if before(ack, u.nextseq) {
                true
            } else {
                covers_resent |= u.resent;
                false
            }
        });
        answered.map(|u| AckRtt {
            acks_frame: u.frame,
            rtt_ns: i64::try_from(at - u.at).unwrap_or(i64::MAX),
            karn: !covers_resent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i128 = 1_000_000;

    #[test]
    fn one_ack_for_several_segments_answers_the_last() {
        let mut u = Unanswered::default();
        u.sent(4, 1001, 2001, 10 * MS, false);
        u.sent(5, 2001, 3001, 11 * MS, false);
        let a = u.acknowledge(3001, 15 * MS).expect("an answer");
        assert_eq!(
            a,
            AckRtt {
                acks_frame: 5,
                rtt_ns: 4_000_000,
                karn: true
            }
        );
        assert!(u.segments.is_empty());
        // Acknowledging nothing new answers nothing.
        assert_eq!(u.acknowledge(3001, 16 * MS), None);
    }

    #[test]
    fn a_partial_ack_trims_and_answers_nothing() {
        let mut u = Unanswered::default();
        u.sent(4, 1001, 3001, 10 * MS, false);
        assert_eq!(u.acknowledge(2001, 12 * MS), None);
        let a = u.acknowledge(3001, 14 * MS).expect("an answer");
        assert_eq!((a.acks_frame, a.rtt_ns), (4, 4_000_000));
    }

    #[test]
    fn a_retransmitted_segment_is_timed_from_the_original_but_is_no_sample() {
        let mut u = Unanswered::default();
        u.sent(4, 1001, 2001, 10 * MS, false);
        u.sent(9, 1001, 2001, 210 * MS, true);
        let a = u.acknowledge(2001, 211 * MS).expect("an answer");
        assert_eq!(
            a,
            AckRtt {
                acks_frame: 4,
                rtt_ns: 201_000_000,
                karn: false
            }
        );
        // Later segments, never resent, give samples again.
        u.sent(10, 2001, 3001, 212 * MS, false);
        assert!(u.acknowledge(3001, 213 * MS).is_some_and(|a| a.karn));
    }

    #[test]
    fn an_ack_past_a_resent_hole_is_no_sample() {
        // 1001..2001 lost and resent after 2001..3001 (SACKed); the cumulative ACK 3001 answers
        // frame 5, but it also covers the resent bytes.
        let mut u = Unanswered::default();
        u.sent(4, 1001, 2001, 10 * MS, false);
        u.sent(5, 2001, 3001, 11 * MS, false);
        u.sent(8, 1001, 2001, 30 * MS, true);
        let a = u.acknowledge(3001, 31 * MS).expect("an answer");
        assert_eq!(a.acks_frame, 5);
        assert!(!a.karn);
    }

    /// Wireshark's figures for a fast retransmission below the oldest unacknowledged segment
    /// (tests/tshark.rs, the upload losing chosen packets): it counts from the retransmitted
    /// bytes to the highest sent, less the receiver's latest SACK block.
    #[test]
    fn bytes_in_flight_span_a_retransmission() {
        let mut u = Unanswered::default();
        u.acknowledged();
        u.sent(52, 48616, 49590, 0, false);
        u.sent(54, 49590, 51038, 0, false);
        assert_eq!(u.in_flight(974, false), Some(1448));
        u.sent(61, 51038, 57804, 0, false);
        u.sent(62, 47168, 48616, 0, true);
        assert_eq!(u.in_flight(3870, false), Some(6766));
        // After a gap, nothing until the other side acknowledges again.
        u.gap();
        assert_eq!(u.in_flight(0, false), None);
        u.acknowledged();
        assert_eq!(
            u.in_flight(0, true),
            Some(10635),
            "a SYN or FIN counts one less"
        );
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut u = Unanswered::default();
        u.sent(1, u32::MAX - 99, 100, 0, false);
        let a = u.acknowledge(100, MS).expect("an answer");
        assert_eq!(a.acks_frame, 1);
    }
}
