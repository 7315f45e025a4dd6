//! PDF page count and text excerpt (content), under the default limits: never a panic,
//! the excerpt bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_content::domain::processing::{PdfLimits, TEXT_EXCERPT_CHARS, process_pdf_with};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(metadata) = process_pdf_with(bytes, &PdfLimits::default())
        && let Some(excerpt) = metadata.text_excerpt
    {
        assert!(excerpt.chars().count() <= TEXT_EXCERPT_CHARS);
    }
});
