//! Reading pcapng (draft-ietf-opsawg-pcapng, "PCAP Now Generic").
//!
//! A pcapng file is a sequence of blocks, each `type (4) | total length (4) | body | total length (4)`
//! (section 3.1), in the byte order announced by the Section Header Block that opens each section.
//! This reader walks the blocks itself instead of using pcap-file's parser, because that parser treats
//! every timestamp as nanoseconds whatever the interface's `if_tsresol` says, has no Decryption Secrets
//! Block, and rejects a whole block when a comment is not valid UTF-8. Options are read leniently: a
//! malformed option list is logged and ignored, since the block's own framing is still intact.

use bytes::Bytes;

use super::file::{read_u16, read_u32, PCAPNG_SHB};
use super::{CaptureFile, CustomBlock, FileError, FileFormat, ReadError};
use crate::frame::{Frame, LinkType, Timestamp};

/// Block types (section 11.1 of the draft).
pub(super) mod block_type {
    /// Section Header Block: starts a section, fixes its byte order.
    pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    /// Interface Description Block: link type, snap length, time resolution of one interface.
    pub const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
    /// Packet Block (obsolete, replaced by the Enhanced Packet Block).
    pub const PACKET: u32 = 0x0000_0002;
    /// Simple Packet Block: a frame with no time, from interface 0.
    pub const SIMPLE_PACKET: u32 = 0x0000_0003;
    /// Enhanced Packet Block: a frame with interface, time and options.
    pub const ENHANCED_PACKET: u32 = 0x0000_0006;
    /// Decryption Secrets Block: key material, e.g. a TLS key log.
    pub const DECRYPTION_SECRETS: u32 = 0x0000_000A;
    /// Custom Block that a rewriting tool may copy.
    pub const CUSTOM_COPYABLE: u32 = 0x0000_0BAD;
    /// Custom Block that a rewriting tool must not copy.
    pub const CUSTOM_NO_COPY: u32 = 0x4000_0BAD;
}

/// Decryption Secrets Block secrets type for an NSS TLS key log ("TLSK").
pub(super) const SECRETS_TLS_KEYLOG: u32 = 0x544c_534b;
/// Byte-order magic at the start of a Section Header Block body (section 4.1).
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Option codes: `opt_endofopt`, `opt_comment`, `if_name`, `if_tsresol`, `if_tsoffset`.
const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// What an Interface Description Block says about the frames of its interface.
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Raw `if_tsresol`: high bit clear = 10^-n seconds, set = 2^-n seconds; default 6 (µs).
    tsresol: u8,
    /// `if_tsoffset`: seconds to add to every timestamp.
    tsoffset: i64,
}

/// The section being read: its byte order and interfaces (numbered from 0 in order of appearance).
struct Section {
    big_endian: bool,
    interfaces: Vec<Interface>,
}

/// A block's body and where it sits, for error messages.
struct Block<'a> {
    kind: u32,
    offset: usize,
    body: &'a [u8],
    /// Offset of `body` within the file.
    body_at: usize,
    /// Offset of the next block.
    end: usize,
}

/// An empty pcapng capture, with room for the frames a file of `len` bytes likely holds.
pub(super) fn empty_file(len: usize) -> CaptureFile {
    let mut file = CaptureFile::empty(FileFormat::Pcapng);
    // Room for frames of ~400 bytes on average (block overhead included), so a large file's frame
    // list is not copied again and again while it grows; a smaller guess only means a regrowth.
    // Capped: a reader that hands frames on as it goes keeps few at a time.
    file.frames.reserve((len / 400).min(1 << 16));
    file
}

/// Where a pcapng file is being read: the section's byte order and interfaces, and the next
/// block's offset.
pub(super) struct Reader {
    section: Section,
    at: usize,
}

impl Reader {
    /// Checks that the file starts with a real Section Header Block.
    pub(super) fn new(all: &[u8]) -> Result<Reader, FileError> {
        // The first block must be a real Section Header Block, or this is not pcapng at all.
        if all.len() >= 12 && section_byte_order(all, 0).is_none() {
            return Err(FileError::NotCapture(
                "it starts like a pcapng Section Header Block but its byte-order magic is not 1a2b3c4d"
                    .into(),
            ));
        }
        Ok(Reader {
            section: Section {
                big_endian: true,
                interfaces: Vec::new(),
            },
            at: 0,
        })
    }

    /// Bytes read so far.
    pub(super) fn position(&self) -> usize {
        self.at
    }

