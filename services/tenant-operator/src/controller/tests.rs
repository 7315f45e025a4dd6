use super::*;
use crate::domain::fixtures::{acme, acme_shared};
use crate::domain::tenant::TenantStatus;
use api_server::{Expect, Reply, Seen, expect, serve, status_error};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{Value, json};

mod api_server;

const TENANT: &str = "/apis/marquee.dev/v1/tenants/acme";
const STATUS: &str = "/apis/marquee.dev/v1/tenants/acme/status";
const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/default/events";
const NAMESPACE: &str = "/api/v1/namespaces/tenant-acme";

/// The six applies of a namespace tenant, in order.
const APPLY_PATHS: [&str; 6] = [
    "/api/v1/namespaces/tenant-acme",
    "/api/v1/namespaces/tenant-acme/resourcequotas/tenant-quota",
    "/api/v1/namespaces/tenant-acme/limitranges/tenant-limits",
    "/apis/networking.k8s.io/v1/namespaces/tenant-acme/networkpolicies/default-deny",
    "/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-acme/roles/tenant-admin-read",
    "/apis/rbac.authorization.k8s.io/v1/namespaces/tenant-acme/rolebindings/tenant-admin-read",
];

/// Records what the operator asked of the auth service.
#[derive(Default)]
struct FakeDirectory {
    calls: Mutex<Vec<String>>,
}

impl FakeDirectory {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl TenantDirectory for FakeDirectory {
    async fn sync(&self, tenant: &Tenant) -> Result<(), DirectoryError> {
        self.calls.lock().unwrap().push(format!(
            "sync {} plan={:?} flags={}",
            tenant.name_any(),
            tenant.spec.plan,
            tenant.spec.feature_flags.len()
        ));
        Ok(())
    }

    async fn disable(&self, tenant: &Tenant) -> Result<(), DirectoryError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("disable {}", tenant.name_any()));
        Ok(())
    }
}

fn context(client: Client) -> Arc<Context<FakeDirectory>> {
    Arc::new(Context::new(
        client,
        FleetSettings::default(),
        Some(FakeDirectory::default()),
        None,
    ))
}

/// `acme` as the API server holds it once the finalizer is on.
fn acme_with_finalizer() -> Tenant {
    let mut tenant = acme();
    tenant.metadata.finalizers = Some(vec![FINALIZER.into()]);
    tenant
}

fn to_json(tenant: &Tenant) -> Value {
    serde_json::to_value(tenant).unwrap()
}

/// The tenant after a status merge patch, as the server answers it.
fn with_status(tenant: &Tenant, seen: &Seen) -> Tenant {
    let mut tenant = tenant.clone();
    tenant.status = Some(serde_json::from_value(seen.body["status"].clone()).unwrap());
    tenant
}

fn applies() -> Vec<Expect> {
    APPLY_PATHS
        .iter()
        .map(|path| expect("PATCH", *path, Reply::Echo))
        .collect()
}

/// The script of a full pass: six applies, the status patch (answered with `after`), the
/// `Applied` event.
fn full_pass(after: &Tenant) -> Vec<Expect> {
    let mut script = applies();
    script.push(expect("PATCH", STATUS, Reply::Json(200, to_json(after))));
    script.push(expect("POST", EVENTS, Reply::Echo));
    script
}

fn assert_applies(seen: &[Seen]) {
    assert_eq!(seen.len(), 6, "{seen:#?}");
    for (request, path) in seen.iter().zip(APPLY_PATHS) {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("PATCH", path)
        );
        assert_eq!(request.content_type, "application/apply-patch+yaml");
        assert_eq!(request.query["fieldManager"], "marquee-tenant-operator");
        assert_eq!(request.query["force"], "true");
        let meta = &request.body["metadata"];
        assert_eq!(
            meta["labels"]["app.kubernetes.io/managed-by"],
            "marquee-tenant-operator"
        );
        assert_eq!(meta["ownerReferences"][0]["kind"], "Tenant");
        assert_eq!(meta["ownerReferences"][0]["controller"], true);
    }
    let kinds: Vec<&str> = seen
        .iter()
        .map(|r| r.body["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ResourceQuota",
            "LimitRange",
            "NetworkPolicy",
            "Role",
            "RoleBinding"
        ]
    );
}

