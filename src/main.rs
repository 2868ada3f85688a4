//! The packetpath command line: parses arguments and hands over to the library.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use packetpath::chat::certs::{CertStatus, DEFAULT_DIR};
use packetpath::chat::config::{TlsVersion, Trust};
use packetpath::chat::{ClientOptions, Transport};
use packetpath::commands;
use packetpath::lab::{LabOptions, LinkMode, LinkMtu, Rate};
use packetpath::report::handout::HandoutFormat;
use packetpath::report::{Format, JourneyFormat};

/// packetpath makes the layers of the internet visible: it runs a small TLS chat on this machine,
/// captures its real packets, and shows every message on its way down the stack and back up.
#[derive(Parser)]
#[command(name = "packetpath", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The terminal UI: a chat server and two clients (alice and bob) under live capture; type
    /// lines as alice or bob and watch each one's journey through every layer.
    Demo {
        #[command(flatten)]
        transport: TransportArgs,
        #[command(flatten)]
        lab: LabArgs,
        /// Folder with the certificates (created on first use).
        #[arg(long, default_value = DEFAULT_DIR)]
        certs: PathBuf,
        /// TCP maximum segment size alice and bob announce (try 536 with a long line; Linux
        /// accepts 88 to 65535).
        #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(88..=65535))]
        mss: Option<u32>,
        /// Save the whole session (frames, TLS secrets, application events) to this pcapng file:
        /// what the demo forgets (--keep) as it forgets it, the rest on exit (a new file,
        /// readable by you only: it holds the session keys).
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Replace the --record file if it exists.
        #[arg(long, requires = "record")]
        force: bool,
        /// Keep the last MINUTES on screen (frames, records, chat): what is older is forgotten,
        /// so a demo that runs for a class hour stays in flat memory (--record still saves the
        /// whole session, writing what is forgotten as it goes). 0.5 is half a minute.
        #[arg(long, value_name = "MINUTES", default_value_t = 15.0, value_parser = parse_keep_minutes)]
        keep: f64,
        /// Forget nothing: the timeline goes back to the first frame however long the demo runs
        /// (memory grows with it: about 5 kB per chat line).
        #[arg(long, conflicts_with = "keep")]
        keep_all: bool,
        /// No UI: run a set conversation, capture it, and print what each client saw and each
        /// message's way down the stack (also what happens when the output is not a terminal).
        #[arg(long)]
        script: bool,
        /// An attack in transit (needs --link routers:N; see `trace --help` for each): flip,
        /// corrupt, replay and drop-record act on every line typed, shown over TLS and plain TCP
        /// side by side (compare mode); mitm and mitm-wrong-name make r1 a man in the middle,
        /// refused by clients that check the certificate. With --script, the trace of one line
        /// under the attack (over TLS and plain TCP; for mitm, the chosen transport only). Only
        /// inside packetpath's lab.
        #[arg(
            long,
            value_enum,
            value_name = "flip|corrupt|replay|drop-record|mitm|mitm-wrong-name"
        )]
        attack: Option<packetpath::lab::attack::Attack>,
        /// With --attack mitm: alice and bob do not check the server's certificate, and so
        /// talk to the attacker, which reads the chat.
        #[arg(long)]
        insecure: bool,
        #[command(flatten)]
        look: LookArgs,
    },
    /// The terminal UI on a saved capture (pcap or pcapng): timeline, layer columns, hex; no
    /// privileges needed.
    Open {
        /// The capture file (from packetpath, tcpdump, dumpcap, tshark or Wireshark).
        file: PathBuf,
        /// An SSLKEYLOGFILE-format file with the TLS secrets, to decrypt the records.
        #[arg(long)]
        keylog: Option<PathBuf>,
        #[command(flatten)]
        look: LookArgs,
    },
    /// A handout of one frame or message of a saved capture, or of a transfer's time graphs: a
    /// page to project, print or share.
    ///
    /// HTML (the default) is one self-contained page (it fetches nothing): the encapsulation
    /// diagram, every header field with its value, meaning and bytes, the frame's bytes coloured
    /// by layer (point at a field to see its bytes), and for TLS each record's ciphertext beside
    /// its plaintext. It prints on A4 and Letter. SVG is the diagram alone; Markdown the diagram,
    /// fields and bytes as tables. Written to standard output, e.g.
    /// `packetpath export captures/tls13-chat.pcapng --message 2 > message.html`.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["frame", "message", "graphs"])))]
    Export {
        /// The capture file (pcap or pcapng).
        file: PathBuf,
        /// The frame, by its number (from 1, as in `inspect`, `open` and Wireshark).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        frame: Option<u32>,
        /// The Nth application write, in time order, in packetpath's ledger (from 1; captures saved by
        /// packetpath's --write and --record have one): the message and every record, segment,
        /// packet and frame that carried it.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        message: Option<u64>,
        /// The time graphs of the connection that carried the most bytes (a transfer saved with
        /// `transfer --write`): time-sequence, round-trip time, throughput and congestion window,
        /// as the terminal UI draws them (`t`). html: all four; svg: the time-sequence graph.
        #[arg(long)]
        graphs: bool,
        /// An SSLKEYLOGFILE-format file with the TLS secrets (packetpath's own captures hold
        /// theirs).
        #[arg(long)]
        keylog: Option<PathBuf>,
        /// html: a page; svg: the diagram; markdown: text with tables.
        #[arg(long, value_enum, default_value_t = HandoutFormat::Html)]
        format: HandoutFormat,
    },
    /// Run the chat server: every line a client sends reaches all the others. Ctrl-C (or SIGTERM,
    /// SIGHUP) stops it gracefully.
    Server {
        /// Address and port to listen on [default: 127.0.0.1:8443 with TLS, 127.0.0.1:8080 with --plain].
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[command(flatten)]
        transport: TransportArgs,
        /// Folder with the certificates (created on first use).
        #[arg(long, default_value = DEFAULT_DIR)]
        certs: PathBuf,
    },
    /// Join a chat server: type lines to send them; lines from others are printed. Ctrl-D leaves.
    Client {
        /// The server as HOST:PORT [default: localhost:8443 with TLS, localhost:8080 with --plain].
        #[arg(long)]
        connect: Option<String>,
        /// Your name in the chat (sent as a first line `/name NAME`); without it you are guest-N.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        transport: TransportArgs,
        /// The CA certificate to check the server against.
        #[arg(long, default_value = "certs/ca.pem")]
        ca: PathBuf,
        /// Do not check the server's certificate at all. Dangerous: see the warning it prints.
        #[arg(long)]
        insecure: bool,
        #[command(flatten)]
        knobs: KnobArgs,
    },
    /// Show every frame of a saved capture (pcap or pcapng), layer by layer; no privileges needed.
    Inspect {
        /// The capture file (from packetpath, tcpdump, dumpcap, tshark or Wireshark).
        file: PathBuf,
        /// An SSLKEYLOGFILE-format file with the TLS secrets, to decrypt the records.
        #[arg(long)]
        keylog: Option<PathBuf>,
        /// text for people, json for scripts (one object per frame).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Instead of the frames, each TCP connection's time series, as the graphs (`t` in
        /// `open`) draw them: every SampleRTT, EstimatedRTT/DevRTT/timeout after each timed
        /// segment (RFC 6298), bytes in flight, the advertised window, throughput, and the
        /// kernel's TCP_INFO samples saved by `transfer --write`. With --format json, one object
        /// per connection.
        #[arg(long)]
        series: bool,
    },
    /// Capture live TCP traffic and show every frame as it arrives (needs root or CAP_NET_RAW).
    Capture {
        /// Only segments to or from this TCP port (repeat for several) [default: all TCP].
        #[arg(long = "port")]
        ports: Vec<u16>,
        /// Network interface; lo is the loopback, where local programs talk to each other.
        #[arg(long, default_value = "lo")]
        interface: String,
        /// Also save the frames to this pcapng file (open it later with `packetpath inspect` or
        /// Wireshark). A new file, readable by you only: it holds the TLS secrets.
        #[arg(long)]
        write: Option<PathBuf>,
        /// Replace the --write file if it exists.
        #[arg(long, requires = "write")]
        force: bool,
        /// TLS secrets (SSLKEYLOGFILE format) to decrypt with and to embed in --write's file.
        #[arg(long)]
        keylog: Option<PathBuf>,
        /// Stop after this many frames.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<f64>,
        /// text for people, json for scripts (one object per frame).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Send one message through a fresh chat and show its journey through every layer.
    ///
    /// Starts a server and a client (alice), captures their packets, sends TEXT,
    /// waits for the server's answer, and shows how many bytes each layer adds on the way down:
    /// text → TLS record → TCP segment → IP packet → frame. Runs in packetpath's lab, a private
    /// network namespace with textbook segment sizes: no sudo needed (see `packetpath doctor`).
    Trace {
        /// The line to send.
        text: String,
        #[command(flatten)]
        transport: TransportArgs,
        #[command(flatten)]
        knobs: KnobArgs,
        /// text for people, json for scripts; html (a page to project or print), svg (the
        /// encapsulation diagram) or markdown: a handout of the message.
        #[arg(long, value_enum, default_value_t = JourneyFormat::Text)]
        format: JourneyFormat,
        #[command(flatten)]
        saved: SaveArgs,
        /// Before the chat, send one UDP datagram of BYTES from the client to the server with
        /// "don't fragment" clear, e.g. 4000 over --mtu-on 2:576 to see routers fragment it
        /// (needs --link wire or routers:N).
        #[arg(long, value_name = "BYTES")]
        datagram: Option<usize>,
        /// An attacker on the path's first link (client ⇄ r1; needs --link routers:N) acts on
        /// the line's segment. "flip" changes one byte and fixes the TCP checksum to match (over
        /// TLS the server finds the change: a bad_record_mac alert; over --plain the changed
        /// line is delivered); "corrupt" changes it and leaves the checksum wrong (the server's
        /// kernel drops the segment and the client sends it again); "replay" sends the line's
        /// segment a second time as new data (TLS: bad_record_mac on the copy; --plain: the
        /// server reads the line twice); "drop-record" removes it, and the client then sends
        /// "next line" (TLS: bad_record_mac on that one; --plain: the removal goes unnoticed).
        /// Both ends' byte numbers are rewritten to hide a replay or a removal from TCP. "mitm"
        /// makes r1 a man in the middle: it takes the client's connection in the server's name
        /// with a certificate of its own CA and makes its own connection to the server (a
        /// verifying client refuses it: unknown_ca; with --insecure, or over --plain, the
        /// attacker reads every line and changes the client's); "mitm-wrong-name" shows instead a
        /// certificate packetpath's CA signed for another name, attacker.example (refused for
        /// the name: bad_certificate). Only inside packetpath's lab, never on the host's network.
        #[arg(
            long,
            value_enum,
            value_name = "flip|corrupt|replay|drop-record|mitm|mitm-wrong-name"
        )]
        attack: Option<packetpath::lab::attack::Attack>,
        /// With --attack mitm: the client does not check the server's certificate, and so
        /// talks to the attacker (dangerous anywhere else: see `client --insecure`).
        #[arg(long)]
        insecure: bool,
        #[command(flatten)]
        lab: LabArgs,
    },
    /// Upload SIZE bytes from the lab's client host to its server host and measure it: time,
    /// throughput, round-trip times from the wire (SampleRTT with Karn's rule, EstimatedRTT,
    /// DevRTT, the timeout of RFC 6298) beside the kernel's (TCP_INFO: srtt, cwnd, ssthresh).
    ///
    /// Use a path with delay and a rate to see TCP's control loops, e.g.
    /// `packetpath transfer 5M --link routers:1 --delay 10 --rate 8mbit --write t.pcapng`
    /// (10 ms each way on each of the path's two links: 40 ms round trips): slow start, then
    /// the bottleneck's rate; `--slow-reader` fills the receive window;
    /// `--loss 1` adds retransmissions. In a terminal the UI then opens on the connection's time
    /// graphs (Tab: the next graph, Esc: the timeline); the summary is printed when you quit.
    Transfer {
        /// Bytes to send: 5000000, 5M, 200k, 4MiB.
        #[arg(value_parser = commands::parse_size)]
        size: u64,
        #[command(flatten)]
        transport: TransportArgs,
        /// The sender's congestion control: reno (the textbook's: slow start until a loss, then
        /// additive increase, halving on loss; RFC 5681), cubic (Linux's usual; its HyStart may
        /// end slow start before any loss; RFC 9438), bbr, or "system" for the machine's default.
        #[arg(long, default_value = "reno", value_name = "ALGORITHM")]
        congestion: String,
        /// The receiver reads 8 KiB every 20 ms into a 64 KiB buffer, so its advertised window
        /// fills and closes (flow control, zero window, window updates).
        #[arg(long)]
        slow_reader: bool,
        /// text for people, json for scripts (json never opens the UI).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Print the summary only, without opening the UI (as without a terminal).
        #[arg(long)]
        no_ui: bool,
        #[command(flatten)]
        look: LookArgs,
        #[command(flatten)]
        saved: SaveArgs,
        #[command(flatten)]
        lab: LabArgs,
    },
    /// Send echo requests from the lab's client host to its server host and show each answer,
    /// its round-trip time and its frames on every link (e.g. `--link routers:2`).
    ///
    /// `--size 1000 --df` over `--link routers:2 --mtu-on 2:576` shows router r1 answering
    /// "fragmentation needed (next-hop MTU 576)"; without --df r1 fragments the packet instead.
    /// Exits 1 when the server never replied.
    Ping {
        /// Echo requests to send.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
        count: u32,
        /// Bytes of ICMP data per request (as `ping -s`): the IP packet is 28 bytes more (48
        /// over IPv6).
        #[arg(long, default_value_t = 56, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(0..=65000))]
        size: u32,
        /// Set "don't fragment" (IPv4): a router facing a narrower link answers "fragmentation
        /// needed" instead of fragmenting.
        #[arg(long)]
        df: bool,
        /// To the server's IPv6 address (ICMPv6; a path whose links all carry 1280 bytes).
        #[arg(long)]
        ipv6: bool,
        #[command(flatten)]
        probe: ProbeArgs,
    },
    /// Find the routers between the lab's client and server: probes with TTL 1, 2, 3, … each
    /// answered by the hop where its TTL ran out ("time exceeded"), the last by the server.
    Traceroute {
        /// The largest TTL to try.
        #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=64))]
        max_hops: u8,
        /// Probes sent with each TTL (as traceroute's -q): each answer's round-trip time is
        /// shown, so the spread between them is visible.
        #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
        queries: u8,
        /// UDP datagrams to ports 33434 and up (the server answers "port unreachable") or ICMP
        /// echo requests (it answers "echo reply").
        #[arg(long, default_value = "udp", value_name = "udp|icmp")]
        probe: packetpath::probe::ProbeKind,
        /// To the server's IPv6 address.
        #[arg(long)]
        ipv6: bool,
        #[command(flatten)]
        args: ProbeArgs,
    },
    /// Check which capture methods and lab links work on this machine, and what to do if not.
    Doctor,
    /// The sample captures in captures/: `packetpath captures regenerate` makes them again.
    Captures {
        #[command(subcommand)]
        action: CapturesAction,
    },
    /// (internal) Enter a lab and open a capture in it; used by `doctor`.
    #[command(hide = true)]
    LabProbe {
        #[command(flatten)]
        lab: LabArgs,
    },
    /// (internal) Measure the forwarding link on its own: numbered frames through it, in a lab of
    /// their own; prints JSON. Used by the tests and the benchmark (BENCHMARKS.md).
    #[command(hide = true)]
    LinkCheck {
        /// Frames to send.
        #[arg(long, default_value_t = 10_000)]
        frames: u64,
        /// Bytes per frame, Ethernet header included.
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Frames per second (0: as fast as possible).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// One-way delay, milliseconds.
        #[arg(long, default_value_t = 0.0, value_parser = parse_delay_ms)]
        delay: f64,
        /// Loss, percent.
        #[arg(long, default_value_t = 0.0)]
        loss: f64,
        /// Seed of the loss decisions.
        #[arg(long, default_value_t = packetpath::lab::forwarder::DEFAULT_SEED)]
        seed: u64,
        /// A bare veth pair, no forwarder (the baseline).
        #[arg(long)]
        direct: bool,
    },
    /// Step-by-step lessons that check themselves against the live capture: list, run, check.
    Lesson {
        #[command(subcommand)]
        action: LessonAction,
    },
    /// Create the local CA and server certificate (kept if they exist; --force makes new ones).
    Certs {
        /// Folder to write ca.pem, ca.key, server.pem and server.key into.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Replace an existing set.
        #[arg(long)]
        force: bool,
    },
}

