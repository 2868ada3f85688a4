//! Fitting text into a pane without losing any of it: widths in terminal columns, names
//! shortened with a visible "…", values and sentences wrapped onto more lines, and lines that
//! must stay one line cut with a "…" mark (never silently).

use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes on a terminal.
pub fn width_of(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// The longest start of `s` at most `width` columns wide, and the rest.
pub fn split_at_width(s: &str, width: usize) -> (&str, &str) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            // Never an empty first part: a character wider than the room still goes.
            let i = if i == 0 { c.len_utf8() } else { i };
            return s.split_at(i);
        }
        used += w;
    }
    (s, "")
}

/// `name` cut to `room` columns with "…" at the cut.
pub fn shortened(name: &str, room: usize) -> String {
    if width_of(name) <= room {
        return name.to_string();
    }
    let (head, _) = split_at_width(name, room.saturating_sub(1).max(1));
    format!("{head}…")
}

/// `text` on lines of at most `width` columns, breaking after a space where a line has one
/// (else inside a word); every character is kept, spaces included, so the lines joined are
/// `text` again.
pub fn wrap_exact(text: &str, width: usize) -> impl Iterator<Item = &str> {
    let width = width.max(1);
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (mut head, mut tail) = split_at_width(rest, width);
        if !tail.is_empty() {
            if let Some(space) = head.rfind(' ').filter(|&k| k > 0) {
                (head, tail) = rest.split_at(space + 1);
            }
        }
        rest = tail;
        Some(head)
    })
}

/// Word-wraps a note to `width` columns (a word longer than a line is split).
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word;
        loop {
            let gap = usize::from(!line.is_empty());
            if width_of(&line) + gap + width_of(word) <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let (head, rest) = split_at_width(word, width);
            lines.push(head.to_string());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `line` cut to `width` columns, its last column a "…" when anything was cut.
pub fn ellipsize(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let room = width.saturating_sub(1);
    let mut used = 0;
    let mut spans = Vec::new();
    let mut last_style = line.style;
    for span in line.spans {
        let w = width_of(&span.content);
        last_style = span.style;
        if used + w <= room {
            used += w;
            spans.push(span);
            continue;
        }
        let (head, _) = split_at_width(&span.content, room - used);
        let head = if width_of(head) > room - used {
            ""
        } else {
            head
        };
        spans.push(Span::styled(head.to_string(), span.style));
        break;
    }
    spans.push(Span::styled("…", last_style));
    Line::from(spans).style(line.style)
}

/// `line` ending in "…" within `width` columns, to say that what it shows goes on: the mark
/// after it when there is room, else in place of its last column(s).
pub fn cut_mark(line: Line<'static>, width: usize) -> Line<'static> {
    let mut line = line;
    if line.width() < width {
        line.spans.push(Span::raw("…"));
        return line;
    }
    // One column more than fits, so that ellipsize cuts and marks it.
    line.spans.push(Span::raw(" "));
    ellipsize(line, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_character() {
        let text = "alpha  beta gamma-delta epsilonzetaeta";
        for width in 1..40 {
            let lines: Vec<&str> = wrap_exact(text, width).collect();
            assert_eq!(lines.concat(), text, "width {width}");
            assert!(lines.iter().all(|l| width_of(l) <= width), "{lines:?}");
        }
    }

    #[test]
    fn a_cut_line_ends_with_a_mark_and_fits() {
        let line = Line::from(vec![
            Span::raw("#25 alice → "),
            Span::raw("server TCP [PSH]"),
        ]);
        for width in 2..line.width() {
            let cut = ellipsize(line.clone(), width);
            assert!(cut.width() <= width, "{width}: {cut:?}");
            let text: String = cut.spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(text.ends_with('…'), "{width}: {text}");
        }
        assert_eq!(ellipsize(line.clone(), 40), line);
    }

    #[test]
    fn a_cut_mark_ends_a_line_within_its_width() {
        let text = |line: Line<'static>| -> String {
            line.spans.iter().map(|s| s.content.to_string()).collect()
        };
        assert_eq!(text(cut_mark(Line::from("abc"), 5)), "abc…");
        assert_eq!(text(cut_mark(Line::from("abcde"), 5)), "abcd…");
        assert_eq!(text(cut_mark(Line::from("abcdefg"), 5)), "abcd…");
    }

    #[test]
    fn shortened_names_show_that_they_were_cut() {
        assert_eq!(shortened("Sequence number", 6), "Seque…");
        assert_eq!(shortened("Window", 6), "Window");
    }
}
