//! Removing TLS 1.1-1.2 CBC record protection (RFC 5246 §6.2.3.2): a block cipher in CBC mode
//! with an HMAC, the MAC either inside the encrypted data (MAC-then-encrypt, the original order)
//! or after the ciphertext (encrypt-then-MAC, RFC 7366, when both hellos carry its extension).
//!
//! ```text
//! MAC-then-encrypt  body = IV (16) || E_k( content || MAC || padding || padding_length )
//! encrypt-then-MAC  body = IV (16) || E_k( content || padding || padding_length ) || MAC
//! MAC = HMAC(mac_key, seq_num (8) || type (1) || version (2) || length (2) || data)
//!   where data is the content (MAC-then-encrypt) or IV || ciphertext (encrypt-then-MAC)
//! ```
//! Each padding byte, and padding_length itself, holds padding_length. AES comes from the
//! RustCrypto `aes` and `cbc` crates, HMAC from `ring`; the padding and MAC checks are written
//! here, so that a failure says which check failed and with which bytes. (A passive reader of a
//! capture answers no one, so there is no padding oracle to hide: the checks need not be
//! constant-time.)

use aes::{Aes128, Aes256};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, InnerIvInit, KeyInit};
use ring::hmac;

use super::crypto::{tls12_key_block, CbcCipher, CbcSuiteParams, SuiteMac};
use super::error::TlsError;
use super::record::RecordHeader;

/// The AES block and IV length.
pub const CBC_BLOCK_LEN: usize = 16;

/// The expanded AES key (boxed: the round keys take hundreds of bytes).
#[derive(Clone)]
enum BlockKey {
    Aes128(Box<Aes128>),
    Aes256(Box<Aes256>),
}

/// The write keys of one direction of a CBC suite: cipher key and MAC key.
pub(super) struct CbcKey {
    block: BlockKey,
    mac: SuiteMac,
    mac_key: hmac::Key,
    encrypt_then_mac: bool,
}

impl std::fmt::Debug for CbcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("CbcKey")
            .field("mac", &self.mac)
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .finish_non_exhaustive()
    }
}

impl CbcKey {
    /// A direction's keys from its MAC key and cipher key.
    pub(super) fn new(
        suite: CbcSuiteParams,
        mac_key: &[u8],
        key: &[u8],
        encrypt_then_mac: bool,
    ) -> Result<Self, TlsError> {
        let wrong = || {
            TlsError::KeyDerivation(format!(
                "a {}-byte key does not fit {:?}",
                key.len(),
                suite.cipher
            ))
        };
        let block = match suite.cipher {
            CbcCipher::Aes128 => {
                BlockKey::Aes128(Box::new(Aes128::new_from_slice(key).map_err(|_| wrong())?))
            }
            CbcCipher::Aes256 => {
                BlockKey::Aes256(Box::new(Aes256::new_from_slice(key).map_err(|_| wrong())?))
            }
        };
        Ok(CbcKey {
            block,
            mac: suite.mac,
            mac_key: hmac::Key::new(suite.mac.ring(), mac_key),
            encrypt_then_mac,
        })
    }

    /// TLS 1.2 keys of the client (`client == true`) or server from the master secret:
    /// key_block = PRF(master_secret, "key expansion", server_random + client_random) cut into
    /// client and server MAC keys, then client and server cipher keys (RFC 5246 §6.3; CBC has no
    /// fixed IV in TLS 1.1 and later).
    pub(super) fn tls12(
        suite: CbcSuiteParams,
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        client: bool,
        encrypt_then_mac: bool,
    ) -> Result<Self, TlsError> {
        let (mac_len, key_len) = (suite.mac.output_len(), suite.cipher.key_len());
        let block = tls12_key_block(
            suite.prf,
            master_secret,
            client_random,
            server_random,
            2 * mac_len + 2 * key_len,
        );
        let (macs, keys) = block.split_at(2 * mac_len);
        let (client_mac, server_mac) = macs.split_at(mac_len);
        let (client_key, server_key) = keys.split_at(key_len);
        let (mac_key, key) = if client {
            (client_mac, client_key)
        } else {
            (server_mac, server_key)
        };
        Self::new(suite, mac_key, key, encrypt_then_mac)
    }

