//! One TCP connection's TLS session, both directions: each record's protection (see
//! `protection`), the handshake messages inside, and what the hellos negotiated.

use super::crypto::cipher_suite_name;
use super::error::TlsError;
use super::handshake::{
    parse_client_hello, parse_server_hello, HandshakeMessage, HandshakeReassembler, HandshakeType,
};
use super::keylog::Keys;
use super::protection::{DirectionKeys, KeyEpoch, Opened, SessionParams};
use super::record::{ContentType, RecordHeader, RECORD_HEADER_LEN};
use super::Direction;

/// The TLS 1.3 protocol version number.
const TLS13: u16 = 0x0304;

/// What a record turned out to hold once its protection was removed. The bytes themselves are
/// not kept (a large capture's plaintext would double its memory): [`TlsConnection::reopen`]
/// decrypts the record again when someone looks at it, with the keys of [`RecordInfo::epoch`] and
/// the sequence number noted here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plaintext {
    /// TLS 1.3: the inner content type (RFC 8446 §5.4). TLS 1.2: the record's own type.
    pub content_type: ContentType,
    /// How many plaintext bytes it carries (TLS 1.3: without the content type byte and padding).
    pub len: usize,
    /// The record sequence number that opened it, counted from 0 in its key epoch; it is part of
    /// the nonce (RFC 8446 §5.3).
    pub seq: u64,
}

/// What one record is and carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    /// The 5-byte header as sent.
    pub header: RecordHeader,
    /// Handshake messages completed in this record (in clear, or after decryption), in order. A
    /// message spanning records is listed on the record holding its last byte.
    pub handshake: Vec<HandshakeType>,
    /// A handshake message begun or continued here that completes in a later record.
    pub handshake_partial: Option<HandshakeType>,
    /// An alert's level and description (see `alert_level_name`, `alert_name`).
    pub alert: Option<(u8, u8)>,
    /// True if the record body is protected by encryption.
    pub encrypted: bool,
    /// The keys that decrypted it.
    pub epoch: Option<KeyEpoch>,
    /// The plaintext, only when keys were available and decryption succeeded.
    pub decrypted: Option<Plaintext>,
    /// Anything a reader should know: why a record was not decrypted, what a
    /// ChangeCipherSpec means here, a malformed record.
    pub note: Option<String>,
}

impl RecordInfo {
    /// A record known only by its header (its body was not captured, or cannot be decrypted
    /// for the reason in `note`). An application_data record is encrypted by definition.
    pub fn header_only(header: RecordHeader, note: String) -> Self {
        let encrypted = header.content_type == ContentType::ApplicationData;
        RecordInfo {
            encrypted,
            note: Some(note),
            ..RecordInfo::new(header)
        }
    }

    fn new(header: RecordHeader) -> Self {
        RecordInfo {
            header,
            handshake: Vec::new(),
            handshake_partial: None,
            alert: None,
            encrypted: false,
            epoch: None,
            decrypted: None,
            note: None,
        }
    }
}

/// What the hellos of a session said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSummary {
    /// Negotiated protocol version: 0x0304 for TLS 1.3 (from supported_versions), 0x0303 for TLS 1.2.
    pub version: Option<u16>,
    /// The cipher suite the server chose.
    pub cipher_suite: Option<u16>,
    /// Its IANA name, e.g. "TLS_AES_128_GCM_SHA256".
    pub cipher_suite_name: Option<&'static str>,
    /// The server name the client asked for (SNI).
    pub sni: Option<String>,
    /// The ClientHello random: the key log's index for this session.
    pub client_random: Option<[u8; 32]>,
    /// The ServerHello random (not the HelloRetryRequest marker).
    pub server_random: Option<[u8; 32]>,
    /// Versions the client offered in supported_versions.
    pub offered_versions: Vec<u16>,
    /// Cipher suites the client offered, in its order.
    pub offered_suites: Vec<u16>,
    /// Groups the client sent key shares for.
    pub offered_key_share_groups: Vec<u16>,
    /// The key-exchange group actually used: the server's key_share in TLS 1.3, the named curve
    /// of the ServerKeyExchange in TLS 1.2 ECDHE.
    pub key_share_group: Option<u16>,
    /// Application protocols the client offered (ALPN).
    pub offered_alpn: Vec<String>,
    /// The application protocol the server chose.
    pub alpn: Option<String>,
    /// The server answered the first ClientHello with a HelloRetryRequest.
    pub hello_retry_request: bool,
    /// Both hellos carried the encrypt_then_mac extension (RFC 7366): a CBC suite's records carry
    /// their MAC after the ciphertext. (It means nothing for AEAD suites.)
    pub encrypt_then_mac: bool,
    /// The ClientHello carried the early_data extension: 0-RTT data may follow it (RFC 8446 §4.2.10).
    pub offered_early_data: bool,
    /// Records seen with protected bodies.
    pub encrypted_records: u64,
    /// Of those, how many were decrypted.
    pub decrypted_records: u64,
}

