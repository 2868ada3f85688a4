//! Every sentence the UI shows, in one place: pane titles, hints, and the meanings of the fields
//! the UI adds on top of the dissector's (TLS record parts and the application's line). Key
//! names come from the key table (`keys.rs`), never from here.

use crate::dissect::byte_count;
use crate::tls::ContentType;

/// Shown when the live timeline has no rows.
pub const TIMELINE_EMPTY: &str = "no frames yet: type a line below and press Enter";
/// Shown when a saved capture has no frames.
pub const TIMELINE_EMPTY_FILE: &str = "this capture holds no frames";
/// The timeline's column headings, over the frame rows (lined up by `timeline::Columns`): number,
/// seconds since the first frame, seconds since the frame shown above (Wireshark's
/// frame.time_delta_displayed; left out on a narrow timeline), then who sent it and what it is.
pub const TIMELINE_NUMBER: &str = "  No.";
/// The Time heading.
pub const TIMELINE_TIME: &str = "Time";
/// The Δt heading.
pub const TIMELINE_DELTA: &str = "Δt";
/// The heading of the rest of a frame row.
pub const TIMELINE_WHAT: &str = "sender → receiver · what it is";

/// Shown when the filter hides every row.
pub const TIMELINE_FILTERED_OUT: &str =
    "no row matches the filter (/ to change it, / then Enter on an empty line shows all)";
/// After a group heading that continues a group interrupted by other traffic.
pub const CONTINUED: &str = " (continued)";
/// The timeline pane's title.
pub const TIMELINE: &str = "Timeline";
/// The path view's title when the selected packet was seen on one link only.
pub const PATH: &str = "Path";
/// The path view when the selected packet was seen on one link only.
pub const PATH_NONE: &str =
    "this packet was captured on one link only: select a frame of a path of routers (--link routers:N)";
/// `r` on a capture of one interface.
pub const PATH_NEEDS_ROUTERS: &str =
    "this capture has one interface: the path view shows a packet's copies on a path of routers (--link routers:N)";
/// After the layer columns' title when the path view is on but the selected packet was captured
/// on one interface only.
pub const PATH_ONE_LINK: &str = " · seen on one interface: no path to show";
/// The path view's rows (one column per copy), top to bottom.
pub const PATH_ROWS: [&str; 6] = ["frame", "interface", "Δ time", "TTL", "IPv4 sum", "MACs"];
/// The compact path table's columns, left to right (the MACs go below when the row is full).
pub const PATH_COLUMNS: [&str; 6] = ["frame", "interface", "Δ time", "TTL", "IPv4 sum", "MACs"];
/// What the highlighted cells are.
pub const PATH_CHANGED: &str = "highlighted: changed since the link before (each router takes one from the TTL and so recomputes the IPv4 header checksum, RFC 791 §3.1, and sends the packet on in a new frame with the MAC addresses of its next link)";

/// The path view's title: the packet and on how many links it was seen.
pub fn path_title(original: u32, copies: usize) -> String {
    format!("Path · the IP packet of #{original} on {copies} interfaces")
}

/// The time the packet reached the first node, since the capture's first frame.
pub fn path_at(time: &str) -> String {
    format!("at {time}")
}

/// The bytes above IP are the same on every link.
/// `what` names those bytes: "TCP, TLS", "ICMP", "a fragment's data".
pub fn path_identical(bytes: usize, copies: usize, what: &str) -> String {
    format!("above IP: {bytes} B identical on all {copies} interfaces ✓ ({what}: end to end)")
}

/// The path view's line for a packet a router fragmented on the next link.
pub fn path_cut(cut: &str) -> String {
    format!("{cut}: the packet goes on in pieces, each with a path of its own (select one to follow it)")
}

/// The bytes above IP differ somewhere.
pub fn path_differs(frames: &str) -> String {
    format!("above IP: the bytes differ in {frames} ✗")
}

