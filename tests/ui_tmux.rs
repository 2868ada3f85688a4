//! The terminal UI end to end: the real `packetpath demo` in a real terminal (tmux), driven by
//! keystrokes. Types a line as alice, waits until bob's chat shows it and every layer column shows
//! its journey, edits and sends a second line (←, Ctrl-W, Home), quits with `q`, and checks the
//! terminal was given back (normal screen, canonical mode). Needs tmux and, for the live demo and
//! lessons, packetpath's lab (no root); the test harness reports what it skips and why.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// One tmux server for this test only (its own socket), killed at the end.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.session])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Waits (polling the screen, with a deadline) until `pred` holds; fails with the last screen.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen was:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// A tmux server of its own running `command` (a shell command line) in `dir`, `size` columns
    /// by rows. After the command exits the shell prints its exit code (`exit=N`) and the terminal's
    /// line discipline (`icanon` when the terminal was restored, `-icanon` if left in raw mode),
    /// then waits, so the screen can still be read.
    fn start(name: &str, dir: &std::path::Path, size: (u16, u16), command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("packetpath-{name}-test-{}", std::process::id()),
            session: name.into(),
        };
        let script = format!(
            "cd '{}' && NO_COLOR=1 {command}; echo \"exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 120",
            dir.display()
        );
        let (x, y) = (size.0.to_string(), size.1.to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            &tmux.session,
            "-x",
            &x,
            "-y",
            &y,
            "sh",
            "-c",
            &script,
        ]);
        tmux
    }

    /// Waits for packetpath to have left, then checks the terminal is back in cooked mode on the
    /// main screen (`what` names the run in messages). Returns the screen.
    fn assert_terminal_restored(&self, what: &str) -> String {
        let screen = self.wait_for("the terminal mode", |s| s.contains("icanon"));
        assert!(
            screen.lines().any(|l| l.trim() == "icanon"),
            "{what}: the terminal was left in raw mode:\n{screen}"
        );
        let alternate = self.run(&["display", "-p", "-t", &self.session, "#{alternate_on}"]);
        assert_eq!(
            alternate.trim(),
            "0",
            "{what}: still on the alternate screen"
        );
        screen
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn a_line_typed_as_alice_reaches_bob_and_every_layer_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        "demo",
        dir.path(),
        (120, 40),
        &format!(
            "'{bin}' demo --certs certs",
            bin = env!("CARGO_BIN_EXE_packetpath")
        ),
    );

    // The chat input has the focus when the demo starts.
    tmux.wait_for("the demo with alice's input line", |s| {
        s.contains("alice> ") && s.contains("* welcome, bob")
    });
    tmux.keys(&["-l", "hi tmux"]);
    tmux.keys(&["Enter"]);

    let screen = tmux.wait_for("bob's chat to show alice's line", |s| {
        s.contains("bob ◂ alice: hi tmux")
    });
    let screen = if screen.contains("8 B text → 30 B TLS record") {
        screen
    } else {
        tmux.wait_for("the layer columns of the line", |s| {
            s.contains("8 B text → 30 B TLS record")
        })
    };
    // Every layer column: the text, the record around it, and the headers each layer adds.
    for part in [
        "Layers · message alice → server",
        "Application 8 B",
        "text \"hi tmux\\n\"",
        "TLS +22 B",
        "plaintext \"hi tmux\\n\"",
        "TCP +",
        "Flags [PSH, ACK]",
        "IP +20 B",
        "TTL 64",
        "Link +14 B",
        "B TCP segment → ",
        "B IP packet → ",
        "B frame",
    ] {
        assert!(
            screen.contains(part),
            "{part:?} is not on screen:\n{screen}"
        );
    }

    // Line editing: ← moves before the "!", Ctrl-W deletes the word before it ("junk"), Home
    // goes to the start, where "line " is typed. Bob receives the edited line.
    tmux.keys(&["-l", "edited junk!"]);
    tmux.keys(&["Left", "C-w", "Home"]);
    tmux.keys(&["-l", "line "]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("bob's chat to show the edited line", |s| {
        s.contains("bob ◂ alice: line edited !")
    });

    tmux.keys(&["Escape"]);
    tmux.wait_for("navigation mode", |s| s.contains("q quit"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("packetpath to exit", |s| s.contains("exit="));
    assert!(screen.contains("exit=0"), "{screen}");
    let screen = tmux.assert_terminal_restored("demo");
    assert!(
        screen.contains("packetpath demo:"),
        "the summary is printed on the normal screen:\n{screen}"
    );
}

fn a_lesson_steps_in_the_ui_with_checks_answers_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        "lesson",
        dir.path(),
        (140, 50),
        &format!(
            "'{bin}' lesson run layers",
            bin = env!("CARGO_BIN_EXE_packetpath")
        ),
    );

    // Step 1 runs its actions as the UI starts: the pane shows its title and text first, and
    // says there is more below (its checks).
    let screen = tmux.wait_for("step 1 from its title", |s| {
        s.contains("Lesson · step 1/3 · One line goes down the stack")
            && s.contains("Step 1/3 · One line goes down the stack")
            && s.contains("more lines")
    });
    // The focus: the TLS record's length field, selected in the layer columns.
    assert!(screen.contains("length = 23 bytes"), "{screen}");
    // Tab to the lesson pane (from the columns, past the bytes), page down to the checks.
    tmux.keys(&["Tab", "Tab"]);
    tmux.keys(&["NPage", "NPage", "NPage", "NPage"]);
    let screen = tmux.wait_for("step 1's checks", |s| s.contains("✓ "));
    assert!(!screen.contains("✗ "), "every check holds:\n{screen}");

    // A wrong answer gets the hint, the right one is confirmed.
    tmux.keys(&["i"]);
    tmux.wait_for("the answer line", |s| s.contains("answer> "));
    tmux.keys(&["-l", "93"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the hint", |s| s.contains("Hint: Add every layer"));
    tmux.keys(&["-l", "94"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the answer judged right", |s| s.contains("✓ 94: right"));

    // n: the next step runs, with its own title and checks.
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["n"]);
    tmux.wait_for("step 2", |s| s.contains("Step 2/3"));
    // Its checks are further down the pane.
    tmux.keys(&["Tab", "Tab"]);
    tmux.keys(&["NPage", "NPage", "NPage", "NPage"]);
    let screen = tmux.wait_for("step 2's checks", |s| {
        s.contains("step 2/3") && s.contains("✓ ")
    });
    assert!(!screen.contains("✗ "), "every check holds:\n{screen}");

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("packetpath to exit", |s| s.contains("exit="));
    assert!(screen.contains("exit=0"), "{screen}");
    let screen = tmux.assert_terminal_restored("lesson");
    assert!(
        screen.contains("frames were captured during the lesson"),
        "{screen}"
    );
}

/// Starts `args` in tmux, waits until the screen shows `ready`, sends `signal` (TERM or HUP) to
/// packetpath and checks that the terminal is back in cooked mode on the main screen.
fn signal_restores_the_terminal(signal: &str, name: &str, args: &str, ready: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        name,
        dir.path(),
        (140, 50),
        &format!("'{bin}' {args}", bin = env!("CARGO_BIN_EXE_packetpath")),
    );
    tmux.wait_for(ready, |s| s.contains(ready));
    // packetpath is the shell's child in the pane.
    let shell = tmux.run(&["display", "-p", "-t", &tmux.session, "#{pane_pid}"]);
    let out = Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&out.stdout);
    let pid = pid.lines().next().expect("packetpath runs in the pane");
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    tmux.assert_terminal_restored(args);
}

/// The terminal window closed for real (the tmux server killed, its pty gone): packetpath must
/// end, not spin reading a terminal that no longer exists.
fn closing_the_terminal_window_ends_packetpath() {
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/tls13-chat.pcapng");
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        "window-closed",
        dir.path(),
        (120, 40),
        &format!(
            "'{bin}' open '{capture}'",
            bin = env!("CARGO_BIN_EXE_packetpath")
        ),
    );
    // A saved capture opens at its first frame, with the column headings above it.
    let screen = tmux.wait_for("open at frame 1", |s| {
        s.contains("open · ") && s.contains("#1 ")
    });
    assert!(screen.contains("No.        Time        Δt"), "{screen}");
    let timeline = screen
        .lines()
        .find(|l| l.contains("Timeline · "))
        .unwrap_or_default();
    assert!(
        !timeline.contains("↑ "),
        "nothing above the first row: {screen}"
    );
    let shell = tmux.run(&["display", "-p", "-t", &tmux.session, "#{pane_pid}"]);
    let out = Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&out.stdout);
    let pid = pid
        .lines()
        .next()
        .expect("packetpath runs in the pane")
        .to_string();
    drop(tmux); // kill-server: the window closes, its terminal is gone
    let alive = || std::path::Path::new(&format!("/proc/{pid}")).exists();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while alive() && std::time::Instant::now() < deadline {
        // No event tells another process's end: poll.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if alive() {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("packetpath still runs 15 s after its terminal was closed");
    }
}

