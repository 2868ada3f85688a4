//! Follow stream as a virtual list: the screens it shows, page after page, are the whole
//! conversation's lines, and what it makes does not grow with the stream.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::{lines, Maker, StreamView};
use crate::frame::{Frame, LinkType, Timestamp};
use crate::journey::Trace;
use crate::ui::index::Names;
use crate::ui::model::Model;
use crate::ui::theme::Theme;
use crate::ui::update::{update, Msg};
use crate::ui::view::layout;

fn sample(name: &str) -> Trace {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    let (trace, damage) =
        crate::capture::open_capture(&path, None, &mut |_, _| {}).expect("the sample reads");
    assert!(damage.is_none(), "{name} is damaged");
    trace
}

fn text(lines: &[ratatui::text::Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// Reads the view from the top a line at a time, as the user would with ↓: the first line of
/// each screen, then the whole last screen.
fn read_through(view: &mut StreamView, m: Maker, rows: usize) -> Vec<String> {
    view.to_top(m);
    let mut out = Vec::new();
    loop {
        let (shown, _, _) = view.screen(rows);
        let before = view.top;
        view.scroll(m, 1);
        if view.top == before {
            out.extend(text(&shown));
            return out;
        }
        out.extend(text(&shown).into_iter().take(1));
    }
}

#[test]
fn screen_after_screen_is_the_whole_conversation_in_both_views() {
    for name in ["tls13-chat.pcapng", "plain-chat.pcapng"] {
        let trace = sample(name);
        let names = Names::default();
        let m = Maker {
            trace: &trace,
            names: &names,
            theme: Theme::no_color(),
        };
        for stream in 0..trace.tcp().connections().len() {
            for decrypted in [true, false] {
                let whole = text(&lines(&trace, &names, stream, decrypted, m.theme));
                for rows in [1, 3, 7, 40] {
                    let mut view = StreamView::open(m, stream, decrypted, rows);
                    let read = read_through(&mut view, m, rows);
                    assert_eq!(
                        read, whole,
                        "{name} stream {stream} {decrypted} {rows} rows"
                    );
                }
            }
        }
    }
}

/// A TCP segment from 127.0.0.1:`sport` to 127.0.0.1:`dport` (checksums not computed).
fn segment(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00, 0x45, 0x00]);
    f.extend_from_slice(&(40 + payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&[0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0]);
    f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A plain TCP connection whose client sends `n` lines, one segment each.
fn long_plain_stream(n: u32) -> Trace {
    let mut trace = Trace::new();
    let mut push = |k: i128, bytes: Vec<u8>| {
        trace.push_frame(Frame {
            at: Timestamp(k * 1_000_000),
            link: LinkType::Ethernet,
            orig_len: bytes.len() as u32,
            interface: 0,
            data: bytes.into(),
        });
    };
    push(0, segment(40000, 7000, 0, 0, 0x02, b""));
    push(1, segment(7000, 40000, 0, 1, 0x12, b""));
    push(2, segment(40000, 7000, 1, 1, 0x10, b""));
    let mut seq = 1u32;
    for i in 0..n {
        let line = format!("line {i}\n");
        push(
            3 + i128::from(i),
            segment(40000, 7000, seq, 1, 0x18, line.as_bytes()),
        );
        seq += line.len() as u32;
    }
    trace
}

fn key(m: &mut Model, trace: &Trace, code: KeyCode) {
    update(m, trace, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Follow stream opened on a stream of `n` segments at 80×24, taken to its end and back: the
/// lines it holds, the lines it made for that, and the last screen's text.
fn open_and_walk(n: u32) -> (usize, usize, usize, String) {
    let trace = long_plain_stream(n);
    let mut m = Model::new(false, "t".into(), Vec::new(), Theme::no_color());
    let areas = layout(Rect::new(0, 0, 80, 24), &m);
    m.set_areas(areas);
    m.sync(&trace);
    m.open_stream(&trace, 0);
    let opened = m.stream.as_ref().map_or(0, |v| v.lines_made);
    key(&mut m, &trace, KeyCode::Char('G'));
    let at_end = m.stream.as_ref().map_or(0, |v| v.lines_made) - opened;
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    term.draw(|f| crate::ui::view::view(f, &m, &trace)).unwrap();
    let screen: String = {
        let buf = term.backend().buffer();
        (0..24)
            .map(|y| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
            .collect()
    };
    let made = m.stream.as_ref().map_or(0, |v| v.lines_made);
    term.draw(|f| crate::ui::view::view(f, &m, &trace)).unwrap();
    assert_eq!(
        m.stream.as_ref().map_or(0, |v| v.lines_made),
        made,
        "drawing makes no lines"
    );
    key(&mut m, &trace, KeyCode::Char('g'));
    assert_eq!(m.stream.as_ref().map(|v| v.top.entry), Some(0));
    let held = m.stream.as_ref().map_or(0, StreamView::lines_held);
    (opened, at_end, held, screen)
}

#[test]
fn follow_stream_makes_only_the_lines_around_the_screen() {
    let (opened_small, end_small, held_small, screen_small) = open_and_walk(500);
    let (opened, end, held, screen) = open_and_walk(20_000);
    // 20 rows of text: a screen and two margins, whatever the stream's length.
    assert!(opened <= 3 * 20 + 2, "{opened} lines made to open");
    assert!(end <= 3 * 20 + 2, "{end} lines made to go to the end");
    assert!(held <= 3 * 20 + 2, "{held} lines held");
    assert_eq!((opened, end, held), (opened_small, end_small, held_small));
    assert!(screen.contains("line 19999"), "{screen}");
    assert!(!screen.contains("more segments"), "{screen}");
    assert!(screen_small.contains("line 499"), "{screen_small}");
}

#[test]
fn the_mark_says_how_many_segments_are_below() {
    let trace = long_plain_stream(100);
    let names = Names::default();
    let m = Maker {
        trace: &trace,
        names: &names,
        theme: Theme::no_color(),
    };
    let mut view = StreamView::open(m, 0, true, 10);
    let (shown, below, _) = view.screen(10);
    // The heading and 9 lines: 91 segments below.
    assert_eq!(
        text(&shown).get(1).map(String::as_str),
        Some("client :40000 → server: line 0")
    );
    assert_eq!(below, 91);
    view.scroll(m, 5);
    assert_eq!(view.top.entry, 5);
    view.scroll(m, -100);
    assert_eq!(view.top, super::Pos::default());
    view.scroll(m, 1_000);
    let (shown, below, rest) = view.screen(10);
    assert_eq!((below, rest), (0, 0));
    assert_eq!(
        text(&shown).last().map(String::as_str),
        Some("client :40000 → server: line 99")
    );
}
