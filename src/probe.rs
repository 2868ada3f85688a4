//! `ping` and `traceroute` in the lab: echo requests and TTL-limited probes from the client host
//! to the server host, each answer named after the hop that sent it (from the lab's interface
//! table), with its round-trip time and the frames the lab's capture saw of it.
//!
//! The probes are sent and the answers read on a **raw ICMP socket** (`SOCK_RAW`,
//! `IPPROTO_ICMP` / `IPPROTO_ICMPV6`) made in the client's namespace. The lab's user namespace
//! gives packetpath CAP_NET_RAW over the lab (never over the machine), so no setting is needed;
//! and a raw socket receives *every* ICMP message that reaches the client: echo replies, but also
//! the time exceeded, unreachable and "fragmentation needed" / "packet too big" errors that
//! traceroute and a ping with DF are about, with the packet they quote. An ICMP datagram socket
//! (`SOCK_DGRAM`, "ping socket") would need `net.ipv4.ping_group_range` written first and hands
//! errors over only through `IP_RECVERR`'s error queue. UDP probes leave from an ordinary UDP
//! socket; their answers arrive on the same raw socket.
//!
//! ```text
//!  client ── echo request, TTL 1 ──► r1   r1: "time exceeded" (TTL reached 0)
//!  client ── echo request, TTL 2 ──► r1 ──► r2   r2: "time exceeded"
//!  client ── echo request, TTL 3 ──► r1 ──► r2 ──► server: "echo reply"
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use socket2::{Domain, Protocol, Socket, Type};

use crate::journey::Trace;
use crate::lab::Lab;

/// Why ping or traceroute could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The lab has no second host to send to.
    #[error(
        "ping and traceroute go from the lab's client host to its server host: add --link routers:N \
         (e.g. routers:2) or --link wire (the loopback has one host, and --host-loopback no lab)"
    )]
    NoPath,
    /// IPv6 asked for where the path has none.
    #[error(
        "--ipv6: this lab has no IPv6 path (IPv6 runs on --link routers:N whose links all carry \
         1280 bytes or more): use --link routers:N without a link narrower than 1280, or leave out --ipv6"
    )]
    NoIpv6,
    /// A size that cannot be sent.
    #[error("--size {0}: use 0 to 65000 bytes of ICMP data")]
    Size(usize),
    /// A socket could not be made or used.
    #[error("{what}: {error}")]
    Socket {
        /// What was being done.
        what: &'static str,
        /// The system's answer.
        error: std::io::Error,
    },
}

fn sock(what: &'static str) -> impl FnOnce(std::io::Error) -> ProbeError {
    move |error| ProbeError::Socket { what, error }
}

/// What traceroute sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeKind {
    /// UDP datagrams to ports 33434 and up (the classic traceroute): the server answers "port
    /// unreachable".
    #[default]
    Udp,
    /// ICMP echo requests (`traceroute -I`): the server answers "echo reply".
    Icmp,
}

impl std::str::FromStr for ProbeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "udp" => Ok(ProbeKind::Udp),
            "icmp" => Ok(ProbeKind::Icmp),
            _ => Err(format!("`{s}`: the probe is udp or icmp")),
        }
    }
}

/// `packetpath ping`'s settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingOptions {
    /// Echo requests to send.
    pub count: u32,
    /// Bytes of ICMP data in each (as `ping -s`): the IP packet is 28 bytes more over IPv4 (48
    /// over IPv6).
    pub size: usize,
    /// Set "don't fragment" (IPv4): a router facing a narrower link answers "fragmentation
    /// needed" instead of fragmenting.
    pub df: bool,
    /// To the server's IPv6 address.
    pub ipv6: bool,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: 3,
            size: 56,
            df: false,
            ipv6: false,
        }
    }
}

/// `packetpath traceroute`'s settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TracerouteOptions {
    /// The largest TTL tried.
    pub max_hops: u8,
    /// Probes sent with each TTL (traceroute's -q), 1 to 5.
    pub queries: u8,
    /// UDP or ICMP probes.
    pub probe: ProbeKind,
    /// To the server's IPv6 address.
    pub ipv6: bool,
}

impl Default for TracerouteOptions {
    fn default() -> Self {
        TracerouteOptions {
            max_hops: 8,
            queries: 3,
            probe: ProbeKind::Udp,
            ipv6: false,
        }
    }
}

/// What identifies a probe in the packets (its own, and the one an ICMP error quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKey {
    /// An echo request: identifier and sequence number.
    Echo(u16, u16),
    /// A UDP datagram: source and destination ports.
    Udp(u16, u16),
}

