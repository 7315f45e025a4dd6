//! Envelope encryption of secrets at rest (token-signing keys in auth, connector
//! credentials in campaign).
//!
//! Every sealed record gets its own random 256-bit data key (DEK). The record is encrypted
//! with AES-256-GCM under the DEK; the DEK is wrapped by a key-encryption key (KEK) that
//! never sits in the database: a local 32-byte key from a secret or a key file
//! ([`local`]), or a Google Cloud KMS key ([`gcp_kms`]). Reading the table alone gives
//! nothing.
//!
//! Both encryptions carry associated data naming the record ([`Aad`]: what it is and
//! which row it belongs to), so a sealed value copied into another row, or another table,
//! does not open.
//!
//! The stored form is text, versioned and self-describing (see [`FORMAT_PREFIX`]):
//!
//! ```text
//! menv1.<provider>.<b64url(kek id)>.<b64url(wrapped DEK)>.<b64url(nonce)>.<b64url(ciphertext ‖ tag)>
//! ```
//!
//! `provider` is `local` or `gcp-kms`; the KEK id is `local:<16 hex>` (a fingerprint of
//! the key, not the key) or the KMS key's resource name. A record opens only under a KEK
//! the service is configured with (the current one or a listed previous one): a row
//! naming some other KMS key is refused, not sent to that key. Rotating the KEK re-wraps
//! the DEKs ([`Sealer::rewrap`]); the ciphertexts stay as they are.

pub mod gcp_kms;
pub mod local;
mod settings;

pub use settings::{KekProvider, KekSettings, KeySource};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use secrecy::SecretSlice;
use std::sync::Arc;
use zeroize::Zeroizing;

/// What every sealed value starts with; anything else is not in this format (an older
/// one, or plaintext).
pub const FORMAT_PREFIX: &str = "menv1.";

const DATA_DOMAIN: &[u8] = b"marquee-envelope.v1\0data\0";
const DEK_DOMAIN: &[u8] = b"marquee-envelope.v1\0dek\0";

/// The largest value [`Sealer::seal`] takes (secrets are small).
pub const MAX_PLAINTEXT_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The stored value is not a sealed value of a known version.
    #[error("a sealed value is malformed: {0}")]
    Malformed(&'static str),
    /// Authentication failed: tampered, moved to another row, or sealed under another key.
    #[error(
        "a sealed value does not open: it was altered, belongs to another record, or was sealed under another key"
    )]
    Refused,
    /// Sealed under a KEK this service is not configured with.
    #[error(
        "a sealed value names key-encryption key {provider} {kek_id:?}, which is not configured"
    )]
    UnknownKek { provider: String, kek_id: String },
    /// Cloud KMS or the metadata server answered with an error or not at all.
    #[error("Cloud KMS: {0}")]
    Kms(String),
    #[error("key-encryption key configuration: {0}")]
    Config(String),
    #[error("key file {path}: {error}")]
    KeyFile {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
}

pub type Result<T, E = EnvelopeError> = std::result::Result<T, E>;

/// Associated data: what a sealed value is (`purpose`) and the row it belongs to. Fields
/// are length-prefixed, so no two different lists encode alike.
#[derive(Clone, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    /// `purpose` names the kind of record, such as `auth.signing_key`.
    pub fn new(purpose: &str) -> Self {
        let mut aad = Self(Vec::new());
        aad.push(purpose.as_bytes());
        aad
    }

    /// Adds a field (`name` and its value) that identifies the row.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.push(name.as_bytes());
        self.push(value.as_bytes());
        self
    }

    fn push(&mut self, part: &[u8]) {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(part);
    }

    fn domain(&self, domain: &[u8]) -> Vec<u8> {
        let mut out = domain.to_vec();
        out.extend_from_slice(&self.0);
        out
    }
}

impl std::fmt::Debug for Aad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Aad({} bytes)", self.0.len())
    }
}

/// A key-encryption key.
#[derive(Debug)]
pub(crate) enum Kek {
    Local(local::LocalKek),
    GcpKms(gcp_kms::GcpKms),
}

