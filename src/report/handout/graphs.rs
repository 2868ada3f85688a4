//! A transfer's time graphs as a handout: the graphs the terminal UI draws with `t`
//! (time-sequence, round-trip time, throughput, congestion window), from the same series
//! ([`Graphs`]), each drawn as an SVG chart with the `svg` crate: axes with their units, a
//! legend, lines joined and marks as dots, in the light theme's colours.

use serde::Serialize;
use svg::node::element::{Circle, Line, Polyline, Rectangle, Text, Title};
use svg::Document;

use super::HandoutError;
use crate::journey::Trace;
use crate::ui::graphs::{visible_points, GraphKind, Graphs, GraphsError};
use crate::ui::theme::{known_rgb, Theme, ThemeName};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 320.0;
/// The plot area inside the chart.
const LEFT: f64 = 72.0;
const RIGHT: f64 = 740.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 280.0;
const FONT: &str = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

/// The graphs of one connection, as a page or SVG.
#[derive(Debug, Clone, Serialize)]
pub struct GraphsHandout {
    /// What they are of.
    pub title: String,
    /// Where they come from.
    pub source: String,
    /// Each graph: its title and its SVG.
    pub graphs: Vec<Chart>,
}

/// One graph.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// Its title.
    pub title: String,
    /// What it shows, in a sentence.
    pub about: &'static str,
    /// The SVG document.
    pub svg: String,
}

/// The connection in `trace` that carried the most bytes: the transfer.
pub fn busiest_connection(trace: &Trace) -> Option<usize> {
    let mut bytes: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for entry in trace.frames() {
        if let Some(s) = &entry.segment {
            *bytes.entry(s.stream).or_default() += entry.frame.data.len();
        }
    }
    bytes
        .into_iter()
        .max_by_key(|&(stream, n)| (n, std::cmp::Reverse(stream)))
        .map(|(stream, _)| stream)
}

impl GraphsHandout {
    /// The graphs of connection `stream` of `trace`.
    pub fn build(trace: &Trace, stream: usize, source: String) -> Result<Self, GraphsError> {
        let mut graphs = Graphs::open(trace, stream)?;
        let theme = Theme::named(ThemeName::Light);
        let span = graphs.span();
        let mut charts = Vec::new();
        for kind in GraphKind::ALL {
            graphs.kind = kind;
            let lines: Vec<Drawn> = graphs
                .lines(theme)
                .into_iter()
                .map(|(name, points, joined, style)| Drawn {
                    name,
                    points,
                    joined,
                    colour: style
                        .fg
                        .and_then(known_rgb)
                        .map_or("#1c1c1c".to_string(), |(r, g, b)| {
                            format!("#{r:02x}{g:02x}{b:02x}")
                        }),
                })
                .collect();
            charts.push(Chart {
                title: kind.title().to_string(),
                about: about(kind),
                svg: chart(kind.title(), graphs.unit(), &lines, span),
            });
        }
        let conn = trace.tcp().connection(stream);
        Ok(GraphsHandout {
            title: match conn {
                Some(c) => format!("TCP connection {} → {}", c.client, c.server),
                None => format!("TCP connection {stream}"),
            },
            source,
            graphs: charts,
        })
    }

    /// A page with every graph.
    pub fn html(&self) -> Result<String, HandoutError> {
        super::templates::render("graphs.html", self)
    }

    /// The time-sequence graph alone, as SVG.
    pub fn svg(&self) -> String {
        self.graphs
            .first()
            .map_or_else(String::new, |c| c.svg.clone())
    }
}

/// What a graph shows, for the page.
fn about(kind: GraphKind) -> &'static str {
    match kind {
        GraphKind::TimeSequence => {
            "Each data segment as a mark at the time it was sent and the byte it ends at \
             (retransmissions apart); below them the bytes acknowledged, above them the edge of \
             the receiver's window. The slope is the rate."
        }
        GraphKind::Rtt => {
            "Each SampleRTT measured on the wire (Karn's rule: never on a retransmitted segment), \
             the EstimatedRTT smoothed from them (RFC 6298), and the sender kernel's own smoothed \
             RTT (TCP_INFO, when packetpath ran the sender)."
        }
        GraphKind::Throughput => "The bytes acknowledged over the last round trip, in Mbit/s.",
        GraphKind::Window => {
            "The sender kernel's congestion window and slow start threshold (TCP_INFO), beside \
             the bytes in flight on the wire."
        }
    }
}

/// One line of a chart.
struct Drawn<'a> {
    name: &'static str,
    points: &'a [crate::ui::graphs::Point],
    joined: bool,
    colour: String,
}

