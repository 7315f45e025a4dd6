//! Sign-in with an external OpenID Connect provider (Google): the authorization code
//! flow with PKCE (S256), state and nonce.
//!
//! - Begin checks the redirect URI against the configured ones, stores a pending sign-in
//!   keyed by the SHA-256 of a random state (with the nonce, the PKCE verifier and the
//!   redirect URI) for 10 minutes, and answers the provider's authorization URL.
//! - Complete takes the pending sign-in (once), exchanges the code with the verifier,
//!   verifies the ID token (signature by the provider's JWKS, issuer, audience, expiry,
//!   nonce, verified email) and signs the user in: the user linked to the provider's
//!   account, else the default tenant's user with that verified email (now linked), else
//!   a new user without a password.
//!
//! Discovery and the JWKS are fetched over https (plain http only to loopback, for
//! tests) with a timeout and a size limit, and cached for an hour; an ID token naming an
//! unknown `kid` refetches the JWKS, at most once per `oidc_jwks_min_refetch_secs`.

use super::audit::{AuditEvent, action, outcome};
use super::email::Email;
use super::password;
use super::sessions::{Session, hash_token};
use super::throttle::{Source, account_key, ip_key};
use super::users::User;
use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::settings::{AuthSettings, OidcProviderSettings};
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use marquee_platform::{ExposeSecret, Role};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

pub const GOOGLE: &str = "google";
const SCOPE: &str = "openid email profile";
/// How long a begun sign-in may be completed.
pub const SIGN_IN_TTL_SECS: i64 = 600;
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// After a failed refresh, the last good discovery document serves this long before the
/// next try (so a provider that is down does not cost every sign-in a timeout).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Clock skew allowed on `exp` and `iat`.
const LEEWAY_SECS: i64 = 60;
const MAX_STATE_CHARS: usize = 128;
const MAX_CODE_CHARS: usize = 2048;
const MAX_SUBJECT_CHARS: usize = 255;
const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A sign-in begun and not yet completed, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSignIn {
    /// SHA-256 (hex) of the state; the state itself is only in the browser.
    pub state_hash: String,
    pub provider: String,
    pub nonce: String,
    pub code_verifier: String,
    pub redirect_uri: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A provider's account linked to a user.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    pub id: String,
    pub provider: String,
    /// The provider's stable id for the account (`sub`).
    pub subject: String,
    pub user_id: String,
    pub tenant_id: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// Where to send the browser, and the state to bind to it.
#[derive(Debug, Clone)]
pub struct BegunSignIn {
    pub authorization_url: String,
    pub state: String,
    pub expires_in: i64,
}

/// What the provider sent back to the redirect URI, as the gateway relays it.
#[derive(Debug, Clone)]
pub struct ExternalCallback {
    pub provider: String,
    pub state: String,
    pub code: String,
    pub redirect_uri: String,
}

/// What a verified ID token says about the person.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VerifiedIdentity {
    pub subject: String,
    pub email: Email,
    pub name: Option<String>,
}

/// The configured providers.
#[derive(Clone, Default)]
pub struct Providers {
    google: Option<Arc<Provider>>,
}

impl Providers {
    /// Builds the configured providers; refuses settings that break the rules (an
    /// issuer over plain http to a non-loopback host, say).
    pub fn from_settings(settings: &AuthSettings) -> Result<Self> {
        let google = settings
            .google()
            .map(|google| Provider::new(GOOGLE, google))
            .transpose()?
            .map(Arc::new);
        Ok(Self { google })
    }

    /// The names of the configured providers.
    pub fn names(&self) -> Vec<String> {
        self.google.iter().map(|p| p.name.to_string()).collect()
    }

    fn get(&self, name: &str) -> Result<&Provider> {
        match name {
            GOOGLE => self
                .google
                .as_deref()
                .ok_or(AuthError::ProviderNotConfigured(GOOGLE)),
            _ => Err(AuthError::invalid(
                "unknown_provider",
                "provider must be \"google\"",
            )),
        }
    }
}