    fn placement(&self) -> &'static str {
        if self.encrypt_then_mac {
            "after the ciphertext: encrypt-then-MAC, RFC 7366"
        } else {
            "inside the encrypted data: MAC-then-encrypt, RFC 5246 §6.2.3.2"
        }
    }

    /// HMAC(seq_num || type || version || length || data) compared with `sent`.
    fn check_mac(
        &self,
        seq: u64,
        header: &RecordHeader,
        data: &[u8],
        sent: &[u8],
    ) -> Result<(), TlsError> {
        let mut ctx = hmac::Context::with_key(&self.mac_key);
        ctx.update(&seq.to_be_bytes());
        ctx.update(&[header.content_type.number()]);
        ctx.update(&header.version.to_be_bytes());
        ctx.update(&u16::try_from(data.len()).unwrap_or(u16::MAX).to_be_bytes());
        ctx.update(data);
        if ctx.sign().as_ref() == sent {
            Ok(())
        } else {
            Err(TlsError::MacFailed {
                epoch: String::new(),
                seq,
                mac: self.mac.name(),
                placement: self.placement(),
            })
        }
    }

    /// Decrypts `ciphertext` (whole blocks) chained from `iv` into `out`.
    fn decrypt(&self, iv: &[u8], ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError> {
        out.clear();
        out.extend_from_slice(ciphertext);
        let whole = match &self.block {
            BlockKey::Aes128(k) => cbc::Decryptor::inner_iv_slice_init(Aes128::clone(k), iv)
                .map(|d| d.decrypt_padded_mut::<NoPadding>(out).is_ok()),
            BlockKey::Aes256(k) => cbc::Decryptor::inner_iv_slice_init(Aes256::clone(k), iv)
                .map(|d| d.decrypt_padded_mut::<NoPadding>(out).is_ok()),
        };
        match whole {
            Ok(true) => Ok(()),
            _ => Err(TlsError::CbcLength {
                length: ciphertext.len(),
                layout: format!("decrypted in whole {CBC_BLOCK_LEN}-byte blocks"),
            }),
        }
    }

    fn layout(&self) -> String {
        let (mac_len, mac) = (self.mac.output_len(), self.mac.name());
        if self.encrypt_then_mac {
            format!(
                "a {CBC_BLOCK_LEN}-byte IV, at least one {CBC_BLOCK_LEN}-byte block of ciphertext \
                 and a {mac_len}-byte {mac} MAC (encrypt-then-MAC, RFC 7366)"
            )
        } else {
            format!(
                "a {CBC_BLOCK_LEN}-byte IV then whole {CBC_BLOCK_LEN}-byte blocks holding the \
                 content, a {mac_len}-byte {mac} MAC and at least the padding_length byte \
                 (MAC-then-encrypt, RFC 5246 §6.2.3.2)"
            )
        }
    }

    /// Decrypts and checks one record body (everything after the 5-byte header) sent with
    /// sequence number `seq`; the content replaces what `out` held.
    pub(super) fn open_into(
        &self,
        seq: u64,
        header: &RecordHeader,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        let mac_len = self.mac.output_len();
        let bad_length = || TlsError::CbcLength {
            length: body.len(),
            layout: self.layout(),
        };
        if self.encrypt_then_mac {
            let enc_len = body.len().checked_sub(mac_len).ok_or_else(bad_length)?;
            if enc_len < 2 * CBC_BLOCK_LEN || enc_len % CBC_BLOCK_LEN != 0 {
                return Err(bad_length());
            }
            let (enc, sent_mac) = body.split_at(enc_len);
            self.check_mac(seq, header, enc, sent_mac)?;
            let (iv, ciphertext) = enc.split_at(CBC_BLOCK_LEN);
            self.decrypt(iv, ciphertext, out)?;
            let content_len = out
                .len()
                .checked_sub(padding_len(out)?)
                .ok_or_else(bad_length)?;
            out.truncate(content_len);
            Ok(())
        } else {
            // At least the IV and enough blocks for the MAC and the padding_length byte.
            let least = CBC_BLOCK_LEN + (mac_len + 1).div_ceil(CBC_BLOCK_LEN) * CBC_BLOCK_LEN;
            if body.len() < least || body.len() % CBC_BLOCK_LEN != 0 {
                return Err(bad_length());
            }
            let (iv, ciphertext) = body.split_at(CBC_BLOCK_LEN);
            self.decrypt(iv, ciphertext, out)?;
            let padding = padding_len(out)?;
            let content_len =
                out.len()
                    .checked_sub(padding + mac_len)
                    .ok_or_else(|| TlsError::BadPadding {
                        epoch: String::new(),
                        detail: format!(
                        "padding_length {} leaves no room for the {mac_len}-byte {} MAC in the {} \
                         decrypted bytes",
                        padding - 1,
                        self.mac.name(),
                        out.len()
                    ),
                    })?;
            let (content, rest) = out.split_at(content_len);
            let sent_mac = rest.get(..mac_len).unwrap_or_default();
            self.check_mac(seq, header, content, sent_mac)?;
            out.truncate(content_len);
            Ok(())
        }
    }
}

