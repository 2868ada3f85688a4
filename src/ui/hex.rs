//! The hex pane: a frame's bytes, sixteen to a line (32 on wide screens, eight on narrow ones), each coloured by
//! the layer it belongs to, with a legend; the selected field's bytes are highlighted and a cursor
//! picks bytes (and with them, the field they belong to). In the endpoints' view the decrypted
//! plaintext of the frame's TLS records follows the frame's own bytes.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::detail::Span as Bytes;
use super::theme::{Theme, UiLayer};
use crate::dissect::Layer;
use crate::journey::{FrameEntry, StreamKind, Trace};

/// Width of the offset column ("0040  ").
const OFFSET_WIDTH: u16 = 6;

/// Columns a line of `per` bytes takes: offset, hex, a space, ASCII.
pub const fn line_width(per: u16) -> u16 {
    OFFSET_WIDTH + per * 3 + 1 + per
}

/// Bytes per line for a pane `width` columns wide: 32 on wide screens, 16, else 8.
pub fn bytes_per_line(width: u16) -> usize {
    if width >= line_width(32) {
        32
    } else if width >= line_width(16) {
        16
    } else {
        8
    }
}

/// The UI layer of every byte of a frame (TCP payload counts as TLS on a TLS connection), for
/// colouring the hex pane.
pub fn layers_of(trace: &Trace, entry: &FrameEntry) -> Vec<Option<UiLayer>> {
    let packet = entry.packet();
    let payload = match entry.segment.as_ref().map(|s| trace.stream_kind(s.stream)) {
        Some(StreamKind::Tls) => UiLayer::Tls,
        _ => UiLayer::Application,
    };
    (0..entry.frame.data.len())
        .map(|offset| {
            Some(match packet.layer_at(offset)? {
                Layer::Link => UiLayer::Link,
                Layer::Arp | Layer::Ip => UiLayer::Ip,
                Layer::Tcp | Layer::Udp | Layer::Icmp => UiLayer::Tcp,
                Layer::Payload => payload,
            })
        })
        .collect()
}

/// The bytes of frame `number` that differ in another copy of its packet on the path — a
/// segment an attacker changed in transit — as offsets in this frame (at most 16). Empty for a
/// packet that crossed the path untouched.
pub fn changed_in_transit(trace: &Trace, number: u32) -> Vec<usize> {
    let ip_end = |n: u32| {
        trace
            .frame(n)
            .and_then(|e| e.headers().ip.map(|ip| ip.header.end))
    };
    let Some(here) = ip_end(number) else {
        return Vec::new();
    };
    // The copies' checks compare each with the original: this frame's own, or the copies'.
    let checks: Vec<crate::journey::hops::HopCheck> = match trace.hop_check(number) {
        Some(own) => vec![own],
        None => trace
            .path_of(number)
            .into_iter()
            .filter(|&n| n != number)
            .filter_map(|n| trace.hop_check(n))
            .collect(),
    };
    let mut out: Vec<usize> = checks
        .iter()
        .flat_map(|c| c.changed.iter().map(|(at, _, _)| here + at))
        .collect();
    out.sort_unstable();
    out.dedup();
    out.truncate(16);
    out
}

/// The hex view of one byte string.
pub struct HexView<'a> {
    /// The bytes.
    pub data: &'a [u8],
    /// The layer of each byte (same length as `data`, `None` for bytes no layer claims).
    pub layers: &'a [Option<UiLayer>],
    /// Byte ranges to highlight (the selected field).
    pub highlight: &'a [Range<usize>],
    /// Bytes changed in transit (an attacker on the path): marked in this frame and in the
    /// packet's other copies.
    pub changed: &'a [usize],
    /// The cursor byte.
    pub cursor: Option<usize>,
    /// First line drawn (below the legend).
    pub scroll: usize,
    /// Extra lines after the bytes (decrypted plaintext).
    pub extra: Vec<Line<'a>>,
    /// Colours.
    pub theme: Theme,
}

