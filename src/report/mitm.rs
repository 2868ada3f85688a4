//! What a man in the middle did (`trace --attack mitm`), told from the capture and the attacker's
//! own log: the client's refusal of the attacker's certificate (its reason and the alert on the
//! wire), or — with a client that does not verify, or over plain TCP — the two connections where
//! the client expected one, each TLS session with keys of its own, and every line the attacker
//! read and what it sent on instead.

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::chat::mitm::{MitmLog, RelayedLine};
use crate::journey::Trace;

/// One TCP connection of the chat, on one side of the attacker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// Its number (`tcp.stream`).
    pub stream: usize,
    /// Who opened it.
    pub client: SocketAddr,
    /// Whom it was opened to.
    pub server: SocketAddr,
    /// The ClientHello random (the key log's index of its TLS session), in hex.
    pub client_random: Option<String>,
}

/// The story of one man in the middle.
#[derive(Debug, Clone, PartialEq)]
pub struct MitmStory {
    /// `mitm` (a certificate of the attacker's own CA) or `mitm-wrong-name` (one packetpath's CA
    /// signed for another name).
    pub attack: crate::lab::attack::Attack,
    /// The TLS version of the client's session (0x0304 for TLS 1.3), if it was TLS.
    pub tls_version: Option<u16>,
    /// The name of the CA that issued the certificate the attacker showed (over TLS): one it
    /// made (`mitm`), or packetpath's own (`mitm-wrong-name`).
    pub certificate_issuer: Option<String>,
    /// Why the client refused to go on, as its TLS said (a verifying client).
    pub refused: Option<String>,
    /// The fatal alert the client sent: its frame, its name, and whether it travelled encrypted
    /// (TLS 1.3 sends it under the handshake keys).
    pub alert: Option<(u32, String, bool)>,
    /// The chat's connections: the client's to the attacker, the attacker's to the server.
    pub legs: Vec<Leg>,
    /// Every line the attacker relayed.
    pub lines: Vec<RelayedLine>,
}

impl MitmStory {
    /// Finds the attack's traces in the capture of a session whose chat server listened on
    /// `port`; `log` is the attacker's own.
    pub fn of(
        attack: crate::lab::attack::Attack,
        trace: &Trace,
        port: u16,
        log: &MitmLog,
        certificate_issuer: Option<String>,
        refused: Option<String>,
    ) -> MitmStory {
        let legs: Vec<Leg> = trace
            .tcp()
            .connections()
            .iter()
            .filter(|c| c.server.port() == port)
            .map(|c| Leg {
                stream: c.index,
                client: c.client,
                server: c.server,
                client_random: trace
                    .tls_session(c.index)
                    .and_then(|s| s.client_random)
                    .map(|r| crate::chat::keylog::hex(&r)),
            })
            .collect();
        let first = legs.first().map(|l| l.stream);
        let tls_version = first
            .and_then(|s| trace.tls_session(s))
            .and_then(|s| s.version);
        // The client's fatal alert, on its own connection (the first).
        let alert = first
            .and_then(|s| {
                crate::journey::fatal_alert(trace, Some(s), crate::flow::Direction::ClientToServer)
            })
            .map(|(frame, name, encrypted)| (frame, name.to_string(), encrypted));
        MitmStory {
            attack,
            tls_version,
            certificate_issuer,
            refused,
            alert,
            legs,
            lines: log.lines.clone(),
        }
    }

