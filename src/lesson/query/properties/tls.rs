//! The properties of a TLS record and of a message (what the tables in
//! [`super::super::entities`] name).

use super::super::scope::Scope;
use super::super::value::{MessageRef, Value};
use super::{alert_text, hex_of, text};

/// Properties of TLS record `i`.
pub fn record(scope: &Scope<'_>, i: usize, name: &str) -> Value {
    let Some(r) = scope.trace.record(i) else {
        return Value::missing(format!("record {i} is not in the capture"));
    };
    let info = &r.info;
    if name == "real_type" {
        let tls13 = scope.trace.tls_session(r.stream).and_then(|s| s.version) == Some(0x0304);
        return match &info.decrypted {
            Some(p) if !scope.wire_only => Value::Num(p.content_type.number().into()),
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
    if scope.wire_only && info.encrypted && secret {
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
        "plaintext" => match scope.trace.plaintext(r) {
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
            for (frame, _) in scope
                .trace
                .stream_spans(r.stream, r.dir, r.stream_range.clone())
            {
                if !frames.contains(&frame) {
                    frames.push(frame);
                }
            }
            Value::List(frames.into_iter().map(Value::Packet).collect())
        }
        "hex" => match scope
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

/// Properties of a message.
pub fn message(scope: &Scope<'_>, m: &MessageRef, name: &str) -> Value {
    match name {
        "text" => return text(m.text.clone()),
        "from" => return text(m.dir.sender()),
        "client" => {
            return scope
                .client_of_stream(m.stream)
                .map_or_else(|| Value::missing("no client of this lesson"), text)
        }
        "app_bytes" => return Value::Num((m.range.end - m.range.start) as i64),
        "conn" => return Value::Conn(m.stream),
        _ => {}
    }
    let Some(j) = scope.journey_of(m) else {
        return Value::missing(format!(
            "the frames carrying \"{}\" were not captured (or could not be decrypted)",
            super::super::value::shorten(&m.text, 30)
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