/// The API server's answer to deleting the tenant's namespace: it is terminating.
fn namespace_deleted() -> Expect {
    expect(
        "DELETE",
        NAMESPACE,
        Reply::Json(
            200,
            json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "tenant-acme"}, "status": {"phase": "Terminating"},
            }),
        ),
    )
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {status}"))
}

/// Runs one pass against `script`; the requests seen, the result and the context.
async fn pass(
    tenant: Tenant,
    script: Vec<Expect>,
) -> (Vec<Seen>, Result<Action, Error>, Vec<String>) {
    let (client, server) = serve(script);
    let ctx = context(client);
    let result = reconcile(Arc::new(tenant), ctx.clone()).await;
    let calls = ctx.directory.as_ref().unwrap().calls();
    drop(ctx);
    (server.await.unwrap(), result, calls)
}

#[tokio::test]
async fn create_adds_the_finalizer_then_applies_everything_and_reports_ready() {
    // A new tenant: the first pass only adds the finalizer (its patch triggers the next).
    let (seen, result, calls) = pass(
        acme(),
        vec![expect(
            "PATCH",
            TENANT,
            Reply::Json(200, to_json(&acme_with_finalizer())),
        )],
    )
    .await;
    assert_eq!(result.unwrap(), Action::await_change());
    assert!(calls.is_empty());
    assert_eq!(seen[0].content_type, "application/json-patch+json");
    assert_eq!(
        seen[0].body,
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["marquee.dev/tenant-cleanup"]},
        ])
    );

    // The pass the finalizer patch triggers: everything is applied, auth synced, status.
    let tenant = acme_with_finalizer();
    let (seen, result, calls) = pass(tenant.clone(), full_pass(&tenant)).await;
    assert_eq!(result.unwrap(), Action::requeue(RESYNC));
    assert_eq!(calls, ["sync acme plan=Business flags=1"]);
    assert_applies(&seen[..6]);
    assert_eq!(seen[0].body["metadata"]["name"], "tenant-acme");
    assert_eq!(seen[1].body["spec"]["hard"]["limits.cpu"], "8");

    let status = &seen[6];
    assert_eq!(status.content_type, "application/merge-patch+json");
    let body = &status.body["status"];
    assert_eq!(body["observedGeneration"], 1);
    assert_eq!(body["namespace"], "tenant-acme");
    let ready = condition(body, "Ready");
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("True"), &json!("Reconciled"))
    );
    assert_eq!(
        ready["message"],
        "namespace tenant-acme: 6 objects applied; auth synced"
    );
    assert_eq!(ready["observedGeneration"], 1);
    assert!(ready["lastTransitionTime"].is_string());
    assert_eq!(condition(body, "Degraded")["status"], "False");

    let event = &seen[7].body;
    assert_eq!(
        (&event["type"], &event["reason"]),
        (&json!("Normal"), &json!("Applied"))
    );
    assert_eq!(event["regarding"]["kind"], "Tenant");
    assert_eq!(event["regarding"]["name"], "acme");
    assert_eq!(event["reportingController"], "marquee-tenant-operator");
}

/// First pass, then the same tenant with the status the first pass wrote.
async fn reconciled_acme() -> (Tenant, Vec<Seen>) {
    let tenant = acme_with_finalizer();
    let (seen, result, _) = pass(tenant.clone(), full_pass(&tenant)).await;
    result.unwrap();
    (with_status(&tenant, &seen[6]), seen)
}

