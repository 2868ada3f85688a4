//! A man in the middle (`--attack mitm`): a program on a router of the path that takes the
//! client's connection in the server's name and makes its own to the real server, then relays
//! the chat line by line, reading every line and changing the client's.
//!
//! Over TLS it must show a certificate of its own: it has no key of the server's, and packetpath's
//! CA never signed anything of the attacker's, so it makes a CA of its own on the spot and signs a
//! certificate for the server's names with it. A client that verifies refuses it during the
//! handshake (an `unknown_ca` alert, RFC 8446 §6.2); a client that does not verify (`--insecure`)
//! gets two TLS sessions with two sets of keys — one with the attacker, one from the attacker to
//! the server — and the attacker reads everything in between. Over plain TCP there is nothing to
//! refuse.
//!
//! The attacker appends [`MARK`] to each line from the client and takes it out of every line
//! towards the client (the server's acknowledgment quotes the line it got), so neither end sees a
//! sign of it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::client::{ClientOptions, SocketFactory};
use super::config::{server_config_from_pem, Transport, Trust};
use super::tap::Tap;
use super::ChatError;

/// What the attacker appends to every line a client sends.
pub const MARK: &str = " [changed by the attacker]";

/// One line the attacker relayed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RelayedLine {
    /// The client's address and port (on its side of the attacker).
    pub client: SocketAddr,
    /// True from the client to the server.
    pub to_server: bool,
    /// The line as the attacker read it (in clear, whatever the encryption on the wire).
    pub read: String,
    /// The line as the attacker sent it on.
    pub sent: String,
    /// When the attacker read it (wall clock, as the capture's times).
    #[serde(skip)]
    pub at: crate::frame::Timestamp,
}

/// What the attacker saw: every line it relayed, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MitmLog {
    /// Every line relayed, in order.
    pub lines: Vec<RelayedLine>,
}

