//! Fuzzes the pcap/pcapng reader, then dissects every frame it returns.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = packetpath::capture::read_capture(data) else {
        return;
    };
    for frame in &file.frames {
        assert!(
            frame.data.len() <= data.len(),
            "a frame cannot hold more bytes than the file"
        );
        // Unknown link types are kept by number; the dissector must cope with them too.
        common::exercise_frame(frame.link, &frame.data);
    }
    for (index, _comment) in &file.comments {
        assert!(
            *index < file.frames.len(),
            "comment for frame {index} of {}",
            file.frames.len()
        );
    }
    let (_keys, _warnings) = packetpath::tls::Keys::parse_nss(&file.keylog);
    if let Some(err) = &file.error {
        std::hint::black_box(err.to_string());
    }
});