impl HexView<'_> {
    /// The legend line: one swatch per layer present.
    fn legend(&self) -> Line<'static> {
        let mut spans = vec![Span::styled("legend: ", self.theme.dim())];
        for layer in UiLayer::ALL.iter().rev() {
            if self.layers.contains(&Some(*layer)) {
                spans.push(Span::styled(
                    format!("■ {} ", layer.title()),
                    self.theme.layer(*layer),
                ));
            }
        }
        if !self.changed.is_empty() {
            spans.push(Span::styled("■ changed in transit ", self.theme.warn()));
        }
        Line::from(spans)
    }

    fn style_of(&self, i: usize) -> Style {
        let base = match self.layers.get(i).copied().flatten() {
            Some(layer) => self.theme.layer(layer),
            None => self.theme.dim(),
        };
        if self.cursor == Some(i) {
            base.patch(self.theme.cursor())
        } else if self.highlight.iter().any(|r| r.contains(&i)) {
            base.patch(self.theme.selected())
        } else if self.changed.contains(&i) {
            self.theme.warn().patch(self.theme.selected())
        } else {
            base
        }
    }

    /// The line (after the legend) that byte `i` is on.
    pub fn line_of(i: usize, width: u16) -> usize {
        i / bytes_per_line(width)
    }

    /// The byte at screen column `x`, line `line` (after the legend), in a pane `width` wide.
    pub fn byte_at(x: u16, line: usize, width: u16) -> Option<usize> {
        let per = bytes_per_line(width);
        let x = x.checked_sub(OFFSET_WIDTH)? as usize;
        let hex_end = per * 3;
        let col = if x < hex_end {
            x / 3
        } else {
            let ascii = x.checked_sub(hex_end + 1)?;
            if ascii >= per {
                return None;
            }
            ascii
        };
        Some(line * per + col)
    }
}

impl HexView<'_> {
    /// Line `line` of the dump (bytes `line * per ..`): offset, hex, ASCII.
    pub fn line(&self, line: usize, per: usize) -> Line<'static> {
        let start = line * per;
        let end = (start + per).min(self.data.len());
        let mut spans = vec![Span::styled(format!("{start:04x}  "), self.theme.dim())];
        for i in start..start + per {
            match self.data.get(i) {
                Some(b) if i < end => {
                    spans.push(Span::styled(format!("{b:02x}"), self.style_of(i)));
                    spans.push(Span::raw(" "));
                }
                _ => spans.push(Span::raw("   ")),
            }
        }
        spans.push(Span::raw(" "));
        for i in start..end {
            let b = self.data.get(i).copied().unwrap_or(b'.');
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            spans.push(Span::styled(c.to_string(), self.style_of(i)));
        }
        Line::from(spans)
    }

    /// Every line of the dump, `per` bytes a line (no legend).
    pub fn all_lines(&self, per: usize) -> Vec<Line<'static>> {
        (0..self.data.len().div_ceil(per))
            .map(|l| self.line(l, per))
            .collect()
    }
}

impl Widget for HexView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.height == 0 {
            return;
        }
        let per = bytes_per_line(area.width);
        let mut lines = vec![self.legend()];
        let total_lines = self.data.len().div_ceil(per);
        let rows = area.height.saturating_sub(1) as usize;
        let below = |shown: usize| {
            (total_lines + self.extra.len()).saturating_sub(self.scroll.min(total_lines) + shown)
        };
        // When not everything fits, the last row says how much is below.
        let shown = if below(rows) > 0 {
            rows.saturating_sub(1)
        } else {
            rows
        };
        for line in self.scroll..(self.scroll + shown).min(total_lines) {
            lines.push(self.line(line, per));
        }
        let room = shown.saturating_sub(lines.len() - 1);
        let hidden = below(shown);
        lines.extend(self.extra.into_iter().take(room));
        if hidden > 0 && rows > 0 {
            lines.push(Line::from(Span::styled(
                format!("↓ {hidden} more lines"),
                self.theme.dim(),
            )));
        }
        for (y, line) in lines.into_iter().enumerate() {
            if y as u16 >= area.height {
                break;
            }
            buf.set_line(area.x, area.y + y as u16, &line, area.width);
        }
    }
}

