//! A gateway on 127.0.0.1:0 in front of in-process fake auth and tagging services
//! (canned answers over real gRPC, checking the gateway's signed identity like the real
//! services), plus token minting with the fake's signing key.

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use marquee_gateway::GatewaySettings;
use marquee_platform::grpc::{self, SERVER_DEADLINE};
use marquee_platform::service_identity::{
    IdentitySettings, IdentityVerifier, ServiceIdentity, generate_key_pair,
};
use marquee_platform::shutdown::CancellationToken;
use marquee_platform::{Error, ErrorKind, Principal};
use marquee_proto::auth::v1 as pb;
use marquee_proto::auth::v1::auth_service_server::{AuthService, AuthServiceServer};
use marquee_proto::tagging::v1 as tagging;
use marquee_proto::tagging::v1::tagging_service_server::{TaggingService, TaggingServiceServer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tonic::{Request, Response, Status};

pub const KID: &str = "test-key-1";
pub const ISSUER: &str = "marquee-auth";
pub const AUDIENCE: &str = "marquee-api";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What the fake saw, for assertions.
#[derive(Default)]
pub struct Seen {
    pub audits: Mutex<Vec<(Principal, pb::RecordAuditRequest)>>,
    pub client_infos: Mutex<Vec<pb::ClientInfo>>,
    pub flag_reads: AtomicUsize,
    pub token_requests: Mutex<Vec<pb::IssueClientTokenRequest>>,
    /// Tagging calls as the fake tagging service received them: the caller and the
    /// request, debug-printed (`"GetTags: GetTagsRequest { … }"`).
    pub tagging_calls: Mutex<Vec<(Principal, String)>>,
}

pub struct Signer {
    encoding: jsonwebtoken::EncodingKey,
    pub public_x: String,
}

impl Signer {
    pub fn new(seed: u8) -> Self {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let der = signing.to_pkcs8_der().expect("pkcs8");
        Self {
            encoding: jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
            public_x: base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(signing.verifying_key().to_bytes()),
        }
    }

    pub fn sign(&self, kid: &str, claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

pub fn user_claims(sub: &str, roles: &[&str], exp_in: i64) -> serde_json::Value {
    serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "tid": "tenant-1",
        "roles": roles,
        "scope": "assets:read assets:write campaigns:read campaigns:write billing:read tenant:read",
        "exp": now() + exp_in, "iat": now(), "jti": uuid::Uuid::now_v7().to_string(),
        "principal": "user",
    })
}

pub fn client_claims(sub: &str, scope: &str, tier: &str) -> serde_json::Value {
    serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "tid": "tenant-1",
        "roles": [], "scope": scope,
        "exp": now() + 600, "iat": now(), "jti": uuid::Uuid::now_v7().to_string(),
        "principal": "client", "rate_tier": tier,
    })
}

fn timestamp() -> Option<marquee_proto::Timestamp> {
    Some(marquee_proto::Timestamp {
        seconds: 1_790_000_000,
        nanos: 0,
    })
}

pub struct FakeAuth {
    signer: Arc<Signer>,
    seen: Arc<Seen>,
}

impl FakeAuth {
    fn session(&self, email: &str, tenant_id: &str) -> pb::Session {
        let sub = "user-1";
        pb::Session {
            user: Some(pb::User {
                id: sub.into(),
                tenant_id: if tenant_id.is_empty() {
                    "tenant-1".into()
                } else {
                    tenant_id.into()
                },
                email: email.into(),
                display_name: "Ada".into(),
                roles: vec!["creator".into()],
                created_at: timestamp(),
                email_verified: false,
                disabled: false,
            }),
            access_token: self.signer.sign(KID, &user_claims(sub, &["creator"], 900)),
            refresh_token: "refresh-1".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
        }
    }

    fn note(&self, client: Option<&pb::ClientInfo>) {
        if let Some(client) = client {
            self.seen.client_infos.lock().unwrap().push(client.clone());
        }
    }
}

fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    Principal::from_request(request)
}

#[tonic::async_trait]
impl AuthService for FakeAuth {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.note(request.get_ref().client.as_ref());
        let body = request.into_inner();
        if body.email == "taken@example.com" {
            return Err(Error::new(
                ErrorKind::Conflict,
                "email_taken",
                "this email is already registered",
            )
            .into());
        }
        if body.password.len() < 8 {
            return Err(Error::invalid(
                "weak_password",
                "the password must have at least 8 characters",
            )
            .into());
        }
        Ok(Response::new(self.session(&body.email, &body.tenant_id)))
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.note(request.get_ref().client.as_ref());
        let body = request.into_inner();
        if body.password != "correct horse" {
            return Err(
                Error::unauthenticated("invalid_credentials", "wrong email or password").into(),
            );
        }
        Ok(Response::new(self.session(&body.email, &body.tenant_id)))
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        if request.get_ref().refresh_token == "reused" {
            return Err(Error::unauthenticated(
                "refresh_token_reused",
                "this refresh token was already used",
            )
            .into());
        }
        Ok(Response::new(self.session("ada@example.com", "")))
    }

    async fn logout(
        &self,
        _: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn get_me(
        &self,
        request: Request<pb::GetMeRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let principal = principal(&request)?;
        Ok(Response::new(pb::User {
            id: principal.subject,
            tenant_id: principal.tenant_id,
            email: "ada@example.com".into(),
            display_name: "Ada".into(),
            roles: principal
                .roles
                .iter()
                .map(|role| role.to_string())
                .collect(),
            created_at: timestamp(),
            email_verified: true,
            disabled: false,
        }))
    }

    async fn get_jwks(&self, _: Request<pb::GetJwksRequest>) -> Result<Response<pb::Jwks>, Status> {
        Ok(Response::new(pb::Jwks {
            keys: vec![pb::Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: self.signer.public_x.clone(),
                kid: KID.into(),
                alg: "EdDSA".into(),
                r#use: "sig".into(),
            }],
        }))
    }

    async fn rotate_signing_key(
        &self,
        _: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn create_o_auth_client(
        &self,
        request: Request<pb::CreateOAuthClientRequest>,
    ) -> Result<Response<pb::CreateOAuthClientResponse>, Status> {
        let caller = principal(&request)?;
        let body = request.into_inner();
        Ok(Response::new(pb::CreateOAuthClientResponse {
            client: Some(pb::OAuthClient {
                id: "client-1".into(),
                tenant_id: if body.tenant_id.is_empty() {
                    caller.tenant_id
                } else {
                    body.tenant_id
                },
                name: body.name,
                scopes: body.scopes,
                environment: body.environment,
                rate_tier: body.rate_tier,
                created_at: timestamp(),
                revoked_at: None,
            }),
            client_secret: "s3cret".into(),
        }))
    }

    async fn list_o_auth_clients(
        &self,
        request: Request<pb::ListOAuthClientsRequest>,
    ) -> Result<Response<pb::ListOAuthClientsResponse>, Status> {
        principal(&request)?;
        Ok(Response::new(pb::ListOAuthClientsResponse {
            clients: vec![],
        }))
    }

    async fn get_o_auth_client(
        &self,
        request: Request<pb::GetOAuthClientRequest>,
    ) -> Result<Response<pb::OAuthClient>, Status> {
        principal(&request)?;
        Err(Error::not_found(format!("no client {}", request.get_ref().id)).into())
    }

    async fn revoke_o_auth_client(
        &self,
        request: Request<pb::RevokeOAuthClientRequest>,
    ) -> Result<Response<pb::OAuthClient>, Status> {
        principal(&request)?;
        Err(Error::not_found(format!("no client {}", request.get_ref().id)).into())
    }

    /// `client-1` gets a new secret; anything else is unknown.
    async fn rotate_o_auth_client_secret(
        &self,
        request: Request<pb::RotateOAuthClientSecretRequest>,
    ) -> Result<Response<pb::CreateOAuthClientResponse>, Status> {
        let caller = principal(&request)?;
        let body = request.into_inner();
        if body.id != "client-1" {
            return Err(Error::not_found(format!("no client {}", body.id)).into());
        }
        Ok(Response::new(pb::CreateOAuthClientResponse {
            client: Some(pb::OAuthClient {
                id: body.id,
                tenant_id: caller.tenant_id,
                name: "Acme".into(),
                scopes: vec!["assets:read".into()],
                environment: "live".into(),
                rate_tier: "standard".into(),
                created_at: timestamp(),
                revoked_at: None,
            }),
            client_secret: "n3w-s3cret".into(),
        }))
    }

    async fn issue_client_token(
        &self,
        request: Request<pb::IssueClientTokenRequest>,
    ) -> Result<Response<pb::ClientToken>, Status> {
        let body = request.into_inner();
        self.seen.token_requests.lock().unwrap().push(body.clone());
        if body.client_id != "client-1" || body.client_secret != "s3cret" {
            return Err(
                Error::unauthenticated("invalid_client", "unknown client or wrong secret").into(),
            );
        }
        let scope = if body.scope.is_empty() {
            "assets:read".to_string()
        } else {
            body.scope
        };
        if scope.split(' ').any(|s| s != "assets:read") {
            return Err(Error::invalid("invalid_scope", "scope not granted to this client").into());
        }
        Ok(Response::new(pb::ClientToken {
            access_token: self
                .signer
                .sign(KID, &client_claims("client-1", &scope, "basic")),
            token_type: "Bearer".into(),
            expires_in: 600,
            scope,
        }))
    }

    async fn create_tenant(
        &self,
        request: Request<pb::CreateTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        principal(&request)?;
        let body = request.into_inner();
        Ok(Response::new(pb::Tenant {
            id: "tenant-2".into(),
            name: body.name,
            slug: body.slug,
            sandbox: body.sandbox,
            created_at: timestamp(),
        }))
    }

    async fn list_tenants(
        &self,
        request: Request<pb::ListTenantsRequest>,
    ) -> Result<Response<pb::ListTenantsResponse>, Status> {
        principal(&request)?;
        Ok(Response::new(pb::ListTenantsResponse { tenants: vec![] }))
    }

    async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        principal(&request)?;
        Err(Error::not_found(format!("no tenant {}", request.get_ref().tenant_id)).into())
    }

    async fn get_tenant_flags(
        &self,
        request: Request<pb::GetTenantFlagsRequest>,
    ) -> Result<Response<pb::TenantFlags>, Status> {
        principal(&request)?;
        self.seen.flag_reads.fetch_add(1, Ordering::SeqCst);
        let tenant_id = request.into_inner().tenant_id;
        let flags = [
            (
                "beta".to_string(),
                pb::FlagValue {
                    value: Some(pb::flag_value::Value::BoolValue(true)),
                },
            ),
            (
                "theme".to_string(),
                pb::FlagValue {
                    value: Some(pb::flag_value::Value::StringValue("dark".into())),
                },
            ),
        ];
        Ok(Response::new(pb::TenantFlags {
            tenant_id,
            flags: flags.into_iter().collect(),
        }))
    }

    async fn set_tenant_flags(
        &self,
        request: Request<pb::SetTenantFlagsRequest>,
    ) -> Result<Response<pb::TenantFlags>, Status> {
        principal(&request)?;
        let body = request.into_inner();
        Ok(Response::new(pb::TenantFlags {
            tenant_id: body.tenant_id,
            flags: body.flags,
        }))
    }

    async fn list_audit(
        &self,
        request: Request<pb::ListAuditRequest>,
    ) -> Result<Response<pb::ListAuditResponse>, Status> {
        principal(&request)?;
        let body = request.into_inner();
        Ok(Response::new(pb::ListAuditResponse {
            entries: vec![pb::AuditEntry {
                id: "a1".into(),
                action: if body.action.is_empty() {
                    "login".into()
                } else {
                    body.action
                },
                outcome: "success".into(),
                occurred_at: timestamp(),
                ..Default::default()
            }],
            next_cursor: String::new(),
        }))
    }

    async fn set_user_disabled(
        &self,
        _: Request<pb::SetUserDisabledRequest>,
    ) -> Result<Response<pb::User>, Status> {
        Err(Status::unimplemented("not faked"))
    }

    async fn revoke_user_sessions(
        &self,
        _: Request<pb::RevokeUserSessionsRequest>,
    ) -> Result<Response<pb::RevokeUserSessionsResponse>, Status> {
        Err(Status::unimplemented("not faked"))
    }

    /// Nothing revoked: the gateway's poll gets an empty page.
    async fn list_revocations(
        &self,
        _: Request<pb::ListRevocationsRequest>,
    ) -> Result<Response<pb::ListRevocationsResponse>, Status> {
        Ok(Response::new(pb::ListRevocationsResponse {
            revocations: vec![],
            as_of: 0,
        }))
    }

    async fn record_audit(
        &self,
        request: Request<pb::RecordAuditRequest>,
    ) -> Result<Response<pb::RecordAuditResponse>, Status> {
        let principal = principal(&request)?;
        self.seen
            .audits
            .lock()
            .unwrap()
            .push((principal, request.into_inner()));
        Ok(Response::new(pb::RecordAuditResponse {}))
    }

    async fn list_sign_in_providers(
        &self,
        _: Request<pb::ListSignInProvidersRequest>,
    ) -> Result<Response<pb::ListSignInProvidersResponse>, Status> {
        Ok(Response::new(pb::ListSignInProvidersResponse::default()))
    }

    // External sign-in is tested end to end against a local OpenID provider.
    async fn begin_external_sign_in(
        &self,
        _: Request<pb::BeginExternalSignInRequest>,
    ) -> Result<Response<pb::BeginExternalSignInResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn complete_external_sign_in(
        &self,
        _: Request<pb::CompleteExternalSignInRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    // Invitations are tested end to end (services/marquee/tests/e2e/membership.rs).
    async fn create_invitation(
        &self,
        _: Request<pb::CreateInvitationRequest>,
    ) -> Result<Response<pb::CreateInvitationResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn list_invitations(
        &self,
        _: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn revoke_invitation(
        &self,
        _: Request<pb::RevokeInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn verify_email(
        &self,
        _: Request<pb::VerifyEmailRequest>,
    ) -> Result<Response<pb::User>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn resend_verification(
        &self,
        _: Request<pb::ResendVerificationRequest>,
    ) -> Result<Response<pb::ResendVerificationResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn forgot_password(
        &self,
        _: Request<pb::ForgotPasswordRequest>,
    ) -> Result<Response<pb::ForgotPasswordResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn reset_password(
        &self,
        _: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }
}

/// Canned tagging answers; every call is noted in [`Seen::tagging_calls`]. Asset
/// `missing` is not found; `someone-elses` may not be edited.
pub struct FakeTagging {
    seen: Arc<Seen>,
}

impl FakeTagging {
    fn note<T: std::fmt::Debug>(&self, rpc: &str, request: &Request<T>) -> Result<(), Status> {
        let caller = principal(request)?;
        self.seen
            .tagging_calls
            .lock()
            .unwrap()
            .push((caller, format!("{rpc}: {:?}", request.get_ref())));
        Ok(())
    }

    fn tags(
        asset_id: String,
        tags: Vec<tagging::Tag>,
    ) -> Result<Response<tagging::AssetTags>, Status> {
        if asset_id == "missing" {
            return Err(Error::not_found("asset not found").into());
        }
        Ok(Response::new(tagging::AssetTags {
            asset_id,
            tags,
            state: "tagged".into(),
            failure_reason: String::new(),
            palette: vec!["#1d3557".into()],
            orientation: "landscape".into(),
            size_class: String::new(),
            tagged_at: timestamp(),
        }))
    }

    fn hits() -> tagging::SearchResponse {
        tagging::SearchResponse {
            hits: vec![
                tagging::SearchHit {
                    asset_id: "a-1".into(),
                    score: 0.75,
                    title: "Sunset".into(),
                    kind: "image".into(),
                    tags: vec!["sunset".into()],
                    has_thumbnail: true,
                },
                tagging::SearchHit {
                    asset_id: "a-2".into(),
                    score: 0.5,
                    title: "Notes".into(),
                    kind: "document".into(),
                    tags: vec![],
                    has_thumbnail: false,
                },
            ],
            next_cursor: "bzoyMA".into(),
        }
    }
}

#[tonic::async_trait]
impl TaggingService for FakeTagging {
    async fn get_tags(
        &self,
        request: Request<tagging::GetTagsRequest>,
    ) -> Result<Response<tagging::AssetTags>, Status> {
        self.note("GetTags", &request)?;
        let tag = tagging::Tag {
            name: "sunset".into(),
            confidence: 0.75,
            source: "ai".into(),
            provider: "minilm-zero-shot".into(),
        };
        Self::tags(request.into_inner().asset_id, vec![tag])
    }

    async fn set_tags(
        &self,
        request: Request<tagging::SetTagsRequest>,
    ) -> Result<Response<tagging::AssetTags>, Status> {
        self.note("SetTags", &request)?;
        let body = request.into_inner();
        if body.asset_id == "someone-elses" {
            return Err(Error::forbidden(
                "forbidden",
                "only the asset's owner or a moderator may edit its tags",
            )
            .into());
        }
        let tags = body
            .tags
            .into_iter()
            .map(|tag| tagging::Tag {
                name: tag.name.trim().to_lowercase(),
                confidence: 1.0,
                source: "creator".into(),
                provider: String::new(),
            })
            .collect();
        Self::tags(body.asset_id, tags)
    }

    async fn search(
        &self,
        request: Request<tagging::SearchRequest>,
    ) -> Result<Response<tagging::SearchResponse>, Status> {
        self.note("Search", &request)?;
        Ok(Response::new(Self::hits()))
    }

    async fn similar_assets(
        &self,
        request: Request<tagging::SimilarAssetsRequest>,
    ) -> Result<Response<tagging::SearchResponse>, Status> {
        self.note("SimilarAssets", &request)?;
        Ok(Response::new(Self::hits()))
    }

    async fn recommendations(
        &self,
        request: Request<tagging::RecommendationsRequest>,
    ) -> Result<Response<tagging::SearchResponse>, Status> {
        self.note("Recommendations", &request)?;
        Ok(Response::new(Self::hits()))
    }

    async fn record_view(
        &self,
        request: Request<tagging::RecordViewRequest>,
    ) -> Result<Response<tagging::RecordViewResponse>, Status> {
        self.note("RecordView", &request)?;
        Ok(Response::new(tagging::RecordViewResponse {}))
    }

    async fn get_taxonomy(
        &self,
        request: Request<tagging::GetTaxonomyRequest>,
    ) -> Result<Response<tagging::Taxonomy>, Status> {
        self.note("GetTaxonomy", &request)?;
        Ok(Response::new(tagging::Taxonomy {
            labels: vec![tagging::TaxonomyLabel {
                name: "food photography".into(),
                description: "Photos of food.".into(),
            }],
            is_default: true,
        }))
    }

    async fn set_taxonomy(
        &self,
        request: Request<tagging::SetTaxonomyRequest>,
    ) -> Result<Response<tagging::Taxonomy>, Status> {
        self.note("SetTaxonomy", &request)?;
        let labels = request.into_inner().labels;
        Ok(Response::new(tagging::Taxonomy {
            is_default: labels.is_empty(),
            labels,
        }))
    }
}

pub struct TestApp {
    pub address: String,
    /// The fake tagging service's gRPC address (`http://…`).
    pub tagging_url: String,
    /// The gateway's service identity (the fakes accept calls signed with it).
    pub gateway: ServiceIdentity,
    pub http: reqwest::Client,
    pub signer: Arc<Signer>,
    pub seen: Arc<Seen>,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn user_token(&self, roles: &[&str]) -> String {
        self.signer.sign(
            KID,
            &user_claims(&format!("user-{}", uuid::Uuid::now_v7()), roles, 600),
        )
    }

    pub fn client_token(&self, scope: &str) -> String {
        self.signer.sign(
            KID,
            &client_claims(
                &format!("client-{}", uuid::Uuid::now_v7()),
                scope,
                "standard",
            ),
        )
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn wait_until(&self, what: &str, mut condition: impl FnMut() -> bool) {
        marquee_testkit::wait_until(Duration::from_secs(5), what, || {
            std::future::ready(condition())
        })
        .await;
    }
}

/// Spawns a fake auth and a gateway in front of it; `adjust` tweaks the settings.
async fn bind_grpc() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind grpc");
    let url = format!("http://{}", listener.local_addr().expect("grpc addr"));
    (listener, url)
}

pub async fn spawn_app(adjust: impl FnOnce(&mut GatewaySettings)) -> TestApp {
    marquee_platform::telemetry::init_for_tests();
    let signer = Arc::new(Signer::new(7));
    let seen = Arc::new(Seen::default());
    let shutdown = CancellationToken::new();

    // The fakes check the gateway's signed identity like the real services.
    let (gateway_key, _) = generate_key_pair();
    let gateway = ServiceIdentity::from_settings(
        "gateway",
        &IdentitySettings {
            signing_key: Some(gateway_key.clone()),
            ..Default::default()
        },
    )
    .expect("gateway identity");
    let fake_server = |audience| {
        grpc::server(
            SERVER_DEADLINE,
            &[],
            IdentityVerifier::trusting(audience, &[&gateway]),
        )
    };
    let (auth_listener, auth_url) = bind_grpc().await;
    let router = fake_server("auth").add_service(AuthServiceServer::new(FakeAuth {
        signer: signer.clone(),
        seen: seen.clone(),
    }));
    tokio::spawn(grpc::serve(router, auth_listener, shutdown.clone()));
    let (tagging_listener, tagging_url) = bind_grpc().await;
    let router = fake_server("tagging").add_service(TaggingServiceServer::new(FakeTagging {
        seen: seen.clone(),
    }));
    tokio::spawn(grpc::serve(router, tagging_listener, shutdown.clone()));

    let mut settings = GatewaySettings {
        auth_url,
        tagging_url: tagging_url.clone(),
        workers: 1,
        access_log: false,
        ..Default::default()
    };
    settings.common.identity.signing_key = Some(gateway_key);
    adjust(&mut settings);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind http");
    let address = format!("http://{}", listener.local_addr().expect("http addr"));
    let server = tokio::spawn(marquee_gateway::serve(settings, listener, shutdown.clone()));

    let app = TestApp {
        address,
        tagging_url,
        gateway,
        http: reqwest::Client::new(),
        signer,
        seen,
        shutdown,
        server,
    };
    marquee_testkit::wait_until(
        Duration::from_secs(10),
        "the gateway to become ready",
        || async {
            let response = app.http.get(app.url("/readyz")).send().await;
            response.is_ok_and(|response| response.status() == 200)
        },
    )
    .await;
    app
}

/// Reads a problem response, checking the RFC 9457 shape.
pub async fn problem(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status for expected {code}"
    );
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
    );
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("x-request-id echoed");
    let body: serde_json::Value = response.json().await.expect("problem json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["type"].as_str().unwrap_or("").ends_with(code));
    assert!(body["title"].is_string());
    assert!(body["detail"].is_string());
    body
}
