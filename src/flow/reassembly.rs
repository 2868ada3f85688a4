//! One direction of a TCP connection: its sequence-number base and its byte stream, put back in
//! order from segments that may arrive late, twice, or overlapping (RFC 9293 §3.10.7.4: the
//! receiver accepts data in sequence order and holds what arrives ahead of a gap).

use std::collections::BTreeMap;

use bytes::Bytes;

use super::fragments::Piece;

/// Which frame carried a run of stream bytes, and where they sit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carrier {
    /// Offset of the run's first byte in the direction's byte stream.
    pub stream_offset: u64,
    /// Number of bytes in the run.
    pub len: u32,
    /// The frame (numbered from 1).
    pub frame: u32,
    /// Offset of the run's first byte inside that frame.
    pub frame_offset: u32,
}

/// Bytes that became available in stream order because of one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Stream offset of the first delivered byte.
    pub stream_offset: u64,
    /// The newly contiguous bytes, when they had to be gathered from several segments.
    pub bytes: Vec<u8>,
    /// In the common case (a segment arriving in order) the bytes are simply part of the frame:
    /// their range in the frame, so nothing is copied.
    pub in_frame: Option<std::ops::Range<usize>>,
    /// Where, in the delivered bytes, stream bytes are missing because the capture's snapshot
    /// length cut a segment short: the bytes before it and after it are not contiguous.
    pub gap_at: Option<usize>,
    /// With a gap: the stream offset of the first byte after it (the delivered bytes after
    /// `gap_at` start there).
    pub resume_at: u64,
}

impl Delivered {
    /// The delivered bytes, given the bytes of the frame that was pushed.
    pub fn as_slice<'a>(&'a self, frame: &'a [u8]) -> &'a [u8] {
        match &self.in_frame {
            Some(range) => frame.get(range.clone()).unwrap_or_default(),
            None => &self.bytes,
        }
    }

    /// True if the segment completed nothing.
    pub fn is_empty(&self) -> bool {
        self.in_frame.as_ref().is_none_or(|r| r.is_empty()) && self.bytes.is_empty()
    }
}

/// Where one segment's bytes went.
pub(super) struct Placed {
    pub stream_offset: u64,
    pub delivered: Delivered,
}

/// One segment as the byte stream sees it.
pub(super) struct Segment<'a> {
    /// The frame that carried it (numbered from 1).
    pub frame: u32,
    /// Its sequence number.
    pub seq: u32,
    /// Where its payload starts in the frame.
    pub frame_offset: usize,
    /// The payload bytes the capture kept.
    pub payload: &'a [u8],
    /// Payload bytes after those that the capture did not keep (a snapshot length).
    pub missing: usize,
    /// SYN and FIN flags.
    pub syn: bool,
    pub fin: bool,
    /// For a segment that came in a reassembled IP packet: which fragment frames carried its
    /// bytes (`frame_offset` is then in the reassembled packet).
    pub map: Option<FrameMap<'a>>,
}

/// Where the bytes of a segment that came in a reassembled IP packet lie: the packet was handed
/// over as one buffer whose fragmentable data starts at `data_start`; `pieces` say which frame
/// carried each run of that data.
#[derive(Debug, Clone, Copy)]
pub struct FrameMap<'a> {
    /// The data's runs, by offset, without holes or overlaps.
    pub pieces: &'a [Piece],
    /// Where offset 0 of the data is in the buffer handed over.
    pub data_start: usize,
}

/// A segment held because it arrived ahead of a gap.
#[derive(Debug)]
struct Held {
    data: Bytes,
    frame: u32,
    frame_offset: u32,
    /// For a segment from a reassembled IP packet: its pieces and where its data started.
    map: Option<Box<(Vec<Piece>, usize)>>,
}

