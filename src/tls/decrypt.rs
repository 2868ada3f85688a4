//! Removing record protection: one direction's AEAD key, its nonce construction and additional
//! data, for TLS 1.3 (RFC 8446 §5.2-5.4) and TLS 1.2 AES-GCM (RFC 5288) / ChaCha20-Poly1305
//! (RFC 7905); TLS 1.2 AES-CBC with HMAC in `cbc.rs`.

use ring::aead;

use super::cbc::CbcKey;
use super::crypto::{hkdf_expand_label, tls12_key_block, CbcSuiteParams, SuiteAead, SuiteParams};
use super::error::TlsError;
use super::record::{ContentType, RecordHeader};

/// AEAD authentication tag length of every supported suite.
pub const TAG_LEN: usize = 16;
/// Length of the explicit per-record nonce that TLS 1.2 AES-GCM sends before the ciphertext.
pub const GCM_EXPLICIT_NONCE_LEN: usize = 8;

/// How a record's 12-byte nonce is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NonceStyle {
    /// TLS 1.3 and TLS 1.2 ChaCha20-Poly1305: the 12-byte IV XOR the 64-bit sequence number,
    /// left-padded with zeros (RFC 8446 §5.3, RFC 7905 §2).
    XorSequence,
    /// TLS 1.2 AES-GCM: 4-byte implicit salt from the key block || 8-byte explicit nonce sent in
    /// the record (RFC 5288 §3).
    GcmExplicit,
}

/// How a record's additional authenticated data is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AadStyle {
    /// TLS 1.3: the 5-byte record header itself (RFC 8446 §5.2).
    RecordHeader,
    /// TLS 1.2: seq_num (8) || type (1) || version (2) || plaintext length (2) (RFC 5246 §6.2.3.3).
    Tls12,
}

/// The write key of one direction in one key epoch: decrypts that direction's records in order.
pub struct RecordKey {
    kind: KeyKind,
}

/// How the records are protected. A connection holds a few of these at most, so the AEAD key
/// (the common case) stays inline rather than behind a box.
#[allow(clippy::large_enum_variant)]
enum KeyKind {
    Aead(AeadKey),
    Cbc(CbcKey),
}

/// An AEAD write key with its IV and how nonce and additional data are built.
struct AeadKey {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    nonce_style: NonceStyle,
    aad_style: AadStyle,
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        match &self.kind {
            KeyKind::Aead(k) => f
                .debug_struct("RecordKey")
                .field("algorithm", k.key.algorithm())
                .field("nonce_style", &k.nonce_style)
                .finish_non_exhaustive(),
            KeyKind::Cbc(k) => f.debug_tuple("RecordKey").field(k).finish(),
        }
    }
}

impl AeadKey {
    fn new(
        aead_alg: SuiteAead,
        key: &[u8],
        iv: &[u8],
        nonce_style: NonceStyle,
        aad_style: AadStyle,
    ) -> Result<Self, TlsError> {
        let unbound = aead::UnboundKey::new(aead_alg.ring(), key).map_err(|_| {
            TlsError::KeyDerivation(format!(
                "a {}-byte key does not fit {aead_alg:?}",
                key.len()
            ))
        })?;
        let mut iv_bytes = [0u8; 12];
        let slot = iv_bytes.get_mut(..iv.len()).ok_or_else(|| {
            TlsError::KeyDerivation(format!("an IV of {} bytes is longer than 12", iv.len()))
        })?;
        slot.copy_from_slice(iv);
        Ok(AeadKey {
            key: aead::LessSafeKey::new(unbound),
            iv: iv_bytes,
            nonce_style,
            aad_style,
        })
    }
}

impl RecordKey {
    fn aead(
        aead_alg: SuiteAead,
        key: &[u8],
        iv: &[u8],
        nonce_style: NonceStyle,
        aad_style: AadStyle,
    ) -> Result<Self, TlsError> {
        AeadKey::new(aead_alg, key, iv, nonce_style, aad_style).map(|k| RecordKey {
            kind: KeyKind::Aead(k),
        })
    }

