//! Starting a chat server: certificates made on first use, the process's descriptor limit raised,
//! then the listening socket bound.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::certs::{self, CertPaths, CertStatus};
use super::config::server_config;
use super::server::DEFAULT_MAX_CLIENTS;
use super::{ChatError, SecretLog, Server, ServerOptions, Tap, Transport};

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
