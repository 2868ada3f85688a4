//! Whole-screen tests: the UI drawn on ratatui's `TestBackend` from the sample captures in
//! `captures/` (real TLS 1.3 and plain TCP chats recorded by packetpath), checked with insta
//! snapshots. Ports and times vary between recordings, so they are filtered out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use super::detail::{Detail, Subject};
use super::index::RowKind;
use super::model::{Focus, Model, Overlay};
use super::theme::Theme;
use super::theme::UiLayer;
use super::update::{update, Command, Msg};
use super::view::{layout, view};
use crate::journey::Trace;

/// Every sample capture in `captures/`.
const EVERY_SAMPLE: [&str; 8] = [
    "tls13-chat.pcapng",
    "tls12-chat.pcapng",
    "plain-chat.pcapng",
    "ipv6-chat.pcapng",
    "small-mss.pcapng",
    "wrong-ca.pcapng",
    "routers-chat.pcapng",
    "routers-fragments.pcapng",
];

fn sample(name: &str) -> Trace {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    let (trace, damage) =
        crate::capture::open_capture(&path, None, &mut |_, _| {}).expect("the sample reads");
    assert!(damage.is_none(), "{name} is damaged");
    trace
}

fn tls13() -> Trace {
    sample("tls13-chat.pcapng")
}

fn plain() -> Trace {
    sample("plain-chat.pcapng")
}

fn model(trace: &Trace, width: u16, height: u16) -> Model {
    let mut m = Model::new(false, "sample".into(), Vec::new(), Theme::no_color());
    let areas = layout(Rect::new(0, 0, width, height), &m);
    m.set_areas(areas);
    m.sync(trace);
    m
}

/// A model as the demo starts it: live, typing as alice.
pub(super) fn live_model(trace: &Trace) -> Model {
    let mut m = Model::new(
        true,
        "demo".into(),
        vec!["alice".into(), "bob".into()],
        Theme::no_color(),
    );
    let areas = layout(Rect::new(0, 0, 120, 40), &m);
    m.set_areas(areas);
    m.sync(trace);
    m
}

fn buffer(model: &mut Model, trace: &Trace) -> ratatui::buffer::Buffer {
    let area = model.areas.screen;
    let areas = layout(area, model);
    model.set_areas(areas);
    let mut term = Terminal::new(TestBackend::new(area.width, area.height)).expect("test terminal");
    term.draw(|f| view(f, model, trace)).expect("draws");
    term.backend().buffer().clone()
}

pub(super) fn draw(model: &mut Model, trace: &Trace) -> String {
    let area = model.areas.screen;
    let buf = buffer(model, trace);
    screen_text(&buf, area)
}

/// The screen with the hex pane's bytes masked: they include ciphertext and checksums, which change
/// whenever a sample capture is recorded again (the hex widget has its own test).
fn draw_masked(model: &mut Model, trace: &Trace) -> String {
    let area = model.areas.screen;
    let mut buf = buffer(model, trace);
    let hex = super::pane::inner(model.areas.hex, area);
    for y in hex.y + 1..hex.y + hex.height {
        for x in hex.x + 6..hex.x + hex.width {
            buf[(x, y)].set_symbol("·");
        }
    }
    screen_text(&buf, area)
}

fn screen_text(buf: &ratatui::buffer::Buffer, area: Rect) -> String {
    let mut out = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

pub(super) fn key(model: &mut Model, trace: &Trace, code: KeyCode) -> Option<Command> {
    update(
        model,
        trace,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    )
}

/// Snapshots a screen, with the values that change each time a sample capture is recorded again
/// filtered out: ephemeral ports, times, sequence numbers, IP identifications, checksums and
/// ciphertext bytes.
macro_rules! assert_screen {
    ($name:expr, $screen:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        for (pattern, with) in [
            (r"0x[0-9a-f]{4} \(\d+\)", "[id]"),
            (r"0x[0-9a-f]{4} \[", "[sum] ["),
            (r"\b\d\.\d{6}\b", "[time]"),
            (r"\b[1-6]\d{4}\b", "[port]"),
            (r"\b\d{6,}\b", "[n]"),
            (r"(?:[0-9a-f]{2} ){3,}…?", "[hex] "),
        ] {
            settings.add_filter(pattern, with);
        }
        settings.bind(|| insta::assert_snapshot!($name, $screen));
    }};
}

/// Selects the message group of the application write whose bytes are `text`.
fn select_message(model: &mut Model, trace: &Trace, text: &[u8]) {
    let event = trace
        .app_events()
        .iter()
        .position(|e| e.side == crate::chat::Side::Client && &e.bytes[..] == text)
        .expect("the sample has this message");
    let row = model
        .timeline
        .index
        .groups
        .iter()
        .find(|g| g.kind == super::index::GroupKind::Message(event))
        .expect("the message has a group")
        .first_row as usize;
    model.timeline.follow = false;
    model.timeline.selected = model.timeline.position_of(row);
    let h = model.timeline_height();
    model.timeline.scroll_into_view(h);
    model.refresh_detail(trace, false);
    assert_eq!(model.subject, Some(Subject::Message(event)));
}

fn field_named(model: &Model, layer: UiLayer, name: &str) -> usize {
    model
        .detail
        .column_fields(layer)
        .into_iter()
        .find(|&i| model.detail.fields[i].name == name)
        .unwrap_or_else(|| panic!("no {name} in the {layer:?} column"))
}

#[test]
fn a_known_message_in_every_layer_column() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    select_message(&mut m, &trace, b"hi bob\n");
    let d = &m.detail;
    // 7 B of text; TLS 1.3 adds a 5-byte header, 1 byte of inner content type and a 16-byte tag.
    let strip: Vec<&str> = d.strip.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        strip,
        [
            "7 B text",
            "29 B TLS record",
            "61 B TCP segment",
            "81 B IP packet",
            "95 B frame"
        ]
    );
    assert_eq!(
        d.bytes,
        ["7 B", "+22 B", "+32 B", "+20 B", "+14 B"].map(String::from)
    );
    let value = |layer, name| d.fields[field_named(&m, layer, name)].value.clone();
    assert_eq!(value(UiLayer::Application, "text"), "\"hi bob\\n\"");
    assert_eq!(value(UiLayer::Tls, "content type"), "23 (application_data)");
    assert_eq!(value(UiLayer::Tls, "length"), "24 bytes");
    assert_eq!(value(UiLayer::Tls, "plaintext"), "\"hi bob\\n\"");
    assert_eq!(value(UiLayer::Tcp, "Flags"), "[PSH, ACK]");
    // The tracker's numbers follow the raw fields: relative, and the window after scaling.
    assert_eq!(value(UiLayer::Tcp, "rel. seq"), "343");
    let window: u32 = value(UiLayer::Tcp, "Window").parse().unwrap();
    let scaled = &d.fields[field_named(&m, UiLayer::Tcp, "win. bytes")];
    // Both SYNs of this capture offer window scale 10.
    assert_eq!(scaled.value, (window << 10).to_string());
    assert!(scaled.meaning.contains("× 2^10"), "{}", scaled.meaning);
    assert_eq!(value(UiLayer::Ip, "TTL"), "64");
    assert!(value(UiLayer::Link, "Type").starts_with("0x0800"));
    assert_screen!("tls13_hi_bob_120x40", draw_masked(&mut m, &trace));
}

#[test]
fn the_same_screen_is_readable_at_80x24() {
    let trace = tls13();
    let mut m = model(&trace, 80, 24);
    select_message(&mut m, &trace, b"hi bob\n");
    let screen = draw_masked(&mut m, &trace);
    for part in [
        "Timeline",
        "App 7 B",
        "TLS +22 B",
        "TCP +32 B",
        "IP +20 B",
        "Link +14 B",
        "95 B frame",
        "Bytes",
        "Chat",
    ] {
        assert!(
            screen.contains(part),
            "{part:?} missing at 80×24:\n{screen}"
        );
    }
    assert_screen!("tls13_hi_bob_80x24", screen);
}

#[test]
fn the_eavesdropper_sees_ciphertext_and_the_endpoints_the_text() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    select_message(&mut m, &trace, b"hi bob\n");
    key(&mut m, &trace, KeyCode::Esc);
    key(&mut m, &trace, KeyCode::Char('e'));
    assert!(!m.decrypted);
    let text = &m.detail.fields[field_named(&m, UiLayer::Application, "text")];
    assert!(!text.value.contains("hi bob"), "{}", text.value);
    field_named(&m, UiLayer::Tls, "encrypted body");
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("eavesdropper's view"));
    assert!(!screen.contains("\"hi bob"), "{screen}");
    key(&mut m, &trace, KeyCode::Char('e'));
    field_named(&m, UiLayer::Tls, "plaintext");
}

#[test]
fn plain_tcp_has_no_tls_column_and_the_text_is_in_the_frame() {
    let trace = plain();
    let mut m = model(&trace, 120, 40);
    select_message(&mut m, &trace, b"hi bob\n");
    let strip: Vec<&str> = m.detail.strip.iter().map(|(_, s)| s.as_str()).collect();
    // No TCP timestamps in this capture: a 20-byte TCP header.
    assert_eq!(
        strip,
        [
            "7 B text",
            "39 B TCP segment",
            "59 B IP packet",
            "73 B frame"
        ]
    );
    assert_eq!(m.detail.bytes[1], "—");
    // Selecting the text highlights its bytes in the frame: they are the text itself.
    let f = field_named(&m, UiLayer::Application, "text");
    m.select_field(f);
    let (frame, range) = m.detail.fields[f].spans[0].clone();
    let data = &trace.frame(frame).unwrap().frame.data;
    assert_eq!(&data[range], b"hi bob\n");
}

#[test]
fn selecting_a_field_highlights_exactly_its_bytes_on_screen() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    m.theme = Theme::colored();
    select_message(&mut m, &trace, b"hi bob\n");
    let port = field_named(&m, UiLayer::Tcp, "Destination port");
    m.focus = Focus::Layers;
    m.select_field(port);
    let buf = buffer(&mut m, &trace);
    // Ethernet (14) + IPv4 (20): the destination port is bytes 36 and 37, on hex line 2 (0x0020),
    // columns 4 and 5 of that line.
    let inner = super::pane::inner(m.areas.hex, m.areas.screen);
    let line_y = inner.y + 1 + 2;
    for i in 0..16u16 {
        let cell = &buf[(inner.x + 6 + 3 * i, line_y)];
        let lit = cell.modifier.contains(ratatui::style::Modifier::REVERSED);
        assert_eq!(lit, i == 4 || i == 5, "byte {} of line 0x20", i);
    }
    // TCP bytes are drawn in the TCP colour, the same as the TCP column's values.
    assert_eq!(
        buf[(inner.x + 6 + 3 * 6, line_y)].fg,
        Theme::colored().palette.layers[UiLayer::Tcp.index()]
    );
}

/// In the endpoints' view, selecting the text also lights its bytes in the decrypted plaintext
/// under the frame's bytes (TLS 1.3, and TLS 1.2 with its explicit nonce before the text); a
/// header field lights none there.
#[test]
fn selecting_the_text_highlights_it_in_the_decrypted_plaintext() {
    for trace in [tls13(), tls12()] {
        let mut m = model(&trace, 120, 40);
        m.theme = Theme::colored();
        select_message(&mut m, &trace, b"hi bob\n");
        m.focus = Focus::Layers;
        let lit_in_plaintext = |m: &mut Model| {
            let buf = buffer(m, &trace);
            let inner = super::pane::inner(m.areas.hex, m.areas.screen);
            let rows = rows_of(&buf, inner);
            let heading = rows
                .iter()
                .position(|r| r.starts_with("decrypted application_data"))
                .unwrap_or_else(|| panic!("no plaintext under the bytes: {rows:#?}"));
            let y = inner.y + heading as u16 + 1;
            assert!(
                rows[heading + 1].starts_with("0000  68 69 20 62 6f 62 0a"),
                "{rows:#?}"
            );
            (0..16u16)
                .filter(|i| {
                    buf[(inner.x + 6 + 3 * i, y)]
                        .modifier
                        .contains(ratatui::style::Modifier::REVERSED)
                })
                .collect::<Vec<_>>()
        };
        let text = field_named(&m, UiLayer::Application, "text");
        m.select_field(text);
        assert_eq!(lit_in_plaintext(&mut m), (0..7).collect::<Vec<u16>>());
        let port = field_named(&m, UiLayer::Tcp, "Destination port");
        m.select_field(port);
        assert_eq!(lit_in_plaintext(&mut m), Vec::<u16>::new());
    }
}

