//! A demo that runs for a class hour forgets what is older than it keeps (`demo --keep`): these
//! tests replay each sample capture as a live session would see it, forget its first part, go on,
//! and check that nothing shown of what is kept changes, that every view still draws, and that a
//! record written as the demo forgets is the file written in one go at the end.

use crossterm::event::KeyCode;

use super::model::Focus;
use super::tests::{draw, key, live_model};
use super::timeline::{frame_summary, record_summary};
use crate::chat::AppEvent;
use crate::frame::{Frame, Timestamp};
use crate::journey::Trace;

const SAMPLES: [&str; 8] = [
    "tls13-chat.pcapng",
    "tls12-chat.pcapng",
    "plain-chat.pcapng",
    "ipv6-chat.pcapng",
    "small-mss.pcapng",
    "wrong-ca.pcapng",
    "routers-chat.pcapng",
    "routers-fragments.pcapng",
];

/// What a live session receives: the frames in order, the application events in the order the
/// tap reported them, the secrets and the interfaces' names.
struct Replay {
    frames: Vec<Frame>,
    events: Vec<AppEvent>,
    sample: Trace,
    /// The first frame of the second part (index): no copy or piece crosses it.
    split: usize,
}

/// How far the second part is moved on in time: more than a path of routers' copy window, so
/// that frames of the first part can be forgotten there too.
const LATER: i128 = 30_000_000_000;

fn replay(name: &str) -> Replay {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    let (sample, damage) =
        crate::capture::open_capture(&path, None, &mut |_, _| {}).expect("the sample reads");
    assert!(damage.is_none(), "{name} is damaged");
    let entries = sample.frames();
    // The middle, or the first frame after it that no copy or piece of an earlier one follows,
    // and no application event that happened after it but was carried before it (moved on in
    // time with the second part, the event would come 30 s after its bytes).
    let split = (entries.len() / 2..entries.len())
        .find(|&i| {
            let first = i as u32 + 1;
            let at = entries[i].frame.at;
            entries[i..].iter().all(|e| {
                e.copy_of.is_none_or(|o| o >= first) && e.piece_of.is_none_or(|o| o >= first)
            }) && sample
                .app_events()
                .iter()
                .filter(|e| e.at >= at)
                .all(|e| sample.app_event_frame(e).is_none_or(|f| f >= first))
        })
        .expect("a place to split");
    let boundary = entries[split].frame.at;
    let later = |at: Timestamp| {
        if at >= boundary {
            Timestamp(at.0 + LATER)
        } else {
            at
        }
    };
    let frames = entries
        .iter()
        .map(|e| Frame {
            at: later(e.frame.at),
            ..e.frame.clone()
        })
        .collect();
    let events = sample
        .app_events()
        .iter()
        .map(|e| AppEvent {
            at: later(e.at),
            ..e.clone()
        })
        .collect();
    Replay {
        frames,
        events,
        sample,
        split,
    }
}

impl Replay {
    fn empty_trace(&self) -> Trace {
        let mut trace = Trace::with_keys(self.sample.keys().clone());
        trace.set_interface_names(self.sample.interface_names().to_vec());
        trace
    }

    /// The whole session, nothing forgotten.
    fn whole(&self) -> Trace {
        let mut trace = self.empty_trace();
        let mut events = self.events.iter().peekable();
        for frame in &self.frames {
            while let Some(e) = events.next_if(|e| e.at <= frame.at) {
                trace.add_app_event(e.clone());
            }
            trace.push_frame(frame.clone());
        }
        for e in events {
            trace.add_app_event(e.clone());
        }
        trace
    }

    /// The session as a demo keeps it: the events join as they happen; once the first frame of
    /// the second part is in, what came before it is forgotten (and given to `forget`, as a
    /// demo with `--record` writes it); then the rest comes in. Returns the trace and the frames
    /// kept.
    fn forgetting(
        &self,
        recorder: Option<&mut crate::session::Recorder>,
    ) -> (Trace, Vec<Frame>, (u32, usize)) {
        let mut trace = self.empty_trace();
        let mut kept: Vec<Frame> = Vec::new();
        let mut events = self.events.iter().peekable();
        let mut recorder = recorder;
        let mut forgot = (0, 0);
        for (i, frame) in self.frames.iter().enumerate() {
            while let Some(e) = events.next_if(|e| e.at <= frame.at) {
                trace.add_app_event(e.clone());
            }
            trace.push_frame(frame.clone());
            kept.push(frame.clone());
            if i == self.split {
                forgot = crate::session::forget_older_than(
                    &mut trace,
                    &mut kept,
                    frame.at,
                    recorder.as_deref_mut(),
                )
                .expect("forgets");
            }
        }
        for e in events {
            trace.add_app_event(e.clone());
        }
        (trace, kept, forgot)
    }
}

