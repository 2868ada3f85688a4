//! Opening a saved capture: its frames, the secrets that decrypt it and packetpath's ledger of
//! application events, read into one [`Trace`].

use std::path::{Path, PathBuf};

use super::file::CaptureReader;
use super::{read_capture_file, CaptureFile, FileError, ReadError};
use crate::chat::AppEvent;
use crate::frame::Frame;
use crate::journey::{ledger, Trace};
use crate::tcpinfo::TcpInfoSample;
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
) -> (Keys, Vec<AppEvent>, Vec<TcpInfoSample>) {
    let (mut keys, warnings) = Keys::parse_nss(&capture.keylog);
    for w in warnings {
        tracing::warn!("secrets embedded in {}: {w}", file.display());
    }
    if let Some(more) = keylog {
        keys.merge(more);
    }
    let mut events = Vec::new();
    let mut samples = Vec::new();
    for block in capture
        .custom
        .iter()
        .filter(|b| b.pen == ledger::LEDGER_PEN)
    {
        let (decoded, warnings) = ledger::decode(&block.data);
        let (tcp_info, more_warnings) = crate::tcpinfo::decode(&block.data);
        for w in warnings.into_iter().chain(more_warnings) {
            tracing::warn!("{}: {w}", file.display());
        }
        events.extend(decoded);
        samples.extend(tcp_info);
    }
    (keys, events, samples)
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
    let (keys, events, samples) = secrets_and_events(file, &capture, extra.as_ref());
    let mut trace = Trace::with_keys(keys);
    trace.set_interface_names(capture.interface_names.clone());
    for event in events {
        trace.add_app_event(event);
    }
    for sample in samples {
        trace.add_tcp_info(sample);
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
/// in batches (with [`Opened::Keys`] and [`Opened::Events`] where the file holds secrets or
/// packetpath's ledger after its first frame), then [`Opened::Done`]; or [`Opened::Failed`]
/// alone.
#[derive(Debug)]
pub enum Opened {
    /// The file's first frame is reached: the secrets found before it (and the key-log
    /// file's), the application events found before it, and the file's size in bytes.
    Start {
        /// Embedded secrets and the key-log file's.
        keys: Keys,
        /// packetpath's ledger of application writes and reads.
        events: Vec<AppEvent>,
        /// Bytes in the file, for progress.
        bytes: usize,
    },
    /// The next frames, in file order, and how many of the file's bytes are read.
    Frames {
        /// The frames.
        frames: Vec<Frame>,
        /// Bytes of the file read so far.
        read: usize,
    },
    /// The capture interfaces' names (pcapng `if_name`, by interface number; empty for an
    /// unnamed one), sent before the first frame and again, whole, before the frames of any
    /// interface announced later. With them the trace finds the copies of one IP packet on a
    /// path of routers.
    Interfaces(Vec<String>),
    /// More secrets, from a Decryption Secrets Block after the first frame.
    Keys(Keys),
    /// Application events, from packetpath's ledger block (written after the last frame).
    Events(Vec<AppEvent>),
    /// What the kernel reported about packetpath's sockets (TCP_INFO), from its custom block.
    TcpInfo(Vec<TcpInfoSample>),
    /// Every frame was sent; for a damaged file, where the damage starts.
    Done(Option<ReadError>),
    /// The file could not be read after all.
    Failed(OpenError),
}

/// Frames per [`Opened::Frames`] batch.
const BATCH: usize = 4096;

/// Opens a capture file on a thread of its own, so that whoever shows it can start at once and
/// add the frames to its [`Trace`] as they come (as live capture does). The file is mapped into
/// memory and read a batch at a time, so the first frames come at once however large it is.
/// What cannot be opened at all (no such file, not a capture, an unreadable key log) is an
/// error here, before anything is shown. The thread stops when the receiver is dropped.
pub fn open_in_background(
    file: &Path,
    keylog: Option<&Path>,
) -> Result<std::sync::mpsc::Receiver<Opened>, OpenError> {
    let extra = keylog.map(load_keylog).transpose()?;
    let open_error = |reason| {
        OpenError::Capture(FileError::Open {
            path: file.to_path_buf(),
            reason,
        })
    };
    let bytes = super::sys::map_file(file).map_err(open_error)?;
    let mut reader = CaptureReader::new(bytes).map_err(|e| match e {
        FileError::NotCapture(why) => {
            OpenError::Capture(FileError::NotCapture(format!("{}: {why}", file.display())))
        }
        other => OpenError::Capture(other),
    })?;
    let (tx, rx) = std::sync::mpsc::sync_channel(16);
    let path = file.to_path_buf();
    std::thread::Builder::new()
        .name("open capture".into())
        .spawn(move || {
            // Up to the first frame: the secrets and ledger a file holds before its frames.
            let mut more = reader.read(1);
            let (mut keys, events, samples) = new_secrets_and_events(&path, &mut reader.file);
            if let Some(extra) = &extra {
                keys.merge(extra);
            }
            let start = Opened::Start {
                keys,
                events,
                bytes: reader.total_bytes(),
            };
            if tx.send(start).is_err()
                || (!samples.is_empty() && tx.send(Opened::TcpInfo(samples)).is_err())
            {
                return;
            }
            let mut names_sent = 0;
            loop {
                let names = &reader.file.interface_names;
                if names.len() != names_sent
                    && names.iter().any(|n| !n.is_empty())
                    && tx.send(Opened::Interfaces(names.clone())).is_err()
                {
                    return;
                }
                names_sent = names.len();
                let frames = reader.take_frames();
                let read = reader.position();
                if !frames.is_empty() && tx.send(Opened::Frames { frames, read }).is_err() {
                    return;
                }
                if !more {
                    break;
                }
                more = reader.read(BATCH);
                let (keys, events, samples) = new_secrets_and_events(&path, &mut reader.file);
                if !keys.is_empty() && tx.send(Opened::Keys(keys)).is_err() {
                    return;
                }
                if !events.is_empty() && tx.send(Opened::Events(events)).is_err() {
                    return;
                }
                if !samples.is_empty() && tx.send(Opened::TcpInfo(samples)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Opened::Done(reader.file.error.take()));
        })
        .map_err(open_error)?;
    Ok(rx)
}

/// The secrets and ledger events read since the last call, taken out of `file`.
fn new_secrets_and_events(
    path: &Path,
    file: &mut CaptureFile,
) -> (Keys, Vec<AppEvent>, Vec<TcpInfoSample>) {
    let read = CaptureFile {
        keylog: std::mem::take(&mut file.keylog),
        custom: std::mem::take(&mut file.custom),
        ..CaptureFile::empty(file.format)
    };
    secrets_and_events(path, &read, None)
}