#[test]
fn moving_over_bytes_selects_their_field() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    select_message(&mut m, &trace, b"hi bob\n");
    m.focus = Focus::Hex;
    m.hex_cursor = Some(33);
    key(&mut m, &trace, KeyCode::Right); // byte 34: the TCP source port
    assert_eq!(m.detail.fields[m.field.unwrap()].name, "Source port");
    key(&mut m, &trace, KeyCode::Right);
    key(&mut m, &trace, KeyCode::Right); // byte 36
    assert_eq!(m.detail.fields[m.field.unwrap()].name, "Destination port");
    assert_eq!(m.column, UiLayer::Tcp);
}

#[test]
fn the_demo_starts_in_the_input_and_keys_work_as_documented() {
    let trace = tls13();
    let mut m = live_model(&trace);
    assert_eq!(m.focus, Focus::Input);
    // q is a letter while typing.
    for c in "hi q".chars() {
        assert_eq!(key(&mut m, &trace, KeyCode::Char(c)), None);
    }
    assert_eq!(
        key(&mut m, &trace, KeyCode::Enter),
        Some(Command::Send {
            from: "alice".into(),
            text: "hi q".into()
        })
    );
    key(&mut m, &trace, KeyCode::Tab);
    assert_eq!(m.sender_name(), "bob");
    key(&mut m, &trace, KeyCode::Esc);
    assert_eq!(m.focus, Focus::Timeline);
    let at = m.timeline.selected;
    key(&mut m, &trace, KeyCode::Char('k'));
    assert_eq!(m.timeline.selected, at - 1);
    assert!(!m.timeline.follow, "moving stops following live traffic");
    key(&mut m, &trace, KeyCode::Down);
    assert_eq!(m.timeline.selected, at);
    key(&mut m, &trace, KeyCode::Char('G'));
    assert!(m.timeline.follow);
    key(&mut m, &trace, KeyCode::Enter);
    assert_eq!(m.focus, Focus::Layers);
    assert!(m.field.is_some(), "Enter opens the first field");
    key(&mut m, &trace, KeyCode::Tab);
    assert_eq!(m.focus, Focus::Hex);
    key(&mut m, &trace, KeyCode::Char('?'));
    assert_eq!(m.overlay, Some(Overlay::Help(0)));
    assert!(draw(&mut m, &trace).contains("filter the timeline"));
    key(&mut m, &trace, KeyCode::Esc);
    assert_eq!(m.overlay, None);
    key(&mut m, &trace, KeyCode::Char('i'));
    assert_eq!(m.focus, Focus::Input);
    key(&mut m, &trace, KeyCode::Esc);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(
        update(&mut m, &trace, Msg::Key(ctrl_c)),
        Some(Command::Quit)
    );
    assert_eq!(key(&mut m, &trace, KeyCode::Char('q')), Some(Command::Quit));
}

#[test]
fn the_filter_keeps_matching_rows_under_their_headings() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    key(&mut m, &trace, KeyCode::Char('/'));
    for c in "syn".chars() {
        key(&mut m, &trace, KeyCode::Char(c));
    }
    key(&mut m, &trace, KeyCode::Enter);
    // Two connections (alice, bob): SYN and SYN-ACK each, under two TCP handshake headings.
    assert_eq!(m.timeline.len(), 6);
    let screen = draw_masked(&mut m, &trace);
    assert!(
        screen.contains("filter \"syn\" (= tcp.flags.syn): 6 rows"),
        "{screen}"
    );
    assert_screen!("tls13_filter_syn", screen);
    key(&mut m, &trace, KeyCode::Char('/'));
    for _ in 0..3 {
        key(&mut m, &trace, KeyCode::Backspace);
    }
    for c in "bob".chars() {
        key(&mut m, &trace, KeyCode::Char(c));
    }
    key(&mut m, &trace, KeyCode::Enter);
    assert!(!m.timeline.is_empty() && m.timeline.len() < m.timeline.index.rows.len());
    key(&mut m, &trace, KeyCode::Char('/'));
    for _ in 0..3 {
        key(&mut m, &trace, KeyCode::Backspace);
    }
    key(&mut m, &trace, KeyCode::Enter);
    assert_eq!(m.timeline.len(), m.timeline.index.rows.len());
}

fn type_keys(m: &mut Model, trace: &Trace, text: &str) {
    for c in text.chars() {
        key(m, trace, KeyCode::Char(c));
    }
}

/// The frame numbers of the frame rows the timeline shows.
fn shown_frames(m: &Model) -> Vec<u32> {
    (0..m.timeline.len())
        .filter_map(|pos| m.timeline.row_at(pos))
        .filter_map(|r| match m.timeline.index.rows[r].kind {
            RowKind::Frame(n) => Some(n),
            _ => None,
        })
        .collect()
}

#[test]
fn a_wireshark_filter_applies_as_it_is_typed_and_says_what_is_wrong() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    let all = m.timeline.len();
    let port = trace.tcp().connections()[0].server.port();
    key(&mut m, &trace, KeyCode::Char('/'));
    type_keys(&mut m, &trace, &format!("tcp.port == {port}"));
    // Applied before Enter: every frame of the chat, but not the application's rows.
    let typed = m.timeline.len();
    assert!(typed < all, "{typed} of {all}");
    type_keys(&mut m, &trace, " && tcp.flags.syn");
    assert_eq!(shown_frames(&m), [1, 2, 12, 13]);
    // Half an expression: the line says what is wrong, the timeline keeps the last good filter.
    type_keys(&mut m, &trace, " &&");
    assert!(m
        .filter_error
        .as_deref()
        .is_some_and(|e| e.contains("expected")));
    assert_eq!(shown_frames(&m), [1, 2, 12, 13]);
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("✗ at character"), "{screen}");
    // Enter on a broken filter keeps the prompt open.
    key(&mut m, &trace, KeyCode::Enter);
    assert!(m.prompt);
    type_keys(&mut m, &trace, " !tcp.flags.ack");
    assert_eq!(shown_frames(&m), [1, 12], "the clients' SYNs");
    key(&mut m, &trace, KeyCode::Enter);
    assert!(!m.prompt);
    let screen = draw(&mut m, &trace);
    assert!(
        screen.contains(&format!(
            "filter \"tcp.port == {port} && tcp.flags.syn && !tcp.flags.ack\": 4 rows"
        )),
        "{screen}"
    );
    // Esc goes back to the filter kept before the prompt opened.
    key(&mut m, &trace, KeyCode::Char('/'));
    key(&mut m, &trace, KeyCode::Char('u'));
    assert!(m.filter_error.is_some() || m.timeline.len() != 4);
    key(&mut m, &trace, KeyCode::Esc);
    assert_eq!(shown_frames(&m), [1, 12]);
    // A misspelt field is named, with the ones it could have meant.
    key(&mut m, &trace, KeyCode::Char('/'));
    let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    update(&mut m, &trace, Msg::Key(ctrl_u));
    assert_eq!(m.timeline.len(), all, "an empty filter shows everything");
    type_keys(&mut m, &trace, "tcp.prot == 1");
    let error = m.filter_error.clone().unwrap_or_default();
    assert!(
        error.contains("tcp.prot") && error.contains("tcp.port"),
        "{error}"
    );
    // Words that are no field search the rows' text; `app` keeps the application's rows.
    update(&mut m, &trace, Msg::Key(ctrl_u));
    type_keys(&mut m, &trace, "app");
    assert!((0..m.timeline.len())
        .filter_map(|p| m.timeline.row_at(p))
        .all(|r| matches!(
            m.timeline.index.rows[r].kind,
            RowKind::App(_) | RowKind::Group
        )));
    update(&mut m, &trace, Msg::Key(ctrl_u));
    type_keys(&mut m, &trace, "hi bob");
    assert!(m.filter_error.is_none());
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("searching the rows' words"), "{screen}");
    assert!(!m.timeline.is_empty() && m.timeline.len() < all);
}

#[test]
fn the_eavesdroppers_filter_does_not_see_inside_tls_13() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    key(&mut m, &trace, KeyCode::Char('/'));
    type_keys(&mut m, &trace, "tls.record.content_type == 22");
    key(&mut m, &trace, KeyCode::Enter);
    let endpoints = shown_frames(&m);
    key(&mut m, &trace, KeyCode::Char('e'));
    let eavesdropper = shown_frames(&m);
    // Only the hellos travel in clear; the encrypted handshake is found with the keys alone.
    assert!(
        eavesdropper.len() < endpoints.len(),
        "{eavesdropper:?} vs {endpoints:?}"
    );
    assert!(eavesdropper.iter().all(|n| endpoints.contains(n)));
}

#[test]
fn colon_goes_to_a_frame_by_number() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    key(&mut m, &trace, KeyCode::Char(':'));
    assert!(m.prompt);
    assert!(draw(&mut m, &trace).contains("go to frame:"));
    type_keys(&mut m, &trace, "17");
    key(&mut m, &trace, KeyCode::Enter);
    assert!(!m.prompt && !m.timeline.follow);
    let row = m.timeline.selected_row().expect("a row");
    assert_eq!(m.timeline.index.rows[row].kind, RowKind::Frame(17));
    key(&mut m, &trace, KeyCode::Char(':'));
    type_keys(&mut m, &trace, "999");
    key(&mut m, &trace, KeyCode::Enter);
    assert!(
        m.status.contains("frames are numbered 1 to 43"),
        "{}",
        m.status
    );
    assert_eq!(m.timeline.selected_row(), Some(row), "the selection stays");
    // A frame the filter hides is not reached; the status says why.
    key(&mut m, &trace, KeyCode::Char('/'));
    type_keys(&mut m, &trace, "syn");
    key(&mut m, &trace, KeyCode::Enter);
    key(&mut m, &trace, KeyCode::Char(':'));
    type_keys(&mut m, &trace, "5");
    key(&mut m, &trace, KeyCode::Enter);
    assert!(m.status.contains("hidden by the filter"), "{}", m.status);
}

#[test]
fn the_timeline_has_column_headings_and_a_delta_time() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    key(&mut m, &trace, KeyCode::Char('g'));
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("No.        Time        Δt"), "{screen}");
    // Δt of a frame is its time minus the time of the frame shown above it.
    let times: Vec<i128> = trace.frames().iter().map(|f| f.frame.at.0).collect();
    let line = screen
        .lines()
        .find(|l| l.contains("#2 "))
        .expect("frame 2 on screen");
    let delta = format!("{:.6}", (times[1] - times[0]) as f64 / 1e9);
    assert!(line.contains(&delta), "{line} lacks {delta}");
    // With a filter, Δt counts from the frame shown above, not the one captured before.
    key(&mut m, &trace, KeyCode::Char('/'));
    type_keys(&mut m, &trace, "syn");
    key(&mut m, &trace, KeyCode::Enter);
    let screen = draw(&mut m, &trace);
    let line = screen
        .lines()
        .find(|l| l.contains("#12 "))
        .expect("frame 12 on screen");
    let delta = format!("{:.6}", (times[11] - times[1]) as f64 / 1e9);
    assert!(line.contains(&delta), "{line} lacks {delta}");
    // On a narrow screen there is no room for it.
    let mut narrow = model(&trace, 80, 24);
    let screen = draw(&mut narrow, &trace);
    assert!(!screen.contains("Δt"), "{screen}");
}