#[derive(Debug, Default)]
pub(super) struct HalfStream {
    /// The sequence number just before the first byte: the ISN when the SYN was seen (or the
    /// other side acknowledged it), else one less than the first sequence number seen, so that
    /// relative numbers start at 1 as in Wireshark even when the capture missed the handshake.
    base: Option<u32>,
    /// True when `base` is the real ISN.
    syn_seen: bool,
    /// Stream offset of the next byte expected in order.
    next: u64,
    held: BTreeMap<u64, Held>,
    carriers: Vec<Carrier>,
    /// Carriers forgotten from the front ([`HalfStream::forget_carriers_before`]).
    carriers_forgotten: usize,
    fin: bool,
    /// The window scale option of this direction's SYN: `None` before a SYN was seen,
    /// `Some(None)` for a SYN without the option.
    syn_window_scale: Option<Option<u8>>,
}

impl HalfStream {
    /// Notes the window scale option a SYN of this direction carried (RFC 7323 §2.2).
    pub fn observe_syn_window_scale(&mut self, scale: Option<u8>) {
        if self.syn_window_scale.is_none() {
            self.syn_window_scale = Some(scale);
        }
    }

    /// The shift count that applies to this direction's window field, given the other
    /// direction's half (RFC 7323 §2.3): both SYNs must carry the option, else there is no
    /// scaling; shifts above 14 count as 14. `None` when a SYN was not captured. (Wireshark, when
    /// only this side's SYN was captured, scales by its option anyway; without the other SYN we
    /// cannot know the other side agreed, so we say "unknown".) The first SYN's option counts.
    pub fn window_shift(&self, theirs: &HalfStream) -> Option<u8> {
        match (self.syn_window_scale?, theirs.syn_window_scale?) {
            (Some(mine), Some(_)) => Some(mine.min(14)),
            _ => Some(0),
        }
    }

    pub fn observe_start(&mut self, seq: u32, syn: bool) {
        if syn && !self.syn_seen {
            self.base = Some(seq);
            self.syn_seen = true;
        } else if self.base.is_none() {
            self.base = Some(seq.wrapping_sub(1));
        }
    }

    /// The number relative numbers count from (0 before anything was seen).
    pub fn base(&self) -> u32 {
        self.base.unwrap_or(0)
    }

    /// True once a segment of this direction was seen (its numbering has a base).
    pub fn started(&self) -> bool {
        self.base.is_some()
    }

    pub fn carriers(&self) -> &[Carrier] {
        &self.carriers
    }

    /// Forgets the leading carriers that came in frames before `frame` (a streaming trace no
    /// longer holds those frames).
    pub fn forget_carriers_before(&mut self, frame: u32) {
        let gone = self
            .carriers
            .iter()
            .position(|c| c.frame >= frame)
            .unwrap_or(self.carriers.len());
        self.carriers.drain(..gone);
        self.carriers_forgotten += gone;
    }

    /// The earliest frame whose bytes wait ahead of a gap (no carrier names it yet).
    pub fn oldest_held_frame(&self) -> Option<u32> {
        self.held.values().map(|h| h.frame).min()
    }

    /// How many carriers were forgotten: the first kept one was the `carriers_forgotten()`-th.
    pub fn carriers_forgotten(&self) -> usize {
        self.carriers_forgotten
    }

    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Relative sequence number, as Wireshark computes it: seq − ISN.
    pub fn relative(&self, seq: u32) -> u32 {
        seq.wrapping_sub(self.base.unwrap_or(seq))
    }

    /// Relative acknowledgement number. If this direction's start was never seen, the first
    /// acknowledgement fixes the base so that it reads 1, as Wireshark does.
    pub fn relative_ack(&mut self, ack: u32) -> u32 {
        if self.base.is_none() {
            self.base = Some(ack.wrapping_sub(1));
            self.syn_seen = true;
        }
        self.relative(ack)
    }

    /// Stream offset of sequence number `seq` (relative number 1, the first byte, is offset 0).
    fn offset_of(&self, seq: u32) -> u64 {
        u64::from(self.relative(seq)).saturating_sub(1)
    }