    /// Reads blocks until `max` more frames are in `file`; false at the end or at damage.
    pub(super) fn read(&mut self, all: &Bytes, file: &mut CaptureFile, max: usize) -> bool {
        let target = file.frames.len().saturating_add(max);
        while self.at < all.len() {
            if file.frames.len() >= target {
                return true;
            }
            let at = self.at;
            let section = &mut self.section;
            let step = next_block(all, at, section).and_then(|block| {
                read_block(all, &block, section, file)?;
                Ok(block.end)
            });
            match step {
                Ok(end) => self.at = end,
                Err(reason) => {
                    file.error = Some(ReadError::new(at, reason));
                    return false;
                }
            }
        }
        false
    }
}

/// The secrets (Decryption Secrets Blocks) and custom blocks of a whole file, found by walking
/// the blocks' headers without reading the frames, up to the end or the first damage (which the
/// full read reports). A reader that goes through the file once needs them before its first
/// frame: packetpath writes its ledger after the last. `passed(offset)` is called after each
/// block with where the next one starts (a reader of a large mapped file gives back the pages
/// walked).
pub(super) fn skim(all: &Bytes, passed: &mut dyn FnMut(usize)) -> CaptureFile {
    use block_type::*;
    let mut file = CaptureFile::empty(FileFormat::Pcapng);
    let mut section = Section {
        big_endian: true,
        interfaces: Vec::new(),
    };
    let mut at = 0;
    while at < all.len() {
        let Ok(block) = next_block(all, at, &mut section) else {
            break;
        };
        if matches!(
            block.kind,
            DECRYPTION_SECRETS | CUSTOM_COPYABLE | CUSTOM_NO_COPY
        ) && read_block(all, &block, &mut section, &mut file).is_err()
        {
            break;
        }
        at = block.end;
        passed(at);
    }
    file
}

/// The byte order a Section Header Block at `at` announces (`Some(true)` = big-endian).
fn section_byte_order(all: &[u8], at: usize) -> Option<bool> {
    match read_u32(all, at + 8, true)? {
        BYTE_ORDER_MAGIC => Some(true),
        m if m == BYTE_ORDER_MAGIC.swap_bytes() => Some(false),
        _ => None,
    }
}

/// The block type's name, for error messages (made only when something is wrong).
fn block_name(kind: u32) -> String {
    use block_type::*;
    match kind {
        SECTION_HEADER => "Section Header Block".into(),
        INTERFACE_DESCRIPTION => "Interface Description Block".into(),
        PACKET => "Packet Block".into(),
        SIMPLE_PACKET => "Simple Packet Block".into(),
        ENHANCED_PACKET => "Enhanced Packet Block".into(),
        DECRYPTION_SECRETS => "Decryption Secrets Block".into(),
        CUSTOM_COPYABLE | CUSTOM_NO_COPY => "Custom Block".into(),
        other => format!("block of type {other:#010x}"),
    }
}

/// Checks the framing of the block at `at` (section 3.1) and returns its body.
fn next_block<'a>(all: &'a [u8], at: usize, section: &mut Section) -> Result<Block<'a>, String> {
    let rest = all.get(at..).unwrap_or_default();
    if rest.len() < 12 {
        return Err(format!(
            "truncated block at byte {at}: a pcapng block needs at least 12 bytes (type, length, length), \
             only {} remain",
            rest.len()
        ));
    }
    if rest.get(..4) == Some(&PCAPNG_SHB[..]) {
        // A new section may switch byte order: its magic says which.
        section.big_endian = section_byte_order(all, at).ok_or_else(|| {
            format!("Section Header Block at byte {at}: byte-order magic is not 1a2b3c4d in either byte order")
        })?;
    }
    let big = section.big_endian;
    let kind = read_u32(rest, 0, big).unwrap_or(0);
    let name = || block_name(kind);
    let total = read_u32(rest, 4, big).unwrap_or(0) as usize;
    if total < 12 || total % 4 != 0 {
        return Err(format!(
            "corrupt {} at byte {at}: its total length is {total}, but pcapng block lengths are multiples \
             of 4 and at least 12",
            name()
        ));
    }
    if total > rest.len() {
        return Err(format!(
            "truncated block at byte {at}: the {} says it is {total} bytes long, only {} remain",
            name(),
            rest.len()
        ));
    }
    let trailer = read_u32(rest, total - 4, big).unwrap_or(0) as usize;
    if trailer != total {
        return Err(format!(
            "corrupt {} at byte {at}: its length is {total} at the start but {trailer} at the end",
            name()
        ));
    }
    Ok(Block {
        kind,
        offset: at,
        body: rest.get(8..total - 4).unwrap_or_default(),
        body_at: at + 8,
        end: at + total,
    })
}

