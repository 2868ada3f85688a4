//! Benchmark of the terminal UI with a million frames loaded: drawing one 120×40 screen (timeline,
//! layer columns, hex, chat, log) must stay well under a 60 Hz frame (16 ms), because the
//! timeline turns only its visible rows into text and the columns are built once per selection.
//!
//! Run with `cargo bench --bench ui_render` (see BENCHMARKS.md). It uses the same generated TLS 1.3
//! chat capture as the pipeline benchmark (`benches/capture_gen`, cached under the target
//! directory), with at least 1,000,000 frames. Besides criterion's figures it prints, once, how
//! long loading the capture and indexing the timeline took.
//!
//! Under `cargo test --benches` (no `--bench` argument) a small capture is used and each benchmark
//! runs once, as a smoke test.

mod capture_gen;

use std::time::{Duration, Instant};

use criterion::Criterion;
use packetpath::ui::model::Model;
use packetpath::ui::theme::Theme;
use packetpath::ui::view::{layout, view};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

/// Frames loaded for the benchmark.
const BENCH_FRAMES: u64 = 1_000_000;

fn main() {
    let capture =
        capture_gen::for_this_run(BENCH_FRAMES).expect("generating the benchmark capture");
    let started = Instant::now();
    let trace = packetpath::ui::load_capture(&capture.pcapng, Some(&capture.keylog))
        .expect("the benchmark capture loads");
    let loaded = started.elapsed();
    let screen = Rect::new(0, 0, 120, 40);
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
    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .output_directory(&capture_gen::target_dir().join("criterion"))
        .configure_from_args();
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
    criterion.final_summary();
}
