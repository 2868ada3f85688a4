//! Reading the properties of TLS records, messages and connections (the tables are in
//! `props.rs`).

use bytes::Bytes;

use crate::chat::{AppEvent, Direction as AppDir};
use crate::flow::Direction;
use crate::journey::{Journey, Trace};
use crate::tls::{ContentType, HandshakeType};

use super::props::{alert_text, frames_in, hex_of, names_of_group, names_of_version, suite_name};
use super::query::Context;
use super::value::{MessageRef, Value};

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// Properties of TLS record `i`.
pub fn record(ctx: &Context<'_>, i: usize, name: &str) -> Value {
    let Some(r) = ctx.trace.records().get(i) else {
        return Value::missing(format!("record {i} is not in the capture"));
    };
    let info = &r.info;
    if name == "real_type" {
        let tls13 = ctx.trace.tls_session(r.stream).and_then(|s| s.version) == Some(0x0304);
        return match &info.decrypted {
            Some(p) if !ctx.wire_only => Value::Num(p.content_type.number().into()),
            // The header's 23 of an encrypted TLS 1.3 record is a decoy: its real type is inside.
            _ if info.encrypted && tls13 => Value::missing(
                "a TLS 1.3 record's real type is inside the encryption (RFC 8446 §5.2)",
            ),
            _ => Value::Num(info.header.content_type.number().into()),
        };
    }
    let secret = matches!(
        name,
        "handshake"
            | "handshake_types"
            | "decrypted"
            | "inner_type"
            | "plaintext"
            | "plaintext_len"
            | "alert"
    );
    if ctx.wire_only && info.encrypted && secret {
        return Value::missing(
            "the record is encrypted: only the endpoints, who hold the keys, can read that",
        );
    }
    match name {
        "content_type" => Value::Num(info.header.content_type.number().into()),
        "type" => text(info.header.content_type.to_string()),
        "version" => text(format!("0x{:04x}", info.header.version)),
        "length" => Value::Num(info.header.length.into()),
        "handshake" => text(
            info.handshake
                .iter()
                .map(|h| h.name())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        "handshake_types" => Value::List(
            info.handshake
                .iter()
                .map(|h| Value::Num(h.number().into()))
                .collect(),
        ),
        "encrypted" => Value::Bool(info.encrypted),
        "decrypted" => Value::Bool(info.decrypted.is_some()),
        "inner_type" => match &info.decrypted {
            Some(p) => text(p.content_type.to_string()),
            None if !info.encrypted => text(info.header.content_type.to_string()),
            None => Value::missing("the record could not be decrypted (no keys)"),
        },
        "plaintext" => match ctx.trace.plaintext(r) {
            Some(data) => text(String::from_utf8_lossy(&data)),
            None => Value::missing("the record was not decrypted"),
        },
        "plaintext_len" => match &info.decrypted {
            Some(p) => Value::Num(p.len as i64),
            None => Value::missing("the record was not decrypted"),
        },
        "alert" => match info.alert {
            Some((_, description)) => text(alert_text(description)),
            None => Value::missing("this record is not a readable alert"),
        },
        "from" => text(r.dir.sender()),
        "frame" => Value::Packet(r.frame),
        "frames" => {
            let mut frames: Vec<u32> = Vec::new();
            for (frame, _) in ctx
                .trace
                .stream_spans(r.stream, r.dir, r.stream_range.clone())
            {
                if !frames.contains(&frame) {
                    frames.push(frame);
                }
            }
            Value::List(frames.into_iter().map(Value::Packet).collect())
        }
        "hex" => match ctx
            .trace
            .stream_bytes(r.stream, r.dir, r.stream_range.clone())
        {
            Some(bytes) => text(hex_of(&bytes)),
            None => Value::missing("some of the record's bytes were not captured"),
        },
        "stream" => Value::Num(r.stream as i64),
        _ => Value::missing(format!("no property {name}")),
    }
}

/// The path of a message through the stack, if its frames were captured.
pub fn journey_of(trace: &Trace, m: &MessageRef) -> Option<Journey> {
    let event = AppEvent {
        conn: m.conn,
        side: m.side,
        dir: AppDir::Write,
        at: crate::frame::Timestamp::default(),
        offset: m.range.start,
        bytes: Bytes::from(vec![
            0u8;
            usize::try_from(m.range.end - m.range.start).ok()?
        ]),
    };
    trace.journey(&event)
}

/// Properties of a message.
pub fn message(ctx: &Context<'_>, m: &MessageRef, name: &str) -> Value {
    match name {
        "text" => return text(m.text.clone()),
        "from" => return text(m.dir.sender()),
        "client" => {
            return ctx
                .client_of_stream(m.stream)
                .map_or_else(|| Value::missing("no client of this lesson"), text)
        }
        "app_bytes" => return Value::Num((m.range.end - m.range.start) as i64),
        "conn" => return Value::Conn(m.stream),
        _ => {}
    }
    let Some(j) = journey_of(ctx.trace, m) else {
        return Value::missing(format!(
            "the frames carrying \"{}\" were not captured (or could not be decrypted)",
            super::value::shorten(&m.text, 30)
        ));
    };
    let n = |x: u64| Value::Num(i64::try_from(x).unwrap_or(i64::MAX));
    match name {
        "tls_bytes" => n(j.bytes.tls),
        "tcp_bytes" => n(j.bytes.tcp),
        "ip_bytes" => n(j.bytes.ip),
        "link_bytes" => n(j.bytes.link),
        "frames" => Value::List(j.frames.iter().map(|f| Value::Packet(*f)).collect()),
        "records" => Value::List(j.records.iter().map(|r| Value::Record(*r)).collect()),
        _ => Value::missing(format!("no property {name}")),
    }
}

/// Properties of connection `stream`.
pub fn conn(ctx: &Context<'_>, stream: usize, name: &str) -> Value {
    let Some(c) = ctx.trace.tcp().connection(stream) else {
        return Value::missing(format!("connection {stream} is not in the capture"));
    };
    match name {
        "stream" => return Value::Num(stream as i64),
        "client" => {
            return ctx
                .client_of_stream(stream)
                .map_or_else(|| Value::missing("no client of this lesson"), text)
        }
        "client_ip" => return text(c.client.ip().to_string()),
        "client_port" => return Value::Num(c.client.port().into()),
        "server_ip" => return text(c.server.ip().to_string()),
        "server_port" => return Value::Num(c.server.port().into()),
        "four_tuple" => return text(format!("{} → {}", c.client, c.server)),
        "packets" => {
            return Value::List(
                frames_in(ctx, stream, None)
                    .map(|f| Value::Packet(f.number))
                    .collect(),
            )
        }
        "records" => {
            return Value::List(
                ctx.trace
                    .records()
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.stream == stream)
                    .map(|(i, _)| Value::Record(i))
                    .collect(),
            )
        }
        "bytes_from_client" => return Value::Num(c.delivered_len(Direction::ClientToServer) as i64),
        "bytes_from_server" => return Value::Num(c.delivered_len(Direction::ServerToClient) as i64),
        _ => {}
    }
    let Some(s) = ctx.trace.tls_session(stream) else {
        return Value::missing(format!("connection {stream} carries no TLS"));
    };
    let list = |items: Vec<String>| Value::List(items.into_iter().map(Value::Text).collect());
    let need = |v: Option<String>, what: &str| {
        v.map_or_else(
            || Value::missing(format!("no {what} was captured")),
            Value::Text,
        )
    };
    match name {
        "tls.version" => need(s.version.map(names_of_version), "ServerHello"),
        "tls.cipher_suite" => need(s.cipher_suite.map(suite_name), "ServerHello"),
        "tls.client_random" => need(s.client_random.map(|r| hex_of(&r)), "ClientHello"),
        "tls.server_random" => need(s.server_random.map(|r| hex_of(&r)), "ServerHello"),
        "tls.offered_suites" => list(s.offered_suites.iter().map(|&id| suite_name(id)).collect()),
        "tls.offered_versions" => list(
            s.offered_versions
                .iter()
                .map(|&v| names_of_version(v))
                .collect(),
        ),
        "tls.offered_groups" => list(
            s.offered_key_share_groups
                .iter()
                .map(|&g| names_of_group(g))
                .collect(),
        ),
        "tls.key_share" => need(s.key_share_group.map(names_of_group), "key exchange"),
        "tls.sni" => need(s.sni.clone(), "server name (SNI)"),
        "tls.round_trips" => round_trips(ctx.trace, stream),
        "tls.encrypted_records" => Value::Num(s.encrypted_records as i64),
        "tls.decrypted_records" => Value::Num(s.decrypted_records as i64),
        _ => Value::missing(format!("no property {name}")),
    }
}