/// What trace and transfer share: where the capture is saved, and the certificates.
#[derive(Args, Clone)]
struct SaveArgs {
    /// Save the capture as pcapng, with the TLS secrets embedded (and a transfer's TCP_INFO
    /// samples): a new file, readable by you only.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Replace the --write file if it exists.
    #[arg(long, requires = "write")]
    force: bool,
    /// Folder with the certificates (created on first use).
    #[arg(long, default_value = DEFAULT_DIR)]
    certs: PathBuf,
}

/// What ping and traceroute share: output, the capture file, the lab.
#[derive(Args, Clone)]
struct ProbeArgs {
    /// text for people, json for scripts (one object, each probe with its answer and frames).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Save the capture of every link as pcapng (a new file, readable by you only).
    #[arg(long)]
    write: Option<PathBuf>,
    /// Replace the --write file if it exists.
    #[arg(long, requires = "write")]
    force: bool,
    #[command(flatten)]
    lab: LabArgs,
}

impl ProbeArgs {
    fn run(self, command: packetpath::probe::Probing) -> anyhow::Result<ExitCode> {
        let write = output_path(self.write, self.force)?;
        let lab = packetpath::lab::enter(self.lab.options()?)?;
        let stdout = std::io::stdout();
        let reached = runtime()?.block_on(commands::probe_command(
            lab,
            command,
            self.format,
            write.as_ref(),
            &mut stdout.lock(),
        ))?;
        let ping = matches!(command, packetpath::probe::Probing::Ping(_));
        Ok(if reached || !ping {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}

/// How the client's TCP and TLS cut a line into segments and records (the lessons' knobs).
#[derive(Args, Clone, Copy)]
struct KnobArgs {
    /// TCP maximum segment size announced in the SYN, in bytes: the most data one TCP segment may
    /// carry towards us. Small values (e.g. 536) split a long line into several segments. Linux
    /// accepts 88 (its minimum, TCP_MIN_MSS) to 65535.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(88..=65535))]
    mss: Option<u32>,
    /// Nagle's algorithm off ("on", TCP_NODELAY) or on ("off"): with Nagle, small writes made while
    /// data is unacknowledged are held back and coalesced into one segment.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    no_delay: Option<bool>,
    /// The most application bytes in one TLS record (32..16384): a long line then travels in
    /// several records.
    #[arg(long, value_name = "BYTES")]
    max_fragment: Option<usize>,
}

/// How the terminal UI looks.
#[derive(Args, Clone, Copy)]
struct LookArgs {
    /// Colours: "dark", "light" (dark text on white, for a projector) or "high-contrast" (7:1 or
    /// more). Default: light if the terminal's COLORFGBG says its background is light, else dark.
    /// NO_COLOR (set, not empty) turns colour off in every theme.
    #[arg(long, value_enum, value_name = "THEME")]
    theme: Option<packetpath::ui::ThemeName>,
    /// Layout for a classroom screen: no log pane, a larger timeline and lesson pane, and a banner
    /// saying in words which view is shown (eavesdropper's or endpoints') and whether the timeline
    /// is playing, paused or following the live capture.
    #[arg(long)]
    classroom: bool,
}

impl LookArgs {
    fn look(self) -> packetpath::ui::Look {
        packetpath::ui::Look {
            theme: self.theme,
            classroom: self.classroom,
        }
    }
}

/// Where the chat and the capture run.
#[derive(Args, Clone)]
struct LabArgs {
    /// The lab's link: "loopback" (its own loopback, textbook segment sizes), "wire" (two hosts
    /// on a virtual Ethernet cable: real MAC addresses, ARP, checksums that verify) or
    /// "routers:N" (client and server joined through N routers, 1 to 4: TTL hop by hop).
    #[arg(
        long,
        default_value = "loopback",
        value_name = "loopback|wire|routers:N"
    )]
    link: LinkMode,
    /// The MTU of the lab's link, or of every link of a path, in bytes (1500 = Ethernet).
    #[arg(long, default_value_t = 1500, value_name = "BYTES", value_parser = parse_mtu)]
    mtu: u32,
    /// One link of a path of routers with an MTU of its own (links numbered from 1 on the
    /// client's side), e.g. 2:576 for a narrow link in the middle of routers:2. Repeatable.
    #[arg(long, value_name = "LINK:BYTES")]
    mtu_on: Vec<LinkMtu>,
    /// Limit every link of a path of routers to this rate, each direction (`tc` token bucket),
    /// e.g. 1mbit, 500kbit.
    #[arg(long, value_name = "RATE")]
    rate: Option<Rate>,
    /// Drop this percentage of packets at random on the lab link, to see TCP recover. On the wire
    /// and on every link of a path packetpath's forwarding link drops frames in each direction
    /// (reproducibly: see --seed); on the loopback a netfilter rule drops arriving packets.
    #[arg(long, default_value_t = 0.0, value_name = "PERCENT")]
    loss: f64,
    /// Hold every frame this many milliseconds on the wire, or on every link of a path of
    /// routers, each way (needs --link wire or routers:N): the round-trip time grows by twice
    /// this per link.
    #[arg(long, default_value_t = 0.0, value_name = "MS", value_parser = parse_delay_ms)]
    delay: f64,
    /// One link of a path of routers with a one-way delay of its own, in milliseconds (links
    /// numbered from 1 on the client's side), e.g. 2:20. Repeatable; overrides --delay there.
    #[arg(long, value_name = "LINK:MS")]
    delay_on: Vec<packetpath::lab::LinkDelay>,
    /// One link of a path of routers with a loss of its own, in percent, e.g. 2:5. Repeatable;
    /// overrides --loss there.
    #[arg(long, value_name = "LINK:PERCENT")]
    loss_on: Vec<packetpath::lab::LinkLoss>,
    /// Seed of the random loss on the wire: the same seed loses the same frames (counted in order
    /// on the link, each direction on its own).
    #[arg(long, default_value_t = packetpath::lab::forwarder::DEFAULT_SEED, value_name = "N")]
    seed: u64,
    /// Use the machine's own loopback as it is, no lab (needs root or CAP_NET_RAW to capture).
    #[arg(long)]
    host_loopback: bool,
}

fn parse_mtu(s: &str) -> Result<u32, String> {
    let mtu = s
        .parse::<u32>()
        .map_err(|_| format!("`{s}`: an MTU in bytes, e.g. 1500"))?;
    packetpath::lab::check_mtu(mtu)
}

impl LabArgs {
    fn options(&self) -> anyhow::Result<LabOptions> {
        if self.rate.is_some() && !matches!(self.link, LinkMode::Routers(_)) {
            anyhow::bail!(
                "--rate limits the links of a path of routers: add --link routers:N (N from 1 to 4)"
            );
        }
        LabOptions {
            link: self.link,
            mtu: self.mtu,
            loss: self.loss,
            delay: std::time::Duration::from_secs_f64(self.delay / 1000.0),
            seed: self.seed,
            host_loopback: self.host_loopback,
            rate: self.rate,
            ..LabOptions::default()
        }
        .with_link_mtus(&self.mtu_on)
        .and_then(|o| o.with_link_conditions(&self.delay_on, &self.loss_on))
        .map_err(anyhow::Error::msg)
    }
}

/// `--delay`: milliseconds from 0 to 10,000 (fractions allowed).
fn parse_keep_minutes(text: &str) -> Result<f64, String> {
    let minutes: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of minutes"))?;
    if minutes > 0.0 && minutes <= 10_000.0 {
        Ok(minutes)
    } else {
        Err(format!(
            "{text} minutes: use more than 0 and at most 10000 (--keep-all forgets nothing)"
        ))
    }
}

fn parse_delay_ms(text: &str) -> Result<f64, String> {
    let ms: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of milliseconds"))?;
    if (0.0..=10_000.0).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!("{text} ms: use 0 to 10000 milliseconds"))
    }
}

