//! HTML to readable text (campaign's website analysis): never a panic, the text within
//! its cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_campaign::clients::web::readable_html;

fuzz_target!(|html: &str| {
    let readable = readable_html(html, 500);
    assert!(readable.text.chars().count() <= 500);
});
