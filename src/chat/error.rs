//! Errors of the chat: each says what went wrong and what to do about it.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Something the chat could not do. The messages are meant to be read by a student at a terminal.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Nothing listens at the address (the server answered the SYN with a RST).
    #[error(
        "connection refused: nothing is listening on {0} (start one with `packetpath server`)"
    )]
    Refused(String),
    /// The address could not be reached or resolved.
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The address we tried.
        addr: String,
        /// What the operating system said (a `reason`, not a `source`: the message says it once).
        reason: std::io::Error,
    },
    /// The server's certificate was not issued by the CA we trust.
    #[error("the server's certificate was not issued by the CA in {ca} (unknown CA): either the server uses other certificates, or pass the right file with --ca")]
    UnknownCa {
        /// The CA file the client trusted.
        ca: String,
    },
    /// The certificate is valid but not for the name we connected to.
    #[error("the server's certificate is not valid for the name {name:?} (name mismatch): it was issued for other names; connect with a name it lists (packetpath's server certificate lists localhost, 127.0.0.1 and ::1)")]
    NameMismatch {
        /// The name the client expected.
        name: String,
    },
    /// The peer did not speak TLS.
    #[error("the server at {0} did not answer with TLS (plain vs TLS): if it is a plain server, add --plain")]
    NotTls(String),
    /// The peer closed during the handshake, often because it refused our TLS version.
    #[error("TLS handshake with {addr} failed: {reason}")]
    Handshake {
        /// The peer.
        addr: String,
        /// rustls' explanation.
        reason: String,
    },
    /// A certificate or key file is missing or unreadable.
    #[error("cannot read {path}: {reason}")]
    CertFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The server ended the chat without telling why.
    #[error("{0}")]
    Ended(String),
    /// A certificate or key file cannot be written.
    #[error("cannot write {}: {reason}", path.display())]
    CertWrite {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Some but not all certificate files exist, so we refuse to guess.
    #[error("{dir} holds an incomplete certificate set ({present} present, {missing} missing); run `packetpath certs --dir {dir} --force` to make a new set")]
    IncompleteCerts {
        /// The certificate folder.
        dir: String,
        /// Files present.
        present: String,
        /// Files missing.
        missing: String,
    },
    /// Certificate generation failed.
    #[error("cannot generate certificates: {0}")]
    Generate(String),
    /// A TLS configuration was rejected (e.g. an out-of-range maximum fragment size).
    #[error("invalid TLS settings: {0}")]
    Config(String),
    /// The congestion control asked for cannot be used on this socket.
    #[error("cannot use the congestion control {algorithm:?}: {reason} (this machine has: {available}; an ordinary user may set only those in /proc/sys/net/ipv4/tcp_allowed_congestion_control, but inside the lab any of them)")]
    Congestion {
        /// The algorithm asked for.
        algorithm: String,
        /// What the operating system said.
        reason: std::io::Error,
        /// The algorithms the kernel has.
        available: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {reason} (is another server already using that port? pick another with --listen)")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the operating system said (a `reason`, not a `source`: the message says it once).
        reason: std::io::Error,
    },
    /// Any other I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
