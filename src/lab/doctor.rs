//! `packetpath doctor`: which capture methods and lab links work on this machine, and why.

use std::fmt::Write as _;

use super::setup::user_namespace_blockers;

/// One finding: what was checked, whether it works, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub what: String,
    /// Whether it works here.
    pub ok: bool,
    /// Something worth knowing rather than something that works or not (shown as `[--]`).
    pub note: bool,
    /// Why, and what the user can do.
    pub detail: String,
}

/// Runs `exe args` and reports success and its stderr.
fn probe(args: &[&str]) -> (bool, String) {
    let (ok, _, err) = probe_output(args);
    (ok, err)
}

/// Runs `exe args` and reports success, its stdout and its stderr.
fn probe_output(args: &[&str]) -> (bool, String, String) {
    let Ok(exe) = std::env::current_exe() else {
        return (
            false,
            String::new(),
            "cannot find this program's own path".into(),
        );
    };
    match std::process::Command::new(exe)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
    {
        Ok(out) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ),
        Err(e) => (false, String::new(), e.to_string()),
    }
}

/// What `lab-probe` prints about netem when asked to try it (with `--delay`).
const NETEM_PRESENT: &str = "netem: present";
const NETEM_ABSENT: &str = "netem: absent";

fn offload_state() -> Option<String> {
    let out = std::process::Command::new("/usr/sbin/ethtool")
        .args(["-k", "lo"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let tso = text
        .lines()
        .find(|l| l.trim_start().starts_with("tcp-segmentation-offload:"))?;
    Some(tso.trim().to_string())
}

/// Checks everything and returns the findings. Each lab link is tried for real in a child
/// process (`packetpath lab-probe`), since entering namespaces changes the process for good.
pub fn diagnose() -> Vec<Finding> {
    let mut findings = Vec::new();
    let root = nix::unistd::geteuid().is_root();
    let net_raw = crate::procfs::own_status_bit("CapEff", 13); // CAP_NET_RAW
    findings.push(Finding {
        what: "privileges".into(),
        ok: true,
        note: false,
        detail: format!(
            "running as {} (uid {}); CAP_NET_RAW {}",
            if root { "root" } else { "an ordinary user" },
            nix::unistd::geteuid(),
            if net_raw { "held" } else { "not held" }
        ),
    });
    let host = crate::capture::LiveCapture::open("lo", &[9]);
    findings.push(Finding {
        what: "capture on the machine's loopback (--host-loopback)".into(),
        ok: host.is_ok(),
        note: false,
        detail: match host {
            Ok(_) => "works".into(),
            Err(e) => e.to_string(),
        },
    });
    if let Some(state) = offload_state() {
        let on = state.ends_with(": on");
        findings.push(Finding {
            what: "segmentation offload on the machine's loopback".into(),
            ok: !on,
            note: true,
            detail: if on {
                format!(
                    "{state}: with --host-loopback, captures show segments larger than the MSS (up to 64 KB); the lab turns offload off, so demo, trace and lessons are not affected"
                )
            } else {
                format!("{state}: captures on the machine's loopback show segments of MSS size")
            },
        });
    }
    let blockers = user_namespace_blockers();
    if !root {
        findings.push(Finding {
            what: "user namespaces (how an ordinary user gets a lab)".into(),
            ok: blockers.is_empty(),
            note: false,
            detail: if blockers.is_empty() {
                "allowed by the kernel settings".into()
            } else {
                format!(
                    "{}: ask an administrator, run as root, or use `sudo setcap cap_net_raw+ep <binary>` with --host-loopback",
                    blockers.join("; ")
                )
            },
        });
    }
    for link in ["loopback", "wire", "routers:2"] {
        let (ok, err) = probe(&["lab-probe", "--link", link]);
        findings.push(Finding {
            what: format!("lab with --link {link}"),
            ok,
            note: false,
            detail: if ok && link.starts_with("routers") {
                "works: router namespaces, links, forwarding, routes and capture sockets all set up (any routers:N from 1 to 4)".into()
            } else if ok {
                "works: namespace, link settings and capture socket all set up".into()
            } else {
                err
            },
        });
    }
    // Delay and loss on the wire: the forwarding link, tried for real (it also says whether the
    // kernel has netem, which packetpath does not use).
    let (ok, out, err) =
        probe_output(&["lab-probe", "--link", "wire", "--delay", "1", "--loss", "1"]);
    findings.push(Finding {
        what: "delay and loss on the wire (--link wire --delay MS --loss PERCENT)".into(),
        ok,
        note: false,
        detail: if ok {
            "works: packetpath's own forwarding link carries the cable's frames, holding each for \
             the delay and dropping at random from a seeded generator (--seed)"
                .into()
        } else {
            err
        },
    });
    if ok {
        let netem = out.contains(NETEM_PRESENT);
        findings.push(Finding {
            what: "the kernel's netem qdisc".into(),
            ok: netem,
            note: true,
            detail: if netem {
                "present, and not used: the forwarding link behaves the same on every machine, its \
                 loss is reproducible, and it can show a frame altered in transit"
                    .into()
            } else if out.contains(NETEM_ABSENT) {
                "absent on this kernel; not needed: delay and loss come from packetpath's forwarding \
                 link"
                    .into()
            } else {
                "unknown (`tc` is not installed); not needed: delay and loss come from packetpath's \
                 forwarding link"
                    .into()
            },
        });
    }
    findings
}

/// Whether the kernel has netem, tried on the lab's loopback (called inside the lab).
fn netem_here() -> Option<bool> {
    let tc = ["/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let added = std::process::Command::new(tc)
        .args(["qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"])
        .output()
        .ok()?
        .status
        .success();
    if added {
        let _ = std::process::Command::new(tc)
            .args(["qdisc", "del", "dev", "lo", "root"])
            .output();
    }
    Some(added)
}

/// The findings as text for people.
pub fn report(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "[{}] {}\n      {}",
            match (f.note, f.ok) {
                (true, _) => "--",
                (false, true) => "ok",
                (false, false) => "no",
            },
            f.what,
            f.detail.replace('\n', "\n      ")
        );
    }
    out
}

/// What `packetpath lab-probe` does in its child process: enter the lab and open a capture there.
pub fn probe_here(options: super::LabOptions) -> Result<String, ProbeFailure> {
    let lab = super::enter(options).map_err(|e| ProbeFailure {
        // The kernel's settings, or a missing tool: this machine cannot have the lab. Anything
        // else is a fault of packetpath's own.
        not_possible_here: match &e {
            super::LabError::NoUserNamespaces { .. } => true,
            super::LabError::Command { reason, .. } => reason.contains("No such file"),
            super::LabError::Namespace(_)
            | super::LabError::Options(_)
            | super::LabError::Link(_) => false,
        },
        message: e.to_string(),
    })?;
    lab.open_captures(&[9]).map_err(|e| ProbeFailure {
        not_possible_here: matches!(e, crate::capture::CaptureError::NoPermission { .. }),
        message: e.to_string(),
    })?;
    let mut description = lab.describe();
    let path_failure = lab
        .path_link_stats()
        .into_iter()
        .find_map(|(link, s)| s.failure.map(|f| format!("link {link}: {f}")));
    if let Some(failure) = lab.link_stats().and_then(|s| s.failure).or(path_failure) {
        return Err(ProbeFailure {
            not_possible_here: false,
            message: format!("the forwarding link stopped: {failure}"),
        });
    }
    if !options.delay.is_zero() {
        match netem_here() {
            Some(true) => description.push_str(&format!("; {NETEM_PRESENT}")),
            Some(false) => description.push_str(&format!("; {NETEM_ABSENT}")),
            None => {}
        }
    }
    Ok(description)
}

/// Why `lab-probe` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    /// What went wrong, for people.
    pub message: String,
    /// True when this machine does not allow the lab (its settings, a missing tool, no
    /// permission), false for a fault of packetpath's own.
    pub not_possible_here: bool,
}

/// `lab-probe`'s exit code when the lab is not possible on this machine (1 is any other failure).
pub const PROBE_NOT_POSSIBLE: u8 = 3;
