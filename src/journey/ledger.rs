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
        hex: crate::tls::encode_hex(&event.bytes).into(),
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

/// A ledger line, as written and as read (its text borrowed from the block where it can be).
#[derive(Serialize, Deserialize)]
struct Line<'a> {
    client: std::net::SocketAddr,
    server: std::net::SocketAddr,
    #[serde(borrow)]
    side: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    dir: std::borrow::Cow<'a, str>,
    offset: u64,
    at: i128,
    #[serde(borrow)]
    hex: std::borrow::Cow<'a, str>,
}

/// An event with no bytes yet, and its `hex` text.
fn parse_line_ref(json: &str) -> Option<(AppEvent, Line<'_>)> {
    let line: Line = serde_json::from_str(json).ok()?;
    let side = match line.side.as_ref() {
        "client" => Side::Client,
        "server" => Side::Server,
        _ => return None,
    };
    let dir = match line.dir.as_ref() {
        "write" => Direction::Write,
        "read" => Direction::Read,
        _ => return None,
    };
    let event = AppEvent {
        conn: ConnId {
            client: line.client,
            server: line.server,
        },
        side,
        dir,
        at: Timestamp(line.at),
        offset: line.offset,
        bytes: Bytes::new(),
    };
    Some((event, line))
}

fn parse_line(json: &str) -> Option<AppEvent> {
    let (mut event, line) = parse_line_ref(json)?;
    event.bytes = Bytes::from(decode_hex(line.hex.as_bytes())?);
    Some(event)
}

/// Hex digits (either case) to bytes; `None` if they are not.
pub fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    let mut out = vec![0u8; hex.len() / 2];
    const_hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

/// How many bytes `hex` digits stand for (two a byte).
pub fn hex_byte_len(hex: &[u8]) -> usize {
    hex.len() / 2
}

/// An application event read from a ledger whose bytes are not decoded yet (a streaming reader
/// decodes them when it shows the frame they belong to): `event.bytes` is empty, and `hex` holds
/// their hex digits, a slice of the block (no copy; a copy only for a line whose hex is written
/// with JSON escapes, which packetpath never writes).
#[derive(Debug, Clone)]
pub struct LazyEvent {
    /// The event, its bytes left empty.
    pub event: AppEvent,
    /// Its bytes in hex (checked: an even number of hex digits).
    pub hex: Bytes,
}

impl LazyEvent {
    /// How many bytes the event carries.
    pub fn byte_len(&self) -> usize {
        hex_byte_len(&self.hex)
    }

    /// The event's bytes (`None` if its hex is damaged).
    pub fn bytes(&self) -> Option<Bytes> {
        decode_hex(&self.hex).map(Bytes::from)
    }
}

