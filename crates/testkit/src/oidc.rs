//! A local OpenID Connect provider that behaves like Google's for the authorization code
//! flow with PKCE: for auth's tests and the end-to-end tests (a real browser can do the
//! whole dance against it).
//!
//! - `GET /.well-known/openid-configuration`: discovery (issuer = [`FakeOidcProvider::issuer`]).
//! - `GET /jwks`: the public keys (RS256, and an ES256 one).
//! - `GET /authorize`: checks the client, the redirect URI's presence, `S256` and
//!   `scope` (with `openid`), then answers 302 to `redirect_uri?code=…&state=…`; the code
//!   is bound to the request's nonce, redirect URI, PKCE challenge and the identity set
//!   at that moment ([`FakeOidcProvider::set_identity`]).
//! - `POST /token`: the code grant with `client_secret_post`; checks client, code (single
//!   use), redirect URI and `code_verifier` against the challenge, and answers an ID token
//!   signed with the provider's key.
//!
//! Knobs spoil the next ID token ([`Tamper`]), fail the token endpoint, override
//! discovery fields or rotate the signing key. The keys are test-only RSA and P-256
//! keys committed under `crates/testkit/keys/` (generating RSA keys in every test process
//! of a debug build would cost seconds each).

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The client the fake knows (configure auth with these).
pub const CLIENT_ID: &str = "marquee-test-client.apps.example.com";
pub const CLIENT_SECRET: &str = "fake-oidc-client-secret";
/// The kid of the signing key, and the one a forged token claims.
pub const KID: &str = "fake-oidc-rsa-1";
/// The kid of the key that signs after [`FakeOidcProvider::rotate_key`].
pub const ROTATED_KID: &str = "fake-oidc-rsa-3";
/// The kid of the ES256 key ([`Tamper::Es256`]).
pub const EC_KID: &str = "fake-oidc-ec-1";

const RSA_1: &str = include_str!("../keys/oidc-rsa-1.pem");
const RSA_2: &str = include_str!("../keys/oidc-rsa-2.pem");
const RSA_3: &str = include_str!("../keys/oidc-rsa-3.pem");
const EC_1: &str = include_str!("../keys/oidc-ec-p256.pem");

/// Who signs in at `/authorize` (snapshotted into the code).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeIdentity {
    pub sub: String,
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
}

impl Default for FakeIdentity {
    fn default() -> Self {
        Self {
            sub: "108000000000000000001".into(),
            email: "ada.lovelace@example.com".into(),
            name: Some("Ada Lovelace".into()),
            email_verified: true,
        }
    }
}

/// How the next ID token is spoiled (once; the one after is sound again).
#[derive(Debug, Clone, PartialEq)]
pub enum Tamper {
    /// Signed by another RSA key that claims the provider's kid.
    Forged,
    /// `nonce` is not the one the authorization request carried.
    WrongNonce,
    /// No `nonce` at all.
    NoNonce,
    /// `email_verified: false`.
    EmailUnverified,
    /// `email_verified: "true"`, a string, as some providers send it (still sound).
    EmailVerifiedAsString,
    /// No `email` claim.
    NoEmail,
    /// `aud` is another client.
    WrongAudience,
    /// `aud` is `[client, other]` and there is no `azp`.
    ExtraAudienceWithoutAzp,
    /// `aud` is `[client, other]` and `azp` is the client (sound).
    ExtraAudienceWithAzp,
    /// `exp` two hours ago (far past any leeway).
    Expired,
    /// `iss` is another issuer.
    WrongIssuer,
    /// No `iat`.
    NoIat,
    /// `alg: none`, no signature.
    Unsigned,
    /// HS256 keyed with the RSA public key (the algorithm confusion attack).
    SymmetricWithPublicKey,
    /// Signed with a key the JWKS does not publish, under an unknown kid.
    UnknownKid,
    /// Signed with the published P-256 key, ES256 (sound).
    Es256,
    /// Overrides (or with `Value::Null`, removes) claims.
    Claims(Map<String, Value>),
}

