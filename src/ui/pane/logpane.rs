//! The log pane: the program's `tracing` log, collected by tui-logger instead of being written to
//! stderr (which would scribble over the screen).

use ratatui::layout::Rect;
use ratatui::widgets::Block;
use ratatui::Frame;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use crate::ui::model::Model;

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
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the log collector: {e}"))?;
    tui_logger::init_logger(tui_logger::LevelFilter::Trace)
        .map_err(|e| anyhow::anyhow!("cannot start the log collector: {e}"))?;
    tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
    Ok(())
}

/// Draws the log into `area`.
pub fn render(f: &mut Frame, model: &Model, area: Rect, block: Block) {
    match &model.log_state {
        Some(state) => {
            let widget = TuiLoggerWidget::default()
                .block(block)
                .style_error(model.theme.warn())
                .style_warn(model.theme.warn())
                .style_info(ratatui::style::Style::new())
                .style_debug(model.theme.dim())
                .style_trace(model.theme.dim())
                .output_separator(' ')
                .output_timestamp(Some("%H:%M:%S".into()))
                .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
                .output_target(false)
                .output_file(false)
                .output_line(false)
                .state(state);
            f.render_widget(widget, area);
        }
        None => f.render_widget(block, area),
    }
}
