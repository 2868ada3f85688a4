//! A lesson's actions: one line of text each, like a command typed in a terminal, run with real
//! sockets on the session the lesson observes.
//!
//! ```text
//! start server [tls|tls1.3|tls1.2|plain]
//! connect NAME [--mss BYTES] [--no-delay on|off] [--max-fragment BYTES] [--insecure]
//!              [--ca wrong|FILE] [--ipv6] [--expect-refusal]
//! send NAME "text" ["more text" ...] [--repeat N] [--no-wait]
//! wait NAME "text"
//! close NAME
//! pause MILLISECONDS
//! attack NAME flip|corrupt|replay "text"
//! attack NAME drop-record "text" "next text"
//! ping [--count N] [--size BYTES] [--df] [--ipv6]
//! traceroute [--max-hops N] [--queries N] [--probe udp|icmp] [--ipv6]
//! ```

use std::path::PathBuf;
use std::time::Duration;

use crate::chat::Transport;
use crate::session::{ClientKnobs, Session};

use super::state::{LessonState, Refusal};

/// Which CA a client trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaChoice {
    /// The lesson's own CA, which signed the server's certificate.
    Lesson,
    /// A freshly made CA that did not sign it (to see a refusal).
    Wrong,
    /// A CA certificate file.
    File(PathBuf),
}

/// How a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// TCP MSS to announce.
    pub mss: Option<u32>,
    /// TCP_NODELAY: `Some(true)` turns Nagle's algorithm off.
    pub no_delay: Option<bool>,
    /// Most application bytes per TLS record.
    pub max_fragment: Option<usize>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// The CA to trust.
    pub ca: CaChoice,
    /// Connect to ::1.
    pub ipv6: bool,
}

/// One action of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// (Re)start the chat server; a restart closes every client.
    StartServer {
        /// `None`: the lesson's transport.
        transport: Option<Transport>,
    },
    /// Connect a client.
    Connect {
        /// Its name.
        name: String,
        /// How.
        knobs: Knobs,
        /// The connection is expected to fail (the action fails if it succeeds).
        expect_refusal: bool,
    },
    /// Send lines, one application write each, back to back.
    Send {
        /// Who sends.
        name: String,
        /// The lines (without newline).
        lines: Vec<String>,
        /// Wait until the server has passed every line on (to the other clients, or back).
        wait: bool,
    },
    /// Wait until a client has received a line containing a text.
    Wait {
        /// Who.
        name: String,
        /// What.
        text: String,
    },
    /// Close a client politely.
    Close {
        /// Who.
        name: String,
    },
    /// Do nothing for a while.
    Pause {
        /// How long.
        ms: u64,
    },
    /// Echo requests from the lab's client host to its server host (`packetpath ping`).
    Ping(crate::probe::PingOptions),
    /// Probes with TTL 1, 2, 3, … to the server host (`packetpath traceroute`).
    Traceroute(crate::probe::TracerouteOptions),
    /// The lab's attacker is armed and a client sends a line through it
    /// (`attack NAME flip|corrupt|replay "text"`, `attack NAME drop-record "text" "next text"`);
    /// the action waits for the server's answer (to the copy too, after a replay; to the next
    /// line, after a drop) or the end of the connection, then closes the client.
    Attack {
        /// Who sends.
        name: String,
        /// What the attacker does to the line's segment.
        attack: crate::lab::attack::Attack,
        /// The line (without newline).
        text: String,
        /// `drop-record`: the line sent after the removed one.
        next: Option<String>,
    },
    /// A bulk upload from the client host to the server host (`packetpath transfer`), its
    /// connection named like a client's so that queries can read it.
    Transfer {
        /// The name queries use for its connection.
        name: String,
        /// Application bytes to send.
        bytes: u64,
        /// `None`: the lesson's transport.
        transport: Option<Transport>,
        /// The receiver reads slowly.
        slow_reader: bool,
        /// The sender's congestion control (`None`: reno; `Some("system")`: the default).
        congestion: Option<String>,
    },
}

/// Splits an action line into words; `"..."` keeps spaces and understands `\"`, `\\`, `\n`, `\t`.
fn words(line: &str) -> Result<Vec<(String, bool)>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("a quoted text has no closing \"".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(other) => s.push(other),
                        None => return Err("a lone \\ at the end".into()),
                    },
                    Some(other) => s.push(other),
                }
            }
            out.push((s, true));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push((s, false));
        }
    }
    Ok(out)
}

