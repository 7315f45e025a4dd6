//! Sign-in with Google against the fake OpenID Connect provider: the whole flow (the
//! browser leg over HTTP to the fake's `/authorize`), account linking, every spoiled ID
//! token, state handling, caching, and the gRPC surface.

use super::{ctx, ctx_from, registration, settings, start};
use marquee_auth::api::AuthGrpc;
use marquee_auth::domain::oidc::{ExternalCallback, GOOGLE};
use marquee_auth::domain::sessions::Session;
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_auth::{Auth, AuthSettings};
use marquee_platform::grpc::anonymous;
use marquee_platform::service_identity::VerifiedCaller;
use marquee_platform::{ErrorKind, Principal};
use marquee_proto::auth::v1 as pb;
use marquee_testkit::oidc::{CLIENT_ID, CLIENT_SECRET, FakeIdentity, FakeOidcProvider, Tamper};
use marquee_testkit::{Backend, TestDb};
use pb::auth_service_server::AuthService;
use std::collections::HashMap;

marquee_testkit::on_both_backends!(
    google_sign_in_creates_a_user_whose_token_works_for_get_me,
    second_sign_in_with_the_same_subject_is_the_same_user,
    verified_email_links_to_the_existing_password_user,
    concurrent_first_sign_ins_make_one_user,
    forged_id_token_is_refused,
    wrong_nonce_is_refused,
    unverified_email_is_refused,
    expired_id_token_is_refused,
    wrong_audience_is_refused,
    other_spoiled_id_tokens_are_refused,
    sound_variants_of_id_tokens_are_accepted,
    state_is_single_use,
    unknown_state_is_refused,
    expired_sign_in_is_refused_and_cleared,
    unconfigured_redirect_uri_is_refused_at_begin,
    mismatched_redirect_uri_is_refused_at_complete,
    unconfigured_provider_is_a_failed_precondition,
    passwordless_user_cannot_log_in_with_a_password,
    a_throttled_source_cannot_sign_in_with_google_either,
    token_endpoint_failures_are_refused,
    discovery_and_jwks_are_cached_and_a_rotated_key_is_fetched,
    unknown_kids_refetch_the_jwks_at_most_once_per_interval,
    provider_endpoints_must_be_https_except_loopback,
);

const REDIRECT: &str = "http://localhost:8080/api/v1/auth/google/callback";
const OTHER_REDIRECT: &str = "http://127.0.0.1:8080/api/v1/auth/google/callback";

fn google_settings(provider: &FakeOidcProvider) -> AuthSettings {
    let mut settings = settings();
    settings.oidc_google_client_id = Some(CLIENT_ID.into());
    settings.oidc_google_client_secret = Some(CLIENT_SECRET.into());
    settings.oidc_google_issuer = provider.issuer().to_string();
    settings
}

struct Fixture {
    auth: Auth,
    provider: FakeOidcProvider,
    _db: TestDb,
}

async fn fixture_with(backend: Backend, configure: impl FnOnce(&mut AuthSettings)) -> Fixture {
    let provider = FakeOidcProvider::start().await;
    let mut settings = google_settings(&provider);
    configure(&mut settings);
    let (auth, db) = start(backend, settings).await;
    Fixture {
        auth,
        provider,
        _db: db,
    }
}

async fn fixture(backend: Backend) -> Fixture {
    fixture_with(backend, |_| {}).await
}

/// The browser's leg: GET the authorization URL, take the code and state from the
/// redirect to `redirect_uri`.
async fn follow(authorization_url: &str, redirect_uri: &str) -> (String, String) {
    marquee_platform::install_crypto_provider();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(authorization_url).send().await.unwrap();
    assert_eq!(response.status(), 302, "the provider redirects back");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(redirect_uri), "{location}");
    let url = reqwest::Url::parse(&location).unwrap();
    let params: HashMap<_, _> = url.query_pairs().into_owned().collect();
    (params["state"].clone(), params["code"].clone())
}

