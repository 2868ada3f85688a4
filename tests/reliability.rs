//! The reliability suite: many clients at once, and each way a few peers could spoil the chat for
//! everyone (silent handshakes, a client that never reads, running out of file descriptors, junk on
//! the TLS port, over-long and non-UTF-8 lines, half-open connections). Every abuse case checks that
//! a separate pair of ordinary clients can still chat, with a bounded ping latency.
//!
//! Every loop is bounded and every wait has a timeout that fails the test. Traffic stays on
//! 127.0.0.0/8.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use packetpath::chat::client::{LineReceiver, LineSender, SocketFactory};
use packetpath::chat::{ChatClient, SecretLog, Tap, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;

/// The slowest round trip an ordinary pair may see while the server is being abused.
const PING_BOUND: Duration = Duration::from_secs(1);
/// How long any single step may take before the test fails (a hang, not a timing assumption).
const STEP: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: not done within {limit:?}"),
    }
}

/// One test at a time: each measures latency on a 2-core machine, and the floods of one would
/// be counted against the bound of another.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    TURN.lock().await
}

/// [`one_at_a_time`] for a test without a runtime of its own.
fn one_at_a_time_blocking() -> tokio::sync::MutexGuard<'static, ()> {
    TURN.blocking_lock()
}

/// Two ordinary clients that check the chat still works. Both read all the time (as a real
/// client does), in background tasks; b's lines (short ones only) are kept for the test to check.
struct Pair {
    a: LineSender,
    a_name: String,
    a_lines: mpsc::UnboundedReceiver<String>,
    pings: usize,
    b_lines: mpsc::UnboundedReceiver<String>,
    /// Lines b received while the test waited for another one.
    b_seen: Vec<String>,
}

/// Reads every line `rx` receives until its connection ends, passing the short ones to the
/// returned channel (a big relayed line is passed on as just `<big>`).
fn drain(rx: LineReceiver) -> mpsc::UnboundedReceiver<String> {
    read_lines(rx, Duration::ZERO)
}

/// [`drain`] for a reader that reads all the time but slower than a fast sender writes: it takes
/// 5 ms over each big line (as a terminal or a slow network would).
fn drain_slowly(rx: LineReceiver) -> mpsc::UnboundedReceiver<String> {
    read_lines(rx, Duration::from_millis(5))
}

/// [`drain`], taking `per_big_line` over each big line (a slow reader, not a wait).
fn read_lines(mut rx: LineReceiver, per_big_line: Duration) -> mpsc::UnboundedReceiver<String> {
    let (tx, lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = rx.next_line().await {
            let big = line.len() >= 1024;
            let _ = tx.send(if big { "<big>".to_string() } else { line });
            if big && !per_big_line.is_zero() {
                tokio::time::sleep(per_big_line).await;
            }
        }
    });
    lines
}

impl Pair {
    async fn join(server: &TestServer, tag: &str) -> Pair {
        Pair::join_at(server.addr, &server.ca, server.secrets.clone(), tag).await
    }

    async fn join_at(
        addr: SocketAddr,
        ca: &std::path::Path,
        secrets: Arc<SecretLog>,
        tag: &str,
    ) -> Pair {
        let a_name = format!("{tag}-a");
        let b_name = format!("{tag}-b");
        let connect = |name: String| {
            let o = options(addr, Some(&name), Transport::Tls13, ca.to_path_buf());
            let secrets = secrets.clone();
            async move {
                let mut c = ChatClient::connect(&o, &Tap::none(), secrets)
                    .await
                    .expect("pair client connects");
                let welcome = next(&mut c).await;
                assert!(
                    welcome.starts_with(&format!("* welcome, {name}")),
                    "{welcome}"
                );
                c
            }
        };
        let a = within(
            "pair joins",
            Duration::from_secs(5),
            connect(a_name.clone()),
        )
        .await;
        let b = within("pair joins", Duration::from_secs(5), connect(b_name)).await;
        let (a, a_rx) = a.into_split();
        let (_b_tx, b_rx) = b.into_split();
        // b's sending half is not needed, but dropping it would close b's direction: keep it.
        std::mem::forget(_b_tx);
        Pair {
            a,
            a_name,
            a_lines: drain(a_rx),
            pings: 0,
            b_lines: drain(b_rx),
            b_seen: Vec::new(),
        }
    }

