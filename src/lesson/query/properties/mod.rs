//! Reading properties: the value of a property named in [`super::entities`]'s tables, for one
//! packet ([`packet`]), TLS record or message ([`tls`]) or connection ([`connection`]). A
//! property reads the capture through a [`Scope`] and never evaluates a query; what cannot be
//! read is [`Value::Missing`] with the reason.

mod connection;
pub mod packet;
mod tls;

use crate::tls::{alert_name, cipher_suite_name, encode_hex, group_name, version_name};

use super::scope::Scope;
use super::value::Value;

pub use packet::{flags_text, packet};

/// Reads property `name` (a name from the entity's table) of `v`.
pub fn read(scope: &Scope<'_>, v: &Value, name: &str) -> Value {
    match v {
        Value::Packet(n) => match scope.trace.frame(*n) {
            Some(entry) => packet::packet(scope, entry, &entry.packet(), name),
            None => Value::missing(format!("frame #{n} is not in the capture")),
        },
        Value::Record(i) => tls::record(scope, *i, name),
        Value::Message(m) => tls::message(scope, m, name),
        Value::Conn(s) => connection::conn(scope, *s, name),
        other => Value::missing(format!("{other:?} has no property {name}")),
    }
}

/// A text value.
pub(super) fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// A number value.
pub(super) fn num(n: impl Into<i64>) -> Value {
    Value::Num(n.into())
}

/// A number, or missing with the reason.
pub(super) fn opt<T: Into<i64>>(v: Option<T>, why: &str) -> Value {
    v.map_or_else(|| Value::missing(why), |n| Value::Num(n.into()))
}

/// Bytes as lowercase hex.
pub(super) fn hex_of(bytes: &[u8]) -> String {
    encode_hex(bytes)
}

/// A cipher suite by its IANA name, or its number.
pub(super) fn suite_name(id: u16) -> String {
    cipher_suite_name(id).map_or_else(|| format!("0x{id:04x}"), str::to_string)
}

/// A TLS version by name ("TLS 1.3"), or its number.
pub(super) fn names_of_version(v: u16) -> String {
    match version_name(v) {
        "unknown" => format!("0x{v:04x}"),
        name => name.to_string(),
    }
}

/// A key-exchange group by name, or its number.
pub(super) fn names_of_group(g: u16) -> String {
    match group_name(g) {
        "unknown" => format!("0x{g:04x}"),
        name => name.to_string(),
    }
}

