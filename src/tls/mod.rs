//! The TLS layer: records cut from a direction's reassembled TCP byte stream, the handshake
//! messages inside them, the key log that holds session secrets, and the removal of record
//! protection for TLS 1.3 (0-RTT early data included) and TLS 1.2 AEAD and AES-CBC suites.
//!
//! Everything here is pure (bytes in, values out) and never panics on bytes from the network.
//! A typical caller keeps one byte buffer per TCP direction and one [`TlsConnection`] per TCP
//! connection:
//!
//! ```text
//! stream bytes --frame_record--> Complete(header) --TlsConnection::on_record(dir, record, keys)--> RecordInfo
//!                                NeedMore         (wait for more TCP data)
//!                                Malformed        (not TLS, or the record boundary was lost)
//! ```
//!
//! Records must be handed over in the order they were sent in their direction, and both
//! directions interleaved in capture order (the client's keys switch when the server's
//! ServerHello arrives).

#![forbid(unsafe_code)]
// Bytes from the network must never panic this module (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod cbc;
mod conn;
mod crypto;
mod decrypt;
mod error;
mod handshake;
mod keylog;
mod protection;
mod record;

#[cfg(test)]
mod rustls_tests;

pub use cbc::CBC_BLOCK_LEN;
pub use conn::{Plaintext, RecordInfo, SessionSummary, TlsConnection};
pub use crypto::{
    cbc_suite_params, cipher_suite_name, hkdf_expand_label, suite_params, tls12_prf, CbcCipher,
    CbcSuiteParams, SuiteAead, SuiteHash, SuiteMac, SuiteParams, SuiteProtection,
};
pub use decrypt::{next_traffic_secret, split_inner_plaintext, RecordKey};
pub use error::TlsError;
pub use handshake::{
    group_name, parse_client_hello, parse_server_hello, ClientHelloInfo, HandshakeChunk,
    HandshakeMessage, HandshakeReassembler, HandshakeType, ServerHelloInfo,
    HELLO_RETRY_REQUEST_RANDOM, MAX_HANDSHAKE_MESSAGE,
};
pub use keylog::{encode_hex, labels, Keys};
pub use protection::KeyEpoch;
pub use record::{
    alert_level_name, alert_name, frame_record, looks_like_tls, version_name, ContentType, Framing,
    RecordHeader, MAX_RECORD_BODY, RECORD_HEADER_LEN,
};

/// Which way a record travels on its TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the side that sent the ClientHello (the TCP connection's initiator).
    ClientToServer,
    /// From the side that answered with ServerHello.
    ServerToClient,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// The sending side's name: "client" or "server".
    pub fn sender(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        }
    }
}
