use super::{ctx, settings, start};
use marquee_auth::domain::audit::AuditQuery;
use marquee_auth::domain::clients::NewClient;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    client_credentials_grant_issues_only_granted_scopes,
    sandbox_clients_live_in_sandbox_tenants,
    rotating_the_secret_retires_the_old_one
);

fn new_client(environment: &str, scopes: &[&str]) -> NewClient {
    NewClient {
        name: "Partner".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        environment: environment.into(),
        rate_tier: "standard".into(),
        tenant_id: None,
    }
}

async fn client_credentials_grant_issues_only_granted_scopes(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let tenant = auth.list_tenants().await.unwrap().remove(0);
    let (client, secret) = auth
        .create_client(
            "admin",
            &tenant.id,
            new_client("live", &["assets:read", "billing:read"]),
            &ctx(),
        )
        .await
        .unwrap();
    assert!(
        !client.secret_hash.contains(&secret),
        "secret is stored hashed"
    );

    let token = auth
        .issue_client_token(&client.id, &secret, "", &ctx())
        .await
        .unwrap();
    assert_eq!(token.scope, "assets:read billing:read");
    let narrowed = auth
        .issue_client_token(&client.id, &secret, "assets:read", &ctx())
        .await
        .unwrap();
    assert_eq!(narrowed.scope, "assets:read");
    assert!(matches!(
        auth.issue_client_token(&client.id, &secret, "assets:write", &ctx())
            .await,
        Err(AuthError::InvalidScope(_))
    ));
    assert!(matches!(
        auth.issue_client_token(&client.id, "mqs_wrong", "", &ctx())
            .await,
        Err(AuthError::InvalidClient)
    ));

    auth.revoke_client("admin", &tenant.id, &client.id, &ctx())
        .await
        .unwrap();
    assert!(matches!(
        auth.issue_client_token(&client.id, &secret, "", &ctx())
            .await,
        Err(AuthError::InvalidClient)
    ));
}

async fn sandbox_clients_live_in_sandbox_tenants(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let live_tenant = auth.list_tenants().await.unwrap().remove(0);
    let (client, _) = auth
        .create_client(
            "admin",
            &live_tenant.id,
            new_client("sandbox", &["assets:read"]),
            &ctx(),
        )
        .await
        .unwrap();
    assert_ne!(client.tenant_id, live_tenant.id);
    let tenants = auth.list_tenants().await.unwrap();
    let sandbox = tenants.iter().find(|t| t.id == client.tenant_id).unwrap();
    assert!(sandbox.sandbox);
    assert_eq!(sandbox.slug, "default-sandbox");

    // A live client cannot be placed in a sandbox tenant.
    let mut misplaced = new_client("live", &["assets:read"]);
    misplaced.tenant_id = Some(sandbox.id.clone());
    assert!(matches!(
        auth.create_client("admin", &live_tenant.id, misplaced, &ctx())
            .await,
        Err(AuthError::Invalid {
            code: "environment_mismatch",
            ..
        })
    ));
}

async fn rotating_the_secret_retires_the_old_one(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let tenant = auth.list_tenants().await.unwrap().remove(0);
    let (client, old) = auth
        .create_client(
            "admin",
            &tenant.id,
            new_client("live", &["assets:read", "billing:read"]),
            &ctx(),
        )
        .await
        .unwrap();
    auth.issue_client_token(&client.id, &old, "", &ctx())
        .await
        .unwrap();

    let (rotated, new) = auth
        .rotate_client_secret("admin", &tenant.id, &client.id, &ctx())
        .await
        .unwrap();
    assert_ne!(new, old);
    assert!(new.starts_with("mqs_"));
    assert!(!rotated.secret_hash.contains(&new), "stored hashed");
    assert_ne!(rotated.secret_hash, client.secret_hash);
    // Everything but the secret is kept, and stored as answered.
    let stored = auth.client(&client.id).await.unwrap();
    assert_eq!(stored, rotated);
    assert_eq!(
        (
            &stored.id,
            &stored.name,
            &stored.scopes,
            &stored.environment
        ),
        (
            &client.id,
            &client.name,
            &client.scopes,
            &client.environment
        )
    );
    assert_eq!(
        (&stored.rate_tier, stored.created_at, stored.revoked_at),
        (&client.rate_tier, client.created_at, None)
    );
    assert!(matches!(
        auth.issue_client_token(&client.id, &old, "", &ctx()).await,
        Err(AuthError::InvalidClient)
    ));
    let token = auth
        .issue_client_token(&client.id, &new, "", &ctx())
        .await
        .unwrap();
    assert_eq!(token.scope, "assets:read billing:read");

    let (audit, _) = auth
        .list_audit(
            &tenant.id,
            AuditQuery {
                action: Some("client_secret_rotated".into()),
                actor_id: None,
                outcome: None,
                since: None,
                until: None,
                limit: 0,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, "admin");
    assert!(audit[0].detail.contains(&client.id));
    assert!(!audit[0].detail.contains(&new), "the secret is not logged");

    // Unknown and malformed ids; a revoked client stays without a working secret.
    assert!(matches!(
        auth.rotate_client_secret("admin", &tenant.id, "mqc_unknown", &ctx())
            .await,
        Err(AuthError::NotFound(_))
    ));
    assert!(matches!(
        auth.rotate_client_secret("admin", &tenant.id, "mqc_\0", &ctx())
            .await,
        Err(AuthError::Invalid {
            code: "invalid_id",
            ..
        })
    ));
    auth.revoke_client("admin", &tenant.id, &client.id, &ctx())
        .await
        .unwrap();
    assert!(matches!(
        auth.rotate_client_secret("admin", &tenant.id, &client.id, &ctx())
            .await,
        Err(AuthError::Conflict {
            code: "client_revoked",
            ..
        })
    ));
    assert!(matches!(
        auth.issue_client_token(&client.id, &new, "", &ctx()).await,
        Err(AuthError::InvalidClient)
    ));
}
