//! The chat's line protocol: UTF-8 lines ending in `\n`, at most [`MAX_LINE`] bytes each.
//!
//! TCP delivers a byte stream, not messages: a line may arrive in several reads, and several lines
//! may arrive in one read. The codec below finds the line boundaries, which is exactly the job a
//! student's "one read = one message" program gets wrong.

use tokio_util::codec::{LinesCodec, LinesCodecError};

/// The longest line the chat accepts, in bytes, not counting the `\n`.
pub const MAX_LINE: usize = 64 * 1024;

/// The longest name a client may choose.
pub const MAX_NAME: usize = 32;

/// The name the server signs its own replies with (`server: received "…"`); no client may take it,
/// in any capitalisation, so no client can pass its lines off as the server's.
pub const RESERVED_NAME: &str = "server";

/// A codec that splits a byte stream into lines and refuses lines over [`MAX_LINE`].
pub fn codec() -> LinesCodec {
    LinesCodec::new_with_max_length(MAX_LINE)
}

/// Why a received line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    /// The line exceeded [`MAX_LINE`] bytes.
    TooLong,
    /// The bytes were not valid UTF-8 text.
    NotUtf8,
}

impl LineProblem {
    /// Classifies a codec error: a line problem the peer should be told about, or `None` for a
    /// transport failure (connection reset, TLS error) where nothing can be said any more.
    pub fn from_codec(err: &LinesCodecError) -> Option<Self> {
        match err {
            LinesCodecError::MaxLineLengthExceeded => Some(LineProblem::TooLong),
            LinesCodecError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                // tokio-util reports invalid UTF-8 as InvalidData; TLS errors also use that kind
                // but carry a rustls error inside.
                if e.get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
                {
                    None
                } else {
                    Some(LineProblem::NotUtf8)
                }
            }
            LinesCodecError::Io(_) => None,
        }
    }

    /// The error line sent to the client before the connection is closed.
    pub fn message(&self) -> String {
        match self {
            LineProblem::TooLong => {
                format!("error: line longer than {MAX_LINE} bytes; closing the connection")
            }
            LineProblem::NotUtf8 => {
                "error: line is not valid UTF-8 text; closing the connection".to_string()
            }
        }
    }
}

/// Reads a `/name NAME` line: `Some(Ok(name))` for a valid name, `Some(Err(reason))` for an invalid
/// one, `None` if the line is not a name command at all.
pub fn parse_name(line: &str) -> Option<Result<String, String>> {
    let rest = line.strip_prefix("/name")?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let name = rest.trim();
    if name.is_empty() {
        return Some(Err("a name cannot be empty".into()));
    }
    if name.len() > MAX_NAME {
        return Some(Err(format!("a name is at most {MAX_NAME} bytes")));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Some(Err(
            "a name has no spaces, colons or control characters".into()
        ));
    }
    if name.eq_ignore_ascii_case(RESERVED_NAME) {
        return Some(Err(format!(
            "the name {name} is reserved for the server's own replies; choose another"
        )));
    }
    Some(Ok(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("/name alice"), Some(Ok("alice".into())));
        assert_eq!(parse_name("hello"), None);
        assert_eq!(parse_name("/names"), None);
        assert!(matches!(parse_name("/name "), Some(Err(_))));
        assert!(matches!(parse_name("/name a:b"), Some(Err(_))));
        assert!(matches!(parse_name("/name server"), Some(Err(_))));
        assert!(matches!(parse_name("/name SerVer"), Some(Err(_))));
        assert_eq!(parse_name("/name server-2"), Some(Ok("server-2".into())));
        assert!(matches!(
            parse_name(&format!("/name {}", "x".repeat(33))),
            Some(Err(_))
        ));
    }
}

/// The chat's codec: [`LinesCodec`] with a limit, except that a line cut off by the end of the
/// connection (a client killed mid-line) is discarded rather than delivered: it was never a line.
///
/// The server refuses a line that is not UTF-8 (the error says so); a client reads with
/// [`ChatCodec::lossy`] instead, so a line it cannot decode is shown (bad bytes as `\u{FFFD}`)
/// with a warning, and the chat goes on.
#[derive(Debug, Clone)]
pub struct ChatCodec {
    lines: LinesCodec,
    lossy: bool,
}

impl Default for ChatCodec {
    fn default() -> Self {
        ChatCodec {
            lines: codec(),
            lossy: false,
        }
    }
}

impl ChatCodec {
    /// A codec that decodes a line that is not valid UTF-8 with replacement characters instead
    /// of failing.
    pub fn lossy() -> Self {
        ChatCodec {
            lines: codec(),
            lossy: true,
        }
    }

    /// The next complete line if it is not valid UTF-8, decoded lossily (only in lossy mode).
    fn decode_invalid(&mut self, buf: &mut bytes::BytesMut) -> Option<String> {
        let window = &buf[..buf.len().min(MAX_LINE + 1)];
        let end = window.iter().position(|b| *b == b'\n')?;
        if std::str::from_utf8(&window[..end]).is_ok() {
            return None;
        }
        let line = buf.split_to(end + 1);
        let mut text = &line[..end];
        if let Some(stripped) = text.strip_suffix(b"\r") {
            text = stripped;
        }
        // The inner codec may have remembered how far it had searched: start it afresh.
        self.lines = codec();
        tracing::warn!(
            "received a line that is not valid UTF-8 text; showing it with \u{FFFD} for the bytes \
             that could not be decoded (the sender's program or terminal does not use UTF-8)"
        );
        Some(String::from_utf8_lossy(text).into_owned())
    }
}

impl tokio_util::codec::Decoder for ChatCodec {
    type Item = String;
    type Error = LinesCodecError;

    fn decode(&mut self, buf: &mut bytes::BytesMut) -> Result<Option<String>, LinesCodecError> {
        if self.lossy {
            if let Some(line) = self.decode_invalid(buf) {
                return Ok(Some(line));
            }
        }
        self.lines.decode(buf)
    }

    fn decode_eof(&mut self, buf: &mut bytes::BytesMut) -> Result<Option<String>, LinesCodecError> {
        match self.decode(buf)? {
            Some(line) => Ok(Some(line)),
            None => {
                if !buf.is_empty() {
                    tracing::debug!(
                        bytes = buf.len(),
                        "connection ended in the middle of a line; discarding it"
                    );
                    buf.clear();
                }
                Ok(None)
            }
        }
    }
}

impl<T: AsRef<str>> tokio_util::codec::Encoder<T> for ChatCodec {
    type Error = LinesCodecError;

    fn encode(&mut self, line: T, buf: &mut bytes::BytesMut) -> Result<(), LinesCodecError> {
        self.lines.encode(line, buf)
    }
}
