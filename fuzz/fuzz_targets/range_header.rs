//! `Range` header values (gateway downloads): never a panic; a parsed range is a start
//! with an end no smaller, or a suffix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_gateway::api::assets::parse_range;

fuzz_target!(|value: &str| {
    if let Some(range) = parse_range(Some(value)) {
        match (range.start, range.end, range.suffix) {
            (Some(start), end, None) => assert!(end.is_none_or(|end| end >= start)),
            (None, None, Some(_)) => {}
            other => panic!("{other:?} from {value:?}"),
        }
    }
});