#[tokio::test]
async fn second_pass_makes_the_same_applies_and_no_status_change() {
    let (tenant, first) = reconciled_acme().await;
    let (seen, result, calls) = pass(tenant, applies()).await;
    assert_eq!(result.unwrap(), Action::requeue(RESYNC));
    assert_eq!(calls, ["sync acme plan=Business flags=1"]);
    // No status patch, no event: the script has only the six applies, and the server
    // fails on anything more.
    assert_applies(&seen);
    for (again, before) in seen.iter().zip(&first) {
        assert_eq!(again.body, before.body, "{}", again.path);
    }
}

#[tokio::test]
async fn a_deleted_network_policy_is_applied_again() {
    // The NetworkPolicy was deleted: its watch event brings the tenant back to reconcile
    // (the owner reference maps to the cluster-scoped tenant)…
    let (tenant, _) = reconciled_acme().await;
    let deleted = NetworkPolicy {
        metadata: ObjectMeta {
            name: Some("default-deny".into()),
            namespace: Some("tenant-acme".into()),
            owner_references: Some(vec![tenant.controller_owner_ref(&()).unwrap()]),
            ..ObjectMeta::default()
        },
        ..NetworkPolicy::default()
    };
    assert_eq!(owning_tenant(deleted), Some(ObjectRef::new("acme")));

    // …and the pass applies it without looking first: the server creates it anew.
    let mut script = applies();
    script[3] = expect(
        "PATCH",
        APPLY_PATHS[3],
        Reply::Json(
            201,
            json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": "tenant-acme",
                             "uid": "new-uid", "resourceVersion": "301"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            }),
        ),
    );
    let (seen, result, _) = pass(tenant, script).await;
    result.unwrap();
    assert_applies(&seen);
    assert_eq!(
        seen[3].body["spec"]["policyTypes"],
        json!(["Ingress", "Egress"])
    );
    assert_eq!(
        seen[3].body["spec"]["egress"][0]["ports"],
        json!([{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}])
    );
}

#[test]
fn only_tenant_controller_references_map_to_a_tenant() {
    let owned_by = |kind: &str, controller: bool| NetworkPolicy {
        metadata: ObjectMeta {
            namespace: Some("tenant-acme".into()),
            owner_references: Some(vec![OwnerReference {
                api_version: if kind == "Tenant" {
                    "marquee.dev/v1"
                } else {
                    "apps/v1"
                }
                .into(),
                kind: kind.into(),
                name: "acme".into(),
                uid: "u".into(),
                controller: Some(controller),
                block_owner_deletion: None,
            }]),
            ..ObjectMeta::default()
        },
        ..NetworkPolicy::default()
    };
    let tenant_ref = owning_tenant(owned_by("Tenant", true)).unwrap();
    assert_eq!(
        (tenant_ref.name.as_str(), tenant_ref.namespace),
        ("acme", None)
    );
    assert_eq!(owning_tenant(owned_by("Deployment", true)), None);
    assert_eq!(owning_tenant(owned_by("Tenant", false)), None);
    assert_eq!(owning_tenant(NetworkPolicy::default()), None);
}

#[tokio::test]
async fn a_changed_spec_applies_the_new_quota_and_reports_the_generation() {
    let (mut tenant, _) = reconciled_acme().await;
    let before = tenant.status.clone().unwrap();
    let quota = tenant.spec.resource_quota.as_mut().unwrap();
    quota.limits_cpu = "16".into();
    quota.pods = "200".into();
    tenant.metadata.generation = Some(2);

    let (seen, result, _) = pass(tenant.clone(), full_pass(&tenant)).await;
    result.unwrap();
    assert_applies(&seen[..6]);
    let hard = &seen[1].body["spec"]["hard"];
    assert_eq!(
        (&hard["limits.cpu"], &hard["pods"]),
        (&json!("16"), &json!("200"))
    );
    let status = &seen[6].body["status"];
    assert_eq!(status["observedGeneration"], 2);
    let ready = condition(status, "Ready");
    assert_eq!(ready["observedGeneration"], 2);
    // Still Ready: the transition time is the first pass's.
    assert_eq!(
        ready["lastTransitionTime"],
        serde_json::to_value(&before.conditions[0].last_transition_time).unwrap()
    );
}

