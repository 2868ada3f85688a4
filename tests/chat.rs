//! Whole-program tests of the chat over real sockets on 127.0.0.1.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use packetpath::chat::{AppEvent, ChatClient, ChatError, Side, Tap, Transport};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn three_clients_every_line_reaches_every_other_client_in_order() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let mut bob = server.join("bob").await;
    assert_eq!(next(&mut alice).await, "* bob joined (2 online)");
    let mut carol = server.join("carol").await;
    assert_eq!(next(&mut alice).await, "* carol joined (3 online)");
    assert_eq!(next(&mut bob).await, "* carol joined (3 online)");

    for i in 0..5 {
        alice.send(&format!("a{i}")).await.unwrap();
        bob.send(&format!("b{i}")).await.unwrap();
    }
    // Each receiver sees each sender's lines in the order they were sent.
    for (me, others) in [(&mut carol, ["alice", "bob"])] {
        let mut seen: HashMap<&str, Vec<String>> = HashMap::new();
        for _ in 0..10 {
            let line = next(me).await;
            let (who, text) = line.split_once(": ").unwrap();
            let who = others.iter().find(|o| **o == who).unwrap();
            seen.entry(who).or_default().push(text.to_string());
        }
        assert_eq!(
            seen["alice"],
            (0..5).map(|i| format!("a{i}")).collect::<Vec<_>>()
        );
        assert_eq!(
            seen["bob"],
            (0..5).map(|i| format!("b{i}")).collect::<Vec<_>>()
        );
    }
    for i in 0..5 {
        assert_eq!(next(&mut alice).await, format!("bob: b{i}"));
        assert_eq!(next(&mut bob).await, format!("alice: a{i}"));
    }
    carol.close().await.unwrap();
    assert_eq!(next(&mut alice).await, "* carol left");
    server.shutdown.cancel();
    assert_eq!(next(&mut alice).await, "* server shutting down");
    assert_eq!(
        alice.next_line().await.unwrap(),
        None,
        "server closed the connection"
    );
    server.handle.await.unwrap();
}

#[tokio::test]
async fn a_client_alone_gets_an_answer_from_the_server() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    alice.send("anyone?").await.unwrap();
    assert_eq!(next(&mut alice).await, "server: received \"anyone?\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_fifty_lines_each_nothing_lost_or_duplicated() {
    const CLIENTS: usize = 200;
    const LINES: usize = 50;
    let started = std::time::Instant::now();
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(server.join(&format!("c{i}")).await);
    }
    // Everyone has joined once the last client's join notice reached the first client.
    next_matching(&mut clients[0], |l| {
        l == format!("* c{} joined ({CLIENTS} online)", CLIENTS - 1)
    })
    .await;
    for c in clients.iter_mut().take(CLIENTS - 1).skip(1) {
        next_matching(c, |l| {
            l == format!("* c{} joined ({CLIENTS} online)", CLIENTS - 1)
        })
        .await;
    }
    let mut tasks = Vec::new();
    let mut tasks_rx = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let (mut tx, mut rx) = client.into_split();
        // Send and receive at once: a client that only sends would stall the room (backpressure).
        tasks.push(tokio::spawn(async move {
            for n in 0..LINES {
                tx.send(&format!("{i} {n}")).await.unwrap();
            }
            tx
        }));
        tasks_rx.push(tokio::spawn(async move {
            let expected = (CLIENTS - 1) * LINES;
            let mut received: HashMap<String, Vec<usize>> = HashMap::new();
            let mut got = 0;
            while got < expected {
                let line = rx.next_line().await.unwrap().expect("open");
                if line.starts_with('*') {
                    continue;
                }
                let (_, text) = line.split_once(": ").unwrap();
                let (from, n) = text.split_once(' ').unwrap();
                received
                    .entry(from.to_string())
                    .or_default()
                    .push(n.parse().unwrap());
                got += 1;
            }
            assert!(
                !received.contains_key(&i.to_string()),
                "a client got its own line back"
            );
            assert_eq!(received.len(), CLIENTS - 1);
            for (from, ns) in received {
                assert_eq!(
                    ns,
                    (0..LINES).collect::<Vec<_>>(),
                    "lines from {from} lost, duplicated or reordered"
                );
            }
        }));
    }
    for t in tasks_rx {
        tokio::time::timeout(Duration::from_secs(240), t)
            .await
            .expect("finished")
            .unwrap();
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(240), t)
            .await
            .expect("finished")
            .unwrap();
    }
    eprintln!("200 clients x 50 lines: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_plaintext_client_on_the_tls_port_does_not_disturb_others() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let mut raw = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    raw.write_all(b"hello, I speak no TLS\n").await.unwrap();
    // The server answers the non-TLS bytes with an alert and closes.
    let mut buf = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut buf)
        .await
        .unwrap();
    assert!(
        buf.is_empty() || buf[0] == 0x15,
        "expected a TLS alert or nothing, got {buf:?}"
    );
    let mut bob = server.join("bob").await;
    assert_eq!(next(&mut alice).await, "* bob joined (2 online)");
    bob.send("still here").await.unwrap();
    assert_eq!(next(&mut alice).await, "bob: still here");
}

