//! The KEK as a service configures it (`kek` in its settings, so
//! `MARQUEE_<SERVICE>_KEK__PROVIDER`, `…__KEY`, `…__GCP_KMS_KEY_NAME` and so on).

use crate::gcp_kms::{GcpKms, GcpKmsConfig};
use crate::local::LocalKek;
use crate::{EnvelopeError, Kek, Result, Sealer};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KekProvider {
    /// A 32-byte key from `key` (base64), `key_file`, or on the embedded default a key
    /// file made once in the data directory.
    #[default]
    Local,
    /// A Cloud KMS key (`gcp_kms_key_name`).
    GcpKms,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct KekSettings {
    /// `local` or `gcp-kms`.
    pub provider: KekProvider,
    /// `local`: the key, 32 bytes in base64 (from a Kubernetes Secret). Never printed.
    #[serde(serialize_with = "redact::option")]
    pub key: Option<SecretString>,
    /// `local`: a file holding the key in base64 (a mounted Secret), instead of `key`.
    pub key_file: Option<PathBuf>,
    /// Local keys values may still be sealed under (comma-separated base64), kept after a
    /// rotation (or a move to KMS) until every value is re-wrapped; open only.
    #[serde(serialize_with = "redact::option")]
    pub previous_keys: Option<SecretString>,
    /// `gcp-kms`: `projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}`.
    pub gcp_kms_key_name: Option<String>,
    /// KMS keys values may still be sealed under (comma-separated names); open only.
    pub gcp_kms_previous_key_names: Option<String>,
    /// The Cloud KMS API (tests point it at a local server).
    pub gcp_kms_endpoint: String,
    /// The metadata server that hands out the access token.
    pub gcp_metadata_endpoint: String,
    pub gcp_timeout_secs: u64,
}

impl Default for KekSettings {
    fn default() -> Self {
        Self {
            provider: KekProvider::Local,
            key: None,
            key_file: None,
            previous_keys: None,
            gcp_kms_key_name: None,
            gcp_kms_previous_key_names: None,
            gcp_kms_endpoint: crate::gcp_kms::DEFAULT_ENDPOINT.into(),
            gcp_metadata_endpoint: crate::gcp_kms::DEFAULT_METADATA_ENDPOINT.into(),
            gcp_timeout_secs: 10,
        }
    }
}

/// Serialized settings show whether a secret is set, never the secret.
mod redact {
    use secrecy::SecretString;

    pub fn option<S: serde::Serializer>(
        secret: &Option<SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(_) => serializer.serialize_some("[redacted]"),
            None => serializer.serialize_none(),
        }
    }
}

/// Where a service's local key comes from when none is configured.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// For messages: `MARQUEE_AUTH_KEK`.
    pub env_prefix: String,
    /// The key file of the embedded default (`<data_dir>/<service>-kek.key`).
    pub default_key_file: PathBuf,
    /// Embedded (SQLite, one process): the default key file may be created. Otherwise
    /// replicas share a database and must share a configured key.
    pub embedded: bool,
}

fn non_empty(value: &Option<SecretString>) -> Option<&SecretString> {
    value
        .as_ref()
        .filter(|value| !value.expose_secret().trim().is_empty())
}

