//! The chat server: accepts many clients (TLS or plain TCP), relays each line a client sends to every
//! other client as `name: text`, announces joins and leaves, and answers a client that is alone so
//! every message has a way back.
//!
//! Each connection has two tasks: a reader that parses lines and a writer that drains the
//! connection's queue. The room is a map from connection to queue. Shutdown is a broadcast
//! ([`CancellationToken`]) followed by waiting for every connection task ([`TaskTracker`]).
//!
//! Defences, each against one way a few peers could spoil the chat for everyone:
//! - a chat slot is taken only after the TLS handshake; handshakes in progress have their own
//!   bound, and a per-source-address bound (connections over it are closed at once);
//! - a client that does not read is disconnected: when a write to it makes no progress for
//!   [`STALL_TIMEOUT`], or when more than [`MAX_QUEUED_BYTES`] wait for it;
//! - a client that sends faster than the others read is slowed down, not the others: each sender
//!   has a budget of [`SENDER_BUDGET`] bytes of its lines not yet written to every recipient, and
//!   the server stops reading from it (TCP flow control does the rest) until they are;
//! - the limits stay below the file-descriptor limit, and running out of descriptors anyway
//!   (EMFILE) makes the server back off instead of spinning;
//! - names are unique (a second `alice` becomes `alice-2`) and `server` is reserved.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::limits::{self, Limits};
use super::protocol::{parse_name, ChatCodec, LineProblem, MAX_NAME};
use super::tap::{ConnId, Side, Tap};
use super::ChatError;

/// How many clients may be connected at once by default (lowered to fit the fd limit).
pub const DEFAULT_MAX_CLIENTS: usize = 1024;

/// How many connections may be in their TLS handshake at once (lowered to fit the fd limit).
pub const MAX_HANDSHAKES: usize = 512;

/// How many connections from one source address may be in their TLS handshake at once; more are
/// closed as soon as they are accepted.
pub const MAX_HANDSHAKES_PER_ADDR: usize = 32;

/// The most bytes of lines that may wait for one client (a bound on memory). Since every sender
/// is held to [`SENDER_BUDGET`], only a reader behind several fast senders at once reaches it.
pub const MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;

/// How many bytes of a client's lines may wait to be written to the others before the server
/// stops reading from that client.
pub const SENDER_BUDGET: usize = 1024 * 1024;

/// A write to a client that makes no progress for this long means the client is not reading: it
/// is disconnected (and the senders waiting on it go on).
pub const STALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client may stay silent after its handshake before the server greets it as a guest
/// (for `openssl s_client`, `nc` and the like, which wait for the server to speak first).
pub const GREETING_DELAY: Duration = Duration::from_secs(1);

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a refusal ("the server is full") or a goodbye may take to write before we give up.
const WRITE_GRACE: Duration = Duration::from_secs(5);
/// Back-off after running out of file descriptors: first and longest wait.
const FD_BACKOFF_START: Duration = Duration::from_millis(10);
const FD_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// The least time between two "out of file descriptors" warnings.
const FD_WARN_EVERY: Duration = Duration::from_secs(10);
/// The most connections closed in one go while out of descriptors.
const BACKLOG_DRAIN: usize = 64;

/// Settings for [`Server::bind`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// TLS settings, or `None` for plain TCP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The most clients connected at once; one more is told the server is full. Lowered if the
    /// file-descriptor limit cannot hold that many.
    pub max_clients: usize,
    /// Where application writes and reads are reported.
    pub tap: Tap,
}

/// A bound chat server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    limits: Limits,
    tap: Tap,
}

/// A line on its way to clients. A relayed line carries its sender's budget: the bytes return to
/// the sender when the last recipient has written (or dropped) its copy.
#[derive(Clone)]
struct Line {
    text: Arc<str>,
    _credit: Option<Arc<OwnedSemaphorePermit>>,
}

impl Line {
    fn len(&self) -> usize {
        self.text.len()
    }
}

