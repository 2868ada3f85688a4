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
    let Ok(exe) = std::env::current_exe() else {
        return (false, "cannot find this program's own path".into());
    };
    match std::process::Command::new(exe)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
    {
        Ok(out) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ),
        Err(e) => (false, e.to_string()),
    }
}

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
    findings
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
            super::LabError::Namespace(_) => false,
        },
        message: e.to_string(),
    })?;
    lab.open_captures(&[9]).map_err(|e| ProbeFailure {
        not_possible_here: matches!(e, crate::capture::CaptureError::NoPermission { .. }),
        message: e.to_string(),
    })?;
    Ok(lab.describe())
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
