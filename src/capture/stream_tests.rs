//! Reading a capture once, front to back, in flat memory: what is shown must be what reading the
//! whole capture first shows, frame for frame, and what is held must not grow with the file.

use std::path::Path;

use super::*;
use crate::capture::test_support::sample_captures as samples;
use crate::report::{app_events_by_frame, frame_json, frame_text};

/// Every frame's text and JSON, reading the whole capture first.
fn whole(path: &Path) -> (Vec<String>, Option<String>) {
    let (trace, damage) = open_capture(path, None, &mut |_, _| {}).unwrap();
    let app = app_events_by_frame(&trace);
    let t0 = trace
        .frames()
        .first()
        .map(|e| e.frame.at)
        .unwrap_or_default();
    let lines = trace
        .frames()
        .iter()
        .map(|e| {
            let events = app.get(&e.number).map_or(&[][..], |v| v.as_slice());
            format!(
                "{}\n{}",
                frame_text(&trace, e, events, t0),
                frame_json(&trace, e, events)
            )
        })
        .collect();
    (lines, damage.map(|d| d.reason))
}

/// The same, streamed `batch` frames at a time; `check` sees the trace at every frame shown.
fn streamed(
    path: &Path,
    batch: usize,
    mut check: impl FnMut(&Trace, &FrameEntry),
) -> (Vec<String>, Option<String>) {
    let mut lines = Vec::new();
    let mut t0 = None;
    let end = stream_capture_batched(
        path,
        None,
        batch,
        &mut |_, _| {},
        |trace: &Trace, e: &FrameEntry, events: &[usize]| -> Result<(), OpenError> {
            check(trace, e);
            let t0 = *t0.get_or_insert(e.frame.at);
            lines.push(format!(
                "{}\n{}",
                frame_text(trace, e, events, t0),
                frame_json(trace, e, events)
            ));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(
        end.frames as usize,
        lines.len(),
        "every frame read is shown"
    );
    (lines, end.error.map(|d| d.reason))
}

#[test]
fn streaming_shows_what_reading_the_whole_capture_shows() {
    for path in samples() {
        let expected = whole(&path);
        assert!(!expected.0.is_empty());
        for batch in [1, 3, 4096] {
            let got = streamed(&path, batch, |_, _| {});
            assert_eq!(got.1, expected.1, "{}", path.display());
            for (i, (g, e)) in got.0.iter().zip(&expected.0).enumerate() {
                assert_eq!(g, e, "{} frame {} (batch {batch})", path.display(), i + 1);
            }
            assert_eq!(got.0.len(), expected.0.len(), "{}", path.display());
        }
    }
}

#[test]
fn the_application_events_of_the_ledger_are_shown_on_their_frames() {
    // The ledger is written after the last frame; a reader that goes once through the file must
    // still show each line the chat wrote on the frame that carried it.
    for name in ["tls13-chat.pcapng", "plain-chat.pcapng"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name);
        let (lines, _) = streamed(&path, 1, |_, _| {});
        let shown = lines
            .iter()
            .filter(|l| l.contains("\n        app: "))
            .count();
        assert!(shown >= 4, "{name}: {shown} frames show application events");
    }
}

#[test]
fn a_streaming_trace_holds_only_the_frame_being_shown() {
    for name in ["tls13-chat.pcapng", "tls12-chat.pcapng", "small-mss.pcapng"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name);
        let mut most_records = 0;
        let mut events_shown = 0;
        let (lines, _) = streamed(&path, 1, |trace, e| {
            // The ledger's bytes are read only for the frame being shown: the other events wait
            // as hex in the file.
            let with_bytes: Vec<&crate::chat::AppEvent> = trace
                .app_events()
                .iter()
                .filter(|ev| !ev.bytes.is_empty())
                .collect();
            assert!(
                with_bytes
                    .iter()
                    .all(|ev| trace.app_event_frame(ev) == Some(e.number)),
                "{name}: frame {} is shown with the bytes of events of other frames",
                e.number
            );
            events_shown += with_bytes.len();
            assert_eq!(
                trace.frames().len(),
                1,
                "{name}: frame {} is shown with {} frames held",
                e.number,
                trace.frames().len()
            );
            assert_eq!(
                trace.records().len(),
                trace.records_of(e).len(),
                "{name}: only the records frame {} completed are held",
                e.number
            );
            for c in trace.tcp().connections() {
                for dir in [
                    crate::flow::Direction::ClientToServer,
                    crate::flow::Direction::ServerToClient,
                ] {
                    assert!(
                        c.carriers(dir).len() <= 2,
                        "{name}: frame {}: {} carriers held",
                        e.number,
                        c.carriers(dir).len()
                    );
                }
            }
            most_records = most_records.max(trace.records().len());
        });
        assert!(lines.len() > 20 && most_records >= 1, "{name}");
        assert!(events_shown >= 4, "{name}: {events_shown} events shown");
    }
}

#[test]
fn a_damaged_file_shows_the_frames_before_the_damage_then_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join("tls13-chat.pcapng"),
    )
    .unwrap();
    let cut = dir.path().join("cut.pcapng");
    std::fs::write(&cut, &sample[..sample.len() * 2 / 3]).unwrap();
    let expected = whole(&cut);
    assert!(expected.1.is_some(), "the cut file is damaged");
    for batch in [1, 4096] {
        assert_eq!(streamed(&cut, batch, |_, _| {}), expected);
    }
}

#[test]
fn what_is_not_a_capture_is_an_error_before_anything_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a capture at all\n").unwrap();
    let mut shown = 0;
    let got = stream_capture(
        &path,
        None,
        &mut |_, _| {},
        |_, _, _| -> Result<(), OpenError> {
            shown += 1;
            Ok(())
        },
    );
    let err = got.unwrap_err().to_string();
    assert!(err.contains("notes.txt") && err.contains("magic"), "{err}");
    assert_eq!(shown, 0);
    let missing = dir.path().join("missing.pcap");
    let err = stream_capture(
        &missing,
        None,
        &mut |_, _| {},
        |_, _, _| -> Result<(), OpenError> { Ok(()) },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("missing.pcap"), "{err}");
}

#[test]
fn given_back_pages_read_again_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bytes");
    let data: Vec<u8> = (0..3 * 65536u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let mapped = crate::capture::sys::MappedFile::open(&path).unwrap();
    assert_eq!(&mapped.bytes()[..], &data[..]);
    let end = mapped.release(0, 100_000);
    assert!((100_000 - 65536..=100_000).contains(&end), "{end}");
    assert_eq!(
        mapped.release(end, end),
        end,
        "nothing between: nothing given back"
    );
    assert_eq!(
        &mapped.bytes()[..],
        &data[..],
        "pages given back read as the file"
    );
    assert_eq!(mapped.offset_of(&mapped.bytes()[1234..]), Some(1234));
    assert_eq!(mapped.offset_of(&data[..]), None);
}
