//! IP fragment reassembly: the pieces of one IP packet that a sender (or, for IPv4, a router)
//! split to fit a link's MTU are put back together, so TCP sees the segment they carried.
//!
//! - Fragments belong to the same original packet when they share source, destination, protocol
//!   and identification (IPv4, RFC 791 §3.2), or source, destination and identification (IPv6,
//!   RFC 8200 §4.5: the Fragment header's 32-bit identification).
//! - They may arrive in any order. A fragment's data goes at its offset; every fragment but the
//!   last holds a multiple of 8 bytes; the last (More fragments clear) gives the total length; the
//!   first (offset 0) brings the headers. The packet is complete when its data has no hole.
//! - An exact duplicate (same place, same bytes) is ignored. IPv6 fragments that otherwise
//!   overlap make the whole packet be dropped (RFC 5722 §4). For IPv4, overlapping bytes that
//!   arrived first are kept and only the new bytes are taken (as Wireshark does).
//! - Memory is bounded: at most [`MAX_PENDING_DATAGRAMS`] packets and [`MAX_PENDING_BYTES`] of
//!   fragment data wait at once (the oldest is dropped to make room), and a packet not completed
//!   within [`TIMEOUT_NS`] of capture time is dropped (RFC 8200 §4.5's 60 seconds, within the
//!   60–120 s RFC 1122 §3.3.2 recommends for IPv4).
//!
//! No fragment bytes are copied while a packet waits: fragments are kept as (frame, byte range),
//! and the frames are asked for again when the packet completes. Every outcome, including the
//! packets never completed, stays listed in a [`Datagram`], so a view can say of each fragment
//! where it was reassembled, or why not.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::ops::Range;

use crate::dissect::IpInfo;
use crate::frame::Timestamp;

/// How many packets may be waiting for fragments at once.
pub const MAX_PENDING_DATAGRAMS: usize = 1024;
/// How many bytes of fragment data may be waiting at once (duplicates counted).
pub const MAX_PENDING_BYTES: usize = 4 << 20;
/// How many fragments one packet may have (64 KiB in 8-byte pieces), duplicates included.
pub const MAX_FRAGMENTS: usize = 8192;
/// How long (capture time, ns) a packet may wait for its missing fragments.
pub const TIMEOUT_NS: i128 = 60_000_000_000;
/// The largest IP packet (IPv4 total length, IPv6 40 + payload length field).
const MAX_PACKET: usize = 65_535;

/// What identifies the fragments of one original packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// The sender.
    pub src: IpAddr,
    /// The receiver.
    pub dst: IpAddr,
    /// IPv4: the protocol field. IPv6: `None` (not part of the key).
    pub protocol: Option<u8>,
    /// The identification field (IPv4: 16 bits; IPv6: 32 bits).
    pub id: u32,
}

/// Where one run of an original packet's data lies in a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Offset in the original packet's fragmentable data (0 is the first byte after the IP
    /// header, or after the IPv6 headers that precede the Fragment header).
    pub offset: u32,
    /// Number of bytes.
    pub len: u32,
    /// The frame (numbered from 1).
    pub frame: u32,
    /// Offset of the run's first byte inside that frame.
    pub frame_offset: u32,
}

