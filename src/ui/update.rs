//! Messages and `update`: the only place the model changes. Keys become [`Action`]s through the
//! key table; what needs the outside world (sending a chat line, quitting) comes back as a
//! [`Command`] for the runner to carry out.

use std::time::{Duration, Instant};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::hex::HexView;
use super::index::RowKind;
use super::keys::{action_for, Action, Context};
use super::line::LineInput;
use super::model::{Focus, Model, Overlay, PromptFor, PANES};
use super::pane::layers::field_at_row;
use super::theme::UiLayer;
use crate::journey::Trace;

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A key was pressed.
    Key(KeyEvent),
    /// The mouse did something.
    Mouse(MouseEvent),
    /// Time passed (drives play).
    Tick(Instant),
}

/// Something for the runner to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send `text` as client `from`.
    Send {
        /// The client.
        from: String,
        /// The line, without its newline.
        text: String,
    },
    /// Turn compare mode on or off (the runner starts the twin chat when needed).
    Compare(bool),
    /// Lesson: show step `.0` (from 0), running its actions first if they have not run.
    LessonStep(usize),
    /// Lesson: judge this answer to the step's open question.
    Answer(String),
    /// Leave.
    Quit,
}

const MIN_INTERVAL: Duration = Duration::from_millis(125);
const MAX_INTERVAL: Duration = Duration::from_secs(8);

/// Applies one message to the model.
pub fn update(model: &mut Model, trace: &Trace, msg: Msg) -> Option<Command> {
    let command = match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(model, trace, key),
        Msg::Key(_) => None,
        Msg::Mouse(mouse) => {
            on_mouse(model, trace, mouse);
            None
        }
        Msg::Tick(now) => {
            on_tick(model, trace, now);
            None
        }
    };
    model.refresh_detail(trace, false);
    // The screen may have grown: the stream overlay makes the lines it now shows.
    let height = model.stream_height();
    model.with_stream(trace, |view, m| view.set_height(m, height));
    command
}

fn on_key(model: &mut Model, trace: &Trace, key: KeyEvent) -> Option<Command> {
    // A terminal sends Esc as a bare ESC byte, and Alt+key as ESC then the key: Esc typed quickly
    // followed by a key arrives as Alt+key. While typing, read it as what the user did: Esc, then
    // the key.
    if key.modifiers.contains(KeyModifiers::ALT)
        && model.overlay.is_none()
        && (model.prompt || model.focus == Focus::Input)
    {
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        on_key(model, trace, esc);
        let plain = KeyEvent::new(key.code, key.modifiers - KeyModifiers::ALT);
        return on_key(model, trace, plain);
    }
    let context = if model.overlay.is_some() {
        Context::Overlay
    } else if model.prompt {
        Context::Prompt
    } else if model.focus == Focus::Input {
        Context::Input
    } else {
        Context::Navigation
    };
    let lesson_action = (context == Context::Navigation && model.lesson.is_some())
        .then(|| action_for(Context::Lesson, &key))
        .flatten();
    let typing = matches!(context, Context::Input | Context::Prompt);
    let edit_action = typing.then(|| action_for(Context::Edit, &key)).flatten();
    let action = lesson_action.or_else(|| action_for(context, &key));
    match action.or(edit_action) {
        Some(Action::Edit(edit)) => {
            if let Some(line) = line_for(model, context) {
                line.edit(edit);
            }
            if context == Context::Prompt {
                prompt_changed(model, trace);
            }
            None
        }
        Some(action) => act(model, trace, context, action),
        None => {
            // A character is typed; other keys (Ctrl with a letter no editing key uses, F-keys)
            // do nothing rather than type a letter.
            if let (KeyCode::Char(c), false) =
                (key.code, key.modifiers.contains(KeyModifiers::CONTROL))
            {
                if let Some(line) = line_for(model, context) {
                    line.insert(c);
                }
                if context == Context::Prompt {
                    prompt_changed(model, trace);
                }
            }
            None
        }
    }
}

