//! Renderings of a [`Trace`] for scripts, handouts and tests: one JSON object per frame (the
//! `inspect` contract in ARCHITECTURE.md), a readable text line per frame, a message's journey,
//! and handouts (HTML, SVG, Markdown: [`handout`]).

pub mod attack;
pub mod handout;
mod json;
pub mod mitm;
pub mod paths;
pub mod series;
mod text;

pub use json::{checksum_name, frame_json, frame_json_line, journey_json, write_frame_json};
pub use text::{changed_bytes, cut_text, frame_text, journey_text};

use std::collections::HashMap;

use crate::journey::{RecordEntry, Trace};

/// Output format chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Readable lines for people.
    #[default]
    Text,
    /// One JSON object per frame (inspect, capture) or one object (trace).
    Json,
}

/// Output format of a message's journey (`trace`): the two of [`Format`], or a handout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum JourneyFormat {
    /// Readable lines for people.
    #[default]
    Text,
    /// One JSON object, for scripts.
    Json,
    /// A self-contained page to project or print: the encapsulation diagram, every field, the
    /// bytes coloured by layer (point at a field to see its bytes), ciphertext beside plaintext.
    Html,
    /// The encapsulation diagram alone, as an SVG image.
    Svg,
    /// The diagram, the fields and the bytes as Markdown.
    Markdown,
}

impl JourneyFormat {
    /// The handout format, if this is one.
    pub fn handout(self) -> Option<handout::HandoutFormat> {
        match self {
            JourneyFormat::Html => Some(handout::HandoutFormat::Html),
            JourneyFormat::Svg => Some(handout::HandoutFormat::Svg),
            JourneyFormat::Markdown => Some(handout::HandoutFormat::Markdown),
            JourneyFormat::Text | JourneyFormat::Json => None,
        }
    }

    /// Text or JSON (a handout format counts as text).
    pub fn plain(self) -> Format {
        match self {
            JourneyFormat::Json => Format::Json,
            _ => Format::Text,
        }
    }
}

/// For each frame number, the application events (indices into [`Trace::app_events`]) whose last
/// byte that frame delivered.
pub fn app_events_by_frame(trace: &Trace) -> HashMap<u32, Vec<usize>> {
    let mut map: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, event) in trace.app_events().iter().enumerate() {
        if let Some(frame) = trace.app_event_frame(event) {
            map.entry(frame).or_default().push(i);
        }
    }
    // Within a frame, show events in the order they happened (a write before its read).
    for events in map.values_mut() {
        events.sort_by_key(|&i| trace.app_events().get(i).map(|e| e.at));
    }
    map
}

/// Text shown for a byte string: escaped (control characters and invalid UTF-8 made visible),
/// quoted, cut after `max` characters. Only the characters shown are decoded (a 16 KB record's
/// plaintext is not turned into text to show 60 characters of it).
pub fn quoted(bytes: &[u8], max: usize) -> String {
    // As `String::from_utf8_lossy`: each invalid sequence becomes one U+FFFD.
    let mut chars = bytes.utf8_chunks().flat_map(|chunk| {
        chunk
            .valid()
            .chars()
            .chain((!chunk.invalid().is_empty()).then_some(char::REPLACEMENT_CHARACTER))
    });
    let shown: String = chars.by_ref().take(max).collect();
    let mut out = shown.escape_debug().to_string();
    if chars.next().is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}

/// What is shown instead of a record's plaintext when opening it again failed (which should
/// not happen: the reason is in the log).
pub const NOT_REOPENED: &str = "(could not be decrypted again: see the log)";

