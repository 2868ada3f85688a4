//! The chat that packetpath observes: a TLS (or plain TCP) line-based chat server and client, their
//! certificates, and the tap that reports every application-level write and read.
//!
//! Protocol (see ARCHITECTURE.md): UTF-8 lines ending in `\n`, at most [`protocol::MAX_LINE`] bytes.
//! A client may name itself with a first line `/name NAME`; otherwise the server calls it `guest-N`.
//! Each line a client sends reaches every other client as `name: text`.

pub mod bulk;
pub mod certs;
pub mod client;
pub mod config;
pub mod error;
pub mod keylog;
pub mod limits;
pub mod mitm;
pub mod protocol;
pub mod server;
mod start;
pub mod tap;

pub use client::{ChatClient, ClientOptions};
pub use config::Transport;
pub use error::ChatError;
pub use keylog::{KeyLogEntry, SecretLog};
pub use server::{Server, ServerOptions};
pub use start::{ensure_certs, start_server};
pub use tap::{AppEvent, ConnId, Direction, Side, Tap};
