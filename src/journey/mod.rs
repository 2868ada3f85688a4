//! The journey: ties every application write and read to the TLS records that carried its bytes,
//! the TCP segments that carried those records, and the frames around them. [`Trace`] is the one
//! model that reports, the UI, lessons and the capture writer read.

pub mod hops;
pub mod ledger;
mod sizes;
pub mod timing;
mod trace;

pub use sizes::Stack;

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
