//! `packetpath captures regenerate`: makes the sample captures in `captures/` again, each a short
//! conversation recorded by packetpath itself with its TLS secrets and application events inside.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::chat::Transport;
use crate::lab::Lab;
use crate::session::{ClientKnobs, Session, SessionOptions};

/// One sample capture: its file name, what it shows, and how it is made.
pub struct Sample {
    /// File name inside `captures/`.
    pub file: &'static str,
    /// What a student sees in it.
    pub shows: &'static str,
}

/// The samples, in the order they are made.
pub const SAMPLES: [Sample; 6] = [
    Sample { file: "tls13-chat.pcapng", shows: "alice and bob chat over TLS 1.3: handshake, encrypted lines, decryptable with the embedded secrets" },
    Sample { file: "tls12-chat.pcapng", shows: "the same chat over TLS 1.2: two round trips, the certificate in clear" },
    Sample { file: "plain-chat.pcapng", shows: "the same chat over plain TCP: every line readable on the wire" },
    Sample { file: "small-mss.pcapng", shows: "a 3,000-byte line from a client announcing MSS 536: one write, several 524-byte segments" },
    Sample { file: "ipv6-chat.pcapng", shows: "a chat over IPv6 (::1): 40-byte IPv6 headers with hop limits instead of TTLs" },
    Sample { file: "wrong-ca.pcapng", shows: "a client that trusts another CA refuses the server: the handshake ends in an alert" },
];

async fn chat(session: &mut Session, lines: &[(&str, &str)]) -> anyhow::Result<()> {
    for (from, text) in lines {
        session.send(from, text).await?;
        let to = if *from == "alice" { "bob" } else { "alice" };
        let expected = format!("{from}: {text}");
        session.wait_line(to, |l| l == expected).await?;
    }
    Ok(())
}

async fn record(
    sample: &Sample,
    cert_dir: &Path,
    lab: &Lab,
) -> anyhow::Result<(crate::journey::Trace, Vec<crate::frame::Frame>)> {
    let transport = match sample.file {
        "tls12-chat.pcapng" => Transport::Tls12,
        "plain-chat.pcapng" => Transport::Plain,
        _ => Transport::Tls13,
    };
    let mut session = Session::new(SessionOptions {
        cert_dir: cert_dir.to_path_buf(),
        lab: lab.clone(),
        ipv6: sample.file == "ipv6-chat.pcapng",
    })?;
    session.start_server(transport).await?;
    let knobs = ClientKnobs {
        ipv6: sample.file == "ipv6-chat.pcapng",
        ..ClientKnobs::default()
    };
    match sample.file {
        "small-mss.pcapng" => {
            session
                .connect(
                    "alice",
                    ClientKnobs {
                        mss: Some(536),
                        ..knobs
                    },
                )
                .await?;
            session.send("alice", &"x".repeat(3000)).await?;
            session
                .wait_line("alice", |l| l.starts_with("server: received"))
                .await?;
        }
        "wrong-ca.pcapng" => {
            let other = tempfile_dir()?;
            let (paths, _) = crate::chat::certs::ensure(&other, false)?;
            let refused = session
                .connect(
                    "eve",
                    ClientKnobs {
                        ca: Some(paths.ca_cert.clone()),
                        ..knobs
                    },
                )
                .await;
            anyhow::ensure!(
                refused.is_err(),
                "a client trusting another CA was not refused"
            );
            let _ = std::fs::remove_dir_all(&other);
        }
        _ => {
            session.connect("alice", knobs.clone()).await?;
            session.connect("bob", knobs).await?;
            chat(
                &mut session,
                &[
                    ("alice", "hi bob"),
                    ("bob", "hi alice! is this private?"),
                    ("alice", "only we (and whoever has the keys) can read it"),
                ],
            )
            .await?;
        }
    }
    session.settle().await?;
    let (trace, frames, _) = session.finish().await?;
    Ok((trace, frames))
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("packetpath-other-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Makes every sample in `dir`, reporting each one with `progress`.
pub async fn regenerate(
    dir: &Path,
    cert_dir: &Path,
    lab: &Lab,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for sample in &SAMPLES {
        let (trace, frames) = record(sample, cert_dir, lab)
            .await
            .with_context(|| format!("making {}", sample.file))?;
        let path = dir.join(sample.file);
        // The samples are made to be replaced: regenerating them is the point.
        let output = crate::capture::OutputPath::check(&path, true)?;
        super::observe::write_pcapng(&output, &frames, &trace)?;
        progress(&format!(
            "{} ({} frames): {}",
            path.display(),
            frames.len(),
            sample.shows
        ));
    }
    Ok(())
}
