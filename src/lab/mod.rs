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
//!
//!  --link routers:2 (a namespace per host and per router; a veth cable and a subnet per link)
//!  ┌─ client ─┐ link 1      ┌─── r1 ───┐ link 2      ┌─── r2 ───┐ link 3      ┌─ server ─┐
//!  │    eth0 ═╪═════════════╪═ eth0    │             │    eth0 ═╪═════════════╪═ eth0    │
//!  │10.73.1.1 │ 10.73.1.0/24│10.73.1.2 │ 10.73.2.0/24│10.73.3.1 │ 10.73.3.0/24│10.73.3.2 │
//!  └──────────┘             │    eth1 ═╪═════════════╪═ eth0    │             └──────────┘
//!                           │10.73.2.1 │             │10.73.2.2 │
//!                           └──────────┘             └──────────┘
//!  interfaces: client-eth0, r1-eth0, r1-eth1, r2-eth0, r2-eth1, server-eth0 (all captured)
//! ```
//!
//! On a path, `--delay`/`--loss` (or `--delay-on`/`--loss-on` for one link) splice each link the
//! same way, through a forwarding namespace of its own between the two ends (whose own
//! interfaces are not captured), with a loss seed per link ([`LabOptions::link_seed`]).
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
//! namespace ([`Lab::client_socket`]), and so are the capture sockets of the other namespaces
//! ([`Lab::in_namespace`]). The lab disappears with the process, even after a crash: nothing
//! outside refers to it (the routers' namespaces live as long as the [`Lab`] holds them).

pub mod attack;
pub mod doctor;
pub mod forwarder;
pub mod linkcheck;
pub mod mitm;
mod setup;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::Arc;

pub use setup::{enter, LabError};

/// Which link the chat runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// The lab's own loopback: realistic MTU, offloads off.
    #[default]
    Loopback,
    /// Two namespaces joined by a virtual Ethernet cable (veth): real MAC addresses, ARP, checksums.
    Wire,
    /// A client and a server host joined through this many router namespaces (1 to
    /// [`MAX_ROUTERS`]), a veth cable per link: TTL decreasing hop by hop, MACs rewritten.
    Routers(u8),
}

/// The most routers `--link routers:N` builds.
pub const MAX_ROUTERS: u8 = 4;
/// The most links a path has (one more than its routers).
pub const MAX_LINKS: usize = MAX_ROUTERS as usize + 1;

/// The link an attacker sits on (`--attack`): the path's first, between the client and r1, so the
/// capture shows each frame before (client-eth0) and after (r1-eth0) it.
pub const ATTACKER_LINK: usize = 1;

impl LinkMode {
    /// How many links the chat's packets cross (0 for the loopback).
    pub fn links(self) -> usize {
        match self {
            LinkMode::Loopback => 0,
            LinkMode::Wire => 1,
            LinkMode::Routers(n) => usize::from(n) + 1,
        }
    }
}

impl std::fmt::Display for LinkMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkMode::Loopback => f.write_str("loopback"),
            LinkMode::Wire => f.write_str("wire"),
            LinkMode::Routers(n) => write!(f, "routers:{n}"),
        }
    }
}

impl std::str::FromStr for LinkMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "loopback" => return Ok(LinkMode::Loopback),
            "wire" => return Ok(LinkMode::Wire),
            _ => {}
        }
        let wrong = || {
            format!(
                "`{s}`: use loopback, wire, or routers:N with N from 1 to {MAX_ROUTERS} (e.g. routers:2)"
            )
        };
        let n = s
            .strip_prefix("routers:")
            .ok_or_else(wrong)?
            .parse::<u8>()
            .map_err(|_| wrong())?;
        if (1..=MAX_ROUTERS).contains(&n) {
            Ok(LinkMode::Routers(n))
        } else {
            Err(wrong())
        }
    }
}

/// A link's rate limit (`--rate`), in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub u64);

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        let (digits, unit) = lower
            .find(|c: char| !c.is_ascii_digit())
            .map_or((lower.as_str(), ""), |i| lower.split_at(i));
        let scale: u64 = match unit {
            "" | "bit" => 1,
            "kbit" => 1_000,
            "mbit" => 1_000_000,
            "gbit" => 1_000_000_000,
            _ => 0,
        };
        let value = digits
            .parse::<u64>()
            .ok()
            .and_then(|v| v.checked_mul(scale));
        match value {
            Some(bits) if (8_000..=100_000_000_000).contains(&bits) => Ok(Rate(bits)),
            _ => Err(format!(
                "`{s}`: a rate such as 1mbit, 500kbit or 10mbit (bits per second, 8kbit to 100gbit)"
            )),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        if b % 1_000_000_000 == 0 {
            write!(f, "{}gbit", b / 1_000_000_000)
        } else if b % 1_000_000 == 0 {
            write!(f, "{}mbit", b / 1_000_000)
        } else if b % 1_000 == 0 {
            write!(f, "{}kbit", b / 1_000)
        } else {
            write!(f, "{b}bit")
        }
    }
}

