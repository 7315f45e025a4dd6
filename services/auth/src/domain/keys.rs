//! Ed25519 signing keys. The newest key signs; the newest two are published in the
//! JWKS, so after a rotation tokens signed by the previous key stay valid until they
//! expire and nobody is logged out. Every replica reloads keys periodically.
//!
//! Private keys are stored sealed (`marquee-envelope`: a data key per key, wrapped by the
//! key-encryption key from `kek` in the settings; associated data: the kid). A key is
//! opened once, when it becomes the signing key, and held as jsonwebtoken's
//! `EncodingKey`, which zeroes itself on drop. Start-up seals keys written in the clear
//! before m0006 and re-wraps keys sealed under a previous KEK.

use crate::error::{AuthError, Result};
use crate::settings::AuthSettings;
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use marquee_envelope::{Aad, Sealer};
use marquee_platform::ExposeSecret;
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// How many keys the JWKS publishes: the signing key and its predecessor.
const PUBLISHED_KEYS: u64 = 2;

/// An Ed25519 signing key as stored.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    /// The PKCS#8 DER, sealed (see the module docs). Never leaves the auth service.
    pub sealed: String,
    /// Raw public key, base64url (the JWK `x`).
    pub public_key: String,
    pub created_at: DateTime<Utc>,
}

/// A public key as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    /// Raw Ed25519 public key, base64url without padding (the JWK `x`).
    pub x: String,
}

struct Keys {
    signing_kid: String,
    /// Zeroed on drop; never printed (no Debug).
    encoding: EncodingKey,
    published: Vec<PublicKey>,
}

#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<RwLock<Keys>>,
    sealer: Sealer,
}

/// The associated data of a sealed signing key: it opens for its own kid only.
fn aad(kid: &str) -> Aad {
    Aad::new("marquee.auth.signing_key").with("kid", kid)
}

/// The sealer the settings' key-encryption key describes.
pub fn sealer(settings: &AuthSettings) -> Result<Sealer> {
    settings
        .kek
        .sealer(&settings.kek_source())
        .map_err(|error| AuthError::Internal(format!("signing keys: {error}")))
}

fn sealing(error: marquee_envelope::EnvelopeError) -> AuthError {
    AuthError::Internal(format!("signing keys: {error}"))
}

impl KeyRing {
    pub async fn load_or_create(db: &store::Db, settings: &AuthSettings) -> Result<Self> {
        let sealer = sealer(settings)?;
        seal_plaintext_keys(db, &sealer).await?;
        rewrap_keys(db, &sealer).await?;
        if store::keys::newest(db, 1).await?.is_empty() {
            store::keys::insert(db, generate(&sealer).await?).await?;
        }
        let keys = build(
            &sealer,
            store::keys::newest(db, PUBLISHED_KEYS).await?,
            None,
        )
        .await?;
        Ok(Self {
            keys: Arc::new(RwLock::new(keys)),
            sealer,
        })
    }

    /// Reads the newest keys again; the signing key is opened only when it changed.
    pub async fn reload(&self, db: &store::Db) -> Result<()> {
        let current = {
            let keys = self.keys.read().map_err(|_| poisoned())?;
            (keys.signing_kid.clone(), keys.encoding.clone())
        };
        let rows = store::keys::newest(db, PUBLISHED_KEYS).await?;
        let keys = build(&self.sealer, rows, Some(current)).await?;
        *self.keys.write().map_err(|_| poisoned())? = keys;
        Ok(())
    }

    /// Generates a new signing key; the previous one stays published. Returns the new
    /// kid and the published kids.
    pub async fn rotate(&self, db: &store::Db) -> Result<(String, Vec<String>)> {
        let key = generate(&self.sealer).await?;
        let kid = key.kid.clone();
        store::keys::insert(db, key).await?;
        self.reload(db).await?;
        let published = self.published().into_iter().map(|k| k.kid).collect();
        Ok((kid, published))
    }

    pub fn published(&self) -> Vec<PublicKey> {
        self.keys
            .read()
            .map(|keys| keys.published.clone())
            .unwrap_or_default()
    }

    /// Signs `claims` as a compact JWS with EdDSA and the current `kid`.
    pub fn sign(&self, claims: &impl serde::Serialize) -> Result<String> {
        let keys = self.keys.read().map_err(|_| poisoned())?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(keys.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &keys.encoding)
            .map_err(|error| AuthError::Internal(format!("signing token: {error}")))
    }
}

/// Seals the keys an older version stored in the clear, and empties their plaintext
/// column. Idempotent; replicas starting together each seal a key at most once between
/// them (the update checks the key is still unsealed).
async fn seal_plaintext_keys(db: &store::Db, sealer: &Sealer) -> Result<()> {
    for (kid, encoded) in store::keys::plaintext(db).await? {
        let der = Zeroizing::new(STANDARD.decode(encoded.expose_secret().trim()).map_err(
            |_| AuthError::Internal(format!("signing key {kid}: the stored key is not base64")),
        )?);
        let sealed = sealer.seal(&der, &aad(&kid)).await.map_err(sealing)?;
        if store::keys::seal_plaintext(db, &kid, sealed).await? {
            tracing::info!(%kid, "signing key sealed (it was stored in the clear)");
        }
    }
    Ok(())
}