/// The timeline's title on a path of routers: packets and their copies on other links.
pub fn timeline_copies(packets: usize, copies: usize) -> String {
    format!(" ({packets} packets + {copies} copies on other links, ↳)")
}

/// The timeline's title when a long demo has forgotten its first frames (`demo --keep`).
pub fn timeline_forgotten(forgotten: u32) -> String {
    format!(" · #1–#{forgotten} forgotten (--keep)")
}

/// Going to a frame a long demo has forgotten.
pub fn forgotten_frame(n: u32, first: u32) -> String {
    format!(
        "frame #{n} is forgotten: the demo keeps its last minutes in memory (--keep), frames from \
         #{first} on; --record FILE saves the whole session"
    )
}

/// A timeline row for a copy of a packet on another link.
pub fn copy_row(interface: &str, original: u32, ttl: u8) -> String {
    format!("{interface}: the same packet as #{original}, TTL {ttl}")
}

/// The hex pane's title.
pub const HEX: &str = "Bytes";
/// The chat pane's title.
pub const CHAT: &str = "Chat";
/// The log pane's title.
pub const LOG: &str = "Log";
/// The help screen's title.
pub const HELP: &str = "Keys (Esc closes)";
/// The stream view's title.
pub const STREAM: &str = "Follow stream";
/// Compare mode's title.
pub const COMPARE: &str =
    "Compare: the same line over TLS and over plain TCP, frame against frame (c closes)";
/// Compare mode while the second chat starts.
pub const COMPARE_STARTING: &str = "starting a second chat over the other transport…";
/// Compare mode before any line was sent in both chats.
pub const COMPARE_EMPTY: &str =
    "type a line (i, then Enter): in compare mode it is sent over both transports, and both journeys show here";
/// Compare mode in a saved capture.
pub const COMPARE_NEEDS_DEMO: &str = "compare mode runs two live chats: it needs `packetpath demo`";
/// Shown in the columns while nothing is selected.
pub const NOTHING_SELECTED: &str = "select a row in the timeline to see its layers";
/// A message whose bytes have not reached the capture yet.
pub const NOT_CAPTURED_YET: &str = "not on the wire yet (or not captured)";
/// The TLS column of a plain TCP connection.
pub const NO_TLS: &str =
    "plain TCP: no TLS layer, so the text travels as it is and anyone capturing can read it";
/// The application column of a frame that carries no application bytes.
pub const NO_APP_DATA: &str = "no application bytes in this frame";
/// The application column of an ICMP frame.
pub const ICMP_NO_APP: &str =
    "ICMP belongs to the network layer itself: no application wrote these bytes (ping asks the kernel to send an echo; errors come from routers and hosts)";
/// What a UDP datagram's data is.
pub const UDP_PAYLOAD_MEANING: &str =
    "the bytes a program sent in one UDP datagram; UDP neither numbers nor acknowledges them, so a lost datagram is simply gone unless the program sends it again";

/// The strip's first part when an eavesdropper cannot tell how many of a frame's bytes are text.
pub const TEXT_HIDDEN: &str = "? B text (encrypted)";
/// The TLS column of a frame without record bytes.
pub const NO_RECORD_HERE: &str = "no TLS record bytes in this frame";
/// The input line's hint in a saved capture.
pub const NO_INPUT: &str = "saved capture: nothing to send (q quits, ? shows the keys)";

/// The chat input's place when no client could connect (they refused a man in the middle).
pub const NOBODY_CONNECTED: &str =
    "nobody is connected: the clients refused the server's certificate (the log says why)";
/// The input line's hint while navigating.
pub const INPUT_AWAY: &str = "press i to type a chat line";

/// A plain TCP payload seen as application bytes.
pub const PLAIN_PAYLOAD_MEANING: &str =
    "the application's bytes exactly as they travel: without TLS, anyone on the path reads them";
