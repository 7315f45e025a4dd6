//! Signed service identity: who is calling a service, proven.
//!
//! Every gRPC call between services carries `x-marquee-identity`, a short-lived JWT
//! (EdDSA) that the *calling service* signs with its own key for exactly one audience
//! (the callee's name). It names the calling service (`iss`) and, when the call is made
//! on someone's behalf, their principal. The callee checks the signature against the
//! public keys of the services it accepts calls from, the audience, and the expiry; a
//! call without a valid one is refused with `Unauthenticated` before any handler runs.
//! Nothing else about the caller is believed: plain `x-marquee-*` metadata means nothing.
//!
//! Signing and verifying are cached (a token is reused for half its lifetime; a verified
//! token is remembered until it expires), so a request costs a hash lookup on each side.

use crate::identity::{PrincipalKind, Role, Scope};
use crate::principal::Principal;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};

/// The gRPC metadata key the signed identity travels in.
pub const IDENTITY_HEADER: &str = "x-marquee-identity";

/// How long a minted identity is valid. Short: a token copied off the wire (without
/// mTLS) is worth this long, to this one audience.
const TOKEN_LIFETIME: Duration = Duration::from_secs(120);
/// Clock difference between pods tolerated on `exp`/`iat`.
const LEEWAY_SECS: u64 = 10;
/// The JOSE `typ`, so an access token (`JWT`) is never taken for a service identity.
const TOKEN_TYPE: &str = "marquee-svc+jwt";
/// Bounds on the caches (distinct callers in a token lifetime; more are re-signed).
const CACHE_ENTRIES: u64 = 20_000;

/// Where a service's identity comes from (`MARQUEE_IDENTITY__…`, or per service
/// `MARQUEE_<SERVICE>_IDENTITY__…`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct IdentitySettings {
    /// This service's Ed25519 private key: base64 of the 32-byte seed. Without one the
    /// service makes an ephemeral key at start-up, which no other process trusts.
    #[serde(serialize_with = "crate::settings_keys::redact::option")]
    pub signing_key: Option<SecretString>,
    /// The services this one accepts calls from: name → base64 of its 32-byte Ed25519
    /// public key (`MARQUEE_AUTH_IDENTITY__TRUSTED__GATEWAY=…`).
    pub trusted: BTreeMap<String, String>,
}

/// Why a service's identity settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityConfigError {
    #[error("identity.signing_key is not base64 of a 32-byte Ed25519 seed")]
    SigningKey,
    #[error("identity.trusted.{0} is not base64 of a 32-byte Ed25519 public key")]
    TrustedKey(String),
}

/// A fresh Ed25519 key: (base64 private seed, base64 public key).
pub fn generate_key_pair() -> (SecretString, String) {
    let seed: [u8; 32] = rand::random();
    let key = SigningKey::from_bytes(&seed);
    (
        SecretString::from(BASE64.encode(seed)),
        BASE64.encode(key.verifying_key().as_bytes()),
    )
}

/// The base64 public key of a base64 private seed.
pub fn public_key_of(signing_key: &SecretString) -> Result<String, IdentityConfigError> {
    let key = parse_signing_key(signing_key)?;
    Ok(BASE64.encode(key.verifying_key().as_bytes()))
}

fn parse_signing_key(encoded: &SecretString) -> Result<SigningKey, IdentityConfigError> {
    let bytes = BASE64
        .decode(encoded.expose_secret().trim())
        .map_err(|_| IdentityConfigError::SigningKey)?;
    let seed: [u8; 32] = bytes
        .try_into()
        .map_err(|_| IdentityConfigError::SigningKey)?;
    Ok(SigningKey::from_bytes(&seed))
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_behalf_of: Option<PrincipalClaims>,
}

/// A principal as the token carries it.
#[derive(Debug, Serialize, Deserialize)]
struct PrincipalClaims {
    kind: PrincipalKind,
    sub: String,
    tenant: String,
    roles: Vec<String>,
    scopes: Vec<String>,
}