    /// TLS 1.3 traffic key from a traffic secret: key = HKDF-Expand-Label(secret, "key", "",
    /// key_length), iv = HKDF-Expand-Label(secret, "iv", "", 12) (RFC 8446 §7.3).
    pub fn tls13(suite: SuiteParams, traffic_secret: &[u8]) -> Result<Self, TlsError> {
        let key = hkdf_expand_label(suite.hash, traffic_secret, "key", &[], suite.aead.key_len())?;
        let iv = hkdf_expand_label(suite.hash, traffic_secret, "iv", &[], 12)?;
        Self::aead(
            suite.aead,
            &key,
            &iv,
            NonceStyle::XorSequence,
            AadStyle::RecordHeader,
        )
    }

    /// TLS 1.2 write key of the client (`client == true`) or server, from the master secret:
    /// key_block = PRF(master_secret, "key expansion", server_random + client_random), cut into
    /// client/server MAC keys (none for AEAD), client/server write keys, client/server IVs
    /// (RFC 5246 §6.3; IV length 4 for AES-GCM per RFC 5288, 12 for ChaCha20 per RFC 7905).
    pub fn tls12(
        suite: SuiteParams,
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        client: bool,
    ) -> Result<Self, TlsError> {
        let (iv_len, nonce_style) = match suite.aead {
            SuiteAead::ChaCha20Poly1305 => (12, NonceStyle::XorSequence),
            SuiteAead::Aes128Gcm | SuiteAead::Aes256Gcm => (4, NonceStyle::GcmExplicit),
        };
        let key_len = suite.aead.key_len();
        let block = tls12_key_block(
            suite.hash,
            master_secret,
            client_random,
            server_random,
            2 * key_len + 2 * iv_len,
        );
        let (keys, ivs) = block.split_at(2 * key_len);
        let (client_key, server_key) = keys.split_at(key_len);
        let (client_iv, server_iv) = ivs.split_at(iv_len);
        let (key, iv) = if client {
            (client_key, client_iv)
        } else {
            (server_key, server_iv)
        };
        Self::aead(suite.aead, key, iv, nonce_style, AadStyle::Tls12)
    }

    /// TLS 1.2 AES-CBC write keys (MAC key and cipher key) of the client or server, from the
    /// master secret (RFC 5246 §6.3); `encrypt_then_mac` when both hellos agreed on it (RFC 7366).
    pub fn tls12_cbc(
        suite: CbcSuiteParams,
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        client: bool,
        encrypt_then_mac: bool,
    ) -> Result<Self, TlsError> {
        CbcKey::tls12(
            suite,
            master_secret,
            client_random,
            server_random,
            client,
            encrypt_then_mac,
        )
        .map(|k| RecordKey {
            kind: KeyKind::Cbc(k),
        })
    }

    /// Decrypts and authenticates one record body (everything after the 5-byte header) sent with
    /// sequence number `seq`. Returns the plaintext; for TLS 1.3 still with its inner content type
    /// and padding (see [`split_inner_plaintext`]).
    pub fn open(
        &self,
        seq: u64,
        header: &RecordHeader,
        body: &[u8],
        epoch: &str,
    ) -> Result<Vec<u8>, TlsError> {
        let mut out = Vec::new();
        self.open_into(seq, header, body, &mut out)
            .map_err(|e| e.with_epoch(epoch))?;
        Ok(out)
    }

    /// As [`RecordKey::open`], but the plaintext replaces the contents of `out`, so one buffer
    /// serves every record of a large capture. A failed authentication names no epoch (the
    /// caller knows it; see [`TlsError::with_epoch`]).
    pub fn open_into(
        &self,
        seq: u64,
        header: &RecordHeader,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        match &self.kind {
            KeyKind::Aead(k) => k.open_into(seq, header, body, out),
            KeyKind::Cbc(k) => k.open_into(seq, header, body, out),
        }
    }
}

