//! The signals that ask packetpath to stop: Ctrl-C (SIGINT), `kill` (SIGTERM) and a closed
//! terminal window (SIGHUP). Every long-running command treats them alike: it finishes cleanly
//! (clients told, files written, the terminal given back) instead of dying mid-way.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Which stop signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C in the terminal.
    Interrupt,
    /// SIGTERM: `kill PID`, a service manager, a test harness.
    Terminate,
    /// SIGHUP: the terminal window was closed (or the SSH session ended).
    Hangup,
}

impl StopSignal {
    /// How a log line names it.
    pub fn describe(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "Ctrl-C",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP (the terminal was closed)",
        }
    }
}

/// Listeners for the three stop signals (SIGHUP only if it is not ignored, as under `nohup`). Create them before announcing that work has started: from
/// then on a signal no longer kills the process but is delivered to [`StopSignals::recv`].
pub struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Signal,
    /// None when the process was started ignoring SIGHUP (`nohup`): it must outlive the terminal.
    hangup: Option<Signal>,
}

/// True if this process was started with SIGHUP ignored (as `nohup` does). Read from
/// /proc/self/status (`SigIgn`, a hex mask with bit N-1 for signal N), before Tokio installs its
/// own handler, which would replace the inherited "ignore".
fn hangup_ignored() -> bool {
    crate::procfs::own_status_bit("SigIgn", libc::SIGHUP.unsigned_abs() - 1)
}

/// The next delivery of a signal that may not be listened for (then never).
async fn maybe_recv(signal: &mut Option<Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

fn hangup() -> std::io::Result<Option<Signal>> {
    if hangup_ignored() {
        return Ok(None);
    }
    signal(SignalKind::hangup()).map(Some)
}

impl StopSignals {
    /// Listens for SIGINT, SIGTERM and SIGHUP. Needs a Tokio runtime (the current one).
    pub fn new() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: Some(signal(SignalKind::interrupt())?),
            terminate: signal(SignalKind::terminate())?,
            hangup: hangup()?,
        })
    }

    /// Listens for SIGTERM and SIGHUP only: for a terminal UI, where Ctrl-C arrives as a key.
    pub fn without_interrupt() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: None,
            terminate: signal(SignalKind::terminate())?,
            hangup: hangup()?,
        })
    }

    /// Waits for the next stop signal.
    pub async fn recv(&mut self) -> StopSignal {
        let StopSignals {
            interrupt,
            terminate,
            hangup,
        } = self;
        tokio::select! {
            Some(()) = maybe_recv(interrupt) => StopSignal::Interrupt,
            Some(()) = terminate.recv() => StopSignal::Terminate,
            Some(()) = maybe_recv(hangup) => StopSignal::Hangup,
            else => std::future::pending().await,
        }
    }
}
