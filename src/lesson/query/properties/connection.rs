//! The properties of a TCP connection, its TLS handshake among them.

use std::net::SocketAddr;

use crate::chat::Side;
use crate::flow::Direction;
use crate::journey::timing::Series;
use crate::journey::Trace;
use crate::tcpinfo::TcpInfoSample;
use crate::tls::{ContentType, HandshakeType};

use super::super::scope::Scope;
use super::super::value::Value;
use super::{hex_of, names_of_group, names_of_version, suite_name, text};

/// Properties of connection `stream`.
pub fn conn(scope: &Scope<'_>, stream: usize, name: &str) -> Value {
    let Some(c) = scope.trace.tcp().connection(stream) else {
        return Value::missing(format!("connection {stream} is not in the capture"));
    };
    match name {
        "stream" => return Value::Num(stream as i64),
        "client" => {
            return scope
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
                scope
                    .frames_in(stream, None)
                    .map(|f| Value::Packet(f.number))
                    .collect(),
            )
        }
        "records" => {
            return Value::List(
                scope
                    .trace
                    .records()
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.stream == stream)
                    .map(|(i, _)| Value::Record(scope.trace.records_forgotten() + i))
                    .collect(),
            )
        }
        "bytes_from_client" => return Value::Num(c.delivered_len(Direction::ClientToServer) as i64),
        "bytes_from_server" => return Value::Num(c.delivered_len(Direction::ServerToClient) as i64),
        _ => {}
    }
    if let Some(field) = name.strip_prefix("kernel.") {
        return kernel(scope, c.client, c.server, field);
    }
    if name.starts_with("rtt.") || name == "goodput_bps" {
        return timing(scope.trace, stream, name);
    }
    let Some(s) = scope.trace.tls_session(stream) else {
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
        "tls.round_trips" => round_trips(scope.trace, stream),
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

/// Round-trip and rate figures of the client's data on connection `stream`, from the wire.
fn timing(trace: &Trace, stream: usize, name: &str) -> Value {
    let series = Series::of(trace, stream, Direction::ClientToServer);
    let last = series.rtt.last();
    let none = || Value::missing("no acknowledgement answered a segment of the client sent once");
    let us = |v: f64| Value::Num(v.round() as i64);
    match name {
        "rtt.samples_us" => Value::List(series.samples.iter().map(|r| us(r.sample_us)).collect()),
        "rtt.estimated_us" => last.map_or_else(none, |r| us(r.srtt_us)),
        "rtt.dev_us" => last.map_or_else(none, |r| us(r.rttvar_us)),
        "rtt.timeout_us" => last.map_or_else(none, |r| us(r.rto_us)),
        "goodput_bps" => {
            // Application bytes, as the transfer's summary counts them: what the client wrote.
            let conn = trace.tcp().connection(stream);
            let written: u64 = trace
                .app_events()
                .iter()
                .filter(|e| {
                    e.side == Side::Client
                        && e.dir == crate::chat::Direction::Write
                        && conn
                            .is_some_and(|c| c.client == e.conn.client && c.server == e.conn.server)
                })
                .map(|e| e.bytes.len() as u64)
                .sum();
            let end = series
                .segments
                .iter()
                .map(|s| s.offset + u64::from(s.len))
                .max();
            let first = series.segments.first().map(|s| s.at);
            let acked = end.and_then(|end| series.acks.iter().find(|a| a.acked_to >= end));
            match (first, acked) {
                _ if written == 0 => Value::missing(
                    "no application write of the client is recorded (packetpath's own captures record them)",
                ),
                (Some(a), Some(ack)) if ack.at > a => {
                    us(written as f64 * 8.0 * 1e9 / (ack.at - a) as f64)
                }
                _ => Value::missing("the client's data was not all acknowledged in the capture"),
            }
        }
        _ => Value::missing(format!("no property {name}")),
    }
}

/// What the client socket's kernel reported (TCP_INFO samples in the trace).
fn kernel(scope: &Scope<'_>, client: SocketAddr, server: SocketAddr, field: &str) -> Value {
    let samples: Vec<&TcpInfoSample> = scope
        .trace
        .tcp_info()
        .iter()
        .filter(|s| s.side == Side::Client && s.conn.client == client && s.conn.server == server)
        .collect();
    if samples.is_empty() {
        return Value::missing(
            "no TCP_INFO sample of this connection: the kernel's view comes with a `transfer`",
        );
    }
    let nums = |f: &dyn Fn(&TcpInfoSample) -> Option<i64>| {
        Value::List(
            samples
                .iter()
                .filter_map(|s| f(s))
                .map(Value::Num)
                .collect(),
        )
    };
    match field {
        "srtt_us" => nums(&|s| Some(s.rtt_us.into())),
        "cwnd" => nums(&|s| Some(s.snd_cwnd.into())),
        "ssthresh" => nums(&|s| (s.snd_ssthresh < 0x7fff_ffff).then_some(s.snd_ssthresh.into())),
        "retransmits" => samples.last().map_or_else(
            || Value::missing("no sample"),
            |s| Value::Num(s.total_retrans.into()),
        ),
        other => Value::missing(format!("no property kernel.{other}")),
    }
}
