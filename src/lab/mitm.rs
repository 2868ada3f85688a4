//! The lab's side of a man in the middle (`--attack mitm`): r1, the path's first router, is the
//! attacker's. Instead of forwarding the client's connections to the chat server, r1 takes them
//! itself, as a program on a compromised router would:
//!
//! - a policy-routing rule on r1 (`ip rule add iif r1-eth0 to SERVER ipproto tcp dport PORT
//!   lookup 100`) looks up packets from the client's side to the chat server's port in a table
//!   where the server's address is local (`ip route add local SERVER dev lo table 100`), so r1's
//!   kernel delivers them to itself instead of forwarding them;
//! - a listening socket with `IP_TRANSPARENT` (see ip(7)) accepts those connections although
//!   the address they are for is not r1's, and answers in the server's name;
//! - the attacker's own connection to the real server leaves r1 like any of r1's connections,
//!   from r1's address on link 2.
//!
//! This is what netfilter's TPROXY does, without netfilter. Only inside packetpath's lab: the
//! rule and the socket live in r1's namespace, never on the host.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{setup, Lab, LabError};
use crate::chat::client::SocketFactory;

/// The routing table r1 delivers intercepted packets from.
const TABLE: &str = "100";
/// The rule's priority (before the main table's 32766).
const PRIORITY: &str = "100";

/// What the attacker on r1 needs: the socket that accepts the client's connections, and a way to
/// make its own to the server.
#[derive(Debug)]
pub struct Interception {
    /// Accepts connections from the client's side to the server's address and port (blocking
    /// off, listening).
    pub listener: std::net::TcpListener,
    /// Makes sockets in r1's namespace for the attacker's connection to the real server.
    pub upstream: SocketFactory,
}

impl Lab {
    /// Makes r1 take the client's connections to `server` (the chat server's address and port)
    /// for itself. Needs a path of routers; IPv4 only (a client connecting over IPv6 reaches the
    /// server untouched).
    pub fn intercept(&self, server: SocketAddr) -> Result<Interception, LabError> {
        let ns = self.netns_of("r1-eth0").ok_or_else(|| {
            LabError::Namespace(
                "a man in the middle needs a path of routers: add --link routers:N".into(),
            )
        })?;
        let SocketAddr::V4(v4) = server else {
            return Err(LabError::Namespace(
                "the man in the middle intercepts IPv4 only: start the server on IPv4".into(),
            ));
        };
        let (addr, port) = (v4.ip().to_string(), v4.port().to_string());
        let listener = Lab::in_namespace(Some(&ns), move || {
            // One rule per server port (a lesson restarts its server, compare mode runs two);
            // the same rule twice is refused as existing, which is as good.
            let added = setup::run(
                "ip",
                &[
                    "rule", "add", "pref", PRIORITY, "iif", "r1-eth0", "to", &addr, "ipproto",
                    "tcp", "dport", &port, "lookup", TABLE,
                ],
            );
            if let Err(e) = added {
                if !e.to_string().contains("exists") {
                    return Err(std::io::Error::other(e));
                }
            }
            setup::run(
                "ip",
                &[
                    "route",
                    "replace",
                    "local",
                    &format!("{addr}/32"),
                    "dev",
                    "lo",
                    "table",
                    TABLE,
                ],
            )
            .map_err(std::io::Error::other)?;
            let socket = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            socket.set_ip_transparent_v4(true)?;
            socket.set_reuse_address(true)?;
            socket.bind(&SocketAddr::from(([0, 0, 0, 0], v4.port())).into())?;
            socket.listen(128)?;
            socket.set_nonblocking(true)?;
            Ok(std::net::TcpListener::from(socket))
        })
        .map_err(|e| LabError::Namespace(format!("making r1 intercept the chat: {e}")))?;
        let upstream_ns = ns.clone();
        let upstream = SocketFactory(Arc::new(move |ipv6| {
            let domain = if ipv6 {
                socket2::Domain::IPV6
            } else {
                socket2::Domain::IPV4
            };
            Lab::in_namespace(Some(&upstream_ns), move || {
                socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
            })
        }));
        Ok(Interception { listener, upstream })
    }
}