    /// What happened, in one sentence for the student.
    pub fn outcome(&self) -> String {
        if let Some(why) = &self.refused {
            let alert = match &self.alert {
                Some((frame, name, encrypted)) => format!(
                    "; it sent a fatal {name} alert (frame #{frame}{}) and closed the connection",
                    if *encrypted {
                        ", encrypted with the handshake keys: on the wire a record of type application_data"
                    } else {
                        ""
                    }
                ),
                None => String::new(),
            };
            let rule = match self.tls_version {
                Some(0x0304) => "RFC 8446 §6.2",
                _ => "RFC 5246 §7.2.2",
            };
            if self.attack == crate::lab::attack::Attack::MitmWrongName {
                return format!(
                    "the client refused the attacker before sending a line: {why}{alert}. The attacker showed a certificate that packetpath's CA did sign{}, but for attacker.example, not for localhost, the name the client asked for: a trusted signature is not enough, the certificate must name the server (RFC 9525 §6), or anyone with a certificate of their own could pose as any server",
                    self.certificate_issuer
                        .as_deref()
                        .map(|ca| format!(" (\"{ca}\")"))
                        .unwrap_or_default()
                );
            }
            return format!(
                "the client refused the attacker before sending a line: {why}{alert}. The attacker had to show a certificate of its own, signed by {}, and the client trusts only packetpath's CA: a chain that does not end at a CA the client trusts is refused (unknown_ca, {rule}), so verification is what stops a man in the middle",
                self.certificate_issuer
                    .as_deref()
                    .map_or_else(|| "a CA of its own".to_string(), |ca| format!("\"{ca}\""))
            );
        }
        let changed: Vec<&RelayedLine> = self
            .lines
            .iter()
            .filter(|l| l.to_server && l.read != l.sent)
            .collect();
        let read = match changed.first() {
            Some(l) => format!(
                "the attacker read \"{}\" in clear and sent \"{}\" to the server; it took its words out of the server's answer, so neither end saw a sign of it",
                l.read, l.sent
            ),
            None => "the attacker read every line in clear".to_string(),
        };
        match self.tls_version {
            Some(_) => format!(
                "the client did not check the certificate (--insecure) and made its TLS session with the attacker: {} TCP connections and {} TLS sessions with keys of their own where the client expected one; {read}",
                self.legs.len(),
                self.legs.iter().filter(|l| l.client_random.is_some()).count()
            ),
            None => format!("over plain TCP there is no certificate to refuse: {read}"),
        }
    }

    /// The story as text lines.
    pub fn text(&self) -> String {
        let mut out = format!(
            "attack ({}) on r1: the router takes the chat's connections in the server's name and makes its own to the server\n",
            self.attack.name()
        );
        for (i, leg) in self.legs.iter().enumerate() {
            out.push_str(&format!(
                "  connection {} (tcp.stream {}): {} → {}{}\n",
                i + 1,
                leg.stream,
                leg.client,
                leg.server,
                leg.client_random
                    .as_deref()
                    .map(|r| format!(
                        ", TLS session with client random {}…",
                        &r[..r.len().min(16)]
                    ))
                    .unwrap_or_default()
            ));
        }
        for l in &self.lines {
            out.push_str(&format!(
                "  the attacker read {} \"{}\"{}\n",
                if l.to_server {
                    "from the client"
                } else {
                    "from the server"
                },
                l.read,
                if l.read != l.sent {
                    format!(" and sent \"{}\"", l.sent)
                } else {
                    String::new()
                }
            ));
        }
        out.push_str(&format!("  what happened: {}\n", self.outcome()));
        out
    }

    /// The story as JSON (`mitm` in `trace --format json`).
    pub fn json(&self) -> Value {
        json!({
            "attack": self.attack.name(),
            "tls_version": self.tls_version.map(|v| format!("0x{v:04x}")),
            "certificate_issuer": self.certificate_issuer,
            "refused": self.refused,
            "alert": self.alert.as_ref().map(|(frame, name, encrypted)| json!({"frame": frame, "name": name, "encrypted": encrypted})),
            "connections": self.legs.iter().map(|l| json!({
                "stream": l.stream,
                "client": l.client.to_string(),
                "server": l.server.to_string(),
                "client_random": l.client_random,
            })).collect::<Vec<_>>(),
            "lines": self.lines,
            "outcome": self.outcome(),
        })
    }
}
