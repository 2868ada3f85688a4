//! The key table: every binding in one place. [`action_for`] looks keys up in it and the help
//! screen (`?`) lists it, so the two can never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::line::Edit;

/// What a key asks for. `update` turns actions into changes of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Leave the program (terminal restored).
    Quit,
    /// Put the focus on the chat input.
    FocusInput,
    /// Leave the chat input (or a prompt) for navigation.
    LeaveInput,
    /// Send the typed line.
    Send,
    /// Send as the other client (alice ⇄ bob).
    SwitchSender,
    /// Move up in the focused pane.
    Up,
    /// Move down in the focused pane.
    Down,
    /// Move left (previous layer column, previous byte).
    Left,
    /// Move right (next layer column, next byte).
    Right,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// To the first row.
    Top,
    /// To the newest row, and follow live traffic again.
    Live,
    /// Open the selection in the next pane (timeline → columns → hex).
    Select,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Type a filter for the timeline.
    Filter,
    /// Go to a frame by its number.
    GoTo,
    /// Show or hide the help screen.
    Help,
    /// Switch between what an eavesdropper sees and what the endpoints see.
    ToggleDecrypt,
    /// Show the selected connection's reassembled conversation.
    FollowStream,
    /// Show the selected connection's time graphs.
    Graphs,
    /// Zoom a graph in around its cursor.
    ZoomIn,
    /// Zoom a graph out.
    ZoomOut,
    /// Step to the next event.
    StepNext,
    /// Step back to the previous event.
    StepBack,
    /// Play the timeline event by event, or pause.
    PlayPause,
    /// Play faster.
    Faster,
    /// Play slower.
    Slower,
    /// Let the focused pane fill the screen, or restore the layout.
    Zoom,
    /// Close the help screen or stream view.
    Close,
    /// Compare mode: the same line over TLS and plain TCP, side by side.
    Compare,
    /// The path view: the selected packet on every link of a path of routers, in place of the
    /// layer columns.
    PathView,
    /// Lesson: run the next step (its actions, then its checks).
    LessonNext,
    /// Lesson: back to the previous step.
    LessonPrev,
    /// Edit the line being typed (chat, answer or filter).
    Edit(Edit),
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere, even while typing.
    Global,
    /// While typing a chat line.
    Input,
    /// While typing a filter or a frame number.
    Prompt,
    /// Navigating the panes.
    Navigation,
    /// With the help screen or the stream view open.
    Overlay,
    /// Navigating during a lesson (`lesson run`): looked up before [`Context::Navigation`].
    Lesson,
    /// Editing any line being typed (a chat line, an answer, a filter): looked up after
    /// [`Context::Input`] and [`Context::Prompt`].
    Edit,
}

/// One key, as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character (no Ctrl/Alt).
    Char(char),
    /// Ctrl + a letter.
    Ctrl(char),
    /// A special key.
    Code(KeyCode),
}

impl Key {
    fn matches(self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let alt = event.modifiers.contains(KeyModifiers::ALT);
        match (self, event.code) {
            (Key::Char(c), KeyCode::Char(e)) => !ctrl && !alt && c == e,
            (Key::Ctrl(c), KeyCode::Char(e)) => ctrl && c.eq_ignore_ascii_case(&e),
            (Key::Code(c), code) => !ctrl && c == code,
            _ => false,
        }
    }

    /// The key as the help screen writes it.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(code) => match code {
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::F(n) => format!("F{n}"),
                other => format!("{other:?}"),
            },
        }
    }
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys that do it.
    pub keys: &'static [Key],
    /// Where.
    pub context: Context,
    /// What.
    pub action: Action,
    /// The help screen's words.
    pub help: &'static str,
}

use Action as A;
use Context as C;
use Key::{Char, Code, Ctrl};

