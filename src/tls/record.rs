//! The TLS record layer (RFC 8446 §5.1, RFC 5246 §6.2): the 5-byte header that cuts a TCP byte
//! stream into records, the content types, and the names of alerts and protocol versions.
//!
//! ```text
//!  0        1        2        3        4        5 ...
//! +--------+--------+--------+--------+--------+-----------------------+
//! | type   | legacy version  | length          | body (length bytes)   |
//! +--------+--------+--------+--------+--------+-----------------------+
//! ```

use std::fmt;

use super::error::TlsError;

/// Size of a record header: content type (1), legacy version (2), length (2).
pub const RECORD_HEADER_LEN: usize = 5;

/// Largest body length accepted: 2^14 bytes of plaintext plus 2048 bytes of expansion, the limit
/// for a protected record in TLS 1.2 (RFC 5246 §6.2.3). TLS 1.3 allows only 2^14 + 256 (RFC 8446
/// §5.2), so this bound accepts every legal record of both versions.
pub const MAX_RECORD_BODY: usize = (1 << 14) + 2048;

/// What a record carries, from its first header byte (RFC 8446 §5.1; heartbeat: RFC 6520).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// 20: one byte 0x01 saying "from now on my records are encrypted" (TLS 1.2); in TLS 1.3
    /// only a middlebox-compatibility placeholder (RFC 8446 Appendix D.4).
    ChangeCipherSpec,
    /// 21: a warning or fatal error, two bytes: level and description.
    Alert,
    /// 22: handshake messages (ClientHello, ServerHello, ...).
    Handshake,
    /// 23: application data; in TLS 1.3 every encrypted record wears this type on the outside.
    ApplicationData,
    /// 24: heartbeat request/response (RFC 6520).
    Heartbeat,
    /// Any other value, kept so it can be shown as "unknown (N)".
    Unknown(u8),
}

impl ContentType {
    /// Reads a content type byte.
    pub fn from_u8(value: u8) -> Self {
        match value {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            24 => ContentType::Heartbeat,
            other => ContentType::Unknown(other),
        }
    }

    /// The byte on the wire.
    pub fn number(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
            ContentType::Heartbeat => 24,
            ContentType::Unknown(n) => n,
        }
    }

    /// The name used in the RFCs and by Wireshark: "change_cipher_spec", "alert", "handshake",
    /// "application_data", "heartbeat", or "unknown".
    pub fn name(self) -> &'static str {
        match self {
            ContentType::ChangeCipherSpec => "change_cipher_spec",
            ContentType::Alert => "alert",
            ContentType::Handshake => "handshake",
            ContentType::ApplicationData => "application_data",
            ContentType::Heartbeat => "heartbeat",
            ContentType::Unknown(_) => "unknown",
        }
    }

    /// Whether this is one of the five types defined by the RFCs.
    pub fn is_known(self) -> bool {
        !matches!(self, ContentType::Unknown(_))
    }
}

impl fmt::Display for ContentType {
    /// The name, with the number for unknown values: "unknown (99)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentType::Unknown(n) => write!(f, "unknown ({n})"),
            known => f.write_str(known.name()),
        }
    }
}

/// The 5-byte header in front of every TLS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// What the body carries (for TLS 1.3 encrypted records always application_data outside).
    pub content_type: ContentType,
    /// The legacy record version: 0x0301 in a first ClientHello, 0x0303 afterwards, even in TLS 1.3
    /// (RFC 8446 §5.1: the real version is negotiated with the supported_versions extension).
    pub version: u16,
    /// Length of the body that follows the header, in bytes.
    pub length: u16,
}

impl RecordHeader {
    /// Reads a header from the first five bytes, without judging the values.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [t, v0, v1, l0, l1, ..] => Some(RecordHeader {
                content_type: ContentType::from_u8(*t),
                version: u16::from_be_bytes([*v0, *v1]),
                length: u16::from_be_bytes([*l0, *l1]),
            }),
            _ => None,
        }
    }

    /// The header as it appears on the wire (also the TLS 1.3 additional data, RFC 8446 §5.2).
    pub fn to_bytes(self) -> [u8; RECORD_HEADER_LEN] {
        let [v0, v1] = self.version.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [self.content_type.number(), v0, v1, l0, l1]
    }

    /// Header plus body length.
    pub fn record_len(self) -> usize {
        RECORD_HEADER_LEN + usize::from(self.length)
    }
}

