//! Cipher suites and key derivation: which AEAD and hash a suite uses, TLS 1.3's
//! HKDF-Expand-Label (RFC 8446 §7.1) and the TLS 1.2 PRF (RFC 5246 §5). Built on `ring`.

use ring::{aead, hkdf, hmac};

use super::error::TlsError;

/// The hash a cipher suite uses for key derivation (and, in TLS 1.2, for its PRF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteHash {
    /// SHA-256, 32-byte output.
    Sha256,
    /// SHA-384, 48-byte output.
    Sha384,
}

impl SuiteHash {
    /// Output length in bytes (`Hash.length` in RFC 8446).
    pub fn output_len(self) -> usize {
        match self {
            SuiteHash::Sha256 => 32,
            SuiteHash::Sha384 => 48,
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            SuiteHash::Sha256 => hkdf::HKDF_SHA256,
            SuiteHash::Sha384 => hkdf::HKDF_SHA384,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            SuiteHash::Sha256 => hmac::HMAC_SHA256,
            SuiteHash::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// The authenticated encryption a cipher suite uses for records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteAead {
    /// AES with a 128-bit key in Galois/Counter Mode (RFC 5116, RFC 5288).
    Aes128Gcm,
    /// AES with a 256-bit key in Galois/Counter Mode.
    Aes256Gcm,
    /// ChaCha20 stream cipher with the Poly1305 authenticator (RFC 8439, RFC 7905).
    ChaCha20Poly1305,
}

impl SuiteAead {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SuiteAead::Aes128Gcm => 16,
            SuiteAead::Aes256Gcm | SuiteAead::ChaCha20Poly1305 => 32,
        }
    }

    /// The `ring` algorithm.
    pub(crate) fn ring(self) -> &'static aead::Algorithm {
        match self {
            SuiteAead::Aes128Gcm => &aead::AES_128_GCM,
            SuiteAead::Aes256Gcm => &aead::AES_256_GCM,
            SuiteAead::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// Everything needed to decrypt records of one cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteParams {
    /// IANA number, e.g. 0x1301.
    pub id: u16,
    /// Record protection.
    pub aead: SuiteAead,
    /// Hash for HKDF (TLS 1.3) or the PRF (TLS 1.2).
    pub hash: SuiteHash,
    /// TLS 1.3 suites (0x13xx) name only AEAD and hash; TLS 1.2 suites also a key exchange.
    pub tls13: bool,
}

/// The parameters of the AEAD suites this tool can decrypt, or `None`.
///
/// TLS 1.3: RFC 8446 §B.4. TLS 1.2: AES-GCM from RFC 5288/5289, ChaCha20-Poly1305 from RFC 7905.
pub fn suite_params(id: u16) -> Option<SuiteParams> {
    use SuiteAead::*;
    use SuiteHash::*;
    let (aead, hash, tls13) = match id {
        0x1301 => (Aes128Gcm, Sha256, true), // TLS_AES_128_GCM_SHA256
        0x1302 => (Aes256Gcm, Sha384, true), // TLS_AES_256_GCM_SHA384
        0x1303 => (ChaCha20Poly1305, Sha256, true), // TLS_CHACHA20_POLY1305_SHA256
        // TLS_{RSA,DHE_RSA,ECDHE_ECDSA,ECDHE_RSA}_WITH_AES_128_GCM_SHA256
        0x009c | 0x009e | 0xc02b | 0xc02f => (Aes128Gcm, Sha256, false),
        // ... _WITH_AES_256_GCM_SHA384
        0x009d | 0x009f | 0xc02c | 0xc030 => (Aes256Gcm, Sha384, false),
        // TLS_{ECDHE_RSA,ECDHE_ECDSA,DHE_RSA}_WITH_CHACHA20_POLY1305_SHA256
        0xcca8..=0xccaa => (ChaCha20Poly1305, Sha256, false),
        _ => return None,
    };
    Some(SuiteParams {
        id,
        aead,
        hash,
        tls13,
    })
}

/// The MAC of a CBC cipher suite: HMAC with this hash (RFC 5246 §6.2.3.1, RFC 2104).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteMac {
    /// HMAC-SHA1, 20 bytes (the suites whose names end in `_SHA`).
    Sha1,
    /// HMAC-SHA256, 32 bytes.
    Sha256,
    /// HMAC-SHA384, 48 bytes.
    Sha384,
}

