//! A bulk transfer, the classic TCP lab's upload: the client writes a number of bytes of text as
//! fast as its socket takes them, then closes; the receiver reads everything (slowly, if asked,
//! so that its receive window fills) and closes too. `packetpath transfer` and the `transfer`
//! lesson action run one to show TCP's control loops: slow start, congestion avoidance, the
//! receive window, retransmission timeouts.

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};
use tokio_rustls::TlsAcceptor;

use super::client::{open_stream, ClientOptions, ClientStream};
use super::config::{server_config, Transport};
use super::tap::{ConnId, Side, Tap};
use super::ChatError;

/// How much the sender hands its socket per write (one application write each).
pub const WRITE_SIZE: usize = 16 * 1024;

/// How long either end waits for the other when nothing moves: generous, because on a lossy
/// path retransmission timeouts back off exponentially.
const STALL: Duration = Duration::from_secs(60);

/// A receiver that reads slowly: `bytes` per read, then a pause, and a small receive buffer, so
/// that the sender soon fills the window it advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowReader {
    /// Bytes taken per read.
    pub bytes: usize,
    /// The pause after each read.
    pub pause: Duration,
    /// The receive buffer asked for (SO_RCVBUF; Linux doubles it for its own bookkeeping).
    pub buffer: usize,
}

impl SlowReader {
    /// 8 KiB every 20 ms (at most 400 KiB/s, about 3.3 Mbit/s) into a 64 KiB buffer: slower
    /// than an unlimited lab link, so the window fills (with `--rate` below 3.3 Mbit/s the link
    /// is the slower one).
    pub const DEFAULT: SlowReader = SlowReader {
        bytes: 8 * 1024,
        pause: Duration::from_millis(20),
        buffer: 64 * 1024,
    };
}

/// The receiving end, listening.
pub struct Receiver {
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    tap: Tap,
    slow: Option<SlowReader>,
}

/// One end's connection, as the sampler of TCP_INFO needs it: its 4-tuple, a second descriptor
/// of its socket, and (the sender's) a sample taken before its first write.
#[derive(Debug)]
pub struct Connected {
    /// The connection.
    pub conn: ConnId,
    /// A descriptor of the socket (a duplicate: it keeps the socket open while held).
    pub fd: OwnedFd,
    /// The sender's TCP_INFO before it wrote anything: its initial congestion window.
    pub before_first_write: Option<crate::tcpinfo::TcpInfoSample>,
}

/// What one end did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The connection.
    pub conn: ConnId,
    /// Application bytes written (sender) or read (receiver).
    pub bytes: u64,
}