#[test]
fn step_back_and_play_move_one_event_at_a_time() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    key(&mut m, &trace, KeyCode::Char('g'));
    assert_eq!(m.timeline.selected, 0);
    key(&mut m, &trace, KeyCode::Char('n'));
    assert_eq!(
        m.timeline.selected, 1,
        "the heading is skipped, the first frame is next"
    );
    key(&mut m, &trace, KeyCode::Char('n'));
    let second = m.timeline.selected;
    key(&mut m, &trace, KeyCode::Char('b'));
    assert_eq!(m.timeline.selected, 1);
    key(&mut m, &trace, KeyCode::Char(' '));
    assert!(m.player.playing);
    let now = std::time::Instant::now();
    update(&mut m, &trace, Msg::Tick(now));
    assert_eq!(m.timeline.selected, 1, "the first tick only sets the pace");
    let later = now + m.player.interval;
    update(&mut m, &trace, Msg::Tick(later));
    assert_eq!(m.timeline.selected, second);
    key(&mut m, &trace, KeyCode::Char('+'));
    assert_eq!(m.player.interval, std::time::Duration::from_millis(500));
    key(&mut m, &trace, KeyCode::Char(' '));
    assert!(!m.player.playing);
}

#[test]
fn follow_stream_shows_the_decrypted_conversation() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    select_message(&mut m, &trace, b"hi bob\n");
    key(&mut m, &trace, KeyCode::Char('f'));
    assert!(matches!(m.overlay, Some(Overlay::Stream { .. })));
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("alice → server: hi bob"), "{screen}");
    assert!(screen.contains("ClientHello"), "{screen}");
    key(&mut m, &trace, KeyCode::Char('e'));
    let screen = draw(&mut m, &trace);
    assert!(!screen.contains("alice → server: hi bob"), "{screen}");
}

#[test]
fn the_chat_shows_what_each_client_saw() {
    let trace = tls13();
    let m = model(&trace, 120, 40);
    let lines: Vec<String> = m
        .chat
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l.who,
                if l.incoming { "◂" } else { "▸" },
                l.text
            )
        })
        .collect();
    let sent = lines
        .iter()
        .position(|l| l == "alice ▸ hi bob")
        .expect("alice's line");
    let got = lines
        .iter()
        .position(|l| l == "bob ◂ alice: hi bob")
        .expect("bob got it");
    assert!(sent < got, "{lines:#?}");
}

#[test]
fn no_color_means_no_colour() {
    let trace = tls13();
    let mut m = model(&trace, 80, 24);
    let buf = buffer(&mut m, &trace);
    for cell in buf.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

#[test]
fn the_timeline_groups_handshakes_messages_and_the_close() {
    use super::index::GroupKind;
    let trace = tls13();
    let m = model(&trace, 120, 40);
    let kinds: Vec<GroupKind> = m
        .timeline
        .index
        .groups
        .iter()
        .filter(|g| g.stream == Some(0))
        .map(|g| match g.kind {
            GroupKind::Message(_) => GroupKind::Message(0),
            other => other,
        })
        .collect();
    assert_eq!(kinds.first(), Some(&GroupKind::TcpHandshake));
    assert_eq!(kinds.get(1), Some(&GroupKind::TlsHandshake));
    assert!(kinds.contains(&GroupKind::Message(0)));
    assert_eq!(kinds.last(), Some(&GroupKind::Close));
    // Every frame has exactly one row, and rows are in frame order.
    let frames: Vec<u32> = m
        .timeline
        .index
        .rows
        .iter()
        .filter_map(|r| match r.kind {
            super::index::RowKind::Frame(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(
        frames,
        (1..=trace.frames().len() as u32).collect::<Vec<_>>()
    );
    // Every application event has a row.
    assert_eq!(m.timeline.index.event_row.len(), trace.app_events().len());
    // The handshake's heading gives the client's port once, named or not.
    let c = trace.tcp().connection(0).expect("a connection");
    let (client, server) = (c.client.port(), c.server.port());
    let group = m
        .timeline
        .index
        .groups
        .iter()
        .position(|g| g.stream == Some(0) && g.kind == GroupKind::TcpHandshake)
        .expect("a handshake") as u32;
    let index = &m.timeline.index;
    let named = super::timeline::group_text(&trace, &m.names, index, group, false);
    assert!(
        named.ends_with(&format!(" :{client} ⇄ :{server}")) && !named.contains("client"),
        "{named}"
    );
    let unnamed = super::index::Names::default();
    let text = super::timeline::group_text(&trace, &unnamed, index, group, false);
    assert_eq!(
        text,
        format!("TCP handshake · client :{client} ⇄ :{server}")
    );
}

#[test]
fn a_click_selects_a_row_a_field_and_a_byte() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    select_message(&mut m, &trace, b"hi bob\n");
    draw(&mut m, &trace);
    let click = |x: u16, y: u16| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    // The third row of the timeline (under its column headings).
    let t = m.areas.timeline_rows;
    let before = m.timeline.selected;
    update(&mut m, &trace, click(t.x + 3, t.y + 2));
    assert_eq!(m.focus, Focus::Timeline);
    assert_eq!(m.timeline.selected, m.timeline.offset + 2);
    assert_ne!(m.timeline.selected, before);
    // The second field line of the TCP column: the destination port.
    select_message(&mut m, &trace, b"hi bob\n");
    let col = m.areas.columns[UiLayer::Tcp.index()];
    update(&mut m, &trace, click(col.x + 1, col.y + 2));
    assert_eq!(m.focus, Focus::Layers);
    assert_eq!(m.detail.fields[m.field.unwrap()].name, "Destination port");
    // Byte 0x22 (34, the source port) in the hex pane: line 2, column 2.
    let h = super::pane::inner(m.areas.hex, m.areas.screen);
    update(&mut m, &trace, click(h.x + 6 + 3 * 2, h.y + 1 + 2));
    assert_eq!(m.focus, Focus::Hex);
    assert_eq!(m.hex_cursor, Some(34));
    assert_eq!(m.detail.fields[m.field.unwrap()].name, "Source port");
}

#[test]
fn every_sample_capture_draws_at_every_row_in_both_views() {
    for name in [
        "tls13-chat.pcapng",
        "tls12-chat.pcapng",
        "plain-chat.pcapng",
        "small-mss.pcapng",
        "ipv6-chat.pcapng",
        "wrong-ca.pcapng",
    ] {
        let trace = sample(name);
        assert!(!trace.frames().is_empty(), "{name}");
        for (w, h) in [(80, 24), (120, 40)] {
            let mut m = model(&trace, w, h);
            key(&mut m, &trace, KeyCode::Char('g'));
            for _ in 0..m.timeline.len() {
                draw(&mut m, &trace);
                key(&mut m, &trace, KeyCode::Char('e'));
                draw(&mut m, &trace);
                key(&mut m, &trace, KeyCode::Char('j'));
            }
            assert_eq!(m.timeline.selected, m.timeline.len() - 1, "{name}");
        }
    }
}

#[test]
fn a_long_line_in_small_segments_shows_every_segment() {
    let trace = sample("small-mss.pcapng");
    let mut m = model(&trace, 120, 40);
    let long = trace
        .app_events()
        .iter()
        .find(|e| e.side == crate::chat::Side::Client && e.bytes.len() > 2000)
        .expect("the sample's long line")
        .bytes
        .clone();
    select_message(&mut m, &trace, &long);
    let frames = m.detail.frames.len();
    assert!(frames > 1, "the line left in several segments");
    let headings = m.detail.columns[UiLayer::Tcp.index()]
        .iter()
        .filter(|i| matches!(i, super::detail::Item::Heading(_)))
        .count();
    assert_eq!(headings, frames, "one TCP heading per segment");
    assert!(m
        .detail
        .strip
        .iter()
        .any(|(_, s)| s.ends_with("TCP segments")));
}

#[test]
fn compare_mode_sets_the_same_line_over_tls_and_plain_tcp_side_by_side() {
    let tls = tls13();
    let plain = plain();
    let mut m = live_model(&tls);
    key(&mut m, &tls, KeyCode::Esc);
    assert_eq!(
        key(&mut m, &tls, KeyCode::Char('c')),
        Some(Command::Compare(true))
    );
    select_message(&mut m, &tls, b"hi bob\n");
    let area = m.areas.screen;
    let mut term = Terminal::new(TestBackend::new(area.width, area.height)).expect("test terminal");
    term.draw(|f| super::view::view_with(f, &m, &tls, Some(&plain)))
        .expect("draws");
    let screen = screen_text(term.backend().buffer(), area);
    assert!(screen.contains("TLS 1.3: \"hi bob\\n\""), "{screen}");
    assert!(screen.contains("plain TCP: \"hi bob\\n\""), "{screen}");
    // Over plain TCP the text is in the frame's bytes, for anyone to read.
    assert!(screen.contains("7 B text → 39 B TCP segment"), "{screen}");
    assert!(screen.contains("7 B text → 29 B TLS record"), "{screen}");
    assert!(screen.contains("hi bob."), "{screen}");
    // What the server's application made of the line, on each side (the sample's server reads
    // it as written).
    assert_eq!(
        screen.matches("the server read \"hi bob\"").count(),
        2,
        "{screen}"
    );
    // In a saved capture there is no second chat to compare with.
    let mut saved = model(&tls, 120, 40);
    assert_eq!(key(&mut saved, &tls, KeyCode::Char('c')), None);
    assert!(!saved.compare);
}

#[test]
fn esc_typed_fast_before_a_key_still_leaves_the_input() {
    // Terminals send Esc then q, typed quickly, as the two bytes of Alt+q.
    let trace = tls13();
    let mut m = live_model(&trace);
    let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
    assert_eq!(update(&mut m, &trace, Msg::Key(alt_q)), Some(Command::Quit));
    assert!(m.input.is_empty());
}

/// A lesson pane as `lesson run` fills it: step 2 of 3, a check that held and one that did not,
/// a question answered wrong (with its hint).
fn lesson_pane() -> super::lesson::LessonPane {
    use crate::lesson::checks::CheckOutcome;
    use crate::lesson::runner::StepReport;
    let check = |that: &str, passed: bool, observed: &str| CheckOutcome {
        that: that.into(),
        passed,
        expected: "= 94".into(),
        observed: observed.into(),
        line: 12,
    };
    super::lesson::LessonPane {
        title: "Layers of a message".into(),
        step: 1,
        total: 3,
        step_title: "The frame on the wire".into(),
        text: "Each layer adds its header in front of the bytes it carries.".into(),
        actions: vec!["▸ send alice \"hi\"".into()],
        report: Some(StepReport {
            focus: None,
            checks: vec![
                check("the frame is 94 bytes", true, "len(frame) = 94"),
                check("TTL is 1", false, "ip.ttl = 64"),
            ],
            answers: vec![Ok("80".into())],
        }),
        questions: vec![super::lesson::Question {
            ask: "How long is the IP packet?".into(),
            hint: Some("IP total length".into()),
            done: false,
            tries: 1,
            feedback: Some("✗ 81: not what your capture says. Hint: IP total length".into()),
            predict: false,
            prediction: None,
        }],
        scroll: 0,
    }
}

#[test]
fn the_lesson_pane_shows_the_step_its_checks_and_the_answer_line() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    m.live = true;
    m.lesson = Some(lesson_pane());
    let screen = draw(&mut m, &trace);
    for part in [
        "Lesson · step 2/3 · The frame on the wire",
        "Step 2/3 · The frame on the wire",
        "Each layer adds its header",
        "▸ send alice \"hi\"",
        "✓ the frame is 94 bytes — len(frame) = 94",
        "✗ TTL is 1 — expected = 94; observed ip.ttl",
        "? How long is the IP packet?",
        "not what your capture says. Hint: IP",
        "i: answer · n/p: next/previous step",
        "n next step",
        "i answer",
    ] {
        assert!(
            screen.contains(part),
            "{part:?} is not on screen:\n{screen}"
        );
    }
    // The chat and the log give way to the lesson.
    assert!(
        !screen.contains("┌Chat") && !screen.contains("┌Log"),
        "{screen}"
    );
    // Answering: i focuses the input line, the typed answer goes to the runner to judge.
    key(&mut m, &trace, KeyCode::Char('i'));
    assert_eq!(m.focus, Focus::Input);
    for c in "80".chars() {
        key(&mut m, &trace, KeyCode::Char(c));
    }
    assert!(draw(&mut m, &trace).contains("answer> 80"));
    assert_eq!(
        key(&mut m, &trace, KeyCode::Enter),
        Some(Command::Answer("80".into()))
    );
    // n and p step through the lesson (not the timeline) while a lesson runs.
    key(&mut m, &trace, KeyCode::Esc);
    assert_eq!(
        key(&mut m, &trace, KeyCode::Char('n')),
        Some(Command::LessonStep(2))
    );
    assert_eq!(
        key(&mut m, &trace, KeyCode::Char('p')),
        Some(Command::LessonStep(0))
    );
    if let Some(pane) = &mut m.lesson {
        pane.step = 2;
    }
    assert_eq!(key(&mut m, &trace, KeyCode::Char('n')), None);
    assert!(m.status.contains("last step"));
}

#[test]
fn a_lesson_focus_selects_exactly_its_field_and_bytes() {
    let trace = tls13();
    let mut probe = model(&trace, 120, 40);
    select_message(&mut probe, &trace, b"hi bob\n");
    let port = field_named(&probe, UiLayer::Tcp, "Destination port");
    let (frame, range) = probe.detail.fields[port].spans[0].clone();
    let mut m = model(&trace, 120, 40);
    m.lesson = Some(lesson_pane());
    let focus = crate::lesson::checks::FocusView {
        frame,
        layer: crate::lesson::checks::FocusLayer::Frame(crate::dissect::Layer::Tcp),
        field: "Destination port".into(),
        value: "8443".into(),
        meaning: String::new(),
        range: Some(range.clone()),
        inside_encryption: false,
    };
    m.select_lesson_focus(&trace, &focus);
    let field = m
        .field
        .map(|i| m.detail.fields[i].clone())
        .expect("a field is selected");
    assert_eq!(field.name, "Destination port");
    assert!(field.spans.contains(&(frame, range.clone())));
    assert_eq!(m.hex_frame, Some(frame));
    assert_eq!(m.hex_cursor, Some(range.start));
    assert!(!m.timeline.follow);
}

#[test]
fn a_frame_under_a_message_shows_the_message_only_if_it_carries_it() {
    let trace = tls13();
    let m = model(&trace, 120, 40);
    let event = trace
        .app_events()
        .iter()
        .position(|e| e.side == crate::chat::Side::Client && &e.bytes[..] == b"hi bob\n")
        .expect("the sample has this message");
    let journey = trace
        .journey(&trace.app_events()[event])
        .expect("its journey");
    let carrier = journey.frames[0];
    // A pure ACK of the same connection: listed near the message, carrying none of its bytes.
    let ack = trace
        .frames()
        .iter()
        .find(|f| {
            f.segment
                .as_ref()
                .is_some_and(|s| s.stream == journey.stream && s.payload_len == 0)
                && f.number > carrier
        })
        .expect("an ACK after the message")
        .number;
    let text_of = |n: u32| {
        let d =
            super::detail::Detail::build(&trace, &m.names, Subject::Frame(n, Some(event)), true);
        d.column_fields(UiLayer::Application)
            .into_iter()
            .find(|&i| d.fields[i].name == "text")
            .map(|i| d.fields[i].value.clone())
    };
    assert_eq!(text_of(carrier).as_deref(), Some("\"hi bob\\n\""));
    assert_eq!(
        text_of(ack),
        None,
        "frame {ack} carries no byte of the message"
    );
}

/// Every cell of `buf` a student cannot be sure to read: a colour the terminal chooses (a basic
/// palette colour, `Reset`) as background anywhere or as foreground of a visible character, a
/// foreground/background pair (swapped under reversed video) below 4.5:1 (WCAG 2.1 contrast
/// ratio), or dimmed text (its colour is then the terminal's guess).
fn unreadable_cells(buf: &ratatui::buffer::Buffer) -> Vec<String> {
    use super::theme::{contrast_ratio, known_rgb};
    use ratatui::style::Modifier;
    let mut out = Vec::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            let visible = !cell.symbol().trim().is_empty();
            let (fg, bg) = if cell.modifier.contains(Modifier::REVERSED) {
                (cell.bg, cell.fg)
            } else {
                (cell.fg, cell.bg)
            };
            let at = format!("({x},{y}) {:?}", cell.symbol());
            match (known_rgb(fg), known_rgb(bg)) {
                (_, None) => out.push(format!("{at}: background {bg:?}")),
                (None, _) if visible => out.push(format!("{at}: foreground {fg:?}")),
                (Some(f), Some(b)) if visible && contrast_ratio(f, b) < 4.5 => out.push(format!(
                    "{at}: {fg:?} on {bg:?} is {:.2}:1",
                    contrast_ratio(f, b)
                )),
                _ => {}
            }
            if visible && cell.modifier.contains(Modifier::DIM) {
                out.push(format!("{at}: dimmed"));
            }
        }
    }
    out
}