impl SuiteMac {
    /// Length of the MAC in each record, in bytes.
    pub fn output_len(self) -> usize {
        match self {
            SuiteMac::Sha1 => 20,
            SuiteMac::Sha256 => 32,
            SuiteMac::Sha384 => 48,
        }
    }

    /// "HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA384".
    pub fn name(self) -> &'static str {
        match self {
            SuiteMac::Sha1 => "HMAC-SHA1",
            SuiteMac::Sha256 => "HMAC-SHA256",
            SuiteMac::Sha384 => "HMAC-SHA384",
        }
    }

    /// The `ring` algorithm (SHA-1 only ever verifies records someone else protected).
    pub(crate) fn ring(self) -> hmac::Algorithm {
        match self {
            SuiteMac::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            SuiteMac::Sha256 => hmac::HMAC_SHA256,
            SuiteMac::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// The block cipher of a CBC cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CbcCipher {
    /// AES with a 128-bit key (FIPS 197) in CBC mode.
    Aes128,
    /// AES with a 256-bit key in CBC mode.
    Aes256,
}

impl CbcCipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            CbcCipher::Aes128 => 16,
            CbcCipher::Aes256 => 32,
        }
    }

    /// The block (and IV) length in bytes: 16 for AES.
    pub fn block_len(self) -> usize {
        16
    }
}

/// Everything needed to decrypt records of one CBC cipher suite (TLS 1.0-1.2, RFC 5246 §6.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CbcSuiteParams {
    /// IANA number, e.g. 0xc013.
    pub id: u16,
    /// The block cipher.
    pub cipher: CbcCipher,
    /// The record MAC.
    pub mac: SuiteMac,
    /// The hash of the TLS 1.2 PRF: SHA-384 for the `_SHA384` suites, else SHA-256 (RFC 5246 §5).
    pub prf: SuiteHash,
}

/// The parameters of the AES-CBC suites this tool can decrypt, or `None` (RFC 5246 Appendix
/// A.5, RFC 4492/8422, RFC 5289, RFC 4279/5487 for PSK).
pub fn cbc_suite_params(id: u16) -> Option<CbcSuiteParams> {
    use CbcCipher::*;
    use SuiteMac::*;
    let (cipher, mac) = match id {
        // TLS_{RSA,DH_DSS,DH_RSA,DHE_DSS,DHE_RSA,DH_anon}_WITH_AES_128_CBC_SHA, PSK, ECDHE_ECDSA,
        // ECDHE_RSA, ECDH_anon, ECDHE_PSK
        0x002f..=0x0034 | 0x008c | 0xc004 | 0xc009 | 0xc00e | 0xc013 | 0xc018 | 0xc035 => {
            (Aes128, Sha1)
        }
        // ... _WITH_AES_256_CBC_SHA
        0x0035..=0x003a | 0x008d | 0xc005 | 0xc00a | 0xc00f | 0xc014 | 0xc019 | 0xc036 => {
            (Aes256, Sha1)
        }
        // TLS_{RSA,DH_DSS,DH_RSA,DHE_DSS,DHE_RSA,DH_anon}_WITH_AES_128_CBC_SHA256, PSK, ECDHE ...
        0x003c | 0x003e | 0x003f | 0x0040 | 0x0067 | 0x006c | 0x00ae | 0xc023 | 0xc025 | 0xc027
        | 0xc029 | 0xc037 => (Aes128, Sha256),
        // TLS_{RSA,DH_DSS,DH_RSA,DHE_DSS,DHE_RSA,DH_anon}_WITH_AES_256_CBC_SHA256
        0x003d | 0x0068 | 0x0069 | 0x006a | 0x006b | 0x006d => (Aes256, Sha256),
        // ..._WITH_AES_256_CBC_SHA384 (PSK, ECDHE_ECDSA, ECDH_ECDSA, ECDHE_RSA, ECDH_RSA, ECDHE_PSK)
        0x00af | 0xc024 | 0xc026 | 0xc028 | 0xc02a | 0xc038 => (Aes256, Sha384),
        _ => return None,
    };
    let prf = if mac == Sha384 {
        SuiteHash::Sha384
    } else {
        SuiteHash::Sha256
    };
    Some(CbcSuiteParams {
        id,
        cipher,
        mac,
        prf,
    })
}

