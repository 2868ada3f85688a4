//! Loading in the background gives the trace and the timeline that loading at once gives.

use std::time::Duration;

use super::{thousands, Loader};
use crate::journey::Trace;
use crate::ui::index::Index;

fn path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn same_index(a: &Index, b: &Index) {
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.groups, b.groups);
    assert_eq!(a.frames_indexed(), b.frames_indexed());
    for n in 1..=a.frames_indexed() as u32 {
        assert_eq!(a.frame_row(n), b.frame_row(n), "frame #{n}");
    }
    assert_eq!(a.event_row, b.event_row);
    assert_eq!((a.frames, a.events), (b.frames, b.events));
}

#[test]
fn a_file_loaded_a_little_at_a_time_is_the_file_loaded_at_once() {
    for name in ["tls13-chat.pcapng", "plain-chat.pcapng"] {
        let (whole, _) = crate::capture::open_capture(&path(name), None, &mut |_, _| {})
            .expect("the sample reads");
        let rx = crate::capture::open_in_background(&path(name), None).expect("it opens");
        let mut loader = Loader::new(name.into(), rx);
        let mut index = Index::default();
        let mut pumps = 0;
        let mut seen_progress = false;
        while !loader.is_done() {
            // No time at all: each turn still adds something, a few frames at most.
            loader.pump(Duration::ZERO);
            index.update(loader.trace());
            seen_progress |= loader
                .progress()
                .is_some_and(|p| p.starts_with("reading ") && p.ends_with(" frames"));
            pumps += 1;
            assert!(pumps < 100_000, "loading never ends");
        }
        assert!(loader.progress().is_none());
        assert!(seen_progress || whole.frames().len() < 32);
        let trace = loader.trace();
        assert_eq!(trace.frames().len(), whole.frames().len(), "{name}");
        assert_eq!(trace.records().len(), whole.records().len(), "{name}");
        assert_eq!(trace.app_events().len(), whole.app_events().len(), "{name}");
        same_index(&index, &Index::build(&whole));
    }
}

#[test]
fn without_application_events_the_timeline_grows_by_appending() {
    let (whole, _) = crate::capture::open_capture(&path("tls13-chat.pcapng"), None, &mut |_, _| {})
        .expect("the sample reads");
    let mut trace = Trace::with_keys(whole.keys().clone());
    let mut index = Index::default();
    for (i, entry) in whole.frames().iter().enumerate() {
        trace.push_frame(entry.frame.clone());
        if i % 3 == 0 {
            index.update(&trace);
        }
    }
    index.update(&trace);
    same_index(&index, &Index::build(&trace));
}

#[test]
fn a_file_that_is_not_a_capture_is_refused_before_the_screen() {
    let err = crate::capture::open_in_background(&path("../Cargo.toml"), None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("Cargo.toml"), "{err}");
    assert!(crate::capture::open_in_background(&path("no-such.pcapng"), None).is_err());
}

#[test]
fn counts_read_in_thousands() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(412_000), "412,000");
    assert_eq!(thousands(1_000_052), "1,000,052");
}

#[test]
fn a_filter_kept_while_frames_arrive_matches_the_filter_applied_at_the_end() {
    use crate::ui::index::Names;
    use crate::ui::timeline::TimelineState;
    let (whole, _) = crate::capture::open_capture(&path("tls13-chat.pcapng"), None, &mut |_, _| {})
        .expect("the sample reads");
    let names = Names::default();
    for filter in ["tls", "tcp.len > 0 && tcp.srcport != 1", "syn", "hi", "app"] {
        let mut trace = Trace::with_keys(whole.keys().clone());
        let mut state = TimelineState {
            reveal: true,
            ..TimelineState::default()
        };
        state
            .apply_filter(&trace, &names, filter)
            .expect("a filter");
        for (i, entry) in whole.frames().iter().enumerate() {
            trace.push_frame(entry.frame.clone());
            if i % 4 == 0 {
                let from = state.index.update(&trace).expect("appended");
                state
                    .filter_appended(&trace, &names, from)
                    .expect("a filter");
            }
        }
        let from = state.index.update(&trace).expect("appended");
        state
            .filter_appended(&trace, &names, from)
            .expect("a filter");
        let growing = state.visible.clone();
        state
            .apply_filter(&trace, &names, filter)
            .expect("a filter");
        assert_eq!(growing, state.visible, "{filter}");
        assert!(
            filter == "app" || growing.is_some_and(|v| !v.is_empty()),
            "{filter}"
        );
    }
}