    /// Waits until b has received `line` (or returns at once if it already has).
    async fn b_receives(&mut self, line: &str) {
        if let Some(i) = self.b_seen.iter().position(|l| l == line) {
            self.b_seen.remove(i);
            return;
        }
        within(&format!("b receives {line:?}"), STEP, async {
            loop {
                match self.b_lines.recv().await {
                    Some(l) if l == line => return,
                    Some(l) => self.b_seen.push(l),
                    None => panic!("b's connection ended while waiting for {line:?}"),
                }
            }
        })
        .await
    }

    /// Waits until both a and b have read one more big line.
    async fn both_read_a_big_line(&mut self) {
        self.b_receives("<big>").await;
        within("a reads a big line", STEP, async {
            loop {
                match self.a_lines.recv().await {
                    Some(l) if l == "<big>" => return,
                    Some(_) => {}
                    None => panic!("a's connection ended"),
                }
            }
        })
        .await
    }

    /// Sends `count` pings from a to b; returns the slowest round trip, failing over the bound.
    async fn ping(&mut self, count: usize) -> Duration {
        let mut slowest = Duration::ZERO;
        for _ in 0..count {
            self.pings += 1;
            let started = Instant::now();
            let ping = format!("ping {}", self.pings);
            self.a.send(&ping).await.expect("ping sent");
            let expected = format!("{}: {ping}", self.a_name);
            self.b_receives(&expected).await;
            slowest = slowest.max(started.elapsed());
        }
        assert!(slowest < PING_BOUND, "ping took {slowest:?}");
        slowest
    }
}

/// A TCP connection from `source` (any address in 127.0.0.0/8 works on Linux loopback).
async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(source), 0))
        .expect("bind source");
    within("connect", STEP, socket.connect(to))
        .await
        .expect("connected")
}

