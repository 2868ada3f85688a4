//! The commands that look at packets: `inspect` (a saved capture), `capture` (live) and `trace`
//! (run the chat, capture it, and follow one message through every layer).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::capture::open_capture;
use crate::capture::{spawn_live, OutputPath};
use crate::chat::{AppEvent, KeyLogEntry, Side, Transport};
use crate::frame::Frame;
use crate::journey::{Journey, Trace};
use crate::lab::attack::Attack;
use crate::report::{self, Format};
use crate::session::{ClientKnobs, Session};
use crate::tls::Keys;

/// The line `demo --script --attack` sends through the attacker.
pub const DEMO_ATTACK_LINE: &str = "hi bob, can you read this?";

/// Turns secrets logged by our own TLS endpoints into decryption keys.
pub fn keys_from_log(entries: &[KeyLogEntry]) -> Keys {
    let mut keys = Keys::new();
    for e in entries {
        keys.add(&e.label, &e.client_random, &e.secret);
    }
    keys
}

/// Reads an SSLKEYLOGFILE as it grows: each `poll` returns the secrets of the complete lines
/// added since the last one. A file that does not exist yet, or cannot be read, gives nothing
/// (and is tried again next time); a file that shrank is read again from the start.
struct KeyLogFollower {
    path: PathBuf,
    read: u64,
    partial: Vec<u8>,
    /// Whole lines parsed so far (warnings name lines of the file).
    lines: usize,
}

impl KeyLogFollower {
    fn new(path: PathBuf) -> Self {
        KeyLogFollower {
            path,
            read: 0,
            partial: Vec::new(),
            lines: 0,
        }
    }

    fn poll(&mut self) -> Keys {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(len) = std::fs::metadata(&self.path).map(|m| m.len()) else {
            return Keys::new();
        };
        if len == self.read {
            return Keys::new();
        }
        if len < self.read {
            self.read = 0;
            self.partial.clear();
            self.lines = 0;
        }
        let mut added = Vec::new();
        let got = std::fs::File::open(&self.path).and_then(|mut file| {
            file.seek(SeekFrom::Start(self.read))?;
            file.read_to_end(&mut added)
        });
        if let Err(e) = got {
            tracing::debug!("cannot read {} yet: {e}", self.path.display());
            return Keys::new();
        }
        self.read += added.len() as u64;
        self.partial.extend_from_slice(&added);
        // Only whole lines: the writer may be in the middle of one.
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Keys::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        let (keys, warnings) = Keys::parse_nss_lines(&complete, self.lines + 1);
        self.lines += complete.iter().filter(|b| **b == b'\n').count();
        for w in warnings {
            tracing::warn!("{}: {w}", self.path.display());
        }
        keys
    }
}

fn print_frames(trace: &Trace, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let app = report::app_events_by_frame(trace);
    let t0 = trace
        .frames()
        .first()
        .map(|f| f.frame.at)
        .unwrap_or_default();
    for entry in trace.frames() {
        let events = app.get(&entry.number).map_or(&[][..], |v| v.as_slice());
        match format {
            Format::Json => out.write_all(&report::frame_json_line(trace, entry, events))?,
            Format::Text => writeln!(out, "{}", report::frame_text(trace, entry, events, t0))?,
        }
    }
    Ok(())
}

/// Below this many frames settled at once, `inspect` formats them on one thread.
const PARALLEL_FROM: usize = 64;

