//! The write ledger in capture files. The application events travel in pcapng Custom Blocks
//! (written after the last frame, so Wireshark's frame numbers stay ours), one line per event, as
//! many blocks of at most [`BLOCK_MAX`] bytes as they need:
//!
//! ```text
//! packetpath-app {"client":"127.0.0.1:50412","server":"127.0.0.1:8443","side":"client","dir":"write","offset":0,"at":1764389000123456789,"hex":"68690a"}
//! ```
//!
//! The block is marked with Private Enterprise Number 32473, the number IANA reserves for
//! documentation and examples (RFC 5612): packetpath has no registered number of its own.
//! Each frame that delivers an event's last byte also gets a short packet comment for people
//! ("packetpath: client wrote "hi\n" (3 bytes)"), which Wireshark shows on the packet.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::chat::{AppEvent, ConnId, Direction, Side};
use crate::frame::Timestamp;

/// The prefix that marks a ledger line.
pub const COMMENT_PREFIX: &str = "packetpath-app ";

/// The Private Enterprise Number on packetpath's custom blocks (IANA's example number, RFC 5612).
pub const LEDGER_PEN: u32 = 32473;

/// The ledger block's contents for `events`.
pub fn encode(events: &[AppEvent]) -> Vec<u8> {
    let mut out = String::new();
    for event in events {
        out.push_str(&to_comment(event));
        out.push('\n');
    }
    out.into_bytes()
}

/// The most packetpath puts in one Custom Block. Wireshark refuses a block over 128 MiB (4.0:
/// "pcapng: total block length … is too large"), and the ledger of a 200 MB transfer in a demo
/// holds every byte written and read, in hex: 800 MB. Longer text goes in several blocks, cut at
/// line ends ([`split_at_lines`]); readers join the lines of every block.
pub const BLOCK_MAX: usize = 16 << 20;

/// `text` (lines, each ending in `\n`) in pieces of at most `max` bytes that end at a line end, in
/// order; a single line longer than `max` is a piece of its own.
pub fn split_at_lines(text: &[u8], max: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let window = rest.get(..max.min(rest.len())).unwrap_or(rest);
        let end = if window.len() == rest.len() {
            rest.len()
        } else {
            match window.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                // One line longer than `max`: up to its end.
                None => rest
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(rest.len(), |i| i + 1),
            }
        };
        let (piece, after) = rest.split_at(end);
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// Reads a ledger block (trailing zero padding allowed).
pub fn decode(data: &[u8]) -> (Vec<AppEvent>, Vec<String>) {
    from_comment(&block_text(data))
}

/// The text of a packetpath Custom Block (ledger, TCP_INFO samples, a lesson record): its
/// bytes as UTF-8, without the zero padding pcapng adds to a 32-bit boundary.
pub fn block_text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(data.get(..end).unwrap_or_default())
}

/// A short packet comment for people: which application write or read this frame completes.
pub fn summary_comment(event: &AppEvent) -> String {
    let text = String::from_utf8_lossy(&event.bytes);
    let mut shown: String = text
        .chars()
        .take(80)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if text.chars().count() > 80 {
        shown.push('…');
    }
    format!(
        "packetpath: {} {} \"{shown}\" ({} bytes)",
        match event.side {
            Side::Client => "client",
            Side::Server => "server",
        },
        match event.dir {
            Direction::Write => "wrote",
            Direction::Read => "read",
        },
        event.bytes.len()
    )
}

#[derive(Serialize, Deserialize)]
struct Line {
    client: std::net::SocketAddr,
    server: std::net::SocketAddr,
    side: String,
    dir: String,
    offset: u64,
    at: i128,
    hex: String,
}

/// The ledger line for one event.
pub fn to_comment(event: &AppEvent) -> String {
    let line = Line {
        client: event.conn.client,
        server: event.conn.server,
        side: match event.side {
            Side::Client => "client",
            Side::Server => "server",
        }
        .into(),
        dir: match event.dir {
            Direction::Write => "write",
            Direction::Read => "read",
        }
        .into(),
        offset: event.offset,
        at: event.at.0,
        hex: crate::tls::encode_hex(&event.bytes),
    };
    format!(
        "{COMMENT_PREFIX}{}",
        serde_json::to_string(&line).unwrap_or_default()
    )
}

/// Reads the events in ledger text; lines that are not ours are ignored, and a damaged line of
/// ours is reported as a warning naming it.
pub fn from_comment(comment: &str) -> (Vec<AppEvent>, Vec<String>) {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    for text in comment.lines() {
        let Some(json) = text.strip_prefix(COMMENT_PREFIX) else {
            continue;
        };
        match parse_line(json) {
            Some(event) => events.push(event),
            None => warnings.push(format!(
                "unreadable application event in a packet comment: {text:?}"
            )),
        }
    }
    (events, warnings)
}

fn parse_line(json: &str) -> Option<AppEvent> {
    let line: Line = serde_json::from_str(json).ok()?;
    let side = match line.side.as_str() {
        "client" => Side::Client,
        "server" => Side::Server,
        _ => return None,
    };
    let dir = match line.dir.as_str() {
        "write" => Direction::Write,
        "read" => Direction::Read,
        _ => return None,
    };
    Some(AppEvent {
        conn: ConnId {
            client: line.client,
            server: line.server,
        },
        side,
        dir,
        at: Timestamp(line.at),
        offset: line.offset,
        bytes: Bytes::from(decode_hex(&line.hex)?),
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_at_line_ends() {
        let text = b"aa\nbbbb\ncc\ndddddddddd\ne\n";
        let pieces = split_at_lines(text, 8);
        assert_eq!(
            pieces,
            [&b"aa\nbbbb\n"[..], b"cc\n", b"dddddddddd\n", b"e\n"],
            "each piece ends a line; the long line is alone"
        );
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_at_lines(text, 1000), [&text[..]]);
        assert!(split_at_lines(b"", 8).is_empty());
        // Text that does not end in a line end loses nothing.
        assert_eq!(
            split_at_lines(b"aa\nbbbbbbbbbb", 4).concat(),
            b"aa\nbbbbbbbbbb"
        );
    }

    #[test]
    fn round_trip_and_damage() {
        let event = AppEvent {
            conn: ConnId {
                client: "127.0.0.1:5000".parse().unwrap(),
                server: "[::1]:8443".parse().unwrap(),
            },
            side: Side::Server,
            dir: Direction::Read,
            at: Timestamp(1_764_389_000_123_456_789),
            offset: 42,
            bytes: Bytes::from_static(b"hi\n\xff"),
        };
        let comment = format!("someone else's note\n{}", to_comment(&event));
        let (events, warnings) = from_comment(&comment);
        assert_eq!(events, vec![event]);
        assert!(warnings.is_empty());
        let (events, warnings) = from_comment("packetpath-app {\"client\": 1}");
        assert!(events.is_empty());
        assert_eq!(warnings.len(), 1);
        let mut block = encode(&from_comment(&comment).0);
        block.extend_from_slice(&[0, 0, 0]);
        assert_eq!(decode(&block).0.len(), 1);
        assert!(summary_comment(&from_comment(&comment).0[0]).contains("server read \"hi\\n"));
    }
}
