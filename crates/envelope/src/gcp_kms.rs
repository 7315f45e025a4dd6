//! The `gcp-kms` KEK: a Cloud KMS symmetric key wraps and unwraps data keys through its
//! REST API (`POST https://cloudkms.googleapis.com/v1/{name}:encrypt` / `:decrypt`, JSON
//! with base64 `plaintext` / `ciphertext` and `additionalAuthenticatedData`). The key
//! never leaves KMS; the service account needs `roles/cloudkms.cryptoKeyEncrypterDecrypter`
//! on it. The OAuth access token comes from the GKE metadata server (Workload Identity),
//! cached until a minute before it expires. Both URLs are configurable (tests point them
//! at a local server); every call has a timeout and a bounded answer.
//!
//! KMS rotates the key's versions by itself: the ciphertext names its version, so
//! decryption keeps working and new wraps use the primary version.

use crate::{EnvelopeError, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

pub const PROVIDER: &str = "gcp-kms";
pub const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com/";
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://metadata.google.internal/";
pub const TOKEN_PATH: &str = "computeMetadata/v1/instance/service-accounts/default/token";
/// KMS and metadata answers are small; anything bigger is refused unread.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// A token is refreshed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where and how to reach Cloud KMS.
#[derive(Debug, Clone)]
pub struct GcpKmsConfig {
    /// `projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}`.
    pub key_name: String,
    /// Base URL of the KMS API, ending in `/` (default [`DEFAULT_ENDPOINT`]).
    pub endpoint: String,
    /// Base URL of the metadata server, ending in `/` (default
    /// [`DEFAULT_METADATA_ENDPOINT`]).
    pub metadata_endpoint: String,
    /// Per request, connection included.
    pub timeout: Duration,
}

impl GcpKmsConfig {
    pub fn new(key_name: impl Into<String>) -> Self {
        Self {
            key_name: key_name.into(),
            endpoint: DEFAULT_ENDPOINT.into(),
            metadata_endpoint: DEFAULT_METADATA_ENDPOINT.into(),
            timeout: Duration::from_secs(10),
        }
    }
}

struct Token {
    value: SecretString,
    refresh_at: Instant,
}

pub struct GcpKms {
    key_name: String,
    endpoint: String,
    metadata_endpoint: String,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl std::fmt::Debug for GcpKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpKms")
            .field("key_name", &self.key_name)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Checks a crypto key's resource name (not a key version: encrypt takes the key).
pub fn check_key_name(name: &str) -> Result<()> {
    let parts: Vec<&str> = name.split('/').collect();
    let shaped = parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "keyRings"
        && parts[6] == "cryptoKeys"
        && [1, 3, 5, 7].iter().all(|&i| {
            !parts[i].is_empty()
                && parts[i].len() <= 100
                && parts[i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        });
    if shaped {
        Ok(())
    } else {
        Err(EnvelopeError::Config(format!(
            "the Cloud KMS key name {name:?} is not projects/…/locations/…/keyRings/…/cryptoKeys/…"
        )))
    }
}

fn base_url(url: &str, what: &str, allow_http: bool) -> Result<String> {
    let url = url.trim();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| {
            url.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    if !(url.starts_with("https://") || loopback || (allow_http && url.starts_with("http://"))) {
        return Err(EnvelopeError::Config(format!(
            "the {what} URL must be https (or loopback http in tests): {url:?}"
        )));
    }
    Ok(if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    })
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: SecretString,
    #[serde(default)]
    expires_in: u64,
}

#[derive(Deserialize)]
struct EncryptAnswer {
    ciphertext: String,
}

#[derive(Deserialize)]
struct DecryptAnswer {
    plaintext: SecretString,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
}

impl GcpKms {
    pub fn new(config: GcpKmsConfig) -> Result<Self> {
        check_key_name(&config.key_name)?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("marquee-envelope")
            .build()
            .map_err(|error| EnvelopeError::Config(format!("building the HTTP client: {error}")))?;
        Ok(Self {
            key_name: config.key_name,
            endpoint: base_url(&config.endpoint, "Cloud KMS", false)?,
            // The metadata server is plain http on the node (that is how GKE serves it).
            metadata_endpoint: base_url(&config.metadata_endpoint, "metadata server", true)?,
            http,
            token: tokio::sync::Mutex::new(None),
        })
    }

    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    pub(crate) async fn encrypt(&self, plaintext: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>> {
        let body = Zeroizing::new(
            serde_json::json!({
                "plaintext": STANDARD.encode(plaintext),
                "additionalAuthenticatedData": STANDARD.encode(aad),
            })
            .to_string(),
        );
        let answer = self.call("encrypt", &body).await?;
        let answer: EncryptAnswer = serde_json::from_slice(&answer)
            .map_err(|_| EnvelopeError::Kms("encrypt answered without a ciphertext".into()))?;
        STANDARD.decode(answer.ciphertext).map_err(|_| {
            EnvelopeError::Kms("encrypt answered a ciphertext that is not base64".into())
        })
    }

    pub(crate) async fn decrypt(
        &self,
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let body = serde_json::json!({
            "ciphertext": STANDARD.encode(ciphertext),
            "additionalAuthenticatedData": STANDARD.encode(aad),
        })
        .to_string();
        let answer = self.call("decrypt", &body).await?;
        let answer: DecryptAnswer = serde_json::from_slice(&answer)
            .map_err(|_| EnvelopeError::Kms("decrypt answered without a plaintext".into()))?;
        STANDARD
            .decode(answer.plaintext.expose_secret())
            .map(Zeroizing::new)
            .map_err(|_| {
                EnvelopeError::Kms("decrypt answered a plaintext that is not base64".into())
            })
    }

    /// `POST {endpoint}v1/{key}:{op}`; a 401 drops the cached token and tries once more.
    async fn call(&self, op: &str, body: &str) -> Result<Zeroizing<Vec<u8>>> {
        let url = format!("{}v1/{}:{op}", self.endpoint, self.key_name);
        for attempt in 0..2 {
            let token = self.token().await?;
            let response = self
                .http
                .post(&url)
                .bearer_auth(token.expose_secret())
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|error| {
                    EnvelopeError::Kms(format!("{op} with {}: {}", self.key_name, describe(&error)))
                })?;
            let status = response.status();
            let answer = read_bounded(response).await?;
            if status.is_success() {
                return Ok(answer);
            }
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                *self.token.lock().await = None;
                continue;
            }
            let (kms_status, message) = match serde_json::from_slice::<ErrorAnswer>(&answer) {
                Ok(error) => (error.error.status, error.error.message),
                Err(_) => (String::new(), String::new()),
            };
            let message: String = message.chars().take(300).collect();
            // KMS answers INVALID_ARGUMENT when a ciphertext or its AAD do not check out.
            if op == "decrypt" && status == reqwest::StatusCode::BAD_REQUEST {
                tracing::debug!(%message, "Cloud KMS refused to decrypt");
                return Err(EnvelopeError::Refused);
            }
            return Err(EnvelopeError::Kms(format!(
                "{op} with {} failed: HTTP {} {kms_status}{}{message}",
                self.key_name,
                status.as_u16(),
                if message.is_empty() { "" } else { ": " },
            )));
        }
        Err(EnvelopeError::Kms(format!(
            "{op} with {}: the access token was refused twice",
            self.key_name
        )))
    }

    async fn token(&self) -> Result<SecretString> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let url = format!("{}{TOKEN_PATH}", self.metadata_endpoint);
        let response = self
            .http
            .get(&url)
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .map_err(|error| {
                EnvelopeError::Kms(format!(
                    "no access token from the metadata server: {}",
                    describe(&error)
                ))
            })?;
        let status = response.status();
        let answer = read_bounded(response).await?;
        if !status.is_success() {
            return Err(EnvelopeError::Kms(format!(
                "no access token from the metadata server: HTTP {}",
                status.as_u16()
            )));
        }
        let answer: TokenAnswer = serde_json::from_slice(&answer).map_err(|_| {
            EnvelopeError::Kms("the metadata server answered without an access token".into())
        })?;
        let lifetime = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN);
        *cached = Some(Token {
            value: answer.access_token.clone(),
            refresh_at: Instant::now() + lifetime,
        });
        Ok(answer.access_token)
    }
}