/// A lesson pane whose text is longer than the pane.
fn long_lesson_pane() -> super::lesson::LessonPane {
    let mut pane = lesson_pane();
    pane.text = (1..=12)
        .map(|i| format!("Sentence {i} of the explanation, long enough to wrap once or twice on a narrow pane."))
        .collect::<Vec<_>>()
        .join(" ");
    pane
}

/// The classroom screens a teacher shows: a lesson, the demo with a field selected, the help,
/// playing and paused, large and small.
fn classroom_screens(theme: super::theme::ThemeName) -> Vec<(String, ratatui::buffer::Buffer)> {
    let trace = tls13();
    let mut out = Vec::new();
    for (w, h) in [(120, 40), (80, 24)] {
        let mut m = model(&trace, w, h);
        m.theme = Theme::named(theme);
        m.classroom = true;
        m.live = true;
        m.lesson = Some(long_lesson_pane());
        out.push((format!("lesson {w}×{h}"), buffer(&mut m, &trace)));
        m.focus = Focus::Input;
        out.push((format!("lesson answering {w}×{h}"), buffer(&mut m, &trace)));

        let mut m = model(&trace, w, h);
        m.theme = Theme::named(theme);
        m.classroom = true;
        m.live = true;
        select_message(&mut m, &trace, b"hi bob\n");
        let port = field_named(&m, UiLayer::Tcp, "Destination port");
        m.focus = Focus::Layers;
        m.select_field(port);
        out.push((format!("field {w}×{h}"), buffer(&mut m, &trace)));
        m.focus = Focus::Hex;
        m.player.playing = true;
        m.decrypted = false;
        out.push((format!("hex, playing {w}×{h}"), buffer(&mut m, &trace)));
        m.overlay = Some(Overlay::Help(0));
        out.push((format!("help {w}×{h}"), buffer(&mut m, &trace)));
        m.decrypted = true;
        m.open_stream(&trace, 0);
        out.push((format!("stream {w}×{h}"), buffer(&mut m, &trace)));
    }
    // The usual layout too: the chat, its input line and the log pane.
    let mut m = live_model(&trace);
    m.theme = Theme::named(theme);
    out.push(("demo 120×40".into(), buffer(&mut m, &trace)));
    // The path view of a path of routers, its changed cells highlighted, in both layouts.
    let routers = routers();
    let n = routers_message_frame(&routers);
    for (w, h) in [(200, 55), (80, 24)] {
        let mut m = model(&routers, w, h);
        m.theme = Theme::named(theme);
        m.path = true;
        select_frame(&mut m, &routers, n);
        m.focus = Focus::Layers;
        out.push((format!("path view {w}×{h}"), buffer(&mut m, &routers)));
    }
    out
}

#[test]
fn every_cell_of_the_classroom_screens_reaches_4_5_to_1_in_every_theme() {
    for theme in super::theme::ThemeName::ALL {
        for (what, buf) in classroom_screens(theme) {
            let bad = unreadable_cells(&buf);
            assert!(
                bad.is_empty(),
                "{theme:?}, {what}: {} cells, e.g. {:#?}\n{}",
                bad.len(),
                &bad[..bad.len().min(8)],
                screen_text(&buf, buf.area)
            );
        }
    }
}

#[test]
fn the_classroom_layout_has_a_banner_no_log_and_a_heavy_focused_border() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    m.theme = Theme::named(super::theme::ThemeName::Light);
    m.classroom = true;
    m.live = true;
    m.focus = Focus::Timeline;
    let screen = draw(&mut m, &trace);
    let banner = screen.lines().nth(1).unwrap_or_default().to_string();
    assert!(banner.contains("ENDPOINTS' VIEW"), "{banner}");
    assert!(banner.contains("● LIVE"), "{banner}");
    assert!(!screen.contains("Log"), "{screen}");
    // The chat takes the log's place: taller than in the usual layout with a log.
    let mut usual = model(&trace, 120, 40);
    usual.log_lines = 5;
    let usual = layout(m.areas.screen, &usual);
    assert!(m.areas.chat.height > usual.chat.height);
    assert!(m.areas.timeline.height >= usual.timeline.height);
    // The focused pane's border is heavy, the others light.
    let buf = buffer(&mut m, &trace);
    let t = m.areas.timeline;
    assert_eq!(buf[(t.x, t.y)].symbol(), "┏");
    let l = m.areas.layers;
    assert_eq!(buf[(l.x, l.y)].symbol(), "┌");
    key(&mut m, &trace, KeyCode::Char('e'));
    key(&mut m, &trace, KeyCode::Char(' '));
    let banner = draw(&mut m, &trace)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(banner.contains("EAVESDROPPER'S VIEW"), "{banner}");
    assert!(banner.contains("▶ PLAYING"), "{banner}");
    key(&mut m, &trace, KeyCode::Char(' '));
    let banner = draw(&mut m, &trace)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(banner.contains("⏸ PAUSED"), "{banner}");
    // Tab never lands on the missing log pane.
    for _ in 0..6 {
        key(&mut m, &trace, KeyCode::Tab);
        assert_ne!(m.focus, Focus::Log);
    }
    // Without colour the focused border is still heavy.
    let mut plain = model(&trace, 80, 24);
    plain.classroom = true;
    let buf = buffer(&mut plain, &trace);
    let t = plain.areas.timeline;
    assert_eq!(buf[(t.x + t.width - 1, t.y)].symbol(), "━");
}