impl AeadKey {
    fn open_into(
        &self,
        seq: u64,
        header: &RecordHeader,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        let explicit_len = match self.nonce_style {
            NonceStyle::GcmExplicit => GCM_EXPLICIT_NONCE_LEN,
            NonceStyle::XorSequence => 0,
        };
        let minimum = explicit_len + TAG_LEN;
        if body.len() < minimum {
            return Err(TlsError::CiphertextTooShort {
                length: body.len(),
                minimum,
            });
        }
        let (explicit, sealed) = body.split_at(explicit_len);

        let mut nonce = self.iv;
        match self.nonce_style {
            NonceStyle::XorSequence => {
                for (n, s) in nonce.iter_mut().skip(4).zip(seq.to_be_bytes()) {
                    *n ^= s;
                }
            }
            NonceStyle::GcmExplicit => {
                for (n, e) in nonce.iter_mut().skip(4).zip(explicit) {
                    *n = *e;
                }
            }
        }

        let mut aad = Vec::with_capacity(13);
        match self.aad_style {
            AadStyle::RecordHeader => aad.extend_from_slice(&header.to_bytes()),
            AadStyle::Tls12 => {
                let plain_len = sealed.len() - TAG_LEN; // sealed.len() >= TAG_LEN checked above
                aad.extend_from_slice(&seq.to_be_bytes());
                aad.push(header.content_type.number());
                aad.extend_from_slice(&header.version.to_be_bytes());
                aad.extend_from_slice(&u16::try_from(plain_len).unwrap_or(u16::MAX).to_be_bytes());
            }
        }

        out.clear();
        out.extend_from_slice(sealed);
        let plain_len = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad.as_slice()),
                out,
            )
            .map_err(|_| TlsError::AuthenticationFailed {
                epoch: String::new(),
                seq,
            })?
            .len();
        out.truncate(plain_len);
        Ok(())
    }
}

/// Splits a TLS 1.3 TLSInnerPlaintext = content || ContentType (1) || zeros (RFC 8446 §5.4):
/// the real content type is the last non-zero byte.
pub fn split_inner_plaintext(mut inner: Vec<u8>) -> Result<(ContentType, Vec<u8>), TlsError> {
    let (content_type, len) = inner_content(&inner)?;
    inner.truncate(len);
    Ok((content_type, inner))
}

/// The inner content type of a TLS 1.3 TLSInnerPlaintext and the length of the content before
/// it (RFC 8446 §5.4), without copying.
pub fn inner_content(inner: &[u8]) -> Result<(ContentType, usize), TlsError> {
    let last_nonzero = inner
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(TlsError::NoInnerContentType)?;
    let content_type = inner
        .get(last_nonzero)
        .copied()
        .map(ContentType::from_u8)
        .ok_or(TlsError::NoInnerContentType)?;
    Ok((content_type, last_nonzero))
}

