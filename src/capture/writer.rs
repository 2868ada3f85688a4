//! Writing pcapng files that Wireshark opens with the right times and decrypts on its own.
//!
//! Block layout follows draft-ietf-opsawg-pcapng. pcap-file writes the blocks; this module adds what
//! it lacks or gets wrong by default:
//! - `if_tsresol = 9` on every Interface Description Block, because pcap-file writes Enhanced Packet
//!   Block times in nanoseconds while readers assume microseconds without the option (section 4.2);
//! - the Decryption Secrets Block (section 4.7), written as a raw block: secrets type `TLSK`,
//!   secrets length, the NSS key-log text, zero padding to 4 bytes;
//! - Custom Blocks (section 4.8) carrying an IANA Private Enterprise Number and opaque data.

use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::blocks::unknown::UnknownBlock;
use pcap_file::pcapng::{Block, PcapNgWriter};
use pcap_file::{DataLink, Endianness, PcapError};

use super::pcapng::{block_type, SECRETS_TLS_KEYLOG};
use super::FileError;
use crate::frame::{Frame, LinkType};

/// `if_tsresol` value 9: timestamps count nanoseconds (10^-9 s).
const NANOSECONDS: u8 = 9;
/// Snap length announced for each interface: 0 means "no limit" (section 4.2).
const NO_SNAPLEN_LIMIT: u32 = 0;

/// Writes a pcapng file: one section, one interface per (interface, link type) of the frames, in
/// the order they first appear, packets, secrets, custom data.
pub struct PcapngWriter<W: Write> {
    inner: PcapNgWriter<W>,
    /// The frames' interface and link type of each Interface Description Block written so far;
    /// the index is the interface ID written.
    interfaces: Vec<(u32, LinkType)>,
    /// Names for the frames' interfaces (`if_name`), by [`Frame::interface`].
    names: Vec<String>,
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a file: a Section Header Block (native byte order, `shb_userappl` "packetpath") and an
    /// Interface Description Block for `link` with nanosecond timestamps.
    pub fn new(out: W, link: LinkType) -> Result<Self, FileError> {
        let mut writer = Self::new_named(out, Vec::new())?;
        writer.interface_id(0, link)?;
        Ok(writer)
    }

    /// Starts a file as [`PcapngWriter::new`] does, with one Interface Description Block per name,
    /// in order, each naming its interface (`if_name`, Wireshark's `frame.interface_name`): frames
    /// whose [`Frame::interface`] is `i` (and whose link is `link`) go to interface `i`.
    pub fn with_interface_names(
        out: W,
        link: LinkType,
        names: &[String],
    ) -> Result<Self, FileError> {
        let mut writer = Self::new_named(out, names.to_vec())?;
        for i in 0..names.len() {
            writer.interface_id(i as u32, link)?;
        }
        if names.is_empty() {
            writer.interface_id(0, link)?;
        }
        Ok(writer)
    }

