//! Entering and furnishing the lab's namespaces.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use nix::sched::{setns, unshare, CloneFlags};

use super::forwarder::{self, Forwarder};
use super::{
    path, Lab, LabInterface, LabOptions, LinkMode, Rate, IPV6_MIN_MTU, WIRE_CLIENT, WIRE_CLIENT_IF,
    WIRE_SERVER, WIRE_SERVER_IF,
};

/// Why the lab could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The kernel refused an unprivileged user namespace.
    #[error(
        "cannot create the lab: this machine does not let ordinary users create user namespaces ({why}).\n\
         Ways out:\n\
         - run as root: sudo {bin} ...\n\
         - or allow this binary to capture on the machine's loopback and use it as it is:\n\
         \x20 sudo setcap cap_net_raw+ep {bin}   then add --host-loopback\n\
         - or open a sample capture, which needs no privileges: packetpath inspect captures/<file>.pcapng"
    )]
    NoUserNamespaces {
        /// What the kernel settings say.
        why: String,
        /// This binary's path.
        bin: String,
    },
    /// A namespace operation failed for another reason.
    #[error("cannot create the lab's network namespace: {0}")]
    Namespace(String),
    /// Options that cannot be used together, or out of range.
    #[error("cannot set up the lab: {0}")]
    Options(String),
    /// The forwarding link (delay, loss) could not start.
    #[error("cannot start the lab's forwarding link: {0}")]
    Link(String),
    /// A configuration command failed.
    #[error("cannot set up the lab: `{command}` failed: {reason}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed or why it did not run.
        reason: String,
    },
}

/// Why user namespaces are unavailable, from the kernel settings that control them.
pub fn user_namespace_blockers() -> Vec<String> {
    let mut why = Vec::new();
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        why.push("user.max_user_namespaces is 0".into());
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        why.push("kernel.unprivileged_userns_clone is 0".into());
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        why.push("AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)".into());
    }
    why
}

fn this_binary() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "packetpath".into())
}

/// Enters (creates) the lab described by `options`. Must be called while the process is still
/// single-threaded, before the async runtime starts. With `host_loopback`, does nothing.
pub fn enter(options: LabOptions) -> Result<Lab, LabError> {
    if options.host_loopback {
        if !options.delay.is_zero() || options.loss > 0.0 || options.per_link_conditions() {
            return Err(LabError::Options(
                "--delay and --loss need the lab: they cannot be used with --host-loopback".into(),
            ));
        }
        return Ok(Lab::host());
    }
    if options.per_link_conditions() && !matches!(options.link, LinkMode::Routers(_)) {
        return Err(LabError::Options(
            "--delay-on and --loss-on set one link of a path: add --link routers:N".into(),
        ));
    }
    if !(0.0..=100.0).contains(&options.loss) {
        return Err(LabError::Options(format!(
            "--loss is a percentage from 0 to 100, not {}",
            options.loss
        )));
    }
    if !options.delay.is_zero() && options.link == LinkMode::Loopback {
        return Err(LabError::Options(
            "--delay needs a link between two hosts: add --link wire or --link routers:N (a loopback has no cable to \
             hold frames on)"
                .into(),
        ));
    }
    let root = nix::unistd::geteuid().is_root();
    if root {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Namespace(e.to_string()))?;
    } else {
        let uid = nix::unistd::geteuid();
        let gid = nix::unistd::getegid();
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET).map_err(|e| {
            let mut why = user_namespace_blockers();
            if why.is_empty() {
                why.push(format!("unshare(CLONE_NEWUSER) failed: {e}"));
            }
            LabError::NoUserNamespaces {
                why: why.join("; "),
                bin: this_binary(),
            }
        })?;
        // Become root inside the new user namespace (and only there), user_namespaces(7).
        write_proc("/proc/self/setgroups", "deny")?;
        write_proc("/proc/self/uid_map", &format!("0 {uid} 1"))?;
        write_proc("/proc/self/gid_map", &format!("0 {gid} 1"))?;
    }
    tracing::debug!(root, "entered the lab's network namespace");
    let mut lab = Lab {
        options,
        isolated: true,
        user_namespace: !root,
        client_ns: None,
        link: None,
        path: Vec::new(),
        path_links: Vec::new(),
        attack: options.attacker.then(super::attack::AttackSwitch::new),
    };
    match options.link {
        LinkMode::Loopback => {
            setup_loopback(options.mtu)?;
            add_loss("lo", options.loss)?;
        }
        LinkMode::Wire => {
            let wire = setup_wire(options)?;
            lab.client_ns = Some(Arc::new(wire.client_ns));
            lab.link = wire.link.map(Arc::new);
        }
        LinkMode::Routers(n) => {
            let (path, links) = setup_routers(usize::from(n), &options, lab.attack.as_ref())?;
            lab.client_ns = path.first().and_then(|i| i.netns.clone());
            lab.path = path;
            lab.path_links = links.into_iter().map(|(l, f)| (l, Arc::new(f))).collect();
        }
    }
    tracing::info!("lab ready: {}", lab.describe());
    Ok(lab)
}

