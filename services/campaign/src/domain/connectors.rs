//! Connectors: where a creator's posts are published (a signed webhook, Bluesky,
//! Mastodon). The secret (signing secret, app password, access token) is sealed before
//! it is stored (`marquee-envelope`: a data key per secret, wrapped by the key-encryption
//! key; associated data: tenant, owner and connector id) and never leaves the service
//! again. Secrets sealed by earlier versions (AES-256-GCM directly under the connector
//! key) still open, and are re-sealed at start-up ([`Studio::reseal_connector_secrets`]).

use super::{Studio, may_access, new_id, require_creator};
use crate::error::{CampaignError, Result};
use crate::store;
use crate::store::entities::connector::Model as Row;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use marquee_envelope::Aad;
use marquee_platform::input::fields::campaign as rules;
use marquee_platform::{Principal, SecretString};
use marquee_social::Platform;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// A connector as the creator sees it (no secret).
#[derive(Debug, Clone)]
pub struct Connector {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub platforms: Vec<Platform>,
    pub endpoint: String,
    pub account: String,
    pub created_at: DateTime<Utc>,
}

/// A new connector.
#[derive(Debug, Clone)]
pub struct NewConnector {
    pub kind: String,
    pub name: String,
    pub platforms: Vec<String>,
    pub endpoint: String,
    pub account: String,
    pub secret: SecretString,
}

/// What a publisher needs to reach the network (the secret unsealed, in memory only).
#[derive(Debug, Clone)]
pub struct Destination {
    pub connector_id: String,
    pub kind: String,
    pub endpoint: String,
    pub account: String,
    pub secret: SecretString,
}

/// A post leaving for a network.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub post_id: String,
    pub campaign_id: String,
    pub platform: Platform,
    pub text: String,
    pub hashtags: Vec<String>,
    pub media: Vec<OutgoingMedia>,
    pub scheduled_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct OutgoingMedia {
    pub content_type: String,
    pub bytes: Bytes,
    pub alt: String,
}

/// How a delivery went.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    pub remote_id: String,
    pub remote_url: String,
    pub attempts: u32,
    pub status_code: u16,
}

/// Why a delivery failed; `retry` when trying again later may work.
#[derive(Debug, Clone)]
pub struct DeliveryFailure {
    pub message: String,
    pub retry: bool,
    pub attempts: u32,
    pub status_code: u16,
}

/// The connector adapters (`publish/`): one call per post and destination.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(
        &self,
        destination: &Destination,
        post: &Outgoing,
    ) -> std::result::Result<Delivered, DeliveryFailure>;
}

pub type Publishers = Arc<dyn Publisher>;

/// Seals and opens connector secrets: envelope encryption for everything written now;
/// the key of earlier versions (`legacy`), when there is one, opens what they wrote.
#[derive(Clone)]
pub struct Sealer {
    envelope: marquee_envelope::Sealer,
    /// Earlier versions sealed `base64(nonce ‖ AES-256-GCM ciphertext)` under the
    /// connector key itself.
    legacy: Option<Arc<Aes256Gcm>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("envelope", &self.envelope)
            .field("legacy", &self.legacy.is_some())
            .finish()
    }
}

/// The associated data of a connector's sealed secret: it opens in its own row only.
pub fn secret_aad(row: &Row) -> Aad {
    Aad::new("marquee.campaign.connector_secret")
        .with("tenant", &row.tenant_id)
        .with("owner", &row.owner_id)
        .with("connector", &row.id)
}

fn sealing(error: marquee_envelope::EnvelopeError) -> CampaignError {
    CampaignError::Internal(format!("connector secret: {error}"))
}

impl Sealer {
    /// A local 32-byte key as both the key-encryption key and the legacy key (tests,
    /// and the embedded default's key file).
    pub fn new(key: &[u8]) -> Result<Self> {
        Self::with_legacy(
            marquee_envelope::Sealer::local(key).map_err(sealing)?,
            Some(key),
        )
    }

    /// `envelope` seals; `legacy_key` (32 bytes) opens secrets earlier versions sealed.
    pub fn with_legacy(
        envelope: marquee_envelope::Sealer,
        legacy_key: Option<&[u8]>,
    ) -> Result<Self> {
        let legacy = legacy_key
            .map(|key| {
                Aes256Gcm::new_from_slice(key).map_err(|_| {
                    CampaignError::Internal("the connector key is not 32 bytes".into())
                })
            })
            .transpose()?
            .map(Arc::new);
        Ok(Self { envelope, legacy })
    }

    pub async fn seal(&self, secret: &SecretString, aad: &Aad) -> Result<String> {
        self.envelope
            .seal(secret.expose_secret().as_bytes(), aad)
            .await
            .map_err(sealing)
    }

    pub async fn open(&self, sealed: &str, aad: &Aad) -> Result<SecretString> {
        if !marquee_envelope::is_sealed(sealed) {
            return self.open_legacy(sealed);
        }
        let plain = self.envelope.open(sealed, aad).await.map_err(sealing)?;
        std::str::from_utf8(plain.expose_secret())
            .map(|text| SecretString::from(text.to_string()))
            .map_err(|_| CampaignError::Internal("a sealed secret is not UTF-8".into()))
    }