/// Begins a sign-in and does the browser's leg: the callback to complete it with.
async fn authorize(auth: &Auth) -> ExternalCallback {
    let begun = auth.begin_external_sign_in(GOOGLE, REDIRECT).await.unwrap();
    let (state, code) = follow(&begun.authorization_url, REDIRECT).await;
    assert_eq!(state, begun.state, "the state comes back unchanged");
    ExternalCallback {
        provider: GOOGLE.into(),
        state,
        code,
        redirect_uri: REDIRECT.into(),
    }
}

async fn sign_in(auth: &Auth) -> Result<Session, AuthError> {
    let callback = authorize(auth).await;
    auth.complete_external_sign_in(callback, &ctx()).await
}

/// Refused with this code, and the message repeats nothing from the token.
fn assert_refused(result: Result<Session, AuthError>, expected: &str) {
    match result {
        Err(AuthError::ExternalSignIn { code, message }) => {
            assert_eq!(code, expected, "{message}");
            let identity = FakeIdentity::default();
            assert!(!message.contains(&identity.email), "{message}");
            assert!(!message.contains(&identity.sub), "{message}");
            let status = tonic::Status::from(AuthError::ExternalSignIn { code, message });
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
        }
        Err(other) => panic!("expected {expected}, got {other:?}"),
        Ok(session) => panic!("expected {expected}, signed in as {}", session.user.email),
    }
}

async fn user_count(auth: &Auth) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    marquee_auth::store::entities::user::Entity::find()
        .count(auth.db())
        .await
        .unwrap()
}

async fn audit(
    auth: &Auth,
    tenant_id: &str,
    action: &str,
) -> Vec<marquee_auth::domain::audit::AuditEntry> {
    auth.list_audit(
        tenant_id,
        marquee_auth::domain::audit::AuditQuery {
            action: Some(action.into()),
            actor_id: None,
            outcome: None,
            since: None,
            until: None,
            limit: 50,
            cursor: None,
        },
    )
    .await
    .unwrap()
    .0
}

/// The principal the gateway would forward for this access token, after verifying it
/// against auth's JWKS.
fn principal_of(auth: &Auth, access_token: &str) -> Principal {
    let header = jsonwebtoken::decode_header(access_token).unwrap();
    let kid = header.kid.unwrap();
    let key = auth
        .jwks()
        .into_iter()
        .find(|key| key.kid == kid)
        .expect("signed by a published key");
    let decoding = jsonwebtoken::DecodingKey::from_ed_components(&key.x).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[&auth.settings().jwt_issuer]);
    validation.set_audience(&[&auth.settings().jwt_audience]);
    let claims = jsonwebtoken::decode::<marquee_platform::AccessClaims>(
        access_token,
        &decoding,
        &validation,
    )
    .expect("the access token verifies")
    .claims;
    Principal {
        kind: claims.principal,
        subject: claims.sub.clone(),
        tenant_id: claims.tid.clone(),
        roles: claims.known_roles(),
        scopes: claims.known_scopes(),
    }
}