/// The version field of a record header holding `version`, in a TLS 1.3 session or not (the
/// value itself is on the line already, so the sentence names the versions in words).
pub fn record_version_meaning(version: u16, tls13: bool) -> &'static str {
    match (version, tls13) {
        (0x0301, _) => "legacy record version: a first ClientHello may say TLS 1.0 here so that old servers accept it; the real version is agreed in the hellos (RFC 8446 §5.1)",
        (_, true) => "legacy record version: TLS 1.3 records still say TLS 1.2 here so that old middleboxes let them through; the real version is agreed in the hellos (RFC 8446 §5.1)",
        (_, false) => "the protocol version the record layer uses (RFC 5246 §6.2.1); TLS 1.3 keeps TLS 1.2's here for old middleboxes (RFC 8446 §5.1)",
    }
}
/// The length field of a record header.
pub const RECORD_LENGTH_MEANING: &str = "how many bytes follow this 5-byte header: the encrypted body and its tag (at most 16,384 + 256, RFC 8446 §5.2)";

/// What a record's length field counts: an encrypted TLS 1.3 record, an encrypted TLS 1.2 record
/// (explicit nonce, body and MAC or tag), or a record sent in clear.
pub fn record_length_meaning(encrypted: bool, tls13: bool) -> &'static str {
    match (encrypted, tls13) {
        (true, true) => RECORD_LENGTH_MEANING,
        (true, false) => "how many bytes follow this 5-byte header: the explicit nonce if the cipher sends one, the encrypted body and its MAC or tag (at most 16,384 + 2,048, RFC 5246 §6.2.3)",
        (false, _) => "how many bytes follow this 5-byte header: the record's body, sent in clear (at most 16,384, RFC 8446 §5.1, RFC 5246 §6.2.1)",
    }
}
/// TLS 1.2 AES-GCM's explicit nonce.
pub const EXPLICIT_NONCE_MEANING: &str =
    "explicit nonce: TLS 1.2 with AES-GCM sends 8 bytes of the nonce in each record (RFC 5288 §3)";
/// Ciphertext, for an eavesdropper.
pub const CIPHERTEXT_MEANING: &str =
    "ciphertext: without the session keys these bytes look random; only their length leaks";
/// The AEAD authentication tag.
pub const TAG_MEANING: &str = "authentication tag: the receiver recomputes it and rejects the record if a single bit changed (AEAD, RFC 8446 §5.2)";
/// The authentication tag (or MAC) of a TLS 1.2 record.
pub const TAG_MEANING_TLS12: &str = "authentication tag (or MAC): the receiver recomputes it and rejects the record if a single bit changed (RFC 5246 §6.2.3)";
/// TLS 1.3's inner content type.
pub const INNER_TYPE_MEANING: &str = "the real content type, hidden as the last plaintext byte: outside, every TLS 1.3 record says application_data (RFC 8446 §5.2)";
/// The application's byte count.
pub const APP_LENGTH_MEANING: &str =
    "bytes the program handed to the socket in one write: the only bytes it chose; every layer below adds its own";
/// The application's byte count, over TLS.
pub const APP_LENGTH_MEANING_TLS: &str =
    "bytes the program handed to TLS in one write: the only bytes it chose; every layer below adds its own";
/// Who talked to whom.
pub const PARTIES_MEANING: &str =
    "the chat server relays each line: a client's line goes to the server, which writes it to every other client connected";

