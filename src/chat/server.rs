//! The chat server: accepts many clients (TLS or plain TCP), relays each line a client sends to every
//! other client as `name: text`, announces joins and leaves, and answers a client that is alone so
//! every message has a way back.
//!
//! Each connection has two tasks: a reader that parses lines and a writer that drains the
//! connection's queue. The room is a map from connection to queue. Shutdown is a broadcast
//! ([`CancellationToken`]) followed by waiting for every connection task ([`TaskTracker`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::protocol::{parse_name, ChatCodec, LineProblem};
use super::tap::{ConnId, Side, Tap};
use super::ChatError;

/// How many clients may be connected at once by default.
pub const DEFAULT_MAX_CLIENTS: usize = 1024;

/// How many lines may wait for a slow client before the server waits (and, after
/// [`SLOW_CLIENT_TIMEOUT`], gives up on that client).
const QUEUE_LEN: usize = 4096;
const SLOW_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings for [`Server::bind`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// TLS settings, or `None` for plain TCP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The most clients connected at once; one more is told the server is full.
    pub max_clients: usize,
    /// Where application writes and reads are reported.
    pub tap: Tap,
}

/// A bound chat server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    max_clients: usize,
    tap: Tap,
}

type Line = Arc<str>;

struct Member {
    name: String,
    queue: mpsc::Sender<Line>,
}

#[derive(Default)]
struct Room {
    members: Mutex<HashMap<u64, Member>>,
    next_guest: AtomicU64,
}

impl Room {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Member>> {
        match self.members.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Queues `line` for every member except `except`. Returns how many received it.
    async fn broadcast(&self, except: Option<u64>, line: Line) -> usize {
        let targets: Vec<(u64, mpsc::Sender<Line>)> = self
            .lock()
            .iter()
            .filter(|(id, _)| Some(**id) != except)
            .map(|(id, m)| (*id, m.queue.clone()))
            .collect();
        let mut delivered = 0;
        for (id, queue) in targets {
            if deliver(&queue, line.clone()).await {
                delivered += 1;
            } else if let Some(member) = self.lock().remove(&id) {
                tracing::warn!(name = %member.name, "client too slow to keep up; disconnecting it");
            }
        }
        delivered
    }

    fn others(&self, id: u64) -> usize {
        self.lock().keys().filter(|k| **k != id).count()
    }
}

/// Puts a line in a client's queue, waiting a while if it is full. False if the client is gone or stuck.
async fn deliver(queue: &mpsc::Sender<Line>, line: Line) -> bool {
    match queue.try_send(line) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Closed(_)) => false,
        Err(mpsc::error::TrySendError::Full(line)) => {
            matches!(
                tokio::time::timeout(SLOW_CLIENT_TIMEOUT, queue.send(line)).await,
                Ok(Ok(()))
            )
        }
    }
}

impl Server {
    /// Opens the listening socket.
    pub async fn bind(options: ServerOptions) -> Result<Server, ChatError> {
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| ChatError::Listen {
                    addr: options.listen,
                    source,
                })?;
        Ok(Server {
            listener,
            acceptor: options.tls.map(TlsAcceptor::from),
            max_clients: options.max_clients.max(1),
            tap: options.tap,
        })
    }

    /// The address the server listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, ChatError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves clients until `shutdown` is cancelled, then tells every client, closes every
    /// connection (with a TLS close_notify) and returns.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ChatError> {
        let room = Arc::new(Room::default());
        let limit = Arc::new(Semaphore::new(self.max_clients));
        let tracker = TaskTracker::new();
        let mut next_id: u64 = 0;
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = self.listener.accept() => accepted,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Running out of file descriptors must not end the server: wait and retry.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Relayed lines should leave at once; Nagle's algorithm is a client-side lesson.
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY: {e}");
            }
            next_id += 1;
            let conn = Connection {
                id: next_id,
                room: room.clone(),
                acceptor: self.acceptor.clone(),
                tap: self.tap.clone(),
                shutdown: shutdown.clone(),
            };
            let permit = limit.clone().try_acquire_owned().ok();
            let max = self.max_clients;
            tracker.spawn(async move {
                match permit {
                    Some(_permit) => conn.serve(tcp, peer).await,
                    None => conn.refuse(tcp, peer, max).await,
                }
            });
        }
        tracker.close();
        tracker.wait().await;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// A stream the chat can read lines from and write lines to, whatever carries it.
trait ChatStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ChatStream for T {}

struct Connection {
    id: u64,
    room: Arc<Room>,
    acceptor: Option<TlsAcceptor>,
    tap: Tap,
    shutdown: CancellationToken,
}

