//! The TLS column: one record's fields (RFC 8446 §5.1 header, §5.2 protected body), each with
//! the bytes it occupies in the frames that carried it.

use std::ops::Range;

use super::{hex_preview, span_bytes, Builder};
use crate::report::quoted_plaintext;
use crate::tls::ContentType;
use crate::ui::strings;
use crate::ui::theme::UiLayer;

impl Builder<'_> {
    /// The fields of one TLS record (RFC 8446 §5.1 header, §5.2 protected body).
    pub(super) fn record(&mut self, r: usize, heading: Option<String>) {
        let Some(rec) = self.trace.record(r) else {
            return;
        };
        if let Some(h) = heading {
            self.heading(UiLayer::Tls, h);
        }
        let at =
            |off: u64, len: u64| rec.stream_range.start + off..rec.stream_range.start + off + len;
        let spans = |range: Range<u64>| self.trace.stream_spans(rec.stream, rec.dir, range);
        let info = &rec.info;
        let ct = info.header.content_type;
        let tls13 = self
            .trace
            .tls_session(rec.stream)
            .is_some_and(|s| s.version == Some(0x0304));
        self.field(
            UiLayer::Tls,
            "content type",
            format!("{} ({ct})", ct.number()),
            strings::content_type_meaning(ct, info.encrypted, tls13),
            spans(at(0, 1)),
        );
        self.field(
            UiLayer::Tls,
            "version",
            format!(
                "0x{:04x} ({})",
                info.header.version,
                crate::tls::version_name(info.header.version)
            ),
            strings::record_version_meaning(info.header.version, tls13).into(),
            spans(at(1, 2)),
        );
        self.field(
            UiLayer::Tls,
            "length",
            crate::dissect::byte_count(usize::from(info.header.length)),
            strings::record_length_meaning(info.encrypted, tls13).into(),
            spans(at(3, 2)),
        );
        let body_len = u64::from(info.header.length);
        if info.encrypted {
            let suite = self
                .trace
                .tls_session(rec.stream)
                .and_then(|s| s.cipher_suite_name)
                .unwrap_or("");
            let tag = if suite.contains("CCM_8") { 8 } else { 16 };
            let nonce = if !tls13 && (suite.contains("GCM") || suite.contains("CCM")) {
                8
            } else {
                0
            };
            let tag = tag.min(body_len.saturating_sub(nonce));
            if nonce > 0 {
                let s = spans(at(5, nonce));
                let v = hex_preview(&span_bytes(self.trace, &s), 8);
                self.field(
                    UiLayer::Tls,
                    "explicit nonce",
                    v,
                    strings::EXPLICIT_NONCE_MEANING.into(),
                    s,
                );
            }
            let body = at(5 + nonce, body_len - nonce - tag);
            let s = spans(body.clone());
            match (&info.decrypted, self.decrypted) {
                (Some(p), true) => {
                    let value = if p.content_type == ContentType::ApplicationData {
                        quoted_plaintext(self.trace, rec, 60)
                    } else {
                        format!("{} ({} B)", p.content_type, p.len)
                    };
                    self.field(
                        UiLayer::Tls,
                        "plaintext",
                        value,
                        strings::plaintext_meaning(p.content_type, p.len, tls13),
                        s,
                    );
                    if tls13 {
                        self.field(
                            UiLayer::Tls,
                            "inner type",
                            format!("{} ({})", p.content_type.number(), p.content_type),
                            strings::INNER_TYPE_MEANING.into(),
                            Vec::new(),
                        );
                    }
                }
                _ => {
                    let bytes = span_bytes(self.trace, &s);
                    let why = match (&info.decrypted, &info.note) {
                        (Some(_), _) => strings::CIPHERTEXT_MEANING.to_string(),
                        (None, Some(note)) => format!("{} ({note})", strings::CIPHERTEXT_MEANING),
                        (None, None) => strings::CIPHERTEXT_MEANING.to_string(),
                    };
                    self.field(
                        UiLayer::Tls,
                        "encrypted body",
                        format!("{} ({} B)", hex_preview(&bytes, 6), body.end - body.start),
                        why,
                        s,
                    );
                }
            }
            let s = spans(at(5 + body_len - tag, tag));
            let v = hex_preview(&span_bytes(self.trace, &s), 4);
            self.field(
                UiLayer::Tls,
                "auth tag",
                format!("{v} ({tag} B)"),
                if tls13 {
                    strings::TAG_MEANING
                } else {
                    strings::TAG_MEANING_TLS12
                }
                .into(),
                s,
            );
        } else {
            let value = if !info.handshake.is_empty() {
                let names: Vec<&str> = info.handshake.iter().map(|h| h.name()).collect();
                names.join(", ")
            } else if let Some((level, description)) = info.alert {
                format!(
                    "{} ({})",
                    crate::tls::alert_name(description),
                    crate::tls::alert_level_name(level)
                )
            } else if let Some(partial) = info.handshake_partial {
                format!("part of {}", partial.name())
            } else {
                format!("{body_len} B")
            };
            self.field(
                UiLayer::Tls,
                "body",
                value,
                strings::clear_body_meaning(ct),
                spans(at(5, body_len)),
            );
        }
    }
}
