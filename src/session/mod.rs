//! A live session: the chat (a server and named clients) running under observation. Everything the
//! chat does — frames on the wire, application writes and reads, TLS secrets — flows into one
//! [`Trace`] as it happens. The terminal UI's demo and the lessons both drive a session.
//!
//! ```text
//!  Session::connect/send/close ──► chat (server + clients) ──► sockets ──► capture (lab link)
//!          │                              │ tap: AppEvent            │ frames
//!          │                              │ key log: secrets         │
//!          └──────────── poll()/settle() ◄┴──────────────────────────┘ ──► Trace
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio_util::sync::CancellationToken;

use crate::capture::{spawn_captures, CaptureStats, LiveHandle};
use crate::chat::client::{LineReceiver, LineSender};
use crate::chat::config::Trust;
use crate::chat::{
    AppEvent, ChatClient, ClientOptions, ConnId, KeyLogEntry, SecretLog, Side, Tap, Transport,
};
use crate::frame::{Frame, Timestamp};
use crate::journey::Trace;
use crate::lab::Lab;

mod recorder;
pub use recorder::{forget_older_than, RecordError, Recorder};

/// What can go wrong in a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The chat failed (connection, TLS, certificates).
    #[error(transparent)]
    Chat(#[from] crate::chat::ChatError),
    /// The capture failed.
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    /// A client name that is not connected.
    #[error("no client named {0:?} is connected")]
    NoSuchClient(String),
    /// A client was asked to connect before any server was started.
    #[error("no chat server is running yet: start one first (`start server`)")]
    NoServer,
    /// A client name already in use.
    #[error("a client named {0:?} is already connected")]
    DuplicateClient(String),
    /// A task of the session stopped unexpectedly (a bug: it panicked).
    #[error("a task of the session stopped: {0}")]
    Task(String),
    /// An attack the lab cannot make.
    #[error("{0}")]
    Attack(String),
    /// Something expected did not happen in time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
}

/// How a client connects: the knobs lessons turn.
#[derive(Debug, Clone, Default)]
pub struct ClientKnobs {
    /// TCP MSS announced in the SYN.
    pub mss: Option<u32>,
    /// Nagle off (`Some(true)`) or on (`Some(false)`).
    pub no_delay: Option<bool>,
    /// The most application bytes per TLS record.
    pub max_fragment: Option<usize>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// Trust this CA file instead of the session's.
    pub ca: Option<PathBuf>,
    /// Connect over IPv6 (::1) instead of IPv4.
    pub ipv6: bool,
}

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Where the certificates are.
    pub cert_dir: PathBuf,
    /// The lab (or the host) the session runs in.
    pub lab: Lab,
    /// Also listen on ::1 (for IPv6 lessons) — only on a loopback link.
    pub ipv6: bool,
}

struct Client {
    sender: LineSender,
    conn: ConnId,
    lines: UnboundedReceiver<String>,
    received: Vec<String>,
    /// Reads the client's lines; ends with the error that ended the connection, if any.
    reader: tokio::task::JoinHandle<Option<String>>,
}

/// What a client got while waiting for a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The line looked for.
    Line(String),
    /// The connection ended first: the error that ended it (a TLS alert, a reset), if any, and
    /// every line the client had received (it is no longer connected).
    Closed {
        /// Why, as the client's TLS or socket said it.
        why: Option<String>,
        /// The lines it received before the end.
        lines: Vec<String>,
    },
}

struct ServerRun {
    addr: SocketAddr,
    addr6: Option<SocketAddr>,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<Result<(), crate::chat::ChatError>>>,
    transport: Transport,
}

/// A running, observed chat.
pub struct Session {
    options: SessionOptions,
    secrets: Arc<SecretLog>,
    tap: Tap,
    app_rx: UnboundedReceiver<AppEvent>,
    key_rx: UnboundedReceiver<KeyLogEntry>,
    frame_rx: UnboundedReceiver<Frame>,
    /// One capture per lab interface (one on a single link).
    capture: Vec<LiveHandle>,
    /// Frames received but held back so that frames of different interfaces join the trace in
    /// time order, by (time, arrival).
    held: BTreeMap<(Timestamp, u64), Frame>,
    arrivals: u64,
    /// Whether frames come from several interfaces and are merged in time order (otherwise they
    /// join the trace in the order they arrive).
    merge: bool,
    /// The time of the last frame added to the trace, and whether any came before an earlier one
    /// (then the trace is made again in time order when the session finishes).
    last_added: Timestamp,
    out_of_order: bool,
    server: Option<ServerRun>,
    /// What the man in the middle on r1 saw (`--attack mitm`), and the name of the CA that issued
    /// the certificate it shows (TLS).
    mitm: Option<(
        Arc<std::sync::Mutex<crate::chat::mitm::MitmLog>>,
        Option<String>,
    )>,
    ports: Vec<u16>,
    clients: BTreeMap<String, Client>,
    frames: Vec<Frame>,
    trace: Trace,
    /// Application events not yet seen on the wire (indices into the trace's events), and how
    /// many events have been looked at: `settle` checks only these, not every event each frame.
    unsettled: Vec<usize>,
    events_queued: usize,
    /// Server ports of transfers that failed: what their sockets were given but never sent will
    /// not reach the capture, so `settle` does not wait for it.
    abandoned: Vec<u16>,
}

