use super::{ctx, settings, start};
use marquee_auth::domain::clients::NewClient;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    client_credentials_grant_issues_only_granted_scopes,
    sandbox_clients_live_in_sandbox_tenants
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