/// Per-direction state.
#[derive(Debug, Default)]
struct DirState {
    handshake: HandshakeReassembler,
    /// Protection of the last record whose handshake bytes were reassembled (None = clear).
    reassembly_epoch: Option<KeyEpoch>,
    keys: DirectionKeys,
}

/// The TLS state of one TCP connection, fed one complete record at a time.
#[derive(Debug, Default)]
pub struct TlsConnection {
    summary: SessionSummary,
    client: DirState,
    server: DirState,
}

impl TlsConnection {
    /// A connection before its first record.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the hellos said so far.
    pub fn summary(&self) -> &SessionSummary {
        &self.summary
    }

    fn dir_mut(&mut self, dir: Direction) -> &mut DirState {
        match dir {
            Direction::ClientToServer => &mut self.client,
            Direction::ServerToClient => &mut self.server,
        }
    }

    fn is_tls13(&self) -> bool {
        self.summary.version == Some(TLS13)
    }

    /// The keys the next protected record of `dir` is expected to use, or `None` while that
    /// direction still sends in clear (as far as the records seen so far tell).
    pub fn sending_epoch(&self, dir: Direction) -> Option<KeyEpoch> {
        let state = match dir {
            Direction::ClientToServer => &self.client,
            Direction::ServerToClient => &self.server,
        };
        if self.is_tls13() {
            self.summary.server_random?;
            Some(state.keys.tls13_epoch())
        } else if state.keys.tls13_epoch() == KeyEpoch::Early {
            // A client's 0-RTT data, before the ServerHello says which version was chosen.
            Some(KeyEpoch::Early)
        } else {
            state
                .keys
                .tls12_encrypting()
                .then(|| state.keys.tls12_epoch())
        }
    }

    /// One complete record (5-byte header + body), in stream order for its direction; `keys` is
    /// consulted each time, so secrets that arrive later still work for later records.
    pub fn on_record(&mut self, dir: Direction, record: &[u8], keys: &Keys) -> RecordInfo {
        self.on_record_with(dir, record, keys, &mut Vec::new())
    }

