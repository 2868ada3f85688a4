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
        .flat_map(|b| b.fields.split_whitespace())
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
        .flat_map(str::split_whitespace)
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
    assert_tables_keep_their_columns(&md);
    assert!(md.contains("`` a\\|b`c ``"), "{md}");
}

/// Every row of every table has as many cells as its header (cells are split at the `|` not
/// escaped by a backslash).
fn assert_tables_keep_their_columns(md: &str) {
    let bars = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut header = None;
    let mut tables = 0;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        match header {
            None => {
                header = Some(bars(line));
                tables += 1;
            }
            Some(n) => assert_eq!(bars(line), n, "{line}"),
        }
    }
    assert!(tables >= 3, "{md}");
}

#[test]
fn a_message_on_a_path_of_routers_shows_every_hop_and_what_changed() {
    let trace = sample("routers-chat.pcapng");
    let h = Handout::build(&trace, Subject::Message(a_chat_line(&trace)), "test".into());
    let hops = h.hops.as_ref().expect("the packet crossed two routers");
    let nodes: Vec<&str> = hops.stops.iter().map(|s| s.node.as_str()).collect();
    assert_eq!(nodes, ["client", "r1", "r2", "server"]);
    assert!(hops.rows.len() >= 4, "a copy per link end captured");
    assert!(hops.identical, "the bytes above IP crossed untouched");
    // Each router takes one from the TTL: the TTL column changes, and is marked.
    let ttl = hops.columns.iter().position(|c| *c == "TTL").unwrap();
    let ttls: Vec<(&str, bool)> = hops
        .rows
        .iter()
        .map(|r| (r[ttl].text.as_str(), r[ttl].changed))
        .collect();
    assert_eq!(ttls.first(), Some(&("64", false)));
    assert!(
        ttls.iter().any(|&(t, changed)| t == "63" && changed),
        "{ttls:?}"
    );
    let page = HandoutFormat::Html.render(&h).unwrap();
    assert!(page.contains("Hop by hop") && page.contains("class=\"changed\""));
    let md = HandoutFormat::Markdown.render(&h).unwrap();
    assert!(md.contains("**63** (changed)"), "{md}");
    assert_tables_keep_their_columns(&md);
    // Not on one link.
    let one = sample("tls13-chat.pcapng");
    assert!(
        Handout::build(&one, Subject::Message(a_chat_line(&one)), "t".into())
            .hops
            .is_none()
    );
}

#[test]
fn every_lesson_exports_and_only_the_teachers_page_holds_answers() {
    use super::lesson::LessonHandout;
    let lessons = crate::lesson::all(None).unwrap();
    assert!(lessons.len() >= 13);
    for lesson in &lessons {
        let student = LessonHandout::build(lesson, false);
        let teacher = LessonHandout::build(lesson, true);
        assert_eq!(student.steps.len(), lesson.steps.len());
        for (page, md) in [
            (student.html().unwrap(), student.markdown().unwrap()),
            (teacher.html().unwrap(), teacher.markdown().unwrap()),
        ] {
            assert!(page.starts_with("<!DOCTYPE html>") && md.starts_with("# "));
            for fetch in ["src=", "href=", "url(", "@import", "http://", "https://"] {
                assert!(!page.contains(fetch), "{}: {fetch}", lesson.name);
            }
        }
        let (page, md) = (student.html().unwrap(), student.markdown().unwrap());
        assert!(
            !page.contains("Answer:") && !md.contains("Answer:"),
            "{}",
            lesson.name
        );
        let questions: usize = lesson.steps.iter().map(|s| s.questions.len()).sum();
        let (page, md) = (teacher.html().unwrap(), teacher.markdown().unwrap());
        assert_eq!(
            page.matches("<b>Answer:</b>").count(),
            questions,
            "{}",
            lesson.name
        );
        assert_eq!(
            md.matches("**Answer:**").count(),
            questions,
            "{}",
            lesson.name
        );
        for step in &lesson.steps {
            assert!(page.contains(&escaped(&step.title)), "{}", step.title);
            for q in &step.questions {
                assert!(
                    md.contains(&q.answer.source),
                    "{}: {}",
                    lesson.name,
                    q.answer.source
                );
            }
        }
    }
}

#[test]
fn a_connections_graphs_are_four_charts_that_read_back() {
    use super::graphs::{busiest_connection, GraphsHandout};
    let trace = sample("small-mss.pcapng");
    let stream = busiest_connection(&trace).unwrap();
    let h = GraphsHandout::build(&trace, stream, "test".into()).unwrap();
    assert_eq!(h.graphs.len(), 4);
    for chart in &h.graphs {
        let mut marks = 0;
        let mut lines = 0;
        for event in ::svg::read(&chart.svg).unwrap() {
            if let ::svg::parser::Event::Tag(name, _, _) = event {
                marks += usize::from(name == "circle");
                lines += usize::from(name == "polyline");
            }
        }
        if chart.title.starts_with("time-sequence") {
            assert!(marks > 10, "a mark per segment: {marks}");
            assert!(lines >= 1, "the acknowledged line");
        }
    }
    let page = h.html().unwrap();
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(
        !page.contains("&lt;svg"),
        "the charts are inline, not escaped"
    );
    assert!(h.svg().starts_with("<svg"));
}

/// Text as the HTML templates escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
