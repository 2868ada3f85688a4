//! Time on the wire, as the textbook defines it, for one direction of one connection: the
//! round-trip samples and the estimator built on them, bytes in flight, throughput, and the
//! receive window the other side advertised. Computed from the capture alone (the frames'
//! timestamps and the TCP analysis in [`crate::flow`]); the kernel's own figures are in
//! [`crate::tcpinfo`].
//!
//! Two kinds of round-trip figures:
//!
//! - **SampleRTTs**, one per acknowledgement that answers a segment (Wireshark's
//!   `tcp.analysis.ack_rtt`), following Karn's rule (RFC 6298 §3): an acknowledgement covering
//!   bytes sent twice gives none. There are many per round trip: they draw the scatter. (Karn's
//!   rule is applied in capture order where the acknowledgement was first captured; a resend
//!   that leaves while the acknowledgement is still on its way back does not void its sample.)
//! - **The estimator**, fed as the textbook does it (Kurose and Ross; RFC 6298 §3 warns that
//!   gains meant for one sample per round trip lose their history when fed many): one segment
//!   is timed at a time, from when it leaves the sender until an acknowledgement covering it
//!   comes back; a retransmission while it is timed cancels the timing (Karn). It is RFC 6298
//!   §2 (Kurose and Ross call SRTT "EstimatedRTT" and RTTVAR "DevRTT"): the first sample R sets
//!   SRTT = R and RTTVAR = R/2; each later R' gives RTTVAR = (1 − β)·RTTVAR + β·|SRTT − R'| and
//!   then SRTT = (1 − α)·SRTT + α·R', with α = 1/8 and β = 1/4; the timeout is
//!   SRTT + max(G, 4·RTTVAR) (the clock granularity G taken as 0). RFC 6298 §2.4 then rounds an
//!   RTO below one second up to one second; Linux instead keeps its RTTVAR at 200 ms or more
//!   (`tcp_rto_min`), so its RTO is at least SRTT + 200 ms. The figures here are the formula's.
//!
//! Times are the sender's: on a path of routers, where every interface is captured, a segment
//! is timed where it left its sender and an acknowledgement where its copy reached the
//! sender's interface, as the sender's TCP measures them. (Wireshark's `tcp.analysis.ack_rtt`,
//! like [`crate::flow`]'s, is measured wherever a packet was first captured: on one interface
//! the same thing.)

use crate::flow::Direction;

use super::Trace;

/// The smoothing gain of SRTT (RFC 6298 §2.3).
pub const ALPHA: f64 = 0.125;
/// The smoothing gain of RTTVAR (RFC 6298 §2.3).
pub const BETA: f64 = 0.25;

/// The RFC 6298 estimator: SRTT and RTTVAR, µs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimator {
    /// The smoothed RTT (EstimatedRTT).
    pub srtt_us: f64,
    /// Its variation (DevRTT).
    pub rttvar_us: f64,
}

impl Estimator {
    /// The estimator after SampleRTT `r` (µs), from `before` (none before the first sample).
    pub fn update(before: Option<Estimator>, r: f64) -> Estimator {
        match before {
            None => Estimator {
                srtt_us: r,
                rttvar_us: r / 2.0,
            },
            Some(e) => Estimator {
                // RTTVAR first, with the SRTT before this sample (RFC 6298 §2.3).
                rttvar_us: (1.0 - BETA) * e.rttvar_us + BETA * (e.srtt_us - r).abs(),
                srtt_us: (1.0 - ALPHA) * e.srtt_us + ALPHA * r,
            },
        }
    }

    /// SRTT + 4·RTTVAR (the clock granularity taken as 0), µs, before any floor.
    pub fn rto_us(&self) -> f64 {
        self.srtt_us + 4.0 * self.rttvar_us
    }
}

/// One SampleRTT: an acknowledgement and the segment it answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RttSample {
    /// The acknowledgement.
    pub frame: u32,
    /// The segment it answered.
    pub acks_frame: u32,
    /// When the acknowledgement reached the sender (ns since the epoch).
    pub at: i128,
    /// The sample, µs.
    pub sample_us: f64,
}

/// One timed segment's round trip and the estimator after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RttPoint {
    /// The acknowledgement that covered the timed segment.
    pub frame: u32,
    /// The timed segment.
    pub timed_frame: u32,
    /// When the acknowledgement reached the sender (ns since the epoch).
    pub at: i128,
    /// The timed segment's round trip, µs.
    pub sample_us: f64,
    /// SRTT (EstimatedRTT) after it, µs.
    pub srtt_us: f64,
    /// RTTVAR (DevRTT) after it, µs.
    pub rttvar_us: f64,
    /// SRTT + 4·RTTVAR (TimeoutInterval), µs, before any floor.
    pub rto_us: f64,
}

