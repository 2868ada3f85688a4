//! A session saved as it goes (`demo --record`): a live session that runs for hours forgets what
//! is older than its window ([`crate::journey::Trace::forget_older_than`]) to keep its memory
//! flat, so what it forgets is written out first. The file is the one [`Recorder::finish`] would
//! write in one go: the TLS secrets before the frames they decrypt (Decryption Secrets Blocks,
//! each with the secrets learnt since the last), every frame in order with the summaries of the
//! application events it carried as its comment, then packetpath's ledger of every event and the
//! kernel's TCP_INFO samples after the last frame (Wireshark counts custom blocks as frames).
//! Forgotten events wait for the end in an unnamed temporary file beside the record, not in
//! memory.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};

use crate::capture::{FileError, OutputError, OutputPath, PcapngWriter};
use crate::chat::AppEvent;
use crate::frame::{Frame, LinkType, Timestamp};
use crate::journey::ledger::{encode, split_at_lines, summary_comment, BLOCK_MAX, LEDGER_PEN};
use crate::journey::Trace;

/// Why a record cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file cannot be created.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Writing the capture failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The record's path.
        path: String,
        /// What failed.
        source: FileError,
    },
    /// The temporary file for the forgotten events failed.
    #[error("cannot keep the forgotten events of {path} in a temporary file: {source}")]
    Ledger {
        /// The record's path.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Forgets what `trace` holds from before `cutoff` ([`Trace::forget_older_than`]) and the same
/// frames from `frames` (the trace's kept frames as captured, in order), writing both to
/// `recorder` first when there is one. Returns how many frames and events were forgotten.
pub fn forget_older_than(
    trace: &mut Trace,
    frames: &mut Vec<Frame>,
    cutoff: Timestamp,
    recorder: Option<&mut Recorder>,
) -> Result<(u32, usize), RecordError> {
    let first = trace.frames_forgotten() + 1;
    let count = (trace.forget_point(cutoff).saturating_sub(first) as usize).min(frames.len());
    if count == 0 {
        return Ok((0, 0));
    }
    let mut recorder = recorder;
    if let Some(recorder) = recorder.as_deref_mut() {
        recorder.write_frames(trace, &frames[..count], first)?;
    }
    let (forgotten, events) = trace.forget_older_than(cutoff);
    debug_assert_eq!(forgotten as usize, count);
    frames.drain(..count);
    if let Some(recorder) = recorder {
        recorder.write_events(&events)?;
    }
    Ok((forgotten, events.len()))
}

/// A capture file written as the session forgets its past, finished when it ends.
pub struct Recorder {
    path: OutputPath,
    writer: Option<PcapngWriter<BufWriter<File>>>,
    /// The key-log lines already written.
    secrets: HashSet<String>,
    /// The ledger lines of the events forgotten so far.
    ledger: Option<BufWriter<File>>,
    frames: u64,
}

impl Recorder {
    /// A record to be written at `path` (checked already; created at the first write).
    pub fn new(path: OutputPath) -> Recorder {
        Recorder {
            path,
            writer: None,
            secrets: HashSet::new(),
            ledger: None,
            frames: 0,
        }
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    fn write_error(&self) -> impl Fn(FileError) -> RecordError {
        let path = self.path.path().display().to_string();
        move |source| RecordError::Write {
            path: path.clone(),
            source,
        }
    }

    fn ledger_error(&self) -> impl Fn(std::io::Error) -> RecordError {
        let path = self.path.path().display().to_string();
        move |source| RecordError::Ledger {
            path: path.clone(),
            source,
        }
    }

    /// Writes `frames` (numbers `first`, `first + 1`, … of `trace`, which still holds them) with
    /// the summaries of the events `trace` places on them, after the secrets not yet written.
    pub fn write_frames(
        &mut self,
        trace: &Trace,
        frames: &[Frame],
        first: u32,
    ) -> Result<(), RecordError> {
        if self.writer.is_none() {
            let link = frames.first().map_or(LinkType::Ethernet, |f| f.link);
            let file = self.path.create()?;
            let writer = PcapngWriter::with_interface_names(
                BufWriter::new(file),
                link,
                trace.interface_names(),
            )
            .map_err(self.write_error())?;
            self.writer = Some(writer);
        }
        let new: Vec<String> = trace
            .keys()
            .to_nss()
            .lines()
            .filter(|line| !self.secrets.contains(*line))
            .map(str::to_string)
            .collect();
        let end = first.saturating_add(frames.len() as u32);
        let mut comments: HashMap<u32, Vec<String>> = HashMap::new();
        for event in trace.app_events() {
            match trace.app_event_frame(event) {
                Some(frame) if (first..end).contains(&frame) => comments
                    .entry(frame)
                    .or_default()
                    .push(summary_comment(event)),
                Some(_) => {}
                None => tracing::debug!("an application event has no frame in the capture"),
            }
        }
        let error = self.write_error();
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        if !new.is_empty() {
            let mut text = new.join("\n");
            text.push('\n');
            writer.write_secrets(&text).map_err(&error)?;
        }
        for (number, frame) in (first..).zip(frames) {
            match comments.get(&number) {
                Some(lines) => writer
                    .write_frame_with_comment(frame, &lines.join("\n"))
                    .map_err(&error)?,
                None => writer.write_frame(frame).map_err(&error)?,
            }
        }
        self.frames += frames.len() as u64;
        self.secrets.extend(new);
        Ok(())
    }

    /// Keeps the ledger lines of events the session forgot, for the end of the file.
    pub fn write_events(&mut self, events: &[AppEvent]) -> Result<(), RecordError> {
        if events.is_empty() {
            return Ok(());
        }
        if self.ledger.is_none() {
            let folder = match self.path.path().parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            };
            // Unnamed (O_TMPFILE where the file system has it): gone with the process.
            let file = tempfile::tempfile_in(folder).map_err(self.ledger_error())?;
            self.ledger = Some(BufWriter::new(file));
        }
        let error = self.ledger_error();
        if let Some(ledger) = self.ledger.as_mut() {
            ledger.write_all(&encode(events)).map_err(&error)?;
        }
        Ok(())
    }

    /// Writes what the session still holds (`frames`, numbered from `trace`'s first kept frame),
    /// the ledger of every event, the kernel's samples and `extra` custom blocks, and closes the
    /// file.
    pub fn finish(
        mut self,
        trace: &Trace,
        frames: &[Frame],
        extra: &[Vec<u8>],
    ) -> Result<(), RecordError> {
        self.write_frames(trace, frames, trace.frames_forgotten() + 1)?;
        let mut ledger = Vec::new();
        if let Some(file) = self.ledger.take() {
            let error = self.ledger_error();
            let mut file = file.into_inner().map_err(|e| error(e.into_error()))?;
            file.rewind().map_err(&error)?;
            file.read_to_end(&mut ledger).map_err(&error)?;
        }
        ledger.extend_from_slice(&encode(trace.app_events()));
        let error = self.write_error();
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        for text in [ledger, crate::tcpinfo::encode(trace.tcp_info())] {
            for block in split_at_lines(&text, BLOCK_MAX) {
                writer.write_custom(LEDGER_PEN, block).map_err(&error)?;
            }
        }
        for block in extra {
            writer.write_custom(LEDGER_PEN, block).map_err(&error)?;
        }
        let mut inner = writer.finish().map_err(&error)?;
        inner.flush().map_err(|e| error(FileError::Write(e)))?;
        tracing::info!(
            "wrote {} frames to {}",
            self.frames,
            self.path.path().display()
        );
        Ok(())
    }
}
