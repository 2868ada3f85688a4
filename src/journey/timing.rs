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

use std::time::{Duration, Instant};

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

/// How much of the capture one [`SeriesBuilder::step`] may go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// About this long: the clock is read every [`STEP_FRAMES`] frames.
    Time(Duration),
    /// At most this many frames.
    Frames(usize),
}

/// Frames gone through between two looks at the clock.
pub const STEP_FRAMES: usize = 1024;

/// What receives a series as a [`SeriesBuilder`] finds it, in capture order: [`Series`] keeps
/// everything; the UI's graphs keep only the points they draw.
pub trait SeriesSink {
    /// The connection's first frame was captured at `at` (ns): called once, before the rest.
    fn start(&mut self, _at: i128) {}
    /// A frame of the connection that is its packet's first capture, at `at` (ns).
    fn frame(&mut self, _number: u32, _at: i128) {}
    /// A data segment.
    fn segment(&mut self, point: FlightPoint);
    /// An acknowledgement.
    fn ack(&mut self, point: AckPoint);
    /// A SampleRTT.
    fn sample(&mut self, sample: RttSample);
    /// The estimator after a timed segment.
    fn rtt(&mut self, point: RttPoint);
}

impl SeriesSink for Series {
    fn segment(&mut self, point: FlightPoint) {
        self.segments.push(point);
    }
    fn ack(&mut self, point: AckPoint) {
        self.acks.push(point);
    }
    fn sample(&mut self, sample: RttSample) {
        self.samples.push(sample);
    }
    fn rtt(&mut self, point: RttPoint) {
        self.rtt.push(point);
    }
}

/// Where a [`SeriesBuilder`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Looking for the sender's interface (where its first packet was captured).
    Find,
    /// Going through the connection's frames.
    Main,
    /// Finished.
    Done,
}

/// [`Series::of`] a slice of the capture at a time, so that a user interface can go on answering
/// keys while a large capture is gone through: [`SeriesBuilder::step`] goes on where the last
/// step stopped, and hands what it finds to a [`SeriesSink`].
///
/// It first looks for the sender's interface: where its first packet was captured. Its segments
/// are taken there (their copies on other links repeat them), and the acknowledgements where
/// their copies reached it: the order and times the sender's TCP saw. Then it goes through the
/// connection's frames from its first.
#[derive(Debug, Clone)]
pub struct SeriesBuilder {
    stream: usize,
    dir: Direction,
    phase: Phase,
    /// The next frame to look at (an index into the trace's frames).
    next: usize,
    /// The connection's first frame (an index), once seen.
    first: Option<usize>,
    /// Frames looked at in all.
    visited: usize,
    /// Frames looked at while finding the sender's interface.
    finding: usize,
    /// The sender's interface (`None` if it sent nothing: then first captures count).
    sender_interface: Option<u32>,
    /// The end of the highest byte sent.
    highest_sent: u64,
    /// The highest acknowledgement that reached the sender.
    highest_acked: Option<u64>,
    /// The segment being timed: where it ends, when it left, its frame.
    timed: Option<(u64, i128, u32)>,
    estimator: Option<Estimator>,
}

impl SeriesBuilder {
    /// A builder of the series of `dir` on connection `stream`, at the capture's start.
    pub fn new(stream: usize, dir: Direction) -> SeriesBuilder {
        SeriesBuilder {
            stream,
            dir,
            phase: Phase::Find,
            next: 0,
            first: None,
            visited: 0,
            finding: 0,
            sender_interface: None,
            highest_sent: 0,
            highest_acked: None,
            timed: None,
            estimator: None,
        }
    }

    /// Whether the whole capture has been gone through.
    pub fn done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// How far it got, in percent (100 once done).
    pub fn percent(&self, trace: &Trace) -> usize {
        let len = trace.frames().len();
        let total = match self.phase {
            Phase::Find => self.visited + len.saturating_sub(self.first.unwrap_or(self.next)),
            Phase::Main => self.finding + len.saturating_sub(self.first.unwrap_or(0)),
            Phase::Done => return 100,
        };
        (self.visited * 100 / total.max(1)).min(99)
    }

    /// Goes on through the capture within `budget`, handing what it finds to `sink`; true once
    /// the whole capture has been gone through (a capture that grows meanwhile is gone through
    /// as far as it was at the last step).
    pub fn step(&mut self, trace: &Trace, budget: Budget, sink: &mut impl SeriesSink) -> bool {
        let started = Instant::now();
        let mut left = match budget {
            Budget::Frames(n) => n,
            Budget::Time(_) => usize::MAX,
        };
        while self.phase != Phase::Done && left > 0 {
            let chunk = left.min(STEP_FRAMES);
            let visited = match self.phase {
                Phase::Find => self.find(trace, chunk, sink),
                _ => self.go_through(trace, chunk, sink),
            };
            left -= visited.min(left);
            if let Budget::Time(t) = budget {
                if started.elapsed() >= t {
                    break;
                }
            }
        }
        self.done()
    }