/// One data segment: what was outstanding once it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlightPoint {
    /// The segment.
    pub frame: u32,
    /// When it was captured (ns).
    pub at: i128,
    /// Its first byte's position in the stream (relative sequence number − 1).
    pub offset: u64,
    /// Its data bytes.
    pub len: u32,
    /// Bytes in flight once it is sent, as the sender sees them: the end of the highest byte
    /// sent minus the highest acknowledgement that has reached the sender (`None` before the
    /// first). Wireshark's `tcp.analysis.bytes_in_flight` (in [`crate::flow`]) also subtracts
    /// SACKed bytes, and counts wherever the packet was first captured.
    pub in_flight: Option<u64>,
    /// It repeats bytes sent before.
    pub retransmission: bool,
}

/// One acknowledgement from the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckPoint {
    /// The segment that carried it.
    pub frame: u32,
    /// When it was captured (ns).
    pub at: i128,
    /// The stream offset it acknowledges up to (relative acknowledgement number − 1).
    pub acked_to: u64,
    /// The receive window it advertises, in bytes (scaled).
    pub window: u32,
    /// Bytes beyond `acked_to` its SACK blocks report, as stream offsets.
    pub sacked: Vec<(u64, u64)>,
}

/// The time series of one direction of one connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// The data segments, in capture order.
    pub segments: Vec<FlightPoint>,
    /// The receiver's acknowledgements, in capture order.
    pub acks: Vec<AckPoint>,
    /// Every SampleRTT (Karn's rule), in order.
    pub samples: Vec<RttSample>,
    /// The estimator, after each timed segment.
    pub rtt: Vec<RttPoint>,
}

impl Series {
    /// The series of `dir` on connection `stream`: segments sent that way, and the other way's
    /// acknowledgements of them.
    pub fn of(trace: &Trace, stream: usize, dir: Direction) -> Series {
        let mut out = Series::default();
        let mut estimator: Option<Estimator> = None;
        let ours = |e: &&crate::journey::FrameEntry| {
            e.segment.as_ref().is_some_and(|s| s.stream == stream)
        };
        // The sender's interface: where its first packet was captured. Its segments are taken
        // there (their copies on other links repeat them), and the acknowledgements where their
        // copies reached it: the order and times the sender's TCP saw.
        let sender_interface = trace
            .frames()
            .iter()
            .filter(ours)
            .find(|e| e.copy_of.is_none() && e.segment.as_ref().is_some_and(|s| s.dir == dir))
            .map(|e| e.frame.interface);
        let (mut highest_sent, mut highest_acked) = (0u64, None::<u64>);
        // The segment being timed: where it ends, when it left, its frame.
        let mut timed: Option<(u64, i128, u32)> = None;
        for e in trace.frames().iter().filter(ours) {
            let Some(seg) = e.segment.as_ref() else {
                continue;
            };
            let at = e.frame.at.0;
            if seg.dir == dir {
                if e.copy_of.is_some() || seg.payload_len == 0 {
                    continue;
                }
                let offset = u64::from(seg.rel_seq.saturating_sub(1));
                let len = u32::try_from(seg.payload_len).unwrap_or(u32::MAX);
                let end = offset + u64::from(len);
                // Below the highest byte sent: sent again. Wireshark calls some of these "out of
                // order" (sent within a round trip of the newest segment); where the sender sends
                // there is no reordering, so they are resends too.
                let resent =
                    end <= highest_sent || seg.analysis.retransmission || seg.analysis.out_of_order;
                highest_sent = highest_sent.max(end);
                if resent {
                    timed = None;
                } else if timed.is_none() {
                    timed = Some((end, at, e.number));
                }
                out.segments.push(FlightPoint {
                    frame: e.number,
                    at,
                    offset,
                    len,
                    in_flight: highest_acked.map(|a| highest_sent.saturating_sub(a)),
                    retransmission: resent,
                });
                continue;
            }
            let here = match sender_interface {
                Some(i) => e.frame.interface == i,
                None => e.copy_of.is_none(),
            };
            if !here {
                continue;
            }
            let packet = e.packet();
            let Some(tcp) = packet.tcp.as_ref() else {
                continue;
            };
            if !tcp.flags.contains(crate::dissect::TcpFlags::ACK) {
                continue;
            }
            let acked_to = u64::from(seg.rel_ack.saturating_sub(1));
            highest_acked = Some(highest_acked.map_or(acked_to, |a| a.max(acked_to)));
            let rel = |edge: u32| u64::from(edge.wrapping_sub(seg.peer_base).saturating_sub(1));
            out.acks.push(AckPoint {
                // The packet's first capture: the frame the analysis and the timeline know.
                frame: e.copy_of.unwrap_or(e.number),
                at,
                acked_to,
                window: seg.window_bytes(tcp.window),
                sacked: tcp
                    .options
                    .sack_blocks
                    .as_slice()
                    .iter()
                    .map(|&(l, r)| (rel(l), rel(r)))
                    .collect(),
            });
            let frame = e.copy_of.unwrap_or(e.number);
            if let Some(a) = seg.measures.ack_rtt.filter(|a| a.karn) {
                let sent_at = trace.frame(a.acks_frame).map_or(at, |f| f.frame.at.0);
                out.samples.push(RttSample {
                    frame,
                    acks_frame: a.acks_frame,
                    at,
                    sample_us: (at - sent_at) as f64 / 1_000.0,
                });
            }
            if let Some((_, sent_at, timed_frame)) = timed.filter(|t| acked_to >= t.0) {
                timed = None;
                let r = (at - sent_at) as f64 / 1_000.0;
                let now = Estimator::update(estimator, r);
                estimator = Some(now);
                out.rtt.push(RttPoint {
                    frame,
                    timed_frame,
                    at,
                    sample_us: r,
                    srtt_us: now.srtt_us,
                    rttvar_us: now.rttvar_us,
                    rto_us: now.rto_us(),
                });
            }
        }
        out
    }

