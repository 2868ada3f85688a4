//! The runners: the loop that reads keys, mouse and time, feeds them to `update`, carries out the
//! commands that come back, and draws — for the live demo (a [`Session`]) and for a saved capture.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{self, Event};

use super::model::Model;
use super::theme::Theme;
use super::update::{update, Command, Msg};
use super::view::{layout, view_with};
use super::{terminal, DemoOptions};
use crate::chat::Transport;
use crate::journey::Trace;
use crate::session::{Session, SessionOptions};

/// Set once the log pane collects the log (see [`super::init_logging`]).
pub(super) static LOG_PANE: AtomicBool = AtomicBool::new(false);

/// How long to wait for input before checking for new frames.
const FRAME_TIME: Duration = Duration::from_millis(40);

/// Where the trace comes from.
trait Source {
    fn trace(&self) -> &Trace;
    /// Takes in what arrived; true if the trace changed.
    fn pump(&mut self) -> bool;
    /// Sends a chat line.
    fn send(&mut self, from: &str, text: &str) -> anyhow::Result<()>;
    /// The second chat of compare mode, if running.
    fn twin(&self) -> Option<&Trace> {
        None
    }
    /// Compare mode on (starting the second chat if needed) or off.
    fn set_compare(&mut self, _on: bool) -> anyhow::Result<()> {
        Ok(())
    }
}

struct Live<'a> {
    session: &'a mut Session,
    rt: &'a tokio::runtime::Handle,
    options: &'a DemoOptions,
    /// The same chat over the other transport, for compare mode.
    twin: Option<Session>,
    compare: bool,
}

fn poll(session: &mut Session) -> bool {
    let events = session.trace().app_events().len();
    let frames = session.poll();
    frames > 0 || session.trace().app_events().len() != events
}

impl Source for Live<'_> {
    fn trace(&self) -> &Trace {
        self.session.trace()
    }

    fn pump(&mut self) -> bool {
        if let Some(twin) = &mut self.twin {
            poll(twin);
        }
        poll(self.session)
    }

    fn send(&mut self, from: &str, text: &str) -> anyhow::Result<()> {
        self.rt.block_on(self.session.send(from, text))?;
        if let (true, Some(twin)) = (self.compare, &mut self.twin) {
            self.rt.block_on(twin.send(from, text))?;
        }
        Ok(())
    }

    fn twin(&self) -> Option<&Trace> {
        self.twin.as_ref().map(Session::trace)
    }

    fn set_compare(&mut self, on: bool) -> anyhow::Result<()> {
        self.compare = on;
        if on && self.twin.is_none() {
            // TLS against plain TCP: the twin runs whichever the main chat does not.
            let transport = if self.options.transport.is_tls() {
                Transport::Plain
            } else {
                Transport::Tls13
            };
            let options = DemoOptions {
                transport,
                ..self.options.clone()
            };
            tracing::info!(
                "compare mode: starting a second chat over {}",
                transport.name()
            );
            self.twin = Some(self.rt.block_on(start_demo(&options))?);
        }
        Ok(())
    }
}

struct Saved(Trace);

impl Source for Saved {
    fn trace(&self) -> &Trace {
        &self.0
    }

    fn pump(&mut self) -> bool {
        false
    }

    fn send(&mut self, _: &str, _: &str) -> anyhow::Result<()> {
        Ok(())
    }
}

