//! A deterministic generator of real TLS 1.3 chat traffic for benchmarks.
//!
//! rustls clients and a rustls server (ring provider, rcgen certificate) talk through memory; every
//! TLS byte they write is cut into TCP segments of at most 1,448 bytes with correct sequence and
//! acknowledgement numbers, pure ACKs interleaved as a delayed-ACK receiver sends them, wrapped in
//! Ethernet/IPv4/TCP and written with [`PcapngWriter`] as it is made. The secrets go to a key-log
//! file beside it.
//!
//! The traffic pattern (connections, who writes what, sizes, times, segmentation) comes from a seeded
//! PRNG and is the same on every run; the key material, and with it the ciphertext, is fresh each time
//! (ring and rcgen draw their own randomness), so the result is cached under `target/bench-capture/`.

mod tls;
mod wire;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use packetpath::capture::PcapngWriter;
use packetpath::frame::LinkType;
use rustls::Connection;

use wire::{Endpoint, Wire, ACK, FIN, PSH, SEGMENT, SYN};

/// Bump when the traffic pattern changes, so stale cached captures are not reused.
const GENERATOR_VERSION: u32 = 1;
/// TCP connections in the capture.
const CONNECTIONS: usize = 8;
/// Server address (loopback, as the chat runs).
const SERVER: ([u8; 4], u16) = ([127, 0, 0, 1], 8443);
/// Capture start: 2026-01-01 00:00:00 UTC.
const START_NS: i128 = 1_767_225_600 * 1_000_000_000;

/// A generated capture on disk.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The pcapng file.
    pub pcapng: PathBuf,
    /// The NSS key-log file with every session's secrets.
    pub keylog: PathBuf,
    /// Frames in the file.
    pub frames: u64,
    /// Size of the pcapng file in bytes.
    pub file_bytes: u64,
}

/// Frames in the smoke-test capture used when the benchmark binary runs without `--bench`
/// (as `cargo test --benches` does).
pub const SMOKE_FRAMES: u64 = 3_000;

/// Cargo's target folder (CARGO_TARGET_DIR or `target/`), where generated captures are cached.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The capture a benchmark binary works on: `bench_frames` frames when run by `cargo bench`,
/// [`SMOKE_FRAMES`] otherwise; cached in `target/bench-capture/`.
pub fn for_this_run(bench_frames: u64) -> std::io::Result<Generated> {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let frames = if benchmarking {
        bench_frames
    } else {
        SMOKE_FRAMES
    };
    ensure(&target_dir().join("bench-capture"), frames)
}

/// What the generated traffic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // each benchmark binary uses its own
pub enum Pattern {
    /// Eight connections chatting: short lines, now and then a write of 8–16 KB.
    Chat,
    /// One short chat, then one connection on which the server sends 16 KB writes, the client
    /// acknowledging every 16th segment (as a bulk transfer on loopback looks): large frames, most
    /// of the file one stream.
    Transfer,
}

/// The capture with at least `min_frames` frames, generated into `dir` unless already there.
pub fn ensure(dir: &Path, min_frames: u64) -> std::io::Result<Generated> {
    ensure_pattern(dir, min_frames, Pattern::Chat)
}

/// [`ensure`] for a traffic pattern; `bench_frames` frames when run by `cargo bench`,
/// [`SMOKE_FRAMES`] otherwise.
#[allow(dead_code)] // each benchmark binary uses its own
pub fn for_this_run_pattern(bench_frames: u64, pattern: Pattern) -> std::io::Result<Generated> {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let frames = if benchmarking {
        bench_frames
    } else {
        SMOKE_FRAMES
    };
    ensure_pattern(&target_dir().join("bench-capture"), frames, pattern)
}

/// The capture of `pattern` with at least `min_frames` frames, generated into `dir` unless
/// already there.
pub fn ensure_pattern(dir: &Path, min_frames: u64, pattern: Pattern) -> std::io::Result<Generated> {
    std::fs::create_dir_all(dir)?;
    let name = match pattern {
        Pattern::Chat => "chat",
        Pattern::Transfer => "transfer",
    };
    let stem = format!("{name}-tls13-v{GENERATOR_VERSION}-{min_frames}");
    let pcapng = dir.join(format!("{stem}.pcapng"));
    let keylog = dir.join(format!("{stem}.keys"));
    let count = dir.join(format!("{stem}.frames"));
    if let (Ok(meta), true, Ok(text)) = (
        std::fs::metadata(&pcapng),
        keylog.exists(),
        std::fs::read_to_string(&count),
    ) {
        if let Ok(frames) = text.trim().parse() {
            return Ok(Generated {
                pcapng,
                keylog,
                frames,
                file_bytes: meta.len(),
            });
        }
    }
    let started = std::time::Instant::now();
    let tmp = dir.join(format!("{stem}.pcapng.tmp"));
    let (frames, keys) = generate(&tmp, min_frames, pattern)?;
    std::fs::write(&keylog, keys)?;
    std::fs::rename(&tmp, &pcapng)?;
    std::fs::write(&count, format!("{frames}\n"))?;
    let file_bytes = std::fs::metadata(&pcapng)?.len();
    eprintln!(
        "generated {} ({frames} frames, {:.1} MB) in {:.1} s",
        pcapng.display(),
        file_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(Generated {
        pcapng,
        keylog,
        frames,
        file_bytes,
    })
}

/// splitmix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: &[&str] = &[
    "hello",
    "packet",
    "frame",
    "segment",
    "record",
    "window",
    "the",
    "a",
    "is",
    "on",
    "loopback",
    "latency",
    "ack",
    "handshake",
    "cipher",
    "nonce",
    "and",
    "so",
    "we",
    "send",
    "again",
    "quick",
    "lesson",
    "layer",
    "stack",
    "byte",
    "stream",
    "why",
    "does",
    "it",
    "work",
    "now",
];

