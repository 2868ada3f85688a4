//! What an attack in transit did (`trace --attack`), told from the capture: the segment before
//! the attacker (on the client's interface) and after it (on r1's), the byte changed, whether
//! TCP's checksum still verifies, and what each end made of it — a TLS alert, a changed line
//! delivered as if sent, or a segment dropped by the receiving kernel and sent again; a replayed
//! line read twice, or a removed line never read.

use serde_json::{json, Value};

use crate::chat::{Direction as AppDirection, Side};
use crate::dissect::ChecksumStatus;
use crate::journey::Trace;
use crate::lab::attack::{Attack, Tampering};

/// The story of one attack on one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct AttackStory {
    /// What the attacker did.
    pub tampering: Tampering,
    /// The segment as the client sent it (captured before the attacker), and as it went on.
    pub before: Option<u32>,
    /// The segment after the attacker (captured on r1's end of the link).
    pub after: Option<u32>,
    /// Whether the changed segment's TCP checksum verifies.
    pub after_checksum: Option<ChecksumStatus>,
    /// A later copy of the same bytes from the client: the retransmission.
    pub resent: Option<u32>,
    /// A TLS alert record from the server: its frame and description.
    pub alert: Option<(u32, String)>,
    /// The TLS version the connection negotiated (0x0304 for TLS 1.3), if it was TLS.
    pub tls_version: Option<u16>,
    /// `replay`: the copy, as it left the attacker (on r1's end of the link).
    pub replayed: Option<u32>,
    /// What the server's application read, if it read anything after the change.
    pub server_read: Option<String>,
    /// Every line the server's application read from the client (its name excepted).
    pub server_lines: Vec<String>,
    /// What the client's connection ended with, if it ended with an error.
    pub client_error: Option<String>,
}

impl AttackStory {
    /// Finds the attack's traces in the capture.
    pub fn of(trace: &Trace, tampering: &Tampering, client_error: Option<String>) -> AttackStory {
        let named = |n: u32, prefix: &str| {
            trace
                .frame(n)
                .and_then(|f| trace.interface_name(f.frame.interface))
                .is_some_and(|name| name.starts_with(prefix))
        };
        // Frames with the segment's sequence number and data, from the client, in capture order.
        let carrying: Vec<u32> = trace
            .frames()
            .iter()
            .filter(|e| {
                let p = e.headers();
                p.tcp.as_ref().is_some_and(|t| t.seq == tampering.seq)
                    && e.segment.as_ref().is_some_and(|s| {
                        s.dir == crate::flow::Direction::ClientToServer && s.payload_len > 0
                    })
            })
            .map(|e| e.number)
            .collect();
        let before = carrying.iter().copied().find(|&n| named(n, "client"));
        // A removed segment never left the attacker (the next one took its number).
        let after = carrying
            .iter()
            .copied()
            .find(|&n| named(n, "r1"))
            .filter(|_| tampering.attack != Attack::DropRecord);
        let replayed = tampering.replay_seq.and_then(|seq| {
            trace.frames().iter().find_map(|e| {
                let p = e.headers();
                (p.tcp.as_ref().is_some_and(|t| t.seq == seq)
                    && named(e.number, "r1")
                    && e.segment.as_ref().is_some_and(|s| {
                        s.dir == crate::flow::Direction::ClientToServer
                            && s.payload_len == tampering.len
                    }))
                .then_some(e.number)
            })
        });
        let after_checksum = after
            .and_then(|n| trace.frame(n))
            .and_then(|e| e.packet().tcp.map(|t| t.checksum));
        let resent = carrying
            .iter()
            .copied()
            .filter(|&n| named(n, "client"))
            .nth(1);
        let tls_version = before
            .and_then(|n| trace.frame(n))
            .and_then(|e| e.segment.as_ref())
            .and_then(|s| trace.tls_session(s.stream))
            .and_then(|s| s.version);
        let alert =
            crate::journey::fatal_alert(trace, None, crate::flow::Direction::ServerToClient)
                .map(|(frame, name, _)| (frame, name.to_string()));
        // What the server read after the attack began: the line as delivered.
        let server_read = trace
            .app_events()
            .iter()
            .filter(|e| e.side == Side::Server && e.dir == AppDirection::Read)
            .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
            .rfind(|text| !text.starts_with("/name "));
        let server_lines = crate::journey::lines_read(trace, Side::Server)
            .into_iter()
            .filter(|line| !line.starts_with("/name "))
            .collect();
        AttackStory {
            tampering: tampering.clone(),
            before,
            after,
            after_checksum,
            resent,
            alert,
            tls_version,
            replayed,
            server_read,
            server_lines,
            client_error,
        }
    }