/// The attacker, ready to run.
pub struct Mitm {
    listener: std::net::TcpListener,
    relay: Relay,
    ca_name: Option<String>,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Mitm {
    /// An attacker accepting on `listener` (connections meant for `server`), connecting to the
    /// server with sockets from `upstream`, speaking `transport` on both sides, showing the
    /// certificate of `certificate` (`None`: one of its own CA, made now); its TLS secrets go to
    /// `key_log` (so the capture of both sessions can be read).
    pub fn new(
        listener: std::net::TcpListener,
        upstream: SocketFactory,
        server: SocketAddr,
        transport: Transport,
        certificate: Option<super::certs::CertSet>,
        key_log: Arc<dyn rustls::KeyLog>,
    ) -> Result<Mitm, ChatError> {
        let (tls, ca_name) = if transport.is_tls() {
            let set = match certificate {
                Some(set) => set,
                None => super::certs::attacker_set()?,
            };
            let config = server_config_from_pem(&set, transport, key_log.clone())?;
            (Some(config), Some(set.ca_name))
        } else {
            (None, None)
        };
        Ok(Mitm {
            listener,
            relay: Relay {
                upstream,
                server,
                transport,
                tls,
                key_log,
                log: Arc::new(Mutex::new(MitmLog::default())),
            },
            ca_name,
        })
    }

    /// What the attacker saw so far (shared: it grows while the attacker runs).
    pub fn log(&self) -> Arc<Mutex<MitmLog>> {
        self.relay.log.clone()
    }

    /// The name of the CA the attacker made (over TLS).
    pub fn ca_name(&self) -> Option<&str> {
        self.ca_name.as_deref()
    }

    /// Accepts and relays until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ChatError> {
        let listener = TcpListener::from_std(self.listener)?;
        let tracker = TaskTracker::new();
        let this = Arc::new(self.relay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, client)) => {
                        let relay = this.clone();
                        let stop = shutdown.clone();
                        tracker.spawn(async move {
                            tokio::select! {
                                _ = stop.cancelled() => {}
                                _ = relay.one(stream, client) => {}
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!("the attacker could not accept a connection: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                },
            }
        }
        tracker.close();
        tracker.wait().await;
        Ok(())
    }
}

/// What relays each connection: the way to the server, the certificate to show, the log.
struct Relay {
    upstream: SocketFactory,
    server: SocketAddr,
    transport: Transport,
    tls: Option<Arc<rustls::ServerConfig>>,
    key_log: Arc<dyn rustls::KeyLog>,
    log: Arc<Mutex<MitmLog>>,
}

impl Relay {
    fn note(&self, f: impl FnOnce(&mut MitmLog)) {
        if let Ok(mut log) = self.log.lock() {
            f(&mut log);
        }
    }

    /// Takes one client's connection and relays it to the server.
    async fn one(&self, stream: tokio::net::TcpStream, client: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let down: Box<dyn Stream> = match &self.tls {
            Some(config) => match TlsAcceptor::from(config.clone()).accept(stream).await {
                Ok(tls) => Box::new(tls),
                Err(e) => {
                    tracing::info!("attacker: {client} refused the attacker's certificate: {e}");
                    return;
                }
            },
            None => Box::new(stream),
        };
        let mut options = ClientOptions::new(self.server.to_string());
        options.transport = self.transport;
        // The attacker does not care whom it talks to.
        options.trust = Trust::Insecure;
        options.no_delay = Some(true);
        options.socket_factory = Some(self.upstream.clone());
        options.server_name = Some("localhost".into());
        let up =
            match super::client::open_stream(&options, &Tap::none(), self.key_log.clone()).await {
                Ok((up, _, _)) => up,
                Err(e) => {
                    tracing::warn!("attacker: could not reach the server for {client}: {e}");
                    return;
                }
            };
        tracing::info!("attacker: relaying {client} to {}", self.server);
        let (down_read, down_write) = tokio::io::split(down);
        let (up_read, up_write) = tokio::io::split(up);
        tokio::join!(
            self.pump(down_read, up_write, client, true),
            self.pump(up_read, down_write, client, false),
        );
    }

    /// Relays lines one way until the reading side ends, then ends the writing side.
    async fn pump(
        &self,
        from: impl AsyncRead + Unpin,
        mut to: impl AsyncWrite + Unpin,
        client: SocketAddr,
        to_server: bool,
    ) {
        let mut lines = BufReader::new(from).lines();
        while let Ok(Some(read)) = lines.next_line().await {
            let sent = rewrite(&read, to_server);
            tracing::info!(
                "attacker read {} \"{read}\"{}",
                if to_server {
                    "from the client"
                } else {
                    "from the server"
                },
                if sent != read {
                    format!(", sent \"{sent}\"")
                } else {
                    String::new()
                }
            );
            let out = format!("{sent}\n");
            self.note(|log| {
                log.lines.push(RelayedLine {
                    client,
                    to_server,
                    read,
                    sent,
                    at: crate::frame::Timestamp::now(),
                })
            });
            if to.write_all(out.as_bytes()).await.is_err() || to.flush().await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    }
}

/// The attacker's change to one line: a client's chat line gets [`MARK`] (its commands, such as
/// `/name`, pass unchanged), and every line towards a client loses it.
pub fn rewrite(line: &str, to_server: bool) -> String {
    if to_server {
        if line.starts_with('/') || line.is_empty() {
            line.to_string()
        } else {
            format!("{line}{MARK}")
        }
    } else {
        line.replace(MARK, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attacker_marks_chat_lines_and_hides_the_mark_from_clients() {
        assert_eq!(rewrite("hi there", true), format!("hi there{MARK}"));
        assert_eq!(rewrite("/name alice", true), "/name alice");
        assert_eq!(
            rewrite(&format!("server: received \"hi there{MARK}\""), false),
            "server: received \"hi there\""
        );
        assert_eq!(rewrite("bob: hello", false), "bob: hello");
    }
}
