//! The kernel's view of a connection: what Linux's TCP believed at a moment, read from one of
//! packetpath's own sockets with `getsockopt(TCP_INFO)` (tcp(7)). A capture tool sees only the
//! wire; packetpath owns both ends, so it can put the kernel's smoothed RTT, congestion window and
//! slow-start threshold beside what the packets show.
//!
//! Samples travel in pcapng files in a packetpath Custom Block, one line each:
//!
//! ```text
//! packetpath-tcpinfo {"at":1764389000123456789,"client":"10.73.1.1:40112","server":"10.73.2.2:8443","side":"client","rtt_us":40321,…}
//! ```

use std::os::fd::{AsRawFd, BorrowedFd};

use serde::{Deserialize, Serialize};

use crate::chat::{ConnId, Side};
use crate::frame::Timestamp;

/// The prefix that marks a sample's line in a packetpath Custom Block.
pub const LINE_PREFIX: &str = "packetpath-tcpinfo ";

/// Congestion-avoidance states of Linux (`tcpi_ca_state`, include/uapi/linux/tcp.h `enum tcp_ca_state`).
pub const CA_STATES: [&str; 5] = ["open", "disorder", "cwr", "recovery", "loss"];

/// What the kernel reported about one socket at one moment. Units as the kernel gives them:
/// times in microseconds, windows in segments, rates in bytes per second. Fields that older
/// kernels do not report are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpInfoSample {
    /// When it was read (the capture's clock: nanoseconds since the epoch).
    pub at: i128,
    /// The connection.
    #[serde(flatten)]
    pub conn: ConnId,
    /// Whose socket: the end that connected or the end that accepted.
    pub side: Side,
    /// The smoothed round-trip time (SRTT, RFC 6298 §2), µs.
    pub rtt_us: u32,
    /// Its variation (RTTVAR), µs.
    pub rttvar_us: u32,
    /// The retransmission timeout, µs.
    pub rto_us: u32,
    /// The congestion window, in segments of `snd_mss` bytes.
    pub snd_cwnd: u32,
    /// The slow-start threshold, in segments (the kernel reports 2147483647 while unset: before
    /// the first loss, or before cubic's HyStart ends slow start).
    pub snd_ssthresh: u32,
    /// The sender's maximum segment size, bytes.
    pub snd_mss: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
    /// Linux's congestion-avoidance state: 0 open, 1 disorder, 2 cwr, 3 recovery, 4 loss.
    pub ca_state: u8,
    /// Bytes acknowledged by the peer (the SYN counts one), when the kernel reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_acked: Option<u64>,
    /// The kernel's estimate of the delivery rate, bytes/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_rate: Option<u64>,
    /// The smallest RTT seen, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rtt_us: Option<u32>,
    /// The peer's advertised receive window, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snd_wnd: Option<u32>,
}

impl TcpInfoSample {
    /// The congestion window in bytes.
    pub fn cwnd_bytes(&self) -> u64 {
        u64::from(self.snd_cwnd) * u64::from(self.snd_mss)
    }

    /// The slow-start threshold in bytes, or `None` while it is still "infinite" (no loss yet).
    pub fn ssthresh_bytes(&self) -> Option<u64> {
        (self.snd_ssthresh < 0x7fff_ffff)
            .then(|| u64::from(self.snd_ssthresh) * u64::from(self.snd_mss))
    }