/// A decrypted record's plaintext, quoted as [`quoted`] does, or [`NOT_REOPENED`].
pub fn quoted_plaintext(trace: &Trace, record: &RecordEntry, max: usize) -> String {
    match trace.plaintext(record) {
        Some(data) => quoted(&data, max),
        None => NOT_REOPENED.to_string(),
    }
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
/// `seq=N ack=M` as a summary line shows a segment's relative numbers; the acknowledgment number
/// only when the ACK flag is set, since otherwise the field means nothing (RFC 9293 §3.1: "If the
/// ACK control bit is set, this field contains the value of the next sequence number the sender
/// of the segment is expecting to receive"), as in Wireshark's summary of a first SYN. A
/// `Display` value, so the per-frame report writes it without allocating.
pub fn seq_ack(flags: crate::dissect::TcpFlags, rel_seq: u32, rel_ack: u32) -> SeqAck {
    SeqAck {
        rel_seq,
        rel_ack: flags
            .contains(crate::dissect::TcpFlags::ACK)
            .then_some(rel_ack),
    }
}

/// See [`seq_ack`].
pub struct SeqAck {
    rel_seq: u32,
    rel_ack: Option<u32>,
}

impl std::fmt::Display for SeqAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq={}", self.rel_seq)?;
        match self.rel_ack {
            Some(ack) => write!(f, " ack={ack}"),
            None => Ok(()),
        }
    }
}

/// A MAC address as `02:73:00:00:01:01` (lowercase hex, as tshark writes it).
pub fn mac(bytes: &[u8; 6]) -> String {
    let text = mac_bytes(bytes);
    // Hex digits and colons only.
    String::from_utf8_lossy(&text).into_owned()
}

/// A byte's two lowercase hex digits.
fn hex_pair(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]]
}

/// [`mac`]'s text without a `String` (a frame's JSON writes two per frame).
pub(crate) fn mac_bytes(bytes: &[u8; 6]) -> [u8; 17] {
    let mut text = [b':'; 17];
    for (i, &b) in bytes.iter().enumerate() {
        let [hi, lo] = hex_pair(b);
        text[i * 3] = hi;
        text[i * 3 + 1] = lo;
    }
    text
}

/// A 16-bit field as `0x0800` (an EtherType, a TLS version), without a `String`.
pub(crate) fn hex16_bytes(value: u16) -> [u8; 6] {
    let [a, b] = value.to_be_bytes();
    let ([a1, a2], [b1, b2]) = (hex_pair(a), hex_pair(b));
    [b'0', b'x', a1, a2, b1, b2]
}

/// A packet list's words for an IP packet whose payload is not dissected: "IP protocol 47", or
/// for a fragment after the first, what it is a piece of ("fragment of ICMP, offset 552"),
/// as tshark's "Fragmented IP protocol".
pub fn ip_payload_summary(ip: &crate::dissect::IpInfo) -> String {
    if ip.fragment_offset != 0 {
        format!(
            "fragment of {} (protocol {}), offset {}",
            crate::dissect::ip_protocol_name(ip.protocol),
            ip.protocol,
            ip.fragment_offset
        )
    } else {
        format!("IP protocol {}", ip.protocol)
    }
}

/// Why a fragmented packet was never put together, in a sentence.
pub(crate) fn not_reassembled(
    d: &crate::flow::Datagram,
    state: &crate::flow::DatagramState,
) -> String {
    match state {
        crate::flow::DatagramState::Discarded(e) => e.to_string(),
        _ => match d.data_len {
            Some(len) => format!(
                "never reassembled: {} of its {len} data bytes were captured",
                d.bytes_received()
            ),
            None => format!(
                "never reassembled: {} data bytes were captured, and not the last fragment",
                d.bytes_received()
            ),
        },
    }
}