impl From<String> for Line {
    fn from(text: String) -> Line {
        Line {
            text: text.into(),
            _credit: None,
        }
    }
}

impl From<&str> for Line {
    fn from(text: &str) -> Line {
        Line {
            text: text.into(),
            _credit: None,
        }
    }
}

/// What became of a line handed to a client's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Queued,
    /// The client's connection has ended (it left or its connection failed).
    Gone,
    /// More than [`MAX_QUEUED_BYTES`] wait for the client; its connection is being closed.
    Overflow,
}

/// A client's queue of lines to write, bounded in bytes, and the token that disconnects it.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::UnboundedSender<Line>,
    queued: Arc<AtomicUsize>,
    /// Ends the connection (the reader and the writer): the client overflowed its queue, a write
    /// to it stalled, or a write failed.
    kick: CancellationToken,
    /// Set when the client was disconnected for not reading (as opposed to leaving).
    overflowed: Arc<AtomicBool>,
}

impl Outbox {
    fn new() -> (Outbox, mpsc::UnboundedReceiver<Line>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let outbox = Outbox {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            kick: CancellationToken::new(),
            overflowed: Arc::new(AtomicBool::new(false)),
        };
        (outbox, rx)
    }

    /// Queues a line without ever waiting: a client that cannot take it is disconnected instead.
    fn deliver(&self, line: Line) -> Delivery {
        let len = line.len();
        let before = self.queued.fetch_add(len, Ordering::SeqCst);
        if before + len > MAX_QUEUED_BYTES {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            self.overflowed.store(true, Ordering::SeqCst);
            self.kick.cancel();
            return Delivery::Overflow;
        }
        match self.tx.send(line) {
            Ok(()) => Delivery::Queued,
            Err(_) => {
                self.queued.fetch_sub(len, Ordering::SeqCst);
                Delivery::Gone
            }
        }
    }

    fn say(&self, line: impl Into<Line>) {
        let _ = self.deliver(line.into());
    }
}

struct Member {
    name: String,
    outbox: Outbox,
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

    /// Queues `line` for every member except `except`, never waiting. Returns how many received
    /// it. A member too far behind is removed (its connection closes).
    fn broadcast(&self, except: Option<u64>, line: Line) -> usize {
        let mut delivered = 0;
        let mut members = self.lock();
        let mut overflowed = Vec::new();
        for (id, member) in members.iter() {
            if Some(*id) == except {
                continue;
            }
            match member.outbox.deliver(line.clone()) {
                Delivery::Queued => delivered += 1,
                Delivery::Gone => {
                    tracing::debug!(name = %member.name, "client already left; not relaying to it")
                }
                Delivery::Overflow => overflowed.push(*id),
            }
        }
        let removed: Vec<String> = overflowed
            .into_iter()
            .filter_map(|id| members.remove(&id).map(|m| m.name))
            .collect();
        drop(members);
        for name in removed {
            tracing::warn!(
                %name,
                "client is not reading (more than {MAX_QUEUED_BYTES} bytes wait for it); disconnecting it"
            );
        }
        delivered
    }

    /// Adds client `id` to the room as `wanted` (made unique), queueing its welcome before any
    /// other line can reach it. Returns its name and how many are online, itself included.
    fn enter(&self, id: u64, wanted: &str, outbox: &Outbox, hint: bool) -> (String, usize) {
        let mut members = self.lock();
        let name = unique_name(&members, id, wanted);
        let online = members.len() + 1;
        let mut welcome = format!("* welcome, {name} ({online} online)");
        if name != wanted {
            welcome.push_str(&format!("; the name {wanted} is taken, so you are {name}"));
        }
        if hint {
            welcome.push_str("; send /name NAME to choose your name");
        }
        outbox.say(welcome);
        members.insert(
            id,
            Member {
                name: name.clone(),
                outbox: outbox.clone(),
            },
        );
        (name, online)
    }

