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
    let (keys, _warnings) = packetpath::tls::Keys::parse_nss(&file.keylog);
    // The whole engine over what was read: TCP streams, TLS records, decryption with the file's
    // own secrets, and what a view asks for again (layers, plaintext).
    let trace = packetpath::journey::Trace::from_frames(file.frames.clone(), keys);
    for entry in trace.frames() {
        std::hint::black_box(entry.packet());
    }
    for record in trace.records() {
        match (trace.plaintext(record), record.info.decrypted) {
            (Some(plain), Some(p)) => {
                assert_eq!(plain.len(), p.len, "a record opens again to the same length")
            }
            (None, None) => {}
            (plain, p) => panic!("record {record:?}: plaintext {plain:?} but decrypted {p:?}"),
        }
    }
    if let Some(err) = &file.error {
        std::hint::black_box(err.to_string());
    }
});