/// Why a packet's fragments were not (or could not be) put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    /// RFC 5722: overlapping IPv6 fragments drop the whole packet.
    #[error("an IPv6 fragment overlaps another at bytes {start}..{end} of the original data; RFC 5722 says to drop the whole packet (overlaps are a known way to slip data past a firewall)")]
    Overlap {
        /// First byte of the overlap.
        start: u32,
        /// End of the overlap.
        end: u32,
    },
    /// Two fragments say different things about where the packet ends.
    #[error("the fragments disagree on the original packet's length ({first} and {second} bytes of data): the packet cannot be put together")]
    InconsistentEnd {
        /// The length known first.
        first: u32,
        /// The conflicting length.
        second: u32,
    },
    /// A fragment reaches past the largest possible IP packet.
    #[error("a fragment reaches {end} bytes into the original data, beyond the largest IP packet (65,535 bytes)")]
    TooLong {
        /// Where the fragment ends.
        end: usize,
    },
    /// Every fragment but the last must hold a multiple of 8 bytes.
    #[error("a fragment that is not the last holds {len} bytes, not a multiple of 8 (fragment offsets count in 8-byte units)")]
    NotMultipleOf8 {
        /// The fragment's data length.
        len: u32,
    },
    /// The capture's snapshot length cut a fragment short.
    #[error(
        "a fragment was cut short by the capture's snapshot length, so its data is incomplete"
    )]
    Truncated,
    /// Too many packets or bytes were waiting.
    #[error("more than {MAX_PENDING_DATAGRAMS} packets or {MAX_PENDING_BYTES} bytes of fragments were waiting at once; the oldest waiting packet was dropped")]
    Evicted,
    /// The missing fragments did not come in time.
    #[error("the missing fragments did not arrive within 60 seconds of the first")]
    TimedOut,
    /// Too many fragments for one packet.
    #[error("more than {MAX_FRAGMENTS} fragments claim to belong to one packet")]
    TooManyFragments,
    /// A frame of an earlier fragment could not be read again (never expected).
    #[error("an earlier fragment's frame could not be read again")]
    MissingFrame,
}

/// What became of one original packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatagramState {
    /// Fragments are missing (at the end of a capture: they never arrived).
    Pending,
    /// Put together in this frame (the one whose fragment completed it).
    Reassembled {
        /// The completing frame.
        frame: u32,
    },
    /// Dropped, with the reason.
    Discarded(FragmentError),
}

/// One fragmented original packet and its fragments.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// What its fragments share.
    pub key: FragmentKey,
    /// The capture interface its fragments came on (0 with one interface): on a path of
    /// routers, the fragments of one packet on each link are put together on their own.
    pub interface: u32,
    /// IP version, 4 or 6.
    pub version: u8,
    /// The frames of its fragments in offset order, a duplicate after the fragment it repeats
    /// (as tshark lists them in `ip.fragment`).
    pub fragments: Vec<u32>,
    /// The offset of each of `fragments`.
    offsets: Vec<u32>,
    /// What became of it.
    pub state: DatagramState,
    /// The original data's length, once the last fragment arrived.
    pub data_len: Option<u32>,
    /// The data received so far, by offset, without overlaps.
    pieces: Vec<Piece>,
    /// The first fragment's frame and the bytes of its IP header(s) there (for IPv6, up to the end
    /// of the Fragment header).
    header: Option<(u32, Range<usize>)>,
    /// Fragment bytes received (duplicates included), for the memory bound.
    received: usize,
    /// When its first fragment was captured.
    first_at: i128,
}

impl Datagram {
    /// Bytes of the original data received so far (without duplicates).
    pub fn bytes_received(&self) -> u32 {
        self.pieces.iter().map(|p| p.len).sum()
    }

    /// The data received so far, by offset, without overlaps.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// True when the data has no hole, the last fragment and the first one's headers are here.
    fn is_complete(&self) -> bool {
        let Some(len) = self.data_len else {
            return false;
        };
        if self.header.is_none() {
            return false;
        }
        let mut next = 0u32;
        for p in &self.pieces {
            if p.offset > next {
                return false;
            }
            next = next.max(p.offset + p.len);
        }
        next == len
    }
}

/// A packet just put together: its bytes, as one unfragmented IP packet.
#[derive(Debug, Clone)]
pub struct Reassembled {
    /// The datagram's index (see [`Defragmenter::datagram`]).
    pub datagram: usize,
    /// The whole IP packet: the first fragment's headers, marked unfragmented (IPv4: More
    /// fragments and offset cleared, total length and checksum set; IPv6: the Fragment header
    /// kept with offset 0 and More fragments clear, an "atomic fragment" as RFC 6946 calls it,
    /// payload length set), then the data.
    pub bytes: Vec<u8>,
    /// Where the fragmentable data starts in `bytes` (piece offsets count from here).
    pub data_start: usize,
}

