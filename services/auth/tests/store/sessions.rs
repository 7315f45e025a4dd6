use super::{ctx, registration, settings, start};
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    register_login_refresh_and_reuse_detection,
    duplicate_email_is_a_conflict_even_with_other_case,
    concurrent_refresh_with_one_token_succeeds_once,
    logout_revokes_the_session,
    wrong_password_and_unknown_email_fail_the_same_way,
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
