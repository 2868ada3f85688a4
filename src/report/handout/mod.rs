//! Handouts: the journey of one message, or one frame, as a page to print, project or share.
//!
//! One description, [`Handout`], is built from the terminal UI's own view model
//! ([`Detail`]: the encapsulation strip, the layer columns, every field with the bytes it
//! occupies, and each byte's layer), and three renderers draw it: a self-contained HTML page
//! ([`HandoutFormat::Html`]), the encapsulation diagram as SVG ([`HandoutFormat::Svg`]) and
//! Markdown ([`HandoutFormat::Markdown`]). Nothing is dissected again here, so a number on a
//! handout is the number on the screen.

pub mod graphs;
pub mod lesson;
mod markdown;
mod svg;
mod templates;

use serde::Serialize;

use crate::journey::Trace;
use crate::ui::detail::{Detail, Item, Subject};
use crate::ui::index::Names;
use crate::ui::theme::{known_rgb, UiLayer, LIGHT};

/// The formats a handout comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HandoutFormat {
    /// One self-contained page (no fetches: styles and script inline) with the encapsulation
    /// diagram, every field, and the frame's bytes coloured by layer; point at a field to see
    /// its bytes. Prints on A4 and Letter.
    Html,
    /// The encapsulation diagram alone, as an SVG image (slides, worksheets).
    Svg,
    /// The diagram and the fields as Markdown (a wiki, a course page, a lab report).
    Markdown,
}

impl HandoutFormat {
    /// Draws `handout` in this format.
    pub fn render(self, handout: &Handout) -> Result<String, HandoutError> {
        match self {
            HandoutFormat::Html => templates::render("handout.html", handout),
            HandoutFormat::Svg => Ok(svg::render(handout)),
            HandoutFormat::Markdown => markdown::render(handout),
        }
    }
}

/// What can go wrong drawing a handout.
#[derive(Debug, thiserror::Error)]
pub enum HandoutError {
    /// A template built into packetpath did not render (a bug).
    #[error("the handout's template did not render: {0}")]
    Template(#[from] minijinja::Error),
}

/// Everything a handout shows, in the order it shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Handout {
    /// What this is: "the message "hi\n", client → server" or "frame #5".
    pub title: String,
    /// Where it comes from: the command or file, the transport, the link.
    pub source: String,
    /// The encapsulation diagram, outermost box (the frame) first.
    pub boxes: Vec<LayerBox>,
    /// The layer columns, Application first; empty layers are left out.
    pub columns: Vec<Column>,
    /// The frames that carried it, each byte with its layer and its narrowest field.
    pub frames: Vec<HexFrame>,
    /// For TLS: each record's ciphertext beside the plaintext it decrypts to.
    pub records: Vec<RecordPair>,
    /// On a path of routers: the (first) packet on every link it crossed.
    pub hops: Option<Hops>,
    /// The layers' colours, as the light theme draws them.
    pub colours: Vec<LayerColour>,
}

/// One box of the encapsulation diagram: a layer's unit, with what the layer itself adds.
#[derive(Debug, Clone, Serialize)]
pub struct LayerBox {
    /// The layer's key (`app`, `tls`, `tcp`, `ip`, `link`), for its colour.
    pub layer: &'static str,
    /// The column's title ("TLS", "TCP", "UDP").
    pub title: String,
    /// The unit and its size, as the UI's strip says it ("30 B TLS record").
    pub size: String,
    /// What this layer adds ("+22 B"), or the text's own size for the application.
    pub adds: String,
}

/// One layer column.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// The layer's key.
    pub layer: &'static str,
    /// Its title.
    pub title: String,
    /// Its own bytes ("+20 B").
    pub adds: String,
    /// Its lines.
    pub rows: Vec<Row>,
}

/// One line of a column.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Row {
    /// A sub-heading ("frame #12", "record 2").
    Heading {
        /// The text.
        text: String,
    },
    /// A header field.
    Field {
        /// Its id in the page (`f3`), shared with its bytes.
        id: String,
        /// Its name.
        name: String,
        /// Its value as shown.
        value: String,
        /// What it means, for a student.
        meaning: String,
        /// Where its bytes are: "frame #5, bytes 34–35".
        bytes: String,
    },
    /// A remark.
    Note {
        /// The text.
        text: String,
    },
}

/// One frame's bytes, sixteen to a line.
#[derive(Debug, Clone, Serialize)]
pub struct HexFrame {
    /// Its number in the capture.
    pub number: u32,
    /// Its length in bytes.
    pub len: usize,
    /// The lines.
    pub lines: Vec<HexLine>,
}

/// Sixteen bytes of a frame.
#[derive(Debug, Clone, Serialize)]
pub struct HexLine {
    /// The offset of the first, in hex ("0010").
    pub offset: String,
    /// The bytes.
    pub bytes: Vec<HexByte>,
}

/// One byte of a frame.
#[derive(Debug, Clone, Serialize)]
pub struct HexByte {
    /// Two hex digits.
    pub hex: String,
    /// The layer whose header or data it is (its key), empty if none.
    pub layer: &'static str,
    /// The fields it belongs to, narrowest first, space-separated (`f3 f2`); empty if none.
    pub fields: String,
}

