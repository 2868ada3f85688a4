//! The tap: a wrapper around a connection's plaintext stream that reports every application-level
//! write and read as an [`AppEvent`]. This is the top of the journey: the bytes the program handed to
//! TLS (or to TCP, in plain mode) before any header was added.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc::UnboundedSender;

use crate::frame::Timestamp;

/// A TCP connection, named by its 4-tuple from the client's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct ConnId {
    /// The client's address and (ephemeral) port.
    pub client: SocketAddr,
    /// The server's address and port.
    pub server: SocketAddr,
}

/// Which end of the connection did the write or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The end that connected.
    Client,
    /// The end that accepted.
    Server,
}

/// Whether the application handed bytes to the socket (write) or received them from it (read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The application wrote: the bytes start their way down the stack.
    Write,
    /// The application read: the bytes arrived at the top of the stack.
    Read,
}

/// One application-level write or read on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEvent {
    /// The connection.
    pub conn: ConnId,
    /// Which end.
    pub side: Side,
    /// Write or read.
    pub dir: Direction,
    /// When it happened.
    pub at: Timestamp,
    /// Position of the first byte in this direction's plaintext stream (0 for the first byte the
    /// client ever wrote, and so on). Writes by the client and reads by the server share one stream.
    pub offset: u64,
    /// The bytes themselves.
    pub bytes: Bytes,
}

impl AppEvent {
    /// True if the bytes travel from client to server (a client write or a server read).
    pub fn client_to_server(&self) -> bool {
        matches!(
            (self.side, self.dir),
            (Side::Client, Direction::Write) | (Side::Server, Direction::Read)
        )
    }
}

/// Where application events go. Cloning is cheap; a tap with no receiver does nothing.
#[derive(Debug, Clone, Default)]
pub struct Tap {
    sender: Option<UnboundedSender<AppEvent>>,
}

impl Tap {
    /// A tap that reports to `sender`.
    pub fn new(sender: UnboundedSender<AppEvent>) -> Self {
        Tap {
            sender: Some(sender),
        }
    }

    /// A tap that reports nothing.
    pub fn none() -> Self {
        Tap { sender: None }
    }

    /// Wraps a stream so that its writes and reads are reported for `conn`, seen from `side`.
    pub fn wrap<S>(&self, stream: S, conn: ConnId, side: Side) -> TappedStream<S> {
        TappedStream {
            inner: stream,
            tap: self.clone(),
            conn,
            side,
            written: 0,
            read: 0,
        }
    }

    fn report(&self, conn: ConnId, side: Side, dir: Direction, offset: u64, bytes: &[u8]) {
        if let Some(sender) = &self.sender {
            // A closed receiver only means nobody is watching any more.
            let _ = sender.send(AppEvent {
                conn,
                side,
                dir,
                at: Timestamp::now(),
                offset,
                bytes: Bytes::copy_from_slice(bytes),
            });
        }
    }
}

/// A stream whose every successful write and read is reported to a [`Tap`].
#[derive(Debug)]
pub struct TappedStream<S> {
    inner: S,
    tap: Tap,
    conn: ConnId,
    side: Side,
    written: u64,
    read: u64,
}

impl<S> TappedStream<S> {
    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TappedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                this.tap
                    .report(this.conn, this.side, Direction::Read, this.read, new);
                this.read += new.len() as u64;
            }
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TappedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            if n > 0 {
                let written = buf.get(..n).unwrap_or(buf);
                this.tap.report(
                    this.conn,
                    this.side,
                    Direction::Write,
                    this.written,
                    written,
                );
                this.written += n as u64;
            }
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