fn describe(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Zeroizing<Vec<u8>>> {
    let too_large = || EnvelopeError::Kms(format!("an answer over {MAX_ANSWER_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Zeroizing::new(Vec::new());
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| EnvelopeError::Kms(format!("reading an answer: {}", describe(&error))))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Aad, EnvelopeError, KekProvider, KekSettings, KeySource};
    use marquee_testkit::gcp_kms::{FakeKms, KmsReply};
    use secrecy::ExposeSecret;

    const KEY: &str =
        "projects/marquee-test/locations/europe-west1/keyRings/marquee/cryptoKeys/auth";

    fn settings(kms: &FakeKms) -> KekSettings {
        KekSettings {
            provider: KekProvider::GcpKms,
            gcp_kms_key_name: Some(KEY.into()),
            gcp_kms_endpoint: kms.base.clone(),
            gcp_metadata_endpoint: kms.base.clone(),
            gcp_timeout_secs: 2,
            ..KekSettings::default()
        }
    }

    fn settings_for(kms: &FakeKms) -> KekSettings {
        // The binaries install the ring provider first thing; so do the tests.
        let _ = rustls::crypto::ring::default_provider().install_default();
        settings(kms)
    }

    fn source() -> KeySource {
        KeySource {
            env_prefix: "MARQUEE_TEST_KEK".into(),
            default_key_file: "/nonexistent/test-kek.key".into(),
            embedded: false,
        }
    }

    #[tokio::test]
    async fn seals_and_opens_through_kms_with_a_cached_metadata_token() {
        let kms = FakeKms::start(KEY).await;
        let sealer = settings_for(&kms).sealer(&source()).unwrap();
        assert_eq!(sealer.kek(), ("gcp-kms", KEY));
        let aad = Aad::new("test").with("id", "1");
        let sealed = sealer.seal(b"connector secret", &aad).await.unwrap();
        assert!(sealed.starts_with("menv1.gcp-kms."));
        let opened = sealer.open(&sealed, &aad).await.unwrap();
        assert_eq!(opened.expose_secret(), b"connector secret");
        // The wrapped DEK is bound to the row through KMS's AAD too.
        assert!(matches!(
            sealer
                .open(&sealed, &Aad::new("test").with("id", "2"))
                .await,
            Err(EnvelopeError::Refused)
        ));
        let requests = kms.requests();
        let tokens = requests
            .iter()
            .filter(|r| r.path.ends_with("/token"))
            .count();
        assert_eq!(tokens, 1, "one token for all calls: {requests:?}");
        let token_request = requests
            .iter()
            .find(|r| r.path.ends_with("/token"))
            .unwrap();
        assert_eq!(
            token_request.path,
            "/computeMetadata/v1/instance/service-accounts/default/token"
        );
        assert_eq!(token_request.metadata_flavor.as_deref(), Some("Google"));
        let encrypt = requests
            .iter()
            .find(|r| r.path.ends_with(":encrypt"))
            .unwrap();
        assert_eq!(encrypt.path, format!("/v1/{KEY}:encrypt"));
        assert_eq!(
            encrypt.authorization.as_deref(),
            Some(format!("Bearer {}", marquee_testkit::gcp_kms::ACCESS_TOKEN).as_str())
        );
        assert!(encrypt.body["plaintext"].is_string());
        assert!(encrypt.body["additionalAuthenticatedData"].is_string());
        assert!(!format!("{sealer:?}").contains(marquee_testkit::gcp_kms::ACCESS_TOKEN));
        kms.stop().await;
    }

    #[tokio::test]
    async fn kms_errors_are_clear_and_an_expired_token_is_renewed() {
        let kms = FakeKms::start(KEY).await;
        let sealer = settings_for(&kms).sealer(&source()).unwrap();
        let aad = Aad::new("test");
        kms.reply_next(KmsReply::Status(403, "PERMISSION_DENIED"));
        let error = sealer.seal(b"x", &aad).await.unwrap_err().to_string();
        assert!(
            error.contains("HTTP 403 PERMISSION_DENIED")
                && error.contains("cloudkms.cryptoKeyVersions.useToEncrypt")
                && error.contains(KEY),
            "{error}"
        );
        // A 401 (token revoked early) fetches a new token and goes through.
        kms.reply_next(KmsReply::Status(401, "UNAUTHENTICATED"));
        let sealed = sealer.seal(b"x", &aad).await.unwrap();
        assert_eq!(
            kms.requests()
                .iter()
                .filter(|r| r.path.ends_with("/token"))
                .count(),
            2
        );
        // Metadata server down: said so.
        kms.fail_token(true);
        let fresh = settings_for(&kms).sealer(&source()).unwrap();
        let error = fresh.open(&sealed, &aad).await.unwrap_err().to_string();
        assert!(error.contains("metadata server: HTTP 500"), "{error}");
        kms.fail_token(false);
        assert_eq!(
            fresh.open(&sealed, &aad).await.unwrap().expose_secret(),
            b"x"
        );
        // Slow KMS: the timeout ends the call.
        kms.reply_next(KmsReply::Delay(Duration::from_secs(5)));
        let error = fresh.open(&sealed, &aad).await.unwrap_err().to_string();
        assert!(error.contains("timed out"), "{error}");
        kms.stop().await;
    }

    #[tokio::test]
    async fn a_row_naming_another_kms_key_is_not_sent_there() {
        let kms = FakeKms::start(KEY).await;
        let sealer = settings_for(&kms).sealer(&source()).unwrap();
        let aad = Aad::new("test");
        let sealed = sealer.seal(b"x", &aad).await.unwrap();
        let other = "projects/evil/locations/global/keyRings/r/cryptoKeys/k";
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = sealed.replacen(
            &URL_SAFE_NO_PAD.encode(KEY),
            &URL_SAFE_NO_PAD.encode(other),
            1,
        );
        let before = kms.requests().len();
        assert!(matches!(
            sealer.open(&forged, &aad).await,
            Err(EnvelopeError::UnknownKek { .. })
        ));
        assert_eq!(kms.requests().len(), before, "no call for an unknown key");
        kms.stop().await;
    }

    #[test]
    fn key_names_and_endpoints_are_checked() {
        assert!(check_key_name(KEY).is_ok());
        for bad in [
            "",
            "projects/p/locations/l/keyRings/r",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k?x",
            "projects//locations/l/keyRings/r/cryptoKeys/k",
        ] {
            assert!(check_key_name(bad).is_err(), "{bad}");
        }
        assert!(base_url("http://kms.example/", "Cloud KMS", false).is_err());
        assert!(base_url("http://localhost.evil/", "Cloud KMS", false).is_err());
        assert_eq!(
            base_url("http://127.0.0.1:9", "Cloud KMS", false).unwrap(),
            "http://127.0.0.1:9/"
        );
        assert!(base_url("http://metadata.google.internal/", "metadata", true).is_ok());
    }
}
