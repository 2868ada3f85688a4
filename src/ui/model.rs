//! The model: everything the screen shows, apart from the [`Trace`] itself (which the engine owns
//! and the views borrow). Views are pure functions of `(Model, Trace)`; only `update` changes it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ratatui::layout::Rect;

use super::detail::{Detail, Subject};
use super::graphs::GraphsJob;
use super::index::{GroupKind, Names, RowKind};
use super::line::LineInput;
use super::stream::{Maker, StreamView};
use super::theme::{Theme, UiLayer};
use super::timeline::TimelineState;
use crate::chat::{Direction as AppDir, Side};
use crate::journey::timing::Budget;
use crate::journey::Trace;
use crate::lesson::checks::FocusView;
use crate::lesson::query::QueryError;

/// The panes that take the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The chat input line (typing).
    Input,
    /// The timeline.
    Timeline,
    /// The layer columns.
    Layers,
    /// The hex bytes.
    Hex,
    /// The chat transcript.
    Chat,
    /// The log.
    Log,
}

/// The panes Tab cycles through, in order.
pub const PANES: [Focus; 5] = [
    Focus::Timeline,
    Focus::Layers,
    Focus::Hex,
    Focus::Chat,
    Focus::Log,
];

/// A full-screen view over the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// The help screen, scrolled by this many lines.
    Help(usize),
    /// The reassembled conversation of one TCP connection (its scroll position is in
    /// [`Model::stream`]).
    Stream {
        /// The connection.
        stream: usize,
    },
    /// The time graphs of one TCP connection (their state is in [`Model::graphs`]).
    Graphs,
}

/// Where each pane was last laid out (for mouse clicks and page sizes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// The whole screen.
    pub screen: Rect,
    /// The title bar.
    pub title: Rect,
    /// The classroom banner (view and play state in words; empty outside the classroom layout).
    pub banner: Rect,
    /// The timeline (with its border).
    pub timeline: Rect,
    /// Where the timeline's rows are drawn: inside its border, under the column header.
    pub timeline_rows: Rect,
    /// The encapsulation strip.
    pub strip: Rect,
    /// The layer columns (with border).
    pub layers: Rect,
    /// Each column's inner area, Application first.
    pub columns: [Rect; 5],
    /// The meaning line under the columns.
    pub meaning: Rect,
    /// The hex pane (with border).
    pub hex: Rect,
    /// The chat transcript (with border).
    pub chat: Rect,
    /// The chat input line.
    pub input: Rect,
    /// The log (with border).
    pub log: Rect,
    /// The status line.
    pub status: Rect,
}

/// One line of the chat pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// The client whose screen this is.
    pub who: String,
    /// The line.
    pub text: String,
    /// True for a line the client received, false for one it sent.
    pub incoming: bool,
}

/// Playing the timeline one event at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Player {
    /// Playing (true) or paused.
    pub playing: bool,
    /// Time between two steps.
    pub interval: Duration,
    /// When the next step is due.
    pub next: Option<Instant>,
}

impl Default for Player {
    fn default() -> Self {
        Player {
            playing: false,
            interval: Duration::from_millis(1000),
            next: None,
        }
    }
}

/// How long a filter may test rows between two screens: a third of a 60 Hz frame, as long as
/// loading a capture may take ([`super::loading::PUMP_BUDGET`]).
pub const FILTER_BUDGET: Duration = Duration::from_millis(5);

/// How long making the time graphs (`t`) may go on between two screens: as long as a filter.
pub const GRAPHS_BUDGET: Duration = FILTER_BUDGET;

/// What the prompt at the bottom asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFor {
    /// A display filter (`/`).
    Filter,
    /// A frame number to go to (`:`).
    GoTo,
}

