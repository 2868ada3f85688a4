//! Paths of routers in the lab (`--link routers:N`): hop by hop, as root and as an ordinary user.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// A copy of the binary that `nobody` can run: the checkout may sit in a folder only root can
/// enter (CI clones anywhere).
fn binary_for_nobody() -> std::path::PathBuf {
    static COPY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("packetpath-routers-bin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.join("packetpath");
        std::fs::copy(env!("CARGO_BIN_EXE_packetpath"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    })
    .clone()
}

/// Runs packetpath in `dir`, as `nobody` (through setpriv) when `nobody` and the tests run as
/// root, else as the user running them.
fn run_as(dir: &std::path::Path, nobody: bool, args: &[&str]) -> (i32, String, String) {
    let mut cmd = if nobody && nix::unistd::geteuid().is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(binary_for_nobody());
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_packetpath"))
    };
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder anyone may write to (nobody creates its certificates there).
fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn frames_of(inspect_json: &str) -> Vec<Value> {
    inspect_json
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// `trace hi --link routers:2`, written to `r.pcapng` in `dir`; returns the trace's text and
/// the file's frames as `inspect --format json` gives them.
fn trace_two_routers(dir: &std::path::Path, nobody: bool) -> (String, Vec<Value>) {
    let (code, text, err) = run_as(
        dir,
        nobody,
        &["trace", "hi", "--link", "routers:2", "--write", "r.pcapng"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run_as(dir, nobody, &["inspect", "r.pcapng", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    (text, frames_of(&out))
}

fn check_ttl_across_two_routers(nobody: bool) {
    let dir = shared_dir();
    let (text, frames) = trace_two_routers(dir.path(), nobody);
    assert!(
        text.contains("through 2 routers: client → r1 → r2 → server"),
        "{text}"
    );
    let to_server: Vec<&Value> = frames
        .iter()
        .filter(|f| f["ip"]["dst"] == "10.73.3.2" && f.get("tcp").is_some())
        .collect();
    assert!(!to_server.is_empty(), "client → server segments");
    // On the server's link, the client's packets have crossed both routers.
    for f in to_server
        .iter()
        .filter(|f| f["link"]["dst"] == "02:73:00:00:03:02")
    {
        assert_eq!(f["ip"]["ttl"], 62, "frame {}", f["frame"]);
        assert_eq!(f["link"]["src"], "02:73:00:00:03:01", "r2-eth1's MAC");
        assert_eq!(f["tcp"]["checksum"], "verified");
        assert_eq!(f["ip"]["checksum"], "verified");
    }
}

fn ttl_drops_by_one_per_router_as_root() {
    check_ttl_across_two_routers(false);
}

fn ttl_drops_by_one_per_router_as_an_ordinary_user() {
    check_ttl_across_two_routers(true);
}

fn narrow_link_and_rate_are_set_up() {
    let dir = shared_dir();
    let text = "z".repeat(3000);
    let (code, out, err) = run_as(
        dir.path(),
        true,
        &[
            "trace",
            &text,
            "--link",
            "routers:1",
            "--mtu-on",
            "2:576",
            "--rate",
            "10mbit",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("MTU 1500/576 per link, 10mbit per link"),
        "{out}"
    );
    // The server's link is the narrow one: the MSS it announces is 576 − 40.
    assert!(out.contains("mss=536"), "{out}");
}

fn options_that_do_not_fit_say_what_to_do() {
    let dir = shared_dir();
    for (args, says) in [
        (
            &["trace", "hi", "--link", "routers:2", "--mtu-on", "4:576"][..],
            "has 3 links",
        ),
        (&["trace", "hi", "--link", "routers:5"][..], "routers:N"),
        (&["trace", "hi", "--rate", "1mbit"][..], "--link routers:N"),
        (
            &["trace", "hi", "--link", "routers:1", "--rate", "fast"][..],
            "1mbit",
        ),
    ] {
        let (code, _, err) = run_as(dir.path(), false, args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

fn doctor_says_whether_routers_work() {
    let dir = shared_dir();
    let (_, out, _) = run_as(dir.path(), true, &["doctor"]);
    assert!(out.contains("[ok] lab with --link routers:2"), "{out}");
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            ttl_drops_by_one_per_router_as_root,
            Need::Root,
            Need::LabLink("routers:2")
        ),
        test!(
            ttl_drops_by_one_per_router_as_an_ordinary_user,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
        test!(
            narrow_link_and_rate_are_set_up,
            Need::OrdinaryUser,
            Need::LabLink("routers:2"),
            Need::Tool("tc")
        ),
        test!(options_that_do_not_fit_say_what_to_do),
        test!(
            doctor_says_whether_routers_work,
            Need::OrdinaryUser,
            Need::LabLink("routers:2")
        ),
    ])
}