/// What a record's content type means here.
pub fn content_type_meaning(ct: ContentType, encrypted: bool, tls13: bool) -> String {
    match ct {
        ContentType::ApplicationData if encrypted && tls13 => "application_data on the outside: every encrypted TLS 1.3 record says so, hiding whether it holds handshake, alert or data (RFC 8446 §5.2)".into(),
        ContentType::ApplicationData => "application_data: the application's bytes, encrypted (RFC 5246 §6.2)".into(),
        ContentType::Handshake if encrypted => "handshake, encrypted: TLS 1.2 leaves the record's type in clear and encrypts only its body, so anyone sees that a handshake message went by, but not which one or what it says (RFC 5246 §6.2.3)".into(),
        ContentType::Handshake => "handshake: messages that agree on version, cipher and keys (RFC 8446 §4)".into(),
        ContentType::ChangeCipherSpec => "change_cipher_spec: in TLS 1.2 \"from now on I encrypt\"; in TLS 1.3 a dummy for old middleboxes (RFC 8446 Appendix D.4)".into(),
        ContentType::Alert if encrypted => "alert, encrypted: TLS 1.2 leaves the record's type in clear, so anyone sees that an alert went by, but which alert only the endpoints know (RFC 5246 §6.2.3, §7.2)".into(),
        ContentType::Alert => "alert: a warning or an error, e.g. close_notify or unknown_ca (RFC 8446 §6)".into(),
        ContentType::Heartbeat => "heartbeat: keep-alive request or response (RFC 6520)".into(),
        ContentType::Unknown(n) => format!("unknown ({n}): no RFC defines this content type"),
    }
}

/// What decrypted bytes mean.
pub fn plaintext_meaning(ct: ContentType, len: usize, tls13: bool) -> String {
    let extra = if tls13 {
        " + 1 byte inner content type"
    } else {
        ""
    };
    format!(
        "what the endpoints read after decrypting with the session keys: {len} B of {ct}{extra}"
    )
}

/// What a record body in clear holds.
pub fn clear_body_meaning(ct: ContentType) -> String {
    match ct {
        ContentType::Handshake => "sent in clear: anyone capturing can read these handshake messages (in TLS 1.3 only the hellos; the rest is encrypted)".into(),
        ContentType::Alert => "an alert in clear: level and description".into(),
        ContentType::ChangeCipherSpec => "one byte, 0x01".into(),
        other => format!("{other} body, not encrypted"),
    }
}

/// The application column as an eavesdropper sees it.
pub fn eavesdropper_text(len: usize) -> String {
    format!("encrypted: an eavesdropper sees only that about {} went by, not what they say (press e for the endpoints' view)", byte_count(len))
}

/// What the application's line is.
pub fn text_meaning(len: usize, tls: bool) -> String {
    let to = if tls { "TLS" } else { "TCP" };
    format!(
        "the line the program handed to {to}: {}, ending with the newline that ends every chat line",
        byte_count(len)
    )
}

/// A field's meaning as the explanation line shows it, after "name = value: ": without the
/// restatement of the value that many meanings start with ("4284410332: the initial…",
/// "Checksum 0xfe30: correct…", "64240 bytes: no scaling…", "SYN, ACK: second step…"), which
/// would otherwise say the value twice. The meanings keep it for readers that show them alone.
pub fn explanation<'a>(value: &str, meaning: &'a str) -> &'a str {
    // A value in brackets ("[SYN, ACK]") is restated without them.
    let bare = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    for sep in [": ", ", "] {
        if let Some(rest) = meaning.strip_prefix(bare).and_then(|m| m.strip_prefix(sep)) {
            return rest;
        }
    }
    // Else the first clause goes when it is a few words naming the value: its number ("TTL 64",
    // "code 0", "ICMP type 8", "20 bytes") or the name in its brackets ("request" of
    // "1 (request)"); not a word of a list ("PSH" of "[PSH, ACK]", which goes on to explain it).
    let end = [": ", ", "]
        .iter()
        .filter_map(|sep| meaning.find(sep))
        .min();
    let Some(end) = end else {
        return meaning;
    };
    let lead = &meaning[..end];
    let word = |w: &str| {
        w.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ','))
            .to_lowercase()
    };
    let gloss = bare
        .split_once('(')
        .and_then(|(_, g)| g.split_once(')'))
        .map_or("", |(g, _)| g);
    let value_words: Vec<String> = bare
        .split(' ')
        .filter(|w| w.contains(|c: char| c.is_ascii_digit()))
        .chain(gloss.split(' '))
        .map(word)
        .filter(|w| !w.is_empty())
        .collect();
    let names_value =
        lead.split(' ').count() <= 3 && lead.split(' ').any(|w| value_words.contains(&word(w)));
    if names_value {
        &meaning[end + 2..]
    } else {
        meaning
    }
}