/// Everything on screen.
pub struct Model {
    /// A live demo (with chat input) or a saved capture.
    pub live: bool,
    /// What is shown, for the title bar ("demo · TLS 1.3 · the lab's loopback").
    pub title: String,
    /// Colours or NO_COLOR.
    pub theme: Theme,
    /// The classroom layout (`--classroom`): no log pane, larger timeline and lesson pane, a
    /// banner with the view and the play state.
    pub classroom: bool,
    /// The pane with the keyboard.
    pub focus: Focus,
    /// The filter prompt (after `/`) or the go-to prompt (after `:`) is open.
    pub prompt: bool,
    /// Which prompt is open.
    pub prompt_for: PromptFor,
    /// The filter being typed after `/`, and the filters applied before.
    pub filter_input: LineInput,
    /// The frame number typed after `:`.
    pub goto_input: LineInput,
    /// The filter shown when the prompt opened (Esc goes back to it).
    pub filter_before: String,
    /// Why the filter being typed is not a filter yet, if it is not.
    pub filter_error: Option<String>,
    /// Help or the stream view, if open.
    pub overlay: Option<Overlay>,
    /// The chat line being typed (in a lesson, the answer), and the lines entered before.
    pub input: LineInput,
    /// Who the chat line is sent as.
    pub senders: Vec<String>,
    /// Index into `senders`.
    pub sender: usize,
    /// Client names.
    pub names: Names,
    /// What a man in the middle read and sent (`demo --attack mitm`), shown in the chat pane.
    pub attacker: Vec<crate::chat::mitm::RelayedLine>,
    /// The timeline.
    pub timeline: TimelineState,
    /// What the columns are about.
    pub subject: Option<Subject>,
    /// The columns' content.
    pub detail: Detail,
    /// The selected field (index into `detail.fields`).
    pub field: Option<usize>,
    /// The column the layers pane moves in.
    pub column: UiLayer,
    /// The frame shown in hex.
    pub hex_frame: Option<u32>,
    /// The byte under the hex cursor.
    pub hex_cursor: Option<usize>,
    /// Endpoints' view (true) or eavesdropper's (false).
    pub decrypted: bool,
    /// Nothing on screen is encrypted (a plain TCP demo, or a saved capture without TLS): both
    /// views are the same, and `e` says so.
    pub plain: bool,
    /// Step/play state.
    pub player: Player,
    /// The focused pane fills the screen.
    pub zoom: bool,
    /// Compare mode (the demo's twin chat over the other transport) replaces the upper panes.
    pub compare: bool,
    /// The path view replaces the layer columns (`r`; on from the start in a demo on a path of
    /// routers).
    pub path: bool,
    /// Lines compare mode is scrolled by.
    pub compare_scroll: usize,
    /// The chat transcript.
    pub chat: Vec<ChatLine>,
    /// Chat lines scrolled back from the newest.
    pub chat_scroll: usize,
    /// A short message for the status line.
    pub status: String,
    /// Last layout.
    pub areas: Areas,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// The log widget's own state (scrolling), when the log pane is live.
    pub log_state: Option<tui_logger::TuiWidgetState>,
    /// How many lines the log holds: the log pane takes no more rows than that (none when 0).
    pub log_lines: usize,
    /// The lesson being run (`lesson run`), shown in place of the chat.
    pub lesson: Option<super::lesson::LessonPane>,
    /// The stream overlay: the connection's entries (numbers only) and the lines around the
    /// screen, made when it opens, scrolls, when the view is toggled and when the trace grows
    /// (they decrypt records: too much for every redraw, and a stream can be gigabytes).
    pub stream: Option<StreamView>,
    /// The time graphs, while their overlay is open.
    pub graphs: Option<super::graphs::Graphs>,
    /// The time graphs being made (`t`), a slice of the capture each turn; their overlay opens
    /// when they are done.
    pub graphs_job: Option<GraphsJob>,
    /// How much of the graphs' making one turn does ([`GRAPHS_BUDGET`]; tests make it a few
    /// frames, to see the turns).
    pub graphs_budget: Budget,
    /// While a capture file loads: how far ("reading 34% · 412,000 frames").
    pub progress: Option<String>,
}