#[test]
fn the_lesson_pane_starts_at_its_title_and_scrolls_down() {
    let trace = tls13();
    let mut m = model(&trace, 80, 24);
    m.classroom = true;
    m.live = true;
    m.lesson = Some(long_lesson_pane());
    m.focus = Focus::Chat;
    let text_of = |m: &mut Model| {
        let buf = buffer(m, &trace);
        let inner = super::pane::inner(m.areas.chat, m.areas.screen);
        (inner.y..inner.y + inner.height)
            .map(|y| {
                (inner.x..inner.x + inner.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
    };
    let rows = text_of(&mut m);
    assert!(
        rows[0].starts_with("Step 2/3 · The frame on the wire"),
        "{rows:#?}"
    );
    assert!(rows[1].starts_with("Sentence 1 of"), "{rows:#?}");
    let mark = &rows[rows.len() - 2];
    assert!(
        mark.starts_with("↓ ") && mark.contains(" more"),
        "{rows:#?}"
    );
    // ↓ scrolls a line at a time, down to the last line and no further.
    key(&mut m, &trace, KeyCode::Down);
    assert_eq!(m.lesson.as_ref().map(|p| p.scroll), Some(1));
    assert!(text_of(&mut m)[0].starts_with("Sentence 1 of"));
    // PgDn moves a page of the pane, not a line.
    key(&mut m, &trace, KeyCode::PageDown);
    assert!(m.lesson.as_ref().is_some_and(|p| p.scroll > 2));
    for _ in 0..200 {
        key(&mut m, &trace, KeyCode::Down);
    }
    let most = super::pane::lesson::max_scroll(&m);
    assert!(most > 1);
    assert_eq!(m.lesson.as_ref().map(|p| p.scroll), Some(most));
    let rows = text_of(&mut m);
    assert!(rows.iter().any(|r| r.starts_with("- ✗ 81")), "{rows:#?}");
    assert!(rows[rows.len() - 2].starts_with("↑ "), "{rows:#?}");
    key(&mut m, &trace, KeyCode::Up);
    assert_eq!(m.lesson.as_ref().map(|p| p.scroll), Some(most - 1));
}

#[test]
fn classroom_lesson_light_120x40() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    m.theme = Theme::named(super::theme::ThemeName::Light);
    m.classroom = true;
    m.live = true;
    m.lesson = Some(lesson_pane());
    select_message(&mut m, &trace, b"hi bob\n");
    m.focus = Focus::Layers;
    assert_screen!("classroom_lesson_light_120x40", draw_masked(&mut m, &trace));
}

#[test]
fn classroom_demo_80x24() {
    let trace = tls13();
    let mut m = live_model(&trace);
    m.classroom = true;
    m.areas.screen = Rect::new(0, 0, 80, 24);
    select_message(&mut m, &trace, b"hi bob\n");
    m.focus = Focus::Timeline;
    assert_screen!("classroom_demo_80x24", draw_masked(&mut m, &trace));
}

fn tls12() -> Trace {
    sample("tls12-chat.pcapng")
}

/// The text of some lines, one per line.
fn lines_text(lines: &[ratatui::text::Line]) -> String {
    lines
        .iter()
        .map(|l| {
            let mut s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            s.push('\n');
            s
        })
        .collect()
}

/// Everything the eavesdropper's view shows of `trace` — the whole timeline, the layer columns of
/// the frames that complete the first encrypted record holding a handshake message and the first
/// holding an alert (every field's name, value and meaning) and follow stream — and the same in
/// the endpoints' view. Returns the two texts, and the handshake record's first 16 bytes in hex
/// as follow stream should show them.
fn both_views(trace: &Trace) -> (String, String, String) {
    let record = trace
        .records()
        .iter()
        .find(|r| r.info.encrypted && !r.info.handshake.is_empty())
        .expect("the sample has an encrypted handshake record");
    let alert = trace
        .records()
        .iter()
        .find(|r| r.info.encrypted && r.info.alert.is_some())
        .expect("the sample has an encrypted alert");
    let mut m = model(trace, 160, 220);
    assert!(!m.plain);
    key(&mut m, trace, KeyCode::Char('z'));
    let mut views = Vec::new();
    for _ in 0..2 {
        key(&mut m, trace, KeyCode::Char('e'));
        // The whole timeline, zoomed on a tall screen.
        assert!(m.timeline.len() + 2 < 220, "the timeline fits");
        m.timeline.follow = false;
        m.timeline.selected = 0;
        m.timeline.offset = 0;
        let mut text = draw(&mut m, trace);
        key(&mut m, trace, KeyCode::Char('z'));
        // The frames of the records, their columns on screen and every field they hold.
        for r in [alert, record] {
            let row = m.timeline.index.frame_row(r.frame).unwrap();
            m.timeline.selected = m.timeline.position_of(row);
            m.refresh_detail(trace, false);
            text.push_str(&draw(&mut m, trace));
            for f in &m.detail.fields {
                text.push_str(&format!("{} = {}: {}\n", f.name, f.value, f.meaning));
            }
            for item in m.detail.columns.iter().flatten() {
                if let super::detail::Item::Note(note) = item {
                    text.push_str(&format!("{note}\n"));
                }
            }
        }
        // Follow stream: on screen, and every line of it.
        key(&mut m, trace, KeyCode::Char('f'));
        assert!(matches!(m.overlay, Some(Overlay::Stream { .. })));
        text.push_str(&draw(&mut m, trace));
        let stream = m.stream.as_ref().map_or(0, |v| v.stream);
        text.push_str(&lines_text(&super::stream::lines(
            trace,
            &m.names,
            stream,
            m.decrypted,
            m.theme,
        )));
        key(&mut m, trace, KeyCode::Esc);
        key(&mut m, trace, KeyCode::Char('z'));
        views.push((m.decrypted, text));
    }
    let bytes = super::detail::span_bytes(
        trace,
        &trace.stream_spans(record.stream, record.dir, record.stream_range.clone()),
    );
    let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    assert!(
        !views[0].0 && views[1].0,
        "eavesdropper's view first, then the endpoints'"
    );
    (views[0].1.clone(), views[1].1.clone(), hex.join(" "))
}

#[test]
fn tls13_the_eavesdropper_sees_only_the_wire() {
    let trace = tls13();
    let (wire, endpoints, hex) = both_views(&trace);
    for name in [
        "EncryptedExtensions",
        "Certificate",
        "CertificateVerify",
        "Finished",
        "NewSessionTicket",
        "KeyUpdate",
        "close_notify",
        "inner type",
        "plaintext =",
        "→ handshake",
        "→ alert",
    ] {
        assert!(
            !wire.contains(name),
            "{name:?} in the eavesdropper's view:\n{wire}"
        );
    }
    // Every record row says only what its header says (or names the hellos, sent in clear).
    for line in wire.lines().filter(|l| l.contains("└ TLS ")) {
        let row = line.split("└ TLS ").nth(1).unwrap_or_default();
        let row = row.trim_end_matches(['│', '┃', ' ']);
        let clear = ["[ClientHello]", "[ServerHello]", "change_cipher_spec"];
        let on_wire = row
            .strip_prefix("application_data ")
            .and_then(|r| r.strip_suffix(" B"))
            .is_some_and(|n| n.parse::<usize>().is_ok());
        assert!(
            on_wire || clear.iter().any(|c| row.contains(c)),
            "{row:?} says more than the wire"
        );
    }
    // The application column cannot tell handshake records from data: all say application_data.
    assert!(!wire.contains(super::strings::NO_APP_DATA), "{wire}");
    assert!(wire.contains(super::strings::ENCRYPTED_RECORDS), "{wire}");
    assert!(
        wire.contains(&hex),
        "no ciphertext {hex} in follow stream:\n{wire}"
    );
    assert!(wire.contains("ClientHello"), "{wire}");
    for name in [
        "EncryptedExtensions",
        "Certificate",
        "CertificateVerify",
        "Finished",
        "NewSessionTicket",
        "close_notify",
        "inner type",
    ] {
        assert!(
            endpoints.contains(name),
            "{name:?} not in the endpoints' view:\n{endpoints}"
        );
    }
}

#[test]
fn tls12_the_eavesdropper_sees_record_types_not_messages() {
    let trace = tls12();
    let (wire, endpoints, hex) = both_views(&trace);
    for name in [
        "Finished",
        "KeyUpdate",
        "close_notify",
        "plaintext =",
        "→ handshake",
        "→ alert",
    ] {
        assert!(
            !wire.contains(name),
            "{name:?} in the eavesdropper's view:\n{wire}"
        );
    }
    // The record type is in clear in TLS 1.2, and so are the messages sent before ChangeCipherSpec.
    for part in [
        "TLS handshake (encrypted) ",
        "TLS alert (encrypted) ",
        "ClientHello",
        "Certificate",
        &hex,
    ] {
        assert!(
            wire.contains(part),
            "{part:?} not in the eavesdropper's view:\n{wire}"
        );
    }
    for name in ["Finished", "close_notify"] {
        assert!(
            endpoints.contains(name),
            "{name:?} not in the endpoints' view:\n{endpoints}"
        );
    }
}

#[test]
fn over_plain_tcp_the_one_view_says_nothing_is_encrypted() {
    let trace = plain();
    let mut m = model(&trace, 120, 40);
    assert!(m.plain);
    for _ in 0..2 {
        let screen = draw(&mut m, &trace);
        assert!(
            screen.contains("on the wire (plain TCP: nothing is encrypted)"),
            "{screen}"
        );
        for word in ["ciphertext", "eavesdropper's view", "endpoints' view"] {
            assert!(!screen.contains(word), "{word:?} on screen:\n{screen}");
        }
        key(&mut m, &trace, KeyCode::Char('e'));
        assert!(m.decrypted);
        assert_eq!(m.status, super::strings::NOTHING_TO_DECRYPT);
    }
    // A capture with TLS has both views.
    let trace = tls13();
    let m = model(&trace, 120, 40);
    assert!(!m.plain);
}

#[test]
fn a_lesson_focus_inside_the_encryption_is_hidden_from_the_eavesdropper() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    m.live = true;
    let mut pane = lesson_pane();
    if let Some(report) = &mut pane.report {
        report.focus = Some(Ok(crate::lesson::checks::FocusView {
            frame: 6,
            layer: crate::lesson::checks::FocusLayer::Tls,
            field: "Handshake".into(),
            value: "EncryptedExtensions, Certificate".into(),
            meaning: String::new(),
            range: None,
            inside_encryption: true,
        }));
    }
    m.lesson = Some(pane);
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("EncryptedExtensions"), "{screen}");
    key(&mut m, &trace, KeyCode::Char('e'));
    let screen = draw(&mut m, &trace);
    assert!(!screen.contains("EncryptedExtensions"), "{screen}");
    assert!(screen.contains("(encrypted:"), "{screen}");
}