/// The three outcomes of looking for a record at the start of a reassembled stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// A whole record is there: `header.record_len()` bytes starting at the stream's first byte.
    Complete(RecordHeader),
    /// Not enough bytes yet; at least `needed` more are required (with fewer than 5 bytes, the
    /// count up to the end of the header; more may be needed once the length is known).
    NeedMore {
        /// Additional bytes required.
        needed: usize,
    },
    /// The bytes cannot be a TLS record.
    Malformed(TlsError),
}

/// Looks for one record at the start of `stream`, a direction's reassembled TCP byte stream
/// (RFC 8446 §5.1).
///
/// An unknown content type alone is not fatal (it is reported as unknown), but an unknown type
/// together with a version whose major byte is not 3 means the stream is not TLS (or we lost
/// the record boundary). A length above [`MAX_RECORD_BODY`] is malformed.
pub fn frame_record(stream: &[u8]) -> Framing {
    if let [t, major, minor, ..] = stream {
        let content_type = ContentType::from_u8(*t);
        if !content_type.is_known() && *major != 3 {
            return Framing::Malformed(TlsError::NotARecord {
                content_type: *t,
                version: u16::from_be_bytes([*major, *minor]),
            });
        }
    }
    let Some(header) = RecordHeader::parse(stream) else {
        return Framing::NeedMore {
            needed: RECORD_HEADER_LEN - stream.len(),
        };
    };
    let length = usize::from(header.length);
    if length > MAX_RECORD_BODY {
        return Framing::Malformed(TlsError::RecordTooLong {
            length,
            limit: MAX_RECORD_BODY,
        });
    }
    let total = header.record_len();
    if stream.len() < total {
        Framing::NeedMore {
            needed: total - stream.len(),
        }
    } else {
        Framing::Complete(header)
    }
}

/// Does a TCP stream whose first bytes are `first` start with a TLS record?
///
/// Needs at least 3 bytes: a known content type and a version 0x0300..=0x0304 (SSL 3.0 to
/// TLS 1.3 legacy values). With 5 or more bytes, the length must also be within
/// [`MAX_RECORD_BODY`].
pub fn looks_like_tls(first: &[u8]) -> bool {
    let [t, major, minor, rest @ ..] = first else {
        return false;
    };
    if !ContentType::from_u8(*t).is_known() || *major != 3 || *minor > 4 {
        return false;
    }
    match rest {
        [l0, l1, ..] => usize::from(u16::from_be_bytes([*l0, *l1])) <= MAX_RECORD_BODY,
        _ => true,
    }
}

/// Name of a protocol version number: "TLS 1.3" for 0x0304, ... , or "unknown".
pub fn version_name(version: u16) -> &'static str {
    match version {
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        v if v & 0x0f0f == 0x0a0a => "GREASE",
        _ => "unknown",
    }
}

/// Name of an alert level (RFC 5246 §7.2): 1 "warning", 2 "fatal".
pub fn alert_level_name(level: u8) -> &'static str {
    match level {
        1 => "warning",
        2 => "fatal",
        _ => "unknown",
    }
}