#[tokio::test]
async fn switching_to_shared_deletes_the_namespace_it_created() {
    let (reconciled, _) = reconciled_acme().await;
    let mut tenant = acme_shared();
    tenant.metadata.finalizers = Some(vec![FINALIZER.into()]);
    tenant.status = reconciled.status.clone();
    let script = vec![
        namespace_deleted(),
        expect("POST", EVENTS, Reply::Echo),
        expect("PATCH", STATUS, Reply::Json(200, to_json(&tenant))),
        expect("POST", EVENTS, Reply::Echo),
    ];
    let (seen, result, calls) = pass(tenant, script).await;
    result.unwrap();
    assert_eq!(calls, ["sync acme plan=Business flags=1"]);
    assert_eq!(seen[1].body["reason"], "NamespaceRemoved");
    let status = &seen[2].body["status"];
    assert_eq!(status["namespace"], Value::Null);
    assert_eq!(status["observedGeneration"], 2);
    assert_eq!(
        condition(status, "Ready")["message"],
        "shared isolation: no namespaced objects; auth synced"
    );
}

#[tokio::test]
async fn deletion_deletes_the_namespace_then_removes_the_finalizer() {
    let (mut tenant, _) = reconciled_acme().await;
    tenant.metadata.deletion_timestamp = Some(Time(Timestamp::now()));
    let script = vec![
        namespace_deleted(),
        expect("POST", EVENTS, Reply::Echo),
        expect("PATCH", TENANT, Reply::Json(200, to_json(&acme()))),
    ];
    let (seen, result, calls) = pass(tenant, script).await;
    assert_eq!(result.unwrap(), Action::await_change());
    assert_eq!(calls, ["disable acme"]);
    assert_eq!(seen[1].body["reason"], "CleanedUp");
    assert_eq!(seen[1].body["note"], "namespace tenant-acme deleted");
    assert_eq!(seen[2].content_type, "application/json-patch+json");
    assert_eq!(
        seen[2].body,
        json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": "marquee.dev/tenant-cleanup"},
            {"op": "remove", "path": "/metadata/finalizers/0"},
        ])
    );
}

#[tokio::test]
async fn a_failed_namespace_delete_keeps_the_finalizer() {
    let (mut tenant, _) = reconciled_acme().await;
    tenant.metadata.deletion_timestamp = Some(Time(Timestamp::now()));
    let script = vec![
        expect(
            "DELETE",
            NAMESPACE,
            status_error(403, "Forbidden", "namespaces is forbidden"),
        ),
        expect("POST", EVENTS, Reply::Echo),
    ];
    let (seen, result, _) = pass(tenant, script).await;
    let error = result.unwrap_err();
    assert_eq!(error.reason(), "CleanupFailed");
    assert!(matches!(error.root(), Error::Kube(_)), "{error:?}");
    assert_eq!(seen[1].body["reason"], "CleanupFailed");
}

