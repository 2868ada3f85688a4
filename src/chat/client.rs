//! The chat client: connects over TLS (verifying the server against our CA) or plain TCP, with the
//! TCP and TLS knobs lessons use to make segmentation and record splitting visible.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::config::{client_config, Transport, Trust};
use super::protocol::ChatCodec;
use super::tap::{ConnId, Side, Tap};
use super::ChatError;

/// What `--insecure` means, printed whenever it is used.
pub const INSECURE_WARNING: &str = "WARNING: --insecure: the server's certificate is NOT checked. \
The chat is still encrypted, but to an unknown party: anyone who can intercept the connection \
(a rogue Wi-Fi hotspot, a compromised router) can present their own certificate, decrypt every \
line, read or change it, and pass it on. Use this only to see why certificate checks exist.";

/// Makes the client's TCP socket (IPv6 when the argument is true) somewhere other than the
/// current network namespace: the lab uses it to put the client at the far end of its cable.
#[derive(Clone)]
pub struct SocketFactory(pub Arc<dyn Fn(bool) -> std::io::Result<socket2::Socket> + Send + Sync>);

impl std::fmt::Debug for SocketFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SocketFactory")
    }
}

/// Settings for [`ChatClient::connect`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The server, as `host:port` (`localhost:8443`, `127.0.0.1:8443`, `[::1]:8443`).
    pub connect: String,
    /// The name to announce with `/name`; `None` leaves the server to call us `guest-N`.
    pub name: Option<String>,
    /// TLS 1.3, TLS 1.2 or plain TCP.
    pub transport: Transport,
    /// How to check the server's certificate.
    pub trust: Trust,
    /// TCP maximum segment size to announce in the SYN (TCP_MAXSEG), in bytes.
    pub mss: Option<u32>,
    /// Some(true) disables Nagle's algorithm (TCP_NODELAY): small writes leave at once.
    pub no_delay: Option<bool>,
    /// The most application bytes rustls puts in one TLS record.
    pub max_fragment: Option<usize>,
    /// Where to create the socket (default: here).
    pub socket_factory: Option<SocketFactory>,
    /// The name to check the certificate against, when not the host in `connect` (like curl's
    /// `--resolve`: connect to an address, verify a name).
    pub server_name: Option<String>,
    /// The congestion control algorithm for the socket (TCP_CONGESTION: "cubic", "reno", "bbr");
    /// `None` keeps the system's default.
    pub congestion: Option<String>,
}

impl ClientOptions {
    /// Defaults for a client of a local server: TLS 1.3, trusting `certs/ca.pem`.
    pub fn new(connect: impl Into<String>) -> Self {
        ClientOptions {
            connect: connect.into(),
            name: None,
            transport: Transport::Tls13,
            trust: Trust::Ca(super::certs::CertPaths::in_dir(super::certs::DEFAULT_DIR).ca_cert),
            mss: None,
            no_delay: None,
            max_fragment: None,
            socket_factory: None,
            server_name: None,
            congestion: None,
        }
    }
}

type Reader = FramedRead<tokio::io::ReadHalf<Box<dyn ClientStream>>, ChatCodec>;
type Writer = FramedWrite<tokio::io::WriteHalf<Box<dyn ClientStream>>, ChatCodec>;

/// A stream the client talks over, whatever carries it.
pub(crate) trait ClientStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ClientStream for T {}

/// A connected chat client.
pub struct ChatClient {
    reader: Reader,
    writer: Writer,
    conn: ConnId,
}

/// The host part of `host:port`, without IPv6 brackets.
fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') => host,
        _ => addr,
    }
}

/// Explains a failed TLS handshake in one sentence.
fn handshake_error(e: std::io::Error, options: &ClientOptions) -> ChatError {
    use rustls::CertificateError;
    let addr = options.connect.clone();
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        )) => {
            let ca = match &options.trust {
                Trust::Ca(path) => path.display().to_string(),
                Trust::Insecure => "(none)".into(),
            };
            ChatError::UnknownCa { ca }
        }
        Some(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => ChatError::NameMismatch {
            name: options
                .server_name
                .clone()
                .unwrap_or_else(|| host_of(&options.connect).to_string()),
        },
        Some(rustls::Error::InvalidMessage(_)) => ChatError::NotTls(addr),
        Some(other) => ChatError::Handshake {
            addr,
            reason: other.to_string(),
        },
        None if e.kind() == std::io::ErrorKind::UnexpectedEof
            || e.kind() == std::io::ErrorKind::ConnectionReset =>
        {
            ChatError::Handshake {
                addr,
                reason: "the server closed the connection during the handshake: it may be busy (too many connections at once, or from your address; try again later), or it is a plain server (add --plain), or it uses another TLS version (try --tls-version)".into(),
            }
        }
        None => ChatError::Handshake {
            addr,
            reason: e.to_string(),
        },
    }
}

