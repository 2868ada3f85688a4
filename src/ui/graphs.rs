//! The time graphs of one TCP connection, full screen (`t`): what Wireshark draws in its Stevens,
//! round-trip-time and throughput windows, from the wire ([`crate::journey::timing`]), and beside
//! them what the sender's kernel believed (TCP_INFO, [`crate::tcpinfo`]), which no capture tool
//! can show.
//!
//! - **Time-sequence (Stevens)**: a mark per data segment at its time and the stream offset it
//!   ends at (resends marked apart), the acknowledgement line below them, the edges of the
//!   blocks the receiver reports in SACK options (RFC 2018) above it, and the receive window's
//!   edge above all (acknowledged + advertised window).
//! - **Round-trip time**: each SampleRTT (Karn's rule), EstimatedRTT (RFC 6298 SRTT), and the
//!   kernel's smoothed RTT.
//! - **Throughput**: the bytes acknowledged over the last round trip (at least 100 ms), in Mbit/s.
//! - **Window**: the kernel's congestion window and slow-start threshold, and the bytes in
//!   flight on the wire, in kilobytes.
//!
//! ←/→ move the cursor, +/- zoom around it, Tab the next graph, Enter selects the frame under
//! the cursor in the timeline.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph};
use ratatui::Frame;

use super::theme::{Theme, UiLayer};
use crate::chat::Side;
use crate::flow::Direction;
use crate::journey::timing::Series;
use crate::journey::Trace;

/// Which graph is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphKind {
    /// Sequence offsets over time (Stevens).
    TimeSequence,
    /// Round-trip times.
    Rtt,
    /// Throughput.
    Throughput,
    /// Congestion window, slow-start threshold, bytes in flight.
    Window,
}

impl GraphKind {
    const ALL: [GraphKind; 4] = [
        GraphKind::TimeSequence,
        GraphKind::Rtt,
        GraphKind::Throughput,
        GraphKind::Window,
    ];

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            GraphKind::TimeSequence => "time-sequence (Stevens)",
            GraphKind::Rtt => "round-trip time",
            GraphKind::Throughput => "throughput",
            GraphKind::Window => "congestion window",
        }
    }

    fn step(self, d: isize) -> GraphKind {
        let i = GraphKind::ALL.iter().position(|k| *k == self).unwrap_or(0) as isize;
        let n = GraphKind::ALL.len() as isize;
        GraphKind::ALL[((i + d).rem_euclid(n)) as usize]
    }
}

/// A point: seconds since the connection's first frame, a value, and the frame it came from.
type Point = (f64, f64, u32);

