//! The subcommands' behaviour, called by `main.rs` after it has parsed the arguments. Each function
//! returns what it has to say (or writes to the writer it is given), so the same code serves the
//! binary and the tests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::chat::certs::{self, CertPaths, CertStatus};
pub use crate::chat::{ensure_certs, start_server};
use crate::chat::{ChatClient, ChatError, ClientOptions, SecretLog, Tap, Transport};

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

mod export;
pub use export::{export, ExportWhat};
mod observe;
mod probe;
pub use probe::probe_command;
pub mod samples;
mod script;
mod transfer;
pub use observe::{
    capture, inspect, keys_from_log, trace, write_pcapng, write_pcapng_with, CaptureOptions,
    TraceOptions, TraceOutcome, DEMO_ATTACK_LINE,
};
pub use script::{scripted_demo, ScriptOptions};
pub use transfer::{
    parse_size, print_summary, transfer, KernelFigures, RttFigures, TransferOptions,
    TransferOutcome, TransferSummary,
};