/// True once the server has closed `tcp` (EOF or reset), after at most `limit`.
async fn closed_by_server(tcp: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let ended = tokio::time::timeout(limit, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    ended.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_tls_clients_fifty_lines_each_every_line_once_in_order() {
    let _turn = one_at_a_time().await;
    const CLIENTS: usize = 200;
    const LINES: usize = 50;
    let started = Instant::now();
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(server.join(&format!("c{i}")).await);
    }
    let last_joined = format!("* c{} joined ({CLIENTS} online)", CLIENTS - 1);
    for c in clients.iter_mut().take(CLIENTS - 1) {
        next_matching(c, |l| l == last_joined).await;
    }
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let (mut tx, mut rx) = client.into_split();
        senders.push(tokio::spawn(async move {
            for n in 0..LINES {
                tx.send(&format!("{i} {n}")).await.expect("sent");
            }
            tx
        }));
        receivers.push(tokio::spawn(async move {
            let expected = (CLIENTS - 1) * LINES;
            // The next number expected from each sender: a gap, a repeat or a reordering fails.
            let mut next_from: HashMap<usize, usize> = HashMap::new();
            let mut got = 0;
            while got < expected {
                let line = within("a relayed line", STEP, rx.next_line())
                    .await
                    .expect("no error")
                    .expect("open");
                if line.starts_with('*') {
                    continue;
                }
                let (_, text) = line.split_once(": ").expect("name: text");
                let (from, n) = text.split_once(' ').expect("sender number");
                let (from, n): (usize, usize) =
                    (from.parse().expect("sender"), n.parse().expect("n"));
                assert_ne!(from, i, "a client got its own line back");
                let want = next_from.entry(from).or_insert(0);
                assert_eq!(
                    n, *want,
                    "client {i}: line from {from} lost, repeated or reordered"
                );
                *want += 1;
                got += 1;
            }
            assert_eq!(next_from.len(), CLIENTS - 1);
            assert!(next_from.values().all(|n| *n == LINES));
            got
        }));
    }
    let mut delivered = 0;
    for r in receivers {
        delivered += within("receiver", Duration::from_secs(120), r)
            .await
            .expect("receiver");
    }
    for s in senders {
        within("sender", STEP, s).await.expect("sender");
    }
    assert_eq!(delivered, CLIENTS * (CLIENTS - 1) * LINES, "0 lost");
    eprintln!(
        "{CLIENTS} TLS clients x {LINES} lines: {delivered} lines delivered, 0 lost, in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn silent_handshakes_from_one_address_do_not_lock_others_out() {
    let _turn = one_at_a_time().await;
    const SILENT: usize = 1100;
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut silent = Vec::new();
    for _ in 0..SILENT {
        silent.push(connect_from(Ipv4Addr::new(127, 0, 0, 2), server.addr).await);
    }
    let started = Instant::now();
    let mut pair = Pair::join(&server, "ok").await;
    let slowest = pair.ping(5).await;
    eprintln!(
        "{SILENT} silent connections from 127.0.0.2: pair joined and pinged in {:?}, slowest ping {slowest:?}",
        started.elapsed()
    );
    // Over the per-address bound: closed at once, not after the 10 s handshake timeout.
    let last = silent.last_mut().expect("some");
    assert!(
        closed_by_server(last, Duration::from_secs(2)).await,
        "a connection over the per-address handshake bound is closed at once"
    );
    drop(silent);
}

/// Silent connections from many addresses, each under the per-address bound, fill every
/// handshake place; the oldest is given up for each newcomer, so a real client still gets in.
#[tokio::test]
async fn silent_handshakes_from_many_addresses_do_not_lock_others_out() {
    let _turn = one_at_a_time().await;
    const ADDRESSES: u8 = 20;
    const EACH: usize = 30; // under the 32 per address; 600 in all, over the 512 places
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut silent = Vec::new();
    for a in 0..ADDRESSES {
        for _ in 0..EACH {
            silent.push(connect_from(Ipv4Addr::new(127, 0, 1, 10 + a), server.addr).await);
        }
    }
    let started = Instant::now();
    let mut pair = Pair::join(&server, "ok").await;
    let slowest = pair.ping(5).await;
    eprintln!(
        "{} silent connections from {ADDRESSES} addresses: pair joined and pinged in {:?}, slowest \
         ping {slowest:?}",
        silent.len(),
        started.elapsed()
    );
    // The oldest silent connection was given up (closed) to make room.
    let first = silent.first_mut().expect("some");
    assert!(
        closed_by_server(first, Duration::from_secs(2)).await,
        "the oldest handshake is given up when the places run out"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_disconnected_without_slowing_anyone() {
    let _turn = one_at_a_time().await;
    const BIG_LINES: usize = 200;
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    // The stuck client keeps a small receive buffer, so the server's queue fills sooner.
    let mut o = options(
        server.addr,
        Some("stuck"),
        Transport::Tls13,
        server.ca.clone(),
    );
    o.socket_factory = Some(SocketFactory(Arc::new(|_| {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        s.set_recv_buffer_size(16 * 1024)?;
        Ok(s)
    })));
    let mut stuck = ChatClient::connect(&o, &Tap::none(), server.secrets.clone())
        .await
        .expect("stuck connects");
    assert!(next(&mut stuck).await.starts_with("* welcome, stuck"));
    let mut pair = Pair::join(&server, "ok").await;
    let loud = server.join("loud").await;
    let (mut loud_tx, loud_rx) = loud.into_split();
    let _loud_lines = drain(loud_rx);
    let big = "x".repeat(60 * 1024);
    // Loud sends as fast as the pair reads (at most 8 lines ahead of it), the stuck client never
    // reads; the pair pings every 20 lines. Loud itself is held back (its budget is tied up in the
    // stuck client's queue) until the server gives up on the stuck client after STALL_TIMEOUT.
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for k in 0..BIG_LINES {
        within("loud sends a line", STEP, loud_tx.send(&big))
            .await
            .expect("sent");
        if k >= 8 {
            pair.both_read_a_big_line().await;
        }
        if k % 20 == 0 {
            slowest = slowest.max(pair.ping(1).await);
        }
    }
    let send_time = started.elapsed();
    // The server has disconnected the stuck client: it reads what was in flight, then the end.
    let received = within(
        "stuck client's connection closed by the server",
        STEP,
        async {
            let mut received = 0;
            while let Ok(Some(line)) = stuck.next_line().await {
                if line.starts_with("loud: ") {
                    received += 1;
                }
            }
            received
        },
    )
    .await;
    assert!(
        received < BIG_LINES,
        "the stuck client was not disconnected: it got all {received} lines"
    );
    // The others were told it left.
    pair.b_receives("* stuck left").await;
    let after = pair.ping(3).await;
    eprintln!(
        "never-reading client: disconnected after {received} of {BIG_LINES} 60 KB lines; \
         sender took {send_time:?}; slowest ping {slowest:?} during, {after:?} after"
    );
}

/// A sender much faster than its readers is slowed down; the readers, who read all the time, are
/// never disconnected and get every line (before, a byte bound on each reader's queue dropped
/// them all: "client is not reading").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_sender_is_slowed_down_and_honest_readers_get_every_line() {
    let _turn = one_at_a_time().await;
    const READERS: usize = 10;
    const BIG_LINES: usize = 100;
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut readers = Vec::new();
    for i in 0..READERS {
        let (tx, rx) = server.join(&format!("reader{i}")).await.into_split();
        readers.push((tx, drain_slowly(rx)));
    }
    let fast = server.join("fast").await;
    let (mut fast_tx, fast_rx) = fast.into_split();
    let _fast_lines = drain(fast_rx);
    let big = "y".repeat(60 * 1024);
    let started = Instant::now();
    let blast = tokio::spawn(async move {
        for _ in 0..BIG_LINES {
            fast_tx.send(&big).await.expect("sent");
        }
        fast_tx
    });
    for (i, (_, lines)) in readers.iter_mut().enumerate() {
        let mut big_lines = 0;
        within(
            &format!("reader{i} gets every line"),
            Duration::from_secs(60),
            async {
                while big_lines < BIG_LINES {
                    match lines.recv().await {
                        Some(l) if l == "<big>" => big_lines += 1,
                        Some(l) => assert!(!l.contains(" left"), "reader{i} saw {l:?}"),
                        None => panic!("reader{i} was disconnected after {big_lines} lines"),
                    }
                }
            },
        )
        .await;
    }
    within("the fast sender finishes", STEP, blast)
        .await
        .expect("sender");
    eprintln!(
        "{BIG_LINES} lines of 60 KB to {READERS} readers in {:?}, nobody disconnected",
        started.elapsed()
    );
}

#[test]
fn a_flood_under_a_256_descriptor_limit_gets_told_the_server_is_full() {
    let _turn = one_at_a_time_blocking();
    flood_under_a_256_descriptor_limit(0);
}

#[test]
fn a_flood_with_descriptors_used_up_is_closed_at_once_with_one_warning() {
    let _turn = one_at_a_time_blocking();
    // 120 descriptors already taken (as by files a real server might hold): the server runs out
    // (EMFILE) before its client limit, and must back off and close, not spin and hang.
    flood_under_a_256_descriptor_limit(120);
}

/// Floods the real binary, run with RLIMIT_NOFILE 256 (soft and hard) and `stolen` descriptors
/// already open, with 400 TLS clients; each must hear back (welcome, "full" or a close) in
/// bounded time, a pair joined before must keep chatting, and the log must not be flooded.
fn flood_under_a_256_descriptor_limit(stolen: i32) {
    const FLOOD: usize = 400;
    const WAVE: usize = 16;
    let (dir, paths) = cert_dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_packetpath"));
    cmd.args(["server", "--listen", "127.0.0.1:0", "--certs"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null()) // the descriptor the stolen ones copy, whatever the test's stdin is
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; the closure allocates nothing.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 256, 256)
                .map_err(std::io::Error::from)?;
            // Copies of stdin (/dev/null) from descriptor 100 up, inherited by the server.
            for fd in 100..100 + stolen {
                if nix::libc::dup2(0, fd) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = Reaped(cmd.spawn().expect("server starts"));
    let mut stderr = BufReader::new(child.0.stderr.take().expect("stderr"));
    let mut line = String::new();
    let addr: SocketAddr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("stderr") > 0,
            "server exited early"
        );
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .expect("addr")
                .parse()
                .expect("addr");
        }
    };
    // Collect the rest of the log in the background.
    let log = std::thread::spawn(move || stderr.lines().map_while(Result::ok).collect::<Vec<_>>());

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let secrets = Arc::new(SecretLog::new());
        let mut pair = Pair::join_at(addr, &paths.ca_cert, secrets.clone(), "ok").await;
        let mut kept = Vec::new();
        let (mut welcomed, mut full, mut closed) = (0, 0, 0);
        let mut slowest = Duration::ZERO;
        for wave in 0..FLOOD / WAVE {
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..WAVE {
                let mut o = options(
                    addr,
                    Some(&format!("f{wave}-{i}")),
                    Transport::Tls13,
                    paths.ca_cert.clone(),
                );
                // From eight addresses, as from a classroom, so that the server (not one
                // address's share of it) fills up.
                let source = SocketAddr::from(([127, 0, 0, 10 + (i % 8) as u8], 0));
                o.socket_factory = Some(SocketFactory(Arc::new(move |_| {
                    let s = socket2::Socket::new(
                        socket2::Domain::IPV4,
                        socket2::Type::STREAM,
                        None,
                    )?;
                    s.bind(&source.into())?;
                    Ok(s)
                })));
                let secrets = secrets.clone();
                tasks.spawn(async move {
                    let started = Instant::now();
                    let first = tokio::time::timeout(Duration::from_secs(10), async {
                        let mut c = ChatClient::connect(&o, &Tap::none(), secrets).await.ok()?;
                        // The first line that is not a notice about someone else.
                        let mut line = None;
                        for _ in 0..FLOOD + 10 {
                            line = c.next_line().await.ok().flatten();
                            match &line {
                                Some(l) if l.starts_with("* ") && !l.starts_with("* welcome") => {}
                                _ => break,
                            }
                        }
                        Some((c, line))
                    })
                    .await
                    .expect("a flood client hears back within 10 s, not a hang");
                    (started.elapsed(), first)
                });
            }
            while let Some(done) = tasks.join_next().await {
                let (took, first) = done.expect("task");
                slowest = slowest.max(took);
                match first {
                    Some((c, Some(l))) if l.starts_with("* welcome") => {
                        welcomed += 1;
                        kept.push(c);
                    }
                    Some((_, Some(l))) if l.starts_with("error: the server is full") => full += 1,
                    Some((_, Some(l))) => panic!("unexpected first line {l:?}"),
                    Some((_, None)) | None => closed += 1,
                }
            }
        }
        assert!(
            welcomed + 2 < 256,
            "{welcomed} clients cannot all fit under 256 descriptors"
        );
        if stolen == 0 {
            assert!(welcomed >= 100, "only {welcomed} clients were let in");
            assert!(
                full > 0,
                "nobody was told the server is full ({closed} closed)"
            );
        } else {
            assert!(welcomed >= 50, "only {welcomed} clients were let in");
            assert!(full + closed > 0, "nobody was turned away");
        }
        assert!(
            slowest < Duration::from_secs(5),
            "a flood client waited {slowest:?}"
        );
        let ping = pair.ping(5).await;
        eprintln!(
            "fd limit 256 ({stolen} taken), {FLOOD} clients: {welcomed} joined, {full} told full, {closed} closed; \
             slowest answer {slowest:?}; slowest ping {ping:?}"
        );
        drop(kept);
    });
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert!(child.0.wait().expect("exit").success());
    let log = log.join().expect("log");
    let emfile = log
        .iter()
        .filter(|l| l.contains("Too many open files"))
        .count();
    // Without stolen descriptors the limits keep the server clear of EMFILE; with them, one
    // warning per back-off episode (at most one per 10 s).
    let allowed = if stolen == 0 { 0 } else { 2 };
    assert!(
        emfile <= allowed,
        "{emfile} 'Too many open files' lines:\n{}",
        log.join("\n")
    );
    if stolen > 0 {
        assert!(
            emfile >= 1,
            "the server never ran out of descriptors: nothing was tested"
        );
    }
    eprintln!(
        "fd limit 256 ({stolen} taken): {} log lines, {emfile} about EMFILE",
        log.len()
    );
    assert!(
        log.len() < 4 * FLOOD,
        "{} log lines for {FLOOD} clients",
        log.len()
    );
}

