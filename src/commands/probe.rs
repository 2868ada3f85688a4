//! `packetpath ping` and `packetpath traceroute`: probes from the lab's client host to its
//! server host under the lab's capture, each answer with its hop and its frames
//! (the probing itself is [`crate::probe`]).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::capture::OutputPath;
use crate::lab::Lab;
use crate::probe::Probing;
use crate::report::Format;
use crate::session::{Session, SessionOptions};

/// Runs ping or traceroute in `lab` under capture, writes the capture to `write` if given,
/// and prints the report. Returns whether the destination answered (ping's exit status).
pub async fn probe_command(
    lab: Lab,
    command: Probing,
    format: Format,
    write: Option<&OutputPath>,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let mut session = Session::new(SessionOptions {
        cert_dir: PathBuf::from(crate::chat::certs::DEFAULT_DIR),
        lab: lab.clone(),
        ipv6: false,
    })?;
    session.start_capture().await?;
    let in_lab = lab.clone();
    let report = tokio::task::spawn_blocking(move || command.run(&in_lab))
        .await
        .map_err(|e| anyhow::anyhow!("the probing thread failed: {e}"))??;
    // The last answer's copies on the other links reach the session a moment later.
    session.linger(Duration::from_millis(100)).await;
    let (trace, frames, stats) = session.finish().await?;
    if stats.dropped > 0 {
        tracing::warn!(
            "the kernel dropped {} frames during the capture",
            stats.dropped
        );
    }
    if let Some(path) = write {
        super::write_pcapng(path, &frames, &trace)?;
    }
    match format {
        Format::Text => write!(out, "{}", report.text(&lab, &trace))?,
        Format::Json => writeln!(out, "{}", report.json(&lab, &trace))?,
    }
    Ok(report.replies() > 0)
}
