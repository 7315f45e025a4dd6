use super::{ctx, settings, start};
use marquee_auth::domain::tenants::NewTenant;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;
use serde_json::json;

marquee_testkit::on_both_backends!(tenants_and_flags);

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
