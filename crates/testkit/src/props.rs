//! proptest strategies shared by several crates' property tests.

use proptest::prelude::*;

/// A `t=<timestamp>,v1=<hex>` signature header (Stripe's `Stripe-Signature`, campaign's
/// `X-Marquee-Signature`) from the grammar, give or take: timestamps of any size and
/// sign (overflowing ones too), hex or not, stray separators, junk parts, empty parts.
pub fn signature_header() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        any::<i64>().prop_map(|t| format!("t={t}")),
        "-?[0-9]{1,25}".prop_map(|t| format!("t={t}")),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| format!("v1={}", hex::encode(b))),
        "[0-9a-fA-FxX]{0,66}".prop_map(|h| format!("v1={h}")),
        "[ ,=tv01]{0,6}",
        ".{0,12}",
    ];
    proptest::collection::vec(part, 0..6).prop_map(|parts| parts.join(","))
}
