//! The test runner of the whole-program tests (`harness = false`, with libtest-mimic): the same
//! output and options as `cargo test`'s own, but a test whose requirements this machine lacks is
//! reported as `[skipped] ... ignored` and counted in the summary line, and a list of the skipped
//! tests with the reason for each ends the run. Requirements are decided once per test binary,
//! the way `packetpath doctor` decides them (the lab is tried for real, not guessed from the user
//! id), so an ordinary user runs every lab test the kernel allows. With `PACKETPATH_REQUIRE_ALL=1`
//! (CI) a missing requirement fails the test instead.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

/// What a test needs from the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// A program on the PATH (or in /usr/sbin, /sbin for the network tools).
    Tool(&'static str),
    /// packetpath's lab (`--link loopback` and `--link wire`): what `doctor` checks.
    Lab,
    /// packetpath's lab with this `--link` (e.g. `routers:2`), tried as `doctor` tries it.
    LabLink(&'static str),
    /// Capture on the machine's own loopback (root or CAP_NET_RAW).
    HostCapture,
    /// Root itself (switching to another user, making namespaces with the system tools).
    Root,
    /// An IPv6 loopback address (::1).
    Ipv6Loopback,
    /// Too long or too heavy to run every time: always ignored (also under
    /// `PACKETPATH_REQUIRE_ALL=1`), run with `cargo test -- --ignored`.
    OnDemand(&'static str),
    /// A way to run packetpath as an ordinary user: the tests run as one, or as root with
    /// `setpriv` to become `nobody`.
    OrdinaryUser,
}

/// One test: its name, what it needs, and its body.
pub struct Test {
    pub name: &'static str,
    pub needs: Vec<Need>,
    pub body: fn(),
}

/// `test!(name)` or `test!(name, Need::Lab, Need::Tool("tshark"))`: a plain `fn name()`.
#[macro_export]
macro_rules! test {
    ($name:ident $(, $need:expr)* $(,)?) => {
        $crate::common::harness::Test {
            name: stringify!($name),
            needs: vec![$($need),*],
            body: $name,
        }
    };
}

/// Runs `body` (an async test) on a fresh multi-threaded runtime.
pub fn block_on<F: std::future::Future<Output = ()>>(body: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(body)
}

fn require_all() -> bool {
    std::env::var("PACKETPATH_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

fn tool_found(tool: &str) -> bool {
    let on_path = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    on_path
        || ["/usr/sbin", "/sbin"]
            .iter()
            .any(|d| std::path::Path::new(d).join(tool).exists())
}

/// Why `need` is not met here, or `None` when it is. Each is checked once per test binary.
fn missing(need: Need) -> Option<String> {
    static SEEN: OnceLock<Mutex<HashMap<Need, Option<String>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(known) = seen.lock().expect("not poisoned").get(&need) {
        return known.clone();
    }
    let answer = match need {
        Need::Tool(tool) => (!tool_found(tool)).then(|| format!("`{tool}` is not installed")),
        Need::Root => (!nix::unistd::geteuid().is_root()).then(|| "needs root".to_string()),
        // Only a missing permission is a reason to skip: any other error opening the capture is
        // a fault the test itself will show.
        Need::HostCapture => match packetpath::capture::LiveCapture::open("lo", &[9]) {
            Err(packetpath::capture::CaptureError::NoPermission { .. }) => {
                Some("capture on the machine's loopback needs root or CAP_NET_RAW".to_string())
            }
            _ => None,
        },
        Need::Lab => ["loopback", "wire"]
            .iter()
            .find_map(|link| lab_not_possible(link)),
        Need::LabLink(link) => lab_not_possible(link),
        Need::OnDemand(why) => Some(format!("on demand only: {why}")),
        Need::OrdinaryUser => (nix::unistd::geteuid().is_root() && !tool_found("setpriv"))
            .then(|| "running as root without `setpriv` to become an ordinary user".to_string()),
        Need::Ipv6Loopback => std::net::TcpListener::bind("[::1]:0")
            .err()
            .map(|e| format!("no IPv6 loopback address (::1): {e}")),
    };
    seen.lock()
        .expect("not poisoned")
        .insert(need, answer.clone());
    answer
}

/// Why the lab (`--link link`) is not possible here, tried for real as `doctor` does (in a child:
/// entering it changes a process for good). Only "not possible on this machine" (exit code 3:
/// the kernel's settings, a missing tool, no permission) is a reason to skip; any other failure
/// of the probe, or a probe that hangs, is packetpath's own fault and the tests run to show it.
fn lab_not_possible(link: &str) -> Option<String> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_packetpath"))
        .args(["lab-probe", "--link", link])
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                // No event to wait on for a child's exit in std: poll.
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    if status.code() != Some(i32::from(packetpath::lab::doctor::PROBE_NOT_POSSIBLE)) {
        return None;
    }
    let mut why = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut why);
    }
    Some(format!(
        "the lab (--link {link}) is not possible here: {}",
        why.trim()
    ))
}

/// Runs the tests: the `main` of each whole-program test file.
pub fn run(tests: Vec<Test>) -> ExitCode {
    let args = Arguments::from_args();
    let strict = require_all();
    let mut skipped = Vec::new();
    let trials = tests
        .into_iter()
        .map(|test| {
            // Listing tests (`--list`) must not try the lab.
            let reasons: Vec<String> = if args.list {
                Vec::new()
            } else {
                test.needs.iter().filter_map(|n| missing(*n)).collect()
            };
            let body = test.body;
            if reasons.is_empty() {
                return Trial::test(test.name, move || run_body(body));
            }
            let reason = reasons.join("; ");
            let on_demand = test.needs.iter().any(|n| matches!(n, Need::OnDemand(_)));
            if strict && !on_demand {
                return Trial::test(test.name, move || {
                    Err(Failed::from(format!(
                        "PACKETPATH_REQUIRE_ALL=1 but this test cannot run here: {reason}"
                    )))
                });
            }
            skipped.push((test.name, reason.clone()));
            Trial::test(test.name, move || run_body(body))
                .with_kind("skipped")
                .with_ignored_flag(true)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !skipped.is_empty() && !args.ignored && !args.include_ignored {
        println!(
            "SKIPPED {} test(s), shown above as [skipped] ... ignored, and why:",
            skipped.len()
        );
        for (name, reason) in &skipped {
            println!("  {name}: {reason}");
        }
        println!();
    }
    conclusion.exit_code()
}

fn run_body(body: fn()) -> Result<(), Failed> {
    // A panic fails the trial (libtest-mimic catches it and shows its message).
    body();
    Ok(())
}
