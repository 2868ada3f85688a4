//! Which keys protect each direction's records, and their sequence numbers.
//!
//! Key epochs per direction (RFC 8446 §2, §7; RFC 5246 §7.1):
//!
//! ```text
//! TLS 1.3  clear --ServerHello--> handshake keys --own Finished--> application keys --KeyUpdate--> N+1 ...
//!          client with 0-RTT: clear --ClientHello--> early keys --EndOfEarlyData--> handshake keys ...
//! TLS 1.2  clear --own ChangeCipherSpec--> key-block keys (first protected record: Finished)
//! ```
//! Sequence numbers start at 0 in each epoch; TLS 1.3 ChangeCipherSpec records are neither
//! protected nor counted. Secrets are looked up in the key log when first needed, so keys that
//! arrive late still serve later records.

use super::conn::SessionSummary;
use super::crypto::{
    require_protection, require_suite, suite_params, SuiteParams, SuiteProtection,
};
use super::decrypt::{inner_content, next_traffic_secret, RecordKey};
use super::error::TlsError;
use super::keylog::{encode_hex, labels, Keys};
use super::record::{version_name, ContentType, RecordHeader};
use super::Direction;

/// How many records a direction may have lost from the capture before decryption gives up
/// resynchronising its sequence number.
const SEQ_LOOKAHEAD: u64 = 3;

/// Which keys protected a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyEpoch {
    /// TLS 1.3 client early traffic keys (CLIENT_EARLY_TRAFFIC_SECRET): 0-RTT application data
    /// and the EndOfEarlyData message (RFC 8446 §2.3, §4.5, §7.1).
    Early,
    /// TLS 1.3 handshake traffic keys (EncryptedExtensions ... Finished).
    Handshake,
    /// TLS 1.3 application traffic keys; `generation` counts KeyUpdates (0 = *_TRAFFIC_SECRET_0).
    Application {
        /// Number of KeyUpdates this direction has made.
        generation: u64,
    },
    /// TLS 1.2 keys from the key block, after ChangeCipherSpec; `generation` counts
    /// renegotiations (0 = the keys of the first handshake).
    Tls12 {
        /// Number of ChangeCipherSpecs this direction sent before the one that started these keys.
        generation: u64,
    },
}

impl KeyEpoch {
    /// Words for messages: "early data (0-RTT)", "handshake", "application", "application (after 2 KeyUpdates)", "TLS 1.2".
    pub fn describe(self) -> String {
        match self {
            KeyEpoch::Early => "early data (0-RTT)".to_string(),
            KeyEpoch::Handshake => "handshake".to_string(),
            KeyEpoch::Application { generation: 0 } => "application".to_string(),
            KeyEpoch::Application { generation } => {
                format!("application (after {generation} KeyUpdates)")
            }
            KeyEpoch::Tls12 { generation: 0 } => "TLS 1.2".to_string(),
            KeyEpoch::Tls12 { generation } => {
                format!("TLS 1.2 (after {generation} renegotiations)")
            }
        }
    }
}

/// The facts from both hellos that decryption needs, checked once per record.
pub(super) struct SessionParams {
    client_random: [u8; 32],
    server_random: [u8; 32],
    protection: SuiteProtection,
    /// Both hellos carried encrypt_then_mac (RFC 7366): CBC records carry their MAC outside.
    encrypt_then_mac: bool,
    /// The ClientHello offered 0-RTT early data (its early_data extension).
    early_data: bool,
}

impl SessionParams {
    /// Fails with a reason a student can act on: no ClientHello seen, no keys for this session,
    /// no ServerHello seen, or a suite this tool cannot decrypt.
    pub(super) fn new(summary: &SessionSummary, keys: &Keys) -> Result<Self, TlsError> {
        let client_random = summary.client_random.ok_or(TlsError::MissingHandshake {
            what: "ClientHello",
        })?;
        if !keys.has_client_random(&client_random) {
            return Err(TlsError::NoKeysForSession {
                client_random_prefix: encode_hex(client_random.get(..8).unwrap_or_default()),
            });
        }
        let missing_server_hello = TlsError::MissingHandshake {
            what: "ServerHello",
        };
        let server_random = summary.server_random.ok_or(missing_server_hello.clone())?;
        let protection = require_protection(summary.cipher_suite.ok_or(missing_server_hello)?)?;
        if let Some(version @ ..0x0303) = summary.version {
            return Err(TlsError::UnsupportedVersion {
                version,
                name: version_name(version),
            });
        }
        Ok(SessionParams {
            client_random,
            server_random,
            protection,
            encrypt_then_mac: summary.encrypt_then_mac,
            early_data: summary.offered_early_data,
        })
    }