async fn google_sign_in_creates_a_user_whose_token_works_for_get_me(backend: Backend) {
    let f = fixture(backend).await;
    let grpc = AuthGrpc::new(f.auth.clone());
    let providers = grpc
        .list_sign_in_providers(anonymous(pb::ListSignInProvidersRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(providers.providers, ["google"]);

    let begun = grpc
        .begin_external_sign_in(anonymous(pb::BeginExternalSignInRequest {
            provider: "google".into(),
            redirect_uri: REDIRECT.into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(begun.expires_in, 600);
    let (state, code) = follow(&begun.authorization_url, REDIRECT).await;
    // The gateway's call: only the gateway's word on the client's address counts.
    let mut complete = anonymous(pb::CompleteExternalSignInRequest {
        provider: "google".into(),
        state,
        code,
        redirect_uri: REDIRECT.into(),
        client_ip: "198.51.100.9".into(),
        user_agent: "browser-test".into(),
    });
    complete
        .extensions_mut()
        .insert(std::sync::Arc::new(VerifiedCaller::assumed(
            "gateway", None,
        )));
    let session = grpc
        .complete_external_sign_in(complete)
        .await
        .unwrap()
        .into_inner();
    let user = session.user.clone().unwrap();
    assert_eq!(user.email, "ada.lovelace@example.com");
    assert_eq!(user.display_name, "Ada Lovelace");
    assert_eq!(user.roles, ["creator"]);
    assert_eq!(session.token_type, "Bearer");
    let tenant = f.auth.tenant(&user.tenant_id).await.unwrap();
    assert_eq!(
        tenant.slug, "default",
        "new users land in the default tenant"
    );

    // The code went back with the PKCE verifier and the client's credentials.
    let requests = f.provider.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["grant_type"], "authorization_code");
    assert_eq!(requests[0]["client_secret"], CLIENT_SECRET);
    assert_eq!(requests[0]["redirect_uri"], REDIRECT);
    assert!((43..=128).contains(&requests[0]["code_verifier"].len()));

    let principal = principal_of(&f.auth, &session.access_token);
    // As the gateway's call arrives once the server verified its identity.
    let mut request = tonic::Request::new(pb::GetMeRequest {});
    request
        .extensions_mut()
        .insert(std::sync::Arc::new(VerifiedCaller::assumed(
            "gateway",
            Some(principal),
        )));
    let me = grpc.get_me(request).await.unwrap().into_inner();
    assert_eq!(me.id, user.id);
    assert_eq!(me.email, user.email);
    // The refresh token belongs to the usual rotation machinery.
    let refreshed = f
        .auth
        .refresh(&session.refresh_token, &ctx())
        .await
        .unwrap();
    assert_eq!(refreshed.user.id, user.id);

    let registered = audit(&f.auth, &user.tenant_id, "register").await;
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].detail, "provider=google");
    let logins = audit(&f.auth, &user.tenant_id, "login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].actor_id, user.id);
    assert_eq!(logins[0].outcome, "success");
    assert_eq!(logins[0].ip, "198.51.100.9");
    assert_eq!(logins[0].user_agent, "browser-test");
}

async fn second_sign_in_with_the_same_subject_is_the_same_user(backend: Backend) {
    let f = fixture(backend).await;
    let first = sign_in(&f.auth).await.unwrap();
    // The person changed their address at Google: the subject still finds them.
    f.provider.set_identity(FakeIdentity {
        email: "countess@example.com".into(),
        ..FakeIdentity::default()
    });
    let second = sign_in(&f.auth).await.unwrap();
    assert_eq!(second.user.id, first.user.id);
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(user_count(&f.auth).await, 1);

    // Another Google account is another user.
    f.provider.set_identity(FakeIdentity {
        sub: "108000000000000000002".into(),
        email: "grace@example.com".into(),
        name: None,
        email_verified: true,
    });
    let other = sign_in(&f.auth).await.unwrap();
    assert_ne!(other.user.id, first.user.id);
    assert_eq!(
        other.user.display_name, "grace",
        "no name: the email's local part"
    );
}

async fn verified_email_links_to_the_existing_password_user(backend: Backend) {
    let f = fixture(backend).await;
    let registered = f
        .auth
        .register(registration("Ada.Lovelace@Example.com"), &ctx())
        .await
        .unwrap();
    let session = sign_in(&f.auth).await.unwrap();
    assert_eq!(session.user.id, registered.user.id);
    assert_eq!(
        session.user.display_name, "Ada",
        "the account keeps its name"
    );
    let linked = audit(
        &f.auth,
        &registered.user.tenant_id,
        "external_identity_linked",
    )
    .await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].actor_id, registered.user.id);
    let links = marquee_auth::store::oidc::identities_of(
        f.auth.db(),
        &registered.user.tenant_id,
        &registered.user.id,
    )
    .await
    .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, "google");
    assert_eq!(links[0].subject, FakeIdentity::default().sub);
    // The password still works too.
    f.auth
        .login(
            Credentials {
                email: "ada.lovelace@example.com".into(),
                password: "correct horse battery".into(),
                tenant_id: None,
            },
            &ctx(),
        )
        .await
        .unwrap();
    // And the next Google sign-in goes by the link.
    assert_eq!(sign_in(&f.auth).await.unwrap().user.id, registered.user.id);
    assert_eq!(user_count(&f.auth).await, 1);
}

