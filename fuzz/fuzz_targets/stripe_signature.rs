//! `Stripe-Signature` checks (billing's own parser, not async-stripe's): the first line is
//! the header, the rest the payload; never a panic, whatever the clock says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_billing::domain::signature::{sign, verify};

fuzz_target!(|input: (i64, &[u8])| {
    let (now, data) = input;
    let (header, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let _ = verify(&header, payload, &["whsec_a", "whsec_b"], now, 300);
    let good = format!("t={now},v1={}", sign("whsec_b", now, payload));
    assert_eq!(
        verify(&good, payload, &["whsec_a", "whsec_b"], now, 300),
        Ok(())
    );
});