#[test]
fn forgetting_the_past_changes_nothing_shown_of_what_is_kept() {
    let mut samples_that_forgot_events = 0;
    for name in SAMPLES {
        let r = replay(name);
        let whole = r.whole();
        let (trace, kept, (frames, events)) = r.forgetting(None);
        // All of the first part, but for the frames of a record that ends in the second.
        assert!(
            frames > 0 && frames as usize <= r.split,
            "{name}: {frames} of the first part's {} forgotten",
            r.split
        );
        assert_eq!(trace.frames_forgotten(), frames, "{name}");
        assert_eq!(kept.len(), trace.frames().len(), "{name}: the kept frames");
        assert_eq!(trace.frame_count(), whole.frame_count(), "{name}");
        assert_eq!(
            events + trace.app_events().len(),
            whole.app_events().len(),
            "{name}: every event forgotten or kept"
        );
        // The events forgotten: those, from the first, that happened before the cutoff and
        // went out in a forgotten frame.
        let cutoff = r.frames[r.split].at;
        let expected = whole
            .app_events()
            .iter()
            .take_while(|e| e.at < cutoff && whole.app_event_frame(e).is_some_and(|f| f <= frames))
            .count();
        assert_eq!(events, expected, "{name}: the events forgotten");
        samples_that_forgot_events += usize::from(events > 0);
        for entry in trace.frames() {
            let n = entry.number;
            assert_eq!(
                frame_summary(&trace, n),
                frame_summary(&whole, n),
                "{name} #{n}"
            );
            let full = whole.frame(n).expect("the whole trace has it");
            assert_eq!(entry.copy_of, full.copy_of, "{name} #{n}");
            assert_eq!(entry.piece_of, full.piece_of, "{name} #{n}");
            assert_eq!(entry.records, full.records, "{name} #{n}: record numbers");
            for r in entry.records.clone() {
                let (a, b) = (
                    trace.record(r).expect("kept"),
                    whole.record(r).expect("all"),
                );
                assert_eq!(a.info, b.info, "{name} #{n} record {r}");
                assert_eq!(trace.plaintext(a), whole.plaintext(b), "{name} record {r}");
                for reveal in [false, true] {
                    assert_eq!(
                        record_summary(&trace, r as u32, reveal),
                        record_summary(&whole, r as u32, reveal),
                        "{name} record {r}"
                    );
                }
            }
        }
        // An event kept is the event at the same place in the whole session, moved down by those
        // forgotten; its journey is the same unless part of it was forgotten.
        for (i, e) in trace.app_events().iter().enumerate() {
            let same = &whole.app_events()[i + trace.events_forgotten()];
            assert_eq!(
                (e.at, e.offset, &e.bytes),
                (same.at, same.offset, &same.bytes)
            );
            let full = whole.journey(same);
            if full
                .as_ref()
                .is_some_and(|j| j.frames.iter().all(|&f| f > frames))
            {
                assert_eq!(trace.journey(e), full, "{name} event {i}");
            }
        }
    }
    assert!(
        samples_that_forgot_events >= 5,
        "{samples_that_forgot_events}"
    );
}

#[test]
fn on_a_path_of_routers_nothing_within_the_copy_window_is_forgotten() {
    let r = replay("routers-chat.pcapng");
    let mut trace = r.empty_trace();
    for frame in &r.frames[..r.split] {
        trace.push_frame(frame.clone());
    }
    // A later frame could still be a copy of any of these: none may go, however old the cutoff
    // says they are.
    let last = r.frames[r.split - 1].at;
    let (frames, _) = trace.forget_older_than(Timestamp(last.0 + 1));
    assert_eq!(frames, 0);
    assert_eq!(trace.forget_point(Timestamp(last.0 + 1)), 1);
}

#[test]
fn every_view_draws_what_a_long_demo_kept() {
    for name in SAMPLES {
        let r = replay(name);
        let (trace, _, (forgotten, _)) = r.forgetting(None);
        let mut m = live_model(&trace);
        let screen = draw(&mut m, &trace);
        assert!(
            screen.contains(&format!("#1–#{forgotten} forgotten")),
            "{name}: the title says what was forgotten:\n{screen}"
        );
        m.focus = Focus::Timeline;
        m.timeline.follow = false;
        // Every row, its columns and its bytes; follow stream, the path view and the time graphs
        // where the row has them.
        key(&mut m, &trace, KeyCode::Home);
        for _ in 0..m.timeline.len() {
            draw(&mut m, &trace);
            key(&mut m, &trace, KeyCode::Down);
        }
        for code in ['f', 'e', 'r', 't'] {
            key(&mut m, &trace, KeyCode::Home);
            key(&mut m, &trace, KeyCode::Char(code));
            while m.continue_graphs(&trace) {}
            draw(&mut m, &trace);
            key(&mut m, &trace, KeyCode::Esc);
            if code == 'r' {
                key(&mut m, &trace, KeyCode::Char('r'));
            }
        }
        // Going to a forgotten frame says why it is not there.
        key(&mut m, &trace, KeyCode::Char(':'));
        for c in "1".chars() {
            key(&mut m, &trace, KeyCode::Char(c));
        }
        key(&mut m, &trace, KeyCode::Enter);
        assert!(
            m.status.contains("frame #1 is forgotten") && m.status.contains("--record"),
            "{name}: {}",
            m.status
        );
    }
}