impl From<&Principal> for PrincipalClaims {
    fn from(principal: &Principal) -> Self {
        Self {
            kind: principal.kind,
            sub: principal.subject.clone(),
            tenant: principal.tenant_id.clone(),
            roles: principal.roles.iter().map(|r| r.as_str().into()).collect(),
            scopes: principal.scopes.iter().map(|s| s.as_str().into()).collect(),
        }
    }
}

impl PrincipalClaims {
    fn into_principal(self) -> Principal {
        // Unknown names (from a newer peer) grant nothing.
        Principal {
            kind: self.kind,
            subject: self.sub,
            tenant_id: self.tenant,
            roles: self.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            scopes: self.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        }
    }
}

/// This service's identity: signs the tokens its outgoing calls carry. Cheap to clone.
#[derive(Clone)]
pub struct ServiceIdentity {
    inner: Arc<Minter>,
}

struct Minter {
    service: String,
    key: EncodingKey,
    public_key: String,
    minted: moka::sync::Cache<(&'static str, Option<Principal>), AsciiMetadataValue>,
}

impl std::fmt::Debug for ServiceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceIdentity")
            .field("service", &self.inner.service)
            .field("public_key", &self.inner.public_key)
            .finish_non_exhaustive()
    }
}

impl ServiceIdentity {
    /// The identity of service `name` from its settings; an ephemeral key (with a
    /// warning) when none is configured.
    pub fn from_settings(
        name: &str,
        settings: &IdentitySettings,
    ) -> Result<Self, IdentityConfigError> {
        let key = match &settings.signing_key {
            Some(encoded) => parse_signing_key(encoded)?,
            None => {
                tracing::warn!(
                    service = name,
                    "no identity.signing_key: using an ephemeral key that no other service trusts"
                );
                parse_signing_key(&generate_key_pair().0)?
            }
        };
        Ok(Self::new(name, &key))
    }

    /// An identity with a fresh key (a test's caller, or a fleet in one process).
    pub fn generate(name: &str) -> Self {
        let seed: [u8; 32] = rand::random();
        Self::new(name, &SigningKey::from_bytes(&seed))
    }

    fn new(name: &str, key: &SigningKey) -> Self {
        let der = key
            .to_pkcs8_der()
            .expect("an Ed25519 seed always encodes as PKCS#8");
        Self {
            inner: Arc::new(Minter {
                service: name.to_string(),
                key: EncodingKey::from_ed_der(der.as_bytes()),
                public_key: BASE64.encode(key.verifying_key().as_bytes()),
                minted: moka::sync::Cache::builder()
                    .max_capacity(CACHE_ENTRIES)
                    // Reused for half its life, so a callee always gets one with at
                    // least a minute left.
                    .time_to_live(TOKEN_LIFETIME / 2)
                    .build(),
            }),
        }
    }

    /// The service's name (the `iss` of its tokens).
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// Base64 of the public key callees must trust.
    pub fn public_key(&self) -> &str {
        &self.inner.public_key
    }

    /// The token for a call to `audience`, on behalf of `principal` if any.
    pub fn token_for(
        &self,
        audience: &'static str,
        principal: Option<&Principal>,
    ) -> AsciiMetadataValue {
        let key = (audience, principal.cloned());
        if let Some(token) = self.inner.minted.get(&key) {
            return token;
        }
        let now = unix_now();
        let claims = Claims {
            iss: self.inner.service.clone(),
            aud: audience.to_string(),
            iat: now,
            exp: now + TOKEN_LIFETIME.as_secs(),
            on_behalf_of: principal.map(PrincipalClaims::from),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.into());
        let token = jsonwebtoken::encode(&header, &claims, &self.inner.key)
            .expect("EdDSA signing of serializable claims cannot fail");
        let value = AsciiMetadataValue::try_from(token)
            .expect("a compact JWS is base64url and dots: valid metadata");
        self.inner.minted.insert(key, value.clone());
        value
    }

    /// Writes the token for a call to `audience` into outgoing metadata.
    pub fn sign(
        &self,
        audience: &'static str,
        principal: Option<&Principal>,
        metadata: &mut MetadataMap,
    ) {
        metadata.insert(IDENTITY_HEADER, self.token_for(audience, principal));
    }
}

