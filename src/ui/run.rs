//! The runners: the loop that reads keys, mouse and time, feeds them to `update`, carries out the
//! commands that come back, and draws — for the live demo (a [`Session`]) and for a saved capture.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{self, Event};

use super::keys::{keys_label, Action, Context};
use super::lesson::{LessonPane, Question};
use super::loading::{Loader, PUMP_BUDGET};
use super::model::{Focus, Model};
use super::theme::Look;
use super::update::{update, Command, Msg};
use super::view::{layout, view_with};
use super::{terminal, DemoOptions};
use crate::chat::Transport;
use crate::journey::Trace;
use crate::lesson::checks::Verdict;
use crate::session::Session;

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
    /// Still taking in frames that are already there (a file loading): the loop does not wait
    /// for keys then.
    fn busy(&self) -> bool {
        false
    }
    /// How far loading got, for the status line.
    fn progress(&self) -> Option<String> {
        None
    }
    /// What a man in the middle read and sent so far (`demo --attack mitm`).
    fn attacker(&self) -> Vec<crate::chat::mitm::RelayedLine> {
        Vec::new()
    }
    /// Forgets what is older than the demo keeps (`demo --keep`); true if anything was.
    fn forget(&mut self) -> bool {
        false
    }
    /// The second chat's clients, by endpoint (their `/name` lines may have been forgotten).
    fn twin_names(&self) -> Vec<(std::net::SocketAddr, String)> {
        Vec::new()
    }
    /// Called once the screen is first drawn (a lesson runs its first step then).
    fn begin(&mut self, _model: &mut Model) {}
    /// A lesson's command: show a step, judge an answer.
    fn lesson(&mut self, _model: &mut Model, _command: Command) {}
}

/// How long a line typed in compare mode waits for the attacker to act on the first chat's copy
/// before the second chat's is sent.
const ATTACK_WAIT: Duration = Duration::from_secs(2);

/// Set when SIGTERM or SIGHUP arrives: the loop quits and the terminal is restored.
static TERMINATED: AtomicBool = AtomicBool::new(false);

/// Set when the event loop has returned (the terminal is given back; saving may follow).
static LOOP_LEFT: AtomicBool = AtomicBool::new(false);

/// How long the event loop has to notice a stop signal before the program leaves without it.
const LEAVE_GRACE: Duration = Duration::from_secs(2);

/// Listens for SIGTERM and SIGHUP on the runtime, so that `kill` or a closed terminal window gives
/// the terminal back like `q` does (Ctrl-C arrives as a key in raw mode).
fn listen_for_sigterm(rt: &tokio::runtime::Handle) {
    // The handlers are installed here, before the terminal is taken over, not later in the task:
    // a signal that came before the task ran would otherwise still kill the process at once.
    let _context = rt.enter();
    match crate::stop::StopSignals::without_interrupt() {
        Ok(mut signals) => {
            rt.spawn(async move {
                let signal = signals.recv().await;
                tracing::info!("{}: leaving", signal.describe());
                TERMINATED.store(true, Ordering::Relaxed);
                // When the terminal window is closed, its terminal is gone: reading it gives an
                // endless end-of-file, crossterm's read spins on it and the loop never sees the
                // flag. Give the loop a moment, then leave without it.
                tokio::time::sleep(LEAVE_GRACE).await;
                if !LOOP_LEFT.load(Ordering::Relaxed) {
                    terminal::restore();
                    tracing::warn!(
                        "{}: the terminal no longer answers; leaving",
                        signal.describe()
                    );
                    std::process::exit(1);
                }
            });
        }
        Err(e) => tracing::warn!("cannot listen for SIGTERM and SIGHUP: {e}"),
    }
}

struct Live<'a> {
    session: &'a mut Session,
    rt: &'a tokio::runtime::Handle,
    options: &'a DemoOptions,
    /// The same chat over the other transport, for compare mode.
    twin: Option<Session>,
    compare: bool,
    /// `--record`: where what the demo forgets is written.
    recorder: Option<crate::session::Recorder>,
    /// When the demo last forgot its past.
    forgot_at: std::time::Instant,
    /// How much of the past it keeps (`--keep`; none once the record failed).
    keep: Option<Duration>,
    /// Why the record could not be written, if it could not.
    record_error: Option<String>,
}

/// How often a demo with `--keep` forgets what has grown older than it keeps.
const FORGET_EVERY: Duration = Duration::from_secs(1);

