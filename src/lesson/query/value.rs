//! What a query yields: a number, a piece of text, yes/no, a captured frame, a TLS record, an
//! application message, a TCP connection, a list of these — or the reason nothing could be
//! measured. [`Value::describe`] puts any of them in words for the student.

use std::ops::Range;

use crate::chat::{ConnId, Side};
use crate::flow::Direction;
use crate::journey::Trace;

/// The type of a query, checked when a lesson is loaded so that a misspelt property is reported
/// with its file and line instead of failing in class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A whole number.
    Num,
    /// A piece of text.
    Text,
    /// Yes or no.
    Bool,
    /// A captured frame (one packet on the wire).
    Packet,
    /// A TLS record.
    Record,
    /// A line of the chat and the path its bytes took.
    Message,
    /// A TCP connection.
    Conn,
    /// A list of values of one type.
    List(Box<Ty>),
    /// Not known until the lesson runs (e.g. the elements of an empty list).
    Any,
}

impl Ty {
    /// The type in a teacher's words, for error messages.
    pub fn name(&self) -> String {
        match self {
            Ty::Num => "a number".into(),
            Ty::Text => "a text".into(),
            Ty::Bool => "yes/no (a boolean)".into(),
            Ty::Packet => "a packet".into(),
            Ty::Record => "a TLS record".into(),
            Ty::Message => "a message".into(),
            Ty::Conn => "a connection".into(),
            Ty::List(inner) => format!("a list of {}", inner.plural()),
            Ty::Any => "a value".into(),
        }
    }

    fn plural(&self) -> String {
        match self {
            Ty::Num => "numbers".into(),
            Ty::Text => "texts".into(),
            Ty::Bool => "booleans".into(),
            Ty::Packet => "packets".into(),
            Ty::Record => "TLS records".into(),
            Ty::Message => "messages".into(),
            Ty::Conn => "connections".into(),
            Ty::List(inner) => format!("lists of {}", inner.plural()),
            Ty::Any => "values".into(),
        }
    }

    /// True if a value of type `self` may stand where `want` is expected.
    pub fn fits(&self, want: &Ty) -> bool {
        match (self, want) {
            (Ty::Any, _) | (_, Ty::Any) => true,
            (Ty::List(a), Ty::List(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }
}

/// An application message: one line of the chat in one direction of one connection, located in
/// that direction's plaintext byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// The connection.
    pub conn: ConnId,
    /// The end that wrote it.
    pub side: Side,
    /// The TCP connection's number in the capture.
    pub stream: usize,
    /// Which way it travels.
    pub dir: Direction,
    /// Where its bytes (newline included) lie in the plaintext stream.
    pub range: Range<u64>,
    /// The line, without its newline.
    pub text: String,
}

/// A value computed from the capture.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A whole number.
    Num(i64),
    /// A number with a fraction, e.g. milliseconds from [`ms`](super::functions) (`40.213`). It
    /// has the type of every number ([`Ty::Num`]); it is shown with at most three decimals.
    Dec(f64),
    /// A piece of text.
    Text(String),
    /// Yes or no.
    Bool(bool),
    /// A list.
    List(Vec<Value>),
    /// A captured frame, by number (from 1).
    Packet(u32),
    /// A TLS record, by index in the trace.
    Record(usize),
    /// An application message.
    Message(Box<MessageRef>),
    /// A TCP connection, by stream number.
    Conn(usize),
    /// Nothing could be measured, and why (e.g. "no SYN from bob was captured").
    Missing(String),
}

impl Value {
    /// A missing value with its reason.
    pub fn missing(why: impl Into<String>) -> Value {
        Value::Missing(why.into())
    }

