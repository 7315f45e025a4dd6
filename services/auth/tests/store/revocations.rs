use super::{ctx, registration, settings, start};
use marquee_auth::domain::revocations::Revoked;
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    ending_sessions_records_revocations_the_gateway_polls,
    a_disabled_user_cannot_sign_in_or_refresh_until_enabled,
);

fn sid(access_token: &str) -> String {
    use base64::Engine;
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_string()
}

async fn ending_sessions_records_revocations_the_gateway_polls(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    assert!(
        auth.revocations_since(None)
            .await
            .unwrap()
            .revocations
            .is_empty()
    );

    let session = auth
        .register(registration("ada@example.com"), &ctx())
        .await
        .unwrap();
    let family = sid(&session.access_token);
    let refreshed = auth.refresh(&session.refresh_token, &ctx()).await.unwrap();
    assert_eq!(
        sid(&refreshed.access_token),
        family,
        "a refresh keeps the session id"
    );

    let first = auth.revocations_since(None).await.unwrap();
    auth.logout(&refreshed.refresh_token, &ctx()).await.unwrap();
    let page = auth.revocations_since(None).await.unwrap();
    assert_eq!(page.revocations.len(), 1);
    assert_eq!(page.revocations[0].revoked, Revoked::Session(family));
    assert!(page.revocations[0].expires_at > chrono::Utc::now());
    // Polling from the previous cursor finds it too (the cursor looks back).
    let since = auth.revocations_since(Some(first.as_of)).await.unwrap();
    assert_eq!(since.revocations.len(), 1);

    // Refresh-token reuse revokes the family's session.
    let other = auth
        .register(registration("bo@example.com"), &ctx())
        .await
        .unwrap();
    auth.refresh(&other.refresh_token, &ctx()).await.unwrap();
    assert!(matches!(
        auth.refresh(&other.refresh_token, &ctx()).await,
        Err(AuthError::RefreshTokenReused)
    ));
    let revoked: Vec<_> = auth
        .revocations_since(None)
        .await
        .unwrap()
        .revocations
        .into_iter()
        .map(|r| r.revoked)
        .collect();
    assert!(revoked.contains(&Revoked::Session(sid(&other.access_token))));

    // An admin ending all of a user's sessions revokes the subject.
    let admin = auth
        .register(registration("root@example.com"), &ctx())
        .await
        .unwrap();
    let ended = auth
        .revoke_user_sessions(
            &admin.user.id,
            &other.user.tenant_id,
            &other.user.id,
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(ended, 0, "the reused family was already revoked");
    let revoked: Vec<_> = auth
        .revocations_since(None)
        .await
        .unwrap()
        .revocations
        .into_iter()
        .map(|r| r.revoked)
        .collect();
    assert!(revoked.contains(&Revoked::Subject(other.user.id.clone())));
    assert!(matches!(
        auth.revoke_user_sessions(&admin.user.id, &other.user.tenant_id, "nobody", &ctx())
            .await,
        Err(AuthError::NotFound("user"))
    ));
}

async fn a_disabled_user_cannot_sign_in_or_refresh_until_enabled(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let admin = auth
        .register(registration("root@example.com"), &ctx())
        .await
        .unwrap();
    let session = auth
        .register(registration("dee@example.com"), &ctx())
        .await
        .unwrap();
    let tenant = session.user.tenant_id.clone();
    let credentials = || Credentials {
        email: "dee@example.com".into(),
        password: "correct horse battery".into(),
        tenant_id: None,
    };

    let disabled = auth
        .set_user_disabled(&admin.user.id, &tenant, &session.user.id, true, &ctx())
        .await
        .unwrap();
    assert!(disabled.disabled_at.is_some());
    assert!(matches!(
        auth.login(credentials(), &ctx()).await,
        Err(AuthError::Refused {
            code: "account_disabled",
            ..
        })
    ));
    assert!(matches!(
        auth.refresh(&session.refresh_token, &ctx()).await,
        Err(AuthError::RefreshTokenInvalid)
    ));
    assert!(matches!(
        auth.set_user_disabled(&admin.user.id, &tenant, &admin.user.id, true, &ctx())
            .await,
        Err(AuthError::Invalid {
            code: "cannot_disable_self",
            ..
        })
    ));
    assert!(matches!(
        auth.set_user_disabled(
            &admin.user.id,
            "another-tenant",
            &session.user.id,
            true,
            &ctx()
        )
        .await,
        Err(AuthError::NotFound("user"))
    ));

    let enabled = auth
        .set_user_disabled(&admin.user.id, &tenant, &session.user.id, false, &ctx())
        .await
        .unwrap();
    assert!(enabled.disabled_at.is_none());
    auth.login(credentials(), &ctx()).await.unwrap();
}
