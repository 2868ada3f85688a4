//! Fuzzes IP fragment reassembly through the whole engine: the input describes a run of IPv4 and
//! IPv6 fragments (raw IP frames) between a few addresses and identifications, which go to
//! `Trace::push_frame` one by one (reassembly, then TCP tracking and TLS of what completes).
//!
//! Input format, repeated until the input ends:
//!   byte 0: bit 7 = IPv6 (else IPv4), bit 6 = More fragments, bits 4-5 = source (of 4),
//!           bits 0-3 = identification (of 16)
//!   bytes 1-2: fragment offset in 8-byte units (13 bits, big-endian; high bits ignored)
//!   byte 3: n, the data length (0..=255)
//!   n bytes of fragment data (fewer if the input ends)
//!
//! Checks: nothing panics; a frame that completes a packet gives it back whole
//! (`Trace::reassembled`: an unfragmented IP packet); every fragment frame belongs to a packet
//! (`Trace::fragment_of`) that lists it, and a packet reassembled in a frame lists that frame;
//! the JSON and text of every frame, and its fragment line, can be made.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packetpath::dissect::dissect;
use packetpath::flow::DatagramState;
use packetpath::frame::{Frame, LinkType, Timestamp};
use packetpath::journey::Trace;

fn fragment(control: u8, offset: u16, data: &[u8]) -> Vec<u8> {
    let v6 = control & 0x80 != 0;
    let more = control & 0x40 != 0;
    let src = (control >> 4) & 3;
    let id = control & 0x0f;
    let offset = offset & 0x1fff;
    let mut f = Vec::with_capacity(48 + data.len());
    if v6 {
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[44, 64]);
        f.extend_from_slice(&[0; 15]);
        f.push(1 + src);
        f.extend_from_slice(&[0; 15]);
        f.push(9);
        f.extend_from_slice(&[6, 0]);
        f.extend_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&u32::from(id).to_be_bytes());
    } else {
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, id]);
        f.extend_from_slice(&(offset | if more { 0x2000 } else { 0 }).to_be_bytes());
        f.extend_from_slice(&[64, 6, 0, 0, 10, 0, 0, 1 + src, 10, 0, 0, 9]);
    }
    f.extend_from_slice(data);
    f
}

fuzz_target!(|input: &[u8]| {
    let mut trace = Trace::new();
    let mut rest = input;
    let mut at = 0i128;
    while let [control, hi, lo, n, tail @ ..] = rest {
        let len = usize::from(*n).min(tail.len());
        let (data, after) = tail.split_at(len);
        rest = after;
        let bytes = fragment(*control, u16::from_be_bytes([*hi, *lo]), data);
        at += 1_000_000_000; // one second apart: the 60-second timeout comes into play
        trace.push_frame(Frame {
            at: Timestamp(at),
            link: LinkType::RawIp,
            orig_len: bytes.len() as u32,
            data: bytes.into(),
            interface: 0,
        });
    }
    let events = packetpath::report::app_events_by_frame(&trace);
    for entry in trace.frames() {
        let n = entry.number;
        let p = dissect(entry.frame.link, &entry.frame.data);
        if let Some((bytes, whole)) = trace.reassembled(n) {
            let ip = whole.ip.as_ref().expect("a reassembled packet has an IP layer");
            assert!(!ip.is_fragment(), "frame {n}: the whole packet is no fragment");
            assert_eq!(whole.len, bytes.len());
        }
        if p.ip.as_ref().is_some_and(|ip| ip.is_fragment()) {
            let d = trace.fragment_of(n).expect("every fragment belongs to a packet");
            assert!(d.fragments.contains(&n), "frame {n} is listed by its packet");
            if let DatagramState::Reassembled { frame } = d.state {
                // Completed by one of its own fragments, the last of them to come.
                assert!(d.fragments.contains(&frame));
                assert!(d.fragments.iter().all(|&f| f <= frame));
            }
            std::hint::black_box(packetpath::report::fragment_line(&trace, n));
        }
        let app = events.get(&n).map(Vec::as_slice).unwrap_or_default();
        std::hint::black_box(packetpath::report::frame_json(&trace, entry, app));
        std::hint::black_box(packetpath::report::frame_text(&trace, entry, app, Timestamp(0)));
    }
});
