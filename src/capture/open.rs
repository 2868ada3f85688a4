//! Opening a saved capture: its frames, the secrets that decrypt it and packetpath's ledger of
//! application events, read into one [`Trace`].

use std::path::{Path, PathBuf};

use super::{read_capture_file, CaptureFile, FileError, ReadError};
use crate::chat::AppEvent;
use crate::frame::Frame;
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

/// The secrets of a capture read into memory (its own and those of `keylog`) and its application
/// events (packetpath's ledger blocks).
fn secrets_and_events(
    file: &Path,
    capture: &CaptureFile,
    keylog: Option<&Keys>,
) -> (Keys, Vec<AppEvent>) {
    let (mut keys, warnings) = Keys::parse_nss(&capture.keylog);
    for w in warnings {
        tracing::warn!("secrets embedded in {}: {w}", file.display());
    }
    if let Some(more) = keylog {
        keys.merge(more);
    }
    let mut events = Vec::new();
    for block in capture
        .custom
        .iter()
        .filter(|b| b.pen == ledger::LEDGER_PEN)
    {
        let (decoded, warnings) = ledger::decode(&block.data);
        for w in warnings {
            tracing::warn!("{}: {w}", file.display());
        }
        events.extend(decoded);
    }
    (keys, events)
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
    let extra = keylog.map(load_keylog).transpose()?;
    let (keys, events) = secrets_and_events(file, &capture, extra.as_ref());
    let mut trace = Trace::with_keys(keys);
    for event in events {
        trace.add_app_event(event);
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

/// What a capture opened in the background sends, in this order: [`Opened::Start`], the frames
/// in batches, then [`Opened::Done`]; or [`Opened::Failed`] alone.
#[derive(Debug)]
pub enum Opened {
    /// The file is read: the secrets that decrypt it, its application events, how many frames
    /// follow.
    Start {
        /// Embedded secrets and the key-log file's.
        keys: Keys,
        /// packetpath's ledger of application writes and reads.
        events: Vec<AppEvent>,
        /// Frames that will follow.
        frames: usize,
    },
    /// The next frames, in file order.
    Frames(Vec<Frame>),
    /// Every frame was sent; for a damaged file, where the damage starts.
    Done(Option<ReadError>),
    /// The file could not be read after all.
    Failed(OpenError),
}

/// Frames per [`Opened::Frames`] batch.
const BATCH: usize = 4096;

/// Opens a capture file on a thread of its own, so that whoever shows it can start at once and
/// add the frames to its [`Trace`] as they come (as live capture does). What cannot be opened at
/// all (no such file, not a capture, an unreadable key log) is an error here, before anything
/// is shown. The thread stops when the receiver is dropped.
pub fn open_in_background(
    file: &Path,
    keylog: Option<&Path>,
) -> Result<std::sync::mpsc::Receiver<Opened>, OpenError> {
    let extra = keylog.map(load_keylog).transpose()?;
    check_capture(file)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(16);
    let path = file.to_path_buf();
    let file = file.to_path_buf();
    std::thread::Builder::new()
        .name("open capture".into())
        .spawn(move || {
            let capture = match read_capture_file(&file) {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Opened::Failed(e.into()));
                    return;
                }
            };
            let (keys, events) = secrets_and_events(&file, &capture, extra.as_ref());
            let start = Opened::Start {
                keys,
                events,
                frames: capture.frames.len(),
            };
            if tx.send(start).is_err() {
                return;
            }
            let mut frames = capture.frames.into_iter();
            loop {
                let batch: Vec<Frame> = frames.by_ref().take(BATCH).collect();
                if batch.is_empty() {
                    break;
                }
                if tx.send(Opened::Frames(batch)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Opened::Done(capture.error));
        })
        .map_err(|reason| OpenError::Capture(FileError::Open { path, reason }))?;
    Ok(rx)
}

/// Fails as reading the whole file would if `file` cannot be opened or is not a capture, from
/// its first bytes.
fn check_capture(file: &Path) -> Result<(), OpenError> {
    use std::io::Read as _;
    let open_error = |reason| {
        OpenError::Capture(FileError::Open {
            path: file.to_path_buf(),
            reason,
        })
    };
    let mut head = Vec::with_capacity(64);
    std::fs::File::open(file)
        .and_then(|f| f.take(64).read_to_end(&mut head))
        .map_err(open_error)?;
    match super::read_capture(&head) {
        Err(FileError::NotCapture(why)) => Err(OpenError::Capture(FileError::NotCapture(format!(
            "{}: {why}",
            file.display()
        )))),
        _ => Ok(()),
    }
}
