//! What the query functions compute: selectors that find the packets, records, messages and
//! connections of a named client, and list helpers (`count`, `where`, `max`, …). Their names and
//! documentation are in [`super::super::functions`], their type rules in
//! [`super::super::typing`].

use std::ops::Range;

use crate::chat::{ConnId, Side};
use crate::dissect::TcpFlags;
use crate::flow::Direction;

use super::super::expr::Expr;
use super::super::value::{MessageRef, Value};
use super::Context;

fn side_dir(v: &Value) -> Option<Direction> {
    match v {
        Value::Text(s) if s == "client" => Some(Direction::ClientToServer),
        Value::Text(s) if s == "server" => Some(Direction::ServerToClient),
        _ => None,
    }
}

/// Evaluates a call (arguments are evaluated here, as each function needs them).
pub fn call(ctx: &Context<'_>, name: &str, args: &[Expr]) -> Value {
    // Functions whose arguments are not all evaluated up front.
    match name {
        "where" => {
            let (Some(list), Some(cond)) = (args.first(), args.get(1)) else {
                return Value::missing("where(…) needs a list and a condition");
            };
            return match ctx.eval(list) {
                Value::List(items) => Value::List(
                    items
                        .into_iter()
                        .filter(|item| ctx.with_item(item).eval(cond) == Value::Bool(true))
                        .collect(),
                ),
                other => other,
            };
        }
        "without_keys" => {
            return match args.first() {
                Some(inner) => ctx.without_keys().eval(inner),
                None => Value::missing("without_keys(…) needs a query"),
            }
        }
        _ => {}
    }
    let vals: Vec<Value> = args.iter().map(|a| ctx.eval(a)).collect();
    if let Some(m) = vals.iter().find(|v| matches!(v, Value::Missing(_))) {
        return m.clone();
    }
    let arg = |i: usize| {
        vals.get(i)
            .cloned()
            .unwrap_or(Value::missing("missing argument"))
    };
    let client = |i: usize| match vals.get(i) {
        Some(Value::Text(c)) => Ok(c.clone()),
        _ => Err(Value::missing("a client name is needed")),
    };
    let stream = |i: usize| -> Result<(usize, String), Value> {
        let c = client(i)?;
        ctx.stream_of(&c).map(|s| (s, c)).map_err(Value::Missing)
    };
    let result = (|| -> Result<Value, Value> {
        Ok(match name {
            "packets" => match vals.first() {
                None => Value::List(
                    ctx.trace
                        .frames()
                        .iter()
                        .map(|f| Value::Packet(f.number))
                        .collect(),
                ),
                Some(_) => {
                    let (s, _) = stream(0)?;
                    Value::List(
                        ctx.frames_in(s, None)
                            .map(|f| Value::Packet(f.number))
                            .collect(),
                    )
                }
            },
            "syn" | "synack" => {
                let (s, c) = stream(0)?;
                let want_ack = name == "synack";
                ctx.frames_in(s, None)
                    .find(|f| {
                        f.packet().tcp.as_ref().is_some_and(|t| {
                            t.flags.contains(TcpFlags::SYN)
                                && t.flags.contains(TcpFlags::ACK) == want_ack
                        })
                    })
                    .map_or_else(
                        || {
                            Value::missing(format!(
                                "no {} of {c}'s connection was captured",
                                if want_ack { "SYN-ACK" } else { "SYN" }
                            ))
                        },
                        |f| Value::Packet(f.number),
                    )
            }
            "handshake_ack" => {
                let (s, c) = stream(0)?;
                let synack = ctx
                    .frames_in(s, Some(Direction::ServerToClient))
                    .find(|f| {
                        f.packet()
                            .tcp
                            .as_ref()
                            .is_some_and(|t| t.flags.contains(TcpFlags::SYN))
                    })
                    .map(|f| f.number)
                    .ok_or_else(|| {
                        Value::missing(format!("no SYN-ACK of {c}'s connection was captured"))
                    })?;
                ctx.frames_in(s, Some(Direction::ClientToServer))
                    .find(|f| {
                        f.number > synack
                            && f.packet().tcp.as_ref().is_some_and(|t| {
                                t.flags.contains(TcpFlags::ACK) && !t.flags.contains(TcpFlags::SYN)
                            })
                    })
                    .map_or_else(
                        || {
                            Value::missing(format!(
                                "no ACK from {c} after the SYN-ACK was captured"
                            ))
                        },
                        |f| Value::Packet(f.number),
                    )
            }
            "fin" | "segments" => {
                let (s, c) = stream(0)?;
                let dir = side_dir(&arg(1))
                    .ok_or_else(|| Value::missing("the side must be client or server"))?;
                if name == "fin" {
                    ctx.frames_in(s, Some(dir))
                        .find(|f| {
                            f.packet()
                                .tcp
                                .as_ref()
                                .is_some_and(|t| t.flags.contains(TcpFlags::FIN))
                        })
                        .map_or_else(
                            || {
                                Value::missing(format!(
                                    "no FIN from the {} of {c}'s connection was captured",
                                    dir.sender()
                                ))
                            },
                            |f| Value::Packet(f.number),
                        )
                } else {
                    Value::List(
                        ctx.frames_in(s, Some(dir))
                            .filter(|f| f.segment.as_ref().is_some_and(|g| g.payload_len > 0))
                            .map(|f| Value::Packet(f.number))
                            .collect(),
                    )
                }
            }
            "conn" => Value::Conn(stream(0)?.0),
            "conns" => Value::List(
                ctx.trace
                    .tcp()
                    .connections()
                    .iter()
                    .map(|c| Value::Conn(c.index))
                    .collect(),
            ),
            "message" | "relay" => {
                let (s, c) = stream(0)?;
                let conn = *ctx.state.clients.get(&c).ok_or_else(|| {
                    Value::missing(format!(
                        "{c} never connected, so it sent and received nothing"
                    ))
                })?;
                let side = if name == "message" {
                    Side::Client
                } else {
                    Side::Server
                };
                find_line(ctx, conn, side, s, &arg(1), &c)?
            }
            "messages" => {
                let (s, c) = stream(0)?;
                let conn = *ctx.state.clients.get(&c).ok_or_else(|| {
                    Value::missing(format!("{c} never connected, so it sent nothing"))
                })?;
                Value::List(
                    lines_written(ctx, conn, Side::Client)
                        .into_iter()
                        .filter(|(_, t)| !t.starts_with("/name "))
                        .map(|(range, text)| {
                            Value::Message(Box::new(MessageRef {
                                conn,
                                side: Side::Client,
                                stream: s,
                                dir: Direction::ClientToServer,
                                range,
                                text,
                            }))
                        })
                        .collect(),
                )
            }
            "records" => {
                let (s, _) = stream(0)?;
                let dir = vals.get(1).and_then(side_dir);
                Value::List(
                    ctx.trace
                        .records()
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.stream == s && dir.is_none_or(|d| r.dir == d))
                        .map(|(i, _)| Value::Record(ctx.trace.records_forgotten() + i))
                        .collect(),
                )
            }
            "record" => {
                let (s, c) = stream(0)?;
                let wanted = match arg(1) {
                    Value::Text(t) => t.to_lowercase(),
                    _ => String::new(),
                };
                ctx.trace
                    .records()
                    .iter()
                    .enumerate()
                    .find(|(_, r)| {
                        r.stream == s
                            && (r
                                .info
                                .handshake
                                .iter()
                                .any(|h| h.name().to_lowercase() == wanted)
                                || r.info.header.content_type.name() == wanted
                                || r.info
                                    .decrypted
                                    .as_ref()
                                    .is_some_and(|p| p.content_type.name() == wanted))
                    })
                    .map_or_else(
                        || {
                            Value::missing(format!(
                                "no {wanted} record on {c}'s connection was captured"
                            ))
                        },
                        |(i, _)| Value::Record(ctx.trace.records_forgotten() + i),
                    )
            }
            "arp" => Value::List(
                ctx.trace
                    .frames()
                    .iter()
                    .filter(|f| f.packet().arp.is_some())
                    .map(|f| Value::Packet(f.number))
                    .collect(),
            ),
            "received" => {
                let c = client(0)?;
                Value::List(
                    ctx.state
                        .received
                        .get(&c)
                        .map(|lines| lines.iter().cloned().map(Value::Text).collect())
                        .unwrap_or_default(),
                )
            }
            "refused" => {
                let c = client(0)?;
                if ctx.state.refused.contains_key(&c) {
                    Value::Bool(true)
                } else if ctx.state.clients.contains_key(&c) {
                    Value::Bool(false)
                } else {
                    Value::missing(format!("{c} has not tried to connect yet"))
                }
            }
            "error" => {
                let c = client(0)?;
                ctx.state.refused.get(&c).map_or_else(
                    || Value::missing(format!("{c} reported no error")),
                    |r| Value::Text(r.error.clone()),
                )
            }
            "keylog" => Value::Text(ctx.trace.keys().to_nss()),
            "server_read" => Value::List(
                crate::journey::lines_read(ctx.trace, crate::chat::Side::Server)
                    .into_iter()
                    .filter(|l| !l.starts_with("/name "))
                    .map(Value::Text)
                    .collect(),
            ),
            "lines" => match arg(0) {
                Value::Text(t) => Value::List(
                    t.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| Value::Text(l.to_string()))
                        .collect(),
                ),
                other => other,
            },
            _ => list_function(ctx, name, &vals)?,
        })
    })();
    result.unwrap_or_else(|missing| missing)
}