    pub fn accept(&mut self, seg: Segment<'_>) -> Placed {
        let Segment {
            frame,
            seq,
            frame_offset,
            payload,
            missing,
            syn,
            fin,
            map,
        } = seg;
        // Data on a SYN starts after the SYN's own sequence number.
        let first = if syn { seq.wrapping_add(1) } else { seq };
        let start = self.offset_of(first);
        let end = start + payload.len() as u64;
        let mut placed = Placed {
            stream_offset: start,
            delivered: Delivered {
                stream_offset: self.next,
                bytes: Vec::new(),
                in_frame: None,
                gap_at: None,
                resume_at: 0,
            },
        };
        if fin {
            self.fin = true;
        }
        // The segment's real end: its last `missing` bytes were not captured.
        let real_end = end + missing as u64;
        if real_end == start || real_end <= self.next {
            return placed;
        }
        let frame_offset = frame_offset as u32;
        if start > self.next {
            if !payload.is_empty() {
                self.held.entry(start).or_insert(Held {
                    data: Bytes::copy_from_slice(payload),
                    frame,
                    frame_offset,
                    map: map.map(|m| Box::new((m.pieces.to_vec(), m.data_start))),
                });
            }
            return placed;
        }
        // start <= next < real_end: the new part begins at `next`.
        let skip = self.next.saturating_sub(start) as usize;
        let part = payload.get(skip..).unwrap_or_default();
        self.advance(part.len(), frame, frame_offset + skip as u32, map);
        let cut = missing > 0 && self.next < real_end;
        if cut {
            // The bytes the capture did not keep: the stream goes on after them, with a hole
            // whoever reads it is told of (`gap_at`).
            self.next = real_end;
        }
        let fills_a_gap = self
            .held
            .first_key_value()
            .is_some_and(|(&held_start, _)| held_start <= self.next);
        if !fills_a_gap && !cut {
            // The usual case: nothing was waiting behind this segment.
            let at = frame_offset as usize + skip;
            placed.delivered.in_frame = Some(at..at + part.len());
            return placed;
        }
        placed.delivered.bytes.extend_from_slice(part);
        if cut {
            placed.delivered.gap_at = Some(part.len());
            placed.delivered.resume_at = real_end;
        }
        // Then whatever was held and is now contiguous.
        while let Some(entry) = self.held.first_entry() {
            let held_start = *entry.key();
            if held_start > self.next {
                break;
            }
            let held = entry.remove();
            let held_end = held_start + held.data.len() as u64;
            if held_end <= self.next {
                continue;
            }
            let skip = (self.next - held_start) as usize;
            let rest = held.data.get(skip..).unwrap_or_default();
            placed.delivered.bytes.extend_from_slice(rest);
            let map = held.map.as_deref().map(|(pieces, data_start)| FrameMap {
                pieces,
                data_start: *data_start,
            });
            self.advance(rest.len(), held.frame, held.frame_offset + skip as u32, map);
        }
        placed
    }

