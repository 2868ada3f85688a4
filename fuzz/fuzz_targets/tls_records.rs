//! Fuzzes the TLS record layer and session state: the input is cut into chunks for two
//! interleaved TCP directions, each direction's bytes are framed into records with
//! `frame_record`, and complete records go to one `TlsConnection` that decrypts with a fixed key
//! log (see keylog.rs). The input is also parsed as key-log text.
//!
//! Input format, repeated until the input ends:
//!   control byte `c`: bit 7 = direction (0 client->server, 1 server->client),
//!                     bits 0-6 = chunk length n (0..=126); n = 127 means "the next two bytes hold
//!                     the length, big-endian" (for whole large records)
//!   n bytes of stream data (fewer if the input ends)
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use packetpath::tls::{frame_record, Direction, Framing, Keys, TlsConnection};

#[path = "keylog.rs"]
mod keylog;

fn fixed_keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (keys, _warnings) = Keys::parse_nss(keylog::KEYLOG);
        assert!(keys.len() >= 11, "the fixed key log parses");
        keys
    })
}

/// One direction's reassembled stream, as packetpath's journey keeps it.
#[derive(Default)]
struct Stream {
    pending: Vec<u8>,
    lost_framing: bool,
}

fn feed(conn: &mut TlsConnection, dir: Direction, stream: &mut Stream, chunk: &[u8], keys: &Keys) {
    if stream.lost_framing {
        return;
    }
    stream.pending.extend_from_slice(chunk);
    let mut consumed = 0usize;
    loop {
        let rest = &stream.pending[consumed..];
        match frame_record(rest) {
            Framing::Complete(header) => {
                let len = header.record_len();
                assert!(
                    len <= rest.len(),
                    "Complete record of {len} bytes in {} bytes",
                    rest.len()
                );
                let record = &rest[..len];
                let info = conn.on_record(dir, record, keys);
                assert_eq!(info.header, header, "on_record reads the same header");
                // The trace keeps no plaintext: a decrypted record must open again, to the same
                // length, and nothing else may claim to.
                match (conn.reopen(dir, &info, record), info.decrypted) {
                    (Some(Ok(plain)), Some(p)) => assert_eq!(plain.len(), p.len),
                    (None, None) => {}
                    (other, p) => panic!("reopen gave {other:?} for a record decrypted as {p:?}"),
                }
                if let Some(epoch) = info.epoch {
                    std::hint::black_box(epoch.describe());
                }
                std::hint::black_box(&info);
                consumed += len;
            }
            Framing::NeedMore { needed } => {
                assert!(needed >= 1, "NeedMore asks for at least one byte");
                break;
            }
            Framing::Malformed(e) => {
                std::hint::black_box(e.to_string());
                stream.lost_framing = true;
                break;
            }
        }
    }
    stream.pending.drain(..consumed);
}

fuzz_target!(|data: &[u8]| {
    // 1. The input as key-log text; what parses must survive a round trip through to_nss.
    let text = String::from_utf8_lossy(data);
    let (parsed, _warnings) = Keys::parse_nss(&text);
    let written = parsed.to_nss();
    let (reparsed, rewarnings) = Keys::parse_nss(&written);
    assert!(
        reparsed == parsed,
        "parse_nss(to_nss(keys)) differs: wrote {written:?}, warnings {rewarnings:?}"
    );
    assert_eq!(reparsed.len(), parsed.len());

    // 2. The input as two interleaved TLS streams.
    let keys = fixed_keys();
    let mut conn = TlsConnection::new();
    let mut client = Stream::default();
    let mut server = Stream::default();
    let mut rest = data;
    while let Some((&control, tail)) = rest.split_first() {
        rest = tail;
        let dir = if control & 0x80 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let mut n = usize::from(control & 0x7f);
        if n == 0x7f {
            let [hi, lo, tail @ ..] = rest else {
                break;
            };
            n = usize::from(u16::from_be_bytes([*hi, *lo]));
            rest = tail;
        }
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        let stream = match dir {
            Direction::ClientToServer => &mut client,
            Direction::ServerToClient => &mut server,
        };
        feed(&mut conn, dir, stream, chunk, keys);
        std::hint::black_box(conn.sending_epoch(dir));
    }
    std::hint::black_box(conn.summary());
});