impl Model {
    /// A model for a live demo (`live`) or a saved capture, with the given title.
    pub fn new(live: bool, title: String, senders: Vec<String>, theme: Theme) -> Model {
        Model {
            live,
            title,
            theme,
            classroom: false,
            focus: if live { Focus::Input } else { Focus::Timeline },
            prompt: false,
            prompt_for: PromptFor::Filter,
            filter_input: LineInput::default(),
            goto_input: LineInput::default(),
            filter_before: String::new(),
            filter_error: None,
            overlay: None,
            input: LineInput::default(),
            senders,
            sender: 0,
            names: Names::default(),
            attacker: Vec::new(),
            timeline: TimelineState {
                follow: true,
                reveal: true,
                ..TimelineState::default()
            },
            subject: None,
            detail: Detail::default(),
            field: None,
            column: UiLayer::Application,
            hex_frame: None,
            hex_cursor: None,
            decrypted: true,
            plain: false,
            player: Player::default(),
            zoom: false,
            compare: false,
            path: false,
            compare_scroll: 0,
            chat: Vec::new(),
            chat_scroll: 0,
            status: String::new(),
            areas: Areas::default(),
            quit: false,
            log_state: None,
            log_lines: 0,
            lesson: None,
            stream: None,
            graphs: None,
            graphs_job: None,
            graphs_budget: Budget::Time(GRAPHS_BUDGET),
            progress: None,
        }
    }

    /// The name the chat input sends as.
    pub fn sender_name(&self) -> &str {
        self.senders.get(self.sender).map_or("", String::as_str)
    }

    /// Rows of the timeline that fit on screen.
    /// Whether the layout has a log pane: not in a lesson or the classroom layout, and not while
    /// the log is empty.
    pub fn log_shown(&self) -> bool {
        !self.classroom && self.lesson.is_none() && self.log_lines > 0
    }

    pub fn timeline_height(&self) -> usize {
        self.areas.timeline_rows.height.max(1) as usize
    }

    /// Starts applying display filter `text` to the timeline; the rows are tested for at most
    /// [`FILTER_BUDGET`] now and the rest in later turns ([`Model::continue_filter`]), so a key is
    /// never kept waiting by a large capture. A filter that does not parse changes nothing.
    pub fn filter(&mut self, trace: &Trace, text: &str) -> Result<(), QueryError> {
        self.timeline.start_filter(text)?;
        self.continue_filter(trace);
        Ok(())
    }

    /// Goes on applying the filter being applied, for at most [`FILTER_BUDGET`]; true while
    /// there is more to do.
    pub fn continue_filter(&mut self, trace: &Trace) -> bool {
        if self.timeline.job.is_none() {
            return false;
        }
        if self
            .timeline
            .continue_filter(trace, &self.names, FILTER_BUDGET)
        {
            let h = self.timeline_height();
            self.timeline.scroll_into_view(h);
        }
        self.timeline.job.is_some()
    }

    /// Starts making the time graphs of connection `stream` (in place of any being made); the
    /// run loop goes on with them a slice at a time ([`Model::continue_graphs`]), and their
    /// overlay opens when they are done. A connection without graphs says why in the status.
    pub fn start_graphs(&mut self, trace: &Trace, stream: usize) {
        match GraphsJob::start(trace, stream) {
            Ok(job) => self.graphs_job = Some(job),
            Err(why) => {
                self.graphs_job = None;
                self.status = why.to_string();
            }
        }
    }

    /// Goes on making the time graphs being made, for at most [`Model::graphs_budget`]; opens
    /// their overlay when they are done. True while there is more to do.
    pub fn continue_graphs(&mut self, trace: &Trace) -> bool {
        let Some(job) = &mut self.graphs_job else {
            return false;
        };
        let Some(result) = job.step(trace, self.graphs_budget) else {
            return true;
        };
        self.graphs_job = None;
        match result {
            Ok(graphs) => {
                self.graphs = Some(graphs);
                self.overlay = Some(Overlay::Graphs);
            }
            Err(why) => self.status = why.to_string(),
        }
        false
    }

