//! The encapsulation diagram as an SVG image, built with the `svg` crate (which escapes text and
//! attribute values): one box per layer, each inside the box of the layer below it, the frame
//! outermost, labelled with the unit's size and what the layer adds.

use svg::node::element::{Rectangle, Text, Title};
use svg::Document;

use super::Handout;

const WIDTH: u32 = 760;
const MARGIN: u32 = 10;
/// How far each box sits inside the one around it: its label above, a margin at the sides and
/// below.
const LABEL: u32 = 34;
const SIDE: u32 = 16;
const BELOW: u32 = 10;
/// The innermost box's height.
const INNER: u32 = 44;
const FONT: &str = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

/// The SVG document.
pub(super) fn render(handout: &Handout) -> String {
    let n = handout.boxes.len() as u32;
    let height = 2 * MARGIN + n.saturating_sub(1) * (LABEL + BELOW) + INNER.max(LABEL);
    let mut doc = Document::new()
        .set("viewBox", (0, 0, WIDTH, height))
        .set("width", WIDTH)
        .set("height", height)
        .set("font-family", FONT)
        .add(Title::new(format!(
            "{}: how each layer wraps the one above it",
            handout.title
        )));
    let colour = |layer: &str| {
        handout
            .colours
            .iter()
            .find(|c| c.layer == layer)
            .map_or(("#000000".to_string(), "#ffffff".to_string()), |c| {
                (c.colour.clone(), c.tint.clone())
            })
    };
    for (i, b) in handout.boxes.iter().enumerate() {
        let i = i as u32;
        let x = MARGIN + i * SIDE;
        let y = MARGIN + i * LABEL;
        let w = WIDTH.saturating_sub(2 * x);
        let h = height.saturating_sub(y + MARGIN + i * BELOW);
        let (stroke, fill) = colour(b.layer);
        doc = doc
            .add(
                Rectangle::new()
                    .set("x", x)
                    .set("y", y)
                    .set("width", w)
                    .set("height", h)
                    .set("rx", 6)
                    .set("fill", fill)
                    .set("stroke", stroke.clone())
                    .set("stroke-width", 3),
            )
            .add(
                Text::new(format!("{} · {} · {}", b.title, b.size, b.adds))
                    .set("x", x + 10)
                    .set("y", y + 23)
                    .set("font-size", 17)
                    .set("font-weight", "bold")
                    .set("fill", stroke),
            );
    }
    doc.to_string()
}