    /// Renames member `id` to `wanted` (made unique); `None` if it is no longer in the room.
    fn rename(&self, id: u64, wanted: &str) -> Option<String> {
        let mut members = self.lock();
        let name = unique_name(&members, id, wanted);
        let member = members.get_mut(&id)?;
        member.name = name.clone();
        Some(name)
    }
}

/// `wanted`, or `wanted-2`, `wanted-3`, … if a member other than `id` already has it (names
/// compare case-insensitively).
fn unique_name(members: &HashMap<u64, Member>, id: u64, wanted: &str) -> String {
    let taken = |name: &str| {
        members
            .iter()
            .any(|(other, m)| *other != id && m.name.eq_ignore_ascii_case(name))
    };
    let mut name = wanted.to_string();
    // One of the first len+2 candidates is free: at most len members can hold the others.
    for n in 2..members.len() + 3 {
        if !taken(&name) {
            break;
        }
        // The suffix keeps the name within MAX_NAME, shortening `wanted` at a character boundary.
        let suffix = format!("-{n}");
        let mut keep = MAX_NAME.saturating_sub(suffix.len()).min(wanted.len());
        while !wanted.is_char_boundary(keep) {
            keep -= 1;
        }
        name = format!("{}{suffix}", &wanted[..keep]);
    }
    name
}

/// One of a source address's places (in the handshake, or in the chat), given back on drop.
struct AddrSlot {
    addr: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl AddrSlot {
    /// A place for `addr` if it holds fewer than `max`. The map holds only addresses with a
    /// place taken, so it cannot grow beyond the connections actually open.
    fn take(
        counts: &Arc<Mutex<HashMap<IpAddr, usize>>>,
        addr: IpAddr,
        max: usize,
    ) -> Option<AddrSlot> {
        let mut map = lock(counts);
        let count = map.get(&addr).copied().unwrap_or(0);
        if count >= max {
            return None;
        }
        map.insert(addr, count + 1);
        Some(AddrSlot {
            addr,
            counts: counts.clone(),
        })
    }
}

impl Drop for AddrSlot {
    fn drop(&mut self) {
        let mut map = lock(&self.counts);
        if let Some(count) = map.get_mut(&self.addr) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.addr);
            }
        }
    }
}

/// The handshakes in progress, oldest first. When all [`MAX_HANDSHAKES`] places are taken, the
/// oldest handshake is given up to make room for the newest: a real client completes its
/// handshake in milliseconds, so connections that sit silent cannot keep it out.
struct Handshakes {
    places: Arc<Semaphore>,
    oldest_first: Mutex<std::collections::VecDeque<(u64, CancellationToken)>>,
}