    /// The frame's segment, if it belongs to the connection.
    fn ours<'t>(&self, e: &'t crate::journey::FrameEntry) -> Option<&'t crate::flow::SegmentInfo> {
        e.segment.as_ref().filter(|s| s.stream == self.stream)
    }

    /// Looks at up to `n` frames for the sender's first packet; how many it looked at.
    fn find(&mut self, trace: &Trace, n: usize, sink: &mut impl SeriesSink) -> usize {
        let frames = trace.frames();
        let end = self.next.saturating_add(n).min(frames.len());
        let from = self.next;
        for (i, e) in frames.iter().enumerate().take(end).skip(from) {
            let Some(seg) = self.ours(e) else {
                continue;
            };
            self.first.get_or_insert(i);
            if e.copy_of.is_none() && seg.dir == self.dir {
                self.sender_interface = Some(e.frame.interface);
                self.visited += i + 1 - from;
                self.begin(trace, sink);
                return i + 1 - from;
            }
        }
        self.next = end;
        self.visited += end - from;
        if end >= frames.len() {
            self.begin(trace, sink);
        }
        end - from
    }

    /// The interface is known (or known not to be): the main pass starts at the connection's
    /// first frame.
    fn begin(&mut self, trace: &Trace, sink: &mut impl SeriesSink) {
        self.finding = self.visited;
        match self.first.and_then(|i| Some((i, trace.frames().get(i)?))) {
            Some((i, e)) => {
                self.phase = Phase::Main;
                self.next = i;
                sink.start(e.frame.at.0);
            }
            None => self.phase = Phase::Done,
        }
    }

    /// Goes through up to `n` frames; how many it went through.
    fn go_through(&mut self, trace: &Trace, n: usize, sink: &mut impl SeriesSink) -> usize {
        let frames = trace.frames();
        let from = self.next;
        let end = from.saturating_add(n).min(frames.len());
        for e in frames.get(from..end).unwrap_or_default() {
            self.visit(trace, e, sink);
        }
        self.next = end;
        self.visited += end.saturating_sub(from);
        if end >= frames.len() {
            self.phase = Phase::Done;
        }
        end.saturating_sub(from)
    }

    /// One frame of the main pass.
    fn visit(&mut self, trace: &Trace, e: &crate::journey::FrameEntry, sink: &mut impl SeriesSink) {
        let Some(seg) = self.ours(e) else {
            return;
        };
        let at = e.frame.at.0;
        if e.copy_of.is_none() {
            sink.frame(e.number, at);
        }
        if seg.dir == self.dir {
            if e.copy_of.is_some() || seg.payload_len == 0 {
                return;
            }
            let offset = u64::from(seg.rel_seq.saturating_sub(1));
            let len = u32::try_from(seg.payload_len).unwrap_or(u32::MAX);
            let end = offset + u64::from(len);
            // Below the highest byte sent: sent again. Wireshark calls some of these "out of
            // order" (sent within a round trip of the newest segment); where the sender sends
            // there is no reordering, so they are resends too.
            let resent = end <= self.highest_sent
                || seg.analysis.retransmission
                || seg.analysis.out_of_order;
            self.highest_sent = self.highest_sent.max(end);
            if resent {
                self.timed = None;
            } else if self.timed.is_none() {
                self.timed = Some((end, at, e.number));
            }
            sink.segment(FlightPoint {
                frame: e.number,
                at,
                offset,
                len,
                in_flight: self
                    .highest_acked
                    .map(|a| self.highest_sent.saturating_sub(a)),
                retransmission: resent,
            });
            return;
        }
        let here = match self.sender_interface {
            Some(i) => e.frame.interface == i,
            None => e.copy_of.is_none(),
        };
        if !here {
            return;
        }
        let packet = e.packet();
        let Some(tcp) = packet.tcp.as_ref() else {
            return;
        };
        if !tcp.flags.contains(crate::dissect::TcpFlags::ACK) {
            return;
        }
        let acked_to = u64::from(seg.rel_ack.saturating_sub(1));
        self.highest_acked = Some(self.highest_acked.map_or(acked_to, |a| a.max(acked_to)));
        let rel = |edge: u32| u64::from(edge.wrapping_sub(seg.peer_base).saturating_sub(1));
        // The packet's first capture: the frame the analysis and the timeline know.
        let frame = e.copy_of.unwrap_or(e.number);
        sink.ack(AckPoint {
            frame,
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
        if let Some(a) = seg.measures.ack_rtt.filter(|a| a.karn) {
            let sent_at = trace.frame(a.acks_frame).map_or(at, |f| f.frame.at.0);
            sink.sample(RttSample {
                frame,
                acks_frame: a.acks_frame,
                at,
                sample_us: (at - sent_at) as f64 / 1_000.0,
            });
        }
        if let Some((_, sent_at, timed_frame)) = self.timed.filter(|t| acked_to >= t.0) {
            self.timed = None;
            let r = (at - sent_at) as f64 / 1_000.0;
            let now = Estimator::update(self.estimator, r);
            self.estimator = Some(now);
            sink.rtt(RttPoint {
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
}

impl Series {
    /// The series of `dir` on connection `stream`: segments sent that way, and the other way's
    /// acknowledgements of them (a [`SeriesBuilder`] run to the end).
    pub fn of(trace: &Trace, stream: usize, dir: Direction) -> Series {
        let mut out = Series::default();
        SeriesBuilder::new(stream, dir).step(trace, Budget::Frames(usize::MAX), &mut out);
        out
    }

    /// The window the throughput is averaged over: the last round trip (EstimatedRTT), at least
    /// 100 ms, so that one flight's burst does not read as the link's rate.
    pub fn throughput_window_ns(&self) -> i128 {
        throughput_window_ns(self.rtt.last())
    }

    /// Throughput as the receiver acknowledged it: for each acknowledgement, the bytes
    /// acknowledged in the `window_ns` before it, in bits per second. The first `window_ns` of
    /// the transfer count over the time since its first acknowledgement.
    pub fn throughput(&self, window_ns: i128) -> Vec<(i128, f64)> {
        throughput(&self.acks, |a| (a.at, a.acked_to), window_ns)
    }

    /// Segments sent again (Wireshark's retransmissions and the "out of order" ones, which
    /// where the sender sends can only be resends).
    pub fn retransmissions(&self) -> usize {
        self.segments.iter().filter(|s| s.retransmission).count()
    }
}

/// [`Series::throughput_window_ns`] after the estimator point `last`.
pub fn throughput_window_ns(last: Option<&RttPoint>) -> i128 {
    last.map_or(100_000_000, |r| (r.srtt_us * 1000.0) as i128)
        .max(100_000_000)
}

/// [`Series::throughput`] of acknowledgements in capture order, each read by `level` as when it
/// was captured (ns) and the stream offset it acknowledges up to.
pub fn throughput<A>(
    acks: &[A],
    level: impl Fn(&A) -> (i128, u64),
    window_ns: i128,
) -> Vec<(i128, f64)> {
    let mut out = Vec::with_capacity(acks.len());
    let mut start = 0;
    let Some(first) = acks.first().map(&level) else {
        return out;
    };
    for (i, ack) in acks.iter().map(&level).enumerate() {
        while acks
            .get(start)
            .is_some_and(|a| level(a).0 <= ack.0 - window_ns)
        {
            start += 1;
        }
        // The acknowledgement level just before the window opened.
        let before = start
            .checked_sub(1)
            .and_then(|j| acks.get(j))
            .map_or(first.1, |a| level(a).1);
        let span = (ack.0 - first.0).clamp(1, window_ns.max(1));
        let bytes = ack.1.saturating_sub(before);
        if i > 0 {
            out.push((ack.0, bytes as f64 * 8.0 * 1e9 / span as f64));
        }
    }
    out
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

    fn sample(name: &str) -> Trace {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name);
        crate::capture::open_capture(&path, None, &mut |_, _| {})
            .expect("the sample reads")
            .0
    }

    /// Built a few frames at a time (or one chunk per step with no time to spare), the series
    /// is exactly [`Series::of`]'s: on one interface and on a path of routers (where segments
    /// and acknowledgements are taken at the sender's interface), both directions of every
    /// connection; the progress only grows and ends at 100%.
    #[test]
    fn a_series_built_in_slices_is_the_whole_ones() {
        for name in [
            "small-mss.pcapng",
            "routers-chat.pcapng",
            "tls13-chat.pcapng",
        ] {
            let trace = sample(name);
            assert!(!trace.tcp().connections().is_empty(), "{name}");
            for c in trace.tcp().connections() {
                for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                    let whole = Series::of(&trace, c.index, dir);
                    assert!(!whole.acks.is_empty(), "{name}");
                    for budget in [
                        Budget::Frames(1),
                        Budget::Frames(3),
                        Budget::Time(Duration::ZERO),
                    ] {
                        let mut builder = SeriesBuilder::new(c.index, dir);
                        let mut sliced = Series::default();
                        let (mut steps, mut percent) = (0, 0);
                        while !builder.step(&trace, budget, &mut sliced) {
                            let now = builder.percent(&trace);
                            assert!(now >= percent && now < 100, "{name}: {percent} → {now}");
                            percent = now;
                            steps += 1;
                            assert!(steps <= 2 * trace.frames().len(), "{name}: no end");
                        }
                        assert_eq!(builder.percent(&trace), 100);
                        if budget == Budget::Frames(1) {
                            assert!(steps >= trace.frames().len() / 2, "{name}: {steps} steps");
                        }
                        assert_eq!(sliced, whole, "{name}, connection {}, {dir:?}", c.index);
                    }
                }
            }
        }
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
