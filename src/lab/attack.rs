//! Attacks in transit, for teaching what TCP's checksum and TLS's integrity check each protect
//! against. Only inside packetpath's own lab: the attacker is the forwarding link that splices the
//! path's first link (client ⇄ r1), a program of packetpath's that already holds every frame for
//! its delay, never an interface of the host.
//!
//! - [`Attack::Flip`]: one byte of the next client → server segment with data is changed and the
//!   TCP checksum fixed (RFC 1624's incremental update), as an attacker who knows TCP would. The
//!   receiving kernel accepts the segment: plain TCP hands the changed line to the server, TLS's
//!   record check fails (RFC 8446 §5.2: `bad_record_mac`).
//! - [`Attack::Corrupt`]: the same change without fixing the checksum, as noise on a line would
//!   do it: the receiving kernel checks every segment's checksum (RFC 1122 §4.2.2.7) and drops
//!   this one without acknowledging it, and the sender's retransmission arrives intact.
//! - [`Attack::Replay`]: the segment passes, and [`REPLAY_GAP`] later a copy of it follows as the
//!   next bytes of the stream. Plain TCP delivers the line twice; TLS's record check fails on the
//!   copy, sealed with a record sequence number the receiver has passed (RFC 8446 §5.3).
//! - [`Attack::DropRecord`]: the segment (and any resend of it) is removed and the next one takes
//!   its place. Plain TCP loses the line unseen; TLS's check fails on the next record.
//!
//! A replay or a removal would confuse both TCPs (data acknowledged that was never sent, or never
//! acknowledged): the attacker renumbers the client's later segments and the server's
//! acknowledgments on their way back ([`AttackSwitch::return_hook`]), fixing the checksums, so
//! that neither end sees anything amiss. [`Attack::Mitm`] is not the link's: see
//! [`crate::lab::mitm`].
//!
//! The session arms the attacker with an attack ([`AttackSwitch::arm`]) just before the chosen
//! line is written, so the handshake passes untouched and the change hits that line's segment.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex};

use super::forwarder::{FrameHook, Verdict};
use crate::dissect::{dissect, dissect_without_tcp_checksum, TcpFlags};
use crate::frame::LinkType;

/// How long after a segment the attacker sends its copy (`replay`): long enough for the receiver
/// to have read the original on its own, so the copy meets a record count that has moved on.
pub const REPLAY_GAP: std::time::Duration = std::time::Duration::from_millis(50);

/// What `trace --attack drop-record` and the demo send right after the line the attacker
/// removes: the removal shows (or does not) when this one arrives.
pub const LINE_AFTER_A_DROP: &str = "next line";

/// An attack of the lab's attacker link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Attack {
    /// Change one byte of a segment and fix its TCP checksum.
    Flip,
    /// Change one byte of a segment and leave its TCP checksum wrong.
    Corrupt,
    /// Send a segment's data a second time, as new data.
    Replay,
    /// Remove a segment's data from the stream.
    #[value(name = "drop-record")]
    DropRecord,
    // Not a change to a frame (the link's attacker does nothing with these): r1 is the man in
    // the middle, see `crate::lab::mitm`.
    /// r1 takes the connection in the server's name, with a certificate of its own CA
    Mitm,
    /// The same, with a certificate packetpath's CA signed for another name
    #[value(name = "mitm-wrong-name")]
    MitmWrongName,
}

impl Attack {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Attack::Flip => "flip",
            Attack::Corrupt => "corrupt",
            Attack::Replay => "replay",
            Attack::DropRecord => "drop-record",
            Attack::Mitm => "mitm",
            Attack::MitmWrongName => "mitm-wrong-name",
        }
    }

    /// True for a man in the middle on r1 (not an attack of the link).
    pub fn is_mitm(self) -> bool {
        matches!(self, Attack::Mitm | Attack::MitmWrongName)
    }
}