    /// The window the throughput is averaged over: the last round trip (EstimatedRTT), at least
    /// 100 ms, so that one flight's burst does not read as the link's rate.
    pub fn throughput_window_ns(&self) -> i128 {
        self.rtt
            .last()
            .map_or(100_000_000, |r| (r.srtt_us * 1000.0) as i128)
            .max(100_000_000)
    }

    /// Throughput as the receiver acknowledged it: for each acknowledgement, the bytes
    /// acknowledged in the `window_ns` before it, in bits per second. The first `window_ns` of
    /// the transfer count over the time since its first acknowledgement.
    pub fn throughput(&self, window_ns: i128) -> Vec<(i128, f64)> {
        let mut out = Vec::with_capacity(self.acks.len());
        let mut start = 0;
        let Some(first) = self.acks.first() else {
            return out;
        };
        for (i, ack) in self.acks.iter().enumerate() {
            while self
                .acks
                .get(start)
                .is_some_and(|a| a.at <= ack.at - window_ns)
            {
                start += 1;
            }
            // The acknowledgement level just before the window opened.
            let before = start
                .checked_sub(1)
                .and_then(|j| self.acks.get(j))
                .map_or(first.acked_to, |a| a.acked_to);
            let span = (ack.at - first.at).clamp(1, window_ns.max(1));
            let bytes = ack.acked_to.saturating_sub(before);
            if i > 0 {
                out.push((ack.at, bytes as f64 * 8.0 * 1e9 / span as f64));
            }
        }
        out
    }

    /// Segments sent again (Wireshark's retransmissions and the "out of order" ones, which
    /// where the sender sends can only be resends).
    pub fn retransmissions(&self) -> usize {
        self.segments.iter().filter(|s| s.retransmission).count()
    }
}

/// The median of some numbers (the mean of the middle two for an even count), if any.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimator_follows_rfc_6298() {
        // By hand: R = 100 → SRTT 100, RTTVAR 50, RTO 300; R' = 140 → RTTVAR 0.75·50 + 0.25·40
        // = 47.5, SRTT 0.875·100 + 0.125·140 = 105, RTO 105 + 190 = 295.
        let first = Estimator::update(None, 100.0);
        assert_eq!(
            (first.srtt_us, first.rttvar_us, first.rto_us()),
            (100.0, 50.0, 300.0)
        );
        let second = Estimator::update(Some(first), 140.0);
        assert_eq!(
            (second.srtt_us, second.rttvar_us, second.rto_us()),
            (105.0, 47.5, 295.0)
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median([]), None);
    }

    #[test]
    fn throughput_over_a_window() {
        let ack = |ms: i128, to: u64| AckPoint {
            frame: 0,
            at: ms * 1_000_000,
            acked_to: to,
            window: 0,
            sacked: vec![],
        };
        let s = Series {
            acks: vec![
                ack(0, 0),
                ack(100, 125_000),
                ack(200, 250_000),
                ack(300, 375_000),
            ],
            ..Series::default()
        };
        // 125,000 bytes every 100 ms is 10 Mbit/s, whatever the window.
        for (_, bps) in s.throughput(200_000_000) {
            assert!((bps - 10e6).abs() < 1.0, "{bps}");
        }
        assert_eq!(s.throughput(200_000_000).len(), 3);
    }
}