/// How a negotiated cipher suite protects records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteProtection {
    /// Authenticated encryption: AES-GCM or ChaCha20-Poly1305.
    Aead(SuiteParams),
    /// A block cipher in CBC mode with an HMAC (TLS 1.0-1.2 only).
    Cbc(CbcSuiteParams),
}

/// The record protection of a suite this tool can decrypt, or an error that names the suite.
pub(crate) fn require_protection(id: u16) -> Result<SuiteProtection, TlsError> {
    if let Some(aead) = suite_params(id) {
        return Ok(SuiteProtection::Aead(aead));
    }
    cbc_suite_params(id)
        .map(SuiteProtection::Cbc)
        .ok_or(TlsError::UnsupportedSuite {
            suite: id,
            name: cipher_suite_name(id).unwrap_or("unknown"),
        })
}

/// The IANA name of a cipher suite ("TLS_AES_128_GCM_SHA256"), from tls-parser's table.
pub fn cipher_suite_name(id: u16) -> Option<&'static str> {
    tls_parser::TlsCipherSuite::from_id(id).map(|suite| suite.name)
}

/// The suite parameters, or an error that names the suite.
pub(crate) fn require_suite(id: u16) -> Result<SuiteParams, TlsError> {
    suite_params(id).ok_or(TlsError::UnsupportedSuite {
        suite: id,
        name: cipher_suite_name(id).unwrap_or("unknown"),
    })
}

/// An output length for `ring::hkdf`, which asks for the length as a type.
struct OutputLen(usize);

impl hkdf::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(Secret, Label, Context, Length) of RFC 8446 §7.1:
/// HKDF-Expand(Secret, HkdfLabel, Length) where HkdfLabel = length (2 bytes) ||
/// "tls13 " + Label (1-byte length prefix) || Context (1-byte length prefix).
pub fn hkdf_expand_label(
    hash: SuiteHash,
    secret: &[u8],
    label: &str,
    context: &[u8],
    length: usize,
) -> Result<Vec<u8>, TlsError> {
    let full_label_len = 6 + label.len();
    let (Ok(out_len), Ok(label_len), Ok(context_len)) = (
        u16::try_from(length),
        u8::try_from(full_label_len),
        u8::try_from(context.len()),
    ) else {
        return Err(TlsError::KeyDerivation(format!(
            "HKDF-Expand-Label arguments too long (length {length}, label {full_label_len}, context {})",
            context.len()
        )));
    };
    let mut info = Vec::with_capacity(4 + full_label_len + context.len());
    info.extend_from_slice(&out_len.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(context_len);
    info.extend_from_slice(context);

    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), secret);
    let info_parts = [info.as_slice()];
    let mut out = vec![0u8; length];
    prk.expand(&info_parts, OutputLen(length))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| {
            TlsError::KeyDerivation(format!(
                "HKDF-Expand cannot produce {length} bytes with a {}-byte hash (at most 255 blocks)",
                hash.output_len()
            ))
        })?;
    Ok(out)
}

