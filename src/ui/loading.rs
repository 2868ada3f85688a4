//! A capture file shown while it loads: a thread reads it
//! ([`crate::capture::open_in_background`]) and the UI adds its frames to the trace a few
//! milliseconds at a time between two screens, as live capture does, so the first screen comes
//! at once and every key is answered while the rest arrives; a progress line says how far it got.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crate::capture::Opened;
use crate::frame::Frame;
use crate::journey::Trace;

/// How long one [`Loader::pump`] may add frames before the screen is drawn again: well inside a
/// 60 Hz frame (16 ms), with room for the drawing, the key, and a machine busy with other work
/// (with 8 ms, turns on a loaded 2-core machine reached 18 ms).
pub const PUMP_BUDGET: Duration = Duration::from_millis(5);

/// A capture being loaded into a trace.
pub struct Loader {
    name: String,
    rx: Receiver<Opened>,
    trace: Trace,
    /// Frames received but not yet added.
    pending: std::vec::IntoIter<Frame>,
    /// A message received while waiting, handled first on the next turn.
    next: Option<Opened>,
    /// Bytes in the file, and how many are read.
    total: Option<usize>,
    read: usize,
    done: bool,
}

impl Loader {
    /// Loads what `rx` brings (see [`crate::capture::open_in_background`]); `name` names the
    /// file in the log.
    pub fn new(name: String, rx: Receiver<Opened>) -> Loader {
        Loader {
            name,
            rx,
            trace: Trace::new(),
            pending: Vec::new().into_iter(),
            next: None,
            total: None,
            read: 0,
            done: false,
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Every frame is in.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Adds frames for about `budget`; true if the trace changed.
    pub fn pump(&mut self, budget: Duration) -> bool {
        let started = Instant::now();
        let mut changed = false;
        while !self.done {
            // Frames one at a time, the clock read every few of them (a frame can be a 64 KB
            // segment with a record to decrypt).
            let mut added = 0;
            for frame in self.pending.by_ref() {
                self.trace.push_frame(frame);
                changed = true;
                added += 1;
                if added % 32 == 0 && started.elapsed() >= budget {
                    return changed;
                }
            }
            if changed && started.elapsed() >= budget {
                return changed;
            }
            let next = match self.next.take() {
                Some(m) => Ok(m),
                None => self.rx.try_recv(),
            };
            match next {
                Ok(Opened::Start {
                    keys,
                    events,
                    bytes,
                }) => {
                    let mut trace = Trace::with_keys(keys);
                    for event in events {
                        trace.add_app_event(event);
                    }
                    self.trace = trace;
                    self.total = Some(bytes);
                    changed = true;
                }
                Ok(Opened::Frames { frames, read }) => {
                    self.pending = frames.into_iter();
                    self.read = read;
                }
                Ok(Opened::Interfaces(names)) => {
                    if self.trace.frames().is_empty() {
                        self.trace.set_interface_names(names);
                    } else {
                        // An interface announced after frames (a new IDB): copies are found as
                        // frames arrive, so read the frames so far again with every name.
                        self.rebuild(None, Some(names));
                    }
                    changed = true;
                }
                Ok(Opened::Keys(keys)) => {
                    if self.trace.frames().is_empty() {
                        self.trace.add_keys(&keys);
                    } else {
                        // Secrets after frames that need them (packetpath writes them first;
                        // other tools may not): read the frames so far again with them.
                        self.rebuild(Some(&keys), None);
                    }
                    changed = true;
                }
                Ok(Opened::Events(events)) => {
                    for event in events {
                        self.trace.add_app_event(event);
                    }
                    changed = true;
                }
                Ok(Opened::TcpInfo(samples)) => {
                    for sample in samples {
                        self.trace.add_tcp_info(sample);
                    }
                    changed = true;
                }
                Ok(Opened::Done(damage)) => {
                    self.done = true;
                    if let Some(err) = damage {
                        tracing::warn!(
                            "{}: {} (the {} frames before it are shown)",
                            self.name,
                            err.reason,
                            self.trace.frames().len()
                        );
                    }
                    tracing::info!(
                        "{}: {} frames, {} application events",
                        self.name,
                        self.trace.frames().len(),
                        self.trace.app_events().len()
                    );
                }
                Ok(Opened::Failed(e)) => {
                    self.done = true;
                    tracing::warn!("{}: {e}", self.name);
                }
                Err(TryRecvError::Empty) => {
                    // The reader is busy: wait for it a little, within the budget.
                    let left = budget.saturating_sub(started.elapsed());
                    match self.rx.recv_timeout(left) {
                        Ok(m) => self.next = Some(m),
                        Err(_) => return changed,
                    }
                }
                Err(TryRecvError::Disconnected) => {
                    self.done = true;
                    tracing::warn!("{}: reading stopped", self.name);
                }
            }
        }
        changed
    }

    /// Reads the frames so far again into a new trace, with more secrets or other interface
    /// names; the application events are kept.
    fn rebuild(&mut self, keys: Option<&crate::tls::Keys>, names: Option<Vec<String>>) {
        let mut all = self.trace.keys().clone();
        if let Some(keys) = keys {
            all.merge(keys);
        }
        let names = names.unwrap_or_else(|| self.trace.interface_names().to_vec());
        let mut trace = Trace::with_keys(all);
        trace.set_interface_names(names);
        trace.reserve(self.trace.frames().len());
        for entry in self.trace.frames() {
            trace.push_frame(entry.frame.clone());
        }
        for event in self.trace.app_events() {
            trace.add_app_event(event.clone());
        }
        self.trace = trace;
    }

    /// The progress line while loading: "reading 34% · 412,000 frames".
    pub fn progress(&self) -> Option<String> {
        if self.done {
            return None;
        }
        let frames = self.trace.frames().len();
        Some(match self.total {
            Some(total) if total > 0 => format!(
                "reading {}% · {} frames",
                self.read.min(total) * 100 / total,
                thousands(frames)
            ),
            _ => format!("reading {}…", self.name),
        })
    }
}

pub use crate::report::thousands;

#[cfg(test)]
#[path = "loading_tests.rs"]
mod tests;