/// `--mtu-on LINK:BYTES`: one link of the path with an MTU of its own (links numbered from 1,
/// the client's first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkMtu {
    /// The link, from 1.
    pub link: u8,
    /// Its MTU in bytes.
    pub mtu: u32,
}

impl std::str::FromStr for LinkMtu {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wrong = || {
            format!("`{s}`: use LINK:BYTES, e.g. 2:576 (links counted from 1 on the client's side)")
        };
        let (link, mtu) = s.split_once(':').ok_or_else(wrong)?;
        let link = link.trim().parse::<u8>().map_err(|_| wrong())?;
        let mtu = mtu.trim().parse::<u32>().map_err(|_| wrong())?;
        if link == 0 || usize::from(link) > MAX_LINKS {
            return Err(format!("`{s}`: links are numbered 1 to {MAX_LINKS}"));
        }
        check_mtu(mtu).map_err(|why| format!("`{s}`: {why}"))?;
        Ok(LinkMtu { link, mtu })
    }
}

/// `--delay-on LINK:MS`: one link of a path with a one-way delay of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkDelay {
    /// The link, from 1.
    pub link: u8,
    /// Its one-way delay.
    pub delay: std::time::Duration,
}

impl std::str::FromStr for LinkDelay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (link, ms) = parse_link_value(s, "LINK:MS, e.g. 2:20 (milliseconds, one way)")?;
        if !(0.0..=10_000.0).contains(&ms) {
            return Err(format!("`{s}`: use 0 to 10000 milliseconds"));
        }
        Ok(LinkDelay {
            link,
            delay: std::time::Duration::from_secs_f64(ms / 1000.0),
        })
    }
}

/// `--loss-on LINK:PERCENT`: one link of a path with a loss of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkLoss {
    /// The link, from 1.
    pub link: u8,
    /// Its loss, percent of frames in each direction.
    pub loss: f64,
}

impl std::str::FromStr for LinkLoss {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (link, loss) = parse_link_value(s, "LINK:PERCENT, e.g. 2:5")?;
        if !(0.0..=100.0).contains(&loss) {
            return Err(format!("`{s}`: a percentage from 0 to 100"));
        }
        Ok(LinkLoss { link, loss })
    }
}

/// `LINK:VALUE` with a link from 1 to [`MAX_LINKS`] and a number.
fn parse_link_value(s: &str, form: &str) -> Result<(u8, f64), String> {
    let wrong = || format!("`{s}`: use {form} (links counted from 1 on the client's side)");
    let (link, value) = s.split_once(':').ok_or_else(wrong)?;
    let link = link.trim().parse::<u8>().map_err(|_| wrong())?;
    let value = value.trim().parse::<f64>().map_err(|_| wrong())?;
    if link == 0 || usize::from(link) > MAX_LINKS {
        return Err(format!("`{s}`: links are numbered 1 to {MAX_LINKS}"));
    }
    if !value.is_finite() {
        return Err(wrong());
    }
    Ok((link, value))
}

/// The smallest MTU the lab sets (IPv4 needs 68, RFC 791).
pub const MIN_MTU: u32 = 68;
/// IPv6 needs every link to carry 1280 bytes (RFC 8200 §5); a narrower link has no IPv6.
pub const IPV6_MIN_MTU: u32 = 1280;

/// An MTU the lab can set: IPv4's minimum (68) to the largest veth allows.
pub fn check_mtu(mtu: u32) -> Result<u32, String> {
    if (MIN_MTU..=65535).contains(&mtu) {
        Ok(mtu)
    } else {
        Err(format!(
            "an MTU of {mtu} bytes is out of range: use {MIN_MTU} to 65535 (576 is the classic narrow link, 1500 Ethernet's)"
        ))
    }
}

