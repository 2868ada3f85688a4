//! The subcommands' behaviour, called by `main.rs` after it has parsed the arguments. Each function
//! returns what it has to say (or writes to the writer it is given), so the same code serves the
//! binary and the tests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::chat::certs::{self, CertPaths, CertStatus};
use crate::chat::config::{server_config, Trust};
use crate::chat::server::DEFAULT_MAX_CLIENTS;
use crate::chat::{
    ChatClient, ChatError, ClientOptions, SecretLog, Server, ServerOptions, Tap, Transport,
};

/// Makes sure certificates exist in `dir`, saying so when they are created.
pub fn ensure_certs(dir: &Path) -> Result<CertPaths, ChatError> {
    let (paths, status) = certs::ensure(dir, false)?;
    if status == CertStatus::Created {
        tracing::info!(
            "first use: created a local CA ({}) and a server certificate for localhost ({})",
            paths.ca_cert.display(),
            paths.server_cert.display()
        );
    }
    Ok(paths)
}

/// Starts a chat server (TLS or plain) bound to `listen`, reporting to `tap` and logging secrets to
/// `secrets`. Returns the bound server; call [`Server::run`] to serve.
pub async fn start_server(
    listen: SocketAddr,
    transport: Transport,
    cert_dir: &Path,
    tap: Tap,
    secrets: Arc<SecretLog>,
) -> Result<Server, ChatError> {
    let tls = if transport.is_tls() {
        let paths = ensure_certs(cert_dir)?;
        Some(server_config(&paths, transport, secrets)?)
    } else {
        None
    };
    Server::bind(ServerOptions {
        listen,
        tls,
        max_clients: DEFAULT_MAX_CLIENTS,
        tap,
    })
    .await
}

/// `packetpath server`: serves until Ctrl-C, then shuts down gracefully.
pub async fn server(
    listen: SocketAddr,
    transport: Transport,
    cert_dir: &Path,
) -> Result<(), ChatError> {
    let secrets = Arc::new(SecretLog::from_env()?);
    let server = start_server(listen, transport, cert_dir, Tap::none(), secrets).await?;
    let addr = server.local_addr()?;
    // Register for Ctrl-C (SIGINT) before announcing the server, so an early signal is handled.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        if interrupt.recv().await.is_some() {
            tracing::info!("Ctrl-C: telling clients and closing connections");
        }
        on_signal.cancel();
    });
    tracing::info!(
        "chat server listening on {addr} ({}); join with `packetpath client --connect {addr}{}`",
        transport.name(),
        if transport.is_tls() { "" } else { " --plain" }
    );
    server.run(shutdown).await
}

/// `packetpath client`: chats on stdin/stdout.
pub async fn client(options: ClientOptions) -> Result<(), ChatError> {
    let secrets = Arc::new(SecretLog::from_env()?);
    let client = ChatClient::connect(&options, &Tap::none(), secrets).await?;
    tracing::info!(
        "connected to {} from {} ({}); type lines, Ctrl-D to leave",
        client.conn().server,
        client.conn().client,
        options.transport.name()
    );
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    client.run_interactive(stdin, tokio::io::stdout()).await
}

/// The scripted conversation of `packetpath demo` before the terminal UI exists: a server and two
/// clients, alice and bob, on free loopback ports. Returns what each client saw, in order.
pub async fn scripted_demo(
    transport: Transport,
    cert_dir: &Path,
) -> Result<Vec<String>, ChatError> {
    let secrets = Arc::new(SecretLog::new());
    let server = start_server(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        transport,
        cert_dir,
        Tap::none(),
        secrets.clone(),
    )
    .await?;
    let addr = server.local_addr()?;
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(server.run(shutdown.clone()));
    let options = |name: &str| {
        let mut o = ClientOptions::new(addr.to_string());
        o.name = Some(name.to_string());
        o.transport = transport;
        o.trust = Trust::Ca(CertPaths::in_dir(cert_dir).ca_cert);
        o
    };
    let mut transcript = Vec::new();
    let mut alice = ChatClient::connect(&options("alice"), &Tap::none(), secrets.clone()).await?;
    expect_line(&mut alice, "alice", &mut transcript).await?;
    let mut bob = ChatClient::connect(&options("bob"), &Tap::none(), secrets.clone()).await?;
    expect_line(&mut bob, "bob", &mut transcript).await?;
    expect_line(&mut alice, "alice", &mut transcript).await?;
    for (from, to, text) in [
        ("alice", "bob", "hi bob, can you read this?"),
        ("bob", "alice", "yes! and an eavesdropper cannot."),
    ] {
        transcript.push(format!("{from} sends: {text}"));
        let (sender, receiver) = if from == "alice" {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        sender.send(text).await?;
        expect_line(receiver, to, &mut transcript).await?;
    }
    bob.close().await?;
    expect_line(&mut alice, "alice", &mut transcript).await?;
    alice.close().await?;
    shutdown.cancel();
    let _ = serving.await;
    transcript.push(format!(
        "({} TLS secrets were logged: with them packetpath can decrypt this conversation)",
        secrets.entries().len()
    ));
    Ok(transcript)
}

async fn expect_line(
    client: &mut ChatClient,
    who: &str,
    transcript: &mut Vec<String>,
) -> Result<(), ChatError> {
    match client.next_line().await? {
        Some(line) => {
            transcript.push(format!("  {who} sees: {line}"));
            Ok(())
        }
        None => Err(ChatError::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the server closed {who}'s connection"),
        ))),
    }
}

/// `packetpath certs`: makes (or with `force`, remakes) the certificate set.
pub fn certs(dir: &Path, force: bool) -> Result<(CertPaths, CertStatus), ChatError> {
    certs::ensure(dir, force)
}

mod observe;
pub mod samples;
pub use observe::{
    capture, inspect, keys_from_log, open_capture, trace, write_pcapng, CaptureOptions,
    TraceOptions, TraceOutcome,
};
