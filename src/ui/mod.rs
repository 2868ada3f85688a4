//! The terminal UI (ratatui + crossterm): a message's journey down the stack, side by side.
//!
//! `packetpath demo` shows a live chat (alice and bob, typed by the user) and its packets as they
//! are captured; `packetpath open FILE` shows a saved capture. Both read the engine's [`Trace`];
//! the UI never parses packets itself (fields come from [`Packet::fields`], records from the TLS
//! layer, byte positions from TCP reassembly).
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────────────────┐
//! │ packetpath (?: keys) endpoints' view (decrypted) · demo · tls1.3 · lab       │ title
//! │ 8 B text → 30 B TLS record → 62 B TCP segment → 82 B IP packet → 96 B frame  │ strip
//! │┌ Timeline · 29 frames · following live ─────────────────────────────────────┐│
//! ││▾ message alice → server: "hi\n" (3 B)                                      ││ ~28%
//! ││    app: alice wrote "hi\n" (3 B)                                           ││
//! ││  #26  0.110820 alice → server TCP [PSH, ACK] seq=343 ack=1049 len=25       ││
//! ││           └ TLS application_data 25 B → "hi\n"                             ││
//! │└────────────────────────────────────────────────────────────────────────────┘│
//! │┌ Layers · message alice → server ───────────────────────────────────────────┐│
//! ││Application 3 B│TLS +22 B     │TCP +32 B     │IP +20 B     │Link +14 B      ││ ~36%
//! ││text "hi\n"    │content type 23│Source port … │TTL 64       │Type 0x0800    ││
//! ││selected field = value: what it means (RFC section)                         ││
//! │└────────────────────────────────────────────────────────────────────────────┘│
//! │┌ Bytes · frame #26 (96 B) ──────────────────────┐┌ Chat ────────────────────┐│
//! ││legend: ■ Link ■ IP ■ TCP ■ TLS                 ││alice ▸ hi                ││ rest
//! ││0000  00 00 … 08 00 45 00  ......E.             ││bob ◂ alice: hi           ││
//! ││decrypted application_data (3 B) …              ││alice> █                  ││
//! ││                                                │└──────────────────────────┘│
//! ││                                                │┌ Log ─────────────────────┐│
//! │└────────────────────────────────────────────────┘└──────────────────────────┘│
//! │ Enter send · Tab switch alice/bob · Esc navigate · Ctrl-C quit               │ status
//! └──────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Below 100×30 the panes keep only a one-line title instead of a frame; `z` lets the focused
//! pane fill the screen. Help (`?`) and follow stream (`f`) cover the panes; compare mode (`c`,
//! demo only) replaces the timeline and the columns with the same line over TLS and plain TCP.
//! `packetpath lesson run NAME` ([`run_lesson`]) puts the [`lesson`] pane in place of the chat
//! and the log: `n`/`p` step, each step's focus is selected like a field the user picked.
//! `--theme dark|light|high-contrast` picks the colours ([`theme`]; by default from the terminal's
//! `COLORFGBG`, else dark) and `--classroom` a layout for a projector: no log, a larger timeline
//! and lesson pane, and a banner saying which view is shown and whether the timeline plays.
//!
//! Architecture (STYLE.md, "Programs"): [`model`] holds the state, [`update`] applies messages
//! (keys go through the table in [`keys`], which also feeds the help screen), [`view`] draws the
//! model with one file per pane ([`timeline`] over the [`index`], [`layers`] over [`detail`],
//! [`hex`], [`chat`], [`logpane`], [`help`], [`stream`], [`compare`]); [`strings`] holds the
//! sentences, [`line`] the lines the user types (editing, history), [`theme`] the colours (one
//! per layer, `NO_COLOR` respected); [`terminal`] restores the terminal on exit, panic and Ctrl-C
//! and SIGTERM; [`run`] holds the event loops.
//!
//! [`Trace`]: crate::journey::Trace
//! [`Packet::fields`]: crate::dissect::Packet::fields

pub mod detail;
pub mod fit;
pub mod graphs;
pub mod help;
pub mod hex;
pub mod hops;
pub mod index;
pub mod keys;
pub mod lesson;
pub mod line;
pub mod loading;
pub mod model;
pub mod pane;
pub mod run;
pub mod stream;
pub mod strings;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod update;
pub mod view;

#[cfg(test)]
mod forget_tests;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use run::{
    load_capture, run_demo, run_graphs, run_lesson, run_open, run_open_file, start_demo,
    DemoOutcome,
};
pub use theme::{Look, ThemeName};

/// How the demo's chat runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// TLS 1.3, TLS 1.2 or plain TCP.
    pub transport: crate::chat::Transport,
    /// Where the certificates are (made on first use).
    pub cert_dir: PathBuf,
    /// The lab the chat and the capture run in (entered by `main` before the runtime starts).
    pub lab: crate::lab::Lab,
    /// How alice and bob connect (e.g. a small MSS, `--insecure`).
    pub knobs: crate::session::ClientKnobs,
    /// `--attack`: the lab's attacker acts on each line typed (compare mode on, so TLS and
    /// plain TCP meet it side by side), or r1 is a man in the middle.
    pub attack: Option<crate::lab::attack::Attack>,
    /// How much of the past the demo keeps in memory (`--keep`): frames, records and
    /// application events older than this are forgotten, so a demo that runs for a class hour
    /// stays in flat memory. `None` keeps everything.
    pub keep: Option<std::time::Duration>,
    /// `--record`: the whole session is saved there, what the demo forgets as it forgets it.
    pub record: Option<crate::capture::OutputPath>,
}

/// Sends the `tracing` log to the log pane instead of stderr (which would scribble over the
/// screen). Call once, before anything logs. Level from `RUST_LOG` (default `info`).
pub fn init_logging() -> anyhow::Result<()> {
    pane::logpane::init_logging()?;
    run::LOG_PANE.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}