/// The view the decryption toggle is in; `plain` when no connection on screen carries TLS.
pub fn view_name(decrypted: bool, plain: bool) -> &'static str {
    if plain {
        "on the wire (plain TCP: nothing is encrypted)"
    } else if decrypted {
        "endpoints' view (decrypted)"
    } else {
        "eavesdropper's view (ciphertext)"
    }
}

/// The status line after `e` when nothing is encrypted.
pub const NOTHING_TO_DECRYPT: &str =
    "plain TCP: nothing to decrypt, an eavesdropper sees what the endpoints see";

/// An encrypted record as an eavesdropper sees it: only what its header says, the outer content
/// type and the size (`len`, header included, as every record row counts it). TLS 1.3 always says
/// application_data (RFC 8446 §5.2); TLS 1.2 keeps the real type in the header and encrypts only
/// the body (RFC 5246 §6.2.3).
pub fn wire_record(ct: ContentType, len: usize) -> String {
    if ct == ContentType::ApplicationData {
        format!("{ct} {len} B")
    } else {
        format!("{ct} (encrypted) {len} B")
    }
}

/// The application column of a frame whose records an eavesdropper cannot open.
pub const ENCRYPTED_RECORDS: &str = "encrypted TLS 1.3 records all say application_data outside: an eavesdropper cannot tell whether they carry the application's bytes or TLS's own messages, only how long they are (press e for the endpoints' view)";

/// A lesson focus's value that only decryption shows, in the eavesdropper's view.
pub const FOCUS_ENCRYPTED: &str = "(encrypted: press e for the endpoints' view)";
/// Follow stream's last line in the eavesdropper's view.
pub const STREAM_CIPHERTEXT: &str =
    "(eavesdropper's view: each encrypted record as it travels, its 5-byte header, then the rest, unreadable without the keys; press e for the plaintext)";

/// Follow stream, after the first bytes of a long record.
pub fn more_bytes(n: usize) -> String {
    format!("    … {n} more bytes of this record")
}

/// What a relative sequence number is.
pub fn relative_seq_meaning(rel: u32, sender: &str) -> String {
    format!(
        "{rel}: the same position counted from the {sender}'s first byte (its SYN is 0, its first data byte 1), as Wireshark shows it; the raw number starts at a random value (the initial sequence number) so that strangers cannot guess it"
    )
}

/// What a relative acknowledgment number is.
pub fn relative_ack_meaning(rel: u32, peer: &str) -> String {
    format!(
        "{rel}: the next byte expected from the {peer}, counted from the {peer}'s first byte; everything before it has arrived"
    )
}

/// What the window is in bytes, after window scaling (RFC 7323).
pub fn window_bytes_meaning(field: u16, shift: Option<u8>) -> String {
    match shift {
        Some(0) => format!(
            "{field} bytes: no scaling here (a SYN's window is never scaled, and without the window scale option in both SYNs the field is the window)"
        ),
        Some(s) => format!(
            "{} bytes: the window field {field} × 2^{s}, because both SYNs carried the window scale option (RFC 7323); the sender can take this many more bytes before the other side must wait",
            u32::from(field) << s
        ),
        None => format!(
            "{field}: the handshake was not captured, so the scale factor agreed in the SYNs is unknown and the real window may be larger (Wireshark shows the field as it is too)"
        ),
    }
}