    /// The AEAD suite of a TLS 1.3 session (TLS 1.3 defines no other kind, RFC 8446 §B.4).
    fn aead_suite(&self) -> Result<SuiteParams, TlsError> {
        match self.protection {
            SuiteProtection::Aead(suite) => Ok(suite),
            SuiteProtection::Cbc(cbc) => require_suite(cbc.id),
        }
    }
}

/// A record whose protection was removed: its content is the first `len` bytes of the buffer
/// the caller passed in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Opened {
    /// The keys that opened it.
    pub(super) epoch: KeyEpoch,
    /// TLS 1.3: the inner content type; TLS 1.2: the record's own.
    pub(super) content_type: ContentType,
    /// The sequence number that opened it (in its epoch).
    pub(super) seq: u64,
    /// Length of the content (TLS 1.3: without the inner type byte and padding).
    pub(super) len: usize,
}

/// A direction's write key and next sequence number.
#[derive(Debug)]
struct Cipher {
    key: RecordKey,
    seq: u64,
    /// It opened at least one record: only such keys are kept when they are replaced, so a
    /// crafted capture cannot pile up keys that protect nothing.
    used: bool,
}

impl Cipher {
    fn new(key: RecordKey) -> Self {
        Cipher {
            key,
            seq: 0,
            used: false,
        }
    }
}

/// The protection state of one direction.
#[derive(Debug, Default)]
pub(super) struct DirectionKeys {
    /// TLS 1.3: this direction sent its Finished, so application keys are expected.
    tls13_application: bool,
    /// TLS 1.3 client: the 0-RTT keys, once a record opened with them, and their suite.
    tls13_early_cipher: Option<Cipher>,
    /// TLS 1.3 client: early data is over (EndOfEarlyData sent, or a record opened with later
    /// keys), so the early keys are no longer tried.
    tls13_early_done: bool,
    tls13_handshake_cipher: Option<Cipher>,
    tls13_application_cipher: Option<Cipher>,
    /// TLS 1.3: the current application traffic secret (for KeyUpdate) and its generation.
    tls13_application_secret: Option<Vec<u8>>,
    tls13_generation: u64,
    /// TLS 1.3: the traffic secrets of earlier generations (before a KeyUpdate) that protected
    /// records, in generation order, kept so those records can be opened again when someone looks
    /// at them; and the cipher suite to turn them into keys.
    tls13_retired: Vec<(u64, Vec<u8>)>,
    tls13_suite: Option<SuiteParams>,
    /// TLS 1.2: this direction sent ChangeCipherSpec.
    tls12_ccs_seen: bool,
    tls12_cipher: Option<Cipher>,
    /// TLS 1.2: renegotiations so far (ChangeCipherSpecs after the first).
    tls12_generation: u64,
    /// TLS 1.2: keys replaced by a later ChangeCipherSpec that protected records, by generation.
    tls12_retired: Vec<(u64, RecordKey)>,
}

impl DirectionKeys {
    /// TLS 1.3: the epoch the next protected record should use.
    pub(super) fn tls13_epoch(&self) -> KeyEpoch {
        if self.early_expected() {
            KeyEpoch::Early
        } else if self.tls13_application {
            KeyEpoch::Application {
                generation: self.tls13_generation,
            }
        } else {
            KeyEpoch::Handshake
        }
    }

    /// A client that opened 0-RTT records and has not ended early data yet.
    fn early_expected(&self) -> bool {
        self.tls13_early_cipher.is_some() && !self.tls13_early_done && !self.tls13_application
    }

    /// TLS 1.3 client: EndOfEarlyData sent under the early keys; handshake keys follow (RFC 8446
    /// §4.5).
    pub(super) fn on_end_of_early_data(&mut self) {
        self.tls13_early_done = true;
    }

