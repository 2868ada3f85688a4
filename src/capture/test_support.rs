//! Helpers shared by this module's tests.

/// Reports a test that cannot run here (missing tool or privilege). With `PACKETPATH_REQUIRE_ALL=1`
/// in the environment (CI on a fully equipped machine) it fails instead, so nothing is skipped silently.
pub(crate) fn skip(reason: &str) {
    if std::env::var("PACKETPATH_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("PACKETPATH_REQUIRE_ALL=1 but this test cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// True if `tool` can be started (it answers `--version`).
pub(crate) fn have_tool(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// An Ethernet + IPv4 + TCP frame as loopback carries it (zero MACs, no checksums computed).
/// `flags` is the TCP flags byte (0x02 SYN, 0x12 SYN-ACK, 0x18 PSH-ACK, ...).
pub(crate) fn tcp_frame(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12]; // destination MAC, source MAC
    f.extend_from_slice(&[0x08, 0x00]); // EtherType IPv4
    f.extend_from_slice(&[0x45, 0x00]); // version 4, IHL 5; DSCP/ECN
    f.extend_from_slice(&(40 + payload.len() as u16).to_be_bytes()); // total length
    f.extend_from_slice(&[0x12, 0x34, 0x40, 0x00]); // identification; flags DF, fragment offset 0
    f.extend_from_slice(&[64, 6, 0, 0]); // TTL 64, protocol TCP, header checksum (not computed)
    f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]); // source, destination address
    f.extend_from_slice(&sport.to_be_bytes()); // source port
    f.extend_from_slice(&dport.to_be_bytes()); // destination port
    f.extend_from_slice(&1000u32.to_be_bytes()); // sequence number
    f.extend_from_slice(&0u32.to_be_bytes()); // acknowledgment number
    f.extend_from_slice(&[0x50, flags]); // data offset 5 (20 bytes); flags
    f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]); // window; checksum; urgent pointer
    f.extend_from_slice(payload);
    f
}

/// Builds pcapng files block by block, in either byte order, for fixtures (draft-ietf-opsawg-pcapng).
pub(crate) struct Pcapng {
    pub bytes: Vec<u8>,
    big: bool,
    /// For each block: (start offset, end offset, whether it adds a frame).
    pub blocks: Vec<(usize, usize, bool)>,
}

impl Pcapng {
    /// A file opening with a Section Header Block in the given byte order.
    pub fn new(big_endian: bool) -> Self {
        let mut p = Pcapng {
            bytes: Vec::new(),
            big: big_endian,
            blocks: Vec::new(),
        };
        p.section(big_endian);
        p
    }

    pub fn u16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    pub fn u32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// An option: code, length, value, zero padding to 4 bytes.
    pub fn opt(&self, code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = self.u16(code).to_vec();
        o.extend_from_slice(&self.u16(value.len() as u16));
        o.extend_from_slice(value);
        o.resize(o.len().div_ceil(4) * 4, 0);
        o
    }

    /// A block: type, total length, body padded to 4, total length.
    pub fn block(&mut self, kind: u32, body: &[u8], is_frame: bool) {
        let start = self.bytes.len();
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        self.bytes.extend_from_slice(&self.u32(kind));
        self.bytes.extend_from_slice(&self.u32(total));
        self.bytes.extend_from_slice(body);
        self.bytes.resize(start + 8 + padded, 0);
        self.bytes.extend_from_slice(&self.u32(total));
        self.blocks.push((start, self.bytes.len(), is_frame));
    }

    /// Section Header Block: byte-order magic, version 1.0, section length -1 (unknown).
    pub fn section(&mut self, big_endian: bool) {
        self.big = big_endian;
        let mut body = self.u32(0x1A2B_3C4D).to_vec();
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0A0D_0D0A, &body, false);
    }

    /// Interface Description Block: link type, reserved, snap length, optional `if_tsresol`.
    pub fn interface(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>) {
        let mut body = self.u16(link).to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.u32(snaplen));
        if let Some(r) = tsresol {
            body.extend(self.opt(9, &[r]));
            body.extend(self.opt(0, &[]));
        }
        self.block(1, &body, false);
    }

    /// Enhanced Packet Block: interface, time (high, low), captured and original length, data, options.
    pub fn packet(
        &mut self,
        iface: u32,
        units: u64,
        data: &[u8],
        orig: u32,
        comment: Option<&str>,
    ) {
        let mut body = self.u32(iface).to_vec();
        body.extend_from_slice(&self.u32((units >> 32) as u32));
        body.extend_from_slice(&self.u32(units as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        if let Some(c) = comment {
            body.extend(self.opt(1, c.as_bytes()));
            body.extend(self.opt(0, &[]));
        }
        self.block(6, &body, true);
    }
}

/// Runs `tool` (tcpdump or dumpcap) on `lo` writing to `path` while one TCP connection on
/// 127.0.0.1 opens, carries a line each way and closes; the tool stops after 4 packets.
/// `None` if the tool could not capture here (no privileges) or did not finish in time.
pub(crate) fn capture_exchange(tool: &str, path: &std::path::Path) -> Option<()> {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
    let port = listener.local_addr().ok()?.port();
    let filter = format!("tcp port {port}");
    let mut cmd = Command::new(tool);
    if tool == "tcpdump" {
        cmd.args(["-i", "lo", "-U", "-c", "4", "-w"])
            .arg(path)
            .arg(&filter);
    } else {
        cmd.args(["-i", "lo", "-c", "4", "-f", &filter, "-w"])
            .arg(path);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stderr = child.stderr.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let ready = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            // tcpdump says "listening on" once its filter is active; dumpcap prints "Capturing on"
            // before opening the interface but "File:" after.
            Ok(line) if line.contains("listening on") || line.starts_with("File:") => break true,
            Ok(line) => eprintln!("{tool}: {line}"),
            Err(_) => break false,
        }
    };
    let finished = ready && {
        let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let (mut server, _) = listener.accept().ok()?;
        client.write_all(b"hello capture\n").ok()?;
        let mut line = [0u8; 14];
        server.read_exact(&mut line).ok()?;
        server.write_all(b"ok\n").ok()?;
        drop((client, server));
        loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => break false,
            }
        }
    };
    if !finished {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    Some(())
}

/// `frame.time_epoch` of every frame of `path` as tshark prints it (seconds with 9 decimals).
pub(crate) fn tshark_times(path: &std::path::Path) -> Vec<String> {
    tshark_fields(path, &["frame.time_epoch"])
}

/// One line per frame of `tshark -r path -T fields -e F...` (tab-separated fields); panics if tshark fails.
pub(crate) fn tshark_fields(path: &std::path::Path, fields: &[&str]) -> Vec<String> {
    let mut cmd = std::process::Command::new("tshark");
    cmd.arg("-r").arg(path).args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {stderr}");
    // tshark warns about running as root; anything else on stderr is a complaint about the file.
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains("Running as user"))
        .collect();
    assert!(complaints.is_empty(), "tshark complained: {complaints:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