#[derive(Subcommand)]
enum LessonAction {
    /// List the lessons (the built-in ones, or those in --dir) with their lab and goal; files in
    /// --dir that do not read are named after the list, with what is wrong (exit code 1).
    List {
        /// A folder of lesson files (.toml) to list instead of the built-in lessons.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// A lesson as a handout to print or share: its goal, lab and steps, with the commands each
    /// step runs, what is checked on the student's capture and every question (with a box to
    /// answer in). `--teacher` makes the teacher's page: the same with, for every question, how
    /// the student's capture answers it and the explanation, and what every check measures.
    /// Written to standard output, e.g. `packetpath lesson export tcp-handshake > handshake.html`.
    Export {
        /// The lesson: a name from `packetpath lesson list`, its number, or a .toml file.
        name: String,
        /// The teacher's page, with the answers.
        #[arg(long)]
        teacher: bool,
        /// html: one self-contained page (prints on A4 and Letter); markdown: text.
        #[arg(long, value_enum, default_value_t = LessonExportFormat::Html)]
        format: LessonExportFormat,
        /// A folder of lesson files (.toml) to look in instead of the built-in lessons.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Step through a lesson in the terminal UI: its text, the focused field selected in the
    /// layer columns and bytes, each check ✓/✗, and questions answered from your own capture
    /// (n next, p back, i answer, q quit; --plain: line by line).
    Run {
        /// The lesson: a name from `packetpath lesson list`, its number, or a .toml file.
        name: String,
        /// Line by line instead of the terminal UI (automatic when stdin or stdout is not a
        /// terminal).
        #[arg(long)]
        plain: bool,
        /// Save your run as one file to hand in: the capture with its keys, every answer you
        /// typed with its time, and your score (a teacher checks it with `lesson grade`).
        #[arg(long, value_name = "FILE.pcapng")]
        record: Option<PathBuf>,
        /// Your name in the record (default: your login name).
        #[arg(long, requires = "record")]
        student: Option<String>,
        /// Replace the --record file if it exists.
        #[arg(long, requires = "record")]
        force: bool,
        #[command(flatten)]
        opts: LessonArgs,
        #[command(flatten)]
        look: LookArgs,
    },
    /// For a teacher: grade students' records (from `lesson run --record`). Each answer is judged
    /// again against the record's own capture; a record whose answers do not follow from its
    /// capture (edited, or the capture swapped) is flagged. Exit code 1 if any is.
    Grade {
        /// The record files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// text: a table, one row per student and a column per question; csv: one row per
        /// student and question; json: everything.
        #[arg(long, value_enum, default_value_t = GradeFormat::Text)]
        format: GradeFormat,
    },
    /// Run lessons headless with real sockets and live capture, print each step's result, and
    /// exit 1 naming the failing step and the observed value.
    Check {
        /// The lessons: names from `packetpath lesson list`, numbers, or .toml files.
        names: Vec<String>,
        /// Check every lesson.
        #[arg(long, conflicts_with = "names")]
        all: bool,
        /// Check each lesson this many times, each run with fresh sockets and a fresh capture, to
        /// catch a check that holds only on some runs (which FIN goes first, timing).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeat: u32,
        /// text: each step's results for people; json: one object per run (every step, check
        /// and answer), then with several runs a summary object, one per line.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        opts: LessonArgs,
    },
}

/// What `lesson export` writes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LessonExportFormat {
    /// One self-contained page.
    Html,
    /// Markdown.
    Markdown,
}

/// How `lesson grade` prints.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GradeFormat {
    /// A table for people.
    Text,
    /// One row per student and question.
    Csv,
    /// Every record with every question.
    Json,
}