#[tokio::test]
async fn an_invalid_spec_is_reported_and_nothing_is_applied() {
    let mut tenant = acme_with_finalizer();
    tenant.spec.admin_emails.push("OPS@acme.example".into());
    let script = vec![
        expect("PATCH", STATUS, Reply::Json(200, to_json(&tenant))),
        expect("POST", EVENTS, Reply::Echo),
    ];
    let (seen, result, calls) = pass(tenant.clone(), script).await;
    // No error, so no retry: the tenant waits for its next change.
    assert_eq!(result.unwrap(), Action::await_change());
    assert!(calls.is_empty());
    let status = &seen[0].body["status"];
    let degraded = condition(status, "Degraded");
    assert_eq!(
        (&degraded["status"], &degraded["reason"]),
        (&json!("True"), &json!("InvalidSpec"))
    );
    assert_eq!(
        degraded["message"],
        "spec.adminEmails[2]: \"OPS@acme.example\" is listed twice"
    );
    assert_eq!(condition(status, "Ready")["status"], "False");
    assert_eq!(seen[1].body["type"], "Warning");
    assert_eq!(seen[1].body["reason"], "InvalidSpec");

    // Seen again unchanged: no status patch, no event, no request at all.
    let again = with_status(&tenant, &seen[0]);
    let (seen, result, _) = pass(again, vec![]).await;
    assert_eq!(result.unwrap(), Action::await_change());
    assert!(seen.is_empty());
}

/// A context whose client reaches no server, for `error_policy` (it makes no request).
fn offline_context() -> Arc<Context<FakeDirectory>> {
    let (service, _) = tower_test::mock::pair::<
        http::Request<kube::client::Body>,
        http::Response<kube::client::Body>,
    >();
    context(Client::new(service, "default"))
}

/// A pass whose NetworkPolicy apply gets `code`.
async fn failing_pass(code: u16, reason_: &str) -> (Vec<Seen>, Result<Action, Error>) {
    let tenant = acme_with_finalizer();
    let mut script: Vec<Expect> = applies().into_iter().take(3).collect();
    script.push(expect(
        "PATCH",
        APPLY_PATHS[3],
        status_error(code, reason_, "the server said no"),
    ));
    script.push(expect("PATCH", STATUS, Reply::Json(200, to_json(&tenant))));
    script.push(expect("POST", EVENTS, Reply::Echo));
    let (seen, result, calls) = pass(tenant, script).await;
    assert!(
        calls.is_empty(),
        "auth is not synced when an apply failed: {calls:?}"
    );
    (seen, result)
}

#[tokio::test]
async fn an_api_error_degrades_the_tenant_and_backs_off() {
    for (code, reason_) in [(500, "InternalError"), (409, "Conflict")] {
        let (seen, result) = failing_pass(code, reason_).await;
        let error = result.unwrap_err();
        assert_eq!(error.reason(), "ApplyFailed");
        assert!(
            matches!(error.root(), Error::Kube(kube::Error::Api(s)) if s.code == code),
            "{error:?}"
        );
        let status = &seen[4].body["status"];
        let degraded = condition(status, "Degraded");
        assert_eq!(
            (&degraded["status"], &degraded["reason"]),
            (&json!("True"), &json!("ApplyFailed"))
        );
        assert!(
            degraded["message"]
                .as_str()
                .unwrap()
                .contains("the server said no")
        );
        assert_eq!(
            status["namespace"],
            Value::Null,
            "no namespace reported before one was"
        );
        assert_eq!(
            (&seen[5].body["type"], &seen[5].body["reason"]),
            (&json!("Warning"), &json!("ApplyFailed"))
        );

        // The controller calls error_policy with each failure: 5 s, 10 s, 20 s…
        let ctx = offline_context();
        let tenant = Arc::new(acme_with_finalizer());
        let delays: Vec<Action> = (0..3)
            .map(|_| error_policy(tenant.clone(), &error, ctx.clone()))
            .collect();
        assert_eq!(
            delays,
            [5, 10, 20].map(|s| Action::requeue(Duration::from_secs(s)))
        );
        assert_eq!(ctx.failures("acme"), 3);
    }
}

#[tokio::test]
async fn a_successful_pass_resets_the_backoff() {
    let tenant = acme_with_finalizer();
    let (client, server) = serve(full_pass(&tenant));
    let ctx = context(client);
    let error = Error::Directory(DirectoryError("auth unavailable".into()));
    for _ in 0..4 {
        error_policy(Arc::new(tenant.clone()), &error, ctx.clone());
    }
    assert_eq!(ctx.failures("acme"), 4);
    reconcile(Arc::new(tenant.clone()), ctx.clone())
        .await
        .unwrap();
    assert_eq!(ctx.failures("acme"), 0);
    assert_eq!(
        error_policy(Arc::new(tenant), &error, ctx.clone()),
        Action::requeue(BACKOFF_BASE)
    );
    drop(ctx);
    server.await.unwrap();
}