    /// The stored form to write instead of `stored`, if any: a legacy value sealed anew,
    /// or an envelope wrapped under a previous key-encryption key re-wrapped.
    pub async fn upgrade(&self, stored: &str, aad: &Aad) -> Result<Option<String>> {
        if !marquee_envelope::is_sealed(stored) {
            let secret = self.open_legacy(stored)?;
            return self.seal(&secret, aad).await.map(Some);
        }
        if self.envelope.needs_rewrap(stored) {
            return self
                .envelope
                .rewrap(stored, aad)
                .await
                .map(Some)
                .map_err(sealing);
        }
        Ok(None)
    }

    fn open_legacy(&self, sealed: &str) -> Result<SecretString> {
        let cipher = self.legacy.as_ref().ok_or_else(|| {
            CampaignError::Internal(
                "a connector secret is in the format before envelope encryption and no \
                 connector key (MARQUEE_CAMPAIGN_CONNECTOR_KEY or campaign-connector.key) \
                 is configured to open it"
                    .into(),
            )
        })?;
        let bytes = BASE64
            .decode(sealed)
            .map_err(|_| CampaignError::Internal("a sealed secret is not base64".into()))?;
        if bytes.len() < 12 {
            return Err(CampaignError::Internal(
                "a sealed secret is truncated".into(),
            ));
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce
            .try_into()
            .map_err(|_| CampaignError::Internal("a sealed secret is truncated".into()))?;
        let plain =
            zeroize::Zeroizing::new(cipher.decrypt(&Nonce::from(nonce), ciphertext).map_err(
                |_| CampaignError::Internal("a sealed secret does not open with this key".into()),
            )?);
        std::str::from_utf8(&plain)
            .map(|text| SecretString::from(text.to_string()))
            .map_err(|_| CampaignError::Internal("a sealed secret is not UTF-8".into()))
    }
}

impl Connector {
    fn from_row(row: Row) -> Result<Self> {
        let platforms: Vec<String> = super::campaigns::decode(row.platforms)?;
        Ok(Self {
            platforms: super::brief::parse_platforms(&platforms)?,
            id: row.id,
            kind: row.kind,
            name: row.name,
            endpoint: row.endpoint,
            account: row.account,
            created_at: row.created_at,
        })
    }
}

impl Studio {
    pub async fn create_connector(
        &self,
        caller: &Principal,
        new: NewConnector,
    ) -> Result<Connector> {
        require_creator(caller)?;
        if !rules::CONNECTOR_KINDS.contains(&new.kind.as_str()) {
            return Err(CampaignError::invalid(
                "invalid_connector_kind",
                "kind is webhook, bluesky or mastodon",
            ));
        }
        rules::CONNECTOR_NAME.check(&new.name)?;
        rules::CONNECTOR_ENDPOINT.check(&new.endpoint)?;
        rules::CONNECTOR_ACCOUNT.check(&new.account)?;
        rules::CONNECTOR_SECRET.check(new.secret.expose_secret())?;
        let endpoint = reqwest::Url::parse(new.endpoint.trim())
            .ok()
            .filter(|url| {
                matches!(url.scheme(), "https" | "http")
                    && url.host_str().is_some()
                    && url.username().is_empty()
                    && url.password().is_none()
            })
            .ok_or_else(|| {
                CampaignError::invalid("invalid_endpoint", "endpoint is an http(s) URL")
            })?;
        let mut platforms = if new.platforms.is_empty() {
            match new.kind.as_str() {
                "bluesky" => vec![Platform::Bluesky],
                "mastodon" => vec![Platform::Mastodon],
                _ => Platform::ALL.to_vec(),
            }
        } else {
            super::brief::parse_platforms(&new.platforms)?
        };
        platforms.dedup();
        if new.kind == "bluesky" && new.account.trim().is_empty() {
            return Err(CampaignError::invalid(
                "invalid_account",
                "a Bluesky connector needs the account's handle",
            ));
        }
        let mut row = Row {
            id: new_id(),
            tenant_id: caller.tenant_id.clone(),
            owner_id: caller.subject.clone(),
            kind: new.kind,
            name: new.name.trim().to_string(),
            platforms: super::campaigns::encode(
                &platforms.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ),
            endpoint: endpoint.to_string(),
            account: new.account.trim().to_string(),
            secret_sealed: String::new(),
            created_at: Utc::now(),
        };
        row.secret_sealed = self.sealer.seal(&new.secret, &secret_aad(&row)).await?;
        store::connectors::insert(&self.db, row.clone()).await?;
        Connector::from_row(row)
    }

    pub async fn connectors(&self, caller: &Principal) -> Result<Vec<Connector>> {
        store::connectors::of_owner(&self.db, &caller.tenant_id, &caller.subject)
            .await?
            .into_iter()
            .map(Connector::from_row)
            .collect()
    }