    /// While the time graphs are being made: how far ("making the time graphs of connection 3:
    /// 37%").
    pub fn graphs_progress(&self) -> Option<String> {
        self.graphs_job.as_ref().map(|job| {
            format!(
                "making the time graphs of connection {}: {}% (Esc cancels)",
                job.stream(),
                job.percent()
            )
        })
    }

    /// Opens follow stream over connection `stream`, at its top.
    pub fn open_stream(&mut self, trace: &Trace, stream: usize) {
        self.overlay = Some(Overlay::Stream { stream });
        let height = self.stream_height();
        let maker = Maker {
            trace,
            names: &self.names,
            theme: self.theme,
        };
        self.stream = Some(StreamView::open(maker, stream, self.decrypted, height));
    }

    /// Rows of the stream overlay's text.
    pub fn stream_height(&self) -> usize {
        usize::from(self.areas.screen.height.saturating_sub(4)).max(1)
    }

    /// Brings the stream overlay up to date with the trace, the view (`e`) and the screen's
    /// height, if it is open; drops it if it is closed.
    pub fn refresh_stream(&mut self, trace: &Trace) {
        if !matches!(self.overlay, Some(Overlay::Stream { .. })) {
            self.stream = None;
            return;
        }
        let height = self.stream_height();
        let maker = Maker {
            trace,
            names: &self.names,
            theme: self.theme,
        };
        if let Some(view) = &mut self.stream {
            view.set_decrypted(maker, self.decrypted);
            view.set_height(maker, height);
            view.refresh(maker);
        }
    }

    /// Lets the stream overlay do `f` with what makes its lines.
    pub fn with_stream(&mut self, trace: &Trace, f: impl FnOnce(&mut StreamView, Maker)) {
        let maker = Maker {
            trace,
            names: &self.names,
            theme: self.theme,
        };
        if let Some(view) = &mut self.stream {
            f(view, maker);
        }
    }

    /// Brings the model up to date with a trace that may have grown.
    pub fn sync(&mut self, trace: &Trace) {
        if !self.timeline.index.is_stale(trace) && !self.timeline.index.rows.is_empty() {
            return;
        }
        if !self.live {
            self.plain = !trace
                .tcp()
                .connections()
                .iter()
                .any(|c| trace.stream_kind(c.index) == crate::journey::StreamKind::Tls);
        }
        self.refresh_stream(trace);
        self.names.learn(trace.app_events());
        let keep = self
            .timeline
            .selected_row()
            .and_then(|r| self.timeline.index.rows.get(r).copied());
        let events_from = self.timeline.index.events_from;
        let appended = self.timeline.index.update(trace);
        // The filter being applied, if one is, else the one applied.
        let filter = self
            .timeline
            .job
            .as_ref()
            .map_or_else(|| self.timeline.filter.clone(), |job| job.text.clone());
        let filtered = match appended {
            // Only new rows: filter those (a large file loading costs each row once).
            Some(from) => self.timeline.filter_appended(trace, &self.names, from),
            None => self.filter(trace, &filter),
        };
        if filtered.is_err() {
            // It parsed when it was applied; should it not now, show everything rather than
            // a stale selection.
            self.timeline.filter.clear();
            self.timeline.visible = None;
        }
        if self.timeline.follow {
            self.select_newest(trace);
        } else if let Some(old) = keep {
            let row = match old.kind {
                RowKind::Frame(n) | RowKind::Record(n, _) => self.timeline.index.frame_row(n),
                // Event indices moved down by the events forgotten meanwhile.
                RowKind::App(i) => (i as usize + events_from)
                    .checked_sub(self.timeline.index.events_from)
                    .and_then(|i| self.timeline.index.event_row.get(&i))
                    .map(|&r| r as usize),
                RowKind::Group => None,
            };
            let forgotten = match old.kind {
                RowKind::Frame(n) | RowKind::Record(n, _) => n <= trace.frames_forgotten(),
                RowKind::App(i) => i as usize + events_from < self.timeline.index.events_from,
                RowKind::Group => false,
            };
            if let Some(row) = row {
                self.timeline.selected = self.timeline.position_of(row);
            } else if forgotten {
                // A long demo forgot the row: the oldest one kept.
                self.timeline.selected = 0;
            }
        }
        let height = self.timeline_height();
        self.timeline.scroll_into_view(height);
        self.chat = chat_lines(trace, &self.names, &self.attacker);
        self.refresh_detail(trace, true);
    }