/// What the attacker changed in one frame.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tampering {
    /// Which attack.
    #[serde(serialize_with = "attack_name")]
    pub attack: Attack,
    /// The segment's sequence number as sent (raw).
    pub seq: u32,
    /// How many bytes of data it carried.
    #[serde(rename = "payload_len")]
    pub len: usize,
    /// `flip` and `corrupt`: the byte changed.
    #[serde(flatten)]
    pub byte: Option<ByteChange>,
    /// True if the TCP checksum of what the attacker sent on is right (every attack but
    /// `corrupt` fixes it).
    pub checksum_fixed: bool,
    /// `replay`: the sequence number the copy was sent with (the segment's own plus its length:
    /// the copy comes as the next bytes of the stream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_seq: Option<u32>,
}

/// One byte changed by `flip` or `corrupt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ByteChange {
    /// Which byte of the segment's payload (from 0) was changed.
    pub payload_offset: usize,
    /// Which byte of the frame (from 0).
    pub frame_offset: usize,
    /// The byte before the change.
    #[serde(rename = "before_byte")]
    pub before: u8,
    /// The byte after it.
    #[serde(rename = "after_byte")]
    pub after: u8,
}

impl Tampering {
    /// What the attacker did, in a sentence's words ("changed byte 3 of the segment's data …").
    pub fn describe(&self) -> String {
        match (self.attack, self.byte) {
            (Attack::Replay, _) => format!(
                "sent the segment's {} again as the next bytes of the stream (sequence number {}), and renumbered the client's later bytes to make room",
                crate::dissect::byte_count(self.len),
                self.replay_seq.unwrap_or(self.seq)
            ),
            (Attack::DropRecord, _) => format!(
                "removed the segment ({} of data, sequence number {}) and renumbered the client's later bytes to close the gap",
                crate::dissect::byte_count(self.len),
                self.seq
            ),
            (_, Some(b)) => format!(
                "changed byte {} (from 0) of the segment's data (sequence number {}) from {:#04x} to {:#04x}, TCP checksum {}",
                b.payload_offset,
                self.seq,
                b.before,
                b.after,
                if self.checksum_fixed {
                    "fixed to match"
                } else {
                    "left as it was"
                }
            ),
            (_, None) => format!("changed the segment with sequence number {}", self.seq),
        }
    }
}

fn attack_name<S: serde::Serializer>(a: &Attack, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.name())
}

/// Shared between the session (which arms the attacker) and the link (which carries it out).
#[derive(Debug, Default)]
pub struct AttackSwitch {
    /// The attack the next client → server segment with data meets, if one is armed, and the
    /// client whose segment it must be (`None`: any client's).
    armed: Mutex<Option<(Attack, Option<SocketAddr>)>>,
    done: Mutex<Vec<Tampering>>,
    /// Signalled each time something is added to `done`.
    acted: Condvar,
    /// Where the attacker made the two ends' byte numbers differ (a replayed or a removed
    /// segment), oldest first: every later frame of that connection is renumbered to match.
    shifts: Mutex<Vec<Shift>>,
}

impl AttackSwitch {
    /// An attacker, not armed.
    pub fn new() -> Arc<AttackSwitch> {
        Arc::new(AttackSwitch::default())
    }

    /// The next client → server segment with data meets `attack`.
    pub fn arm(&self, attack: Attack) {
        self.arm_for(attack, None);
    }

    /// The next segment with data from `client` (its address and port; `None`: from any client)
    /// meets `attack`: a segment of another connection in between passes untouched.
    pub fn arm_for(&self, attack: Attack, client: Option<SocketAddr>) {
        if let Ok(mut armed) = self.armed.lock() {
            *armed = Some((attack, client));
        }
    }