/// The answer to one probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Who sent it.
    pub from: IpAddr,
    /// Its hop and interface in the lab (`r1`, `r1-eth0`), when the address is the lab's.
    pub hop: Option<(String, String)>,
    /// From sending the probe to reading the answer.
    pub rtt: Duration,
    /// ICMP type and code.
    pub icmp_type: u8,
    /// See `icmp_type`.
    pub code: u8,
    /// "Fragmentation needed": the next-hop MTU; "packet too big": the MTU.
    pub mtu: Option<u32>,
    /// The answer's TTL as it arrived (IPv4).
    pub ttl: Option<u8>,
    /// In words: "time exceeded", "echo reply", "fragmentation needed (next-hop MTU 576)".
    pub says: String,
    /// The answer came from the destination itself (echo reply, port unreachable).
    pub reached: bool,
}

/// One probe sent (or not) and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// 1, 2, 3, …: the echo sequence number (ping, traceroute's ICMP probes); a UDP probe goes
    /// to port 33433 + number (each probe its own port, as traceroute's).
    pub number: u16,
    /// The TTL it was sent with (traceroute), `None` for the system's default (ping).
    pub ttl: Option<u8>,
    /// How the packets carrying it are recognised.
    pub key: ProbeKey,
    /// The IP packet's length in bytes.
    pub bytes: usize,
    /// Why the client could not send it (e.g. larger than its link with DF), if so.
    pub not_sent: Option<String>,
    /// The answer, if one came within the wait.
    pub answer: Option<Answer>,
}

/// What ping or traceroute did.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// "ping" or "traceroute".
    pub command: &'static str,
    /// The client's and the server's addresses.
    pub from: IpAddr,
    /// See `from`.
    pub to: IpAddr,
    /// What `--df`, `--size`, the probe kind said, in words.
    pub setting: String,
    /// The probes in order.
    pub probes: Vec<Probe>,
    /// How long each probe waited for its answer.
    pub wait: Duration,
}

const ICMP_DATA_MAX: usize = 65_000;
/// The first destination port of the UDP probes.
const UDP_BASE_PORT: u16 = 33434;

/// How long a probe waits for its answer: three seconds (a first IPv6 packet may wait a second
/// or two for neighbour discovery), plus the path's delay both ways.
fn wait_for(lab: &Lab) -> Duration {
    let links = u32::try_from(lab.options.link.links()).unwrap_or(1).max(1);
    Duration::from_secs(3) + lab.options.delay * 4 * links
}

fn target(lab: &Lab, ipv6: bool) -> Result<(IpAddr, IpAddr), ProbeError> {
    if ipv6 {
        lab.wait_path_ready()
            .map_err(sock("waiting for the path's interfaces to come up"))?;
    }
    match lab.hosts(ipv6) {
        Some(hosts) => Ok(hosts),
        None if ipv6 && lab.hosts(false).is_some() => Err(ProbeError::NoIpv6),
        None => Err(ProbeError::NoPath),
    }
}

/// A raw ICMP (ICMPv6) socket in the client's namespace.
fn raw_socket(lab: &Lab, ipv6: bool) -> Result<UdpSocket, ProbeError> {
    let socket = Lab::in_namespace(lab.client_namespace(), move || {
        let (domain, protocol) = if ipv6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        Socket::new(domain, Type::RAW, Some(protocol))
    })
    .map_err(sock(
        "opening a raw ICMP socket in the lab's client namespace (needs the lab: see `packetpath doctor`)",
    ))?;
    // A raw socket is a datagram socket: std's UdpSocket reads it (recvfrom) with a timeout.
    Ok(UdpSocket::from(socket))
}

fn udp_socket(lab: &Lab, ipv6: bool) -> Result<UdpSocket, ProbeError> {
    Lab::in_namespace(lab.client_namespace(), move || {
        let any: SocketAddr = if ipv6 {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        };
        UdpSocket::bind(any)
    })
    .map_err(sock("opening the UDP socket of the probes"))
}

