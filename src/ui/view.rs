//! The view: where each pane goes ([`layout`]) and drawing them all ([`view`]), as pure functions
//! of the model and the trace. The layout adapts: at 80×24 panes stack with one-line titles; from
//! 120×30 the timeline takes the left side; `z` lets the focused pane fill the screen. The
//! classroom layout (`--classroom`) drops the log, gives a lesson more room and adds a banner with
//! the view and the play state in words.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::fit::ellipsize;
use super::hex::{self, HexView};
use super::keys::{keys_label, Action, Context};
use super::model::{Areas, Focus, Model, Overlay, PromptFor};
use super::pane::{borders, chat, compact, compare, inner, layers, lesson, logpane, timeline};
use super::theme::Theme;
use super::{help, strings};
use crate::journey::Trace;
use crate::lesson::filter::{DisplayFilter, FilterKind};

/// Where every pane goes on a screen of `size`.
///
/// ```text
/// title                                    (1 line)
/// encapsulation strip                      (1 line)
/// timeline                                 (26-40%)
/// layer columns + meaning of the field     (~36%)
/// hex (16 or 8 bytes a line) │ chat+input  (the rest)
///                            │ log         (a row a line, none when empty)
/// status: the keys that work now           (1 line)
/// ```
///
/// The classroom layout adds a banner under the title, has no log pane (the chat or the lesson
/// takes its place) and gives the timeline 36% of the height (24% with a lesson, where the usual
/// layout gives 18%); with a lesson, the lesson pane also gets more width.
pub fn layout(size: Rect, model: &Model) -> Areas {
    let mut a = Areas {
        screen: size,
        ..Areas::default()
    };
    let [title, banner, strip, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(model.classroom)),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(size);
    a.title = title;
    a.banner = banner;
    a.strip = strip;
    a.status = status;
    if model.zoom && model.overlay.is_none() {
        match model.focus {
            Focus::Timeline => a.timeline = body,
            // The path view zoomed has the whole screen: it has no bytes to show beside it.
            Focus::Layers if model.path => a.layers = body,
            Focus::Layers | Focus::Hex => {
                let [l, h] =
                    Layout::vertical([Constraint::Percentage(60), Constraint::Fill(1)]).areas(body);
                a.layers = l;
                a.hex = h;
            }
            Focus::Chat | Focus::Input => a.chat = body,
            Focus::Log => a.log = body,
        }
    } else {
        // A lesson needs room for its text: the upper panes give some of theirs.
        let (tp, lp) = match (model.classroom, model.lesson.is_some()) {
            (false, true) => (18, 30),
            // A tall screen gives the layer columns the most: a SYN's TCP column alone has
            // some 20 fields, and a field too wide for its column takes two lines.
            // The path view wants a row per copy: the columns give room to it.
            (false, false) if model.path && size.height < 30 => (20, 50),
            (false, false) if model.path && size.height < 36 => (22, 46),
            // The timeline gets 40% of a tall screen: rows to move through, not a keyhole. At
            // 36 to 49 rows the other two need what they have: at 120×40 the columns show a chat
            // line's TCP flags and TTL, and the bytes pane a TLS 1.2 chat frame (102 B) with its
            // decrypted line.
            (false, false) if size.height >= 50 => (40, 36),
            (false, false) if size.height >= 36 => (26, 42),
            (false, false) => (32, 34),
            (true, true) => (24, 28),
            (true, false) => (36, 32),
        };
        let [t, l, bottom] = Layout::vertical([
            Constraint::Percentage(tp),
            Constraint::Percentage(lp),
            Constraint::Fill(1),
        ])
        .areas(body);
        a.timeline = t;
        a.layers = l;
        // The hex pane wants 73 columns for 16 bytes a line (137 for 32 on a wide screen); the
        // chat and log share the rest.
        let hex_width = if model.classroom && model.lesson.is_some() {
            (size.width * 45 / 100).max(40)
        } else if size.width >= 190 {
            hex::line_width(32) + 2
        } else if size.width >= 120 {
            hex::line_width(16) + 2
        } else {
            (size.width * 55 / 100).max(40)
        };
        let [h, right] =
            Layout::horizontal([Constraint::Length(hex_width), Constraint::Fill(1)]).areas(bottom);
        a.hex = h;
        if model.log_shown() {
            // The log takes no more rows than it has lines (at most 40% of the column); the
            // chat the rest.
            let borders = if compact(size) { 1 } else { 2 };
            let most = right.height * 2 / 5;
            let rows = u16::try_from(model.log_lines)
                .unwrap_or(u16::MAX)
                .saturating_add(borders)
                .min(most);
            let [c, g] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(rows)]).areas(right);
            a.chat = c;
            a.log = g;
        } else {
            a.chat = right;
        }
    }
    if a.chat.height > 0 {
        let ci = inner(a.chat, size);
        a.input = Rect {
            y: ci.y + ci.height.saturating_sub(1),
            height: ci.height.min(1),
            ..ci
        };
    }
    if a.layers.height > 0 {
        let li = inner(a.layers, size);
        let meaning_height = if compact(size) { 1 } else { 2 };
        let [cols, meaning] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(meaning_height)]).areas(li);
        a.meaning = meaning;
        // Columns sized by what they hold, so that fewest values wrap (see share_widths).
        let widths = layers::share_widths(&model.detail, cols.width.saturating_sub(4));
        a.columns = Layout::horizontal(widths.map(Constraint::Length))
            .spacing(1)
            .areas(cols);
    }
    a.timeline_rows = timeline::rows_area(inner(a.timeline, size));
    a
}