/// `packetpath inspect FILE`: prints every frame's layers, or with `series` each TCP
/// connection's time series (RTT, window, throughput, the kernel's samples). Frames are printed
/// as the file is read, each once nothing later can change it, and then forgotten, so memory
/// stays flat however large the file (see [`crate::capture::stream_capture`]); `series` needs the
/// whole capture and holds it. `progress(done, total)` is called now and then (bytes of the file
/// for frames, frames for `series`). A file cut short or corrupt is an error after printing every
/// frame read before the damage.
pub fn inspect(
    file: &Path,
    keylog: Option<&Path>,
    format: Format,
    series: bool,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<()> {
    let (frames, damage) = if series {
        let (trace, damage) = open_capture(file, keylog, progress)?;
        match format {
            Format::Json => {
                for s in report::series::series_json(&trace) {
                    writeln!(out, "{s}")?;
                }
            }
            Format::Text => write!(out, "{}", report::series::series_text(&trace))?,
        }
        (trace.frame_count(), damage)
    } else {
        let mut t0 = None;
        // The two halves' text, kept from batch to batch (a fresh buffer of many megabytes each
        // time would be new pages for the kernel to fault in and zero).
        let mut buffers = (Vec::new(), Vec::new());
        let show = |trace: &Trace, settled: &[(u32, Vec<usize>)]| -> anyhow::Result<()> {
            let Some(first) = settled.first().and_then(|(n, _)| trace.frame(*n)) else {
                return Ok(());
            };
            let t0 = *t0.get_or_insert(first.frame.at);
            let format_some = |part: &[(u32, Vec<usize>)], text: &mut Vec<u8>| {
                text.clear();
                // About what the frames need (JSON writes a decrypted byte as two hex digits),
                // so the buffer is seldom moved as it grows.
                let bytes: usize = part
                    .iter()
                    .filter_map(|(n, _)| trace.frame(*n))
                    .map(|e| e.frame.data.len())
                    .sum();
                text.reserve(part.len() * 1024 + bytes * 2);
                for (number, app) in part {
                    if let Some(entry) = trace.frame(*number) {
                        match format {
                            Format::Json => report::write_frame_json(text, trace, entry, app),
                            Format::Text => {
                                // Writing into a Vec cannot fail.
                                let _ =
                                    writeln!(text, "{}", report::frame_text(trace, entry, app, t0));
                            }
                        }
                    }
                }
            };
            let (front_text, back_text) = &mut buffers;
            // Formatting is most of the work, so a large batch is formatted in two halves at
            // once, on both cores, each half's values made and freed on the thread that writes
            // them (handing values between threads cost more than it saved).
            if settled.len() < PARALLEL_FROM {
                format_some(settled, front_text);
                out.write_all(front_text)?;
                return Ok(());
            }
            let (front, back) = settled.split_at(settled.len() / 2);
            let back = std::thread::scope(|scope| {
                let back = scope.spawn(|| format_some(back, back_text));
                format_some(front, front_text);
                back.join()
            });
            if let Err(panic) = back {
                std::panic::resume_unwind(panic);
            }
            out.write_all(front_text)?;
            out.write_all(back_text)?;
            Ok(())
        };
        let streamed = crate::capture::stream_capture_in_batches(
            file,
            keylog,
            crate::capture::STREAM_BATCH,
            progress,
            show,
        )?;
        (streamed.frames, streamed.error)
    };
    if let Some(err) = damage {
        anyhow::bail!(
            "{}: {} (the {frames} frames before it were {})",
            file.display(),
            err.reason,
            if series { "read" } else { "shown" }
        );
    }
    Ok(())
}

/// Settings of `packetpath capture`.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Interface to capture on (`lo` is the loopback).
    pub interface: String,
    /// Only TCP segments to or from these ports (empty: all TCP).
    pub ports: Vec<u16>,
    /// Stop after this many frames.
    pub count: Option<usize>,
    /// Stop after this long.
    pub seconds: Option<f64>,
    /// Also write the frames to this pcapng file (checked before the capture starts).
    pub write: Option<OutputPath>,
    /// Decrypt with (and embed) secrets from this key-log file.
    pub keylog: Option<PathBuf>,
    /// Output format.
    pub format: Format,
}