    /// As [`TlsConnection::on_record`], decrypting into `scratch` (its contents are replaced), so a
    /// large capture reuses one buffer for every record.
    pub fn on_record_with(
        &mut self,
        dir: Direction,
        record: &[u8],
        keys: &Keys,
        scratch: &mut Vec<u8>,
    ) -> RecordInfo {
        let Some(header) = RecordHeader::parse(record) else {
            let mut info = RecordInfo::new(RecordHeader {
                content_type: ContentType::from_u8(record.first().copied().unwrap_or(0)),
                version: 0,
                length: 0,
            });
            info.note = Some(format!(
                "TLS record is {} bytes, shorter than the {RECORD_HEADER_LEN}-byte record header",
                record.len()
            ));
            return info;
        };
        let mut info = RecordInfo::new(header);
        let body = match record.get(RECORD_HEADER_LEN..) {
            Some(body) if body.len() == usize::from(header.length) => body,
            _ => {
                info.note = Some(
                    TlsError::RecordLengthMismatch {
                        actual: record.len(),
                        announced: usize::from(header.length),
                        expected: header.record_len(),
                    }
                    .to_string(),
                );
                return info;
            }
        };

        if header.content_type == ContentType::ChangeCipherSpec {
            self.on_change_cipher_spec(dir, &mut info);
            return info;
        }

        let encrypted = if self.is_tls13() {
            header.content_type == ContentType::ApplicationData
        } else {
            header.content_type == ContentType::ApplicationData
                || self.dir_mut(dir).keys.tls12_encrypting()
        };
        if !encrypted {
            self.on_content(dir, None, header.content_type, body, &mut info);
            return info;
        }

        info.encrypted = true;
        self.summary.encrypted_records += 1;
        let tls13 = self.is_tls13();
        let result = if self.is_early_data(dir, &header) {
            self.decrypt_early(&header, body, keys, scratch)
        } else {
            SessionParams::new(&self.summary, keys).and_then(|session| {
                let state = self.dir_mut(dir);
                if tls13 {
                    state
                        .keys
                        .decrypt_tls13(dir, &session, &header, body, keys, scratch)
                } else {
                    state
                        .keys
                        .decrypt_tls12(dir, &session, &header, body, keys, scratch)
                }
            })
        };
        match result {
            Ok(Opened {
                epoch,
                content_type,
                seq,
                len,
            }) => {
                self.summary.decrypted_records += 1;
                info.epoch = Some(epoch);
                let data = scratch.get(..len).unwrap_or_default();
                self.on_content(dir, Some(epoch), content_type, data, &mut info);
                info.decrypted = Some(Plaintext {
                    content_type,
                    len,
                    seq,
                });
            }
            Err(
                e @ (TlsError::NoKeysForSession { .. }
                | TlsError::MissingHandshake { .. }
                | TlsError::MissingSecret { .. }),
            ) if self.is_early_data(dir, &header) => {
                info.note = Some(format!(
                    "encrypted 0-RTT early data (RFC 8446 §2.3), sent before the ServerHello; {e}"
                ));
            }
            Err(e @ (TlsError::NoKeysForSession { .. } | TlsError::MissingHandshake { .. })) => {
                info.note = Some(format!("encrypted; {e}"));
            }
            Err(e) => info.note = Some(format!("decryption failed: {e}")),
        }
        info
    }

    /// The plaintext of a record this connection decrypted before (`info` is what
    /// [`TlsConnection::on_record`] said about it, `record` its bytes, header included), decrypted
    /// again. `None` if it never was decrypted.
    pub fn reopen(
        &self,
        dir: Direction,
        info: &RecordInfo,
        record: &[u8],
    ) -> Option<Result<Vec<u8>, TlsError>> {
        let (plain, epoch) = (info.decrypted?, info.epoch?);
        let state = match dir {
            Direction::ClientToServer => &self.client,
            Direction::ServerToClient => &self.server,
        };
        let body = record.get(RECORD_HEADER_LEN..).unwrap_or_default();
        let mut out = Vec::new();
        Some(
            state
                .keys
                .reopen(dir, epoch, plain.seq, &info.header, body, &mut out)
                .map(|opened| {
                    out.truncate(opened.len);
                    out
                }),
        )
    }

    /// A 0-RTT record: opened with the client early traffic secret (RFC 8446 §7.1).
    fn decrypt_early(
        &mut self,
        header: &RecordHeader,
        body: &[u8],
        keys: &Keys,
        scratch: &mut Vec<u8>,
    ) -> Result<Opened, TlsError> {
        let client_random = self
            .summary
            .client_random
            .ok_or(TlsError::MissingHandshake {
                what: "ClientHello",
            })?;
        if !keys.has_client_random(&client_random) {
            return Err(TlsError::NoKeysForSession {
                client_random_prefix: super::keylog::encode_hex(
                    client_random.get(..8).unwrap_or_default(),
                ),
            });
        }
        self.client.keys.decrypt_tls13_early(
            &client_random,
            &self.summary.offered_suites,
            header,
            body,
            keys,
            scratch,
        )
    }