fn block<'a>(model: &Model, title: String, focus: Focus) -> Block<'a> {
    let theme = model.theme;
    let focused = model.focus == focus && model.overlay.is_none();
    let style = if focused {
        theme.focused_border()
    } else {
        theme.border()
    };
    let block = Block::new()
        .borders(borders(model.areas.screen))
        .border_style(style);
    let block = if focused {
        block.border_type(theme.focused_border_type())
    } else {
        block
    };
    block.title(Span::styled(
        if focused {
            format!("▶ {title} ")
        } else {
            format!(" {title} ")
        },
        style,
    ))
}

fn title_line(model: &Model) -> Line<'static> {
    let theme = model.theme;
    let mut spans = vec![
        Span::styled(" packetpath ", theme.heading()),
        Span::styled(
            format!("({}: keys) ", keys_label(Context::Navigation, Action::Help)),
            theme.dim(),
        ),
        Span::raw(strings::view_name(
            model.decrypted,
            model.plain && !model.compare,
        )),
    ];
    if model.player.playing {
        spans.push(Span::styled(
            format!(
                " · ▶ playing, a step every {:.2} s",
                model.player.interval.as_secs_f64()
            ),
            theme.warn(),
        ));
    }
    if model.zoom && model.overlay.is_none() {
        spans.push(Span::styled(
            format!(
                " · zoomed ({}: all panes)",
                keys_label(Context::Navigation, Action::Zoom)
            ),
            theme.warn(),
        ));
    }
    spans.push(Span::styled(format!(" · {}", model.title), theme.dim()));
    Line::from(spans)
}

/// The classroom banner: which view and whether the timeline plays, in words a back row can read,
/// with the keys that change them.
fn banner_line(model: &Model, theme: Theme) -> Line<'static> {
    let view = format!(
        " {} ",
        strings::view_name(model.decrypted, model.plain).to_uppercase()
    );
    let state = if model.player.playing {
        format!(
            " ▶ PLAYING · a step every {:.2} s ",
            model.player.interval.as_secs_f64()
        )
    } else if model.live && model.timeline.follow {
        " ● LIVE · following the capture ".to_string()
    } else {
        " ⏸ PAUSED ".to_string()
    };
    Line::from(vec![
        Span::styled(view, theme.banner()),
        Span::styled(
            format!(
                " ({}: switch)   ",
                keys_label(Context::Navigation, Action::ToggleDecrypt)
            ),
            theme.dim(),
        ),
        Span::styled(state, theme.banner()),
        Span::styled(
            format!(
                " ({}: play/pause)",
                keys_label(Context::Navigation, Action::PlayPause)
            ),
            theme.dim(),
        ),
    ])
}