/// What pushing a fragment did.
#[derive(Debug, Clone)]
pub enum Pushed {
    /// Kept: the packet still misses fragments (or the fragment was a duplicate).
    Held,
    /// This fragment completed its packet.
    Complete(Reassembled),
    /// The packet was dropped (the reason is also kept in its [`Datagram`]).
    Discarded(FragmentError),
}

/// Puts fragmented IP packets back together, frame by frame.
#[derive(Debug, Default)]
pub struct Defragmenter {
    datagrams: Vec<Datagram>,
    /// The packets still waiting, by key and interface.
    pending: HashMap<(FragmentKey, u32), usize, foldhash::fast::RandomState>,
    /// Waiting packets in the order they started (entries already finished are skipped).
    order: VecDeque<usize>,
    pending_bytes: usize,
    /// (frame, datagram) for every fragment, in frame order.
    notes: Vec<(u32, usize)>,
}

impl Defragmenter {
    /// Every fragmented packet seen, in the order its first fragment came.
    pub fn datagrams(&self) -> &[Datagram] {
        &self.datagrams
    }

    /// One packet by index.
    pub fn datagram(&self, index: usize) -> Option<&Datagram> {
        self.datagrams.get(index)
    }

    /// The packet frame `frame` is a fragment of, if it is one.
    pub fn of_frame(&self, frame: u32) -> Option<(usize, &Datagram)> {
        let i = self.notes.binary_search_by_key(&frame, |&(f, _)| f).ok()?;
        let &(_, d) = self.notes.get(i)?;
        Some((d, self.datagrams.get(d)?))
    }

    /// The earliest frame holding a fragment of a packet still waiting for the rest (whose bytes
    /// are needed when it completes).
    pub fn oldest_waiting_frame(&self) -> Option<u32> {
        self.pending
            .values()
            .filter_map(|&i| self.datagrams.get(i)?.fragments.iter().min().copied())
            .min()
    }

    /// Whether a packet with `ip`'s key is waiting for more fragments on `interface`.
    pub fn waiting_on(&self, interface: u32, ip: &IpInfo) -> bool {
        let key = FragmentKey {
            src: ip.src,
            dst: ip.dst,
            protocol: (ip.version == 4).then_some(ip.protocol),
            id: ip.identification.unwrap_or(0),
        };
        self.pending.contains_key(&(key, interface))
    }

