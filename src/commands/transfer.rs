//! `packetpath transfer SIZE`: a bulk upload in the lab, captured, with the kernel's view of the
//! sender's socket beside the wire's: how long it took, the round-trip times (SampleRTT with
//! Karn's rule, EstimatedRTT, DevRTT, the timeout), retransmissions, throughput, and the
//! congestion window and slow-start threshold the kernel reported.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

pub use crate::chat::bulk::parse_size;
use crate::chat::bulk::SlowReader;
use crate::chat::Transport;
use crate::flow::Direction;
use crate::frame::Frame;
use crate::journey::timing::{median, Series};
use crate::journey::Trace;
use crate::report::{ms, Format};
use crate::session::{Session, SessionOptions, Transferred};
use crate::tcpinfo::TcpInfoSample;

/// What to transfer, and how.
#[derive(Debug, Clone)]
pub struct TransferOptions {
    /// Application bytes to send.
    pub bytes: u64,
    /// TLS 1.3, TLS 1.2 or plain TCP.
    pub transport: Transport,
    /// The sender's congestion control (`None`: the system's default).
    pub congestion: Option<String>,
    /// Read slowly at the receiver, so that its window fills.
    pub slow_reader: bool,
    /// Certificate folder.
    pub cert_dir: PathBuf,
    /// The lab the transfer runs in.
    pub lab: crate::lab::Lab,
}

/// A transfer's result: the capture, and the figures drawn from it.
pub struct TransferOutcome {
    /// Every frame, with the kernel's samples.
    pub trace: Trace,
    /// The frames as captured, for writing.
    pub frames: Vec<Frame>,
    /// The figures.
    pub summary: TransferSummary,
}

/// The figures of a transfer (`--format json` prints this object).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TransferSummary {
    /// Application bytes the sender wrote.
    pub bytes_sent: u64,
    /// Application bytes the receiver read.
    pub bytes_received: u64,
    /// "tls1.3", "tls1.2" or "plain".
    pub transport: String,
    /// The lab, in words.
    pub lab: String,
    /// The sender's congestion control, as its socket reported it.
    pub congestion: String,
    /// The client's and the server's address and port.
    pub client: String,
    /// The server's.
    pub server: String,
    /// The TCP connection's number in the capture.
    pub stream: usize,
    /// Frames captured (every interface).
    pub frames: usize,
    /// From the sender's first data segment (over TLS, its ClientHello: the handshake counts) to
    /// the acknowledgement of its last byte, seconds; 0 when that acknowledgement was not
    /// captured.
    pub seconds: f64,
    /// Application bytes per second over that time, in bits per second.
    pub goodput_bps: f64,
    /// Data segments the sender sent, and how many of them were retransmissions.
    pub data_segments: usize,
    /// Retransmitted data segments.
    pub retransmissions: usize,
    /// The wire's round-trip times (Karn's rule), µs.
    pub wire_rtt: RttFigures,
    /// The kernel's view of the sender's socket (TCP_INFO), if it was sampled.
    pub kernel: Option<KernelFigures>,
}

/// Round-trip figures from the wire.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RttFigures {
    /// The capture interface where the sender's segments were first seen (`None`: unnamed).
    pub interface: Option<String>,
    /// Whether that is the sender's own interface, so that these are the round trips the
    /// sender's TCP saw. On a cable the capture sits at the receiver's end, where an
    /// acknowledgement follows its segment at once.
    pub at_sender: bool,
    /// SampleRTTs taken (acknowledgements that answered a segment sent once).
    pub samples: usize,
    /// Segments timed one at a time for the estimator (RFC 6298 §3; one per round trip or so).
    pub timed: usize,
    /// The smallest sample, µs.
    pub min_us: Option<f64>,
    /// The median sample, µs.
    pub median_us: Option<f64>,
    /// The largest sample, µs.
    pub max_us: Option<f64>,
    /// EstimatedRTT (SRTT) after the last sample, µs.
    pub estimated_us: Option<f64>,
    /// DevRTT (RTTVAR) after the last sample, µs.
    pub dev_us: Option<f64>,
    /// EstimatedRTT + 4·DevRTT after the last sample, µs.
    pub timeout_us: Option<f64>,
}

