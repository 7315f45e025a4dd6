//! Ed25519 signing keys. The newest key signs; the newest two are published in the
//! JWKS, so after a rotation tokens signed by the previous key stay valid until they
//! expire and nobody is logged out. Every replica reloads keys periodically.

use crate::error::{AuthError, Result};
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use marquee_platform::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

/// How many keys the JWKS publishes: the signing key and its predecessor.
const PUBLISHED_KEYS: u64 = 2;

/// An Ed25519 signing key as stored.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    /// PKCS#8 DER, base64. Never leaves the auth service, never printed.
    pub private_key: SecretString,
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
    encoding: EncodingKey,
    published: Vec<PublicKey>,
}

#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<RwLock<Keys>>,
}

impl KeyRing {
    pub async fn load_or_create(db: &store::Db) -> Result<Self> {
        if store::keys::newest(db, 1).await?.is_empty() {
            store::keys::insert(db, generate()?).await?;
        }
        let keys = build(store::keys::newest(db, PUBLISHED_KEYS).await?)?;
        Ok(Self {
            keys: Arc::new(RwLock::new(keys)),
        })
    }

    pub async fn reload(&self, db: &store::Db) -> Result<()> {
        let keys = build(store::keys::newest(db, PUBLISHED_KEYS).await?)?;
        *self.keys.write().map_err(|_| poisoned())? = keys;
        Ok(())
    }

    /// Generates a new signing key; the previous one stays published. Returns the new
    /// kid and the published kids.
    pub async fn rotate(&self, db: &store::Db) -> Result<(String, Vec<String>)> {
        let key = generate()?;
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

fn poisoned() -> AuthError {
    AuthError::Internal("key ring lock poisoned".into())
}

fn generate() -> Result<SigningKey> {
    let signing = ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let der = signing
        .to_pkcs8_der()
        .map_err(|error| AuthError::Internal(format!("encoding key: {error}")))?;
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    Ok(SigningKey {
        kid: thumbprint(&x),
        private_key: SecretString::from(STANDARD.encode(der.as_bytes())),
        public_key: x,
        created_at: Utc::now(),
    })
}

/// RFC 7638 JWK thumbprint: a kid derived from the key itself.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn build(rows: Vec<SigningKey>) -> Result<Keys> {
    let newest = rows
        .first()
        .ok_or_else(|| AuthError::Internal("no signing key".into()))?;
    let der = STANDARD
        .decode(newest.private_key.expose_secret())
        .map_err(|error| AuthError::Internal(format!("stored key is not base64: {error}")))?;
    Ok(Keys {
        signing_kid: newest.kid.clone(),
        encoding: EncodingKey::from_ed_der(&der),
        published: rows
            .iter()
            .map(|row| PublicKey {
                kid: row.kid.clone(),
                x: row.public_key.clone(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let row = generate().unwrap();
        let keys = build(vec![row]).unwrap();
        let ring = KeyRing {
            keys: Arc::new(RwLock::new(keys)),
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
}
