//! Capturing TLS secrets. Because packetpath owns both ends of the chat, rustls hands it every
//! connection's traffic secrets through its `KeyLog` hook; with them the capture can decrypt the very
//! records an eavesdropper only sees as ciphertext.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;

/// One secret in the NSS key-log format: `LABEL <client random hex> <secret hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyLogEntry {
    /// What the secret is, e.g. `CLIENT_TRAFFIC_SECRET_0` (TLS 1.3) or `CLIENT_RANDOM` (TLS 1.2 master secret).
    pub label: String,
    /// The 32-byte random from the ClientHello, which names the TLS session.
    pub client_random: Vec<u8>,
    /// The secret itself.
    pub secret: Vec<u8>,
}

impl KeyLogEntry {
    /// The entry as one line of an SSLKEYLOGFILE (without the newline).
    pub fn to_nss_line(&self) -> String {
        format!(
            "{} {} {}",
            self.label,
            hex(&self.client_random),
            hex(&self.secret)
        )
    }
}

/// Lower-case hexadecimal of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[derive(Default)]
struct Inner {
    entries: Vec<KeyLogEntry>,
    seen: HashSet<KeyLogEntry>,
}

/// Collects the TLS secrets of every connection in memory (deduplicated: when both ends share one
/// logger each secret is logged twice), optionally appends them to a key-log file, and optionally
/// forwards each new one on a channel to the capture side.
#[derive(Default)]
pub struct SecretLog {
    inner: Mutex<Inner>,
    file: Option<Mutex<File>>,
    notify: Option<UnboundedSender<KeyLogEntry>>,
}

impl std::fmt::Debug for SecretLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretLog")
            .field("entries", &self.entries().len())
            .finish()
    }
}

impl SecretLog {
    /// A log kept in memory only.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log that also appends to the file named by the `SSLKEYLOGFILE` environment variable, as
    /// browsers, curl and openssl do, so Wireshark can decrypt a capture made by another tool.
    pub fn from_env() -> std::io::Result<Self> {
        let mut log = Self::new();
        if let Some(path) = std::env::var_os("SSLKEYLOGFILE") {
            if !path.is_empty() {
                log = log.with_file(Path::new(&path))?;
            }
        }
        Ok(log)
    }

    /// Also append every secret to `path` (created with mode 0600: these secrets decrypt the chat).
    pub fn with_file(mut self, path: &Path) -> std::io::Result<Self> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        self.file = Some(Mutex::new(options.open(path)?));
        Ok(self)
    }

    /// Also send every new secret on `sender`.
    pub fn with_notify(mut self, sender: UnboundedSender<KeyLogEntry>) -> Self {
        self.notify = Some(sender);
        self
    }

    /// Every secret logged so far, in the order they were first seen.
    pub fn entries(&self) -> Vec<KeyLogEntry> {
        match self.inner.lock() {
            Ok(inner) => inner.entries.clone(),
            Err(poisoned) => poisoned.into_inner().entries.clone(),
        }
    }

    /// Every secret so far as key-log file text (one line each, newline-terminated).
    pub fn to_nss(&self) -> String {
        let mut text = String::new();
        for entry in self.entries() {
            text.push_str(&entry.to_nss_line());
            text.push('\n');
        }
        text
    }

    fn record(&self, entry: KeyLogEntry) {
        {
            let mut inner = match self.inner.lock() {
                Ok(inner) => inner,
                Err(poisoned) => poisoned.into_inner(),
            };
            if !inner.seen.insert(entry.clone()) {
                return;
            }
            inner.entries.push(entry.clone());
        }
        if let Some(file) = &self.file {
            if let Ok(mut file) = file.lock() {
                if let Err(e) = writeln!(file, "{}", entry.to_nss_line()) {
                    tracing::warn!("cannot append to SSLKEYLOGFILE: {e}");
                }
            }
        }
        if let Some(sender) = &self.notify {
            let _ = sender.send(entry);
        }
    }
}

impl rustls::KeyLog for SecretLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        tracing::debug!(label, "TLS secret logged");
        self.record(KeyLogEntry {
            label: label.to_string(),
            client_random: client_random.to_vec(),
            secret: secret.to_vec(),
        });
    }
}

/// A shared handle on a [`SecretLog`], as rustls configurations hold it.
pub type SharedSecretLog = Arc<SecretLog>;

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn duplicates_are_logged_once() {
        let log = SecretLog::new();
        log.log("CLIENT_TRAFFIC_SECRET_0", &[1, 2], &[0xab]);
        log.log("CLIENT_TRAFFIC_SECRET_0", &[1, 2], &[0xab]);
        log.log("SERVER_TRAFFIC_SECRET_0", &[1, 2], &[0xcd]);
        assert_eq!(log.entries().len(), 2);
        assert_eq!(
            log.to_nss(),
            "CLIENT_TRAFFIC_SECRET_0 0102 ab\nSERVER_TRAFFIC_SECRET_0 0102 cd\n"
        );
    }
}