impl Receiver {
    /// Listens on `listen` (port 0: any) with `transport`; TLS uses the certificate in
    /// `cert_dir` and logs its secrets to `key_log`.
    pub async fn bind(
        listen: SocketAddr,
        transport: Transport,
        cert_dir: &std::path::Path,
        tap: Tap,
        key_log: Arc<dyn rustls::KeyLog>,
        slow: Option<SlowReader>,
    ) -> Result<Receiver, ChatError> {
        let acceptor = if transport.is_tls() {
            let paths = super::ensure_certs(cert_dir)?;
            Some(TlsAcceptor::from(server_config(
                &paths, transport, key_log,
            )?))
        } else {
            None
        };
        let socket = if listen.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(slow) = slow {
            // Before listen(): an accepted socket inherits it, and the window scale its SYN-ACK
            // offers follows from it.
            socket.set_recv_buffer_size(u32::try_from(slow.buffer).unwrap_or(u32::MAX))?;
        }
        socket.bind(listen).map_err(|reason| ChatError::Listen {
            addr: listen,
            reason,
        })?;
        let listener = socket.listen(16)?;
        Ok(Receiver {
            listener,
            acceptor,
            tap,
            slow,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> Result<SocketAddr, ChatError> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts one connection (sending its 4-tuple and a descriptor of its socket to
    /// `accepted` as soon as it is there) and reads it to the end; then closes.
    pub async fn run(
        self,
        accepted: tokio::sync::oneshot::Sender<Connected>,
    ) -> Result<Moved, ChatError> {
        let (tcp, peer) = tokio::time::timeout(STALL, self.listener.accept())
            .await
            .map_err(|_| ChatError::Ended("no sender connected within a minute".into()))??;
        let conn = ConnId {
            client: peer,
            server: tcp.local_addr()?,
        };
        let fd = std::os::fd::AsFd::as_fd(&tcp).try_clone_to_owned()?;
        let _ = accepted.send(Connected {
            conn,
            fd,
            before_first_write: None,
        });
        let mut stream: Box<dyn ClientStream> = match &self.acceptor {
            None => Box::new(self.tap.wrap(tcp, conn, Side::Server)),
            Some(acceptor) => {
                let tls = tokio::time::timeout(STALL, acceptor.accept(tcp))
                    .await
                    .map_err(|_| {
                        ChatError::Ended("the sender's TLS handshake stalled for a minute".into())
                    })??;
                Box::new(self.tap.wrap(tls, conn, Side::Server))
            }
        };
        let mut buf = vec![0u8; self.slow.map_or(64 * 1024, |s| s.bytes)];
        let mut bytes = 0u64;
        loop {
            let n = tokio::time::timeout(STALL, stream.read(&mut buf))
                .await
                .map_err(|_| ChatError::Ended("the transfer stalled for a minute".into()))??;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            if let Some(slow) = self.slow {
                tokio::time::sleep(slow.pause).await;
            }
        }
        stream.shutdown().await?;
        Ok(Moved { conn, bytes })
    }
}

/// Lines of readable text, numbered, to fill the transfer (so a decrypted record reads as
/// text): `bytes` of them from stream offset `offset`.
fn text_at(offset: u64, bytes: usize) -> Vec<u8> {
    const LINE: usize = 64;
    let mut out = Vec::with_capacity(bytes + LINE);
    let mut line = offset / LINE as u64;
    let skip = (offset % LINE as u64) as usize;
    while out.len() < bytes + skip {
        let text = format!("packetpath transfer, line {line:>8}: the quick brown fox jumps");
        out.extend_from_slice(format!("{text:<63}\n").as_bytes());
        line += 1;
    }
    out.drain(..skip);
    out.truncate(bytes);
    out
}

/// Connects as `options` says, writes `bytes` bytes of text in writes of [`WRITE_SIZE`], closes
/// its sending side (TLS close_notify, then FIN) and waits for the receiver to close. The
/// 4-tuple, a descriptor of the socket and its TCP_INFO go to `connected` once the connection
/// is up.
pub async fn send(
    options: &ClientOptions,
    tap: &Tap,
    key_log: Arc<dyn rustls::KeyLog>,
    bytes: u64,
    connected: tokio::sync::oneshot::Sender<Connected>,
) -> Result<Moved, ChatError> {
    let (mut stream, conn, fd) = open_stream(options, tap, key_log).await?;
    let before_first_write =
        crate::tcpinfo::sample(std::os::fd::AsFd::as_fd(&fd), conn, Side::Client).ok();
    let _ = connected.send(Connected {
        conn,
        fd,
        before_first_write,
    });
    let mut sent = 0u64;
    while sent < bytes {
        let n = usize::try_from(bytes - sent).map_or(WRITE_SIZE, |left| left.min(WRITE_SIZE));
        let chunk = text_at(sent, n);
        tokio::time::timeout(STALL, stream.write_all(&chunk))
            .await
            .map_err(|_| ChatError::Ended("the transfer stalled for a minute".into()))??;
        sent += n as u64;
    }
    stream.flush().await?;
    stream.shutdown().await?;
    // The receiver closes once it has read everything.
    let mut rest = [0u8; 512];
    loop {
        match tokio::time::timeout(STALL, stream.read(&mut rest)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(_)) => {}
        }
    }
    Ok(Moved { conn, bytes: sent })
}

/// Reads a size as people write it: `5000000`, `5M` or `5MB` (10^6), `200k` (10^3), `1G`,
/// `4MiB` or `4Mi` (2^20), `64KiB` (2^10). At least 1 byte, at most 200 MB: the capture keeps
/// each frame on every link of the lab and the write ledger keeps the data, so a transfer is
/// held in memory several times over.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{text:?} is not a size: write bytes, or e.g. 5M, 200k, 4MiB"))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "{other:?} is not a unit: use k, M, G (powers of 1000) or KiB, MiB, GiB (of 1024)"
            ))
        }
    };
    let bytes = (number * multiplier).round();
    if !(1.0..=200e6).contains(&bytes) {
        return Err(format!(
            "{text}: a transfer is 1 byte to 200 MB (it is held in memory several times over; \
             a few MB show slow start on a lab path)"
        ));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_numbered_lines_whatever_the_cut() {
        let whole = text_at(0, 640);
        assert_eq!(whole.len(), 640);
        assert!(whole.starts_with(b"packetpath transfer, line        0:"));
        assert_eq!(whole.iter().filter(|&&b| b == b'\n').count(), 10);
        // Any piece is the same bytes as the whole at that offset.
        assert_eq!(text_at(100, 300), whole[100..400].to_vec());
        assert_eq!(text_at(64, 64), whole[64..128].to_vec());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("5000000"), Ok(5_000_000));
        assert_eq!(parse_size("5M"), Ok(5_000_000));
        assert_eq!(parse_size("2.5MB"), Ok(2_500_000));
        assert_eq!(parse_size("200k"), Ok(200_000));
        assert_eq!(parse_size("4MiB"), Ok(4 * 1024 * 1024));
        assert_eq!(parse_size("64Ki"), Ok(65_536));
        assert_eq!(parse_size("1_000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("5T").unwrap_err().contains("not a unit"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("5G").unwrap_err().contains("200 MB"));
    }
}