/// An alert description by name, or its number.
pub(super) fn alert_text(description: u8) -> String {
    match alert_name(description) {
        "unknown" => format!("unknown ({description})"),
        name => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::evaluation::Context;
    use super::super::typing::TypeEnv;
    use super::super::Query;
    use super::*;

    /// Evaluates queries on a saved capture in `captures/` (no clients named).
    fn on_capture(file: &str, check: impl FnOnce(&dyn Fn(&str) -> Value)) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(file);
        let (trace, damage) =
            crate::capture::open_capture(&path, None, &mut |_, _| {}).expect("the capture opens");
        assert!(damage.is_none(), "{file}");
        let state = crate::lesson::LessonState::default();
        let ctx = Context::new(&trace, &state);
        let env = TypeEnv {
            clients: vec![],
            item: None,
        };
        let eval = |q: &str| ctx.eval_query(&Query::parse(q, &env).expect(q));
        check(&eval);
    }

    fn nums(v: &[i64]) -> Value {
        Value::List(v.iter().map(|n| Value::Num(*n)).collect())
    }

    /// captures/ipv6-chat.pcapng: the chat over ::1. tshark reads frame 4 (the ClientHello) as
    /// ipv6.plen 260, ipv6.flow 0x0a725d, ipv6.nxt 6, and the client's other frames with the
    /// same flow label.
    #[test]
    fn ipv6_header_fields() {
        on_capture("ipv6-chat.pcapng", |eval| {
            assert_eq!(eval("nth(packets(), 4).ipv6.plen"), Value::Num(260));
            assert_eq!(
                eval("nth(packets(), 4).ip.len - nth(packets(), 4).ipv6.plen"),
                Value::Num(40)
            );
            assert_eq!(eval("nth(packets(), 4).ipv6.flow"), Value::Num(0x0a725d));
            assert_eq!(eval("nth(packets(), 4).ipv6.nxt"), Value::Num(6));
            assert_eq!(
                eval("distinct(where(packets(), .tcp.srcport == 40146).ipv6.flow)"),
                nums(&[0x0a725d])
            );
            assert_eq!(eval("nth(packets(), 2).ipv6.flow"), Value::Num(0x0a4f19));
        });
        on_capture("tls13-chat.pcapng", |eval| {
            let Value::Missing(why) = eval("first(packets()).ipv6.plen") else {
                panic!("an IPv4 packet has no IPv6 payload length")
            };
            assert!(why.contains("IPv4"), "{why}");
        });
    }

    /// captures/small-mss.pcapng: a client with MSS 536 writes a 3,000-byte line. The bytes in
    /// flight are tshark 4.0's tcp.analysis.bytes_in_flight for the same frames; the bytes each
    /// ACK acknowledges follow from tcp.ack (frame 20 acknowledges the line's six segments at
    /// once, frame 31 the client's last 24 bytes and its FIN).
    #[test]
    fn bytes_in_flight_and_acked_bytes() {
        on_capture("small-mss.pcapng", |eval| {
            assert_eq!(
                eval("where(packets(), .tcp.len > 0).tcp.analysis.bytes_in_flight"),
                nums(&[
                    228, 524, 761, 80, 184, 34, 50, 524, 1048, 1572, 2096, 2620, 3023, 524, 1048,
                    1572, 2096, 2620, 3042, 24, 24
                ])
            );
            assert!(matches!(
                eval("nth(packets(), 30).tcp.analysis.bytes_in_flight"),
                Value::Missing(_)
            ));
            assert_eq!(
                eval("packets().tcp.acked_bytes"),
                nums(&[
                    1, 1, 0, 228, 0, 0, 524, 237, 0, 80, 184, 34, 50, 0, 0, 0, 0, 0, 3023, 0, 0, 0,
                    0, 0, 0, 3042, 0, 24, 0, 25, 1
                ])
            );
            let Value::Missing(why) = eval("first(packets()).tcp.acked_bytes") else {
                panic!("a SYN acknowledges nothing")
            };
            assert!(why.contains("ACK flag"), "{why}");
            // Each side's ACKs add up to its last acknowledgement: every sequence number once.
            assert_eq!(
                eval("sum(where(packets(), .tcp.srcport == 32901).tcp.acked_bytes)"),
                Value::Num(3391)
            );
            assert_eq!(
                eval("sum(where(packets(), .tcp.srcport == 34618).tcp.acked_bytes)"),
                Value::Num(4063)
            );
        });
    }

    /// The records of captures/small-mss.pcapng as tshark 4.0 shows them: tls.handshake.type of
    /// each, and tcp.segment for those that span frames (the server's encrypted flight, frames 6
    /// and 7; the client's 3,000-byte line, frames 14 to 19).
    #[test]
    fn record_handshake_types_and_frames() {
        on_capture("small-mss.pcapng", |eval| {
            let records = "first(conns()).records";
            assert_eq!(
                eval(&format!("nth({records}, 1).handshake_types")),
                nums(&[1])
            );
            assert_eq!(
                eval(&format!("nth({records}, 2).handshake_types")),
                nums(&[2])
            );
            assert_eq!(
                eval(&format!("nth({records}, 3).handshake_types")),
                nums(&[]),
                "a ChangeCipherSpec record holds no handshake message"
            );
            assert_eq!(
                eval(&format!("nth({records}, 4).handshake_types")),
                nums(&[8, 11, 15, 20])
            );
            assert_eq!(
                eval(&format!("nth({records}, 4).frames.frame.number")),
                nums(&[6, 7])
            );
            assert_eq!(
                eval(&format!("nth({records}, 1).frames.frame.number")),
                nums(&[4])
            );
            assert_eq!(
                eval(&format!(
                    "first(where({records}, count(.frames) > 4)).frames.frame.number"
                )),
                nums(&[14, 15, 16, 17, 18, 19])
            );
            // An eavesdropper without the keys sees no handshake message inside it.
            assert_eq!(
                eval(&format!("without_keys(nth({records}, 4).handshake_types)")),
                nums(&[])
            );
        });
    }
}
