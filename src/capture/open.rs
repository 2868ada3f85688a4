//! Opening a saved capture: its frames, the secrets that decrypt it and packetpath's ledger of
//! application events, read into one [`Trace`].

use std::path::{Path, PathBuf};

use super::{read_capture_file, FileError, ReadError};
use crate::journey::{ledger, Trace};
use crate::tls::Keys;

/// Why a capture could not be opened at all (a file damaged part-way is not an error: see
/// [`open_capture`]).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The capture file itself.
    #[error(transparent)]
    Capture(#[from] FileError),
    /// The key-log file given with it.
    #[error("cannot read the key-log file {}: {reason}", path.display())]
    KeyLog {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        reason: std::io::Error,
    },
}

/// Reads an SSLKEYLOGFILE. Bytes, not text: one line that is not UTF-8 must not hide the others
/// (Wireshark reads such a file too); every skipped line is named in a warning.
pub fn load_keylog(path: &Path) -> Result<Keys, OpenError> {
    let bytes = std::fs::read(path).map_err(|reason| OpenError::KeyLog {
        path: path.to_path_buf(),
        reason,
    })?;
    let (keys, warnings) = Keys::parse_nss_bytes(&bytes);
    for w in warnings {
        tracing::warn!("{}: {w}", path.display());
    }
    Ok(keys)
}

/// Reads a capture file into a trace: the secrets embedded in it (Decryption Secrets Blocks) and
/// those in `keylog` decrypt, and packetpath's ledger block restores the application events.
/// `progress(done, total)` is called now and then. Returns the trace and, for a damaged file, where
/// the damage starts (the frames before it are in the trace).
pub fn open_capture(
    file: &Path,
    keylog: Option<&Path>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Trace, Option<ReadError>), OpenError> {
    let capture = read_capture_file(file)?;
    let (mut keys, warnings) = Keys::parse_nss(&capture.keylog);
    for w in warnings {
        tracing::warn!("secrets embedded in {}: {w}", file.display());
    }
    if let Some(path) = keylog {
        keys.merge(&load_keylog(path)?);
    }
    let mut trace = Trace::with_keys(keys);
    for block in capture
        .custom
        .iter()
        .filter(|b| b.pen == ledger::LEDGER_PEN)
    {
        let (events, warnings) = ledger::decode(&block.data);
        for w in warnings {
            tracing::warn!("{}: {w}", file.display());
        }
        for event in events {
            trace.add_app_event(event);
        }
    }
    let total = capture.frames.len();
    trace.reserve(total);
    for (i, frame) in capture.frames.into_iter().enumerate() {
        trace.push_frame(frame);
        if i % 10_000 == 0 {
            progress(i, total);
        }
    }
    progress(total, total);
    Ok((trace, capture.error))
}
