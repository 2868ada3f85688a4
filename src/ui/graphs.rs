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
use crate::chat::{ConnId, Side};
use crate::flow::Direction;
use crate::journey::timing::{
    self, AckPoint, Budget, FlightPoint, RttPoint, RttSample, SeriesBuilder, SeriesSink,
};
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
    /// Every graph, in the order Tab goes through them.
    pub const ALL: [GraphKind; 4] = [
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
/// A point of a graph: seconds, value, and the frame it comes from.
pub type Point = (f64, f64, u32);

/// One line of a graph as drawn: its name, the points in the range shown, whether they are
/// joined, its style.
type Shown = (&'static str, Vec<(f64, f64)>, bool, Style);

/// The graphs of one direction of one connection, and where the user is looking.
#[derive(Debug, Clone, PartialEq)]
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
    /// The lines taken from the wire.
    wire: WireLines,
    kernel_srtt: Vec<Point>,
    throughput: Vec<Point>,
    cwnd: Vec<Point>,
    ssthresh: Vec<Point>,
}

/// The graphs' lines that come from the capture as the series is found (the kernel's lines and
/// the throughput are added when it is complete).
#[derive(Debug, Clone, Default, PartialEq)]
struct WireLines {
    segments: Vec<Point>,
    resent: Vec<Point>,
    sacked: Vec<Point>,
    acks: Vec<Point>,
    window_edge: Vec<Point>,
    samples: Vec<Point>,
    srtt: Vec<Point>,
    in_flight: Vec<Point>,
}

impl WireLines {
    /// Gives back the room the vectors were given up front.
    fn shrink_to_fit(&mut self) {
        for v in [
            &mut self.segments,
            &mut self.resent,
            &mut self.sacked,
            &mut self.acks,
            &mut self.window_edge,
            &mut self.samples,
            &mut self.srtt,
            &mut self.in_flight,
        ] {
            v.shrink_to_fit();
        }
    }
}

fn secs(at: i128, t0: i128) -> f64 {
    (at - t0) as f64 / 1e9
}

/// Why a connection has no graphs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphsError {
    /// The trace has no TCP connection of that index.
    #[error("no TCP connection {0}")]
    NoConnection(usize),
    /// The connection has no frames.
    #[error("connection {0} has no frames")]
    NoFrames(usize),
}

/// The connection's frame nearest each of the kernel's samples, found as the frames go by (the
/// frames of several interfaces are not in time order): between two samples' times, the
/// latest and the earliest frame; then, for each sample, the latest frame at or before it and
/// the earliest at or after it. Ties go to the earlier frame.
#[derive(Debug, Clone, Default)]
struct Nearest {
    /// The samples' times, sorted.
    at: Vec<i128>,
    /// For each sample, the latest frame (time, number) not after it: at first only those after
    /// the sample before it.
    below: Vec<Option<(i128, u32)>>,
    /// For each sample, the earliest frame not before it: at first only those before the next.
    above: Vec<Option<(i128, u32)>>,
}

impl Nearest {
    fn new(mut at: Vec<i128>) -> Nearest {
        at.sort_unstable();
        Nearest {
            below: vec![None; at.len()],
            above: vec![None; at.len()],
            at,
        }
    }

    /// Frame `number`, captured at `t`.
    fn frame(&mut self, number: u32, t: i128) {
        if self.at.is_empty() {
            return;
        }
        // The samples from `p` on are at or after it.
        let p = self.at.partition_point(|&s| s < t);
        if let Some(b) = self.below.get_mut(p) {
            if b.is_none_or(|(bt, bn)| t > bt || (t == bt && number < bn)) {
                *b = Some((t, number));
            }
        }
        // The samples before `q` are at or before it.
        let q = self.at.partition_point(|&s| s <= t);
        if let Some(a) = q.checked_sub(1).and_then(|i| self.above.get_mut(i)) {
            if a.is_none_or(|(at, an)| t < at || (t == at && number < an)) {
                *a = Some((t, number));
            }
        }
    }

    /// Every frame has been seen: each sample's candidates from all frames before and after.
    fn resolve(&mut self) {
        for i in 1..self.below.len() {
            let (before, here) = (self.below[i - 1], self.below[i]);
            if let Some((t, n)) = before {
                if here.is_none_or(|(ht, hn)| t > ht || (t == ht && n < hn)) {
                    self.below[i] = before;
                }
            }
        }
        for i in (0..self.above.len().saturating_sub(1)).rev() {
            let (after, here) = (self.above[i + 1], self.above[i]);
            if let Some((t, n)) = after {
                if here.is_none_or(|(ht, hn)| t < ht || (t == ht && n < hn)) {
                    self.above[i] = after;
                }
            }
        }
    }

