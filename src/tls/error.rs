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
        "cipher suite 0x{suite:04x} ({name}) cannot be decrypted here: only the AES-GCM, \
         ChaCha20-Poly1305 and AES-CBC (with HMAC-SHA1, -SHA256 or -SHA384) suites are implemented"
    )]
    UnsupportedSuite {
        /// The IANA number of the suite.
        suite: u16,
        /// Its IANA name, or "unknown".
        name: &'static str,
    },

    /// The session's protocol version predates TLS 1.2.
    #[error(
        "this session uses {name} (0x{version:04x}), whose records this tool does not decrypt: \
         only TLS 1.2 and TLS 1.3 are implemented (TLS 1.0 and 1.1 derive keys with an MD5/SHA-1 \
         PRF, and TLS 1.0 chains each record's CBC IV from the one before)"
    )]
    UnsupportedVersion {
        /// The version the ServerHello chose.
        version: u16,
        /// "TLS 1.0", "TLS 1.1", "SSL 3.0".
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

    /// A CBC record body cannot hold what the suite puts in it.
    #[error("encrypted CBC record body is {length} bytes, which cannot be {layout}")]
    CbcLength {
        /// The body length.
        length: usize,
        /// What the body must be made of, in words.
        layout: String,
    },

    /// The padding at the end of a decrypted CBC record is not what RFC 5246 §6.2.3.2 requires.
    #[error(
        "the CBC padding did not check with the {epoch} keys: {detail}; each of the padding_length \
         + 1 bytes at the end must equal padding_length (RFC 5246 §6.2.3.2): wrong key, a missed \
         record (TLS 1.0 chains each record's IV from the one before), or damaged bytes"
    )]
    BadPadding {
        /// Which keys were tried ("client TLS 1.2", ...).
        epoch: String,
        /// What was wrong, naming the byte values.
        detail: String,
    },

    /// The HMAC of a CBC record did not verify.
    #[error(
        "the {mac} record MAC ({placement}) did not verify with the {epoch} keys at record sequence \
         number {seq}: wrong key, a missed record, or damaged bytes"
    )]
    MacFailed {
        /// Which keys were tried ("server TLS 1.2", ...).
        epoch: String,
        /// The sequence number that went into the MAC.
        seq: u64,
        /// "HMAC-SHA1", ...
        mac: &'static str,
        /// Where the MAC sits: after the ciphertext (encrypt-then-MAC) or inside it.
        placement: &'static str,
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
            TlsError::MacFailed {
                seq,
                mac,
                placement,
                ..
            } => TlsError::MacFailed {
                epoch: epoch.to_string(),
                seq,
                mac,
                placement,
            },
            TlsError::BadPadding { detail, .. } => TlsError::BadPadding {
                epoch: epoch.to_string(),
                detail,
            },
            other => other,
        }
    }

    /// True for failures that another sequence number cannot cure (a record too short, or CBC
    /// padding that is wrong whatever the MAC says): decryption stops looking ahead for records
    /// lost from the capture.
    pub(crate) fn same_at_every_seq(&self) -> bool {
        matches!(
            self,
            TlsError::CiphertextTooShort { .. }
                | TlsError::CbcLength { .. }
                | TlsError::BadPadding { .. }
        )
    }
}