/// Who called, as proven by a verified identity token. Services read it through
/// [`Principal::from_request`] (or [`VerifiedCaller::from_request`] for the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCaller {
    /// The calling service (`gateway`, `content`, …).
    pub service: Arc<str>,
    /// On whose behalf, if anyone's.
    pub principal: Option<Principal>,
    expires_at: u64,
}

impl VerifiedCaller {
    /// The verified caller of an incoming request (`Unauthenticated` without one, which
    /// only a request that skipped the server's identity layer can be).
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<&Self, tonic::Status> {
        request
            .extensions()
            .get::<Arc<Self>>()
            .map(|caller| &**caller)
            .ok_or_else(|| tonic::Status::unauthenticated("no verified service identity"))
    }

    /// A caller taken as verified without a token, for calling a handler in-process (a
    /// test that skips the transport). Only code inside the process can build one.
    pub fn assumed(service: &str, principal: Option<Principal>) -> Self {
        Self {
            service: service.into(),
            principal,
            expires_at: u64::MAX,
        }
    }
}

/// Why an identity token was refused (the message of the `Unauthenticated` status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityRejection {
    #[error("no service identity")]
    Missing,
    #[error("the service identity is malformed")]
    Malformed,
    #[error("the service identity comes from a service this one does not accept calls from")]
    UnknownIssuer,
    #[error("the service identity's signature does not verify")]
    BadSignature,
    #[error("the service identity is for another service")]
    WrongAudience,
    #[error("the service identity has expired")]
    Expired,
    #[error("the service identity names a service principal of another service")]
    ForeignServicePrincipal,
}

/// Checks incoming identity tokens for one audience (this service).
#[derive(Clone)]
pub struct IdentityVerifier {
    inner: Arc<Verifier>,
}

struct Verifier {
    audience: String,
    trusted: HashMap<String, DecodingKey>,
    validation: Validation,
    verified: moka::sync::Cache<String, Arc<VerifiedCaller>>,
}

impl std::fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityVerifier")
            .field("audience", &self.inner.audience)
            .field("trusted", &self.inner.trusted.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl IdentityVerifier {
    /// A verifier for service `audience` accepting the services in `settings.trusted`.
    pub fn from_settings(
        audience: &str,
        settings: &IdentitySettings,
    ) -> Result<Self, IdentityConfigError> {
        let mut trusted = HashMap::new();
        for (name, encoded) in &settings.trusted {
            // An environment variable cannot name `tenant-operator`
            // (`…_TRUSTED__TENANT_OPERATOR`); no service name has an underscore.
            let service = name.replace('_', "-");
            let key = BASE64
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
                .ok_or_else(|| IdentityConfigError::TrustedKey(name.clone()))?;
            trusted.insert(service, DecodingKey::from_ed_der(key.as_bytes()));
        }
        if trusted.is_empty() {
            tracing::warn!(
                service = audience,
                "identity.trusted is empty: every call but health checks will be refused"
            );
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            inner: Arc::new(Verifier {
                audience: audience.to_string(),
                trusted,
                validation,
                verified: moka::sync::Cache::builder()
                    .max_capacity(CACHE_ENTRIES)
                    .time_to_live(TOKEN_LIFETIME)
                    .build(),
            }),
        })
    }

    /// A verifier for `audience` that accepts calls from exactly `callers`.
    pub fn trusting(audience: &str, callers: &[&ServiceIdentity]) -> Self {
        let settings = IdentitySettings {
            signing_key: None,
            trusted: callers
                .iter()
                .map(|caller| {
                    (
                        caller.service().to_string(),
                        caller.public_key().to_string(),
                    )
                })
                .collect(),
        };
        Self::from_settings(audience, &settings).expect("public keys of live identities parse")
    }

    /// The caller proven by `metadata`'s identity token.
    pub fn verify(
        &self,
        metadata: &http::HeaderMap,
    ) -> Result<Arc<VerifiedCaller>, IdentityRejection> {
        let token = metadata
            .get(IDENTITY_HEADER)
            .ok_or(IdentityRejection::Missing)?
            .to_str()
            .map_err(|_| IdentityRejection::Malformed)?;
        if let Some(caller) = self.inner.verified.get(token) {
            if caller.expires_at.saturating_add(LEEWAY_SECS) < unix_now() {
                return Err(IdentityRejection::Expired);
            }
            return Ok(caller);
        }
        let caller = Arc::new(self.verify_uncached(token)?);
        self.inner
            .verified
            .insert(token.to_string(), caller.clone());
        Ok(caller)
    }

    fn verify_uncached(&self, token: &str) -> Result<VerifiedCaller, IdentityRejection> {
        use jsonwebtoken::errors::ErrorKind as Jwt;
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| IdentityRejection::Malformed)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(IdentityRejection::Malformed);
        }
        let issuer = unverified_issuer(token).ok_or(IdentityRejection::Malformed)?;
        let key = self
            .inner
            .trusted
            .get(&issuer)
            .ok_or(IdentityRejection::UnknownIssuer)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.inner.validation)
            .map_err(|error| match error.kind() {
                Jwt::InvalidSignature => IdentityRejection::BadSignature,
                Jwt::InvalidAudience => IdentityRejection::WrongAudience,
                Jwt::ExpiredSignature => IdentityRejection::Expired,
                _ => IdentityRejection::Malformed,
            })?
            .claims;
        if claims.iss != issuer || claims.iat > unix_now() + LEEWAY_SECS {
            return Err(IdentityRejection::Malformed);
        }
        let principal = claims.on_behalf_of.map(PrincipalClaims::into_principal);
        // A service acting as itself names itself: content cannot claim to be tagging.
        if let Some(principal) = &principal
            && let Some(service) = principal.subject.strip_prefix(SERVICE_SUBJECT_PREFIX)
            && service != claims.iss
        {
            return Err(IdentityRejection::ForeignServicePrincipal);
        }
        Ok(VerifiedCaller {
            service: claims.iss.into(),
            principal,
            expires_at: claims.exp,
        })
    }
}