    /// The frame nearest a sample taken at `at` (0 if the connection has none).
    fn of(&self, at: i128) -> u32 {
        let i = self.at.partition_point(|&s| s < at);
        let below = self.below.get(i).copied().flatten();
        let above = self.above.get(i).copied().flatten();
        match (below, above) {
            (Some((bt, bn)), Some((ht, hn))) => {
                let (b, h) = (at - bt, ht - at);
                if b < h || (b == h && bn < hn) {
                    bn
                } else {
                    hn
                }
            }
            (Some((_, n)), None) | (None, Some((_, n))) => n,
            (None, None) => 0,
        }
    }
}

/// The points of the graphs from the wire, made as the series is found ([`SeriesSink`]): the
/// series itself is not kept.
#[derive(Debug, Clone, Default)]
struct Points {
    /// When the connection's first frame was captured, once known.
    first: Option<i128>,
    /// The lines, as far as made.
    wire: WireLines,
    /// Each acknowledgement's time and level, for the throughput.
    levels: Vec<(i128, u64)>,
    /// The estimator's last point (the throughput's window).
    last_rtt: Option<RttPoint>,
    nearest: Nearest,
}

impl Points {
    fn t(&self, at: i128) -> f64 {
        secs(at, self.first.unwrap_or(at))
    }
}

fn kb(bytes: f64) -> f64 {
    bytes / 1000.0
}

impl SeriesSink for Points {
    fn start(&mut self, at: i128) {
        self.first = Some(at);
    }

    fn frame(&mut self, number: u32, at: i128) {
        self.nearest.frame(number, at);
    }

    fn segment(&mut self, s: FlightPoint) {
        let t = self.t(s.at);
        let p = (t, kb((s.offset + u64::from(s.len)) as f64), s.frame);
        if s.retransmission {
            self.wire.resent.push(p);
        } else {
            self.wire.segments.push(p);
        }
        if let Some(b) = s.in_flight {
            self.wire.in_flight.push((t, kb(b as f64), s.frame));
        }
    }

    fn ack(&mut self, a: AckPoint) {
        let t = self.t(a.at);
        self.wire.acks.push((t, kb(a.acked_to as f64), a.frame));
        // What the receiver reports holding beyond the acknowledgement (SACK, RFC 2018): the
        // edges of each block, above the ACK line.
        for &(left, right) in &a.sacked {
            self.wire.sacked.push((t, kb(left as f64), a.frame));
            self.wire.sacked.push((t, kb(right as f64), a.frame));
        }
        self.wire
            .window_edge
            .push((t, kb((a.acked_to + u64::from(a.window)) as f64), a.frame));
        self.levels.push((a.at, a.acked_to));
    }

    fn sample(&mut self, r: RttSample) {
        self.wire
            .samples
            .push((self.t(r.at), r.sample_us / 1000.0, r.frame));
    }

    fn rtt(&mut self, r: RttPoint) {
        self.wire
            .srtt
            .push((self.t(r.at), r.srtt_us / 1000.0, r.frame));
        self.last_rtt = Some(r);
    }
}

/// The graphs of a connection being made, a slice of the capture at a time
/// ([`GraphsJob::step`]), so that the screen goes on answering keys meanwhile.
#[derive(Debug, Clone)]
pub struct GraphsJob {
    stream: usize,
    dir: Direction,
    conn: ConnId,
    sender: Side,
    builder: SeriesBuilder,
    points: Points,
    percent: usize,
}

impl GraphsJob {
    /// Starts making the graphs of connection `stream`, or says why there are none.
    pub fn start(trace: &Trace, stream: usize) -> Result<GraphsJob, GraphsError> {
        let conn = trace
            .tcp()
            .connection(stream)
            .ok_or(GraphsError::NoConnection(stream))?;
        // The direction that carried more bytes.
        let dir = if conn.delivered_len(Direction::ServerToClient)
            > conn.delivered_len(Direction::ClientToServer)
        {
            Direction::ServerToClient
        } else {
            Direction::ClientToServer
        };
        let sender = match dir {
            Direction::ClientToServer => Side::Client,
            Direction::ServerToClient => Side::Server,
        };
        // Room for a point per segment the sender delivered (a vector that grows copies itself:
        // milliseconds at a million points, in one slice).
        let delivered = conn.carriers(dir).len();
        let conn = ConnId {
            client: conn.client,
            server: conn.server,
        };
        let kernel = trace
            .tcp_info()
            .iter()
            .filter(|s| s.side == sender && s.conn == conn)
            .map(|s| s.at)
            .collect();
        Ok(GraphsJob {
            stream,
            dir,
            conn,
            sender,
            builder: SeriesBuilder::new(stream, dir),
            points: Points {
                wire: WireLines {
                    segments: Vec::with_capacity(delivered),
                    in_flight: Vec::with_capacity(delivered),
                    ..WireLines::default()
                },
                nearest: Nearest::new(kernel),
                ..Points::default()
            },
            percent: 0,
        })
    }