/// The prompt's line changed: the filter is applied as it is typed, whenever it parses (on a
/// large capture the rows are tested a slice at a time between screens, see [`Model::filter`]).
fn prompt_changed(model: &mut Model, trace: &Trace) {
    if model.prompt_for != PromptFor::Filter {
        return;
    }
    let typed = model.filter_input.value().to_string();
    match model.filter(trace, &typed) {
        Ok(()) => {
            model.filter_error = None;
            model.timeline.follow = false;
        }
        Err(e) => model.filter_error = Some(e.to_string()),
    }
}

/// Selects frame `n` in the timeline, or says why it cannot.
fn go_to_frame(model: &mut Model, trace: &Trace, typed: &str) {
    let (first, last) = (trace.frames_forgotten() + 1, trace.frame_count());
    let Ok(n) = typed.trim().trim_start_matches('#').parse::<u32>() else {
        model.status = format!("{typed:?} is not a frame number: type one from {first} to {last}");
        return;
    };
    let Some(row) = model.timeline.index.frame_row(n) else {
        model.status = if trace.frames().is_empty() {
            "no frames yet".to_string()
        } else if n > 0 && n < first {
            super::strings::forgotten_frame(n, first)
        } else {
            format!("no frame #{n}: frames are numbered {first} to {last}")
        };
        return;
    };
    let pos = model.timeline.position_of(row);
    if model.timeline.row_at(pos) != Some(row) {
        model.status = format!(
            "frame #{n} is hidden by the filter {:?} (/ then Enter on an empty line shows all)",
            model.timeline.filter
        );
        return;
    }
    model.timeline.follow = false;
    model.timeline.selected = pos;
    model.focus = Focus::Timeline;
    let h = model.timeline_height();
    model.timeline.scroll_into_view(h);
    model.status = format!("frame #{n}");
}

/// The line being typed: the filter prompt, or the chat input (a lesson's answer).
fn line_for(model: &mut Model, context: Context) -> Option<&mut LineInput> {
    match context {
        Context::Prompt if model.prompt => Some(match model.prompt_for {
            PromptFor::Filter => &mut model.filter_input,
            PromptFor::GoTo => &mut model.goto_input,
        }),
        Context::Input if model.live => Some(&mut model.input),
        _ => None,
    }
}