fn write_proc(path: &str, text: &str) -> Result<(), LabError> {
    std::fs::write(path, text).map_err(|e| LabError::Namespace(format!("writing {path}: {e}")))
}

/// Runs a configuration command (found in /usr/sbin or /sbin or on PATH).
pub(super) fn run(program: &str, args: &[&str]) -> Result<(), LabError> {
    let path = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.exists())
        .unwrap_or_else(|| program.into());
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(&path)
        .args(args)
        .output()
        .map_err(|e| LabError::Command {
            command: command.clone(),
            reason: format!("{e} (install {})", package_of(program)),
        })?;
    if !out.status.success() {
        return Err(LabError::Command {
            command,
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

fn package_of(program: &str) -> &'static str {
    match program {
        "ip" => "iproute2",
        "ethtool" => "ethtool",
        "iptables" => "iptables",
        "tc" => "iproute2",
        _ => "it",
    }
}

pub(super) fn offloads_off(dev: &str, extra: &[&str]) -> Result<(), LabError> {
    let mut args = vec!["-K", dev, "tso", "off", "gso", "off", "gro", "off"];
    args.extend_from_slice(extra);
    run("ethtool", &args)
}

fn setup_loopback(mtu: u32) -> Result<(), LabError> {
    let mtu = mtu.to_string();
    run("ip", &["link", "set", "lo", "up"])?;
    run("ip", &["link", "set", "lo", "mtu", &mtu])?;
    // Without this, the capture sees "super-segments" far larger than the MSS.
    offloads_off("lo", &[])
}

fn add_loss(dev: &str, percent: f64) -> Result<(), LabError> {
    if percent <= 0.0 {
        return Ok(());
    }
    let probability = format!("{:.4}", (percent / 100.0).min(1.0));
    // This kernel has no netem; netfilter's statistic match drops at random instead. It drops on
    // arrival (INPUT), where packets are already cut to the MSS: on the way out (OUTPUT) the stack
    // still holds "super-segments" that are split only later, so one drop there would lose a whole
    // burst. The capture therefore shows each lost packet once, then its retransmission.
    run(
        "iptables",
        &[
            "-A",
            "INPUT",
            "-i",
            dev,
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            &probability,
            "-j",
            "DROP",
        ],
    )
}

fn current_netns() -> Result<OwnedFd, LabError> {
    std::fs::File::open("/proc/self/ns/net")
        .map(OwnedFd::from)
        .map_err(|e| LabError::Namespace(format!("opening /proc/self/ns/net: {e}")))
}

/// Waits until every device has its carrier (a veth's comes up a moment after `ip link set up`,
/// and a frame sent before that is lost).
pub(super) fn wait_running(devs: &[&str]) -> Result<(), LabError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let interfaces = pnet_datalink::interfaces();
        let down: Vec<&str> = devs
            .iter()
            .filter(|d| !interfaces.iter().any(|i| i.name == **d && i.is_running()))
            .copied()
            .collect();
        if down.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(LabError::Link(format!(
                "{} still without carrier after 5 s",
                down.join(", ")
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Writes a sysctl of the calling thread's network namespace, if the kernel has it (IPv6 may be
/// compiled out or disabled at boot: then there is nothing to silence).
pub(super) fn sysctl_if_present(path: &str, value: &str) -> Result<(), LabError> {
    if !Path::new(path).exists() {
        return Ok(());
    }
    write_proc(path, value)
}

fn join(ns: &OwnedFd) -> Result<(), LabError> {
    setns(ns, CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Namespace(e.to_string()))
}

/// `/proc/PID/fd/N` for a namespace descriptor: how `ip ... netns` is told where to put a device.
fn ns_path(ns: &OwnedFd) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/{}/fd/{}", std::process::id(), ns.as_raw_fd())
}

/// The forwarding namespace's ends of the spliced cable: `FWD_SERVER_IF` is joined to the
/// server's `veth-srv`, `FWD_CLIENT_IF` to the client's `veth-cli`.
pub const FWD_SERVER_IF: &str = "fwd-srv";
/// See [`FWD_SERVER_IF`].
pub const FWD_CLIENT_IF: &str = "fwd-cli";

/// The cable between the hosts: the client's namespace, and the forwarding link when the cable is
/// spliced for delay or loss.
pub(super) struct Wire {
    pub client_ns: OwnedFd,
    pub link: Option<Forwarder>,
}

/// Makes the client namespace and the cable. The process stays in the server namespace.
///
/// With `--delay` or `--loss` the cable is spliced: each host's veth is joined to one end of a
/// forwarding namespace, and packetpath's own [`forwarder`](super::forwarder) carries the frames
/// between those two ends, holding or dropping them. Without either, the two hosts' veths are
/// joined directly.
fn setup_wire(options: LabOptions) -> Result<Wire, LabError> {
    let mtu = options.mtu.to_string();
    let spliced = !options.delay.is_zero() || options.loss > 0.0;
    let server_ns = current_netns()?;
    run("ip", &["link", "set", "lo", "up"])?;
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Namespace(e.to_string()))?;
    let client_ns = current_netns()?;
    let fwd_ns = if spliced {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Namespace(e.to_string()))?;
        // The middle of the cable has no addresses and says nothing: no IPv6 link-local address,
        // so no neighbour or router solicitations of its own go through the forwarder.
        sysctl_if_present("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")?;
        sysctl_if_present("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1")?;
        Some(current_netns()?)
    } else {
        None
    };
    // Back to the server side: make the cable there and hand the other end on.
    join(&server_ns)?;
    let (server_peer, server_peer_ns) = match &fwd_ns {
        Some(fwd) => (FWD_SERVER_IF, ns_path(fwd)),
        None => (WIRE_CLIENT_IF, ns_path(&client_ns)),
    };
    run(
        "ip",
        &[
            "link",
            "add",
            WIRE_SERVER_IF,
            "type",
            "veth",
            "peer",
            "name",
            server_peer,
            "netns",
            &server_peer_ns,
        ],
    )?;
    let server_cidr = format!("{WIRE_SERVER}/24");
    run("ip", &["addr", "add", &server_cidr, "dev", WIRE_SERVER_IF])?;
    run("ip", &["link", "set", WIRE_SERVER_IF, "mtu", &mtu, "up"])?;
    // Checksums computed in software, so they verify in the capture.
    offloads_off(WIRE_SERVER_IF, &["tx", "off", "rx", "off"])?;
    if let Some(fwd) = &fwd_ns {
        join(fwd)?;
        run(
            "ip",
            &[
                "link",
                "add",
                FWD_CLIENT_IF,
                "type",
                "veth",
                "peer",
                "name",
                WIRE_CLIENT_IF,
                "netns",
                &ns_path(&client_ns),
            ],
        )?;
        for dev in [FWD_SERVER_IF, FWD_CLIENT_IF] {
            run("ip", &["link", "set", dev, "mtu", &mtu, "up"])?;
            // Frames pass through as they came: no coalescing (GRO) into larger ones.
            offloads_off(dev, &["tx", "off", "rx", "off"])?;
        }
    }
    join(&client_ns)?;
    let client_cidr = format!("{WIRE_CLIENT}/24");
    run("ip", &["link", "set", "lo", "up"])?;
    run("ip", &["addr", "add", &client_cidr, "dev", WIRE_CLIENT_IF])?;
    run("ip", &["link", "set", WIRE_CLIENT_IF, "mtu", &mtu, "up"])?;
    offloads_off(WIRE_CLIENT_IF, &["tx", "off", "rx", "off"])?;
    // The first frames (ARP) must not meet a cable whose carrier is not up yet.
    wait_running(&[WIRE_CLIENT_IF])?;
    join(&server_ns)?;
    wait_running(&[WIRE_SERVER_IF])?;
    let link = match fwd_ns {
        None => None,
        Some(fwd) => Some(forwarder::start(
            Some(Arc::new(fwd)),
            FWD_SERVER_IF,
            FWD_CLIENT_IF,
            forwarder::LinkProps {
                delay: options.delay,
                loss: options.loss,
                seed: options.seed,
            },
        )?),
    };
    Ok(Wire { client_ns, link })
}

/// One end of a link: the namespace it lives in, its name and addresses.
pub(crate) struct End<'a> {
    /// Its namespace.
    pub ns: &'a OwnedFd,
    /// The interface's name.
    pub name: &'a str,
    /// Its IPv4 address (a /24).
    pub v4: std::net::Ipv4Addr,
    /// Its IPv6 address (a /64), when the link carries IPv6.
    pub v6: std::net::Ipv6Addr,
    /// Its MAC address.
    pub mac: String,
}

/// What a link is like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkProps {
    /// MTU of both ends.
    pub mtu: u32,
    /// A rate limit on both ends (each direction).
    pub rate: Option<Rate>,
    /// IPv6 addresses too (the MTU is at least 1280).
    pub ipv6: bool,
}