/// Settings for the lab, from the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabOptions {
    /// The link inside the lab.
    pub link: LinkMode,
    /// The link's MTU in bytes (1500 is Ethernet's); every link of a path.
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
    /// Links of a path with an MTU of their own (`--mtu-on`), by link number − 1.
    pub mtu_on: [Option<u32>; MAX_LINKS],
    /// A rate limit on every link of a path (`tc qdisc ... tbf`, each direction).
    pub rate: Option<Rate>,
    /// Links of a path with a delay of their own (`--delay-on`), by link number − 1.
    pub delay_on: [Option<std::time::Duration>; MAX_LINKS],
    /// Links of a path with a loss of their own (`--loss-on`), by link number − 1.
    pub loss_on: [Option<f64>; MAX_LINKS],
    /// An attacker on the path's first link (`trace --attack`, a lesson's `attacker = true`;
    /// needs routers), armed message by message.
    pub attacker: bool,
    /// A man in the middle on r1 (`--attack mitm`, a lesson's `man_in_the_middle = true`; needs
    /// routers): the chat's connections end there, and the attacker makes its own to the server.
    pub mitm: bool,
    /// The man in the middle shows a certificate packetpath's CA signed for another name
    /// (`--attack mitm-wrong-name`) instead of one of its own CA.
    pub mitm_wrong_name: bool,
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
            mtu_on: [None; MAX_LINKS],
            rate: None,
            delay_on: [None; MAX_LINKS],
            loss_on: [None; MAX_LINKS],
            attacker: false,
            mitm: false,
            mitm_wrong_name: false,
        }
    }
}

impl LabOptions {
    /// The MTU of link `link` (from 1).
    pub fn link_mtu(&self, link: usize) -> u32 {
        link.checked_sub(1)
            .and_then(|i| self.mtu_on.get(i).copied().flatten())
            .unwrap_or(self.mtu)
    }

    /// The one-way delay of link `link` (from 1) of a path: its `--delay-on`, else `--delay`.
    pub fn link_delay(&self, link: usize) -> std::time::Duration {
        link.checked_sub(1)
            .and_then(|i| self.delay_on.get(i).copied().flatten())
            .unwrap_or(self.delay)
    }

    /// The loss percentage of link `link` (from 1) of a path: its `--loss-on`, else `--loss`.
    pub fn link_loss(&self, link: usize) -> f64 {
        link.checked_sub(1)
            .and_then(|i| self.loss_on.get(i).copied().flatten())
            .unwrap_or(self.loss)
    }