/// Interprets one well-framed block.
fn read_block(
    all: &Bytes,
    b: &Block<'_>,
    section: &mut Section,
    file: &mut CaptureFile,
) -> Result<(), String> {
    use block_type::*;
    let big = section.big_endian;
    let (at, body) = (b.offset, b.body);
    let short = |needed: usize| {
        format!(
            "corrupt {} at byte {at}: its body is {} bytes, at least {needed} are needed",
            block_name(b.kind),
            body.len()
        )
    };
    match b.kind {
        SECTION_HEADER => {
            let major = read_u16(body, 4, big).ok_or_else(|| short(16))?;
            let minor = read_u16(body, 6, big).unwrap_or(0);
            if body.len() < 16 {
                return Err(short(16));
            }
            if major != 1 {
                return Err(format!(
                    "Section Header Block at byte {at}: pcapng version {major}.{minor} is not supported (only 1.x exists)"
                ));
            }
            section.interfaces.clear();
        }
        INTERFACE_DESCRIPTION => {
            let link = read_u16(body, 0, big).ok_or_else(|| short(8))?;
            let snaplen = read_u32(body, 4, big).ok_or_else(|| short(8))?;
            let mut iface = Interface {
                link: LinkType::from_number(u32::from(link)),
                snaplen,
                tsresol: 6,
                tsoffset: 0,
            };
            for (code, value) in options(body, 8, big, at) {
                match (code, value) {
                    (IF_TSRESOL, [r]) => iface.tsresol = *r,
                    (IF_TSOFFSET, v) => {
                        if let Ok(raw) = <[u8; 8]>::try_from(v) {
                            iface.tsoffset = if big {
                                i64::from_be_bytes(raw)
                            } else {
                                i64::from_le_bytes(raw)
                            };
                        }
                    }
                    _ => {}
                }
            }
            let name = options(body, 8, big, at)
                .into_iter()
                .find(|(code, _)| *code == IF_NAME)
                .map(|(_, v)| {
                    String::from_utf8_lossy(v)
                        .trim_end_matches('\0')
                        .to_string()
                })
                .unwrap_or_default();
            // IDs restart with each section: the names of the section being read.
            file.interface_names.truncate(section.interfaces.len());
            file.interface_names.push(name);
            section.interfaces.push(iface);
        }
        ENHANCED_PACKET | PACKET => {
            // EPB: interface (4), time high (4), time low (4), captured (4), original (4).
            // PB:  interface (2), drops (2), time high (4), time low (4), captured (4), original (4).
            let (iface_id, rest_at) = if b.kind == PACKET {
                (read_u16(body, 0, big).map(u32::from), 4)
            } else {
                (read_u32(body, 0, big), 4)
            };
            let iface_id = iface_id.ok_or_else(|| short(20))?;
            let high = read_u32(body, rest_at, big).ok_or_else(|| short(20))?;
            let low = read_u32(body, rest_at + 4, big).ok_or_else(|| short(20))?;
            let captured = read_u32(body, rest_at + 8, big).ok_or_else(|| short(20))? as usize;
            let orig_len = read_u32(body, rest_at + 12, big).ok_or_else(|| short(20))?;
            let room = body.len() - 20;
            if captured > room {
                return Err(format!(
                    "corrupt {} at byte {at}: it says {captured} bytes were captured, but the block has room \
                     for only {room}",
                    block_name(b.kind)
                ));
            }
            let iface = interface(section, iface_id, at, b.kind)?;
            let units = u64::from(high) << 32 | u64::from(low);
            let at_ns = to_nanos(units, iface.tsresol) + i128::from(iface.tsoffset) * 1_000_000_000;
            let data_at = b.body_at + 20;
            file.frames.push(Frame {
                at: Timestamp(at_ns),
                link: iface.link,
                data: all.slice(data_at..data_at + captured),
                orig_len,
                interface: iface_id,
            });
            let index = file.taken + file.frames.len() - 1;
            for (code, value) in options(body, 20 + padded(captured), big, at) {
                if code == OPT_COMMENT {
                    file.comments
                        .push((index, String::from_utf8_lossy(value).into_owned()));
                }
            }
        }
        SIMPLE_PACKET => {
            // Original length (4), then the frame: as long as the block allows, at most the snap length.
            let orig_len = read_u32(body, 0, big).ok_or_else(|| short(4))?;
            let iface = interface(section, 0, at, b.kind)?;
            let mut captured = (orig_len as usize).min(body.len() - 4);
            if iface.snaplen != 0 {
                captured = captured.min(iface.snaplen as usize);
            }
            // A Simple Packet Block carries no time: such frames are stamped 0 (1970-01-01).
            let data_at = b.body_at + 4;
            file.frames.push(Frame {
                at: Timestamp(0),
                link: iface.link,
                data: all.slice(data_at..data_at + captured),
                orig_len,
                interface: 0,
            });
        }
        DECRYPTION_SECRETS => {
            // Secrets type (4), secrets length (4), secrets data padded to 4 bytes, options.
            let kind = read_u32(body, 0, big).ok_or_else(|| short(8))?;
            let len = read_u32(body, 4, big).ok_or_else(|| short(8))? as usize;
            let secrets = body.get(8..).and_then(|s| s.get(..len)).ok_or_else(|| {
                format!(
                    "corrupt Decryption Secrets Block at byte {at}: it says {len} bytes of secrets follow, the block \
                     has room for only {}",
                    body.len().saturating_sub(8)
                )
            })?;
            if kind == SECRETS_TLS_KEYLOG {
                file.keylog.push_str(&String::from_utf8_lossy(secrets));
                if !file.keylog.is_empty() && !file.keylog.ends_with('\n') {
                    file.keylog.push('\n');
                }
            } else {
                tracing::debug!(
                    offset = at,
                    secrets_type = kind,
                    "skipping secrets that are not a TLS key log"
                );
            }
        }
        CUSTOM_COPYABLE | CUSTOM_NO_COPY => {
            let pen = read_u32(body, 0, big).ok_or_else(|| short(4))?;
            file.custom.push(CustomBlock {
                pen,
                // A slice of the file, not a copy: a demo's ledger can be hundreds of MB.
                data: all.slice_ref(body.get(4..).unwrap_or_default()),
            });
        }
        other => tracing::debug!(offset = at, block_type = other, "skipping pcapng block"),
    }
    Ok(())
}