#[tokio::test]
async fn http_sent_to_the_tls_port_is_refused_and_others_chat_on() {
    let _turn = one_at_a_time().await;
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut pair = Pair::join(&server, "ok").await;
    let mut http = connect_from(Ipv4Addr::LOCALHOST, server.addr).await;
    http.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("sent");
    let mut answer = Vec::new();
    within(
        "the server closes an HTTP client",
        STEP,
        http.read_to_end(&mut answer),
    )
    .await
    .ok();
    assert!(
        answer.is_empty() || answer[0] == 0x15,
        "a TLS alert or nothing: {answer:?}"
    );
    pair.ping(5).await;
}

/// `bad` sent by one client gets it an error line and a clean close, and the pair chats on.
async fn bad_line_is_refused_and_others_chat_on(bad: &[u8], expected: &str) {
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut pair = Pair::join(&server, "ok").await;
    let mut mallory = server.join("mallory").await;
    mallory.send_raw(bad).await.expect("sent");
    let error = next_matching(&mut mallory, |l| l.starts_with("error: ")).await;
    assert!(error.contains(expected), "{error}");
    let end = within("closed after the error", STEP, async {
        loop {
            match mallory.next_line().await {
                Ok(Some(_)) => {}
                other => return other,
            }
        }
    })
    .await;
    assert!(matches!(end, Ok(None)), "a clean close: {end:?}");
    pair.ping(5).await;
}