/// The rule for the issuer and every endpoint auth calls: https, or plain http only to a
/// loopback host (a provider run by tests). No credentials in the URL, no fragment.
pub fn check_endpoint(raw: &str) -> std::result::Result<reqwest::Url, &'static str> {
    let url = reqwest::Url::parse(raw).map_err(|_| "is not a valid absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err("must use https (plain http is allowed only to a loopback address)"),
        _ => Err("must be an https URL"),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// 256 random bits, base64url: 43 characters, all unreserved (a valid PKCE verifier).
fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The PKCE `S256` challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorization endpoint with the request's parameters added to any it has.
fn authorization_url(
    endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
    code_challenge: &str,
) -> Result<String> {
    let mut url = reqwest::Url::parse(endpoint)
        .map_err(|error| AuthError::Internal(format!("authorization endpoint: {error}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPE)
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", code_challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

/// The provider's `name` without control characters, trimmed, at most 100 characters;
/// the email's local part when that leaves nothing.
fn display_name(name: Option<&str>, email: &Email) -> String {
    let clean: String = name
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let bounded: String = clean.trim().chars().take(MAX_DISPLAY_NAME_CHARS).collect();
    let bounded = bounded.trim_end();
    if bounded.is_empty() {
        email
            .local_part()
            .chars()
            .take(MAX_DISPLAY_NAME_CHARS)
            .collect()
    } else {
        bounded.to_string()
    }
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Cached<T> {
    value: T,
    fresh_until: Instant,
}

#[derive(Default)]
struct JwksCache {
    keys: Vec<Jwk>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

/// `aud` is one client or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(audience) => vec![audience],
        OneOrMany::Many(audiences) => audiences,
    })
}

/// The claims read from an ID token; `iss`, `aud` and `exp` are checked by the decoder.
#[derive(Debug, Deserialize)]
struct IdTokenClaims {
    #[serde(default)]
    sub: String,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    azp: Option<String>,
    iat: Option<Value>,
    nonce: Option<String>,
    email: Option<String>,
    /// A boolean, or the string "true" as some providers send it.
    #[serde(default)]
    email_verified: Value,
    name: Option<String>,
}

fn id_token_invalid(message: &'static str) -> AuthError {
    AuthError::external("id_token_invalid", message)
}

fn state_invalid(message: &'static str) -> AuthError {
    AuthError::external("state_invalid", message)
}

/// One configured OpenID Connect provider: its settings, an HTTP client, and the cached
/// discovery document and keys.
pub(crate) struct Provider {
    name: &'static str,
    settings: OidcProviderSettings,
    http: reqwest::Client,
    discovery: tokio::sync::Mutex<Option<Cached<Arc<Discovery>>>>,
    jwks: tokio::sync::Mutex<JwksCache>,
}

impl Provider {
    fn new(name: &'static str, settings: OidcProviderSettings) -> Result<Self> {
        let refuse = |message: String| AuthError::invalid("invalid_settings", message);
        check_endpoint(&settings.issuer)
            .map_err(|reason| refuse(format!("oidc_{name}_issuer {reason}")))?;
        if settings.redirect_uris.is_empty() {
            return Err(refuse(format!("oidc_{name}_redirect_uris is empty")));
        }
        for uri in &settings.redirect_uris {
            let scheme_ok = reqwest::Url::parse(uri)
                .is_ok_and(|url| matches!(url.scheme(), "https" | "http") && url.has_host());
            if !scheme_ok {
                return Err(refuse(format!(
                    "oidc_{name}_redirect_uris holds {uri:?}, not an absolute http(s) URL"
                )));
            }
        }
        if settings.client_secret.expose_secret().is_empty() {
            // Google's web clients need their secret; the code exchange will fail.
            tracing::warn!(provider = name, "oidc_{name}_client_secret is not set");
        }
        // reqwest's TLS uses the process-wide rustls provider.
        marquee_platform::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // Endpoints are fetched exactly as named: a redirect could lead off https.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("marquee-auth")
            .build()
            .map_err(|error| AuthError::Internal(format!("building the HTTP client: {error}")))?;
        Ok(Self {
            name,
            settings,
            http,
            discovery: tokio::sync::Mutex::new(None),
            jwks: tokio::sync::Mutex::new(JwksCache::default()),
        })
    }

    /// Logs why talking to the provider failed; the caller only learns that it did.
    fn unavailable(&self, what: &str, reason: &str) -> AuthError {
        tracing::warn!(
            provider = self.name,
            what,
            reason,
            "sign-in provider call failed"
        );
        AuthError::ProviderUnavailable
    }

    /// Reads at most [`MAX_RESPONSE_BYTES`] of a body.
    async fn bounded_body(&self, what: &str, mut response: reqwest::Response) -> Result<Vec<u8>> {
        let too_large = || self.unavailable(what, "response larger than 1 MiB");
        if response
            .content_length()
            .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.unavailable(what, &error.to_string()))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn get_json<T: DeserializeOwned>(&self, what: &str, url: &str) -> Result<T> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| self.unavailable(what, &error.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.unavailable(what, &format!("status {status}")));
        }
        let body = self.bounded_body(what, response).await?;
        serde_json::from_slice(&body)
            .map_err(|error| self.unavailable(what, &format!("malformed JSON: {error}")))
    }

    /// The discovery document, cached for an hour.
    async fn discovery(&self) -> Result<Arc<Discovery>> {
        let mut cached = self.discovery.lock().await;
        let now = Instant::now();
        if let Some(cached) = cached.as_ref()
            && now < cached.fresh_until
        {
            return Ok(cached.value.clone());
        }
        match self.fetch_discovery().await {
            Ok(discovery) => {
                let discovery = Arc::new(discovery);
                *cached = Some(Cached {
                    value: discovery.clone(),
                    fresh_until: now + DISCOVERY_TTL,
                });
                Ok(discovery)
            }
            // A provider briefly down does not stop sign-ins: the last good document
            // serves on for a while.
            Err(error) => match cached.as_mut() {
                Some(stale) => {
                    stale.fresh_until = now + RETRY_AFTER_FAILURE;
                    Ok(stale.value.clone())
                }
                None => Err(error),
            },
        }
    }

    async fn fetch_discovery(&self) -> Result<Discovery> {
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
        let discovery: Discovery = self.get_json("discovery", &url).await?;
        // The document must speak for the configured issuer (OpenID Connect Discovery
        // §4.3); otherwise tokens could be checked against someone else's keys.
        if discovery.issuer != self.settings.issuer {
            return Err(self.unavailable("discovery", "its issuer is not the configured one"));
        }
        for (field, url) in [
            ("authorization_endpoint", &discovery.authorization_endpoint),
            ("token_endpoint", &discovery.token_endpoint),
            ("jwks_uri", &discovery.jwks_uri),
        ] {
            if let Err(reason) = check_endpoint(url) {
                return Err(self.unavailable("discovery", &format!("{field} {reason}")));
            }
        }
        Ok(discovery)
    }

    /// The key that verifies a token with this `kid` and algorithm.
    async fn key(&self, jwks_uri: &str, kid: &str, alg: Algorithm) -> Result<DecodingKey> {
        let mut cache = self.jwks.lock().await;
        let min_refetch = Duration::from_secs(self.settings.jwks_min_refetch_secs);
        let due = |cache: &JwksCache| {
            cache
                .attempted_at
                .is_none_or(|at| at.elapsed() >= min_refetch)
        };
        let stale = cache.fetched_at.is_none_or(|at| at.elapsed() >= JWKS_TTL);
        let mut refreshed = false;
        if stale && due(&cache) {
            self.refresh_jwks(&mut cache, jwks_uri).await?;
            refreshed = true;
        }
        if let Some(key) = find_key(&cache.keys, kid, alg)? {
            return Ok(key);
        }
        // An unknown kid: the provider may have rotated its keys since. Refetch, but
        // rarely, so tokens naming made-up kids cannot make us hammer the provider.
        if !refreshed && due(&cache) {
            self.refresh_jwks(&mut cache, jwks_uri).await?;
            if let Some(key) = find_key(&cache.keys, kid, alg)? {
                return Ok(key);
            }
        }
        Err(id_token_invalid(
            "the ID token was signed with a key the provider does not publish",
        ))
    }

    /// Fetches the JWKS; keys that do not parse are skipped. When the fetch fails and
    /// keys are cached, they serve on.
    async fn refresh_jwks(&self, cache: &mut JwksCache, jwks_uri: &str) -> Result<()> {
        #[derive(Deserialize)]
        struct RawJwks {
            keys: Vec<Value>,
        }
        cache.attempted_at = Some(Instant::now());
        match self.get_json::<RawJwks>("jwks", jwks_uri).await {
            Ok(raw) => {
                cache.keys = raw
                    .keys
                    .into_iter()
                    .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
                    .collect();
                cache.fetched_at = Some(Instant::now());
                Ok(())
            }
            Err(_) if !cache.keys.is_empty() => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Exchanges the authorization code (with the PKCE verifier) for an ID token.
    async fn exchange(
        &self,
        discovery: &Discovery,
        code: &str,
        pending: &PendingSignIn,
    ) -> Result<String> {
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", pending.redirect_uri.as_str()),
                ("client_id", self.settings.client_id.as_str()),
                ("client_secret", self.settings.client_secret.expose_secret()),
                ("code_verifier", pending.code_verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|error| self.unavailable("token", &error.to_string()))?;
        let status = response.status();
        let body = self.bounded_body("token", response).await?;
        if status.is_client_error() {
            // The provider refused the code (used, expired, or not issued to us). Its
            // error name is logged; the description and anything else are not.
            let error = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|body| body.get("error")?.as_str().map(str::to_string))
                .filter(|name| name.len() <= 64 && name.bytes().all(|b| b.is_ascii_graphic()))
                .unwrap_or_default();
            tracing::info!(provider = self.name, %status, error, "the provider refused the authorization code");
            return Err(AuthError::external(
                "external_sign_in_failed",
                "the provider refused the authorization code",
            ));
        }
        if !status.is_success() {
            return Err(self.unavailable("token", &format!("status {status}")));
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            id_token: Option<String>,
        }
        let answer: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| self.unavailable("token", "malformed token response"))?;
        answer.id_token.ok_or_else(|| {
            AuthError::external("external_sign_in_failed", "the provider sent no ID token")
        })
    }

    /// The issuers an ID token may name: the configured one, and for Google also its
    /// bare host name, which Google documents as an equally valid `iss`.
    fn accepted_issuers(&self) -> Vec<&str> {
        let mut issuers = vec![self.settings.issuer.as_str()];
        if self.name == GOOGLE && self.settings.issuer == crate::settings::DEFAULT_GOOGLE_ISSUER {
            issuers.push("accounts.google.com");
        }
        issuers
    }

    /// Verifies an ID token and returns who it names. Every failure is a stable code
    /// and a fixed message: nothing the token says is repeated.
    async fn verify(
        &self,
        discovery: &Discovery,
        id_token: &str,
        expected_nonce: &str,
    ) -> Result<VerifiedIdentity> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|_| id_token_invalid("the ID token is malformed"))?;
        // Only asymmetric signatures: never `none`, never HMAC (keyed with what a JWKS
        // publishes, that would let anyone sign).
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(id_token_invalid(
                "the ID token's signature algorithm is not accepted",
            ));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| id_token_invalid("the ID token names no key"))?;
        let key = self.key(&discovery.jwks_uri, kid, header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&self.accepted_issuers());
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS as u64;
        let claims = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind as Jwt;
                id_token_invalid(match error.kind() {
                    Jwt::ExpiredSignature => "the ID token has expired",
                    Jwt::InvalidAudience => "the ID token was issued to another client",
                    Jwt::InvalidIssuer => "the ID token was issued by another issuer",
                    Jwt::InvalidSignature => "the ID token's signature is invalid",
                    Jwt::MissingRequiredClaim(_) => "the ID token lacks a required claim",
                    _ => "the ID token is invalid",
                })
            })?
            .claims;
        self.check_claims(claims, expected_nonce)
    }

    fn check_claims(
        &self,
        claims: IdTokenClaims,
        expected_nonce: &str,
    ) -> Result<VerifiedIdentity> {
        let client_id = self.settings.client_id.as_str();
        // With several audiences the token must name us as its authorized party; a
        // stated one must be us in any case (OpenID Connect Core §3.1.3.7).
        if (claims.aud.len() > 1 || claims.azp.is_some())
            && claims.azp.as_deref() != Some(client_id)
        {
            return Err(id_token_invalid(
                "the ID token was issued to another client",
            ));
        }
        let now = Utc::now().timestamp();
        match claims.iat.as_ref().and_then(Value::as_f64) {
            Some(iat) if iat <= (now + LEEWAY_SECS) as f64 => {}
            Some(_) => return Err(id_token_invalid("the ID token is issued in the future")),
            None => return Err(id_token_invalid("the ID token has no issue time")),
        }
        let nonce_matches = claims
            .nonce
            .as_deref()
            .is_some_and(|nonce| bool::from(nonce.as_bytes().ct_eq(expected_nonce.as_bytes())));
        if !nonce_matches {
            return Err(AuthError::external(
                "nonce_mismatch",
                "the ID token does not belong to this sign-in",
            ));
        }
        let subject = claims.sub;
        if subject.is_empty()
            || subject.chars().count() > MAX_SUBJECT_CHARS
            || subject.chars().any(char::is_control)
        {
            return Err(id_token_invalid("the ID token's subject is not usable"));
        }
        let verified = match &claims.email_verified {
            Value::Bool(verified) => *verified,
            Value::String(verified) => verified == "true",
            _ => false,
        };
        if !verified {
            return Err(AuthError::external(
                "email_not_verified",
                "the provider has not verified this email address",
            ));
        }
        let email = claims
            .email
            .as_deref()
            .and_then(|email| Email::parse(email).ok())
            .ok_or_else(|| id_token_invalid("the ID token has no usable email address"))?;
        Ok(VerifiedIdentity {
            subject,
            email,
            name: claims.name,
        })
    }
}