/// A chat line of `len` bytes ("name: words...\n").
fn chat_line(rng: &mut Rng, who: &str, len: usize) -> Vec<u8> {
    let mut line = format!("{who}: ").into_bytes();
    while line.len() < len {
        line.extend_from_slice(WORDS[rng.range(0, WORDS.len() as u64 - 1) as usize].as_bytes());
        line.push(b' ');
    }
    line.truncate(len.saturating_sub(1));
    line.push(b'\n');
    line
}

/// A large write (a pasted log or file) of `len` bytes.
fn bulk(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut n = rng.next() % 100_000;
    while out.len() < len {
        n += 1;
        out.extend_from_slice(format!("line {n:06}: {:016x}\n", rng.next()).as_bytes());
    }
    out.truncate(len);
    out
}

/// One TCP connection carrying one TLS session.
struct Conn {
    /// `[client, server]`.
    tls: [Connection; 2],
    /// `[client, server]`.
    ends: [Endpoint; 2],
    /// Plaintext bytes each side has written and the other has read: `[written, read]` per side.
    sent: [u64; 2],
    received: [u64; 2],
    /// The receiver acknowledges every this many segments.
    ack_every: u32,
}

impl Conn {
    /// Sends `bytes` from side `from` (0 client, 1 server) as segments of at most [`SEGMENT`] bytes;
    /// the receiver acknowledges every second segment (RFC 9293 section 3.8.6.3) and, at the end of the
    /// flight, sometimes at once (delayed-ACK timer) and otherwise with its next data.
    fn send_tcp<W: Write>(
        &mut self,
        wire: &mut Wire<W>,
        rng: &mut Rng,
        from: usize,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let [c, s] = &mut self.ends;
        let (src, dst) = if from == 0 { (c, s) } else { (s, c) };
        let chunks = bytes.chunks(SEGMENT);
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.enumerate() {
            let flags = if i == last { ACK | PSH } else { ACK };
            wire.segment(src, dst, flags, &[], chunk)?;
            wire.wait(rng.range(4_000, 30_000));
            if dst.unacked >= self.ack_every {
                wire.segment(dst, src, ACK, &[], &[])?;
                wire.wait(rng.range(2_000, 10_000));
            }
        }
        if dst.unacked > 0 && rng.chance(60) {
            wire.wait(rng.range(20_000, 200_000));
            wire.segment(dst, src, ACK, &[], &[])?;
        }
        Ok(())
    }