#[tokio::test]
async fn passes_are_measured_and_the_not_ready_tenants_counted() {
    // A recorder of this test's own (the current-thread runtime keeps the pass on it).
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let rendered = recorder.handle();
    let _guard = ::metrics::set_default_local_recorder(&recorder);
    let tenant = acme_with_finalizer();

    // A failed pass: the NetworkPolicy apply gets a 500.
    let mut script: Vec<Expect> = applies().into_iter().take(3).collect();
    script.push(expect(
        "PATCH",
        APPLY_PATHS[3],
        status_error(500, "InternalError", "the server said no"),
    ));
    script.push(expect("PATCH", STATUS, Reply::Json(200, to_json(&tenant))));
    script.push(expect("POST", EVENTS, Reply::Echo));
    let (client, server) = serve(script);
    let ctx = context(client);
    reconcile(Arc::new(tenant.clone()), ctx.clone())
        .await
        .unwrap_err();
    assert_eq!(ctx.not_ready(), ["acme"]);
    drop(ctx);
    server.await.unwrap();
    let text = rendered.render();
    for line in [
        r#"marquee_tenant_operator_reconciles_total{outcome="error"} 1"#,
        r#"marquee_tenant_operator_reconcile_errors_total{reason="ApplyFailed"} 1"#,
        "marquee_tenant_operator_tenants_not_ready 1",
        "marquee_tenant_operator_reconcile_duration_seconds_count 1",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }

    // The next pass succeeds: Ready again, counted as ok.
    let (client, server) = serve(full_pass(&tenant));
    let ctx = context(client);
    ctx.note_ready("acme", Some(false));
    reconcile(Arc::new(tenant), ctx.clone()).await.unwrap();
    assert!(ctx.not_ready().is_empty());
    drop(ctx);
    server.await.unwrap();
    let text = rendered.render();
    for line in [
        r#"marquee_tenant_operator_reconciles_total{outcome="ok"} 1"#,
        "marquee_tenant_operator_tenants_not_ready 0",
        "marquee_tenant_operator_reconcile_duration_seconds_count 2",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

#[test]
fn backoff_doubles_from_5_seconds_to_5_minutes() {
    let delays: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
    assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
}

#[test]
fn conditions_keep_their_transition_time_while_unchanged() {
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let t1 = Timestamp::from_second(1_700_000_600).unwrap();
    let ok = Outcome::Reconciled {
        namespace: Some("tenant-acme".into()),
        message: "ok".into(),
    };
    let first = next_status(None, Some(1), &ok, t0);
    let again = next_status(Some(&first), Some(1), &ok, t1);
    assert_eq!(again, first, "same outcome, same status: nothing to patch");

    let failed = Outcome::Failed {
        reason: reason::APPLY_FAILED,
        message: "boom".into(),
    };
    let degraded = next_status(Some(&first), Some(1), &failed, t1);
    assert_eq!(degraded.namespace.as_deref(), Some("tenant-acme"));
    for condition in &degraded.conditions {
        assert_eq!(
            condition.last_transition_time,
            Time(t1),
            "{}",
            condition.type_
        );
        assert_eq!(condition.reason, "ApplyFailed");
    }
    let status_of = |s: &TenantStatus| -> Vec<(String, String)> {
        s.conditions
            .iter()
            .map(|c| (c.type_.clone(), c.status.clone()))
            .collect()
    };
    assert_eq!(
        status_of(&degraded),
        [
            ("Ready".into(), "False".into()),
            ("Degraded".into(), "True".into())
        ]
    );
}