/// The published key with this kid that fits the algorithm: RSA for RS256, P-256 for
/// ES256, and the JWK's own `alg` and `use`, when given, agreeing.
fn find_key(keys: &[Jwk], kid: &str, alg: Algorithm) -> Result<Option<DecodingKey>> {
    let fits = |jwk: &Jwk| {
        let family = match (&jwk.algorithm, alg) {
            (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
            (AlgorithmParameters::EllipticCurve(params), Algorithm::ES256) => {
                params.curve == EllipticCurve::P256
            }
            _ => false,
        };
        let stated_alg = jwk
            .common
            .key_algorithm
            .is_none_or(|stated| stated == KeyAlgorithm::from(alg));
        let stated_use = jwk
            .common
            .public_key_use
            .as_ref()
            .is_none_or(|key_use| *key_use == PublicKeyUse::Signature);
        family && stated_alg && stated_use
    };
    let Some(jwk) = keys
        .iter()
        .find(|jwk| jwk.common.key_id.as_deref() == Some(kid) && fits(jwk))
    else {
        return Ok(None);
    };
    DecodingKey::from_jwk(jwk)
        .map(Some)
        .map_err(|_| id_token_invalid("the provider's key is not usable"))
}

/// The code an external sign-in failure is audited with.
fn failure_code(error: &AuthError) -> &'static str {
    match error {
        AuthError::ExternalSignIn { code, .. } => code,
        AuthError::ProviderUnavailable => "provider_unavailable",
        AuthError::Database(_) | AuthError::Internal(_) => "internal",
        _ => "refused",
    }
}

