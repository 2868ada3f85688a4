//! The lab: a private network namespace where the chat and the capture run, set up so that packets
//! look as they do in a textbook, and so that no sudo is needed.
//!
//! Two facts about the machine's own loopback make it a poor classroom: segmentation offload hands
//! the capture "super-segments" of up to 64 KB (larger than the MSS), and capturing needs root. A
//! network namespace of our own fixes both: its loopback gets an Ethernet-like MTU with offloads
//! off, and an ordinary user who first enters a *user* namespace holds CAP_NET_RAW and
//! CAP_NET_ADMIN there — over the lab only, never over the machine (user_namespaces(7)).
//!
//! ```text
//!  --link loopback (default)          --link wire
//!  ┌──────────── lab ────────────┐    ┌──── server ns ────┐  veth   ┌──── client ns ────┐
//!  │ server ◄──── lo ────► client│    │ server  veth-srv ═╪═════════╪═ veth-cli  client │
//!  │ MTU 1500, TSO/GSO/GRO off   │    │ 10.73.0.1         │ (cable) │ 10.73.0.2         │
//!  │ capture on lo               │    │ capture here      │         │                   │
//!  └─────────────────────────────┘    └───────────────────┘         └───────────────────┘
//! ```
//!
//! With `--link wire` and `--delay` or `--loss`, the cable is spliced: `veth-srv` and `veth-cli` are
//! each joined to one end of a third, forwarding namespace (`fwd-srv`, `fwd-cli`), where
//! [`forwarder`] carries the frames between them, holding each for the delay and losing some at
//! random from a seeded generator. On the loopback, `--loss` is a netfilter rule and `--delay` is
//! refused (nothing to hold frames on).
//!
//! Namespaces must be entered while the process has a single thread (the kernel refuses
//! `unshare(CLONE_NEWUSER)` otherwise), so [`enter`] is called by `main` before the async runtime
//! starts. Sockets keep the namespace they were created in, so one runtime serves both ends; the
//! client's sockets on the wire are created by a short-lived thread that first joins the client
//! namespace ([`Lab::client_socket`]). The lab disappears with the process, even after a crash:
//! nothing outside refers to it.

pub mod doctor;
pub mod forwarder;
pub mod linkcheck;
mod setup;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::Arc;

pub use setup::{enter, LabError};

/// Which link the chat runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LinkMode {
    /// The lab's own loopback: realistic MTU, offloads off.
    #[default]
    Loopback,
    /// Two namespaces joined by a virtual Ethernet cable (veth): real MAC addresses, ARP, checksums.
    Wire,
}

/// Settings for the lab, from the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabOptions {
    /// The link inside the lab.
    pub link: LinkMode,
    /// The link's MTU in bytes (1500 is Ethernet's).
    pub mtu: u32,
    /// Drop this percentage of packets at random (0 = none): on the wire, frames dropped by the
    /// forwarding link in each direction; on the loopback, packets dropped by a netfilter rule.
    pub loss: f64,
    /// Hold every frame this long on the wire, one way (zero = none; needs `LinkMode::Wire`).
    pub delay: std::time::Duration,
    /// Seed of the forwarding link's loss decisions: the same seed drops the same frames.
    pub seed: u64,
    /// Use the machine's own loopback as it is, without a lab.
    pub host_loopback: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            link: LinkMode::Loopback,
            mtu: 1500,
            loss: 0.0,
            delay: std::time::Duration::ZERO,
            seed: forwarder::DEFAULT_SEED,
            host_loopback: false,
        }
    }
}

/// Addresses of the two hosts on the wire.
pub const WIRE_SERVER: Ipv4Addr = Ipv4Addr::new(10, 73, 0, 1);
/// The client's address on the wire.
pub const WIRE_CLIENT: Ipv4Addr = Ipv4Addr::new(10, 73, 0, 2);
/// The server-side interface of the wire.
pub const WIRE_SERVER_IF: &str = "veth-srv";
/// The client-side interface of the wire.
pub const WIRE_CLIENT_IF: &str = "veth-cli";