/// One line of a graph as drawn: its name, the points in the range shown, whether they are
/// joined, its style.
type Shown = (&'static str, Vec<(f64, f64)>, bool, Style);

/// The graphs of one direction of one connection, and where the user is looking.
#[derive(Debug, Clone)]
pub struct Graphs {
    /// The connection.
    pub stream: usize,
    /// The direction whose data is drawn (the one that carried more bytes).
    pub dir: Direction,
    /// The graph shown.
    pub kind: GraphKind,
    /// The time range shown, seconds.
    pub from: f64,
    /// Its end.
    pub to: f64,
    /// The cursor, seconds.
    pub cursor: f64,
    /// The whole time range.
    span: f64,
    segments: Vec<Point>,
    resent: Vec<Point>,
    sacked: Vec<Point>,
    acks: Vec<Point>,
    window_edge: Vec<Point>,
    samples: Vec<Point>,
    srtt: Vec<Point>,
    kernel_srtt: Vec<Point>,
    throughput: Vec<Point>,
    cwnd: Vec<Point>,
    ssthresh: Vec<Point>,
    in_flight: Vec<Point>,
}

fn secs(at: i128, t0: i128) -> f64 {
    (at - t0) as f64 / 1e9
}

impl Graphs {
    /// The graphs of connection `stream` in `trace`, or why there are none.
    pub fn open(trace: &Trace, stream: usize) -> Result<Graphs, String> {
        let conn = trace
            .tcp()
            .connection(stream)
            .ok_or_else(|| format!("no TCP connection {stream}"))?;
        let dir = if conn.delivered_len(Direction::ServerToClient)
            > conn.delivered_len(Direction::ClientToServer)
        {
            Direction::ServerToClient
        } else {
            Direction::ClientToServer
        };
        let (client, server) = (conn.client, conn.server);
        let series = Series::of(trace, stream, dir);
        let first = trace
            .frames()
            .iter()
            .find(|e| e.segment.as_ref().is_some_and(|s| s.stream == stream))
            .map(|e| e.frame.at.0)
            .ok_or_else(|| format!("connection {stream} has no frames"))?;
        let t = |at: i128| secs(at, first);
        let kb = |bytes: f64| bytes / 1000.0;
        let mut g = Graphs {
            stream,
            dir,
            kind: GraphKind::TimeSequence,
            from: 0.0,
            to: 0.0,
            cursor: 0.0,
            span: 0.0,
            segments: Vec::new(),
            resent: Vec::new(),
            sacked: Vec::new(),
            acks: Vec::new(),
            window_edge: Vec::new(),
            samples: Vec::new(),
            srtt: Vec::new(),
            kernel_srtt: Vec::new(),
            throughput: Vec::new(),
            cwnd: Vec::new(),
            ssthresh: Vec::new(),
            in_flight: Vec::new(),
        };
        for s in &series.segments {
            let p = (t(s.at), kb((s.offset + u64::from(s.len)) as f64), s.frame);
            if s.retransmission {
                g.resent.push(p);
            } else {
                g.segments.push(p);
            }
            if let Some(b) = s.in_flight {
                g.in_flight.push((t(s.at), kb(b as f64), s.frame));
            }
        }
        for a in &series.acks {
            g.acks.push((t(a.at), kb(a.acked_to as f64), a.frame));
            // What the receiver reports holding beyond the acknowledgement (SACK, RFC 2018): the
            // edges of each block, above the ACK line.
            for &(left, right) in &a.sacked {
                g.sacked.push((t(a.at), kb(left as f64), a.frame));
                g.sacked.push((t(a.at), kb(right as f64), a.frame));
            }
            g.window_edge.push((
                t(a.at),
                kb((a.acked_to + u64::from(a.window)) as f64),
                a.frame,
            ));
        }
        for r in &series.samples {
            g.samples.push((t(r.at), r.sample_us / 1000.0, r.frame));
        }
        for r in &series.rtt {
            g.srtt.push((t(r.at), r.srtt_us / 1000.0, r.frame));
        }
        // Bytes acknowledged over the last round trip, at least 100 ms.
        let window_ns = series.throughput_window_ns();
        for (i, (at, bps)) in series.throughput(window_ns).into_iter().enumerate() {
            let frame = series.acks.get(i + 1).map_or(0, |a| a.frame);
            g.throughput.push((t(at), bps / 1e6, frame));
        }
        let sender = match dir {
            Direction::ClientToServer => Side::Client,
            Direction::ServerToClient => Side::Server,
        };
        // The connection's frame nearest a moment (frames of several interfaces are not in
        // time order, so no binary search).
        let ours: Vec<(i128, u32)> = trace
            .frames()
            .iter()
            .filter(|e| {
                e.copy_of.is_none() && e.segment.as_ref().is_some_and(|s| s.stream == stream)
            })
            .map(|e| (e.frame.at.0, e.number))
            .collect();
        let nearest = |at: i128| {
            ours.iter()
                .min_by_key(|(t, _)| (t - at).abs())
                .map_or(0, |(_, n)| *n)
        };
        for s in trace.tcp_info().iter().filter(|s| {
            s.side == sender && s.conn.client == client && s.conn.server == server && s.at >= first
        }) {
            let frame = nearest(s.at);
            g.kernel_srtt
                .push((t(s.at), f64::from(s.rtt_us) / 1000.0, frame));
            g.cwnd.push((t(s.at), kb(s.cwnd_bytes() as f64), frame));
            if let Some(b) = s.ssthresh_bytes() {
                g.ssthresh.push((t(s.at), kb(b as f64), frame));
            }
        }
        g.span = [&g.segments, &g.acks, &g.cwnd]
            .iter()
            .filter_map(|v| v.last().map(|p| p.0))
            .fold(0.0, f64::max)
            .max(0.001);
        g.to = g.span;
        Ok(g)
    }

    /// The next (`1`) or previous (`-1`) graph.
    pub fn turn(&mut self, d: isize) {
        self.kind = self.kind.step(d);
    }

    /// Moves the cursor by a twentieth of the range shown, panning when it leaves it.
    pub fn move_cursor(&mut self, d: isize) {
        let width = self.to - self.from;
        self.cursor = (self.cursor + d as f64 * width / 20.0).clamp(0.0, self.span);
        if self.cursor < self.from {
            self.from = self.cursor;
            self.to = self.from + width;
        } else if self.cursor > self.to {
            self.to = self.cursor;
            self.from = self.to - width;
        }
    }

    /// Zooms in (`factor` < 1) or out around the cursor.
    pub fn zoom(&mut self, factor: f64) {
        let width = ((self.to - self.from) * factor).clamp(self.span / 1000.0, self.span);
        let left = (self.cursor - self.from) / (self.to - self.from).max(f64::MIN_POSITIVE);
        self.from = (self.cursor - left * width).clamp(0.0, self.span - width);
        self.to = self.from + width;
    }

    /// The frame of the shown graph's point nearest the cursor.
    pub fn frame_at_cursor(&self) -> Option<u32> {
        self.main_points()
            .iter()
            .filter(|p| p.2 != 0)
            .min_by(|a, b| {
                (a.0 - self.cursor)
                    .abs()
                    .total_cmp(&(b.0 - self.cursor).abs())
            })
            .map(|p| p.2)
    }

    fn main_points(&self) -> &[Point] {
        match self.kind {
            GraphKind::TimeSequence => &self.segments,
            GraphKind::Rtt => &self.samples,
            GraphKind::Throughput => &self.throughput,
            GraphKind::Window if !self.cwnd.is_empty() => &self.cwnd,
            GraphKind::Window => &self.in_flight,
        }
    }

    /// The lines of the graph shown: (name, points, drawn as a line, style).
    fn lines(&self, theme: Theme) -> Vec<(&'static str, &[Point], bool, Style)> {
        let l = |layer| theme.layer(layer);
        match self.kind {
            GraphKind::TimeSequence => vec![
                ("window edge", &self.window_edge[..], true, theme.dim()),
                ("acknowledged", &self.acks[..], true, l(UiLayer::Ip)),
                ("segment", &self.segments[..], false, l(UiLayer::Tcp)),
                ("retransmission", &self.resent[..], false, theme.warn()),
                (
                    "SACK block",
                    &self.sacked[..],
                    false,
                    l(UiLayer::Application),
                ),
            ],
            GraphKind::Rtt => vec![
                ("SampleRTT", &self.samples[..], false, l(UiLayer::Tcp)),
                ("EstimatedRTT", &self.srtt[..], true, l(UiLayer::Ip)),
                (
                    "kernel srtt",
                    &self.kernel_srtt[..],
                    true,
                    l(UiLayer::Application),
                ),
            ],
            GraphKind::Throughput => vec![("Mbit/s", &self.throughput[..], true, l(UiLayer::Tcp))],
            GraphKind::Window => vec![
                ("cwnd", &self.cwnd[..], true, l(UiLayer::Tcp)),
                ("ssthresh", &self.ssthresh[..], true, theme.warn()),
                ("in flight", &self.in_flight[..], false, l(UiLayer::Ip)),
            ],
        }
    }

    fn unit(&self) -> &'static str {
        match self.kind {
            GraphKind::TimeSequence => "kB sent",
            GraphKind::Rtt => "ms",
            GraphKind::Throughput => "Mbit/s",
            GraphKind::Window => "kB",
        }
    }

    /// Draws the graph shown, with a line saying where the cursor is and what the keys do.
    pub fn render(&self, f: &mut Frame, area: Rect, block: Block, theme: Theme) {
        let inner = block.inner(area);
        // Over the panes: nothing of them may show through where the chart draws nothing.
        f.render_widget(ratatui::widgets::Clear, area);
        f.render_widget(block, area);
        if inner.height < 4 || inner.width < 20 {
            return;
        }
        let (chart_area, info_area) = (
            Rect {
                height: inner.height - 1,
                ..inner
            },
            Rect {
                y: inner.y + inner.height - 1,
                height: 1,
                ..inner
            },
        );
        let visible: Vec<Shown> = self
            .lines(theme)
            .into_iter()
            .map(|(name, pts, line, style)| {
                let shown = pts
                    .iter()
                    .filter(|p| p.0 >= self.from && p.0 <= self.to)
                    .map(|p| (p.0, p.1))
                    .collect();
                (name, shown, line, style)
            })
            .collect();
        let top = visible
            .iter()
            .flat_map(|(_, pts, _, _)| pts.iter().map(|p| p.1))
            .fold(0.0, f64::max)
            .max(1e-3)
            * 1.05;
        let cursor = [(self.cursor, 0.0), (self.cursor, top)];
        let mut datasets: Vec<Dataset> = visible
            .iter()
            .map(|(name, pts, line, style)| {
                Dataset::default()
                    .name(*name)
                    .marker(if *line { Marker::Braille } else { Marker::Dot })
                    .graph_type(if *line {
                        GraphType::Line
                    } else {
                        GraphType::Scatter
                    })
                    .style(*style)
                    .data(pts)
            })
            .collect();
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.cursor())
                .data(&cursor),
        );
        let x_labels =
            [self.from, (self.from + self.to) / 2.0, self.to].map(|s| format!("{s:.3} s"));
        let y_labels = [0.0, top / 2.0, top].map(|v| format!("{v:.1}"));
        let chart = Chart::new(datasets)
            .style(theme.base())
            .legend_position(Some(LegendPosition::TopLeft))
            .hidden_legend_constraints((
                ratatui::layout::Constraint::Percentage(60),
                ratatui::layout::Constraint::Percentage(60),
            ))
            .x_axis(
                Axis::default()
                    .title("time")
                    .style(theme.dim())
                    .bounds([self.from, self.to])
                    .labels(x_labels),
            )
            .y_axis(
                Axis::default()
                    .title(self.unit())
                    .style(theme.dim())
                    .bounds([0.0, top])
                    .labels(y_labels),
            );
        f.render_widget(chart, chart_area);
        let empty = visible.iter().all(|(_, pts, _, _)| pts.is_empty());
        let info = if empty && self.kind == GraphKind::Window {
            "no TCP_INFO samples: the kernel's view comes with `packetpath transfer`".to_string()
        } else {
            format!(
                "cursor {:.3} s{} · ←/→ cursor · +/- zoom · Tab graph · Enter select",
                self.cursor,
                self.frame_at_cursor()
                    .map_or_else(String::new, |n| format!(" (frame #{n})"))
            )
        };
        f.render_widget(
            Paragraph::new(Line::from(info)).style(theme.dim()),
            info_area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_mss() -> Trace {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/small-mss.pcapng");
        crate::capture::open_capture(&path, None, &mut |_, _| {})
            .expect("the sample reads")
            .0
    }

    #[test]
    fn graphs_of_a_connection_follow_its_segments() {
        let trace = small_mss();
        let g = Graphs::open(&trace, 0).expect("connection 0 has graphs");
        // The direction that carried more bytes is drawn (here the server's: it relays the
        // client's 3,000-byte line back, with its own lines around it).
        let c = trace.tcp().connection(0).expect("connection 0");
        assert!(c.delivered_len(g.dir) >= c.delivered_len(Direction::ClientToServer));
        assert_eq!(g.dir, Direction::ServerToClient);
        assert!(!g.segments.is_empty() && !g.acks.is_empty());
        // Offsets only grow along the acknowledgement line.
        assert!(g.acks.windows(2).all(|w| w[1].1 >= w[0].1), "{:?}", g.acks);
        assert!(Graphs::open(&trace, 99).is_err());
    }

    #[test]
    fn the_cursor_pans_and_zooms_within_the_capture() {
        let trace = small_mss();
        let mut g = Graphs::open(&trace, 0).expect("graphs");
        let span = g.span;
        g.zoom(0.5);
        assert!((g.to - g.from - span / 2.0).abs() < 1e-9);
        for _ in 0..100 {
            g.move_cursor(1);
        }
        assert!((g.cursor - span).abs() < 1e-9 && (g.to - span).abs() < 1e-9);
        for _ in 0..100 {
            g.move_cursor(-1);
        }
        assert!(g.cursor == 0.0 && g.from == 0.0);
        g.zoom(100.0);
        assert!(g.from == 0.0 && (g.to - span).abs() < 1e-9);
        assert!(g.frame_at_cursor().is_some());
        g.turn(1);
        assert_eq!(g.kind, GraphKind::Rtt);
        g.turn(-2);
        assert_eq!(g.kind, GraphKind::Window);
    }
}
