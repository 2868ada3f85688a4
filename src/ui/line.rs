//! The lines the user types — the chat input (or a lesson's answer) and the timeline filter —
//! with line editing and a history each. The editing itself (cursor moves by grapheme, word
//! deletion, wide characters) is the `tui-input` crate's; this file adds the history, the one
//! edit it lacks (delete to the start of the line: its Ctrl-U clears the whole line), and the
//! drawing: the character under the cursor in reverse video, scrolled sideways so the cursor
//! always shows.

use ratatui::text::Span;
use tui_input::{Input, InputRequest};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::theme::Theme;

/// An editing key (the key table, [`super::keys`], says which key does which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edit {
    /// Cursor one character left.
    Left,
    /// Cursor one character right.
    Right,
    /// Cursor to the start of the line.
    Start,
    /// Cursor to the end of the line.
    End,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Delete from the start of the line to the cursor.
    DeleteToStart,
    /// Delete the word before the cursor.
    DeletePrevWord,
    /// Delete from the cursor to the end of the line.
    DeleteToEnd,
    /// The line before in this input's history.
    Older,
    /// The line after in this input's history, and at its end the line being typed.
    Newer,
}

/// Lines kept in one input's history.
const HISTORY: usize = 100;

/// One input line: the text, the cursor, and the lines entered before.
#[derive(Debug, Clone, Default)]
pub struct LineInput {
    editor: Input,
    history: Vec<String>,
    /// The history entry shown, while the user browses it with ↑/↓.
    recalled: Option<usize>,
    /// What was typed before ↑ was first pressed, given back by ↓ past the newest entry.
    draft: String,
}

impl LineInput {
    /// The text typed.
    pub fn value(&self) -> &str {
        self.editor.value()
    }

    /// Where the cursor is: the number of characters (code points) before it.
    pub fn cursor(&self) -> usize {
        self.editor.cursor()
    }

    /// True when nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.value().is_empty()
    }

    /// The lines entered before, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Replaces the text (cursor at its end) and leaves the history.
    pub fn set(&mut self, text: String) {
        self.editor = Input::new(text);
        self.recalled = None;
        self.draft.clear();
    }

    /// Types `c` at the cursor.
    pub fn insert(&mut self, c: char) {
        self.editor.handle(InputRequest::InsertChar(c));
    }

    /// Applies an editing key.
    pub fn edit(&mut self, edit: Edit) {
        let request = match edit {
            Edit::Left => InputRequest::GoToPrevChar,
            Edit::Right => InputRequest::GoToNextChar,
            Edit::Start => InputRequest::GoToStart,
            Edit::End => InputRequest::GoToEnd,
            Edit::Backspace => InputRequest::DeletePrevChar,
            Edit::Delete => InputRequest::DeleteNextChar,
            Edit::DeletePrevWord => InputRequest::DeletePrevWord,
            Edit::DeleteToEnd => InputRequest::DeleteTillEnd,
            Edit::DeleteToStart => {
                let rest: String = self.value().chars().skip(self.cursor()).collect();
                self.editor = Input::new(rest).with_cursor(0);
                return;
            }
            Edit::Older => return self.older(),
            Edit::Newer => return self.newer(),
        };
        self.editor.handle(request);
    }

    /// Takes the text (the input is left empty) and keeps it in the history, unless it is blank
    /// or the same as the newest entry.
    pub fn submit(&mut self) -> String {
        let text = self.value().to_string();
        self.set(String::new());
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        text
    }

    fn older(&mut self) {
        let at = match self.recalled {
            None if self.history.is_empty() => return,
            None => {
                self.draft = self.value().to_string();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(i) => i - 1,
        };
        self.show(at);
    }

    fn newer(&mut self) {
        let Some(i) = self.recalled else { return };
        if i + 1 < self.history.len() {
            self.show(i + 1);
        } else {
            self.recalled = None;
            self.editor = Input::new(std::mem::take(&mut self.draft));
        }
    }

    fn show(&mut self, at: usize) {
        if let Some(line) = self.history.get(at) {
            self.editor = Input::new(line.clone());
            self.recalled = Some(at);
        }
    }

    /// The text with the cursor, for a line `width` columns wide: the character under the cursor
    /// in reverse video (a block after the last one), the start cut off if the cursor would
    /// otherwise fall outside.
    pub fn spans(&self, width: u16, theme: Theme) -> Vec<Span<'static>> {
        let value = self.value();
        let at = value
            .char_indices()
            .nth(self.cursor())
            .map_or(value.len(), |(i, _)| i);
        let (before, after) = value.split_at(at);
        let under = after.graphemes(true).next();
        let cursor_width = under.map_or(1, |g| g.width().max(1));
        let room = usize::from(width).saturating_sub(cursor_width);
        let mut excess = columns(before).saturating_sub(room);
        let mut start = 0;
        for g in before.graphemes(true) {
            if excess == 0 {
                break;
            }
            excess = excess.saturating_sub(g.width());
            start += g.len();
        }
        let mut spans = vec![Span::raw(before[start..].to_string())];
        match under {
            Some(g) => {
                spans.push(Span::styled(g.to_string(), theme.selected()));
                spans.push(Span::raw(after[g.len()..].to_string()));
            }
            None => spans.push(Span::styled("█", theme.dim())),
        }
        spans
    }
}

