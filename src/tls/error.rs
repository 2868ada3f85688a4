//! Errors of the TLS layer: framing a record out of a byte stream and removing its protection.
//!
//! Each message names the layer, the field and what was expected, so a student reading it in the
//! UI learns what a well-formed record looks like.

use thiserror::Error;

/// Something in the TLS bytes (or in the keys for them) was not what the RFCs allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlsError {
    /// The 5-byte record header does not look like TLS at all (RFC 8446 §5.1).
    #[error(
        "TLS record header at stream offset 0: content type {content_type} is not one of 20-24 and \
         version 0x{version:04x} is not 3.x, so these bytes are not a TLS record (RFC 8446 §5.1)"
    )]
    NotARecord {
        /// The first byte, read as a content type.
        content_type: u8,
        /// Bytes 1-2, read as the legacy record version.
        version: u16,
    },

    /// The record header announces a body longer than any TLS version allows.
    #[error(
        "TLS record length field (header bytes 3-4) says {length} bytes, above the limit \
         2^14 + 2048 = {limit} bytes for a protected record (RFC 5246 §6.2.3; RFC 8446 §5.2 allows only 2^14 + 256)"
    )]
    RecordTooLong {
        /// The value of the length field.
        length: usize,
        /// The largest length accepted.
        limit: usize,
    },

    /// A record handed to the connection was cut short or carried extra bytes.
    #[error(
        "TLS record is {actual} bytes but its header (5 bytes) announces a {announced}-byte body, \
         {expected} bytes in all"
    )]
    RecordLengthMismatch {
        /// Bytes actually handed over.
        actual: usize,
        /// The header's length field.
        announced: usize,
        /// 5 + announced.
        expected: usize,
    },

    /// A handshake message header announces a body larger than this tool is willing to buffer.
    #[error(
        "handshake message {msg_type} announces {length} bytes (bytes 1-3 of its 4-byte header), \
         more than the {limit} bytes this tool buffers; handshake reassembly stops for this key epoch"
    )]
    HandshakeTooLong {
        /// Name of the message type.
        msg_type: String,
        /// The announced body length.
        length: usize,
        /// Largest body buffered.
        limit: usize,
    },

    /// The negotiated cipher suite is not an AEAD suite this tool implements.
    #[error(
        "cipher suite 0x{suite:04x} ({name}) cannot be decrypted here: only the AES-GCM and \
         ChaCha20-Poly1305 suites are implemented"
    )]
    UnsupportedSuite {
        /// The IANA number of the suite.
        suite: u16,
        /// Its IANA name, or "unknown".
        name: &'static str,
    },

    /// The key log has nothing at all for this session's client random.
    #[error(
        "no keys for this session: the key log has no line for client random {client_random_prefix}..."
    )]
    NoKeysForSession {
        /// The first 8 bytes of the client random, in hex, to find the session in a key log.
        client_random_prefix: String,
    },

    /// The key log has no secret with this label for the session's client random.
    #[error("the key log has no {label} line for this session's client random")]
    MissingSecret {
        /// The NSS key-log label that was looked up.
        label: &'static str,
    },

    /// The handshake that would tell which keys to use was not seen.
    #[error("the {what} was not seen, so the keys for this record are unknown")]
    MissingHandshake {
        /// Which message or value is missing ("ClientHello", "ServerHello", ...).
        what: &'static str,
    },

    /// A secret has a length that the suite's hash or the PRF cannot use.
    #[error("key derivation failed: {0}")]
    KeyDerivation(String),

    /// An encrypted record is shorter than its nonce and authentication tag.
    #[error(
        "encrypted record body is {length} bytes, shorter than the {minimum} bytes of explicit nonce \
         and 16-byte authentication tag it must hold"
    )]
    CiphertextTooShort {
        /// The body length.
        length: usize,
        /// The least possible.
        minimum: usize,
    },

    /// The AEAD authentication tag did not verify.
    #[error(
        "the authentication tag (last 16 bytes) did not verify with the {epoch} keys at record \
         sequence number {seq}: wrong key, a missed record, or damaged bytes"
    )]
    AuthenticationFailed {
        /// Which keys were tried ("server handshake", "client application", ...).
        epoch: String,
        /// The sequence number that went into the nonce.
        seq: u64,
    },

    /// A TLS 1.3 inner plaintext had no non-zero byte to serve as its content type.
    #[error(
        "the decrypted TLS 1.3 record is all zero padding: no inner content type byte (RFC 8446 §5.4)"
    )]
    NoInnerContentType,
}

impl TlsError {
    /// Names the keys that were tried in an authentication failure ("server handshake", ...);
    /// other errors are returned unchanged. Lets the per-record path stay free of string work
    /// until something actually fails.
    pub fn with_epoch(self, epoch: &str) -> Self {
        match self {
            TlsError::AuthenticationFailed { seq, .. } => TlsError::AuthenticationFailed {
                epoch: epoch.to_string(),
                seq,
            },
            other => other,
        }
    }
}
