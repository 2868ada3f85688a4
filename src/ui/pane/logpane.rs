//! The log pane: the program's `tracing` log, collected by tui-logger instead of being written to
//! stderr (which would scribble over the screen). Each event takes one row, from its start: one
//! too long for the pane ends in "…" (tui-logger's own formatter wraps long events, and then a
//! pane of a few rows shows only the tail of the newest).

use std::sync::atomic::{AtomicUsize, Ordering};

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use ratatui::Frame;
use tui_logger::{ExtLogRecord, LogFormatter, TuiLoggerWidget};

use crate::ui::fit::ellipsize;
use crate::ui::model::Model;
use crate::ui::theme::Theme;

/// How many events the log holds (counted as they are logged, for the layout).
static LOGGED: AtomicUsize = AtomicUsize::new(0);

/// How many lines the log pane has to show.
pub fn lines_logged() -> usize {
    LOGGED.load(Ordering::Relaxed)
}

/// Counts the events that reach the log pane (the same filter lets them through).
struct Counter;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counter {
    fn on_event(
        &self,
        _event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        LOGGED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Starts collecting `tracing` events for the log pane (call once, before anything logs). The
/// level comes from `RUST_LOG` (default `info`).
pub fn init_logging() -> anyhow::Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(tui_logger::TuiTracingSubscriberLayer)
        .with(Counter)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the log collector: {e}"))?;
    tui_logger::init_logger(tui_logger::LevelFilter::Trace)
        .map_err(|e| anyhow::anyhow!("cannot start the log collector: {e}"))?;
    tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
    Ok(())
}

/// One log event as its row: "12:00:01 I message", the lines of a message of several joined
/// with " ⏎ ", cut with "…" at `width` columns.
pub fn log_line(
    time: &str,
    level: &str,
    message: &str,
    width: usize,
    theme: Theme,
) -> Line<'static> {
    let style = match level {
        "ERROR" | "WARN" => theme.warn(),
        "INFO" => Style::new(),
        _ => theme.dim(),
    };
    let abbreviated: String = level.chars().take(1).collect();
    let text = message.trim().lines().collect::<Vec<_>>().join(" ⏎ ");
    ellipsize(
        Line::from(vec![
            Span::styled(format!("{time} {abbreviated} "), theme.dim()),
            Span::styled(text, style),
        ]),
        width,
    )
}

/// tui-logger's rows made by [`log_line`].
struct OneLine {
    theme: Theme,
}

impl LogFormatter for OneLine {
    fn min_width(&self) -> u16 {
        // "12:00:01 I …"
        12
    }

    fn format(&self, width: usize, evt: &ExtLogRecord) -> Vec<Line<'_>> {
        let time = evt.timestamp.strftime("%H:%M:%S").to_string();
        vec![log_line(
            &time,
            evt.level.as_str(),
            evt.msg(),
            width,
            self.theme,
        )]
    }
}

/// Draws the log into `area`.
pub fn render(f: &mut Frame, model: &Model, area: Rect, block: Block) {
    match &model.log_state {
        Some(state) => {
            let widget = TuiLoggerWidget::default()
                .block(block)
                .formatter(Box::new(OneLine { theme: model.theme }))
                .state(state);
            f.render_widget(widget, area);
        }
        None => f.render_widget(block, area),
    }
}

#[cfg(test)]
mod tests {
    use super::log_line;
    use crate::ui::theme::Theme;

    #[test]
    fn a_log_event_is_one_row_from_its_start() {
        let text = |width| {
            let line = log_line(
                "12:00:01",
                "WARN",
                " first\nsecond ",
                width,
                Theme::no_color(),
            );
            line.spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        assert_eq!(text(80), "12:00:01 W first ⏎ second");
        assert_eq!(text(16), "12:00:01 W firs…");
    }
}