async fn concurrent_first_sign_ins_make_one_user(backend: Backend) {
    let f = fixture(backend).await;
    let mut callbacks = Vec::new();
    for _ in 0..4 {
        callbacks.push(authorize(&f.auth).await);
    }
    let tasks: Vec<_> = callbacks
        .into_iter()
        .map(|callback| {
            let auth = f.auth.clone();
            tokio::spawn(async move { auth.complete_external_sign_in(callback, &ctx()).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().expect("every sign-in succeeds").user.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one user: {ids:?}");
    assert_eq!(user_count(&f.auth).await, 1);
}

async fn refused_with(backend: Backend, tamper: Tamper, code: &str) {
    let f = fixture(backend).await;
    f.provider.tamper_next_token(tamper.clone());
    assert_refused(sign_in(&f.auth).await, code);
    assert_eq!(user_count(&f.auth).await, 0, "{tamper:?} created no user");
    // The same flow with a sound token then succeeds: the refusal was the tamper's.
    let session = sign_in(&f.auth).await.unwrap();
    // The failure is audited by its code, without the token's contents.
    let logins = audit(&f.auth, &session.user.tenant_id, "login").await;
    let failures: Vec<_> = logins.iter().filter(|e| e.outcome == "failure").collect();
    assert_eq!(failures.len(), 1, "{logins:?}");
    assert_eq!(failures[0].detail, format!("google: {code}"));
    assert_eq!(failures[0].actor_id, "");
}

async fn forged_id_token_is_refused(backend: Backend) {
    refused_with(backend, Tamper::Forged, "id_token_invalid").await;
}

async fn wrong_nonce_is_refused(backend: Backend) {
    refused_with(backend, Tamper::WrongNonce, "nonce_mismatch").await;
}

async fn unverified_email_is_refused(backend: Backend) {
    refused_with(backend, Tamper::EmailUnverified, "email_not_verified").await;
    // An unverified address never links to the account registered with it either.
    let f = fixture(backend).await;
    let registered = f
        .auth
        .register(registration("ada.lovelace@example.com"), &ctx())
        .await
        .unwrap();
    f.provider.set_identity(FakeIdentity {
        email_verified: false,
        ..FakeIdentity::default()
    });
    assert_refused(sign_in(&f.auth).await, "email_not_verified");
    let links = marquee_auth::store::oidc::identities_of(
        f.auth.db(),
        &registered.user.tenant_id,
        &registered.user.id,
    )
    .await
    .unwrap();
    assert!(links.is_empty());
    let failures = audit(&f.auth, &registered.user.tenant_id, "login").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].outcome, "failure");
    assert_eq!(failures[0].detail, "google: email_not_verified");
}

async fn expired_id_token_is_refused(backend: Backend) {
    refused_with(backend, Tamper::Expired, "id_token_invalid").await;
}

async fn wrong_audience_is_refused(backend: Backend) {
    refused_with(backend, Tamper::WrongAudience, "id_token_invalid").await;
}

async fn other_spoiled_id_tokens_are_refused(backend: Backend) {
    let f = fixture(backend).await;
    let mut future_iat = serde_json::Map::new();
    future_iat.insert(
        "iat".into(),
        serde_json::json!(chrono::Utc::now().timestamp() + 3600),
    );
    let mut empty_sub = serde_json::Map::new();
    empty_sub.insert("sub".into(), serde_json::json!(""));
    let mut foreign_azp = serde_json::Map::new();
    foreign_azp.insert("azp".into(), serde_json::json!("another-client"));
    let mut odd_verified = serde_json::Map::new();
    odd_verified.insert("email_verified".into(), serde_json::json!("yes"));
    let mut bad_email = serde_json::Map::new();
    bad_email.insert("email".into(), serde_json::json!("not an address"));
    for (tamper, code) in [
        (Tamper::NoNonce, "nonce_mismatch"),
        (Tamper::NoEmail, "id_token_invalid"),
        (Tamper::ExtraAudienceWithoutAzp, "id_token_invalid"),
        (Tamper::WrongIssuer, "id_token_invalid"),
        (Tamper::NoIat, "id_token_invalid"),
        (Tamper::Unsigned, "id_token_invalid"),
        (Tamper::SymmetricWithPublicKey, "id_token_invalid"),
        (Tamper::UnknownKid, "id_token_invalid"),
        (Tamper::Claims(future_iat), "id_token_invalid"),
        (Tamper::Claims(empty_sub), "id_token_invalid"),
        (Tamper::Claims(foreign_azp), "id_token_invalid"),
        (Tamper::Claims(odd_verified), "email_not_verified"),
        (Tamper::Claims(bad_email), "id_token_invalid"),
    ] {
        f.provider.tamper_next_token(tamper.clone());
        let result = sign_in(&f.auth).await;
        assert!(
            matches!(&result, Err(AuthError::ExternalSignIn { code: got, .. }) if *got == code),
            "{tamper:?}: {:?}",
            result.as_ref().err()
        );
    }
    assert_eq!(user_count(&f.auth).await, 0);
}

async fn sound_variants_of_id_tokens_are_accepted(backend: Backend) {
    let f = fixture(backend).await;
    let first = sign_in(&f.auth).await.unwrap();
    for tamper in [
        Tamper::EmailVerifiedAsString,
        Tamper::ExtraAudienceWithAzp,
        Tamper::Es256,
    ] {
        f.provider.tamper_next_token(tamper.clone());
        let session = sign_in(&f.auth)
            .await
            .unwrap_or_else(|error| panic!("{tamper:?}: {error:?}"));
        assert_eq!(session.user.id, first.user.id);
    }
}

async fn state_is_single_use(backend: Backend) {
    let f = fixture(backend).await;
    let callback = authorize(&f.auth).await;
    f.auth
        .complete_external_sign_in(callback.clone(), &ctx())
        .await
        .unwrap();
    assert_refused(
        f.auth.complete_external_sign_in(callback, &ctx()).await,
        "state_invalid",
    );

    // A completion that fails still uses the state up.
    let callback = authorize(&f.auth).await;
    let wrong = ExternalCallback {
        redirect_uri: OTHER_REDIRECT.into(),
        ..callback.clone()
    };
    assert_refused(
        f.auth.complete_external_sign_in(wrong, &ctx()).await,
        "redirect_uri_mismatch",
    );
    assert_refused(
        f.auth.complete_external_sign_in(callback, &ctx()).await,
        "state_invalid",
    );

    // Of concurrent completions with one state, one wins.
    let callback = authorize(&f.auth).await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let auth = f.auth.clone();
            let callback = callback.clone();
            tokio::spawn(async move { auth.complete_external_sign_in(callback, &ctx()).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            refused => assert_refused(refused, "state_invalid"),
        }
    }
    assert_eq!(won, 1);
}

async fn unknown_state_is_refused(backend: Backend) {
    let f = fixture(backend).await;
    let callback = authorize(&f.auth).await;
    for state in [
        "made-up-state".to_string(),
        String::new(),
        "s".repeat(100_000),
        format!("{}x", callback.state),
        "state\0with\u{7}controls".to_string(),
    ] {
        let forged = ExternalCallback {
            state,
            ..callback.clone()
        };
        assert_refused(
            f.auth.complete_external_sign_in(forged, &ctx()).await,
            "state_invalid",
        );
    }
    assert!(
        f.provider.token_requests().is_empty(),
        "no code is exchanged without a known state"
    );
    // The real one is untouched by the attempts.
    f.auth
        .complete_external_sign_in(callback, &ctx())
        .await
        .unwrap();
}

async fn expired_sign_in_is_refused_and_cleared(backend: Backend) {
    use marquee_auth::store::entities::oidc_sign_in;
    use sea_orm::sea_query::Expr;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let f = fixture(backend).await;
    let callback = authorize(&f.auth).await;
    let stale = authorize(&f.auth).await;
    // Both were begun eleven minutes ago.
    oidc_sign_in::Entity::update_many()
        .col_expr(
            oidc_sign_in::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::TimeDelta::minutes(1)),
        )
        .exec(f.auth.db())
        .await
        .unwrap();
    match f.auth.complete_external_sign_in(callback, &ctx()).await {
        Err(AuthError::ExternalSignIn { code, message }) => {
            assert_eq!(code, "state_invalid");
            assert!(message.contains("expired"), "{message}");
        }
        other => panic!("{:?}", other.err()),
    }
    // The next sign-in to begin clears what expired.
    let fresh = f
        .auth
        .begin_external_sign_in(GOOGLE, REDIRECT)
        .await
        .unwrap();
    let rows = oidc_sign_in::Entity::find()
        .count(f.auth.db())
        .await
        .unwrap();
    assert_eq!(rows, 1, "only the fresh sign-in is left");
    assert_refused(
        f.auth.complete_external_sign_in(stale, &ctx()).await,
        "state_invalid",
    );
    assert!(!fresh.state.is_empty());
}

async fn unconfigured_redirect_uri_is_refused_at_begin(backend: Backend) {
    let f = fixture(backend).await;
    for redirect_uri in [
        "https://evil.example.com/api/v1/auth/google/callback",
        "http://localhost:8080/api/v1/auth/google/callback/",
        "http://localhost:8080/api/v1/auth/google/callback?next=/admin",
        "HTTP://localhost:8080/api/v1/auth/google/callback",
        "",
    ] {
        match f.auth.begin_external_sign_in(GOOGLE, redirect_uri).await {
            Err(AuthError::Invalid { code, .. }) => assert_eq!(code, "invalid_redirect_uri"),
            other => panic!("{redirect_uri:?}: {:?}", other.map(|b| b.authorization_url)),
        }
    }
    let status = AuthGrpc::new(f.auth.clone())
        .begin_external_sign_in(anonymous(pb::BeginExternalSignInRequest {
            provider: "google".into(),
            redirect_uri: "https://evil.example.com/cb".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    // Both configured ones are accepted.
    for redirect_uri in [REDIRECT, OTHER_REDIRECT] {
        f.auth
            .begin_external_sign_in(GOOGLE, redirect_uri)
            .await
            .unwrap();
    }
}

async fn mismatched_redirect_uri_is_refused_at_complete(backend: Backend) {
    let f = fixture(backend).await;
    let callback = authorize(&f.auth).await;
    let mismatched = ExternalCallback {
        redirect_uri: OTHER_REDIRECT.into(),
        ..callback
    };
    assert_refused(
        f.auth.complete_external_sign_in(mismatched, &ctx()).await,
        "redirect_uri_mismatch",
    );
    assert!(f.provider.token_requests().is_empty());
}

async fn unconfigured_provider_is_a_failed_precondition(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let grpc = AuthGrpc::new(auth.clone());
    let providers = grpc
        .list_sign_in_providers(anonymous(pb::ListSignInProvidersRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(providers.providers.is_empty());

    let begin = grpc
        .begin_external_sign_in(anonymous(pb::BeginExternalSignInRequest {
            provider: "google".into(),
            redirect_uri: REDIRECT.into(),
        }))
        .await
        .unwrap_err();
    let complete = grpc
        .complete_external_sign_in(anonymous(pb::CompleteExternalSignInRequest {
            provider: "google".into(),
            state: "whatever".into(),
            code: "whatever".into(),
            redirect_uri: REDIRECT.into(),
            client_ip: String::new(),
            user_agent: String::new(),
        }))
        .await
        .unwrap_err();
    for status in [begin, complete] {
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let error = marquee_platform::Error::from_status(&status);
        assert_eq!(error.code, "provider_not_configured");
        assert_eq!(error.kind, ErrorKind::FailedPrecondition);
        assert!(
            error.message.contains("not configured"),
            "{}",
            error.message
        );
    }

    // A provider nobody knows is bad input, configured or not.
    let unknown = grpc
        .begin_external_sign_in(anonymous(pb::BeginExternalSignInRequest {
            provider: "facebook".into(),
            redirect_uri: REDIRECT.into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        marquee_platform::Error::from_status(&unknown).code,
        "unknown_provider"
    );
}

async fn passwordless_user_cannot_log_in_with_a_password(backend: Backend) {
    // Every attempt must meet the password check, not the throttle.
    let f = fixture_with(backend, |settings| {
        settings.throttle.source_free_failures = 100;
    })
    .await;
    let session = sign_in(&f.auth).await.unwrap();
    for password in [
        "",
        "!no-password",
        "!",
        "correct horse battery",
        session.refresh_token.as_str(),
    ] {
        let result = f
            .auth
            .login(
                Credentials {
                    email: session.user.email.clone(),
                    password: password.to_string(),
                    tenant_id: None,
                },
                &ctx(),
            )
            .await;
        assert!(
            matches!(result, Err(AuthError::InvalidCredentials)),
            "{password:?}: {:?}",
            result.map(|s| s.user.id)
        );
    }
    // Google still signs them in.
    assert_eq!(sign_in(&f.auth).await.unwrap().user.id, session.user.id);
}

async fn a_throttled_source_cannot_sign_in_with_google_either(backend: Backend) {
    let f = fixture(backend).await;
    f.auth
        .register(registration("ada.lovelace@example.com"), &ctx())
        .await
        .unwrap();
    for _ in 0..3 {
        let _ = f
            .auth
            .login(
                Credentials {
                    email: "ada.lovelace@example.com".into(),
                    password: "wrong password!".into(),
                    tenant_id: None,
                },
                &ctx(),
            )
            .await;
    }
    match sign_in(&f.auth).await {
        Err(AuthError::TooManyAttempts { retry_after_secs }) => assert!(retry_after_secs > 0),
        other => panic!("expected the wait, got {:?}", other.map(|s| s.user.id)),
    }
    // From elsewhere Google signs the owner in (the account itself is not locked).
    let callback = authorize(&f.auth).await;
    let session = f
        .auth
        .complete_external_sign_in(callback, &ctx_from("198.51.100.20"))
        .await
        .expect("signed in from another source");
    assert_eq!(session.user.email, "ada.lovelace@example.com");
}

async fn token_endpoint_failures_are_refused(backend: Backend) {
    let f = fixture(backend).await;
    f.provider.fail_next_token_request(500);
    match sign_in(&f.auth).await {
        Err(AuthError::ProviderUnavailable) => {}
        other => panic!("{:?}", other.map(|s| s.user.id)),
    }
    f.provider.fail_next_token_request(400);
    assert_refused(sign_in(&f.auth).await, "external_sign_in_failed");
    // A code the provider never issued (or one used already).
    let callback = authorize(&f.auth).await;
    let made_up = ExternalCallback {
        code: "not-a-code".into(),
        ..callback
    };
    assert_refused(
        f.auth.complete_external_sign_in(made_up, &ctx()).await,
        "external_sign_in_failed",
    );
    let callback = authorize(&f.auth).await;
    let empty = ExternalCallback {
        code: String::new(),
        ..callback
    };
    assert_refused(
        f.auth.complete_external_sign_in(empty, &ctx()).await,
        "external_sign_in_failed",
    );
}

async fn discovery_and_jwks_are_cached_and_a_rotated_key_is_fetched(backend: Backend) {
    let f = fixture_with(backend, |settings| settings.oidc_jwks_min_refetch_secs = 0).await;
    let first = sign_in(&f.auth).await.unwrap();
    sign_in(&f.auth).await.unwrap();
    assert_eq!(f.provider.discovery_fetches(), 1);
    assert_eq!(f.provider.jwks_fetches(), 1);
    // The provider rotates: the new kid is not cached, so the JWKS is fetched again.
    f.provider.rotate_key();
    let after = sign_in(&f.auth).await.unwrap();
    assert_eq!(after.user.id, first.user.id);
    assert_eq!(f.provider.jwks_fetches(), 2);
    // A token under the old key, no longer published, is refused.
    f.provider.tamper_next_token(Tamper::Forged);
    assert_refused(sign_in(&f.auth).await, "id_token_invalid");
    assert_eq!(f.provider.discovery_fetches(), 1);
}

async fn unknown_kids_refetch_the_jwks_at_most_once_per_interval(backend: Backend) {
    let f = fixture(backend).await;
    sign_in(&f.auth).await.unwrap();
    assert_eq!(f.provider.jwks_fetches(), 1);
    for _ in 0..3 {
        f.provider.tamper_next_token(Tamper::UnknownKid);
        assert_refused(sign_in(&f.auth).await, "id_token_invalid");
    }
    assert_eq!(
        f.provider.jwks_fetches(),
        1,
        "unknown kids within 10 s of a fetch do not refetch"
    );
}

async fn provider_endpoints_must_be_https_except_loopback(backend: Backend) {
    for issuer in [
        "http://accounts.example.com",
        "http://10.1.2.3:8080",
        "ftp://accounts.example.com",
        "not a url",
    ] {
        let guard = TestDb::create(backend, "auth").await;
        let mut settings = settings();
        settings.data_dir = guard.data_dir().to_path_buf();
        settings.database_url = guard
            .postgres_url()
            .map(marquee_platform::SecretString::from);
        settings.oidc_google_client_id = Some(CLIENT_ID.into());
        settings.oidc_google_issuer = issuer.into();
        let db = marquee_auth::open_database(&settings).await.unwrap();
        match Auth::start(db, settings).await {
            Err(AuthError::Invalid { code, message }) => {
                assert_eq!(code, "invalid_settings");
                assert!(message.contains("oidc_google_issuer"), "{message}");
            }
            Err(other) => panic!("{issuer}: {other:?}"),
            Ok(_) => panic!("{issuer} was accepted"),
        }
    }

    // Discovery that points an endpoint at plain http off loopback, or that names
    // another issuer, or that is too large, is not used.
    for (field, value) in [
        (
            "token_endpoint",
            serde_json::json!("http://idp.example.com/token"),
        ),
        ("jwks_uri", serde_json::json!("http://idp.example.com/jwks")),
        (
            "authorization_endpoint",
            serde_json::json!("javascript:alert(1)"),
        ),
        ("issuer", serde_json::json!("https://accounts.google.com")),
        ("padding", serde_json::json!("x".repeat(1024 * 1024 + 1))),
    ] {
        let f = fixture(backend).await;
        f.provider.override_discovery(field, value);
        match f.auth.begin_external_sign_in(GOOGLE, REDIRECT).await {
            Err(AuthError::ProviderUnavailable) => {}
            other => panic!("{field}: {:?}", other.map(|b| b.authorization_url)),
        }
    }
}