/// How many received lines a client keeps once the session forgets its past
/// ([`Session::forget_older_than`]).
const RECEIVED_KEPT: usize = 500;

/// How long to wait for something that should happen (a deadline for failures, not a delay):
/// generous, because on a lossy lab link retransmission timeouts back off exponentially.
const WAIT: Duration = Duration::from_secs(60);

/// How long a frame is held before it joins the trace when several interfaces are captured: a
/// frame of another interface captured earlier must reach the session within this time to be
/// put before it.
const MERGE_WINDOW: Duration = Duration::from_millis(40);

/// How often a transfer's sockets are asked for TCP_INFO: several times per round trip of a lab
/// path with a delay (each read costs about a microsecond: BENCHMARKS.md).
pub const TCP_INFO_EVERY: Duration = Duration::from_millis(10);

/// What [`Session::transfer`] moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    /// The connection.
    pub conn: ConnId,
    /// Application bytes the sender wrote.
    pub sent: u64,
    /// Application bytes the receiver read.
    pub received: u64,
    /// The sender's congestion control, as its socket reported it.
    pub congestion: String,
}

/// Samples TCP_INFO of the transfer's sockets every [`TCP_INFO_EVERY`] until `done`: the
/// sender's from when it is connected (with the sample it took itself before its first write),
/// the receiver's from when it has accepted; one last time when `done` comes. Returns the
/// samples and the sender's congestion control.
async fn sample_tcp_info(
    connected: tokio::sync::oneshot::Receiver<crate::chat::bulk::Connected>,
    accepted: tokio::sync::oneshot::Receiver<crate::chat::bulk::Connected>,
    done: CancellationToken,
) -> (Vec<crate::tcpinfo::TcpInfoSample>, String) {
    use std::os::fd::AsFd;
    let mut samples = Vec::new();
    let first = tokio::select! {
        _ = done.cancelled() => None,
        c = connected => c.ok(),
    };
    let Some(sender) = first else {
        return (samples, String::new());
    };
    let algorithm = socket2::SockRef::from(&sender.fd)
        .tcp_congestion()
        .map(|name| {
            String::from_utf8_lossy(&name)
                .trim_end_matches('\0')
                .to_string()
        })
        .unwrap_or_default();
    samples.extend(sender.before_first_write.clone());
    let mut sockets = vec![(sender.conn, Side::Client, sender.fd)];
    let mut accepted = Some(accepted);
    let mut tick = tokio::time::interval(TCP_INFO_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = false;
    while !last {
        tokio::select! {
            _ = done.cancelled() => last = true,
            _ = tick.tick() => {}
        }
        if let Some(mut pending) = accepted.take() {
            match pending.try_recv() {
                Ok(c) => sockets.push((c.conn, Side::Server, c.fd)),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => accepted = Some(pending),
                Err(_) => {}
            }
        }
        for (conn, side, fd) in &sockets {
            match crate::tcpinfo::sample(fd.as_fd(), *conn, *side) {
                Ok(s) => samples.push(s),
                Err(e) => tracing::debug!("TCP_INFO of the {side:?} socket: {e}"),
            }
        }
    }
    (samples, algorithm)
}

/// How long to wait after opening the captures for the kernel's time stamps to be on.
const TIMESTAMPS_ON: Duration = Duration::from_millis(50);

impl Session {
    /// A session whose chat server (IPv4 only) is already listening under capture in `lab`: where
    /// `trace`, `demo` and the scripted demo start.
    pub async fn with_server(
        cert_dir: PathBuf,
        lab: Lab,
        transport: Transport,
    ) -> Result<Session, SessionError> {
        let mut session = Session::new(SessionOptions {
            cert_dir,
            lab,
            ipv6: false,
        })?;
        session.start_server(transport).await?;
        Ok(session)
    }

    /// An idle session: no server, no capture yet (both start with [`Session::start_server`]).
    pub fn new(options: SessionOptions) -> Result<Session, SessionError> {
        let (tx, app_rx) = mpsc::unbounded_channel();
        let (key_tx, key_rx) = mpsc::unbounded_channel();
        let (_, frame_rx) = mpsc::unbounded_channel();
        // Also honour SSLKEYLOGFILE, as browsers, curl and openssl do.
        let secrets = SecretLog::from_env().map_err(crate::chat::ChatError::Io)?;
        let mut trace = Trace::new();
        let interfaces = options.lab.capture_interfaces();
        if interfaces.len() > 1 {
            // Several interfaces (a path of routers): frames say which, by these names.
            trace.set_interface_names(interfaces.into_iter().map(|i| i.name).collect());
        }
        Ok(Session {
            options,
            secrets: Arc::new(secrets.with_notify(key_tx)),
            tap: Tap::new(tx),
            app_rx,
            key_rx,
            frame_rx,
            capture: Vec::new(),
            held: BTreeMap::new(),
            merge: false,
            abandoned: Vec::new(),
            arrivals: 0,
            last_added: Timestamp(i128::MIN),
            out_of_order: false,
            server: None,
            mitm: None,
            ports: Vec::new(),
            clients: BTreeMap::new(),
            frames: Vec::new(),
            trace,
            unsettled: Vec::new(),
            events_queued: 0,
        })
    }

    /// The trace so far (call [`Session::poll`] first to bring it up to date).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The lab the session runs in.
    pub fn lab(&self) -> &Lab {
        &self.options.lab
    }

    /// The transport of the running server.
    pub fn transport(&self) -> Option<Transport> {
        self.server.as_ref().map(|s| s.transport)
    }

    /// The server's address.
    pub fn server_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.addr)
    }

    /// Every frame captured so far.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The connected clients' names.
    pub fn client_names(&self) -> Vec<String> {
        self.clients.keys().cloned().collect()
    }

    /// The connection of a client.
    pub fn client_conn(&self, name: &str) -> Option<ConnId> {
        self.clients.get(name).map(|c| c.conn)
    }

    /// Lines a client has received so far.
    pub fn received(&mut self, name: &str) -> Vec<String> {
        match self.clients.get_mut(name) {
            Some(c) => {
                while let Ok(line) = c.lines.try_recv() {
                    c.received.push(line);
                }
                c.received.clone()
            }
            None => Vec::new(),
        }
    }

    /// Starts (or restarts, with another transport) the chat server, and captures its port.
    pub async fn start_server(&mut self, transport: Transport) -> Result<SocketAddr, SessionError> {
        let restart = self.server.is_some();
        self.stop_server().await;
        if restart {
            // The capture is about to be replaced (its port list grows): first let every
            // application message of the old server's connections reach the trace, so that none
            // is left to frames that were in flight while one capture socket gave way to the next.
            self.settle().await?;
        }
        // A fresh port for each server; the capture keeps watching the old ones too.
        let listen = self.options.lab.server_listen();
        let server = crate::chat::start_server(
            listen,
            transport,
            &self.options.cert_dir,
            self.tap.clone(),
            self.secrets.clone(),
        )
        .await?;
        let addr = server.local_addr()?;
        let shutdown = CancellationToken::new();
        let mut tasks = vec![tokio::spawn(server.run(shutdown.clone()))];
        let mut addr6 = None;
        if self.options.ipv6 && self.options.lab.options.link == crate::lab::LinkMode::Loopback {
            let six = crate::chat::start_server(
                SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), addr.port()),
                transport,
                &self.options.cert_dir,
                self.tap.clone(),
                self.secrets.clone(),
            )
            .await?;
            addr6 = Some(six.local_addr()?);
            tasks.push(tokio::spawn(six.run(shutdown.clone())));
        }
        if self.options.lab.options.mitm {
            // r1 takes the client's connections to this server for itself.
            let taken = self
                .options
                .lab
                .intercept(addr)
                .map_err(|e| SessionError::Attack(e.to_string()))?;
            let certificate = if self.options.lab.options.mitm_wrong_name {
                Some(crate::chat::certs::wrong_name_set(&self.options.cert_dir)?)
            } else {
                None
            };
            let mitm = crate::chat::mitm::Mitm::new(
                taken.listener,
                taken.upstream,
                addr,
                transport,
                certificate,
                self.secrets.clone(),
            )?;
            self.mitm = Some((mitm.log(), mitm.ca_name().map(str::to_string)));
            tasks.push(tokio::spawn(mitm.run(shutdown.clone())));
        }
        self.ports.push(addr.port());
        self.restart_capture()?;
        // The kernel turns packet time stamps on a moment after the first capture socket asks
        // (a deferred switch); until then frames carry the time they were read, which would mix
        // up the merge of several interfaces and give one interface's first frames times later
        // than the frames after them. Let it settle before any traffic.
        tokio::time::sleep(TIMESTAMPS_ON).await;
        self.server = Some(ServerRun {
            addr,
            addr6,
            shutdown,
            tasks,
            transport,
        });
        Ok(addr)
    }

    /// Starts capturing every lab interface if nothing is captured yet (a session with no server,
    /// for ping and traceroute; in a lab the capture keeps ICMP and traceroute's UDP whatever the
    /// ports).
    pub async fn start_capture(&mut self) -> Result<(), SessionError> {
        if !self.capture.is_empty() {
            return Ok(());
        }
        self.restart_capture()?;
        tokio::time::sleep(TIMESTAMPS_ON).await;
        Ok(())
    }

    /// Waits `time`, bringing the trace up to date on the way (frames of several interfaces
    /// join it once the merge window has passed).
    pub async fn linger(&mut self, time: Duration) {
        let until = tokio::time::Instant::now() + time;
        while tokio::time::Instant::now() < until {
            self.poll();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.poll();
    }

    fn restart_capture(&mut self) -> Result<(), SessionError> {
        // Frames already read stay; a new socket with the new port list takes over.
        let old = std::mem::take(&mut self.capture);
        if !old.is_empty() {
            for handle in old {
                let _ = handle.stop();
            }
            self.drain_frames(true);
        }
        let captures = self
            .options
            .lab
            .open_captures(&self.ports)?
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.with_interface_id(i as u32))
            .collect();
        let (handles, rx) = spawn_captures(captures)?;
        self.merge = handles.len() > 1;
        self.capture = handles;
        self.frame_rx = rx;
        Ok(())
    }

    async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            for name in self.client_names() {
                let _ = self.close(&name).await;
            }
            server.shutdown.cancel();
            for t in server.tasks {
                let _ = t.await;
            }
        }
    }

    /// Connects a client called `name` (it announces itself with `/name`) and waits for its welcome.
    pub async fn connect(
        &mut self,
        name: &str,
        knobs: ClientKnobs,
    ) -> Result<ConnId, SessionError> {
        if self.clients.contains_key(name) {
            return Err(SessionError::DuplicateClient(name.into()));
        }
        let server = self.server.as_ref().ok_or(SessionError::NoServer)?;
        let addr = match (knobs.ipv6, server.addr6) {
            (true, Some(six)) => six,
            _ => server.addr,
        };
        let mut options = ClientOptions::new(addr.to_string());
        options.name = Some(name.to_string());
        options.transport = server.transport;
        options.trust = if knobs.insecure {
            Trust::Insecure
        } else {
            Trust::Ca(knobs.ca.clone().unwrap_or_else(|| {
                crate::chat::certs::CertPaths::in_dir(&self.options.cert_dir).ca_cert
            }))
        };
        options.mss = knobs.mss;
        // With an attacker on the path each line leaves at once (Nagle off), so a line is never
        // held back behind one the attacker removed and the client will never see acknowledged.
        options.no_delay = knobs.no_delay.or(self.options.lab.attacker().map(|_| true));
        options.max_fragment = knobs.max_fragment;
        options.socket_factory = self.options.lab.socket_factory();
        options.server_name = Some("localhost".into());
        let client = ChatClient::connect(&options, &self.tap, self.secrets.clone()).await?;
        let conn = client.conn();
        let (sender, mut receiver): (LineSender, LineReceiver) = client.into_split();
        let (line_tx, mut lines) = mpsc::unbounded_channel();
        // Ends with the reason the connection failed, if it did (e.g. a TLS alert).
        let reader = tokio::spawn(async move {
            loop {
                match receiver.next_line().await {
                    Ok(Some(line)) => {
                        if line_tx.send(line).is_err() {
                            return None;
                        }
                    }
                    Ok(None) => return None,
                    Err(e) => return Some(e.to_string()),
                }
            }
        });
        let welcome = tokio::time::timeout(WAIT, lines.recv()).await;
        let mut received = Vec::new();
        match welcome {
            Ok(Some(line)) => received.push(line),
            _ => {
                return Err(SessionError::Timeout {
                    what: format!("the server's welcome for {name}"),
                    seconds: WAIT.as_secs(),
                })
            }
        }
        self.clients.insert(
            name.to_string(),
            Client {
                sender,
                conn,
                lines,
                received,
                reader,
            },
        );
        Ok(conn)
    }

    /// A bulk transfer from the client host to the server host, outside the chat: `bytes` bytes
    /// of text over `transport` on a port of its own (captured like the chat's), the sender using
    /// the congestion control `congestion` (the system's default for `None`), the receiver
    /// reading as fast as it can or as `slow` says. Both sockets' TCP_INFO is sampled every
    /// [`TCP_INFO_EVERY`] into the trace. Returns when both ends have closed and every write is
    /// in the capture.
    pub async fn transfer(
        &mut self,
        bytes: u64,
        transport: Transport,
        congestion: Option<String>,
        slow: Option<crate::chat::bulk::SlowReader>,
    ) -> Result<Transferred, SessionError> {
        use crate::chat::bulk;
        if !self.capture.is_empty() {
            // The capture is about to be replaced (a new port): first let what is in flight arrive.
            self.settle().await?;
        }
        let receiver = bulk::Receiver::bind(
            self.options.lab.server_listen(),
            transport,
            &self.options.cert_dir,
            self.tap.clone(),
            self.secrets.clone(),
            slow,
        )
        .await?;
        let addr = receiver.local_addr()?;
        self.ports.push(addr.port());
        self.restart_capture()?;
        tokio::time::sleep(TIMESTAMPS_ON).await;

        let mut options = ClientOptions::new(addr.to_string());
        options.transport = transport;
        options.trust =
            Trust::Ca(crate::chat::certs::CertPaths::in_dir(&self.options.cert_dir).ca_cert);
        options.socket_factory = self.options.lab.socket_factory();
        options.server_name = Some("localhost".into());
        options.congestion = congestion;
        let (accepted_tx, accepted_rx) = tokio::sync::oneshot::channel();
        let (connected_tx, connected_rx) = tokio::sync::oneshot::channel();
        let receiving = tokio::spawn(receiver.run(accepted_tx));
        let tap = self.tap.clone();
        let secrets = self.secrets.clone();
        let sending =
            tokio::spawn(
                async move { bulk::send(&options, &tap, secrets, bytes, connected_tx).await },
            );
        let done = CancellationToken::new();
        // The sampler stops however this ends: done, failed, or this future dropped.
        let _stop_sampling = done.clone().drop_guard();
        let sampler = tokio::spawn(sample_tcp_info(connected_rx, accepted_rx, done.clone()));
        let ended =
            |r: Result<Result<bulk::Moved, crate::chat::ChatError>, tokio::task::JoinError>| {
                r.map_err(|e| SessionError::Task(e.to_string()))
                    .and_then(|r| r.map_err(SessionError::from))
            };
        // Whichever end fails first stops the other: neither waits for a peer that is gone.
        let (mut sending, mut receiving) = (sending, receiving);
        let (sent, received) = tokio::select! {
            s = &mut sending => {
                let s = ended(s);
                if s.is_err() {
                    receiving.abort();
                }
                (s, ended(receiving.await))
            }
            r = &mut receiving => {
                let r = ended(r);
                if r.is_err() {
                    sending.abort();
                }
                (ended(sending.await), r)
            }
        };
        done.cancel();
        let (samples, algorithm) = sampler
            .await
            .map_err(|e| SessionError::Task(e.to_string()))?;
        for sample in samples {
            self.trace.add_tcp_info(sample);
        }
        let (sent, received) = match (sent, received) {
            (Ok(s), Ok(r)) => (s, r),
            (Err(e), Ok(_)) | (Ok(_), Err(e)) | (Err(SessionError::Task(_)), Err(e)) => {
                self.abandon_port(addr.port());
                return Err(e);
            }
            (Err(e), Err(_)) => {
                self.abandon_port(addr.port());
                return Err(e);
            }
        };
        self.settle().await?;
        Ok(Transferred {
            conn: sent.conn,
            sent: sent.bytes,
            received: received.bytes,
            congestion: algorithm,
        })
    }

    /// Stops waiting for the application events of connections to server port `port`.
    fn abandon_port(&mut self, port: u16) {
        self.abandoned.push(port);
    }

    /// Sends one line as client `name` (one application write).
    pub async fn send(&mut self, name: &str, text: &str) -> Result<(), SessionError> {
        let client = self
            .clients
            .get_mut(name)
            .ok_or_else(|| SessionError::NoSuchClient(name.into()))?;
        client.sender.send(text).await?;
        Ok(())
    }

    /// Waits until client `name` has received a line satisfying `pred`; returns it.
    pub async fn wait_line(
        &mut self,
        name: &str,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, SessionError> {
        self.next_line(name, pred)
            .await?
            .ok_or_else(|| SessionError::Timeout {
                what: format!("a line for {name}"),
                seconds: WAIT.as_secs(),
            })
    }

    /// The first line client `name` has received (before or while waiting) that satisfies
    /// `pred`; `None` if its connection ended first.
    async fn next_line(
        &mut self,
        name: &str,
        pred: impl Fn(&str) -> bool,
    ) -> Result<Option<String>, SessionError> {
        self.nth_line(name, pred, 1).await
    }

    /// The `nth` (from 1) line client `name` has received that satisfies `pred`; `None` if its
    /// connection ended first.
    async fn nth_line(
        &mut self,
        name: &str,
        pred: impl Fn(&str) -> bool,
        nth: usize,
    ) -> Result<Option<String>, SessionError> {
        let client = self
            .clients
            .get_mut(name)
            .ok_or_else(|| SessionError::NoSuchClient(name.into()))?;
        let mut seen = 0;
        for line in &client.received {
            if pred(line) {
                seen += 1;
                if seen == nth {
                    return Ok(Some(line.clone()));
                }
            }
        }
        loop {
            match tokio::time::timeout(WAIT, client.lines.recv()).await {
                Ok(Some(line)) => {
                    client.received.push(line.clone());
                    if pred(&line) {
                        seen += 1;
                        if seen == nth {
                            return Ok(Some(line));
                        }
                    }
                }
                Ok(None) => return Ok(None),
                Err(_) => {
                    return Err(SessionError::Timeout {
                        what: format!("a line for {name}"),
                        seconds: WAIT.as_secs(),
                    })
                }
            }
        }
    }

    /// Waits until client `name` has received a line satisfying `pred`, or its connection has
    /// ended (then says why, as far as the client knows).
    pub async fn wait_reply(
        &mut self,
        name: &str,
        pred: impl Fn(&str) -> bool,
    ) -> Result<Reply, SessionError> {
        self.wait_nth_reply(name, pred, 1).await
    }

    /// [`Session::wait_reply`] for the `nth` (from 1) line satisfying `pred`.
    pub async fn wait_nth_reply(
        &mut self,
        name: &str,
        pred: impl Fn(&str) -> bool,
        nth: usize,
    ) -> Result<Reply, SessionError> {
        if let Some(line) = self.nth_line(name, pred, nth).await? {
            return Ok(Reply::Line(line));
        }
        // The connection is over: the client is gone, with the reason its reader ended.
        let (why, lines) = match self.clients.remove(name) {
            Some(client) => (
                tokio::time::timeout(WAIT, client.reader)
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .flatten(),
                client.received,
            ),
            None => (None, Vec::new()),
        };
        Ok(Reply::Closed { why, lines })
    }

    /// Client `name` sends `text` through the lab's attacker, armed with `attack` for that line
    /// only, and waits for what comes of it: the server's answer, or the end of the connection (a
    /// TLS alert, a reset). A replay waits for the answer to the copy too (the server answers
    /// each line it reads); a removed line (`drop-record`) is followed by `next`, and the answer
    /// to that is awaited, since the removed line gets none.
    pub async fn attack_line(
        &mut self,
        name: &str,
        attack: crate::lab::attack::Attack,
        text: &str,
        next: Option<&str>,
    ) -> Result<Reply, SessionError> {
        use crate::lab::attack::Attack;
        let Some(switch) = self.options.lab.attacker().cloned() else {
            return Err(SessionError::Attack(
                "this lab has no attacker on its path (it needs a path of routers with an attacker on link 1)".into(),
            ));
        };
        let next = match (attack, next) {
            (Attack::DropRecord, None) => return Err(SessionError::Attack(
                "drop-record removes a line: give the line sent after it, where the removal shows"
                    .into(),
            )),
            (Attack::DropRecord, Some(next)) => Some(next),
            _ => None,
        };
        // Only this client's segment: another connection's in between passes untouched.
        switch.arm_for(attack, self.client_conn(name).map(|c| c.client));
        // The server may refuse a line before the write has returned (a TLS alert in answer to a
        // changed record): how the connection ended is in the reply.
        if let Err(e) = self.send(name, text).await {
            tracing::debug!("{name}'s write ended in an error: {e}");
        }
        if let Some(next) = next {
            if let Err(e) = self.send(name, next).await {
                tracing::debug!("{name}'s write ended in an error: {e}");
            }
        }
        let answer = |l: &str| l.starts_with("server: received");
        let answers = if attack == Attack::Replay { 2 } else { 1 };
        self.wait_nth_reply(name, answer, answers).await
    }

    /// What the man in the middle saw so far (`--attack mitm`), and the name of the CA it made
    /// (over TLS); `None` without one.
    pub fn mitm(&self) -> Option<(crate::chat::mitm::MitmLog, Option<String>)> {
        let (log, ca) = self.mitm.as_ref()?;
        let log = log.lock().map(|l| l.clone()).unwrap_or_default();
        Some((log, ca.clone()))
    }

    /// Closes client `name` politely (TLS close_notify, then FIN).
    pub async fn close(&mut self, name: &str) -> Result<(), SessionError> {
        let client = self
            .clients
            .remove(name)
            .ok_or_else(|| SessionError::NoSuchClient(name.into()))?;
        client.sender.close().await?;
        // The server answers the FIN with its own close; wait for the reader to see the end.
        let _ = tokio::time::timeout(WAIT, client.reader).await;
        Ok(())
    }

    fn take_keys(&mut self) {
        let mut keys = crate::tls::Keys::new();
        while let Ok(entry) = self.key_rx.try_recv() {
            keys.add(&entry.label, &entry.client_random, &entry.secret);
        }
        if !keys.is_empty() {
            self.trace.add_keys(&keys);
        }
    }

    /// Takes what the captures sent, and adds to the trace the frames that are old enough for
    /// no earlier frame of another interface to be still on its way (all of them with `all`).
    fn drain_frames(&mut self, all: bool) {
        while let Ok(frame) = self.frame_rx.try_recv() {
            self.hold(frame);
        }
        self.release(all);
    }

    fn hold(&mut self, frame: Frame) {
        if !self.merge && self.held.is_empty() {
            // One capture: the kernel hands its frames over in the order the interface carried
            // them, and that order is kept (as tcpdump keeps it). Their timestamps can step back
            // by a few microseconds when two CPUs send at once; sorting by them would put a
            // segment before the one it followed.
            self.add(frame);
            return;
        }
        self.arrivals += 1;
        self.held.insert((frame.at, self.arrivals), frame);
    }

    fn release(&mut self, all: bool) {
        let horizon = if all || !self.merge {
            Timestamp(i128::MAX)
        } else {
            Timestamp(Timestamp::now().0 - MERGE_WINDOW.as_nanos() as i128)
        };
        while let Some(entry) = self.held.first_entry() {
            if entry.key().0 > horizon {
                break;
            }
            let frame = entry.remove();
            self.add(frame);
        }
    }

    /// Adds a frame to the trace; one that is earlier than a frame already added (possible
    /// only between interfaces) has the trace made again in time order at the end.
    fn add(&mut self, frame: Frame) {
        if frame.at < self.last_added && self.merge {
            self.out_of_order = true;
        }
        self.last_added = self.last_added.max(frame.at);
        self.frames.push(frame.clone());
        self.trace.push_frame(frame);
    }

    /// Forgets what is older than `cutoff`: the trace's frames, records and application events
    /// before it ([`Trace::forget_older_than`]), written to `recorder` first when there is one.
    /// A demo that runs for a class hour calls this to keep its memory flat. Returns how many
    /// frames were forgotten.
    pub fn forget_older_than(
        &mut self,
        cutoff: Timestamp,
        recorder: Option<&mut Recorder>,
    ) -> Result<u32, RecordError> {
        // The lines each client received wait in its channel until asked for (lessons ask; a
        // demo shows them from the trace): keep the last few hundred.
        for client in self.clients.values_mut() {
            while let Ok(line) = client.lines.try_recv() {
                client.received.push(line);
            }
            let extra = client.received.len().saturating_sub(RECEIVED_KEPT);
            client.received.drain(..extra);
        }
        // What a man in the middle relayed goes with the rest.
        if let Some(mut log) = self.mitm.as_ref().and_then(|(log, _)| log.lock().ok()) {
            let old = log.lines.partition_point(|line| line.at < cutoff);
            log.lines.drain(..old);
        }
        let (frames, gone) =
            recorder::forget_older_than(&mut self.trace, &mut self.frames, cutoff, recorder)?;
        // Indices into the trace's events moved down by as many as were forgotten.
        self.events_queued = self.events_queued.saturating_sub(gone);
        self.unsettled.retain(|&i| i >= gone);
        for i in &mut self.unsettled {
            *i -= gone;
        }
        Ok(frames)
    }

    /// Brings the trace up to date with what has arrived (never waits). Returns how many frames
    /// were added.
    pub fn poll(&mut self) -> usize {
        // Secrets first: a record can only be decrypted if its keys are known when it is parsed.
        self.take_keys();
        let before = self.trace.frames().len();
        self.drain_frames(false);
        while let Ok(event) = self.app_rx.try_recv() {
            self.trace.add_app_event(event);
        }
        self.trace.frames().len() - before
    }

    /// Names the application events not seen on the wire (for a settle that timed out).
    fn log_unsettled(&self) {
        let events = self.trace.app_events();
        for &i in &self.unsettled {
            if let Some(e) = events.get(i) {
                tracing::warn!(
                    client = %e.conn.client,
                    server = %e.conn.server,
                    side = ?e.side,
                    dir = ?e.dir,
                    offset = e.offset,
                    bytes = e.bytes.len(),
                    text = %String::from_utf8_lossy(&e.bytes).escape_debug(),
                    "application event not seen on the wire"
                );
            }
        }
    }

    /// Waits until every application event so far has been seen on the wire (its last byte's frame
    /// is in the trace), so checks see a complete picture.
    pub async fn settle(&mut self) -> Result<(), SessionError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.poll();
            let trace = &self.trace;
            let events = trace.app_events();
            self.unsettled.extend(self.events_queued..events.len());
            self.events_queued = events.len();
            // Frames are only ever added, so an event once seen on the wire stays seen.
            let abandoned = &self.abandoned;
            self.unsettled.retain(|&i| {
                events.get(i).is_some_and(|e| {
                    trace.app_event_frame(e).is_none() && !abandoned.contains(&e.conn.server.port())
                })
            });
            let missing = self.unsettled.len();
            if missing == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                self.log_unsettled();
                return Err(SessionError::Timeout {
                    what: format!("{missing} application messages to appear in the capture"),
                    seconds: WAIT.as_secs(),
                });
            }
            // Frames held for the merge are added once old enough: wake up for them too.
            let wake = if self.held.is_empty() {
                deadline
            } else {
                (tokio::time::Instant::now() + MERGE_WINDOW).min(deadline)
            };
            match tokio::time::timeout_at(wake, self.frame_rx.recv()).await {
                Ok(Some(frame)) => {
                    // Keys logged before this frame was sent must be known before it is parsed.
                    self.take_keys();
                    self.hold(frame);
                    self.release(false);
                }
                Err(_) if !self.held.is_empty() => {}
                _ => {
                    self.log_unsettled();
                    return Err(SessionError::Timeout {
                        what: format!("{missing} application messages to appear in the capture"),
                        seconds: WAIT.as_secs(),
                    });
                }
            }
        }
    }

    /// Closes every client, stops the server and the capture (draining the kernel), and returns
    /// the complete trace, the frames and the capture statistics.
    pub async fn finish(mut self) -> Result<(Trace, Vec<Frame>, CaptureStats), SessionError> {
        self.stop_server().await;
        let handles = std::mem::take(&mut self.capture);
        let mut stats = CaptureStats::default();
        for handle in handles {
            let s = tokio::task::spawn_blocking(move || handle.stop())
                .await
                .map_err(|e| crate::capture::CaptureError::Thread(e.to_string()))??;
            stats.received += s.received;
            stats.dropped += s.dropped;
        }
        self.poll();
        self.take_keys();
        self.drain_frames(true);
        if self.out_of_order && self.trace.frames_forgotten() > 0 {
            // The trace cannot be made again without the frames it forgot (the TLS handshakes
            // among them): it stays in the order the frames arrived.
            tracing::debug!(
                "frames of several interfaces came out of order after some were forgotten"
            );
        } else if self.out_of_order {
            // A frame reached the session later than the merge window: add them all again, in
            // time order, so that frame numbers and TCP analysis follow the wire.
            tracing::debug!(
                "frames of several interfaces came out of order; ordering the trace again"
            );
            self.frames.sort_by_key(|f| f.at);
            let mut trace = Trace::with_keys(self.trace.keys().clone());
            trace.set_interface_names(self.trace.interface_names().to_vec());
            for frame in &self.frames {
                trace.push_frame(frame.clone());
            }
            for event in self.trace.app_events() {
                trace.add_app_event(event.clone());
            }
            for sample in self.trace.tcp_info() {
                trace.add_tcp_info(sample.clone());
            }
            self.trace = trace;
        }
        Ok((self.trace, self.frames, stats))
    }
}
