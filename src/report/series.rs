//! A connection's time series for scripts: what the graphs of the terminal UI draw (`t`), as
//! JSON — every SampleRTT, the RFC 6298 estimator after each timed segment, bytes in flight,
//! the advertised window, throughput, and the kernel's TCP_INFO samples where packetpath owned
//! the sockets. `inspect --series` prints one object per connection; `trace --format json`
//! carries the same objects in its `series` field.

use serde_json::{json, Map, Value};

use crate::chat::Side;
use crate::flow::{Connection, Direction};
use crate::frame::Timestamp;
use crate::journey::timing::Series;
use crate::journey::Trace;

use super::ms;

fn secs(at: i128) -> f64 {
    Timestamp(at).as_secs_f64()
}

/// One object per TCP connection that carried data, in stream order.
pub fn series_json(trace: &Trace) -> Vec<Value> {
    trace
        .tcp()
        .connections()
        .iter()
        .filter_map(|c| connection_series(trace, c))
        .collect()
}

/// The series of one connection, or `None` if it carried no data either way.
pub fn connection_series(trace: &Trace, c: &Connection) -> Option<Value> {
    let directions: Vec<Value> = [Direction::ClientToServer, Direction::ServerToClient]
        .into_iter()
        .filter_map(|dir| {
            let s = Series::of(trace, c.index, dir);
            (!s.segments.is_empty()).then(|| direction_json(trace, &s, dir))
        })
        .collect();
    if directions.is_empty() {
        return None;
    }
    let kernel: Vec<Value> = trace
        .tcp_info()
        .iter()
        .filter(|s| s.conn.client == c.client && s.conn.server == c.server)
        .map(|s| {
            let mut o = match serde_json::to_value(s) {
                Ok(Value::Object(o)) => o,
                _ => Map::new(),
            };
            for key in ["at", "client", "server"] {
                o.remove(key);
            }
            o.insert("time".into(), json!(secs(s.at)));
            o.insert(
                "side".into(),
                json!(match s.side {
                    Side::Client => "client",
                    Side::Server => "server",
                }),
            );
            o.insert("ca_state".into(), json!(s.ca_state_name()));
            Value::Object(o)
        })
        .collect();
    Some(json!({
        "stream": c.index,
        "client": c.client.to_string(),
        "server": c.server.to_string(),
        "directions": directions,
        "kernel": kernel,
    }))
}

fn direction_json(trace: &Trace, s: &Series, dir: Direction) -> Value {
    let interface = s
        .segments
        .first()
        .and_then(|seg| trace.frame(seg.frame))
        .and_then(|f| trace.interface_name(f.frame.interface));
    let window_ns = s.throughput_window_ns();
    let samples: Vec<Value> = s
        .samples
        .iter()
        .map(|p| {
            json!({"frame": p.frame, "acks_frame": p.acks_frame, "time": secs(p.at),
                   "rtt_us": p.sample_us})
        })
        .collect();
    let estimator: Vec<Value> = s
        .rtt
        .iter()
        .map(|p| {
            json!({"frame": p.frame, "timed_frame": p.timed_frame, "time": secs(p.at),
                   "sample_us": p.sample_us, "estimated_us": p.srtt_us, "dev_us": p.rttvar_us,
                   "timeout_us": p.rto_us})
        })
        .collect();
    let segments: Vec<Value> = s
        .segments
        .iter()
        .map(|p| {
            json!({"frame": p.frame, "time": secs(p.at), "offset": p.offset, "len": p.len,
                   "bytes_in_flight": p.in_flight, "retransmission": p.retransmission})
        })
        .collect();
    let acks: Vec<Value> = s
        .acks
        .iter()
        .map(|a| {
            let sacked: Vec<Value> = a.sacked.iter().map(|(l, r)| json!([l, r])).collect();
            json!({"frame": a.frame, "time": secs(a.at), "acked_to": a.acked_to,
                   "window": a.window, "sack": sacked})
        })
        .collect();
    let throughput: Vec<Value> = s
        .throughput(window_ns)
        .into_iter()
        .map(|(at, bps)| json!({"time": secs(at), "bps": bps}))
        .collect();
    json!({
        "from": dir.sender(),
        "interface": interface,
        "samples": samples,
        "estimator": estimator,
        "segments": segments,
        "acks": acks,
        "throughput_window_us": window_ns / 1000,
        "throughput": throughput,
    })
}

/// The same series in a few lines per connection, for people: how many points each has and
/// the figures a student looks for first.
pub fn series_text(trace: &Trace) -> String {
    let mut out = String::new();
    for c in trace.tcp().connections() {
        let mut lines = Vec::new();
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let s = Series::of(trace, c.index, dir);
            if s.segments.is_empty() {
                continue;
            }
            let bytes = s
                .segments
                .iter()
                .map(|p| p.offset + u64::from(p.len))
                .max()
                .unwrap_or(0);
            let samples: Vec<f64> = s.samples.iter().map(|p| p.sample_us).collect();
            lines.push(format!(
                "  {} → {}: {} data segments ({} resent), {} bytes of TCP data (TLS records included)",
                dir.sender(),
                dir.reverse().sender(),
                s.segments.len(),
                s.retransmissions(),
                super::thousands(usize::try_from(bytes).unwrap_or(usize::MAX))
            ));
            lines.push(format!(
                "    SampleRTT: {} samples, min {}, median {}, max {}; EstimatedRTT {} after {} timed segments, timeout {}",
                samples.len(),
                ms(samples.iter().copied().reduce(f64::min)),
                ms(crate::journey::timing::median(samples.iter().copied())),
                ms(samples.iter().copied().reduce(f64::max)),
                ms(s.rtt.last().map(|p| p.srtt_us)),
                s.rtt.len(),
                ms(s.rtt.last().map(|p| p.rto_us)),
            ));
            let in_flight = s.segments.iter().filter_map(|p| p.in_flight).max();
            let throughput = s.throughput(s.throughput_window_ns());
            let peak = throughput.iter().map(|(_, bps)| *bps).reduce(f64::max);
            lines.push(format!(
                "    bytes in flight at most {}; throughput peak {} (over {} ms); {} acknowledgements",
                in_flight.map_or_else(|| "—".into(), |b| b.to_string()),
                peak.map_or_else(|| "—".into(), |b| format!("{:.2} Mbit/s", b / 1e6)),
                s.throughput_window_ns() / 1_000_000,
                s.acks.len(),
            ));
        }
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "TCP connection {}: {} → {}\n",
            c.index, c.client, c.server
        ));
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        for side in [Side::Client, Side::Server] {
            let k: Vec<_> = trace
                .tcp_info()
                .iter()
                .filter(|s| {
                    s.conn.client == c.client && s.conn.server == c.server && s.side == side
                })
                .collect();
            if let Some(last) = k.last() {
                out.push_str(&format!(
                    "  the {} socket's kernel (TCP_INFO, {} samples): srtt {:.1} ms at the end, cwnd {} → {} segments (largest {}), {} retransmitted\n",
                    if side == Side::Client { "client" } else { "server" },
                    k.len(),
                    f64::from(last.rtt_us) / 1000.0,
                    k.first().map_or(0, |s| s.snd_cwnd),
                    last.snd_cwnd,
                    k.iter().map(|s| s.snd_cwnd).max().unwrap_or(0),
                    last.total_retrans,
                ));
            }
        }
    }
    if out.is_empty() {
        out.push_str("no TCP connection in this capture carried data\n");
    }
    out
}