fn list_function(ctx: &Context<'_>, name: &str, vals: &[Value]) -> Result<Value, Value> {
    let items = || match vals.first() {
        Some(Value::List(items)) => Ok(items.clone()),
        Some(other) => Err(Value::missing(format!(
            "{name}(…) needs a list, got {}",
            other.describe(ctx.trace)
        ))),
        None => Err(Value::missing("missing argument")),
    };
    // The numbers of the list (whole or not); other elements are passed over.
    let nums = || -> Result<Vec<Value>, Value> {
        Ok(items()?
            .into_iter()
            .filter(|v| v.as_f64().is_some())
            .collect())
    };
    let by_value = |a: &Value, b: &Value| {
        let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
        x.total_cmp(&y)
    };
    let empty = || Value::missing(format!("{name}(…) of an empty list"));
    Ok(match name {
        "count" => Value::Num(items()?.len() as i64),
        "first" => items()?.into_iter().next().ok_or_else(empty)?,
        "last" => items()?.into_iter().last().ok_or_else(empty)?,
        "nth" => {
            let n = match vals.get(1) {
                Some(Value::Num(n)) => *n,
                _ => 0,
            };
            let list = items()?;
            let index = usize::try_from(n).ok().and_then(|n| n.checked_sub(1));
            index
                .and_then(|i| list.get(i).cloned())
                .ok_or_else(|| Value::missing(format!("nth(…, {n}) of a list of {}", list.len())))?
        }
        "max" => nums()?.into_iter().max_by(by_value).ok_or_else(empty)?,
        "min" => nums()?.into_iter().min_by(by_value).ok_or_else(empty)?,
        "sum" => {
            let list = nums()?;
            if list.iter().all(|v| matches!(v, Value::Num(_))) {
                Value::Num(
                    list.iter()
                        .filter_map(|v| match v {
                            Value::Num(n) => Some(*n),
                            _ => None,
                        })
                        .fold(0i64, i64::saturating_add),
                )
            } else {
                Value::Dec(list.iter().filter_map(Value::as_f64).sum())
            }
        }
        "distinct" => {
            let mut out: Vec<Value> = Vec::new();
            for v in items()? {
                if !out.iter().any(|o| ctx.same(o, &v)) {
                    out.push(v);
                }
            }
            Value::List(out)
        }
        "all" => Value::Bool(items()?.iter().all(|v| *v == Value::Bool(true))),
        "any" => Value::Bool(items()?.contains(&Value::Bool(true))),
        "contains" => match (vals.first(), vals.get(1)) {
            (Some(Value::List(list)), Some(v)) => Value::Bool(list.iter().any(|x| ctx.same(x, v))),
            (Some(Value::Text(t)), Some(Value::Text(part))) => {
                Value::Bool(t.contains(part.as_str()))
            }
            _ => Value::missing("contains(…) needs a text or a list"),
        },
        "len" => match vals.first() {
            Some(Value::Text(t)) => Value::Num(t.len() as i64),
            _ => Value::missing("len(…) needs a text"),
        },
        "pow" => match (vals.first(), vals.get(1)) {
            (Some(Value::Num(b)), Some(Value::Num(e))) => u32::try_from(*e)
                .ok()
                .and_then(|e| b.checked_pow(e))
                .map_or_else(
                    || Value::missing(format!("pow({b}, {e}) is out of range")),
                    Value::Num,
                ),
            _ => Value::missing("pow(…) needs two numbers"),
        },
        "ms" => match vals.first().and_then(Value::as_f64) {
            Some(us) => Value::Dec(us / 1000.0),
            None => Value::missing("ms(…) needs a number of microseconds"),
        },
        "left" => match (vals.first(), vals.get(1)) {
            (Some(Value::Text(t)), Some(Value::Num(n))) => {
                Value::Text(t.chars().take(usize::try_from(*n).unwrap_or(0)).collect())
            }
            _ => Value::missing("left(…) needs a text and a count"),
        },
        "appears" => {
            let needle = match vals.get(1) {
                Some(Value::Text(t)) => t.as_bytes().to_vec(),
                _ => return Err(Value::missing("appears(…) needs a text to look for")),
            };
            Value::Bool(appears(
                ctx,
                vals.first().unwrap_or(&Value::List(Vec::new())),
                &needle,
            ))
        }
        _ => return Err(Value::missing(format!("no function {name}"))),
    })
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn appears(ctx: &Context<'_>, what: &Value, needle: &[u8]) -> bool {
    let in_frame = |n: u32| {
        ctx.trace
            .frame(n)
            .is_some_and(|f| contains_bytes(&f.frame.data, needle))
    };
    match what {
        Value::Packet(n) => in_frame(*n),
        Value::List(items) => items.iter().any(|v| appears(ctx, v, needle)),
        Value::Message(m) => ctx
            .journey_of(m)
            .is_some_and(|j| j.frames.iter().any(|&n| in_frame(n))),
        Value::Conn(s) => ctx
            .frames_in(*s, None)
            .any(|f| contains_bytes(&f.frame.data, needle)),
        Value::Record(i) => ctx.trace.record(*i).is_some_and(|r| {
            ctx.trace
                .stream_bytes(r.stream, r.dir, r.stream_range.clone())
                .is_some_and(|b| contains_bytes(&b, needle))
        }),
        _ => false,
    }
}

/// The lines one side wrote on a connection, with where each lies in its plaintext stream.
fn lines_written(ctx: &Context<'_>, conn: ConnId, side: Side) -> Vec<(Range<u64>, String)> {
    let mut events: Vec<_> = ctx
        .trace
        .app_events()
        .iter()
        .filter(|e| e.conn == conn && e.side == side && e.dir == crate::chat::Direction::Write)
        .collect();
    events.sort_by_key(|e| e.offset);
    let mut lines = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut start = 0u64;
    let mut next = 0u64;
    for e in events {
        if e.offset != next {
            // A gap (nothing should be missing, but never mix unrelated bytes): start afresh.
            current.clear();
            start = e.offset;
        }
        for (i, &b) in e.bytes.iter().enumerate() {
            if current.is_empty() {
                start = e.offset + i as u64;
            }
            current.push(b);
            if b == b'\n' {
                let end = start + current.len() as u64;
                let text = String::from_utf8_lossy(current.strip_suffix(b"\n").unwrap_or(&current))
                    .into_owned();
                lines.push((start..end, text));
                current.clear();
            }
        }
        next = e.offset + e.bytes.len() as u64;
    }
    lines
}

fn find_line(
    ctx: &Context<'_>,
    conn: ConnId,
    side: Side,
    stream: usize,
    selector: &Value,
    client: &str,
) -> Result<Value, Value> {
    let lines = lines_written(ctx, conn, side);
    let countable = |text: &str| match side {
        Side::Client => !text.starts_with("/name "),
        Side::Server => !text.starts_with("* "),
    };
    let who = match side {
        Side::Client => format!("{client} sent"),
        Side::Server => format!("the server sent to {client}"),
    };
    let found = match selector {
        Value::Num(n) => {
            let index = usize::try_from(*n).ok().and_then(|n| n.checked_sub(1));
            let mut numbered = lines.iter().filter(|(_, t)| countable(t));
            index.and_then(|i| numbered.nth(i)).ok_or_else(|| {
                Value::missing(format!(
                    "line {n} that {who}: only {} such lines were seen",
                    lines.iter().filter(|(_, t)| countable(t)).count()
                ))
            })?
        }
        Value::Text(part) => lines
            .iter()
            .find(|(_, t)| t.contains(part.as_str()) && (side == Side::Server || countable(t)))
            .ok_or_else(|| Value::missing(format!("no line that {who} contains \"{part}\"")))?,
        other => {
            return Err(Value::missing(format!(
                "a line is chosen by number or text, not {other:?}"
            )))
        }
    };
    let dir = match side {
        Side::Client => Direction::ClientToServer,
        Side::Server => Direction::ServerToClient,
    };
    Ok(Value::Message(Box::new(MessageRef {
        conn,
        side,
        stream,
        dir,
        range: found.0.clone(),
        text: found.1.clone(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_search() {
        assert!(contains_bytes(b"hello secret world", b"secret"));
        assert!(!contains_bytes(b"sec", b"secret"));
        assert!(contains_bytes(b"", b""));
    }
}