    /// What was changed so far.
    pub fn tamperings(&self) -> Vec<Tampering> {
        self.done.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Takes back an attack armed and not yet spent (the line it was for was never sent).
    pub fn disarm(&self) {
        if let Ok(mut armed) = self.armed.lock() {
            *armed = None;
        }
        self.acted.notify_all();
    }

    /// Waits (blocking) until no attack is armed — the last one spent on its line, or taken back
    /// — at most `timeout`; true if none is. For a caller that arms it for one line after
    /// another: each arming must be spent on its own line.
    pub fn wait_spent(&self, timeout: std::time::Duration) -> bool {
        let Ok(done) = self.done.lock() else {
            return false;
        };
        let armed = |_: &mut Vec<Tampering>| self.armed.lock().is_ok_and(|a| a.is_some());
        self.acted
            .wait_timeout_while(done, timeout, armed)
            .map(|(_, waited)| !waited.timed_out())
            .unwrap_or(false)
    }

    /// The hook the link runs on frames from the client's side.
    pub fn hook(self: &Arc<Self>) -> Box<dyn FrameHook> {
        Box::new(Hook(self.clone()))
    }

    /// The hook the link runs on frames towards the client: after a replayed or removed segment
    /// it renumbers the server's acknowledgments, so the client never sees the difference.
    pub fn return_hook(self: &Arc<Self>) -> Box<dyn FrameHook> {
        Box::new(ReturnHook(self.clone()))
    }

    fn record(&self, t: Tampering) {
        tracing::info!("attacker ({}): {}", t.attack.name(), t.describe());
        if let Ok(mut done) = self.done.lock() {
            done.push(t);
        }
        self.acted.notify_all();
    }
}

/// A connection, as (client, server) addresses and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Conn {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
}

/// One TCP segment of a frame, as far as the attacker needs it.
struct Seg {
    /// From the client's side: (client, server); else (server, client) reversed to match.
    conn: Conn,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload_len: usize,
    /// Where the TCP header starts in the frame.
    tcp_at: usize,
}

impl Seg {
    /// The TCP segment in an Ethernet frame sent by `client` (true) or towards it.
    fn of(frame: &[u8], from_client: bool) -> Option<Seg> {
        let packet = dissect_without_tcp_checksum(LinkType::Ethernet, frame);
        let (ip, tcp) = (packet.ip.as_ref()?, packet.tcp.as_ref()?);
        if packet.stop.is_some() {
            return None;
        }
        let (src, dst) = ((ip.src, tcp.src_port), (ip.dst, tcp.dst_port));
        let conn = if from_client {
            Conn {
                client: src,
                server: dst,
            }
        } else {
            Conn {
                client: dst,
                server: src,
            }
        };
        Some(Seg {
            conn,
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            payload_len: packet.payload.len(),
            tcp_at: tcp.header.start,
        })
    }
}

/// How one replayed or removed segment renumbers the client's bytes of a connection: bytes from
/// `start` on are numbered `len` higher towards the server (replay: the copy took their place)
/// or lower (drop: the removed segment's place was given to them).
#[derive(Debug)]
struct Shift {
    conn: Conn,
    replay: bool,
    /// Replay: where the copy goes (just after the original). Drop: where the removed data began.
    start: u32,
    len: u32,
}

/// True if sequence number `a` is at or after `b` (RFC 793's comparison modulo 2³²).
fn at_or_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

impl Shift {
    /// The client's sequence number `seq` as the server is to see it; `None`: the frame is a
    /// resend of the removed data, and is removed too.
    fn towards_server(&self, seq: u32, payload_len: usize) -> Option<u32> {
        if self.replay {
            return Some(if at_or_after(seq, self.start) {
                seq.wrapping_add(self.len)
            } else {
                seq
            });
        }
        let end = self.start.wrapping_add(self.len);
        if at_or_after(seq, end) {
            Some(seq.wrapping_sub(self.len))
        } else if at_or_after(seq, self.start) && payload_len > 0 {
            None
        } else {
            Some(seq)
        }
    }