fn transport(word: &str) -> Result<Transport, String> {
    match word {
        "tls" | "tls1.3" => Ok(Transport::Tls13),
        "tls1.2" => Ok(Transport::Tls12),
        "plain" => Ok(Transport::Plain),
        other => Err(format!(
            "unknown transport `{other}`: use tls1.3 (or tls), tls1.2 or plain"
        )),
    }
}

/// Reads a transport name as lessons write it.
pub fn parse_transport(word: &str) -> Result<Transport, String> {
    transport(word)
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<&(String, bool)>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a number after it"))?;
    value
        .0
        .parse()
        .map_err(|_| format!("{flag} {}: not a number", value.0))
}

fn client_name(word: Option<&(String, bool)>, verb: &str) -> Result<String, String> {
    match word {
        Some((name, false))
            if !name.starts_with("--")
                && name.chars().all(|c| c.is_alphanumeric() || c == '_')
                && name.chars().next().is_some_and(char::is_alphabetic) =>
        {
            Ok(name.clone())
        }
        Some((name, _)) => Err(format!(
            "`{verb}` needs a client name made of letters, digits and _ (starting with a letter), not `{name}`"
        )),
        None => Err(format!("`{verb}` needs a client name")),
    }
}

/// Parses one action line.
pub fn parse(line: &str) -> Result<Action, String> {
    let w = words(line)?;
    let verb = w.first().map(|(s, _)| s.as_str()).unwrap_or_default();
    match verb {
        "start" => {
            if w.get(1).map(|(s, _)| s.as_str()) != Some("server") {
                return Err("did you mean `start server [tls1.3|tls1.2|plain]`?".into());
            }
            let transport = match w.get(2) {
                Some((t, _)) => Some(transport(t)?),
                None => None,
            };
            if w.len() > 3 {
                return Err("`start server` takes at most a transport".into());
            }
            Ok(Action::StartServer { transport })
        }
        "connect" => {
            let name = client_name(w.get(1), "connect")?;
            let mut knobs = Knobs {
                mss: None,
                no_delay: None,
                max_fragment: None,
                insecure: false,
                ca: CaChoice::Lesson,
                ipv6: false,
            };
            let mut expect_refusal = false;
            let mut i = 2;
            while let Some((flag, _)) = w.get(i) {
                let value = w.get(i + 1);
                i += 1;
                match flag.as_str() {
                    "--mss" => {
                        knobs.mss = Some(number(flag, value)?);
                        i += 1;
                    }
                    "--max-fragment" => {
                        let n: usize = number(flag, value)?;
                        if !(32..=16384).contains(&n) {
                            return Err(format!("--max-fragment {n}: a TLS record carries 32 to 16384 bytes"));
                        }
                        knobs.max_fragment = Some(n);
                        i += 1;
                    }
                    "--no-delay" => {
                        knobs.no_delay = Some(match value.map(|(s, _)| s.as_str()) {
                            Some("on") => true,
                            Some("off") => false,
                            _ => return Err("--no-delay needs `on` (Nagle off) or `off` (Nagle on)".into()),
                        });
                        i += 1;
                    }
                    "--ca" => {
                        knobs.ca = match value {
                            Some((v, _)) if v == "wrong" => CaChoice::Wrong,
                            Some((v, _)) => CaChoice::File(PathBuf::from(v)),
                            None => return Err("--ca needs `wrong` or a CA file".into()),
                        };
                        i += 1;
                    }
                    "--insecure" => knobs.insecure = true,
                    "--ipv6" => knobs.ipv6 = true,
                    "--expect-refusal" => expect_refusal = true,
                    other => {
                        return Err(format!(
                            "unknown option `{other}` for connect; options: --mss, --no-delay, --max-fragment, --insecure, --ca, --ipv6, --expect-refusal"
                        ))
                    }
                }
            }
            Ok(Action::Connect {
                name,
                knobs,
                expect_refusal,
            })
        }
        "send" => {
            let name = client_name(w.get(1), "send")?;
            let mut texts = Vec::new();
            let mut repeat = 1usize;
            let mut wait = true;
            let mut i = 2;
            while let Some((word, quoted)) = w.get(i) {
                i += 1;
                match (word.as_str(), quoted) {
                    (text, true) => texts.push(text.to_string()),
                    ("--repeat", false) => {
                        repeat = number("--repeat", w.get(i))?;
                        i += 1;
                    }
                    ("--no-wait", false) => wait = false,
                    (other, false) => {
                        return Err(format!("`{other}`: put the text to send in double quotes, e.g. send alice \"hello\""))
                    }
                }
            }
            if texts.is_empty() {
                return Err("`send` needs a text in double quotes".into());
            }
            let lines: Vec<String> = texts.iter().map(|t| t.repeat(repeat.max(1))).collect();
            if let Some(bad) = lines.iter().find(|l| l.contains('\n')) {
                return Err(format!("a chat line cannot contain a newline: {bad:?}"));
            }
            if let Some(long) = lines
                .iter()
                .find(|l| l.len() >= crate::chat::protocol::MAX_LINE)
            {
                return Err(format!(
                    "a chat line is at most {} bytes; this one has {}",
                    crate::chat::protocol::MAX_LINE - 1,
                    long.len()
                ));
            }
            Ok(Action::Send { name, lines, wait })
        }
        "wait" => {
            let name = client_name(w.get(1), "wait")?;
            match w.get(2) {
                Some((text, true)) if w.len() == 3 => Ok(Action::Wait {
                    name,
                    text: text.clone(),
                }),
                _ => Err(
                    "`wait NAME \"text\"`: wait until NAME receives a line containing the text"
                        .into(),
                ),
            }
        }
        "close" => {
            let name = client_name(w.get(1), "close")?;
            if w.len() > 2 {
                return Err("`close` takes only a client name".into());
            }
            Ok(Action::Close { name })
        }
        "pause" => {
            let ms = w
                .get(1)
                .and_then(|(s, _)| s.trim_end_matches("ms").parse::<u64>().ok())
                .filter(|ms| *ms <= 10_000)
                .ok_or("`pause MILLISECONDS` (at most 10000)")?;
            Ok(Action::Pause { ms })
        }
        "transfer" => {
            let name = client_name(w.get(1), "transfer")?;
            let size = w
                .get(2)
                .ok_or("`transfer NAME SIZE` (e.g. `transfer upload 2M`)")?;
            let bytes = crate::chat::bulk::parse_size(&size.0)?;
            if bytes > 50_000_000 {
                return Err("transfer: at most 50M in a lesson (a few MB show slow start)".into());
            }
            let (mut transport, mut slow_reader, mut congestion) = (None, false, None);
            let mut i = 3;
            while let Some((flag, _)) = w.get(i) {
                match flag.as_str() {
                    "--plain" => transport = Some(Transport::Plain),
                    "--tls1.2" => transport = Some(Transport::Tls12),
                    "--slow-reader" => slow_reader = true,
                    "--congestion" => {
                        let (alg, _) = w
                            .get(i + 1)
                            .ok_or("--congestion needs cubic, reno, bbr or system")?;
                        congestion = Some(alg.clone());
                        i += 1;
                    }
                    other => {
                        return Err(format!(
                            "transfer: unknown option `{other}`; use --plain, --tls1.2, --slow-reader, --congestion ALGORITHM"
                        ))
                    }
                }
                i += 1;
            }
            Ok(Action::Transfer {
                name,
                bytes,
                transport,
                slow_reader,
                congestion,
            })
        }
        "attack" => {
            use crate::lab::attack::Attack;
            const USAGE: &str = "`attack NAME flip|corrupt|replay \"text\"` or `attack NAME drop-record \"text\" \"next text\"`";
            let name = client_name(w.get(1), "attack")?;
            let attack = match w.get(2) {
                Some((kind, false)) => <Attack as clap::ValueEnum>::from_str(kind, false)
                    .map_err(|_| format!("{USAGE}: flip fixes the TCP checksum, corrupt leaves it wrong, replay sends the line twice, drop-record removes it"))?,
                _ => return Err(format!("{USAGE}: the attack comes after the name")),
            };
            let line = |i: usize| match w.get(i) {
                Some((text, true)) if !text.contains('\n') => Ok(text.clone()),
                _ => Err(format!("{USAGE}: each line in double quotes")),
            };
            if attack.is_mitm() {
                return Err("a man in the middle is not an action: set `man_in_the_middle = true` in [lab], then connect and send as usual".into());
            }
            let text = line(3)?;
            let next = match (attack, w.len()) {
                (Attack::DropRecord, 5) => Some(line(4)?),
                (Attack::DropRecord, _) => {
                    return Err(format!(
                        "{USAGE}: drop-record needs the line sent after the removed one, where the removal shows"
                    ))
                }
                (_, 4) => None,
                _ => return Err(format!("{USAGE}: one line in double quotes")),
            };
            Ok(Action::Attack {
                name,
                attack,
                text,
                next,
            })
        }
        "ping" => {
            let mut o = crate::probe::PingOptions::default();
            let mut i = 1;
            while let Some((flag, _)) = w.get(i) {
                match flag.as_str() {
                    "--count" => {
                        o.count = number("--count", w.get(i + 1))?;
                        if !(1..=100).contains(&o.count) {
                            return Err("ping --count: 1 to 100 echo requests".into());
                        }
                        i += 1;
                    }
                    "--size" => {
                        o.size = number("--size", w.get(i + 1))?;
                        if o.size > 65_000 {
                            return Err("ping --size: at most 65000 bytes of ICMP data".into());
                        }
                        i += 1;
                    }
                    "--df" => o.df = true,
                    "--ipv6" => o.ipv6 = true,
                    other => {
                        return Err(format!(
                            "ping: unknown option `{other}`; use --count N, --size BYTES, --df, --ipv6"
                        ))
                    }
                }
                i += 1;
            }
            Ok(Action::Ping(o))
        }
        "traceroute" => {
            let mut o = crate::probe::TracerouteOptions::default();
            let mut i = 1;
            while let Some((flag, _)) = w.get(i) {
                match flag.as_str() {
                    "--max-hops" => {
                        o.max_hops = number("--max-hops", w.get(i + 1))?;
                        if !(1..=64).contains(&o.max_hops) {
                            return Err("traceroute --max-hops: 1 to 64".into());
                        }
                        i += 1;
                    }
                    "--queries" => {
                        o.queries = number("--queries", w.get(i + 1))?;
                        if !(1..=5).contains(&o.queries) {
                            return Err("traceroute --queries: 1 to 5".into());
                        }
                        i += 1;
                    }
                    "--probe" => {
                        let kind = w.get(i + 1).map(|(k, _)| k.as_str()).unwrap_or_default();
                        o.probe = kind.parse()?;
                        i += 1;
                    }
                    "--ipv6" => o.ipv6 = true,
                    other => {
                        return Err(format!(
                            "traceroute: unknown option `{other}`; use --max-hops N, --queries N, --probe udp|icmp, --ipv6"
                        ))
                    }
                }
                i += 1;
            }
            Ok(Action::Traceroute(o))
        }
        "" => Err("an empty action".into()),
        other => Err(format!(
            "unknown action `{other}`; actions are: start server, connect, send, attack, wait, close, pause, ping, traceroute, transfer"
        )),
    }
}