/// One chart as an SVG document.
fn chart(title: &str, unit: &str, lines: &[Drawn], span: f64) -> String {
    let span = span.max(1e-3);
    // A round top (1, 2, 4 or 8 times a power of ten, over the largest value): round ticks.
    let largest = lines
        .iter()
        .flat_map(|l| l.points.iter())
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(1e-3);
    let top = round_up(largest * 1.02);
    let x = |t: f64| LEFT + t / span * (RIGHT - LEFT);
    let y = |v: f64| BOTTOM - v / top * (BOTTOM - TOP);
    let axis = "#444444";
    let mut doc = Document::new()
        .set("viewBox", (0, 0, WIDTH, HEIGHT))
        .set("width", WIDTH)
        .set("height", HEIGHT)
        .set("font-family", FONT)
        .set("font-size", 13)
        .add(Title::new(format!("{title} ({unit})")))
        .add(
            Rectangle::new()
                .set("width", WIDTH)
                .set("height", HEIGHT)
                .set("fill", "#ffffff"),
        )
        .add(
            Text::new(title)
                .set("x", LEFT)
                .set("y", 20)
                .set("font-size", 16)
                .set("font-weight", "bold")
                .set("fill", "#1c1c1c"),
        )
        .add(
            Text::new(unit)
                .set("x", 8)
                .set("y", TOP - 10.0)
                .set("fill", axis),
        );
    // Axes, and their ticks: a quarter of the range each.
    doc = doc
        .add(line((LEFT, BOTTOM), (RIGHT, BOTTOM), axis))
        .add(line((LEFT, TOP), (LEFT, BOTTOM), axis));
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let (tx, ty) = (x(f * span), y(f * top));
        doc = doc
            .add(line((tx, BOTTOM), (tx, BOTTOM + 5.0), axis))
            .add(
                Text::new(time_label(f * span, span))
                    .set("x", tx)
                    .set("y", BOTTOM + 19.0)
                    .set("text-anchor", if k == 4 { "end" } else { "middle" })
                    .set("fill", axis),
            )
            .add(line((LEFT - 5.0, ty), (LEFT, ty), axis))
            .add(
                Text::new(number(f * top))
                    .set("x", LEFT - 8.0)
                    .set("y", ty + 4.0)
                    .set("text-anchor", "end")
                    .set("fill", axis),
            );
        if k > 0 {
            doc = doc.add(line((LEFT, ty), (RIGHT, ty), "#e4e4e4"));
        }
    }
    doc = doc.add(
        Text::new("time since the connection's first frame")
            .set("x", (LEFT + RIGHT) / 2.0)
            .set("y", HEIGHT - 4.0)
            .set("text-anchor", "middle")
            .set("fill", axis),
    );
    // The lines, thinned to what the plot's pixels can show.
    let pixels = ((RIGHT - LEFT) as usize, (BOTTOM - TOP) as usize);
    let mut legend_x = LEFT + 8.0;
    for l in lines {
        let shown = visible_points(l.points, (0.0, span), top, pixels, l.joined);
        if l.joined {
            if shown.len() > 1 {
                let points = shown
                    .iter()
                    .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
                    .collect::<Vec<_>>()
                    .join(" ");
                doc = doc.add(
                    Polyline::new()
                        .set("points", points)
                        .set("fill", "none")
                        .set("stroke", l.colour.as_str())
                        .set("stroke-width", 1.6),
                );
            }
        } else {
            for &(t, v) in &shown {
                doc = doc.add(
                    Circle::new()
                        .set("cx", format!("{:.1}", x(t)))
                        .set("cy", format!("{:.1}", y(v)))
                        .set("r", 1.8)
                        .set("fill", l.colour.as_str()),
                );
            }
        }
        // The legend: a swatch and the name, left to right above the plot; "(none)" for a line
        // without points (no TCP_INFO, no retransmission).
        let label = if l.points.is_empty() {
            format!("{} (none)", l.name)
        } else {
            l.name.to_string()
        };
        doc = doc
            .add(
                Rectangle::new()
                    .set("x", legend_x)
                    .set("y", TOP - 14.0)
                    .set("width", 12)
                    .set("height", 4)
                    .set("fill", l.colour.as_str()),
            )
            .add(
                Text::new(label.as_str())
                    .set("x", legend_x + 16.0)
                    .set("y", TOP - 8.0)
                    .set("fill", "#1c1c1c"),
            );
        legend_x += 30.0 + 7.5 * label.chars().count() as f64;
    }
    if lines.iter().all(|l| l.points.is_empty()) {
        doc = doc.add(
            Text::new(
                "nothing to draw: no TCP_INFO readings in this capture (packetpath transfer records them)",
            )
            .set("x", (LEFT + RIGHT) / 2.0)
            .set("y", (TOP + BOTTOM) / 2.0)
            .set("text-anchor", "middle")
            .set("fill", axis),
        );
    }
    doc.to_string()
}

fn line((x1, y1): (f64, f64), (x2, y2): (f64, f64), colour: &str) -> Line {
    Line::new()
        .set("x1", format!("{x1:.1}"))
        .set("y1", format!("{y1:.1}"))
        .set("x2", format!("{x2:.1}"))
        .set("y2", format!("{y2:.1}"))
        .set("stroke", colour)
        .set("stroke-width", 1)
}

/// The smallest of 1, 2, 4, 8 and 10 times a power of ten that is at least `v`: a top whose
/// quarters are round numbers.
fn round_up(v: f64) -> f64 {
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 4.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&t| t >= v)
        .unwrap_or(10.0 * power)
}

/// A time tick label, in milliseconds for a graph shorter than a second.
fn time_label(t: f64, span: f64) -> String {
    if span >= 1.0 {
        format!("{t:.2} s")
    } else if span >= 0.01 {
        format!("{:.1} ms", t * 1e3)
    } else {
        format!("{:.3} ms", t * 1e3)
    }
}

/// A tick label: as few digits as the size needs.
fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