/// The kernel's figures for the sender's socket.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KernelFigures {
    /// TCP_INFO samples of the sender's socket.
    pub samples: usize,
    /// The kernel's SRTT, median over the samples taken while data was in flight, µs.
    pub median_srtt_us: Option<f64>,
    /// The kernel's SRTT in the last sample, µs.
    pub last_srtt_us: u32,
    /// The largest congestion window seen, in segments.
    pub max_cwnd: u32,
    /// The same in bytes (segments × MSS).
    pub max_cwnd_bytes: u64,
    /// The congestion window in the first sample, in segments (Linux starts at 10, RFC 6928).
    pub first_cwnd: u32,
    /// The slow-start threshold in the last sample, in segments; `None` while unset (a loss sets
    /// it, and so does cubic's HyStart when the round trips start to grow).
    pub last_ssthresh: Option<u32>,
    /// Segments the kernel retransmitted.
    pub total_retrans: u32,
    /// The kernel's retransmission timeout in the last sample, µs (Linux keeps RTTVAR at 200 ms
    /// or more, so it is at least SRTT + 200 ms).
    pub last_rto_us: u32,
}

/// Runs the transfer in the lab and measures it.
pub async fn transfer(options: &TransferOptions) -> anyhow::Result<TransferOutcome> {
    let mut session = Session::new(SessionOptions {
        cert_dir: options.cert_dir.clone(),
        lab: options.lab.clone(),
        ipv6: false,
    })?;
    let slow = options.slow_reader.then_some(SlowReader::DEFAULT);
    let done = session
        .transfer(
            options.bytes,
            options.transport,
            options.congestion.clone(),
            slow,
        )
        .await?;
    let (trace, frames, stats) = session.finish().await?;
    if stats.dropped > 0 {
        tracing::warn!(
            "the kernel dropped {} frames during the capture: the figures miss them",
            stats.dropped
        );
    }
    let summary = summarise(&trace, &done, options)?;
    Ok(TransferOutcome {
        trace,
        frames,
        summary,
    })
}

fn summarise(
    trace: &Trace,
    done: &Transferred,
    options: &TransferOptions,
) -> anyhow::Result<TransferSummary> {
    let stream = trace
        .tcp()
        .find(done.conn.client, done.conn.server)
        .map(|c| c.index)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the transfer's connection ({} → {}) is not in the capture",
                done.conn.client,
                done.conn.server
            )
        })?;
    let series = Series::of(trace, stream, Direction::ClientToServer);
    let first = series.segments.first().map(|s| s.at);
    let end = series
        .segments
        .iter()
        .map(|s| s.offset + u64::from(s.len))
        .max()
        .unwrap_or(0);
    let last_ack = series.acks.iter().find(|a| a.acked_to >= end).map(|a| a.at);
    let seconds = match (first, last_ack) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => 0.0,
    };
    let samples: Vec<f64> = series.samples.iter().map(|p| p.sample_us).collect();
    let interface = series
        .segments
        .first()
        .and_then(|seg| trace.frame(seg.frame))
        .and_then(|f| trace.interface_name(f.frame.interface))
        .map(str::to_string);
    // The client's host interface on a path, or the host's own loopback (both ends at once).
    let at_sender = match &interface {
        Some(name) => name.starts_with("client"),
        None => {
            !(options.lab.isolated && options.lab.options.link != crate::lab::LinkMode::Loopback)
        }
    };
    let last = series.rtt.last();
    let wire_rtt = RttFigures {
        interface,
        at_sender,
        samples: samples.len(),
        timed: series.rtt.len(),
        min_us: samples.iter().copied().reduce(f64::min),
        median_us: median(samples.iter().copied()),
        max_us: samples.iter().copied().reduce(f64::max),
        estimated_us: last.map(|p| p.srtt_us),
        dev_us: last.map(|p| p.rttvar_us),
        timeout_us: last.map(|p| p.rto_us),
    };
    let sender: Vec<&TcpInfoSample> = trace
        .tcp_info()
        .iter()
        .filter(|s| s.conn == done.conn && s.side == crate::chat::Side::Client)
        .collect();
    let kernel = sender.last().map(|last| {
        let busy = |s: &&&TcpInfoSample| {
            first.is_some_and(|f| s.at >= f) && last_ack.is_none_or(|l| s.at <= l)
        };
        KernelFigures {
            samples: sender.len(),
            median_srtt_us: median(sender.iter().filter(busy).map(|s| f64::from(s.rtt_us))),
            last_srtt_us: last.rtt_us,
            max_cwnd: sender.iter().map(|s| s.snd_cwnd).max().unwrap_or(0),
            max_cwnd_bytes: sender.iter().map(|s| s.cwnd_bytes()).max().unwrap_or(0),
            first_cwnd: sender.first().map_or(0, |s| s.snd_cwnd),
            last_ssthresh: (last.snd_ssthresh < 0x7fff_ffff).then_some(last.snd_ssthresh),
            total_retrans: last.total_retrans,
            last_rto_us: last.rto_us,
        }
    });
    Ok(TransferSummary {
        bytes_sent: done.sent,
        bytes_received: done.received,
        transport: options.transport.name().to_string(),
        lab: options.lab.describe(),
        congestion: done.congestion.clone(),
        client: done.conn.client.to_string(),
        server: done.conn.server.to_string(),
        stream,
        frames: trace.frames().len(),
        seconds,
        goodput_bps: if seconds > 0.0 {
            done.received as f64 * 8.0 / seconds
        } else {
            0.0
        },
        data_segments: series.segments.len(),
        retransmissions: series.retransmissions(),
        wire_rtt,
        kernel,
    })
}

