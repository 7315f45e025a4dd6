//! Service identity tokens (the `x-marquee-identity` metadata every gRPC call carries):
//! any header bytes are refused without a panic, and the unverified issuer is read from
//! any token without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_platform::service_identity::{
    IDENTITY_HEADER, IdentityVerifier, ServiceIdentity, fuzzing,
};
use std::sync::LazyLock;

static VERIFIER: LazyLock<IdentityVerifier> =
    LazyLock::new(|| IdentityVerifier::trusting("auth", &[&ServiceIdentity::generate("gateway")]));

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = fuzzing::unverified_issuer(token);
    }
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(IDENTITY_HEADER, value);
    assert!(
        VERIFIER.verify(&headers).is_err(),
        "fuzzed identity accepted: {data:?}"
    );
});