/// `packetpath capture`: captures live, printing each frame as it arrives, until the count or time
/// is reached or Ctrl-C; then drains what the kernel still holds and reports drops.
pub async fn capture(options: CaptureOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<()> {
    // The key log is followed while capturing: the usual order is to start the capture, then the
    // programs whose SSLKEYLOGFILE fills it, so its lines mostly arrive during the capture.
    let mut key_log = options.keylog.clone().map(KeyLogFollower::new);
    if let Some(f) = &key_log {
        if !f.path.exists() {
            tracing::info!(
                "{} does not exist yet: its TLS secrets will be read as they are written",
                f.path.display()
            );
        }
    }
    let (handle, mut frames) = spawn_live(&options.interface, &options.ports)?;
    // Register for Ctrl-C (SIGINT) before saying we are capturing: a signal sent right after that
    // line must stop the capture cleanly, not kill the process before the file is written.
    let mut signals =
        crate::stop::StopSignals::new().context("cannot listen for Ctrl-C and SIGTERM")?;
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let signal = signals.recv().await;
        tracing::info!("{}: stopping the capture", signal.describe());
        on_signal.cancel();
    });
    tracing::info!(
        "capturing on {}{}; Ctrl-C to stop",
        options.interface,
        if options.ports.is_empty() {
            String::new()
        } else {
            format!(" (TCP ports {:?})", options.ports)
        }
    );
    let deadline = options
        .seconds
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut trace = Trace::new();
    let mut kept = Vec::new();
    let mut t0 = None;
    let limit = options.count.unwrap_or(usize::MAX);
    let mut emit =
        |trace: &mut Trace, frame: Frame, out: &mut (dyn Write + Send)| -> anyhow::Result<()> {
            if let Some(follower) = &mut key_log {
                // Secrets a TLS endpoint logged before sending this frame are in the file now.
                trace.add_keys(&follower.poll());
            }
            if options.write.is_some() {
                kept.push(frame.clone());
            }
            let at = frame.at;
            let n = trace.push_frame(frame);
            let t0 = *t0.get_or_insert(at);
            if let Some(entry) = trace.frame(n) {
                match options.format {
                    Format::Json => out.write_all(&report::frame_json_line(trace, entry, &[]))?,
                    Format::Text => writeln!(out, "{}", report::frame_text(trace, entry, &[], t0))?,
                }
            }
            Ok(())
        };
    while trace.frames().len() < limit {
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = sleep => break,
            frame = frames.recv() => match frame {
                Some(frame) => emit(&mut trace, frame, out)?,
                None => break,
            },
        }
    }
    let stats = tokio::task::spawn_blocking(move || handle.stop()).await??;
    while trace.frames().len() < limit {
        match frames.try_recv() {
            Ok(frame) => emit(&mut trace, frame, out)?,
            Err(_) => break,
        }
    }
    tracing::info!(
        "{} frames captured; the kernel dropped {} (received {})",
        trace.frames().len(),
        stats.dropped,
        stats.received
    );
    if let Some(follower) = &mut key_log {
        // Lines written after the last frame still belong in the saved file's secrets.
        trace.add_keys(&follower.poll());
    }
    if let Some(path) = &options.write {
        write_pcapng(path, &kept, &trace)?;
    }
    Ok(())
}

/// `capture --write`, `trace --write` and the samples: writes frames, the TLS secrets (a Decryption Secrets Block, so Wireshark decrypts with no
/// options) and the application events (packet comments, see [`crate::journey::ledger`]) as pcapng.
pub fn write_pcapng(path: &OutputPath, frames: &[Frame], trace: &Trace) -> anyhow::Result<()> {
    write_pcapng_with(path, frames, trace, &[])
}

/// [`write_pcapng`], with more packetpath Custom Blocks after the ledger (a lesson record).
pub fn write_pcapng_with(
    path: &OutputPath,
    frames: &[Frame],
    trace: &Trace,
    extra: &[Vec<u8>],
) -> anyhow::Result<()> {
    crate::session::Recorder::new(path.clone()).finish(trace, frames, extra)?;
    Ok(())
}

/// Settings of `packetpath trace`.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// The message to send.
    pub text: String,
    /// TLS 1.3, TLS 1.2 or plain TCP.
    pub transport: Transport,
    /// TCP MSS the client announces.
    pub mss: Option<u32>,
    /// Nagle's algorithm switch for the client.
    pub no_delay: Option<bool>,
    /// The most application bytes per TLS record.
    pub max_fragment: Option<usize>,
    /// Certificate folder.
    pub cert_dir: PathBuf,
    /// The lab (or the host's loopback) the conversation runs in.
    pub lab: crate::lab::Lab,
    /// Before the chat, send one UDP datagram of this many bytes from the client to the server
    /// with "don't fragment" clear (`--datagram`), to see it fragmented.
    pub datagram: Option<usize>,
    /// `--attack`: the attack the lab's attacker makes on the line's segment (or, `mitm`, r1
    /// taking the connection).
    pub attack: Option<crate::lab::attack::Attack>,
    /// `--insecure`: the client does not check the server's certificate.
    pub insecure: bool,
}

/// What `trace` captured: the whole trace, and the journeys of the message and of its reply.
pub struct TraceOutcome {
    /// Every frame of the conversation.
    pub trace: Trace,
    /// The message sent, then the server's answer (when captured).
    pub journeys: Vec<Journey>,
    /// The frames as captured, for writing.
    pub frames: Vec<Frame>,
    /// `--datagram`: the bytes sent, and how many the server received (`None`: nothing came).
    pub datagram: Option<(usize, Option<usize>)>,
    /// `--attack`: what the attacker changed and what came of it.
    pub attack: Option<report::attack::AttackStory>,
    /// `--attack mitm`: what the man in the middle did.
    pub mitm: Option<report::mitm::MitmStory>,
}

