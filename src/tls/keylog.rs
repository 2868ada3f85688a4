//! TLS secrets indexed by client random, read from and written to the NSS key-log format that
//! SSLKEYLOGFILE, rustls' `KeyLog`, Wireshark and pcapng Decryption Secrets Blocks use:
//!
//! ```text
//! # comment
//! CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex digits: client random> <hex secret>
//! CLIENT_RANDOM <64 hex digits: client random> <96 hex digits: TLS 1.2 master secret>
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// NSS key-log labels (the first word of each line).
pub mod labels {
    /// TLS 1.2 and older: the 48-byte master secret.
    pub const CLIENT_RANDOM: &str = "CLIENT_RANDOM";
    /// TLS 1.3: protects 0-RTT early data from the client.
    pub const CLIENT_EARLY_TRAFFIC_SECRET: &str = "CLIENT_EARLY_TRAFFIC_SECRET";
    /// TLS 1.3: protects the client's handshake messages (its Finished).
    pub const CLIENT_HANDSHAKE_TRAFFIC_SECRET: &str = "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
    /// TLS 1.3: protects the server's EncryptedExtensions ... Finished.
    pub const SERVER_HANDSHAKE_TRAFFIC_SECRET: &str = "SERVER_HANDSHAKE_TRAFFIC_SECRET";
    /// TLS 1.3: the client's first application traffic secret.
    pub const CLIENT_TRAFFIC_SECRET_0: &str = "CLIENT_TRAFFIC_SECRET_0";
    /// TLS 1.3: the server's first application traffic secret.
    pub const SERVER_TRAFFIC_SECRET_0: &str = "SERVER_TRAFFIC_SECRET_0";
    /// TLS 1.3: the secret for keying-material exporters (not used for records).
    pub const EXPORTER_SECRET: &str = "EXPORTER_SECRET";
    /// TLS 1.3: the exporter secret of early data (not used for records).
    pub const EARLY_EXPORTER_SECRET: &str = "EARLY_EXPORTER_SECRET";

    /// All labels this tool knows, in the order a handshake produces them.
    pub const KNOWN: [&str; 8] = [
        CLIENT_RANDOM,
        CLIENT_EARLY_TRAFFIC_SECRET,
        EARLY_EXPORTER_SECRET,
        CLIENT_HANDSHAKE_TRAFFIC_SECRET,
        SERVER_HANDSHAKE_TRAFFIC_SECRET,
        CLIENT_TRAFFIC_SECRET_0,
        SERVER_TRAFFIC_SECRET_0,
        EXPORTER_SECRET,
    ];
}

/// Largest secret accepted, in bytes (secrets are 32 or 48 bytes; this leaves room).
const MAX_SECRET_LEN: usize = 128;

/// Sort key of a label: known labels in handshake order, unknown ones after, by name.
fn label_rank(label: &str) -> usize {
    labels::KNOWN
        .iter()
        .position(|known| *known == label)
        .unwrap_or(labels::KNOWN.len())
}

/// One session's secrets: (label rank, label) -> secret.
type SessionSecrets = BTreeMap<(usize, String), Vec<u8>>;

/// TLS secrets of any number of sessions, indexed by the 32-byte client random of the
/// ClientHello that started each session.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// client random -> (label rank, label) -> secret
    sessions: BTreeMap<[u8; 32], SessionSecrets>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs: only counts.
        f.debug_struct("Keys")
            .field("sessions", &self.sessions.len())
            .field("secrets", &self.len())
            .finish()
    }
}

impl Keys {
    /// An empty key store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses NSS key-log text. Lines that cannot be used are skipped with a warning that names
    /// the line number; blank lines and `#` comments are skipped silently.
    pub fn parse_nss(text: &str) -> (Keys, Vec<String>) {
        Self::parse_nss_bytes(text.as_bytes())
    }

