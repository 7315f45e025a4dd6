//! `Stripe-Signature` verification: `t=<unix>,v1=<hex>[,v1=<hex>…]`; each `v1` is
//! HMAC-SHA256 over `"<t>.<raw body>"` with a webhook secret. Any configured secret
//! matching any `v1` passes (secret rotation), compared in constant time; the timestamp
//! must be within the tolerance of now (replay protection).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Malformed,
    NoSecrets,
    OutsideTolerance,
    NoMatch,
}

impl SignatureError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed header",
            Self::NoSecrets => "no webhook secret is configured",
            Self::OutsideTolerance => "timestamp outside the tolerance",
            Self::NoMatch => "no signature matches",
        }
    }
}

/// The `v1` signature of `payload` at `timestamp` with `secret` (hex).
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, payload))
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

pub fn verify(
    header: &str,
    payload: &[u8],
    secrets: &[&str],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecrets);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed);
        };
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {} // v0 and future schemes are ignored
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // `now - timestamp` overflows for a timestamp far from now (`t=-9223372036854775808`).
    let within =
        u64::try_from(tolerance_secs).is_ok_and(|tolerance| now.abs_diff(timestamp) <= tolerance);
    if !within {
        return Err(SignatureError::OutsideTolerance);
    }
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = mac(secret, timestamp, payload);
        for signature in &signatures {
            matched |= expected.as_slice().ct_eq(signature.as_slice());
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    #[test]
    fn accepts_any_v1_with_any_secret_and_rejects_the_rest() {
        let now = 1_800_000_000;
        let good = sign("whsec_new", now, BODY);
        let header = format!("t={now},v1={},v1={good}", "00".repeat(32));
        assert_eq!(
            verify(&header, BODY, &["whsec_old", "whsec_new"], now, 300),
            Ok(())
        );
        assert_eq!(
            verify(&header, BODY, &["whsec_other"], now, 300),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&header, b"{\"id\":\"evt_2\"}", &["whsec_new"], now, 300),
            Err(SignatureError::NoMatch),
            "a changed body fails"
        );
        assert_eq!(
            verify(&header, BODY, &["whsec_new"], now + 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(&header, BODY, &["whsec_new"], now + 300, 300),
            Ok(())
        );
        assert_eq!(
            verify("v1=abc", BODY, &["s"], now, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify("garbage", BODY, &["s"], now, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&header, BODY, &[], now, 300),
            Err(SignatureError::NoSecrets)
        );
    }

    #[test]
    fn a_timestamp_far_from_now_is_refused_not_a_panic() {
        // Found by `never_panics_on_near_valid_headers`: `now - t` overflowed.
        let header = format!("t={},v1={}", i64::MIN, "00".repeat(32));
        assert_eq!(
            verify(&header, BODY, &["s"], 1_800_000_000, 300),
            Err(SignatureError::OutsideTolerance)
        );
        let header = format!("t={},v1=00", i64::MAX);
        assert_eq!(
            verify(&header, BODY, &["s"], -1_800_000_000, 300),
            Err(SignatureError::OutsideTolerance)
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_on_arbitrary_headers(
                header in ".{0,200}",
                payload in proptest::collection::vec(any::<u8>(), 0..64),
                now in any::<i64>(),
                tolerance in any::<i64>(),
            ) {
                let _ = verify(&header, &payload, &["whsec"], now, tolerance);
            }

            #[test]
            fn never_panics_on_near_valid_headers(
                header in marquee_testkit::props::signature_header(),
                now in any::<i64>(),
                tolerance in prop_oneof![Just(300i64), any::<i64>()],
            ) {
                let _ = verify(&header, BODY, &["whsec"], now, tolerance);
            }

            /// What we sign verifies; one changed byte of the body or of the signature
            /// does not.
            #[test]
            fn a_signature_verifies_and_any_single_byte_change_does_not(
                secret in "[ -~]{1,40}",
                payload in proptest::collection::vec(any::<u8>(), 1..200),
                timestamp in 0i64..4_000_000_000,
                index in any::<prop::sample::Index>(),
                flip in 1u8..=255,
            ) {
                let signature = sign(&secret, timestamp, &payload);
                let header = format!("t={timestamp},v1={signature}");
                prop_assert_eq!(verify(&header, &payload, &[&secret], timestamp, 300), Ok(()));

                let mut tampered = payload.clone();
                tampered[index.index(payload.len())] ^= flip;
                prop_assert_eq!(
                    verify(&header, &tampered, &[&secret], timestamp, 300),
                    Err(SignatureError::NoMatch)
                );

                let mut raw = hex::decode(&signature).unwrap();
                let at = index.index(raw.len());
                raw[at] ^= flip;
                let header = format!("t={timestamp},v1={}", hex::encode(raw));
                prop_assert_eq!(
                    verify(&header, &payload, &[&secret], timestamp, 300),
                    Err(SignatureError::NoMatch)
                );
            }
        }
    }
}