/// How many server flights the client waited for before its first application data: the
/// records of the connection in the order they completed, cut into runs of one direction; runs
/// from the server that carry handshake messages (a NewSessionTicket alone does not count: it
/// comes after the handshake) are counted until the client's first application data record.
/// TLS 1.3 needs one (RFC 8446 §2), a full TLS 1.2 handshake two (RFC 5246 §7.3).
fn round_trips(trace: &Trace, stream: usize) -> Value {
    let mut count = 0i64;
    let mut previous: Option<Direction> = None;
    let mut counted_this_run = false;
    for r in trace.records().iter().filter(|r| r.stream == stream) {
        if r.dir != previous.unwrap_or(r.dir.reverse()) {
            counted_this_run = false;
        }
        previous = Some(r.dir);
        match r.dir {
            Direction::ClientToServer => {
                let app = r
                    .info
                    .decrypted
                    .as_ref()
                    .is_some_and(|p| p.content_type == ContentType::ApplicationData);
                if app {
                    return Value::Num(count);
                }
            }
            Direction::ServerToClient => {
                // In clear (TLS 1.2's hellos, any ChangeCipherSpec) or decrypted handshake
                // messages other than a ticket.
                let handshake = matches!(
                    r.info.header.content_type,
                    ContentType::Handshake | ContentType::ChangeCipherSpec
                ) || r
                    .info
                    .handshake
                    .iter()
                    .any(|h| *h != HandshakeType::NewSessionTicket);
                if handshake && !counted_this_run {
                    count += 1;
                    counted_this_run = true;
                }
            }
        }
    }
    Value::missing("the client sent no application data that could be decrypted")
}