/// Where actions find what they need besides the session.
#[derive(Debug, Clone)]
pub struct ActionEnv {
    /// The lesson's certificate folder.
    pub cert_dir: PathBuf,
    /// The lesson's transport, for `start server` without one.
    pub transport: Transport,
    /// A folder for the "wrong" CA, made on first use.
    pub scratch: PathBuf,
}

const WAIT: Duration = Duration::from_secs(15);

/// Waits until `who` has received at least `n` lines equal to `line`.
async fn wait_for_lines(
    session: &mut Session,
    who: &str,
    n: usize,
    pred: &dyn Fn(&str) -> bool,
    what: &str,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let have = session.received(who).iter().filter(|l| pred(l)).count();
        if have >= n {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "timed out after {} s waiting for {who} to receive {what}",
                WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Keeps the record of what each connected client received up to date.
pub fn snapshot_received(session: &mut Session, state: &mut LessonState) {
    for name in state.connected.clone() {
        let lines = session.received(&name);
        state.received.insert(name, lines);
    }
}

/// Polls the capture until no frame has arrived for `quiet` (at most 3 s), so that the frames
/// an action caused (handshakes, teardowns, delayed ACKs) are in the trace.
pub async fn quiet(session: &mut Session, quiet: Duration) {
    let start = tokio::time::Instant::now();
    let mut last = start;
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = tokio::time::Instant::now();
        if session.poll() > 0 {
            last = now;
        } else if now - last >= quiet || now - start >= Duration::from_secs(3) {
            return;
        }
    }
}

fn knobs(k: &Knobs, env: &ActionEnv) -> Result<ClientKnobs, String> {
    let ca = match &k.ca {
        CaChoice::Lesson => None,
        CaChoice::File(path) => Some(path.clone()),
        CaChoice::Wrong => {
            let (paths, _) = crate::chat::certs::ensure(&env.scratch.join("wrong-ca"), false)
                .map_err(|e| format!("cannot make the wrong CA: {e}"))?;
            Some(paths.ca_cert)
        }
    };
    Ok(ClientKnobs {
        mss: k.mss,
        no_delay: k.no_delay,
        max_fragment: k.max_fragment,
        insecure: k.insecure,
        ca,
        ipv6: k.ipv6,
    })
}

/// Runs one action. Returns a note to show (may be empty), or why it failed.
pub async fn perform(
    action: &Action,
    session: &mut Session,
    state: &mut LessonState,
    env: &ActionEnv,
) -> Result<String, String> {
    let result = match action {
        Action::StartServer { transport } => {
            snapshot_received(session, state);
            let t = transport.unwrap_or(env.transport);
            let addr = session.start_server(t).await.map_err(|e| e.to_string())?;
            state.connected.clear();
            Ok(format!("{} server listening on {addr}", t.name()))
        }
        Action::Connect {
            name,
            knobs: k,
            expect_refusal,
        } => {
            session.poll();
            let streams_before = session.trace().tcp().connections().len();
            let knobs = knobs(k, env)?;
            match (session.connect(name, knobs).await, expect_refusal) {
                (Ok(conn), false) => {
                    state.clients.insert(name.clone(), conn);
                    state.connected.push(name.clone());
                    Ok(format!("{name} connected from {}", conn.client))
                }
                (Ok(conn), true) => {
                    state.clients.insert(name.clone(), conn);
                    state.connected.push(name.clone());
                    Err(format!(
                        "{name} was expected to be refused, but it connected from {}",
                        conn.client
                    ))
                }
                (Err(e), true) => {
                    quiet(session, Duration::from_millis(150)).await;
                    let streams = session.trace().tcp().connections().len();
                    state.refused.insert(
                        name.clone(),
                        Refusal {
                            error: e.to_string(),
                            stream: (streams > streams_before).then_some(streams_before),
                        },
                    );
                    Ok(format!("{name} was refused, as expected: {e}"))
                }
                (Err(e), false) => Err(format!("{name} could not connect: {e}")),
            }
        }
        Action::Send { name, lines, wait } => {
            // The server relays to the clients of the same listening socket (with IPv6 on, the
            // ::1 listener is a room of its own).
            let server = state.clients.get(name).map(|c| c.server);
            let others: Vec<String> = state
                .connected
                .iter()
                .filter(|n| *n != name && state.clients.get(*n).map(|c| c.server) == server)
                .cloned()
                .collect();
            // What each receiver should see, and how many such lines it has already.
            let expected: Vec<(String, String)> = lines
                .iter()
                .flat_map(|line| {
                    if others.is_empty() {
                        vec![(name.clone(), format!("server: received {line:?}"))]
                    } else {
                        others
                            .iter()
                            .map(|o| (o.clone(), format!("{name}: {line}")))
                            .collect()
                    }
                })
                .collect();
            let mut targets: Vec<(String, String, usize)> = Vec::new();
            for (who, line) in &expected {
                if let Some(t) = targets.iter_mut().find(|t| &t.0 == who && &t.1 == line) {
                    t.2 += 1;
                } else {
                    let have = session.received(who).iter().filter(|l| *l == line).count();
                    targets.push((who.clone(), line.clone(), have + 1));
                }
            }
            for line in lines {
                session.send(name, line).await.map_err(|e| e.to_string())?;
            }
            if *wait {
                for (who, line, n) in &targets {
                    let shown = super::value::shorten(line, 40);
                    wait_for_lines(
                        session,
                        who,
                        *n,
                        &|l: &str| l == line,
                        &format!("\"{shown}\""),
                    )
                    .await?;
                }
            }
            Ok(String::new())
        }
        Action::Wait { name, text } => {
            let pred = |l: &str| l.contains(text.as_str());
            wait_for_lines(
                session,
                name,
                1,
                &pred,
                &format!("a line containing \"{text}\""),
            )
            .await?;
            Ok(String::new())
        }
        Action::Attack {
            name,
            attack,
            text,
            next,
        } => {
            let Some(switch) = session.lab().attacker().cloned() else {
                return Err("this lab has no attacker: set `attacker = true` in [lab]".into());
            };
            let reply = session
                .attack_line(name, *attack, text, next.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            let outcome = match reply {
                crate::session::Reply::Line(line) => {
                    snapshot_received(session, state);
                    session.close(name).await.map_err(|e| e.to_string())?;
                    format!("{name} got \"{line}\"")
                }
                crate::session::Reply::Closed { why, lines } => {
                    state.received.insert(name.clone(), lines);
                    format!(
                        "{name}'s connection ended{}",
                        why.map(|w| format!(": {w}")).unwrap_or_default()
                    )
                }
            };
            state.connected.retain(|n| n != name);
            let changed = switch
                .tamperings()
                .last()
                .map(|t| format!("the attacker {}; ", t.describe()))
                .unwrap_or_else(|| "the attacker found no segment to act on; ".into());
            Ok(format!("{changed}{outcome}"))
        }
        Action::Close { name } => {
            snapshot_received(session, state);
            session.close(name).await.map_err(|e| e.to_string())?;
            state.connected.retain(|n| n != name);
            Ok(String::new())
        }
        Action::Pause { ms } => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            Ok(String::new())
        }
        Action::Ping(_) | Action::Traceroute(_) => probe(action, session).await,
        Action::Transfer {
            name,
            bytes,
            transport,
            slow_reader,
            congestion,
        } => {
            let congestion = match congestion.as_deref() {
                None => Some("reno".to_string()),
                Some("system") => None,
                Some(other) => Some(other.to_string()),
            };
            let slow = slow_reader.then_some(crate::chat::bulk::SlowReader::DEFAULT);
            let started = std::time::Instant::now();
            let done = session
                .transfer(*bytes, transport.unwrap_or(env.transport), congestion, slow)
                .await
                .map_err(|e| e.to_string())?;
            state.clients.insert(name.clone(), done.conn);
            Ok(format!(
                "{name} sent {} bytes from {} to {} in {:.1} s ({})",
                done.sent,
                done.conn.client,
                done.conn.server,
                started.elapsed().as_secs_f64(),
                if done.congestion.is_empty() {
                    "congestion control unknown".to_string()
                } else {
                    done.congestion
                }
            ))
        }
    };
    snapshot_received(session, state);
    result
}

/// `ping` and `traceroute`: the probes run under the session's capture (started if no server
/// has started it), so their frames join the trace; the note is the report's lines.
async fn probe(action: &Action, session: &mut Session) -> Result<String, String> {
    session.start_capture().await.map_err(|e| e.to_string())?;
    let probing = match action {
        Action::Ping(o) => crate::probe::Probing::Ping(*o),
        Action::Traceroute(o) => crate::probe::Probing::Traceroute(*o),
        _ => return Ok(String::new()),
    };
    let lab = session.lab().clone();
    let report = tokio::task::spawn_blocking(move || probing.run(&lab).map(|r| (lab, r)))
        .await
        .map_err(|e| format!("the probing thread failed: {e}"))?;
    let (lab, report) = report.map_err(|e| e.to_string())?;
    // The answers' copies on the other links reach the session a moment later.
    session.linger(Duration::from_millis(100)).await;
    let mut note = report.title(&lab);
    for (line, _) in report.lines(&lab) {
        note.push('\n');
        note.push_str(&line);
    }
    note.push('\n');
    note.push_str(&report.summary());
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_action() {
        assert_eq!(
            parse("start server").unwrap(),
            Action::StartServer { transport: None }
        );
        assert_eq!(
            parse("start server tls1.2").unwrap(),
            Action::StartServer {
                transport: Some(Transport::Tls12)
            }
        );
        let Action::Connect {
            name,
            knobs,
            expect_refusal,
        } = parse(
            "connect bob --mss 536 --no-delay on --max-fragment 64 --ca wrong --expect-refusal",
        )
        .unwrap()
        else {
            panic!()
        };
        assert_eq!(name, "bob");
        assert_eq!(knobs.mss, Some(536));
        assert_eq!(knobs.no_delay, Some(true));
        assert_eq!(knobs.max_fragment, Some(64));
        assert_eq!(knobs.ca, CaChoice::Wrong);
        assert!(expect_refusal);
        assert_eq!(
            parse(r#"send alice "one" "two \"2\"" --repeat 2 --no-wait"#).unwrap(),
            Action::Send {
                name: "alice".into(),
                lines: vec!["oneone".into(), "two \"2\"two \"2\"".into()],
                wait: false
            }
        );
        assert_eq!(
            parse(r#"wait bob "alice:""#).unwrap(),
            Action::Wait {
                name: "bob".into(),
                text: "alice:".into()
            }
        );
        assert_eq!(
            parse("close bob").unwrap(),
            Action::Close { name: "bob".into() }
        );
        assert_eq!(parse("pause 200ms").unwrap(), Action::Pause { ms: 200 });
        assert_eq!(
            parse("ping --count 2 --size 1000 --df").unwrap(),
            Action::Ping(crate::probe::PingOptions {
                count: 2,
                size: 1000,
                df: true,
                ipv6: false
            })
        );
        assert_eq!(
            parse("traceroute --max-hops 5 --queries 1 --probe icmp").unwrap(),
            Action::Traceroute(crate::probe::TracerouteOptions {
                max_hops: 5,
                queries: 1,
                probe: crate::probe::ProbeKind::Icmp,
                ipv6: false
            })
        );
        assert!(parse("traceroute --probe tcp")
            .unwrap_err()
            .contains("udp or icmp"));
        assert!(parse("ping --count").unwrap_err().contains("number"));
        assert!(parse("ping --flood").unwrap_err().contains("--flood"));
        assert_eq!(
            parse("attack alice corrupt \"hello bob\""),
            Ok(Action::Attack {
                name: "alice".into(),
                attack: crate::lab::attack::Attack::Corrupt,
                text: "hello bob".into(),
                next: None,
            })
        );
        assert_eq!(
            parse("attack alice drop-record \"pay bob 10\" \"bye\""),
            Ok(Action::Attack {
                name: "alice".into(),
                attack: crate::lab::attack::Attack::DropRecord,
                text: "pay bob 10".into(),
                next: Some("bye".into()),
            })
        );
        assert!(parse("attack alice smash \"x\"")
            .unwrap_err()
            .contains("flip|corrupt|replay"));
        assert!(parse("attack alice flip hello")
            .unwrap_err()
            .contains("double quotes"));
        assert!(parse("attack alice drop-record \"x\"")
            .unwrap_err()
            .contains("the line sent after"));
        assert!(parse("attack alice replay \"x\" \"y\"")
            .unwrap_err()
            .contains("one line"));
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse("send alice hello")
            .unwrap_err()
            .contains("double quotes"));
        assert!(parse("connect alice --mms 5")
            .unwrap_err()
            .contains("--mms"));
        assert!(parse("connect alice --mss").unwrap_err().contains("number"));
        assert!(parse("start server tls1.4").unwrap_err().contains("tls1.4"));
        assert!(parse("jump").unwrap_err().contains("unknown action"));
        assert!(parse("connect \"al ice\"")
            .unwrap_err()
            .contains("client name"));
        assert!(parse("send alice \"x\" --repeat 70000")
            .unwrap_err()
            .contains("at most"));
        assert!(parse("connect alice --max-fragment 8").is_err());
        assert!(parse("send alice \"open").is_err());
    }

    #[test]
    fn a_transfer_names_its_connection() {
        assert_eq!(
            parse("transfer upload 2M --slow-reader --plain --congestion reno").unwrap(),
            Action::Transfer {
                name: "upload".into(),
                bytes: 2_000_000,
                transport: Some(Transport::Plain),
                slow_reader: true,
                congestion: Some("reno".into()),
            }
        );
        assert_eq!(
            parse("transfer up 64KiB").unwrap(),
            Action::Transfer {
                name: "up".into(),
                bytes: 65_536,
                transport: None,
                slow_reader: false,
                congestion: None,
            }
        );
        assert!(parse("transfer up").unwrap_err().contains("SIZE"));
        assert!(parse("transfer up lots")
            .unwrap_err()
            .contains("not a size"));
        assert!(parse("transfer up 100M").unwrap_err().contains("50M"));
        assert!(parse("transfer up 2M --fast")
            .unwrap_err()
            .contains("--fast"));
        assert!(parse("transfer up 2M --congestion").is_err());
    }
}
