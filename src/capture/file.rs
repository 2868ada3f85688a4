//! Reading capture files: recognising the format by its magic number, and the classic pcap format.
//!
//! Classic pcap (<https://www.tcpdump.org/manpages/pcap-savefile.5.html>, draft-ietf-opsawg-pcap):
//! a 24-byte global header whose magic number tells the byte order and the time unit
//! (`a1b2c3d4`: microseconds, `a1b23c4d`: nanoseconds), then per frame a 16-byte record header
//! (seconds, fraction, captured length, original length) and the captured bytes.
//! The header and records are read with pcap-file; lengths are checked here so that a damaged file
//! keeps every frame before the damage. pcapng lives in `pcapng.rs`.

use std::path::Path;

use bytes::Bytes;
use pcap_file::pcap::PcapParser;
use pcap_file::{Endianness, PcapError, TsResolution};

use super::{pcapng, CaptureFile, FileError, FileFormat, ReadError};
use crate::frame::{Frame, LinkType, Timestamp};

/// The pcapng Section Header Block type, which every pcapng file starts with.
pub(super) const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// Classic pcap magic numbers as they appear in the file: µs big-endian, µs little-endian,
/// ns big-endian, ns little-endian.
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];
/// Size of the classic pcap global header and of each record header.
const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;
/// A record claiming more captured bytes than this is corrupt (real snap lengths are at most 256 KiB;
/// the limit is generous so that unusual but honest files still read).
const MAX_RECORD_LEN: u32 = 64 << 20;

/// Reads a pcap or pcapng capture held in memory.
///
/// Returns `Err` only if the bytes are neither format. A file that is cut short or corrupt part-way
/// returns `Ok` with every frame before the damage and [`CaptureFile::error`] set.
pub fn read_capture(bytes: &[u8]) -> Result<CaptureFile, FileError> {
    read_capture_bytes(Bytes::copy_from_slice(bytes))
}

/// Reads a pcap or pcapng capture file from disk (see [`read_capture`]). The file is mapped,
/// not copied: its bytes come from the page cache (no fresh buffer of the file's size to fault
/// in and fill), and every frame is a slice of the map.
pub fn read_capture_file(path: &Path) -> Result<CaptureFile, FileError> {
    let bytes = super::sys::map_file(path).map_err(|reason| FileError::Open {
        path: path.to_path_buf(),
        reason,
    })?;
    read_capture_bytes(bytes).map_err(|e| match e {
        FileError::NotCapture(why) => FileError::NotCapture(format!("{}: {why}", path.display())),
        other => other,
    })
}

/// The secrets and custom blocks of a whole capture, before any frame is read (see
/// `pcapng::skim`); nothing for classic pcap, which has neither.
/// `passed(offset)` is called after each block, with where the next one starts.
pub(super) fn skim(all: &Bytes, passed: &mut dyn FnMut(usize)) -> CaptureFile {
    if all.get(..4) == Some(&PCAPNG_SHB[..]) {
        pcapng::skim(all, passed)
    } else {
        CaptureFile::empty(FileFormat::Pcap)
    }
}

/// Frames are slices of `all`, so the file's bytes are stored once.
fn read_capture_bytes(all: Bytes) -> Result<CaptureFile, FileError> {
    let mut reader = CaptureReader::new(all)?;
    while reader.read(usize::MAX) {}
    Ok(reader.file)
}

/// Reads a capture a few frames at a time, so that whoever shows it can start before the end of
/// a large file is reached. Frames are slices of the bytes given (a file read into memory, or
/// mapped: [`super::sys::map_file`]), so they are stored once.
pub struct CaptureReader {
    all: Bytes,
    format: Incremental,
    /// What was read so far: frames (the caller may take them as they come), secrets, custom
    /// blocks, comments, and where the file is damaged.
    pub file: CaptureFile,
    done: bool,
}

enum Incremental {
    Pcap(PcapState),
    Pcapng(pcapng::Reader),
}

/// Where a classic pcap file is being read.
struct PcapState {
    parser: Option<PcapParser>,
    link: LinkType,
    unit_ns: i128,
    big: bool,
    at: usize,
}

impl CaptureReader {
    /// Recognises the format from the magic number; `Err` if the bytes are neither pcap nor
    /// pcapng.
    pub fn new(all: Bytes) -> Result<CaptureReader, FileError> {
        let Some(magic) = all.get(..4) else {
            return Err(FileError::NotCapture(format!(
                "the data is {} bytes long; a capture file starts with a 4-byte magic number",
                all.len()
            )));
        };
        let (format, file) = if magic == PCAPNG_SHB {
            let reader = pcapng::Reader::new(&all)?;
            (Incremental::Pcapng(reader), pcapng::empty_file(all.len()))
        } else if PCAP_MAGICS.iter().any(|m| m == magic) {
            let mut file = CaptureFile::empty(FileFormat::Pcap);
            let state = pcap_header(&all, &mut file);
            (Incremental::Pcap(state), file)
        } else {
            return Err(FileError::NotCapture(format!(
                "it starts with {magic:02x?}, which is neither a pcap magic number (a1b2c3d4 or a1b23c4d, in either \
                 byte order) nor a pcapng Section Header Block (0a0d0d0a)"
            )));
        };
        let done = file.error.is_some();
        Ok(CaptureReader {
            all,
            format,
            file,
            done,
        })
    }

