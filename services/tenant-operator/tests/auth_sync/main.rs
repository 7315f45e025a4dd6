//! The operator's sync to a real auth service, started here on SQLite and on PostgreSQL,
//! over gRPC with signed service identities: a `Tenant` becomes the auth tenant of its
//! slug with its plan and feature flags, a second pass changes nothing, a changed spec
//! replaces the flags, deletion disables (never deletes), a tenant an admin created first
//! is adopted, and neither another service nor an untrusted operator key gets in.

use kube::api::ObjectMeta;
use marquee_auth::AuthSettings;
use marquee_clients::AuthClient;
use marquee_platform::SecretString;
use marquee_platform::grpc;
use marquee_platform::service_identity::ServiceIdentity;
use marquee_platform::shutdown::CancellationToken;
use marquee_proto::auth::v1 as pb;
use marquee_tenant_operator::clients::auth::AuthDirectory;
use marquee_tenant_operator::controller::TenantDirectory;
use marquee_tenant_operator::domain::tenant::{Isolation, Plan};
use marquee_tenant_operator::{Tenant, TenantSpec};
use marquee_testkit::{Backend, TestDb};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

marquee_testkit::on_both_backends!(
    sync_creates_updates_and_disables_the_auth_tenant,
    an_existing_tenant_is_adopted_and_strangers_are_refused,
);

/// Key-encryption key for auth's signing keys (32 bytes, base64).
const TEST_KEK: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

struct RunningAuth {
    url: String,
    stop: CancellationToken,
    _db: TestDb,
}

