//! Handshake messages (RFC 8446 §4, RFC 5246 §7.4): their types, their reassembly from records
//! (a message may span records and one record may hold several), and the few facts this tool
//! reads from ClientHello and ServerHello (with tls-parser).
//!
//! ```text
//! +--------+--------+--------+--------+---------------------------+
//! | type   | length (24 bits)         | body (length bytes)       |
//! +--------+--------+--------+--------+---------------------------+
//! ```

use std::fmt;

use tls_parser::TlsExtension;

use super::error::TlsError;

/// Size of a handshake message header: type (1) and length (3).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// Largest handshake message body buffered (the wire format allows 2^24 - 1; real certificate
/// chains stay far below this).
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 20;

/// The random value of a ServerHello that is really a HelloRetryRequest: SHA-256 of
/// "HelloRetryRequest" (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The type byte of a handshake message (RFC 8446 §4, RFC 5246 §7.4, RFC 6066 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeType {
    /// 0: server asks the client to renegotiate (TLS 1.2 and earlier).
    HelloRequest,
    /// 1: the client's opening offer: versions, cipher suites, key shares, server name.
    ClientHello,
    /// 2: the server's choice (or, with the special random, a HelloRetryRequest).
    ServerHello,
    /// 4: a ticket the client can use to resume the session later.
    NewSessionTicket,
    /// 5: end of 0-RTT early data (TLS 1.3).
    EndOfEarlyData,
    /// 8: server extensions sent encrypted in TLS 1.3.
    EncryptedExtensions,
    /// 11: a certificate chain.
    Certificate,
    /// 12: the server's (EC)DHE key share in TLS 1.2, signed.
    ServerKeyExchange,
    /// 13: the server asks for a client certificate.
    CertificateRequest,
    /// 14: the server has finished its part of the TLS 1.2 hello phase.
    ServerHelloDone,
    /// 15: a signature proving possession of the certificate's private key.
    CertificateVerify,
    /// 16: the client's key share (TLS 1.2).
    ClientKeyExchange,
    /// 20: a MAC over the whole handshake, the first message protected by the new keys.
    Finished,
    /// 22: a stapled OCSP response (RFC 6066).
    CertificateStatus,
    /// 24: TLS 1.3 switches this direction to the next traffic secret (RFC 8446 §4.6.3).
    KeyUpdate,
    /// 25: a compressed Certificate (RFC 8879).
    CompressedCertificate,
    /// 254: stands for a hashed ClientHello in the transcript after a HelloRetryRequest.
    MessageHash,
    /// Any other value, kept so it can be shown as "unknown (N)".
    Unknown(u8),
}

impl HandshakeType {
    /// Reads a handshake type byte.
    pub fn from_u8(value: u8) -> Self {
        use HandshakeType::*;
        match value {
            0 => HelloRequest,
            1 => ClientHello,
            2 => ServerHello,
            4 => NewSessionTicket,
            5 => EndOfEarlyData,
            8 => EncryptedExtensions,
            11 => Certificate,
            12 => ServerKeyExchange,
            13 => CertificateRequest,
            14 => ServerHelloDone,
            15 => CertificateVerify,
            16 => ClientKeyExchange,
            20 => Finished,
            22 => CertificateStatus,
            24 => KeyUpdate,
            25 => CompressedCertificate,
            254 => MessageHash,
            other => Unknown(other),
        }
    }

    /// The byte on the wire.
    pub fn number(self) -> u8 {
        use HandshakeType::*;
        match self {
            HelloRequest => 0,
            ClientHello => 1,
            ServerHello => 2,
            NewSessionTicket => 4,
            EndOfEarlyData => 5,
            EncryptedExtensions => 8,
            Certificate => 11,
            ServerKeyExchange => 12,
            CertificateRequest => 13,
            ServerHelloDone => 14,
            CertificateVerify => 15,
            ClientKeyExchange => 16,
            Finished => 20,
            CertificateStatus => 22,
            KeyUpdate => 24,
            CompressedCertificate => 25,
            MessageHash => 254,
            Unknown(n) => n,
        }
    }