impl Kek {
    fn provider(&self) -> &'static str {
        match self {
            Kek::Local(_) => local::PROVIDER,
            Kek::GcpKms(_) => gcp_kms::PROVIDER,
        }
    }

    fn id(&self) -> &str {
        match self {
            Kek::Local(kek) => kek.id(),
            Kek::GcpKms(kek) => kek.key_name(),
        }
    }

    async fn wrap(&self, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>> {
        match self {
            Kek::Local(kek) => kek.wrap(dek, aad),
            Kek::GcpKms(kek) => kek.encrypt(dek, aad).await,
        }
    }

    async fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let plain = match self {
            Kek::Local(kek) => kek.unwrap(wrapped, aad)?,
            Kek::GcpKms(kek) => kek.decrypt(wrapped, aad).await?,
        };
        let dek: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::Malformed("the data key is not 32 bytes"))?;
        Ok(Zeroizing::new(dek))
    }
}

/// Seals and opens values under the configured KEK. Cheap to clone. Debug shows which
/// KEK, never key material.
#[derive(Clone)]
pub struct Sealer {
    inner: Arc<Keks>,
}

#[derive(Debug)]
struct Keks {
    current: Kek,
    /// Keys records may still be sealed under (before a rotation); open only.
    previous: Vec<Kek>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("provider", &self.inner.current.provider())
            .field("kek_id", &self.inner.current.id())
            .field("previous", &self.inner.previous.len())
            .finish()
    }
}

/// The parsed header and parts of a sealed value.
struct Parsed<'a> {
    provider: &'a str,
    kek_id: String,
    wrapped: Vec<u8>,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
}

fn parse(sealed: &str) -> Result<Parsed<'_>> {
    let body = sealed
        .strip_prefix(FORMAT_PREFIX)
        .ok_or(EnvelopeError::Malformed("not a sealed value of version 1"))?;
    let parts: Vec<&str> = body.split('.').collect();
    let [provider, kek_id, wrapped, nonce, ciphertext] = parts[..] else {
        return Err(EnvelopeError::Malformed("wrong number of parts"));
    };
    let decode = |part: &str| {
        B64.decode(part)
            .map_err(|_| EnvelopeError::Malformed("a part is not base64url"))
    };
    let kek_id = String::from_utf8(decode(kek_id)?)
        .map_err(|_| EnvelopeError::Malformed("the key id is not UTF-8"))?;
    let nonce: [u8; 12] = decode(nonce)?
        .try_into()
        .map_err(|_| EnvelopeError::Malformed("the nonce is not 12 bytes"))?;
    Ok(Parsed {
        provider,
        kek_id,
        wrapped: decode(wrapped)?,
        nonce,
        ciphertext: decode(ciphertext)?,
    })
}

fn format(kek: &Kek, wrapped: &[u8], nonce: &[u8; 12], ciphertext: &[u8]) -> String {
    format!(
        "{FORMAT_PREFIX}{}.{}.{}.{}.{}",
        kek.provider(),
        B64.encode(kek.id().as_bytes()),
        B64.encode(wrapped),
        B64.encode(nonce),
        B64.encode(ciphertext)
    )
}

/// Whether `stored` is in this crate's format (else: an older format, or plaintext).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(FORMAT_PREFIX)
}

impl Sealer {
    pub(crate) fn new(current: Kek, previous: Vec<Kek>) -> Self {
        Self {
            inner: Arc::new(Keks { current, previous }),
        }
    }

    /// A sealer with a local KEK (tests, and services building their own key source).
    pub fn local(key: &[u8]) -> Result<Self> {
        Ok(Self::new(
            Kek::Local(local::LocalKek::new(key)?),
            Vec::new(),
        ))
    }

    /// The same sealer, also able to open (not seal) values under the local `key`.
    pub fn with_previous_local(self, key: &[u8]) -> Result<Self> {
        let keks = Arc::try_unwrap(self.inner).map_err(|_| {
            EnvelopeError::Config("previous keys are added before the sealer is shared".into())
        })?;
        let mut previous = keks.previous;
        previous.push(Kek::Local(local::LocalKek::new(key)?));
        Ok(Self::new(keks.current, previous))
    }

    /// The current KEK: `(provider, id)`.
    pub fn kek(&self) -> (&'static str, &str) {
        (self.inner.current.provider(), self.inner.current.id())
    }