/// The prompt at the bottom: the line being typed, then what it means — the filter's error, the
/// expression a shortcut stands for, or how many rows pass — and the keys.
fn prompt_line(model: &Model) -> Line<'static> {
    let theme = model.theme;
    let (label, input) = match model.prompt_for {
        PromptFor::Filter => ("filter: ", &model.filter_input),
        PromptFor::GoTo => ("go to frame: ", &model.goto_input),
    };
    let prompt = Span::styled(label, theme.heading());
    let room = model
        .areas
        .status
        .width
        .saturating_sub(prompt.width() as u16);
    let mut spans = vec![prompt];
    spans.extend(input.spans(room, theme));
    if model.prompt_for == PromptFor::GoTo {
        spans.push(Span::styled(
            format!(
                "   a number from {} to {} (Enter goes, Esc cancels)",
                model.timeline.index.first + 1,
                model.timeline.index.first as usize + model.timeline.index.frames_indexed()
            ),
            theme.dim(),
        ));
        return Line::from(spans);
    }
    let typed = input.value();
    let meaning = match (&model.filter_error, DisplayFilter::parse(typed)) {
        (Some(e), _) => Span::styled(format!("   ✗ {e}"), theme.warn()),
        (None, Ok(Some(f))) => {
            let how = match (&f.kind, &f.expands_to) {
                (_, Some(e)) => format!("= {e}"),
                (FilterKind::Text(_), _) => "searching the rows' words".to_string(),
                (FilterKind::App, _) => "the application's writes and reads".to_string(),
                (FilterKind::Frames(_), _) => "✓".to_string(),
            };
            let count = match model.timeline.filtering() {
                Some((_, percent)) => format!(" · filtering {percent}%"),
                None => format!(" · {} rows", model.timeline.len()),
            };
            Span::styled(format!("   {how}{count}"), theme.heading())
        }
        (None, _) => Span::raw(""),
    };
    spans.push(meaning);
    spans.push(Span::styled(
        "   e.g. tls && tcp.len > 0 · ip.ttl < 64 · frame contains \"hi\" · syn · any words   (Enter keeps, Esc cancels)",
        theme.dim(),
    ));
    Line::from(spans)
}

fn status_line(model: &Model) -> Line<'static> {
    let theme = model.theme;
    if model.prompt {
        return prompt_line(model);
    }
    let hint =
        |ctx: Context, action: Action, words: &str| format!("{} {words}", keys_label(ctx, action));
    let hints: Vec<String> = if model.overlay.is_some() {
        vec![
            hint(Context::Overlay, Action::Close, "close"),
            hint(Context::Overlay, Action::Down, "scroll"),
            hint(
                Context::Overlay,
                Action::ToggleDecrypt,
                "ciphertext/plaintext",
            ),
        ]
    } else if model.focus == Focus::Input && model.lesson.is_some() {
        vec![
            hint(Context::Input, Action::Send, "answer"),
            hint(Context::Input, Action::LeaveInput, "navigate"),
            hint(Context::Global, Action::Quit, "quit"),
        ]
    } else if model.focus == Focus::Input {
        vec![
            hint(Context::Input, Action::Send, "send"),
            hint(Context::Input, Action::SwitchSender, "switch alice/bob"),
            hint(Context::Input, Action::LeaveInput, "navigate"),
            hint(Context::Global, Action::Quit, "quit"),
        ]
    } else {
        let mut h = Vec::new();
        if model.lesson.is_some() {
            h.push(hint(Context::Lesson, Action::LessonNext, "next step"));
            h.push(hint(Context::Lesson, Action::LessonPrev, "previous step"));
        }
        h.extend([
            hint(Context::Navigation, Action::NextPane, "pane"),
            hint(Context::Navigation, Action::Filter, "filter"),
            hint(Context::Navigation, Action::ToggleDecrypt, "view"),
            hint(Context::Navigation, Action::FollowStream, "stream"),
        ]);
        if model.lesson.is_none() {
            h.push(hint(Context::Navigation, Action::StepNext, "step"));
        }
        h.push(hint(Context::Navigation, Action::PlayPause, "play"));
        if model.lesson.is_some() {
            h.push(hint(Context::Navigation, Action::FocusInput, "answer"));
        } else if model.live {
            h.push(hint(Context::Navigation, Action::FocusInput, "type"));
        }
        h.push(hint(Context::Navigation, Action::Quit, "quit"));
        h
    };
    let mut spans = Vec::new();
    if let Some(progress) = &model.progress {
        spans.push(Span::styled(format!("{progress}  "), theme.heading()));
    }
    if let Some(progress) = model.graphs_progress() {
        spans.push(Span::styled(format!("{progress}  "), theme.heading()));
    }
    if !model.status.is_empty() {
        spans.push(Span::styled(format!("{}  ", model.status), theme.heading()));
    }
    spans.push(Span::styled(hints.join(" · "), theme.dim()));
    Line::from(spans)
}

