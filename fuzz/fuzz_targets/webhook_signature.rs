//! `X-Marquee-Signature` checks (campaign's webhook connector): the first line is the
//! header, the rest the body. A random header never verifies; a real one for the same
//! body always does.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use marquee_campaign::publish::webhook::{DEFAULT_SIGNATURE_TOLERANCE, sign, verify_signature};
use secrecy::SecretString;

const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let secret = SecretString::from("whsec_fuzz");
    let now = DateTime::from_timestamp(NOW, 0).unwrap();
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let _ = verify_signature(&secret, &header, body, now, DEFAULT_SIGNATURE_TOLERANCE);
    let signed = sign(&secret, NOW, body);
    assert!(verify_signature(
        &secret,
        &signed,
        body,
        now,
        DEFAULT_SIGNATURE_TOLERANCE
    ));
});