/// Makes one link: a veth pair from `a` to `b`, each end addressed and configured (MTU, offloads
/// off, the rate limit). A link with delay or loss is made by [`make_spliced_link`] instead,
/// packetpath's forwarder between its two ends. Leaves the process in `b`'s namespace.
pub(crate) fn make_link(a: &End<'_>, b: &End<'_>, props: LinkProps) -> Result<(), LabError> {
    join(a.ns)?;
    run(
        "ip",
        &[
            "link",
            "add",
            "name",
            a.name,
            "type",
            "veth",
            "peer",
            "name",
            b.name,
            "netns",
            &ns_path(b.ns),
        ],
    )?;
    configure_end(a, props)?;
    join(b.ns)?;
    configure_end(b, props)
}

/// Makes one link spliced through a forwarding namespace: `a`'s veth is joined to `fwd-cli` and
/// `b`'s to `fwd-srv` (the forwarding namespace's ends, as on the spliced wire, carrying no
/// addresses and not captured), and packetpath's [`forwarder`] carries the frames between them
/// with `conditions` (delay, seeded loss). Leaves the process in the forwarding namespace.
pub(crate) fn make_spliced_link(
    a: &End<'_>,
    b: &End<'_>,
    props: LinkProps,
    conditions: forwarder::LinkProps,
    hooks: forwarder::Hooks,
) -> Result<Forwarder, LabError> {
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Namespace(e.to_string()))?;
    // The middle of the cable says nothing: no IPv6 link-local address, so no neighbour or router
    // solicitations of its own go through the forwarder.
    sysctl_if_present("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1")?;
    sysctl_if_present("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1")?;
    let fwd = Arc::new(current_netns()?);
    for (end, fwd_if) in [(a, FWD_CLIENT_IF), (b, FWD_SERVER_IF)] {
        join(end.ns)?;
        run(
            "ip",
            &[
                "link",
                "add",
                "name",
                end.name,
                "type",
                "veth",
                "peer",
                "name",
                fwd_if,
                "netns",
                &ns_path(&fwd),
            ],
        )?;
        configure_end(end, props)?;
    }
    join(&fwd)?;
    let mtu = props.mtu.to_string();
    for dev in [FWD_CLIENT_IF, FWD_SERVER_IF] {
        run("ip", &["link", "set", dev, "mtu", &mtu, "up"])?;
        // Frames pass through as they came: no coalescing (GRO) into larger ones.
        offloads_off(dev, &["tx", "off", "rx", "off"])?;
    }
    for end in [a, b] {
        join(end.ns)?;
        // The first frames (ARP) must not meet a cable whose carrier is not up yet.
        wait_running(&[end.name])?;
    }
    join(&fwd)?;
    // `a` is the client's side: the forwarder's `a_to_b` is towards the server.
    forwarder::start_with_hooks(Some(fwd), FWD_CLIENT_IF, FWD_SERVER_IF, conditions, hooks)
}

