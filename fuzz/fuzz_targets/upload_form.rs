//! Multipart upload bodies, read as the gateway's upload reads them (text-field limits,
//! tags, one file), in chunks split where the first byte says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_gateway::api::assets::read_form;

const CONTENT_TYPE: &str = "multipart/form-data; boundary=XyZ";

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(body.len());
    let chunks = vec![body[..at].to_vec(), body[at..].to_vec()];
    if let Ok((metadata, _size)) = futures::executor::block_on(read_form(CONTENT_TYPE, chunks)) {
        assert!(metadata.tags.len() <= 20);
        assert!(
            metadata
                .tags
                .iter()
                .all(|tag| !tag.is_empty() && tag.trim() == tag)
        );
    }
});