    /// The server's acknowledgment number `ack` as the client is to see it.
    fn towards_client(&self, ack: u32) -> u32 {
        let past = ack.wrapping_sub(self.start) as i32;
        if past <= 0 {
            ack
        } else if !self.replay {
            ack.wrapping_add(self.len)
        } else if past as u32 <= self.len {
            // Only (part of) the copy acknowledged: nothing new for the client.
            self.start
        } else {
            ack.wrapping_sub(self.len)
        }
    }
}

/// Writes the 32-bit number at `at` of `frame` and fixes the TCP checksum at `checksum_at` to
/// match (RFC 1624, one 16-bit word at a time).
fn rewrite_u32(frame: &mut [u8], at: usize, checksum_at: usize, new: u32) -> Option<()> {
    let old = u32::from_be_bytes(frame.get(at..at + 4)?.try_into().ok()?);
    let mut sum = u16::from_be_bytes(frame.get(checksum_at..checksum_at + 2)?.try_into().ok()?);
    sum = incremental_checksum(sum, (old >> 16) as u16, (new >> 16) as u16);
    sum = incremental_checksum(sum, old as u16, new as u16);
    frame
        .get_mut(at..at + 4)?
        .copy_from_slice(&new.to_be_bytes());
    frame
        .get_mut(checksum_at..checksum_at + 2)?
        .copy_from_slice(&sum.to_be_bytes());
    Some(())
}

struct Hook(Arc<AttackSwitch>);

impl FrameHook for Hook {
    fn frame(&mut self, frame: &mut Vec<u8>) -> Verdict {
        let switch = &self.0;
        let (Ok(mut armed), Ok(mut shifts)) = (switch.armed.lock(), switch.shifts.lock()) else {
            return Verdict::Pass;
        };
        if armed.is_none() && shifts.is_empty() {
            return Verdict::Pass;
        }
        let Some(seg) = Seg::of(frame, true) else {
            return Verdict::Pass;
        };
        // A new connection on the same addresses and ports owes nothing to an old one's.
        if seg.flags.contains(TcpFlags::SYN) {
            shifts.retain(|s| s.conn != seg.conn);
        }
        // Earlier replays and drops on this connection first: the frame as the server is to see it.
        let mut seq = seg.seq;
        for shift in shifts.iter().filter(|s| s.conn == seg.conn) {
            match shift.towards_server(seq, seg.payload_len) {
                Some(s) => seq = s,
                None => return Verdict::Drop,
            }
        }
        if seq != seg.seq {
            rewrite_u32(frame, seg.tcp_at + 4, seg.tcp_at + 16, seq);
        }
        let Some((attack, client)) = *armed else {
            return Verdict::Pass;
        };
        let theirs =
            client.is_none_or(|c| c == SocketAddr::new(seg.conn.client.0, seg.conn.client.1));
        if seg.payload_len == 0 || seg.flags.contains(TcpFlags::SYN) || !theirs {
            return Verdict::Pass;
        }
        let len = seg.payload_len as u32;
        let mut tampering = Tampering {
            attack,
            seq,
            len: seg.payload_len,
            byte: None,
            checksum_fixed: true,
            replay_seq: None,
        };
        let verdict = match attack {
            Attack::Mitm | Attack::MitmWrongName => {
                *armed = None;
                switch.acted.notify_all();
                return Verdict::Pass;
            }
            Attack::Flip | Attack::Corrupt => {
                let Some(t) = tamper(attack, frame) else {
                    return Verdict::Pass;
                };
                tampering = t;
                Verdict::Pass
            }
            Attack::Replay => {
                let mut copy = frame.clone();
                let at = seq.wrapping_add(len);
                rewrite_u32(&mut copy, seg.tcp_at + 4, seg.tcp_at + 16, at);
                shifts.push(Shift {
                    conn: seg.conn,
                    replay: true,
                    start: at,
                    len,
                });
                tampering.replay_seq = Some(at);
                Verdict::InjectAfter(copy, REPLAY_GAP)
            }
            Attack::DropRecord => {
                shifts.push(Shift {
                    conn: seg.conn,
                    replay: false,
                    start: seq,
                    len,
                });
                Verdict::Drop
            }
        };
        *armed = None;
        drop((armed, shifts));
        switch.record(tampering);
        verdict
    }
}