/// `packetpath trace`: starts a server and a client, captures their traffic, sends the text, waits
/// for the server's answer, closes, and follows the message through every layer.
pub async fn trace(options: &TraceOptions) -> anyhow::Result<TraceOutcome> {
    let max = crate::chat::protocol::MAX_LINE;
    if options.text.len() > max || options.text.contains('\n') {
        anyhow::bail!(
            "TEXT must be one chat line of at most {max} bytes without newlines (it is {} bytes)",
            options.text.len()
        );
    }
    // A session does the work: server, client and capture in the lab, secrets and the write
    // ledger collected as they happen (SSLKEYLOGFILE honoured).
    let mut session = Session::with_server(
        options.cert_dir.clone(),
        options.lab.clone(),
        options.transport,
    )
    .await?;
    let knobs = ClientKnobs {
        mss: options.mss,
        no_delay: options.no_delay,
        max_fragment: options.max_fragment,
        insecure: options.insecure,
        ..ClientKnobs::default()
    };
    let datagram = match options.datagram {
        None => None,
        Some(bytes) => {
            let lab = options.lab.clone();
            let received = tokio::task::spawn_blocking(move || lab.send_datagram(bytes))
                .await
                .map_err(|e| anyhow::anyhow!("the datagram's sender stopped: {e}"))??;
            Some((bytes, received))
        }
    };
    let mitm = options.attack.is_some_and(Attack::is_mitm);
    // The lab may have served other traces before (the scripted demo runs two): this one's
    // attack is what its attacker does from now on.
    let acted_before = options.lab.attacker().map_or(0, |s| s.tamperings().len());
    // A verifying client refuses a man in the middle: that is the story then.
    let refused = match session.connect("alice", knobs).await {
        Ok(_) => None,
        Err(e) if mitm => Some(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    // An attacker on the path acts on the segment of this line, and only it.
    let reply = match options.attack {
        _ if refused.is_some() => crate::session::Reply::Closed {
            why: refused.clone(),
            lines: Vec::new(),
        },
        Some(attack) if !mitm => {
            session
                .attack_line(
                    "alice",
                    attack,
                    &options.text,
                    (attack == Attack::DropRecord).then_some(crate::lab::attack::LINE_AFTER_A_DROP),
                )
                .await?
        }
        _ => {
            session.send("alice", &options.text).await?;
            session
                .wait_reply("alice", |l| l.starts_with("server: received"))
                .await?
        }
    };
    let client_error = match reply {
        crate::session::Reply::Line(_) => None,
        crate::session::Reply::Closed { why, .. } if options.attack.is_some() && !mitm => why,
        crate::session::Reply::Closed { .. } if refused.is_some() => None,
        crate::session::Reply::Closed { why, .. } => anyhow::bail!(
            "the server closed the connection before answering{}",
            why.map(|w| format!(": {w}")).unwrap_or_default()
        ),
    };
    session.settle().await?;
    let port = session.server_addr().map_or(0, |a| a.port());
    let attacker = session.mitm();
    let (trace, frames, stats) = session.finish().await?;
    if stats.dropped > 0 {
        tracing::warn!(
            "the kernel dropped {} frames during the capture",
            stats.dropped
        );
    }
    let sent = format!("{}\n", options.text);
    let mut journeys = Vec::new();
    let events = trace.app_events();
    if let Some(j) = events
        .iter()
        .find(|e| {
            e.side == Side::Client
                && e.dir == crate::chat::Direction::Write
                && e.bytes == sent.as_bytes()
        })
        .and_then(|e| trace.journey(e))
    {
        journeys.push(j);
    }
    if let Some(j) = events
        .iter()
        .find(|e| {
            e.side == Side::Server
                && e.dir == crate::chat::Direction::Write
                && e.bytes.starts_with(b"server: received")
        })
        .and_then(|e| trace.journey(e))
    {
        journeys.push(j);
    }
    if journeys.is_empty() && refused.is_none() {
        anyhow::bail!(
            "the message was sent but its packets were not found in the capture ({} frames captured)",
            frames.len()
        );
    }
    let mitm = attacker.zip(options.attack).map(|((log, ca), attack)| {
        report::mitm::MitmStory::of(attack, &trace, port, &log, ca, refused.clone())
    });
    let attack = match options.attack.and(options.lab.attacker()) {
        None => None,
        Some(a) => {
            let tampering = a
                .tamperings()
                .into_iter()
                .nth(acted_before)
                .ok_or_else(|| {
                    anyhow::anyhow!("the attacker saw no segment of the line to change")
                })?;
            Some(report::attack::AttackStory::of(
                &trace,
                &tampering,
                client_error,
            ))
        }
    };
    Ok(TraceOutcome {
        trace,
        journeys,
        frames,
        datagram,
        attack,
        mitm,
    })
}

impl TraceOutcome {
    /// Prints the journey in the chosen format.
    pub fn print(
        &self,
        options: &TraceOptions,
        format: Format,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let sent = format!("{}\n", options.text);
        match format {
            Format::Json => {
                let mut json = report::journey_json(
                    &self.trace,
                    &sent,
                    options.transport.name(),
                    &self.journeys,
                );
                if let Some(obj) = json.as_object_mut() {
                    let (fragmented, path_mtu) = report::paths::paths_json(&self.trace);
                    obj.insert("fragmented".into(), fragmented);
                    obj.insert("path_mtu".into(), path_mtu);
                    obj.insert(
                        "series".into(),
                        serde_json::Value::Array(report::series::series_json(&self.trace)),
                    );
                    if let Some(story) = &self.attack {
                        obj.insert("attack".into(), story.json(&sent));
                    }
                    if let Some(story) = &self.mitm {
                        obj.insert("mitm".into(), story.json());
                    }
                    if let Some((sent, received)) = self.datagram {
                        obj.insert(
                            "datagram".into(),
                            serde_json::json!({"sent": sent, "received": received}),
                        );
                    }
                }
                writeln!(out, "{json}")?
            }
            Format::Text => {
                let titles = [
                    "the message, client → server",
                    "the server's answer, server → client",
                ];
                for (j, title) in self.journeys.iter().zip(titles) {
                    let text = self
                        .trace
                        .app_events()
                        .iter()
                        .find(|e| trace_matches(e, j))
                        .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{}",
                        report::journey_text(
                            &self.trace,
                            &text,
                            options.transport.name(),
                            j,
                            title
                        )
                    )?;
                }
                if let Some((sent, received)) = self.datagram {
                    match received {
                        Some(n) => writeln!(
                            out,
                            "the datagram: {sent} B of UDP sent from the client with \"don't fragment\" clear; the server received {n} B, put together again"
                        )?,
                        None => writeln!(
                            out,
                            "the datagram: {sent} B of UDP sent from the client with \"don't fragment\" clear; the server did not receive it within a second"
                        )?,
                    }
                }
                write!(out, "{}", report::paths::paths_text(&self.trace))?;
                if let Some(story) = &self.attack {
                    write!(out, "{}", story.text(&sent))?;
                }
                if let Some(story) = &self.mitm {
                    write!(out, "{}", story.text())?;
                }
                writeln!(out, "link: {}", options.lab.describe())?;
                writeln!(out, "every frame of the conversation:")?;
                print_frames(&self.trace, Format::Text, out)?;
            }
        }
        Ok(())
    }

    /// The handout of the message (client → server) in `format`.
    pub fn handout(
        &self,
        options: &TraceOptions,
        format: report::handout::HandoutFormat,
    ) -> anyhow::Result<String> {
        let message = self
            .journeys
            .first()
            .and_then(|j| {
                self.trace
                    .app_events()
                    .iter()
                    .position(|e| trace_matches(e, j))
            })
            .ok_or_else(|| anyhow::anyhow!("the message's write is not in the capture"))?;
        let source = format!(
            "packetpath trace {:?} · {} · {}",
            options.text,
            options.transport.name(),
            options.lab.describe()
        );
        let handout = report::handout::Handout::build(
            &self.trace,
            crate::ui::detail::Subject::Message(message),
            source,
        );
        Ok(format.render(&handout)?)
    }

    /// Writes the capture, with the session secrets, as pcapng.
    pub fn write(&self, path: &OutputPath) -> anyhow::Result<()> {
        write_pcapng(path, &self.frames, &self.trace)
    }
}

fn trace_matches(e: &AppEvent, j: &Journey) -> bool {
    e.dir == crate::chat::Direction::Write
        && e.offset == j.plaintext.start
        && e.bytes.len() as u64 == j.plaintext.end - j.plaintext.start
}

#[cfg(test)]
mod key_log_tests {
    use super::KeyLogFollower;

    #[test]
    fn follows_a_key_log_as_it_is_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keys.log");
        let mut follower = KeyLogFollower::new(path.clone());
        assert!(follower.poll().is_empty(), "no file yet: nothing, no error");
        let random = "11".repeat(32);
        let line = |label: &str, secret: &str| format!("{label} {random} {secret}\n");
        let first = line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &"aa".repeat(32));
        // Half a line: held back until its end arrives.
        let (head, _) = first.split_at(40);
        std::fs::write(&path, head).expect("write");
        assert!(follower.poll().is_empty());
        let second = line("SERVER_HANDSHAKE_TRAFFIC_SECRET", &"bb".repeat(32));
        std::fs::write(&path, format!("{first}{second}")).expect("write");
        assert_eq!(follower.poll().len(), 2, "both lines once complete");
        assert_eq!(follower.poll().len(), 0, "nothing new");
        // A new, shorter file (a new session overwrote it) is read from its start.
        std::fs::write(&path, line("CLIENT_TRAFFIC_SECRET_0", &"cc".repeat(32))).expect("write");
        assert_eq!(follower.poll().len(), 1);
    }
}