    /// What happened, in one sentence for the student.
    pub fn outcome(&self, sent: &str) -> String {
        let sent = sent.trim_end_matches('\n');
        if let Some((frame, name)) = &self.alert {
            // Where each version says a record that does not open ends the connection.
            let rule = match self.tls_version {
                Some(0x0304) => "RFC 8446 §5.2",
                _ => "RFC 5246 §6.2.3",
            };
            // Each record is sealed with its own sequence number: in TLS 1.3 it is part of the
            // nonce, in TLS 1.2 part of the additional data.
            let sealed = match self.tls_version {
                Some(0x0304) => "RFC 8446 §5.3",
                _ => "RFC 5246 §6.2.3.3",
            };
            if name == "bad_record_mac" && self.tampering.attack == Attack::Replay {
                return format!(
                    "the server's TLS read the line once; the copy failed the record check, and the server sent a {name} alert (frame #{frame}), then closed the connection: every record is sealed with its own sequence number, which each end counts for itself ({sealed}), so an old record never opens in a new place"
                );
            }
            if name == "bad_record_mac" && self.tampering.attack == Attack::DropRecord {
                return format!(
                    "the removed line never reached the server; the next record failed the record check (it was sealed with the sequence number after the removed one's, and the server expected the removed one's: {sealed}), and the server sent a {name} alert (frame #{frame}), then closed the connection"
                );
            }
            if name == "bad_record_mac" {
                return format!(
                    "the server's TLS rejected the changed record and sent a {name} alert (frame #{frame}), then closed the connection: every TLS record carries an authentication tag that no one without the keys can recompute ({rule}), so a changed byte is found whatever the TCP checksum says"
                );
            }
            return format!(
                "the server's TLS refused what arrived and sent a {name} alert (frame #{frame}), then closed the connection"
            );
        }
        let read = |line: &str| self.server_lines.iter().filter(|l| *l == line).count();
        match self.tampering.attack {
            Attack::Replay if read(sent) >= 2 => {
                let times = match read(sent) {
                    2 => "twice".to_string(),
                    n => format!("{n} times"),
                };
                return format!(
                    "the server read \"{sent}\" {times} and answered each: the attacker numbered the copy as the next bytes of the stream and renumbered the rest, and plain TCP numbers bytes, not messages, so the copy was taken as new data"
                );
            }
            Attack::DropRecord if read(sent) == 0 && !self.server_lines.is_empty() => {
                return format!(
                    "the server never read \"{sent}\", only what came after it (\"{}\"), and neither end noticed: the attacker renumbered the client's later bytes and the server's acknowledgments, so TCP saw no gap",
                    self.server_lines.join("\", \"")
                )
            }
            _ => {}
        }
        match (self.tampering.attack, &self.server_read) {
            (Attack::Corrupt, Some(read)) if read.trim_end_matches('\n') == sent => format!(
                "the server's kernel found the TCP checksum wrong and dropped the segment without acknowledging it; the client sent it again{} and the line arrived intact: TCP's checksum catches accidents, not someone who recomputes it",
                self.resent.map(|n| format!(" (frame #{n})")).unwrap_or_default()
            ),
            (Attack::Flip, Some(read)) if read.trim_end_matches('\n') != sent => format!(
                "the server read \"{}\" where the client wrote \"{sent}\", and neither end noticed: the attacker fixed the TCP checksum, and plain TCP has no other check",
                read.trim_end_matches('\n')
            ),
            _ => match &self.client_error {
                Some(e) => format!("the client's connection ended: {e}"),
                None => "neither end reported anything".into(),
            },
        }
    }

    /// The story as text lines.
    pub fn text(&self, sent: &str) -> String {
        let t = &self.tampering;
        let frame =
            |n: Option<u32>| n.map_or_else(|| "not captured".into(), |n| format!("frame #{n}"));
        let mut out = format!(
            "attack ({}) on link 1, between the client and r1: the attacker {}\n",
            t.attack.name(),
            t.describe(),
        );
        if t.attack == Attack::DropRecord {
            out.push_str(&format!(
                "  before the attacker: {} on client-eth0; after it: nothing (removed)\n",
                frame(self.before),
            ));
        } else {
            out.push_str(&format!(
                "  before the attacker: {} on client-eth0; after it: {} on r1-eth0 (TCP checksum {})\n",
                frame(self.before),
                frame(self.after),
                match self.after_checksum {
                    Some(ChecksumStatus::Verified) => "correct",
                    Some(ChecksumStatus::Wrong { .. }) => "wrong",
                    _ => "not checked",
                }
            ));
        }
        if t.attack == Attack::Replay {
            out.push_str(&format!(
                "  the copy: {} on r1-eth0 (sequence number {})\n",
                frame(self.replayed),
                t.replay_seq.unwrap_or(t.seq)
            ));
        }
        out.push_str(&format!("  what happened: {}\n", self.outcome(sent)));
        out
    }

    /// The story as JSON (`attack` in `trace --format json`).
    pub fn json(&self, sent: &str) -> Value {
        json!({
            "attack": self.tampering.attack.name(),
            "link": crate::lab::ATTACKER_LINK,
            "tampering": self.tampering,
            "before_frame": self.before,
            "after_frame": self.after,
            "after_checksum": self.after_checksum.map(super::checksum_name),
            "resent_frame": self.resent,
            "replay_frame": self.replayed,
            "server_lines": self.server_lines,
            "alert": self.alert.as_ref().map(|(frame, name)| json!({"frame": frame, "name": name})),
            "tls_version": self.tls_version.map(|v| format!("0x{v:04x}")),
            "server_read": self.server_read,
            "client_error": self.client_error,
            "outcome": self.outcome(sent),
        })
    }
}