/// The number of padding bytes at the end of a decrypted CBC record, padding_length included
/// (padding_length + 1), once each of them is checked to hold padding_length.
fn padding_len(plain: &[u8]) -> Result<usize, TlsError> {
    let bad = |detail: String| TlsError::BadPadding {
        epoch: String::new(),
        detail,
    };
    let Some(&last) = plain.last() else {
        return Err(bad("nothing was decrypted".to_string()));
    };
    let total = usize::from(last) + 1;
    let Some(start) = plain.len().checked_sub(total) else {
        return Err(bad(format!(
            "the last byte says padding_length {last}, so {total} bytes of padding, more than the \
             {} bytes decrypted",
            plain.len()
        )));
    };
    let padding = plain.get(start..).unwrap_or_default();
    if let Some((i, b)) = padding.iter().enumerate().find(|(_, b)| **b != last) {
        return Err(bad(format!(
            "the last byte says padding_length {last}, but padding byte {} of {total} (counted \
             from the first) is {b} (0x{b:02x})",
            i + 1
        )));
    }
    Ok(total)
}

#[cfg(test)]
pub(crate) mod tests {
    use cbc::cipher::BlockEncryptMut;
    use cbc::cipher::KeyIvInit;

    use super::super::crypto::cbc_suite_params;
    use super::super::record::ContentType;
    use super::*;

    fn header(content_type: ContentType, len: usize) -> RecordHeader {
        RecordHeader {
            content_type,
            version: 0x0303,
            length: len as u16,
        }
    }

    fn mac(suite: CbcSuiteParams, mac_key: &[u8], seq: u64, ct: u8, data: &[u8]) -> Vec<u8> {
        let key = hmac::Key::new(suite.mac.ring(), mac_key);
        let mut m = seq.to_be_bytes().to_vec();
        m.extend_from_slice(&[ct, 3, 3]);
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
        hmac::sign(&key, &m).as_ref().to_vec()
    }

    fn encrypt(suite: CbcSuiteParams, key: &[u8], iv: &[u8; 16], plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        let n = buf.len();
        match suite.cipher {
            CbcCipher::Aes128 => cbc::Encryptor::<Aes128>::new_from_slices(key, iv)
                .unwrap()
                .encrypt_padded_mut::<NoPadding>(&mut buf, n)
                .unwrap()
                .to_vec(),
            CbcCipher::Aes256 => cbc::Encryptor::<Aes256>::new_from_slices(key, iv)
                .unwrap()
                .encrypt_padded_mut::<NoPadding>(&mut buf, n)
                .unwrap()
                .to_vec(),
        }
    }

    /// TLS padding: `pad` + 1 bytes of value `pad` after `data`.
    fn padded(data: &[u8], pad: u8) -> Vec<u8> {
        let mut v = data.to_vec();
        v.extend(std::iter::repeat_n(pad, usize::from(pad) + 1));
        v
    }

    /// A record body sealed as a TLS 1.2 CBC sender would: `pad` chosen so the total is whole
    /// blocks (plus `extra_blocks` more), for tests and seeds.
    pub(crate) fn seal(
        suite: CbcSuiteParams,
        mac_key: &[u8],
        key: &[u8],
        etm: bool,
        seq: u64,
        content_type: ContentType,
        content: &[u8],
    ) -> Vec<u8> {
        let iv = [0x5a; 16];
        let ct = content_type.number();
        let inner = if etm {
            content.to_vec()
        } else {
            [content, &mac(suite, mac_key, seq, ct, content)].concat()
        };
        let pad = (15 - inner.len() % 16) as u8;
        let enc = encrypt(suite, key, &iv, &padded(&inner, pad));
        let mut body = [&iv[..], &enc].concat();
        if etm {
            let m = mac(suite, mac_key, seq, ct, &body);
            body.extend_from_slice(&m);
        }
        body
    }

    #[test]
    fn opens_both_mac_orders_for_every_mac() {
        for id in [0xc013u16, 0x003d, 0xc028] {
            let suite = cbc_suite_params(id).unwrap();
            let (mac_key, key) = (vec![7u8; suite.mac.output_len()], vec![9u8; 32]);
            let key = &key[..suite.cipher.key_len()];
            for etm in [true, false] {
                let k = CbcKey::new(suite, &mac_key, key, etm).unwrap();
                for text in [&b""[..], b"hi\n", &[0x41; 47], &[0x42; 300]] {
                    let body = seal(
                        suite,
                        &mac_key,
                        key,
                        etm,
                        5,
                        ContentType::ApplicationData,
                        text,
                    );
                    let h = header(ContentType::ApplicationData, body.len());
                    let mut out = Vec::new();
                    k.open_into(5, &h, &body, &mut out).unwrap();
                    assert_eq!(out, text, "{id:04x} etm {etm}");
                    // The sequence number is in the MAC.
                    let e = k.open_into(6, &h, &body, &mut out).unwrap_err();
                    assert!(matches!(e, TlsError::MacFailed { seq: 6, .. }), "{e}");
                    // So is the content type.
                    let alert = header(ContentType::Alert, body.len());
                    assert!(k.open_into(5, &alert, &body, &mut out).is_err());
                }
            }
        }
    }