#[cfg(test)]
mod ledger_block_tests {
    use super::*;
    use crate::chat::{AppEvent, ConnId, Direction, Side};
    use crate::frame::Timestamp;
    use crate::journey::ledger::{BLOCK_MAX, LEDGER_PEN};

    #[test]
    fn a_long_session_is_saved_in_blocks_wireshark_reads_and_comes_back_whole() {
        // A demo's 200 MB transfer wrote an 800 MB ledger block, which Wireshark refuses
        // ("total block length … is too large"). 20 writes of 1 MiB are 40 MiB of hex.
        let mut trace = Trace::new();
        let conn = ConnId {
            client: "10.0.0.1:5000".parse().unwrap(),
            server: "10.0.0.2:8443".parse().unwrap(),
        };
        for i in 0..20u64 {
            trace.add_app_event(AppEvent {
                conn,
                side: Side::Client,
                dir: Direction::Write,
                at: Timestamp(1_000 + i as i128),
                offset: i * (1 << 20),
                bytes: bytes::Bytes::from(vec![i as u8; 1 << 20]),
            });
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.pcapng");
        let output = OutputPath::check(&path, false).unwrap();
        write_pcapng(&output, &[], &trace).unwrap();
        let capture = crate::capture::read_capture_file(&path).unwrap();
        let blocks: Vec<_> = capture
            .custom
            .iter()
            .filter(|b| b.pen == LEDGER_PEN)
            .collect();
        assert!(blocks.len() >= 3, "{} blocks", blocks.len());
        for b in &blocks {
            assert!(b.data.len() <= BLOCK_MAX + 3, "{} bytes", b.data.len());
        }
        let (read, _) = crate::capture::open_capture(&path, None, &mut |_, _| {}).unwrap();
        assert_eq!(read.app_events(), trace.app_events());
    }
}

#[cfg(test)]
mod inspect_tests {
    use super::*;
    use crate::capture::{open_capture, test_support::sample_captures as samples};
    use crate::report::{app_events_by_frame, frame_json, frame_text};