impl Handshakes {
    fn new(places: usize) -> Handshakes {
        Handshakes {
            places: Arc::new(Semaphore::new(places)),
            oldest_first: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// Waits for a place for connection `id`, giving up the oldest handshake if none is free.
    /// `None` if `id` itself is given up (or the server stops) first.
    async fn enter(
        &self,
        id: u64,
        given_up: &CancellationToken,
        shutdown: &CancellationToken,
    ) -> Option<OwnedSemaphorePermit> {
        lock(&self.oldest_first).push_back((id, given_up.clone()));
        if let Ok(place) = self.places.clone().try_acquire_owned() {
            return Some(place);
        }
        let oldest = lock(&self.oldest_first).pop_front();
        if let Some((oldest, token)) = oldest {
            if oldest == id {
                lock(&self.oldest_first).push_front((oldest, token));
            } else {
                tracing::debug!("all handshake places taken: giving up the oldest handshake");
                token.cancel();
            }
        }
        tokio::select! {
            place = self.places.clone().acquire_owned() => place.ok(),
            _ = given_up.cancelled() => None,
            _ = shutdown.cancelled() => None,
        }
    }

    /// Connection `id` is out of its handshake (done, failed or given up).
    fn left(&self, id: u64) {
        lock(&self.oldest_first).retain(|(other, _)| *other != id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Server {
    /// Opens the listening socket. The client and handshake limits are fitted under the current
    /// file-descriptor limit (see [`limits::raise_fd_limit`] to raise it first).
    pub async fn bind(options: ServerOptions) -> Result<Server, ChatError> {
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|reason| ChatError::Listen {
                    addr: options.listen,
                    reason,
                })?;
        let fd_limit = limits::fd_limit();
        let limits = Limits::fitting(
            options.max_clients,
            MAX_HANDSHAKES,
            MAX_HANDSHAKES_PER_ADDR,
            fd_limit,
        );
        if limits.clients < options.max_clients {
            tracing::info!(
                "open-file limit {}: at most {} clients (and {} handshakes) at once",
                fd_limit.unwrap_or_default(),
                limits.clients,
                limits.handshakes
            );
        }
        Ok(Server {
            listener,
            acceptor: options.tls.map(TlsAcceptor::from),
            limits,
            tap: options.tap,
        })
    }

    /// The address the server listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, ChatError> {
        Ok(self.listener.local_addr()?)
    }

    /// The most clients this server serves at once (after fitting under the fd limit).
    pub fn max_clients(&self) -> usize {
        self.limits.clients
    }

    /// Serves clients until `shutdown` is cancelled, then tells every client, closes every
    /// connection (with a TLS close_notify) and returns.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ChatError> {
        let room = Arc::new(Room::default());
        let clients = Arc::new(Semaphore::new(self.limits.clients));
        let handshakes = Arc::new(Handshakes::new(self.limits.handshakes));
        let handshakes_per_addr = Arc::new(Mutex::new(HashMap::new()));
        let clients_per_addr = Arc::new(Mutex::new(HashMap::new()));
        // A spare descriptor: when none is left, closing it lets us accept (and close) one
        // connection, so a waiting client learns at once instead of hanging in the backlog.
        let mut reserve = open_reserve();
        let mut backoff: Option<Duration> = None;
        let mut episodes: u64 = 0;
        let mut fd_warned_at: Option<std::time::Instant> = None;
        let tracker = TaskTracker::new();
        let mut next_id: u64 = 0;
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = self.listener.accept() => accepted,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) if limits::out_of_fds(&e) => {
                    let wait = match backoff {
                        None => FD_BACKOFF_START,
                        Some(wait) => (wait * 2).min(FD_BACKOFF_MAX),
                    };
                    if backoff.is_none() {
                        episodes += 1;
                        // One warning per back-off episode, and at most one every FD_WARN_EVERY.
                        if fd_warned_at.is_none_or(|at| at.elapsed() >= FD_WARN_EVERY) {
                            tracing::warn!(
                                "out of file descriptors ({e}); closing new connections until some \
                                 are free ({episodes} time(s) so far; raise `ulimit -n`)"
                            );
                            fd_warned_at = Some(std::time::Instant::now());
                        }
                    }
                    backoff = Some(wait);
                    // With the reserve descriptor free, accept and close what waits in the
                    // backlog, so those clients learn at once instead of hanging.
                    drop(reserve.take());
                    for _ in 0..BACKLOG_DRAIN {
                        match self.listener.accept().now_or_never() {
                            Some(Ok((tcp, _))) => self.turn_away(tcp),
                            _ => break,
                        }
                    }
                    reserve = open_reserve();
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    continue;
                }
            };
            if backoff.take().is_some() {
                tracing::debug!("file descriptors available again; accepting connections");
            }
            let Some(slot) = AddrSlot::take(
                &handshakes_per_addr,
                peer.ip(),
                self.limits.handshakes_per_addr,
            ) else {
                // Too many handshakes in progress from this address: close at once.
                if noisy_allowed() {
                    tracing::info!(
                        %peer,
                        "too many connections from this address still in their handshake; closed"
                    );
                }
                drop(tcp);
                continue;
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
            let clients = clients.clone();
            let max = self.limits.clients;
            let (handshakes, clients_per_addr) = (handshakes.clone(), clients_per_addr.clone());
            let max_per_addr = self.limits.clients_per_addr;
            tracker.spawn(async move {
                let given_up = CancellationToken::new();
                let Some(place) = handshakes.enter(conn.id, &given_up, &conn.shutdown).await else {
                    handshakes.left(conn.id);
                    return;
                };
                let opened = conn.open(tcp, peer, &given_up).await;
                handshakes.left(conn.id);
                drop(place);
                let Some(stream) = opened else {
                    return;
                };
                let Some(addr_slot) = AddrSlot::take(&clients_per_addr, peer.ip(), max_per_addr)
                else {
                    drop(slot);
                    refuse(
                        stream,
                        peer,
                        format!(
                            "error: too many clients from your address ({max_per_addr}); try \
                             again later"
                        ),
                    )
                    .await;
                    return;
                };
                match clients.try_acquire_owned() {
                    Ok(permit) => {
                        drop(slot);
                        conn.serve(stream, peer).await;
                        drop((permit, addr_slot));
                    }
                    Err(_) => {
                        drop(slot);
                        refuse(
                            stream,
                            peer,
                            format!("error: the server is full ({max} clients); try again later"),
                        )
                        .await;
                    }
                }
            });
        }
        tracker.close();
        tracker.wait().await;
        tracing::info!("server stopped");
        Ok(())
    }