/// The interface a packet block refers to, which an Interface Description Block must have announced.
fn interface(section: &Section, id: u32, at: usize, kind: u32) -> Result<&Interface, String> {
    section.interfaces.get(id as usize).ok_or_else(|| {
        format!(
            "corrupt {} at byte {at}: it refers to interface {id}, but only {} Interface Description Blocks \
             came before it in this section",
            block_name(kind),
            section.interfaces.len()
        )
    })
}

/// `len` rounded up to a multiple of 4 (pcapng pads every variable-length field).
fn padded(len: usize) -> usize {
    len.div_ceil(4).saturating_mul(4)
}

/// Converts a timestamp in `if_tsresol` units to nanoseconds (section 4.2: high bit clear means
/// 10^-n seconds, high bit set means 2^-n seconds).
pub(super) fn to_nanos(units: u64, tsresol: u8) -> i128 {
    let units = i128::from(units);
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        // units / 2^n seconds; units * 1e9 < 2^94, so the product never overflows.
        (units * 1_000_000_000) >> n
    } else if n <= 9 {
        units * 10i128.pow(9 - n)
    } else {
        10i128.checked_pow(n - 9).map_or(0, |d| units / d)
    }
}

/// Iterates the options of a block body starting at `from`: (code, value) pairs, until `opt_endofopt`
/// or the end of the body. A malformed option list is logged and cut short.
fn options(body: &[u8], from: usize, big: bool, block_at: usize) -> Vec<(u16, &[u8])> {
    let mut found = Vec::new();
    let mut at = from;
    while at < body.len() {
        let (Some(code), Some(len)) = (read_u16(body, at, big), read_u16(body, at + 2, big)) else {
            tracing::warn!(
                block_at,
                "pcapng options end in the middle of an option header; ignoring the rest"
            );
            break;
        };
        if code == OPT_END {
            break;
        }
        let Some(value) = body.get(at + 4..).and_then(|v| v.get(..usize::from(len))) else {
            tracing::warn!(
                block_at,
                code,
                len,
                "pcapng option runs past the end of its block; ignoring the rest"
            );
            break;
        };
        found.push((code, value));
        at += 4 + padded(usize::from(len));
    }
    found
}

#[cfg(test)]
#[path = "pcapng_tests.rs"]
mod tests;