/// Every key binding. Order matters only for the help screen.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    Binding { keys: &[Ctrl('c')], context: C::Global, action: A::Quit, help: "quit (anywhere)" },
    Binding { keys: &[Code(KeyCode::Enter)], context: C::Input, action: A::Send, help: "send the line you typed" },
    Binding { keys: &[Code(KeyCode::Tab)], context: C::Input, action: A::SwitchSender, help: "type as the other client (alice ⇄ bob)" },
    Binding { keys: &[Code(KeyCode::Esc)], context: C::Input, action: A::LeaveInput, help: "leave the input to navigate" },
    Binding { keys: &[Code(KeyCode::Left)], context: C::Edit, action: A::Edit(Edit::Left), help: "cursor one character left" },
    Binding { keys: &[Code(KeyCode::Right)], context: C::Edit, action: A::Edit(Edit::Right), help: "cursor one character right" },
    Binding { keys: &[Code(KeyCode::Home), Ctrl('a')], context: C::Edit, action: A::Edit(Edit::Start), help: "cursor to the start of the line" },
    Binding { keys: &[Code(KeyCode::End), Ctrl('e')], context: C::Edit, action: A::Edit(Edit::End), help: "cursor to the end of the line" },
    Binding { keys: &[Code(KeyCode::Backspace)], context: C::Edit, action: A::Edit(Edit::Backspace), help: "delete the character before the cursor" },
    Binding { keys: &[Code(KeyCode::Delete)], context: C::Edit, action: A::Edit(Edit::Delete), help: "delete the character under the cursor" },
    Binding { keys: &[Ctrl('u')], context: C::Edit, action: A::Edit(Edit::DeleteToStart), help: "delete from the start of the line to the cursor" },
    Binding { keys: &[Ctrl('w')], context: C::Edit, action: A::Edit(Edit::DeletePrevWord), help: "delete the word before the cursor" },
    Binding { keys: &[Ctrl('k')], context: C::Edit, action: A::Edit(Edit::DeleteToEnd), help: "delete from the cursor to the end of the line" },
    Binding { keys: &[Code(KeyCode::Up)], context: C::Edit, action: A::Edit(Edit::Older), help: "the line entered before (each input has its own history)" },
    Binding { keys: &[Code(KeyCode::Down)], context: C::Edit, action: A::Edit(Edit::Newer), help: "the line entered after, then the line being typed" },
    Binding { keys: &[Code(KeyCode::Enter)], context: C::Prompt, action: A::Select, help: "keep the filter (empty: show all) or go to the frame" },
    Binding { keys: &[Code(KeyCode::Esc)], context: C::Prompt, action: A::LeaveInput, help: "cancel: back to the filter shown before" },
    Binding { keys: &[Char('q')], context: C::Navigation, action: A::Quit, help: "quit" },
    Binding { keys: &[Char('i')], context: C::Navigation, action: A::FocusInput, help: "back to the chat input" },
    Binding { keys: &[Char('k'), Code(KeyCode::Up)], context: C::Navigation, action: A::Up, help: "up: previous row, field or byte line" },
    Binding { keys: &[Char('j'), Code(KeyCode::Down)], context: C::Navigation, action: A::Down, help: "down: next row, field or byte line" },
    Binding { keys: &[Char('h'), Code(KeyCode::Left)], context: C::Navigation, action: A::Left, help: "left: previous layer column or byte" },
    Binding { keys: &[Char('l'), Code(KeyCode::Right)], context: C::Navigation, action: A::Right, help: "right: next layer column or byte" },
    Binding { keys: &[Code(KeyCode::PageUp)], context: C::Navigation, action: A::PageUp, help: "page up" },
    Binding { keys: &[Code(KeyCode::PageDown)], context: C::Navigation, action: A::PageDown, help: "page down" },
    Binding { keys: &[Char('g'), Code(KeyCode::Home)], context: C::Navigation, action: A::Top, help: "first event" },
    Binding { keys: &[Char('G'), Code(KeyCode::End)], context: C::Navigation, action: A::Live, help: "newest event, and follow live traffic again" },
    Binding { keys: &[Code(KeyCode::Enter)], context: C::Navigation, action: A::Select, help: "open: timeline row → layer columns → its bytes in hex" },
    Binding { keys: &[Code(KeyCode::Tab)], context: C::Navigation, action: A::NextPane, help: "next pane" },
    Binding { keys: &[Code(KeyCode::BackTab)], context: C::Navigation, action: A::PrevPane, help: "previous pane" },
    Binding { keys: &[Char('/')], context: C::Navigation, action: A::Filter, help: "filter the timeline as in Wireshark, applied as you type: tcp.port == PORT && tls (the server's port is in the title), ip.ttl < 64, tcp.analysis.retransmission, frame contains \"hi\"; shortcuts: syn, port N, retrans, app; other words search the rows" },
    Binding { keys: &[Char(':')], context: C::Navigation, action: A::GoTo, help: "go to a frame by its number" },
    Binding { keys: &[Char('e')], context: C::Navigation, action: A::ToggleDecrypt, help: "eavesdropper's view (what is on the wire) ⇄ endpoints' view (decrypted)" },
    Binding { keys: &[Char('f')], context: C::Navigation, action: A::FollowStream, help: "follow stream: the whole conversation (the eavesdropper's: records in hex)" },
    Binding { keys: &[Char('t')], context: C::Navigation, action: A::Graphs, help: "time graphs of the selected connection: time-sequence (Stevens), round-trip time, throughput, congestion window (the kernel's, after `transfer`)" },
    Binding { keys: &[Code(KeyCode::Esc)], context: C::Navigation, action: A::Close, help: "cancel the time graphs being made (`t` on a large capture)" },
    Binding { keys: &[Char('n')], context: C::Navigation, action: A::StepNext, help: "step: next event" },
    Binding { keys: &[Char('b')], context: C::Navigation, action: A::StepBack, help: "back: previous event" },
    Binding { keys: &[Char(' ')], context: C::Navigation, action: A::PlayPause, help: "play the timeline event by event, or pause" },
    Binding { keys: &[Char('+'), Char('=')], context: C::Navigation, action: A::Faster, help: "play faster" },
    Binding { keys: &[Char('-')], context: C::Navigation, action: A::Slower, help: "play slower" },
    Binding { keys: &[Char('c')], context: C::Navigation, action: A::Compare, help: "compare: each line sent over TLS and plain TCP, frame against frame (demo)" },
    Binding { keys: &[Char('r')], context: C::Navigation, action: A::PathView, help: "path view: the selected packet on every link of a path of routers (--link routers:N), what each router changed, in place of the layer columns; again: the columns" },
    Binding { keys: &[Char('s')], context: C::Navigation, action: A::SwitchSender, help: "type as the other client (alice ⇄ bob)" },
    Binding { keys: &[Char('z')], context: C::Navigation, action: A::Zoom, help: "zoom the focused pane to the whole screen, or back" },
    Binding { keys: &[Char('?')], context: C::Navigation, action: A::Help, help: "this help" },
    Binding { keys: &[Char('n')], context: C::Lesson, action: A::LessonNext, help: "lesson: next step (runs its actions, then checks it)" },
    Binding { keys: &[Char('p')], context: C::Lesson, action: A::LessonPrev, help: "lesson: previous step" },
    Binding { keys: &[Code(KeyCode::Esc), Char('q'), Char('?')], context: C::Overlay, action: A::Close, help: "close help or the stream view" },
    Binding { keys: &[Char('k'), Code(KeyCode::Up)], context: C::Overlay, action: A::Up, help: "scroll up" },
    Binding { keys: &[Char('j'), Code(KeyCode::Down)], context: C::Overlay, action: A::Down, help: "scroll down" },
    Binding { keys: &[Code(KeyCode::PageUp)], context: C::Overlay, action: A::PageUp, help: "page up" },
    Binding { keys: &[Code(KeyCode::PageDown)], context: C::Overlay, action: A::PageDown, help: "page down" },
    Binding { keys: &[Char('g'), Code(KeyCode::Home)], context: C::Overlay, action: A::Top, help: "to the top" },
    Binding { keys: &[Char('G'), Code(KeyCode::End)], context: C::Overlay, action: A::Live, help: "to the bottom (the stream view)" },
    Binding { keys: &[Char('e')], context: C::Overlay, action: A::ToggleDecrypt, help: "ciphertext ⇄ plaintext in the stream view" },
    Binding { keys: &[Char('h'), Code(KeyCode::Left)], context: C::Overlay, action: A::Left, help: "graphs: cursor left" },
    Binding { keys: &[Char('l'), Code(KeyCode::Right)], context: C::Overlay, action: A::Right, help: "graphs: cursor right" },
    Binding { keys: &[Char('+'), Char('=')], context: C::Overlay, action: A::ZoomIn, help: "graphs: zoom in around the cursor" },
    Binding { keys: &[Char('-')], context: C::Overlay, action: A::ZoomOut, help: "graphs: zoom out" },
    Binding { keys: &[Code(KeyCode::Tab)], context: C::Overlay, action: A::NextPane, help: "graphs: the next graph" },
    Binding { keys: &[Code(KeyCode::BackTab)], context: C::Overlay, action: A::PrevPane, help: "graphs: the previous graph" },
    Binding { keys: &[Code(KeyCode::Enter)], context: C::Overlay, action: A::Select, help: "graphs: select the frame under the cursor in the timeline" },
];