    /// [`Keys::parse_nss`] over raw bytes, as a key-log file is on disk: a line that is not UTF-8
    /// text is skipped with a warning naming its line number (as Wireshark does, one bad line
    /// does not spoil the rest of the file).
    pub fn parse_nss_bytes(bytes: &[u8]) -> (Keys, Vec<String>) {
        Self::parse_nss_lines(bytes, 1)
    }

    /// [`Keys::parse_nss_bytes`] of lines that continue a file: the first is line `first_line`
    /// (for a key log read as it grows).
    pub fn parse_nss_lines(bytes: &[u8], first_line: usize) -> (Keys, Vec<String>) {
        let mut keys = Keys::new();
        let mut warnings = Vec::new();
        let mut lines = bytes.split(|b| *b == b'\n').peekable();
        let mut index = first_line.saturating_sub(1);
        while let Some(raw_bytes) = lines.next() {
            index += 1;
            if raw_bytes.is_empty() && lines.peek().is_none() {
                break; // the newline that ends the last line
            }
            let line_no = index;
            if raw_bytes.trim_ascii_start().starts_with(b"#") {
                continue; // a comment, whatever its encoding
            }
            let raw_line = match std::str::from_utf8(raw_bytes) {
                Ok(text) => text,
                Err(e) => {
                    warnings.push(format!(
                        "key log line {line_no}: not UTF-8 text (byte 0x{:02x} at column {}), skipped",
                        raw_bytes.get(e.valid_up_to()).copied().unwrap_or_default(),
                        e.valid_up_to() + 1
                    ));
                    continue;
                }
            };
            let line = raw_line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.first() == Some(&"RSA") {
                // NSS's format for RSA key exchange, keyed by the encrypted pre-master secret
                // (OpenSSL writes it beside the CLIENT_RANDOM line of the same session): valid,
                // and nothing packetpath needs, so skipped quietly.
                tracing::debug!(
                    line = line_no,
                    "key log: an RSA pre-master line, not needed"
                );
                continue;
            }
            let [label, random_hex, secret_hex] = fields.as_slice() else {
                warnings.push(format!(
                    "key log line {line_no}: expected 3 fields (label, client random, secret), found {}",
                    fields.len()
                ));
                continue;
            };
            let Some(random) = decode_hex(random_hex).filter(|r| r.len() == 32) else {
                warnings.push(format!(
                    "key log line {line_no}: the client random must be 64 hex digits (32 bytes), found {:?}",
                    truncate(random_hex)
                ));
                continue;
            };
            let Some(secret) =
                decode_hex(secret_hex).filter(|s| !s.is_empty() && s.len() <= MAX_SECRET_LEN)
            else {
                warnings.push(format!(
                    "key log line {line_no}: the secret must be 1 to {MAX_SECRET_LEN} bytes of hex digits, found {:?}",
                    truncate(secret_hex)
                ));
                continue;
            };
            if label_rank(label) == labels::KNOWN.len() {
                warnings.push(format!(
                    "key log line {line_no}: unknown label {:?}, kept but not used for decryption",
                    truncate(label)
                ));
            }
            keys.add(label, &random, &secret);
        }
        (keys, warnings)
    }

    /// Adds one secret. Returns false if it was already known (the same label for the same
    /// client random; the first secret is kept) or if the client random is not 32 bytes or the
    /// secret is empty or too long.
    pub fn add(&mut self, label: &str, client_random: &[u8], secret: &[u8]) -> bool {
        let Ok(random) = <[u8; 32]>::try_from(client_random) else {
            return false;
        };
        if secret.is_empty() || secret.len() > MAX_SECRET_LEN || label.is_empty() {
            return false;
        }
        let session = self.sessions.entry(random).or_default();
        let key = (label_rank(label), label.to_string());
        if let Some(existing) = session.get(&key) {
            if existing.as_slice() != secret {
                tracing::warn!(
                    label,
                    "key log has two different secrets for one session; keeping the first"
                );
            }
            return false;
        }
        session.insert(key, secret.to_vec());
        true
    }

