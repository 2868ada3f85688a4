//! What a query reads: the capture and the lesson's clients, with the lookups every property
//! and function shares (a client's connection, a connection's frames, a message's journey).

use bytes::Bytes;

use crate::chat::{AppEvent, Direction as AppDir};
use crate::flow::Direction;
use crate::journey::{FrameEntry, Journey, Trace};

use super::super::state::LessonState;
use super::value::MessageRef;

/// The capture a query reads and the clients the lesson made. Properties read from it alone;
/// evaluation ([`super::evaluation::Context`]) adds what expressions need on top.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The capture so far.
    pub trace: &'a Trace,
    /// The clients.
    pub state: &'a LessonState,
    /// Only what is on the wire: an encrypted record's inner type, messages and plaintext read
    /// as missing even where the keys opened it (the eavesdropper's view of the timeline).
    pub wire_only: bool,
}

impl<'a> Scope<'a> {
    /// The TCP connection (stream number) of client `name`.
    pub fn stream_of(&self, name: &str) -> Result<usize, String> {
        if let Some(conn) = self.state.clients.get(name) {
            return self
                .trace
                .tcp()
                .find(conn.client, conn.server)
                .map(|c| c.index)
                .ok_or_else(|| {
                    format!(
                        "{name}'s connection ({} → {}) was not captured",
                        conn.client, conn.server
                    )
                });
        }
        if let Some(refusal) = self.state.refused.get(name) {
            return refusal
                .stream
                .ok_or_else(|| format!("{name}'s refused connection was not captured"));
        }
        let known = self.state.names();
        Err(if known.is_empty() {
            format!("no client named {name} has connected yet")
        } else {
            format!(
                "no client named {name} has connected (clients: {})",
                known.join(", ")
            )
        })
    }

    /// The client that owns connection `stream`, if the lesson made it.
    pub fn client_of_stream(&self, stream: usize) -> Option<String> {
        let conn = self.trace.tcp().connection(stream)?;
        self.state
            .clients
            .iter()
            .find(|(_, c)| c.client == conn.client && c.server == conn.server)
            .map(|(n, _)| n.clone())
            .or_else(|| {
                self.state
                    .refused
                    .iter()
                    .find(|(_, r)| r.stream == Some(stream))
                    .map(|(n, _)| n.clone())
            })
    }

    /// Frames of connection `stream` sent in direction `dir` (both, for `None`), in capture
    /// order.
    pub fn frames_in(
        &self,
        stream: usize,
        dir: Option<Direction>,
    ) -> impl Iterator<Item = &'a FrameEntry> + 'a {
        self.trace.frames().iter().filter(move |f| {
            f.segment
                .as_ref()
                .is_some_and(|s| s.stream == stream && dir.is_none_or(|d| s.dir == d))
        })
    }

    /// The path of a message through the stack, if its frames were captured.
    pub fn journey_of(&self, m: &MessageRef) -> Option<Journey> {
        let event = AppEvent {
            conn: m.conn,
            side: m.side,
            dir: AppDir::Write,
            at: crate::frame::Timestamp::default(),
            offset: m.range.start,
            bytes: Bytes::from(vec![
                0u8;
                usize::try_from(m.range.end - m.range.start).ok()?
            ]),
        };
        self.trace.journey(&event)
    }
}