    /// Closes a connection accepted while out of descriptors; a plain client is told why.
    fn turn_away(&self, tcp: TcpStream) {
        if self.acceptor.is_none() {
            let _ = tcp.try_write(b"error: the server is full; try again later\n");
        }
        drop(tcp);
    }
}

/// Log lines a client can cause at will (a refused or failed handshake, a bad line): at most
/// [`NOISY_BURST`] per [`NOISY_WINDOW`], then one line saying how many were left out, so that a
/// flood of connections cannot flood the log too.
const NOISY_BURST: u64 = 20;
const NOISY_WINDOW: Duration = Duration::from_secs(10);

/// Whether a client-caused log line may be written now (see [`NOISY_BURST`]).
fn noisy_allowed() -> bool {
    static STATE: Mutex<Option<(std::time::Instant, u64, u64)>> = Mutex::new(None);
    let mut state = lock(&STATE);
    let now = std::time::Instant::now();
    let (start, written, left_out) = state.get_or_insert((now, 0, 0));
    if now.duration_since(*start) >= NOISY_WINDOW {
        if *left_out > 0 {
            tracing::info!(
                "{left_out} similar lines about clients were left out of the log in the last {} s",
                NOISY_WINDOW.as_secs()
            );
        }
        (*start, *written, *left_out) = (now, 0, 0);
    }
    if *written < NOISY_BURST {
        *written += 1;
        true
    } else {
        *left_out += 1;
        false
    }
}

fn open_reserve() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null")
        .inspect_err(|e| tracing::debug!("cannot open a reserve descriptor: {e}"))
        .ok()
}