fn act(model: &mut Model, trace: &Trace, context: Context, action: Action) -> Option<Command> {
    model.status.clear();
    if model.overlay == Some(Overlay::Graphs) && graphs_act(model, trace, action) {
        return None;
    }
    // The graphs' own keys do nothing under the other overlays (the panes below keep still).
    if model.overlay.is_some()
        && matches!(
            action,
            Action::Left
                | Action::Right
                | Action::NextPane
                | Action::PrevPane
                | Action::Select
                | Action::ZoomIn
                | Action::ZoomOut
        )
    {
        return None;
    }
    match action {
        Action::Quit => {
            model.quit = true;
            return Some(Command::Quit);
        }
        Action::Send => {
            let text = model.input.submit();
            if text.trim().is_empty() {
                return None;
            }
            if model.lesson.is_some() {
                return Some(Command::Answer(text.trim().to_string()));
            }
            model.timeline.follow = true;
            return Some(Command::Send {
                from: model.sender_name().to_string(),
                text,
            });
        }
        Action::SwitchSender => {
            if !model.senders.is_empty() {
                model.sender = (model.sender + 1) % model.senders.len();
                model.status = format!("typing as {}", model.sender_name());
            }
        }
        Action::FocusInput => {
            if model.live {
                model.focus = Focus::Input;
            }
        }
        Action::LeaveInput => {
            if context == Context::Prompt {
                model.prompt = false;
                model.filter_error = None;
                if model.prompt_for == PromptFor::Filter
                    && model.timeline.filter != model.filter_before
                {
                    // Cancelled: back to the filter shown before (it applied then).
                    let before = model.filter_before.clone();
                    let _ = model.filter(trace, &before);
                }
            } else {
                model.focus = Focus::Timeline;
            }
        }
        Action::Select if context == Context::Prompt && model.prompt_for == PromptFor::GoTo => {
            model.prompt = false;
            let typed = model.goto_input.submit();
            go_to_frame(model, trace, &typed);
        }
        Action::Select if context == Context::Prompt => {
            let typed = model.filter_input.value().to_string();
            if let Err(e) = model.filter(trace, &typed) {
                // Stay in the prompt: the error under the line says what to fix.
                model.filter_error = Some(e.to_string());
                return None;
            }
            model.filter_input.submit();
            model.prompt = false;
            model.filter_error = None;
            model.timeline.follow = false;
        }
        Action::Select => match model.focus {
            Focus::Timeline => {
                model.focus = Focus::Layers;
                if model.field.is_none() {
                    first_field(model, model.column);
                }
            }
            Focus::Layers => {
                model.focus = Focus::Hex;
                if let Some(f) = model.field {
                    model.select_field(f);
                }
            }
            _ => {}
        },
        Action::NextPane | Action::PrevPane => {
            // No log pane in a lesson, the classroom layout or while the log is empty: Tab
            // skips it.
            let panes: Vec<Focus> = PANES
                .into_iter()
                .filter(|p| *p != Focus::Log || model.log_shown())
                .collect();
            let at = panes.iter().position(|p| *p == model.focus).unwrap_or(0);
            let n = panes.len();
            let next = if action == Action::NextPane {
                (at + 1) % n
            } else {
                (at + n - 1) % n
            };
            model.focus = panes[next];
        }
        Action::Filter => {
            model.filter_input.set(model.timeline.filter.clone());
            model.filter_before = model.timeline.filter.clone();
            model.filter_error = None;
            model.prompt_for = PromptFor::Filter;
            model.prompt = true;
        }
        Action::GoTo => {
            model.goto_input.set(String::new());
            model.prompt_for = PromptFor::GoTo;
            model.prompt = true;
        }
        Action::Help => model.overlay = Some(Overlay::Help(0)),
        Action::Close => {
            model.overlay = None;
            model.stream = None;
            model.graphs = None;
            if let Some(job) = model.graphs_job.take() {
                model.status = format!(
                    "the time graphs of connection {} are cancelled",
                    job.stream()
                );
            }
        }
        Action::Graphs => {
            let stream = model
                .hex_frame
                .and_then(|n| trace.frame(n))
                .and_then(|e| e.segment.as_ref())
                .map(|s| s.stream);
            match stream {
                // Already being made: they go on (the status line says how far).
                Some(s) if model.graphs_job.as_ref().is_some_and(|j| j.stream() == s) => {}
                // A slice now (a small capture's graphs open at once), the rest in later turns.
                Some(s) => {
                    model.start_graphs(trace, s);
                    model.continue_graphs(trace);
                }
                None => model.status = "select a TCP frame or message first".into(),
            }
        }
        // Only the graphs zoom (above).
        Action::ZoomIn | Action::ZoomOut => {}
        // Compare mode shows a TLS chat next to the plain one: its two views still differ.
        Action::ToggleDecrypt if model.plain && !model.compare => {
            model.status = super::strings::NOTHING_TO_DECRYPT.into();
        }
        Action::ToggleDecrypt => {
            model.decrypted = !model.decrypted;
            model.timeline.reveal = model.decrypted;
            let filter = model.timeline.filter.clone();
            if !filter.is_empty() {
                // The same filter, now over what this view may read.
                let _ = model.filter(trace, &filter);
            }
            model.refresh_detail(trace, true);
            let decrypted = model.decrypted;
            model.with_stream(trace, |view, m| view.set_decrypted(m, decrypted));
        }
        Action::FollowStream => {
            let stream = model
                .hex_frame
                .and_then(|n| trace.frame(n))
                .and_then(|e| e.segment.as_ref())
                .map(|s| s.stream);
            match stream {
                Some(stream) => model.open_stream(trace, stream),
                None => model.status = "select a TCP frame or message first".into(),
            }
        }
        Action::StepNext => step(model, 1),
        Action::StepBack => step(model, -1),
        Action::PlayPause => {
            model.player.playing = !model.player.playing;
            model.player.next = None;
            if model.player.playing {
                model.timeline.follow = false;
                model.focus = Focus::Timeline;
            }
        }
        Action::Faster => model.player.interval = (model.player.interval / 2).max(MIN_INTERVAL),
        Action::Slower => model.player.interval = (model.player.interval * 2).min(MAX_INTERVAL),
        Action::Zoom => model.zoom = !model.zoom,
        Action::LessonNext | Action::LessonPrev => {
            let pane = model.lesson.as_ref()?;
            let step = if action == Action::LessonNext {
                pane.step + 1
            } else {
                pane.step.checked_sub(1)?
            };
            if step >= pane.total {
                model.status = "that was the last step (q quits)".into();
                return None;
            }
            return Some(Command::LessonStep(step));
        }
        // Done in `on_key`, which does not clear the status line for it.
        Action::Edit(_) => {}
        Action::PathView => {
            model.path = !model.path;
            if model.path && !trace.several_interfaces() {
                model.status = super::strings::PATH_NEEDS_ROUTERS.into();
            }
        }
        Action::Compare => {
            if !model.live {
                model.status = super::strings::COMPARE_NEEDS_DEMO.into();
                return None;
            }
            model.compare = !model.compare;
            model.compare_scroll = 0;
            return Some(Command::Compare(model.compare));
        }
        Action::Live | Action::Top if model.overlay.is_some() => match model.overlay {
            Some(Overlay::Stream { .. }) if action == Action::Top => {
                model.with_stream(trace, |view, m| view.to_top(m));
            }
            Some(Overlay::Stream { .. }) => {
                model.with_stream(trace, |view, m| view.to_bottom(m));
            }
            Some(Overlay::Help(ref mut s)) if action == Action::Top => *s = 0,
            _ => {}
        },
        Action::Live => {
            model.timeline.follow = true;
            model.select_newest(trace);
            let h = model.timeline_height();
            model.timeline.scroll_into_view(h);
        }
        Action::Top => {
            model.timeline.follow = false;
            model.timeline.selected = 0;
            let h = model.timeline_height();
            model.timeline.scroll_into_view(h);
        }
        Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
            let page = |h: u16| h.saturating_sub(2).max(1) as isize;
            let hex_line = super::hex::bytes_per_line(
                super::pane::inner(model.areas.hex, model.areas.screen).width,
            ) as isize;
            let delta: isize = match (action, model.overlay.is_some(), model.focus) {
                (Action::Up, ..) => -1,
                (Action::Down, ..) => 1,
                (Action::PageUp, true, _) => -page(model.areas.screen.height),
                (Action::PageDown, true, _) => page(model.areas.screen.height),
                (Action::PageUp, _, Focus::Hex) => -(page(model.areas.hex.height) * hex_line),
                (Action::PageDown, _, Focus::Hex) => page(model.areas.hex.height) * hex_line,
                (Action::PageUp, _, Focus::Chat) => -page(model.areas.chat.height),
                (Action::PageDown, _, Focus::Chat) => page(model.areas.chat.height),
                (Action::PageUp, ..) => -page(model.areas.timeline.height),
                _ => page(model.areas.timeline.height),
            };
            if model.compare && model.overlay.is_none() && model.focus != Focus::Chat {
                model.compare_scroll = model.compare_scroll.saturating_add_signed(delta);
            } else if let Some(overlay) = &mut model.overlay {
                match overlay {
                    Overlay::Help(s) => *s = s.saturating_add_signed(delta),
                    Overlay::Stream { .. } => {
                        model.with_stream(trace, |view, m| view.scroll(m, delta));
                    }
                    Overlay::Graphs => {}
                }
            } else {
                move_in_pane(model, delta);
            }
        }
        Action::Left | Action::Right => {
            let d = if action == Action::Left { -1 } else { 1 };
            match model.focus {
                Focus::Layers => {
                    let i = (model.column.index() as isize + d).clamp(0, 4) as usize;
                    first_field(model, UiLayer::ALL[i]);
                    model.column = UiLayer::ALL[i];
                }
                Focus::Hex => move_cursor(model, trace, d),
                _ => {}
            }
        }
    }
    None
}