    pub async fn delete_connector(&self, caller: &Principal, id: &str) -> Result<()> {
        let row = store::connectors::find(&self.db, id)
            .await?
            .filter(|row| may_access(caller, &row.tenant_id, &row.owner_id))
            .ok_or(CampaignError::NotFound("connector"))?;
        store::connectors::delete(&self.db, &row.id).await?;
        Ok(())
    }

    /// The owner's destinations for a platform, secrets opened.
    pub(crate) async fn destinations(
        &self,
        tenant_id: &str,
        owner_id: &str,
        platform: Platform,
    ) -> Result<Vec<Destination>> {
        let mut out = Vec::new();
        for row in store::connectors::of_owner(&self.db, tenant_id, owner_id).await? {
            let platforms: Vec<String> = super::campaigns::decode(row.platforms.clone())?;
            if !platforms.iter().any(|p| p == platform.as_str()) {
                continue;
            }
            out.push(Destination {
                secret: self
                    .sealer
                    .open(&row.secret_sealed, &secret_aad(&row))
                    .await?,
                connector_id: row.id,
                kind: row.kind,
                endpoint: row.endpoint,
                account: row.account,
            });
        }
        Ok(out)
    }
}

impl Studio {
    /// Re-seals every connector secret an earlier version wrote (AES-GCM under the
    /// connector key) with envelope encryption, and re-wraps those under a previous
    /// key-encryption key. Idempotent; a row changed meanwhile (another replica) is left
    /// to it. Returns how many rows were rewritten.
    pub async fn reseal_connector_secrets(&self) -> Result<usize> {
        let mut changed = 0;
        for row in store::connectors::all(&self.db).await? {
            let Some(upgraded) = self
                .sealer
                .upgrade(&row.secret_sealed, &secret_aad(&row))
                .await?
            else {
                continue;
            };
            if store::connectors::replace_secret(&self.db, &row.id, &row.secret_sealed, upgraded)
                .await?
            {
                changed += 1;
            }
        }
        if changed > 0 {
            tracing::info!(changed, "connector secrets re-sealed");
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> Row {
        Row {
            id: id.into(),
            tenant_id: "t1".into(),
            owner_id: "u1".into(),
            kind: "webhook".into(),
            name: "n".into(),
            platforms: serde_json::json!(["x"]),
            endpoint: "https://hooks.example/".into(),
            account: String::new(),
            secret_sealed: String::new(),
            created_at: Utc::now(),
        }
    }

    /// What earlier versions stored: base64(nonce ‖ AES-256-GCM ciphertext) under the key.
    fn legacy_seal(key: &[u8], secret: &str) -> String {
        let nonce = [5u8; 12];
        let mut out = nonce.to_vec();
        out.extend(
            Aes256Gcm::new_from_slice(key)
                .unwrap()
                .encrypt(&Nonce::from(nonce), secret.as_bytes())
                .unwrap(),
        );
        BASE64.encode(out)
    }

    #[tokio::test]
    async fn secrets_seal_and_open_in_their_own_row_and_never_show() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let secret = SecretString::from("app-password-123".to_string());
        let aad = secret_aad(&row("c1"));
        let sealed = sealer.seal(&secret, &aad).await.unwrap();
        assert!(sealed.starts_with("menv1.local."));
        assert!(!sealed.contains("app-password"));
        assert_ne!(
            sealed,
            sealer.seal(&secret, &aad).await.unwrap(),
            "a fresh data key and nonce each time"
        );
        assert_eq!(
            sealer.open(&sealed, &aad).await.unwrap().expose_secret(),
            "app-password-123"
        );
        // Pasted into another connector's row, or another tenant's: refused.
        assert!(sealer.open(&sealed, &secret_aad(&row("c2"))).await.is_err());
        let mut other_tenant = row("c1");
        other_tenant.tenant_id = "t2".into();
        assert!(
            sealer
                .open(&sealed, &secret_aad(&other_tenant))
                .await
                .is_err()
        );
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, &aad).await.is_err());
        assert!(sealer.open("AAAA", &aad).await.is_err());
        let shown = format!("{sealer:?}");
        assert!(
            !shown.contains("7, 7") && !shown.contains("BwcH"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn legacy_secrets_open_and_upgrade_to_envelopes() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let aad = secret_aad(&row("c1"));
        let legacy = legacy_seal(&[7u8; 32], "old-token");
        assert_eq!(
            sealer.open(&legacy, &aad).await.unwrap().expose_secret(),
            "old-token"
        );
        let upgraded = sealer.upgrade(&legacy, &aad).await.unwrap().unwrap();
        assert!(marquee_envelope::is_sealed(&upgraded));
        assert_eq!(
            sealer.open(&upgraded, &aad).await.unwrap().expose_secret(),
            "old-token"
        );
        assert!(sealer.upgrade(&upgraded, &aad).await.unwrap().is_none());
        // Without the legacy key, a legacy value says what is missing.
        let no_legacy =
            Sealer::with_legacy(marquee_envelope::Sealer::local(&[7u8; 32]).unwrap(), None)
                .unwrap();
        let error = no_legacy.open(&legacy, &aad).await.unwrap_err().to_string();
        assert!(error.contains("MARQUEE_CAMPAIGN_CONNECTOR_KEY"), "{error}");
    }
}
