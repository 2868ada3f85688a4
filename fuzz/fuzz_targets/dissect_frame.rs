//! Fuzzes the packet dissector: the first byte picks the link-layer header, the rest is the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link = common::LINKS[usize::from(pick) % common::LINKS.len()];
    common::exercise_frame(link, frame);
});