    /// The seed of link `link`'s loss decisions: `--seed` for link 1 (as on the wire), and a
    /// stream of its own for every other link, so that each link loses its own frames and the
    /// same seed loses the same frames on every link again.
    pub fn link_seed(&self, link: usize) -> u64 {
        let n = link.saturating_sub(1) as u64;
        self.seed
            .wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// True when link `link` of a path is spliced through packetpath's forwarding link.
    pub fn link_spliced(&self, link: usize) -> bool {
        !self.link_delay(link).is_zero()
            || self.link_loss(link) > 0.0
            || (link == ATTACKER_LINK && self.attacker)
    }

    /// True when some link of the path has a delay or loss of its own (`--delay-on`,
    /// `--loss-on`).
    pub fn per_link_conditions(&self) -> bool {
        self.delay_on.iter().any(Option::is_some) || self.loss_on.iter().any(Option::is_some)
    }

    /// Sets `--delay-on` and `--loss-on` values, checking that each link exists on this path.
    pub fn with_link_conditions(
        mut self,
        delays: &[LinkDelay],
        losses: &[LinkLoss],
    ) -> Result<Self, String> {
        let links = self.link.links();
        let check = |flag: &str, link: u8, value: String| {
            if !matches!(self.link, LinkMode::Routers(_)) || usize::from(link) > links {
                return Err(format!(
                    "{flag} {link}:{value}: {}",
                    match self.link {
                        LinkMode::Routers(_) => format!(
                            "--link {} has {links} links (numbered from 1 on the client's side)",
                            self.link
                        ),
                        _ => format!(
                            "--link {} has no path of links to set one apart: use --delay and \
                             --loss with --link wire, or --link routers:N",
                            self.link
                        ),
                    }
                ));
            }
            Ok(())
        };
        for d in delays {
            check(
                "--delay-on",
                d.link,
                format!("{}", d.delay.as_secs_f64() * 1000.0),
            )?;
            if let Some(slot) = usize::from(d.link)
                .checked_sub(1)
                .and_then(|i| self.delay_on.get_mut(i))
            {
                *slot = Some(d.delay);
            }
        }
        for l in losses {
            check("--loss-on", l.link, l.loss.to_string())?;
            if let Some(slot) = usize::from(l.link)
                .checked_sub(1)
                .and_then(|i| self.loss_on.get_mut(i))
            {
                *slot = Some(l.loss);
            }
        }
        Ok(self)
    }

    /// Sets `--mtu-on` values, checking that each link exists on this path.
    pub fn with_link_mtus(mut self, mtus: &[LinkMtu]) -> Result<Self, String> {
        let links = self.link.links();
        for m in mtus {
            if !matches!(self.link, LinkMode::Routers(_)) || usize::from(m.link) > links {
                return Err(format!(
                    "--mtu-on {}:{}: --link {} has {}",
                    m.link,
                    m.mtu,
                    self.link,
                    match (self.link, links) {
                        (LinkMode::Routers(_), n) =>
                            format!("{n} links (numbered from 1 on the client's side)"),
                        _ => "no path of links to set one apart: use --mtu, or --link routers:N"
                            .to_string(),
                    }
                ));
            }
            if let Some(slot) = usize::from(m.link)
                .checked_sub(1)
                .and_then(|i| self.mtu_on.get_mut(i))
            {
                *slot = Some(m.mtu);
            }
        }
        Ok(self)
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

/// Addressing of a path of routers: link `i` (from 1) is `10.73.i.0/24` and `fd73:0:0:i::/64`;
/// its end on the client's side is `.1` (`::1`), the end on the server's side `.2` (`::2`).
pub mod path {
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// The IPv4 address of one end of link `link` (from 1): `left` is the client's side.
    pub fn v4(link: usize, left: bool) -> Ipv4Addr {
        Ipv4Addr::new(10, 73, link as u8, if left { 1 } else { 2 })
    }

    /// The IPv6 address of one end of link `link`.
    pub fn v6(link: usize, left: bool) -> Ipv6Addr {
        Ipv6Addr::new(0xfd73, 0, 0, link as u16, 0, 0, 0, if left { 1 } else { 2 })
    }

    /// The MAC address of one end of link `link`: `02:73:00:00:LL:0E`, locally administered,
    /// with the link number and the end (1 the client's side, 2 the server's), so that a
    /// capture reads the same on every run.
    pub fn mac(link: usize, left: bool) -> String {
        format!("02:73:00:00:{:02x}:0{}", link, if left { 1 } else { 2 })
    }

    /// The name of node `node` on a path with `routers` routers: 0 is the client, then `r1` …,
    /// the last the server.
    pub fn node_name(node: usize, routers: usize) -> String {
        match node {
            0 => "client".into(),
            n if n > routers => "server".into(),
            n => format!("r{n}"),
        }
    }

    /// The interfaces of link `link` (from 1): the client's side first.
    pub fn link_ends(link: usize, routers: usize) -> (String, String) {
        let left = match link - 1 {
            0 => "client-eth0".to_string(),
            n => format!("r{n}-eth1"),
        };
        let right = if link > routers {
            "server-eth0".to_string()
        } else {
            format!("r{link}-eth0")
        };
        (left, right)
    }
}

/// `, delay 0/20/0 ms per link each way, loss 0/5/0% per link (seed 1)`: the conditions of a
/// path whose links differ.
fn per_link_conditions(o: &LabOptions, links: usize) -> String {
    let ms = |d: std::time::Duration| format!("{}", d.as_secs_f64() * 1000.0);
    let mut out = String::new();
    if (1..=links).any(|l| !o.link_delay(l).is_zero()) {
        let each: Vec<String> = (1..=links).map(|l| ms(o.link_delay(l))).collect();
        out.push_str(&format!(", delay {} ms per link each way", each.join("/")));
    }
    if (1..=links).any(|l| o.link_loss(l) > 0.0) {
        let each: Vec<String> = (1..=links).map(|l| o.link_loss(l).to_string()).collect();
        out.push_str(&format!(
            ", loss {}% per link each way (seed {})",
            each.join("/"),
            o.seed
        ));
    }
    out
}

/// One interface of the lab that is captured: its name and the namespace it lives in.
#[derive(Debug, Clone)]
pub struct LabInterface {
    /// Its name (`lo`, `veth-srv`, `client-eth0`, `r1-eth0`, …): the pcapng `if_name`.
    pub name: String,
    /// Its namespace, or `None` for the process's own (the server's).
    pub netns: Option<Arc<OwnedFd>>,
}

/// The lab packetpath is running in (or the host, with `--host-loopback`).
#[derive(Debug, Clone)]
pub struct Lab {
    /// What the lab is made of.
    pub options: LabOptions,
    /// True when running in a lab namespace (false: the host's own loopback).
    pub isolated: bool,
    /// True when a user namespace was needed (packetpath was not started as root).
    pub user_namespace: bool,
    // The forwarding links come first: fields are dropped in order, and a forwarder must stop
    // before the namespaces of the cables it carries go (their veths vanish with them, and a
    // forwarder still reading would report an error on its way out).
    /// The forwarding link splicing the wire (with `--delay` or `--loss`); it runs as long as the
    /// lab (its clones share it).
    link: Option<Arc<forwarder::Forwarder>>,
    /// The forwarding links splicing links of a path (with `--delay`, `--loss`, `--delay-on`,
    /// `--loss-on`), each with its link number (from 1).
    path_links: Vec<(usize, Arc<forwarder::Forwarder>)>,
    /// The client namespace on the wire or path.
    client_ns: Option<Arc<OwnedFd>>,
    /// The attacker on the path's first link, when `--attack` asked for one.
    attack: Option<Arc<attack::AttackSwitch>>,
    /// Every interface of a path of routers, client first (empty otherwise). Holding the
    /// namespaces keeps the routers alive.
    path: Vec<LabInterface>,
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
            path: Vec::new(),
            path_links: Vec::new(),
            attack: None,
        }
    }

    /// The attacker of the path's first link, if the lab has one: the session arms it before
    /// the line it is to change is written.
    pub fn attacker(&self) -> Option<&Arc<attack::AttackSwitch>> {
        self.attack.as_ref()
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
            LinkMode::Routers(n) => {
                let links = usize::from(n) + 1;
                let mut nodes = vec!["client".to_string()];
                nodes.extend((1..=usize::from(n)).map(|r| format!("r{r}")));
                nodes.push("server".into());
                let mtus: Vec<String> = (1..=links)
                    .map(|l| self.options.link_mtu(l).to_string())
                    .collect();
                let mtu = if mtus.iter().all(|m| *m == self.options.mtu.to_string()) {
                    format!("MTU {}", self.options.mtu)
                } else {
                    format!("MTU {} per link", mtus.join("/"))
                };
                let rate = self
                    .options
                    .rate
                    .map(|r| format!(", {r} per link"))
                    .unwrap_or_default();
                let spliced = if o.per_link_conditions() {
                    per_link_conditions(o, links)
                } else {
                    spliced.replace("each way", "each way on every link")
                };
                let attacker = if o.mitm {
                    "; r1 is the attacker's: it takes the chat's connections in the server's name and makes its own to the server"
                } else if o.attacker {
                    "; an attacker on link 1, changing the segments it is told to"
                } else {
                    ""
                };
                format!(
                    "the lab's path {} ⇄ {} through {n} router{}: {} ({mtu}{rate}, offloads off{spliced}){attacker}",
                    path::v4(1, true),
                    path::v4(links, false),
                    if n == 1 { "" } else { "s" },
                    nodes.join(" → "),
                )
            }
        }
    }