struct ReturnHook(Arc<AttackSwitch>);

impl FrameHook for ReturnHook {
    fn frame(&mut self, frame: &mut Vec<u8>) -> Verdict {
        let Ok(shifts) = self.0.shifts.lock() else {
            return Verdict::Pass;
        };
        if shifts.is_empty() {
            return Verdict::Pass;
        }
        let Some(seg) = Seg::of(frame, false) else {
            return Verdict::Pass;
        };
        if !seg.flags.contains(TcpFlags::ACK) {
            return Verdict::Pass;
        }
        let ack = shifts
            .iter()
            .rev()
            .filter(|s| s.conn == seg.conn)
            .fold(seg.ack, |ack, s| s.towards_client(ack));
        if ack != seg.ack {
            rewrite_u32(frame, seg.tcp_at + 8, seg.tcp_at + 16, ack);
        }
        Verdict::Pass
    }
}

/// Changes one payload byte of `frame` (an Ethernet frame) if it is a TCP segment carrying data;
/// `None` (and the frame unchanged) otherwise. The byte: when the segment starts with a TLS
/// record, one in the middle of that record's body (the part of it in this segment); in plain
/// text, the first letter, whose case is swapped (so the line stays printable: "hi" becomes
/// "Hi"); else the middle byte. Bit 0x20 is flipped in every case.
pub fn tamper(attack: Attack, frame: &mut [u8]) -> Option<Tampering> {
    let packet = dissect(LinkType::Ethernet, frame);
    let tcp = packet.tcp.as_ref()?;
    if packet.stop.is_some() || tcp.flags.contains(TcpFlags::SYN) {
        return None;
    }
    let payload = frame.get(packet.payload.clone())?;
    if payload.is_empty() {
        return None;
    }
    let tls = payload.len() > 5 && matches!(payload, [0x14..=0x18, 0x03, 0x00..=0x04, ..]);
    let at = if tls {
        // The first record's body, as far as this segment holds it.
        let body = usize::from(u16::from_be_bytes([payload[3], payload[4]]));
        5 + body.min(payload.len() - 5) / 2
    } else {
        payload
            .iter()
            .position(u8::is_ascii_alphabetic)
            .unwrap_or(payload.len() / 2)
    };
    let frame_offset = packet.payload.start + at;
    let before = *frame.get(frame_offset)?;
    let after = before ^ 0x20;
    let checksum_at = tcp.header.start + 16;
    // The 16-bit word of the segment holding the byte (words count from the TCP header's start).
    let word_start = tcp.header.start + ((frame_offset - tcp.header.start) & !1);
    let word = |f: &[u8]| {
        u16::from_be_bytes([
            f.get(word_start).copied().unwrap_or(0),
            if word_start + 1 < packet.payload.end {
                f.get(word_start + 1).copied().unwrap_or(0)
            } else {
                0
            },
        ])
    };
    let old_word = word(frame);
    *frame.get_mut(frame_offset)? = after;
    let checksum_fixed = attack == Attack::Flip;
    if checksum_fixed {
        let new_word = word(frame);
        let old_sum = u16::from_be_bytes([*frame.get(checksum_at)?, *frame.get(checksum_at + 1)?]);
        let new_sum = incremental_checksum(old_sum, old_word, new_word);
        frame
            .get_mut(checksum_at..checksum_at + 2)?
            .copy_from_slice(&new_sum.to_be_bytes());
    }
    Some(Tampering {
        attack,
        seq: tcp.seq,
        len: packet.payload.len(),
        byte: Some(ByteChange {
            payload_offset: at,
            frame_offset,
            before,
            after,
        }),
        checksum_fixed,
        replay_seq: None,
    })
}