    /// The connection.
    pub fn stream(&self) -> usize {
        self.stream
    }

    /// How far it got, in percent.
    pub fn percent(&self) -> usize {
        self.percent
    }

    /// Goes on within `budget`; the graphs (or why there are none) once done.
    pub fn step(&mut self, trace: &Trace, budget: Budget) -> Option<Result<Graphs, GraphsError>> {
        let done = self.builder.step(trace, budget, &mut self.points);
        self.percent = self.builder.percent(trace);
        done.then(|| self.finish(trace))
    }

    /// The series is complete: the throughput, the kernel's lines, the range.
    fn finish(&mut self, trace: &Trace) -> Result<Graphs, GraphsError> {
        let mut p = std::mem::take(&mut self.points);
        let first = p.first.ok_or(GraphsError::NoFrames(self.stream))?;
        let t = |at: i128| secs(at, first);
        // Bytes acknowledged over the last round trip, at least 100 ms.
        let window_ns = timing::throughput_window_ns(p.last_rtt.as_ref());
        let levels = std::mem::take(&mut p.levels);
        let throughput = timing::throughput(&levels, |l| *l, window_ns)
            .into_iter()
            .enumerate()
            .map(|(i, (at, bps))| {
                let frame = p.wire.acks.get(i + 1).map_or(0, |a| a.2);
                (t(at), bps / 1e6, frame)
            })
            .collect();
        drop(levels);
        p.nearest.resolve();
        let (mut kernel_srtt, mut cwnd, mut ssthresh) = (Vec::new(), Vec::new(), Vec::new());
        for s in trace
            .tcp_info()
            .iter()
            .filter(|s| s.side == self.sender && s.conn == self.conn && s.at >= first)
        {
            let frame = p.nearest.of(s.at);
            kernel_srtt.push((t(s.at), f64::from(s.rtt_us) / 1000.0, frame));
            cwnd.push((t(s.at), kb(s.cwnd_bytes() as f64), frame));
            if let Some(b) = s.ssthresh_bytes() {
                ssthresh.push((t(s.at), kb(b as f64), frame));
            }
        }
        let mut g = Graphs {
            stream: self.stream,
            dir: self.dir,
            kind: GraphKind::TimeSequence,
            from: 0.0,
            to: 0.0,
            cursor: 0.0,
            span: 0.0,
            wire: p.wire,
            kernel_srtt,
            throughput,
            cwnd,
            ssthresh,
        };
        g.wire.shrink_to_fit();
        g.span = [&g.wire.segments, &g.wire.acks, &g.cwnd]
            .iter()
            .filter_map(|v| v.last().map(|p| p.0))
            .fold(0.0, f64::max)
            .max(0.001);
        g.to = g.span;
        Ok(g)
    }
}