/// The action bound to `event` in `context` (global bindings apply everywhere).
pub fn action_for(context: Context, event: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.context == context || b.context == Context::Global)
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
        .map(|b| b.action)
}

/// The keys of one action in one context, as the status line shows them ("j/↓").
pub fn keys_label(context: Context, action: Action) -> String {
    BINDINGS
        .iter()
        .filter(|b| b.context == context && b.action == action)
        .flat_map(|b| b.keys.iter().map(|k| k.label()))
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's key table names every navigation key the program binds (the first of each
    /// binding's keys), so a new key cannot go undocumented.
    #[test]
    fn the_readme_key_table_names_every_navigation_key() {
        let readme = include_str!("../../README.md");
        let table: String = readme
            .lines()
            .skip_while(|l| !l.starts_with("| keys |"))
            .take_while(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!table.is_empty(), "no key table in README.md");
        for b in BINDINGS.iter().filter(|b| b.context == C::Navigation) {
            let Some(Char(c)) = b.keys.first() else {
                continue;
            };
            let shown = if *c == ' ' {
                "Space".to_string()
            } else {
                format!("`{c}`")
            };
            assert!(
                table.contains(&shown),
                "README's key table lacks {shown} ({})",
                b.help
            );
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn the_table_answers_in_each_context() {
        assert_eq!(
            action_for(Context::Navigation, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        // While typing, q is a letter, not quit.
        assert_eq!(action_for(Context::Input, &key(KeyCode::Char('q'))), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Context::Input, &ctrl_c), Some(Action::Quit));
        assert_eq!(
            action_for(Context::Navigation, &key(KeyCode::Down)),
            Some(Action::Down)
        );
        assert_eq!(
            action_for(Context::Navigation, &key(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        assert_eq!(keys_label(Context::Navigation, Action::Down), "j/↓");
    }

    #[test]
    fn no_editing_key_is_hidden_by_a_key_of_the_input_or_the_prompt() {
        // Input and Prompt (and Global) are looked up first: an editing key bound there too
        // would never edit.
        for e in BINDINGS.iter().filter(|b| b.context == Context::Edit) {
            for b in BINDINGS.iter().filter(|b| {
                matches!(
                    b.context,
                    Context::Input | Context::Prompt | Context::Global
                )
            }) {
                for k in e.keys {
                    assert!(!b.keys.contains(k), "{k:?} is bound in {:?} too", b.context);
                }
            }
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in BINDINGS.iter().skip(i + 1) {
                if a.context == b.context {
                    for k in a.keys {
                        assert!(!b.keys.contains(k), "{k:?} bound twice in {:?}", a.context);
                    }
                }
            }
        }
    }
}
