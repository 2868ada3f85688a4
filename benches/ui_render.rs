//! Benchmark of the terminal UI with a million frames loaded: drawing one 120×40 screen (timeline,
//! layer columns, hex, chat, log) must stay well under a 60 Hz frame (16 ms), because the
//! timeline turns only its visible rows into text and the columns are built once per selection.
//!
//! Run with `cargo bench --bench ui_render` (see BENCHMARKS.md). It uses the same generated TLS 1.3
//! chat capture as the pipeline benchmark (`benches/capture_gen`, cached under the target
//! directory), with at least 1,000,000 frames. Besides criterion's figures it prints, once, how
//! long loading the capture and indexing the timeline took.
//!
//! Before that, the same for a bulk transfer (`Pattern::Transfer`: about 1.5 GB in 1,000,000
//! frames, nearly all of it one TLS stream), opened as `packetpath open` does it: read in the
//! background ([`Loader`]), the screen drawn between additions. It prints the time to the first
//! screen, the longest a key would wait while loading, the memory held (VmHWM, VmRSS) against the
//! file size, and criterion times follow stream on the big stream: opening it, drawing it at its
//! middle and end, one key press in it.
//!
//! Under `cargo test --benches` (no `--bench` argument) a small capture is used and each benchmark
//! runs once, as a smoke test.

mod capture_gen;

use std::time::{Duration, Instant};

use criterion::Criterion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use packetpath::journey::Trace;
use packetpath::ui::loading::{Loader, PUMP_BUDGET};
use packetpath::ui::model::Model;
use packetpath::ui::theme::Theme;
use packetpath::ui::update::{update, Msg};
use packetpath::ui::view::{layout, view};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

/// Frames loaded for the benchmark.
const BENCH_FRAMES: u64 = 1_000_000;

