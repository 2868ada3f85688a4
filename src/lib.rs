//! packetpath: makes the layers of the internet visible.
//!
//! It runs a small TLS chat between real sockets, captures the real packets, and ties every
//! application write to the TLS records, TCP segments, IP packets and frames that carried it.
//! See ARCHITECTURE.md for how the modules fit together.
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod capture;
pub mod chat;
pub mod commands;
pub mod dissect;
pub mod flow;
pub mod frame;
pub mod journey;
pub mod lab;
pub mod lesson;
pub mod probe;
pub mod procfs;
pub mod report;
pub mod session;
pub mod stop;
pub mod tcpinfo;
pub mod tls;
pub mod ui;
