//! TCP options (RFC 9293 §3.1 and §3.2): MSS, window scale and timestamps (RFC 7323), SACK and
//! SACK-permitted (RFC 2018), NOP, end of list, and any other kind kept as raw bytes.
//!
//! Hand-parsed rather than with etherparse's option iterator, which stops at kinds it does not
//! know and gives no byte positions; the hex view needs both.

use std::ops::{Deref, Range};

use super::field::{be16, be32, byte, hex_string, Field};

const EOL: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WINDOW_SCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMPS: u8 = 8;

/// The most SACK blocks an option can hold (2 + 4 × 8 = 34 of the 40 option bytes).
pub const MAX_SACK_BLOCKS: usize = 4;

/// The options of a TCP header, decoded. Options that appear twice keep their last value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size: the most payload bytes the sender will accept per segment (SYN only).
    pub mss: Option<u16>,
    /// Window scale shift count: the sender's window field is multiplied by 2^shift (SYN only).
    pub window_scale: Option<u8>,
    /// The sender can receive selective acknowledgments.
    pub sack_permitted: bool,
    /// Selective acknowledgment: byte ranges (left edge, right edge) received beyond a gap.
    pub sack_blocks: SackBlocks,
    /// Timestamp value and echo reply (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// Frame offset of an option whose length is missing or runs past the header; the options
    /// after it could not be read.
    pub malformed_at: Option<usize>,
}

/// Up to four SACK blocks, stored inline so dissecting a segment never allocates. Dereferences to
/// a slice of `(left edge, right edge)` sequence numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SackBlocks {
    len: u8,
    blocks: [(u32, u32); MAX_SACK_BLOCKS],
}

impl SackBlocks {
    /// The blocks present, in the order the option lists them.
    pub fn as_slice(&self) -> &[(u32, u32)] {
        self.blocks.get(..usize::from(self.len)).unwrap_or_default()
    }

    fn set(&mut self, blocks: impl Iterator<Item = (u32, u32)>) {
        *self = SackBlocks::default();
        for (slot, block) in self.blocks.iter_mut().zip(blocks) {
            *slot = block;
            self.len += 1;
        }
    }
}

impl Deref for SackBlocks {
    type Target = [(u32, u32)];
    fn deref(&self) -> &[(u32, u32)] {
        self.as_slice()
    }
}

/// One entry in the options area, with its position relative to the options' start.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item<'a> {
    /// A whole option: kind, and its bytes including the kind and length bytes.
    Option {
        at: usize,
        kind: u8,
        bytes: &'a [u8],
    },
    /// Bytes after an end-of-list option.
    Padding { at: usize, len: usize },
    /// An option whose length byte is missing, below 2, or runs past the header.
    Malformed { at: usize, kind: u8 },
}

/// Walks the options area: single-byte EOL and NOP, otherwise kind, length, data (RFC 9293 §3.1).
/// After an end-of-list option the remaining bytes are reported once, as padding.
struct Items<'a> {
    options: &'a [u8],
    at: usize,
    done: bool,
    padding: Option<(usize, usize)>,
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        if let Some((at, len)) = self.padding.take() {
            return Some(Item::Padding { at, len });
        }
        if self.done {
            return None;
        }
        let at = self.at;
        let kind = byte(self.options, at)?;
        let len = match kind {
            EOL | NOP => 1,
            _ => match byte(self.options, at + 1).map(usize::from) {
                Some(len) if len >= 2 && at + len <= self.options.len() => len,
                _ => {
                    self.done = true;
                    return Some(Item::Malformed { at, kind });
                }
            },
        };
        if kind == EOL {
            self.done = true;
            let rest = self.options.len().saturating_sub(at + 1);
            if rest > 0 {
                self.padding = Some((at + 1, rest));
            }
        }
        self.at = at + len;
        let bytes = self.options.get(at..at + len).unwrap_or_default();
        Some(Item::Option { at, kind, bytes })
    }
}

fn items(options: &[u8]) -> Items<'_> {
    Items {
        options,
        at: 0,
        done: false,
        padding: None,
    }
}

/// What one option says, once its kind and length are checked.
enum Decoded<'a> {
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(&'a [u8]),
    Timestamps(u32, u32),
    Nop,
    Eol,
    /// A known kind with the wrong length.
    BadLength {
        expected: &'static str,
    },
    Unknown,
}