    /// Adds the fragment that frame `frame` (bytes `data`, captured at `at`) carries; `ip` is its
    /// dissected IP layer (a fragment: [`IpInfo::is_fragment`]). `frames` gives the bytes of an
    /// earlier frame by number, to compare duplicates and to build the packet when it completes.
    /// Frames must be pushed in increasing number.
    pub fn push<'a>(
        &mut self,
        frame: u32,
        at: Timestamp,
        ip: &IpInfo,
        data: &'a [u8],
        frames: impl Fn(u32) -> Option<&'a [u8]>,
    ) -> Pushed {
        self.push_on(0, frame, at, ip, data, frames)
    }

    /// [`Defragmenter::push`] for a fragment captured on interface `interface`: fragments with
    /// the same key on different interfaces belong to different packets here (on a path of
    /// routers, a router fragments again what arrived in fragments, with the same
    /// identification; each link's fragments make a packet of their own).
    pub fn push_on<'a>(
        &mut self,
        interface: u32,
        frame: u32,
        at: Timestamp,
        ip: &IpInfo,
        data: &'a [u8],
        frames: impl Fn(u32) -> Option<&'a [u8]>,
    ) -> Pushed {
        let key = FragmentKey {
            src: ip.src,
            dst: ip.dst,
            protocol: (ip.version == 4).then_some(ip.protocol),
            id: ip.identification.unwrap_or(0),
        };
        self.expire(at.0);
        let index = match self.pending.get(&(key, interface)) {
            Some(&i) => i,
            None => self.start(key, interface, ip.version, at.0),
        };
        if self.notes.last().is_none_or(|&(f, _)| f < frame) {
            self.notes.push((frame, index));
        }
        let result = self.add(index, frame, ip, data, &frames);
        match result {
            Ok(false) => Pushed::Held,
            Ok(true) => match self.build(index, frame, data, &frames) {
                Ok(whole) => {
                    self.finish(index, DatagramState::Reassembled { frame });
                    Pushed::Complete(whole)
                }
                Err(e) => {
                    self.finish(index, DatagramState::Discarded(e.clone()));
                    Pushed::Discarded(e)
                }
            },
            Err(e) => {
                self.finish(index, DatagramState::Discarded(e.clone()));
                Pushed::Discarded(e)
            }
        }
    }

    /// Starts waiting for a new packet, making room first if too many are waiting.
    fn start(&mut self, key: FragmentKey, interface: u32, version: u8, at: i128) -> usize {
        while self.pending.len() >= MAX_PENDING_DATAGRAMS {
            if !self.evict_oldest() {
                break;
            }
        }
        let index = self.datagrams.len();
        self.datagrams.push(Datagram {
            key,
            interface,
            version,
            fragments: Vec::new(),
            offsets: Vec::new(),
            state: DatagramState::Pending,
            data_len: None,
            pieces: Vec::new(),
            header: None,
            received: 0,
            first_at: at,
        });
        self.pending.insert((key, interface), index);
        self.order.push_back(index);
        index
    }

    /// Drops the packets that waited longer than [`TIMEOUT_NS`].
    fn expire(&mut self, now: i128) {
        while let Some(&i) = self.order.front() {
            let Some(d) = self.datagrams.get(i) else {
                self.order.pop_front();
                continue;
            };
            if d.state != DatagramState::Pending {
                self.order.pop_front();
            } else if now.saturating_sub(d.first_at) > TIMEOUT_NS {
                tracing::debug!(id = d.key.id, "IP fragments timed out");
                self.finish(i, DatagramState::Discarded(FragmentError::TimedOut));
            } else {
                break;
            }
        }
    }

    /// Drops the oldest waiting packet; false if none waits.
    fn evict_oldest(&mut self) -> bool {
        while let Some(i) = self.order.pop_front() {
            if self
                .datagrams
                .get(i)
                .is_some_and(|d| d.state == DatagramState::Pending)
            {
                tracing::debug!(datagram = i, "IP fragments dropped to bound memory");
                self.finish(i, DatagramState::Discarded(FragmentError::Evicted));
                return true;
            }
        }
        false
    }

    /// Ends a packet's wait with `state`, releasing what it held.
    fn finish(&mut self, index: usize, state: DatagramState) {
        let Some(d) = self.datagrams.get_mut(index) else {
            return;
        };
        if d.state == DatagramState::Pending {
            self.pending_bytes = self.pending_bytes.saturating_sub(d.received);
            if self.pending.get(&(d.key, d.interface)) == Some(&index) {
                self.pending.remove(&(d.key, d.interface));
            }
        }
        if !matches!(state, DatagramState::Reassembled { .. }) {
            // Only a reassembled packet is ever built again; free the rest.
            d.pieces = Vec::new();
        }
        d.state = state;
    }

    /// Adds one fragment's data to packet `index`. Ok(true) when the packet is now complete.
    fn add<'a>(
        &mut self,
        index: usize,
        frame: u32,
        ip: &IpInfo,
        data: &'a [u8],
        frames: &impl Fn(u32) -> Option<&'a [u8]>,
    ) -> Result<bool, FragmentError> {
        let start = ip.fragment_data_start();
        let end = ip.packet.end;
        let len = end.saturating_sub(start);
        let offset = u32::from(ip.fragment_offset);
        let data_end = offset as usize + len;
        let Some(d) = self.datagrams.get_mut(index) else {
            return Err(FragmentError::MissingFrame);
        };
        if d.fragments.len() >= MAX_FRAGMENTS {
            return Err(FragmentError::TooManyFragments);
        }
        let at = d.offsets.partition_point(|&o| o <= offset);
        d.fragments.insert(at, frame);
        d.offsets.insert(at, offset);
        if ip.is_truncated() {
            return Err(FragmentError::Truncated);
        }
        // IPv6's length field leaves out the fixed 40-byte header.
        let limit = MAX_PACKET + if ip.version == 6 { 40 } else { 0 };
        if data_end + start.saturating_sub(ip.packet.start) > limit {
            return Err(FragmentError::TooLong { end: data_end });
        }
        // Both fit in u32: data_end is at most 65,535 here.
        let (len, data_end) = (len as u32, data_end as u32);
        if ip.more_fragments && len % 8 != 0 {
            return Err(FragmentError::NotMultipleOf8 { len });
        }
        let known_end = d
            .data_len
            .or_else(|| d.pieces.last().map(|p| p.offset + p.len));
        if !ip.more_fragments {
            match d.data_len {
                Some(first) if first != data_end => {
                    return Err(FragmentError::InconsistentEnd {
                        first,
                        second: data_end,
                    })
                }
                None if known_end.is_some_and(|e| e > data_end) => {
                    return Err(FragmentError::InconsistentEnd {
                        first: known_end.unwrap_or(0),
                        second: data_end,
                    })
                }
                _ => d.data_len = Some(data_end),
            }
        } else if let Some(first) = d.data_len.filter(|&l| data_end > l) {
            return Err(FragmentError::InconsistentEnd {
                first,
                second: data_end,
            });
        }
        let bytes = data.get(start..end).unwrap_or_default();
        let new = Piece {
            offset,
            len,
            frame,
            frame_offset: start as u32,
        };
        let placed = place(&d.pieces, new, d.version, bytes, |p| {
            let f = if p.frame == frame {
                Some(data)
            } else {
                frames(p.frame)
            };
            f.and_then(|f| f.get(p.frame_offset as usize..(p.frame_offset + p.len) as usize))
        })?;
        if placed.is_empty() && len > 0 {
            // A duplicate: nothing new, and no memory taken.
            return Ok(false);
        }
        for piece in placed {
            let at = d.pieces.partition_point(|p| p.offset < piece.offset);
            d.pieces.insert(at, piece);
        }
        if offset == 0 && d.header.is_none() {
            d.header = Some((frame, ip.header.start..start));
        }
        d.received += len as usize;
        self.pending_bytes += len as usize;
        while self.pending_bytes > MAX_PENDING_BYTES {
            let oldest_is_this = self
                .order
                .iter()
                .find(|&&i| {
                    self.datagrams
                        .get(i)
                        .is_some_and(|d| d.state == DatagramState::Pending)
                })
                .is_none_or(|&i| i == index);
            if oldest_is_this {
                return Err(FragmentError::Evicted);
            }
            self.evict_oldest();
        }
        Ok(self.datagrams.get(index).is_some_and(Datagram::is_complete))
    }

    /// The whole packet of a complete datagram, built from its frames.
    fn build<'a>(
        &self,
        index: usize,
        frame: u32,
        data: &'a [u8],
        frames: &impl Fn(u32) -> Option<&'a [u8]>,
    ) -> Result<Reassembled, FragmentError> {
        let d = self
            .datagrams
            .get(index)
            .ok_or(FragmentError::MissingFrame)?;
        let get = |n: u32| if n == frame { Some(data) } else { frames(n) };
        rebuild(d, get).map(|(bytes, data_start)| Reassembled {
            datagram: index,
            bytes,
            data_start,
        })
    }
}