    /// Selects what live following shows: the newest message a client wrote (the line just
    /// typed), or the last row.
    pub fn select_newest(&mut self, trace: &Trace) {
        let index = &self.timeline.index;
        let newest_message = index.groups.iter().rev().find(|g| match g.kind {
            GroupKind::Message(i) => trace.app_events().get(i).is_some_and(|e| {
                e.side == Side::Client && e.dir == AppDir::Write && !e.bytes.starts_with(b"/name ")
            }),
            _ => false,
        });
        let row = match newest_message {
            Some(g) => g.first_row as usize,
            None => index.rows.len().saturating_sub(1),
        };
        self.timeline.selected = self.timeline.position_of(row);
    }

    /// Takes note of a new layout: the timeline keeps its selection in view.
    pub fn set_areas(&mut self, areas: Areas) {
        self.areas = areas;
        let height = self.timeline_height();
        self.timeline.scroll_into_view(height);
    }

    /// What the selected timeline row is about.
    pub fn selected_subject(&self, trace: &Trace) -> Option<Subject> {
        let row_index = self.timeline.selected_row()?;
        let index = &self.timeline.index;
        let row = index.rows.get(row_index)?;
        let message = index
            .groups
            .get(row.group as usize)
            .and_then(|g| match g.kind {
                GroupKind::Message(i) => Some(i),
                _ => None,
            });
        match row.kind {
            RowKind::Group => match message {
                Some(i) => Some(Subject::Message(i)),
                None => index
                    .frame_of(trace, row_index)
                    .map(|n| Subject::Frame(n, None)),
            },
            RowKind::Frame(n) | RowKind::Record(n, _) => Some(Subject::Frame(n, message)),
            RowKind::App(i) => {
                let e = trace.app_events().get(i as usize)?;
                if e.dir == AppDir::Write && trace.journey(e).is_some() {
                    Some(Subject::Message(i as usize))
                } else {
                    index
                        .frame_of(trace, row_index)
                        .map(|n| Subject::Frame(n, message))
                }
            }
        }
    }

    /// Rebuilds the columns if the selection changed (or always, with `force`).
    pub fn refresh_detail(&mut self, trace: &Trace, force: bool) {
        let subject = self.selected_subject(trace);
        if subject == self.subject && !force {
            return;
        }
        let same = subject == self.subject;
        self.subject = subject;
        self.detail = match subject {
            Some(s) => Detail::build(trace, &self.names, s, self.decrypted),
            None => Detail::default(),
        };
        if !same {
            self.field = None;
            self.hex_cursor = None;
            self.hex_frame = self.detail.frames.first().copied();
        } else if self.field.is_some_and(|f| f >= self.detail.fields.len()) {
            self.field = None;
        }
    }