impl Graphs {
    /// The graphs of connection `stream` in `trace`, or why there are none (a [`GraphsJob`] run
    /// to the end).
    pub fn open(trace: &Trace, stream: usize) -> Result<Graphs, GraphsError> {
        let mut job = GraphsJob::start(trace, stream)?;
        loop {
            if let Some(graphs) = job.step(trace, Budget::Frames(usize::MAX)) {
                return graphs;
            }
        }
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
            GraphKind::TimeSequence => &self.wire.segments,
            GraphKind::Rtt => &self.wire.samples,
            GraphKind::Throughput => &self.throughput,
            GraphKind::Window if !self.cwnd.is_empty() => &self.cwnd,
            GraphKind::Window => &self.wire.in_flight,
        }
    }

    /// The lines of the graph shown: (name, points, drawn as a line, style).
    /// The lines of the graph shown: name, points (seconds, value, frame), whether the points
    /// are joined (a line) or not (marks), and the style drawn with. The handouts draw the same.
    pub fn lines(&self, theme: Theme) -> Vec<(&'static str, &[Point], bool, Style)> {
        let l = |layer| theme.layer(layer);
        match self.kind {
            GraphKind::TimeSequence => vec![
                ("window edge", &self.wire.window_edge[..], true, theme.dim()),
                ("acknowledged", &self.wire.acks[..], true, l(UiLayer::Ip)),
                ("segment", &self.wire.segments[..], false, l(UiLayer::Tcp)),
                ("retransmission", &self.wire.resent[..], false, theme.warn()),
                (
                    "SACK block",
                    &self.wire.sacked[..],
                    false,
                    l(UiLayer::Application),
                ),
            ],
            GraphKind::Rtt => vec![
                ("SampleRTT", &self.wire.samples[..], false, l(UiLayer::Tcp)),
                ("EstimatedRTT", &self.wire.srtt[..], true, l(UiLayer::Ip)),
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
                ("in flight", &self.wire.in_flight[..], false, l(UiLayer::Ip)),
            ],
        }
    }

    /// The unit of the graph shown's vertical axis.
    pub fn unit(&self) -> &'static str {
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
        let lines = self.lines(theme);
        let top = lines
            .iter()
            .flat_map(|(_, pts, _, _)| pts.iter())
            .filter(|p| p.0 >= self.from && p.0 <= self.to)
            .map(|p| p.1)
            .fold(0.0, f64::max)
            .max(1e-3)
            * 1.05;
        // Only the points that show are handed to the chart (Braille: 2 × 4 dots a cell), so
        // drawing takes the same time for any size of capture.
        let grid = Grid {
            from: self.from,
            to: self.to,
            columns: usize::from(chart_area.width) * 2,
            top,
            rows: usize::from(chart_area.height) * 4,
        };
        let visible: Vec<Shown> = lines
            .into_iter()
            .map(|(name, pts, line, style)| (name, thin(pts, &grid, line), line, style))
            .collect();
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

impl Graphs {
    /// The whole time range, seconds from the connection's first frame.
    pub fn span(&self) -> f64 {
        self.span
    }
}

/// The points of `pts` between `from` and `to` seconds that a chart of `columns` × `rows` dots
/// (values from 0 to `top`) can show (see [`thin`]): what the handouts' SVG graphs draw, so that a
/// graph of a million segments stays a small file.
pub fn visible_points(
    pts: &[Point],
    (from, to): (f64, f64),
    top: f64,
    (columns, rows): (usize, usize),
    line: bool,
) -> Vec<(f64, f64)> {
    thin(
        pts,
        &Grid {
            from,
            to,
            columns,
            top,
            rows,
        },
        line,
    )
}

/// The dots of a chart: its x range over `columns` dots, its y range (0 to `top`) over `rows`.
struct Grid {
    from: f64,
    to: f64,
    columns: usize,
    top: f64,
    rows: usize,
}

impl Grid {
    fn column(&self, x: f64) -> usize {
        (((x - self.from) / (self.to - self.from).max(f64::MIN_POSITIVE)) * self.columns as f64)
            as usize
    }

    fn row(&self, y: f64) -> usize {
        ((y / self.top.max(f64::MIN_POSITIVE)) * self.rows as f64) as usize
    }
}

