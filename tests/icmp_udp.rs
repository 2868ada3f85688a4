//! packetpath's ICMP, ICMPv6 and UDP dissection against tshark's, frame by frame, on real traffic.
//!
//! The test builds a small path of three network namespaces (made with `unshare --net`, joined
//! by veth pairs, as `ip netns` would but with nothing left behind):
//!
//! ```text
//!  client 10.9.0.2 / fd09::2 ── c0 ═══ r0 ── router ── r1 (MTU 1280) ═══ s0 ── server 10.9.1.2 / fd09:1::2
//! ```
//!
//! and makes, from the client (python3, raw and UDP sockets): three echo requests over IPv4 and
//! three over IPv6 (and their replies); a UDP exchange with an echo server; UDP to a closed port
//! (port unreachable); UDP without a checksum (SO_NO_CHECK: "0 = none" over IPv4); a 1400-byte
//! datagram with "don't fragment" (the router answers "fragmentation needed", next-hop MTU 1280;
//! over IPv6 "packet too big"); and a UDP probe with TTL 1 and one with hop limit 1 (the router
//! answers "time exceeded", quoting the probe, as traceroute reads it). IPv6 neighbour discovery
//! happens on the way. tcpdump captures the client's link; `packetpath inspect --format json` and
//! `tshark -o udp.check_checksum:TRUE` read the file, and every frame's ICMP type, code and MTU,
//! echo sequence number, neighbour discovery target, UDP ports, length and checksum verdict, ICMP
//! checksum verdicts, and the ports and TTL of the packet an error quotes must agree.
//!
//! Set `PACKETPATH_KEEP_CAPTURES=1` to keep the folder (capture, scripts) for a look.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// A process holding a fresh network namespace until it is dropped.
struct Holder {
    child: Child,
    _stdin: ChildStdin,
}