    /// The forwarding link's counters (server → client is `a_to_b`), when the wire is spliced.
    pub fn link_stats(&self) -> Option<forwarder::LinkStats> {
        self.link.as_ref().map(|l| l.stats())
    }

    /// The counters of each spliced link of a path, by link number (from 1); `a_to_b` is the
    /// direction towards the server.
    pub fn path_link_stats(&self) -> Vec<(usize, forwarder::LinkStats)> {
        self.path_links
            .iter()
            .map(|(link, f)| (*link, f.stats()))
            .collect()
    }

    /// The interface to capture on in the process's own (the server's) namespace; for a path,
    /// [`Lab::capture_interfaces`] lists them all.
    pub fn capture_interface(&self) -> &str {
        if let Some(last) = self.path.last() {
            return &last.name;
        }
        match (self.isolated, self.options.link) {
            (true, LinkMode::Wire) => WIRE_SERVER_IF,
            _ => "lo",
        }
    }

    /// Every interface to capture on, in the order of the lab's interface table (a frame's
    /// `interface` is its index here): for a path of routers every interface from the client's
    /// to the server's, otherwise the one link.
    pub fn capture_interfaces(&self) -> Vec<LabInterface> {
        if !self.path.is_empty() {
            return self.path.clone();
        }
        vec![LabInterface {
            name: self.capture_interface().to_string(),
            netns: None,
        }]
    }