/// Where lessons come from and run.
#[derive(Args, Clone)]
struct LessonArgs {
    /// A folder of lesson files (.toml) to use instead of the built-in lessons.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Folder with the certificates (created on first use).
    #[arg(long, default_value = DEFAULT_DIR)]
    certs: PathBuf,
    /// Use the machine's own loopback instead of the lesson's lab (needs root or CAP_NET_RAW;
    /// segments may then exceed the MSS, so some checks can fail).
    #[arg(long)]
    host_loopback: bool,
}

impl LessonArgs {
    /// The same options as arguments, for a child `lesson check`.
    fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(dir) = &self.dir {
            args.extend(["--dir".to_string(), dir.display().to_string()]);
        }
        args.extend(["--certs".to_string(), self.certs.display().to_string()]);
        if self.host_loopback {
            args.push("--host-loopback".into());
        }
        args
    }
}

#[derive(Subcommand)]
enum CapturesAction {
    /// Record every sample capture again (needs the lab: works without sudo where user namespaces do).
    Regenerate {
        /// Where to write them.
        #[arg(long, default_value = "captures")]
        dir: PathBuf,
        /// Folder with the certificates (created on first use).
        #[arg(long, default_value = DEFAULT_DIR)]
        certs: PathBuf,
        #[command(flatten)]
        lab: LabArgs,
    },
}