#[tokio::test]
async fn a_70_kb_line_is_refused_and_others_chat_on() {
    let _turn = one_at_a_time().await;
    let mut line = vec![b'x'; 70_000];
    line.push(b'\n');
    bad_line_is_refused_and_others_chat_on(&line, "longer than 65536 bytes").await;
}

#[tokio::test]
async fn invalid_utf8_is_refused_and_others_chat_on() {
    let _turn = one_at_a_time().await;
    bad_line_is_refused_and_others_chat_on(b"caf\xc3\x28\n", "not valid UTF-8").await;
}

#[tokio::test]
async fn three_hundred_half_open_handshakes_do_not_lock_others_out() {
    let _turn = one_at_a_time().await;
    const HALF_OPEN: usize = 300;
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut held = Vec::new();
    for i in 0..HALF_OPEN {
        // Ten source addresses, thirty each: within the per-address bound, so all are held.
        let source = Ipv4Addr::new(127, 0, 1, 1 + (i % 10) as u8);
        let mut tcp = connect_from(source, server.addr).await;
        // The start of a TLS record header (handshake, TLS 1.0), and then nothing.
        tcp.write_all(&[0x16, 0x03, 0x01]).await.expect("sent");
        held.push(tcp);
    }
    let started = Instant::now();
    let mut pair = Pair::join(&server, "ok").await;
    let slowest = pair.ping(5).await;
    eprintln!(
        "{HALF_OPEN} half-open handshakes: pair joined and pinged in {:?}, slowest ping {slowest:?}",
        started.elapsed()
    );
    drop(held);
}
