//! Helpers shared by this module's tests.

/// An Ethernet + IPv4 + TCP frame as loopback carries it (zero MACs, no checksums computed).
/// `flags` is the TCP flags byte (0x02 SYN, 0x12 SYN-ACK, 0x18 PSH-ACK, ...).
pub(crate) fn tcp_frame(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12]; // destination MAC, source MAC
    f.extend_from_slice(&[0x08, 0x00]); // EtherType IPv4
    f.extend_from_slice(&[0x45, 0x00]); // version 4, IHL 5; DSCP/ECN
    f.extend_from_slice(&(40 + payload.len() as u16).to_be_bytes()); // total length
    f.extend_from_slice(&[0x12, 0x34, 0x40, 0x00]); // identification; flags DF, fragment offset 0
    f.extend_from_slice(&[64, 6, 0, 0]); // TTL 64, protocol TCP, header checksum (not computed)
    f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]); // source, destination address
    f.extend_from_slice(&sport.to_be_bytes()); // source port
    f.extend_from_slice(&dport.to_be_bytes()); // destination port
    f.extend_from_slice(&1000u32.to_be_bytes()); // sequence number
    f.extend_from_slice(&0u32.to_be_bytes()); // acknowledgment number
    f.extend_from_slice(&[0x50, flags]); // data offset 5 (20 bytes); flags
    f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]); // window; checksum; urgent pointer
    f.extend_from_slice(payload);
    f
}

/// Builds pcapng files block by block, in either byte order, for fixtures (draft-ietf-opsawg-pcapng).
pub(crate) struct Pcapng {
    pub bytes: Vec<u8>,
    big: bool,
    /// For each block: (start offset, end offset, whether it adds a frame).
    pub blocks: Vec<(usize, usize, bool)>,
}

impl Pcapng {
    /// A file opening with a Section Header Block in the given byte order.
    pub fn new(big_endian: bool) -> Self {
        let mut p = Pcapng {
            bytes: Vec::new(),
            big: big_endian,
            blocks: Vec::new(),
        };
        p.section(big_endian);
        p
    }

    pub fn u16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    pub fn u32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// An option: code, length, value, zero padding to 4 bytes.
    pub fn opt(&self, code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = self.u16(code).to_vec();
        o.extend_from_slice(&self.u16(value.len() as u16));
        o.extend_from_slice(value);
        o.resize(o.len().div_ceil(4) * 4, 0);
        o
    }

    /// A block: type, total length, body padded to 4, total length.
    pub fn block(&mut self, kind: u32, body: &[u8], is_frame: bool) {
        let start = self.bytes.len();
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        self.bytes.extend_from_slice(&self.u32(kind));
        self.bytes.extend_from_slice(&self.u32(total));
        self.bytes.extend_from_slice(body);
        self.bytes.resize(start + 8 + padded, 0);
        self.bytes.extend_from_slice(&self.u32(total));
        self.blocks.push((start, self.bytes.len(), is_frame));
    }

    /// Section Header Block: byte-order magic, version 1.0, section length -1 (unknown).
    pub fn section(&mut self, big_endian: bool) {
        self.big = big_endian;
        let mut body = self.u32(0x1A2B_3C4D).to_vec();
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0A0D_0D0A, &body, false);
    }

    /// Interface Description Block: link type, reserved, snap length, optional `if_tsresol`.
    pub fn interface(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>) {
        let mut body = self.u16(link).to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.u32(snaplen));
        if let Some(r) = tsresol {
            body.extend(self.opt(9, &[r]));
            body.extend(self.opt(0, &[]));
        }
        self.block(1, &body, false);
    }

    /// Enhanced Packet Block: interface, time (high, low), captured and original length, data, options.
    pub fn packet(
        &mut self,
        iface: u32,
        units: u64,
        data: &[u8],
        orig: u32,
        comment: Option<&str>,
    ) {
        let mut body = self.u32(iface).to_vec();
        body.extend_from_slice(&self.u32((units >> 32) as u32));
        body.extend_from_slice(&self.u32(units as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        if let Some(c) = comment {
            body.extend(self.opt(1, c.as_bytes()));
            body.extend(self.opt(0, &[]));
        }
        self.block(6, &body, true);
    }
}

/// The sample captures in `captures/`, sorted: what the tests that read every sample go through.
pub(crate) fn sample_captures() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut all: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng" || e == "pcap"))
        .collect();
    all.sort();
    assert!(all.len() >= 8, "the samples are in {}", dir.display());
    all
}