impl Auth {
    /// The providers sign-in is offered with (`["google"]` when configured).
    pub fn sign_in_providers(&self) -> Vec<String> {
        self.oidc.names()
    }

    /// Starts a sign-in with `provider`; the browser goes to the answer's URL, and the
    /// state comes back with the code to [`Self::complete_external_sign_in`].
    pub async fn begin_external_sign_in(
        &self,
        provider: &str,
        redirect_uri: &str,
    ) -> Result<BegunSignIn> {
        let provider = self.oidc.get(provider)?;
        if !provider
            .settings
            .redirect_uris
            .iter()
            .any(|uri| uri == redirect_uri)
        {
            return Err(AuthError::invalid(
                "invalid_redirect_uri",
                "redirect_uri is not one of the configured redirect URIs",
            ));
        }
        let discovery = provider.discovery().await?;
        let state = random_secret();
        let nonce = random_secret();
        let code_verifier = random_secret();
        let authorization_url = authorization_url(
            &discovery.authorization_endpoint,
            &provider.settings.client_id,
            redirect_uri,
            &state,
            &nonce,
            &pkce_challenge(&code_verifier),
        )?;
        let now = Utc::now();
        // Abandoned sign-ins are cleared here rather than by a background job.
        if let Err(error) = store::oidc::delete_expired(&self.db, now).await {
            tracing::warn!(%error, "deleting expired sign-ins failed");
        }
        store::oidc::insert_pending(
            &self.db,
            PendingSignIn {
                state_hash: hash_token(&state),
                provider: provider.name.to_string(),
                nonce,
                code_verifier,
                redirect_uri: redirect_uri.to_string(),
                created_at: now,
                expires_at: now + TimeDelta::seconds(SIGN_IN_TTL_SECS),
            },
        )
        .await?;
        Ok(BegunSignIn {
            authorization_url,
            state,
            expires_in: SIGN_IN_TTL_SECS,
        })
    }