async fn refused_line(bad: &[u8], expected: &str) {
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let mut mallory = server.join("mallory").await;
    assert_eq!(next(&mut alice).await, "* mallory joined (2 online)");
    mallory.send_raw(bad).await.unwrap();
    let error = next(&mut mallory).await;
    assert!(
        error.starts_with("error: ") && error.contains(expected),
        "{error}"
    );
    assert_eq!(
        mallory.next_line().await.unwrap(),
        None,
        "connection closed cleanly after the error"
    );
    assert_eq!(next(&mut alice).await, "* mallory left");
    let mut bob = server.join("bob").await;
    assert_eq!(next(&mut alice).await, "* bob joined (2 online)");
    bob.send("after").await.unwrap();
    assert_eq!(
        next(&mut alice).await,
        "bob: after",
        "nothing of the bad line was relayed"
    );
}

#[tokio::test]
async fn an_oversized_line_gets_an_error_and_a_clean_close() {
    let mut line = vec![b'x'; 64 * 1024 + 1];
    line.push(b'\n');
    refused_line(&line, "longer than 65536 bytes").await;
}

#[tokio::test]
async fn invalid_utf8_gets_an_error_and_a_clean_close() {
    refused_line(b"caf\xc3\x28\n", "not valid UTF-8").await;
}

#[tokio::test]
async fn a_line_of_exactly_64_kib_is_accepted() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let mut bob = server.join("bob").await;
    next(&mut alice).await;
    let text = "y".repeat(64 * 1024 - "bob: ".len());
    bob.send(&text).await.unwrap();
    assert_eq!(next(&mut alice).await, format!("bob: {text}"));
}

#[tokio::test]
async fn a_client_killed_mid_line_sends_nothing() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let mut victim = server.join("victim").await;
    assert_eq!(next(&mut alice).await, "* victim joined (2 online)");
    victim.send_raw(b"half a li").await.unwrap();
    drop(victim); // no close_notify, no newline: as if the process were killed
    assert_eq!(next(&mut alice).await, "* victim left");
    let mut bob = server.join("bob").await;
    assert_eq!(next(&mut alice).await, "* bob joined (2 online)");
    bob.send("next").await.unwrap();
    assert_eq!(next(&mut alice).await, "bob: next");
}