#[derive(Args, Clone, Copy)]
struct TransportArgs {
    /// Plain TCP instead of TLS: anyone capturing packets can read the text.
    #[arg(long)]
    plain: bool,
    /// TLS version: 1.3 (one round trip, most of the handshake encrypted) or 1.2 (two round trips,
    /// certificate in clear).
    #[arg(long, default_value = "1.3", value_name = "1.3|1.2")]
    tls_version: TlsVersion,
}

impl TransportArgs {
    fn transport(self) -> Transport {
        Transport::from_flags(self.plain, self.tls_version)
    }
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("{other:?}: use on or off")),
    }
}

fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colours only for a terminal, and never with NO_COLOR (https://no-color.org): a log
    // redirected to a file or piped into a handout stays plain text.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The terminal UI shows the log in its own pane: a log line on stderr would garble the screen.
    let ui = (matches!(
        cli.command,
        Command::Demo { script: false, .. }
            | Command::Open { .. }
            | Command::Transfer {
                format: Format::Text,
                no_ui: false,
                ..
            }
    ) && std::io::stdout().is_terminal())
        || lesson_in_ui(&cli.command);
    // The UI's log collector starts a thread, and the lab can only be entered (as an ordinary
    // user) while the process has one: UI commands install it after entering the lab
    // (`ui_logging`); their log then goes to the log pane.
    if !ui {
        // Long-running programs narrate on stderr (who connected, what is captured, the drop
        // count); the other commands print their output and speak only to warn.
        let narrates = matches!(
            cli.command,
            Command::Server { .. } | Command::Client { .. } | Command::Capture { .. }
        );
        init_logging(if narrates { "info" } else { "warn" });
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Checks an output file named on the command line before the work starts: a capture must not be
/// lost at the end to a name that was taken.
fn output_path(
    path: Option<PathBuf>,
    force: bool,
) -> anyhow::Result<Option<packetpath::capture::OutputPath>> {
    Ok(path
        .map(|p| packetpath::capture::OutputPath::check(&p, force))
        .transpose()?)
}

/// Puts `--attack`'s attacker in the lab: on link 1, or (mitm) on r1. Refuses an attack without a
/// path of routers, and `--insecure` without a man in the middle to see.
fn with_attack(
    lab: &mut packetpath::lab::LabOptions,
    attack: Option<packetpath::lab::attack::Attack>,
    insecure: bool,
) -> anyhow::Result<()> {
    let mitm = attack.is_some_and(packetpath::lab::attack::Attack::is_mitm);
    if attack.is_some() && !matches!(lab.link, LinkMode::Routers(_)) {
        anyhow::bail!(
            "--attack puts an attacker on a path of routers inside the lab: add --link routers:N (N from 1 to 4)"
        );
    }
    if insecure && !mitm {
        anyhow::bail!(
            "--insecure is for seeing a man in the middle read the chat: add --attack mitm --link routers:N"
        );
    }
    lab.attacker = attack.is_some() && !mitm;
    lab.mitm = mitm;
    lab.mitm_wrong_name = attack == Some(packetpath::lab::attack::Attack::MitmWrongName);
    Ok(())
}

/// Sends the log to the UI's log pane. Called by UI commands after the lab is entered.
fn ui_logging() -> anyhow::Result<()> {
    packetpath::ui::init_logging()
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo {
            transport,
            certs,
            lab,
            mss,
            record,
            force,
            script,
            attack,
            insecure,
            ..
        } if script || !std::io::stdout().is_terminal() => {
            let record = output_path(record, force)?;
            if !script {
                eprintln!("(no terminal: printing the conversation and its packets instead of the UI; see --script)");
            }
            let mut lab_options = lab.options()?;
            with_attack(&mut lab_options, attack, insecure)?;
            let lab = packetpath::lab::enter(lab_options)?;
            tracing::info!("running on {}", lab.describe());
            if let Some(attack) = attack {
                // One line under the attack, over the chosen transport and (but for a man in the
                // middle) over the other one, TLS against plain TCP.
                let first = transport.transport();
                let mut transports = vec![first];
                if !attack.is_mitm() {
                    transports.push(if first.is_tls() {
                        packetpath::chat::Transport::Plain
                    } else {
                        packetpath::chat::Transport::Tls13
                    });
                }
                let rt = runtime()?;
                let stdout = std::io::stdout();
                for (i, transport) in transports.into_iter().enumerate() {
                    let options = commands::TraceOptions {
                        text: commands::DEMO_ATTACK_LINE.into(),
                        transport,
                        mss,
                        no_delay: None,
                        max_fragment: None,
                        cert_dir: certs.clone(),
                        lab: lab.clone(),
                        datagram: None,
                        attack: Some(attack),
                        insecure,
                    };
                    let outcome = rt.block_on(commands::trace(&options))?;
                    if let (0, Some(path)) = (i, &record) {
                        outcome.write(path)?;
                    }
                    let mut out = stdout.lock();
                    writeln!(out, "=== {} over {} ===", attack.name(), transport.name())?;
                    outcome.print(&options, Format::Text, &mut out)?;
                    writeln!(out)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let options = commands::ScriptOptions {
                transport: transport.transport(),
                cert_dir: certs,
                lab,
                knobs: packetpath::session::ClientKnobs {
                    mss,
                    ..Default::default()
                },
                record,
            };
            let transcript = runtime()?.block_on(commands::scripted_demo(&options))?;
            for line in transcript {
                println!("{line}");
            }
        }
        Command::Demo {
            transport,
            certs,
            lab,
            mss,
            record,
            force,
            look,
            attack,
            insecure,
            keep,
            keep_all,
            ..
        } => {
            let record = output_path(record, force)?;
            let mut lab_options = lab.options()?;
            with_attack(&mut lab_options, attack, insecure)?;
            let lab = packetpath::lab::enter(lab_options)?;
            ui_logging()?;
            tracing::info!("running on {}", lab.describe());
            let options = packetpath::ui::DemoOptions {
                transport: transport.transport(),
                cert_dir: certs,
                lab,
                knobs: packetpath::session::ClientKnobs {
                    mss,
                    insecure,
                    ..Default::default()
                },
                attack,
                keep: (!keep_all).then(|| std::time::Duration::from_secs_f64(keep * 60.0)),
                record: record.clone(),
            };
            let rt = runtime()?;
            let session = rt.block_on(packetpath::ui::start_demo(&options))?;
            let outcome = packetpath::ui::run_demo(rt.handle(), session, &options, look.look())?;
            let trace = &outcome.trace;
            println!(
                "packetpath demo: {} frames captured, {} application writes and reads",
                trace.frame_count(),
                trace.events_forgotten() + trace.app_events().len()
            );
            if outcome.dropped > 0 {
                eprintln!(
                    "warning: the kernel dropped {} frames during the capture",
                    outcome.dropped
                );
            }
            if let Some(why) = outcome.record_error {
                anyhow::bail!("the record is incomplete: {why}");
            }
            if let (Some(path), Some(recorder)) = (&record, outcome.recorder) {
                recorder.finish(trace, &outcome.frames, &[])?;
                println!(
                    "saved to {} (open it with `packetpath open {}` or Wireshark)",
                    path.path().display(),
                    path.path().display()
                );
            }
        }
        Command::Export {
            file,
            frame,
            message,
            graphs,
            keylog,
            format,
        } => {
            let what = match (frame, message) {
                (Some(n), _) => commands::ExportWhat::Frame(n),
                (None, Some(n)) => {
                    commands::ExportWhat::Message(usize::try_from(n).unwrap_or(usize::MAX))
                }
                (None, None) if graphs => commands::ExportWhat::Graphs,
                (None, None) => anyhow::bail!("say which: --frame N, --message N or --graphs"),
            };
            let page = commands::export(&file, keylog.as_deref(), what, format)?;
            std::io::stdout().lock().write_all(page.as_bytes())?;
        }
        Command::Open { file, keylog, look } => {
            if !std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "the UI needs a terminal; `packetpath inspect` prints a capture instead"
                );
            }
            ui_logging()?;
            packetpath::ui::run_open_file(
                &file,
                keylog.as_deref(),
                format!("open · {}", file.display()),
                look.look(),
            )?;
        }
        Command::Server {
            listen,
            transport,
            certs,
        } => {
            let transport = transport.transport();
            let listen = listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], transport.default_port())));
            runtime()?.block_on(commands::server(listen, transport, &certs))?;
        }
        Command::Client {
            connect,
            name,
            transport,
            ca,
            insecure,
            knobs:
                KnobArgs {
                    mss,
                    no_delay,
                    max_fragment,
                },
        } => {
            let transport = transport.transport();
            let connect =
                connect.unwrap_or_else(|| format!("localhost:{}", transport.default_port()));
            if insecure && transport.is_tls() {
                eprintln!("{}", packetpath::chat::client::INSECURE_WARNING);
            }
            let options = ClientOptions {
                connect,
                name,
                transport,
                trust: if insecure {
                    Trust::Insecure
                } else {
                    Trust::Ca(ca)
                },
                mss,
                no_delay,
                max_fragment,
                socket_factory: None,
                server_name: None,
                congestion: None,
            };
            runtime()?.block_on(commands::client(options))?;
        }
        Command::Inspect {
            file,
            keylog,
            format,
            series,
        } => {
            let show_progress = std::io::stderr().is_terminal();
            // Bytes of the file, or frames for --series: a percentage reads the same for both.
            let mut shown_percent = None;
            let mut progress = |done: usize, total: usize| {
                if show_progress && total > 10_000_000 {
                    let percent = done.saturating_mul(100) / total;
                    if shown_percent != Some(percent) {
                        shown_percent = Some(percent);
                        eprint!("\rreading {}: {percent}%", file.display());
                        if done >= total {
                            eprintln!();
                        }
                    }
                }
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            commands::inspect(
                &file,
                keylog.as_deref(),
                format,
                series,
                &mut out,
                &mut progress,
            )?;
        }
        Command::Capture {
            ports,
            interface,
            write,
            force,
            keylog,
            count,
            seconds,
            format,
        } => {
            let write = output_path(write, force)?;
            let options = commands::CaptureOptions {
                interface,
                ports,
                count,
                seconds,
                write,
                keylog,
                format,
            };
            let mut out = std::io::stdout();
            runtime()?.block_on(commands::capture(options, &mut out))?;
        }
        Command::Trace {
            text,
            transport,
            knobs:
                KnobArgs {
                    mss,
                    no_delay,
                    max_fragment,
                },
            format,
            saved:
                SaveArgs {
                    write,
                    force,
                    certs,
                },
            datagram,
            attack,
            insecure,
            lab,
        } => {
            let write = output_path(write, force)?;
            let mut lab_options = lab.options()?;
            with_attack(&mut lab_options, attack, insecure)?;
            let lab = packetpath::lab::enter(lab_options)?;
            let options = commands::TraceOptions {
                text,
                transport: transport.transport(),
                mss,
                no_delay,
                max_fragment,
                cert_dir: certs,
                lab,
                datagram,
                attack,
                insecure,
            };
            let outcome = runtime()?.block_on(commands::trace(&options))?;
            if let Some(path) = &write {
                outcome.write(path)?;
            }
            let stdout = std::io::stdout();
            match format.handout() {
                Some(handout) => {
                    let page = outcome.handout(&options, handout)?;
                    stdout.lock().write_all(page.as_bytes())?;
                }
                None => outcome.print(&options, format.plain(), &mut stdout.lock())?,
            }
        }
        Command::Transfer {
            size,
            transport,
            congestion,
            slow_reader,
            format,
            no_ui,
            look,
            saved:
                SaveArgs {
                    write,
                    force,
                    certs,
                },
            lab,
        } => {
            let write = output_path(write, force)?;
            let lab = packetpath::lab::enter(lab.options()?)?;
            let show = format == Format::Text && !no_ui && std::io::stdout().is_terminal();
            if show {
                ui_logging()?;
            }
            let options = commands::TransferOptions {
                bytes: size,
                transport: transport.transport(),
                congestion: (congestion != "system").then_some(congestion),
                slow_reader,
                cert_dir: certs,
                lab,
            };
            if format == Format::Text && std::io::stderr().is_terminal() {
                eprintln!(
                    "transfer: sending {size} bytes from the client host to the server host{}…",
                    if show {
                        " (the graphs open when it is done)"
                    } else {
                        ""
                    }
                );
            }
            let outcome = runtime()?.block_on(commands::transfer(&options))?;
            if let Some(path) = &write {
                outcome.write(path)?;
            }
            let stdout = std::io::stdout();
            if show {
                // The UI takes the screen; the summary follows when it gives it back.
                let title = format!("transfer · {} bytes", outcome.summary.bytes_sent);
                let stream = outcome.summary.stream;
                let commands::TransferOutcome { trace, summary, .. } = outcome;
                packetpath::ui::run_graphs(trace, title, look.look(), stream)?;
                commands::print_summary(&summary, format, &mut stdout.lock())?;
            } else {
                outcome.print(format, &mut stdout.lock())?;
            }
        }
        Command::Ping {
            count,
            size,
            df,
            ipv6,
            probe,
        } => {
            return probe.run(packetpath::probe::Probing::Ping(
                packetpath::probe::PingOptions {
                    count,
                    size: size as usize,
                    df,
                    ipv6,
                },
            ))
        }
        Command::Traceroute {
            max_hops,
            queries,
            probe,
            ipv6,
            args,
        } => {
            return args.run(packetpath::probe::Probing::Traceroute(
                packetpath::probe::TracerouteOptions {
                    max_hops,
                    queries,
                    probe,
                    ipv6,
                },
            ))
        }
        Command::Captures {
            action: CapturesAction::Regenerate { dir, certs, lab },
        } => {
            let lab = packetpath::lab::enter(lab.options()?)?;
            let mut progress = |line: &str| println!("{line}");
            runtime()?.block_on(commands::samples::regenerate(
                &dir,
                &certs,
                &lab,
                &mut progress,
            ))?;
        }
        Command::Doctor => {
            let findings = packetpath::lab::doctor::diagnose();
            print!("{}", packetpath::lab::doctor::report(&findings));
        }
        Command::LinkCheck {
            frames,
            size,
            rate,
            delay,
            loss,
            seed,
            direct,
        } => {
            let report =
                packetpath::lab::linkcheck::run_check(packetpath::lab::linkcheck::CheckOptions {
                    frames,
                    size,
                    rate,
                    props: packetpath::lab::forwarder::LinkProps {
                        delay: std::time::Duration::from_secs_f64(delay / 1000.0),
                        loss,
                        seed,
                    },
                    direct,
                })?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::LabProbe { lab } => match packetpath::lab::doctor::probe_here(lab.options()?) {
            Ok(description) => println!("{description}"),
            Err(e) => {
                eprintln!("{}", e.message);
                return Ok(ExitCode::from(if e.not_possible_here {
                    packetpath::lab::doctor::PROBE_NOT_POSSIBLE
                } else {
                    1
                }));
            }
        },
        Command::Lesson { action } => return lesson_command(action),
        Command::Certs { dir, force } => {
            let (paths, status) = commands::certs(&dir, force)?;
            match status {
                CertStatus::Created => println!(
                    "created {} (CA), {} (server certificate) and their keys (mode 0600)",
                    paths.ca_cert.display(),
                    paths.server_cert.display()
                ),
                CertStatus::Reused => println!(
                    "kept the existing certificates in {} (use --force to make new ones)",
                    paths.dir.display()
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lesson run` uses the terminal UI unless told `--plain` or not talking to a terminal (answers
/// piped in, output to a file).
fn lesson_in_ui(command: &Command) -> bool {
    matches!(
        command,
        Command::Lesson {
            action: LessonAction::Run { plain: false, .. }
        }
    ) && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal()
}

fn lesson_command(action: LessonAction) -> anyhow::Result<ExitCode> {
    use packetpath::lesson;
    match action {
        LessonAction::Export {
            name,
            teacher,
            format,
            dir,
        } => {
            let found = lesson::find(&name, dir.as_deref())?;
            let handout =
                packetpath::report::handout::lesson::LessonHandout::build(&found, teacher);
            let page = match format {
                LessonExportFormat::Html => handout.html()?,
                LessonExportFormat::Markdown => handout.markdown()?,
            };
            std::io::stdout().lock().write_all(page.as_bytes())?;
        }
        LessonAction::List { dir } => {
            let (good, bad) = lesson::catalog::all_readable(dir.as_deref())?;
            print!("{}", lesson::list_text(&good));
            if !bad.is_empty() {
                // The good ones are listed; each broken file is named with what is wrong, and the
                // exit code says something is.
                println!(
                    "\nnot loaded ({} of {}):",
                    bad.len(),
                    good.len() + bad.len()
                );
                for e in &bad {
                    println!("✗ {e}");
                }
                return Ok(ExitCode::from(1));
            }
        }
        LessonAction::Check {
            names,
            all,
            repeat,
            format,
            opts,
        } => {
            let json = format == Format::Json;
            let names = if all {
                lesson::catalog::names(opts.dir.as_deref())
            } else {
                names
            };
            let Some(first) = names.first() else {
                eprintln!(
                    "name the lessons to check, or use --all (`packetpath lesson list` shows them)"
                );
                return Ok(ExitCode::from(2));
            };
            if names.len() > 1 || repeat > 1 {
                // A process enters one lab, and each lesson may need its own: one process each.
                let ok = lesson::check_in_turn(
                    &names,
                    repeat as usize,
                    &opts.to_args(),
                    json,
                    &mut std::io::stdout(),
                )?;
                return Ok(if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                });
            }
            let found = lesson::find(first, opts.dir.as_deref())?;
            let lab = packetpath::lab::enter(found.lab.options(opts.host_loopback))?;
            let options = lesson::RunOptions {
                cert_dir: opts.certs,
                lab,
            };
            let summary = if json {
                let summary = runtime()?.block_on(lesson::check_lesson(
                    found,
                    &options,
                    &mut std::io::sink(),
                ))?;
                println!("{}", serde_json::to_string(&summary)?);
                summary
            } else {
                runtime()?.block_on(lesson::check_lesson(
                    found,
                    &options,
                    &mut std::io::stdout(),
                ))?
            };
            if let Some(failure) = summary.failure {
                eprintln!("lesson {} failed: {failure}", summary.lesson);
                return Ok(ExitCode::from(1));
            }
        }
        LessonAction::Grade { files, format } => {
            let mut graded = Vec::new();
            let mut unreadable = 0;
            for file in &files {
                match lesson::record::grade_file(file) {
                    Ok(g) => graded.push(g),
                    Err(e) => {
                        eprintln!("✗ {e}");
                        unreadable += 1;
                    }
                }
            }
            match format {
                GradeFormat::Text => print!("{}", lesson::record::grades_text(&graded)),
                GradeFormat::Csv => print!("{}", lesson::record::grades_csv(&graded)),
                GradeFormat::Json => println!("{}", serde_json::to_string_pretty(&graded)?),
            }
            let flagged = graded.iter().filter(|g| !g.flags.is_empty()).count();
            if flagged + unreadable > 0 {
                return Ok(ExitCode::from(1));
            }
        }
        LessonAction::Run {
            name,
            plain,
            record,
            student,
            force,
            opts,
            look,
        } => {
            let ui = !plain && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
            // Checked before the lesson starts: a name that is taken must not cost the run.
            let record = record
                .map(|path| packetpath::capture::OutputPath::check(&path, force))
                .transpose()?;
            let student = student
                .or_else(|| std::env::var("USER").ok())
                .or_else(|| std::env::var("LOGNAME").ok())
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "student".to_string());
            let found = lesson::find(&name, opts.dir.as_deref())?;
            let lab = packetpath::lab::enter(found.lab.options(opts.host_loopback))?;
            if ui {
                ui_logging()?;
            }
            let options = lesson::RunOptions {
                cert_dir: opts.certs,
                lab,
            };
            let rt = runtime()?;
            let finished = if ui {
                let run = rt.block_on(lesson::LessonRun::start(found, &options))?;
                let finished = packetpath::ui::run_lesson(rt.handle(), run, &student, look.look())?;
                println!(
                    "({} frames were captured during the lesson; {} of {} questions answered right.)",
                    finished.trace.frames().len(),
                    finished.record.score.right,
                    finished.record.score.of
                );
                finished
            } else {
                lesson::stepper::run_interactive(
                    &rt,
                    found,
                    &options,
                    &student,
                    &mut std::io::stdin().lock(),
                    &mut std::io::stdout(),
                )?
            };
            if let Some(path) = &record {
                commands::write_pcapng_with(
                    path,
                    &finished.frames,
                    &finished.trace,
                    &[finished.record.encode()],
                )?;
                println!(
                    "Your record is saved in {} (score {}, as {}). Hand it in; a teacher checks it \
                     with `packetpath lesson grade {}`.",
                    path.path().display(),
                    finished.record.score,
                    finished.record.student,
                    path.path().display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