#[test]
fn secrets_written_after_the_frames_still_decrypt_them() {
    let (whole, _) = crate::capture::open_capture(&path("tls13-chat.pcapng"), None, &mut |_, _| {})
        .expect("the sample reads");
    let decrypted = |t: &Trace| {
        t.records()
            .iter()
            .filter(|r| r.info.decrypted.is_some())
            .count()
    };
    assert!(decrypted(&whole) > 10);
    // The same frames, the Decryption Secrets Block after the last of them.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("secrets-last.pcapng");
    let frames: Vec<_> = whole.frames().iter().map(|f| f.frame.clone()).collect();
    let out = std::fs::File::create(&file).expect("created");
    let mut writer = crate::capture::PcapngWriter::new(out, frames[0].link).expect("a writer");
    for frame in &frames {
        writer.write_frame(frame).expect("written");
    }
    writer
        .write_secrets(&whole.keys().to_nss())
        .expect("written");
    writer.finish().expect("finished");
    let rx = crate::capture::open_in_background(&file, None).expect("it opens");
    let mut loader = Loader::new("secrets-last".into(), rx);
    while !loader.is_done() {
        loader.pump(Duration::from_millis(5));
    }
    assert_eq!(loader.trace().frames().len(), frames.len());
    assert_eq!(decrypted(loader.trace()), decrypted(&whole));
}

#[test]
fn a_filter_applied_a_slice_at_a_time_gives_the_filter_applied_at_once() {
    use crate::ui::index::Names;
    use crate::ui::timeline::TimelineState;
    let (whole, _) = crate::capture::open_capture(&path("tls13-chat.pcapng"), None, &mut |_, _| {})
        .expect("the sample reads");
    // Enough rows for several slices: the sample's frames, again and again.
    let mut trace = Trace::with_keys(whole.keys().clone());
    for _ in 0..60 {
        for entry in whole.frames() {
            trace.push_frame(entry.frame.clone());
        }
    }
    let names = Names::default();
    for filter in ["tls", "tcp.len > 0 && tcp.srcport != 1", "syn", "hi"] {
        let mut at_once = TimelineState {
            reveal: true,
            ..TimelineState::default()
        };
        at_once.index.update(&trace);
        at_once
            .apply_filter(&trace, &names, filter)
            .expect("a filter");
        let mut sliced = TimelineState {
            reveal: true,
            ..TimelineState::default()
        };
        sliced.index.update(&trace);
        sliced.start_filter(filter).expect("a filter");
        assert!(
            sliced.visible.is_none(),
            "nothing changes before the rows are tested"
        );
        let mut turns = 0;
        // No time at all: each turn still tests one slice.
        while !sliced.continue_filter(&trace, &names, Duration::ZERO) {
            assert!(sliced.filtering().is_some_and(|(_, p)| p < 100));
            turns += 1;
            assert!(turns < 10_000, "filtering never ends");
        }
        assert!(
            turns >= 1,
            "{filter}: {} rows in one slice",
            sliced.index.rows.len()
        );
        assert_eq!(sliced.visible, at_once.visible, "{filter}");
        assert_eq!(sliced.filter, filter);
        assert!(sliced.filtering().is_none());
    }
}

/// A capture of a path of routers opened in the background knows its interfaces' names, so
/// the copies of each packet on the other links are found as when the file is read at once.
#[test]
fn a_routers_capture_loaded_in_the_background_finds_the_copies() {
    let name = "routers-chat.pcapng";
    let (whole, _) =
        crate::capture::open_capture(&path(name), None, &mut |_, _| {}).expect("the sample reads");
    let rx = crate::capture::open_in_background(&path(name), None).expect("it opens");
    let mut loader = Loader::new(name.into(), rx);
    let mut pumps = 0;
    while !loader.is_done() {
        loader.pump(Duration::ZERO);
        pumps += 1;
        assert!(pumps < 100_000, "loading never ends");
    }
    let trace = loader.trace();
    assert_eq!(trace.interface_names(), whole.interface_names());
    assert!(trace.interface_names().iter().any(|n| n == "r1-eth0"));
    let copies = |t: &Trace| -> Vec<Option<u32>> { t.frames().iter().map(|f| f.copy_of).collect() };
    assert_eq!(copies(trace), copies(&whole));
    assert!(copies(trace).iter().filter(|c| c.is_some()).count() > 50);
    for f in whole.frames() {
        assert_eq!(trace.path_of(f.number), whole.path_of(f.number));
    }
}