/// Configures one end of a link in the current namespace.
fn configure_end(end: &End<'_>, props: LinkProps) -> Result<(), LabError> {
    let dev = end.name;
    run("ip", &["link", "set", dev, "address", &end.mac])?;
    run("ip", &["link", "set", dev, "mtu", &props.mtu.to_string()])?;
    run(
        "ip",
        &["addr", "add", &format!("{}/24", end.v4), "dev", dev],
    )?;
    if props.ipv6 {
        // `nodad`: usable at once, not after a second of duplicate address detection.
        run(
            "ip",
            &[
                "-6",
                "addr",
                "add",
                &format!("{}/64", end.v6),
                "dev",
                dev,
                "nodad",
            ],
        )?;
    }
    run("ip", &["link", "set", dev, "up"])?;
    // Checksums computed in software (they verify in the capture), and no segmentation or
    // receive offload anywhere on the path: every frame is MSS-sized, as on a real cable.
    offloads_off(dev, &["tx", "off", "rx", "off"])?;
    if let Some(rate) = props.rate {
        // The bucket must hold at least one whole frame, and a kernel tick's worth of bytes.
        let burst = (u64::from(props.mtu) + 14).max(rate.0 / 8 / 100).max(2000);
        run(
            "tc",
            &[
                "qdisc",
                "add",
                "dev",
                dev,
                "root",
                "tbf",
                "rate",
                &format!("{}bit", rate.0),
                "burst",
                &burst.to_string(),
                "latency",
                "400ms",
            ],
        )?;
    }
    Ok(())
}