/// The ICMP internet checksum (RFC 1071) of `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: type 8 (ICMPv6: 128; the kernel fills its checksum), id, seq, `size` bytes.
fn echo_request(ipv6: bool, id: u16, seq: u16, size: usize) -> Vec<u8> {
    let mut m = vec![if ipv6 { 128 } else { 8 }, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend((0..size).map(|i| (i % 256) as u8));
    if !ipv6 {
        let sum = checksum(&m);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    m
}

/// An ICMP message that reached the client, as far as matching it to a probe needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    /// Its sender.
    pub from: IpAddr,
    /// Its TTL (IPv4: read from the header the raw socket hands over).
    pub ttl: Option<u8>,
    /// Type and code.
    pub icmp_type: u8,
    /// See `icmp_type`.
    pub code: u8,
    /// Next-hop MTU or MTU, for "fragmentation needed" and "packet too big".
    pub mtu: Option<u32>,
    /// The probe it answers: an echo reply's id and seq, or what an error quotes.
    pub about: Option<ProbeKey>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// What an ICMP message says about a probe: `message` starts at the ICMP header. An error
/// quotes the probe's IP header (`v6`: 40 bytes) and the first bytes after it.
fn about_probe(v6: bool, message: &[u8]) -> (Option<u32>, Option<ProbeKey>) {
    let (t, code) = (message.first().copied(), message.get(1).copied());
    let echo = |m: &[u8]| Some(ProbeKey::Echo(be16(m, 4)?, be16(m, 6)?));
    match (v6, t) {
        (false, Some(0)) | (true, Some(129)) => (None, echo(message)),
        (false, Some(3 | 11 | 12)) | (true, Some(1..=4)) => {
            let quoted = message.get(8..).unwrap_or_default();
            let (protocol, transport) = if v6 {
                (quoted.get(6).copied(), 40)
            } else {
                (
                    quoted.get(9).copied(),
                    usize::from(quoted.first().copied().unwrap_or(0) & 0x0f) * 4,
                )
            };
            let inner = quoted.get(transport..).unwrap_or_default();
            let about = match protocol {
                Some(1 | 58) if matches!(inner.first(), Some(8 | 128)) => echo(inner),
                Some(17) => be16(inner, 0)
                    .zip(be16(inner, 2))
                    .map(|(s, d)| ProbeKey::Udp(s, d)),
                _ => None,
            };
            let mtu = match (v6, t, code) {
                (false, Some(3), Some(4)) => be16(message, 6).map(u32::from),
                (true, Some(2), _) => message
                    .get(4..8)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(u32::from_be_bytes),
                _ => None,
            };
            (mtu, about)
        }
        _ => (None, None),
    }
}

/// Reads what a raw ICMP socket received: over IPv4 the IP header comes first, over IPv6 the
/// ICMPv6 message alone (its sender is `from`). `None` for something too short to be ICMP.
pub fn parse_heard(v6: bool, data: &[u8], from: IpAddr) -> Option<Heard> {
    let (message, ttl, from) = if v6 {
        (data, None, from)
    } else {
        let ihl = usize::from(data.first()? & 0x0f) * 4;
        let src: [u8; 4] = data.get(12..16)?.try_into().ok()?;
        (data.get(ihl..)?, data.get(8).copied(), IpAddr::from(src))
    };
    let (mtu, about) = about_probe(v6, message);
    Some(Heard {
        from,
        ttl,
        icmp_type: *message.first()?,
        code: *message.get(1)?,
        mtu,
        about,
    })
}

/// An ICMP type and code in words, as a student reads them.
pub fn says(v6: bool, icmp_type: u8, code: u8, mtu: Option<u32>) -> String {
    let mtu = mtu.map(|m| m.to_string()).unwrap_or_else(|| "?".into());
    match (v6, icmp_type, code) {
        (false, 0, _) | (true, 129, _) => "echo reply".into(),
        (false, 11, 0) | (true, 3, 0) => "time exceeded".into(),
        (false, 11, _) | (true, 3, _) => "time exceeded (fragment reassembly)".into(),
        (false, 3, 0) => "network unreachable".into(),
        (false, 3, 1) | (true, 1, 3) => "host unreachable".into(),
        (false, 3, 3) | (true, 1, 4) => "port unreachable".into(),
        (false, 3, 4) => format!("fragmentation needed (next-hop MTU {mtu})"),
        (true, 2, _) => format!("packet too big (MTU {mtu})"),
        (false, 3, c) | (true, 1, c) => format!("destination unreachable (code {c})"),
        (_, t, c) => format!("ICMP type {t} code {c}"),
    }
}

/// What every probe of one run shares.
struct Prober<'a> {
    lab: &'a Lab,
    raw: &'a UdpSocket,
    v6: bool,
    to: IpAddr,
    wait: Duration,
}

/// Sends one probe through `send` and waits on the raw socket for its answer.
fn one_probe(
    p: &Prober<'_>,
    mut probe: Probe,
    send: impl FnOnce() -> std::io::Result<usize>,
) -> Result<Probe, ProbeError> {
    let Prober {
        lab,
        raw,
        v6,
        to,
        wait,
    } = *p;
    let key = probe.key;
    // Whatever is still queued (an answer that came too late) belongs to an earlier probe.
    raw.set_nonblocking(true)
        .map_err(sock("reading the raw socket"))?;
    let mut buf = vec![0u8; 65_536];
    while raw.recv_from(&mut buf).is_ok() {}
    raw.set_nonblocking(false)
        .map_err(sock("reading the raw socket"))?;
    let start = Instant::now();
    match send() {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
            probe.not_sent = Some(format!(
                "not sent: a {}-byte packet with \"don't fragment\" is larger than the client's link \
                 or the path MTU it has learned (use a smaller --size, or leave out --df so that \
                 routers fragment it)",
                probe.bytes
            ));
            return Ok(probe);
        }
        Err(e) => return Err(sock("sending a probe")(e)),
    }
    let deadline = start + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(probe);
        }
        raw.set_read_timeout(Some(left))
            .map_err(sock("waiting for an answer"))?;
        let (n, from) = match raw.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(sock("reading an answer")(e)),
        };
        let rtt = start.elapsed();
        let Some(heard) = parse_heard(v6, buf.get(..n).unwrap_or_default(), from.ip()) else {
            continue;
        };
        if heard.about != Some(key) {
            continue;
        }
        let echo_reply = matches!((v6, heard.icmp_type), (false, 0) | (true, 129));
        probe.answer = Some(Answer {
            from: heard.from,
            hop: lab.hop_of(heard.from),
            rtt,
            icmp_type: heard.icmp_type,
            code: heard.code,
            mtu: heard.mtu,
            ttl: heard.ttl,
            says: says(v6, heard.icmp_type, heard.code, heard.mtu),
            reached: heard.from == to || echo_reply,
        });
        return Ok(probe);
    }
}

