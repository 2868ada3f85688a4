//! What an attack in transit did (`trace --attack`), told from the capture: the segment before
//! the attacker (on the client's interface) and after it (on r1's), the byte changed, whether
//! TCP's checksum still verifies, and what each end made of it — a TLS alert, a changed line
//! delivered as if sent, or a segment dropped by the receiving kernel and sent again.

use serde_json::{json, Value};

use crate::chat::{Direction as AppDirection, Side};
use crate::dissect::ChecksumStatus;
use crate::journey::Trace;
use crate::lab::attack::{Attack, Tampering};
use crate::tls::ContentType;

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
    /// What the server's application read, if it read anything after the change.
    pub server_read: Option<String>,
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
        let after = carrying.iter().copied().find(|&n| named(n, "r1"));
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
        let alert = trace.records().iter().find_map(|r| {
            if r.dir != crate::flow::Direction::ServerToClient {
                return None;
            }
            let inner = r.info.decrypted.as_ref().map(|p| p.content_type);
            let is_alert = inner == Some(ContentType::Alert)
                || (inner.is_none() && r.info.header.content_type == ContentType::Alert);
            // An error, not the close_notify that ends every connection.
            let (level, description) = r.info.alert?;
            (is_alert && level == 2)
                .then(|| (r.frame, crate::tls::alert_name(description).to_string()))
        });
        // What the server read after the attack began: the line as delivered.
        let server_read = trace
            .app_events()
            .iter()
            .filter(|e| e.side == Side::Server && e.dir == AppDirection::Read)
            .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
            .rfind(|text| !text.starts_with("/name "));
        AttackStory {
            tampering: tampering.clone(),
            before,
            after,
            after_checksum,
            resent,
            alert,
            tls_version,
            server_read,
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
            if name == "bad_record_mac" {
                return format!(
                    "the server's TLS rejected the changed record and sent a {name} alert (frame #{frame}), then closed the connection: every TLS record carries an authentication tag that no one without the keys can recompute ({rule}), so a changed byte is found whatever the TCP checksum says"
                );
            }
            return format!(
                "the server's TLS refused what arrived and sent a {name} alert (frame #{frame}), then closed the connection"
            );
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
            "attack ({}) on link 1, between the client and r1: byte {} (from 0) of the segment's data (sequence number {}) changed from {:#04x} to {:#04x}, TCP checksum {}\n",
            t.attack.name(),
            t.payload_offset,
            t.seq,
            t.before,
            t.after,
            if t.checksum_fixed { "fixed to match" } else { "left as it was" },
        );
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
            "alert": self.alert.as_ref().map(|(frame, name)| json!({"frame": frame, "name": name})),
            "tls_version": self.tls_version.map(|v| format!("0x{v:04x}")),
            "server_read": self.server_read,
            "client_error": self.client_error,
            "outcome": self.outcome(sent),
        })
    }
}
