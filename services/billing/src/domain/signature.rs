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
    if (now - timestamp).abs() > tolerance_secs {
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
}
