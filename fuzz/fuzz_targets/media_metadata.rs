//! MP4/QuickTime box headers and duration, and plain-text excerpts (content): never a
//! panic, a box within the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_content::domain::processing::{box_header, mp4_duration_ms, process_text};

fuzz_target!(|bytes: &[u8]| {
    let remaining = bytes.len() as u64;
    if let Some(header) = box_header(bytes, remaining) {
        assert!(header.size >= 8 && header.size <= remaining);
    }
    let _ = mp4_duration_ms(bytes);
    let _ = process_text(bytes);
});
