//! Outside tools as references: tcpdump and dumpcap capture, tshark reads.

/// Runs `tool` (tcpdump or dumpcap) on `lo` writing to `path` while one TCP connection on
/// 127.0.0.1 opens, carries a line each way and closes; the tool stops after 4 packets.
/// Panics if the tool does not start capturing, the exchange fails or the tool does not finish
/// in time: the harness has already checked that this machine can capture.
pub fn capture_exchange(tool: &str, path: &std::path::Path) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
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
        .unwrap_or_else(|e| panic!("cannot start {tool}: {e}"));
    let stderr = child.stderr.take().expect("a piped stderr");
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
        let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let (mut server, _) = listener.accept().expect("accepts");
        client.write_all(b"hello capture\n").expect("writes");
        let mut line = [0u8; 14];
        server.read_exact(&mut line).expect("reads");
        server.write_all(b"ok\n").expect("answers");
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
        panic!("{tool} did not capture the exchange within 15 s (ready: {ready})");
    }
}

/// `frame.time_epoch` of every frame of `path` as tshark prints it (seconds with 9 decimals).
pub fn tshark_times(path: &std::path::Path) -> Vec<String> {
    tshark_fields(path, &["frame.time_epoch"])
}

/// One line per frame of `tshark -r path -T fields -e F...` (tab-separated fields); panics if tshark fails.
pub fn tshark_fields(path: &std::path::Path, fields: &[&str]) -> Vec<String> {
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