    /// Selects a field: its layer's column takes the focus within the layers pane, and the hex
    /// pane shows the frame with its bytes.
    pub fn select_field(&mut self, field: usize) {
        let Some(f) = self.detail.fields.get(field) else {
            return;
        };
        self.field = Some(field);
        self.column = f.layer;
        if let Some((frame, range)) = f
            .spans
            .iter()
            .find(|(n, _)| Some(*n) == self.hex_frame)
            .or_else(|| f.spans.first())
        {
            self.hex_frame = Some(*frame);
            self.hex_cursor = Some(range.start);
        }
    }
}

/// The chat as each client saw it: lines it sent and lines it received, in order; with a man in
/// the middle, what it read and sent on, each line among the clients' at the time it read it.
pub fn chat_lines(
    trace: &Trace,
    names: &Names,
    attacker: &[crate::chat::mitm::RelayedLine],
) -> Vec<ChatLine> {
    let mut out: Vec<(crate::frame::Timestamp, ChatLine)> = Vec::new();
    let mut partial: HashMap<(std::net::SocketAddr, bool), String> = HashMap::new();
    // The tap stamps a write when it has completed, which can be after the peer read it: order
    // by the frame that carried each event's last byte (causal order), then by time.
    let mut events: Vec<(u32, &crate::chat::AppEvent)> = trace
        .app_events()
        .iter()
        .filter(|e| e.side == Side::Client)
        .map(|e| (trace.app_event_frame(e).unwrap_or(u32::MAX), e))
        .collect();
    events.sort_by_key(|(frame, e)| (*frame, e.at));
    for (_, e) in events {
        if e.side != Side::Client {
            continue;
        }
        let who = names.client(e.conn.client);
        let incoming = e.dir == AppDir::Read;
        let buf = partial.entry((e.conn.client, incoming)).or_default();
        buf.push_str(&String::from_utf8_lossy(&e.bytes));
        while let Some(end) = buf.find('\n') {
            let line: String = buf.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            if !incoming && line.starts_with("/name ") {
                continue;
            }
            out.push((
                e.at,
                ChatLine {
                    who: who.clone(),
                    text: line,
                    incoming,
                },
            ));
        }
    }
    // The clients' lines stay in their causal order; each attacker's line goes before the first
    // client line stamped after it.
    let mut merged = Vec::with_capacity(out.len() + attacker.len());
    let mut lines = out.into_iter().peekable();
    for a in attacker {
        while let Some((_, line)) = lines.next_if(|(at, _)| *at <= a.at) {
            merged.push(line);
        }
        let side = if a.to_server { "from" } else { "to" };
        merged.push(ChatLine {
            who: "attacker (r1)".into(),
            text: if a.read == a.sent {
                format!("read {side} {}: {}", names.client(a.client), a.read)
            } else {
                format!(
                    "read {side} {}: {} → sent: {}",
                    names.client(a.client),
                    a.read,
                    a.sent
                )
            },
            incoming: true,
        });
    }
    merged.extend(lines.map(|(_, line)| line));
    merged
}

impl Model {
    /// Selects the focus in the timeline, the columns and the hex pane: the frame's row, then the
    /// field whose bytes are exactly the focus's (or, failing that, its name in its layer).
    pub fn select_lesson_focus(&mut self, trace: &Trace, focus: &FocusView) {
        let Some(row) = self.timeline.index.frame_row(focus.frame) else {
            return;
        };
        self.timeline.follow = false;
        self.timeline.selected = self.timeline.position_of(row);
        let height = self.timeline_height();
        self.timeline.scroll_into_view(height);
        self.refresh_detail(trace, false);
        self.hex_frame = Some(focus.frame);
        let by_bytes = focus.range.as_ref().and_then(|want| {
            self.detail
                .fields
                .iter()
                .position(|f| f.spans.iter().any(|(n, r)| *n == focus.frame && r == want))
        });
        let short = focus.field.rsplit(" › ").next().unwrap_or(&focus.field);
        let by_name = || {
            self.detail
                .fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(short))
        };
        if let Some(i) = by_bytes.or_else(by_name) {
            self.select_field(i);
            self.focus = Focus::Layers;
        }
    }
}