/// Re-wraps keys sealed under a previous key-encryption key (after a KEK rotation), so
/// the previous KEK can be retired. A key that does not open is left as it is.
async fn rewrap_keys(db: &store::Db, sealer: &Sealer) -> Result<()> {
    for key in store::keys::all(db).await? {
        if !sealer.needs_rewrap(&key.sealed) {
            continue;
        }
        match sealer.rewrap(&key.sealed, &aad(&key.kid)).await {
            Ok(rewrapped) => {
                if store::keys::replace_sealed(db, &key.kid, &key.sealed, rewrapped).await? {
                    tracing::info!(kid = %key.kid, "signing key re-wrapped under the current key-encryption key");
                }
            }
            Err(error) => {
                tracing::warn!(kid = %key.kid, %error, "signing key not re-wrapped");
            }
        }
    }
    Ok(())
}

fn poisoned() -> AuthError {
    AuthError::Internal("key ring lock poisoned".into())
}

async fn generate(sealer: &Sealer) -> Result<SigningKey> {
    let seed = Zeroizing::new(rand::random::<[u8; 32]>());
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let der = signing
        .to_pkcs8_der()
        .map_err(|error| AuthError::Internal(format!("encoding key: {error}")))?;
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    let kid = thumbprint(&x);
    let sealed = sealer
        .seal(der.as_bytes(), &aad(&kid))
        .await
        .map_err(sealing)?;
    Ok(SigningKey {
        kid,
        sealed,
        public_key: x,
        created_at: Utc::now(),
    })
}

/// RFC 7638 JWK thumbprint: a kid derived from the key itself.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The key ring for `rows` (newest first). `current` is the signing key in use: kept
/// as it is when it is still the newest, else the newest is opened.
async fn build(
    sealer: &Sealer,
    rows: Vec<SigningKey>,
    current: Option<(String, EncodingKey)>,
) -> Result<Keys> {
    let newest = rows
        .first()
        .ok_or_else(|| AuthError::Internal("no signing key".into()))?;
    let encoding = match current {
        Some((kid, encoding)) if kid == newest.kid => encoding,
        _ => open(sealer, newest).await?,
    };
    Ok(Keys {
        signing_kid: newest.kid.clone(),
        encoding,
        published: rows
            .iter()
            .map(|row| PublicKey {
                kid: row.kid.clone(),
                x: row.public_key.clone(),
            })
            .collect(),
    })
}

/// Opens a stored key and checks it is the key its row says (public key and kid).
async fn open(sealer: &Sealer, row: &SigningKey) -> Result<EncodingKey> {
    if row.sealed.is_empty() {
        return Err(AuthError::Internal(format!(
            "signing key {} is not sealed",
            row.kid
        )));
    }
    let der = sealer
        .open(&row.sealed, &aad(&row.kid))
        .await
        .map_err(|error| AuthError::Internal(format!("signing key {}: {error}", row.kid)))?;
    let signing = ed25519_dalek::SigningKey::from_pkcs8_der(der.expose_secret())
        .map_err(|_| AuthError::Internal(format!("signing key {} is not PKCS#8", row.kid)))?;
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    if x != row.public_key || thumbprint(&x) != row.kid {
        return Err(AuthError::Internal(format!(
            "signing key {} does not match its public key",
            row.kid
        )));
    }
    Ok(EncodingKey::from_ed_der(der.expose_secret()))
}

impl super::Auth {
    /// Rotates the signing key and records who did it.
    pub async fn rotate_signing_key(
        &self,
        actor_id: &str,
        actor_tenant_id: &str,
        context: &super::RequestContext,
    ) -> Result<(String, Vec<String>)> {
        let (kid, published) = self.keys.rotate(&self.db).await?;
        self.audit(super::audit::AuditEvent {
            tenant_id: actor_tenant_id,
            actor_id,
            action: super::audit::action::KEY_ROTATED,
            outcome: super::audit::outcome::SUCCESS,
            context,
            detail: format!("kid={kid}"),
        })
        .await;
        Ok((kid, published))
    }

    pub fn jwks(&self) -> Vec<PublicKey> {
        self.keys.published()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn sealer() -> Sealer {
        Sealer::local(&[7u8; 32]).unwrap()
    }

    #[tokio::test]
    async fn signed_tokens_verify_with_the_published_key() {
        let row = generate(&sealer()).await.unwrap();
        assert!(row.sealed.starts_with("menv1.local."));
        let keys = build(&sealer(), vec![row], None).await.unwrap();
        let ring = KeyRing {
            keys: Arc::new(RwLock::new(keys)),
            sealer: sealer(),
        };
        let token = ring
            .sign(&serde_json::json!({"sub": "u1", "exp": Utc::now().timestamp() + 60}))
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        let public = &ring.published()[0];
        assert_eq!(header.kid.as_deref(), Some(public.kid.as_str()));
        assert_eq!(header.alg, Algorithm::EdDSA);
        let key = DecodingKey::from_ed_components(&public.x).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims["sub"], "u1");
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3 example key and thumbprint.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[tokio::test]
    async fn a_sealed_key_opens_only_in_its_own_row_and_under_its_kek() {
        let first = generate(&sealer()).await.unwrap();
        let second = generate(&sealer()).await.unwrap();
        assert!(open(&sealer(), &first).await.is_ok());
        // Another row's sealed key, pasted into this row, is refused.
        let swapped = SigningKey {
            sealed: second.sealed.clone(),
            ..first.clone()
        };
        assert!(open(&sealer(), &swapped).await.is_err());
        // A row whose public key was changed is refused too.
        let lying = SigningKey {
            public_key: second.public_key.clone(),
            ..first.clone()
        };
        assert!(open(&sealer(), &lying).await.is_err());
        let other = Sealer::local(&[8u8; 32]).unwrap();
        let error = open(&other, &first).await.err().unwrap().to_string();
        assert!(error.contains("not configured"), "{error}");
    }
}