/// Name of an alert description (RFC 8446 §6, RFC 5246 §7.2): 0 "close_notify", 40
/// "handshake_failure", ... , or "unknown".
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.3 ClientHello record header followed by 4 bytes of its body.
    const CLIENT_HELLO_START: [u8; 9] = [
        0x16, // content type 22 = handshake
        0x03, 0x01, // legacy record version 0x0301 (TLS 1.0, as first ClientHellos use)
        0x00, 0x04, // length 4
        0x01, 0x00, 0x00, 0x00, // body: handshake type 1 (ClientHello), length 0
    ];

    #[test]
    fn complete_record_is_framed() {
        let header = RecordHeader {
            content_type: ContentType::Handshake,
            version: 0x0301,
            length: 4,
        };
        assert_eq!(frame_record(&CLIENT_HELLO_START), Framing::Complete(header));
        assert_eq!(header.to_bytes(), CLIENT_HELLO_START[..5]);
        // Extra bytes of the next record do not matter.
        let mut longer = CLIENT_HELLO_START.to_vec();
        longer.extend_from_slice(&[0x17, 0x03]);
        assert_eq!(frame_record(&longer), Framing::Complete(header));
    }

    #[test]
    fn one_byte_at_a_time_needs_more_until_complete() {
        for cut in 0..CLIENT_HELLO_START.len() {
            match frame_record(&CLIENT_HELLO_START[..cut]) {
                Framing::NeedMore { needed } => {
                    assert!(needed >= 1);
                    assert!(cut + needed <= CLIENT_HELLO_START.len(), "cut {cut}");
                    if cut >= RECORD_HEADER_LEN {
                        assert_eq!(cut + needed, CLIENT_HELLO_START.len());
                    }
                }
                other => panic!("cut {cut}: expected NeedMore, got {other:?}"),
            }
        }
        assert!(matches!(
            frame_record(&CLIENT_HELLO_START),
            Framing::Complete(_)
        ));
    }

    #[test]
    fn unknown_type_with_tls_version_survives() {
        // content type 99, version 0x0303, length 1, body 0xaa
        let rec = [99, 0x03, 0x03, 0x00, 0x01, 0xaa];
        let Framing::Complete(h) = frame_record(&rec) else {
            panic!("unknown type with a TLS version must still frame");
        };
        assert_eq!(h.content_type, ContentType::Unknown(99));
        assert_eq!(h.content_type.to_string(), "unknown (99)");
        assert_eq!(h.content_type.number(), 99);
    }

    #[test]
    fn garbage_is_malformed() {
        // "GET / HTTP/1.1": 'G' = 71 is no content type, "ET" = 0x4554 is no 3.x version.
        assert!(matches!(
            frame_record(b"GET / HTTP/1.1\r\n"),
            Framing::Malformed(TlsError::NotARecord {
                content_type: 71,
                ..
            })
        ));
        assert!(!looks_like_tls(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn too_long_is_malformed_with_limit() {
        // application_data, 0x0303, length 0xffff
        let rec = [0x17, 0x03, 0x03, 0xff, 0xff];
        match frame_record(&rec) {
            Framing::Malformed(e @ TlsError::RecordTooLong { length: 65535, .. }) => {
                assert!(e.to_string().contains("18432"), "{e}");
                assert!(e.to_string().contains("RFC 5246"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // exactly the limit is fine: 18432 = 0x4800
        assert!(matches!(
            frame_record(&[0x17, 0x03, 0x03, 0x48, 0x00]),
            Framing::NeedMore { needed: 18432 }
        ));
        assert!(matches!(
            frame_record(&[0x17, 0x03, 0x03, 0x48, 0x01]),
            Framing::Malformed(_)
        ));
    }

    #[test]
    fn looks_like_tls_checks_type_version_length() {
        assert!(looks_like_tls(&CLIENT_HELLO_START));
        assert!(looks_like_tls(&[0x16, 0x03, 0x01]));
        assert!(!looks_like_tls(&[0x16, 0x03]));
        assert!(!looks_like_tls(&[0x16, 0x02, 0x00, 0x00, 0x10])); // SSL 2 version
        assert!(!looks_like_tls(&[0x16, 0x03, 0x05, 0x00, 0x10])); // no TLS 1.4
        assert!(!looks_like_tls(&[0x16, 0x03, 0x03, 0xff, 0xff])); // too long
        assert!(!looks_like_tls(&[0x63, 0x03, 0x03, 0x00, 0x10])); // type 99
    }

    #[test]
    fn names() {
        assert_eq!(ContentType::from_u8(23).name(), "application_data");
        assert_eq!(ContentType::from_u8(20).to_string(), "change_cipher_spec");
        assert_eq!(alert_name(0), "close_notify");
        assert_eq!(alert_name(40), "handshake_failure");
        assert_eq!(alert_name(255), "unknown");
        assert_eq!(alert_level_name(2), "fatal");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(version_name(0x7a7a), "GREASE");
        for n in 0..=255u8 {
            assert_eq!(ContentType::from_u8(n).number(), n);
        }
    }
}