    /// The message name as Wireshark and most texts write it: "ClientHello", "Finished", ...,
    /// or "unknown".
    pub fn name(self) -> &'static str {
        use HandshakeType::*;
        match self {
            HelloRequest => "HelloRequest",
            ClientHello => "ClientHello",
            ServerHello => "ServerHello",
            NewSessionTicket => "NewSessionTicket",
            EndOfEarlyData => "EndOfEarlyData",
            EncryptedExtensions => "EncryptedExtensions",
            Certificate => "Certificate",
            ServerKeyExchange => "ServerKeyExchange",
            CertificateRequest => "CertificateRequest",
            ServerHelloDone => "ServerHelloDone",
            CertificateVerify => "CertificateVerify",
            ClientKeyExchange => "ClientKeyExchange",
            Finished => "Finished",
            CertificateStatus => "CertificateStatus",
            KeyUpdate => "KeyUpdate",
            CompressedCertificate => "CompressedCertificate",
            MessageHash => "MessageHash",
            Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for HandshakeType {
    /// The name, with the number for unknown values: "unknown (99)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeType::Unknown(n) => write!(f, "unknown ({n})"),
            known => f.write_str(known.name()),
        }
    }
}

/// One complete handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// Its type.
    pub msg_type: HandshakeType,
    /// Its body, after the 4-byte header.
    pub body: Vec<u8>,
}

/// What one record's handshake bytes contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeChunk {
    /// Messages completed by these bytes, in order.
    pub messages: Vec<HandshakeMessage>,
    /// A message begun or continued here that needs bytes from later records.
    pub partial: Option<HandshakeType>,
    /// Why reassembly stopped, if it did.
    pub error: Option<TlsError>,
}

/// Reassembles the handshake messages of one direction in one key epoch (RFC 8446 §5.1:
/// messages may be split across records and coalesced into one, but never span a key change).
#[derive(Debug, Clone, Default)]
pub struct HandshakeReassembler {
    buf: Vec<u8>,
    broken: bool,
}

impl HandshakeReassembler {
    /// Adds the handshake bytes of one record and returns what became complete.
    pub fn push(&mut self, data: &[u8]) -> HandshakeChunk {
        let mut chunk = HandshakeChunk::default();
        if self.broken {
            return chunk;
        }
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some([t, l0, l1, l2]) = self
            .buf
            .get(start..start + HANDSHAKE_HEADER_LEN)
            .and_then(|h| <[u8; 4]>::try_from(h).ok())
        {
            let msg_type = HandshakeType::from_u8(t);
            let length = usize::from(u16::from_be_bytes([l1, l2])) | (usize::from(l0) << 16);
            if length > MAX_HANDSHAKE_MESSAGE {
                chunk.error = Some(TlsError::HandshakeTooLong {
                    msg_type: msg_type.to_string(),
                    length,
                    limit: MAX_HANDSHAKE_MESSAGE,
                });
                self.broken = true;
                self.buf.clear();
                return chunk;
            }
            let body_start = start + HANDSHAKE_HEADER_LEN;
            match self.buf.get(body_start..body_start + length) {
                Some(body) => {
                    chunk.messages.push(HandshakeMessage {
                        msg_type,
                        body: body.to_vec(),
                    });
                    start = body_start + length;
                }
                None => {
                    chunk.partial = Some(msg_type);
                    break;
                }
            }
        }
        if chunk.partial.is_none() && start < self.buf.len() {
            // 1-3 bytes of a header: the type is known already.
            chunk.partial = self.buf.get(start).map(|&t| HandshakeType::from_u8(t));
        }
        self.buf.drain(..start);
        chunk
    }

    /// Forgets buffered bytes: called when this direction's keys change.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.broken = false;
    }

    /// Bytes of an incomplete message waiting for the next record.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Facts from a ClientHello (RFC 8446 §4.1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHelloInfo {
    /// The 32-byte client random: the key log's index for this session.
    pub random: [u8; 32],
    /// The legacy_version field (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// Offered cipher suites, in the client's order of preference (GREASE values kept).
    pub cipher_suites: Vec<u16>,
    /// The server_name (SNI) host name, if present.
    pub server_name: Option<String>,
    /// Versions from the supported_versions extension (empty without it: TLS 1.2 or older).
    pub supported_versions: Vec<u16>,
    /// Groups of the key_share entries (TLS 1.3).
    pub key_share_groups: Vec<u16>,
    /// Protocols offered with ALPN (RFC 7301).
    pub alpn: Vec<String>,
    /// The early_data extension: the client sends 0-RTT data (RFC 8446 §4.2.10).
    pub early_data: bool,
    /// The encrypt_then_mac extension (RFC 7366).
    pub encrypt_then_mac: bool,
}

