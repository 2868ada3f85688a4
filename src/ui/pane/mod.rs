//! The panes: each draws itself from the [`Model`](super::model::Model) (and the trace it
//! borrows), which is the one view model they all read. Nothing here changes the model and
//! nothing below (`model`, `index`, `detail`, `timeline`'s rows, `lesson`'s state) reaches up into
//! a pane, so data flows one way: trace → index and details → model → panes → screen.

use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders};

pub mod chat;
pub mod compare;
pub mod layers;
pub mod lesson;
pub mod logpane;
pub mod path;
pub mod timeline;

/// True when the screen is small: panes get one-line titles instead of full borders.
pub fn compact(size: Rect) -> bool {
    size.height < 30 || size.width < 100
}

pub fn borders(size: Rect) -> Borders {
    if compact(size) {
        Borders::TOP
    } else {
        Borders::ALL
    }
}

/// The inside of a pane at `area` on a screen of `size` (borders depend on the screen).
pub fn inner(area: Rect, size: Rect) -> Rect {
    Block::new().borders(borders(size)).inner(area)
}