/// Writes a sysctl of the current network namespace.
fn sysctl(path: &str, value: &str) -> Result<(), LabError> {
    std::fs::write(path, value).map_err(|e| {
        LabError::Namespace(format!(
            "writing {value} to {path} (turning forwarding on in a router): {e}"
        ))
    })
}

/// Makes a path of `routers` routers: a namespace for the client and each router (the server is
/// the process's own namespace), a link between each neighbour, forwarding on in the routers,
/// static routes everywhere. Returns every interface, client side first; the process stays in the
/// server's namespace.
/// Links with a delay or a loss are spliced through a forwarding namespace of their own
/// ([`make_spliced_link`]); their forwarders are returned with their link numbers.
#[allow(clippy::type_complexity)]
fn setup_routers(
    routers: usize,
    options: &LabOptions,
    attacker: Option<&Arc<super::attack::AttackSwitch>>,
) -> Result<(Vec<LabInterface>, Vec<(usize, Forwarder)>), LabError> {
    let server_ns = Arc::new(current_netns()?);
    run("ip", &["link", "set", "lo", "up"])?;
    no_dad()?;
    // Nodes along the path: the client, r1 … rN, the server.
    let mut nodes: Vec<Arc<OwnedFd>> = Vec::with_capacity(routers + 2);
    for _ in 0..=routers {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Namespace(e.to_string()))?;
        nodes.push(Arc::new(current_netns()?));
        run("ip", &["link", "set", "lo", "up"])?;
        no_dad()?;
    }
    nodes.push(server_ns.clone());
    let links = routers + 1;
    let ipv6 = (1..=links).all(|l| options.link_mtu(l) >= IPV6_MIN_MTU);
    let mut interfaces = Vec::with_capacity(2 * links);
    let mut forwarders = Vec::new();
    for link in 1..=links {
        let (left, right) = path::link_ends(link, routers);
        let (Some(a_ns), Some(b_ns)) = (nodes.get(link - 1), nodes.get(link)) else {
            return Err(LabError::Namespace(format!("no namespace for link {link}")));
        };
        let end = |ns, name, left| End {
            ns,
            name,
            v4: path::v4(link, left),
            v6: path::v6(link, left),
            mac: path::mac(link, left),
        };
        let props = LinkProps {
            mtu: options.link_mtu(link),
            rate: options.rate,
            ipv6,
        };
        let (a, b) = (end(a_ns, &left, true), end(b_ns, &right, false));
        if options.link_spliced(link) {
            let conditions = forwarder::LinkProps {
                delay: options.link_delay(link),
                loss: options.link_loss(link),
                seed: options.link_seed(link),
            };
            // The attacker sees the client's frames on their way to r1, and renumbers the
            // acknowledgments coming back after a replay or a drop.
            let attacker = attacker.filter(|_| link == super::ATTACKER_LINK);
            let hooks = forwarder::Hooks {
                a_to_b: attacker.map(|s| s.hook()),
                b_to_a: attacker.map(|s| s.return_hook()),
            };
            forwarders.push((link, make_spliced_link(&a, &b, props, conditions, hooks)?));
        } else {
            make_link(&a, &b, props)?;
        }
        for (name, ns) in [(left, a_ns), (right, b_ns)] {
            let netns = (!Arc::ptr_eq(ns, &server_ns)).then(|| ns.clone());
            interfaces.push(LabInterface { name, netns });
        }
    }
    for (node, ns) in nodes.iter().enumerate() {
        join(ns)?;
        route_node(node, routers, ipv6)?;
    }
    join(&server_ns)?;
    Ok((interfaces, forwarders))
}