    /// Linux's name for the congestion-avoidance state.
    pub fn ca_state_name(&self) -> &'static str {
        CA_STATES
            .get(usize::from(self.ca_state))
            .copied()
            .unwrap_or("unknown")
    }

    /// The sample as a line of a packetpath Custom Block.
    pub fn to_line(&self) -> String {
        // Serialising a struct of numbers and addresses cannot fail.
        format!(
            "{LINE_PREFIX}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }
}

/// Reads TCP_INFO of the socket `fd` for connection `conn`, end `side`.
pub fn sample(fd: BorrowedFd<'_>, conn: ConnId, side: Side) -> std::io::Result<TcpInfoSample> {
    let mut info = std::mem::MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is a writable buffer of `len` bytes; the kernel writes at most that many
    // and stores in `len` how many it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: all-zero bytes are a valid tcp_info (integers only); the kernel filled a prefix.
    let info = unsafe { info.assume_init() };
    let len = len as usize;
    let has = |offset: usize, size: usize| len >= offset + size;
    use std::mem::offset_of;
    Ok(TcpInfoSample {
        at: Timestamp::now().0,
        conn,
        side,
        rtt_us: info.tcpi_rtt,
        rttvar_us: info.tcpi_rttvar,
        rto_us: info.tcpi_rto,
        snd_cwnd: info.tcpi_snd_cwnd,
        snd_ssthresh: info.tcpi_snd_ssthresh,
        snd_mss: info.tcpi_snd_mss,
        total_retrans: info.tcpi_total_retrans,
        ca_state: info.tcpi_ca_state,
        bytes_acked: has(offset_of!(libc::tcp_info, tcpi_bytes_acked), 8)
            .then_some(info.tcpi_bytes_acked),
        delivery_rate: has(offset_of!(libc::tcp_info, tcpi_delivery_rate), 8)
            .then_some(info.tcpi_delivery_rate),
        min_rtt_us: has(offset_of!(libc::tcp_info, tcpi_min_rtt), 4).then_some(info.tcpi_min_rtt),
        snd_wnd: has(offset_of!(libc::tcp_info, tcpi_snd_wnd), 4).then_some(info.tcpi_snd_wnd),
    })
}

/// Reads the samples in a packetpath Custom Block (lines of other kinds are skipped); returns
/// them and a warning for each line that does not read.
pub fn decode(data: &[u8]) -> (Vec<TcpInfoSample>, Vec<String>) {
    let text = crate::journey::ledger::block_text(data);
    let mut samples = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(json) = line.strip_prefix(LINE_PREFIX) {
            match serde_json::from_str(json) {
                Ok(s) => samples.push(s),
                Err(e) => warnings.push(format!("TCP_INFO sample on line {}: {e}", i + 1)),
            }
        }
    }
    (samples, warnings)
}

/// The block's contents for `samples`.
pub fn encode(samples: &[TcpInfoSample]) -> Vec<u8> {
    let mut out = String::new();
    for s in samples {
        out.push_str(&s.to_line());
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connected_socket_reports_its_rtt_and_window() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
        let addr = listener.local_addr().expect("an address");
        let client = std::net::TcpStream::connect(addr).expect("connect on loopback");
        let (_server, _) = listener.accept().expect("accept");
        let conn = ConnId {
            client: client.local_addr().expect("an address"),
            server: addr,
        };
        let s = sample(std::os::fd::AsFd::as_fd(&client), conn, Side::Client)
            .expect("TCP_INFO of a connected socket");
        assert!(s.snd_cwnd >= 1 && s.snd_mss > 0, "{s:?}");
        assert!(s.rto_us >= 200_000, "Linux's smallest RTO is 200 ms: {s:?}");
        assert_eq!(s.ca_state_name(), "open");
        assert!(s.ssthresh_bytes().is_none(), "no loss yet: {s:?}");
        // Through a block and back.
        let block = encode(std::slice::from_ref(&s));
        let (back, warnings) = decode(&block);
        assert_eq!(back, vec![s]);
        assert!(warnings.is_empty());
        let (none, warnings) = decode(b"packetpath-app {}\npacketpath-tcpinfo {\n\0\0");
        assert!(none.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn a_socket_that_is_not_tcp_is_an_error() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let conn = ConnId {
            client: udp.local_addr().expect("an address"),
            server: udp.local_addr().expect("an address"),
        };
        assert!(sample(std::os::fd::AsFd::as_fd(&udp), conn, Side::Client).is_err());
    }
}
