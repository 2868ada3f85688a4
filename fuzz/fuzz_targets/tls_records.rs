//! Fuzzes the TLS record layer and session state: the input is cut into chunks for two
//! interleaved TCP directions, each direction's bytes are framed into records with
//! `frame_record`, and complete records go to one `TlsConnection` that decrypts with a fixed key
//! log (see keylog.rs). The input is also parsed as key-log text, and opened directly as one
//! TLS 1.2 AES-CBC record body (so the CBC length, padding and MAC checks see every input).
//!
//! Input format, repeated until the input ends:
//!   control byte `c`: bit 7 = direction (0 client->server, 1 server->client),
//!                     bits 0-6 = chunk length n (0..=126); n = 127 means "the next two bytes hold
//!                     the length, big-endian" (for whole large records)
//!   n bytes of stream data (fewer if the input ends)
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use packetpath::tls::{
    cbc_suite_params, frame_record, ContentType, Direction, Framing, Keys, RecordHeader,
    RecordKey, TlsConnection, CBC_BLOCK_LEN,
};

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

/// Fixed CBC keys: (HMAC-SHA1 or HMAC-SHA384) x (MAC-then-encrypt or encrypt-then-MAC).
fn cbc_keys() -> &'static [(RecordKey, usize); 4] {
    static KEYS: OnceLock<[(RecordKey, usize); 4]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = |id: u16, etm: bool| {
            let suite = cbc_suite_params(id).expect("a CBC suite");
            let key = RecordKey::tls12_cbc(suite, &[0x77; 48], &[1; 32], &[2; 32], true, etm)
                .expect("CBC keys from a 48-byte master secret");
            (key, suite.mac.output_len())
        };
        [
            key(0xc013, false),
            key(0xc013, true),
            key(0xc028, false),
            key(0xc028, true),
        ]
    })
}

/// The input after its first byte as a CBC record body; the first byte picks the keys (bits
/// 0-1) and the sequence number (bits 2-7). Whatever opens holds less than the body minus the
/// IV, the MAC and the padding_length byte.
fn open_as_cbc(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (key, mac_len) = &cbc_keys()[usize::from(pick & 3)];
    let header = RecordHeader {
        content_type: ContentType::ApplicationData,
        version: 0x0303,
        length: u16::try_from(body.len()).unwrap_or(u16::MAX),
    };
    match key.open(u64::from(pick >> 2), &header, body, "fuzz") {
        Ok(plain) => assert!(
            plain.len() + CBC_BLOCK_LEN + mac_len + 1 <= body.len(),
            "{} bytes opened from a {}-byte body",
            plain.len(),
            body.len()
        ),
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
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

    // 2. The input as one CBC record body.
    open_as_cbc(data);

    // 3. The input as two interleaved TLS streams.
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