/// What frame `number` is as an IP fragment, in one line: "fragment 2 of 3 (offset 48, id
/// 0x7004), reassembled in #14", "reassembled from fragments #12, #13, #14 (1,480 bytes)", or why
/// it never was. `None` when the frame is not a fragment.
pub fn fragment_line(trace: &Trace, number: u32) -> Option<String> {
    use crate::flow::DatagramState;
    let entry = trace.frame(number)?;
    let p = entry.headers();
    let ip = p.ip.as_ref().filter(|ip| ip.is_fragment())?;
    let d = trace.fragment_of(number)?;
    let position = d
        .fragments
        .iter()
        .position(|&f| f == number)
        .map_or(0, |i| i + 1);
    let id = ip.identification.unwrap_or(0);
    let cut = trace
        .piece_of(number)
        .map(|w| format!(", cut by a router from #{w}"))
        .unwrap_or_default();
    let this = format!(
        "fragment {position} of {} (offset {}, id 0x{id:x}{}; offset field {} × 8, {} B of data{cut})",
        d.fragments.len(),
        ip.fragment_offset,
        if ip.more_fragments {
            ", more follow"
        } else {
            ", the last"
        },
        ip.fragment_offset / 8,
        ip.packet.end.saturating_sub(ip.fragment_data_start()),
    );
    Some(match &d.state {
        DatagramState::Reassembled { frame } if *frame == number => {
            let list: Vec<String> = d.fragments.iter().map(|f| format!("#{f}")).collect();
            format!(
                "{this}; reassembled here from {} ({} bytes after the IP header)",
                list.join(", "),
                d.data_len.unwrap_or(0)
            )
        }
        DatagramState::Reassembled { frame } => format!("{this}, reassembled in #{frame}"),
        state => format!("{this}: {}", not_reassembled(d, state)),
    })
}

/// Microseconds as milliseconds with one decimal ("40.2 ms"), or "—" when unknown.
pub fn ms(us: Option<f64>) -> String {
    us.map_or_else(|| "—".into(), |us| format!("{:.1} ms", us / 1000.0))
}

/// 412000 → "412,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_decodes_only_what_it_shows_and_reads_as_lossy_utf8() {
        // The reference: decode everything, then cut.
        let reference = |bytes: &[u8], max: usize| {
            let text = String::from_utf8_lossy(bytes);
            let mut out: String = text
                .chars()
                .take(max)
                .collect::<String>()
                .escape_debug()
                .to_string();
            if text.chars().count() > max {
                out.push('…');
            }
            format!("\"{out}\"")
        };
        let long = "é".repeat(40) + "\n";
        let cases: [&[u8]; 8] = [
            b"",
            b"hi bob\n",
            long.as_bytes(),
            b"\xff\xfe ok \xe2\x82",
            b"ab\xe2\x82\xacc\xf0\x9f\x98",
            b"\x00\x01\x1b[31m",
            &[0x80; 70],
            b"exactly ten",
        ];
        for bytes in cases {
            for max in [0, 1, 5, 10, 11, 60] {
                assert_eq!(quoted(bytes, max), reference(bytes, max), "{bytes:?} {max}");
            }
        }
    }
    use crate::dissect::TcpFlags;

    /// captures/routers-fragments.pcapng: a 2,000-byte ping through two routers, middle link MTU
    /// 576 (see tests/lessons.rs `queries_read_a_fragmented_ping` for its frames).
    #[test]
    fn a_fragmented_packet_is_told_link_by_link() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures/routers-fragments.pcapng");
        let (trace, _) =
            crate::capture::open_capture(&path, None, &mut |_, _| {}).expect("the sample reads");
        let t0 = trace.frames()[0].frame.at;
        let text = |n: u32| {
            let entry = trace.frame(n).expect("frame");
            frame_text(&trace, entry, &[], t0)
        };
        // The client's first fragment: its path ends at r1, which cut it smaller.
        let first = text(5);
        assert!(
            first.contains(
                "#5 client-eth0 TTL 64 → #6 r1-eth0 TTL 64 → r1 cut it into #11, #13, #15"
            ),
            "{first}"
        );
        // A later fragment carries no ICMP header: said once, in words, with no warning.
        let later = text(13);
        assert!(
            later.contains("10.73.1.1 → 10.73.3.2  fragment of ICMP (protocol 1), offset 552"),
            "{later}"
        );
        assert!(later.contains("IP fragment 2 of 4 (offset 552"), "{later}");
        assert!(later.contains("reassembled in #29"), "{later}");
        assert!(!later.contains('!'), "{later}");
        // The client's last fragment, forwarded whole, completes the packet on the narrow link.
        let forwarded = text(29);
        assert!(
            forwarded.contains("reassembled here from #11, #13, #15, #29"),
            "{forwarded}"
        );
        // The far end of a cable: nothing changes, and it says so.
        let far = text(6);
        assert!(
            far.contains("copy of #5 on link 1, the link's other end, no router between: TTL 64 (unchanged ✓)"),
            "{far}"
        );
        assert_eq!(trace.cut_into(5), &[11, 13, 15]);
        assert!(trace.cut_into(27).is_empty(), "forwarded whole");
    }

    #[test]
    fn the_ack_number_is_shown_only_with_the_ack_flag() {
        assert_eq!(seq_ack(TcpFlags(0x002), 0, 0).to_string(), "seq=0");
        assert_eq!(seq_ack(TcpFlags(0x012), 0, 1).to_string(), "seq=0 ack=1");
        assert_eq!(seq_ack(TcpFlags(0x018), 5, 9).to_string(), "seq=5 ack=9");
    }
}