    /// A client record of type application_data before any ServerHello, in a session whose
    /// client offered TLS 1.3: 0-RTT data under CLIENT_EARLY_TRAFFIC_SECRET.
    fn is_early_data(&self, dir: Direction, header: &RecordHeader) -> bool {
        dir == Direction::ClientToServer
            && header.content_type == ContentType::ApplicationData
            && self.summary.version.is_none()
            && self.summary.offered_versions.contains(&TLS13)
    }

    fn on_change_cipher_spec(&mut self, dir: Direction, info: &mut RecordInfo) {
        // A client's ChangeCipherSpec before any ServerHello is TLS 1.3's (a TLS 1.2 client
        // sends its own after the ServerHelloDone): one sending 0-RTT data sends it right after
        // its ClientHello (RFC 8446 Appendix D.4).
        let tls13_client_first = dir == Direction::ClientToServer
            && self.summary.version.is_none()
            && self.summary.offered_versions.contains(&TLS13);
        if self.is_tls13() || tls13_client_first {
            info.note = Some(
                "ChangeCipherSpec for middlebox compatibility (RFC 8446 Appendix D.4): not \
                 encrypted, changes no keys, not counted in sequence numbers"
                    .to_string(),
            );
        } else {
            self.dir_mut(dir).keys.on_tls12_change_cipher_spec();
            info.note = Some(format!(
                "ChangeCipherSpec: the {}'s following records are encrypted (RFC 5246 §7.1)",
                dir.sender()
            ));
        }
    }

    /// Handles a record's content, clear (`epoch` None) or decrypted.
    fn on_content(
        &mut self,
        dir: Direction,
        epoch: Option<KeyEpoch>,
        content_type: ContentType,
        data: &[u8],
        info: &mut RecordInfo,
    ) {
        match content_type {
            ContentType::Handshake => self.on_handshake_bytes(dir, epoch, data, info),
            ContentType::Alert => match data {
                [level, description, ..] => info.alert = Some((*level, *description)),
                _ => {
                    info.note = Some(format!(
                    "alert of {} bytes; an alert is 2 bytes: level and description (RFC 8446 §6)",
                    data.len()
                ))
                }
            },
            ContentType::Heartbeat => {
                info.note = Some("heartbeat message (RFC 6520)".to_string());
            }
            ContentType::Unknown(n) => {
                info.note = Some(format!(
                    "content type {n} is not defined by TLS (RFC 8446 §5.1); shown as unknown ({n})"
                ));
            }
            ContentType::ApplicationData | ContentType::ChangeCipherSpec => {}
        }
    }

    fn on_handshake_bytes(
        &mut self,
        dir: Direction,
        epoch: Option<KeyEpoch>,
        data: &[u8],
        info: &mut RecordInfo,
    ) {
        let state = self.dir_mut(dir);
        // Handshake messages never span a key change (RFC 8446 §5.1): reassemble per epoch.
        if state.reassembly_epoch != epoch {
            state.handshake.reset();
            state.reassembly_epoch = epoch;
        }
        let chunk = state.handshake.push(data);
        info.handshake_partial = chunk.partial;
        if let Some(e) = chunk.error {
            info.note = Some(e.to_string());
        }
        for message in &chunk.messages {
            info.handshake.push(message.msg_type);
            self.on_handshake_message(dir, epoch, message);
        }
    }

    fn on_handshake_message(
        &mut self,
        dir: Direction,
        epoch: Option<KeyEpoch>,
        message: &HandshakeMessage,
    ) {
        match message.msg_type {
            HandshakeType::ClientHello => self.on_client_hello(&message.body),
            HandshakeType::ServerHello => self.on_server_hello(&message.body),
            HandshakeType::ServerKeyExchange if epoch.is_none() => {
                self.on_server_key_exchange(&message.body);
            }
            HandshakeType::Finished if epoch == Some(KeyEpoch::Handshake) => {
                self.dir_mut(dir).keys.on_tls13_finished();
            }
            HandshakeType::EndOfEarlyData if epoch == Some(KeyEpoch::Early) => {
                self.dir_mut(dir).keys.on_end_of_early_data();
            }
            HandshakeType::KeyUpdate if matches!(epoch, Some(KeyEpoch::Application { .. })) => {
                let suite = self.summary.cipher_suite;
                self.dir_mut(dir).keys.on_tls13_key_update(suite);
            }
            _ => {}
        }
    }

