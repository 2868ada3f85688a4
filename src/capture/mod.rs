//! Frame sources: where the bytes of every later layer come from.
//!
//! - **Live** ([`LiveCapture`], [`spawn_live`]): an `AF_PACKET` socket on one interface (normally `lo`),
//!   with a kernel BPF filter keeping only the chat's TCP ports, outgoing copies ignored (loopback would
//!   otherwise show every packet twice), a 32 MiB receive buffer and the kernel's drop counter.
//! - **Files** ([`read_capture`], [`read_capture_file`]): classic pcap (µs or ns, either byte order) and
//!   pcapng (several sections and interfaces, any `if_tsresol`, Decryption Secrets Blocks with TLS key
//!   logs, custom blocks, packet comments). A damaged file yields every frame before the damage plus a
//!   [`ReadError`] saying where and why. [`open_capture`] reads one into a [`crate::journey::Trace`]
//!   with its secrets (embedded and `--keylog`) and packetpath's ledger of application events.
//! - **Writing** ([`PcapngWriter`]): pcapng that Wireshark opens with correct nanosecond times and
//!   decrypts on its own, because the TLS secrets travel inside the file.
//!
//! This module does not parse protocols: a [`Frame`](crate::frame::Frame) is handed on byte for byte.
//! `unsafe` code lives only in `sys.rs` (socket options the safe wrappers lack).

#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod bpf;
mod file;
mod live;
mod open;
mod output;
mod pcapng;
pub(crate) mod sys;
#[cfg(test)]
pub(crate) mod test_support;
mod writer;

use std::path::PathBuf;

use crate::frame::Frame;

pub use bpf::{
    lab_filter, tcp_ports_filter, BpfError, BpfInstruction, DATAGRAM_PORT, MAX_PORTS,
    TRACEROUTE_PORTS,
};
pub use file::{read_capture, read_capture_file};
pub use live::{spawn_capture, spawn_captures, spawn_live, CaptureStats, LiveCapture, LiveHandle};
pub use open::{
    load_keylog, open_capture, open_in_background, stream_capture, stream_capture_batched,
    stream_capture_in_batches, OpenError, Opened, Streamed, STREAM_BATCH,
};
pub use output::{OutputError, OutputPath};
pub use writer::PcapngWriter;

/// Which container format a capture file used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// The classic libpcap format: a 24-byte global header, then one 16-byte record header per frame.
    Pcap,
    /// pcapng (draft-ietf-opsawg-pcapng): a sequence of typed blocks (sections, interfaces, packets,
    /// secrets, comments, custom data).
    Pcapng,
}

/// A pcapng Custom Block (block type 0x00000BAD, or 0x40000BAD for "do not copy"), as defined in
/// draft-ietf-opsawg-pcapng section 4.8: data owned by whoever holds the Private Enterprise Number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomBlock {
    /// IANA Private Enterprise Number of the organisation that defined the data format.
    pub pen: u32,
    /// The custom data. pcapng stores no length for it, only the block's: data written with a length
    /// that is not a multiple of 4 comes back followed by its zero padding.
    pub data: bytes::Bytes,
}

/// Where and why reading a capture file stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ReadError {
    /// Byte offset in the file of the block or record that could not be read.
    pub offset: u64,
    /// A full sentence naming the offset, what was expected and what was found,
    /// e.g. "truncated block at byte 1234: the Enhanced Packet Block says it is 96 bytes long, only 40 remain".
    pub reason: String,
}

impl ReadError {
    pub(crate) fn new(offset: usize, reason: String) -> Self {
        ReadError {
            offset: offset as u64,
            reason,
        }
    }
}

/// Everything read from one capture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFile {
    /// The frames in file order, timestamps rescaled to nanoseconds.
    pub frames: Vec<Frame>,
    /// The TLS key log (NSS key-log format) from every Decryption Secrets Block of type `TLSK`,
    /// concatenated in file order, each ending with a newline.
    pub keylog: String,
    /// pcapng custom blocks in file order.
    pub custom: Vec<CustomBlock>,
    /// Packet comments (`opt_comment`): the index into `frames` and the comment text
    /// (invalid UTF-8 replaced by U+FFFD).
    pub comments: Vec<(usize, String)>,
    /// pcapng: each interface's name (`if_name`), by interface ID (a frame's `interface`);
    /// empty where the Interface Description Block names none, and for pcap files.
    pub interface_names: Vec<String>,
    /// The container format.
    pub format: FileFormat,
    /// `Some` if the file was cut short or corrupt: reading stopped there, every frame before it is kept.
    pub error: Option<ReadError>,
    /// Frames taken out of `frames` by a reader's caller as they came ([`CaptureReader::take_frames`]):
    /// the number of the next frame is `taken + frames.len()`.
    pub(crate) taken: usize,
}

impl CaptureFile {
    pub(crate) fn empty(format: FileFormat) -> Self {
        CaptureFile {
            frames: Vec::new(),
            keylog: String::new(),
            custom: Vec::new(),
            comments: Vec::new(),
            interface_names: Vec::new(),
            format,
            error: None,
            taken: 0,
        }
    }
}

/// Errors opening, reading or writing capture files.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The bytes are neither pcap nor pcapng (wrong magic number at the start).
    #[error("not a capture file: {0}")]
    NotCapture(String),
    /// The file could not be read from disk.
    #[error("cannot read capture file {}: {reason}", path.display())]
    Open {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said (part of the message, so not repeated as a cause).
        reason: std::io::Error,
    },
    /// Writing the pcapng output failed.
    #[error("cannot write pcapng output: {0}")]
    Write(#[source] std::io::Error),
    /// pcapng stores times as unsigned units since 1970; this frame's time does not fit.
    #[error("frame time {0} ns since 1970 cannot be stored in pcapng (it must be between 1970 and 2554)")]
    TimestampOutOfRange(i128),
    /// A length field of the output would overflow its 32-bit field.
    #[error("{what} is {len} bytes, more than a pcapng block can hold (4 GiB)")]
    TooLarge {
        /// Which piece of data was too large.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
}

/// Errors of live capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The process may not open packet sockets (it lacks the CAP_NET_RAW capability).
    #[error(
        "capturing packets on \"{interface}\" needs the CAP_NET_RAW capability ({cause}). Either run as root, \
         or grant it once with `sudo setcap cap_net_raw+ep {binary}`, or open a saved capture file with \
         `packetpath inspect FILE`, which needs no privileges"
    )]
    NoPermission {
        /// The interface we tried to capture on.
        interface: String,
        /// Path of the running binary, for the `setcap` command.
        binary: String,
        /// What the kernel said.
        cause: std::io::Error,
    },
    /// No network interface has this name (see `ip link`).
    #[error("there is no network interface named \"{0}\" (list them with `ip link`)")]
    NoSuchInterface(String),
    /// The interface's frames do not start with an Ethernet header, which the kernel filter expects.
    #[error(
        "interface \"{interface}\" has hardware type {arphrd} (see /sys/class/net/{interface}/type); \
         only Ethernet-framed interfaces (type 1, or 772 for loopback) can be captured"
    )]
    UnsupportedInterface {
        /// The interface name.
        interface: String,
        /// Its `ARPHRD_*` hardware type.
        arphrd: u32,
    },
    /// The port list cannot be turned into a kernel filter.
    #[error(transparent)]
    Filter(#[from] BpfError),
    /// A system call failed; the text says which step.
    #[error("live capture: {0} failed: {1}")]
    Io(&'static str, #[source] std::io::Error),
    /// The capture thread stopped unexpectedly.
    #[error("the capture thread stopped unexpectedly: {0}")]
    Thread(String),
}