    /// Completes a sign-in: the state is good once, whatever the outcome.
    pub async fn complete_external_sign_in(
        &self,
        callback: ExternalCallback,
        context: &RequestContext,
    ) -> Result<Session> {
        let provider = self.oidc.get(&callback.provider)?;
        let tenant = self.ensure_default_tenant().await?;
        let source = Source::of(&context.ip);
        if let Err(error) = self.check_throttle(&[&ip_key(&source)]).await {
            let detail = format!("{}: throttled", provider.name);
            self.audit_login(&tenant.id, "", outcome::DENIED, context, &detail)
                .await;
            return Err(error);
        }
        let identity = match self.verified_identity(provider, &callback).await {
            Ok(identity) => identity,
            Err(error) => {
                let detail = format!("{}: {}", provider.name, failure_code(&error));
                self.audit_login(&tenant.id, "", outcome::FAILURE, context, &detail)
                    .await;
                return Err(error);
            }
        };
        let user = self
            .user_for_identity(provider.name, &identity, &tenant.id, context)
            .await?;
        // The sign-in throttle holds, however the account is signed into: a source that
        // must wait for its password attempts waits here too.
        let account = account_key(&user.tenant_id, &user.email);
        if let Err(error) = self.admit_sign_in(&account, &source).await {
            let detail = format!("{}: throttled", provider.name);
            self.audit_login(&user.tenant_id, &user.id, outcome::DENIED, context, &detail)
                .await;
            return Err(error);
        }
        self.record_sign_in_success(&account, &source).await?;
        let detail = format!("provider={}", provider.name);
        self.audit_login(
            &user.tenant_id,
            &user.id,
            outcome::SUCCESS,
            context,
            &detail,
        )
        .await;
        self.start_session(user).await
    }

