//! Access-token verification, done here and never by calling auth.
//!
//! The signing keys come from auth's JWKS (fetched at start, refreshed on a timer and
//! when a token names an unknown `kid`, at most once per [`MIN_REFRESH_INTERVAL`]).
//! Only EdDSA (Ed25519) is accepted; `alg: none`, HMAC and every other algorithm fail
//! before any key is looked at. A verified token is cached (keyed by its SHA-256, until
//! its own `exp`) so the signature is checked once per token, not once per request; the
//! revoked sessions ([`crate::revocation`]) are checked on every request.

use crate::revocation::Revocations;
use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use marquee_platform::{AccessClaims, Error, ErrorKind, Principal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Unknown-`kid` refreshes closer together than this are skipped.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// A partner client's throttling tier. Tokens may carry it as the `rate_tier` claim;
/// without it a client is throttled as `basic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RateTier {
    #[default]
    Basic,
    Standard,
    Premium,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub principal: Principal,
    /// Throttling tier (meaningful for clients).
    pub rate_tier: RateTier,
    /// Expiry of the token (seconds since the epoch).
    pub expires_at: u64,
    /// The session the token belongs to (users), for revocation.
    pub session_id: Option<String>,
    /// When the token was issued (milliseconds since the epoch), for revocation.
    pub issued_at_ms: i64,
}

/// One public key as published in a JWKS (RFC 8037 OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicJwk {
    #[schema(example = "OKP")]
    pub kty: String,
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<PublicJwk>,
}

/// Where the verifier gets keys from (auth's `GetJwks` in production).
pub trait JwksSource: Send + Sync {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, Error>>;
}

struct KeySet {
    loaded: bool,
    keys: HashMap<String, DecodingKey>,
    document: JwkSet,
}

pub struct TokenVerifier {
    source: Box<dyn JwksSource>,
    validation: Validation,
    keys: RwLock<Arc<KeySet>>,
    verified: moka::future::Cache<[u8; 32], Arc<Caller>>,
    last_refresh: Mutex<Option<Instant>>,
    refreshing: tokio::sync::Mutex<()>,
    revocations: Arc<Revocations>,
}

struct UntilTokenExpiry;

impl moka::Expiry<[u8; 32], Arc<Caller>> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Arc<Caller>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_secs(
            value.expires_at.saturating_sub(now_secs()),
        ))
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::unauthenticated("token_invalid", message)
}

impl TokenVerifier {
    pub fn new(
        source: Box<dyn JwksSource>,
        issuer: &str,
        audience: &str,
        cache_capacity: u64,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Self {
            source,
            validation,
            keys: RwLock::new(Arc::new(KeySet {
                loaded: false,
                keys: HashMap::new(),
                document: JwkSet::default(),
            })),
            verified: moka::future::Cache::builder()
                .max_capacity(cache_capacity)
                .expire_after(UntilTokenExpiry)
                .build(),
            last_refresh: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            revocations: Arc::default(),
        }
    }

    fn key_set(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether a JWKS has been loaded at least once (readiness).
    pub fn is_loaded(&self) -> bool {
        self.key_set().loaded
    }

    /// The published JWKS, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        self.key_set().document.clone()
    }

    /// Replaces the key set. When a key disappeared (rotated out or revoked), tokens it
    /// signed are forgotten so they are verified again (and now refused).
    pub fn install(&self, document: JwkSet) {
        let mut keys = HashMap::new();
        let mut published = Vec::new();
        for jwk in document.keys {
            match decoding_key(&jwk) {
                Ok(key) => {
                    keys.insert(jwk.kid.clone(), key);
                    published.push(jwk);
                }
                Err(reason) => tracing::warn!(kid = %jwk.kid, reason, "ignoring JWKS key"),
            }
        }
        let new = Arc::new(KeySet {
            loaded: true,
            keys,
            document: JwkSet { keys: published },
        });
        let old = std::mem::replace(
            &mut *self
                .keys
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            new.clone(),
        );
        if old.keys.keys().any(|kid| !new.keys.contains_key(kid)) {
            self.verified.invalidate_all();
        }
    }