    /// TLS 1.3 client, before the ServerHello: opens a 0-RTT record with the client early traffic
    /// secret. The suite is the resumed session's, which nothing in clear names yet: the first
    /// time, each TLS 1.3 suite the client offered whose hash is as long as the secret is tried
    /// (RFC 8446 §4.2.10: early data uses the suite of the PSK's session).
    pub(super) fn decrypt_tls13_early(
        &mut self,
        client_random: &[u8; 32],
        offered_suites: &[u16],
        header: &RecordHeader,
        body: &[u8],
        keys: &Keys,
        out: &mut Vec<u8>,
    ) -> Result<Opened, TlsError> {
        let dir = Direction::ClientToServer;
        let epoch = KeyEpoch::Early;
        let seq = match self.tls13_early_cipher.as_mut() {
            Some(cipher) => open_with_lookahead(cipher, header, body, out, dir, epoch)?,
            None => {
                let label = labels::CLIENT_EARLY_TRAFFIC_SECRET;
                let secret = keys
                    .get(label, client_random)
                    .ok_or(TlsError::MissingSecret { label })?;
                let candidates = offered_suites
                    .iter()
                    .filter_map(|&id| suite_params(id))
                    .filter(|suite| suite.tls13 && suite.hash.output_len() == secret.len());
                let mut first_error = None;
                let mut opened = None;
                for suite in candidates {
                    let mut cipher = Cipher::new(RecordKey::tls13(suite, secret)?);
                    match open_with_lookahead(&mut cipher, header, body, out, dir, epoch) {
                        Ok(seq) => {
                            opened = Some(seq);
                            self.tls13_early_cipher = Some(cipher);
                            break;
                        }
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                match (opened, first_error) {
                    (Some(seq), _) => seq,
                    (None, Some(e)) => return Err(e),
                    (None, None) => {
                        return Err(TlsError::KeyDerivation(format!(
                            "the ClientHello offers no TLS 1.3 cipher suite with a {}-byte hash \
                             for its {}-byte early traffic secret",
                            secret.len(),
                            secret.len()
                        )))
                    }
                }
            }
        };
        let (content_type, len) = inner_content(out)?;
        Ok(Opened {
            epoch,
            content_type,
            seq,
            len,
        })
    }

    /// TLS 1.2: whether this direction has switched to encryption.
    pub(super) fn tls12_encrypting(&self) -> bool {
        self.tls12_ccs_seen
    }

    /// TLS 1.2 ChangeCipherSpec: new keys, sequence number 0 (RFC 5246 §6.1, §7.1).
    pub(super) fn on_tls12_change_cipher_spec(&mut self) {
        if self.tls12_ccs_seen {
            if let Some(old) = self.tls12_cipher.take().filter(|c| c.used) {
                self.tls12_retired.push((self.tls12_generation, old.key));
            }
            self.tls12_generation = self.tls12_generation.saturating_add(1);
        }
        self.tls12_ccs_seen = true;
        self.tls12_cipher = None;
    }

    /// TLS 1.2: the epoch of this direction's current keys.
    pub(super) fn tls12_epoch(&self) -> KeyEpoch {
        KeyEpoch::Tls12 {
            generation: self.tls12_generation,
        }
    }

    /// TLS 1.3 Finished sent under handshake keys: application keys follow (RFC 8446 §7.3).
    pub(super) fn on_tls13_finished(&mut self) {
        self.tls13_application = true;
    }

    /// TLS 1.3 KeyUpdate: traffic secret N+1, sequence number 0 (RFC 8446 §4.6.3, §7.2).
    pub(super) fn on_tls13_key_update(&mut self, suite_id: Option<u16>) {
        let (Some(Ok(suite)), Some(secret)) = (
            suite_id.map(require_suite),
            self.tls13_application_secret.as_deref(),
        ) else {
            return;
        };
        match next_traffic_secret(suite, secret)
            .and_then(|next| RecordKey::tls13(suite, &next).map(|key| (next, key)))
        {
            Ok((next, key)) => {
                let old_secret = self.tls13_application_secret.replace(next);
                let old = self.tls13_application_cipher.take();
                if let (Some(secret), Some(true)) = (old_secret, old.map(|c| c.used)) {
                    self.tls13_retired.push((self.tls13_generation, secret));
                }
                self.tls13_suite = Some(suite);
                self.tls13_generation = self.tls13_generation.saturating_add(1);
                self.tls13_application_cipher = Some(Cipher::new(key));
            }
            Err(e) => tracing::debug!(error = %e, "KeyUpdate: next traffic secret failed"),
        }
    }

    /// TLS 1.3: opens a record with the epoch this direction should be in, and if that fails
    /// with the others it may be in (RFC 8446 §5.2): a client that offered early data may still
    /// send under its early keys after the ServerHello (its 0-RTT data, then EndOfEarlyData).
    /// The content is left in `out`; the result says which keys and sequence number opened it,
    /// its inner content type and its length.
    pub(super) fn decrypt_tls13(
        &mut self,
        dir: Direction,
        session: &SessionParams,
        header: &RecordHeader,
        body: &[u8],
        keys: &Keys,
        out: &mut Vec<u8>,
    ) -> Result<Opened, TlsError> {
        let (hs_label, app_label) = match dir {
            Direction::ClientToServer => (
                labels::CLIENT_HANDSHAKE_TRAFFIC_SECRET,
                labels::CLIENT_TRAFFIC_SECRET_0,
            ),
            Direction::ServerToClient => (
                labels::SERVER_HANDSHAKE_TRAFFIC_SECRET,
                labels::SERVER_TRAFFIC_SECRET_0,
            ),
        };
        let application = KeyEpoch::Application {
            generation: self.tls13_generation,
        };
        let early_possible = dir == Direction::ClientToServer
            && session.early_data
            && !self.tls13_early_done
            && !self.tls13_application;
        let candidates: [Option<KeyEpoch>; 3] = if self.tls13_application {
            [Some(application), Some(KeyEpoch::Handshake), None]
        } else if early_possible {
            [
                Some(KeyEpoch::Early),
                Some(KeyEpoch::Handshake),
                Some(application),
            ]
        } else {
            [Some(KeyEpoch::Handshake), Some(application), None]
        };
        let mut first_error = None;
        for epoch in candidates.into_iter().flatten() {
            let (slot, label) = match epoch {
                KeyEpoch::Early => (
                    &mut self.tls13_early_cipher,
                    labels::CLIENT_EARLY_TRAFFIC_SECRET,
                ),
                KeyEpoch::Handshake => (&mut self.tls13_handshake_cipher, hs_label),
                _ => (&mut self.tls13_application_cipher, app_label),
            };
            if slot.is_none() {
                let built = keys
                    .get(label, &session.client_random)
                    .ok_or(TlsError::MissingSecret { label })
                    .and_then(|secret| {
                        let key = RecordKey::tls13(session.aead_suite()?, secret)?;
                        Ok((key, secret.to_vec()))
                    });
                match built {
                    Ok((key, secret)) => {
                        *slot = Some(Cipher::new(key));
                        if epoch == application {
                            self.tls13_application_secret = Some(secret);
                        }
                    }
                    Err(e) => {
                        // Early keys are only a guess: a missing early secret is not the news.
                        if epoch != KeyEpoch::Early {
                            first_error.get_or_insert(e);
                        }
                        continue;
                    }
                }
            }
            let Some(cipher) = slot.as_mut() else {
                continue;
            };
            match open_with_lookahead(cipher, header, body, out, dir, epoch) {
                Ok(seq) => {
                    if epoch != KeyEpoch::Early {
                        self.tls13_early_done = true;
                        self.tls13_application = epoch == application;
                    }
                    let (content_type, len) = inner_content(out)?;
                    return Ok(Opened {
                        epoch,
                        content_type,
                        seq,
                        len,
                    });
                }
                Err(e) => {
                    // Report the failure with the keys that were expected: early keys only once
                    // they opened something (before that they are a guess).
                    if epoch != KeyEpoch::Early || cipher.used {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        Err(first_error.unwrap_or(TlsError::MissingSecret { label: hs_label }))
    }

    /// TLS 1.2: opens a record with keys from the master secret and both randoms (RFC 5246
    /// §6.3); the plaintext keeps the record's own content type.
    pub(super) fn decrypt_tls12(
        &mut self,
        dir: Direction,
        session: &SessionParams,
        header: &RecordHeader,
        body: &[u8],
        keys: &Keys,
        out: &mut Vec<u8>,
    ) -> Result<Opened, TlsError> {
        let missing = || TlsError::MissingSecret {
            label: labels::CLIENT_RANDOM,
        };
        if self.tls12_cipher.is_none() {
            let master = keys
                .get(labels::CLIENT_RANDOM, &session.client_random)
                .ok_or_else(missing)?;
            let client = dir == Direction::ClientToServer;
            let (cr, sr) = (&session.client_random, &session.server_random);
            let key = match session.protection {
                SuiteProtection::Aead(suite) => RecordKey::tls12(suite, master, cr, sr, client)?,
                SuiteProtection::Cbc(suite) => {
                    RecordKey::tls12_cbc(suite, master, cr, sr, client, session.encrypt_then_mac)?
                }
            };
            self.tls12_cipher = Some(Cipher::new(key));
        }
        let cipher = self.tls12_cipher.as_mut().ok_or_else(missing)?;
        let epoch = KeyEpoch::Tls12 {
            generation: self.tls12_generation,
        };
        let seq = open_with_lookahead(cipher, header, body, out, dir, epoch)?;
        Ok(Opened {
            epoch,
            content_type: header.content_type,
            seq,
            len: out.len(),
        })
    }

    /// Opens again a record this direction already opened once, with the keys of `epoch` and
    /// sequence number `seq`; the content is left in `out` (as [`Opened::len`] says). The trace
    /// keeps no plaintext: views call this when a student looks at a record.
    pub(super) fn reopen(
        &self,
        dir: Direction,
        epoch: KeyEpoch,
        seq: u64,
        header: &RecordHeader,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Opened, TlsError> {
        fn current(cipher: &Option<Cipher>) -> Option<&RecordKey> {
            cipher.as_ref().map(|c| &c.key)
        }
        // A retired TLS 1.3 generation keeps only its secret: its key is made again here.
        let rebuilt;
        let key = match epoch {
            KeyEpoch::Early => current(&self.tls13_early_cipher),
            KeyEpoch::Handshake => current(&self.tls13_handshake_cipher),
            KeyEpoch::Application { generation } if generation == self.tls13_generation => {
                current(&self.tls13_application_cipher)
            }
            KeyEpoch::Application { generation } => {
                let secret = self
                    .tls13_retired
                    .binary_search_by_key(&generation, |(g, _)| *g)
                    .ok()
                    .and_then(|i| self.tls13_retired.get(i));
                rebuilt = match (secret, self.tls13_suite) {
                    (Some((_, secret)), Some(suite)) => Some(RecordKey::tls13(suite, secret)?),
                    _ => None,
                };
                rebuilt.as_ref()
            }
            KeyEpoch::Tls12 { generation } if generation == self.tls12_generation => {
                current(&self.tls12_cipher)
            }
            KeyEpoch::Tls12 { generation } => self
                .tls12_retired
                .binary_search_by_key(&generation, |(g, _)| *g)
                .ok()
                .and_then(|i| self.tls12_retired.get(i))
                .map(|(_, key)| key),
        };
        let Some(key) = key else {
            return Err(TlsError::KeyDerivation(format!(
                "the {} {} keys are no longer held",
                dir.sender(),
                epoch.describe()
            )));
        };
        key.open_into(seq, header, body, out)
            .map_err(|e| e.with_epoch(&epoch_name(dir, epoch)))?;
        let (content_type, len) = match epoch {
            KeyEpoch::Tls12 { .. } => (header.content_type, out.len()),
            _ => inner_content(out)?,
        };
        Ok(Opened {
            epoch,
            content_type,
            seq,
            len,
        })
    }
}

/// "client application", "server handshake", ...: which keys, for error messages.
fn epoch_name(dir: Direction, epoch: KeyEpoch) -> String {
    format!("{} {}", dir.sender(), epoch.describe())
}

/// Opens a record at the expected sequence number or, if records were lost from the capture,
/// a few numbers later; on success the next expected number follows the one that worked.
/// Returns the sequence number that worked; the plaintext is in `out`.
fn open_with_lookahead(
    cipher: &mut Cipher,
    header: &RecordHeader,
    body: &[u8],
    out: &mut Vec<u8>,
    dir: Direction,
    epoch: KeyEpoch,
) -> Result<u64, TlsError> {
    let mut first_error = None;
    for skipped in 0..=SEQ_LOOKAHEAD {
        let seq = cipher.seq.saturating_add(skipped);
        match cipher.key.open_into(seq, header, body, out) {
            Ok(()) => {
                cipher.seq = seq.saturating_add(1);
                cipher.used = true;
                return Ok(seq);
            }
            // A too-short body (or bad CBC padding) fails the same way at every sequence number.
            Err(e) if e.same_at_every_seq() => return Err(e.with_epoch(&epoch_name(dir, epoch))),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let name = epoch_name(dir, epoch);
    Err(first_error
        .unwrap_or(TlsError::AuthenticationFailed {
            epoch: String::new(),
            seq: cipher.seq,
        })
        .with_epoch(&name))
}

#[cfg(test)]
mod tests {
    use ring::aead;

    use super::super::crypto::{suite_params, tls12_prf};
    use super::*;

    /// A TLS 1.2 AES-128-GCM client record (RFC 5288) sealed with the key block of `master`.
    fn seal_tls12(
        master: &[u8; 48],
        cr: &[u8; 32],
        sr: &[u8; 32],
        seq: u64,
        text: &[u8],
    ) -> Vec<u8> {
        let suite = suite_params(0xc02f).unwrap();
        let block = tls12_prf(
            suite.hash,
            master,
            b"key expansion",
            &[*sr, *cr].concat(),
            40,
        );
        let (client_key, salt) = (&block[0..16], &block[32..36]);
        let explicit = seq.to_be_bytes();
        let nonce: [u8; 12] = [salt, &explicit[..]].concat().try_into().unwrap();
        let mut aad = seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&[23, 3, 3]);
        aad.extend_from_slice(&(text.len() as u16).to_be_bytes());
        let key =
            aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, client_key).unwrap());
        let mut sealed = text.to_vec();
        key.seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(aad),
            &mut sealed,
        )
        .unwrap();
        [&explicit[..], &sealed].concat()
    }

    fn header(body: &[u8]) -> RecordHeader {
        RecordHeader {
            content_type: ContentType::ApplicationData,
            version: 0x0303,
            length: body.len() as u16,
        }
    }

    #[test]
    fn records_from_before_a_renegotiation_open_again() {
        let sr = [2u8; 32];
        let sessions = [([7u8; 48], [1u8; 32]), ([8u8; 48], [3u8; 32])];
        let log: String = sessions
            .iter()
            .map(|(m, cr)| format!("CLIENT_RANDOM {} {}\n", encode_hex(cr), encode_hex(m)))
            .collect();
        let (keys, warnings) = Keys::parse_nss(&log);
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut dir_keys = DirectionKeys::default();
        let mut bodies = Vec::new();
        let mut out = Vec::new();
        for (i, (master, cr)) in sessions.iter().enumerate() {
            // Each handshake ends with the client's ChangeCipherSpec: new keys, sequence 0.
            dir_keys.on_tls12_change_cipher_spec();
            let summary = SessionSummary {
                client_random: Some(*cr),
                server_random: Some(sr),
                cipher_suite: Some(0xc02f),
                ..SessionSummary::default()
            };
            let session = SessionParams::new(&summary, &keys).unwrap();
            let text = format!("line {i}\n");
            let body = seal_tls12(master, cr, &sr, 0, text.as_bytes());
            let dir = Direction::ClientToServer;
            let opened = dir_keys
                .decrypt_tls12(dir, &session, &header(&body), &body, &keys, &mut out)
                .unwrap();
            assert_eq!((opened.seq, &out[..opened.len]), (0, text.as_bytes()));
            let generation = i as u64;
            assert_eq!(opened.epoch, KeyEpoch::Tls12 { generation });
            bodies.push((body, text, opened.epoch));
        }
        // Both records have sequence number 0; each opens again with the keys of its own epoch.
        for (body, text, epoch) in &bodies {
            let opened = dir_keys
                .reopen(
                    Direction::ClientToServer,
                    *epoch,
                    0,
                    &header(body),
                    body,
                    &mut out,
                )
                .unwrap();
            assert_eq!(&out[..opened.len], text.as_bytes());
        }
        // A damaged record says which keys failed.
        let mut damaged = bodies[0].0.clone();
        damaged[10] ^= 1;
        let e = dir_keys
            .reopen(
                Direction::ClientToServer,
                KeyEpoch::Tls12 { generation: 0 },
                0,
                &header(&damaged),
                &damaged,
                &mut out,
            )
            .unwrap_err();
        assert!(e.to_string().contains("client TLS 1.2"), "{e}");
        // TLS 1.3 keys that were never built are reported, not a panic.
        let none = dir_keys.reopen(
            Direction::ClientToServer,
            KeyEpoch::Handshake,
            0,
            &header(&damaged),
            &damaged,
            &mut out,
        );
        assert!(none.unwrap_err().to_string().contains("no longer held"));
        // Keys that protected nothing are not kept when replaced.
        dir_keys.on_tls12_change_cipher_spec();
        dir_keys.on_tls12_change_cipher_spec();
        assert_eq!(dir_keys.tls12_retired.len(), 2, "generations 0 and 1 only");
        assert_eq!(dir_keys.tls12_epoch(), KeyEpoch::Tls12 { generation: 3 });
    }
}