/// Tells a client why it cannot join (`why`, an `error:` line), then closes (bounded in time).
async fn refuse(stream: Box<dyn ChatStream>, peer: SocketAddr, why: String) {
    if noisy_allowed() {
        tracing::info!(%peer, "refusing a client: {why}");
    }
    let mut writer = FramedWrite::new(stream, ChatCodec::default());
    let _ = tokio::time::timeout(WRITE_GRACE, async {
        let _ = writer.send(why).await;
        let _ = SinkExt::<&str>::close(&mut writer).await;
    })
    .await;
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
    async fn open(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        given_up: &CancellationToken,
    ) -> Option<Box<dyn ChatStream>> {
        let local = tcp.local_addr().ok()?;
        let conn = ConnId {
            client: peer,
            server: local,
        };
        match &self.acceptor {
            None => Some(Box::new(self.tap.wrap(tcp, conn, Side::Server))),
            Some(acceptor) => {
                let handshake = tokio::select! {
                    _ = self.shutdown.cancelled() => return None,
                    _ = given_up.cancelled() => return None,
                    done = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => done,
                };
                match handshake {
                    Ok(Ok(tls)) => Some(Box::new(self.tap.wrap(tls, conn, Side::Server))),
                    Ok(Err(e)) => {
                        // A client that refuses our certificate (an alert such as unknown_ca) or
                        // speaks something else did what it should: the server is fine, so this is
                        // news, not a warning (a lesson shows such a refusal on purpose).
                        if noisy_allowed() {
                            tracing::info!(%peer, "a client's TLS handshake did not complete: {e}");
                        }
                        None
                    }
                    Err(_) => {
                        if noisy_allowed() {
                            tracing::info!(%peer, "TLS handshake timed out");
                        }
                        None
                    }
                }
            }
        }
    }

    async fn serve(self, stream: Box<dyn ChatStream>, peer: SocketAddr) {
        let (read_half, write_half) = tokio::io::split(stream);
        let mut lines = FramedRead::new(read_half, ChatCodec::default());
        let (outbox, inbox) = Outbox::new();
        let writer = tokio::spawn(write_lines(
            write_half,
            inbox,
            outbox.queued.clone(),
            outbox.kick.clone(),
            outbox.overflowed.clone(),
        ));
        // This client's lines not yet written to every recipient (see SENDER_BUDGET).
        let budget = Arc::new(Semaphore::new(SENDER_BUDGET));

        // A guest number only for a client that joins as a guest (guest-1, guest-2, ...).
        let guest = || {
            format!(
                "guest-{}",
                self.room.next_guest.fetch_add(1, Ordering::Relaxed) + 1
            )
        };
        tracing::info!(%peer, "client connected");

        // The name the client is known by once it has joined (been welcomed).
        let mut name: Option<String> = None;
        let greeting = tokio::time::sleep(GREETING_DELAY);
        tokio::pin!(greeting);
        loop {
            let next = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => {
                    outbox.say("* server shutting down");
                    break;
                }
                _ = outbox.kick.cancelled() => break,
                next = lines.next() => next,
                _ = &mut greeting, if name.is_none() => {
                    // Silent since the handshake: a client waiting for the server to speak first.
                    name = Some(self.join(&outbox, &guest(), true));
                    continue;
                }
            };
            let line = match next {
                None => break,
                Some(Ok(line)) => line,
                Some(Err(e)) => {
                    match LineProblem::from_codec(&e) {
                        Some(problem) => {
                            if noisy_allowed() {
                                tracing::warn!(
                                    %peer,
                                    "closing a connection: {}",
                                    problem.message()
                                );
                            }
                            outbox.say(problem.message());
                        }
                        None => tracing::debug!(%peer, "connection failed: {e}"),
                    }
                    break;
                }
            };
            // A sender ahead of its readers by SENDER_BUDGET waits here, and only it does: the
            // server stops reading from it until its lines have been written to the others.
            let credit = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => break,
                _ = outbox.kick.cancelled() => break,
                credit = budget
                    .clone()
                    .acquire_many_owned(line.len().clamp(1, SENDER_BUDGET) as u32) => credit,
            };
            let Ok(credit) = credit else { break };
            let credit = Some(Arc::new(credit));
            match (parse_name(&line), &name) {
                (Some(Err(reason)), _) => outbox.say(format!("error: {reason}")),
                (Some(Ok(wanted)), None) => name = Some(self.join(&outbox, &wanted, false)),
                (Some(Ok(wanted)), Some(old)) => name = Some(self.rename(&outbox, old, &wanted)),
                (None, None) => {
                    let joined = self.join(&outbox, &guest(), false);
                    self.relay(&outbox, &joined, &line, credit);
                    name = Some(joined);
                }
                (None, Some(sender)) => self.relay(&outbox, sender, &line, credit),
            }
        }

        self.room.lock().remove(&self.id);
        if let (Some(name), false) = (&name, self.shutdown.is_cancelled()) {
            self.room
                .broadcast(Some(self.id), format!("* {name} left").into());
        }
        if outbox.overflowed.load(Ordering::SeqCst) {
            tracing::info!(%peer, "client disconnected by the server: it stopped reading");
        } else {
            tracing::info!(%peer, "client disconnected");
        }
        drop(outbox);
        // The writer ends when its queue is drained (or at once if the client was kicked); a
        // client that does not read its last lines gets a bounded wait, not a hang.
        drop(lines);
        let mut writer = writer;
        if tokio::time::timeout(WRITE_GRACE, &mut writer)
            .await
            .is_err()
        {
            writer.abort();
        }
    }

    /// Welcomes the client as `wanted` (made unique) and tells the others. Returns its name.
    fn join(&self, outbox: &Outbox, wanted: &str, hint: bool) -> String {
        let (name, online) = self.room.enter(self.id, wanted, outbox, hint);
        self.room.broadcast(
            Some(self.id),
            format!("* {name} joined ({online} online)").into(),
        );
        name
    }

    /// Renames a client that has joined, telling it and the others. Returns the new name.
    fn rename(&self, outbox: &Outbox, old: &str, wanted: &str) -> String {
        if old == wanted {
            outbox.say(format!("* you are already {old}"));
            return old.to_string();
        }
        let Some(name) = self.room.rename(self.id, wanted) else {
            return old.to_string();
        };
        if name == wanted {
            outbox.say(format!("* you are now {name}"));
        } else {
            outbox.say(format!("* you are now {name} (the name {wanted} is taken)"));
        }
        self.room
            .broadcast(Some(self.id), format!("* {old} is now {name}").into());
        name
    }

    fn relay(
        &self,
        outbox: &Outbox,
        sender: &str,
        text: &str,
        credit: Option<Arc<OwnedSemaphorePermit>>,
    ) {
        let line = Line {
            text: format!("{sender}: {text}").into(),
            _credit: credit,
        };
        let delivered = self.room.broadcast(Some(self.id), line);
        if delivered == 0 {
            // Alone in the room: answer, so the message still has a way back down the stack.
            outbox.say(format!("server: received {text:?}"));
        }
    }
}