/// A TLS record as it crossed the wire and as the endpoint read it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordPair {
    /// "record 1 (frame #5): application_data, 30 B".
    pub heading: String,
    /// The encrypted body (after the 5-byte header), in hex.
    pub ciphertext: String,
    /// The plaintext, in hex.
    pub plaintext_hex: String,
    /// The plaintext as text, when it is text (UTF-8, printable but for line breaks and tabs):
    /// a handshake message or an alert is shown in hex only.
    pub plaintext_text: Option<String>,
}

/// One packet on every link of a path of routers, as the UI's path view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Hops {
    /// The frame of the packet's first copy.
    pub frame: u32,
    /// The stops along the path: node, and the time there.
    pub stops: Vec<HopStop>,
    /// The table's column titles.
    pub columns: Vec<&'static str>,
    /// One row per copy, in path order.
    pub rows: Vec<Vec<HopCell>>,
    /// Whether the bytes above IP crossed untouched, in a sentence.
    pub verdict: String,
    /// True if they did.
    pub identical: bool,
    /// What a changed cell means.
    pub changed: &'static str,
}

/// A stop of the path.
#[derive(Debug, Clone, Serialize)]
pub struct HopStop {
    /// The node.
    pub node: String,
    /// "at 0.003501 s" at the first stop, "+0.005 ms" (since the stop before) at the others.
    pub time: String,
}

/// One cell of the hop table.
#[derive(Debug, Clone, Serialize)]
pub struct HopCell {
    /// Its text.
    pub text: String,
    /// True if it changed since the link before.
    pub changed: bool,
}

/// A layer's colour.
#[derive(Debug, Clone, Serialize)]
pub struct LayerColour {
    /// The layer's key.
    pub layer: &'static str,
    /// Its colour, `#rrggbb`.
    pub colour: String,
    /// A pale tint of it for backgrounds, `#rrggbb`.
    pub tint: String,
}

/// The key a layer goes by in pages and stylesheets.
pub fn layer_key(layer: UiLayer) -> &'static str {
    match layer {
        UiLayer::Application => "app",
        UiLayer::Tls => "tls",
        UiLayer::Tcp => "tcp",
        UiLayer::Ip => "ip",
        UiLayer::Link => "link",
    }
}

const BYTES_PER_LINE: usize = 16;

impl Handout {
    /// The handout of `subject` in `trace`, as the endpoints see it (decrypted where the keys
    /// allow). `source` says where it comes from.
    pub fn build(trace: &Trace, subject: Subject, source: String) -> Handout {
        let mut names = Names::default();
        names.learn(trace.app_events());
        let detail = Detail::build(trace, &names, subject, true);
        let field_id = |i: usize| format!("f{i}");
        let present: Vec<UiLayer> = UiLayer::ALL
            .into_iter()
            .filter(|l| {
                !detail.columns[l.index()].is_empty() || detail.strip.iter().any(|(s, _)| s == l)
            })
            .collect();
        let boxes = detail
            .strip
            .iter()
            .rev()
            .map(|(layer, size)| LayerBox {
                layer: layer_key(*layer),
                title: detail.title(*layer).to_string(),
                size: size.clone(),
                adds: detail.bytes[layer.index()].clone(),
            })
            .collect();
        let columns = present
            .iter()
            .map(|&layer| Column {
                layer: layer_key(layer),
                title: detail.title(layer).to_string(),
                adds: detail.bytes[layer.index()].clone(),
                rows: detail.columns[layer.index()]
                    .iter()
                    .filter_map(|item| match item {
                        Item::Heading(text) => Some(Row::Heading { text: text.clone() }),
                        Item::Note(text) => Some(Row::Note { text: text.clone() }),
                        Item::Field(i) => detail.fields.get(*i).map(|f| Row::Field {
                            id: field_id(*i),
                            name: f.name.clone(),
                            value: f.value.clone(),
                            meaning: f.meaning.clone(),
                            bytes: where_bytes(&f.spans),
                        }),
                    })
                    .collect(),
            })
            .collect();
        let frames = detail
            .frames
            .iter()
            .filter_map(|&n| trace.frame(n))
            .map(|entry| {
                let layers = crate::ui::hex::layers_of(trace, entry);
                let data = &entry.frame.data;
                let lines = data
                    .chunks(BYTES_PER_LINE)
                    .enumerate()
                    .map(|(line, chunk)| HexLine {
                        offset: format!("{:04x}", line * BYTES_PER_LINE),
                        bytes: chunk
                            .iter()
                            .enumerate()
                            .map(|(i, b)| {
                                let at = line * BYTES_PER_LINE + i;
                                HexByte {
                                    hex: format!("{b:02x}"),
                                    layer: layers.get(at).copied().flatten().map_or("", layer_key),
                                    fields: detail
                                        .fields_at(entry.number, at)
                                        .into_iter()
                                        .map(field_id)
                                        .collect::<Vec<_>>()
                                        .join(" "),
                                }
                            })
                            .collect(),
                    })
                    .collect();
                HexFrame {
                    number: entry.number,
                    len: data.len(),
                    lines,
                }
            })
            .collect();
        Handout {
            title: detail.title.clone(),
            source,
            boxes,
            columns,
            frames,
            records: record_pairs(trace, subject, &detail),
            hops: detail.frames.first().and_then(|&n| hops(trace, n)),
            colours: UiLayer::ALL
                .into_iter()
                .map(|layer| {
                    let rgb = known_rgb(LIGHT.layers[layer.index()]).unwrap_or((0, 0, 0));
                    LayerColour {
                        layer: layer_key(layer),
                        colour: css_hex(rgb),
                        tint: css_hex(tint(rgb)),
                    }
                })
                .collect(),
        }
    }
}