impl Holder {
    fn new() -> Holder {
        let mut child = Command::new("unshare")
            .args(["--net", "bash", "-c", "echo ready; read -r _ || true"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start unshare --net");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        assert_eq!(line.trim(), "ready", "unshare --net did not start");
        Holder {
            child,
            _stdin: stdin,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `nsenter` into this namespace, then `program`.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/proc/{}/ns/net", self.pid()))
            .arg("--")
            .arg(program);
        cmd
    }

    /// Runs a shell script inside, failing the test if it fails.
    fn sh(&self, script: &str) {
        let out = self
            .command("bash")
            .args([
                "-c",
                &format!("set -eu\nexport PATH=\"$PATH:/usr/sbin:/sbin\"\n{script}"),
            ])
            .output()
            .expect("run bash");
        assert!(
            out.status.success(),
            "{script}\nfailed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The three namespaces, wired and addressed.
struct Path3 {
    client: Holder,
    router: Holder,
    server: Holder,
}

fn build_path() -> Path3 {
    let (client, router, server) = (Holder::new(), Holder::new(), Holder::new());
    router.sh(&format!(
        "ip link add r0 type veth peer name c0 netns {}\n\
         ip link add r1 type veth peer name s0 netns {}",
        client.pid(),
        server.pid()
    ));
    // Transmit checksum offload off everywhere: every checksum on the wire is real. ICMP error
    // rate limits off in the router, so every probe is answered.
    let host = |ns: &Holder, dev: &str, mtu: u16, v4: &str, v6: &str, gw4: &str, gw6: &str| {
        ns.sh(&format!(
            "ip link set lo up\n\
             ip link set {dev} mtu {mtu} up\n\
             ethtool -K {dev} tx off >/dev/null\n\
             ip addr add {v4}/24 dev {dev}\n\
             ip -6 addr add {v6}/64 dev {dev} nodad\n\
             ip route add default via {gw4}\n\
             ip -6 route add default via {gw6}"
        ));
    };
    host(
        &client, "c0", 1500, "10.9.0.2", "fd09::2", "10.9.0.1", "fd09::1",
    );
    host(
        &server,
        "s0",
        1280,
        "10.9.1.2",
        "fd09:1::2",
        "10.9.1.1",
        "fd09:1::1",
    );
    server.sh("sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0");
    router.sh("ip link set lo up\n\
         ip link set r0 up\n\
         ip link set r1 mtu 1280 up\n\
         ethtool -K r0 tx off >/dev/null\n\
         ethtool -K r1 tx off >/dev/null\n\
         ip addr add 10.9.0.1/24 dev r0\n\
         ip addr add 10.9.1.1/24 dev r1\n\
         ip -6 addr add fd09::1/64 dev r0 nodad\n\
         ip -6 addr add fd09:1::1/64 dev r1 nodad\n\
         sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1\n\
         sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0");
    Path3 {
        client,
        router,
        server,
    }
}

/// The traffic, as python3 makes it. `server` answers each UDP datagram on port 7777 (IPv4 and
/// IPv6) with the same bytes; `client` makes everything described at the top of this file.
const TRAFFIC: &str = r#"
import select, socket, struct, sys, time

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def server():
    socks = []
    for family, addr in ((socket.AF_INET, "10.9.1.2"), (socket.AF_INET6, "fd09:1::2")):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((addr, 7777))
        socks.append(s)
    print("ready", flush=True)
    end = time.time() + 20
    while time.time() < end:
        ready, _, _ = select.select(socks, [], [], 0.5)
        for s in ready:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)

def wait_for(sock, n=1):
    sock.settimeout(2)
    for _ in range(n):
        try:
            sock.recv(4096)
        except OSError:
            pass

def ping4():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    for seq in (1, 2, 3):
        body = struct.pack("!HH", 0x4242, seq) + b"packetpath ping"
        header = struct.pack("!BBH", 8, 0, checksum(struct.pack("!BBH", 8, 0, 0) + body))
        s.sendto(header + body, ("10.9.1.2", 0))
        wait_for(s)

def ping6():
    # The kernel fills in an ICMPv6 checksum itself (RFC 3542 §3.1).
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    for seq in (1, 2, 3):
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x4243, seq) + b"packetpath ping6", ("fd09:1::2", 0))
        wait_for(s)

def udp(family, addr, port, data, options=()):
    s = socket.socket(family, socket.SOCK_DGRAM)
    for level, name, value in options:
        s.setsockopt(level, name, value)
    try:
        s.sendto(data, (addr, port))
    except OSError:
        pass
    wait_for(s)
    try:
        s.sendto(data, (addr, port))  # after an ICMP error, the kernel reports it here
    except OSError:
        pass
    s.close()

def client():
    v4, v6 = socket.AF_INET, socket.AF_INET6
    IP_MTU_DISCOVER, IP_PMTUDISC_DO, SO_NO_CHECK = 10, 2, 11
    IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO = 23, 2
    ping4()
    ping6()
    udp(v4, "10.9.1.2", 7777, b"hello over UDP")
    udp(v6, "fd09:1::2", 7777, b"hello over UDP/IPv6")
    udp(v4, "10.9.1.2", 7778, b"nobody listens")
    udp(v6, "fd09:1::2", 7778, b"nobody listens")
    udp(v4, "10.9.1.2", 7777, b"no checksum", [(socket.SOL_SOCKET, SO_NO_CHECK, 1)])
    udp(v4, "10.9.1.2", 7777, b"x" * 1372, [(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)])
    udp(v6, "fd09:1::2", 7777, b"x" * 1352, [(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)])
    udp(v4, "10.9.1.2", 33434, b"probe", [(socket.IPPROTO_IP, socket.IP_TTL, 1)])
    udp(v6, "fd09:1::2", 33435, b"probe", [(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)])
    time.sleep(0.3)
    print("done", flush=True)

{"server": server, "client": client}[sys.argv[1]]()
"#;

/// Starts a process and returns once it prints `line` on stdout (or fails the test).
fn start_until(mut cmd: Command, line: &str, stream_err: bool) -> Child {
    let mut child = if stream_err {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped())
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit())
    }
    .stdin(Stdio::null())
    .spawn()
    .expect("start a helper");
    let pipe: Box<dyn Read + Send> = if stream_err {
        Box::new(child.stderr.take().expect("stderr"))
    } else {
        Box::new(child.stdout.take().expect("stdout"))
    };
    let (tx, rx) = mpsc::channel();
    let wanted = line.to_string();
    std::thread::spawn(move || {
        let mut all = String::new();
        for l in BufReader::new(pipe).lines().map_while(Result::ok) {
            if l.contains(&wanted) {
                let _ = tx.send(Ok(()));
            }
            all.push_str(&l);
            all.push('\n');
        }
        let _ = tx.send(Err(all));
    });
    match rx.recv_timeout(WAIT) {
        Ok(Ok(())) => child,
        other => {
            let _ = child.kill();
            panic!("a helper did not say {line:?}: {other:?}");
        }
    }
}

/// tshark's fields, one row per frame.
const TSHARK_FIELDS: [&str; 18] = [
    "frame.number",
    "icmp.type",
    "icmp.code",
    "icmp.mtu",
    "icmpv6.type",
    "icmpv6.code",
    "icmpv6.mtu",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "udp.checksum.status",
    "icmp.checksum.status",
    "icmpv6.checksum.status",
    "icmp.seq",
    "icmpv6.echo.sequence_number",
    "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address",
    "ip.ttl",
];

fn tshark_rows(file: &Path) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"])
        .arg(file)
        .args(["-o", "udp.check_checksum:TRUE", "-T", "fields"])
        .args([
            "-E",
            "separator=\t",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ]);
    for f in TSHARK_FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn ours(file: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["inspect", "--format", "json"])
        .arg(file)
        .output()
        .expect("run packetpath inspect");
    assert!(
        out.status.success(),
        "packetpath inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// Wireshark's checksum status (`proto_checksum_enum_e`) in packetpath's words.
fn status_word(status: &str) -> &'static str {
    match status {
        "0" => "wrong",
        "1" => "verified",
        "2" => "not_checked",
        "3" => "none",
        _ => "?",
    }
}

/// The n-th of tshark's comma-separated occurrences ("" when absent).
fn nth(cell: &str, n: usize) -> String {
    cell.split(',').nth(n).unwrap_or("").to_string()
}

fn num(v: &Value) -> String {
    v.as_u64().map_or(String::new(), |n| n.to_string())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// Compares one frame; returns its mismatches as (field, ours, tshark).
fn compare_frame(o: &Value, t: &[String]) -> Vec<(String, String, String)> {
    let col = |name: &str| -> &str {
        let i = TSHARK_FIELDS
            .iter()
            .position(|f| *f == name)
            .expect("a field");
        t.get(i).map_or("", String::as_str)
    };
    let mut out = Vec::new();
    let mut check = |field: &str, ours: String, theirs: String| {
        if ours != theirs {
            out.push((field.to_string(), ours, theirs));
        }
    };
    let icmp = &o["icmp"];
    let v6 = icmp["version"].as_u64() == Some(6);
    let (ty, code, mtu, cks) = if v6 {
        (
            "icmpv6.type",
            "icmpv6.code",
            "icmpv6.mtu",
            "icmpv6.checksum.status",
        )
    } else {
        ("icmp.type", "icmp.code", "icmp.mtu", "icmp.checksum.status")
    };
    // The outer message is tshark's first occurrence (a quoted ICMP message would be the second).
    check("type", num(&icmp["type"]), nth(col(ty), 0));
    check("code", num(&icmp["code"]), nth(col(code), 0));
    check("mtu", num(&icmp["mtu"]), nth(col(mtu), 0));
    if !icmp.is_null() {
        check(
            "icmp checksum",
            text(&icmp["checksum"]),
            status_word(&nth(col(cks), 0)).to_string(),
        );
        let seq = if v6 {
            col("icmpv6.echo.sequence_number")
        } else {
            col("icmp.seq")
        };
        check("echo seq", num(&icmp["seq"]), nth(seq, 0));
        let target = [
            col("icmpv6.nd.ns.target_address"),
            col("icmpv6.nd.na.target_address"),
        ]
        .concat();
        check("nd target", text(&icmp["target"]), target);
    }
    // UDP: the frame's own datagram, or (in an ICMP error) the start of the quoted one, which
    // tshark dissects as UDP too.
    let udp = &o["udp"];
    let quoted = &icmp["quoted"];
    if !udp.is_null() {
        check(
            "udp.srcport",
            num(&udp["src_port"]),
            col("udp.srcport").into(),
        );
        check(
            "udp.dstport",
            num(&udp["dst_port"]),
            col("udp.dstport").into(),
        );
        check("udp.length", num(&udp["length"]), col("udp.length").into());
        check(
            "udp checksum",
            text(&udp["checksum"]),
            status_word(col("udp.checksum.status")).into(),
        );
    } else if quoted["protocol"].as_u64() == Some(17) {
        check(
            "quoted srcport",
            num(&quoted["src_port"]),
            col("udp.srcport").into(),
        );
        check(
            "quoted dstport",
            num(&quoted["dst_port"]),
            col("udp.dstport").into(),
        );
    } else {
        check("udp", String::new(), col("udp.srcport").into());
    }
    // IPv4 errors: tshark lists the outer TTL, then the quoted packet's.
    if !quoted.is_null() && !v6 {
        check("quoted ttl", num(&quoted["ttl"]), nth(col("ip.ttl"), 1));
    }
    out
}

fn icmp_and_udp_match_tshark_on_a_routed_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = build_path();
    let script = dir.path().join("traffic.py");
    std::fs::write(&script, TRAFFIC).expect("write the traffic script");
    let _server = ServerGuard(start_until(
        {
            let mut c = path.server.command("python3");
            c.arg(&script).arg("server");
            c
        },
        "ready",
        false,
    ));
    let file = dir.path().join("icmp-udp.pcap");
    let mut tcpdump = path.client.command("tcpdump");
    tcpdump
        .args(["-i", "c0", "-U", "-n", "-s", "0", "-w"])
        .arg(&file);
    let tcpdump = ServerGuard(start_until(tcpdump, "listening on", true));
    let out = path
        .client
        .command("python3")
        .arg(&script)
        .arg("client")
        .output()
        .expect("run the client");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("done"),
        "the client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stopped = Command::new("kill")
        .args(["-INT", &tcpdump.0.id().to_string()])
        .status();
    assert!(stopped.is_ok_and(|s| s.success()), "cannot stop tcpdump");
    let mut tcpdump = tcpdump;
    let _ = tcpdump.0.wait();
    drop(path.router);

    let ours = ours(&file);
    let theirs = tshark_rows(&file);
    assert_eq!(ours.len(), theirs.len(), "frames: packetpath vs tshark");
    let mut mismatches = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (o, t) in ours.iter().zip(&theirs) {
        for (field, a, b) in compare_frame(o, t) {
            mismatches.push(format!(
                "frame {}: {field}: ours {a:?}, tshark {b:?}",
                o["frame"]
            ));
        }
        let icmp = &o["icmp"];
        if !icmp.is_null() {
            seen.insert(format!(
                "icmpv{} {}/{}",
                icmp["version"], icmp["type"], icmp["code"]
            ));
        }
        if !o["udp"].is_null() {
            seen.insert(format!("udp {}", text(&o["udp"]["checksum"])));
        }
    }
    if std::env::var_os("PACKETPATH_KEEP_CAPTURES").is_some() {
        let kept = dir.keep();
        eprintln!("kept {}", kept.display());
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Every kind of message the traffic provokes was there (and so was compared).
    for wanted in [
        "icmpv4 8/0",
        "icmpv4 0/0",
        "icmpv4 3/3",
        "icmpv4 3/4",
        "icmpv4 11/0",
        "icmpv6 128/0",
        "icmpv6 129/0",
        "icmpv6 1/4",
        "icmpv6 2/0",
        "icmpv6 3/0",
        "icmpv6 135/0",
        "icmpv6 136/0",
        "udp verified",
        "udp none",
    ] {
        assert!(
            seen.contains(wanted),
            "no {wanted} in the capture: {seen:?}"
        );
    }
    eprintln!(
        "{} frames compared with tshark; kinds seen: {seen:?}",
        ours.len()
    );
}

/// Kills a helper process (by its own id) when the test ends, however it ends.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn main() -> std::process::ExitCode {
    use common::Need;
    let mut t = test!(icmp_and_udp_match_tshark_on_a_routed_path);
    t.needs.extend(
        [
            "tshark", "tcpdump", "unshare", "nsenter", "bash", "ip", "ethtool", "python3",
        ]
        .map(Need::Tool),
    );
    t.needs.push(Need::Root);
    common::harness::run(vec![t])
}