/// One token request as the fake received it (the form's fields).
pub type TokenRequest = HashMap<String, String>;

struct Grant {
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: String,
    identity: FakeIdentity,
}

struct State {
    issuer: String,
    identity: FakeIdentity,
    next_tamper: Option<Tamper>,
    token_failure: Option<u16>,
    discovery_overrides: Map<String, Value>,
    rotated: bool,
    codes: HashMap<String, Grant>,
    token_requests: Vec<TokenRequest>,
    discovery_fetches: u32,
    jwks_fetches: u32,
}

pub struct FakeOidcProvider {
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
    issuer: String,
}

impl FakeOidcProvider {
    /// Starts the provider on a free loopback port (on the current tokio runtime).
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            issuer: String::new(),
            identity: FakeIdentity::default(),
            next_tamper: None,
            token_failure: None,
            discovery_overrides: Map::new(),
            rotated: false,
            codes: HashMap::new(),
            token_requests: Vec::new(),
            discovery_fetches: 0,
            jwks_fetches: 0,
        }));
        let (handle, base) =
            crate::fake_server::start("OIDC provider", state.clone(), 64 * 1024, handle);
        let issuer = base.trim_end_matches('/').to_string();
        lock(&state).issuer = issuer.clone();
        Self {
            state,
            handle,
            issuer,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The issuer (`http://127.0.0.1:<port>`, no trailing slash): auth's
    /// `oidc_google_issuer`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Who signs in at the next `/authorize`.
    pub fn set_identity(&self, identity: FakeIdentity) {
        self.state().identity = identity;
    }

    /// Spoils the next ID token the token endpoint issues.
    pub fn tamper_next_token(&self, tamper: Tamper) {
        self.state().next_tamper = Some(tamper);
    }

    /// The next token request is answered with this status (and an OAuth error body).
    pub fn fail_next_token_request(&self, status: u16) {
        self.state().token_failure = Some(status);
    }

    /// Replaces fields of the discovery document (e.g. an `issuer` or an endpoint).
    pub fn override_discovery(&self, field: &str, value: Value) {
        self.state()
            .discovery_overrides
            .insert(field.to_string(), value);
    }

    /// Publishes a new RSA key ([`ROTATED_KID`]), signs with it from now on, and stops
    /// publishing the old one (as a provider does once old tokens have expired).
    pub fn rotate_key(&self) {
        self.state().rotated = true;
    }

    /// The token requests received so far.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state().token_requests.clone()
    }

    pub fn discovery_fetches(&self) -> u32 {
        self.state().discovery_fetches
    }

    pub fn jwks_fetches(&self) -> u32 {
        self.state().jwks_fetches
    }

    /// An ID token as the token endpoint would issue it for `identity` and `nonce`,
    /// spoiled by `tamper` (for tests that call a verifier directly).
    pub fn id_token(
        &self,
        identity: &FakeIdentity,
        nonce: Option<&str>,
        tamper: Option<Tamper>,
    ) -> String {
        let state = self.state();
        id_token(&state, identity, nonce, tamper)
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Key {
    encoding: EncodingKey,
    jwk: Value,
}

/// Reads a PEM body (the base64 between the armour lines).
fn der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("test key PEM")
}

fn rsa_key(pem: &str, kid: &str) -> Key {
    let encoding = EncodingKey::from_rsa_der(&der(pem));
    jwk_for(encoding, Algorithm::RS256, kid)
}

fn jwk_for(encoding: EncodingKey, alg: Algorithm, kid: &str) -> Key {
    let jwk = Jwk::from_encoding_key(&encoding, alg).expect("public JWK of a test key");
    let mut jwk = serde_json::to_value(jwk).expect("JWK serialises");
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    Key { encoding, jwk }
}