    /// Fetches the JWKS from the source and installs it.
    pub async fn refresh(&self) -> Result<(), Error> {
        *self
            .last_refresh
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        let document = self.source.fetch().await?;
        self.install(document);
        Ok(())
    }

    /// A refresh triggered by an unknown `kid`: single-flight and rate limited.
    async fn refresh_for_unknown_kid(&self) {
        let _only_one = self.refreshing.lock().await;
        let recent = self
            .last_refresh
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL);
        if !recent && let Err(error) = self.refresh().await {
            tracing::warn!(%error, "JWKS refresh for an unknown key id failed");
        }
    }

    /// Verifies `token` and returns the caller. Errors are `401` with codes
    /// `token_invalid` or `token_expired` (`503 unavailable` before any key is known).
    pub async fn verify(&self, token: &str) -> Result<Arc<Caller>, Error> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let caller = match self.verified.get(&digest).await {
            Some(caller) if caller.expires_at >= now_secs() => caller,
            Some(_) => {
                return Err(Error::unauthenticated(
                    "token_expired",
                    "the access token has expired",
                ));
            }
            None => {
                let caller = Arc::new(self.verify_signature(token).await?);
                self.verified.insert(digest, caller.clone()).await;
                caller
            }
        };
        // Checked on every request, cached or not: a session ends within a poll.
        if self.revocations.covers(&caller) {
            return Err(Error::unauthenticated(
                "token_revoked",
                "the session has ended; sign in again",
            ));
        }
        Ok(caller)
    }

    /// The revocations this verifier refuses (polled from auth).
    pub fn revocations(&self) -> Arc<Revocations> {
        self.revocations.clone()
    }

    async fn verify_signature(&self, token: &str) -> Result<Caller, Error> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            invalid("the access token is malformed or uses an unsupported algorithm")
        })?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("the access token names no signing key (kid)"))?;
        let mut keys = self.key_set();
        if !keys.keys.contains_key(&kid) {
            self.refresh_for_unknown_kid().await;
            keys = self.key_set();
        }
        let Some(key) = keys.keys.get(&kid) else {
            if !keys.loaded {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    "unavailable",
                    "token signing keys are not loaded yet, try again shortly",
                ));
            }
            return Err(invalid("the access token is signed by an unknown key"));
        };
        // The claims auth signs (`iss`, `aud` and `exp` are checked by the validator; an
        // unknown principal kind does not deserialize).
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(
            |error| {
                use jsonwebtoken::errors::ErrorKind as Jwt;
                match error.kind() {
                    Jwt::ExpiredSignature => {
                        Error::unauthenticated("token_expired", "the access token has expired")
                    }
                    Jwt::InvalidIssuer => invalid("the access token has the wrong issuer"),
                    Jwt::InvalidAudience => invalid("the access token has the wrong audience"),
                    Jwt::InvalidSignature => invalid("the access token signature is invalid"),
                    Jwt::MissingRequiredClaim(claim) => {
                        invalid(format!("the access token has no `{claim}` claim"))
                    }
                    _ => invalid("the access token is invalid"),
                }
            },
        )?;
        let claims = data.claims;
        if claims.sub.is_empty() || claims.tid.is_empty() {
            return Err(invalid("the access token has no subject or tenant"));
        }
        // Roles and scopes this gateway does not know (from a newer auth) are ignored.
        let roles = claims.known_roles();
        let scopes = claims.known_scopes();
        Ok(Caller {
            principal: Principal {
                kind: claims.principal,
                subject: claims.sub,
                tenant_id: claims.tid,
                roles,
                scopes,
            },
            // Partner clients: `basic`, `standard` or `premium` (anything else reads as
            // basic).
            rate_tier: match claims.rate_tier.as_deref() {
                Some("standard") => RateTier::Standard,
                Some("premium") => RateTier::Premium,
                _ => RateTier::Basic,
            },
            expires_at: u64::try_from(claims.exp).unwrap_or(0),
            session_id: claims.sid,
            // Tokens from before `iat_ms` existed: the start of their second.
            issued_at_ms: claims
                .iat_ms
                .unwrap_or_else(|| claims.iat.saturating_mul(1000)),
        })
    }

    /// Re-fetches the JWKS every `interval` until `shutdown`; retries every second until
    /// the first success, then calls `on_loaded` once.
    pub async fn run_refresh_until_stopped(
        self: Arc<Self>,
        interval: Duration,
        shutdown: marquee_platform::shutdown::CancellationToken,
        on_loaded: impl std::future::Future<Output = ()> + Send,
    ) {
        let mut on_loaded = Some(on_loaded);
        loop {
            let wait = match self.refresh().await {
                Ok(()) => {
                    if let Some(notify) = on_loaded.take() {
                        tracing::info!(keys = self.key_set().keys.len(), "JWKS loaded");
                        notify.await;
                    }
                    interval
                }
                Err(error) => {
                    tracing::warn!(%error, "JWKS refresh failed");
                    if self.is_loaded() {
                        interval.min(Duration::from_secs(5))
                    } else {
                        Duration::from_secs(1)
                    }
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn decoding_key(jwk: &PublicJwk) -> Result<DecodingKey, &'static str> {
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
        return Err("not an Ed25519 OKP key");
    }
    if !jwk.alg.is_empty() && jwk.alg != "EdDSA" {
        return Err("alg is not EdDSA");
    }
    if jwk.kid.is_empty() {
        return Err("no kid");
    }
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk.x.trim_end_matches('='))
        .map_err(|_| "x is not base64url")?;
    if raw.len() != 32 {
        return Err("x is not a 32-byte Ed25519 public key");
    }
    Ok(DecodingKey::from_ed_der(&raw))
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, Error> {
    let Some(value) = header else {
        return Err(Error::unauthenticated(
            "token_missing",
            "this route needs an access token: Authorization: Bearer <token>",
        ));
    };
    let mut parts = value.splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("").trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(invalid("the Authorization header must be `Bearer <token>`"));
    }
    Ok(token)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine as _;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use marquee_platform::{PrincipalKind, Role, Scope};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) const ISSUER: &str = "marquee-auth";
    pub(crate) const AUDIENCE: &str = "marquee-api";

    /// A signing key as auth holds it, with the matching public JWK.
    pub(crate) struct TestKey {
        pub kid: String,
        pub encoding: jsonwebtoken::EncodingKey,
        pub jwk: PublicJwk,
        pub public: [u8; 32],
    }

    impl TestKey {
        pub(crate) fn new(seed: u8, kid: &str) -> Self {
            let signing = SigningKey::from_bytes(&[seed; 32]);
            let der = signing.to_pkcs8_der().unwrap();
            let public = signing.verifying_key().to_bytes();
            Self {
                kid: kid.to_string(),
                encoding: jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
                jwk: PublicJwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public),
                    kid: kid.to_string(),
                    alg: "EdDSA".into(),
                    use_: "sig".into(),
                },
                public,
            }
        }

        pub(crate) fn sign(&self, claims: &serde_json::Value) -> String {
            let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
        }
    }

    pub(crate) fn claims(principal: &str, exp_in: i64) -> serde_json::Value {
        let now = now_secs() as i64;
        serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "tid": "t1",
            "roles": ["creator"], "scope": "assets:read tenant:read",
            "exp": now + exp_in, "iat": now, "jti": "j1", "principal": principal,
        })
    }

    struct StaticSource {
        keys: Mutex<JwkSet>,
        fetches: Arc<AtomicUsize>,
    }

    impl JwksSource for StaticSource {
        fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, Error>> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let keys = self.keys.lock().unwrap().clone();
            Box::pin(async move { Ok(keys) })
        }
    }

    async fn verifier_with(keys: Vec<PublicJwk>) -> (TokenVerifier, Arc<AtomicUsize>) {
        let fetches = Arc::new(AtomicUsize::new(0));
        let verifier = TokenVerifier::new(
            Box::new(StaticSource {
                keys: Mutex::new(JwkSet { keys }),
                fetches: fetches.clone(),
            }),
            ISSUER,
            AUDIENCE,
            1000,
        );
        verifier.refresh().await.unwrap();
        (verifier, fetches)
    }

    async fn code_of(verifier: &TokenVerifier, token: &str) -> String {
        verifier.verify(token).await.unwrap_err().code.to_string()
    }

    #[tokio::test]
    async fn valid_token_yields_the_principal_and_is_cached() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let token = key.sign(&claims("user", 300));
        let caller = verifier.verify(&token).await.unwrap();
        assert_eq!(caller.principal.kind, PrincipalKind::User);
        assert_eq!(caller.principal.subject, "u1");
        assert_eq!(caller.principal.tenant_id, "t1");
        assert_eq!(caller.principal.roles, [Role::Creator]);
        assert_eq!(
            caller.principal.scopes,
            [Scope::AssetsRead, Scope::TenantRead]
        );
        assert_eq!(caller.rate_tier, RateTier::Basic);
        verifier.verified.run_pending_tasks().await;
        assert_eq!(verifier.verified.entry_count(), 1);
        let again = verifier.verify(&token).await.unwrap();
        assert!(
            Arc::ptr_eq(&caller, &again),
            "second verification is a cache hit"
        );
    }

    #[tokio::test]
    async fn client_tokens_carry_their_tier() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let mut body = claims("client", 300);
        body["roles"] = serde_json::json!([]);
        body["rate_tier"] = "premium".into();
        let caller = verifier.verify(&key.sign(&body)).await.unwrap();
        assert_eq!(caller.principal.kind, PrincipalKind::Client);
        assert_eq!(caller.rate_tier, RateTier::Premium);
        assert!(caller.principal.roles.is_empty());
    }

    #[tokio::test]
    async fn unknown_roles_and_scopes_are_ignored_and_auth_claims_are_required() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let mut body = claims("user", 300);
        body["roles"] = serde_json::json!(["creator", "wizard"]);
        body["scope"] = "assets:read teleport".into();
        let caller = verifier.verify(&key.sign(&body)).await.unwrap();
        assert_eq!(caller.principal.roles, [Role::Creator]);
        assert_eq!(caller.principal.scopes, [Scope::AssetsRead]);
        for claim in ["tid", "jti", "iat", "principal"] {
            let mut body = claims("user", 300);
            body.as_object_mut().unwrap().remove(claim);
            assert_eq!(
                code_of(&verifier, &key.sign(&body)).await,
                "token_invalid",
                "without {claim}"
            );
        }
    }

    #[tokio::test]
    async fn expired_token_is_refused() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let token = key.sign(&claims("user", -10));
        assert_eq!(code_of(&verifier, &token).await, "token_expired");
    }

    #[tokio::test]
    async fn token_signed_by_another_key_is_refused() {
        let key = TestKey::new(1, "k1");
        let forger = TestKey::new(2, "k1"); // same kid, different key
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let token = forger.sign(&claims("user", 300));
        assert_eq!(code_of(&verifier, &token).await, "token_invalid");
        let error = verifier.verify(&token).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unauthenticated);
    }

    #[tokio::test]
    async fn unknown_kid_refreshes_once_then_refuses() {
        let key = TestKey::new(1, "k1");
        let stranger = TestKey::new(3, "k-unknown");
        let (verifier, fetches) = verifier_with(vec![key.jwk.clone()]).await;
        // Pretend the last refresh was long ago.
        *verifier.last_refresh.lock().unwrap() = None;
        let token = stranger.sign(&claims("user", 300));
        assert_eq!(code_of(&verifier, &token).await, "token_invalid");
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "one refresh for the unknown kid"
        );
        assert_eq!(code_of(&verifier, &token).await, "token_invalid");
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "refreshes are rate limited"
        );
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let header = b64(&serde_json::json!({"alg": "none", "kid": "k1", "typ": "JWT"}));
        let payload = b64(&claims("user", 300));
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
            format!("eyJhbGciOiJub25lIn0.{payload}."),
        ] {
            assert_eq!(code_of(&verifier, &token).await, "token_invalid", "{token}");
        }
    }

    #[tokio::test]
    async fn hs256_with_the_public_key_as_secret_is_refused() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        for secret in [key.public.as_slice(), key.jwk.x.as_bytes()] {
            let token = jsonwebtoken::encode(
                &header,
                &claims("user", 300),
                &jsonwebtoken::EncodingKey::from_secret(secret),
            )
            .unwrap();
            assert_eq!(code_of(&verifier, &token).await, "token_invalid");
        }
    }

    #[tokio::test]
    async fn wrong_issuer_or_audience_is_refused() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        let mut wrong_iss = claims("user", 300);
        wrong_iss["iss"] = "someone-else".into();
        let mut wrong_aud = claims("user", 300);
        wrong_aud["aud"] = "another-api".into();
        let mut no_aud = claims("user", 300);
        no_aud.as_object_mut().unwrap().remove("aud");
        for body in [wrong_iss, wrong_aud, no_aud] {
            assert_eq!(code_of(&verifier, &key.sign(&body)).await, "token_invalid");
        }
    }

    #[tokio::test]
    async fn garbage_and_unknown_principal_kinds_are_refused() {
        let key = TestKey::new(1, "k1");
        let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
        for token in ["", "abc", "a.b.c", "....", "eyJ.eyJ.sig"] {
            assert_eq!(
                code_of(&verifier, token).await,
                "token_invalid",
                "{token:?}"
            );
        }
        assert_eq!(
            code_of(&verifier, &key.sign(&claims("robot", 300))).await,
            "token_invalid"
        );
    }

    #[tokio::test]
    async fn rotating_a_key_out_forgets_tokens_it_signed() {
        let old = TestKey::new(1, "k-old");
        let new = TestKey::new(2, "k-new");
        let (verifier, _) = verifier_with(vec![new.jwk.clone(), old.jwk.clone()]).await;
        let token = old.sign(&claims("user", 300));
        verifier.verify(&token).await.unwrap();
        verifier.install(JwkSet {
            keys: vec![new.jwk.clone()],
        });
        *verifier.last_refresh.lock().unwrap() = Some(Instant::now());
        assert_eq!(code_of(&verifier, &token).await, "token_invalid");
    }

    #[tokio::test]
    async fn no_keys_yet_is_unavailable() {
        struct Down;
        impl JwksSource for Down {
            fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, Error>> {
                Box::pin(async {
                    Err(Error::new(
                        ErrorKind::Unavailable,
                        "unavailable",
                        "auth is down",
                    ))
                })
            }
        }
        let verifier = TokenVerifier::new(Box::new(Down), ISSUER, AUDIENCE, 10);
        let token = TestKey::new(1, "k1").sign(&claims("user", 300));
        let error = verifier.verify(&token).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unavailable);
        assert!(!verifier.is_loaded());
    }

    #[tokio::test]
    async fn non_ed25519_keys_are_not_installed() {
        let key = TestKey::new(1, "k1");
        let mut rsa = key.jwk.clone();
        rsa.kty = "RSA".into();
        rsa.kid = "rsa".into();
        let mut short = key.jwk.clone();
        short.x = "AAAA".into();
        short.kid = "short".into();
        let (verifier, _) = verifier_with(vec![key.jwk.clone(), rsa, short]).await;
        assert_eq!(verifier.jwks().keys, vec![key.jwk]);
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some("bearer  abc ")).unwrap(), "abc");
        assert_eq!(bearer(None).unwrap_err().code, "token_missing");
        assert_eq!(bearer(Some("Basic abc")).unwrap_err().code, "token_invalid");
        assert_eq!(bearer(Some("Bearer")).unwrap_err().code, "token_invalid");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn runtime() -> tokio::runtime::Runtime {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        }

        fn b64(bytes: &[u8]) -> String {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        }

        /// JSON a header or claims segment may hold: objects with the fields a JWT uses,
        /// of the right type or not, or junk.
        fn json_segment() -> impl Strategy<Value = Vec<u8>> {
            let value = prop_oneof![
                Just(serde_json::json!(null)),
                any::<i64>().prop_map(|n| serde_json::json!(n)),
                any::<u64>().prop_map(|n| serde_json::json!(n)),
                Just(serde_json::json!(1e300)),
                "[ -~]{0,12}".prop_map(|s| serde_json::json!(s)),
                prop::sample::select(vec![
                    "EdDSA", "none", "HS256", "RS256", "k1", "JWT", ISSUER, AUDIENCE, "user",
                    "client",
                ])
                .prop_map(|s| serde_json::json!(s)),
                Just(serde_json::json!(["creator"])),
            ];
            let key = prop::sample::select(vec![
                "alg",
                "kid",
                "typ",
                "iss",
                "aud",
                "sub",
                "tid",
                "exp",
                "iat",
                "principal",
                "roles",
                "scope",
                "crit",
                "jwk",
            ]);
            prop_oneof![
                4 => proptest::collection::btree_map(key, value, 0..8).prop_map(|map| {
                    serde_json::to_vec(&map).unwrap()
                }),
                1 => proptest::collection::vec(any::<u8>(), 0..40),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Garbage, and tokens assembled from plausible segments with a signature
            /// that is not ours, are refused (never a panic, never a caller).
            #[test]
            fn forged_and_garbage_tokens_are_refused(
                garbage in ".{0,120}",
                header in json_segment(),
                claims in json_segment(),
                signature in proptest::collection::vec(any::<u8>(), 0..80),
            ) {
                let key = TestKey::new(1, "k1");
                runtime().block_on(async {
                    let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
                    let assembled = format!("{}.{}.{}", b64(&header), b64(&claims), b64(&signature));
                    for token in [garbage.as_str(), assembled.as_str()] {
                        prop_assert!(verifier.verify(token).await.is_err(), "{:?}", token);
                    }
                    Ok(())
                })?;
            }

            /// A token we signed verifies; any single change to what was signed (header
            /// or claims, as encoded) is refused, and so are claims re-encoded after an
            /// edit.
            #[test]
            fn a_tampered_token_is_refused(
                index in any::<prop::sample::Index>(),
                replacement in prop::sample::select(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
                        .chars()
                        .collect::<Vec<_>>(),
                ),
                subject in "[a-z0-9]{1,10}",
            ) {
                let key = TestKey::new(1, "k1");
                let token = key.sign(&claims("user", 300));
                let signed_len = token.rfind('.').unwrap();
                let at = index.index(signed_len);
                let original = token.as_bytes()[at] as char;
                prop_assume!(original != replacement);
                let mut tampered = token.clone();
                tampered.replace_range(at..=at, &replacement.to_string());

                let (header, rest) = token.split_once('.').unwrap();
                let signature = &rest[rest.find('.').unwrap() + 1..];
                let mut edited = claims("user", 300);
                edited["sub"] = subject.clone().into();
                edited["roles"] = serde_json::json!(["admin"]);
                let reencoded = format!("{header}.{}.{signature}", b64(edited.to_string().as_bytes()));

                runtime().block_on(async {
                    let (verifier, _) = verifier_with(vec![key.jwk.clone()]).await;
                    prop_assert!(verifier.verify(&token).await.is_ok());
                    prop_assert!(verifier.verify(&tampered).await.is_err(), "{:?}", tampered);
                    prop_assert!(verifier.verify(&reencoded).await.is_err());
                    Ok(())
                })?;
            }

            /// Any JWKS installs without a panic, and only well-formed Ed25519 keys are
            /// published.
            #[test]
            fn only_ed25519_keys_are_installed(
                keys in proptest::collection::vec(
                    (
                        prop::sample::select(vec!["OKP", "RSA", "EC", ""]),
                        prop::sample::select(vec!["Ed25519", "X25519", "P-256", ""]),
                        prop_oneof![
                            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| b64(&b)),
                            "[ -~]{0,50}",
                        ],
                        "[a-z0-9]{0,4}",
                        prop::sample::select(vec!["EdDSA", "", "RS256"]),
                    ),
                    0..6,
                ),
            ) {
                let jwks: Vec<PublicJwk> = keys
                    .into_iter()
                    .map(|(kty, crv, x, kid, alg)| PublicJwk {
                        kty: kty.into(),
                        crv: crv.into(),
                        x,
                        kid,
                        alg: alg.into(),
                        use_: "sig".into(),
                    })
                    .collect();
                let verifier = TokenVerifier::new(
                    Box::new(StaticSource { keys: Mutex::new(JwkSet::default()), fetches: Arc::default() }),
                    ISSUER,
                    AUDIENCE,
                    10,
                );
                verifier.install(JwkSet { keys: jwks.clone() });
                for published in verifier.jwks().keys {
                    prop_assert!(jwks.contains(&published));
                    prop_assert_eq!(published.kty.as_str(), "OKP");
                    prop_assert_eq!(published.crv.as_str(), "Ed25519");
                    prop_assert!(!published.kid.is_empty());
                }
            }
        }
    }
}