#[tokio::test]
async fn a_client_trusting_another_ca_is_refused_with_a_clear_message() {
    let (dir, _) = cert_dir();
    let (_other_dir, other) = cert_dir();
    let server = start(Transport::Tls13, dir.path(), Tap::none()).await;
    let err = ChatClient::connect(
        &options(
            server.addr,
            Some("eve"),
            Transport::Tls13,
            other.ca_cert.clone(),
        ),
        &Tap::none(),
        server.secrets.clone(),
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, ChatError::UnknownCa { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown CA"), "{err}");
}

#[tokio::test]
async fn clear_messages_for_refused_and_plain_servers() {
    let (dir, paths) = cert_dir();
    // Nothing listening: find a free port, then close it. On an address of its own (all of
    // 127/8 is loopback), so that no other test's listener can take the port in between.
    let port = std::net::TcpListener::bind("127.0.0.77:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = ChatClient::connect(
        &options(port, None, Transport::Tls13, paths.ca_cert.clone()),
        &Tap::none(),
        std::sync::Arc::new(packetpath::chat::SecretLog::new()),
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, ChatError::Refused(_)), "{err:?}");
    // A TLS client against a plain server.
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let err = ChatClient::connect(
        &options(server.addr, None, Transport::Tls13, paths.ca_cert.clone()),
        &Tap::none(),
        server.secrets.clone(),
    )
    .await
    .err()
    .expect("refused");
    assert!(
        matches!(err, ChatError::NotTls(_) | ChatError::Handshake { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("--plain"), "{err}");
}

#[tokio::test]
async fn the_ledger_accounts_for_every_byte_and_the_key_log_has_tls13_labels() {
    let (dir, _) = cert_dir();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<AppEvent>();
    let tap = Tap::new(tx);
    let server = start(Transport::Tls13, dir.path(), tap.clone()).await;
    let mut alice = server.join_tapped("alice", &tap).await;
    let mut bob = server.join_tapped("bob", &tap).await;
    next(&mut alice).await;
    let texts = ["hi", "a somewhat longer line", "ünïcödé"];
    for t in texts {
        alice.send(t).await.unwrap();
        assert_eq!(next(&mut bob).await, format!("alice: {t}"));
    }
    let conn = alice.conn();
    alice.close().await.unwrap();
    assert_eq!(next(&mut bob).await, "* alice left");
    server.shutdown.cancel();
    server.handle.await.unwrap();
    drop(tap);
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    let sent: usize = "/name alice\n".len() + texts.iter().map(|t| t.len() + 1).sum::<usize>();
    for (side, dir) in [
        (Side::Client, packetpath::chat::Direction::Write),
        (Side::Server, packetpath::chat::Direction::Read),
    ] {
        let mine: Vec<&AppEvent> = events
            .iter()
            .filter(|e| e.conn == conn && e.side == side && e.dir == dir)
            .collect();
        let mut offset = 0;
        for e in &mine {
            assert_eq!(e.offset, offset, "offsets are contiguous");
            offset += e.bytes.len() as u64;
        }
        assert_eq!(
            offset as usize, sent,
            "{side:?} {dir:?} accounts for every byte"
        );
        let all: Vec<u8> = mine.iter().flat_map(|e| e.bytes.iter().copied()).collect();
        assert!(String::from_utf8(all).unwrap().ends_with("ünïcödé\n"));
    }
    // Each client write of a line is one write.
    let writes = events
        .iter()
        .filter(|e| {
            e.conn == conn && e.side == Side::Client && e.dir == packetpath::chat::Direction::Write
        })
        .count();
    assert_eq!(writes, 1 + texts.len());
    let labels: Vec<String> = server
        .secrets
        .entries()
        .into_iter()
        .map(|e| e.label)
        .collect();
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ] {
        assert!(
            labels.iter().any(|l| l == label),
            "{label} missing from {labels:?}"
        );
    }
    // Both ends logged the same secrets; the log keeps each once (2 connections x 5 labels).
    assert_eq!(labels.len(), 10, "{labels:?}");
}

#[test]
fn ctrl_c_shuts_the_server_down_gracefully() {
    signal_shuts_the_server_down_gracefully("INT");
}

#[tokio::test]
async fn a_second_alice_becomes_alice_2_and_is_told_so() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let mut second = server.join("alice").await;
    assert_eq!(next(&mut alice).await, "* alice-2 joined (2 online)");
    second.send("hi").await.unwrap();
    assert_eq!(next(&mut alice).await, "alice-2: hi");
    // Case does not make a name different.
    let o = options(
        server.addr,
        Some("ALICE"),
        server.transport,
        server.ca.clone(),
    );
    let mut third = ChatClient::connect(&o, &Tap::none(), server.secrets.clone())
        .await
        .unwrap();
    assert_eq!(
        next(&mut third).await,
        "* welcome, ALICE-3 (3 online); the name ALICE is taken, so you are ALICE-3"
    );
}

#[tokio::test]
async fn nobody_may_call_itself_server() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    let o = options(
        server.addr,
        Some("Server"),
        server.transport,
        server.ca.clone(),
    );
    let mut mallory = ChatClient::connect(&o, &Tap::none(), server.secrets.clone())
        .await
        .unwrap();
    let refused = next(&mut mallory).await;
    assert!(
        refused.starts_with("error: ") && refused.contains("reserved"),
        "{refused}"
    );
    mallory.send("/name mallory").await.unwrap();
    assert!(next(&mut mallory).await.starts_with("* welcome, mallory"));
    assert_eq!(next(&mut alice).await, "* mallory joined (2 online)");
    // Renaming to it later is refused too.
    mallory.send("/name SERVER").await.unwrap();
    assert!(next(&mut mallory).await.contains("reserved"));
    mallory.send("still me").await.unwrap();
    assert_eq!(next(&mut alice).await, "mallory: still me");
}

#[tokio::test]
async fn a_silent_client_is_greeted_as_a_guest_and_may_rename_itself() {
    use tokio::io::AsyncBufReadExt;
    let (dir, _) = cert_dir();
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let mut alice = server.join("alice").await;
    // Like `openssl s_client` or `nc`: connect and wait for the server to speak first.
    let raw = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (read, mut write) = raw.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    async fn line(lines: &mut tokio::io::Lines<impl tokio::io::AsyncBufRead + Unpin>) -> String {
        tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the server greets a silent client")
            .unwrap()
            .expect("open")
    }
    let welcome = line(&mut lines).await;
    assert!(
        welcome.starts_with("* welcome, guest-") && welcome.contains("/name NAME"),
        "{welcome}"
    );
    let guest = welcome
        .trim_start_matches("* welcome, ")
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        next(&mut alice).await,
        format!("* {guest} joined (2 online)")
    );
    write.write_all(b"/name alice\n").await.unwrap();
    assert_eq!(
        line(&mut lines).await,
        "* you are now alice-2 (the name alice is taken)"
    );
    assert_eq!(next(&mut alice).await, format!("* {guest} is now alice-2"));
    write.write_all(b"hello\n").await.unwrap();
    assert_eq!(next(&mut alice).await, "alice-2: hello");
}