/// The bytes of record `r`'s plaintext (offsets into it) that a field at `spans` covers: the
/// text's encrypted counterparts travel byte for byte (AEAD), so each byte of the field over
/// them stands for the plaintext byte it hides. Empty for a record without application text.
pub fn plaintext_highlight(trace: &Trace, r: usize, spans: &[Bytes]) -> Vec<Range<usize>> {
    let (Some(rec), Some(text)) = (trace.record(r), trace.record_text(r)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Each stream byte has one carrier, so the pieces come in stream order without overlap.
    let mut at = 0;
    for (frame, piece) in trace.stream_spans(rec.stream, rec.dir, text) {
        for (f, sel) in spans {
            let (start, end) = (sel.start.max(piece.start), sel.end.min(piece.end));
            if *f == frame && start < end {
                out.push(at + start - piece.start..at + end - piece.start);
            }
        }
        at += piece.len();
    }
    out
}

/// The decrypted plaintext of the records a frame completes, as extra hex lines; the bytes of
/// the selected field (`selected`, its spans: the text's, or a part of it) highlighted as in
/// the dump above.
pub fn plaintext_lines(
    trace: &Trace,
    entry: &FrameEntry,
    theme: Theme,
    width: u16,
    selected: &[Bytes],
) -> Vec<Line<'static>> {
    let per = bytes_per_line(width);
    let style = theme.layer(UiLayer::Application);
    let lit = style.patch(theme.selected());
    let mut out = Vec::new();
    for r in entry.records.clone() {
        let Some(rec) = trace.record(r) else {
            continue;
        };
        let Some(p) = &rec.info.decrypted else {
            continue;
        };
        out.push(Line::from(Span::styled(
            format!(
                "decrypted {} ({} B), what the endpoints see:",
                p.content_type, p.len
            ),
            style,
        )));
        let Some(data) = trace.plaintext(rec) else {
            out.push(Line::from(crate::report::NOT_REOPENED));
            continue;
        };
        let highlight = plaintext_highlight(trace, r, selected);
        let style_of = |i: usize| {
            if highlight.iter().any(|h| h.contains(&i)) {
                lit
            } else {
                style
            }
        };
        const MOST: usize = 8;
        let lines = data.len().div_ceil(per);
        for (k, chunk) in data.chunks(per).enumerate().take(MOST) {
            let mut spans = vec![Span::styled(format!("{:04x}  ", k * per), style)];
            for (j, b) in chunk.iter().enumerate() {
                spans.push(Span::styled(format!("{b:02x}"), style_of(k * per + j)));
                spans.push(Span::styled(" ", style));
            }
            spans.push(Span::raw(" ".repeat((per - chunk.len()) * 3 + 1)));
            for (j, &b) in chunk.iter().enumerate() {
                let c = if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                };
                spans.push(Span::styled(c.to_string(), style_of(k * per + j)));
            }
            out.push(Line::from(spans));
        }
        if lines > MOST {
            out.push(Line::from(Span::styled(
                format!(
                    "… {} more bytes of it (press f for the whole stream)",
                    data.len() - MOST * per
                ),
                theme.dim(),
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    #[test]
    fn a_byte_changed_in_transit_is_marked_in_both_copies() {
        let segment = |payload: &[u8], interface: u32, at: i128| {
            let builder =
                etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                    .ipv4([10, 73, 1, 1], [10, 73, 2, 2], 64)
                    .tcp(40000, 8443, 1000, 64000)
                    .ack(7);
            let mut data = Vec::new();
            builder.write(&mut data, payload).expect("a frame");
            crate::frame::Frame {
                at: crate::frame::Timestamp(at),
                link: crate::frame::LinkType::Ethernet,
                orig_len: data.len() as u32,
                interface,
                data: data.into(),
            }
        };
        let mut trace = Trace::new();
        trace.set_interface_names(vec!["client-eth0".into(), "r1-eth0".into()]);
        trace.push_frame(segment(b"hi there\n", 0, 1_000));
        trace.push_frame(segment(b"Hi there\n", 1, 2_000));
        assert_eq!(
            trace.frame(2).and_then(|e| e.copy_of),
            Some(1),
            "an altered copy"
        );
        // Ethernet 14 + IPv4 20 + TCP 20: the letter is byte 54 of both frames.
        let (before, after) = (changed_in_transit(&trace, 1), changed_in_transit(&trace, 2));
        assert!(before.contains(&54), "{before:?}");
        assert_eq!(before, after);
        // Nothing else than the letter and the TCP checksum (bytes 50 and 51).
        assert!(
            before.iter().all(|&i| i == 54 || i == 50 || i == 51),
            "{before:?}"
        );
        // An untouched packet marks nothing.
        let mut plain = Trace::new();
        plain.set_interface_names(vec!["client-eth0".into(), "r1-eth0".into()]);
        plain.push_frame(segment(b"hi there\n", 0, 1_000));
        plain.push_frame(segment(b"hi there\n", 1, 2_000));
        assert!(changed_in_transit(&plain, 1).is_empty());
        assert!(changed_in_transit(&plain, 2).is_empty());
    }

    #[test]
    fn a_fields_bytes_are_highlighted_and_no_others() {
        // 20 bytes: 4 of link header, 8 of IP, 8 of TCP; the field is bytes 6..8 (in IP).
        let data: Vec<u8> = (0u8..20).collect();
        let field = 6..8;
        let mut layers = vec![Some(UiLayer::Link); 4];
        layers.extend([Some(UiLayer::Ip); 8]);
        layers.extend([Some(UiLayer::Tcp); 8]);
        let view = HexView {
            data: &data,
            layers: &layers,
            highlight: std::slice::from_ref(&field),
            changed: &[],
            cursor: None,
            scroll: 0,
            extra: Vec::new(),
            theme: Theme::colored(),
        };
        let area = Rect::new(0, 0, 80, 4);
        let mut buf = Buffer::empty(area);
        view.render(area, &mut buf);
        // Line 1 (after the legend) holds bytes 0..16: byte i's two hex digits at 6 + 3i.
        for i in 0..16u16 {
            let cell = &buf[(OFFSET_WIDTH + 3 * i, 1)];
            let lit = cell.modifier.contains(Modifier::REVERSED);
            assert_eq!(lit, (6..8).contains(&i), "byte {i}: {:?}", cell.symbol());
        }
        assert_eq!(buf[(OFFSET_WIDTH + 3 * 6, 1)].symbol(), "0");
        assert_eq!(buf[(OFFSET_WIDTH + 3 * 6 + 1, 1)].symbol(), "6");
        // Colours follow the layer of each byte.
        let colour = |l: UiLayer| Theme::colored().palette.layers[l.index()];
        assert_eq!(buf[(OFFSET_WIDTH, 1)].fg, colour(UiLayer::Link));
        assert_eq!(buf[(OFFSET_WIDTH + 3 * 4, 1)].fg, colour(UiLayer::Ip));
        assert_eq!(buf[(OFFSET_WIDTH + 3 * 12, 1)].fg, colour(UiLayer::Tcp));
        // The legend names the layers present.
        let legend: String = (0..80).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        assert!(
            legend.contains("■ Link") && legend.contains("■ TCP"),
            "{legend}"
        );
        assert!(!legend.contains("TLS"), "{legend}");
    }

    #[test]
    fn clicks_map_back_to_bytes() {
        assert_eq!(HexView::byte_at(OFFSET_WIDTH, 0, 80), Some(0));
        assert_eq!(HexView::byte_at(OFFSET_WIDTH + 3 * 5 + 1, 2, 80), Some(37));
        // In the ASCII column.
        assert_eq!(HexView::byte_at(OFFSET_WIDTH + 48 + 1 + 3, 0, 80), Some(3));
        assert_eq!(HexView::byte_at(2, 0, 80), None);
    }
}
