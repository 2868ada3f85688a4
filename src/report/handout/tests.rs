//! Handouts of the sample captures: every renderer, every reference between a field and its
//! bytes, and nothing the page would fetch.

use std::path::Path;

use super::*;
use crate::capture::open_capture;

fn sample(name: &str) -> Trace {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    open_capture(&path, None, &mut |_, _| {}).unwrap().0
}

/// The first message the client wrote after naming itself: a chat line.
fn a_chat_line(trace: &Trace) -> usize {
    trace
        .app_events()
        .iter()
        .position(|e| {
            e.side == crate::chat::Side::Client
                && e.dir == crate::chat::Direction::Write
                && !e.bytes.starts_with(b"/name")
        })
        .unwrap()
}

#[test]
fn a_tls_message_has_every_layer_its_bytes_and_both_sides_of_its_record() {
    let trace = sample("tls13-chat.pcapng");
    let h = Handout::build(&trace, Subject::Message(a_chat_line(&trace)), "test".into());
    let boxes: Vec<&str> = h.boxes.iter().map(|b| b.layer).collect();
    assert_eq!(
        boxes,
        ["link", "ip", "tcp", "tls", "app"],
        "outermost first"
    );
    assert!(!h.frames.is_empty());
    assert!(!h.records.is_empty(), "the record, decrypted");
    for r in &h.records {
        assert_ne!(r.ciphertext, r.plaintext_hex);
    }
    // Every byte that names a field names one the columns list, and every field has bytes.
    let ids: Vec<&str> = h
        .columns
        .iter()
        .flat_map(|c| &c.rows)
        .filter_map(|r| match r {
            Row::Field { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let byte_fields: Vec<&str> = h
        .frames
        .iter()
        .flat_map(|f| &f.lines)
        .flat_map(|l| &l.bytes)
        .map(|b| b.field.as_str())
        .filter(|f| !f.is_empty())
        .collect();
    assert!(byte_fields.iter().all(|f| ids.contains(f)));
    for layer in ["link", "ip", "tcp"] {
        assert!(
            h.frames
                .iter()
                .flat_map(|f| &f.lines)
                .flat_map(|l| &l.bytes)
                .any(|b| b.layer == layer),
            "some bytes are {layer}'s"
        );
    }
}

#[test]
fn the_page_fetches_nothing_and_escapes_what_it_shows() {
    let trace = sample("tls13-chat.pcapng");
    let mut h = Handout::build(&trace, Subject::Message(a_chat_line(&trace)), "test".into());
    h.title = "<script>alert(1)</script> & \"quotes\"".into();
    let page = HandoutFormat::Html.render(&h).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script>alert"), "values are escaped");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    for fetch in ["src=", "href=", "url(", "@import", "http://", "https://"] {
        assert!(!page.contains(fetch), "the page holds {fetch}");
    }
    // Every byte that points at a field points at a row of the page.
    let body = page.split("<script>").next().unwrap();
    for id in body
        .split("data-f=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} has a row");
    }
}

#[test]
fn the_svg_is_one_box_per_layer_and_reads_back() {
    let trace = sample("tls12-chat.pcapng");
    let h = Handout::build(&trace, Subject::Frame(5, None), "test".into());
    let svg = HandoutFormat::Svg.render(&h).unwrap();
    let mut rects = 0;
    let mut texts = 0;
    for event in ::svg::read(&svg).unwrap() {
        if let ::svg::parser::Event::Tag(name, ::svg::node::element::tag::Type::Start, _)
        | ::svg::parser::Event::Tag(name, ::svg::node::element::tag::Type::Empty, _) = event
        {
            rects += usize::from(name == "rect");
            texts += usize::from(name == "text");
        }
    }
    assert_eq!(rects, h.boxes.len());
    assert_eq!(texts, h.boxes.len());
}

#[test]
fn markdown_tables_keep_their_columns() {
    let trace = sample("plain-chat.pcapng");
    let mut h = Handout::build(&trace, Subject::Message(a_chat_line(&trace)), "test".into());
    // A value with the characters that would break a table or a code span.
    if let Some(Row::Field { value, meaning, .. }) = h
        .columns
        .iter_mut()
        .flat_map(|c| c.rows.iter_mut())
        .find(|r| matches!(r, Row::Field { .. }))
    {
        *value = "a|b`c".into();
        *meaning = "x | y\nz".into();
    }
    let md = HandoutFormat::Markdown.render(&h).unwrap();
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| layer"))
    {
        // Cells are split at the `|` not escaped by a backslash.
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 5 || cells == 4, "{line}");
    }
    assert!(md.contains("`` a\\|b`c ``"), "{md}");
}