    /// Lets side `from`'s TLS engine write what it has, sends it, and feeds it to the other side.
    /// Returns whether anything was written.
    fn flush<W: Write>(
        &mut self,
        wire: &mut Wire<W>,
        rng: &mut Rng,
        from: usize,
    ) -> std::io::Result<bool> {
        if !self.tls[from].wants_write() {
            return Ok(false);
        }
        let mut out = Vec::new();
        while self.tls[from].wants_write() {
            self.tls[from].write_tls(&mut out)?;
        }
        self.send_tcp(wire, rng, from, &out)?;
        let to = 1 - from;
        let mut rest = &out[..];
        let mut plain = [0u8; 32 * 1024];
        while !rest.is_empty() {
            self.tls[to].read_tls(&mut rest)?;
            self.tls[to]
                .process_new_packets()
                .map_err(std::io::Error::other)?;
            loop {
                match self.tls[to].reader().read(&mut plain) {
                    Ok(0) => break,
                    Ok(n) => self.received[to] += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(true)
    }

    /// Runs both TLS engines until neither has anything to send.
    fn pump<W: Write>(&mut self, wire: &mut Wire<W>, rng: &mut Rng) -> std::io::Result<()> {
        loop {
            let client = self.flush(wire, rng, 0)?;
            let server = self.flush(wire, rng, 1)?;
            if !client && !server {
                return Ok(());
            }
        }
    }

    /// Side `from` writes `data` as the application would.
    fn write<W: Write>(
        &mut self,
        wire: &mut Wire<W>,
        rng: &mut Rng,
        from: usize,
        data: &[u8],
    ) -> std::io::Result<()> {
        self.tls[from].writer().write_all(data)?;
        self.sent[from] += data.len() as u64;
        self.pump(wire, rng)
    }
}

/// Options of a SYN besides timestamps: MSS 1460 (RFC 9293 section 3.2), SACK permitted
/// (RFC 2018), NOP, window scale 7 (RFC 7323 section 2).
const SYN_OPTIONS: [u8; 10] = [2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7];

/// The three-way handshake, then the TLS handshake.
fn open<W: Write>(wire: &mut Wire<W>, rng: &mut Rng, conn: &mut Conn) -> std::io::Result<()> {
    let [c, s] = &mut conn.ends;
    wire.segment(c, s, SYN, &SYN_OPTIONS, &[])?;
    wire.wait(rng.range(10_000, 40_000));
    wire.segment(s, c, SYN | ACK, &SYN_OPTIONS, &[])?;
    wire.wait(rng.range(10_000, 40_000));
    wire.segment(c, s, ACK, &[], &[])?;
    s.unacked = 0;
    c.unacked = 0;
    wire.wait(rng.range(50_000, 200_000));
    conn.pump(wire, rng)
}

/// close_notify both ways, then FIN from the client, FIN+ACK from the server, the last ACK.
fn close<W: Write>(wire: &mut Wire<W>, rng: &mut Rng, conn: &mut Conn) -> std::io::Result<()> {
    conn.tls[0].send_close_notify();
    conn.pump(wire, rng)?;
    conn.tls[1].send_close_notify();
    conn.pump(wire, rng)?;
    let [c, s] = &mut conn.ends;
    wire.segment(c, s, FIN | ACK, &[], &[])?;
    wire.wait(rng.range(10_000, 40_000));
    wire.segment(s, c, FIN | ACK, &[], &[])?;
    wire.wait(rng.range(10_000, 40_000));
    wire.segment(c, s, ACK, &[], &[])?;
    Ok(())
}

/// Writes the capture to `path`; returns the frame count and the key-log text.
fn generate(path: &Path, min_frames: u64, pattern: Pattern) -> std::io::Result<(u64, String)> {
    let mut rng = Rng(0x7061_636b_6574_7061); // "packetpa"
    let endpoints = tls::Endpoints::new();
    let out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let writer = PcapngWriter::new(out, LinkType::Ethernet).map_err(std::io::Error::other)?;
    let mut wire = Wire::new(writer, START_NS);

    let mut conns: Vec<Conn> = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let isn = rng.next() as u32;
        let server_isn = rng.next() as u32;
        let mut conn = Conn {
            tls: endpoints.pair(i),
            ends: [
                Endpoint::new(
                    [127, 0, 0, 1],
                    50_000 + 37 * i as u16,
                    isn,
                    rng.next() as u32,
                ),
                Endpoint::new(SERVER.0, SERVER.1, server_isn, rng.next() as u32),
            ],
            sent: [0, 0],
            received: [0, 0],
            ack_every: 2,
        };
        open(&mut wire, &mut rng, &mut conn)?;
        conns.push(conn);
        wire.wait(rng.range(1_000_000, 20_000_000));
    }

    let names = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    if pattern == Pattern::Transfer {
        // A few chat lines on each connection, then the transfer on the first one.
        for (i, conn) in conns.iter_mut().enumerate() {
            for _ in 0..3 {
                let len = rng.range(20, 200) as usize;
                let line = chat_line(&mut rng, names[i], len);
                conn.write(&mut wire, &mut rng, 0, &line)?;
                wire.wait(rng.range(100_000, 5_000_000));
            }
        }
        let conn = &mut conns[0];
        conn.ack_every = 16;
        while wire.frames < min_frames {
            let data = bulk(&mut rng, 16 * 1024);
            conn.write(&mut wire, &mut rng, 1, &data)?;
        }
    }
    while wire.frames < min_frames {
        let i = rng.range(0, CONNECTIONS as u64 - 1) as usize;
        let conn = &mut conns[i];
        let roll = rng.next() % 100;
        let (from, data) = if roll < 40 {
            let len = rng.range(20, 200) as usize;
            (0, chat_line(&mut rng, names[i], len))
        } else if roll < 95 {
            // The server relays other people's lines to this client.
            let len = rng.range(20, 200) as usize;
            let who = names[rng.range(0, names.len() as u64 - 1) as usize];
            (1, chat_line(&mut rng, who, len))
        } else {
            let len = rng.range(8 * 1024, 16 * 1024) as usize;
            (usize::from(roll < 98), bulk(&mut rng, len))
        };
        conn.write(&mut wire, &mut rng, from, &data)?;
        wire.wait(rng.range(100_000, 5_000_000));
    }
    for conn in &mut conns {
        close(&mut wire, &mut rng, conn)?;
        for side in 0..2 {
            if conn.sent[side] != conn.received[1 - side] {
                return Err(std::io::Error::other(format!(
                    "generator bug: side {side} sent {} plaintext bytes, the other read {}",
                    conn.sent[side],
                    conn.received[1 - side]
                )));
            }
        }
    }
    let frames = wire.frames;
    let mut out = wire.finish()?;
    out.flush()?;
    Ok((frames, endpoints.log.keys().to_nss()))
}
