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
//!
//! The session arms the attacker with an attack ([`AttackSwitch::arm`]) just before the chosen
//! line is written, so the handshake passes untouched and the change hits that line's segment.

use std::sync::{Arc, Mutex};

use super::forwarder::{FrameHook, Verdict};
use crate::dissect::{dissect, TcpFlags};
use crate::frame::LinkType;

/// An attack of the lab's attacker link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Attack {
    /// Change one byte of a segment and fix its TCP checksum.
    Flip,
    /// Change one byte of a segment and leave its TCP checksum wrong.
    Corrupt,
}

impl Attack {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Attack::Flip => "flip",
            Attack::Corrupt => "corrupt",
        }
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
    /// True if the TCP checksum was fixed to match.
    pub checksum_fixed: bool,
}

fn attack_name<S: serde::Serializer>(a: &Attack, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.name())
}

/// Shared between the session (which arms the attacker) and the link (which carries it out).
#[derive(Debug, Default)]
pub struct AttackSwitch {
    /// The attack the next client → server segment with data meets, if one is armed.
    armed: Mutex<Option<Attack>>,
    done: Mutex<Vec<Tampering>>,
}

impl AttackSwitch {
    /// An attacker, not armed.
    pub fn new() -> Arc<AttackSwitch> {
        Arc::new(AttackSwitch::default())
    }

    /// The next client → server segment with data meets `attack`.
    pub fn arm(&self, attack: Attack) {
        if let Ok(mut armed) = self.armed.lock() {
            *armed = Some(attack);
        }
    }

    /// What was changed so far.
    pub fn tamperings(&self) -> Vec<Tampering> {
        self.done.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The hook the link runs on frames from the client's side.
    pub fn hook(self: &Arc<Self>) -> Box<dyn FrameHook> {
        Box::new(Hook(self.clone()))
    }
}

struct Hook(Arc<AttackSwitch>);

impl FrameHook for Hook {
    fn frame(&mut self, frame: &mut Vec<u8>) -> Verdict {
        let switch = &self.0;
        let Ok(mut armed) = switch.armed.lock() else {
            return Verdict::Pass;
        };
        let Some(attack) = *armed else {
            return Verdict::Pass;
        };
        if let Some(t) = tamper(attack, frame) {
            *armed = None;
            tracing::info!(
                "attacker: {} byte {} of the segment with sequence number {} ({:#04x} → {:#04x})",
                t.attack.name(),
                t.payload_offset,
                t.seq,
                t.before,
                t.after
            );
            if let Ok(mut done) = switch.done.lock() {
                done.push(t);
            }
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
        payload_offset: at,
        frame_offset,
        before,
        after,
        checksum_fixed,
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
                assert!(changed.contains(&t.frame_offset), "{changed:?}");
                assert!(changed.len() <= 3, "{changed:?}");
                assert_eq!(t.after, t.before ^ 0x20);
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
        assert_eq!((t.payload_offset, t.before, t.after), (3, b'h', b'H'));
        let mut frame = segment(b"\x17\x03\x03\x00\x05abcde", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        assert_eq!(t.payload_offset, 7, "the middle of the 5-byte body");
        // Two records in one segment: the first one's body, never the second's header.
        let mut frame = segment(b"\x17\x03\x03\x00\x04abcd\x17\x03\x03\x00\x04wxyz", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        assert_eq!(t.payload_offset, 7, "inside the first 4-byte body");
        // A record longer than the segment: the middle of what the segment holds of it.
        let mut frame = segment(b"\x17\x03\x03\x40\x00abcdefgh", false);
        let t = tamper(Attack::Flip, &mut frame).expect("changed");
        assert_eq!(t.payload_offset, 9);
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

    #[test]
    fn incremental_checksum_matches_rfc_1624() {
        // RFC 1624 §4's example: HC = 0xDD2F, m = 0x5555 → m' = 0x3285 gives 0x0000.
        assert_eq!(incremental_checksum(0xdd2f, 0x5555, 0x3285), 0x0000);
    }
}
