//! `packetpath export FILE --frame N | --message N | --graphs`: a handout of a saved capture
//! (HTML, SVG or Markdown), drawn as `open` shows that frame or message, or its busiest
//! connection's time graphs as `open` draws them with `t`.

use std::path::Path;

use anyhow::bail;

use crate::capture::open_capture;
use crate::chat::{Direction, Side};
use crate::report::handout::{Handout, HandoutFormat};
use crate::ui::detail::Subject;

/// What to make a handout of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportWhat {
    /// A frame, by its number (from 1, as Wireshark numbers them).
    Frame(u32),
    /// An application write, by its place among the capture's writes in time order (from 1).
    Message(usize),
    /// The time graphs of the connection that carried the most bytes (a transfer).
    Graphs,
}

/// The handout of `what` in the capture `file` (with the secrets of `keylog`, besides those the
/// file holds).
pub fn export(
    file: &Path,
    keylog: Option<&Path>,
    what: ExportWhat,
    format: HandoutFormat,
) -> anyhow::Result<String> {
    let (trace, damage) = open_capture(file, keylog, &mut |_, _| {})?;
    if let Some(damage) = damage {
        tracing::warn!(
            "{}: {} (the {} frames before it were read)",
            file.display(),
            damage.reason,
            trace.frame_count()
        );
    }
    let (subject, what_text) = match what {
        ExportWhat::Graphs => return graphs(file, &trace, format),
        ExportWhat::Frame(n) => {
            if trace.frame(n).is_none() {
                bail!(
                    "{}: there is no frame #{n}: the capture has {} frames, numbered from 1",
                    file.display(),
                    trace.frame_count()
                );
            }
            (Subject::Frame(n, None), format!("frame #{n}"))
        }
        ExportWhat::Message(n) => {
            // In the order they were written (the ledger lists each side's events together).
            let mut writes: Vec<usize> = trace
                .app_events()
                .iter()
                .enumerate()
                .filter(|(_, e)| e.dir == Direction::Write)
                .map(|(i, _)| i)
                .collect();
            writes.sort_by_key(|&i| trace.app_events().get(i).map(|e| e.at));
            if writes.is_empty() {
                bail!(
                    "{}: no messages to choose from: the capture has no packetpath ledger of \
                     application writes (captures saved by packetpath's --write and --record \
                     have one); use --frame N",
                    file.display()
                );
            }
            let Some(&i) = n.checked_sub(1).and_then(|k| writes.get(k)) else {
                let list = writes
                    .iter()
                    .take(10)
                    .enumerate()
                    .filter_map(|(k, &i)| {
                        let e = trace.app_events().get(i)?;
                        Some(format!(
                            "  {}: {} wrote {}",
                            k + 1,
                            side_name(e.side),
                            crate::report::quoted(&e.bytes, 40)
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                bail!(
                    "{}: there is no message {n}: the capture has {} messages, numbered from 1:\n{list}{}",
                    file.display(),
                    writes.len(),
                    if writes.len() > 10 { "\n  …" } else { "" }
                );
            };
            let side = trace.app_events().get(i).map_or("", |e| side_name(e.side));
            (
                Subject::Message(i),
                format!("message {n}, written by the {side}"),
            )
        }
    };
    let source = match file.file_name() {
        Some(name) => format!("{} · {what_text}", name.to_string_lossy()),
        None => what_text,
    };
    Ok(format.render(&Handout::build(&trace, subject, source))?)
}

/// The time graphs of the capture's busiest connection.
fn graphs(
    file: &Path,
    trace: &crate::journey::Trace,
    format: HandoutFormat,
) -> anyhow::Result<String> {
    use crate::report::handout::graphs::{busiest_connection, GraphsHandout};
    let Some(stream) = busiest_connection(trace) else {
        bail!("{}: no TCP connection to draw", file.display());
    };
    let source = match file.file_name() {
        Some(name) => format!(
            "{} · the connection that carried the most bytes",
            name.to_string_lossy()
        ),
        None => "the connection that carried the most bytes".into(),
    };
    let handout = GraphsHandout::build(trace, stream, source)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    match format {
        HandoutFormat::Html => Ok(handout.html()?),
        HandoutFormat::Svg => Ok(handout.svg()),
        HandoutFormat::Markdown => bail!(
            "the graphs are pictures: --format html (all four graphs on a page) or svg (the \
             time-sequence graph)"
        ),
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}