    #[test]
    fn inspect_prints_what_reading_the_whole_capture_shows() {
        // `inspect` formats a batch of frames in two halves on two threads: the halves must come out
        // whole and in order, in text and in JSON.
        use crate::report::Format;
        let mut largest = 0;
        for path in samples() {
            let (trace, damage) = open_capture(&path, None, &mut |_, _| {}).unwrap();
            largest = largest.max(trace.frames().len());
            let app = app_events_by_frame(&trace);
            let t0 = trace.frames().first().map(|e| e.frame.at);
            for format in [Format::Text, Format::Json] {
                let mut expected = String::new();
                for e in trace.frames() {
                    let events = app.get(&e.number).map_or(&[][..], |v| v.as_slice());
                    let line = match format {
                        Format::Json => frame_json(&trace, e, events).to_string(),
                        Format::Text => frame_text(&trace, e, events, t0.unwrap_or_default()),
                    };
                    expected.push_str(&line);
                    expected.push('\n');
                }
                let mut out = Vec::new();
                let result =
                    crate::commands::inspect(&path, None, format, false, &mut out, &mut |_, _| {});
                assert_eq!(result.is_err(), damage.is_some(), "{}", path.display());
                let got = String::from_utf8(out).unwrap();
                assert!(got == expected, "{} ({format:?})", path.display());
            }
        }
        let split = PARALLEL_FROM;
        assert!(
            largest >= split,
            "a sample has at least {split} frames, and is split: {largest} frames"
        );
    }
}
