use super::*;
use crate::domain::fixtures::{ACME_UID, acme, acme_shared};
use serde_json::{Value, json};

fn objects() -> TenantObjects {
    desired(&acme(), &FleetSettings::default()).expect("namespace isolation has objects")
}

fn to_json<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap()
}

#[test]
fn shared_isolation_has_no_namespaced_objects() {
    assert_eq!(desired(&acme_shared(), &FleetSettings::default()), None);
}

#[test]
fn no_objects_without_a_uid_for_the_owner_reference() {
    let mut tenant = acme();
    tenant.metadata.uid = None;
    assert_eq!(desired(&tenant, &FleetSettings::default()), None);
}

#[test]
fn every_object_is_owned_labelled_and_placed() {
    let o = objects();
    let metas = [
        ("Namespace", &o.namespace.metadata, None),
        ("ResourceQuota", &o.quota.metadata, Some("tenant-acme")),
        ("LimitRange", &o.limit_range.metadata, Some("tenant-acme")),
        (
            "NetworkPolicy",
            &o.network_policy.metadata,
            Some("tenant-acme"),
        ),
        ("Role", &o.role.metadata, Some("tenant-acme")),
        ("RoleBinding", &o.role_binding.metadata, Some("tenant-acme")),
    ];
    for (kind, meta, namespace) in metas {
        assert_eq!(meta.namespace.as_deref(), namespace, "{kind}");
        let owners = meta.owner_references.as_ref().unwrap();
        assert_eq!(owners.len(), 1, "{kind}");
        let owner = &owners[0];
        assert_eq!(
            (
                owner.api_version.as_str(),
                owner.kind.as_str(),
                owner.name.as_str(),
                owner.uid.as_str(),
                owner.controller
            ),
            ("marquee.dev/v1", "Tenant", "acme", ACME_UID, Some(true)),
            "{kind}"
        );
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(
            labels[MANAGED_BY_LABEL], "marquee-tenant-operator",
            "{kind}"
        );
        assert_eq!(labels[TENANT_LABEL], "acme", "{kind}");
    }
}

#[test]
fn namespace_is_named_after_the_tenant_and_restricted() {
    let ns = to_json(&objects().namespace);
    assert_eq!(ns["apiVersion"], "v1");
    assert_eq!(ns["kind"], "Namespace");
    assert_eq!(ns["metadata"]["name"], "tenant-acme");
    let labels = &ns["metadata"]["labels"];
    for mode in ["enforce", "audit", "warn"] {
        assert_eq!(
            labels[format!("pod-security.kubernetes.io/{mode}")],
            "restricted"
        );
    }
}

#[test]
fn quota_carries_the_spec_values_and_nothing_else() {
    let quota = to_json(&objects().quota);
    assert_eq!(quota["metadata"]["name"], QUOTA_NAME);
    assert_eq!(
        quota["spec"]["hard"],
        json!({
            "requests.cpu": "4",
            "limits.cpu": "8",
            "requests.memory": "8Gi",
            "limits.memory": "16Gi",
            "pods": "100",
            "services.loadbalancers": "0",
        })
    );
}

#[test]
fn limit_range_sets_container_defaults() {
    let limits = to_json(&objects().limit_range);
    assert_eq!(
        limits["spec"]["limits"],
        json!([{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m"},
        }])
    );
    let mut tenant = acme();
    tenant.spec.limit_range = None;
    let bare = desired(&tenant, &FleetSettings::default()).unwrap();
    assert_eq!(
        to_json(&bare.limit_range)["spec"]["limits"],
        json!([{"type": "Container"}])
    );
}

#[test]
fn network_policy_denies_all_but_dns_and_the_release() {
    let fleet = FleetSettings {
        release_namespace: "marquee-prod".into(),
        ports: vec![8080, 50051],
    };
    let policy = desired(&acme(), &fleet).unwrap().network_policy;
    let spec = to_json(&policy)["spec"].clone();
    assert_eq!(spec["podSelector"], json!({}));
    assert_eq!(spec["policyTypes"], json!(["Ingress", "Egress"]));
    let release = json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "marquee-prod"}}});
    assert_eq!(spec["ingress"], json!([{"from": [release]}]));
    assert_eq!(
        spec["egress"],
        json!([
            {
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
            {
                "to": [release],
                "ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 50051}],
            },
        ])
    );
}

#[test]
fn admins_get_read_only_access() {
    let o = objects();
    let role = to_json(&o.role);
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "events"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]},
        ])
    );
    let binding = to_json(&o.role_binding);
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ADMIN_ROLE_NAME})
    );
    assert_eq!(
        binding["subjects"],
        json!([
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "ops@acme.example"},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane@acme.example"},
        ])
    );
}