#[tokio::test]
async fn a_typed_line_that_is_not_utf8_is_skipped_with_a_warning_and_the_chat_goes_on() {
    let (dir, _) = cert_dir();
    let server = start(Transport::Plain, dir.path(), Tap::none()).await;
    let mut bob = server.join("bob").await;
    let alice = ChatClient::connect(
        &options(
            server.addr,
            Some("alice"),
            server.transport,
            server.ca.clone(),
        ),
        &Tap::none(),
        server.secrets.clone(),
    )
    .await
    .unwrap();
    let mut shown = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        alice.run_interactive(&b"caf\xc3\x28\nhello\n"[..], &mut shown),
    )
    .await
    .expect("the client ends when its input does")
    .expect("a line that is not UTF-8 is not fatal");
    assert_eq!(
        next_matching(&mut bob, |l| !l.starts_with('*')).await,
        "alice: hello"
    );
}

#[tokio::test]
async fn a_line_from_the_server_that_is_not_utf8_is_shown_and_the_chat_goes_on() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.write_all(b"* welcome, x (1 online)\n\xff\xfe bad\nafter\n")
            .await
            .unwrap();
    });
    let (_dir, paths) = cert_dir();
    let client = ChatClient::connect(
        &options(addr, None, Transport::Plain, paths.ca_cert),
        &Tap::none(),
        std::sync::Arc::new(packetpath::chat::SecretLog::new()),
    )
    .await
    .unwrap();
    let mut shown = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        client.run_interactive(&b""[..], &mut shown),
    )
    .await
    .expect("the client ends when the server closes")
    .expect("a line that is not UTF-8 is not fatal");
    server.await.unwrap();
    assert_eq!(
        String::from_utf8(shown).unwrap(),
        "* welcome, x (1 online)\n\u{FFFD}\u{FFFD} bad\nafter\n"
    );
}

/// Starts the real binary, connects alice, sends `signal` and expects a graceful shutdown.
fn signal_shuts_the_server_down_gracefully(signal: &str) {
    let (dir, paths) = cert_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["server", "--listen", "127.0.0.1:0", "--certs"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "server exited early"
        );
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let o = options(
            addr.parse().unwrap(),
            Some("alice"),
            Transport::Tls13,
            paths.ca_cert.clone(),
        );
        let secrets = std::sync::Arc::new(packetpath::chat::SecretLog::new());
        let mut alice = ChatClient::connect(&o, &Tap::none(), secrets)
            .await
            .unwrap();
        assert!(next(&mut alice).await.starts_with("* welcome"));
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(next(&mut alice).await, "* server shutting down");
        assert_eq!(alice.next_line().await.unwrap(), None);
    });
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn sigterm_shuts_the_server_down_gracefully() {
    signal_shuts_the_server_down_gracefully("TERM");
}

#[test]
fn sighup_shuts_the_server_down_gracefully() {
    signal_shuts_the_server_down_gracefully("HUP");
}

/// A server started under `nohup` (SIGHUP ignored) keeps ignoring it: closing the terminal it was
/// started from must not stop it. It still stops on SIGTERM.
#[test]
fn under_nohup_sighup_is_still_ignored() {
    let (dir, _) = cert_dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_packetpath"));
    cmd.args(["server", "--plain", "--listen", "127.0.0.1:0", "--certs"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped());
    // SAFETY: signal() is async-signal-safe; this is what `nohup` does before exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = Reaped(cmd.spawn().unwrap());
    let pid = child.0.id().to_string();
    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    let (tx, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next_log = || {
        log.recv_timeout(Duration::from_secs(20))
            .expect("a log line within 20 s")
    };
    while !next_log().contains("listening on") {}
    // Listening means its signal handlers are installed: SIGHUP must still be ignored.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let ignored = packetpath::procfs::status_mask(&status, "SigIgn").unwrap();
    assert_ne!(
        ignored & 1,
        0,
        "SIGHUP (bit 0 of SigIgn) is no longer ignored"
    );
    for sig in ["-HUP", "-TERM"] {
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    }
    let stopping = next_log();
    assert!(stopping.contains("SIGTERM: telling clients"), "{stopping}");
}