/// 5000000 → "5,000,000" (the report's grouping).
fn thousands(n: u64) -> String {
    crate::report::thousands(usize::try_from(n).unwrap_or(usize::MAX))
}

impl TransferOutcome {
    /// Prints the figures, as text for people or one JSON object.
    pub fn print(&self, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
        print_summary(&self.summary, format, out)
    }

    /// Saves the capture (secrets, write ledger and TCP_INFO samples embedded) as pcapng.
    pub fn write(&self, path: &crate::capture::OutputPath) -> anyhow::Result<()> {
        super::write_pcapng(path, &self.frames, &self.trace)
    }
}

/// Prints a transfer's figures, as text for people or one JSON object.
pub fn print_summary(
    s: &TransferSummary,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    {
        if format == Format::Json {
            writeln!(out, "{}", serde_json::to_string(s)?)?;
            return Ok(());
        }
        let time = if s.seconds > 0.0 {
            format!(
                "in {:.2} s ({:.2} Mbit/s of application data)",
                s.seconds,
                s.goodput_bps / 1e6
            )
        } else {
            "(how long is unknown: the acknowledgement of its last byte was not captured)".into()
        };
        writeln!(
            out,
            "transfer: {} bytes from {} to {} over {} {time}",
            thousands(s.bytes_sent),
            s.client,
            s.server,
            s.transport,
        )?;
        writeln!(out, "  lab: {}", s.lab)?;
        writeln!(
            out,
            "  the sender's congestion control: {}",
            if s.congestion.is_empty() {
                "unknown"
            } else {
                &s.congestion
            }
        )?;
        writeln!(
            out,
            "  wire: {} frames, {} data segments, {} retransmitted (TCP connection {})",
            s.frames, s.data_segments, s.retransmissions, s.stream
        )?;
        let r = &s.wire_rtt;
        writeln!(
            out,
            "  wire RTT (SampleRTT, Karn's rule, {} samples): min {}, median {}, max {}",
            r.samples,
            ms(r.min_us),
            ms(r.median_us),
            ms(r.max_us)
        )?;
        if !r.at_sender {
            writeln!(
                out,
                "    (captured at the receiver's end{}: an acknowledgement there follows its segment at once, so \
                 these are not the sender's round trips; with --link routers:N every interface is captured, \
                 the sender's too; the kernel's figures below are the sender's)",
                r.interface
                    .as_deref()
                    .map_or_else(String::new, |i| format!(", {i}"))
            )?;
        }
        writeln!(
            out,
            "    estimator (one segment timed at a time, {} timed; RFC 6298 §2): EstimatedRTT {}, DevRTT {}, \
             EstimatedRTT + 4·DevRTT {} (RFC 6298 §2.4 rounds an RTO below 1 s up to 1 s)",
            r.timed,
            ms(r.estimated_us),
            ms(r.dev_us),
            ms(r.timeout_us)
        )?;
        match &s.kernel {
            Some(k) => {
                writeln!(
                    out,
                    "  kernel (TCP_INFO of the sender's socket, {} samples): srtt median {} while sending, {} at the end; \
                     RTO {} (Linux keeps RTTVAR at 200 ms or more)",
                    k.samples,
                    ms(k.median_srtt_us),
                    ms(Some(f64::from(k.last_srtt_us))),
                    ms(Some(f64::from(k.last_rto_us)))
                )?;
                writeln!(
                    out,
                    "    cwnd {} segments at the start, at most {} ({} bytes); ssthresh {}; {} segments retransmitted",
                    k.first_cwnd,
                    k.max_cwnd,
                    thousands(k.max_cwnd_bytes),
                    k.last_ssthresh.map_or_else(
                        || "unset (no loss, still in slow start)".into(),
                        |t| format!("{t} segments at the end")
                    ),
                    k.total_retrans
                )?;
            }
            None => writeln!(out, "  kernel: no TCP_INFO sample was taken")?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(5_000_000), "5,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
