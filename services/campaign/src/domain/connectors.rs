//! Connectors: where a creator's posts are published (a signed webhook, Bluesky,
//! Mastodon). The secret (signing secret, app password, access token) is sealed with
//! AES-256-GCM before it is stored and never leaves the service again.

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
use marquee_platform::input::fields::campaign as rules;
use marquee_platform::{Principal, SecretString};
use marquee_social::Platform;
use rand::RngCore;
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

/// Seals and opens connector secrets (AES-256-GCM, a random 96-bit nonce per secret,
/// stored as base64(nonce ‖ ciphertext)).
#[derive(Clone)]
pub struct Sealer {
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer from a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self> {
        let cipher = Aes256Gcm::new_from_slice(key)
            .map_err(|_| CampaignError::Internal("the connector key is not 32 bytes".into()))?;
        Ok(Self {
            cipher: Arc::new(cipher),
        })
    }

    /// The key from base64 (configuration).
    pub fn from_base64(key: &SecretString) -> Result<Self> {
        let bytes = BASE64
            .decode(key.expose_secret().trim())
            .map_err(|_| CampaignError::Internal("the connector key is not base64".into()))?;
        Self::new(&bytes)
    }

    /// The key in `path`, created (random, mode 0600) when missing: the embedded
    /// default, so `make run` needs no key.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let key = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                let text = BASE64.encode(key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, &text)?;
                text
            }
            Err(error) => return Err(error.into()),
        };
        Ok(Self::from_base64(&SecretString::from(key))?)
    }

    pub fn seal(&self, secret: &SecretString) -> Result<String> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), secret.expose_secret().as_bytes())
            .map_err(|_| CampaignError::Internal("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(BASE64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<SecretString> {
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
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| {
                CampaignError::Internal("a sealed secret does not open with this key".into())
            })?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CampaignError::Internal("a sealed secret is not UTF-8".into()))
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
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
        let row = Row {
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
            secret_sealed: self.sealer.seal(&new.secret)?,
            created_at: Utc::now(),
        };
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
                secret: self.sealer.open(&row.secret_sealed)?,
                connector_id: row.id,
                kind: row.kind,
                endpoint: row.endpoint,
                account: row.account,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_seal_and_open_and_never_show() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let secret = SecretString::from("app-password-123".to_string());
        let sealed = sealer.seal(&secret).unwrap();
        assert!(!sealed.contains("app-password"));
        assert_ne!(
            sealed,
            sealer.seal(&secret).unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(
            sealer.open(&sealed).unwrap().expose_secret(),
            "app-password-123"
        );
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed).is_err());
        assert!(sealer.open("AAAA").is_err());
        assert!(!format!("{sealer:?}").contains('7'));
    }

    #[test]
    fn the_key_file_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/connector.key");
        let first = Sealer::from_file(&path).unwrap();
        let sealed = first.seal(&SecretString::from("s".to_string())).unwrap();
        let again = Sealer::from_file(&path).unwrap();
        assert_eq!(again.open(&sealed).unwrap().expose_secret(), "s");
    }
}