fn echo_id() -> u16 {
    (std::process::id() & 0xffff) as u16
}

/// `ping`: `count` echo requests from the client host to the server host, one after the other's
/// answer (or wait). Blocking: call it off the async runtime.
pub fn ping(lab: &Lab, options: PingOptions) -> Result<Report, ProbeError> {
    if options.size > ICMP_DATA_MAX {
        return Err(ProbeError::Size(options.size));
    }
    let (from, to) = target(lab, options.ipv6)?;
    let raw = raw_socket(lab, options.ipv6)?;
    if !options.ipv6 {
        crate::capture::sys::set_dont_fragment(raw.as_raw_fd(), options.df)
            .map_err(sock("setting \"don't fragment\""))?;
    }
    let wait = wait_for(lab);
    let id = echo_id();
    let header = if options.ipv6 { 48 } else { 28 };
    let mut probes = Vec::new();
    for seq in 1..=u16::try_from(options.count).unwrap_or(u16::MAX) {
        let key = ProbeKey::Echo(id, seq);
        let message = echo_request(options.ipv6, id, seq, options.size);
        let probe = Probe {
            number: seq,
            ttl: None,
            key,
            bytes: options.size + header,
            not_sent: None,
            answer: None,
        };
        let dest = SocketAddr::new(to, 0);
        let prober = Prober {
            lab,
            raw: &raw,
            v6: options.ipv6,
            to,
            wait,
        };
        probes.push(one_probe(&prober, probe, || raw.send_to(&message, dest))?);
    }
    let setting = format!(
        "{} bytes of ICMP data, {}-byte IP packets{}",
        options.size,
        options.size + header,
        match (options.ipv6, options.df) {
            (false, true) => ", \"don't fragment\" set",
            (false, false) => ", \"don't fragment\" clear (routers may fragment)",
            (true, _) => " (IPv6: routers never fragment)",
        }
    );
    Ok(Report {
        command: "ping",
        from,
        to,
        setting,
        probes,
        wait,
    })
}

/// Bytes of data in a traceroute probe (UDP payload or ICMP echo data).
const TRACEROUTE_DATA: usize = 32;