impl Live<'_> {
    /// `/transfer SIZE [--slow-reader]` typed in the chat: a bulk upload from the client host
    /// (`packetpath transfer`), captured with the chat; the screen waits while it runs.
    fn transfer(&mut self, args: &str) -> anyhow::Result<()> {
        let mut words = args.split_whitespace();
        let size = words.next().ok_or_else(|| {
            anyhow::anyhow!(
                "/transfer SIZE [--slow-reader], e.g. /transfer 2M (then t on its rows)"
            )
        })?;
        let bytes = crate::chat::bulk::parse_size(size).map_err(|e| anyhow::anyhow!(e))?;
        let mut slow = None;
        for w in words {
            match w {
                "--slow-reader" => slow = Some(crate::chat::bulk::SlowReader::DEFAULT),
                other => anyhow::bail!("/transfer: unknown option {other:?}; only --slow-reader"),
            }
        }
        self.rt.block_on(self.session.transfer(
            bytes,
            self.options.transport,
            Some("reno".into()),
            slow,
        ))?;
        Ok(())
    }
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

    fn forget(&mut self) -> bool {
        let Some(keep) = self.keep else {
            return false;
        };
        if self.forgot_at.elapsed() < FORGET_EVERY {
            return false;
        }
        self.forgot_at = std::time::Instant::now();
        let cutoff = crate::frame::Timestamp(
            crate::frame::Timestamp::now().0 - keep.as_nanos().min(i128::MAX as u128) as i128,
        );
        let mut forgot = false;
        if let Some(twin) = &mut self.twin {
            forgot |= twin.forget_older_than(cutoff, None).is_ok_and(|n| n > 0);
        }
        match self
            .session
            .forget_older_than(cutoff, self.recorder.as_mut())
        {
            Ok(n) => forgot |= n > 0,
            Err(e) => {
                // What is left is not lost too: from now on the demo forgets nothing.
                tracing::error!("{e}; the demo forgets nothing from now on");
                self.record_error = Some(e.to_string());
                self.recorder = None;
                self.keep = None;
            }
        }
        forgot
    }

    fn send(&mut self, from: &str, text: &str) -> anyhow::Result<()> {
        let typed = text.trim();
        if from.is_empty() {
            anyhow::bail!("nobody is connected to send as (the clients refused to connect)");
        }
        if typed == "/transfer" || typed.starts_with("/transfer ") {
            return self.transfer(typed.trim_start_matches("/transfer"));
        }
        // An attacker on the path's link acts on each line typed, in each chat of compare mode:
        // armed for one line, it must have acted on it before it is armed for the next.
        let attacker = match (self.options.attack, self.session.lab().attacker()) {
            (Some(attack), Some(switch)) if !attack.is_mitm() => Some((attack, switch.clone())),
            _ => None,
        };
        let Some((attack, switch)) = attacker else {
            self.rt.block_on(self.session.send(from, text))?;
            if let (true, Some(twin)) = (self.compare, &mut self.twin) {
                self.rt.block_on(twin.send(from, text))?;
            }
            return Ok(());
        };
        let mut chats = vec![&mut *self.session];
        if let (true, Some(twin)) = (self.compare, &mut self.twin) {
            chats.push(twin);
        }
        // A chat whose line the attacker broke may fail to send (its TLS got the alert first):
        // that is the outcome, said after the other chat has had the line too.
        let mut failed = None;
        for chat in chats {
            if !switch.wait_spent(ATTACK_WAIT) {
                tracing::warn!("the attacker did not act on the line before in time");
            }
            switch.arm_for(attack, chat.client_conn(from).map(|c| c.client));
            let sent = self.rt.block_on(async {
                chat.send(from, text).await?;
                // A removed line shows only when the next one arrives: it follows at once, before
                // the sender's timer could send the removed one again.
                if attack == crate::lab::attack::Attack::DropRecord {
                    if !switch.wait_spent(ATTACK_WAIT) {
                        tracing::warn!("the attacker did not remove {from}'s line in time");
                    }
                    chat.send(from, crate::lab::attack::LINE_AFTER_A_DROP)
                        .await?;
                }
                Ok::<(), crate::session::SessionError>(())
            });
            if let Err(e) = sent {
                switch.disarm();
                failed.get_or_insert(e);
            }
        }
        failed.map_or(Ok(()), |e| Err(e.into()))
    }

    fn attacker(&self) -> Vec<crate::chat::mitm::RelayedLine> {
        self.session
            .mitm()
            .map(|(log, _)| log.lines)
            .unwrap_or_default()
    }

    fn twin(&self) -> Option<&Trace> {
        self.twin.as_ref().map(Session::trace)
    }

    fn twin_names(&self) -> Vec<(std::net::SocketAddr, String)> {
        let Some(twin) = &self.twin else {
            return Vec::new();
        };
        twin.client_names()
            .into_iter()
            .filter_map(|name| Some((twin.client_conn(&name)?.client, name)))
            .collect()
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

impl Source for Loader {
    fn trace(&self) -> &Trace {
        Loader::trace(self)
    }

    fn pump(&mut self) -> bool {
        Loader::pump(self, PUMP_BUDGET)
    }

    fn send(&mut self, _: &str, _: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn busy(&self) -> bool {
        !self.is_done()
    }

    fn progress(&self) -> Option<String> {
        Loader::progress(self)
    }
}

fn event_loop(model: &mut Model, source: &mut dyn Source) -> anyhow::Result<()> {
    let result = run_loop(model, source);
    LOOP_LEFT.store(true, Ordering::Relaxed);
    result
}

fn run_loop(model: &mut Model, source: &mut dyn Source) -> anyhow::Result<()> {
    let (mut term, _guard) = terminal::enter().context("cannot take over the terminal")?;
    if LOG_PANE.load(Ordering::Relaxed) {
        model.log_state = Some(tui_logger::TuiWidgetState::new());
    }
    model.sync(source.trace());
    let mut begun = false;
    loop {
        let mut changed = source.pump();
        // Not while the time graphs are made: they walk the frames over several turns.
        if model.graphs_job.is_none() {
            changed |= source.forget();
        }
        if changed {
            model.attacker = source.attacker();
            for (client, name) in source.twin_names() {
                model.names.insert(client, &name);
            }
            model.sync(source.trace());
        }
        let filtering = model.continue_filter(source.trace());
        let graphing = model.continue_graphs(source.trace());
        model.progress = source.progress();
        if LOG_PANE.load(Ordering::Relaxed) {
            model.log_lines = super::pane::logpane::lines_logged();
        }
        let size = term.size()?;
        let areas = layout(
            ratatui::layout::Rect::new(0, 0, size.width, size.height),
            model,
        );
        model.set_areas(areas);
        term.draw(|f| view_with(f, model, source.trace(), source.twin()))?;
        if !begun {
            begun = true;
            source.begin(model);
            continue;
        }
        if TERMINATED.load(Ordering::Relaxed) {
            break;
        }
        let wait = if source.busy() || filtering || graphing {
            Duration::ZERO
        } else {
            FRAME_TIME
        };
        let msg = if event::poll(wait)? {
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
                Ok(()) if text.trim().starts_with("/transfer ") => {
                    model.status = format!(
                        "{} done: select one of its rows and press t for its time graphs",
                        text.trim()
                    );
                }
                Ok(()) => model.status = format!("{from} sent {text:?}"),
                Err(e) if text.trim().starts_with("/transfer") => {
                    tracing::warn!("{}: {e:#}", text.trim());
                    model.status = format!("{} failed: {e}", text.trim());
                }
                Err(e) => {
                    tracing::warn!("{from} could not send: {e:#}");
                    model.status = format!("could not send: {e}");
                }
            },
            Some(command @ (Command::LessonStep(_) | Command::Answer(_))) => {
                source.lesson(model, command);
                model.sync(source.trace());
            }
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
    let mut session = Session::with_server(
        options.cert_dir.clone(),
        options.lab.clone(),
        options.transport,
    )
    .await?;
    for name in ["alice", "bob"] {
        match session.connect(name, options.knobs.clone()).await {
            Ok(_) => {}
            // A man in the middle is refused by a client that checks certificates: the demo
            // goes on to show that refusal in the capture.
            Err(e)
                if options
                    .attack
                    .is_some_and(crate::lab::attack::Attack::is_mitm) =>
            {
                tracing::warn!("{name} refused to go on: {e}");
            }
            Err(e) => return Err(e.into()),
        }
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
    look: Look,
) -> anyhow::Result<DemoOutcome> {
    // The server's port is in the title: `/port N` filters its traffic.
    let title = format!(
        "demo · {}{} · {}",
        session.transport().map_or("?", Transport::name),
        session
            .server_addr()
            .map_or(String::new(), |a| format!(" · server port {}", a.port())),
        session.lab().describe()
    );
    let senders = session.client_names();
    let mut model = Model::new(true, title, senders.clone(), look.theme());
    model.classroom = look.classroom;
    model.plain = session.transport() == Some(Transport::Plain);
    // On a path of routers the path view shows at once what each router changed.
    model.path = session.lab().capture_interfaces().len() > 1;
    for name in &senders {
        if let Some(conn) = session.client_conn(name) {
            model.names.insert(conn.client, name);
        }
    }
    listen_for_sigterm(rt);
    let mut live = Live {
        session: &mut session,
        rt,
        options,
        twin: None,
        compare: false,
        recorder: options.record.clone().map(crate::session::Recorder::new),
        forgot_at: std::time::Instant::now(),
        keep: options.keep,
        record_error: None,
    };
    // An attacker on the link: each line typed goes over TLS and plain TCP side by side, to see
    // what each makes of the same attack.
    if options.attack.is_some_and(|a| !a.is_mitm()) {
        match live.set_compare(true) {
            Ok(()) => model.compare = true,
            Err(e) => tracing::warn!("compare mode: {e:#}"),
        }
    }
    let result = event_loop(&mut model, &mut live);
    if let Some(twin) = live.twin.take() {
        let _ = rt.block_on(twin.finish());
    }
    let (mut recorder, record_error) = (live.recorder.take(), live.record_error.take());
    let (trace, frames, stats) = rt.block_on(session.finish())?;
    if result.is_err() {
        // The record is completed before the error is reported: what it holds is not lost.
        if let Some(Err(e)) = recorder.take().map(|r| r.finish(&trace, &frames, &[])) {
            tracing::error!("{e}");
        }
    }
    result?;
    Ok(DemoOutcome {
        trace,
        frames,
        dropped: stats.dropped,
        recorder,
        record_error,
    })
}

/// What a demo captured, for `main` to report (the log pane is gone by then) or save.
pub struct DemoOutcome {
    /// What the demo still kept (everything, without `--keep`), with the application events.
    pub trace: Trace,
    /// The frames as captured (those kept).
    pub frames: Vec<crate::frame::Frame>,
    /// Frames the kernel dropped (should be 0).
    pub dropped: u64,
    /// `--record`: the record, holding what the demo forgot; [`crate::session::Recorder::finish`]
    /// adds what it kept.
    pub recorder: Option<crate::session::Recorder>,
    /// Why the record could not be written, if it could not.
    pub record_error: Option<String>,
}

/// What showing a saved capture needs: a runtime only to hear SIGTERM and give the terminal
/// back (keep it alive while the screen is up), and the model, at the capture's first frame as
/// Wireshark opens one (G goes to the end).
fn saved_capture_screen(
    title: String,
    look: Look,
) -> anyhow::Result<(tokio::runtime::Runtime, Model)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    listen_for_sigterm(rt.handle());
    let mut model = Model::new(false, title, Vec::new(), look.theme());
    model.classroom = look.classroom;
    model.timeline.follow = false;
    Ok((rt, model))
}

/// A saved capture on screen until the user quits.
pub fn run_open(trace: Trace, title: String, look: Look) -> anyhow::Result<()> {
    let (_rt, mut model) = saved_capture_screen(title, look)?;
    event_loop(&mut model, &mut Saved(trace))
}

/// A capture on screen with the time graphs of TCP connection `stream` open over it (Esc shows
/// the timeline and panes under them), until the user quits.
pub fn run_graphs(trace: Trace, title: String, look: Look, stream: usize) -> anyhow::Result<()> {
    let (_rt, mut model) = saved_capture_screen(title, look)?;
    // Made a slice at a time by the loop, the screen up meanwhile.
    model.start_graphs(&trace, stream);
    event_loop(&mut model, &mut Saved(trace))
}

/// A capture file on screen until the user quits, shown from its first frames while the rest
/// loads (see [`Loader`]). What cannot be opened at all is an error before the screen is taken.
pub fn run_open_file(
    file: &Path,
    keylog: Option<&Path>,
    title: String,
    look: Look,
) -> anyhow::Result<()> {
    let rx = crate::capture::open_in_background(file, keylog)?;
    let (_rt, mut model) = saved_capture_screen(title, look)?;
    let mut loader = Loader::new(file.display().to_string(), rx);
    event_loop(&mut model, &mut loader)
}

/// A lesson's live session with the step runner around it (see [`run_lesson`]).
struct Taught<'a> {
    run: crate::lesson::LessonRun,
    rt: &'a tokio::runtime::Handle,
    /// Each step's questions, with what the student answered so far.
    questions: Vec<Vec<Question>>,
}

impl Source for Taught<'_> {
    fn trace(&self) -> &Trace {
        self.run.session().trace()
    }

    fn pump(&mut self) -> bool {
        poll(self.run.session_mut())
    }

    fn send(&mut self, _: &str, _: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn begin(&mut self, model: &mut Model) {
        self.show_step(model, 0);
    }

    fn lesson(&mut self, model: &mut Model, command: Command) {
        match command {
            Command::LessonStep(step) => self.show_step(model, step),
            Command::Answer(text) => self.answer(model, &text),
            _ => {}
        }
    }
}

impl Taught<'_> {
    /// Shows step `index`: runs its actions (once), judges it, selects its focus.
    fn show_step(&mut self, model: &mut Model, index: usize) {
        let Some(step) = self.run.lesson().steps.get(index).cloned() else {
            return;
        };
        let mut actions = Vec::new();
        // A prediction is asked before the step's actions run.
        let predicting = index >= self.run.steps_done()
            && self
                .questions
                .get(index)
                .is_some_and(|qs| qs.iter().any(|q| q.predict && !q.done));
        if predicting {
            actions.push(
                "(the step's actions run once you have made your prediction below)".to_string(),
            );
        } else if index >= self.run.steps_done() {
            let result = self
                .rt
                .block_on(self.run.run_through(index, &mut |a, note| match note {
                    None => {}
                    Some("") => actions.push(format!("▸ {a}")),
                    Some(note) => actions.push(format!("▸ {a}   ({note})")),
                }));
            if let Err(failure) = result {
                actions.push(format!("✗ {failure} — the lesson cannot go on from here"));
            }
        } else if !step.actions.is_empty() {
            let done: Vec<&str> = step.actions.iter().map(|a| a.source.as_str()).collect();
            actions.push(format!("(its actions already ran: {})", done.join("; ")));
        }
        let report = self.run.report(index);
        model.sync(self.run.session().trace());
        // Predictions made before the actions ran, judged now that they have.
        if !predicting {
            if let Some(all) = self.questions.get_mut(index) {
                for (qi, shown) in all.iter_mut().enumerate() {
                    let Some(predicted) = shown.prediction.take() else {
                        continue;
                    };
                    let explain = step
                        .questions
                        .get(qi)
                        .and_then(|q| q.explain.as_deref())
                        .map(|e| format!(" {e}"))
                        .unwrap_or_default();
                    let answer = match report.answers.get(qi) {
                        Some(Ok(a)) => a.clone(),
                        _ => String::new(),
                    };
                    shown.feedback = Some(match self.run.judge(index, qi, &predicted) {
                        Verdict::Right => {
                            format!(
                                "✓ you predicted {predicted}: your capture says so too.{explain}"
                            )
                        }
                        Verdict::Unanswerable(why) => {
                            format!("(this capture cannot answer it: {why})")
                        }
                        _ => format!(
                            "✗ you predicted {predicted}: your capture says {answer}.{explain}"
                        ),
                    });
                }
            }
        }
        let questions = self.questions.get(index).cloned().unwrap_or_default();
        let open = questions.iter().any(|q| !q.done);
        if let Some(pane) = &mut model.lesson {
            pane.step = index;
            pane.step_title = step.title.clone();
            pane.text = step.text.clone();
            pane.actions = actions;
            pane.questions = questions;
            pane.scroll = 0;
            pane.report = (!predicting).then(|| report.clone());
        }
        model.focus = Focus::Layers;
        if let Some(Ok(focus)) = &report.focus {
            model.select_lesson_focus(self.run.session().trace(), focus);
        }
        model.status = if open {
            format!(
                "{}: answer the question",
                keys_label(Context::Navigation, Action::FocusInput)
            )
        } else {
            String::new()
        };
    }

    /// Judges an answer to the step's first open question.
    fn answer(&mut self, model: &mut Model, typed: &str) {
        let Some(pane) = &mut model.lesson else {
            return;
        };
        let (step, Some(qi)) = (pane.step, pane.open_question()) else {
            return;
        };
        if step >= self.run.steps_done() && pane.questions.get(qi).is_some_and(|q| q.predict) {
            // A prediction: noted now, judged when the actions have run.
            let takes = self
                .run
                .lesson()
                .steps
                .get(step)
                .and_then(|s| s.questions.get(qi))
                .is_none_or(|q| q.takes(typed));
            let Some(shown) = pane.questions.get_mut(qi) else {
                return;
            };
            if !takes {
                shown.feedback = Some(format!(
                    "{typed}: that is none of the choices; type a letter or a choice's words"
                ));
                return;
            }
            shown.prediction = Some(typed.to_string());
            shown.done = true;
            shown.feedback = Some(format!("your prediction: {typed}"));
            if let Some(all) = self.questions.get_mut(step) {
                all.clone_from(&pane.questions);
            }
            if pane
                .open_question()
                .is_none_or(|next| !pane.questions.get(next).is_some_and(|q| q.predict))
            {
                // Every prediction made: run the step and judge them.
                self.show_step(model, step);
            }
            return;
        }
        let verdict = self.run.judge(step, qi, typed);
        let Some(q) = self
            .run
            .lesson()
            .steps
            .get(step)
            .and_then(|s| s.questions.get(qi))
        else {
            return;
        };
        let explain = q
            .explain
            .as_deref()
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        let Some(shown) = pane.questions.get_mut(qi) else {
            return;
        };
        match verdict {
            Verdict::Right => {
                shown.done = true;
                shown.feedback = Some(format!(
                    "✓ {typed}: right, your capture says so too.{explain}"
                ));
            }
            Verdict::Wrong if shown.tries < 1 => {
                shown.tries += 1;
                let hint = q
                    .hint
                    .as_deref()
                    .unwrap_or("look at the focused field again");
                shown.feedback = Some(format!(
                    "✗ {typed}: not what your capture says. Hint: {hint}"
                ));
            }
            Verdict::Wrong => {
                let answer = match self.run.report(step).answers.get(qi) {
                    Some(Ok(a)) => a.clone(),
                    _ => String::new(),
                };
                shown.done = true;
                shown.feedback = Some(format!("✗ {typed}: your capture says {answer}.{explain}"));
            }
            Verdict::NotAChoice(what) => {
                shown.feedback = Some(format!("{typed}: that is none of the choices; type {what}"));
            }
            Verdict::Unanswerable(why) => {
                shown.done = true;
                shown.feedback = Some(format!("(this capture cannot answer it: {why})"));
            }
        }
        if let Some(all) = self.questions.get_mut(step) {
            all.clone_from(&pane.questions);
        }
        if pane.open_question().is_none() {
            model.focus = Focus::Layers;
        }
        // The verdict is the pane's last line: keep it in view once the answer line lets go.
        let end = super::pane::lesson::max_scroll(model);
        if let Some(pane) = &mut model.lesson {
            pane.scroll = end;
        }
    }
}

/// A lesson in the terminal UI until the user quits: `n`/`p` step, the step's text and checks in
/// the lesson pane, its focus selected in the columns and hex, questions answered in the input
/// line. Call from outside the runtime, with its handle. Returns the capture and the student's record.
pub fn run_lesson(
    rt: &tokio::runtime::Handle,
    run: crate::lesson::LessonRun,
    student: &str,
    look: Look,
) -> anyhow::Result<crate::lesson::stepper::Finished> {
    let lesson = run.lesson();
    let title = format!(
        "lesson {} · {}",
        lesson.name,
        run.session().lab().describe()
    );
    let mut model = Model::new(true, title, Vec::new(), look.theme());
    model.classroom = look.classroom;
    model.focus = Focus::Layers;
    let questions: Vec<Vec<Question>> = lesson
        .steps
        .iter()
        .map(|s| {
            s.questions
                .iter()
                .map(|q| Question {
                    ask: q.ask_text(),
                    hint: q.hint.clone(),
                    done: false,
                    tries: 0,
                    feedback: None,
                    predict: q.predict,
                    prediction: None,
                })
                .collect()
        })
        .collect();
    model.lesson = Some(LessonPane {
        title: lesson.title.clone(),
        total: lesson.steps.len(),
        ..LessonPane::default()
    });
    listen_for_sigterm(rt);
    let mut taught = Taught { run, rt, questions };
    let result = event_loop(&mut model, &mut taught);
    let (trace, frames, record) = rt.block_on(taught.run.finish_recorded(student))?;
    result?;
    Ok(crate::lesson::stepper::Finished {
        trace,
        frames,
        record,
    })
}

/// Reads a capture file (pcap or pcapng) into a trace (see [`crate::capture::open_capture`]):
/// its embedded secrets and those of `keylog`, its application events, every frame. Damage after
/// some frames is logged (it shows in the log pane), and the frames before it are kept.
pub fn load_capture(file: &Path, keylog: Option<&Path>) -> anyhow::Result<Trace> {
    let (trace, damage) = crate::capture::open_capture(file, keylog, &mut |_, _| {})?;
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