    /// The value in words, e.g. `frame #3 (TCP 50412 → 8443 [SYN], 74 bytes)`.
    pub fn describe(&self, trace: &Trace) -> String {
        match self {
            Value::Num(n) => n.to_string(),
            Value::Dec(x) => decimal(*x),
            Value::Text(t) => format!("\"{}\"", shorten(t, 80)),
            Value::Bool(b) => b.to_string(),
            Value::List(items) => {
                let shown: Vec<String> = items.iter().take(12).map(|v| v.describe(trace)).collect();
                if items.len() > 12 {
                    format!("[{}, … ({} in all)]", shown.join(", "), items.len())
                } else {
                    format!("[{}]", shown.join(", "))
                }
            }
            Value::Packet(n) => describe_packet(trace, *n),
            Value::Record(i) => match trace.record(*i) {
                Some(r) => {
                    let handshake: Vec<&str> = r.info.handshake.iter().map(|h| h.name()).collect();
                    let inside = if handshake.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", handshake.join(", "))
                    };
                    format!(
                        "{} record{inside} from the {}, {} bytes, frame #{}",
                        r.info.header.content_type,
                        r.dir.sender(),
                        r.info.header.length,
                        r.frame
                    )
                }
                None => format!("record {i} (not in the capture)"),
            },
            Value::Message(m) => format!(
                "the line \"{}\" ({} bytes from the {})",
                shorten(&m.text, 40),
                m.range.end - m.range.start,
                match m.side {
                    Side::Client => "client",
                    Side::Server => "server",
                }
            ),
            Value::Conn(s) => match trace.tcp().connection(*s) {
                Some(c) => format!("connection {} → {} (stream {s})", c.client, c.server),
                None => format!("stream {s}"),
            },
            Value::Missing(why) => format!("nothing ({why})"),
        }
    }

    /// The value as a number, whole or not: `None` for anything else.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n as f64),
            Value::Dec(x) => Some(*x),
            _ => None,
        }
    }

    /// The value as plain text, for comparing with what a teacher or student wrote.
    pub fn plain(&self, trace: &Trace) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Packet(n) => n.to_string(),
            Value::List(items) => items
                .iter()
                .map(|v| v.plain(trace))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.describe(trace),
        }
    }
}

/// A number with at most three decimals and no trailing zeros: 40.2134 → "40.213", 40.5 → "40.5",
/// 40.0 → "40".
pub fn decimal(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// One line describing a frame: number, protocol summary and length.
pub fn describe_packet(trace: &Trace, n: u32) -> String {
    let Some(entry) = trace.frame(n) else {
        return format!("frame #{n} (not in the capture)");
    };
    let p = &entry.packet();
    let what = if let (Some(_), Some(tcp)) = (&p.ip, &p.tcp) {
        let data = if p.payload.is_empty() {
            String::new()
        } else {
            format!(", {} data bytes", p.payload.len())
        };
        format!(
            "TCP {} → {} {}{data}",
            tcp.src_port, tcp.dst_port, tcp.flags
        )
    } else if let Some(arp) = &p.arp {
        let op = if arp.op == 1 { "request" } else { "reply" };
        format!("ARP {op} {} → {}", arp.sender_ip, arp.target_ip)
    } else {
        "not TCP".into()
    };
    format!("frame #{n} ({what}, {} bytes)", entry.frame.data.len())
}

/// Cuts `text` to `max` characters, marking the cut with "…"; newlines are shown as `\n`.
pub fn shorten(text: &str, max: usize) -> String {
    let flat = text.replace('\n', "\\n");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_words() {
        let t = Trace::new();
        assert_eq!(Value::Num(536).describe(&t), "536");
        assert_eq!(Value::Text("SYN, ACK".into()).describe(&t), "\"SYN, ACK\"");
        assert_eq!(
            Value::List(vec![Value::Num(1), Value::Num(2)]).describe(&t),
            "[1, 2]"
        );
        assert_eq!(
            Value::missing("no SYN from bob").describe(&t),
            "nothing (no SYN from bob)"
        );
        assert_eq!(
            Value::Packet(4).describe(&t),
            "frame #4 (not in the capture)"
        );
        assert_eq!(shorten("abcdef\n", 4), "abcd…");
        assert_eq!(Value::Dec(40.2134).describe(&t), "40.213");
        assert_eq!(Value::Dec(40.5).describe(&t), "40.5");
        assert_eq!(Value::Dec(40.0).describe(&t), "40");
        assert_eq!(Value::Dec(-0.0001).describe(&t), "0");
        let many = Value::List((0..20).map(Value::Num).collect());
        assert!(many.describe(&t).ends_with("… (20 in all)]"));
    }

    #[test]
    fn types_fit() {
        assert!(Ty::List(Box::new(Ty::Packet)).fits(&Ty::List(Box::new(Ty::Any))));
        assert!(!Ty::Num.fits(&Ty::Text));
        assert_eq!(
            Ty::List(Box::new(Ty::Record)).name(),
            "a list of TLS records"
        );
    }
}