/// Sends traceroute's probe `number` with TTL `ttl` (over `udp`, or as an echo request with
/// identifier `id` over `raw`) and waits for its answer. `to` is `(ipv6, destination, wait)`.
fn traceroute_probe(
    lab: &Lab,
    raw: &UdpSocket,
    udp: Option<&UdpSocket>,
    (v6, to, wait): (bool, IpAddr, Duration),
    ttl: u8,
    number: u16,
    id: u16,
) -> Result<Probe, ProbeError> {
    let header = if v6 { 48 } else { 28 };
    let set_ttl = |s: &UdpSocket| {
        if v6 {
            socket2::SockRef::from(s).set_unicast_hops_v6(u32::from(ttl))
        } else {
            s.set_ttl(u32::from(ttl))
        }
    };
    let (key, sent) = match udp {
        Some(udp) => {
            set_ttl(udp).map_err(sock("setting the probe's TTL"))?;
            let local = udp.local_addr().map_err(sock("reading the probe's port"))?;
            let port = UDP_BASE_PORT + number - 1;
            let key = ProbeKey::Udp(local.port(), port);
            let dest = SocketAddr::new(to, port);
            (
                key,
                Box::new(move || udp.send_to(&[0u8; TRACEROUTE_DATA], dest))
                    as Box<dyn FnOnce() -> _>,
            )
        }
        None => {
            set_ttl(raw).map_err(sock("setting the probe's TTL"))?;
            let key = ProbeKey::Echo(id, number);
            let message = echo_request(v6, id, number, TRACEROUTE_DATA);
            let dest = SocketAddr::new(to, 0);
            (
                key,
                Box::new(move || raw.send_to(&message, dest)) as Box<dyn FnOnce() -> _>,
            )
        }
    };
    let probe = Probe {
        number,
        ttl: Some(ttl),
        key,
        bytes: TRACEROUTE_DATA + header,
        not_sent: None,
        answer: None,
    };
    let prober = Prober {
        lab,
        raw,
        v6,
        to,
        wait,
    };
    one_probe(&prober, probe, sent)
}

/// `traceroute`: probes with TTL 1, 2, 3, … until the server answers or `max_hops`. Blocking.
pub fn traceroute(lab: &Lab, options: TracerouteOptions) -> Result<Report, ProbeError> {
    let (from, to) = target(lab, options.ipv6)?;
    let v6 = options.ipv6;
    let raw = raw_socket(lab, v6)?;
    let udp = match options.probe {
        ProbeKind::Udp => Some(udp_socket(lab, v6)?),
        ProbeKind::Icmp => None,
    };
    let wait = wait_for(lab);
    // Not ping's identifier: in a lesson both may run in one capture.
    let id = echo_id() ^ 0x8000;
    let header = if v6 { 48 } else { 28 };
    let mut probes = Vec::new();
    let queries = options.queries.clamp(1, 5);
    'hops: for ttl in 1..=options.max_hops.max(1) {
        let mut done = false;
        for query in 0..queries {
            let number = (u16::from(ttl) - 1) * u16::from(queries) + u16::from(query) + 1;
            let probe = traceroute_probe(lab, &raw, udp.as_ref(), (v6, to, wait), ttl, number, id)?;
            // Only "time exceeded" means the probe died on the way: anything else (the
            // server's answer, an unreachable, "packet too big") ends the route after this TTL.
            let time_exceeded = if v6 { 3 } else { 11 };
            done |= probe
                .answer
                .as_ref()
                .is_some_and(|a| a.reached || a.icmp_type != time_exceeded);
            probes.push(probe);
        }
        if done {
            break 'hops;
        }
    }
    Ok(Report {
        command: "traceroute",
        from,
        to,
        setting: format!(
            "{} probes of {} bytes, TTL 1 to {} at most",
            match options.probe {
                ProbeKind::Udp => "UDP (ports 33434 and up)",
                ProbeKind::Icmp => "ICMP echo",
            },
            TRACEROUTE_DATA + header,
            options.max_hops.max(1)
        ),
        probes,
        wait,
    })
}

/// Ping or traceroute, with its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probing {
    /// `ping`.
    Ping(PingOptions),
    /// `traceroute`.
    Traceroute(TracerouteOptions),
}

impl Probing {
    /// Runs it (blocking: call it off the async runtime).
    pub fn run(self, lab: &Lab) -> Result<Report, ProbeError> {
        match self {
            Probing::Ping(o) => ping(lab, o),
            Probing::Traceroute(o) => traceroute(lab, o),
        }
    }
}

/// Whether the frame `entry` carries probe `key` or an answer about it.
pub fn frame_is_about(entry: &crate::journey::FrameEntry, key: ProbeKey) -> bool {
    let p = entry.packet();
    if let Some(icmp) = &p.icmp {
        let v6 = icmp.version == 6;
        let message = entry.frame.data.get(icmp.range.clone()).unwrap_or_default();
        if matches!((v6, icmp.icmp_type), (false, 8) | (true, 128)) {
            return icmp.echo.map(|(i, s)| ProbeKey::Echo(i, s)) == Some(key);
        }
        return about_probe(v6, message).1 == Some(key);
    }
    if let (Some(udp), ProbeKey::Udp(src, dst)) = (&p.udp, key) {
        return udp.src_port == src && udp.dst_port == dst;
    }
    false
}