    /// Takes the pending sign-in, exchanges the code and verifies the ID token.
    async fn verified_identity(
        &self,
        provider: &Provider,
        callback: &ExternalCallback,
    ) -> Result<VerifiedIdentity> {
        const UNKNOWN: &str = "the sign-in is unknown or was completed already";
        if callback.state.is_empty() || callback.state.len() > MAX_STATE_CHARS {
            return Err(state_invalid(UNKNOWN));
        }
        let Some(pending) =
            store::oidc::take_pending(&self.db, &hash_token(&callback.state)).await?
        else {
            return Err(state_invalid(UNKNOWN));
        };
        if pending.provider != provider.name {
            return Err(state_invalid(UNKNOWN));
        }
        if pending.expires_at <= Utc::now() {
            return Err(state_invalid("the sign-in has expired, start again"));
        }
        if pending.redirect_uri != callback.redirect_uri {
            return Err(AuthError::external(
                "redirect_uri_mismatch",
                "redirect_uri differs from the one the sign-in began with",
            ));
        }
        if callback.code.is_empty() || callback.code.len() > MAX_CODE_CHARS {
            return Err(AuthError::external(
                "external_sign_in_failed",
                "the authorization code is missing or too long",
            ));
        }
        let discovery = provider.discovery().await?;
        let id_token = provider
            .exchange(&discovery, &callback.code, &pending)
            .await?;
        provider.verify(&discovery, &id_token, &pending.nonce).await
    }