impl Connection {
    async fn open(&self, tcp: TcpStream, peer: SocketAddr) -> Option<Box<dyn ChatStream>> {
        let local = tcp.local_addr().ok()?;
        let conn = ConnId {
            client: peer,
            server: local,
        };
        match &self.acceptor {
            None => Some(Box::new(self.tap.wrap(tcp, conn, Side::Server))),
            Some(acceptor) => {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => Some(Box::new(self.tap.wrap(tls, conn, Side::Server))),
                    Ok(Err(e)) => {
                        tracing::warn!(%peer, "TLS handshake failed: {e}");
                        None
                    }
                    Err(_) => {
                        tracing::warn!(%peer, "TLS handshake timed out");
                        None
                    }
                }
            }
        }
    }

    async fn refuse(self, tcp: TcpStream, peer: SocketAddr, max: usize) {
        tracing::warn!(%peer, "refusing a client: the server is full ({max} clients)");
        if let Some(stream) = self.open(tcp, peer).await {
            let mut writer = FramedWrite::new(stream, ChatCodec::default());
            let _ = writer
                .send(format!(
                    "error: the server is full ({max} clients); try again later"
                ))
                .await;
            let _ = SinkExt::<&str>::close(&mut writer).await;
        }
    }

    async fn serve(self, tcp: TcpStream, peer: SocketAddr) {
        let Some(stream) = self.open(tcp, peer).await else {
            return;
        };
        let (read_half, write_half) = tokio::io::split(stream);
        let mut lines = FramedRead::new(read_half, ChatCodec::default());
        let (queue, mut outbox) = mpsc::channel::<Line>(QUEUE_LEN);
        let writer = tokio::spawn(async move {
            let mut sink = FramedWrite::new(write_half, ChatCodec::default());
            while let Some(line) = outbox.recv().await {
                if let Err(e) = sink.send(&*line).await {
                    tracing::debug!("write to client failed: {e}");
                    return;
                }
            }
            // Queue closed: say goodbye properly (TLS close_notify, then FIN).
            let _ = SinkExt::<&str>::close(&mut sink).await;
        });

        let guest = format!(
            "guest-{}",
            self.room.next_guest.fetch_add(1, Ordering::Relaxed) + 1
        );
        self.room.lock().insert(
            self.id,
            Member {
                name: guest.clone(),
                queue: queue.clone(),
            },
        );
        tracing::info!(%peer, "client connected");

        let mut name: Option<String> = None;
        loop {
            let next = tokio::select! {
                _ = self.shutdown.cancelled() => {
                    let _ = deliver(&queue, "* server shutting down".into()).await;
                    break;
                }
                next = lines.next() => next,
            };
            let line = match next {
                None => break,
                Some(Ok(line)) => line,
                Some(Err(e)) => {
                    match LineProblem::from_codec(&e) {
                        Some(problem) => {
                            tracing::warn!(%peer, "closing a connection: {}", problem.message());
                            let _ = deliver(&queue, problem.message().into()).await;
                        }
                        None => tracing::debug!(%peer, "connection failed: {e}"),
                    }
                    break;
                }
            };
            if name.is_none() {
                let chosen = match parse_name(&line) {
                    Some(Ok(chosen)) => chosen,
                    Some(Err(reason)) => {
                        let _ = deliver(&queue, format!("error: {reason}").into()).await;
                        continue;
                    }
                    None => guest.clone(),
                };
                self.join(&queue, &chosen).await;
                let was_name_command = parse_name(&line).is_some();
                name = Some(chosen);
                if was_name_command {
                    continue;
                }
            }
            let sender = name.as_deref().unwrap_or(&guest);
            self.relay(&queue, sender, &line).await;
        }

        self.room.lock().remove(&self.id);
        if let (Some(name), false) = (&name, self.shutdown.is_cancelled()) {
            self.room
                .broadcast(Some(self.id), format!("* {name} left").into())
                .await;
        }
        tracing::info!(%peer, "client disconnected");
        drop(queue);
        let _ = writer.await;
    }

    async fn join(&self, queue: &mpsc::Sender<Line>, name: &str) {
        if let Some(member) = self.room.lock().get_mut(&self.id) {
            member.name = name.to_string();
        }
        let others = self.room.others(self.id);
        let _ = deliver(
            queue,
            format!("* welcome, {name} ({} online)", others + 1).into(),
        )
        .await;
        self.room
            .broadcast(
                Some(self.id),
                format!("* {name} joined ({} online)", others + 1).into(),
            )
            .await;
    }

    async fn relay(&self, queue: &mpsc::Sender<Line>, sender: &str, text: &str) {
        let delivered = self
            .room
            .broadcast(Some(self.id), format!("{sender}: {text}").into())
            .await;
        if delivered == 0 {
            // Alone in the room: answer, so the message still has a way back down the stack.
            let _ = deliver(queue, format!("server: received {text:?}").into()).await;
        }
    }
}