/// The points of `pts` in the grid's x range that the chart shows. A scatter: one point per dot
/// it lights. A line: per dot column its first, lowest, highest and last point, in order — the
/// same path. Either way as many as the chart has dots, whatever the size of the capture.
fn thin(pts: &[Point], grid: &Grid, line: bool) -> Vec<(f64, f64)> {
    let inside = pts.iter().filter(|p| p.0 >= grid.from && p.0 <= grid.to);
    if !line {
        // One flag per dot (a few tens of thousands): cheaper than hashing each point.
        let (columns, rows) = (grid.columns + 1, grid.rows + 1);
        let mut lit = vec![false; columns * rows];
        return inside
            .filter(|p| {
                let at = grid.column(p.0).min(columns - 1) * rows + grid.row(p.1).min(rows - 1);
                lit.get_mut(at)
                    .is_some_and(|dot| !std::mem::replace(dot, true))
            })
            .map(|p| (p.0, p.1))
            .collect();
    }
    let mut out = Vec::new();
    // The column being gathered: its first, lowest, highest and last points.
    let mut column: Option<(usize, [(f64, f64); 4])> = None;
    let flush = |out: &mut Vec<(f64, f64)>, picks: [(f64, f64); 4]| {
        let [first, low, high, last] = picks;
        let mut middle = [low, high];
        middle.sort_by(|a, b| a.0.total_cmp(&b.0));
        for p in [first, middle[0], middle[1], last] {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
    };
    for p in inside {
        let (c, here) = (grid.column(p.0), (p.0, p.1));
        match &mut column {
            Some((at, picks)) if *at == c => {
                if here.1 < picks[1].1 {
                    picks[1] = here;
                }
                if here.1 > picks[2].1 {
                    picks[2] = here;
                }
                picks[3] = here;
            }
            _ => {
                if let Some((_, picks)) = column.take() {
                    flush(&mut out, picks);
                }
                column = Some((c, [here; 4]));
            }
        }
    }
    if let Some((_, picks)) = column {
        flush(&mut out, picks);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_what_the_chart_shows() {
        let grid = Grid {
            from: 0.0,
            to: 999.0,
            columns: 10,
            top: 101.0,
            rows: 8,
        };
        // A line of 1,000 points over 10 columns: at most 4 a column, the extremes kept.
        let pts: Vec<Point> = (0..1000)
            .map(|i| (f64::from(i), f64::from((i * 37) % 101), i as u32))
            .collect();
        let shown = thin(&pts, &grid, true);
        assert!(shown.len() <= 4 * 11, "{}", shown.len());
        assert_eq!(shown.first(), Some(&(0.0, 0.0)));
        assert_eq!(shown.last(), Some(&(999.0, f64::from((999 * 37) % 101))));
        assert_eq!(shown.iter().map(|p| p.1).fold(0.0, f64::max), 100.0);
        assert!(shown.windows(2).all(|w| w[0].0 <= w[1].0), "in order");
        // A scatter: one point per dot lit, every dot still lit.
        let dots = thin(&pts, &grid, false);
        let lit = |v: &[(f64, f64)]| {
            v.iter()
                .map(|p| (grid.column(p.0), grid.row(p.1)))
                .collect::<std::collections::HashSet<_>>()
        };
        let all: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(lit(&dots), lit(&all));
        assert_eq!(dots.len(), lit(&all).len());
        // Outside the range nothing; a few points pass whole.
        let later = Grid {
            from: 2000.0,
            to: 3000.0,
            ..grid
        };
        assert!(thin(&pts, &later, true).is_empty());
        let few: Vec<Point> = vec![(1.0, 5.0, 1), (200.0, 6.0, 2)];
        assert_eq!(thin(&few, &grid, true), vec![(1.0, 5.0), (200.0, 6.0)]);
    }

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
        assert!(!g.wire.segments.is_empty() && !g.wire.acks.is_empty());
        // Offsets only grow along the acknowledgement line.
        assert!(
            g.wire.acks.windows(2).all(|w| w[1].1 >= w[0].1),
            "{:?}",
            g.wire.acks
        );
        assert_eq!(Graphs::open(&trace, 99), Err(GraphsError::NoConnection(99)));
    }

    /// Made a few frames a turn, the graphs are those made at once, and the progress grows.
    #[test]
    fn graphs_made_in_slices_are_those_made_at_once() {
        let trace = small_mss();
        let whole = Graphs::open(&trace, 0).expect("graphs");
        let mut job = GraphsJob::start(&trace, 0).expect("a job");
        let (mut turns, mut percent) = (0, 0);
        let sliced = loop {
            if let Some(done) = job.step(&trace, Budget::Frames(2)) {
                break done.expect("graphs");
            }
            assert!(job.percent() >= percent && job.percent() < 100);
            percent = job.percent();
            turns += 1;
        };
        assert!(turns >= trace.frames().len() / 2, "{turns} turns");
        assert_eq!(sliced, whole);
        assert_eq!(
            GraphsJob::start(&trace, 99).map(|_| ()),
            Err(GraphsError::NoConnection(99))
        );
    }

    /// The frame nearest each kernel sample, found as the frames go by in any time order, is the
    /// first (in frame order) of those nearest in time, as a search of them all finds it.
    #[test]
    fn the_nearest_frame_to_each_sample() {
        // Frames of two interfaces, out of time order, with equal times and equal distances.
        let frames: Vec<(u32, i128)> = [50, 10, 30, 30, 70, 20, 90, 60, 40, 100, 10, 75]
            .into_iter()
            .enumerate()
            .map(|(i, t)| (i as u32 + 1, t))
            .collect();
        let samples = [
            0, 5, 10, 15, 25, 30, 35, 45, 55, 65, 72, 80, 95, 100, 120, 35,
        ];
        let mut nearest = Nearest::new(samples.to_vec());
        for &(n, t) in &frames {
            nearest.frame(n, t);
        }
        nearest.resolve();
        for s in samples {
            let searched = frames
                .iter()
                .min_by_key(|(_, t)| (t - s).abs())
                .map_or(0, |(n, _)| *n);
            assert_eq!(nearest.of(s), searched, "sample at {s}");
        }
        assert_eq!(Nearest::new(vec![5]).of(5), 0);
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