/// The graph overlay's own keys: cursor, zoom, next graph, select. True when `action` was one.
fn graphs_act(model: &mut Model, trace: &Trace, action: Action) -> bool {
    let Some(g) = model.graphs.as_mut() else {
        return false;
    };
    match action {
        Action::Left => g.move_cursor(-1),
        Action::Right => g.move_cursor(1),
        Action::ZoomIn => g.zoom(0.5),
        Action::ZoomOut => g.zoom(2.0),
        Action::NextPane => g.turn(1),
        Action::PrevPane => g.turn(-1),
        Action::Select => {
            let frame = g.frame_at_cursor();
            model.overlay = None;
            model.graphs = None;
            if let Some(n) = frame {
                go_to_frame(model, trace, &n.to_string());
            }
        }
        _ => return false,
    }
    true
}

/// The first field of a column becomes the selection.
fn first_field(model: &mut Model, layer: UiLayer) {
    if let Some(&f) = model.detail.column_fields(layer).first() {
        model.select_field(f);
    }
}

fn move_in_pane(model: &mut Model, delta: isize) {
    match model.focus {
        Focus::Timeline | Focus::Input => {
            let t = &mut model.timeline;
            t.follow = false;
            let last = t.len().saturating_sub(1);
            t.selected = t.selected.saturating_add_signed(delta).min(last);
            let h = model.timeline_height();
            model.timeline.scroll_into_view(h);
        }
        Focus::Layers => {
            let fields = model.detail.column_fields(model.column);
            let at = model
                .field
                .and_then(|f| fields.iter().position(|&x| x == f));
            let next = match at {
                Some(i) => i
                    .saturating_add_signed(delta)
                    .min(fields.len().saturating_sub(1)),
                None => 0,
            };
            if let Some(&f) = fields.get(next) {
                model.select_field(f);
            }
        }
        Focus::Hex => {
            let per = super::hex::bytes_per_line(model.areas.hex.width.saturating_sub(2)) as isize;
            let cursor = model.hex_cursor.unwrap_or(0) as isize;
            model.hex_cursor = Some((cursor + delta * per).max(0) as usize);
            cursor_selects_field(model);
        }
        Focus::Chat if model.lesson.is_some() => {
            let most = super::pane::lesson::max_scroll(model);
            if let Some(pane) = &mut model.lesson {
                pane.scroll = pane.scroll.saturating_add_signed(delta).min(most);
            }
        }
        Focus::Chat => {
            model.chat_scroll = model
                .chat_scroll
                .saturating_add_signed(-delta)
                .min(model.chat.len());
        }
        Focus::Log => {
            if let Some(state) = &model.log_state {
                state.transition(if delta < 0 {
                    tui_logger::TuiWidgetEvent::PrevPageKey
                } else {
                    tui_logger::TuiWidgetEvent::NextPageKey
                });
            }
        }
    }
}

