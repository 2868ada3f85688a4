//! Frames: exactly the bytes that were captured on the wire (or read from a file), with the time they
//! were seen and the kind of link-layer header they start with. Every other layer is a view into these bytes.

use bytes::Bytes;
use serde::Serialize;

/// A point in time, as nanoseconds since the Unix epoch (1970-01-01 00:00:00 UTC).
///
/// Capture files store microseconds or nanoseconds; both fit exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Timestamp(pub i128);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Timestamp(d.as_nanos() as i128),
            Err(e) => Timestamp(-(e.duration().as_nanos() as i128)),
        }
    }

    /// Builds a timestamp from whole seconds and nanoseconds since the epoch.
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        Timestamp(secs as i128 * 1_000_000_000 + nanos as i128)
    }

    /// Seconds since the epoch as a floating-point number (what Wireshark calls `frame.time_epoch`).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000) as i64
    }

    /// The nanoseconds past [`Timestamp::secs`].
    pub fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000) as u32
    }
}

/// The link-layer header a frame starts with, named by its pcap `LINKTYPE_` number.
///
/// On Linux loopback the kernel hands packet sockets an Ethernet header with all-zero addresses;
/// captures on the "any" pseudo-interface use Linux "cooked" headers instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1): 14-byte Ethernet II header (destination MAC, source MAC, EtherType).
    Ethernet,
    /// LINKTYPE_LINUX_SLL (113): Linux "cooked" capture header v1, 16 bytes.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux "cooked" capture header v2, 20 bytes.
    LinuxSll2,
    /// LINKTYPE_RAW (101) or the legacy DLT_RAW values (12, 14): the frame starts with the IP header.
    RawIp,
    /// LINKTYPE_NULL (0): BSD loopback, a 4-byte address family in host byte order.
    NullLoopback,
    /// Any other link type, kept by number so nothing is dropped.
    Unknown(u32),
}

impl LinkType {
    /// Maps a pcap/pcapng link-type number to a [`LinkType`].
    pub fn from_number(n: u32) -> Self {
        match n {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            101 | 12 | 14 => LinkType::RawIp,
            0 => LinkType::NullLoopback,
            other => LinkType::Unknown(other),
        }
    }

    /// The pcap/pcapng link-type number written to files.
    pub fn number(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::RawIp => 101,
            LinkType::NullLoopback => 0,
            LinkType::Unknown(n) => n,
        }
    }

    /// The name used in JSON output (`link.type`).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ethernet",
            LinkType::LinuxSll => "linux_sll",
            LinkType::LinuxSll2 => "linux_sll2",
            LinkType::RawIp => "raw_ip",
            LinkType::NullLoopback => "null_loopback",
            LinkType::Unknown(_) => "unknown",
        }
    }
}

/// One captured frame: what the capture saw, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// When the frame was seen.
    pub at: Timestamp,
    /// The header the bytes start with.
    pub link: LinkType,
    /// The captured bytes (possibly fewer than `orig_len` if the capture truncated the frame).
    pub data: Bytes,
    /// The frame's length on the wire.
    pub orig_len: u32,
    /// The capture interface it came from: its number in the pcapng file (Interface
    /// Description Blocks counted from 0 in each section, Wireshark's `frame.interface_id`);
    /// 0 for pcap files and single-interface captures.
    pub interface: u32,
}