#[test]
fn the_selection_stays_on_its_frame_and_its_message_when_the_past_is_forgotten() {
    let r = replay("tls13-chat.pcapng");
    let trace = r.whole();
    let mut m = live_model(&trace);
    m.focus = Focus::Timeline;
    m.timeline.follow = false;
    // The last message row and the last frame row, each selected in turn.
    let index = &m.timeline.index;
    let message = index
        .rows
        .iter()
        .rposition(|row| matches!(row.kind, super::index::RowKind::App(_)))
        .expect("a message row");
    let last_frame = trace.frame_count();
    for row in [
        message,
        m.timeline.index.frame_row(last_frame).expect("a row"),
    ] {
        let mut m = live_model(&trace);
        m.focus = Focus::Timeline;
        m.timeline.follow = false;
        m.timeline.selected = m.timeline.position_of(row);
        m.refresh_detail(&trace, false);
        draw(&mut m, &trace);
        let before = m.detail.clone();
        let shown = m.timeline.index.rows[row].kind;
        let (mut t, mut k) = (r.whole(), r.frames.clone());
        let (gone, events_gone) =
            crate::session::forget_older_than(&mut t, &mut k, r.frames[r.split].at, None)
                .expect("forgets");
        assert!(gone > 0 && events_gone > 0);
        m.sync(&t);
        let now = m
            .timeline
            .selected_row()
            .map(|r| m.timeline.index.rows[r].kind);
        let expected = match shown {
            super::index::RowKind::App(i) => super::index::RowKind::App(i - events_gone as u32),
            other => other,
        };
        assert_eq!(now, Some(expected), "the same row after forgetting");
        draw(&mut m, &t);
        // The columns show the same thing (the timeline beside them lost its first rows).
        assert_eq!(m.detail, before);
    }
}

#[test]
fn a_record_written_as_the_demo_forgets_is_the_file_written_at_the_end() {
    let dir = tempfile::tempdir().expect("a folder");
    for name in SAMPLES {
        let r = replay(name);
        let at_end = dir.path().join(format!("end-{name}"));
        let as_it_goes = dir.path().join(format!("going-{name}"));
        let whole = r.whole();
        let path = crate::capture::OutputPath::check(&at_end, false).expect("a new file");
        crate::session::Recorder::new(path)
            .finish(&whole, &r.frames, &[])
            .expect("written");
        let path = crate::capture::OutputPath::check(&as_it_goes, false).expect("a new file");
        let mut recorder = crate::session::Recorder::new(path);
        let (trace, kept, (forgotten, _)) = r.forgetting(Some(&mut recorder));
        assert_eq!(recorder.frames_written(), u64::from(forgotten), "{name}");
        recorder.finish(&trace, &kept, &[]).expect("written");
        let (a, b) = (
            std::fs::read(&at_end).expect("reads"),
            std::fs::read(&as_it_goes).expect("reads"),
        );
        let differ = a.iter().zip(&b).position(|(x, y)| x != y);
        assert!(
            a == b,
            "{name}: the two records differ: {} and {} bytes, first at {differ:?}",
            a.len(),
            b.len()
        );
        // And it reads back as the whole session.
        let (back, _) =
            crate::capture::open_capture(&as_it_goes, None, &mut |_, _| {}).expect("reads");
        assert_eq!(back.frame_count(), whole.frame_count(), "{name}");
        assert_eq!(back.app_events().len(), whole.app_events().len(), "{name}");
    }
}

#[test]
fn a_record_never_completed_holds_its_frames_for_ten_minutes_only() {
    let r = replay("small-mss.pcapng");
    // The first moment a record is cut across frames: the frames of its start are held.
    let mut trace = r.empty_trace();
    let mut held = None;
    for frame in &r.frames {
        trace.push_frame(frame.clone());
        let next = trace.frame_count() + 1;
        if trace.forget_point(Timestamp(frame.at.0 + 1)) < next {
            held = Some(trace.forget_point(Timestamp(frame.at.0 + 1)));
            break;
        }
    }
    let held = held.expect("a record spans several frames in small-mss.pcapng");
    let last = trace.frames().last().expect("frames").frame.at;
    let entry = trace.frame(held).expect("held");
    assert!(entry.segment.as_ref().is_some_and(|s| s.payload_len > 0));
    // Should the rest never come (the connection broke off), the frames go ten minutes past the
    // window: held while the first of them is less than that older than the cutoff.
    let grace = crate::journey::PENDING_GRACE;
    assert_eq!(
        trace.forget_point(Timestamp(entry.frame.at.0 + grace)),
        held
    );
    let next = trace.frame_count() + 1;
    assert_eq!(trace.forget_point(Timestamp(last.0 + grace + 1)), next);
    let (forgotten, _) = trace.forget_older_than(Timestamp(last.0 + grace + 1));
    assert_eq!(forgotten, next - 1);
}