    /// Records that `len` bytes from `frame` (at `frame_offset`) are the next bytes of the stream;
    /// with a `map`, `frame_offset` is in the reassembled packet and the bytes are credited to the
    /// frames of the fragments that carried them.
    fn advance(&mut self, len: usize, frame: u32, frame_offset: u32, map: Option<FrameMap<'_>>) {
        if len == 0 {
            return;
        }
        match map {
            None => self.carriers.push(Carrier {
                stream_offset: self.next,
                len: len as u32,
                frame,
                frame_offset,
            }),
            Some(map) => {
                let from = (frame_offset as usize).saturating_sub(map.data_start) as u64;
                let to = from + len as u64;
                for p in map.pieces {
                    let (p_start, p_end) = (u64::from(p.offset), u64::from(p.offset + p.len));
                    let (a, b) = (from.max(p_start), to.min(p_end));
                    if a >= b {
                        continue;
                    }
                    self.carriers.push(Carrier {
                        stream_offset: self.next + (a - from),
                        len: (b - a) as u32,
                        frame: p.frame,
                        frame_offset: p.frame_offset + (a - p_start) as u32,
                    });
                }
            }
        }
        self.next += len as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds a segment whose frame is just its payload; returns where it went with the delivered
    /// bytes always gathered in `bytes`, whichever way they were handed over.
    fn feed(h: &mut HalfStream, frame: u32, seq: u32, data: &[u8]) -> Placed {
        let mut a = h.accept(Segment {
            frame,
            seq,
            frame_offset: 0,
            payload: data,
            missing: 0,
            syn: false,
            fin: false,
            map: None,
        });
        if a.delivered.in_frame.is_some() {
            a.delivered.bytes = a.delivered.as_slice(data).to_vec();
            a.delivered.in_frame = None;
        }
        a
    }

    #[test]
    fn bytes_of_a_reassembled_packet_are_credited_to_their_fragments() {
        // A 60-byte packet buffer whose data (from byte 20) came in frames 7 (24 bytes, at 34
        // in that frame) and 9 (16 bytes, at 34); the TCP payload is buffer bytes 40..60.
        let pieces = [
            Piece {
                offset: 0,
                len: 24,
                frame: 7,
                frame_offset: 34,
            },
            Piece {
                offset: 24,
                len: 16,
                frame: 9,
                frame_offset: 34,
            },
        ];
        let map = FrameMap {
            pieces: &pieces,
            data_start: 20,
        };
        let mut h = HalfStream::default();
        h.observe_start(100, true);
        // Out of order first: held with its map, then delivered behind "ab".
        let p = h.accept(Segment {
            frame: 9,
            seq: 103,
            frame_offset: 40,
            payload: &[b'x'; 20],
            missing: 0,
            syn: false,
            fin: false,
            map: Some(map),
        });
        assert!(p.delivered.is_empty());
        let p = h.accept(Segment {
            frame: 8,
            seq: 101,
            frame_offset: 54,
            payload: b"ab",
            missing: 0,
            syn: false,
            fin: false,
            map: None,
        });
        assert_eq!(p.delivered.bytes.len(), 22);
        let runs: Vec<_> = h
            .carriers()
            .iter()
            .map(|c| (c.stream_offset, c.len, c.frame, c.frame_offset))
            .collect();
        // Buffer 40..44 is data 20..24 (frame 7 at 54..58); 44..60 is data 24..40 (frame 9).
        assert_eq!(runs, [(0, 2, 8, 54), (2, 4, 7, 54), (6, 16, 9, 34)]);
    }

    #[test]
    fn window_shift_needs_both_syns() {
        let (mut a, mut b) = (HalfStream::default(), HalfStream::default());
        // No SYN captured yet: the scale is unknown.
        assert_eq!(a.window_shift(&b), None);
        a.observe_syn_window_scale(Some(7));
        assert_eq!(a.window_shift(&b), None, "the other SYN is missing");
        b.observe_syn_window_scale(Some(9));
        assert_eq!(a.window_shift(&b), Some(7));
        assert_eq!(b.window_shift(&a), Some(9));
        // A retransmitted SYN does not change what was agreed.
        a.observe_syn_window_scale(None);
        assert_eq!(a.window_shift(&b), Some(7));
        // One side without the option: no scaling either way (RFC 7323 §2.2).
        let (mut c, mut d) = (HalfStream::default(), HalfStream::default());
        c.observe_syn_window_scale(Some(7));
        d.observe_syn_window_scale(None);
        assert_eq!((c.window_shift(&d), d.window_shift(&c)), (Some(0), Some(0)));
        // Shifts above 14 count as 14 (RFC 7323 §2.3).
        let (mut e, mut f) = (HalfStream::default(), HalfStream::default());
        e.observe_syn_window_scale(Some(15));
        f.observe_syn_window_scale(Some(0));
        assert_eq!(e.window_shift(&f), Some(14));
    }

    #[test]
    fn without_the_handshake_relative_numbers_start_at_one() {
        // As Wireshark: the first byte seen is relative sequence number 1, stream offset 0.
        let mut h = HalfStream::default();
        h.observe_start(5000, false);
        assert_eq!(h.relative(5000), 1);
        let a = feed(&mut h, 1, 5000, b"abc");
        assert_eq!(
            (a.stream_offset, a.delivered.bytes.as_slice()),
            (0, &b"abc"[..])
        );
        assert_eq!(
            h.base(),
            4999,
            "no SYN was seen: the base is one before the first byte"
        );
    }

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let mut h = HalfStream::default();
        h.observe_start(1000, true);
        h.accept(Segment {
            frame: 1,
            seq: 1000,
            frame_offset: 0,
            payload: &[],
            missing: 0,
            syn: true,
            fin: false,
            map: None,
        });
        let a = feed(&mut h, 2, 1001, b"abc");
        assert_eq!(a.delivered.bytes, b"abc");
        // "ghi" arrives before "def": held.
        let a = feed(&mut h, 3, 1007, b"ghi");
        assert!(a.delivered.bytes.is_empty());
        let a = feed(&mut h, 4, 1004, b"def");
        assert_eq!(a.delivered.bytes, b"defghi");
        assert_eq!(a.delivered.stream_offset, 3);
        let a = feed(&mut h, 5, 1001, b"abc");
        assert!(
            a.delivered.bytes.is_empty(),
            "a retransmission delivers nothing new"
        );
        // Overlap: "hijk" delivers only "jk".
        let a = feed(&mut h, 6, 1008, b"hijk");
        assert_eq!(a.delivered.bytes, b"jk");
        let frames: Vec<u32> = h.carriers().iter().map(|c| c.frame).collect();
        assert_eq!(frames, vec![2, 4, 3, 6]);
        assert_eq!(h.relative(1001), 1);
    }