/// Writes queued lines to the client until the queue closes (then says goodbye with a TLS
/// close_notify and a FIN) or the client is kicked (then stops at once, even mid-write).
async fn write_lines(
    write_half: tokio::io::WriteHalf<Box<dyn ChatStream>>,
    mut inbox: mpsc::UnboundedReceiver<Line>,
    queued: Arc<AtomicUsize>,
    kick: CancellationToken,
    overflowed: Arc<AtomicBool>,
) {
    let mut sink = FramedWrite::new(write_half, ChatCodec::default());
    loop {
        let line = tokio::select! {
            biased;
            _ = kick.cancelled() => return,
            line = inbox.recv() => line,
        };
        let Some(line) = line else { break };
        let sent = tokio::select! {
            biased;
            _ = kick.cancelled() => return,
            sent = tokio::time::timeout(STALL_TIMEOUT, sink.send(&*line.text)) => sent,
        };
        queued.fetch_sub(line.len(), Ordering::SeqCst);
        drop(line); // its sender's budget comes back once every recipient has written it
        let Ok(sent) = sent else {
            // The client has not taken a byte for STALL_TIMEOUT: it is not reading.
            if noisy_allowed() {
                tracing::warn!(
                    "client is not reading (a write made no progress for {} s); disconnecting it",
                    STALL_TIMEOUT.as_secs()
                );
            }
            overflowed.store(true, Ordering::SeqCst);
            kick.cancel();
            return;
        };
        if let Err(e) = sent {
            tracing::debug!("write to client failed: {e}");
            // The reader may still be waiting for a line that will never matter: end it too.
            kick.cancel();
            return;
        }
    }
    // Queue closed: say goodbye properly (TLS close_notify, then FIN).
    tokio::select! {
        _ = kick.cancelled() => {}
        _ = SinkExt::<&str>::close(&mut sink) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_departed_client_is_gone_not_overflowing() {
        let (outbox, inbox) = Outbox::new();
        drop(inbox);
        assert_eq!(outbox.deliver("hello".into()), Delivery::Gone);
        assert!(!outbox.kick.is_cancelled(), "a departure is not a kick");
        assert!(!outbox.overflowed.load(Ordering::SeqCst));
        assert_eq!(outbox.queued.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_client_with_more_than_max_queued_bytes_waiting_is_kicked_at_once() {
        let (outbox, _inbox) = Outbox::new();
        let line: Line = "x".repeat(60 * 1024).into();
        let mut queued = 0;
        while outbox.deliver(line.clone()) == Delivery::Queued {
            queued += 1;
            assert!(queued <= MAX_QUEUED_BYTES / line.len(), "bounded in bytes");
        }
        assert_eq!(queued, MAX_QUEUED_BYTES / line.len());
        assert!(outbox.kick.is_cancelled());
        assert!(outbox.overflowed.load(Ordering::SeqCst));
    }

    #[test]
    fn a_relayed_line_gives_its_sender_budget_back_when_every_copy_is_written() {
        let budget = Arc::new(Semaphore::new(SENDER_BUDGET));
        let credit = budget.clone().try_acquire_many_owned(1000).expect("budget");
        let line = Line {
            text: "x".repeat(1000).into(),
            _credit: Some(Arc::new(credit)),
        };
        let (a, mut a_inbox) = Outbox::new();
        let (b, mut b_inbox) = Outbox::new();
        assert_eq!(a.deliver(line.clone()), Delivery::Queued);
        assert_eq!(b.deliver(line), Delivery::Queued);
        assert_eq!(budget.available_permits(), SENDER_BUDGET - 1000);
        drop(a_inbox.try_recv().expect("queued for a"));
        assert_eq!(
            budget.available_permits(),
            SENDER_BUDGET - 1000,
            "b has not had it yet"
        );
        drop(b_inbox.try_recv().expect("queued for b"));
        assert_eq!(budget.available_permits(), SENDER_BUDGET);
    }

    #[test]
    fn client_caused_log_lines_are_limited_per_window() {
        let allowed = (0..NOISY_BURST * 3).filter(|_| noisy_allowed()).count() as u64;
        // Other tests in this process may have used some of the window's lines.
        assert!(allowed <= NOISY_BURST, "{allowed} lines in one window");
    }

    #[test]
    fn names_are_unique_case_insensitively() {
        let room = Room::default();
        let (outbox, _inbox) = Outbox::new();
        assert_eq!(room.enter(1, "alice", &outbox, false), ("alice".into(), 1));
        assert_eq!(
            room.enter(2, "Alice", &outbox, false),
            ("Alice-2".into(), 2)
        );
        assert_eq!(
            room.enter(3, "alice", &outbox, false),
            ("alice-3".into(), 3)
        );
        assert_eq!(
            room.rename(1, "ALICE").as_deref(),
            Some("ALICE"),
            "own name is not taken"
        );
        assert_eq!(room.rename(3, "alice-2").as_deref(), Some("alice-2-2"));
        assert_eq!(room.rename(9, "bob"), None, "not in the room");
        let long = "é".repeat(MAX_NAME / 2);
        assert_eq!(room.enter(4, &long, &outbox, false).0, long);
        let second = room.enter(5, &long, &outbox, false).0;
        assert!(
            second.len() <= MAX_NAME && second.ends_with("-2"),
            "{second}"
        );
    }
}