/// (VmHWM, VmRSS) of this process in bytes, from /proc/self/status.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn press(model: &mut Model, trace: &Trace, code: KeyCode) {
    update(
        model,
        trace,
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    );
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The bulk transfer opened as `packetpath open` does, then follow stream on its big stream.
fn transfer(criterion: &mut Criterion, screen: Rect) {
    let capture = capture_gen::for_this_run_pattern(BENCH_FRAMES, capture_gen::Pattern::Transfer)
        .expect("generating the transfer capture");
    let file = capture.file_bytes;
    let (hwm_before, _) = memory();
    let mut terminal =
        Terminal::new(TestBackend::new(screen.width, screen.height)).expect("a test terminal");
    let started = Instant::now();
    let rx = packetpath::capture::open_in_background(&capture.pcapng, Some(&capture.keylog))
        .expect("the transfer capture opens");
    let mut loader = Loader::new(capture.pcapng.display().to_string(), rx);
    let mut model = Model::new(false, "benchmark".into(), Vec::new(), Theme::colored());
    model.set_areas(layout(screen, &model));
    // The event loop of `open`: add frames for a while, bring the model up to date, draw; a key
    // pressed meanwhile waits at most one such turn.
    let mut first_draw = None;
    let mut first_frames = None;
    let mut turns: Vec<Duration> = Vec::new();
    loop {
        let turn = Instant::now();
        if loader.pump(PUMP_BUDGET) {
            model.sync(loader.trace());
        }
        model.progress = loader.progress();
        terminal
            .draw(|f| view(f, &model, loader.trace()))
            .expect("draws");
        turns.push(turn.elapsed());
        first_draw.get_or_insert(started.elapsed());
        if first_frames.is_none() && !loader.trace().frames().is_empty() {
            first_frames = Some((started.elapsed(), model.progress.clone()));
        }
        if loader.is_done() {
            break;
        }
    }
    let loaded = started.elapsed();
    let trace = loader.trace();
    let (hwm_loaded, rss_loaded) = memory();
    turns.sort();
    let worst = turns.last().copied().unwrap_or_default();
    let p99 = turns
        .get(turns.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    let (first_at, first_progress) = first_frames.unwrap_or_default();
    println!(
        "ui_stream: {} ({} frames, {}): {} frames, {} records, {} timeline rows",
        capture.pcapng.display(),
        capture.frames,
        mb(file),
        trace.frames().len(),
        trace.records().len(),
        model.timeline.index.rows.len()
    );
    println!(
        "ui_stream: first screen {:.3} s (empty, with its progress line); first screen with frames {:.3} s ({}); all loaded {:.2} s",
        first_draw.unwrap_or_default().as_secs_f64(),
        first_at.as_secs_f64(),
        first_progress.unwrap_or_default(),
        loaded.as_secs_f64()
    );
    println!(
        "ui_stream: while loading, {} turns (add frames, update, draw): longest {:.1} ms, 99th percentile {:.1} ms",
        turns.len(),
        worst.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    println!(
        "ui_stream: memory loaded: VmHWM {} = {:.2}× the file, VmRSS {} = {:.2}× (VmHWM before opening {})",
        mb(hwm_loaded),
        hwm_loaded as f64 / file as f64,
        mb(rss_loaded),
        rss_loaded as f64 / file as f64,
        mb(hwm_before)
    );

    // Follow stream on the connection with the most bytes.
    let big = trace
        .tcp()
        .connections()
        .iter()
        .max_by_key(|c| {
            [
                packetpath::flow::Direction::ClientToServer,
                packetpath::flow::Direction::ServerToClient,
            ]
            .iter()
            .map(|&d| c.delivered_len(d))
            .sum::<u64>()
        })
        .expect("the capture has connections");
    let frame = big
        .carriers(packetpath::flow::Direction::ServerToClient)
        .first()
        .map(|c| c.frame)
        .expect("the server sent data");
    model.timeline.follow = false;
    model.focus = packetpath::ui::model::Focus::Timeline;
    let opened = Instant::now();
    model.hex_frame = Some(frame);
    press(&mut model, trace, KeyCode::Char('f'));
    terminal.draw(|f| view(f, &model, trace)).expect("draws");
    let open_once = opened.elapsed();
    let (hwm_stream, rss_stream) = memory();
    let items = model.stream.as_ref().map_or(0, |v| v.items());
    println!(
        "ui_stream: follow stream on stream {} ({} records, {}): opened and drawn in {:.2} ms; VmHWM {} = {:.2}× the file, VmRSS {} = {:.2}×",
        big.index,
        items,
        mb(big.delivered_len(packetpath::flow::Direction::ServerToClient)),
        open_once.as_secs_f64() * 1e3,
        mb(hwm_stream),
        hwm_stream as f64 / file as f64,
        mb(rss_stream),
        rss_stream as f64 / file as f64,
    );

    let mut group = criterion.benchmark_group("ui_stream");
    // `f` on a frame of the big stream (its records indexed, its first screen made), drawn, Esc.
    group.bench_function("open_follow_stream", |b| {
        b.iter(|| {
            model.hex_frame = Some(frame);
            press(&mut model, trace, KeyCode::Char('f'));
            terminal.draw(|f| view(f, &model, trace)).expect("draws");
            press(&mut model, trace, KeyCode::Esc);
        })
    });
    model.hex_frame = Some(frame);
    press(&mut model, trace, KeyCode::Char('f'));
    let middle = items / 2;
    model.with_stream(trace, |v, m| v.to_entry(m, middle));
    group.bench_function("draw_stream_middle", |b| {
        b.iter(|| {
            terminal.draw(|f| view(f, &model, trace)).expect("draws");
        })
    });
    // One key press in follow stream: a line down (or up), drawn.
    group.bench_function("key_in_stream_middle", |b| {
        let mut down = true;
        b.iter(|| {
            let code = if down { KeyCode::Down } else { KeyCode::Up };
            down = !down;
            press(&mut model, trace, code);
            terminal.draw(|f| view(f, &model, trace)).expect("draws");
        })
    });
    // G and g in turn: the whole stream crossed each time, drawn.
    group.bench_function("key_end_and_top", |b| {
        let mut end = true;
        b.iter(|| {
            let code = if end {
                KeyCode::Char('G')
            } else {
                KeyCode::Char('g')
            };
            end = !end;
            press(&mut model, trace, code);
            terminal.draw(|f| view(f, &model, trace)).expect("draws");
        })
    });
    press(&mut model, trace, KeyCode::Char('G'));
    group.bench_function("draw_stream_end", |b| {
        b.iter(|| {
            terminal.draw(|f| view(f, &model, trace)).expect("draws");
        })
    });
    // The eavesdropper's view (each record's first bytes in hex), a key press at the middle.
    press(&mut model, trace, KeyCode::Char('e'));
    model.with_stream(trace, |v, m| v.to_entry(m, middle));
    group.bench_function("key_in_stream_middle_eavesdropper", |b| {
        let mut down = true;
        b.iter(|| {
            let code = if down {
                KeyCode::PageDown
            } else {
                KeyCode::PageUp
            };
            down = !down;
            press(&mut model, trace, code);
            terminal.draw(|f| view(f, &model, trace)).expect("draws");
        })
    });
    group.finish();
    let (hwm_end, rss_end) = memory();
    println!(
        "ui_stream: after the follow-stream benchmarks: VmHWM {} = {:.2}× the file, VmRSS {} = {:.2}×; lines held by the stream view: {}",
        mb(hwm_end),
        hwm_end as f64 / file as f64,
        mb(rss_end),
        rss_end as f64 / file as f64,
        model.stream.as_ref().map_or(0, |v| v.lines_held())
    );
    // The time graphs of the big stream (`t`), made a slice per turn as the run loop does: the
    // longest turn, and the memory with them open.
    press(&mut model, trace, KeyCode::Esc);
    let started = Instant::now();
    model.start_graphs(trace, big.index);
    let (mut turns, mut longest) = (0usize, Duration::ZERO);
    let mut each = Vec::new();
    loop {
        let turn = Instant::now();
        let more = model.continue_graphs(trace);
        let made = turn.elapsed();
        terminal.draw(|f| view(f, &model, trace)).expect("draws");
        longest = longest.max(turn.elapsed());
        each.push(format!(
            "{:.1}+{:.1}",
            made.as_secs_f64() * 1e3,
            (turn.elapsed() - made).as_secs_f64() * 1e3
        ));
        turns += 1;
        if !more {
            break;
        }
    }
    println!(
        "ui_graphs: each turn, making + drawing (ms): {}",
        each.join(" ")
    );
    let (hwm_graphs, rss_graphs) = memory();
    println!(
        "ui_graphs: the time graphs of stream {} made in {} turns, {:.1} ms in all, the longest turn (with its screen) {:.2} ms; open: {}; VmHWM {} = {:.2}× the file, VmRSS {} = {:.2}×",
        big.index,
        turns,
        started.elapsed().as_secs_f64() * 1e3,
        longest.as_secs_f64() * 1e3,
        model.graphs.is_some(),
        mb(hwm_graphs),
        hwm_graphs as f64 / file as f64,
        mb(rss_graphs),
        rss_graphs as f64 / file as f64,
    );
}

fn main() {
    let screen = Rect::new(0, 0, 120, 40);
    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .output_directory(&capture_gen::target_dir().join("criterion"))
        .configure_from_args();
    transfer(&mut criterion, screen);
    let capture =
        capture_gen::for_this_run(BENCH_FRAMES).expect("generating the benchmark capture");
    let started = Instant::now();
    let trace = packetpath::ui::load_capture(&capture.pcapng, Some(&capture.keylog))
        .expect("the benchmark capture loads");
    let loaded = started.elapsed();
    let mut model = Model::new(false, "benchmark".into(), Vec::new(), Theme::colored());
    let started = Instant::now();
    let areas = layout(screen, &model);
    model.set_areas(areas);
    model.sync(&trace);
    let indexed = started.elapsed();
    println!(
        "ui_render: {} ({} frames, {:.1} MB): {} frames loaded, {} timeline rows; loading took {:.1} s, indexing {:.2} s",
        capture.pcapng.display(),
        capture.frames,
        capture.file_bytes as f64 / 1e6,
        trace.frames().len(),
        model.timeline.index.rows.len(),
        loaded.as_secs_f64(),
        indexed.as_secs_f64()
    );

    let mut terminal =
        Terminal::new(TestBackend::new(screen.width, screen.height)).expect("a test terminal");
    let mut group = criterion.benchmark_group("ui_render");
    // The newest rows, as live following shows them.
    group.bench_function("screen_at_end", |b| {
        b.iter(|| {
            terminal.draw(|f| view(f, &model, &trace)).expect("draws");
        })
    });
    // A row in the middle of the million, selected (its columns built once, as on selection).
    model.timeline.follow = false;
    model.timeline.selected = model.timeline.len() / 2;
    let h = model.timeline_height();
    model.timeline.scroll_into_view(h);
    model.refresh_detail(&trace, false);
    group.bench_function("screen_in_the_middle", |b| {
        b.iter(|| {
            terminal.draw(|f| view(f, &model, &trace)).expect("draws");
        })
    });
    // Moving the selection one row (what a key press costs: update, columns rebuilt, draw).
    group.bench_function("step_and_draw", |b| {
        let mut down = true;
        b.iter(|| {
            let code = if down {
                crossterm::event::KeyCode::Down
            } else {
                crossterm::event::KeyCode::Up
            };
            down = !down;
            model.focus = packetpath::ui::model::Focus::Timeline;
            packetpath::ui::update::update(
                &mut model,
                &trace,
                packetpath::ui::update::Msg::Key(crossterm::event::KeyEvent::new(
                    code,
                    crossterm::event::KeyModifiers::NONE,
                )),
            );
            terminal.draw(|f| view(f, &model, &trace)).expect("draws");
        })
    });
    group.finish();
    filters(&mut model, &trace);
    criterion.final_summary();
}

/// Display filters over the million frames, as `/` applies them: started on the key, then
/// tested a slice at a time between screens (`Model::continue_filter`). Each is timed once
/// (a filter is linear in the rows, so it is measured, not sampled): the whole run and the
/// longest turn (a slice of rows and a screen), which is how long a key can wait meanwhile.
fn filters(model: &mut Model, trace: &Trace) {
    let screen = model.areas.screen;
    let mut terminal =
        Terminal::new(TestBackend::new(screen.width, screen.height)).expect("a test terminal");
    for filter in [
        "tcp.len > 1000 && tls",
        "tcp.port == 8443",
        "tcp.analysis.retransmission",
        "tls.record.content_type == 21",
        "frame contains \"hello\"",
        "syn",
        "alice",
    ] {
        let started = Instant::now();
        let mut longest = Duration::ZERO;
        let parsed = model.filter(trace, filter);
        let mut turns = 0;
        loop {
            let turn = Instant::now();
            let more = model.continue_filter(trace);
            terminal.draw(|f| view(f, model, trace)).expect("draws");
            longest = longest.max(turn.elapsed());
            turns += 1;
            if !more {
                break;
            }
        }
        let took = started.elapsed();
        println!(
            "ui_filter: `{filter}`: {} of {} rows in {:.0} ms, {turns} turns, longest turn {:.1} ms{}",
            model.timeline.len(),
            model.timeline.index.rows.len(),
            took.as_secs_f64() * 1e3,
            longest.as_secs_f64() * 1e3,
            if parsed.is_err() { " (did not parse)" } else { "" }
        );
    }
    let _ = model.filter(trace, "");
}