/// No duplicate address detection on the interfaces made from now on in this namespace: their
/// link-local IPv6 addresses are usable at once, so the first IPv6 packet on a path does not wait
/// a second or two for neighbour discovery (the lab's addresses are its own: no duplicates).
fn no_dad() -> Result<(), LabError> {
    sysctl_if_present("/proc/sys/net/ipv6/conf/default/accept_dad", "0")?;
    sysctl_if_present("/proc/sys/net/ipv6/conf/all/accept_dad", "0")
}

/// Routes of node `node` (0 the client, `routers + 1` the server) on a path: the hosts send
/// everything to their router; a router sends each subnet towards its side of the path.
fn route_node(node: usize, routers: usize, ipv6: bool) -> Result<(), LabError> {
    let links = routers + 1;
    let mut v4: Vec<(String, String)> = Vec::new();
    let mut v6: Vec<(String, String)> = Vec::new();
    if node == 0 {
        v4.push(("default".into(), path::v4(1, false).to_string()));
        v6.push(("default".into(), path::v6(1, false).to_string()));
    } else if node == links {
        v4.push(("default".into(), path::v4(links, true).to_string()));
        v6.push(("default".into(), path::v6(links, true).to_string()));
    } else {
        sysctl("/proc/sys/net/ipv4/ip_forward", "1")?;
        // Every probe of ping and traceroute gets its answer: no rate limit on ICMP errors.
        sysctl_if_present("/proc/sys/net/ipv4/icmp_ratelimit", "0")?;
        sysctl_if_present("/proc/sys/net/ipv6/icmp/ratelimit", "0")?;
        if ipv6 {
            sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1")?;
        }
        // Router `node` sits between link `node` (towards the client) and `node + 1`.
        for link in 1..=links {
            let via = if link < node {
                Some(node)
            } else if link > node + 1 {
                Some(node + 1)
            } else {
                None
            };
            let Some(via_link) = via else { continue };
            let left = via_link == node;
            // Towards the client: the neighbour on link `node` is its left end.
            let (gw4, gw6) = (path::v4(via_link, left), path::v6(via_link, left));
            let net4 = format!("10.73.{link}.0/24");
            let net6 = format!("fd73:0:0:{link:x}::/64");
            v4.push((net4, gw4.to_string()));
            v6.push((net6, gw6.to_string()));
        }
    }
    for (to, via) in &v4 {
        run("ip", &["route", "add", to, "via", via])?;
    }
    if ipv6 {
        for (to, via) in &v6 {
            run("ip", &["-6", "route", "add", to, "via", via])?;
        }
    }
    Ok(())
}
