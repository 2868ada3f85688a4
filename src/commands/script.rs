//! `packetpath demo` without a terminal (or with `--script`): the same conversation as the live
//! demo, alice and bob through the server, captured, and each message printed on its way down the
//! stack, so a pipe, a handout or CI gets the journeys instead of a screen.

use std::path::PathBuf;

use crate::chat::{AppEvent, ConnId, Side, Transport};
use crate::journey::Trace;
use crate::lab::Lab;
use crate::report;
use crate::session::{ClientKnobs, Session};

/// What the scripted demo needs to know.
#[derive(Debug, Clone)]
pub struct ScriptOptions {
    /// TLS 1.3, TLS 1.2 or plain TCP.
    pub transport: Transport,
    /// Where the certificates are.
    pub cert_dir: PathBuf,
    /// The lab the demo runs in (already entered).
    pub lab: Lab,
    /// Client knobs (the MSS).
    pub knobs: ClientKnobs,
    /// Save the session (frames, TLS secrets, application events) to this pcapng file.
    pub record: Option<crate::capture::OutputPath>,
}

/// The lines the two clients send, in order: (sender, receiver, text).
const LINES: [(&str, &str, &str); 2] = [
    ("alice", "bob", "hi bob, can you read this?"),
    ("bob", "alice", "yes! and an eavesdropper cannot."),
];

/// Runs the conversation and returns the text to print: what each client saw and, for each
/// message, its journey from the sender's write to the frame on the wire and from the server's
/// relay to the receiver.
pub async fn scripted_demo(options: &ScriptOptions) -> anyhow::Result<Vec<String>> {
    let mut session = Session::with_server(
        options.cert_dir.clone(),
        options.lab.clone(),
        options.transport,
    )
    .await?;
    let mut out = Vec::new();
    session.connect("alice", options.knobs.clone()).await?;
    let welcome = session
        .wait_line("alice", |l| l.starts_with("* welcome"))
        .await?;
    out.push(format!("alice joins and reads: {welcome}"));
    session.connect("bob", options.knobs.clone()).await?;
    let welcome = session
        .wait_line("bob", |l| l.starts_with("* welcome"))
        .await?;
    out.push(format!("bob joins and reads:   {welcome}"));
    let joined = session
        .wait_line("alice", |l| l.contains("bob joined"))
        .await?;
    out.push(format!("alice reads:           {joined}"));
    for (from, to, text) in LINES {
        session.send(from, text).await?;
        let relayed = format!("{from}: {text}");
        session.wait_line(to, |l| l == relayed).await?;
    }
    // Which connection is whose, before bob's is gone.
    let (alice, bob) = (session.client_conn("alice"), session.client_conn("bob"));
    session.close("bob").await?;
    let left = session
        .wait_line("alice", |l| l.contains("bob left"))
        .await?;
    session.settle().await?;
    let (trace, frames, stats) = session.finish().await?;

    let transport = options.transport.name();
    for (from, to, text) in LINES {
        let (from_conn, to_conn) = if from == "alice" {
            (alice, bob)
        } else {
            (bob, alice)
        };
        out.push(String::new());
        out.push(format!("{from} sends: {text}"));
        out.push(format!("  {to} reads: {from}: {text}"));
        let sent = format!("{text}\n");
        let relayed = format!("{from}: {text}\n");
        for (conn, side, bytes, title) in [
            (
                from_conn,
                Side::Client,
                &sent,
                format!("{from}'s write, {from} → server"),
            ),
            (
                to_conn,
                Side::Server,
                &relayed,
                format!("the server's relay, server → {to}"),
            ),
        ] {
            match write_of(&trace, conn, side, bytes.as_bytes()).and_then(|e| trace.journey(e)) {
                Some(j) => {
                    let text = report::journey_text(&trace, bytes, transport, &j, &title);
                    out.extend(text.lines().map(|l| format!("  {l}")));
                }
                None => out.push(format!("  {title}: not found in the capture")),
            }
        }
    }
    out.push(String::new());
    out.push(format!("bob leaves; alice reads: {left}"));
    out.push(format!(
        "link: {}; {} frames captured ({} dropped by the kernel), {} TLS secrets logged",
        options.lab.describe(),
        frames.len(),
        stats.dropped,
        trace.keys().len()
    ));
    match &options.record {
        Some(path) => {
            super::write_pcapng(path, &frames, &trace)?;
            out.push(format!(
                "saved to {} (open it with `packetpath open {}` or Wireshark)",
                path.path().display(),
                path.path().display()
            ));
        }
        None => out.push(
            "in a terminal, `packetpath demo` shows all of this live; `--record FILE` saves it \
             for Wireshark"
                .into(),
        ),
    }
    Ok(out)
}

/// The application write of `bytes` by `side` on connection `conn`.
fn write_of<'a>(
    trace: &'a Trace,
    conn: Option<ConnId>,
    side: Side,
    bytes: &[u8],
) -> Option<&'a AppEvent> {
    let conn = conn?;
    trace.app_events().iter().find(|e| {
        e.conn == conn
            && e.side == side
            && e.dir == crate::chat::Direction::Write
            && e.bytes == bytes
    })
}