fn move_cursor(model: &mut Model, trace: &Trace, delta: isize) {
    let len = model
        .hex_frame
        .and_then(|n| trace.frame(n))
        .map_or(0, |e| e.frame.data.len());
    let cursor = model.hex_cursor.unwrap_or(0) as isize + delta;
    model.hex_cursor = Some(cursor.clamp(0, len.saturating_sub(1) as isize) as usize);
    cursor_selects_field(model);
}

/// Selecting bytes selects the (narrowest) field they belong to.
fn cursor_selects_field(model: &mut Model) {
    let (Some(frame), Some(cursor)) = (model.hex_frame, model.hex_cursor) else {
        return;
    };
    if let Some(&f) = model.detail.fields_at(frame, cursor).first() {
        model.field = Some(f);
        if let Some(field) = model.detail.fields.get(f) {
            model.column = field.layer;
        }
    }
}

/// One event forward or back (skipping group headings), as a teacher steps through.
fn step(model: &mut Model, direction: isize) {
    let t = &mut model.timeline;
    t.follow = false;
    let mut pos = t.selected as isize;
    loop {
        pos += direction;
        if pos < 0 || pos as usize >= t.len() {
            if direction > 0 {
                model.player.playing = false;
            }
            return;
        }
        let is_heading = t
            .row_at(pos as usize)
            .and_then(|r| t.index.rows.get(r))
            .is_some_and(|r| r.kind == RowKind::Group);
        if !is_heading {
            break;
        }
    }
    t.selected = pos as usize;
    let h = model.timeline_height();
    model.timeline.scroll_into_view(h);
}