/// RFC 1624 §3, eqn. 3: the Internet checksum `hc` after one 16-bit word of the data changes
/// from `m` to `m_new`: HC' = ~(~HC + ~m + m'), in ones' complement arithmetic.
pub fn incremental_checksum(hc: u16, m: u16, m_new: u16) -> u16 {
    let add = |a: u16, b: u16| {
        let s = u32::from(a) + u32::from(b);
        ((s & 0xffff) + (s >> 16)) as u16
    };
    !add(add(!hc, !m), m_new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::ChecksumStatus;

    /// An Ethernet + IPv4 + TCP frame with a correct TCP checksum (built by etherparse).
    fn segment(payload: &[u8], v6: bool) -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let builder = if v6 {
            builder.ipv6([0xfd; 16], [0xfe; 16], 64)
        } else {
            builder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        };
        let builder = builder.tcp(40000, 8443, 1000, 64000).psh().ack(77);
        let mut out = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut out, payload).expect("a frame");
        out
    }

    fn tcp_checksum(frame: &[u8]) -> ChecksumStatus {
        dissect(LinkType::Ethernet, frame)
            .tcp
            .map(|t| t.checksum)
            .expect("TCP")
    }

    #[test]
    fn flip_changes_one_byte_and_keeps_the_checksum_right() {
        for v6 in [false, true] {
            for payload in [
                &b"hi\n"[..],
                b"1234 x",
                b"\x17\x03\x03\x00\x05abcde",
                b"\x00\x01",
            ] {
                let original = segment(payload, v6);
                assert_eq!(tcp_checksum(&original), ChecksumStatus::Verified);
                let mut frame = original.clone();
                let t = tamper(Attack::Flip, &mut frame).expect("a segment with data");
                let changed: Vec<usize> = (0..frame.len())
                    .filter(|&i| frame[i] != original[i])
                    .collect();
                // The byte and the two checksum bytes (unless the sum happens to keep one).
                let b = t.byte.expect("a byte");
                assert!(changed.contains(&b.frame_offset), "{changed:?}");
                assert!(changed.len() <= 3, "{changed:?}");
                assert_eq!(b.after, b.before ^ 0x20);
                assert_eq!(
                    tcp_checksum(&frame),
                    ChecksumStatus::Verified,
                    "{payload:?}"
                );
            }
        }
    }

    #[test]
    fn the_byte_is_a_letter_in_text_and_inside_the_body_of_a_record() {
        let mut frame = segment(b"12 hi\n", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        let b = t.byte.expect("a byte");
        assert_eq!((b.payload_offset, b.before, b.after), (3, b'h', b'H'));
        let mut frame = segment(b"\x17\x03\x03\x00\x05abcde", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        assert_eq!(
            t.byte.expect("a byte").payload_offset,
            7,
            "the middle of the 5-byte body"
        );
        // Two records in one segment: the first one's body, never the second's header.
        let mut frame = segment(b"\x17\x03\x03\x00\x04abcd\x17\x03\x03\x00\x04wxyz", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        assert_eq!(
            t.byte.expect("a byte").payload_offset,
            7,
            "inside the first 4-byte body"
        );
        // A record longer than the segment: the middle of what the segment holds of it.
        let mut frame = segment(b"\x17\x03\x03\x40\x00abcdefgh", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        assert_eq!(t.byte.expect("a byte").payload_offset, 9);
    }

    #[test]
    fn corrupt_leaves_the_checksum_wrong() {
        let mut frame = segment(b"hi\n", false);
        let t = tamper(Attack::Corrupt, &mut frame).expect("changed");
        assert!(!t.checksum_fixed);
        assert!(matches!(tcp_checksum(&frame), ChecksumStatus::Wrong { .. }));
    }

    #[test]
    fn segments_without_data_and_other_frames_pass_untouched() {
        for frame in [segment(b"", false), vec![0u8; 60], Vec::new()] {
            let mut copy = frame.clone();
            assert_eq!(tamper(Attack::Flip, &mut copy), None);
            assert_eq!(copy, frame);
        }
    }

    #[test]
    fn an_armed_switch_changes_one_segment_then_disarms() {
        let switch = AttackSwitch::new();
        let mut hook = switch.hook();
        let mut first = segment(b"before\n", false);
        let untouched = first.clone();
        assert_eq!(hook.frame(&mut first), Verdict::Pass);
        assert_eq!(first, untouched, "not armed yet");
        switch.arm(Attack::Flip);
        let mut empty = segment(b"", false);
        hook.frame(&mut empty);
        assert!(
            switch.tamperings().is_empty(),
            "an ACK carries nothing to change"
        );
        let (mut a, mut b) = (segment(b"hi\n", false), segment(b"again\n", false));
        hook.frame(&mut a);
        let b_before = b.clone();
        hook.frame(&mut b);
        assert_eq!(switch.tamperings().len(), 1);
        assert_eq!(b, b_before, "one segment only");
    }

    /// A segment with sequence number `seq`, acknowledgment `ack`, from the client (or to it).
    fn numbered(payload: &[u8], seq: u32, ack: u32, from_client: bool) -> Vec<u8> {
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let builder = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let builder = if from_client {
            builder.ipv4(a, b, 64).tcp(40000, 8443, seq, 64000)
        } else {
            builder.ipv4(b, a, 64).tcp(8443, 40000, seq, 64000)
        };
        let builder = builder.ack(ack);
        let mut out = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut out, payload).expect("a frame");
        out
    }

    fn numbers(frame: &[u8]) -> (u32, u32, usize) {
        let p = dissect(LinkType::Ethernet, frame);
        let t = p.tcp.expect("TCP");
        assert_eq!(t.checksum, ChecksumStatus::Verified, "checksum kept right");
        (t.seq, t.ack, p.payload.len())
    }

    #[test]
    fn renumbering_moves_bytes_after_a_replay_or_a_removal_and_wraps() {
        let conn = Conn {
            client: ("10.0.0.1".parse().expect("ip"), 1),
            server: ("10.0.0.2".parse().expect("ip"), 2),
        };
        for base in [1000u32, u32::MAX - 4] {
            let at = |d: u32| base.wrapping_add(d);
            let replay = Shift {
                conn,
                replay: true,
                start: at(0),
                len: 10,
            };
            assert_eq!(
                replay.towards_server(at(0).wrapping_sub(1), 5),
                Some(at(0).wrapping_sub(1))
            );
            assert_eq!(replay.towards_server(at(0), 0), Some(at(10)));
            assert_eq!(replay.towards_server(at(3), 4), Some(at(13)));
            assert_eq!(replay.towards_client(at(0)), at(0));
            assert_eq!(
                replay.towards_client(at(5)),
                at(0),
                "only the copy acknowledged"
            );
            assert_eq!(replay.towards_client(at(10)), at(0));
            assert_eq!(replay.towards_client(at(11)), at(1));
            let drop = Shift {
                conn,
                replay: false,
                start: at(0),
                len: 10,
            };
            assert_eq!(
                drop.towards_server(at(0), 10),
                None,
                "a resend of the removed data"
            );
            assert_eq!(drop.towards_server(at(4), 3), None);
            assert_eq!(
                drop.towards_server(at(0), 0),
                Some(at(0)),
                "an ACK from before"
            );
            assert_eq!(drop.towards_server(at(10), 5), Some(at(0)));
            assert_eq!(drop.towards_client(at(0)), at(0));
            assert_eq!(drop.towards_client(at(5)), at(15));
        }
    }

    #[test]
    fn a_replay_sends_a_copy_as_new_data_and_hides_it_from_the_client() {
        let switch = AttackSwitch::new();
        let (mut out, mut back) = (switch.hook(), switch.return_hook());
        switch.arm(Attack::Replay);
        let mut line = numbered(b"pay\n", 1000, 77, true);
        // The line goes on, and its copy a moment later, as the next bytes.
        let Verdict::InjectAfter(copy, gap) = out.frame(&mut line) else {
            panic!("no copy injected")
        };
        assert_eq!(gap, REPLAY_GAP);
        assert_eq!(numbers(&line), (1000, 77, 4));
        assert_eq!(numbers(&copy), (1004, 77, 4));
        let t = &switch.tamperings()[0];
        assert_eq!(
            (t.seq, t.len, t.replay_seq, t.byte),
            (1000, 4, Some(1004), None)
        );
        // The client's next frame is renumbered.
        let mut ack = numbered(b"", 1004, 90, true);
        assert_eq!(out.frame(&mut ack), Verdict::Pass);
        assert_eq!(numbers(&ack), (1008, 90, 0));
        let mut later = numbered(b"", 1004, 95, true);
        assert_eq!(out.frame(&mut later), Verdict::Pass, "one copy only");
        assert_eq!(numbers(&later), (1008, 95, 0));
        // The server acknowledges the copy: the client sees its own numbers.
        let mut reply = numbered(b"", 90, 1008, false);
        assert_eq!(back.frame(&mut reply), Verdict::Pass);
        assert_eq!(numbers(&reply), (90, 1004, 0));
        // Another connection is left alone.
        let mut other = etherparse::PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40001, 8443, 1004, 64000);
        other = other.ack(1);
        let mut frame = Vec::new();
        other.write(&mut frame, b"").expect("frame");
        let before = frame.clone();
        out.frame(&mut frame);
        assert_eq!(frame, before);
    }

    #[test]
    fn an_attack_armed_for_one_client_lets_another_clients_segment_pass() {
        let switch = AttackSwitch::new();
        let mut out = switch.hook();
        switch.arm_for(
            Attack::DropRecord,
            Some("10.0.0.1:40000".parse().expect("addr")),
        );
        let mut other = Vec::new();
        etherparse::PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40001, 8443, 5000, 64000)
            .ack(1)
            .write(&mut other, b"not me\n")
            .expect("frame");
        assert_eq!(
            out.frame(&mut other),
            Verdict::Pass,
            "another connection's line"
        );
        assert!(switch.tamperings().is_empty());
        let mut line = numbered(b"pay\n", 1000, 77, true);
        assert_eq!(
            out.frame(&mut line),
            Verdict::Drop,
            "the armed client's line"
        );
        assert!(switch.wait_spent(std::time::Duration::ZERO));
    }

    #[test]
    fn a_removed_segment_and_its_resends_never_reach_the_server() {
        let switch = AttackSwitch::new();
        let (mut out, mut back) = (switch.hook(), switch.return_hook());
        switch.arm(Attack::DropRecord);
        let mut line = numbered(b"pay\n", 1000, 77, true);
        assert_eq!(out.frame(&mut line), Verdict::Drop);
        let mut resend = numbered(b"pay\n", 1000, 77, true);
        assert_eq!(
            out.frame(&mut resend),
            Verdict::Drop,
            "a resend is removed too"
        );
        let mut next = numbered(b"bye\n", 1004, 77, true);
        assert_eq!(out.frame(&mut next), Verdict::Pass);
        assert_eq!(
            numbers(&next),
            (1000, 77, 4),
            "takes the removed line's place"
        );
        let mut ack = numbered(b"", 77, 1004, false);
        back.frame(&mut ack);
        assert_eq!(
            numbers(&ack),
            (77, 1008, 0),
            "the client sees both acknowledged"
        );
        let mut old = numbered(b"", 77, 1000, false);
        back.frame(&mut old);
        assert_eq!(numbers(&old), (77, 1000, 0), "nothing new acknowledged");
    }

    #[test]
    fn incremental_checksum_matches_rfc_1624() {
        // RFC 1624 §4's example: HC = 0xDD2F, m = 0x5555 → m' = 0x3285 gives 0x0000.
        assert_eq!(incremental_checksum(0xdd2f, 0x5555, 0x3285), 0x0000);
    }
}