/// The numbers in a strip part or column header ("1,234 B …" or "+22 B"), `None` for "—" or "?".
fn bytes_in(text: &str) -> Option<u64> {
    let digits: String = text
        .trim_start_matches('+')
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[test]
fn every_frame_of_every_sample_shows_sizes_that_add_up() {
    use crate::dissect::Layer;
    let samples = EVERY_SAMPLE;
    let mut app_records = 0;
    let mut gcm12_records = 0;
    for name in samples {
        let trace = sample(name);
        let names = super::index::Names::default();
        for entry in trace.frames() {
            let n = entry.number;
            let stack = trace.frame_stack(n).expect("every frame has sizes");
            let p = entry.headers();
            // Each layer's own bytes are its header, read from the dissection.
            let own = stack.own();
            let link = p.range(Layer::Link).map_or(0, |r| r.len() as u64);
            assert!(
                own[4].is_some_and(|o| o >= link),
                "{name} #{n}: link {own:?}"
            );
            if let (Some(ip), Some(tcp)) = (&p.ip, &p.tcp) {
                let ip_header = (tcp.header.start - ip.packet.start) as u64;
                assert_eq!(own[3], Some(ip_header), "{name} #{n}: IP header");
                if !p.payload.is_empty() {
                    assert_eq!(own[2], Some(tcp.header.len() as u64), "{name} #{n}: TCP");
                }
            }
            // A frame whose records are all handshake (or alerts) carries no application bytes.
            let records = trace.records_in_frame(n);
            let handshake_only = !records.is_empty()
                && records.iter().all(|&r| {
                    trace.records()[r]
                        .info
                        .decrypted
                        .as_ref()
                        .map_or(!trace.records()[r].info.encrypted, |d| {
                            d.content_type != crate::tls::ContentType::ApplicationData
                        })
                });
            if handshake_only {
                assert_eq!(stack.text, Some(0), "{name} #{n}: handshake frame");
            }
            // A TLS 1.3 application record: 5-byte header + text + content type byte + 16-byte tag.
            for &r in &records {
                let rec = &trace.records()[r];
                let tls13 = trace
                    .tls_session(rec.stream)
                    .is_some_and(|s| s.version == Some(0x0304));
                let text = trace.record_text(r).expect("decrypted");
                if tls13 && !text.is_empty() {
                    let len = rec.stream_range.end - rec.stream_range.start;
                    assert_eq!(len, (text.end - text.start) + 22, "{name} record {r}");
                    app_records += 1;
                }
                // A TLS 1.2 AES-GCM application record: 5-byte header + 8-byte explicit nonce +
                // text + 16-byte tag (RFC 5288 §3), and the text starts after the nonce.
                let gcm12 = trace.tls_session(rec.stream).is_some_and(|s| {
                    s.version == Some(0x0303)
                        && s.cipher_suite_name.is_some_and(|c| c.contains("_GCM_"))
                });
                if gcm12 && !text.is_empty() {
                    let len = rec.stream_range.end - rec.stream_range.start;
                    assert_eq!(len, (text.end - text.start) + 29, "{name} record {r}");
                    assert_eq!(text.start, rec.stream_range.start + 13, "{name} record {r}");
                    gcm12_records += 1;
                }
            }
            // The strip and the headers, in both views, come from the same numbers.
            for decrypted in [true, false] {
                let d = Detail::build(&trace, &names, Subject::Frame(n, None), decrypted);
                let headers: u64 = d.bytes.iter().filter_map(|b| bytes_in(b)).sum();
                let frame = d.strip.last().and_then(|(_, t)| bytes_in(t));
                assert_eq!(
                    Some(headers),
                    frame,
                    "{name} #{n}: {:?} {:?}",
                    d.bytes,
                    d.strip
                );
                // Each part is its layer's own bytes plus everything it carries.
                let mut above = 0;
                for (layer, part) in &d.strip {
                    let Some(size) = bytes_in(part) else { continue };
                    let carried: u64 = d.bytes[..=layer.index()]
                        .iter()
                        .filter_map(|b| bytes_in(b))
                        .sum();
                    assert_eq!(size, carried, "{name} #{n}: {part} vs {:?}", d.bytes);
                    assert!(size >= above, "{name} #{n}: {:?}", d.strip);
                    above = size;
                }
            }
        }
        // Every message's strip adds up too.
        for i in 0..trace.app_events().len() {
            let d = Detail::build(&trace, &names, Subject::Message(i), true);
            if d.strip.is_empty() {
                continue;
            }
            let headers: u64 = d.bytes.iter().filter_map(|b| bytes_in(b)).sum();
            let frame = d.strip.last().and_then(|(_, t)| bytes_in(t));
            assert_eq!(Some(headers), frame, "{name} message {i}: {:?}", d.bytes);
        }
    }
    assert!(
        app_records > 10,
        "the samples hold TLS 1.3 application records"
    );
    assert!(
        gcm12_records > 5,
        "the TLS 1.2 sample holds AES-GCM application records ({gcm12_records})"
    );
}

/// Selects frame `n`'s row, its columns and its bytes, as a click on it would.
fn select_frame(m: &mut Model, trace: &Trace, n: u32) {
    let row = m.timeline.index.frame_row(n).unwrap();
    m.timeline.follow = false;
    m.timeline.selected = m.timeline.position_of(row);
    let height = m.timeline_height();
    m.timeline.scroll_into_view(height);
    m.refresh_detail(trace, false);
    m.hex_frame = Some(n);
}

/// The text of `area` on `buf`, one string per row.
fn rows_of(buf: &ratatui::buffer::Buffer, area: Rect) -> Vec<String> {
    (area.y..area.y + area.height)
        .map(|y| {
            (area.x..area.x + area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect()
        })
        .collect()
}

fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The frames of item 1 of "Truth in every pane": a SYN with all its options, a ClientHello, a
/// Certificate, a data record, an ARP frame and an IPv6 frame.
fn frames_to_fit() -> Vec<(String, Trace, u32)> {
    use crate::tls::{ContentType, HandshakeType};
    let first_record = |trace: &Trace, hit: &dyn Fn(&crate::journey::RecordEntry) -> bool| {
        trace
            .records()
            .iter()
            .find(|r| hit(r))
            .map(|r| r.frame)
            .expect("the sample has it")
    };
    let mut out = Vec::new();
    let t = tls13();
    let syn = t
        .frames()
        .iter()
        .find(|f| {
            f.headers()
                .tcp
                .is_some_and(|h| h.flags == crate::dissect::TcpFlags::SYN)
        })
        .map(|f| f.number)
        .expect("a SYN");
    let hello = first_record(&t, &|r| {
        r.info.handshake.contains(&HandshakeType::ClientHello)
    });
    let data = first_record(&t, &|r| {
        r.info
            .decrypted
            .as_ref()
            .is_some_and(|d| d.content_type == ContentType::ApplicationData)
    });
    let cert13 = first_record(&t, &|r| {
        r.info.handshake.contains(&HandshakeType::Certificate)
    });
    out.push(("TLS 1.3 SYN".to_string(), tls13(), syn));
    out.push(("ClientHello".to_string(), tls13(), hello));
    out.push(("TLS 1.3 Certificate".to_string(), tls13(), cert13));
    out.push(("data record".to_string(), tls13(), data));
    let t12 = sample("tls12-chat.pcapng");
    let cert12 = first_record(&t12, &|r| {
        r.info.handshake.contains(&HandshakeType::Certificate)
    });
    out.push(("TLS 1.2 Certificate".to_string(), t12, cert12));
    let v6 = sample("ipv6-chat.pcapng");
    let v6_data = v6
        .frames()
        .iter()
        .find(|f| !f.headers().payload.is_empty())
        .map(|f| f.number)
        .expect("an IPv6 frame with data");
    out.push(("IPv6".to_string(), v6, v6_data));
    let mut arp = Trace::new();
    arp.push_frame(crate::frame::Frame {
        at: crate::frame::Timestamp(1_700_000_000_000_000_000),
        link: crate::frame::LinkType::Ethernet,
        data: crate::dissect::fixtures::eth_arp_request().into(),
        orig_len: 42,
        interface: 0,
    });
    out.push(("ARP".to_string(), arp, 1));
    out
}

/// The number and time columns of the timeline grow with the capture: at 1,234,567 frames and
/// 1234 s the number and the time stay apart and whole, under their headings.
#[test]
fn the_timeline_columns_fit_a_million_frames_and_an_hour() {
    use super::timeline::Columns;
    let cols = Columns::fitting(1_234_567, 4321.5);
    let row = format!(
        "{}{} ",
        cols.number_cell('#', 1_234_567),
        cols.time_cell(4321.5)
    );
    assert_eq!(row, "  #1234567 4321.500000 ");
    let head = cols.headings(true);
    // "Time" ends where the time ends, "Δt" where Δt ends.
    let time_end = row.trim_end().chars().count();
    assert_eq!(head.find("Time").map(|i| i + 4), Some(time_end), "{head}");
    let with_delta = format!("{row}{} ", cols.time_cell(4321.5))
        .trim_end()
        .to_string();
    // (All before "Δt" is ASCII: its byte index counts columns.)
    assert_eq!(
        head.find("Δt").map(|i| i + 2),
        Some(with_delta.chars().count()),
        "{head} over {with_delta}"
    );
    // A time wider than the column still has a space before it.
    let small = Columns::default();
    assert_eq!(
        format!(
            "{}{}",
            small.number_cell('#', 123_456),
            small.time_cell(12_345.0)
        ),
        "  #123456 12345.000000"
    );

    // Drawn: three ARP frames, the last 1500 s after the first.
    let mut trace = Trace::new();
    for secs in [0, 1, 1500] {
        trace.push_frame(crate::frame::Frame {
            at: crate::frame::Timestamp(1_700_000_000_000_000_000 + secs * 1_000_000_000),
            link: crate::frame::LinkType::Ethernet,
            data: crate::dissect::fixtures::eth_arp_request().into(),
            orig_len: 42,
            interface: 0,
        });
    }
    for (w, h) in [(80, 24), (120, 40)] {
        let mut m = model(&trace, w, h);
        let screen = draw(&mut m, &trace);
        let head = screen
            .lines()
            .find(|l| l.contains("No."))
            .expect("the headings");
        let row = screen
            .lines()
            .find(|l| l.contains("#3 "))
            .expect("frame 3 on screen");
        assert!(row.contains("#3     1500.000000 "), "{row}");
        let column = |line: &str, what: &str| {
            line.find(what)
                .map(|i| line[..i].chars().count() + what.chars().count())
        };
        assert_eq!(
            column(head, "Time"),
            column(row, "1500.000000"),
            "{head}\n{row}"
        );
    }
}

#[test]
fn no_value_is_cut_without_a_mark_at_any_size() {
    let sizes = [(60, 18), (80, 24), (120, 40), (200, 55)];
    let mut checked = 0;
    for (what, trace, n) in frames_to_fit() {
        for (w, h) in sizes {
            for decrypted in [true, false] {
                let mut m = model(&trace, w, h);
                m.decrypted = decrypted;
                select_frame(&mut m, &trace, n);
                let buf = buffer(&mut m, &trace);
                let at = format!("{what} (#{n}) at {w}×{h}, decrypted {decrypted}");
                // The layer columns: each field's whole value is on screen, or the column says
                // that some are out of sight.
                for layer in UiLayer::ALL {
                    let col = m.areas.columns[layer.index()];
                    if col.height == 0 || col.width == 0 {
                        continue;
                    }
                    let rows = rows_of(&buf, col);
                    let text = squeezed(&rows.concat());
                    let marked = rows.iter().any(|r| r.contains('↓') || r.contains('↑'));
                    let shown: Vec<bool> = m
                        .detail
                        .column_fields(layer)
                        .iter()
                        .map(|&f| text.contains(&squeezed(&m.detail.fields[f].value)))
                        .collect();
                    if shown.iter().any(|s| !s) {
                        assert!(
                            marked,
                            "{at}: {layer:?} cuts a value without a mark: {rows:#?}"
                        );
                    }
                    checked += shown.iter().filter(|s| **s).count();
                }
                // The strip: every size in it is on screen.
                let strip = rows_of(&buf, m.areas.strip).concat();
                for (_, part) in &m.detail.strip {
                    let number = part.split(' ').next().unwrap_or_default();
                    assert!(strip.contains(number), "{at}: strip {strip:?} lacks {part}");
                }
                // The bytes pane: every line of the frame is there, or a mark says how many
                // are below.
                let hex = super::pane::inner(m.areas.hex, m.areas.screen);
                if hex.height > 1 {
                    let rows = rows_of(&buf, hex);
                    let per = super::hex::bytes_per_line(hex.width);
                    let len = trace.frame(n).expect("the frame").frame.data.len();
                    let dump = rows
                        .iter()
                        .filter(|r| r.get(..6).is_some_and(|o| o.ends_with("  ")))
                        .filter(|r| u32::from_str_radix(&r[..4], 16).is_ok())
                        .count();
                    let marked = rows.iter().any(|r| r.contains("↓"));
                    assert!(
                        dump >= len.div_ceil(per) || marked,
                        "{at}: bytes pane shows {dump} of {} lines, no mark: {rows:#?}",
                        len.div_ceil(per)
                    );
                }
                // The timeline: each row whole, or ending in the "…" mark.
                let t = m.areas.timeline_rows;
                let t0 = trace.frames().first().map_or(0, |f| f.frame.at.0);
                let state = &m.timeline;
                for (k, row) in rows_of(&buf, t).iter().enumerate() {
                    let Some(row_index) = state.row_at(state.offset + k) else {
                        continue;
                    };
                    let line = super::timeline::row_line(
                        &trace,
                        &m.names,
                        &state.index,
                        row_index,
                        super::timeline::Clock {
                            t0,
                            previous: super::pane::timeline::previous_frame_at(
                                &m,
                                &trace,
                                state.offset + k,
                            ),
                            delta: t.width >= super::timeline::DELTA_MIN_WIDTH,
                            columns: super::timeline::Columns::of(&trace),
                        },
                        state.reveal,
                        m.theme,
                    );
                    let full: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                    let row = row.trim_end();
                    assert!(
                        row == full.trim_end() || row.ends_with('…'),
                        "{at}: timeline row cut: {row:?} of {full:?}"
                    );
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} values were checked");
    // The chat and the log, with more lines than fit and lines longer than a row.
    let trace = tls13();
    for (w, h) in sizes {
        let at = format!("{w}×{h}");
        let mut m = model(&trace, w, h);
        let long = format!("{} end", "a long line that wraps onto more rows ".repeat(4));
        for k in 0..12 {
            let text = if k % 5 == 2 {
                long.clone()
            } else {
                format!("line {k}")
            };
            m.chat.push(super::model::ChatLine {
                who: "alice".into(),
                text,
                incoming: k % 2 == 1,
            });
        }
        let buf = buffer(&mut m, &trace);
        assert_chat_whole(&buf, &m, &at);
        // Scrolled back, the long line may be the newest shown.
        m.chat_scroll = 3;
        let buf = buffer(&mut m, &trace);
        assert_chat_whole(&buf, &m, &format!("{at}, scrolled back 3"));
        // The log: each event on one row from its start, a long one ending in "…".
        log_for_test();
        m.log_state = Some(tui_logger::TuiWidgetState::new());
        m.log_lines = 2;
        let buf = buffer(&mut m, &trace);
        let rows = rows_of(&buf, super::pane::inner(m.areas.log, m.areas.screen));
        let mut ours = 0;
        for row in rows.iter().map(|r| r.trim_end()).filter(|r| !r.is_empty()) {
            // "12:00:01 W …": the start of an event.
            let b = row.as_bytes();
            let start = b.len() > 11
                && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
                && b[2] == b':'
                && b[5] == b':'
                && b[8] == b' '
                && b"EWIDT".contains(&b[9])
                && b[10] == b' ';
            assert!(start, "{at}: a log row without its start: {row:?}");
            if row.contains(LOG_MARK) {
                ours += 1;
                assert!(
                    row.ends_with(LOG_LONG) || row.ends_with(LOG_SHORT) || row.ends_with('…'),
                    "{at}: log row cut without a mark: {row:?}"
                );
            }
        }
        assert!(
            ours > 0,
            "{at}: the newest log lines are not shown: {rows:#?}"
        );
    }
}

/// What the log tests write: a mark to find their rows, and a line too long for any pane.
const LOG_MARK: &str = "LT ";
const LOG_SHORT: &str = "LT short";
const LOG_LONG: &str = "LT a line longer than the log pane is wide at any of the sizes tested here, so that it must be cut, with a mark, at the end";

/// Starts the log pane's collector once, and logs the test lines (newest last).
fn log_for_test() {
    static START: std::sync::Once = std::sync::Once::new();
    START.call_once(|| {
        super::init_logging().expect("the log collector starts");
    });
    tracing::warn!("{LOG_LONG}");
    tracing::warn!("{LOG_SHORT}");
    tui_logger::move_events();
}

/// The chat pane shows whole lines: its first row starts a line, every line that starts on
/// screen is there to its end (or its last row ends in "…" when it alone is taller than the
/// pane), and the title says how many lines are above and below.
fn assert_chat_whole(buf: &ratatui::buffer::Buffer, m: &Model, at: &str) {
    let inner = super::pane::inner(m.areas.chat, m.areas.screen);
    let title = rows_of(
        buf,
        Rect {
            height: 1,
            ..m.areas.chat
        },
    )[0]
    .clone();
    let rows: Vec<String> = rows_of(
        buf,
        Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        },
    )
    .into_iter()
    .map(|r| r.trim_end().to_string())
    .filter(|r| !r.is_empty())
    .collect();
    let end = m.chat.len() - m.chat_scroll;
    let starts: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.starts_with("alice ▸ ")
                || r.starts_with("alice ◂ ")
                || r.starts_with("bob ")
                || r.starts_with("server ")
        })
        .map(|(i, _)| i)
        .collect();
    if rows.is_empty() {
        return;
    }
    assert_eq!(
        starts.first(),
        Some(&0),
        "{at}: the chat starts mid-line: {rows:#?}"
    );
    let shown = starts.len();
    let text = rows.concat();
    let last_lines = &m.chat[end - shown..end];
    let text = squeezed(&text);
    for l in last_lines {
        assert!(
            text.contains(&squeezed(&l.text)) || rows.last().is_some_and(|r| r.ends_with('…')),
            "{at}: {:?} is cut: {rows:#?}",
            l.text
        );
    }
    // "↑ 3 above", or "↑3" in a narrow pane's title.
    let says = |arrow: char, n: usize, word: &str| {
        title.contains(&format!("{arrow} {n} {word}")) || title.contains(&format!("{arrow}{n} "))
    };
    let above = end - shown;
    assert_eq!(above > 0, title.contains('↑'), "{at}: {title:?}");
    if above > 0 {
        assert!(says('↑', above, "above"), "{at}: {title:?}");
    }
    if m.chat_scroll > 0 {
        assert!(says('↓', m.chat_scroll, "more"), "{at}: {title:?}");
    }
}

/// The path view (a path of routers) cuts no value without a mark either: every copy's frame,
/// interface, TTL, checksum and MAC addresses are on screen, or the title says "↓ N more"; a
/// line cut short ends in "…".
#[test]
fn no_value_of_the_path_view_is_cut_without_a_mark_at_any_size() {
    let trace = routers();
    let n = routers_message_frame(&trace);
    let copies = super::pane::path::copies(&trace, n);
    assert_eq!(copies.len(), 6);
    let mut checked = 0;
    for (w, h) in [(60, 18), (80, 24), (120, 40), (200, 55)] {
        for zoom in [false, true] {
            let mut m = model(&trace, w, h);
            m.path = true;
            select_frame(&mut m, &trace, n);
            if zoom {
                m.focus = Focus::Layers;
                m.zoom = true;
            }
            let buf = buffer(&mut m, &trace);
            let at = format!("{w}×{h}, zoom {zoom}");
            let area = m.areas.layers;
            let rows = rows_of(&buf, area);
            let marked = rows.first().is_some_and(|r| r.contains('↓'));
            let text = squeezed(&rows.concat());
            for c in &copies {
                let (src, dst) = c.macs.clone().expect("Ethernet");
                for value in [
                    format!("#{}", c.frame),
                    c.interface.clone(),
                    format!("0x{:04x}", c.checksum.expect("IPv4")),
                    src,
                    dst,
                ] {
                    if text.contains(&squeezed(&value)) {
                        checked += 1;
                    } else {
                        assert!(marked, "{at}: {value} cut without a mark: {rows:#?}");
                    }
                }
            }
            // A line cut short says so.
            let inner = super::pane::inner(area, m.areas.screen);
            let lines = super::pane::path::lines(&trace, n, inner.width, m.theme).expect("copies");
            for (line, row) in lines.iter().zip(rows_of(&buf, inner)) {
                let full: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                assert!(
                    row.trim_end() == full.trim_end() || row.trim_end().ends_with('…'),
                    "{at}: {row:?} of {full:?}"
                );
            }
            // Zoomed from 80×24, or from 120×40, everything fits.
            if (zoom && h >= 24) || h >= 40 {
                assert!(!marked, "{at}: {rows:#?}");
            }
        }
    }
    assert!(checked > 150, "only {checked} values were checked");
}

#[test]
fn the_title_says_when_a_pane_is_zoomed() {
    let trace = tls13();
    let mut m = model(&trace, 120, 40);
    assert!(!draw(&mut m, &trace).contains("zoomed"));
    key(&mut m, &trace, KeyCode::Char('z'));
    let screen = draw(&mut m, &trace);
    let title = screen.lines().next().unwrap_or_default();
    assert!(title.contains("zoomed (z: all panes)"), "{title}");
    key(&mut m, &trace, KeyCode::Char('z'));
    assert!(!draw(&mut m, &trace).contains("zoomed"));
}

/// An ICMP or UDP frame fills the transport column, titled after its protocol, and the strip
/// and the column headers add up as for TCP.
#[test]
fn icmp_and_udp_frames_fill_the_transport_column() {
    use crate::dissect::fixtures::*;
    use crate::frame::{Frame, LinkType, Timestamp};
    let frames = [
        eth_icmp_time_exceeded(),
        eth_udp(None),
        eth_icmpv6_too_big(),
    ]
    .iter()
    .enumerate()
    .map(|(i, data)| Frame {
        at: Timestamp::from_parts(1_700_000_000 + i as i64, 0),
        link: LinkType::Ethernet,
        data: bytes::Bytes::from(data.clone()),
        orig_len: data.len() as u32,
        interface: 0,
    })
    .collect();
    let trace = Trace::from_frames(frames, crate::tls::Keys::default());
    let names = super::index::Names::default();
    let d = Detail::build(&trace, &names, Subject::Frame(1, None), true);
    assert_eq!(d.title(UiLayer::Tcp), "ICMP");
    let column: Vec<&str> = d
        .column_fields(UiLayer::Tcp)
        .iter()
        .map(|&i| d.fields[i].name.as_str())
        .collect();
    assert!(
        column.starts_with(&["Type", "Code", "Checksum", "Unused", "Original packet"]),
        "{column:?}"
    );
    assert!(column.contains(&"Original destination port"));
    let strip: Vec<&str> = d.strip.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(strip, ["48 B ICMP message", "68 B IP packet", "82 B frame"]);
    assert_eq!(d.bytes[2], "+48 B");

    let d = Detail::build(&trace, &names, Subject::Frame(2, None), true);
    assert_eq!(d.title(UiLayer::Tcp), "UDP");
    let strip: Vec<&str> = d.strip.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        strip,
        [
            "5 B data",
            "13 B UDP datagram",
            "33 B IP packet",
            "47 B frame"
        ]
    );
    assert_eq!(
        d.fields[d.column_fields(UiLayer::Application)[0]].value,
        "\"hello\""
    );

    let d = Detail::build(&trace, &names, Subject::Frame(3, None), true);
    assert_eq!(d.title(UiLayer::Tcp), "ICMPv6");
    assert_eq!(d.title(UiLayer::Ip), "IP");
}

// A path of routers: captures/routers-chat.pcapng, made by
// `packetpath trace "hi bob" --link routers:2 --write …` (every interface captured at once).

fn routers() -> Trace {
    sample("routers-chat.pcapng")
}

/// The frame that carries "hi bob" on the client's link (the original of its copies).
fn routers_message_frame(trace: &Trace) -> u32 {
    let event = trace
        .app_events()
        .iter()
        .find(|e| e.bytes.as_ref() == b"hi bob\n")
        .expect("the sample has the line");
    let journey = trace.journey(event).expect("its journey");
    *journey.frames.first().expect("a frame")
}

#[test]
fn the_path_view_shows_every_copy_and_what_each_router_changed() {
    let trace = routers();
    let n = routers_message_frame(&trace);
    assert_eq!(trace.path_of(n).len(), 6, "client, r1 ×2, r2 ×2, server");
    let mut m = model(&trace, 200, 55);
    select_frame(&mut m, &trace, n);
    assert!(!m.path);
    key(&mut m, &trace, KeyCode::Char('r'));
    assert!(m.path, "r opens the path view");
    let screen = draw(&mut m, &trace);
    for want in [
        "client at",
        "ms → r1",
        "→ r2",
        "→ server",
        "client-eth0",
        "r1-eth0",
        "r2-eth1",
        "server-eth0",
        "02:73:00:00:01:01",
        "02:73:00:00:03:02",
        "above IP: 61 B identical",
        "on all 6 interfaces ✓",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    // The TTL falls by one at each router.
    let copies = super::pane::path::copies(&trace, n);
    let ttls: Vec<u8> = copies.iter().filter_map(|c| c.ttl).collect();
    assert_eq!(ttls, vec![64, 64, 63, 63, 62, 62]);
    assert!(copies.iter().all(|c| c.identical));
    // The timeline indents the copies and counts packets and copies honestly.
    assert!(
        screen.contains("120 frames (30 packets + 90 copies on other links, ↳)"),
        "{screen}"
    );
    assert!(screen.contains(&format!("r1-eth0: the same packet as #{n}, TTL 64")));
    // A frame seen on one interface only (ARP) keeps the layer columns, which say why.
    let arp = trace
        .frames()
        .iter()
        .find(|f| f.headers().arp.is_some())
        .map(|f| f.number)
        .expect("ARP on the first link");
    select_frame(&mut m, &trace, arp);
    let screen = draw(&mut m, &trace);
    assert!(screen.contains("Layers ·"), "{screen}");
    assert!(screen.contains("no path to show"), "{screen}");
    select_frame(&mut m, &trace, n);
    key(&mut m, &trace, KeyCode::Char('r'));
    assert!(!m.path, "r again gives the columns back");
}

#[test]
fn the_path_view_marks_the_changed_fields() {
    let trace = routers();
    let n = routers_message_frame(&trace);
    let theme = Theme::colored();
    let lines = super::pane::path::lines(&trace, n, 78, theme).expect("copies");
    let changed: Vec<String> = lines
        .iter()
        .flat_map(|l| l.spans.iter())
        .filter(|s| s.style == theme.warn())
        .map(|s| s.content.trim().to_string())
        .collect();
    // TTL 63 and 62 appear changed (once each, where they fall), and so do the checksums and
    // the MACs of each new link.
    assert!(changed.contains(&"63".to_string()), "{changed:?}");
    assert!(changed.contains(&"62".to_string()), "{changed:?}");
    assert!(
        changed.iter().any(|c| c.starts_with("0x")),
        "checksums: {changed:?}"
    );
    assert!(
        changed.iter().any(|c| c.contains("02:73:00:00:02:01")),
        "MACs: {changed:?}"
    );
    // The frame selected in the timeline is marked among the copies, in both layouts.
    let copy = trace.path_of(n)[2];
    for width in [78, 200] {
        let lines = super::pane::path::lines(&trace, copy, width, theme).expect("copies");
        let selected: Vec<String> = lines
            .iter()
            .flat_map(|l| l.spans.iter())
            .filter(|s| s.style == theme.selected())
            .map(|s| s.content.trim().to_string())
            .collect();
        assert_eq!(selected, vec![format!("#{copy}")], "width {width}");
    }
    // A frame seen once has no path view.
    let arp = trace
        .frames()
        .iter()
        .find(|f| f.headers().ip.is_none())
        .map(|f| f.number);
    if let Some(arp) = arp {
        assert!(super::pane::path::lines(&trace, arp, 78, theme).is_none());
    }
}

#[test]
fn the_path_view_follows_a_packet_into_its_fragments() {
    // captures/routers-fragments.pcapng: the client's first fragment (#5) crosses link 1, and
    // r1 cuts it into #11, #13, #15 for the 576-byte link.
    let trace = sample("routers-fragments.pcapng");
    let theme = Theme::colored();
    let text = |n: u32| {
        super::pane::path::lines(&trace, n, 100, theme)
            .expect("copies")
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let first = text(5);
    assert!(first.contains("IP fragment 1 of 2"), "{first}");
    assert!(first.contains("r1 cut it into #11, #13, #15"), "{first}");
    let piece = text(13);
    assert!(piece.contains("IP fragment 2 of 4"), "{piece}");
    assert!(piece.contains("cut by a router from #5"), "{piece}");
    assert!(piece.contains("(a fragment's data: end to end)"), "{piece}");
    assert!(!piece.contains("cut it into"), "{piece}");
}

#[test]
fn routers_path_80x24() {
    let trace = routers();
    let n = routers_message_frame(&trace);
    let mut m = model(&trace, 80, 24);
    m.path = true;
    select_frame(&mut m, &trace, n);
    assert_screen!("routers_path_80x24", draw_masked(&mut m, &trace));
}

#[test]
fn routers_path_120x40() {
    let trace = routers();
    let n = routers_message_frame(&trace);
    let mut m = model(&trace, 120, 40);
    m.path = true;
    select_frame(&mut m, &trace, n);
    assert_screen!("routers_path_120x40", draw_masked(&mut m, &trace));
}

/// The time graphs (`t`) of the small-MSS chat's connection, with kernel samples as a transfer
/// would take them: every graph draws at 80×24 and 200×55, the cursor moves and zooms, and
/// Enter selects the frame under the cursor in the timeline.
#[test]
fn time_graphs_draw_and_select_a_frame() {
    use crate::tcpinfo::TcpInfoSample;
    let mut trace = sample("small-mss.pcapng");
    let (client, server) = {
        let c = trace.tcp().connection(0).expect("connection 0");
        (c.client, c.server)
    };
    let t0 = trace.frames()[0].frame.at.0;
    for i in 0..40u32 {
        trace.add_tcp_info(TcpInfoSample {
            at: t0 + i128::from(i) * 200_000,
            conn: crate::chat::ConnId { client, server },
            // The server's socket: its relayed line is the connection's larger direction.
            side: crate::chat::Side::Server,
            rtt_us: 120 + 3 * i,
            rttvar_us: 60,
            rto_us: 201_000,
            snd_cwnd: 10 << (i / 10).min(2),
            snd_ssthresh: if i < 30 { 0x7fff_ffff } else { 20 },
            snd_mss: 524,
            total_retrans: 0,
            ca_state: 0,
            bytes_acked: None,
            delivery_rate: None,
            min_rtt_us: None,
            snd_wnd: None,
        });
    }
    for (w, h) in [(80u16, 24u16), (200, 55)] {
        let mut m = model(&trace, w, h);
        key(&mut m, &trace, KeyCode::Char(':'));
        for c in "14".chars() {
            key(&mut m, &trace, KeyCode::Char(c));
        }
        key(&mut m, &trace, KeyCode::Enter);
        key(&mut m, &trace, KeyCode::Char('t'));
        assert_eq!(m.overlay, Some(Overlay::Graphs), "{}", m.status);
        let stevens = draw(&mut m, &trace);
        assert!(stevens.contains("time-sequence (Stevens)"), "{stevens}");
        assert!(stevens.contains("kB sent"), "{stevens}");
        assert_screen!(format!("graphs_stevens_{w}x{h}"), stevens);
        key(&mut m, &trace, KeyCode::Tab);
        let rtt = draw(&mut m, &trace);
        assert!(
            rtt.contains("round-trip time") && rtt.contains("ms"),
            "{rtt}"
        );
        key(&mut m, &trace, KeyCode::Tab);
        key(&mut m, &trace, KeyCode::Tab);
        let window = draw(&mut m, &trace);
        assert!(window.contains("congestion window"), "{window}");
        assert_screen!(format!("graphs_window_{w}x{h}"), window);
        for _ in 0..10 {
            key(&mut m, &trace, KeyCode::Right);
        }
        key(&mut m, &trace, KeyCode::Char('+'));
        let g = m.graphs.as_ref().expect("graphs open");
        assert!(g.to - g.from < g.cursor.max(1e-9) * 4.0);
        let frame = g.frame_at_cursor().expect("a frame under the cursor");
        key(&mut m, &trace, KeyCode::Enter);
        assert_eq!(m.overlay, None);
        assert_eq!(m.hex_frame, Some(frame), "{}", m.status);
    }
}

/// `t` on a capture too large to go through between two screens (here, two frames a turn): the
/// graphs are made a slice each turn of the loop while the status line says how far and keys are
/// answered; another `t` on the same connection goes on, Esc cancels; when they are done their
/// overlay opens, the graphs made at once.
#[test]
fn time_graphs_are_made_over_turns_of_the_loop() {
    use crate::journey::timing::Budget;
    let trace = sample("small-mss.pcapng");
    let mut m = model(&trace, 120, 40);
    m.graphs_budget = Budget::Frames(2);
    key(&mut m, &trace, KeyCode::Char(':'));
    for c in "14".chars() {
        key(&mut m, &trace, KeyCode::Char(c));
    }
    key(&mut m, &trace, KeyCode::Enter);
    key(&mut m, &trace, KeyCode::Char('t'));
    assert_eq!(m.overlay, None);
    assert!(m.continue_graphs(&trace));
    let screen = draw(&mut m, &trace);
    assert!(
        screen.contains("making the time graphs of connection 0: ")
            && screen.contains("Esc cancels"),
        "{screen}"
    );
    // Keys are answered meanwhile.
    let selected = m.timeline.selected;
    key(&mut m, &trace, KeyCode::Char('k'));
    assert_eq!(m.timeline.selected + 1, selected);
    key(&mut m, &trace, KeyCode::Char('j'));
    // Another `t` goes on with the graphs being made.
    let percent = m.graphs_job.as_ref().map(|j| j.percent());
    assert!(percent.is_some_and(|p| p > 0 && p < 100), "{percent:?}");
    key(&mut m, &trace, KeyCode::Char('t'));
    assert_eq!(m.graphs_job.as_ref().map(|j| j.percent()), percent);
    // Esc cancels them.
    key(&mut m, &trace, KeyCode::Esc);
    assert!(m.graphs_job.is_none() && m.overlay.is_none());
    assert!(m.status.contains("cancelled"), "{}", m.status);
    assert!(!m.continue_graphs(&trace));
    // Again, to the end: many turns, then the overlay.
    key(&mut m, &trace, KeyCode::Char('t'));
    let mut turns = 1;
    while m.continue_graphs(&trace) {
        assert_eq!(m.overlay, None);
        turns += 1;
        assert!(turns <= trace.frames().len(), "never done");
    }
    assert!(turns >= trace.frames().len() / 2, "{turns} turns");
    assert_eq!(m.overlay, Some(Overlay::Graphs));
    assert!(m.graphs_job.is_none());
    assert_eq!(m.graphs, super::graphs::Graphs::open(&trace, 0).ok());
    assert!(draw(&mut m, &trace).contains("time-sequence (Stevens)"));
}

/// How many times `word` stands as a whole word in `text` (not inside a longer number or name).
fn whole_words(text: &str, word: &str) -> usize {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '.');
    text.match_indices(word)
        .filter(|(at, _)| {
            !alnum(text[..*at].chars().next_back())
                && !alnum(text[at + word.len()..].chars().next())
        })
        .count()
}

/// The explanation line under the columns says each field's value once: "Sequence number =
/// 4284410332: the initial sequence number…", not "… = 4284410332: 4284410332: …".
#[test]
fn the_explanation_line_says_the_value_once() {
    let samples = EVERY_SAMPLE;
    let mut checked = 0;
    let mut failures = Vec::new();
    for name in samples {
        let trace = sample(name);
        let names = super::index::Names::default();
        let mut subjects: Vec<Subject> = trace
            .frames()
            .iter()
            .map(|f| Subject::Frame(f.number, None))
            .collect();
        subjects.extend((0..trace.app_events().len()).map(Subject::Message));
        for subject in subjects {
            for decrypted in [true, false] {
                let d = Detail::build(&trace, &names, subject, decrypted);
                for field in &d.fields {
                    let (head, text) = super::pane::layers::explanation_line(field);
                    let value = field.value.trim_start_matches('[').trim_end_matches(']');
                    // The first word of the value ("0xfe30" of "0xfe30 [offloaded]", "20" of
                    // "20 bytes (5 words)") does not open the explanation again…
                    let first = value.split(' ').next().unwrap_or_default();
                    let lead = text.split([':', ',']).next().unwrap_or_default();
                    let restated = lead.split(' ').count() <= 3 && whole_words(lead, first) > 0;
                    // …and a value of more than a digit or two is not said again anywhere.
                    let again = value.chars().count() > 2 && whole_words(&text, value) > 0;
                    if restated || again {
                        failures.push((
                            field.name.clone(),
                            format!("{name} {subject:?}: {head}{text}"),
                        ));
                    }
                    checked += 1;
                }
            }
        }
    }
    // One example of each field that says its value twice.
    failures.sort();
    failures.dedup_by(|a, b| a.0 == b.0);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked > 5000, "only {checked} fields were checked");
}

/// The timeline gets 40% of a tall screen (a third at 80×24; at 120×40 the columns and the
/// bytes need their rows), and the log pane only the rows its lines need: none while it is
/// empty (Tab skips it then), one a line up to 40% of its column.
#[test]
fn the_timeline_gets_room_and_the_log_only_the_rows_it_needs() {
    let trace = tls13();
    for (w, h, rows) in [(80, 24, 5), (120, 40, 7), (200, 55, 18)] {
        let mut m = model(&trace, w, h);
        assert!(
            m.areas.timeline_rows.height >= rows,
            "{w}×{h}: {} timeline rows",
            m.areas.timeline_rows.height
        );
        assert_eq!(m.areas.log.height, 0, "{w}×{h}: an empty log has no pane");
        for _ in 0..6 {
            key(&mut m, &trace, KeyCode::Tab);
            assert_ne!(m.focus, Focus::Log, "{w}×{h}");
        }
        let borders = if h < 30 || w < 100 { 1 } else { 2 };
        m.log_lines = 1;
        m.set_areas(layout(m.areas.screen, &m));
        assert_eq!(
            m.areas.log.height,
            1 + borders,
            "{w}×{h}: one line, one row"
        );
        let column = m.areas.log.height + m.areas.chat.height;
        m.log_lines = 1000;
        m.set_areas(layout(m.areas.screen, &m));
        assert_eq!(m.areas.log.height, column * 2 / 5, "{w}×{h}: at most 40%");
        assert!(m.areas.chat.height > m.areas.log.height, "{w}×{h}");
    }
}
