//! Helpers shared by the whole-program tests.
#![allow(dead_code)]

pub mod external;
pub mod harness;
#[allow(unused_imports)]
pub use harness::{block_on, Need};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use packetpath::chat::certs::{self, CertPaths};
use packetpath::chat::config::Trust;
use packetpath::chat::{ChatClient, ClientOptions, SecretLog, Server, Tap, Transport};
use tokio_util::sync::CancellationToken;

/// A fresh certificate folder for one test.
pub fn cert_dir() -> (tempfile::TempDir, CertPaths) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (paths, _) = certs::ensure(dir.path(), false).expect("certificates");
    (dir, paths)
}

/// A running chat server on 127.0.0.1 with a free port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// The CA that issued the server's certificate.
    pub ca: PathBuf,
    pub shutdown: CancellationToken,
    pub secrets: Arc<SecretLog>,
    pub handle: tokio::task::JoinHandle<()>,
}

pub async fn start(transport: Transport, dir: &Path, tap: Tap) -> TestServer {
    let secrets = Arc::new(SecretLog::new());
    let server: Server = packetpath::chat::start_server(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        transport,
        dir,
        tap,
        secrets.clone(),
    )
    .await
    .expect("server starts");
    let addr = server.local_addr().expect("address");
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let handle = tokio::spawn(async move {
        server.run(token).await.expect("server runs");
    });
    TestServer {
        addr,
        transport,
        ca: packetpath::chat::certs::CertPaths::in_dir(dir).ca_cert,
        shutdown,
        secrets,
        handle,
    }
}

pub fn options(
    addr: SocketAddr,
    name: Option<&str>,
    transport: Transport,
    ca: PathBuf,
) -> ClientOptions {
    let mut o = ClientOptions::new(addr.to_string());
    o.name = name.map(str::to_string);
    o.transport = transport;
    o.trust = Trust::Ca(ca);
    o
}

impl TestServer {
    /// Connects a named client (same transport, trusting the server's CA) and waits for its
    /// welcome line.
    pub async fn join(&self, name: &str) -> ChatClient {
        self.join_tapped(name, &Tap::none()).await
    }

    /// [`TestServer::join`], reporting the client's writes and reads to `tap`.
    pub async fn join_tapped(&self, name: &str, tap: &Tap) -> ChatClient {
        let mut client = ChatClient::connect(
            &options(self.addr, Some(name), self.transport, self.ca.clone()),
            tap,
            self.secrets.clone(),
        )
        .await
        .expect("client connects");
        let welcome = next(&mut client).await;
        assert!(
            welcome.starts_with(&format!("* welcome, {name}")),
            "{welcome}"
        );
        client
    }
}

/// The next line, failing the test if none arrives within 20 s (a hang, not a timing assumption).
pub async fn next(client: &mut ChatClient) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(20), client.next_line())
        .await
        .expect("a line within 20 s")
        .expect("no error")
        .expect("connection still open")
}

/// Skips lines until one satisfies `pred`.
pub async fn next_matching(client: &mut ChatClient, pred: impl Fn(&str) -> bool) -> String {
    loop {
        let line = next(client).await;
        if pred(&line) {
            return line;
        }
    }
}

/// Runs the packetpath binary with `args` in `dir`, returning (exit code, stdout, stderr).
pub fn packetpath(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("packetpath runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A child process killed (if still running) and reaped when the test ends, even by a panic.
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A copy of the binary that `nobody` can run: the checkout may sit in a folder only root can
/// enter (CI clones anywhere).
pub fn binary_for_nobody() -> std::path::PathBuf {
    static COPY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("packetpath-test-bin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.join("packetpath");
        std::fs::copy(env!("CARGO_BIN_EXE_packetpath"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    })
    .clone()
}

/// Runs packetpath in `dir`, optionally as an ordinary user: `nobody` (through setpriv) when the
/// tests run as root, else the user running them.
pub fn run_as(dir: &std::path::Path, nobody: bool, args: &[&str]) -> (i32, String, String) {
    let bin = env!("CARGO_BIN_EXE_packetpath");
    let mut cmd = if nobody && nix::unistd::geteuid().is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(binary_for_nobody());
        c
    } else {
        std::process::Command::new(bin)
    };
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder anyone may write to (nobody creates its certificates there).
pub fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}