/// Traffic secret N+1 from N after a KeyUpdate: HKDF-Expand-Label(secret_N, "traffic upd", "",
/// Hash.length) (RFC 8446 §7.2).
pub fn next_traffic_secret(suite: SuiteParams, secret: &[u8]) -> Result<Vec<u8>, TlsError> {
    hkdf_expand_label(
        suite.hash,
        secret,
        "traffic upd",
        &[],
        suite.hash.output_len(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::crypto::{suite_params, tests::hex, tls12_prf};
    use super::*;

    /// RFC 8448 §3: client application traffic secret of the simple 1-RTT handshake.
    const CLIENT_AP_SECRET: &str = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52
                                    87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";
    /// RFC 8448 §3 "{client} send application_data record", complete record (72 octets):
    /// 17 = application_data, 03 03 = legacy version, 00 43 = 67-byte body (50 + 1 + 16).
    const CLIENT_AP_RECORD: &str = "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55
        cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97
        4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";

    #[test]
    fn decrypts_rfc8448_client_application_record() {
        let suite = suite_params(0x1301).unwrap();
        let key = RecordKey::tls13(suite, &hex(CLIENT_AP_SECRET)).unwrap();
        let record = hex(CLIENT_AP_RECORD);
        let header = RecordHeader::parse(&record).unwrap();
        let inner = key
            .open(0, &header, &record[5..], "client application")
            .unwrap();
        let (ct, data) = split_inner_plaintext(inner).unwrap();
        assert_eq!(ct, ContentType::ApplicationData);
        assert_eq!(data, (0u8..=0x31).collect::<Vec<u8>>()); // payload 00 01 .. 31

        // The same record at the wrong sequence number, or with a flipped bit, must fail.
        assert!(matches!(
            key.open(1, &header, &record[5..], "client application"),
            Err(TlsError::AuthenticationFailed { seq: 1, .. })
        ));
        let mut damaged = record.clone();
        damaged[20] ^= 1;
        assert!(key.open(0, &header, &damaged[5..], "x").is_err());
        // A body shorter than the tag is reported, not a panic.
        assert!(matches!(
            key.open(0, &header, &record[5..10], "x"),
            Err(TlsError::CiphertextTooShort { length: 5, .. })
        ));
    }

    #[test]
    fn tls12_gcm_round_trip_with_explicit_nonce() {
        // Seal a record the way RFC 5288 describes, with the key the key block gives, and open it.
        let suite = suite_params(0xc02f).unwrap();
        let (master, cr, sr) = ([7u8; 48], [1u8; 32], [2u8; 32]);
        let block = tls12_prf(
            suite.hash,
            &master,
            b"key expansion",
            &[sr, cr].concat(),
            40,
        );
        let (client_key, client_salt) = (&block[0..16], &block[32..36]);
        let explicit = [0, 0, 0, 0, 0, 0, 0, 9u8];
        let nonce: [u8; 12] = [client_salt, &explicit[..]].concat().try_into().unwrap();
        // AAD: seq 0 (8 bytes) || type 23 || version 03 03 || plaintext length 00 03
        let aad = [0, 0, 0, 0, 0, 0, 0, 0, 23, 3, 3, 0, 3];
        let sealing =
            aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, client_key).unwrap());
        let mut ct = b"hi\n".to_vec();
        sealing
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                &mut ct,
            )
            .unwrap();
        let body = [&explicit[..], &ct].concat();
        let header = RecordHeader {
            content_type: ContentType::ApplicationData,
            version: 0x0303,
            length: body.len() as u16,
        };
        let key = RecordKey::tls12(suite, &master, &cr, &sr, true).unwrap();
        assert_eq!(key.open(0, &header, &body, "client").unwrap(), b"hi\n");
        assert!(key.open(1, &header, &body, "client").is_err()); // seq is in the AAD
        let server_key = RecordKey::tls12(suite, &master, &cr, &sr, false).unwrap();
        assert!(server_key.open(0, &header, &body, "server").is_err());
    }

    #[test]
    fn inner_plaintext_padding() {
        // "hi" || content type 23 || three bytes of zero padding
        let (ct, data) = split_inner_plaintext(vec![b'h', b'i', 23, 0, 0, 0]).unwrap();
        assert_eq!(
            (ct, data.as_slice()),
            (ContentType::ApplicationData, &b"hi"[..])
        );
        assert_eq!(
            split_inner_plaintext(vec![0, 0]),
            Err(TlsError::NoInnerContentType)
        );
        assert_eq!(
            split_inner_plaintext(vec![]),
            Err(TlsError::NoInnerContentType)
        );
    }

    #[test]
    fn key_update_changes_secret() {
        let suite = suite_params(0x1301).unwrap();
        let s0 = hex(CLIENT_AP_SECRET);
        let s1 = next_traffic_secret(suite, &s0).unwrap();
        assert_eq!(s1.len(), 32);
        assert_ne!(s0, s1);
        assert_eq!(
            s1,
            hkdf_expand_label(suite.hash, &s0, "traffic upd", &[], 32).unwrap()
        );
    }
}
