//! Opening a saved capture: its frames, the secrets that decrypt it and packetpath's ledger of
//! application events, read into one [`Trace`].

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::file::CaptureReader;
use super::{read_capture_file, CaptureFile, FileError, ReadError};
use crate::chat::AppEvent;
use crate::frame::Frame;
use crate::journey::{ledger, FrameEntry, Trace};
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
    let (keys, events, samples) = secrets_and_events_releasing(file, capture, keylog, &mut |_| {});
    let events = events
        .into_iter()
        .map(|lazy| {
            let bytes = lazy.bytes().unwrap_or_default();
            AppEvent {
                bytes,
                ..lazy.event
            }
        })
        .collect();
    (keys, events, samples)
}

/// [`secrets_and_events`], reading each ledger block a piece of at most [`LEDGER_PIECE`] bytes at
/// a time and calling `done(piece)` after each: the streaming reader gives the piece's pages of
/// the mapped file back, so a ledger of hundreds of MB (a demo's transfer) is not held whole.
fn secrets_and_events_releasing(
    file: &Path,
    capture: &CaptureFile,
    keylog: Option<&Keys>,
    done: &mut dyn FnMut(&[u8]),
) -> (Keys, Vec<ledger::LazyEvent>, Vec<TcpInfoSample>) {
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
        for piece in ledger::split_at_lines(&block.data, LEDGER_PIECE) {
            let (decoded, warnings) = ledger::decode_lazy(&block.data.slice_ref(piece));
            let (tcp_info, more_warnings) = crate::tcpinfo::decode(piece);
            for w in warnings.into_iter().chain(more_warnings) {
                tracing::warn!("{}: {w}", file.display());
            }
            events.extend(decoded);
            samples.extend(tcp_info);
            done(piece);
        }
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

/// How a capture read by [`stream_capture`] ended.
#[derive(Debug)]
pub struct Streamed {
    /// Frames read, every one of them shown.
    pub frames: u32,
    /// For a damaged file, where the damage starts (the frames before it were shown).
    pub error: Option<ReadError>,
}

/// Reads a capture once, front to back, handing each frame to `show` (with the indices of the
/// application events shown on it, into [`Trace::app_events`]) as soon as nothing later can
/// change what is shown of it, then forgetting it (see [`Trace::streaming`]). What is held is
/// per-connection state and the few frames not yet settled, so a file larger than memory reads
/// in flat memory: the file is mapped, and the pages already read are given back as the reader
/// moves on. The secrets and packetpath's ledger come first, from a skim of the file's blocks
/// (the ledger is written after the last frame); an application event's bytes stay in the file
/// until it is shown, so in the trace `show` sees, only the events of the frames being shown
/// have their bytes (the others' are empty). `progress(bytes read, bytes in all)` is called
/// after each batch of frames. An error from `show` stops the reading and is returned.
pub fn stream_capture<E: From<OpenError>>(
    file: &Path,
    keylog: Option<&Path>,
    progress: &mut dyn FnMut(usize, usize),
    show: impl FnMut(&Trace, &FrameEntry, &[usize]) -> Result<(), E>,
) -> Result<Streamed, E> {
    stream_capture_batched(file, keylog, STREAM_BATCH, progress, show)
}

/// [`stream_capture`], reading `batch` frames at a time (at least 1) before showing what is
/// settled: what is shown is the same whatever the batch; smaller batches show the first frames
/// sooner and call `progress` more often.
pub fn stream_capture_batched<E: From<OpenError>>(
    file: &Path,
    keylog: Option<&Path>,
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
    mut show: impl FnMut(&Trace, &FrameEntry, &[usize]) -> Result<(), E>,
) -> Result<Streamed, E> {
    stream_capture_in_batches(file, keylog, batch, progress, |trace, settled| {
        for (number, app) in settled {
            if let Some(entry) = trace.frame(*number) {
                show(trace, entry, app)?;
            }
        }
        Ok(())
    })
}

/// [`stream_capture_batched`], handing over the frames settled by each batch together, in order:
/// each as its number and the app events shown on it (indexes into
/// [`Trace::app_events`]). A caller can format them on several threads at once.
pub fn stream_capture_in_batches<E: From<OpenError>>(
    file: &Path,
    keylog: Option<&Path>,
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
    mut show: impl FnMut(&Trace, &[(u32, Vec<usize>)]) -> Result<(), E>,
) -> Result<Streamed, E> {
    let extra = keylog.map(load_keylog).transpose()?;
    let open_error = |reason| {
        OpenError::Capture(FileError::Open {
            path: file.to_path_buf(),
            reason,
        })
    };
    let mapped = super::sys::MappedFile::open(file).map_err(open_error)?;
    let mut reader = CaptureReader::new(mapped.bytes().clone()).map_err(|e| match e {
        FileError::NotCapture(why) => {
            OpenError::Capture(FileError::NotCapture(format!("{}: {why}", file.display())))
        }
        other => OpenError::Capture(other),
    })?;
    let mut skimmed = 0;
    let (keys, events, samples) = secrets_and_events_releasing(
        file,
        &super::file::skim(mapped.bytes(), &mut |at| {
            // Every block's header is read: the pages walked are given back as it goes.
            if at >= skimmed + RELEASE_STEP {
                skimmed = mapped.release(skimmed, at);
            }
        }),
        extra.as_ref(),
        &mut |piece| {
            if let Some(at) = mapped.offset_of(piece) {
                let _ = mapped.release(at, at + piece.len());
            }
        },
    );
    // The skim touched a page of every block.
    let _ = mapped.release(0, mapped.bytes().len());
    let mut trace = Trace::streaming(keys);
    for sample in samples {
        trace.add_tcp_info(sample);
    }
    // The events not yet placed on a frame, by their connection's endpoints (in either order).
    // Their bytes stay hex in the file until their frame is shown (a demo's record of a long
    // transfer has hundreds of megabytes of them).
    let ends = |a: SocketAddr, b: SocketAddr| if a <= b { (a, b) } else { (b, a) };
    let mut waiting: HashMap<(SocketAddr, SocketAddr), Vec<usize>> = HashMap::new();
    let mut unread = Vec::with_capacity(events.len());
    for (i, lazy) in events.into_iter().enumerate() {
        waiting
            .entry(ends(lazy.event.conn.client, lazy.event.conn.server))
            .or_default()
            .push(i);
        trace.add_app_event(lazy.event);
        unread.push(lazy.hex);
    }
    let mut placed: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut shown = 0u32;
    let mut released = 0usize;
    let mut names = 0;
    loop {
        let more = reader.read(batch.max(1));
        // The skim read these already.
        reader.file.keylog.clear();
        reader.file.custom.clear();
        reader.file.comments.clear();
        if reader.file.interface_names.len() != names {
            names = reader.file.interface_names.len();
            trace.set_interface_names(reader.file.interface_names.clone());
        }
        // The connections this batch brought frames of.
        let mut touched = std::collections::HashSet::new();
        for frame in reader.take_frames() {
            let number = trace.push_frame(frame);
            if waiting.is_empty() {
                continue;
            }
            if let Some(conn) = trace
                .frame(number)
                .and_then(|e| e.segment.as_ref())
                .and_then(|s| trace.tcp().connection(s.stream))
            {
                touched.insert(ends(conn.client, conn.server));
            }
        }
        // An event is shown on the frame where its last byte arrived, as
        // [`crate::report::app_events_by_frame`] places it; one placed on a frame already shown
        // (bytes held back by reordering) goes on the first frame not yet shown. Looked for once
        // a batch, not at every frame: a long transfer has thousands of events waiting, and
        // nothing of this batch is shown or forgotten before this.
        for key in touched {
            let Some(list) = waiting.get_mut(&key) else {
                continue;
            };
            list.retain(|&i| {
                let len = unread.get(i).map_or(0, |hex| ledger::hex_byte_len(hex));
                let at = trace
                    .app_events()
                    .get(i)
                    .and_then(|e| trace.app_event_frame_with_len(e, len));
                match at {
                    Some(at) => {
                        placed.entry(at.max(shown + 1)).or_default().push(i);
                        false
                    }
                    None => true,
                }
            });
        }
        let settled = if more {
            trace.settled_before()
        } else {
            // The end: fragments that never completed their packets are settled too.
            trace.frame_count() + 1
        };
        let mut ready = Vec::new();
        while shown + 1 < settled {
            let number = shown + 1;
            if trace.frame(number).is_none() {
                break;
            }
            let mut app = placed.remove(&number).unwrap_or_default();
            app.sort_by_key(|&i| trace.app_events().get(i).map(|e| e.at));
            ready.push((number, app));
            shown = number;
        }
        // The bytes of the events shown now, decoded for the showing and let go after it. The
        // file's pages their hex was read from are given back, with a margin: the kernel maps
        // the pages around a page read (fault-around, 64 KiB by default), and events are shown
        // in time order, not the ledger's.
        let shown_events: Vec<usize> = ready.iter().flat_map(|(_, app)| app).copied().collect();
        let mut read_from: Option<(usize, usize)> = None;
        for &i in &shown_events {
            let Some(hex) = unread.get_mut(i) else {
                continue;
            };
            let hex = std::mem::take(hex);
            if let Some(bytes) = ledger::decode_hex(&hex) {
                trace.set_app_event_bytes(i, bytes.into());
            }
            if let Some(at) = mapped.offset_of(&hex) {
                let (lo, hi) = read_from.unwrap_or((at, at));
                read_from = Some((lo.min(at), hi.max(at + hex.len())));
            }
        }
        if let Some((lo, hi)) = read_from {
            mapped.release_around(lo.saturating_sub(FAULT_AROUND), hi + FAULT_AROUND);
        }
        if !ready.is_empty() {
            show(&trace, &ready)?;
        }
        for i in shown_events {
            trace.set_app_event_bytes(i, bytes::Bytes::new());
        }
        trace.forget_before(shown + 1);
        // The bytes of the frames still held, and of the file not read yet, stay; segments held
        // for reassembly that point further back are read again from the file if needed.
        let low = trace
            .frames()
            .first()
            .and_then(|e| mapped.offset_of(&e.frame.data))
            .unwrap_or_else(|| reader.position());
        if low >= released + RELEASE_STEP {
            released = mapped.release(released, low);
        }
        progress(reader.position(), reader.total_bytes());
        if !more {
            break;
        }
    }
    Ok(Streamed {
        frames: trace.frame_count(),
        error: reader.file.error.take(),
    })
}

/// How far a streaming reader moves on before it gives back the pages it read (one call to
/// the kernel per step).
const RELEASE_STEP: usize = 8 << 20;

/// More than the kernel maps around a page fault in a file (`fault_around_bytes`, 64 KiB unless
/// changed in debugfs).
const FAULT_AROUND: usize = 256 << 10;

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

/// The most of a ledger block decoded at once by the streaming reader.
const LEDGER_PIECE: usize = 8 << 20;

/// Frames per [`Opened::Frames`] batch.
const BATCH: usize = 4096;

/// Frames [`stream_capture`] reads at a time: a good batch for [`stream_capture_in_batches`].
/// Smaller than [`BATCH`]: what `inspect` formats from a batch (its JSON about 3.5 kB a frame of
/// a TLS download) then stays in the processor's caches. On one core, `inspect --format json` of
/// the 224 MB capture took 0.43–0.47 s with batches of 4,096 frames, 0.33–0.35 s with 1,024 or
/// 512, 0.34–0.35 s with 256 (BENCHMARKS.md).
pub const STREAM_BATCH: usize = 1024;

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

#[cfg(test)]
#[path = "stream_tests.rs"]
mod stream_tests;
