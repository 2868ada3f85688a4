//! Renderings of a [`Trace`] for scripts, handouts and tests: one JSON object per frame (the
//! `inspect` contract in ARCHITECTURE.md), a readable text line per frame, and a message's journey.

mod json;
mod text;

pub use json::{checksum_name, frame_json, journey_json};
pub use text::{frame_text, journey_text};

use std::collections::HashMap;

use crate::journey::{RecordEntry, Trace};

/// Output format chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Readable lines for people.
    #[default]
    Text,
    /// One JSON object per frame (inspect, capture) or one object (trace).
    Json,
}

/// For each frame number, the application events (indices into [`Trace::app_events`]) whose last
/// byte that frame delivered.
pub fn app_events_by_frame(trace: &Trace) -> HashMap<u32, Vec<usize>> {
    let mut map: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, event) in trace.app_events().iter().enumerate() {
        if let Some(frame) = trace.app_event_frame(event) {
            map.entry(frame).or_default().push(i);
        }
    }
    // Within a frame, show events in the order they happened (a write before its read).
    for events in map.values_mut() {
        events.sort_by_key(|&i| trace.app_events().get(i).map(|e| e.at));
    }
    map
}

/// Text shown for a byte string: escaped (control characters and invalid UTF-8 made visible),
/// quoted, cut after `max` characters.
pub fn quoted(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .take(max)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if text.chars().count() > max {
        out.push('…');
    }
    format!("\"{out}\"")
}

/// What is shown instead of a record's plaintext when opening it again failed (which should
/// not happen: the reason is in the log).
pub const NOT_REOPENED: &str = "(could not be decrypted again: see the log)";

/// A decrypted record's plaintext, quoted as [`quoted`] does, or [`NOT_REOPENED`].
pub fn quoted_plaintext(trace: &Trace, record: &RecordEntry, max: usize) -> String {
    match trace.plaintext(record) {
        Some(data) => quoted(&data, max),
        None => NOT_REOPENED.to_string(),
    }
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
/// `seq=N ack=M` as a summary line shows a segment's relative numbers; the acknowledgment number
/// only when the ACK flag is set, since otherwise the field means nothing (RFC 9293 §3.1: "If the
/// ACK control bit is set, this field contains the value of the next sequence number the sender
/// of the segment is expecting to receive"), as in Wireshark's summary of a first SYN. A
/// `Display` value, so the per-frame report writes it without allocating.
pub fn seq_ack(flags: crate::dissect::TcpFlags, rel_seq: u32, rel_ack: u32) -> SeqAck {
    SeqAck {
        rel_seq,
        rel_ack: flags
            .contains(crate::dissect::TcpFlags::ACK)
            .then_some(rel_ack),
    }
}

/// See [`seq_ack`].
pub struct SeqAck {
    rel_seq: u32,
    rel_ack: Option<u32>,
}

impl std::fmt::Display for SeqAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq={}", self.rel_seq)?;
        match self.rel_ack {
            Some(ack) => write!(f, " ack={ack}"),
            None => Ok(()),
        }
    }
}

pub fn mac(bytes: &[u8; 6]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Why a fragmented packet was never put together, in a sentence.
pub(crate) fn not_reassembled(
    d: &crate::flow::Datagram,
    state: &crate::flow::DatagramState,
) -> String {
    match state {
        crate::flow::DatagramState::Discarded(e) => e.to_string(),
        _ => match d.data_len {
            Some(len) => format!(
                "never reassembled: {} of its {len} data bytes were captured",
                d.bytes_received()
            ),
            None => format!(
                "never reassembled: {} data bytes were captured, and not the last fragment",
                d.bytes_received()
            ),
        },
    }
}

/// What frame `number` is as an IP fragment, in one line: "fragment 2 of 3 (offset 48, id
/// 0x7004), reassembled in #14", "reassembled from fragments #12, #13, #14 (1,480 bytes)", or why
/// it never was. `None` when the frame is not a fragment.
pub fn fragment_line(trace: &Trace, number: u32) -> Option<String> {
    use crate::flow::DatagramState;
    let entry = trace.frame(number)?;
    let p = entry.headers();
    let ip = p.ip.as_ref().filter(|ip| ip.is_fragment())?;
    let d = trace.fragment_of(number)?;
    let position = d
        .fragments
        .iter()
        .position(|&f| f == number)
        .map_or(0, |i| i + 1);
    let id = ip.identification.unwrap_or(0);
    let this = format!(
        "fragment {position} of {} (offset {}, id 0x{id:x}{})",
        d.fragments.len(),
        ip.fragment_offset,
        if ip.more_fragments {
            ", more follow"
        } else {
            ", the last"
        }
    );
    Some(match &d.state {
        DatagramState::Reassembled { frame } if *frame == number => {
            let list: Vec<String> = d.fragments.iter().map(|f| format!("#{f}")).collect();
            format!(
                "{this}; reassembled here from {} ({} bytes after the IP header)",
                list.join(", "),
                d.data_len.unwrap_or(0)
            )
        }
        DatagramState::Reassembled { frame } => format!("{this}, reassembled in #{frame}"),
        state => format!("{this}: {}", not_reassembled(d, state)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::TcpFlags;

    #[test]
    fn the_ack_number_is_shown_only_with_the_ack_flag() {
        assert_eq!(seq_ack(TcpFlags(0x002), 0, 0).to_string(), "seq=0");
        assert_eq!(seq_ack(TcpFlags(0x012), 0, 1).to_string(), "seq=0 ack=1");
        assert_eq!(seq_ack(TcpFlags(0x018), 5, 9).to_string(), "seq=5 ack=9");
    }
}