/// The whole packet of a reassembled datagram, built again from its frames (`frames` gives a
/// frame's bytes by number): the bytes and where the fragmentable data starts in them.
pub fn rebuild<'a>(
    d: &Datagram,
    frames: impl Fn(u32) -> Option<&'a [u8]>,
) -> Result<(Vec<u8>, usize), FragmentError> {
    let (hframe, hrange) = d.header.clone().ok_or(FragmentError::MissingFrame)?;
    let header = frames(hframe)
        .and_then(|f| f.get(hrange))
        .ok_or(FragmentError::MissingFrame)?;
    let data_len = d.data_len.unwrap_or(0) as usize;
    let mut out = Vec::with_capacity(header.len() + data_len);
    out.extend_from_slice(header);
    let data_start = out.len();
    for p in &d.pieces {
        let bytes = frames(p.frame)
            .and_then(|f| f.get(p.frame_offset as usize..(p.frame_offset + p.len) as usize))
            .ok_or(FragmentError::MissingFrame)?;
        // Pieces do not overlap and cover the data: each starts where the last ended.
        if out.len() != data_start + p.offset as usize {
            return Err(FragmentError::MissingFrame);
        }
        out.extend_from_slice(bytes);
    }
    mark_unfragmented(&mut out, d.version, data_start)?;
    Ok((out, data_start))
}

