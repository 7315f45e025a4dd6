//! Short-lived signed download URLs: an HMAC-SHA256, keyed by the content service's
//! `signing_key`, over the asset id, the variant and the expiry. Whoever holds the URL
//! may download that variant until it expires, without a token; verification is in
//! constant time (`Mac::verify_slice`).

use crate::error::{ContentError, Result};
use hmac::{Hmac, Mac};
use marquee_platform::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Lifetime when the caller asks for none.
pub const DEFAULT_EXPIRES_IN_SECS: u32 = 15 * 60;
/// Which bytes of an asset (a signed URL names one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Published,
    Thumbnail,
    Original,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Thumbnail => "thumbnail",
            Self::Original => "original",
        }
    }
}

/// The longest lifetime a URL may have; longer requests are capped.
pub const MAX_EXPIRES_IN_SECS: u32 = 60 * 60;

const CONTEXT: &str = "marquee-signed-download/v1";

/// The key: the configured one, else random bytes for this process (URLs then stop
/// working when the process restarts, and differ between replicas).
#[derive(Clone)]
pub struct SigningKey(SecretString);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(**redacted**)")
    }
}

impl SigningKey {
    pub fn from_settings(configured: Option<&SecretString>) -> Self {
        match configured {
            Some(key) if !key.expose_secret().is_empty() => Self(key.clone()),
            _ => Self::random(),
        }
    }

    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(SecretString::from(hex::encode(bytes)))
    }

    fn mac(&self, id: &str, variant: Variant, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(format!("{CONTEXT}\n{id}\n{}\n{expires}", variant.name()).as_bytes());
        mac
    }

    /// Lowercase hex signature.
    pub fn sign(&self, id: &str, variant: Variant, expires: i64) -> String {
        hex::encode(self.mac(id, variant, expires).finalize().into_bytes())
    }

    /// Checks the signature (constant time), then the expiry against `now` (Unix
    /// seconds): a tampered URL is `invalid_signature` even when it also expired.
    pub fn verify(
        &self,
        id: &str,
        variant: Variant,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<()> {
        let valid = hex::decode(signature)
            .ok()
            .is_some_and(|bytes| self.mac(id, variant, expires).verify_slice(&bytes).is_ok());
        if !valid {
            return Err(ContentError::denied(
                "invalid_signature",
                "the download URL's signature is not valid",
            ));
        }
        if now > expires {
            return Err(ContentError::denied(
                "url_expired",
                "the download URL has expired",
            ));
        }
        Ok(())
    }
}

/// The lifetime to grant for a request of `requested` seconds (0 = default).
pub fn lifetime(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_EXPIRES_IN_SECS,
        n => n.min(MAX_EXPIRES_IN_SECS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_expire() {
        let key = SigningKey::from_settings(Some(&SecretString::from("k")));
        let signature = key.sign("a1", Variant::Published, 100);
        key.verify("a1", Variant::Published, 100, &signature, 100)
            .unwrap();
        let code = |r: Result<()>| marquee_platform::Error::from(r.unwrap_err()).code;
        assert_eq!(
            code(key.verify("a1", Variant::Published, 100, &signature, 101)),
            "url_expired"
        );
        for (id, variant, expires, sig) in [
            ("a2", Variant::Published, 100, signature.as_str()),
            ("a1", Variant::Original, 100, signature.as_str()),
            ("a1", Variant::Published, 9999, signature.as_str()),
            ("a1", Variant::Published, 100, "zz"),
            ("a1", Variant::Published, 100, ""),
        ] {
            assert_eq!(
                code(key.verify(id, variant, expires, sig, 0)),
                "invalid_signature"
            );
        }
        let other = SigningKey::random();
        assert_eq!(
            code(other.verify("a1", Variant::Published, 100, &signature, 0)),
            "invalid_signature"
        );
        assert_eq!(format!("{key:?}"), "SigningKey(**redacted**)");
    }

    #[test]
    fn lifetimes_are_capped() {
        assert_eq!(lifetime(0), DEFAULT_EXPIRES_IN_SECS);
        assert_eq!(lifetime(60), 60);
        assert_eq!(lifetime(100_000), MAX_EXPIRES_IN_SECS);
    }
}
