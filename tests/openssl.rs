//! packetpath and OpenSSL as each other's TLS peers (needs `openssl`): `openssl s_client`
//! chats through our server, and our client through `openssl s_server`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use packetpath::chat::{ChatClient, Tap, Transport};

/// Runs `openssl s_client` against our server and checks it chats both ways.
fn openssl_client_chats(version_flag: &str, transport: Transport) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (dir, paths) = cert_dir();
    let server = rt.block_on(start(transport, dir.path(), Tap::none()));
    let mut bob = rt.block_on(server.join("bob"));
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &server.addr.to_string(), "-CAfile"])
        .arg(&paths.ca_cert)
        .args([
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
            "-servername",
            "localhost",
        ])
        .args([version_flag, "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The server names a client by its first line, so it speaks first.
    stdin
        .write_all(b"/name openssl\nhello from openssl\n")
        .unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("* welcome, openssl"),
        "openssl got {line:?}"
    );
    rt.block_on(async {
        assert_eq!(next(&mut bob).await, "* openssl joined (2 online)");
        assert_eq!(next(&mut bob).await, "openssl: hello from openssl");
        bob.send("hello openssl").await.unwrap();
    });
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "bob: hello openssl\n");
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}

fn openssl_s_client_chats_with_our_server_tls13() {
    openssl_client_chats("-tls1_3", Transport::Tls13);
}

fn openssl_s_client_chats_with_our_server_tls12() {
    openssl_client_chats("-tls1_2", Transport::Tls12);
}

fn our_client_talks_to_openssl_s_server(version_flag: &str, transport: Transport) {
    let (_dir, paths) = cert_dir();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-naccept",
            "1",
            "-rev",
        ])
        .arg("-cert")
        .arg(&paths.server_cert)
        .arg("-key")
        .arg(&paths.server_key)
        .arg(version_flag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for s_server to say it accepts connections.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.contains("ACCEPT") {
        line.clear();
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let addr = format!("localhost:{port}");
        let mut o = packetpath::chat::ClientOptions::new(addr);
        o.transport = transport;
        o.trust = packetpath::chat::config::Trust::Ca(paths.ca_cert.clone());
        let secrets = std::sync::Arc::new(packetpath::chat::SecretLog::new());
        let mut client = ChatClient::connect(&o, &Tap::none(), secrets.clone())
            .await
            .unwrap();
        client.send("packetpath").await.unwrap();
        // -rev answers every line reversed.
        let reply = next_matching(&mut client, |l| l.contains("htaptekcap")).await;
        assert_eq!(reply, "htaptekcap");
        assert!(!secrets.entries().is_empty());
    });
    let _ = child.kill();
    let _ = child.wait();
}

fn our_client_talks_to_openssl_s_server_tls13() {
    our_client_talks_to_openssl_s_server("-tls1_3", Transport::Tls13);
}

fn our_client_talks_to_openssl_s_server_tls12() {
    our_client_talks_to_openssl_s_server("-tls1_2", Transport::Tls12);
}

/// `openssl s_client` waits for the server to speak first: it is welcomed as a guest without
/// sending anything, and told how to choose a name.
fn openssl_s_client_is_welcomed_before_it_says_anything() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (dir, paths) = cert_dir();
    let server = rt.block_on(start(Transport::Tls13, dir.path(), Tap::none()));
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &server.addr.to_string(), "-CAfile"])
        .arg(&paths.ca_cert)
        .args(["-servername", "localhost", "-quiet"])
        .stdin(Stdio::piped()) // kept open, nothing written
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = lines.recv_timeout(std::time::Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let first = first.expect("a welcome without sending anything");
    assert!(
        first.starts_with("* welcome, guest-1") && first.contains("/name NAME"),
        "{first}"
    );
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            openssl_s_client_is_welcomed_before_it_says_anything,
            Need::Tool("openssl")
        ),
        test!(
            openssl_s_client_chats_with_our_server_tls13,
            Need::Tool("openssl")
        ),
        test!(
            openssl_s_client_chats_with_our_server_tls12,
            Need::Tool("openssl")
        ),
        test!(
            our_client_talks_to_openssl_s_server_tls13,
            Need::Tool("openssl")
        ),
        test!(
            our_client_talks_to_openssl_s_server_tls12,
            Need::Tool("openssl")
        ),
    ])
}