/// As [`decode`], but the events' bytes stay hex, in `data` (see [`LazyEvent`]): a ledger of
/// every byte of a long transfer (hundreds of megabytes) is read into a few bytes an event. Read
/// a line at a time: a line that is not UTF-8 is skipped as [`decode`] skips it (with a warning
/// if it is one of ours), and the others are read all the same.
pub fn decode_lazy(data: &Bytes) -> (Vec<LazyEvent>, Vec<String>) {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = data.slice(..end);
    for raw in text.split(|&b| b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !raw.starts_with(COMMENT_PREFIX.as_bytes()) {
            continue;
        }
        let parsed = std::str::from_utf8(raw).ok().and_then(|line| {
            let json = line.strip_prefix(COMMENT_PREFIX)?;
            let (event, line) = parse_line_ref(json)?;
            let hex = match &line.hex {
                // Where the digits are in the block, to slice it (always, as packetpath writes
                // hex: a JSON string needs no escapes for it).
                std::borrow::Cow::Borrowed(digits) => text.slice_ref(digits.as_bytes()),
                std::borrow::Cow::Owned(digits) => Bytes::from(digits.clone().into_bytes()),
            };
            let valid = hex.len() % 2 == 0 && hex.iter().all(u8::is_ascii_hexdigit);
            valid.then_some(LazyEvent { hex, event })
        });
        match parsed {
            Some(lazy) => events.push(lazy),
            None => warnings.push(format!(
                "unreadable application event in a packet comment: {:?}",
                String::from_utf8_lossy(raw)
            )),
        }
    }
    (events, warnings)
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

    /// Whatever a damaged or hostile ledger holds, reading it lazily never panics, skips what is
    /// not an event with a warning, and agrees with reading it at once; hex written with JSON
    /// escapes (which packetpath never writes) is read too.
    #[test]
    fn a_damaged_ledger_is_read_without_panicking() {
        let lines: [&[u8]; 9] = [
            b"packetpath-app ",
            b"packetpath-app {",
            b"packetpath-app {\"client\":\"1.2.3.4:5\",\"server\":\"1.2.3.4:6\",\"side\":\"client\",\"dir\":\"write\",\"offset\":18446744073709551615,\"at\":0,\"hex\":\"abc\"}",
            b"packetpath-app {\"client\":\"1.2.3.4:5\",\"server\":\"1.2.3.4:6\",\"side\":\"client\",\"dir\":\"write\",\"offset\":0,\"at\":0,\"hex\":\"zz\"}",
            b"packetpath-app {\"client\":\"1.2.3.4:5\",\"server\":\"1.2.3.4:6\",\"side\":\"other\",\"dir\":\"write\",\"offset\":0,\"at\":0,\"hex\":\"00\"}",
            b"packetpath-app \xff\xfe",
            b"\x00\x00",
            b"packetpath-app {\"client\":\"1.2.3.4:5\",\"server\":\"1.2.3.4:6\",\"side\":\"server\",\"dir\":\"read\",\"offset\":18446744073709551615,\"at\":-5,\"hex\":\"\\u0030\\u0031ff\"}",
            b"packetpath-app {\"client\":\"1.2.3.4:5\",\"server\":\"1.2.3.4:6\",\"side\":\"client\",\"dir\":\"write\",\"offset\":1,\"at\":1,\"hex\":\"\"}",
        ];
        let block = Bytes::from(lines.join(&b"\n"[..]));
        let (lazy, warnings) = decode_lazy(&block);
        let (eager, eager_warnings) = decode(&block);
        assert_eq!(lazy.len(), 2, "{lazy:?}");
        assert_eq!(warnings.len(), eager_warnings.len(), "{warnings:?}");
        assert_eq!(warnings.len(), 6, "{warnings:?}");
        assert_eq!(lazy[0].bytes().as_deref(), Some(&[0x01, 0xff][..]));
        assert_eq!(lazy[0].byte_len(), 2);
        assert_eq!(
            lazy.iter()
                .map(|l| l.bytes().unwrap_or_default())
                .collect::<Vec<_>>(),
            eager.iter().map(|e| e.bytes.clone()).collect::<Vec<_>>()
        );
    }

    /// A ledger read lazily holds the same events as one decoded at once, each event's hex a slice
    /// of the block; a damaged line is warned about in both, and a block that is not UTF-8 is
    /// still read.
    #[test]
    fn lazy_events_are_the_decoded_ones() {
        let events: Vec<AppEvent> = (0..5u8)
            .map(|i| AppEvent {
                conn: ConnId {
                    client: "10.73.1.1:40000".parse().unwrap(),
                    server: "10.73.2.2:8443".parse().unwrap(),
                },
                side: if i % 2 == 0 {
                    Side::Client
                } else {
                    Side::Server
                },
                dir: if i % 2 == 0 {
                    Direction::Write
                } else {
                    Direction::Read
                },
                at: Timestamp(1_000 + i128::from(i)),
                offset: u64::from(i) * 100,
                bytes: Bytes::from(vec![i; usize::from(i) * 7]),
            })
            .collect();
        let mut text = encode(&events);
        text.extend_from_slice(b"packetpath-app {\"client\":\"10.73.1.1:1\"}\nnot ours\n");
        text.extend_from_slice(&[0, 0]);
        let block = Bytes::from(text);
        let (eager, eager_warnings) = decode(&block);
        let (lazy, lazy_warnings) = decode_lazy(&block);
        assert_eq!(eager, events);
        assert_eq!(eager_warnings.len(), 1);
        assert_eq!(lazy_warnings, eager_warnings);
        assert_eq!(lazy.len(), events.len());
        for (l, e) in lazy.iter().zip(&events) {
            assert!(l.event.bytes.is_empty(), "no bytes until asked");
            assert_eq!(l.byte_len(), e.bytes.len());
            assert_eq!(l.bytes().as_ref(), Some(&e.bytes));
            assert_eq!(
                AppEvent {
                    bytes: e.bytes.clone(),
                    ..l.event.clone()
                },
                *e
            );
            if !l.hex.is_empty() {
                let at = (l.hex.as_ptr() as usize).checked_sub(block.as_ptr() as usize);
                assert!(
                    at.is_some_and(|at| at + l.hex.len() <= block.len()),
                    "the hex is a slice of the block"
                );
            }
        }
        // A byte that is not UTF-8 in another line: read as `decode` reads it.
        let mut damaged = encode(&events);
        damaged.extend_from_slice(b"\xff\xfe\n");
        damaged.extend_from_slice(b"packetpath-app {\xff}\n");
        let (lazy, warnings) = decode_lazy(&Bytes::from(damaged));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(lazy.iter().all(|l| l.event.bytes.is_empty()));
        let decoded: Vec<Bytes> = lazy.iter().filter_map(LazyEvent::bytes).collect();
        assert_eq!(
            decoded,
            events.iter().map(|e| e.bytes.clone()).collect::<Vec<_>>()
        );
    }
}