/// The subject of a principal a service makes for itself (`service:tagging`).
pub const SERVICE_SUBJECT_PREFIX: &str = "service:";

/// The `iss` of a token before its signature is checked, to pick the key; the verified
/// claims must agree with it.
fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: String,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Issuer>(&bytes).ok().map(|i| i.iss)
}

/// For the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing {
    /// [`super::unverified_issuer`].
    pub fn unverified_issuer(token: &str) -> Option<String> {
        super::unverified_issuer(token)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            kind: PrincipalKind::User,
            subject: "u1".into(),
            tenant_id: "t1".into(),
            roles: vec![Role::Admin],
            scopes: vec![Scope::AssetsRead],
        }
    }

    fn identity(name: &str) -> (ServiceIdentity, String) {
        let (private, public) = generate_key_pair();
        let settings = IdentitySettings {
            signing_key: Some(private),
            trusted: BTreeMap::new(),
        };
        (
            ServiceIdentity::from_settings(name, &settings).unwrap(),
            public,
        )
    }

    fn verifier(audience: &str, trusted: &[(&str, &str)]) -> IdentityVerifier {
        let settings = IdentitySettings {
            signing_key: None,
            trusted: trusted
                .iter()
                .map(|(name, key)| (name.to_string(), key.to_string()))
                .collect(),
        };
        IdentityVerifier::from_settings(audience, &settings).unwrap()
    }

    fn headers(token: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(IDENTITY_HEADER, token.parse().unwrap());
        headers
    }

    #[test]
    fn a_signed_identity_round_trips_and_is_reused() {
        let (gateway, public) = identity("gateway");
        let auth = verifier("auth", &[("gateway", &public)]);
        let token = gateway.token_for("auth", Some(&principal()));
        assert_eq!(token, gateway.token_for("auth", Some(&principal())));
        let caller = auth.verify(&headers(token.to_str().unwrap())).unwrap();
        assert_eq!(&*caller.service, "gateway");
        assert_eq!(caller.principal.as_ref(), Some(&principal()));
        // From the cache, the same answer.
        assert_eq!(
            auth.verify(&headers(token.to_str().unwrap())).unwrap(),
            caller
        );
        let anonymous = gateway.token_for("auth", None);
        assert_eq!(
            auth.verify(&headers(anonymous.to_str().unwrap()))
                .unwrap()
                .principal,
            None
        );
    }

    #[test]
    fn a_trusted_name_from_the_environment_matches_a_hyphenated_service() {
        // `MARQUEE_AUTH_IDENTITY__TRUSTED__TENANT_OPERATOR` arrives as `tenant_operator`.
        let (operator, public) = identity("tenant-operator");
        let auth = verifier("auth", &[("tenant_operator", &public)]);
        let token = operator.token_for("auth", None);
        let caller = auth.verify(&headers(token.to_str().unwrap())).unwrap();
        assert_eq!(&*caller.service, "tenant-operator");
    }

    #[test]
    fn forged_wrong_audience_untrusted_and_missing_identities_are_refused() {
        let (gateway, public) = identity("gateway");
        let (impostor, _) = identity("gateway");
        let auth = verifier("auth", &[("gateway", &public)]);
        let forged = impostor.token_for("auth", Some(&principal()));
        assert_eq!(
            auth.verify(&headers(forged.to_str().unwrap())),
            Err(IdentityRejection::BadSignature)
        );
        let for_content = gateway.token_for("content", Some(&principal()));
        assert_eq!(
            auth.verify(&headers(for_content.to_str().unwrap())),
            Err(IdentityRejection::WrongAudience)
        );
        let (billing, _) = identity("billing");
        let untrusted = billing.token_for("auth", None);
        assert_eq!(
            auth.verify(&headers(untrusted.to_str().unwrap())),
            Err(IdentityRejection::UnknownIssuer)
        );
        assert_eq!(
            auth.verify(&http::HeaderMap::new()),
            Err(IdentityRejection::Missing)
        );
        assert_eq!(
            auth.verify(&headers("a.b.c")),
            Err(IdentityRejection::Malformed)
        );
    }

    #[test]
    fn an_expired_or_tampered_identity_is_refused() {
        let seed = SigningKey::from_bytes(&[7; 32]);
        let public = BASE64.encode(seed.verifying_key().as_bytes());
        let gateway = ServiceIdentity::new("gateway", &seed);
        let auth = verifier("auth", &[("gateway", &public)]);
        let now = unix_now();
        let claims = Claims {
            iss: "gateway".into(),
            aud: "auth".into(),
            iat: now - 600,
            exp: now - 300,
            on_behalf_of: None,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.into());
        let expired = jsonwebtoken::encode(&header, &claims, &gateway.inner.key).unwrap();
        assert_eq!(
            auth.verify(&headers(&expired)),
            Err(IdentityRejection::Expired)
        );

        // A plain access-token-typed JWT signed by a trusted key is not an identity.
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("JWT".into());
        let claims = Claims {
            iat: now,
            exp: now + 60,
            ..claims
        };
        let other_type = jsonwebtoken::encode(&header, &claims, &gateway.inner.key).unwrap();
        assert_eq!(
            auth.verify(&headers(&other_type)),
            Err(IdentityRejection::Malformed)
        );

        // Raising the caller's roles in the payload breaks the signature.
        let token = gateway.token_for(
            "auth",
            Some(&Principal {
                roles: vec![Role::Creator],
                ..principal()
            }),
        );
        let parts: Vec<&str> = token.to_str().unwrap().split('.').collect();
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap();
        let raised = String::from_utf8(payload)
            .unwrap()
            .replace("creator", "admin");
        let raised = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raised);
        let tampered = format!("{}.{raised}.{}", parts[0], parts[2]);
        assert_eq!(
            auth.verify(&headers(&tampered)),
            Err(IdentityRejection::BadSignature)
        );
    }

    #[test]
    fn a_service_cannot_act_as_another_services_principal() {
        let (content, public) = identity("content");
        let verifier = verifier("billing", &[("content", &public)]);
        let as_tagging = Principal {
            kind: PrincipalKind::Client,
            subject: "service:tagging".into(),
            ..principal()
        };
        let token = content.token_for("billing", Some(&as_tagging));
        assert_eq!(
            verifier.verify(&headers(token.to_str().unwrap())),
            Err(IdentityRejection::ForeignServicePrincipal)
        );
    }

    #[test]
    fn bad_keys_are_configuration_errors_and_keys_do_not_print() {
        let settings = IdentitySettings {
            signing_key: Some(SecretString::from("c2hvcnQ=")),
            trusted: BTreeMap::new(),
        };
        assert!(ServiceIdentity::from_settings("x", &settings).is_err());
        let settings = IdentitySettings {
            signing_key: None,
            trusted: BTreeMap::from([("gateway".to_string(), "nope".to_string())]),
        };
        assert!(matches!(
            IdentityVerifier::from_settings("x", &settings),
            Err(IdentityConfigError::TrustedKey(name)) if name == "gateway"
        ));
        let (private, public) = generate_key_pair();
        assert_eq!(public_key_of(&private).unwrap(), public);
        let settings = IdentitySettings {
            signing_key: Some(private.clone()),
            trusted: BTreeMap::new(),
        };
        assert!(!format!("{settings:?}").contains(private.expose_secret()));
        let identity = ServiceIdentity::from_settings("x", &settings).unwrap();
        assert!(!format!("{identity:?}").contains(private.expose_secret()));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn b64(bytes: &[u8]) -> String {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        }

        /// A payload segment: JSON objects with an `iss` of any type, or any bytes.
        fn payload() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                "[ -~]{0,20}"
                    .prop_map(|iss| serde_json::to_vec(&serde_json::json!({"iss": iss})).unwrap()),
                any::<i64>()
                    .prop_map(|iss| serde_json::to_vec(&serde_json::json!({"iss": iss})).unwrap()),
                Just(b"{\"iss\":null}".to_vec()),
                Just(b"{\"iss\":\"gateway\",\"iss\":\"auth\"}".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..60),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn unverified_issuer_never_panics(
                token in ".{0,120}",
                header in proptest::collection::vec(any::<u8>(), 0..30),
                payload in payload(),
            ) {
                let _ = unverified_issuer(&token);
                let assembled = format!("{}.{}.sig", b64(&header), b64(&payload));
                let issuer = unverified_issuer(&assembled);
                // The issuer read is the payload's `iss` string, or nothing.
                if let Some(issuer) = issuer {
                    let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                    prop_assert!(value.get("iss").and_then(|v| v.as_str()).is_some(), "{issuer}");
                }
            }

            /// Any header bytes: refused (never a panic, never a caller) unless they are
            /// a token a trusted service signed for us.
            #[test]
            fn arbitrary_identity_headers_are_refused(
                bytes in prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..200),
                    (proptest::collection::vec(any::<u8>(), 0..40), payload(), proptest::collection::vec(any::<u8>(), 0..70))
                        .prop_map(|(h, p, s)| format!("{}.{}.{}", b64(&h), b64(&p), b64(&s)).into_bytes()),
                ],
            ) {
                let (_, public) = identity("gateway");
                let auth = verifier("auth", &[("gateway", &public)]);
                let Ok(value) = http::HeaderValue::from_bytes(&bytes) else {
                    return Ok(());
                };
                let mut headers = http::HeaderMap::new();
                headers.insert(IDENTITY_HEADER, value);
                prop_assert!(auth.verify(&headers).is_err());
            }

            /// A token with any single character of what was signed changed is refused.
            #[test]
            fn a_tampered_identity_is_refused(
                index in any::<prop::sample::Index>(),
                replacement in prop::sample::select(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="
                        .chars()
                        .collect::<Vec<_>>(),
                ),
            ) {
                let (gateway, public) = identity("gateway");
                let auth = verifier("auth", &[("gateway", &public)]);
                let token = gateway.token_for("auth", Some(&principal()));
                let token = token.to_str().unwrap();
                prop_assert!(auth.verify(&headers(token)).is_ok());
                let signed_len = token.rfind('.').unwrap();
                let at = index.index(signed_len);
                prop_assume!(token.as_bytes()[at] as char != replacement);
                let mut tampered = token.to_string();
                tampered.replace_range(at..=at, &replacement.to_string());
                prop_assert!(auth.verify(&headers(&tampered)).is_err(), "{tampered}");
            }
        }
    }
}