async fn open_tcp(options: &ClientOptions) -> Result<TcpStream, ChatError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&options.connect)
        .await
        .map_err(|reason| ChatError::Connect {
            addr: options.connect.clone(),
            reason,
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        let socket = match &options.socket_factory {
            Some(factory) => {
                let socket = (factory.0)(addr.is_ipv6())?;
                socket.set_nonblocking(true)?;
                TcpSocket::from_std_stream(std::net::TcpStream::from(socket))
            }
            None if addr.is_ipv4() => TcpSocket::new_v4()?,
            None => TcpSocket::new_v6()?,
        };
        if let Some(mss) = options.mss {
            // TCP_MAXSEG before connect(): the SYN then announces this MSS (RFC 9293 §3.7.1).
            socket2::SockRef::from(&socket).set_tcp_mss(mss)?;
        }
        if let Some(no_delay) = options.no_delay {
            socket.set_nodelay(no_delay)?;
        }
        if let Some(algorithm) = &options.congestion {
            socket2::SockRef::from(&socket)
                .set_tcp_congestion(algorithm.as_bytes())
                .map_err(|reason| ChatError::Congestion {
                    algorithm: algorithm.clone(),
                    reason,
                    available: std::fs::read_to_string(
                        "/proc/sys/net/ipv4/tcp_available_congestion_control",
                    )
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                })?;
        }
        match socket.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            ChatError::Refused(addr.to_string())
        }
        Some((addr, reason)) => ChatError::Connect {
            addr: addr.to_string(),
            reason,
        },
        None => ChatError::Connect {
            addr: options.connect.clone(),
            reason: std::io::Error::new(std::io::ErrorKind::NotFound, "no address found"),
        },
    })
}

/// Connects and completes the TLS handshake if any: the stream (tapped, as the client's end),
/// the connection's 4-tuple, and a second descriptor of the TCP socket (to read TCP_INFO from
/// while the stream is in use).
pub(crate) async fn open_stream(
    options: &ClientOptions,
    tap: &Tap,
    key_log: Arc<dyn rustls::KeyLog>,
) -> Result<(Box<dyn ClientStream>, ConnId, std::os::fd::OwnedFd), ChatError> {
    let tcp = open_tcp(options).await?;
    let conn = ConnId {
        client: tcp.local_addr()?,
        server: tcp.peer_addr()?,
    };
    let fd = std::os::fd::AsFd::as_fd(&tcp).try_clone_to_owned()?;
    let stream: Box<dyn ClientStream> = if options.transport.is_tls() {
        let config = client_config(
            &options.trust,
            options.transport,
            options.max_fragment,
            key_log,
        )?;
        let name = options
            .server_name
            .clone()
            .unwrap_or_else(|| host_of(&options.connect).to_string());
        let server_name = ServerName::try_from(name)
            .map_err(|e| ChatError::Config(format!("bad server name: {e}")))?;
        let tls = TlsConnector::from(config)
            .connect(server_name, tcp)
            .await
            .map_err(|e| handshake_error(e, options))?;
        Box::new(tap.wrap(tls, conn, Side::Client))
    } else {
        Box::new(tap.wrap(tcp, conn, Side::Client))
    };
    Ok((stream, conn, fd))
}

impl ChatClient {
    /// Connects, completes the TLS handshake if any, and announces the name.
    pub async fn connect(
        options: &ClientOptions,
        tap: &Tap,
        key_log: Arc<dyn rustls::KeyLog>,
    ) -> Result<ChatClient, ChatError> {
        let (stream, conn, _) = open_stream(options, tap, key_log).await?;
        let (read_half, write_half) = tokio::io::split(stream);
        let mut client = ChatClient {
            // Lossy: a line from the server that is not UTF-8 is shown, not a fatal error.
            reader: FramedRead::new(read_half, ChatCodec::lossy()),
            writer: FramedWrite::new(write_half, ChatCodec::default()),
            conn,
        };
        if let Some(name) = &options.name {
            client.send(&format!("/name {name}")).await?;
        }
        Ok(client)
    }

    /// The connection's 4-tuple.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// Sends one line (the `\n` is added). One call is one application write.
    pub async fn send(&mut self, line: &str) -> Result<(), ChatError> {
        self.writer.send(line).await.map_err(codec_error)
    }