    /// Reads up to `max` more frames into [`CaptureReader::file`] (with the blocks around
    /// them); false once the end of the data, or damage, was reached.
    pub fn read(&mut self, max: usize) -> bool {
        if self.done {
            return false;
        }
        let more = match &mut self.format {
            Incremental::Pcapng(r) => r.read(&self.all, &mut self.file, max),
            Incremental::Pcap(state) => read_pcap_records(&self.all, state, &mut self.file, max),
        };
        self.done = !more;
        more
    }

    /// The frames read since the last call, taken out of [`CaptureReader::file`].
    pub fn take_frames(&mut self) -> Vec<Frame> {
        let frames = std::mem::take(&mut self.file.frames);
        self.file.taken += frames.len();
        frames
    }

    /// Bytes read so far, for progress.
    pub fn position(&self) -> usize {
        match &self.format {
            Incremental::Pcapng(r) => r.position(),
            Incremental::Pcap(state) => state.at,
        }
    }

    /// Bytes in all, read or not.
    pub fn total_bytes(&self) -> usize {
        self.all.len()
    }
}

/// Reads a classic pcap file's global header (its magic number already recognised).
fn pcap_header(all: &Bytes, file: &mut CaptureFile) -> PcapState {
    let mut state = PcapState {
        parser: None,
        link: LinkType::Ethernet,
        unit_ns: 1_000,
        big: false,
        at: PCAP_HEADER_LEN,
    };
    match PcapParser::new(all) {
        Ok((_, parser)) => {
            let header = parser.header();
            state.big = header.endianness == Endianness::Big;
            // The link-type field's low 16 bits are the LINKTYPE_ value; the upper bits may carry
            // FCS information (draft-ietf-opsawg-pcap section 4), which we do not need.
            let link_field = read_u32(all, 20, state.big).unwrap_or(0);
            state.link = LinkType::from_number(link_field & 0xffff);
            state.unit_ns = match header.ts_resolution {
                TsResolution::MicroSecond => 1_000,
                TsResolution::NanoSecond => 1,
            };
            state.parser = Some(parser);
        }
        Err(e) => {
            let reason = match e {
                PcapError::IncompleteBuffer => format!(
                    "truncated pcap file header at byte 0: the header is {PCAP_HEADER_LEN} bytes, the file has {}",
                    all.len()
                ),
                other => format!("unreadable pcap file header at byte 0: {other}"),
            };
            file.error = Some(ReadError::new(0, reason));
        }
    }
    state
}

/// Reads up to `max` packet records of a classic pcap file; false at the end or at damage.
fn read_pcap_records(
    all: &Bytes,
    state: &mut PcapState,
    file: &mut CaptureFile,
    max: usize,
) -> bool {
    let Some(parser) = &state.parser else {
        return false;
    };
    let big = state.big;
    let mut read = 0;
    while read < max {
        let offset = state.at;
        let rest = all.get(offset..).unwrap_or_default();
        if rest.is_empty() {
            return false;
        }
        let fail = |reason: String| Some(ReadError::new(offset, reason));
        if let Some(claimed) = read_u32(rest, 8, big).filter(|&n| n > MAX_RECORD_LEN) {
            file.error = fail(format!(
                "corrupt packet record at byte {offset}: it claims {claimed} captured bytes, more than any \
                 real frame (limit {MAX_RECORD_LEN})"
            ));
            return false;
        }
        match parser.next_raw_packet(rest) {
            Ok((remainder, raw)) => {
                let start = offset + PCAP_RECORD_HEADER_LEN;
                let data = all.slice(start..start + raw.data.len());
                let at = i128::from(raw.ts_sec) * 1_000_000_000
                    + i128::from(raw.ts_frac) * state.unit_ns;
                file.frames.push(Frame {
                    at: Timestamp(at),
                    link: state.link,
                    data,
                    orig_len: raw.orig_len,
                    interface: 0,
                });
                state.at = all.len() - remainder.len();
                read += 1;
            }
            Err(PcapError::IncompleteBuffer) => {
                file.error = fail(if rest.len() < PCAP_RECORD_HEADER_LEN {
                    format!(
                        "truncated packet record at byte {offset}: a record header is {PCAP_RECORD_HEADER_LEN} \
                         bytes, only {} remain",
                        rest.len()
                    )
                } else {
                    format!(
                        "truncated packet record at byte {offset}: its header says {} captured bytes follow, \
                         only {} remain",
                        read_u32(rest, 8, big).unwrap_or(0),
                        rest.len() - PCAP_RECORD_HEADER_LEN
                    )
                });
                return false;
            }
            Err(other) => {
                file.error = fail(format!(
                    "unreadable packet record at byte {offset}: {other}"
                ));
                return false;
            }
        }
    }
    true
}

/// The 32-bit field at `at`, in the file's byte order; `None` past the end.
pub(super) fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// The 16-bit field at `at`, in the file's byte order; `None` past the end.
pub(super) fn read_u16(bytes: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
