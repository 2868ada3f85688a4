//! Helpers shared by the fuzz targets (included with `#[path]`, not a module of packetpath).
#![allow(dead_code)] // each target uses a part

use packetpath::dissect::{dissect, Packet};
use packetpath::frame::LinkType;

/// The link types a frame can start with, chosen by a fuzz input's first byte.
pub const LINKS: [LinkType; 5] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::NullLoopback,
];

/// Dissects `data` as a frame of `link`, then asks for everything a view would ask for: every
/// present layer's fields and the layer of a handful of byte offsets. Checks the promises the
/// dissector documents (ranges inside the frame, no layer past the end).
pub fn exercise_frame(link: LinkType, data: &[u8]) -> Packet {
    let packet = dissect(link, data);
    assert_eq!(packet.len, data.len(), "Packet::len is the captured length");
    assert!(
        packet.payload.start <= packet.payload.end && packet.payload.end <= data.len(),
        "payload {:?} is not inside the {}-byte frame",
        packet.payload,
        data.len()
    );
    let layers: Vec<_> = packet.layers().collect();
    for &layer in &layers {
        if let Some(range) = packet.range(layer) {
            assert!(
                range.start <= range.end && range.end <= data.len(),
                "{layer} range {range:?} is not inside the {}-byte frame",
                data.len()
            );
        }
        for field in packet.fields(layer, data) {
            assert!(
                field.range.start <= field.range.end && field.range.end <= data.len(),
                "{layer} field {:?} range {:?} is not inside the {}-byte frame",
                field.name,
                field.range,
                data.len()
            );
            // A view shows these; make sure formatting them cannot fail either.
            std::hint::black_box((&field.value, &field.meaning));
        }
    }
    if let Some(stop) = &packet.stop {
        std::hint::black_box(stop.to_string());
    }
    let len = data.len();
    let offsets = [
        0,
        1,
        13,
        14,
        15,
        16,
        20,
        33,
        34,
        54,
        len / 2,
        len.saturating_sub(1),
        len,
        len + 1,
        usize::MAX,
    ];
    for offset in offsets {
        let layer = packet.layer_at(offset);
        if offset >= len {
            assert_eq!(layer, None, "byte {offset} is past the {len}-byte frame");
        }
    }
    packet
}
