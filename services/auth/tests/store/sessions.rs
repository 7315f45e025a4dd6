use super::{ctx, registration, settings, start};
use marquee_auth::api::AuthGrpc;
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_platform::service_identity::VerifiedCaller;
use marquee_proto::auth::v1 as pb;
use marquee_testkit::Backend;
use pb::auth_service_server::AuthService;

marquee_testkit::on_both_backends!(
    register_login_refresh_and_reuse_detection,
    duplicate_email_is_a_conflict_even_with_other_case,
    concurrent_refresh_with_one_token_succeeds_once,
    logout_revokes_the_session,
    wrong_password_and_unknown_email_fail_the_same_way,
    only_the_gateway_names_the_client_address,
);

async fn register_login_refresh_and_reuse_detection(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let registered = auth
        .register(registration("Ada@Example.com"), &ctx())
        .await
        .unwrap();
    assert_eq!(registered.user.email, "ada@example.com");
    assert_eq!(registered.user.roles, [marquee_platform::Role::Creator]);

    let login = auth
        .login(
            Credentials {
                email: "ada@example.com".into(),
                password: "correct horse battery".into(),
                tenant_id: None,
            },
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(login.user.id, registered.user.id);
    assert_ne!(login.refresh_token, registered.refresh_token);

    let refreshed = auth.refresh(&login.refresh_token, &ctx()).await.unwrap();
    assert_ne!(refreshed.refresh_token, login.refresh_token);

    // Presenting the used token again is reuse: refused, and the family is revoked.
    let reused = auth.refresh(&login.refresh_token, &ctx()).await;
    assert!(
        matches!(reused, Err(AuthError::RefreshTokenReused)),
        "{:?}",
        reused.err()
    );
    let successor = auth.refresh(&refreshed.refresh_token, &ctx()).await;
    assert!(matches!(successor, Err(AuthError::RefreshTokenInvalid)));

    // The registration's own session is another family and still works.
    auth.refresh(&registered.refresh_token, &ctx())
        .await
        .unwrap();

    let (entries, _) = auth
        .list_audit(
            &registered.user.tenant_id,
            marquee_auth::domain::audit::AuditQuery {
                action: Some("refresh_reuse_detected".into()),
                actor_id: None,
                outcome: None,
                since: None,
                until: None,
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_id, registered.user.id);
    assert_eq!(entries[0].ip, "203.0.113.7");
}

async fn duplicate_email_is_a_conflict_even_with_other_case(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    auth.register(registration("grace@example.com"), &ctx())
        .await
        .unwrap();
    let again = auth
        .register(registration(" GRACE@example.com "), &ctx())
        .await;
    assert!(matches!(again, Err(AuthError::EmailTaken)));
}

async fn concurrent_refresh_with_one_token_succeeds_once(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let session = auth
        .register(registration("linus@example.com"), &ctx())
        .await
        .unwrap();
    let attempts = (0..8).map(|_| {
        let auth = auth.clone();
        let token = session.refresh_token.clone();
        tokio::spawn(async move { auth.refresh(&token, &ctx()).await })
    });
    let results = futures_join(attempts).await;
    let successes = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(successes, 1, "exactly one concurrent refresh may win");
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

async fn logout_revokes_the_session(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let session = auth
        .register(registration("ken@example.com"), &ctx())
        .await
        .unwrap();
    auth.logout(&session.refresh_token, &ctx()).await.unwrap();
    assert!(matches!(
        auth.refresh(&session.refresh_token, &ctx()).await,
        Err(AuthError::RefreshTokenInvalid)
    ));
    // Logging out twice, or with a made-up token, is fine.
    auth.logout(&session.refresh_token, &ctx()).await.unwrap();
    auth.logout("mqr_made_up", &ctx()).await.unwrap();
}

async fn wrong_password_and_unknown_email_fail_the_same_way(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    auth.register(registration("barbara@example.com"), &ctx())
        .await
        .unwrap();
    for email in ["barbara@example.com", "nobody@example.com"] {
        let result = auth
            .login(
                Credentials {
                    email: email.into(),
                    password: "wrong password here".into(),
                    tenant_id: None,
                },
                &ctx(),
            )
            .await;
        assert!(
            matches!(result, Err(AuthError::InvalidCredentials)),
            "{email}"
        );
    }
    // A malformed address says nothing about accounts: it is refused as input, before
    // any lookup or throttle row.
    let result = auth
        .login(
            Credentials {
                email: "not an email".into(),
                password: "wrong password here".into(),
                tenant_id: None,
            },
            &ctx(),
        )
        .await;
    assert!(matches!(
        result,
        Err(AuthError::Invalid {
            code: "invalid_email",
            ..
        })
    ));
}

/// The client address in the audit log is the gateway's word; another service that
/// calls auth (content does) cannot put an address of its choosing there.
async fn only_the_gateway_names_the_client_address(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let grpc = AuthGrpc::new(auth.clone());
    let register = |email: &str, caller: &str| {
        let mut request = tonic::Request::new(pb::RegisterRequest {
            email: email.into(),
            password: "correct horse battery".into(),
            display_name: "Ada".into(),
            client: Some(pb::ClientInfo {
                ip: "198.51.100.77".into(),
                user_agent: "claimed-agent".into(),
            }),
            ..Default::default()
        });
        request
            .extensions_mut()
            .insert(std::sync::Arc::new(VerifiedCaller::assumed(caller, None)));
        request
    };
    let from_gateway = grpc
        .register(register("grace@example.com", "gateway"))
        .await
        .unwrap()
        .into_inner();
    let from_content = grpc
        .register(register("alan@example.com", "content"))
        .await
        .unwrap()
        .into_inner();

    let (entries, _) = auth
        .list_audit(
            &from_gateway.user.as_ref().unwrap().tenant_id,
            marquee_auth::domain::audit::AuditQuery {
                action: Some("register".into()),
                actor_id: None,
                outcome: None,
                since: None,
                until: None,
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    let by_actor = |id: &str| entries.iter().find(|e| e.actor_id == id).unwrap();
    let gateway_entry = by_actor(&from_gateway.user.as_ref().unwrap().id);
    assert_eq!(gateway_entry.ip, "198.51.100.77");
    assert_eq!(gateway_entry.user_agent, "claimed-agent");
    let content_entry = by_actor(&from_content.user.as_ref().unwrap().id);
    assert_eq!(content_entry.ip, "");
    assert_eq!(content_entry.user_agent, "");
}