fn decode(kind: u8, bytes: &[u8]) -> Decoded<'_> {
    let len = bytes.len();
    match (kind, len) {
        (EOL, _) => Decoded::Eol,
        (NOP, _) => Decoded::Nop,
        (MSS, 4) => be16(bytes, 2).map_or(Decoded::Unknown, Decoded::Mss),
        (MSS, _) => Decoded::BadLength { expected: "4" },
        (WINDOW_SCALE, 3) => byte(bytes, 2).map_or(Decoded::Unknown, Decoded::WindowScale),
        (WINDOW_SCALE, _) => Decoded::BadLength { expected: "3" },
        (SACK_PERMITTED, 2) => Decoded::SackPermitted,
        (SACK_PERMITTED, _) => Decoded::BadLength { expected: "2" },
        (SACK, 10 | 18 | 26 | 34) => Decoded::Sack(bytes.get(2..).unwrap_or_default()),
        (SACK, _) => Decoded::BadLength {
            expected: "10, 18, 26 or 34",
        },
        (TIMESTAMPS, 10) => match (be32(bytes, 2), be32(bytes, 6)) {
            (Some(val), Some(ecr)) => Decoded::Timestamps(val, ecr),
            _ => Decoded::Unknown,
        },
        (TIMESTAMPS, _) => Decoded::BadLength { expected: "10" },
        _ => Decoded::Unknown,
    }
}

fn sack_blocks(edges: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    edges
        .chunks_exact(8)
        .filter_map(|c| Some((be32(c, 0)?, be32(c, 4)?)))
}

/// Decodes the options area of a TCP header that starts at frame offset `start`.
pub(crate) fn parse(options: &[u8], start: usize) -> TcpOptions {
    let mut out = TcpOptions::default();
    for item in items(options) {
        match item {
            Item::Option { kind, bytes, .. } => match decode(kind, bytes) {
                Decoded::Mss(v) => out.mss = Some(v),
                Decoded::WindowScale(v) => out.window_scale = Some(v),
                Decoded::SackPermitted => out.sack_permitted = true,
                Decoded::Sack(edges) => out.sack_blocks.set(sack_blocks(edges)),
                Decoded::Timestamps(v, e) => out.timestamps = Some((v, e)),
                _ => {}
            },
            Item::Malformed { at, .. } => out.malformed_at = Some(start + at),
            Item::Padding { .. } => {}
        }
    }
    out
}

/// One annotated field per option of the options area starting at frame offset `start`.
pub(crate) fn fields(options: &[u8], start: usize, out: &mut Vec<Field>) {
    for item in items(options) {
        out.push(match item {
            Item::Option { at, kind, bytes } => {
                option_field(kind, bytes, start + at..start + at + bytes.len())
            }
            Item::Padding { at, len } => Field::new(
                "Options padding",
                start + at..start + at + len,
                super::field::byte_count(len),
                "bytes after the end-of-list option that fill the header to a multiple of 4 bytes",
            ),
            Item::Malformed { at, kind } => Field::new(
                "Option: malformed",
                start + at..start + options.len(),
                format!("option kind {kind}, length missing or too long"),
                "this option's length byte is missing, below 2, or runs past the end of the TCP header, so the options from here on cannot be read",
            ),
        });
    }
}