/// Rewrites the first fragment's header so the packet reads as unfragmented.
fn mark_unfragmented(
    packet: &mut [u8],
    version: u8,
    data_start: usize,
) -> Result<(), FragmentError> {
    let len = packet.len();
    if version == 4 {
        let total = u16::try_from(len).map_err(|_| FragmentError::TooLong { end: len })?;
        let header = packet
            .get_mut(..data_start)
            .filter(|h| h.len() >= 20)
            .ok_or(FragmentError::MissingFrame)?;
        header[2..4].copy_from_slice(&total.to_be_bytes());
        // Keep the reserved and Don't-fragment bits; clear More fragments and the offset.
        header[6] &= 0xc0;
        header[7] = 0;
        header[10..12].copy_from_slice(&[0, 0]);
        let sum = !ones_complement_sum(header);
        header[10..12].copy_from_slice(&sum.to_be_bytes());
    } else {
        let payload = len
            .checked_sub(40)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or(FragmentError::TooLong { end: len })?;
        let header = packet
            .get_mut(..data_start)
            .filter(|h| h.len() >= 48)
            .ok_or(FragmentError::MissingFrame)?;
        header[4..6].copy_from_slice(&payload.to_be_bytes());
        // The Fragment header is the last 8 bytes before the data: offset 0, M clear.
        let f = data_start - 8;
        header[f + 2] = 0;
        header[f + 3] = 0;
    }
    Ok(())
}

/// The ones' complement sum of 16-bit words (RFC 1071), folded.
fn ones_complement_sum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let hi = u32::from(pair.first().copied().unwrap_or(0));
        let lo = u32::from(pair.get(1).copied().unwrap_or(0));
        sum += (hi << 8) | lo;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Where a new fragment's data goes among `pieces` (sorted, without overlaps): the parts to
/// insert. Empty for an exact duplicate. `old` gives an existing piece's bytes.
fn place<'a>(
    pieces: &[Piece],
    new: Piece,
    version: u8,
    bytes: &[u8],
    old: impl Fn(&Piece) -> Option<&'a [u8]>,
) -> Result<Vec<Piece>, FragmentError> {
    let end = new.offset + new.len;
    let first = pieces.partition_point(|p| p.offset + p.len <= new.offset);
    let overlapping: Vec<&Piece> = pieces
        .get(first..)
        .unwrap_or_default()
        .iter()
        .take_while(|p| p.offset < end)
        .collect();
    if overlapping.is_empty() {
        return Ok(if new.len == 0 { Vec::new() } else { vec![new] });
    }
    if version == 6 {
        // RFC 8200 §4.5: an exact duplicate may be dropped; any other overlap drops the packet.
        let exact = match overlapping.as_slice() {
            [p] if p.offset == new.offset && p.len == new.len => old(p) == Some(bytes),
            _ => false,
        };
        if exact {
            return Ok(Vec::new());
        }
        let start = overlapping
            .first()
            .map_or(new.offset, |p| p.offset.max(new.offset));
        let stop = overlapping
            .last()
            .map_or(end, |p| (p.offset + p.len).min(end));
        return Err(FragmentError::Overlap { start, end: stop });
    }
    // IPv4: keep what arrived first; take only the bytes that fill holes.
    let mut out = Vec::new();
    let mut at = new.offset;
    for p in overlapping {
        if p.offset > at {
            out.push(Piece {
                offset: at,
                len: p.offset - at,
                frame: new.frame,
                frame_offset: new.frame_offset + (at - new.offset),
            });
        }
        at = at.max(p.offset + p.len);
    }
    if at < end {
        out.push(Piece {
            offset: at,
            len: end - at,
            frame: new.frame,
            frame_offset: new.frame_offset + (at - new.offset),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "fragments_tests.rs"]
mod tests;