fn keys() -> &'static [Key; 4] {
    static KEYS: OnceLock<[Key; 4]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            rsa_key(RSA_1, KID),
            // The forger's key: never published, claims the provider's kid.
            rsa_key(RSA_2, KID),
            rsa_key(RSA_3, ROTATED_KID),
            jwk_for(
                EncodingKey::from_ec_der(&der(EC_1)),
                Algorithm::ES256,
                EC_KID,
            ),
        ]
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).expect("signing a test token")
}

fn id_token(
    state: &State,
    identity: &FakeIdentity,
    nonce: Option<&str>,
    tamper: Option<Tamper>,
) -> String {
    let now = now();
    let mut claims = json!({
        "iss": state.issuer,
        "azp": CLIENT_ID,
        "aud": CLIENT_ID,
        "sub": identity.sub,
        "email": identity.email,
        "email_verified": identity.email_verified,
        "iat": now,
        "exp": now + 3600,
    });
    if let Some(name) = &identity.name {
        claims["name"] = json!(name);
    }
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    let keys = keys();
    let (mut key, mut kid) = if state.rotated {
        (&keys[2], ROTATED_KID)
    } else {
        (&keys[0], KID)
    };
    let mut alg = Algorithm::RS256;
    let object = claims.as_object_mut().expect("claims are an object");
    match tamper {
        None => {}
        Some(Tamper::Forged) => key = &keys[1],
        Some(Tamper::WrongNonce) => {
            object.insert("nonce".into(), json!("not-the-nonce-that-was-sent"));
        }
        Some(Tamper::NoNonce) => {
            object.remove("nonce");
        }
        Some(Tamper::EmailUnverified) => {
            object.insert("email_verified".into(), json!(false));
        }
        Some(Tamper::EmailVerifiedAsString) => {
            object.insert("email_verified".into(), json!("true"));
        }
        Some(Tamper::NoEmail) => {
            object.remove("email");
        }
        Some(Tamper::WrongAudience) => {
            object.insert("aud".into(), json!("another-client.apps.example.com"));
            object.insert("azp".into(), json!("another-client.apps.example.com"));
        }
        Some(Tamper::ExtraAudienceWithoutAzp) => {
            object.insert("aud".into(), json!([CLIENT_ID, "another-client"]));
            object.remove("azp");
        }
        Some(Tamper::ExtraAudienceWithAzp) => {
            object.insert("aud".into(), json!([CLIENT_ID, "another-client"]));
        }
        Some(Tamper::Expired) => {
            object.insert("iat".into(), json!(now - 3 * 3600));
            object.insert("exp".into(), json!(now - 2 * 3600));
        }
        Some(Tamper::WrongIssuer) => {
            object.insert("iss".into(), json!("https://issuer.example.com"));
        }
        Some(Tamper::NoIat) => {
            object.remove("iat");
        }
        Some(Tamper::Unsigned) => {
            let header = URL_SAFE_NO_PAD
                .encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
            let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
            return format!("{header}.{payload}.");
        }
        Some(Tamper::SymmetricWithPublicKey) => {
            let n = keys[0].jwk["n"].as_str().unwrap_or_default();
            let secret = URL_SAFE_NO_PAD.decode(n).unwrap_or_default();
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(kid.to_string());
            return sign(&header, &claims, &EncodingKey::from_secret(&secret));
        }
        Some(Tamper::UnknownKid) => {
            key = &keys[1];
            kid = "fake-oidc-unknown";
        }
        Some(Tamper::Es256) => {
            key = &keys[3];
            kid = EC_KID;
            alg = Algorithm::ES256;
        }
        Some(Tamper::Claims(overrides)) => {
            for (name, value) in overrides {
                if value.is_null() {
                    object.remove(&name);
                } else {
                    object.insert(name, value);
                }
            }
        }
    }
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    sign(&header, &claims, &key.encoding)
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code).json(json!({"error": error, "error_description": description}))
}