    fn new_named(out: W, names: Vec<String>) -> Result<Self, FileError> {
        let section = SectionHeaderBlock {
            endianness: Endianness::native(),
            options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                "packetpath",
            ))],
            ..Default::default()
        };
        let inner = PcapNgWriter::with_section_header(out, section).map_err(write_error)?;
        Ok(PcapngWriter {
            inner,
            interfaces: Vec::new(),
            names,
        })
    }

    /// Writes a Decryption Secrets Block holding a TLS key log (NSS format, one secret per line), so that
    /// Wireshark decrypts the TLS records of this file without a separate key-log option.
    pub fn write_secrets(&mut self, keylog_text: &str) -> Result<(), FileError> {
        let len = u32::try_from(keylog_text.len()).map_err(|_| FileError::TooLarge {
            what: "the key log",
            len: keylog_text.len(),
        })?;
        let mut body = Vec::with_capacity(8 + keylog_text.len());
        body.extend_from_slice(&self.u32_bytes(SECRETS_TLS_KEYLOG));
        body.extend_from_slice(&self.u32_bytes(len));
        body.extend_from_slice(keylog_text.as_bytes());
        // pcap-file pads the body with zeros to a multiple of 4 and computes the block length.
        self.raw_block(block_type::DECRYPTION_SECRETS, &body)
    }

    /// Writes one frame as an Enhanced Packet Block (time in nanoseconds since 1970).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), FileError> {
        self.packet(frame, Vec::new())
    }

    /// Writes one frame with a packet comment (`opt_comment`), shown by Wireshark as `frame.comment`.
    pub fn write_frame_with_comment(
        &mut self,
        frame: &Frame,
        comment: &str,
    ) -> Result<(), FileError> {
        // A pcapng option holds at most 65,535 bytes (its length is 16 bits): cut longer comments
        // at a character boundary rather than write a corrupt block.
        const MAX_OPTION: usize = u16::MAX as usize;
        let mut end = comment.len().min(MAX_OPTION);
        while !comment.is_char_boundary(end) {
            end -= 1;
        }
        let comment = comment.get(..end).unwrap_or_default();
        self.packet(
            frame,
            vec![EnhancedPacketOption::Comment(Cow::Borrowed(comment))],
        )
    }

    /// Writes a copyable Custom Block (type 0x00000BAD) with the Private Enterprise Number `pen`.
    /// The data is padded with zeros to a multiple of 4 bytes; pcapng records no shorter length, so a
    /// reader gets the padding back (put a length inside `data` if the exact size matters).
    /// Wireshark (4.0) lists each custom block as a record with its own `frame.number`: write them after
    /// the last frame to keep frame numbers the same as in packetpath.
    pub fn write_custom(&mut self, pen: u32, data: &[u8]) -> Result<(), FileError> {
        let mut body = Vec::with_capacity(4 + data.len());
        body.extend_from_slice(&self.u32_bytes(pen));
        body.extend_from_slice(data);
        self.raw_block(block_type::CUSTOM_COPYABLE, &body)
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, FileError> {
        self.inner.get_mut().flush().map_err(FileError::Write)?;
        Ok(self.inner.into_inner())
    }

    fn packet(
        &mut self,
        frame: &Frame,
        options: Vec<EnhancedPacketOption<'_>>,
    ) -> Result<(), FileError> {
        let interface_id = self.interface_id(frame.interface, frame.link)?;
        let ns =
            u64::try_from(frame.at.0).map_err(|_| FileError::TimestampOutOfRange(frame.at.0))?;
        if u32::try_from(frame.data.len()).is_err() {
            return Err(FileError::TooLarge {
                what: "a frame",
                len: frame.data.len(),
            });
        }
        let block = EnhancedPacketBlock {
            interface_id,
            timestamp: Duration::from_nanos(ns),
            original_len: frame.orig_len,
            data: Cow::Borrowed(&frame.data),
            options,
        };
        self.inner
            .write_block(&Block::EnhancedPacket(block))
            .map_err(write_error)?;
        Ok(())
    }

    /// The interface ID for frames of interface `source` and `link`, writing an Interface
    /// Description Block the first time they are seen (so a file read and written again keeps
    /// its interfaces; one interface has one link type, so another link gets its own).
    fn interface_id(&mut self, source: u32, link: LinkType) -> Result<u32, FileError> {
        if let Some(i) = self.interfaces.iter().position(|&k| k == (source, link)) {
            return Ok(i as u32);
        }
        let mut options = Vec::with_capacity(2);
        if let Some(name) = self.names.get(source as usize).filter(|n| !n.is_empty()) {
            options.push(InterfaceDescriptionOption::IfName(Cow::Owned(name.clone())));
        }
        options.push(InterfaceDescriptionOption::IfTsResol(NANOSECONDS));
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::from(link.number()),
            snaplen: NO_SNAPLEN_LIMIT,
            options,
        };
        self.inner
            .write_block(&Block::InterfaceDescription(idb))
            .map_err(write_error)?;
        self.interfaces.push((source, link));
        Ok(self.interfaces.len() as u32 - 1)
    }

    fn raw_block(&mut self, kind: u32, body: &[u8]) -> Result<(), FileError> {
        if u32::try_from(body.len() + 16).is_err() {
            return Err(FileError::TooLarge {
                what: "a block",
                len: body.len(),
            });
        }
        let block = Block::Unknown(UnknownBlock::new(kind, 0, body));
        self.inner.write_block(&block).map_err(write_error)?;
        Ok(())
    }

    /// A 32-bit field in the section's (native) byte order.
    fn u32_bytes(&self, v: u32) -> [u8; 4] {
        match self.inner.section().endianness {
            Endianness::Big => v.to_be_bytes(),
            Endianness::Little => v.to_le_bytes(),
        }
    }
}

fn write_error(e: PcapError) -> FileError {
    match e {
        PcapError::IoError(io) => FileError::Write(io),
        other => FileError::Write(std::io::Error::other(other.to_string())),
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