fn sigterm_and_sighup_give_the_terminal_back_too() {
    // `open` needs no privileges: it runs everywhere tmux does.
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/tls13-chat.pcapng");
    let open = format!("open '{capture}'");
    signal_restores_the_terminal("TERM", "term-open", &open, "open · ");
    // SIGHUP: the terminal window was closed (or `kill -HUP`): the same clean exit.
    signal_restores_the_terminal("HUP", "hup-open", &open, "open · ");
}

fn sigterm_and_sighup_give_the_lesson_terminal_back() {
    signal_restores_the_terminal(
        "TERM",
        "term-lesson",
        "lesson run layers",
        "Lesson · step 1/3",
    );
    signal_restores_the_terminal(
        "HUP",
        "hup-lesson",
        "lesson run layers",
        "Lesson · step 1/3",
    );
}

fn an_ordinary_user_gets_the_live_demo_without_sudo() {
    // The lab needs a single-threaded process to enter a user namespace: this proves the UI's
    // log collector (which starts a thread) is installed only after the lab is entered.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    // A copy `nobody` can run, whatever folder the checkout is in.
    let bin = dir.path().join("packetpath");
    std::fs::copy(env!("CARGO_BIN_EXE_packetpath"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tmux = Tmux::start(
        "nobody",
        dir.path(),
        (120, 40),
        &format!(
            "{as_nobody}'{bin}' demo --certs certs",
            // As root, become `nobody`; an ordinary user already is one.
            as_nobody = if nix::unistd::geteuid().is_root() {
                "setpriv --reuid=65534 --regid=65534 --clear-groups -- "
            } else {
                ""
            },
            bin = bin.display()
        ),
    );
    tmux.wait_for("the demo running as nobody", |s| {
        (s.contains("alice> ") && s.contains("* welcome, bob")) || s.contains("exit=")
    });
    tmux.keys(&["-l", "hi from nobody"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("bob's chat to show the line", |s| {
        s.contains("bob ◂ alice: hi from nobody")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("navigation mode", |s| s.contains("q quit"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("packetpath to exit", |s| s.contains("exit="));
    assert!(screen.contains("exit=0"), "{screen}");
}

/// `demo --keep 0.05` (3 s) with `--record`: a line is typed, and once it is older than the
/// demo keeps, the timeline says the first frames are forgotten and `:1` says why frame #1 is not
/// there; a second line follows; after `q` the record holds both lines, the first one written
/// while the demo ran, and tshark decrypts both with the secrets the record carries.
fn a_long_demo_forgets_its_past_and_its_record_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        "keep",
        dir.path(),
        (120, 40),
        &format!(
            "'{bin}' demo --certs certs --keep 0.05 --record rec.pcapng",
            bin = env!("CARGO_BIN_EXE_packetpath")
        ),
    );
    tmux.wait_for("the demo with alice's input line", |s| {
        s.contains("alice> ") && s.contains("* welcome, bob")
    });
    tmux.keys(&["-l", "the first line"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("bob's chat to show the first line", |s| {
        s.contains("bob ◂ alice: the first line")
    });
    // Three seconds on, the demo forgets it (it looks once a second).
    let screen = tmux.wait_for("the first frames to be forgotten", |s| {
        s.contains("forgotten (--keep)")
    });
    assert!(screen.contains("#1–#"), "{screen}");
    tmux.keys(&["-l", "the second line"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("bob's chat to show the second line", |s| {
        s.contains("bob ◂ alice: the second line")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("navigation mode", |s| s.contains("q quit"));
    tmux.keys(&[":"]);
    tmux.keys(&["-l", "1"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("why frame #1 is not there", |s| {
        s.contains("frame #1 is forgotten")
    });
    tmux.keys(&["q"]);
    let screen = tmux.assert_terminal_restored("demo --keep");
    assert!(screen.contains("exit=0"), "{screen}");
    assert!(screen.contains("saved to rec.pcapng"), "{screen}");
    let record = dir.path().join("rec.pcapng");
    let (trace, damage) =
        packetpath::capture::open_capture(&record, None, &mut |_, _| {}).expect("the record reads");
    assert!(damage.is_none());
    let written: Vec<&[u8]> = trace
        .app_events()
        .iter()
        .filter(|e| e.side == packetpath::chat::Side::Client)
        .map(|e| e.bytes.as_ref())
        .collect();
    for line in [&b"the first line\n"[..], b"the second line\n"] {
        assert!(written.contains(&line), "the record misses {line:?}");
    }
    // The frame count printed on the way out counts the forgotten frames too.
    let count = format!("packetpath demo: {} frames captured", trace.frame_count());
    assert!(screen.contains(&count), "{count}: {screen}");
    // tshark decrypts both lines with the record's own secrets (the first ones written before
    // the frames they decrypt, while the demo ran).
    let mut followed = String::new();
    for stream in 0..4 {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&record)
            .args(["-q", "-z", &format!("follow,tls,ascii,{stream}")])
            .output()
            .expect("tshark runs");
        followed.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    for line in ["alice: the first line", "alice: the second line"] {
        assert!(followed.contains(line), "tshark did not decrypt {line:?}");
    }
}

/// `packetpath transfer` in a terminal: the UI opens on the connection's time-sequence graph
/// once the upload is done, Tab turns to the round-trip times, Esc shows the timeline under them,
/// and the summary is printed when the user quits.
fn a_transfer_opens_its_graphs_and_prints_the_summary_after() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_packetpath");
    let tmux = Tmux::start(
        "transfer",
        dir.path(),
        (100, 30),
        &format!("{bin} transfer 300k --link routers:1 --delay-on 1:10"),
    );
    let screen = tmux.wait_for("the time-sequence graph", |s| {
        s.contains("time-sequence (Stevens)")
    });
    assert!(
        screen.contains("client → server") && screen.contains("kB sent"),
        "{screen}"
    );
    tmux.keys(&["Tab"]);
    let screen = tmux.wait_for("the RTT graph", |s| s.contains("round-trip time"));
    assert!(
        screen.contains("kernel srtt") && screen.contains("EstimatedRTT"),
        "{screen}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("the timeline", |s| s.contains("Timeline"));
    tmux.keys(&["q"]);
    let screen = tmux.assert_terminal_restored("transfer");
    assert!(screen.contains("transfer: 300,000 bytes"), "{screen}");
    assert!(screen.contains("wire RTT (SampleRTT"), "{screen}");
    assert!(screen.contains("exit=0"), "{screen}");
}

/// The demo with an attacker on link 1: compare mode opens by itself (the twin chat over plain
/// TCP beside the TLS one), a line is typed, and under each side's strip the outcome reads as
/// `tls` and `plain` say.
fn the_demo_under_attack(attack: &str, tls: &str, plain: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        &format!("attack-{attack}"),
        dir.path(),
        (200, 55),
        &format!(
            "'{bin}' demo --certs certs --link routers:1 --attack {attack}",
            bin = env!("CARGO_BIN_EXE_packetpath")
        ),
    );
    tmux.wait_for("the demo with its input line and compare mode", |s| {
        s.contains("alice> ") && s.contains("Compare")
    });
    tmux.keys(&["-l", "hello there"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("both chats' outcomes in compare mode", |s| {
        s.contains(tls) && s.contains(plain)
    });
}

fn the_demo_under_attack_shows_tls_refuse_a_flipped_line_and_plain_tcp_deliver_it() {
    the_demo_under_attack(
        "flip",
        "the server read nothing more: its TLS sent a bad_record_mac alert",
        "the server read \"Hello there\" (changed in transit)",
    );
}

fn the_demo_under_attack_shows_tls_notice_a_removed_line_and_plain_tcp_not() {
    // The line typed is removed; "next line" follows it at once.
    the_demo_under_attack(
        "drop-record",
        "the server read nothing more: its TLS sent a bad_record_mac alert",
        "the server read \"next line\"",
    );
}

fn the_demo_with_a_man_in_the_middle(insecure: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(
        if insecure {
            "mitm-read"
        } else {
            "mitm-refused"
        },
        dir.path(),
        // Tall enough for the chat pane to hold the line and the attacker's two readings.
        (200, 80),
        &format!(
            "'{bin}' demo --certs certs --link routers:1 --attack mitm{}",
            if insecure { " --insecure" } else { "" },
            bin = env!("CARGO_BIN_EXE_packetpath")
        ),
    );
    if !insecure {
        // Both clients refuse the attacker's certificate: nobody to type as.
        tmux.wait_for("the refusal", |s| s.contains("nobody is connected"));
        return;
    }
    // The screen comes up once alice and bob are connected (through the attacker).
    tmux.wait_for("the demo with alice's input line", |s| {
        s.contains("alice> ")
    });
    tmux.keys(&["-l", "pay bob 10"]);
    tmux.keys(&["Enter"]);
    // The chat pane: alice's line as she sent it, the attacker's reading of the server's relay
    // to bob (with the attacker's words, sent on without them), and bob's clean line.
    tmux.wait_for("the attacker's reading in the chat pane", |s| {
        s.contains("alice ▸ pay bob 10")
            && s.contains("attacker (r1) ◂ read to bob: alice: pay bob 10 [changed by")
            && s.contains("bob ◂ alice: pay bob 10")
    });
}

fn the_demo_with_a_man_in_the_middle_is_refused() {
    the_demo_with_a_man_in_the_middle(false)
}

fn the_demo_with_a_man_in_the_middle_and_insecure_clients_is_read() {
    the_demo_with_a_man_in_the_middle(true)
}

fn main() -> std::process::ExitCode {
    harness::run(vec![
        test!(
            a_line_typed_as_alice_reaches_bob_and_every_layer_and_q_restores_the_terminal,
            Need::Tool("tmux"),
            Need::Lab
        ),
        test!(
            a_lesson_steps_in_the_ui_with_checks_answers_and_q_restores_the_terminal,
            Need::Tool("tmux"),
            Need::Lab
        ),
        test!(
            closing_the_terminal_window_ends_packetpath,
            Need::Tool("tmux"),
            Need::Tool("pgrep")
        ),
        test!(
            sigterm_and_sighup_give_the_terminal_back_too,
            Need::Tool("tmux"),
            Need::Tool("pgrep")
        ),
        test!(
            sigterm_and_sighup_give_the_lesson_terminal_back,
            Need::Tool("tmux"),
            Need::Tool("pgrep"),
            Need::Lab
        ),
        test!(
            a_transfer_opens_its_graphs_and_prints_the_summary_after,
            Need::Tool("tmux"),
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(
            the_demo_under_attack_shows_tls_refuse_a_flipped_line_and_plain_tcp_deliver_it,
            Need::Tool("tmux"),
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(
            the_demo_under_attack_shows_tls_notice_a_removed_line_and_plain_tcp_not,
            Need::Tool("tmux"),
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(
            the_demo_with_a_man_in_the_middle_is_refused,
            Need::Tool("tmux"),
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(
            the_demo_with_a_man_in_the_middle_and_insecure_clients_is_read,
            Need::Tool("tmux"),
            Need::Lab,
            Need::LabLink("routers:1")
        ),
        test!(
            a_long_demo_forgets_its_past_and_its_record_keeps_everything,
            Need::Tool("tmux"),
            Need::Tool("tshark"),
            Need::Lab
        ),
        test!(
            an_ordinary_user_gets_the_live_demo_without_sudo,
            Need::Tool("tmux"),
            Need::OrdinaryUser,
            Need::Lab
        ),
    ])
}