    /// Adds every secret of `other` that is not known yet.
    pub fn merge(&mut self, other: &Keys) {
        for (random, session) in &other.sessions {
            for ((_, label), secret) in session {
                self.add(label, random, secret);
            }
        }
    }

    /// The secret with `label` for the session started by `client_random`.
    pub fn get(&self, label: &str, client_random: &[u8]) -> Option<&[u8]> {
        let random = <[u8; 32]>::try_from(client_random).ok()?;
        self.sessions
            .get(&random)?
            .get(&(label_rank(label), label.to_string()))
            .map(Vec::as_slice)
    }

    /// Key-log text for files and pcapng Decryption Secrets Blocks: one line per secret, ordered
    /// by client random, then by label in handshake order; lowercase hex.
    pub fn to_nss(&self) -> String {
        let mut out = String::new();
        for (random, session) in &self.sessions {
            for ((_, label), secret) in session {
                let _ = writeln!(out, "{label} {} {}", encode_hex(random), encode_hex(secret));
            }
        }
        out
    }

    /// Number of secrets (lines of [`Keys::to_nss`]).
    pub fn len(&self) -> usize {
        self.sessions.values().map(BTreeMap::len).sum()
    }

    /// True when no secret is known.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Whether any secret is known for the session started by this client random.
    pub fn has_client_random(&self, cr: &[u8]) -> bool {
        <[u8; 32]>::try_from(cr).is_ok_and(|random| self.sessions.contains_key(&random))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(24).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Lowercase hex of `bytes`.
pub fn encode_hex(bytes: &[u8]) -> String {
    // Into a buffer of the right size in one pass (`hex::encode` builds the string a char at a
    // time, which was a quarter of `inspect --format json` on a large transfer).
    let mut out = vec![0u8; bytes.len() * 2];
    if hex::encode_to_slice(bytes, &mut out).is_err() {
        return hex::encode(bytes);
    }
    String::from_utf8(out).unwrap_or_else(|_| hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CR_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const CR_B: &str = "0bBB0000000000000000000000000000000000000000000000000000000000ff";

    #[test]
    fn parses_with_comments_and_garbage() {
        let text = format!(
            "# SSL/TLS secrets log file, generated by NSS\n\
             \n\
             SERVER_HANDSHAKE_TRAFFIC_SECRET {CR_A} 0102\r\n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR_A} 0304\n\
             this line is garbage\n\
             CLIENT_RANDOM {CR_B} {}\n\
             CLIENT_RANDOM 1234 abcd\n\
             CLIENT_RANDOM {CR_A} zz\n\
             MY_LABEL {CR_A} 05\n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR_A} 0304\n\
             \u{fffd}\u{0} {CR_A}\n",
            "cd".repeat(48)
        );
        let (keys, warnings) = Keys::parse_nss(&text);
        assert_eq!(keys.len(), 4, "{warnings:?}");
        let rsa = "RSA 0011223344556677 0303aabbccddeeff00112233445566778899aabbccddeeff0011223344556677889900112233445566778899aabbccddeeff\n";
        assert_eq!(
            Keys::parse_nss(rsa).1,
            Vec::<String>::new(),
            "an RSA line is valid"
        );
        assert_eq!(warnings.len(), 5, "{warnings:?}");
        assert!(
            warnings[0].starts_with("key log line 5:"),
            "{}",
            warnings[0]
        );
        assert!(warnings[1].contains("line 7") && warnings[1].contains("64 hex digits"));
        assert!(warnings[2].contains("line 8"));
        assert!(warnings[3].contains("line 9") && warnings[3].contains("unknown label"));
        assert!(warnings[4].contains("line 11"));
        let a = decode_hex(CR_A).unwrap();
        let b = decode_hex(CR_B).unwrap();
        assert_eq!(
            keys.get(labels::SERVER_HANDSHAKE_TRAFFIC_SECRET, &a),
            Some(&[1u8, 2][..])
        );
        assert_eq!(
            keys.get(labels::CLIENT_RANDOM, &b).map(<[u8]>::len),
            Some(48)
        );
        assert!(keys.has_client_random(&b));
        assert!(!keys.has_client_random(&[0; 32]));
        assert!(!keys.has_client_random(&[0; 3]));
    }

    #[test]
    fn a_line_that_is_not_utf8_spoils_only_itself() {
        let mut bytes = format!("CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR_A} 0304\n").into_bytes();
        // A comment is skipped whatever its encoding, as Wireshark does.
        bytes.extend_from_slice(b"# written on a Latin-1 machine: caf\xe9\n");
        bytes.extend_from_slice(b"CLIENT_RANDOM caf\xe9 00\n");
        bytes.extend_from_slice(format!("SERVER_TRAFFIC_SECRET_0 {CR_A} 0506\n").as_bytes());
        bytes.extend_from_slice(b"CLIENT_RANDOM \xff\xfe 00\n");
        bytes.extend_from_slice(format!("CLIENT_TRAFFIC_SECRET_0 {CR_A} 0708").as_bytes());
        let (keys, warnings) = Keys::parse_nss_bytes(&bytes);
        assert_eq!(keys.len(), 3, "{warnings:?}");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("key log line 3: not UTF-8") && warnings[0].contains("0xe9"),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].starts_with("key log line 5:"),
            "{}",
            warnings[1]
        );
        let a = decode_hex(CR_A).unwrap();
        assert_eq!(
            keys.get(labels::CLIENT_TRAFFIC_SECRET_0, &a),
            Some(&[7u8, 8][..])
        );
    }

    #[test]
    fn add_deduplicates_and_validates() {
        let mut keys = Keys::new();
        assert!(keys.is_empty());
        assert!(keys.add(labels::CLIENT_TRAFFIC_SECRET_0, &[1; 32], &[9; 32]));
        assert!(!keys.add(labels::CLIENT_TRAFFIC_SECRET_0, &[1; 32], &[9; 32]));
        assert!(!keys.add(labels::CLIENT_TRAFFIC_SECRET_0, &[1; 32], &[8; 32])); // first kept
        assert_eq!(
            keys.get(labels::CLIENT_TRAFFIC_SECRET_0, &[1; 32]),
            Some(&[9u8; 32][..])
        );
        assert!(!keys.add(labels::CLIENT_RANDOM, &[1; 31], &[9; 48]));
        assert!(!keys.add(labels::CLIENT_RANDOM, &[1; 32], &[]));
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn to_nss_is_ordered_and_round_trips() {
        let mut keys = Keys::new();
        keys.add(labels::SERVER_TRAFFIC_SECRET_0, &[2; 32], &[0xab; 32]);
        keys.add(
            labels::CLIENT_HANDSHAKE_TRAFFIC_SECRET,
            &[2; 32],
            &[0xcd; 32],
        );
        keys.add(labels::CLIENT_RANDOM, &[1; 32], &[0xef; 48]);
        let text = keys.to_nss();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("CLIENT_RANDOM 0101"));
        assert!(lines[1].starts_with("CLIENT_HANDSHAKE_TRAFFIC_SECRET 0202"));
        assert!(lines[2].starts_with("SERVER_TRAFFIC_SECRET_0 0202"));
        assert!(lines[2].ends_with(&"ab".repeat(32)));
        let (back, warnings) = Keys::parse_nss(&text);
        assert!(warnings.is_empty());
        assert_eq!(back, keys);

        let mut merged = Keys::new();
        merged.add(labels::CLIENT_RANDOM, &[1; 32], &[0xef; 48]);
        merged.merge(&keys);
        assert_eq!(merged, keys);
        assert!(!format!("{keys:?}").contains("abab")); // Debug hides secrets
    }
}