    #[test]
    fn data_resent_below_an_earlier_fin_is_delivered() {
        let mut h = HalfStream::default();
        h.observe_start(0, true);
        h.accept(Segment {
            frame: 1,
            seq: 0,
            frame_offset: 0,
            payload: &[],
            missing: 0,
            syn: true,
            fin: false,
            map: None,
        });
        feed(&mut h, 2, 1, b"abc");
        // "def" is lost; the FIN (at the sequence number after "def") arrives first.
        h.accept(Segment {
            frame: 3,
            seq: 7,
            frame_offset: 0,
            payload: &[],
            missing: 0,
            syn: false,
            fin: true,
            map: None,
        });
        let a = feed(&mut h, 4, 4, b"def");
        assert_eq!(a.delivered.bytes, b"def", "data below the FIN filled a gap");
    }

    #[test]
    fn any_split_and_order_reassembles_the_same_stream() {
        let stream: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        // Deterministic pseudo-random splits and shuffles.
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200 {
            let mut pieces = Vec::new();
            let mut at = 0usize;
            while at < stream.len() {
                let len = 1 + (rand() % 300) as usize;
                let end = (at + len).min(stream.len());
                pieces.push((at, end));
                at = end;
            }
            // Duplicate some pieces and shuffle.
            let dups: Vec<(usize, usize)> =
                pieces.iter().filter(|_| rand() % 4 == 0).copied().collect();
            pieces.extend(dups);
            for i in (1..pieces.len()).rev() {
                let j = (rand() % (i as u64 + 1)) as usize;
                pieces.swap(i, j);
            }
            let isn = rand() as u32;
            let mut h = HalfStream::default();
            h.observe_start(isn, true);
            let mut out = Vec::new();
            for (n, (s, e)) in pieces.iter().enumerate() {
                let seq = isn.wrapping_add(1).wrapping_add(*s as u32);
                let a = feed(&mut h, n as u32 + 1, seq, &stream[*s..*e]);
                assert_eq!(a.delivered.stream_offset as usize, out.len());
                out.extend(a.delivered.bytes);
            }
            assert_eq!(out, stream);
            let covered: u64 = h.carriers().iter().map(|c| u64::from(c.len)).sum();
            assert_eq!(covered, stream.len() as u64);
        }
    }
}
