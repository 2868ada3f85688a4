//! The subcommands' behaviour, called by `main.rs` after it has parsed the arguments. Each function
//! returns what it has to say (or writes to the writer it is given), so the same code serves the
//! binary and the tests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::chat::certs::{self, CertPaths, CertStatus};
use crate::chat::config::server_config;
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
    // Each client is a socket, and a socket is a file descriptor: take all the process may have.
    if let Err(e) = crate::chat::limits::raise_fd_limit() {
        tracing::debug!("cannot read the open-file limit: {e}");
    }
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

/// `packetpath server`: serves until Ctrl-C (SIGINT), SIGTERM or SIGHUP, then shuts down
/// gracefully: every client is told and its connection closed properly.
pub async fn server(
    listen: SocketAddr,
    transport: Transport,
    cert_dir: &Path,
) -> Result<(), ChatError> {
    let secrets = Arc::new(SecretLog::from_env()?);
    let server = start_server(listen, transport, cert_dir, Tap::none(), secrets).await?;
    let addr = server.local_addr()?;
    // Register for the signals before announcing the server, so an early signal is handled.
    // SIGTERM (`kill`, systemd, docker stop) and SIGHUP (the terminal closed) mean the same as
    // Ctrl-C here: stop, but tell the clients first.
    let mut signals = crate::stop::StopSignals::new()?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        let which = signals.recv().await;
        tracing::info!(
            "{}: telling clients and closing connections",
            which.describe()
        );
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

/// `packetpath certs`: makes (or with `force`, remakes) the certificate set.
pub fn certs(dir: &Path, force: bool) -> Result<(CertPaths, CertStatus), ChatError> {
    certs::ensure(dir, force)
}

mod observe;
pub mod samples;
mod script;
pub use observe::{
    capture, inspect, keys_from_log, open_capture, trace, write_pcapng, CaptureOptions,
    TraceOptions, TraceOutcome,
};
pub use script::{scripted_demo, ScriptOptions};