fn option_field(kind: u8, bytes: &[u8], range: Range<usize>) -> Field {
    match decode(kind, bytes) {
        Decoded::Mss(mss) => Field::new(
            "Option: MSS",
            range,
            format!("{mss} bytes"),
            "Maximum segment size: the most bytes of data the sender accepts per segment, its link's MTU minus 40 bytes of IP and TCP headers (1460 on 1500-byte Ethernet; 65,495 on Linux loopback)".to_string(),
        ),
        Decoded::WindowScale(shift) => Field::new(
            "Option: Window scale",
            range,
            format!("{shift} (multiply by {})", 1u64 << shift.min(63)),
            format!("Window scale (RFC 7323 §2): after the handshake this side's window field counts in units of 2^{shift} bytes, so windows beyond 65,535 bytes fit in 16 bits{}", if shift > 14 { "; values above 14 are treated as 14" } else { "" }),
        ),
        Decoded::SackPermitted => Field::new(
            "Option: SACK permitted",
            range,
            "yes",
            "the sender understands selective acknowledgments (RFC 2018): after a loss, the receiver may report exactly which later blocks arrived",
        ),
        Decoded::Sack(edges) => {
            let blocks: Vec<String> = sack_blocks(edges).map(|(l, r)| format!("{l}-{r}")).collect();
            Field::new(
                "Option: SACK",
                range,
                blocks.join(", "),
                "Selective acknowledgment (RFC 2018): these byte ranges (raw sequence numbers, left edge to right edge) arrived although earlier bytes are missing, so the sender resends only the gaps",
            )
        }
        Decoded::Timestamps(val, ecr) => Field::new(
            "Option: Timestamps",
            range,
            format!("TSval {val}, TSecr {ecr}"),
            "Timestamps (RFC 7323 §3): the sender's clock value and an echo of the peer's latest one; they measure round-trip time and reject old segments whose sequence numbers wrapped around",
        ),
        Decoded::Nop => Field::new(
            "Option: NOP",
            range,
            "1 byte",
            "No-operation: one byte of filler so the next option starts on a 4-byte boundary",
        ),
        Decoded::Eol => Field::new(
            "Option: End of list",
            range,
            "1 byte",
            "End of option list: no options follow",
        ),
        Decoded::BadLength { expected } => Field::new(
            "Option: bad length",
            range.clone(),
            format!("option kind {kind}, length {} (expected {expected})", range.len()),
            format!("option kind {kind} ({}) has the wrong length, so its value is not used; bytes {}", option_name(kind), hex_string(bytes, 16)),
        ),
        Decoded::Unknown => Field::new(
            "Option: unknown",
            range,
            format!("option kind {kind}, {} bytes", bytes.len()),
            format!("TCP option kind {kind} ({}) is not decoded by packetpath; its bytes are {}", option_name(kind), hex_string(bytes, 16)),
        ),
    }
}

/// Names from the IANA "TCP Option Kind Numbers" registry, for options packetpath does not decode.
fn option_name(kind: u8) -> &'static str {
    match kind {
        MSS => "maximum segment size",
        WINDOW_SCALE => "window scale",
        SACK_PERMITTED => "SACK permitted",
        SACK => "SACK",
        TIMESTAMPS => "timestamps",
        19 => "MD5 signature",
        27 => "Quick-Start response",
        28 => "user timeout",
        29 => "TCP authentication option",
        30 => "Multipath TCP",
        34 => "TCP Fast Open cookie",
        69 => "encryption negotiation",
        253 | 254 => "experimental",
        _ => "unassigned",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_sack_blocks_and_bad_lengths() {
        #[rustfmt::skip]
        let options = [
            1, 1,                       // NOP, NOP
            5, 34,                      // SACK, 4 blocks
            0, 0, 0, 1, 0, 0, 0, 2,     //   1-2
            0, 0, 0, 3, 0, 0, 0, 4,     //   3-4
            0, 0, 0, 5, 0, 0, 0, 6,     //   5-6
            0, 0, 0, 7, 0, 0, 0, 8,     //   7-8
            2, 3, 0xff,                 // MSS with length 3 instead of 4
            0,                          // end of list
        ];
        let o = parse(&options, 100);
        assert_eq!(o.sack_blocks.as_slice(), &[(1, 2), (3, 4), (5, 6), (7, 8)]);
        assert_eq!(o.sack_blocks.len(), 4);
        assert_eq!(o.mss, None);
        assert_eq!(o.malformed_at, None);
        let mut f = Vec::new();
        fields(&options, 100, &mut f);
        let names: Vec<_> = f.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Option: NOP",
                "Option: NOP",
                "Option: SACK",
                "Option: bad length",
                "Option: End of list"
            ]
        );
        assert_eq!(f[2].value, "1-2, 3-4, 5-6, 7-8");
        assert_eq!(f[3].range, 136..139);
        assert_eq!(f[3].value, "option kind 2, length 3 (expected 4)");
    }

    #[test]
    fn a_length_below_two_stops_the_walk() {
        let options = [3, 3, 7, 30, 1, 0, 0, 0]; // window scale 7, then kind 30 with length 1
        let o = parse(&options, 40);
        assert_eq!(o.window_scale, Some(7));
        assert_eq!(o.malformed_at, Some(43));
        let mut f = Vec::new();
        fields(&options, 40, &mut f);
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].range, 43..48);
    }
}