    /// Sends raw bytes exactly as given, as one application write (for lessons and tests).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ChatError> {
        let inner = self.writer.get_mut();
        inner.write_all(bytes).await?;
        inner.flush().await?;
        Ok(())
    }

    /// The next line from the server, or `None` when the server closed the connection.
    pub async fn next_line(&mut self) -> Result<Option<String>, ChatError> {
        match self.reader.next().await {
            None => Ok(None),
            Some(Ok(line)) => Ok(Some(line)),
            Some(Err(e)) => Err(codec_error(e)),
        }
    }

    /// Closes the connection politely (TLS close_notify, then TCP FIN).
    pub async fn close(mut self) -> Result<(), ChatError> {
        SinkExt::<&str>::close(&mut self.writer)
            .await
            .map_err(codec_error)
    }

    /// Splits the client into a sending half and a receiving half, to use from two tasks.
    pub fn into_split(self) -> (LineSender, LineReceiver) {
        (
            LineSender {
                writer: self.writer,
            },
            LineReceiver {
                reader: self.reader,
            },
        )
    }

    /// Chats interactively: lines from `input` are sent, lines from the server are written to
    /// `output`. Returns when the input ends (then closes politely) or the server closes.
    pub async fn run_interactive<I, O>(self, input: I, mut output: O) -> Result<(), ChatError>
    where
        I: AsyncBufRead + Unpin,
        O: AsyncWrite + Unpin,
    {
        let ChatClient {
            mut reader,
            mut writer,
            ..
        } = self;
        let mut input = input;
        let mut typed = Vec::new();
        // The server's last line: after an `error: ...` line (say, "the server is full") the
        // connection's end is expected and that line already said why.
        let mut told_why = false;
        loop {
            tokio::select! {
                read = input.read_until(b'\n', &mut typed) => {
                    let read = read?;
                    // A select! that chose the other branch may have left part of a line in
                    // `typed`; at the end of the input it is the last line, unterminated.
                    if read > 0 || !typed.is_empty() {
                        match typed_line(&typed) {
                            Ok(line) => {
                                if let Err(e) = writer.send(line).await {
                                    return ended(codec_error(e), told_why);
                                }
                            }
                            Err(e) => tracing::warn!(
                                "that line was not sent: it is not valid UTF-8 text ({e}); the \
                                 chat only carries UTF-8, so set your terminal or the program \
                                 feeding the client to UTF-8 and type it again"
                            ),
                        }
                        typed.clear();
                    }
                    if read == 0 {
                        if let Err(e) = SinkExt::<&str>::close(&mut writer).await {
                            return ended(codec_error(e), told_why);
                        }
                        // Keep printing until the server closes too.
                        while let Some(line) = reader.next().await {
                            let line = match line {
                                Ok(line) => line,
                                Err(e) => return ended(codec_error(e), told_why),
                            };
                            output.write_all(format!("{line}\n").as_bytes()).await?;
                        }
                        return Ok(());
                    }
                },
                line = reader.next() => match line {
                    None => return Ok(()),
                    Some(Err(e)) => return ended(codec_error(e), told_why),
                    Some(Ok(line)) => {
                        told_why = line.starts_with("error:");
                        output.write_all(format!("{line}\n").as_bytes()).await?;
                        output.flush().await?;
                    }
                },
            }
        }
    }
}

/// How a chat that the server ended is reported: not at all if the server said why in its last
/// line; in words, not as a TLS library's message, if it closed without a TLS close_notify.
fn ended(e: ChatError, told_why: bool) -> Result<(), ChatError> {
    if told_why {
        return Ok(());
    }
    match e {
        ChatError::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            Err(ChatError::Ended(
                "the server ended the connection without saying goodbye (no TLS close_notify): \
                 it stopped, or it disconnected this client (a client that does not read what \
                 the chat sends it is disconnected after a few seconds)"
                    .into(),
            ))
        }
        other => Err(other),
    }
}

/// A line typed at the client, without its line ending, if it is UTF-8 text.
fn typed_line(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    std::str::from_utf8(bytes)
}

/// The sending half of a [`ChatClient`].
pub struct LineSender {
    writer: Writer,
}

impl LineSender {
    /// Sends one line (the `\n` is added). One call is one application write.
    pub async fn send(&mut self, line: &str) -> Result<(), ChatError> {
        self.writer.send(line).await.map_err(codec_error)
    }

    /// Closes the sending direction politely (TLS close_notify, then TCP FIN).
    pub async fn close(mut self) -> Result<(), ChatError> {
        SinkExt::<&str>::close(&mut self.writer)
            .await
            .map_err(codec_error)
    }
}

/// The receiving half of a [`ChatClient`].
pub struct LineReceiver {
    reader: Reader,
}

impl LineReceiver {
    /// The next line from the server, or `None` when the server closed the connection.
    pub async fn next_line(&mut self) -> Result<Option<String>, ChatError> {
        match self.reader.next().await {
            None => Ok(None),
            Some(Ok(line)) => Ok(Some(line)),
            Some(Err(e)) => Err(codec_error(e)),
        }
    }
}

fn codec_error(e: tokio_util::codec::LinesCodecError) -> ChatError {
    match e {
        tokio_util::codec::LinesCodecError::Io(e) => ChatError::Io(e),
        tokio_util::codec::LinesCodecError::MaxLineLengthExceeded => ChatError::Io(
            std::io::Error::new(std::io::ErrorKind::InvalidData, "line too long"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts() {
        assert_eq!(host_of("localhost:8443"), "localhost");
        assert_eq!(host_of("[::1]:8443"), "::1");
        assert_eq!(host_of("127.0.0.1:1"), "127.0.0.1");
    }
}