/// The lab packetpath is running in (or the host, with `--host-loopback`).
#[derive(Debug, Clone)]
pub struct Lab {
    /// What the lab is made of.
    pub options: LabOptions,
    /// True when running in a lab namespace (false: the host's own loopback).
    pub isolated: bool,
    /// True when a user namespace was needed (packetpath was not started as root).
    pub user_namespace: bool,
    /// The client namespace on the wire.
    client_ns: Option<Arc<OwnedFd>>,
    /// The forwarding link splicing the wire (with `--delay` or `--loss`); it runs as long as the
    /// lab (its clones share it).
    link: Option<Arc<forwarder::Forwarder>>,
}

impl Lab {
    /// The host's own network, as it is.
    pub fn host() -> Self {
        Lab {
            options: LabOptions {
                host_loopback: true,
                ..LabOptions::default()
            },
            isolated: false,
            user_namespace: false,
            client_ns: None,
            link: None,
        }
    }

    /// One sentence saying which link is in use, for reports and the UI.
    pub fn describe(&self) -> String {
        if !self.isolated {
            return "the machine's own loopback (offloads as they are: segments may exceed the MSS)"
                .into();
        }
        let o = &self.options;
        let mut spliced = String::new();
        if !o.delay.is_zero() {
            spliced.push_str(&format!(
                ", {} ms delay each way",
                o.delay.as_secs_f64() * 1000.0
            ));
        }
        if o.loss > 0.0 {
            spliced.push_str(&format!(
                ", {}% random loss each way (seed {})",
                o.loss, o.seed
            ));
        }
        match o.link {
            LinkMode::Loopback => format!(
                "the lab's loopback (MTU {}, segmentation offload off{})",
                o.mtu,
                if o.loss > 0.0 {
                    format!(", {}% random loss", o.loss)
                } else {
                    String::new()
                }
            ),
            LinkMode::Wire if self.link.is_some() => format!(
                "the lab's virtual Ethernet cable {WIRE_CLIENT} ⇄ {WIRE_SERVER}, spliced through packetpath's forwarding link (MTU {}, offloads off{spliced})",
                o.mtu
            ),
            LinkMode::Wire => format!(
                "the lab's virtual Ethernet cable {WIRE_CLIENT} ⇄ {WIRE_SERVER} (MTU {}, offloads off)",
                o.mtu
            ),
        }
    }

    /// The forwarding link's counters (server → client is `a_to_b`), when the wire is spliced.
    pub fn link_stats(&self) -> Option<forwarder::LinkStats> {
        self.link.as_ref().map(|l| l.stats())
    }

    /// The interface to capture on.
    pub fn capture_interface(&self) -> &'static str {
        match (self.isolated, self.options.link) {
            (true, LinkMode::Wire) => WIRE_SERVER_IF,
            _ => "lo",
        }
    }

    /// Where the server listens (port 0: any free port).
    pub fn server_listen(&self) -> SocketAddr {
        match (self.isolated, self.options.link) {
            (true, LinkMode::Wire) => SocketAddr::new(IpAddr::V4(WIRE_SERVER), 0),
            _ => SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Creates a TCP socket for the client, in the client's namespace when there is one.
    pub fn client_socket(&self, ipv6: bool) -> std::io::Result<socket2::Socket> {
        let domain = if ipv6 {
            socket2::Domain::IPV6
        } else {
            socket2::Domain::IPV4
        };
        let make = move || {
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
        };
        match &self.client_ns {
            None => make(),
            Some(ns) => {
                let ns = ns.clone();
                // setns changes only the calling thread's namespace: do it on a throwaway thread.
                std::thread::spawn(move || {
                    nix::sched::setns(&*ns, nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(std::io::Error::from)?;
                    make()
                })
                .join()
                .map_err(|_| {
                    std::io::Error::other("the thread creating the client socket panicked")
                })?
            }
        }
    }

    /// A handle the chat client uses to create its sockets in the right place.
    pub fn socket_factory(&self) -> Option<crate::chat::client::SocketFactory> {
        let lab = self.clone();
        self.client_ns.as_ref()?;
        Some(crate::chat::client::SocketFactory(Arc::new(move |ipv6| {
            lab.client_socket(ipv6)
        })))
    }
}