async fn handle(
    state: web::Data<Mutex<State>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let get = request.method() == actix_web::http::Method::GET;
    let post = request.method() == actix_web::http::Method::POST;
    match request.path() {
        "/.well-known/openid-configuration" if get => discovery(&state),
        "/jwks" if get => jwks(&state),
        "/authorize" if get => authorize(&state, request.query_string()),
        "/token" if post => token(&state, &body),
        _ => HttpResponse::NotFound().body("not found"),
    }
}

fn discovery(state: &Mutex<State>) -> HttpResponse {
    let mut state = lock(state);
    state.discovery_fetches += 1;
    let issuer = state.issuer.clone();
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    });
    if let Some(object) = document.as_object_mut() {
        for (field, value) in &state.discovery_overrides {
            object.insert(field.clone(), value.clone());
        }
    }
    HttpResponse::Ok().json(document)
}

fn jwks(state: &Mutex<State>) -> HttpResponse {
    let mut state = lock(state);
    state.jwks_fetches += 1;
    let keys = keys();
    let rsa = if state.rotated { &keys[2] } else { &keys[0] };
    HttpResponse::Ok().json(json!({"keys": [rsa.jwk, keys[3].jwk]}))
}

fn authorize(state: &Mutex<State>, query: &str) -> HttpResponse {
    let params: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap_or_default();
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    if param("client_id") != CLIENT_ID {
        return HttpResponse::BadRequest().body("unknown client_id");
    }
    if param("response_type") != "code" {
        return HttpResponse::BadRequest().body("response_type must be code");
    }
    if !param("scope").split(' ').any(|scope| scope == "openid") {
        return HttpResponse::BadRequest().body("scope must include openid");
    }
    if param("code_challenge_method") != "S256" || param("code_challenge").is_empty() {
        return HttpResponse::BadRequest().body("PKCE with S256 is required");
    }
    let redirect_uri = param("redirect_uri");
    if redirect_uri.is_empty() {
        return HttpResponse::BadRequest().body("redirect_uri is required");
    }
    let code = format!("fake-code-{}", uuid::Uuid::new_v4().simple());
    let mut state = lock(state);
    let grant = Grant {
        redirect_uri: redirect_uri.to_string(),
        nonce: params.get("nonce").cloned(),
        code_challenge: param("code_challenge").to_string(),
        identity: state.identity.clone(),
    };
    state.codes.insert(code.clone(), grant);
    let answer = serde_urlencoded::to_string([("code", code.as_str()), ("state", param("state"))])
        .unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    HttpResponse::Found()
        .insert_header(("Location", format!("{redirect_uri}{separator}{answer}")))
        .finish()
}

fn token(state: &Mutex<State>, body: &[u8]) -> HttpResponse {
    let form: TokenRequest = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut state = lock(state);
    state.token_requests.push(form.clone());
    if let Some(status) = state.token_failure.take() {
        return oauth_error(status, "server_error", "scripted failure");
    }
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    if field("grant_type") != "authorization_code" {
        return oauth_error(400, "unsupported_grant_type", "authorization_code only");
    }
    // A code is good once, whatever happens next.
    let Some(grant) = state.codes.remove(field("code")) else {
        return oauth_error(400, "invalid_grant", "unknown or used code");
    };
    if grant.redirect_uri != field("redirect_uri") {
        return oauth_error(400, "invalid_grant", "redirect_uri mismatch");
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
    if challenge != grant.code_challenge {
        return oauth_error(400, "invalid_grant", "code_verifier does not match");
    }
    let tamper = state.next_tamper.take();
    let id_token = id_token(&state, &grant.identity, grant.nonce.as_deref(), tamper);
    HttpResponse::Ok().json(json!({
        "access_token": format!("fake-access-{}", uuid::Uuid::new_v4().simple()),
        "token_type": "Bearer",
        "expires_in": 3599,
        "scope": "openid email profile",
        "id_token": id_token,
    }))
}
