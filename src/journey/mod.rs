//! The journey: ties every application write and read to the TLS records that carried its bytes,
//! the TCP segments that carried those records, and the frames around them. [`Trace`] is the one
//! model that reports, the UI, lessons and the capture writer read.

pub mod hops;
pub mod ledger;
mod sizes;
pub mod timing;
mod trace;

pub use sizes::Stack;

#[cfg(test)]
pub(crate) use trace::PENDING_GRACE;
pub use trace::{FrameEntry, Journey, LayerBytes, RecordEntry, StreamKind, Trace};

/// The lines `side`'s application read, from every connection, in the order each was complete
/// (reads cut anywhere are put together per connection; a last line without its newline counts).
pub fn lines_read(trace: &Trace, side: crate::chat::Side) -> Vec<String> {
    lines_read_on(trace, side, None)
        .into_iter()
        .map(|(_, line)| line)
        .collect()
}

/// [`lines_read`] on one connection (`None`: all), each with the index (in
/// [`Trace::app_events`]) of the read that completed it.
pub fn lines_read_on(
    trace: &Trace,
    side: crate::chat::Side,
    conn: Option<crate::chat::ConnId>,
) -> Vec<(usize, String)> {
    let mut pending: std::collections::HashMap<crate::chat::ConnId, (usize, Vec<u8>)> =
        std::collections::HashMap::new();
    let mut lines = Vec::new();
    for (i, e) in trace.app_events().iter().enumerate() {
        if e.side != side
            || e.dir != crate::chat::Direction::Read
            || conn.is_some_and(|c| c != e.conn)
        {
            continue;
        }
        let (last, buf) = pending.entry(e.conn).or_default();
        *last = i;
        buf.extend_from_slice(&e.bytes);
        while let Some(end) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            lines.push((i, String::from_utf8_lossy(&line[..end]).into_owned()));
        }
    }
    let mut unfinished: Vec<(usize, String)> = pending
        .into_values()
        .filter(|(_, rest)| !rest.is_empty())
        .map(|(i, rest)| (i, String::from_utf8_lossy(&rest).into_owned()))
        .collect();
    unfinished.sort_by_key(|(i, _)| *i);
    lines.extend(unfinished);
    lines
}

/// The first fatal TLS alert sent in direction `dir` (on connection `stream`, or on any with
/// `None`) — an error, not the warning-level close_notify that ends every connection: its frame,
/// its description's name, and whether it travelled encrypted (on the wire a record of another
/// type, as TLS 1.3 sends every alert after the ServerHello).
pub fn fatal_alert(
    trace: &Trace,
    stream: Option<usize>,
    dir: crate::flow::Direction,
) -> Option<(u32, &'static str, bool)> {
    trace.records().iter().find_map(|r| {
        if r.dir != dir || stream.is_some_and(|s| s != r.stream) {
            return None;
        }
        let (level, description) = r.info.alert?;
        let encrypted = r.info.header.content_type != crate::tls::ContentType::Alert;
        (level == 2).then(|| (r.frame, crate::tls::alert_name(description), encrypted))
    })
}