    #[test]
    fn bad_padding_and_bad_mac_are_explained() {
        let suite = cbc_suite_params(0xc013).unwrap();
        let (mac_key, key) = ([7u8; 20], [9u8; 16]);
        let iv = [0x11u8; 16];
        let content = b"twelve bytes";
        let m = mac(suite, &mac_key, 0, 23, content);
        let k = CbcKey::new(suite, &mac_key, &key, false).unwrap();
        let h = |len| header(ContentType::ApplicationData, len);
        let mut out = Vec::new();

        // MAC-then-encrypt, 12 + 20 = 32 bytes, then 16 bytes of padding (15 x 15): correct.
        let good = padded(&[&content[..], &m].concat(), 15);
        let body = [&iv[..], &encrypt(suite, &key, &iv, &good)].concat();
        k.open_into(0, &h(body.len()), &body, &mut out).unwrap();
        assert_eq!(out, content);

        // One padding byte wrong: named, with its value.
        let mut wrong = good.clone();
        wrong[40] = 3;
        let body = [&iv[..], &encrypt(suite, &key, &iv, &wrong)].concat();
        let e = k.open_into(0, &h(body.len()), &body, &mut out).unwrap_err();
        assert!(e.same_at_every_seq());
        let e = e.with_epoch("client TLS 1.2").to_string();
        assert!(
            e.contains("padding_length 15, but padding byte 9 of 16")
                && e.contains("is 3 (0x03)")
                && e.contains("client TLS 1.2")
                && e.contains("RFC 5246 §6.2.3.2"),
            "{e}"
        );

        // padding_length longer than the record.
        let mut long = good.clone();
        *long.last_mut().unwrap() = 200;
        let body = [&iv[..], &encrypt(suite, &key, &iv, &long)].concat();
        let e = k
            .open_into(0, &h(body.len()), &body, &mut out)
            .unwrap_err()
            .to_string();
        assert!(e.contains("201 bytes of padding, more than the 48"), "{e}");

        // Valid padding that leaves no room for the MAC.
        let all_padding = padded(&[1; 16], 31);
        let body = [&iv[..], &encrypt(suite, &key, &iv, &all_padding)].concat();
        let e = k
            .open_into(0, &h(body.len()), &body, &mut out)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no room for the 20-byte HMAC-SHA1 MAC"), "{e}");

        // A damaged MAC: the padding is fine, the MAC check fails and says where the MAC was.
        let mut bad_mac = good.clone();
        bad_mac[12] ^= 1;
        let body = [&iv[..], &encrypt(suite, &key, &iv, &bad_mac)].concat();
        let e = k.open_into(3, &h(body.len()), &body, &mut out).unwrap_err();
        assert!(!e.same_at_every_seq());
        let e = e.with_epoch("server TLS 1.2").to_string();
        assert!(
            e.contains("HMAC-SHA1 record MAC (inside the encrypted data: MAC-then-encrypt")
                && e.contains("server TLS 1.2 keys at record sequence number 3"),
            "{e}"
        );

        // Encrypt-then-MAC: a flipped ciphertext bit fails the MAC before anything is decrypted.
        let etm = CbcKey::new(suite, &mac_key, &key, true).unwrap();
        let mut body = seal(
            suite,
            &mac_key,
            &key,
            true,
            0,
            ContentType::ApplicationData,
            content,
        );
        body[20] ^= 1;
        let e = etm
            .open_into(0, &h(body.len()), &body, &mut out)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("after the ciphertext: encrypt-then-MAC, RFC 7366"),
            "{e}"
        );

        // Lengths that cannot hold an IV, blocks and a MAC: explained, no panic.
        for len in [0usize, 1, 15, 16, 31, 32, 47, 49, 63] {
            let body = vec![0u8; len];
            for key in [&k, &etm] {
                let e = key
                    .open_into(0, &h(len), &body, &mut out)
                    .expect_err("too short or not whole blocks");
                let text = e.to_string();
                assert!(
                    matches!(e, TlsError::CbcLength { .. } | TlsError::MacFailed { .. }),
                    "{len}: {text}"
                );
            }
        }
    }

    #[test]
    fn padding_rules() {
        assert_eq!(padding_len(&[9, 9, 0]).unwrap(), 1);
        assert_eq!(padding_len(&[9, 2, 2, 2]).unwrap(), 3);
        assert_eq!(padding_len(&[3, 3, 3, 3]).unwrap(), 4);
        assert!(padding_len(&[]).is_err());
        assert!(padding_len(&[2, 2]).is_err());
        assert_eq!(padding_len(&[7, 1, 1]).unwrap(), 2);
        assert!(padding_len(&[1, 2, 2]).is_err());
        assert!(padding_len(&[2, 1, 2]).is_err());
    }
}
