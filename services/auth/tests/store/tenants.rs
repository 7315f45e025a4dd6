use super::{ctx, settings, start};
use marquee_auth::domain::tenants::NewTenant;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;
use serde_json::json;

marquee_testkit::on_both_backends!(tenants_and_flags, a_disabled_tenant_starts_no_session);

async fn tenants_and_flags(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let acme = auth
        .create_tenant(
            "admin",
            NewTenant {
                name: "Acme".into(),
                slug: "acme".into(),
                sandbox: false,
            },
            &ctx(),
        )
        .await
        .unwrap();
    let duplicate = auth
        .create_tenant(
            "admin",
            NewTenant {
                name: "Acme again".into(),
                slug: "acme".into(),
                sandbox: false,
            },
            &ctx(),
        )
        .await;
    assert!(matches!(
        duplicate,
        Err(AuthError::Conflict {
            code: "slug_taken",
            ..
        })
    ));

    let flags = json!({"auto_approve_assets": true, "campaign_model": "gemini-2.5-flash"});
    let saved = auth
        .set_tenant_flags(
            "admin",
            &acme.id,
            flags.as_object().unwrap().clone(),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(saved["auto_approve_assets"], true);
    let read = auth.tenant_flags(&acme.id).await.unwrap();
    assert_eq!(serde_json::Value::Object(read), flags);

    let bad = json!({"nested": {"no": 1}});
    assert!(matches!(
        auth.set_tenant_flags("admin", &acme.id, bad.as_object().unwrap().clone(), &ctx())
            .await,
        Err(AuthError::Invalid {
            code: "invalid_flags",
            ..
        })
    ));
    assert!(matches!(
        auth.tenant_flags("no-such-tenant").await,
        Err(AuthError::NotFound(_))
    ));
}

/// `disabled: true` (what the tenant operator sets when a Tenant resource is deleted)
/// refuses sign-in, refresh and registration; the users and the tenant stay.
async fn a_disabled_tenant_starts_no_session(backend: Backend) {
    use marquee_auth::domain::users::Credentials;
    let (auth, _db) = start(backend, settings()).await;
    let session = auth
        .register(super::registration("ada@example.com"), &ctx())
        .await
        .unwrap();
    let tenant_id = session.user.tenant_id.clone();
    let credentials = || Credentials {
        email: "ada@example.com".into(),
        password: "correct horse battery".into(),
        tenant_id: None,
    };
    let set_disabled = async |disabled: bool| {
        let flags = json!({"disabled": disabled, "plan": "business"});
        auth.set_tenant_flags(
            "service:tenant-operator",
            &tenant_id,
            flags.as_object().unwrap().clone(),
            &ctx(),
        )
        .await
    };
    set_disabled(true).await.unwrap();

    let refused = |result: Result<_, AuthError>| {
        matches!(
            result,
            Err(AuthError::Refused {
                code: "tenant_disabled",
                ..
            })
        )
    };
    assert!(refused(auth.login(credentials(), &ctx()).await.map(drop)));
    assert!(refused(
        auth.refresh(&session.refresh_token, &ctx()).await.map(drop)
    ));
    assert!(refused(
        auth.register(super::registration("bob@example.com"), &ctx())
            .await
            .map(drop)
    ));
    // Nothing was deleted: enabled again, the same account signs in, and the refresh
    // token refused while disabled was not spent.
    set_disabled(false).await.unwrap();
    auth.login(credentials(), &ctx()).await.unwrap();
    auth.refresh(&session.refresh_token, &ctx()).await.unwrap();
}