    fn on_client_hello(&mut self, body: &[u8]) {
        let Some(hello) = parse_client_hello(body) else {
            tracing::debug!("ClientHello could not be parsed");
            return;
        };
        let s = &mut self.summary;
        s.client_random = Some(hello.random);
        s.offered_suites = hello.cipher_suites;
        s.offered_versions = hello.supported_versions;
        s.offered_key_share_groups = hello.key_share_groups;
        s.offered_alpn = hello.alpn;
        s.offered_early_data = hello.early_data;
        if hello.server_name.is_some() {
            s.sni = hello.server_name;
        }
    }

    fn on_server_hello(&mut self, body: &[u8]) {
        let Some(hello) = parse_server_hello(body) else {
            tracing::debug!("ServerHello could not be parsed");
            return;
        };
        let s = &mut self.summary;
        s.version = Some(hello.version());
        s.cipher_suite = Some(hello.cipher_suite);
        s.cipher_suite_name = cipher_suite_name(hello.cipher_suite);
        s.key_share_group = hello.key_share_group.or(s.key_share_group);
        if hello.hello_retry_request {
            // RFC 8446 §4.1.4: no keys yet; the client sends a second ClientHello in clear.
            s.hello_retry_request = true;
            return;
        }
        s.server_random = Some(hello.random);
        s.alpn = hello.alpn;
        // The server answers encrypt_then_mac only if the client offered it (RFC 7366 §2).
        s.encrypt_then_mac = hello.encrypt_then_mac;
    }

