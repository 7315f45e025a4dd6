//! Image processing (content): header, bounded decode, thumbnail and the re-encoded copy
//! without metadata. Never a panic; a processed picture is within the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_content::domain::processing::{ImageLimits, process_image_with};

const LIMITS: ImageLimits = ImageLimits {
    thumbnail_size: 32,
    max_pixels: 1_000_000,
    max_side: 4000,
    max_display_side: 512,
};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(processed) = process_image_with(bytes, &LIMITS) {
        assert!(u64::from(processed.width) * u64::from(processed.height) <= LIMITS.max_pixels);
    }
});
