//! The handout as Markdown (CommonMark with GitHub's tables): the same [`Handout`] through a
//! template built into the binary ([`super::templates`]). Values are made safe for a table cell (`cell`: no `|`, no line
//! break, no HTML) or a code span (`code`: fenced so that no backtick inside ends it).

use super::{Handout, HandoutError};

/// The Markdown.
pub(super) fn render(handout: &Handout) -> Result<String, HandoutError> {
    super::templates::render("handout.md", handout)
}

/// Text for a table cell: a `|` would end the cell, a line break the row.
pub(super) fn cell(text: String) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// A code span holding `text`, for a table cell: fenced with one backtick more than the longest
/// run of backticks inside, `|` escaped as GitHub's tables require even inside code.
pub(super) fn code(text: String) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let inner = text.replace('|', "\\|").replace(['\n', '\r'], " ");
    if longest > 0 {
        format!("{fence} {inner} {fence}")
    } else {
        format!("{fence}{inner}{fence}")
    }
}