/// The line of the hex pane to start at, so the cursor (or the selected field) shows.
pub fn hex_scroll(model: &Model, height: usize, width: u16) -> usize {
    let target = model.hex_cursor.or_else(|| {
        let field = model.detail.fields.get(model.field?)?;
        field
            .spans
            .iter()
            .find(|(n, _)| Some(*n) == model.hex_frame)
            .map(|(_, r)| r.start)
    });
    let Some(byte) = target else { return 0 };
    let line = HexView::line_of(byte, width);
    let rows = height.saturating_sub(1).max(1);
    if line < rows {
        0
    } else {
        line + 1 - rows
    }
}

/// Draws the whole screen.
pub fn view(f: &mut Frame, model: &Model, trace: &Trace) {
    view_with(f, model, trace, None);
}

/// Draws the whole screen; `twin` is the demo's second chat, for compare mode.
pub fn view_with(f: &mut Frame, model: &Model, trace: &Trace, twin: Option<&Trace>) {
    let a = &model.areas;
    let theme = model.theme;
    // The theme's background and text colour under everything (nothing without colour).
    f.render_widget(Block::new().style(theme.base()), a.screen);
    // One-line bars end in "…" when the screen is too narrow for all they say.
    let one_line = |line: Line<'static>, area: Rect| ellipsize(line, usize::from(area.width));
    f.render_widget(
        Paragraph::new(one_line(title_line(model), a.title)),
        a.title,
    );
    if a.banner.height > 0 {
        f.render_widget(
            Paragraph::new(one_line(banner_line(model, theme), a.banner)),
            a.banner,
        );
    }
    f.render_widget(
        Paragraph::new(one_line(status_line(model), a.status)),
        a.status,
    );
    f.render_widget(
        Paragraph::new(layers::strip_line(&model.detail, theme, a.strip.width)),
        a.strip,
    );

    if a.timeline.height > 0 {
        let t = &model.timeline;
        let frames = trace.frames().len();
        let mut title = format!(
            "{} · {frames} frame{}",
            strings::TIMELINE,
            if frames == 1 { "" } else { "s" }
        );
        if trace.frames_forgotten() > 0 {
            title.push_str(&strings::timeline_forgotten(trace.frames_forgotten()));
        }
        // On a path of routers most frames are copies of a packet on another link: say how many
        // packets there are, so the count stays honest while the copies sit indented.
        let copies = model.timeline.index.copies;
        if copies > 0 {
            title.push_str(&strings::timeline_copies(frames - copies, copies));
        }
        if let Some((text, percent)) = t.filtering() {
            title.push_str(&format!(" · filtering {text:?}: {percent}%"));
        } else if !t.filter.is_empty() {
            let expands = t
                .expands_to
                .as_ref()
                .map(|e| format!(" (= {e})"))
                .unwrap_or_default();
            title.push_str(&format!(
                " · filter {:?}{expands}: {} rows",
                t.filter,
                t.len()
            ));
        }
        if model.live {
            title.push_str(if t.follow {
                " · following live"
            } else {
                " · paused (G: live)"
            });
        }
        // Rows out of sight, above and below.
        let rows = usize::from(a.timeline_rows.height);
        if t.offset > 0 {
            title.push_str(&format!(" · ↑ {} above", t.offset));
        }
        let below = t.len().saturating_sub(t.offset + rows);
        if below > 0 {
            title.push_str(&format!(" · ↓ {below} more"));
        }
        let b = block(model, title, Focus::Timeline);
        timeline::render(f, a.timeline, model, trace, b);
    }
    // The path view when the selected packet crossed more than one interface; the layer
    // columns otherwise (an ARP frame, a packet on one link), which say how to get it back.
    let path_shown = model.path
        && super::pane::path::selected_frame(model).is_some_and(|n| trace.path_of(n).len() > 1);
    if a.layers.height > 0 && path_shown {
        let make = |title: String| block(model, title, Focus::Layers);
        super::pane::path::render(f, model, trace, a.layers, make);
    } else if a.layers.height > 0 {
        let mut title = if model.detail.title.is_empty() {
            "Layers".to_string()
        } else {
            format!("Layers · {}", model.detail.title)
        };
        if model.path {
            title.push_str(strings::PATH_ONE_LINK);
        }
        let b = block(model, title, Focus::Layers);
        layers::render(f, model, a.layers, b, model.focus == Focus::Layers);
    }
    if a.hex.height > 0 {
        let entry = model.hex_frame.and_then(|n| trace.frame(n));
        let title = match entry {
            Some(e) => format!(
                "{} · frame #{} ({} B)",
                strings::HEX,
                e.number,
                e.frame.data.len()
            ),
            None => strings::HEX.to_string(),
        };
        let b = block(model, title, Focus::Hex);
        let inner = b.inner(a.hex);
        f.render_widget(b, a.hex);
        if let Some(entry) = entry {
            let data = &entry.frame.data;
            let layers = hex::layers_of(trace, entry);
            let highlight: Vec<_> = model
                .field
                .and_then(|i| model.detail.fields.get(i))
                .map(|field| {
                    field
                        .spans
                        .iter()
                        .filter(|(n, _)| *n == entry.number)
                        .map(|(_, r)| r.clone())
                        .collect()
                })
                .unwrap_or_default();
            let extra = if model.decrypted {
                let selected = model
                    .field
                    .and_then(|i| model.detail.fields.get(i))
                    .map_or(&[][..], |f| &f.spans[..]);
                hex::plaintext_lines(trace, entry, theme, inner.width, selected)
            } else {
                Vec::new()
            };
            let cursor = if model.focus == Focus::Hex {
                model.hex_cursor
            } else {
                None
            };
            let changed = model
                .hex_frame
                .map(|n| hex::changed_in_transit(trace, n))
                .unwrap_or_default();
            let view = HexView {
                data,
                layers: &layers,
                highlight: &highlight,
                changed: &changed,
                cursor,
                scroll: hex_scroll(model, inner.height as usize, inner.width),
                extra,
                theme,
            };
            f.render_widget(view, inner);
        }
    }
    if model.compare {
        // The upper panes give way; the hex pane, chat and log stay.
        let area = a.timeline.union(a.layers);
        compare::render(f, area, model, trace, twin);
    }
    if let (true, Some(pane)) = (a.chat.height > 0, &model.lesson) {
        let title = format!(
            "Lesson · step {}/{} · {}",
            pane.step + 1,
            pane.total,
            pane.step_title
        );
        let b = block(model, title, Focus::Chat);
        let b = if model.focus == Focus::Input {
            b.border_style(theme.focused_border())
                .border_type(theme.focused_border_type())
        } else {
            b
        };
        lesson::render(f, model, a.chat, a.input, b);
    } else if a.chat.height > 0 {
        let (width, height) = chat::transcript_size(a.chat, a.input, a.screen);
        let t = chat::transcript(model, width, height);
        // The title's room: the pane less "▶ " and a space around it.
        let b = block(model, chat::title(&t, width.saturating_sub(3)), Focus::Chat);
        let b = if model.focus == Focus::Input {
            b.border_style(theme.focused_border())
                .border_type(theme.focused_border_type())
        } else {
            b
        };
        chat::render(f, model, a.chat, a.input, b, t);
    }
    if a.log.height > 0 {
        let b = block(model, strings::LOG.to_string(), Focus::Log);
        logpane::render(f, model, a.log, b);
    }
    let body = Rect {
        y: a.title.y + 1,
        height: a.screen.height.saturating_sub(2),
        ..a.screen
    };
    match model.overlay {
        Some(Overlay::Help(scroll)) => {
            let b = Block::bordered()
                .style(theme.base())
                .border_style(theme.focused_border())
                .border_type(theme.focused_border_type())
                .title(strings::HELP);
            help::render(f, body, scroll, b, theme);
        }
        Some(Overlay::Stream { .. }) => {
            let b = Block::bordered()
                .style(theme.base())
                .border_style(theme.focused_border())
                .border_type(theme.focused_border_type())
                .title(format!(
                    " {} · {} ",
                    strings::STREAM,
                    strings::view_name(model.decrypted, model.plain)
                ));
            if let Some(view) = &model.stream {
                view.render(f, body, b, theme);
            }
        }
        Some(Overlay::Graphs) => {
            if let Some(g) = &model.graphs {
                let b = Block::bordered()
                    .style(theme.base())
                    .border_style(theme.focused_border())
                    .border_type(theme.focused_border_type())
                    .title(format!(
                        " {} · TCP connection {} · {} ",
                        g.kind.title(),
                        g.stream,
                        match g.dir {
                            crate::flow::Direction::ClientToServer => "client → server",
                            crate::flow::Direction::ServerToClient => "server → client",
                        }
                    ));
                g.render(f, body, b, theme);
            }
        }
        None => {}
    }
}