fn on_tick(model: &mut Model, _trace: &Trace, now: Instant) {
    if !model.player.playing {
        return;
    }
    match model.player.next {
        Some(due) if now < due => {}
        Some(_) => {
            step(model, 1);
            model.player.next = Some(now + model.player.interval);
        }
        None => model.player.next = Some(now + model.player.interval),
    }
}

fn inside(area: Rect, x: u16, y: u16) -> bool {
    area.contains(Position { x, y })
}

fn on_mouse(model: &mut Model, trace: &Trace, mouse: MouseEvent) {
    let (x, y) = (mouse.column, mouse.row);
    let a = model.areas;
    let pane = [
        (a.timeline, Focus::Timeline),
        (a.layers, Focus::Layers),
        (a.hex, Focus::Hex),
        (a.chat, Focus::Chat),
        (a.log, Focus::Log),
    ]
    .into_iter()
    .find(|(area, _)| inside(*area, x, y))
    .map(|(_, f)| f);
    if model.overlay.is_some() {
        let delta = match mouse.kind {
            MouseEventKind::ScrollDown => 1,
            MouseEventKind::ScrollUp => -1,
            _ => 0,
        };
        match &mut model.overlay {
            Some(Overlay::Help(s)) => *s = s.saturating_add_signed(delta),
            Some(Overlay::Stream { .. }) if delta != 0 => {
                model.with_stream(trace, |view, m| view.scroll(m, delta));
            }
            _ => {}
        }
        return;
    }
    let Some(pane) = pane else { return };
    match mouse.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let before = model.focus;
            model.focus = pane;
            move_in_pane(
                model,
                if mouse.kind == MouseEventKind::ScrollDown {
                    1
                } else {
                    -1
                },
            );
            model.focus = before;
        }
        MouseEventKind::Down(MouseButton::Left) => {
            model.focus = if pane == Focus::Chat && inside(a.input, x, y) && model.live {
                Focus::Input
            } else {
                pane
            };
            match pane {
                Focus::Timeline => {
                    let top = a.timeline_rows.y;
                    if let Some(dy) = y.checked_sub(top) {
                        let pos = model.timeline.offset + dy as usize;
                        if pos < model.timeline.len() {
                            model.timeline.follow = false;
                            model.timeline.selected = pos;
                        }
                    }
                }
                Focus::Layers => {
                    for layer in UiLayer::ALL {
                        let col = a.columns[layer.index()];
                        if !inside(col, x, y) || y == col.y {
                            continue;
                        }
                        let height = col.height.saturating_sub(1) as usize;
                        let row = (y - col.y - 1) as usize;
                        model.column = layer;
                        let detail = &model.detail;
                        if let Some(f) =
                            field_at_row(detail, layer, model.field, col.width, height, row)
                        {
                            model.select_field(f);
                        }
                    }
                }
                Focus::Hex => {
                    let inner = super::pane::inner(a.hex, a.screen);
                    let scroll = super::view::hex_scroll(model, inner.height as usize, inner.width);
                    if let (Some(dx), Some(dy)) =
                        (x.checked_sub(inner.x), y.checked_sub(inner.y + 1))
                    {
                        if let Some(byte) = HexView::byte_at(dx, scroll + dy as usize, inner.width)
                        {
                            let len = model
                                .hex_frame
                                .and_then(|n| trace.frame(n))
                                .map_or(0, |e| e.frame.data.len());
                            if byte < len {
                                model.hex_cursor = Some(byte);
                                cursor_selects_field(model);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}