impl Drop for RunningAuth {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Auth on a fresh database of `backend`, trusting `callers`, serving on a free port.
async fn start_auth(backend: Backend, callers: &[&ServiceIdentity]) -> RunningAuth {
    let db = TestDb::create(backend, "operator_auth").await;
    let mut settings = AuthSettings {
        data_dir: db.data_dir().to_path_buf(),
        database_url: db.postgres_url().map(SecretString::from),
        ..AuthSettings::default()
    };
    settings.kek.key = Some(SecretString::from(TEST_KEK));
    settings.common.identity.trusted = callers
        .iter()
        .map(|caller| {
            (
                caller.service().to_string(),
                caller.public_key().to_string(),
            )
        })
        .collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(marquee_auth::serve(settings, listener, stop.clone()));
    let auth = RunningAuth { url, stop, _db: db };
    // Up once it answers the health protocol (migrations first).
    let health = tonic_health::pb::health_client::HealthClient::new(
        tonic::transport::Channel::from_shared(auth.url.clone())
            .unwrap()
            .connect_lazy(),
    );
    marquee_testkit::wait_until(Duration::from_secs(60), "auth serving", || {
        let mut health = health.clone();
        async move {
            health
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .is_ok_and(|r| r.into_inner().status == 1)
        }
    })
    .await;
    auth
}

fn tenant(name: &str, plan: Plan, flags: &[(&str, bool)]) -> Tenant {
    let mut tenant = Tenant::new(
        name,
        TenantSpec {
            display_name: "Acme Corp".into(),
            plan,
            isolation: Isolation::Shared,
            resource_quota: None,
            limit_range: None,
            feature_flags: flags
                .iter()
                .map(|(name, on)| (name.to_string(), *on))
                .collect::<BTreeMap<_, _>>(),
            admin_emails: vec![],
            dedicated_replicas: BTreeMap::new(),
        },
    );
    tenant.metadata = ObjectMeta {
        name: Some(name.into()),
        uid: Some("3f1c2a9e-0000-4000-8000-000000000001".into()),
        generation: Some(1),
        ..ObjectMeta::default()
    };
    tenant
}

/// What auth holds for `slug`, read as the operator: (tenant, flags).
async fn read(
    auth: &AuthClient,
    slug: &str,
) -> Option<(pb::Tenant, HashMap<String, serde_json::Value>)> {
    let tenants = auth
        .grpc()
        .list_tenants(grpc::anonymous(pb::ListTenantsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .tenants;
    let found = tenants.into_iter().find(|t| t.slug == slug)?;
    let flags = auth
        .grpc()
        .get_tenant_flags(grpc::anonymous(pb::GetTenantFlagsRequest {
            tenant_id: found.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .flags
        .into_iter()
        .map(|(name, value)| {
            let value = match value.value {
                Some(pb::flag_value::Value::BoolValue(on)) => json!(on),
                Some(pb::flag_value::Value::StringValue(text)) => json!(text),
                None => serde_json::Value::Null,
            };
            (name, value)
        })
        .collect();
    Some((found, flags))
}

fn flags(pairs: &[(&str, serde_json::Value)]) -> HashMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect()
}

async fn count_tenants(auth: &AuthClient) -> usize {
    auth.grpc()
        .list_tenants(grpc::anonymous(pb::ListTenantsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .tenants
        .len()
}

async fn sync_creates_updates_and_disables_the_auth_tenant(backend: Backend) {
    let operator = ServiceIdentity::generate("tenant-operator");
    let auth = start_auth(backend, &[&operator]).await;
    let directory = AuthDirectory::connect_lazy(&auth.url, operator.clone()).unwrap();
    let reader = AuthClient::connect_lazy(&auth.url, operator).unwrap();

    let acme = tenant(
        "acme",
        Plan::Business,
        &[("video.export", true), ("beta_ui", false)],
    );
    directory.sync(&acme).await.unwrap();
    let (created, held) = read(&reader, "acme").await.expect("the tenant was created");
    assert_eq!(created.name, "Acme Corp");
    assert!(!created.sandbox);
    assert_eq!(
        held,
        flags(&[
            ("video.export", json!(true)),
            ("beta_ui", json!(false)),
            ("plan", json!("business")),
            ("disabled", json!(false)),
        ])
    );

    // A second pass: the same tenant (no second one), the same flags.
    let before = count_tenants(&reader).await;
    directory.sync(&acme).await.unwrap();
    assert_eq!(count_tenants(&reader).await, before);
    let (again, held_again) = read(&reader, "acme").await.unwrap();
    assert_eq!(again.id, created.id);
    assert_eq!(held_again, held);

    // A changed spec: the flags are replaced (beta_ui is gone, the plan changed).
    let changed = tenant("acme", Plan::Pro, &[("video.export", false)]);
    directory.sync(&changed).await.unwrap();
    let (_, held) = read(&reader, "acme").await.unwrap();
    assert_eq!(
        held,
        flags(&[
            ("video.export", json!(false)),
            ("plan", json!("pro")),
            ("disabled", json!(false)),
        ])
    );

    // Deleted: disabled, not deleted.
    directory.disable(&changed).await.unwrap();
    let (kept, held) = read(&reader, "acme").await.expect("the tenant stays");
    assert_eq!(kept.id, created.id);
    assert_eq!(held["disabled"], json!(true));
    assert_eq!(held["plan"], json!("pro"));

    // Disabling a tenant auth never had is nothing to do.
    directory
        .disable(&tenant("never-synced", Plan::Free, &[]))
        .await
        .unwrap();
    assert!(read(&reader, "never-synced").await.is_none());
}

async fn an_existing_tenant_is_adopted_and_strangers_are_refused(backend: Backend) {
    let operator = ServiceIdentity::generate("tenant-operator");
    let content = ServiceIdentity::generate("content");
    let auth = start_auth(backend, &[&operator, &content]).await;
    let reader = AuthClient::connect_lazy(&auth.url, operator.clone()).unwrap();

    // An admin made `globex` before it was declared as a resource.
    let made = reader
        .grpc()
        .create_tenant(grpc::anonymous(pb::CreateTenantRequest {
            name: "Globex (by hand)".into(),
            slug: "globex".into(),
            sandbox: false,
            client: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let directory = AuthDirectory::connect_lazy(&auth.url, operator).unwrap();
    directory
        .sync(&tenant("globex", Plan::Pro, &[]))
        .await
        .unwrap();
    let (adopted, held) = read(&reader, "globex").await.unwrap();
    assert_eq!(adopted.id, made.id, "adopted, not created twice");
    assert_eq!(held["plan"], json!("pro"));

    // Another trusted service acting as itself is not a tenant administrator.
    let stranger = AuthClient::connect_lazy(&auth.url, content).unwrap();
    let refused = stranger
        .grpc()
        .list_tenants(grpc::anonymous(pb::ListTenantsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");

    // An operator key auth does not trust: the sync fails, saying why.
    let impostor =
        AuthDirectory::connect_lazy(&auth.url, ServiceIdentity::generate("tenant-operator"))
            .unwrap();
    let error = impostor
        .sync(&tenant("initech", Plan::Free, &[]))
        .await
        .unwrap_err();
    assert!(error.0.contains("Unauthenticated"), "{error}");
    assert!(read(&reader, "initech").await.is_none());
}