/// The TLS 1.2 pseudo-random function PRF(secret, label, seed) = P_hash(secret, label + seed)
/// (RFC 5246 §5), where P_hash concatenates HMAC(secret, A(i) + label + seed) with
/// A(0) = label + seed and A(i) = HMAC(secret, A(i-1)).
pub fn tls12_prf(
    hash: SuiteHash,
    secret: &[u8],
    label: &[u8],
    seed: &[u8],
    length: usize,
) -> Vec<u8> {
    let key = hmac::Key::new(hash.hmac(), secret);
    let mut label_seed = Vec::with_capacity(label.len() + seed.len());
    label_seed.extend_from_slice(label);
    label_seed.extend_from_slice(seed);

    let mut out = Vec::with_capacity(length + hash.output_len());
    let mut a = hmac::sign(&key, &label_seed); // A(1)
    while out.len() < length {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(length);
    out
}

/// The TLS 1.2 key block (RFC 5246 §6.3): PRF(master_secret, "key expansion", server_random +
/// client_random), `length` bytes, which the suite cuts into MAC keys, cipher keys and IVs.
pub fn tls12_key_block(
    hash: SuiteHash,
    master_secret: &[u8],
    client_random: &[u8],
    server_random: &[u8],
    length: usize,
) -> Vec<u8> {
    let mut seed = Vec::with_capacity(server_random.len() + client_random.len());
    seed.extend_from_slice(server_random);
    seed.extend_from_slice(client_random);
    tls12_prf(hash, master_secret, b"key expansion", &seed, length)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Decodes hex with any whitespace in between.
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    #[test]
    fn expand_label_matches_rfc8448_server_handshake_keys() {
        // RFC 8448 §3 "{server} derive write traffic keys for handshake data".
        let secret = hex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4
             e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38");
        let key = hkdf_expand_label(SuiteHash::Sha256, &secret, "key", &[], 16).unwrap();
        assert_eq!(key, hex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"));
        let iv = hkdf_expand_label(SuiteHash::Sha256, &secret, "iv", &[], 12).unwrap();
        assert_eq!(iv, hex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    #[test]
    fn expand_label_rejects_impossible_lengths() {
        assert!(hkdf_expand_label(SuiteHash::Sha256, &[0; 32], "key", &[], 255 * 32 + 1).is_err());
        assert!(hkdf_expand_label(SuiteHash::Sha256, &[0; 32], &"x".repeat(250), &[], 16).is_err());
    }

    #[test]
    fn prf_sha256_matches_published_vector() {
        // The TLS 1.2 PRF-SHA256 test vector posted to the IETF TLS list (msg03416).
        let out = tls12_prf(
            SuiteHash::Sha256,
            &hex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
            b"test label",
            &hex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c"),
            100,
        );
        let expected = hex(
            "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4
             e6 1e db 5a 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17
             ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1
             22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66",
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn suite_table() {
        let p = suite_params(0x1302).unwrap();
        assert_eq!(
            (p.aead, p.hash, p.tls13),
            (SuiteAead::Aes256Gcm, SuiteHash::Sha384, true)
        );
        assert_eq!(suite_params(0xc02b).unwrap().aead.key_len(), 16);
        assert!(suite_params(0x002f).is_none()); // AES-CBC: not an AEAD suite
        assert_eq!(cipher_suite_name(0x1301), Some("TLS_AES_128_GCM_SHA256"));
        let err = require_suite(0x002f).unwrap_err().to_string();
        assert!(err.contains("0x002f"), "{err}");
        // Every CBC suite in the table is named "..._AES_<bits>_CBC_<mac>" by IANA.
        for id in 0..=u16::MAX {
            if let Some(p) = cbc_suite_params(id) {
                let name = cipher_suite_name(id).unwrap_or("unknown");
                let bits = p.cipher.key_len() * 8;
                let mac = p.mac.name().trim_start_matches("HMAC-");
                let mac = if mac == "SHA1" { "SHA" } else { mac };
                assert!(
                    name.ends_with(&format!("_AES_{bits}_CBC_{mac}")),
                    "0x{id:04x} {name} vs {p:?}"
                );
                assert_eq!(require_protection(id), Ok(SuiteProtection::Cbc(p)));
            }
        }
        let c013 = cbc_suite_params(0xc013).unwrap();
        assert_eq!((c013.mac, c013.prf), (SuiteMac::Sha1, SuiteHash::Sha256));
        let c028 = cbc_suite_params(0xc028).unwrap();
        assert_eq!(
            (c028.cipher, c028.prf),
            (CbcCipher::Aes256, SuiteHash::Sha384)
        );
        let err = require_protection(0x000a).unwrap_err().to_string(); // 3DES
        assert!(err.contains("0x000a"), "{err}");
    }
}