    /// The user a provider's account signs in to, linking or creating one the first
    /// time. Two first sign-ins of one person may race: the loser finds the winner's
    /// link on its second try.
    async fn user_for_identity(
        &self,
        provider: &'static str,
        identity: &VerifiedIdentity,
        tenant_id: &str,
        context: &RequestContext,
    ) -> Result<User> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .try_user_for_identity(provider, identity, tenant_id, context)
                .await
            {
                Err(AuthError::Database(error))
                    if attempts < 3 && store::is_unique_violation(&error) => {}
                result => return result,
            }
        }
    }

    async fn try_user_for_identity(
        &self,
        provider: &'static str,
        identity: &VerifiedIdentity,
        tenant_id: &str,
        context: &RequestContext,
    ) -> Result<User> {
        if let Some(link) =
            store::oidc::find_identity(&self.db, provider, &identity.subject).await?
        {
            return store::users::find(&self.db, &link.tenant_id, &link.user_id)
                .await?
                .ok_or_else(|| AuthError::Internal("a linked user is missing".into()));
        }
        let now = Utc::now();
        let txn = store::begin(&self.db).await?;
        // The provider verified the email: that proves the person owns the account
        // registered with it.
        let existing =
            store::users::find_by_email(&txn, tenant_id, identity.email.as_str()).await?;
        let created = existing.is_none();
        let user = match existing {
            Some(user) => user,
            None => {
                store::users::insert(
                    &txn,
                    User {
                        id: uuid::Uuid::now_v7().to_string(),
                        tenant_id: tenant_id.to_string(),
                        email: identity.email.as_str().to_string(),
                        password_hash: password::NO_PASSWORD.to_string(),
                        display_name: display_name(identity.name.as_deref(), &identity.email),
                        roles: vec![Role::Creator],
                        created_at: now,
                        // The provider verified it.
                        email_verified_at: Some(now),
                        disabled_at: None,
                    },
                )
                .await?
            }
        };
        store::oidc::insert_identity(
            &txn,
            ExternalIdentity {
                id: uuid::Uuid::now_v7().to_string(),
                provider: provider.to_string(),
                subject: identity.subject.clone(),
                user_id: user.id.clone(),
                tenant_id: user.tenant_id.clone(),
                email: identity.email.as_str().to_string(),
                created_at: now,
            },
        )
        .await?;
        if !created {
            // The provider verified the address.
            store::users::mark_email_verified(&txn, &user.tenant_id, &user.id, &user.email, now)
                .await?;
        }
        txn.commit().await?;
        self.audit(AuditEvent {
            tenant_id: &user.tenant_id,
            actor_id: &user.id,
            action: if created {
                action::REGISTER
            } else {
                action::EXTERNAL_IDENTITY_LINKED
            },
            outcome: outcome::SUCCESS,
            context,
            detail: format!("provider={provider}"),
        })
        .await;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_are_43_unreserved_characters_and_differ() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{a}"
        );
    }

    #[test]
    fn https_is_required_except_to_loopback() {
        for good in [
            "https://accounts.google.com",
            "https://accounts.google.com/o/oauth2/v2/auth?hl=en",
            "http://127.0.0.1:8080",
            "http://127.1.2.3/token",
            "http://[::1]:9000/jwks",
            "http://localhost:3000",
        ] {
            assert!(check_endpoint(good).is_ok(), "{good}");
        }
        for bad in [
            "http://accounts.google.com",
            "http://10.0.0.1/token",
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil.example/",
            "ftp://accounts.google.com",
            "accounts.google.com",
            "https://user:secret@accounts.google.com",
            "https://accounts.google.com/#frag",
            "",
            "https://",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn authorization_url_carries_the_flow_parameters() {
        let url = authorization_url(
            "https://accounts.google.com/o/oauth2/v2/auth?hl=en",
            "client-1",
            "http://localhost:8080/api/v1/auth/google/callback",
            "the-state",
            "the-nonce",
            "the-challenge",
        )
        .unwrap();
        let url = reqwest::Url::parse(&url).unwrap();
        let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(params["hl"], "en", "the endpoint's own parameters stay");
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], "client-1");
        assert_eq!(
            params["redirect_uri"],
            "http://localhost:8080/api/v1/auth/google/callback"
        );
        assert_eq!(params["scope"], "openid email profile");
        assert_eq!(params["state"], "the-state");
        assert_eq!(params["nonce"], "the-nonce");
        assert_eq!(params["code_challenge"], "the-challenge");
        assert_eq!(params["code_challenge_method"], "S256");
    }

    #[test]
    fn display_names_are_cleaned_and_bounded() {
        let email = Email::parse("grace.hopper@example.com").unwrap();
        assert_eq!(
            display_name(Some("  Grace Hopper "), &email),
            "Grace Hopper"
        );
        assert_eq!(display_name(Some("Gr\u{0}ace\u{7}\n"), &email), "Grace");
        assert_eq!(display_name(Some(" \u{1b} "), &email), "grace.hopper");
        assert_eq!(display_name(None, &email), "grace.hopper");
        let long = display_name(Some(&"é".repeat(500)), &email);
        assert_eq!(long.chars().count(), 100);
        assert!(
            marquee_platform::input::fields::DISPLAY_NAME
                .check(&long)
                .is_ok()
        );
        let spaced = format!("{} {}", "a".repeat(99), "b".repeat(10));
        assert_eq!(display_name(Some(&spaced), &email), "a".repeat(99));
    }

    #[tokio::test]
    async fn begin_stores_the_verifier_whose_s256_the_url_carries() {
        let provider = marquee_testkit::oidc::FakeOidcProvider::start().await;
        let redirect = "http://localhost:8080/api/v1/auth/google/callback";
        let test = super::super::users::tests::start_with(|settings| {
            settings.oidc_google_client_id = Some(marquee_testkit::oidc::CLIENT_ID.into());
            settings.oidc_google_issuer = provider.issuer().to_string();
        })
        .await;
        let begun = test
            .auth
            .begin_external_sign_in(GOOGLE, redirect)
            .await
            .unwrap();
        assert_eq!(begun.expires_in, 600);
        assert!(begun.state.len() >= 22, "at least 128 bits");
        let url = reqwest::Url::parse(&begun.authorization_url).unwrap();
        assert_eq!(
            url.as_str().split('?').next(),
            Some(format!("{}/authorize", provider.issuer()).as_str())
        );
        let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["state"], begun.state);
        assert_eq!(params["client_id"], marquee_testkit::oidc::CLIENT_ID);
        assert_eq!(params["redirect_uri"], redirect);
        assert_eq!(params["scope"], "openid email profile");

        let stored = store::oidc::find_pending(&test.auth.db, &hash_token(&begun.state))
            .await
            .unwrap()
            .expect("the pending sign-in is stored under the state's hash");
        assert_ne!(
            stored.state_hash, begun.state,
            "the state itself is not stored"
        );
        assert!((43..=128).contains(&stored.code_verifier.len()));
        assert_eq!(
            params["code_challenge"],
            pkce_challenge(&stored.code_verifier)
        );
        assert_eq!(params["nonce"], stored.nonce);
        assert_eq!(stored.redirect_uri, redirect);
        assert_eq!(
            (stored.expires_at - stored.created_at).num_seconds(),
            SIGN_IN_TTL_SECS
        );
    }
}