    /// Where the server listens (port 0: any free port).
    pub fn server_listen(&self) -> SocketAddr {
        match (self.isolated, self.options.link) {
            (true, LinkMode::Wire) => SocketAddr::new(IpAddr::V4(WIRE_SERVER), 0),
            (true, LinkMode::Routers(n)) => {
                SocketAddr::new(IpAddr::V4(path::v4(usize::from(n) + 1, false)), 0)
            }
            _ => SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// The server's IPv6 address on a path of routers whose links all carry IPv6.
    pub fn server_v6(&self) -> Option<Ipv6Addr> {
        match (self.isolated, self.options.link) {
            (true, LinkMode::Routers(n)) if self.path_has_ipv6() => {
                Some(path::v6(usize::from(n) + 1, false))
            }
            _ => None,
        }
    }

    /// True when every link of the path is wide enough for IPv6.
    fn path_has_ipv6(&self) -> bool {
        (1..=self.options.link.links()).all(|l| self.options.link_mtu(l) >= IPV6_MIN_MTU)
    }

    /// Runs `f` on a short-lived thread that has joined `netns` (or at once, for `None`): a
    /// socket it creates stays in that namespace.
    pub fn in_namespace<T: Send + 'static>(
        netns: Option<&Arc<OwnedFd>>,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        match netns {
            None => f(),
            Some(ns) => {
                let ns = ns.clone();
                // setns changes only the calling thread's namespace: do it on a throwaway thread.
                std::thread::spawn(move || {
                    nix::sched::setns(&*ns, nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(std::io::Error::from)?;
                    f()
                })
                .join()
                .map_err(|_| {
                    std::io::Error::other("the thread that joined a lab namespace panicked")
                })?
            }
        }
    }

    /// Opens a live capture on every interface of [`Lab::capture_interfaces`], each socket
    /// created inside its interface's namespace, keeping TCP to or from `ports` and ARP, and in a
    /// lab also ICMP, ICMPv6 and traceroute's UDP probes (the host's loopback keeps its port
    /// filter: other programs' traffic is there).
    pub fn open_captures(
        &self,
        ports: &[u16],
    ) -> Result<Vec<crate::capture::LiveCapture>, crate::capture::CaptureError> {
        let mut captures = Vec::new();
        for interface in self.capture_interfaces() {
            let ports = ports.to_vec();
            let name = interface.name.clone();
            let lab = self.isolated;
            let opened = Self::in_namespace(interface.netns.as_ref(), move || {
                Ok(if lab {
                    crate::capture::LiveCapture::open_lab(&name, &ports)
                } else {
                    crate::capture::LiveCapture::open(&name, &ports)
                })
            })
            .map_err(|e| crate::capture::CaptureError::Io("joining a lab namespace", e))?;
            captures.push(opened?);
        }
        Ok(captures)
    }

    /// Creates a TCP socket for the client, in the client's namespace when there is one.
    pub fn client_socket(&self, ipv6: bool) -> std::io::Result<socket2::Socket> {
        let domain = if ipv6 {
            socket2::Domain::IPV6
        } else {
            socket2::Domain::IPV4
        };
        Self::in_namespace(self.client_ns.as_ref(), move || {
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
        })
    }

    /// A handle the chat client uses to create its sockets in the right place.
    pub fn socket_factory(&self) -> Option<crate::chat::client::SocketFactory> {
        let lab = self.clone();
        self.client_ns.as_ref()?;
        Some(crate::chat::client::SocketFactory(Arc::new(move |ipv6| {
            lab.client_socket(ipv6)
        })))
    }

    /// Sends one UDP datagram of `payload` bytes over IPv4 from the client to the server's
    /// [`DATAGRAM_PORT`](crate::capture::DATAGRAM_PORT), "don't fragment" clear
    /// (`IP_PMTUDISC_DONT`): the client fragments it for its own link when it is larger, and a
    /// router fragments it (again) for a narrower one. The server receives it on a socket of its
    /// own; returns how many bytes arrived (the datagram put together again by the server's
    /// stack), or `None` if nothing came within a second. Needs two hosts (wire or path).
    pub fn send_datagram(&self, payload: usize) -> Result<Option<usize>, LabError> {
        use std::os::fd::AsRawFd;
        let fail = |what: &str, e: std::io::Error| LabError::Link(format!("{what}: {e}"));
        if self.client_ns.is_none() {
            return Err(LabError::Options(
                "--datagram needs two hosts: add --link wire or --link routers:N".into(),
            ));
        }
        if payload > 65_507 {
            return Err(LabError::Options(format!(
                "--datagram {payload}: at most 65,507 bytes (the largest UDP payload over IPv4)"
            )));
        }
        let server = SocketAddr::new(self.server_listen().ip(), crate::capture::DATAGRAM_PORT);
        let receiver = std::net::UdpSocket::bind(server)
            .map_err(|e| fail("binding the server's UDP socket", e))?;
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(1)))
            .map_err(|e| fail("setting a timeout", e))?;
        let sender = Self::in_namespace(self.client_ns.as_ref(), || {
            let s = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )?;
            crate::capture::sys::set_dont_fragment(s.as_raw_fd(), false)?;
            Ok(s)
        })
        .map_err(|e| fail("opening the client's UDP socket", e))?;
        // A pattern a reader can follow in every fragment: the byte at offset i is i mod 256.
        let data: Vec<u8> = (0..payload).map(|i| (i % 256) as u8).collect();
        sender
            .send_to(&data, &server.into())
            .map_err(|e| fail("sending the datagram", e))?;
        let mut buf = vec![0u8; 65_536];
        match receiver.recv(&mut buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(fail("receiving the datagram", e)),
        }
    }

    /// The client's namespace on the wire or a path (`None` on a loopback: there is no other
    /// host).
    pub fn client_namespace(&self) -> Option<&Arc<OwnedFd>> {
        self.client_ns.as_ref()
    }

    /// The client's and the server's addresses on the wire or a path (IPv6 only on a path whose
    /// links all carry it), for ping and traceroute; `None` when there are not two hosts.
    pub fn hosts(&self, ipv6: bool) -> Option<(IpAddr, IpAddr)> {
        if !self.isolated {
            return None;
        }
        match (self.options.link, ipv6) {
            (LinkMode::Wire, false) => Some((WIRE_CLIENT.into(), WIRE_SERVER.into())),
            (LinkMode::Routers(n), false) => Some((
                path::v4(1, true).into(),
                path::v4(usize::from(n) + 1, false).into(),
            )),
            (LinkMode::Routers(_), true) => {
                Some((path::v6(1, true).into(), self.server_v6()?.into()))
            }
            _ => None,
        }
    }

    /// Waits (at most 3 s) until every interface of a path is operational (`IFF_RUNNING`): the
    /// kernel marks a new veth so a moment after its carrier comes up, and until then IPv6 on it
    /// ignores neighbour solicitations, so a first IPv6 packet would wait a second for a
    /// retransmitted one. IPv4 does not need this.
    pub fn wait_path_ready(&self) -> std::io::Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        for interface in &self.path {
            let name = interface.name.clone();
            Self::in_namespace(interface.netns.as_ref(), move || {
                while !pnet_datalink::interfaces()
                    .iter()
                    .any(|i| i.name == name && i.is_running())
                {
                    if std::time::Instant::now() > deadline {
                        return Err(std::io::Error::other(format!(
                            "{name} is still not running after 3 s"
                        )));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The hop an address of the lab belongs to, and its interface: `("r1", "r1-eth0")` for
    /// 10.73.1.2 on a path (from the lab's interface table); `None` for an address not in it.
    pub fn hop_of(&self, addr: IpAddr) -> Option<(String, String)> {
        match self.options.link {
            LinkMode::Wire if self.isolated => match addr {
                IpAddr::V4(a) if a == WIRE_CLIENT => Some(("client".into(), WIRE_CLIENT_IF.into())),
                IpAddr::V4(a) if a == WIRE_SERVER => Some(("server".into(), WIRE_SERVER_IF.into())),
                _ => None,
            },
            LinkMode::Routers(n) if self.isolated => {
                let routers = usize::from(n);
                (1..=routers + 1).find_map(|link| {
                    [true, false].into_iter().find_map(|left| {
                        let here = match addr {
                            IpAddr::V4(a) => a == path::v4(link, left),
                            IpAddr::V6(a) => a == path::v6(link, left),
                        };
                        let node = if left { link - 1 } else { link };
                        let (l, r) = path::link_ends(link, routers);
                        here.then(|| (path::node_name(node, routers), if left { l } else { r }))
                    })
                })
            }
            _ => None,
        }
    }

    /// The namespace of a lab interface by name (`None` if it is the process's own or unknown),
    /// for whoever splices a link (the forwarder).
    pub fn netns_of(&self, interface: &str) -> Option<Arc<OwnedFd>> {
        self.path
            .iter()
            .find(|i| i.name == interface)
            .and_then(|i| i.netns.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_modes_parse_and_print() {
        for s in ["loopback", "wire", "routers:1", "routers:4"] {
            assert_eq!(s.parse::<LinkMode>().unwrap().to_string(), s);
        }
        for bad in ["routers:0", "routers:5", "routers", "router:2", "cable"] {
            assert!(bad.parse::<LinkMode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_and_link_mtus_parse() {
        assert_eq!("1mbit".parse::<Rate>(), Ok(Rate(1_000_000)));
        assert_eq!("500kbit".parse::<Rate>(), Ok(Rate(500_000)));
        assert_eq!(Rate(1_000_000).to_string(), "1mbit");
        assert!("1mb".parse::<Rate>().is_err());
        assert!("10bit".parse::<Rate>().is_err());
        assert_eq!(
            "2:576".parse::<LinkMtu>(),
            Ok(LinkMtu { link: 2, mtu: 576 })
        );
        assert!("0:576".parse::<LinkMtu>().is_err());
        assert!("2:40".parse::<LinkMtu>().is_err());
        let opts = LabOptions {
            link: LinkMode::Routers(2),
            ..LabOptions::default()
        };
        let narrow = opts
            .with_link_mtus(&[LinkMtu { link: 2, mtu: 576 }])
            .unwrap();
        assert_eq!(
            (narrow.link_mtu(1), narrow.link_mtu(2), narrow.link_mtu(3)),
            (1500, 576, 1500)
        );
        assert!(opts
            .with_link_mtus(&[LinkMtu { link: 4, mtu: 576 }])
            .is_err());
    }

    #[test]
    fn delay_and_loss_per_link() {
        assert_eq!(
            "2:20".parse::<LinkDelay>(),
            Ok(LinkDelay {
                link: 2,
                delay: std::time::Duration::from_millis(20)
            })
        );
        assert_eq!(
            "3:2.5".parse::<LinkLoss>(),
            Ok(LinkLoss { link: 3, loss: 2.5 })
        );
        for bad in ["0:20", "6:20", "2:-1", "2:20001", "2", "x:1", "2:nan"] {
            assert!(bad.parse::<LinkDelay>().is_err(), "{bad}");
        }
        assert!("2:101".parse::<LinkLoss>().is_err());
        let opts = LabOptions {
            link: LinkMode::Routers(2),
            delay: std::time::Duration::from_millis(20),
            seed: 7,
            ..LabOptions::default()
        };
        let opts = opts
            .with_link_conditions(
                &[LinkDelay {
                    link: 2,
                    delay: std::time::Duration::ZERO,
                }],
                &[LinkLoss { link: 3, loss: 5.0 }],
            )
            .unwrap();
        assert_eq!(opts.link_delay(1), std::time::Duration::from_millis(20));
        assert!(opts.link_delay(2).is_zero());
        assert_eq!((opts.link_loss(1), opts.link_loss(3)), (0.0, 5.0));
        assert!(opts.link_spliced(1) && !opts.link_spliced(2) && opts.link_spliced(3));
        // Link 1 keeps --seed (as the wire does); every link has a stream of its own.
        assert_eq!(opts.link_seed(1), 7);
        let seeds: std::collections::HashSet<u64> =
            (1..=MAX_LINKS).map(|l| opts.link_seed(l)).collect();
        assert_eq!(seeds.len(), MAX_LINKS);
        assert!(LabOptions::default()
            .with_link_conditions(&[], &[LinkLoss { link: 1, loss: 5.0 }])
            .is_err());
    }

    #[test]
    fn path_interfaces_are_named_after_their_hops() {
        assert_eq!(
            path::link_ends(1, 2),
            ("client-eth0".into(), "r1-eth0".into())
        );
        assert_eq!(path::link_ends(2, 2), ("r1-eth1".into(), "r2-eth0".into()));
        assert_eq!(
            path::link_ends(3, 2),
            ("r2-eth1".into(), "server-eth0".into())
        );
        assert_eq!(path::v4(3, false), Ipv4Addr::new(10, 73, 3, 2));
        assert_eq!(path::mac(2, true), "02:73:00:00:02:01");
    }

    #[test]
    fn addresses_name_their_hop() {
        let lab = Lab {
            options: LabOptions {
                link: LinkMode::Routers(2),
                ..LabOptions::default()
            },
            isolated: true,
            user_namespace: false,
            client_ns: None,
            link: None,
            path: Vec::new(),
            path_links: Vec::new(),
            attack: None,
        };
        let hop = |a: &str| lab.hop_of(a.parse().unwrap());
        assert_eq!(hop("10.73.1.2"), Some(("r1".into(), "r1-eth0".into())));
        assert_eq!(hop("10.73.2.2"), Some(("r2".into(), "r2-eth0".into())));
        assert_eq!(
            hop("10.73.3.2"),
            Some(("server".into(), "server-eth0".into()))
        );
        assert_eq!(hop("fd73:0:0:2::1"), Some(("r1".into(), "r1-eth1".into())));
        assert_eq!(
            hop("10.73.1.1"),
            Some(("client".into(), "client-eth0".into()))
        );
        assert_eq!(hop("10.9.9.9"), None);
        assert_eq!(
            lab.hosts(false),
            Some(("10.73.1.1".parse().unwrap(), "10.73.3.2".parse().unwrap()))
        );
    }
}