impl KekSettings {
    /// The sealer this configuration describes. Local keys are read (or, embedded, made)
    /// now; KMS is first called when a value is sealed or opened.
    pub fn sealer(&self, source: &KeySource) -> Result<Sealer> {
        let current = match self.provider {
            KekProvider::Local => Kek::Local(self.local_kek(source)?),
            KekProvider::GcpKms => {
                let name = self
                    .gcp_kms_key_name
                    .as_deref()
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .ok_or_else(|| {
                        EnvelopeError::Config(format!(
                            "{}__PROVIDER=gcp-kms needs {0}__GCP_KMS_KEY_NAME",
                            source.env_prefix
                        ))
                    })?;
                Kek::GcpKms(self.kms(name)?)
            }
        };
        let mut previous = Vec::new();
        if let Some(keys) = non_empty(&self.previous_keys) {
            for key in keys
                .expose_secret()
                .split(',')
                .filter(|k| !k.trim().is_empty())
            {
                previous.push(Kek::Local(LocalKek::from_base64(&SecretString::from(
                    key.to_string(),
                ))?));
            }
        }
        for name in self
            .gcp_kms_previous_key_names
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            previous.push(Kek::GcpKms(self.kms(name)?));
        }
        Ok(Sealer::new(current, previous))
    }

    /// The local key: `key`, else `key_file`, else (embedded only) the default key file,
    /// made on first start.
    pub fn local_kek(&self, source: &KeySource) -> Result<LocalKek> {
        if let Some(key) = non_empty(&self.key) {
            return LocalKek::from_base64(key);
        }
        if let Some(path) = &self.key_file {
            return LocalKek::from_file(path, source.embedded);
        }
        if source.embedded {
            return LocalKek::from_file(&source.default_key_file, true);
        }
        Err(EnvelopeError::Config(format!(
            "{0}__KEY (32 bytes, base64) or {0}__KEY_FILE is required with a shared database \
             (every replica must open what the others sealed), or {0}__PROVIDER=gcp-kms",
            source.env_prefix
        )))
    }

    fn kms(&self, name: &str) -> Result<GcpKms> {
        GcpKms::new(GcpKmsConfig {
            key_name: name.to_string(),
            endpoint: self.gcp_kms_endpoint.clone(),
            metadata_endpoint: self.gcp_metadata_endpoint.clone(),
            timeout: Duration::from_secs(self.gcp_timeout_secs.clamp(1, 120)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn source(dir: &std::path::Path, embedded: bool) -> KeySource {
        KeySource {
            env_prefix: "MARQUEE_TEST_KEK".into(),
            default_key_file: dir.join("test-kek.key"),
            embedded,
        }
    }

    #[tokio::test]
    async fn local_keys_come_from_the_secret_the_file_or_the_embedded_default() {
        let dir = tempfile::tempdir().unwrap();
        let error = KekSettings::default()
            .sealer(&source(dir.path(), false))
            .unwrap_err()
            .to_string();
        assert!(error.contains("MARQUEE_TEST_KEK__KEY"), "{error}");
        assert!(!dir.path().join("test-kek.key").exists());

        let embedded = KekSettings::default()
            .sealer(&source(dir.path(), true))
            .unwrap();
        assert!(dir.path().join("test-kek.key").exists());
        let aad = crate::Aad::new("t");
        let sealed = embedded.seal(b"v", &aad).await.unwrap();

        // The same key given as a secret opens it; a blank secret counts as unset.
        let key = std::fs::read_to_string(dir.path().join("test-kek.key")).unwrap();
        let configured = KekSettings {
            key: Some(SecretString::from(key.clone())),
            ..KekSettings::default()
        };
        let from_secret = configured.sealer(&source(dir.path(), false)).unwrap();
        assert_eq!(from_secret.kek(), embedded.kek());
        assert!(from_secret.open(&sealed, &aad).await.is_ok());
        let blank = KekSettings {
            key: Some(SecretString::from(" ".to_string())),
            key_file: Some(dir.path().join("test-kek.key")),
            ..KekSettings::default()
        };
        assert_eq!(
            blank.sealer(&source(dir.path(), false)).unwrap().kek(),
            embedded.kek()
        );
        assert!(!format!("{configured:?}").contains(key.trim()));

        // Rotated: the new key seals, the old one is kept to open.
        let rotated = KekSettings {
            key: Some(SecretString::from(STANDARD.encode([3u8; 32]))),
            previous_keys: Some(SecretString::from(format!("{},", key.trim()))),
            ..KekSettings::default()
        };
        let rotated = rotated.sealer(&source(dir.path(), false)).unwrap();
        assert_ne!(rotated.kek(), embedded.kek());
        assert!(rotated.needs_rewrap(&sealed));
        assert!(rotated.open(&sealed, &aad).await.is_ok());
    }

    #[test]
    fn kms_needs_a_key_name() {
        let dir = tempfile::tempdir().unwrap();
        let settings = KekSettings {
            provider: KekProvider::GcpKms,
            ..KekSettings::default()
        };
        let error = settings
            .sealer(&source(dir.path(), true))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("MARQUEE_TEST_KEK__GCP_KMS_KEY_NAME"),
            "{error}"
        );
        let provider: KekProvider = serde_json::from_str("\"gcp-kms\"").unwrap();
        assert_eq!(provider, KekProvider::GcpKms);
    }
}