    /// TLS 1.2 ECDHE: ServerECDHParams start with curve_type 3 (named_curve) and the 2-byte
    /// group (RFC 8422 §5.4). Other key exchanges (DHE, RSA) have no named group.
    fn on_server_key_exchange(&mut self, body: &[u8]) {
        let is_ecdhe = self
            .summary
            .cipher_suite_name
            .is_some_and(|name| name.contains("_ECDHE_"));
        if let (true, [3, g0, g1, ..]) = (is_ecdhe, body) {
            self.summary.key_share_group = Some(u16::from_be_bytes([*g0, *g1]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::handshake::tests::client_hello_body;
    use super::*;

    /// A record: header (type, version 0x0303, length) + body.
    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 0x03, 0x03];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn client_hello_spanning_two_records() {
        // Handshake header: type 1 (ClientHello), 24-bit length; then the body.
        let body = client_hello_body();
        let mut message = vec![1, 0];
        message.extend_from_slice(&(body.len() as u16).to_be_bytes());
        message.extend_from_slice(&body);
        let (first, second) = message.split_at(30);
        let mut conn = TlsConnection::new();
        let keys = Keys::new();

        let a = conn.on_record(Direction::ClientToServer, &record(22, first), &keys);
        assert!(a.handshake.is_empty());
        assert_eq!(a.handshake_partial, Some(HandshakeType::ClientHello));
        assert!(conn.summary().sni.is_none());

        let b = conn.on_record(Direction::ClientToServer, &record(22, second), &keys);
        assert_eq!(b.handshake, vec![HandshakeType::ClientHello]);
        assert_eq!(b.handshake_partial, None);
        assert!(!b.encrypted);
        let s = conn.summary();
        assert_eq!(s.sni.as_deref(), Some("localhost"));
        assert_eq!(s.client_random, Some([0x11; 32]));
        assert_eq!(s.offered_suites, vec![0x1301, 0x1302]);
        assert_eq!(s.offered_key_share_groups, vec![0x001d]);
        assert_eq!(s.offered_alpn, vec!["h2".to_string()]);

        // Client application data before any ServerHello, after offering TLS 1.3: 0-RTT.
        let early = conn.on_record(Direction::ClientToServer, &record(23, &[0; 20]), &keys);
        assert!(early.encrypted);
        assert!(early.note.unwrap().contains("0-RTT"));
    }

    #[test]
    fn clear_alert_heartbeat_unknown_and_broken_records() {
        let mut conn = TlsConnection::new();
        let keys = Keys::new();
        let dir = Direction::ServerToClient;
        // alert: level 2 (fatal), description 40 (handshake_failure)
        let alert = conn.on_record(dir, &record(21, &[2, 40]), &keys);
        assert_eq!(alert.alert, Some((2, 40)));
        assert_eq!(alert.header.content_type, ContentType::Alert);
        let short_alert = conn.on_record(dir, &record(21, &[2]), &keys);
        assert!(short_alert.alert.is_none() && short_alert.note.is_some());
        // heartbeat request: type 1, payload length 0
        let hb = conn.on_record(dir, &record(24, &[1, 0, 0]), &keys);
        assert!(hb.note.unwrap().contains("RFC 6520"));
        let unknown = conn.on_record(dir, &record(99, &[1, 2, 3]), &keys);
        assert_eq!(unknown.header.content_type, ContentType::Unknown(99));
        assert!(unknown.note.unwrap().contains("unknown (99)"));
        // Header says 10 bytes, 2 present.
        let cut = conn.on_record(dir, &[22, 3, 3, 0, 10, 1, 2], &keys);
        assert!(cut.note.unwrap().contains("15 bytes in all"));
        let tiny = conn.on_record(dir, &[22, 3], &keys);
        assert!(tiny.note.unwrap().contains("shorter than the 5-byte"));
        // Application data with no handshake seen: encrypted, and we say why there is no plaintext.
        let blind = conn.on_record(dir, &record(23, &[0; 30]), &keys);
        assert!(blind.encrypted && blind.decrypted.is_none());
        assert!(blind.note.unwrap().contains("ClientHello was not seen"));
    }

    #[test]
    fn tls11_cbc_is_recognised_and_explained() {
        let mut conn = TlsConnection::new();
        let (keys, _) = Keys::parse_nss(&format!(
            "CLIENT_RANDOM {} {}\n",
            "11".repeat(32),
            "77".repeat(48)
        ));
        let body = client_hello_body();
        let mut hello = vec![1, 0];
        hello.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hello.extend_from_slice(&body);
        conn.on_record(Direction::ClientToServer, &record(22, &hello), &keys);
        // ServerHello: TLS 1.1, random, empty session id, ECDHE-RSA-AES128-SHA, no compression.
        let mut sh = vec![0x03, 0x02];
        sh.extend_from_slice(&[0x22; 32]);
        sh.extend_from_slice(&[0, 0xc0, 0x13, 0]);
        let mut msg = vec![2, 0, 0, sh.len() as u8];
        msg.extend_from_slice(&sh);
        conn.on_record(Direction::ServerToClient, &record(22, &msg), &keys);
        assert_eq!(conn.summary().cipher_suite, Some(0xc013));
        conn.on_record(Direction::ClientToServer, &record(20, &[1]), &keys);
        let fin = conn.on_record(Direction::ClientToServer, &record(22, &[0; 48]), &keys);
        let note = fin.note.unwrap_or_default();
        assert!(fin.encrypted && fin.decrypted.is_none());
        assert!(
            note.contains("TLS 1.1 (0x0302)") && note.contains("only TLS 1.2 and TLS 1.3"),
            "{note}"
        );
    }

    #[test]
    fn tls12_change_cipher_spec_turns_on_encryption() {
        let mut conn = TlsConnection::new();
        let keys = Keys::new();
        let dir = Direction::ClientToServer;
        assert_eq!(conn.sending_epoch(dir), None);
        conn.on_record(dir, &record(20, &[1]), &keys);
        assert_eq!(
            conn.sending_epoch(dir),
            Some(KeyEpoch::Tls12 { generation: 0 })
        );
        assert_eq!(conn.sending_epoch(dir.reverse()), None);
        // After ChangeCipherSpec even a handshake-typed record is protected (its Finished).
        let fin = conn.on_record(dir, &record(22, &[0; 40]), &keys);
        assert!(fin.encrypted && fin.handshake.is_empty());
    }
}