/// Facts from a ServerHello (RFC 8446 §4.1.3) or HelloRetryRequest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHelloInfo {
    /// The 32-byte server random.
    pub random: [u8; 32],
    /// The legacy_version field.
    pub legacy_version: u16,
    /// The chosen cipher suite.
    pub cipher_suite: u16,
    /// The version from supported_versions (0x0304 for TLS 1.3), if the extension is present.
    pub selected_version: Option<u16>,
    /// The group of the server's key_share (or the group requested by a HelloRetryRequest).
    pub key_share_group: Option<u16>,
    /// The protocol chosen with ALPN.
    pub alpn: Option<String>,
    /// True if this is a HelloRetryRequest (its random is [`HELLO_RETRY_REQUEST_RANDOM`]).
    pub hello_retry_request: bool,
    /// The encrypt_then_mac extension: CBC records are MACed after encryption (RFC 7366).
    pub encrypt_then_mac: bool,
}

impl ServerHelloInfo {
    /// The negotiated version: supported_versions if present, else legacy_version (RFC 8446
    /// §4.2.1).
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

fn random32(bytes: &[u8]) -> Option<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).ok()
}

fn alpn_names(list: &[&[u8]]) -> Vec<String> {
    list.iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// Reads a ClientHello body (after the 4-byte handshake header). `None` if it is malformed.
pub fn parse_client_hello(body: &[u8]) -> Option<ClientHelloInfo> {
    let (_, hello) = tls_parser::parse_tls_handshake_client_hello(body).ok()?;
    let mut info = ClientHelloInfo {
        random: random32(hello.random)?,
        legacy_version: hello.version.0,
        cipher_suites: hello.ciphers.iter().map(|c| c.0).collect(),
        ..ClientHelloInfo::default()
    };
    let extensions = hello
        .ext
        .and_then(|ext| tls_parser::parse_tls_client_hello_extensions(ext).ok())
        .map(|(_, list)| list)
        .unwrap_or_default();
    for ext in extensions {
        match ext {
            TlsExtension::SNI(names) => {
                // name type 0 = host_name (RFC 6066 §3)
                if let Some((_, name)) = names.iter().find(|(kind, _)| kind.0 == 0) {
                    info.server_name = Some(String::from_utf8_lossy(name).into_owned());
                }
            }
            TlsExtension::SupportedVersions(versions) => {
                info.supported_versions = versions.iter().map(|v| v.0).collect();
            }
            TlsExtension::KeyShare(raw) => info.key_share_groups = client_key_share_groups(raw),
            TlsExtension::ALPN(list) => info.alpn = alpn_names(&list),
            TlsExtension::EarlyData(_) => info.early_data = true,
            TlsExtension::EncryptThenMac => info.encrypt_then_mac = true,
            _ => {}
        }
    }
    Some(info)
}

/// Groups of a ClientHello key_share: client_shares<0..2^16-1> of KeyShareEntry { group (2),
/// key_exchange<1..2^16-1> } (RFC 8446 §4.2.8).
fn client_key_share_groups(raw: &[u8]) -> Vec<u16> {
    let mut groups = Vec::new();
    let mut rest = raw.get(2..).unwrap_or_default(); // skip the 2-byte list length
    while let [g0, g1, k0, k1, tail @ ..] = rest {
        groups.push(u16::from_be_bytes([*g0, *g1]));
        let key_len = usize::from(u16::from_be_bytes([*k0, *k1]));
        match tail.get(key_len..) {
            Some(next) => rest = next,
            None => break,
        }
    }
    groups
}

/// Reads a ServerHello body (after the 4-byte handshake header). `None` if it is malformed.
pub fn parse_server_hello(body: &[u8]) -> Option<ServerHelloInfo> {
    let (_, hello) = tls_parser::parse_tls_handshake_server_hello(body).ok()?;
    let random = random32(hello.random)?;
    let mut info = ServerHelloInfo {
        random,
        legacy_version: hello.version.0,
        cipher_suite: hello.cipher.0,
        hello_retry_request: random == HELLO_RETRY_REQUEST_RANDOM,
        ..ServerHelloInfo::default()
    };
    let extensions = hello
        .ext
        .and_then(|ext| tls_parser::parse_tls_server_hello_extensions(ext).ok())
        .map(|(_, list)| list)
        .unwrap_or_default();
    for ext in extensions {
        match ext {
            TlsExtension::SupportedVersions(versions) => {
                info.selected_version = versions.first().map(|v| v.0);
            }
            // ServerHello: one KeyShareEntry; HelloRetryRequest: only the selected group.
            TlsExtension::KeyShare([g0, g1, ..]) => {
                info.key_share_group = Some(u16::from_be_bytes([*g0, *g1]));
            }
            TlsExtension::ALPN(list) => info.alpn = alpn_names(&list).into_iter().next(),
            // tls-parser 0.12's ServerHello reader takes type 21 (padding, never in a
            // ServerHello) for encrypt_then_mac and leaves the real type 22 unknown.
            TlsExtension::EncryptThenMac => info.encrypt_then_mac = true,
            TlsExtension::Unknown(ext_type, _) if ext_type.0 == 22 => {
                info.encrypt_then_mac = true;
            }
            _ => {}
        }
    }
    Some(info)
}

/// Name of a key-exchange group (IANA "TLS Supported Groups"), or "unknown".
pub fn group_name(group: u16) -> &'static str {
    match group {
        0x0017 => "secp256r1",
        0x0018 => "secp384r1",
        0x0019 => "secp521r1",
        0x001d => "x25519",
        0x001e => "x448",
        0x0100 => "ffdhe2048",
        0x0101 => "ffdhe3072",
        0x0102 => "ffdhe4096",
        0x11ec => "X25519MLKEM768",
        g if g & 0x0f0f == 0x0a0a => "GREASE",
        _ => "unknown",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ClientHello body.
    pub(crate) fn client_hello_body() -> Vec<u8> {
        let mut b = vec![0x03, 0x03]; // legacy_version TLS 1.2
        b.extend_from_slice(&[0x11; 32]); // random
        b.push(0); // legacy_session_id: empty
        b.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0x13, 0x02]); // 2 cipher suites
        b.extend_from_slice(&[0x01, 0x00]); // 1 compression method: null
        let mut ext = Vec::new();
        // server_name: ext 0, len 14, list len 12, type 0 host_name, name len 9, "localhost"
        ext.extend_from_slice(&[0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09]);
        ext.extend_from_slice(b"localhost");
        // supported_versions: ext 43, len 5, list len 4, TLS 1.3, TLS 1.2
        ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]);
        // key_share: ext 51, len 8, shares len 6, group x25519, key len 2, key 0xaa 0xbb
        ext.extend_from_slice(&[0x00, 0x33, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x02]);
        ext.extend_from_slice(&[0xaa, 0xbb]);
        // ALPN: ext 16, len 5, list len 3, name len 2, "h2"
        ext.extend_from_slice(&[0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, b'h', b'2']);
        b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        b.extend_from_slice(&ext);
        b
    }

    #[test]
    fn client_hello_facts() {
        let info = parse_client_hello(&client_hello_body()).unwrap();
        assert_eq!(info.random, [0x11; 32]);
        assert_eq!(info.cipher_suites, vec![0x1301, 0x1302]);
        assert_eq!(info.server_name.as_deref(), Some("localhost"));
        assert_eq!(info.supported_versions, vec![0x0304, 0x0303]);
        assert_eq!(info.key_share_groups, vec![0x001d]);
        assert_eq!(info.alpn, vec!["h2".to_string()]);
        // Every truncation is handled without panicking.
        let body = client_hello_body();
        for cut in 0..body.len() {
            let _ = parse_client_hello(&body[..cut]);
        }
    }

    #[test]
    fn server_hello_and_hello_retry_request() {
        let mut b = vec![0x03, 0x03]; // legacy_version
        b.extend_from_slice(&HELLO_RETRY_REQUEST_RANDOM); // random = HRR marker
        b.push(0); // empty session id echo
        b.extend_from_slice(&[0x13, 0x01, 0x00]); // suite TLS_AES_128_GCM_SHA256, compression 0
                                                  // extensions (len 12): supported_versions 0x0304; key_share with only a group (secp256r1)
        b.extend_from_slice(&[0x00, 0x0c]);
        b.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        b.extend_from_slice(&[0x00, 0x33, 0x00, 0x02, 0x00, 0x17]);
        let info = parse_server_hello(&b).unwrap();
        assert!(info.hello_retry_request);
        assert_eq!(info.version(), 0x0304);
        assert_eq!(info.cipher_suite, 0x1301);
        assert_eq!(info.key_share_group, Some(0x0017));
        assert_eq!(group_name(0x0017), "secp256r1");
    }

    #[test]
    fn encrypt_then_mac_and_early_data_extensions() {
        // A TLS 1.2 ServerHello choosing ECDHE-ECDSA-AES128-SHA with renegotiation_info (0xff01,
        // empty list), encrypt_then_mac (22, empty) and extended_master_secret (23, empty).
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[0x22; 32]);
        b.push(0);
        b.extend_from_slice(&[0xc0, 0x09, 0x00]);
        b.extend_from_slice(&[0x00, 0x0d]);
        b.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]);
        b.extend_from_slice(&[0x00, 0x16, 0x00, 0x00]);
        b.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]);
        let info = parse_server_hello(&b).unwrap();
        assert_eq!(info.cipher_suite, 0xc009);
        assert!(info.encrypt_then_mac);
        // Without it: MAC-then-encrypt.
        let without: Vec<u8> = [&b[..38], &[0x00, 0x09], &b[40..45], &b[49..]].concat();
        let info = parse_server_hello(&without).unwrap();
        assert!(!info.encrypt_then_mac, "{info:?}");
        assert_eq!(info.cipher_suite, 0xc009);

        // A ClientHello offering both: early_data (42, empty) and encrypt_then_mac (22, empty).
        let mut hello = client_hello_body();
        let ext_len_at = 2 + 32 + 1 + 6 + 2;
        let len = u16::from_be_bytes([hello[ext_len_at], hello[ext_len_at + 1]]) + 8;
        hello[ext_len_at..ext_len_at + 2].copy_from_slice(&len.to_be_bytes());
        hello.extend_from_slice(&[0x00, 0x2a, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00]);
        let info = parse_client_hello(&hello).unwrap();
        assert!(info.early_data && info.encrypt_then_mac, "{info:?}");
        let plain = parse_client_hello(&client_hello_body()).unwrap();
        assert!(!plain.early_data && !plain.encrypt_then_mac);
    }

    #[test]
    fn hello_retry_random_is_sha256_of_its_name() {
        let digest = ring::digest::digest(&ring::digest::SHA256, b"HelloRetryRequest");
        assert_eq!(digest.as_ref(), HELLO_RETRY_REQUEST_RANDOM);
    }

    #[test]
    fn reassembles_split_and_coalesced_messages() {
        let mut r = HandshakeReassembler::default();
        // Finished (20) with 3-byte body, then KeyUpdate (24) with 1-byte body, fed in pieces.
        let bytes = [20, 0, 0, 3, 1, 2, 3, 24, 0, 0, 1, 0];
        let c = r.push(&bytes[..2]);
        assert!(c.messages.is_empty());
        assert_eq!(c.partial, Some(HandshakeType::Finished));
        let c = r.push(&bytes[2..9]);
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].msg_type, HandshakeType::Finished);
        assert_eq!(c.messages[0].body, vec![1, 2, 3]);
        assert_eq!(c.partial, Some(HandshakeType::KeyUpdate));
        let c = r.push(&bytes[9..]);
        assert_eq!(c.messages[0].msg_type, HandshakeType::KeyUpdate);
        assert_eq!(c.partial, None);
        assert_eq!(r.pending(), 0);
        // Two whole messages in one record.
        let c = r.push(&bytes);
        let names: Vec<_> = c.messages.iter().map(|m| m.msg_type.name()).collect();
        assert_eq!(names, ["Finished", "KeyUpdate"]);
    }

    #[test]
    fn oversized_message_stops_reassembly() {
        let mut r = HandshakeReassembler::default();
        let c = r.push(&[11, 0xff, 0xff, 0xff]); // Certificate of 16 MiB
        assert!(matches!(c.error, Some(TlsError::HandshakeTooLong { .. })));
        assert!(r.push(&[20, 0, 0, 0]).messages.is_empty());
        r.reset();
        assert_eq!(r.push(&[20, 0, 0, 0]).messages.len(), 1);
    }

    #[test]
    fn type_names() {
        assert_eq!(HandshakeType::from_u8(8).name(), "EncryptedExtensions");
        assert_eq!(HandshakeType::from_u8(99).to_string(), "unknown (99)");
        for n in 0..=255u8 {
            assert_eq!(HandshakeType::from_u8(n).number(), n);
        }
    }
}