#[cfg(test)]
mod transport_tests {
    use crate::dissect::fixtures::*;
    use crate::frame::{Frame, LinkType, Timestamp};
    use crate::journey::Trace;
    use crate::tls::Keys;

    fn trace_of(frames: &[Vec<u8>]) -> Trace {
        let frames = frames
            .iter()
            .enumerate()
            .map(|(i, data)| Frame {
                at: Timestamp::from_parts(1_700_000_000 + i as i64, 0),
                link: LinkType::Ethernet,
                data: bytes::Bytes::from(data.clone()),
                orig_len: data.len() as u32,
                interface: 0,
            })
            .collect();
        Trace::from_frames(frames, Keys::default())
    }

    #[test]
    fn icmp_and_udp_frames_have_summary_lines_and_json_objects() {
        let trace = trace_of(&[
            eth_icmp_echo(),
            eth_icmp_frag_needed(),
            eth_udp(Some(0)),
            eth_icmpv6_neighbor_solicitation(),
        ]);
        let t0 = trace.frames()[0].frame.at;
        let lines: Vec<String> = trace
            .frames()
            .iter()
            .map(|e| super::frame_text(&trace, e, &[], t0))
            .collect();
        assert!(
            lines[0].contains("10.0.0.2 → 10.0.1.2  ICMP echo request id=0x1234 seq=1"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("ICMP destination unreachable (fragmentation needed, MTU 1000) about 10.0.0.2:40000 → 10.0.1.2:33434 UDP"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains("10.0.0.2:40000 → 10.0.1.2:53  UDP len=5"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("ICMPv6 neighbor solicitation for fd00::1"));

        let json: Vec<serde_json::Value> = trace
            .frames()
            .iter()
            .map(|e| super::frame_json(&trace, e, &[]))
            .collect();
        let echo = &json[0]["icmp"];
        assert_eq!(
            (
                echo["type"].as_u64(),
                echo["code"].as_u64(),
                echo["seq"].as_u64()
            ),
            (Some(8), Some(0), Some(1))
        );
        assert_eq!(echo["type_name"], "echo request");
        assert_eq!(echo["checksum"], "verified");
        assert!(json[0].get("tcp").is_none() && json[0].get("udp").is_none());
        let frag = &json[1]["icmp"];
        assert_eq!(frag["mtu"].as_u64(), Some(1000));
        assert_eq!(frag["code_name"], "fragmentation needed");
        assert_eq!(frag["quoted"]["dst_port"].as_u64(), Some(33434));
        assert_eq!(frag["quoted"]["ttl"].as_u64(), Some(63));
        let udp = &json[2]["udp"];
        assert_eq!(
            (
                udp["src_port"].as_u64(),
                udp["dst_port"].as_u64(),
                udp["length"].as_u64()
            ),
            (Some(40000), Some(53), Some(13))
        );
        assert_eq!(udp["checksum"], "none");
        assert_eq!(json[3]["icmp"]["target"], "fd00::1");
        assert_eq!(json[3]["icmp"]["version"].as_u64(), Some(6));
    }
}