/// Columns a text takes on screen, counted grapheme by grapheme as ratatui draws it.
fn columns(text: &str) -> usize {
    text.graphemes(true).map(|g| g.width()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> LineInput {
        let mut line = LineInput::default();
        text.chars().for_each(|c| line.insert(c));
        line
    }

    fn drawn(line: &LineInput, width: u16) -> Vec<String> {
        line.spans(width, Theme::no_color())
            .into_iter()
            .map(|s| s.content.into_owned())
            .collect()
    }

    #[test]
    fn the_cursor_is_drawn_on_its_character_and_a_long_line_scrolls_to_it() {
        let mut line = typed("héllo");
        line.edit(Edit::Left);
        assert_eq!(drawn(&line, 20), ["héll", "o", ""]);
        line.edit(Edit::End);
        assert_eq!(drawn(&line, 20), ["héllo", "█"]);
        // 5 columns: the first three characters scroll out so the cursor's block fits.
        let line = typed("abcdefg");
        assert_eq!(drawn(&line, 5), ["defg", "█"]);
        // A wide character under the cursor takes its two columns.
        let mut line = typed("ab名");
        line.edit(Edit::Left);
        assert_eq!(drawn(&line, 3), ["b", "名", ""]);
    }

    #[test]
    fn the_history_keeps_entered_lines_but_not_blank_ones_or_repeats() {
        let mut line = LineInput::default();
        for text in ["one", "  ", "two", "two"] {
            line.set(text.into());
            line.submit();
        }
        assert_eq!(line.history(), ["one", "two"]);
        for i in 0..HISTORY + 5 {
            line.set(format!("line {i}"));
            line.submit();
        }
        assert_eq!(line.history().len(), HISTORY);
        assert_eq!(line.history().last().map(String::as_str), Some("line 104"));
    }

    // The keys as the UI gets them: through `update` and the key table, into the model.

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::journey::Trace;
    use crate::ui::model::{Focus, Model};
    use crate::ui::update::{update, Command, Msg};

    fn demo() -> Model {
        Model::new(
            true,
            "demo".into(),
            vec!["alice".into(), "bob".into()],
            Theme::no_color(),
        )
    }

    fn press(m: &mut Model, key: KeyEvent) -> Option<Command> {
        update(m, &Trace::new(), Msg::Key(key))
    }

    fn code(m: &mut Model, code: KeyCode) -> Option<Command> {
        press(m, KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ctrl(m: &mut Model, c: char) -> Option<Command> {
        press(m, KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    fn type_text(m: &mut Model, text: &str) {
        for c in text.chars() {
            code(m, KeyCode::Char(c));
        }
    }

    /// The chat input's text and cursor (in characters).
    fn chat(m: &Model) -> (&str, usize) {
        (m.input.value(), m.input.cursor())
    }

    #[test]
    fn left_and_right_move_the_cursor_and_typing_goes_there() {
        let mut m = demo();
        type_text(&mut m, "helo");
        code(&mut m, KeyCode::Left);
        assert_eq!(chat(&m), ("helo", 3));
        type_text(&mut m, "l");
        assert_eq!(chat(&m), ("hello", 4));
        code(&mut m, KeyCode::Right);
        code(&mut m, KeyCode::Right);
        assert_eq!(chat(&m), ("hello", 5));
    }

    #[test]
    fn home_and_ctrl_a_go_to_the_start_end_and_ctrl_e_to_the_end() {
        let mut m = demo();
        type_text(&mut m, "world");
        code(&mut m, KeyCode::Home);
        assert_eq!(chat(&m), ("world", 0));
        type_text(&mut m, "hi ");
        assert_eq!(chat(&m), ("hi world", 3));
        code(&mut m, KeyCode::End);
        assert_eq!(chat(&m), ("hi world", 8));
        ctrl(&mut m, 'a');
        assert_eq!(chat(&m), ("hi world", 0));
        ctrl(&mut m, 'e');
        type_text(&mut m, "!");
        assert_eq!(chat(&m), ("hi world!", 9));
    }

    #[test]
    fn backspace_deletes_before_the_cursor_and_delete_under_it() {
        let mut m = demo();
        type_text(&mut m, "abcd");
        code(&mut m, KeyCode::Left);
        code(&mut m, KeyCode::Left);
        code(&mut m, KeyCode::Backspace);
        assert_eq!(chat(&m), ("acd", 1));
        code(&mut m, KeyCode::Delete);
        assert_eq!(chat(&m), ("ad", 1));
    }

    #[test]
    fn ctrl_u_deletes_from_the_start_to_the_cursor() {
        let mut m = demo();
        type_text(&mut m, "drop this keep");
        for _ in 0.."keep".len() {
            code(&mut m, KeyCode::Left);
        }
        ctrl(&mut m, 'u');
        assert_eq!(chat(&m), ("keep", 0));
    }

    #[test]
    fn ctrl_w_deletes_the_word_before_the_cursor() {
        let mut m = demo();
        type_text(&mut m, "hello wrold");
        ctrl(&mut m, 'w');
        assert_eq!(chat(&m), ("hello ", 6));
        type_text(&mut m, "world");
        ctrl(&mut m, 'a');
        ctrl(&mut m, 'w');
        assert_eq!(chat(&m), ("hello world", 0), "nothing before the cursor");
    }

    #[test]
    fn ctrl_w_takes_one_ideograph_as_a_word_as_the_readme_says() {
        let mut m = demo();
        type_text(&mut m, "hi 名前");
        ctrl(&mut m, 'w');
        assert_eq!(chat(&m), ("hi 名", 4));
    }

    #[test]
    fn ctrl_k_deletes_from_the_cursor_to_the_end() {
        let mut m = demo();
        type_text(&mut m, "keep drop");
        ctrl(&mut m, 'a');
        for _ in 0.."keep".len() {
            code(&mut m, KeyCode::Right);
        }
        ctrl(&mut m, 'k');
        assert_eq!(chat(&m), ("keep", 4));
    }

    #[test]
    fn wide_and_composed_characters_are_edited_whole() {
        let mut m = demo();
        // é typed as e + a combining acute accent: one character on screen, two code points.
        type_text(&mut m, "e\u{301}✓名前");
        code(&mut m, KeyCode::Left);
        code(&mut m, KeyCode::Left);
        assert_eq!(chat(&m), ("e\u{301}✓名前", 3));
        code(&mut m, KeyCode::Backspace);
        assert_eq!(chat(&m), ("e\u{301}名前", 2));
        code(&mut m, KeyCode::Left);
        assert_eq!(
            chat(&m),
            ("e\u{301}名前", 0),
            "the accent goes with its letter"
        );
        code(&mut m, KeyCode::Delete);
        assert_eq!(chat(&m), ("名前", 0));
        type_text(&mut m, "é");
        assert_eq!(chat(&m), ("é名前", 1));
        // On screen: the CJK character under the cursor fills its two columns in reverse video.
        assert_eq!(drawn(&m.input, 10), ["é", "名", "前"]);
    }

    #[test]
    fn control_keys_that_edit_nothing_type_nothing() {
        let mut m = demo();
        type_text(&mut m, "ab");
        ctrl(&mut m, 'b');
        ctrl(&mut m, 'y');
        assert_eq!(chat(&m), ("ab", 2));
    }

    #[test]
    fn up_and_down_recall_the_lines_sent_and_give_back_the_line_being_typed() {
        let mut m = demo();
        for line in ["first", "second"] {
            type_text(&mut m, line);
            let sent = code(&mut m, KeyCode::Enter);
            assert!(matches!(sent, Some(Command::Send { text, .. }) if text == line));
        }
        type_text(&mut m, "draft");
        code(&mut m, KeyCode::Up);
        assert_eq!(chat(&m), ("second", 6));
        code(&mut m, KeyCode::Up);
        assert_eq!(chat(&m), ("first", 5));
        code(&mut m, KeyCode::Up);
        assert_eq!(chat(&m), ("first", 5), "the oldest line stays");
        code(&mut m, KeyCode::Down);
        assert_eq!(chat(&m), ("second", 6));
        code(&mut m, KeyCode::Down);
        assert_eq!(chat(&m), ("draft", 5));
        // A recalled line is sent like a typed one, edited or not.
        code(&mut m, KeyCode::Up);
        type_text(&mut m, "!");
        let sent = code(&mut m, KeyCode::Enter);
        assert!(matches!(sent, Some(Command::Send { text, .. }) if text == "second!"));
        assert_eq!(m.input.history(), ["first", "second", "second!"]);
        // The keys the input had keep working: Tab switches sender, Esc leaves, Ctrl-C quits.
        code(&mut m, KeyCode::Tab);
        assert_eq!(m.sender_name(), "bob");
        code(&mut m, KeyCode::Esc);
        assert_eq!(m.focus, Focus::Timeline);
        assert_eq!(ctrl(&mut m, 'c'), Some(Command::Quit));
    }

    #[test]
    fn the_filter_prompt_edits_and_keeps_its_own_history() {
        let mut m = demo();
        type_text(&mut m, "chat line");
        code(&mut m, KeyCode::Enter);
        code(&mut m, KeyCode::Esc);
        for filter in ["tls", "port 8443"] {
            type_text(&mut m, "/");
            assert!(m.prompt);
            ctrl(&mut m, 'u');
            type_text(&mut m, filter);
            code(&mut m, KeyCode::Enter);
            assert_eq!(m.timeline.filter, filter);
        }
        type_text(&mut m, "/");
        assert_eq!(
            m.filter_input.value(),
            "port 8443",
            "opens on the filter applied"
        );
        code(&mut m, KeyCode::Up);
        code(&mut m, KeyCode::Up);
        assert_eq!(m.filter_input.value(), "tls");
        code(&mut m, KeyCode::Left);
        ctrl(&mut m, 'w');
        type_text(&mut m, "tc");
        assert_eq!(
            (m.filter_input.value(), m.filter_input.cursor()),
            ("tcs", 2)
        );
        ctrl(&mut m, 'k');
        type_text(&mut m, "p");
        code(&mut m, KeyCode::Enter);
        assert_eq!(m.timeline.filter, "tcp");
        assert_eq!(m.filter_input.history(), ["tls", "port 8443", "tcp"]);
        assert_eq!(
            m.input.history(),
            ["chat line"],
            "the chat's history is its own"
        );
    }

    #[test]
    fn a_lesson_answer_is_edited_and_recalled() {
        let mut m = Model::new(true, "lesson".into(), Vec::new(), Theme::no_color());
        m.lesson = Some(crate::ui::lesson::LessonPane::default());
        m.focus = Focus::Input;
        type_text(&mut m, "8O");
        code(&mut m, KeyCode::Backspace);
        type_text(&mut m, "0");
        assert_eq!(
            code(&mut m, KeyCode::Enter),
            Some(Command::Answer("80".into()))
        );
        code(&mut m, KeyCode::Up);
        assert_eq!(chat(&m), ("80", 2));
        code(&mut m, KeyCode::Home);
        type_text(&mut m, "4");
        assert_eq!(
            code(&mut m, KeyCode::Enter),
            Some(Command::Answer("480".into()))
        );
    }

    /// The screen's cell at the cursor, found after `prefix` on the row that has it.
    fn cell_after(m: &mut Model, prefix: &str, skip: u16) -> ratatui::buffer::Cell {
        use ratatui::backend::TestBackend;
        use ratatui::layout::Rect;
        let trace = Trace::new();
        let area = Rect::new(0, 0, 80, 24);
        let areas = crate::ui::view::layout(area, m);
        m.set_areas(areas);
        let mut term = ratatui::Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        term.draw(|f| crate::ui::view::view(f, m, &trace))
            .expect("draws");
        let buf = term.backend().buffer().clone();
        for y in 0..area.height {
            let row: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(at) = row.find(prefix) {
                let x = row[..at].chars().count() as u16 + prefix.chars().count() as u16 + skip;
                return buf[(x, y)].clone();
            }
        }
        panic!("{prefix:?} is not on screen");
    }

    #[test]
    fn the_chat_input_and_the_filter_show_the_cursor_where_it_is() {
        use ratatui::style::Modifier;
        let mut m = demo();
        type_text(&mut m, "hello");
        code(&mut m, KeyCode::Left);
        code(&mut m, KeyCode::Left);
        let cell = cell_after(&mut m, "alice> ", 3);
        assert_eq!(cell.symbol(), "l");
        assert!(cell.modifier.contains(Modifier::REVERSED), "{cell:?}");
        let before = cell_after(&mut m, "alice> ", 2);
        assert!(!before.modifier.contains(Modifier::REVERSED), "{before:?}");
        code(&mut m, KeyCode::Esc);
        type_text(&mut m, "/tcp");
        code(&mut m, KeyCode::Home);
        let cell = cell_after(&mut m, "filter: ", 0);
        assert_eq!(cell.symbol(), "t");
        assert!(cell.modifier.contains(Modifier::REVERSED), "{cell:?}");
    }
}