fn event_loop(model: &mut Model, source: &mut dyn Source) -> anyhow::Result<()> {
    let (mut term, _guard) = terminal::enter().context("cannot take over the terminal")?;
    if LOG_PANE.load(Ordering::Relaxed) {
        model.log_state = Some(tui_logger::TuiWidgetState::new());
    }
    model.sync(source.trace());
    loop {
        if source.pump() {
            model.sync(source.trace());
        }
        let size = term.size()?;
        let areas = layout(
            ratatui::layout::Rect::new(0, 0, size.width, size.height),
            model,
        );
        model.set_areas(areas);
        term.draw(|f| view_with(f, model, source.trace(), source.twin()))?;
        let msg = if event::poll(FRAME_TIME)? {
            match event::read()? {
                Event::Key(key) => Msg::Key(key),
                Event::Mouse(mouse) => Msg::Mouse(mouse),
                _ => continue,
            }
        } else {
            Msg::Tick(Instant::now())
        };
        match update(model, source.trace(), msg) {
            Some(Command::Quit) => break,
            Some(Command::Compare(on)) => {
                if let Err(e) = source.set_compare(on) {
                    tracing::warn!("compare mode: {e:#}");
                    model.compare = false;
                    model.status = format!("compare mode failed: {e}");
                }
            }
            Some(Command::Send { from, text }) => match source.send(&from, &text) {
                Ok(()) => model.status = format!("{from} sent {text:?}"),
                Err(e) => {
                    tracing::warn!("{from} could not send: {e:#}");
                    model.status = format!("could not send: {e}");
                }
            },
            None => {}
        }
        if model.quit {
            break;
        }
    }
    Ok(())
}

/// Starts the demo's chat under observation: a server and two clients, alice and bob.
pub async fn start_demo(options: &DemoOptions) -> anyhow::Result<Session> {
    let mut session = Session::new(SessionOptions {
        transport: options.transport,
        cert_dir: options.cert_dir.clone(),
        lab: options.lab.clone(),
        ipv6: false,
    })
    .await?;
    session.start_server(options.transport).await?;
    for name in ["alice", "bob"] {
        session.connect(name, options.knobs.clone()).await?;
    }
    Ok(session)
}

/// The live demo: the chat in `session` (already started, see [`start_demo`]) on screen until the
/// user quits; then the session is closed. Call from outside the runtime, with its handle.
/// Returns what was captured.
pub fn run_demo(
    rt: &tokio::runtime::Handle,
    mut session: Session,
    options: &DemoOptions,
) -> anyhow::Result<DemoOutcome> {
    let title = format!(
        "demo · {} · {}",
        session.transport().map_or("?", Transport::name),
        session.lab().describe()
    );
    let senders = session.client_names();
    let mut model = Model::new(true, title, senders.clone(), Theme::from_env());
    for name in &senders {
        if let Some(conn) = session.client_conn(name) {
            model.names.insert(conn.client, name);
        }
    }
    let mut live = Live {
        session: &mut session,
        rt,
        options,
        twin: None,
        compare: false,
    };
    let result = event_loop(&mut model, &mut live);
    if let Some(twin) = live.twin.take() {
        let _ = rt.block_on(twin.finish());
    }
    let (trace, frames, stats) = rt.block_on(session.finish())?;
    result?;
    Ok(DemoOutcome {
        trace,
        frames,
        dropped: stats.dropped,
    })
}

/// What a demo captured, for `main` to report (the log pane is gone by then) or save.
pub struct DemoOutcome {
    /// Everything captured, with the application events.
    pub trace: Trace,
    /// The frames as captured.
    pub frames: Vec<crate::frame::Frame>,
    /// Frames the kernel dropped (should be 0).
    pub dropped: u64,
}

/// A saved capture on screen until the user quits.
pub fn run_open(trace: Trace, title: String) -> anyhow::Result<()> {
    let mut model = Model::new(false, title, Vec::new(), Theme::from_env());
    event_loop(&mut model, &mut Saved(trace))
}

/// Reads a capture file (pcap or pcapng) into a trace (see [`crate::commands::open_capture`]):
/// its embedded secrets and those of `keylog`, its application events, every frame. Damage after
/// some frames is logged (it shows in the log pane), and the frames before it are kept.
pub fn load_capture(file: &Path, keylog: Option<&Path>) -> anyhow::Result<Trace> {
    let (trace, damage) = crate::commands::open_capture(file, keylog, &mut |_, _| {})?;
    if let Some(err) = damage {
        tracing::warn!(
            "{}: {} (the {} frames before it are shown)",
            file.display(),
            err.reason,
            trace.frames().len()
        );
    }
    tracing::info!(
        "{}: {} frames, {} application events",
        file.display(),
        trace.frames().len(),
        trace.app_events().len()
    );
    Ok(trace)
}