/// What Wireshark's verdicts on a segment mean, for a student (see `flow::analysis`).
pub fn analysis_meaning(a: &crate::flow::AnalysisFlags) -> String {
    let mut out: Vec<String> = Vec::new();
    if a.lost_segment {
        out.push("this segment starts beyond everything seen so far from its sender: an earlier segment was lost before the capture point (or not captured)".into());
    }
    if let Some(n) = a.duplicate_ack {
        out.push(format!("duplicate ACK number {n}: the receiver repeats its last acknowledgement because data arrived with a hole before it; three of these make the sender resend at once (fast retransmit, RFC 5681 §3.2)"));
    }
    if a.fast_retransmission {
        out.push("fast retransmission: resent right after duplicate ACKs asked for exactly this byte, without waiting for the retransmission timer".into());
    } else if a.spurious_retransmission {
        out.push("spurious retransmission: the receiver had already acknowledged these bytes, so sending them again was not needed".into());
    } else if a.retransmission {
        out.push("retransmission: these bytes were sent before and are sent again, usually because their acknowledgement did not come back in time (the retransmission timer)".into());
    }
    if a.out_of_order {
        out.push("out of order: these bytes come soon after bytes that follow them (within one round trip), so Wireshark guesses they were overtaken on the way rather than sent again; on a link that drops packets it is often a quick resend all the same".into());
    }
    if a.keep_alive {
        out.push("keep-alive: one byte the receiver already has, sent only to check that the other side is still there".into());
    }
    if a.window_update {
        out.push("window update: nothing new but a bigger receive window, telling the sender it may send more".into());
    }
    if a.zero_window {
        out.push("zero window: the sender of this segment has no room left for data, so the other side must wait until a window update opens it again".into());
    }
    if a.zero_window_probe {
        out.push("zero window probe: one byte sent while the receiver's window is 0, to learn when it opens again".into());
    }
    format!(
        "{} (Wireshark's TCP analysis, decided the same way)",
        out.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::{eavesdropper_text, explanation, text_meaning};

    #[test]
    fn one_byte_is_one_byte_not_one_bytes() {
        assert!(eavesdropper_text(1).contains("about 1 byte went by"));
        assert!(eavesdropper_text(2).contains("about 2 bytes went by"));
        assert!(text_meaning(1, true).contains("to TLS: 1 byte, ending"));
        assert!(text_meaning(7, false).contains("to TCP: 7 bytes, ending"));
    }

    #[test]
    fn the_explanation_drops_a_leading_restatement_of_the_value() {
        for (value, meaning, shown) in [
            (
                "4284410332",
                "4284410332: the initial sequence number",
                "the initial sequence number",
            ),
            ("0", "0: the same position", "the same position"),
            ("64240", "64240 bytes: no scaling here", "no scaling here"),
            (
                "0xfe30 [offloaded]",
                "Checksum 0xfe30: not filled in",
                "not filled in",
            ),
            ("64", "TTL 64: routers on the way", "routers on the way"),
            ("[SYN, ACK]", "SYN, ACK: second step", "second step"),
            (
                "1 (request)",
                "request: who has 10.73.1.2?",
                "who has 10.73.1.2?",
            ),
            (
                "20 bytes (5 words)",
                "20 bytes, the minimum: no options",
                "the minimum: no options",
            ),
            (
                "5",
                "5, ignored because the URG flag is not set",
                "ignored because the URG flag is not set",
            ),
            (
                "127.0.0.1",
                "127.0.0.1: the sender's address",
                "the sender's address",
            ),
            ("::1", "::1: the sender's address", "the sender's address"),
        ] {
            assert_eq!(explanation(value, meaning), shown, "{value}");
        }
        // A meaning that does not restate the value is left whole.
        for (value, meaning) in [
            (
                "[PSH, ACK]",
                "PSH: deliver the data now; ACK: the acknowledgment number is valid",
            ),
            ("\"hi\\n\"", "the line the program handed to TLS: 3 bytes"),
            ("0", "0 is best effort, the default"),
            ("1 B", "one byte, 0x01"),
        ] {
            assert_eq!(explanation(value, meaning), meaning, "{value}");
        }
    }
}