    /// Seals `plaintext` for the record `aad` names, under a fresh data key.
    pub async fn seal(&self, plaintext: &[u8], aad: &Aad) -> Result<String> {
        if plaintext.len() > MAX_PLAINTEXT_BYTES {
            return Err(EnvelopeError::Config(format!(
                "a sealed value is at most {MAX_PLAINTEXT_BYTES} bytes"
            )));
        }
        let dek = Zeroizing::new(rand::random::<[u8; 32]>());
        let nonce = rand::random::<[u8; 12]>();
        let ciphertext = Aes256Gcm::new((&*dek).into())
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad.domain(DATA_DOMAIN),
                },
            )
            .map_err(|_| EnvelopeError::Config("AES-GCM refused to encrypt".into()))?;
        let kek = &self.inner.current;
        let wrapped = kek.wrap(&dek, &aad.domain(DEK_DOMAIN)).await?;
        Ok(format(kek, &wrapped, &nonce, &ciphertext))
    }

    /// Opens a value sealed for the record `aad` names. The plaintext is zeroed on drop
    /// and never printed.
    pub async fn open(&self, sealed: &str, aad: &Aad) -> Result<SecretSlice<u8>> {
        let parsed = parse(sealed)?;
        let dek = self.unwrap_dek(&parsed, aad).await?;
        let plain = Aes256Gcm::new((&*dek).into())
            .decrypt(
                &Nonce::from(parsed.nonce),
                Payload {
                    msg: &parsed.ciphertext,
                    aad: &aad.domain(DATA_DOMAIN),
                },
            )
            .map_err(|_| EnvelopeError::Refused)?;
        Ok(SecretSlice::from(plain))
    }

    /// Whether `sealed` is wrapped under a KEK other than the current one (a rotation
    /// left it behind: [`Sealer::rewrap`] it).
    pub fn needs_rewrap(&self, sealed: &str) -> bool {
        match parse(sealed) {
            Ok(parsed) => {
                (parsed.provider, parsed.kek_id.as_str()) != self.kek()
                // a KMS key's primary version may have rotated: only KMS knows, and
                // it decrypts old versions itself; nothing to do here.
            }
            Err(_) => false,
        }
    }

    /// Re-wraps the data key of `sealed` under the current KEK; the ciphertext is kept.
    /// The record must open (the DEK's wrap is checked against `aad`).
    pub async fn rewrap(&self, sealed: &str, aad: &Aad) -> Result<String> {
        let parsed = parse(sealed)?;
        let dek = self.unwrap_dek(&parsed, aad).await?;
        let kek = &self.inner.current;
        let wrapped = kek.wrap(&dek, &aad.domain(DEK_DOMAIN)).await?;
        Ok(format(kek, &wrapped, &parsed.nonce, &parsed.ciphertext))
    }

    async fn unwrap_dek(&self, parsed: &Parsed<'_>, aad: &Aad) -> Result<Zeroizing<[u8; 32]>> {
        let kek = std::iter::once(&self.inner.current)
            .chain(&self.inner.previous)
            .find(|kek| kek.provider() == parsed.provider && kek.id() == parsed.kek_id)
            .ok_or_else(|| EnvelopeError::UnknownKek {
                provider: parsed.provider.chars().take(16).collect(),
                kek_id: parsed.kek_id.chars().take(200).collect(),
            })?;
        kek.unwrap(&parsed.wrapped, &aad.domain(DEK_DOMAIN)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn aad(id: &str) -> Aad {
        Aad::new("test.secret").with("id", id).with("tenant", "t1")
    }

    #[tokio::test]
    async fn round_trip_with_a_fresh_data_key_each_time() {
        let sealer = Sealer::local(&[7u8; 32]).unwrap();
        let sealed = sealer.seal(b"hunter2-secret", &aad("a")).await.unwrap();
        assert!(is_sealed(&sealed));
        assert!(sealed.starts_with("menv1.local."));
        assert!(!sealed.contains("hunter2"));
        let again = sealer.seal(b"hunter2-secret", &aad("a")).await.unwrap();
        assert_ne!(sealed, again);
        let opened = sealer.open(&sealed, &aad("a")).await.unwrap();
        assert_eq!(opened.expose_secret(), b"hunter2-secret");
        assert!(!format!("{opened:?}").contains("hunter2"));
        // The empty value seals too.
        let empty = sealer.seal(b"", &aad("a")).await.unwrap();
        assert!(
            sealer
                .open(&empty, &aad("a"))
                .await
                .unwrap()
                .expose_secret()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn tampered_values_are_refused() {
        let sealer = Sealer::local(&[7u8; 32]).unwrap();
        let sealed = sealer.seal(b"secret", &aad("a")).await.unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        // Flip one bit of the ciphertext, the nonce, the wrapped key in turn.
        for index in [3, 4, 5] {
            let mut bytes = B64.decode(parts[index]).unwrap();
            bytes[0] ^= 1;
            let mut changed: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            changed[index] = B64.encode(&bytes);
            let tampered = changed.join(".");
            assert!(
                matches!(
                    sealer.open(&tampered, &aad("a")).await,
                    Err(EnvelopeError::Refused)
                ),
                "part {index}"
            );
        }
        // Truncated, garbage, another version.
        for bad in [
            &sealed[..sealed.len() - 4],
            "menv1.local",
            "not sealed at all",
            "menv2.local.a.b.c.d",
        ] {
            assert!(sealer.open(bad, &aad("a")).await.is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_value_moved_to_another_row_does_not_open() {
        let sealer = Sealer::local(&[7u8; 32]).unwrap();
        let sealed = sealer.seal(b"secret", &aad("a")).await.unwrap();
        assert!(matches!(
            sealer.open(&sealed, &aad("b")).await,
            Err(EnvelopeError::Refused)
        ));
        let other_tenant = Aad::new("test.secret").with("id", "a").with("tenant", "t2");
        assert!(sealer.open(&sealed, &other_tenant).await.is_err());
        let other_purpose = Aad::new("test.other").with("id", "a").with("tenant", "t1");
        assert!(sealer.open(&sealed, &other_purpose).await.is_err());
        // Length prefixes: ("ab","c") is not ("a","bc").
        assert_ne!(Aad::new("x").with("ab", "c"), Aad::new("x").with("a", "bc"));
    }

    #[tokio::test]
    async fn another_kek_does_not_open_and_says_which_key_it_needs() {
        let sealer = Sealer::local(&[7u8; 32]).unwrap();
        let sealed = sealer.seal(b"secret", &aad("a")).await.unwrap();
        let other = Sealer::local(&[8u8; 32]).unwrap();
        match other.open(&sealed, &aad("a")).await {
            Err(EnvelopeError::UnknownKek { provider, kek_id }) => {
                assert_eq!(provider, "local");
                assert_eq!(kek_id, sealer.kek().1);
            }
            other => panic!("expected UnknownKek, got {other:?}"),
        }
        // A row that claims the other key's id but was wrapped by the first is refused.
        let forged = sealed.replacen(
            &B64.encode(sealer.kek().1.as_bytes()),
            &B64.encode(other.kek().1.as_bytes()),
            1,
        );
        assert!(matches!(
            other.open(&forged, &aad("a")).await,
            Err(EnvelopeError::Refused)
        ));
    }

    #[tokio::test]
    async fn rotation_rewraps_under_the_new_kek() {
        let old = Sealer::local(&[7u8; 32]).unwrap();
        let sealed = old.seal(b"secret", &aad("a")).await.unwrap();
        let new = Sealer::local(&[9u8; 32])
            .unwrap()
            .with_previous_local(&[7u8; 32])
            .unwrap();
        assert!(new.needs_rewrap(&sealed));
        assert_eq!(
            new.open(&sealed, &aad("a")).await.unwrap().expose_secret(),
            b"secret"
        );
        let rewrapped = new.rewrap(&sealed, &aad("a")).await.unwrap();
        assert!(!new.needs_rewrap(&rewrapped));
        // Same ciphertext and nonce, new wrap.
        assert_eq!(
            sealed.rsplitn(3, '.').take(2).collect::<Vec<_>>(),
            rewrapped.rsplitn(3, '.').take(2).collect::<Vec<_>>()
        );
        let only_new = Sealer::local(&[9u8; 32]).unwrap();
        assert_eq!(
            only_new
                .open(&rewrapped, &aad("a"))
                .await
                .unwrap()
                .expose_secret(),
            b"secret"
        );
        assert!(new.rewrap(&sealed, &aad("b")).await.is_err());
    }

    #[test]
    fn debug_prints_no_key_material() {
        let sealer = Sealer::local(&[0x41u8; 32]).unwrap();
        let shown = format!("{sealer:?}");
        assert!(shown.contains("local:"), "{shown}");
        assert!(
            !shown.contains("AAAA") && !shown.contains("QUFB"),
            "{shown}"
        );
        assert!(!shown.contains("65, 65"), "{shown}");
        assert_eq!(format!("{:?}", aad("a")), "Aad(42 bytes)");
    }
}