/// Frame `n`'s packet on every link of its path; `None` if it was seen on one link only.
fn hops(trace: &Trace, n: u32) -> Option<Hops> {
    let copies = crate::ui::hops::copies(trace, n);
    let first = copies.first()?;
    let t0 = trace.first_time().map_or(0, |t| t.0);
    let (verdict, identical) = crate::ui::hops::verdict(trace, &copies);
    let mut rows = Vec::new();
    let mut previous = None;
    for c in &copies {
        let cells =
            crate::ui::hops::cells(c, previous, previous.map(|p: &crate::ui::hops::Copy| p.at));
        rows.push(
            cells
                .into_iter()
                .map(|(text, changed)| HopCell { text, changed })
                .collect(),
        );
        previous = Some(c);
    }
    Some(Hops {
        frame: first.frame,
        stops: crate::ui::hops::stops(&copies, t0)
            .into_iter()
            .map(|s| HopStop {
                node: s.node,
                time: s.at.or(s.after).unwrap_or_default(),
            })
            .collect(),
        columns: crate::ui::strings::PATH_COLUMNS.to_vec(),
        rows,
        verdict,
        identical,
        changed: crate::ui::strings::PATH_CHANGED,
    })
}

/// "frame #5, bytes 34–35", for each frame a field's bytes are in.
fn where_bytes(spans: &[crate::ui::detail::Span]) -> String {
    spans
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(n, r)| {
            if r.len() == 1 {
                format!("frame #{n}, byte {}", r.start)
            } else {
                format!("frame #{n}, bytes {}–{}", r.start, r.end - 1)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The TLS records of the subject, each ciphertext beside its plaintext.
fn record_pairs(trace: &Trace, subject: Subject, detail: &Detail) -> Vec<RecordPair> {
    let records: Vec<&crate::journey::RecordEntry> = match subject {
        Subject::Message(i) => trace
            .app_events()
            .get(i)
            .and_then(|e| trace.journey(e))
            .map(|j| j.records)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| trace.record(r))
            .collect(),
        Subject::Frame(..) => detail
            .frames
            .iter()
            .filter_map(|&n| trace.frame(n))
            .flat_map(|e| trace.records_of(e))
            .collect(),
    };
    records
        .iter()
        .enumerate()
        .filter_map(|(k, rec)| {
            let plaintext = trace.plaintext(rec)?;
            let body = rec.stream_range.start + 5..rec.stream_range.end;
            let ciphertext = trace.stream_bytes(rec.stream, rec.dir, body)?;
            Some(RecordPair {
                heading: format!(
                    "record {} (ends in frame #{}): {} B on the wire, {} B of plaintext",
                    k + 1,
                    rec.frame,
                    rec.stream_range.end - rec.stream_range.start,
                    plaintext.len()
                ),
                ciphertext: spaced_hex(&ciphertext),
                plaintext_hex: spaced_hex(&plaintext),
                plaintext_text: as_text(&plaintext),
            })
        })
        .collect()
}

/// `bytes` as text if they are text: UTF-8 with no control character but line breaks and tabs
/// (shown escaped, as the UI shows them); at most [`SHOWN_TEXT`] characters.
fn as_text(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .then(|| crate::report::quoted(bytes, SHOWN_TEXT))
}

/// The most bytes of a record shown in hex, and characters as text: a page, not a dump.
const SHOWN_BYTES: usize = 256;
const SHOWN_TEXT: usize = 256;

/// Hex, a space between bytes; after [`SHOWN_BYTES`], how many more there are.
fn spaced_hex(bytes: &[u8]) -> String {
    let mut out = bytes
        .iter()
        .take(SHOWN_BYTES)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    if bytes.len() > SHOWN_BYTES {
        out.push_str(&format!(" … ({} more bytes)", bytes.len() - SHOWN_BYTES));
    }
    out
}

fn css_hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The colour mixed with nine parts of white: a background dark text stays readable on.
fn tint((r, g, b): (u8, u8, u8)) -> (u8, u8, u8) {
    let mix = |c: u8| ((u16::from(c) + 9 * 255) / 10) as u8;
    (mix(r), mix(g), mix(b))
}

#[cfg(test)]
mod tests;
