//! How a frame's bytes divide among the layers, computed in one place so that every pane that
//! shows a size (the encapsulation strip, the layer columns' headers, compare mode) shows the same
//! numbers, and they add up: each layer's size is the one above it plus that layer's own bytes.

use std::ops::Range;

use super::{StreamKind, Trace};
use crate::dissect::Layer;
use crate::tls::ContentType;

/// The TLS 1.3 version number in the session summary.
const TLS13: u16 = 0x0304;

/// Cumulative sizes, from the application's bytes down to the frame: each is the layer above it
/// plus that layer's own bytes (header, for TLS record headers and encryption overhead).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stack {
    /// The application's bytes; `None` when the frame carries none (no TCP payload), or when
    /// they are inside records that cannot be read (then [`Stack::tls`] is `Some`).
    pub text: Option<u64>,
    /// TLS record bytes (headers, ciphertext and tags); `None` when the connection is not TLS.
    pub tls: Option<u64>,
    /// The transport layer: TCP segments (headers and payload), or a UDP datagram or an ICMP
    /// message; `None` for a frame without any of them.
    pub tcp: Option<u64>,
    /// IP packets (or, for ARP, the ARP message); `None` when the frame has neither.
    pub ip: Option<u64>,
    /// Frames as captured.
    pub frame: u64,
}

impl Stack {
    /// Adds another frame's (or message's) sizes.
    pub fn add(&mut self, other: &Stack) {
        fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            }
        }
        self.text = match (self.text, other.text) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.tls = sum(self.tls, other.tls);
        self.tcp = sum(self.tcp, other.tcp);
        self.ip = sum(self.ip, other.ip);
        self.frame += other.frame;
    }

    /// Each layer's own bytes, Application first: the application's bytes, then for every lower
    /// layer its size minus the size of the layer it carries. `None` for a layer that is absent
    /// (or, for the application, hidden by encryption).
    pub fn own(&self) -> [Option<u64>; 5] {
        let inner_of_tcp = self.tls.or(self.text);
        let inner_of_ip = self.tcp;
        let inner_of_frame = self.ip.or(self.tcp);
        [
            self.text,
            self.tls.map(|t| t.saturating_sub(self.text.unwrap_or(0))),
            self.tcp
                .map(|t| t.saturating_sub(inner_of_tcp.unwrap_or(0))),
            self.ip.map(|i| i.saturating_sub(inner_of_ip.unwrap_or(0))),
            Some(self.frame.saturating_sub(inner_of_frame.unwrap_or(0))),
        ]
    }
}

impl Trace {
    /// The records whose bytes frame `n` carries (whole or part), in stream order.
    pub fn records_in_frame(&self, n: u32) -> Vec<usize> {
        let Some(entry) = self.frame(n) else {
            return Vec::new();
        };
        let Some(seg) = &entry.segment else {
            return Vec::new();
        };
        if seg.payload_len == 0 {
            return Vec::new();
        }
        let bytes = seg.stream_offset..seg.stream_offset + seg.payload_len as u64;
        // A record that this frame carries completes in this frame or later; look ahead a bounded
        // number of records, so a huge trace does not scan everything.
        let forgotten = self.records_forgotten();
        self.records()
            .iter()
            .enumerate()
            .skip(entry.records.start.saturating_sub(forgotten))
            .take(4096)
            .filter(|(_, r)| {
                r.stream == seg.stream
                    && r.dir == seg.dir
                    && r.stream_range.start < bytes.end
                    && bytes.start < r.stream_range.end
            })
            .map(|(i, _)| forgotten + i)
            .collect()
    }

    /// Where record `r`'s application bytes lie in its direction's TCP byte stream, as their
    /// encrypted counterparts (AEAD ciphers encrypt byte for byte): after the 5-byte header and,
    /// in TLS 1.2 with AES-GCM, the 8-byte explicit nonce. Empty for a record that carries no
    /// application data; `None` when that cannot be known (not decrypted).
    pub fn record_text(&self, r: usize) -> Option<Range<u64>> {
        let rec = self.record(r)?;
        let start = rec.stream_range.start + 5;
        let Some(plain) = &rec.info.decrypted else {
            return (!rec.info.encrypted).then_some(start..start);
        };
        if plain.content_type != ContentType::ApplicationData {
            return Some(start..start);
        }
        let tls13 = self
            .tls_session(rec.stream)
            .is_some_and(|s| s.version == Some(TLS13));
        let body = rec.info.header.record_len().saturating_sub(5) as u64;
        // TLS 1.2: body = explicit nonce + text + 16-byte tag, so the nonce is what is left over.
        let explicit = if tls13 || !rec.info.encrypted {
            0
        } else {
            body.saturating_sub(plain.len as u64 + 16)
        };
        let text = start + explicit;
        Some(text..text + plain.len as u64)
    }

    /// How frame `n`'s bytes divide among the layers.
    pub fn frame_stack(&self, n: u32) -> Option<Stack> {
        let entry = self.frame(n)?;
        let p = entry.headers();
        let len = |r: Option<Range<usize>>| r.map(|r| r.len() as u64);
        let payload = p.payload.len() as u64;
        let tcp = p.tcp.as_ref().map(|t| t.header.len() as u64 + payload);
        // A UDP datagram carries its payload for the application; an ICMP message is the top.
        if let Some(udp) = &p.udp {
            return Some(Stack {
                text: Some(udp.payload.len() as u64),
                tls: None,
                tcp: Some((udp.header.len() + udp.payload.len()) as u64),
                ip: p.ip.as_ref().map(|ip| ip.packet.len() as u64),
                frame: entry.frame.data.len() as u64,
            });
        }
        let tcp = tcp.or(p.icmp.as_ref().map(|i| i.range.len() as u64));
        let ip =
            p.ip.as_ref()
                .map(|ip| ip.packet.len() as u64)
                .or_else(|| len(p.range(Layer::Arp)));
        let kind = entry
            .segment
            .as_ref()
            .map_or(StreamKind::Unknown, |s| self.stream_kind(s.stream));
        let (tls, text) = match (&entry.segment, kind, tcp) {
            // A segment without payload (a bare ACK, SYN or FIN) carries no layer above TCP.
            (_, _, Some(_)) if payload == 0 => (None, None),
            (Some(seg), StreamKind::Tls, Some(_)) => {
                let bytes = seg.stream_offset..seg.stream_offset + seg.payload_len as u64;
                let mut text = Some(0);
                for r in self.records_in_frame(n) {
                    text = match (text, self.record_text(r)) {
                        (Some(t), Some(range)) => Some(
                            t + range
                                .end
                                .min(bytes.end)
                                .saturating_sub(range.start.max(bytes.start)),
                        ),
                        _ => None,
                    };
                }
                (Some(payload), text)
            }
            (_, _, Some(_)) => (None, Some(payload)),
            _ => (None, None),
        };
        Some(Stack {
            text,
            tls,
            tcp,
            ip,
            frame: entry.frame.data.len() as u64,
        })
    }
}