/// The frames of a probe and of its answers, in order: those [`frame_is_about`] finds, and the
/// other IPv4 fragments of the same packets (a fragment after the first has no ICMP or UDP
/// header to recognise it by: it shares the first's addresses and identification).
pub fn frames_of(trace: &Trace, key: ProbeKey) -> Vec<&crate::journey::FrameEntry> {
    let fragment_of = |entry: &crate::journey::FrameEntry| {
        let ip = entry.packet().ip?;
        let id = ip.identification?;
        (ip.version == 4 && (ip.more_fragments || ip.fragment_offset > 0))
            .then_some((ip.src, ip.dst, id))
    };
    let direct: Vec<&crate::journey::FrameEntry> = trace
        .frames()
        .iter()
        .filter(|e| frame_is_about(e, key))
        .collect();
    let fragmented: std::collections::HashSet<_> =
        direct.iter().filter_map(|e| fragment_of(e)).collect();
    if fragmented.is_empty() {
        return direct;
    }
    trace
        .frames()
        .iter()
        .filter(|e| {
            frame_is_about(e, key) || fragment_of(e).is_some_and(|f| fragmented.contains(&f))
        })
        .collect()
}

fn node(lab: &Lab, addr: IpAddr) -> String {
    match lab.hop_of(addr) {
        Some((hop, _)) => format!("{hop} ({addr})"),
        None => addr.to_string(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Report {
    /// The answer's line: ` 1  r1 (10.73.1.2)  0.105 ms  time exceeded (TTL reached 0 in transit)`.
    pub fn line(&self, lab: &Lab, probe: &Probe) -> String {
        let label = match (self.command, probe.ttl) {
            ("ping", _) | (_, None) => format!("seq {}", probe.number),
            (_, Some(ttl)) => format!("{ttl:>2}"),
        };
        if let Some(why) = &probe.not_sent {
            return format!("{label}  {why}");
        }
        match &probe.answer {
            Some(a) => {
                let ttl = match (self.command, a.ttl) {
                    ("ping", Some(t)) => format!(", ttl {t}"),
                    _ => String::new(),
                };
                format!(
                    "{label}  {}  {:.3} ms  {}{ttl}",
                    node(lab, a.from),
                    ms(a.rtt),
                    a.says
                )
            }
            None => format!(
                "{label}  *  no answer within {:.1} s",
                self.wait.as_secs_f64()
            ),
        }
    }

    /// traceroute's line for the probes of one TTL, as traceroute prints it: the hop, then
    /// each probe's round-trip time (`*` for no answer), a node named again only when another
    /// answers: ` 1  r1 (10.73.1.2)  0.105 ms  0.098 ms  0.101 ms  time exceeded`.
    pub fn hop_line(&self, lab: &Lab, probes: &[&Probe]) -> String {
        let ttl = probes.first().and_then(|p| p.ttl).unwrap_or(0);
        let mut out = format!("{ttl:>2}");
        let mut last_node: Option<String> = None;
        let mut last_says: Option<&str> = None;
        for probe in probes {
            if let Some(why) = &probe.not_sent {
                out.push_str(&format!("  {why}"));
                continue;
            }
            let Some(a) = &probe.answer else {
                out.push_str("  *");
                continue;
            };
            let node = node(lab, a.from);
            if last_node.as_ref() != Some(&node) {
                if let Some(says) = last_says.take() {
                    out.push_str(&format!("  {says}"));
                }
                out.push_str(&format!("  {node}"));
                last_node = Some(node);
            }
            if last_says.is_some_and(|s| s != a.says) {
                out.push_str(&format!("  {}", last_says.unwrap_or_default()));
            }
            out.push_str(&format!("  {:.3} ms", ms(a.rtt)));
            last_says = Some(&a.says);
        }
        if let Some(says) = last_says {
            out.push_str(&format!("  {says}"));
        }
        if probes
            .iter()
            .all(|p| p.answer.is_none() && p.not_sent.is_none())
        {
            out.push_str(&format!(
                "  no answer within {:.1} s",
                self.wait.as_secs_f64()
            ));
        }
        out
    }

    /// The report's lines, each with the probes it tells of: one per probe for ping, one per
    /// TTL for traceroute.
    pub fn lines(&self, lab: &Lab) -> Vec<(String, Vec<&Probe>)> {
        self.groups()
            .into_iter()
            .map(|group| {
                let line = match group.as_slice() {
                    [one] if self.command == "ping" => self.line(lab, one),
                    _ => self.hop_line(lab, &group),
                };
                (line, group)
            })
            .collect()
    }

    /// The probes in groups to print under one line: one each for ping, one group per TTL for
    /// traceroute.
    fn groups(&self) -> Vec<Vec<&Probe>> {
        let mut groups: Vec<Vec<&Probe>> = Vec::new();
        for probe in &self.probes {
            match groups.last_mut() {
                Some(g)
                    if self.command != "ping"
                        && probe.ttl.is_some()
                        && g.first().is_some_and(|f| f.ttl == probe.ttl) =>
                {
                    g.push(probe)
                }
                _ => groups.push(vec![probe]),
            }
        }
        groups
    }

    /// How many probes were answered by the destination itself.
    pub fn replies(&self) -> usize {
        self.probes
            .iter()
            .filter(|p| p.answer.as_ref().is_some_and(|a| a.reached))
            .count()
    }

    /// The title line.
    pub fn title(&self, lab: &Lab) -> String {
        format!(
            "{} from {} to {}: {}",
            self.command,
            node(lab, self.from),
            node(lab, self.to),
            self.setting
        )
    }

    /// The closing line (ping: sent, replies, loss, round-trip times).
    pub fn summary(&self) -> String {
        let sent = self.probes.iter().filter(|p| p.not_sent.is_none()).count();
        let replies = self.replies();
        let answered = self.probes.iter().filter(|p| p.answer.is_some()).count();
        let rtts: Vec<f64> = self
            .probes
            .iter()
            .filter_map(|p| p.answer.as_ref())
            .filter(|a| a.reached)
            .map(|a| ms(a.rtt))
            .collect();
        let mut out = format!(
            "{} probes, {sent} sent, {answered} answered, {replies} by the destination",
            self.probes.len()
        );
        if self.command == "ping" && sent > 0 {
            let lost = 100.0 * (sent - replies.min(sent)) as f64 / sent as f64;
            out.push_str(&format!(", {lost:.0}% without reply"));
        }
        if !rtts.is_empty() {
            let min = rtts.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rtts.iter().copied().fold(0.0, f64::max);
            let avg = rtts.iter().sum::<f64>() / rtts.len() as f64;
            out.push_str(&format!(
                "; round trip min/avg/max {min:.3}/{avg:.3}/{max:.3} ms"
            ));
        }
        out
    }

    /// The report in words, each probe's line followed by its frames as `trace` lists them, then
    /// the frames no probe claimed (ARP, neighbour discovery).
    pub fn text(&self, lab: &Lab, trace: &Trace) -> String {
        let app = crate::report::app_events_by_frame(trace);
        let t0 = trace
            .frames()
            .first()
            .map(|f| f.frame.at)
            .unwrap_or_default();
        let mut claimed = std::collections::HashSet::new();
        let mut out = format!("{}\n", self.title(lab));
        for (line, group) in self.lines(lab) {
            out.push_str(&line);
            out.push('\n');
            for probe in group {
                for entry in frames_of(trace, probe.key) {
                    claimed.insert(entry.number);
                    let events = app.get(&entry.number).map_or(&[][..], |v| v.as_slice());
                    let text = crate::report::frame_text(trace, entry, events, t0);
                    for l in text.lines() {
                        out.push_str(&format!("      {l}\n"));
                    }
                }
            }
        }
        out.push_str(&format!("{}\n", self.summary()));
        let others: Vec<_> = trace
            .frames()
            .iter()
            .filter(|e| !claimed.contains(&e.number))
            .collect();
        if !others.is_empty() {
            out.push_str("other frames (ARP, neighbour discovery):\n");
            for entry in others {
                let events = app.get(&entry.number).map_or(&[][..], |v| v.as_slice());
                out.push_str(&crate::report::frame_text(trace, entry, events, t0));
                out.push('\n');
            }
        }
        out.push_str(&format!("link: {}\n", lab.describe()));
        out
    }

    /// The report as one JSON object: each probe with its answer and its frames (each as
    /// `inspect --format json` gives it), and the frames no probe claimed.
    pub fn json(&self, lab: &Lab, trace: &Trace) -> Value {
        let app = crate::report::app_events_by_frame(trace);
        let frame = |entry: &crate::journey::FrameEntry| {
            let events = app.get(&entry.number).map_or(&[][..], |v| v.as_slice());
            crate::report::frame_json(trace, entry, events)
        };
        let mut claimed = std::collections::HashSet::new();
        let probes: Vec<Value> = self
            .probes
            .iter()
            .map(|p| {
                let mut o = Map::new();
                o.insert("number".into(), json!(p.number));
                if let Some(ttl) = p.ttl {
                    o.insert("ttl".into(), json!(ttl));
                }
                o.insert("bytes".into(), json!(p.bytes));
                o.insert("line".into(), json!(self.line(lab, p)));
                if let Some(why) = &p.not_sent {
                    o.insert("not_sent".into(), json!(why));
                }
                if let Some(a) = &p.answer {
                    let mut ans = Map::new();
                    ans.insert("from".into(), json!(a.from.to_string()));
                    if let Some((hop, interface)) = &a.hop {
                        ans.insert("hop".into(), json!(hop));
                        ans.insert("interface_name".into(), json!(interface));
                    }
                    ans.insert("rtt_ms".into(), json!(ms(a.rtt)));
                    ans.insert("icmp_type".into(), json!(a.icmp_type));
                    ans.insert("icmp_code".into(), json!(a.code));
                    if let Some(mtu) = a.mtu {
                        ans.insert("mtu".into(), json!(mtu));
                    }
                    if let Some(ttl) = a.ttl {
                        ans.insert("ttl".into(), json!(ttl));
                    }
                    ans.insert("says".into(), json!(a.says));
                    ans.insert("reached".into(), json!(a.reached));
                    o.insert("answer".into(), Value::Object(ans));
                }
                let frames: Vec<Value> = frames_of(trace, p.key)
                    .into_iter()
                    .map(|e| {
                        claimed.insert(e.number);
                        frame(e)
                    })
                    .collect();
                o.insert("frames".into(), Value::Array(frames));
                Value::Object(o)
            })
            .collect();
        let others: Vec<Value> = trace
            .frames()
            .iter()
            .filter(|e| !claimed.contains(&e.number))
            .map(frame)
            .collect();
        json!({
            "command": self.command,
            "from": self.from.to_string(),
            "to": self.to.to_string(),
            "setting": self.setting,
            "link": lab.describe(),
            "probes": probes,
            "replies": self.replies(),
            "summary": self.summary(),
            "other_frames": others,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 "time exceeded" from 10.73.1.2 quoting a UDP probe 40000 → 33434.
    fn time_exceeded() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0, 10, 73, 1, 2, 10, 73, 1, 1,
        ];
        p.extend_from_slice(&[11, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x45, 0, 0, 60, 0, 1, 0x40, 0, 1, 17, 0, 0]);
        p.extend_from_slice(&[10, 73, 1, 1, 10, 73, 3, 2]);
        p.extend_from_slice(&40000u16.to_be_bytes());
        p.extend_from_slice(&33434u16.to_be_bytes());
        p.extend_from_slice(&[0, 40, 0, 0]);
        p
    }

    #[test]
    fn an_error_names_the_probe_it_quotes() {
        let heard = parse_heard(false, &time_exceeded(), Ipv4Addr::UNSPECIFIED.into()).unwrap();
        assert_eq!(heard.from, IpAddr::from([10, 73, 1, 2]));
        assert_eq!((heard.icmp_type, heard.code, heard.ttl), (11, 0, Some(64)));
        assert_eq!(heard.about, Some(ProbeKey::Udp(40000, 33434)));
        assert_eq!(says(false, 11, 0, None), "time exceeded");
    }

    #[test]
    fn fragmentation_needed_carries_the_mtu_and_quoted_echo() {
        let mut m = vec![3, 4, 0, 0, 0, 0, 0x02, 0x40];
        m.extend_from_slice(&[0x45, 0, 0x07, 0xec, 0, 1, 0x40, 0, 63, 1, 0, 0]);
        m.extend_from_slice(&[10, 73, 1, 1, 10, 73, 3, 2]);
        m.extend_from_slice(&echo_request(false, 7, 2, 0));
        assert_eq!(
            about_probe(false, &m),
            (Some(576), Some(ProbeKey::Echo(7, 2)))
        );
        assert_eq!(
            says(false, 3, 4, Some(576)),
            "fragmentation needed (next-hop MTU 576)"
        );
    }

    #[test]
    fn echo_requests_have_a_valid_checksum() {
        let m = echo_request(false, 0x1234, 1, 56);
        assert_eq!(m.len(), 64);
        assert_eq!(checksum(&m), 0);
        let reply = [0u8, 0, 0, 0, 0x12, 0x34, 0, 1];
        assert_eq!(
            about_probe(false, &reply).1,
            Some(ProbeKey::Echo(0x1234, 1))
        );
        assert_eq!(
            about_probe(true, &[129, 0, 0, 0, 0, 9, 0, 3]).1,
            Some(ProbeKey::Echo(9, 3))
        );
    }

    #[test]
    fn probe_kinds_parse() {
        assert_eq!("udp".parse::<ProbeKind>(), Ok(ProbeKind::Udp));
        assert_eq!("icmp".parse::<ProbeKind>(), Ok(ProbeKind::Icmp));
        assert!("tcp".parse::<ProbeKind>().is_err());
    }
}
