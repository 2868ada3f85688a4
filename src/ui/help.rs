//! The help screen: the key table, as it is (see `keys.rs`), grouped by where each key works.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::keys::{Context, BINDINGS};
use super::theme::Theme;

/// The help text, one line per binding under a heading per context.
pub fn lines(theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (context, heading) in [
        (Context::Input, "While typing a chat line"),
        (
            Context::Edit,
            "Editing what you type (chat line, answer, filter)",
        ),
        (Context::Navigation, "Navigating (Esc leaves the input)"),
        (
            Context::Lesson,
            "During a lesson (lesson run; i answers a question)",
        ),
        (Context::Prompt, "While typing a filter (after /)"),
        (Context::Overlay, "In help and the stream view"),
        (Context::Global, "Everywhere"),
    ] {
        out.push(Line::from(Span::styled(
            heading,
            theme.heading().add_modifier(Modifier::UNDERLINED),
        )));
        for b in BINDINGS.iter().filter(|b| b.context == context) {
            let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            out.push(Line::from(vec![
                Span::styled(format!("  {:<14}", keys.join(" ")), theme.heading()),
                Span::raw(b.help),
            ]));
        }
        out.push(Line::from(""));
    }
    out.push(Line::from(Span::styled(
        "Mouse: click a row, a field or a byte to select it; the wheel scrolls the pane under it.",
        theme.dim(),
    )));
    out
}

/// Draws the help screen over `area`.
pub fn render(f: &mut Frame, area: Rect, scroll: usize, block: Block, theme: Theme) {
    f.render_widget(Clear, area);
    let all = lines(theme);
    let shown: Vec<Line> = all.into_iter().skip(scroll).collect();
    f.render_widget(
        Paragraph::new(shown)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}
