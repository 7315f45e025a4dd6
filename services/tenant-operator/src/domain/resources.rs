//! The objects a `namespace`-isolated tenant gets, computed from its spec and nothing else
//! (no API calls): the controller applies them with server-side apply.
//!
//! Every object carries an owner reference to the `Tenant` (`controller: true`), the
//! `app.kubernetes.io/managed-by: marquee-tenant-operator` label and `marquee.dev/tenant`.
//! Call [`Tenant::validate`] first: [`desired`] trusts the spec.

use super::tenant::{CpuMemory, Isolation, ResourceQuotaSpec, Tenant};
use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota,
    ResourceQuotaSpec as K8sQuota,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;

/// The field manager of every server-side apply, and the `managed-by` label's value.
pub const MANAGER: &str = "marquee-tenant-operator";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const TENANT_LABEL: &str = "marquee.dev/tenant";
/// The namespace label every namespace carries (Kubernetes sets it, 1.22+).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
pub const QUOTA_NAME: &str = "tenant-quota";
pub const LIMIT_RANGE_NAME: &str = "tenant-limits";
pub const NETWORK_POLICY_NAME: &str = "default-deny";
/// The admins' read-only Role and its RoleBinding.
pub const ADMIN_ROLE_NAME: &str = "tenant-admin-read";

/// Where the Marquee release runs, for the tenant namespace's network policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetSettings {
    /// The namespace of the Marquee release (the chart's namespace).
    pub release_namespace: String,
    /// The ports tenant pods may reach there: the gateway's HTTP port and the services'
    /// gRPC port (the chart's `services.gateway.port` and `serviceDefaults.port`).
    pub ports: Vec<u16>,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            release_namespace: "marquee".into(),
            ports: vec![8080, 50051],
        }
    }
}

/// Everything a `namespace`-isolated tenant owns, in the order it is applied (the
/// namespace first: the others live in it).
#[derive(Clone, Debug, PartialEq)]
pub struct TenantObjects {
    pub namespace: Namespace,
    pub quota: ResourceQuota,
    pub limit_range: LimitRange,
    pub network_policy: NetworkPolicy,
    pub role: Role,
    pub role_binding: RoleBinding,
}

/// The objects for `tenant`, or `None` when it has `shared` isolation (nothing namespaced),
/// no name or no uid (an owner reference needs both: a tenant read from the API has them).
pub fn desired(tenant: &Tenant, fleet: &FleetSettings) -> Option<TenantObjects> {
    if tenant.spec.isolation != Isolation::Namespace {
        return None;
    }
    let namespace = tenant.namespace_name()?;
    let owner = tenant.controller_owner_ref(&())?;
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGER.to_string()),
        (TENANT_LABEL.to_string(), tenant.name_any()),
    ]);
    let meta = |name: &str, ns: Option<&str>| ObjectMeta {
        name: Some(name.to_string()),
        namespace: ns.map(str::to_string),
        labels: Some(labels.clone()),
        owner_references: Some(vec![owner.clone()]),
        ..ObjectMeta::default()
    };
    let ns = Some(namespace.as_str());

    let mut namespace_meta = meta(&namespace, None);
    namespace_meta
        .labels
        .get_or_insert_default()
        .extend(["enforce", "audit", "warn"].map(|mode| {
            (
                format!("pod-security.kubernetes.io/{mode}"),
                "restricted".to_string(),
            )
        }));

    Some(TenantObjects {
        namespace: Namespace {
            metadata: namespace_meta,
            ..Namespace::default()
        },
        quota: ResourceQuota {
            metadata: meta(QUOTA_NAME, ns),
            spec: Some(K8sQuota {
                hard: Some(quota_hard(tenant.spec.resource_quota.as_ref())),
                ..K8sQuota::default()
            }),
            ..ResourceQuota::default()
        },
        limit_range: LimitRange {
            metadata: meta(LIMIT_RANGE_NAME, ns),
            spec: Some(limit_range_spec(tenant)),
        },
        network_policy: NetworkPolicy {
            metadata: meta(NETWORK_POLICY_NAME, ns),
            spec: Some(network_policy_spec(fleet)),
        },
        role: Role {
            metadata: meta(ADMIN_ROLE_NAME, ns),
            rules: Some(vec![
                read_only("", &["pods", "services", "configmaps", "events"]),
                read_only("apps", &["deployments"]),
            ]),
        },
        role_binding: RoleBinding {
            metadata: meta(ADMIN_ROLE_NAME, ns),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: ADMIN_ROLE_NAME.into(),
            },
            subjects: Some(
                tenant
                    .spec
                    .admin_emails
                    .iter()
                    .map(|email| Subject {
                        api_group: Some("rbac.authorization.k8s.io".into()),
                        kind: "User".into(),
                        name: email.clone(),
                        namespace: None,
                    })
                    .collect(),
            ),
        },
    })
}

fn quota_hard(quota: Option<&ResourceQuotaSpec>) -> BTreeMap<String, Quantity> {
    let Some(q) = quota else {
        return BTreeMap::new();
    };
    [
        ("requests.cpu", q.requests_cpu.as_deref()),
        ("limits.cpu", Some(q.limits_cpu.as_str())),
        ("requests.memory", q.requests_memory.as_deref()),
        ("limits.memory", Some(q.limits_memory.as_str())),
        ("requests.storage", q.requests_storage.as_deref()),
        ("pods", Some(q.pods.as_str())),
        (
            "persistentvolumeclaims",
            q.persistentvolumeclaims.as_deref(),
        ),
        ("services", q.services.as_deref()),
        (
            "services.loadbalancers",
            q.services_loadbalancers.as_deref(),
        ),
        ("configmaps", q.configmaps.as_deref()),
        ("secrets", q.secrets.as_deref()),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_string(), Quantity(value?.to_string()))))
    .collect()
}

/// One `Container` item. Without `spec.limitRange` the item has no defaults: applying it
/// removes defaults set by an earlier spec (server-side apply drops fields we no longer send).
fn limit_range_spec(tenant: &Tenant) -> LimitRangeSpec {
    let quantities = |pair: Option<&CpuMemory>| {
        let pair = pair?;
        let map: BTreeMap<String, Quantity> = [("cpu", &pair.cpu), ("memory", &pair.memory)]
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_string(), Quantity(value.clone()?))))
            .collect();
        (!map.is_empty()).then_some(map)
    };
    let limits = tenant.spec.limit_range.as_ref();
    LimitRangeSpec {
        limits: vec![LimitRangeItem {
            type_: "Container".into(),
            default: quantities(limits.and_then(|l| l.default.as_ref())),
            default_request: quantities(limits.and_then(|l| l.default_request.as_ref())),
            ..LimitRangeItem::default()
        }],
    }
}

fn namespace_selector(namespace: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(
            NAMESPACE_NAME_LABEL.to_string(),
            namespace.to_string(),
        )])),
        ..LabelSelector::default()
    }
}

fn port(protocol: &str, number: u16) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(i32::from(number))),
        end_port: None,
    }
}

/// Default deny, both directions, for every pod of the namespace; then only: DNS to
/// kube-system's resolver, the release namespace on the fleet ports, and ingress from the
/// release namespace (the gateway and services calling the tenant's dedicated replicas).
fn network_policy_spec(fleet: &FleetSettings) -> NetworkPolicySpec {
    let release = NetworkPolicyPeer {
        namespace_selector: Some(namespace_selector(&fleet.release_namespace)),
        ..NetworkPolicyPeer::default()
    };
    let dns = NetworkPolicyPeer {
        namespace_selector: Some(namespace_selector("kube-system")),
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "k8s-app".to_string(),
                "kube-dns".to_string(),
            )])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    };
    NetworkPolicySpec {
        pod_selector: Some(LabelSelector::default()),
        policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
        ingress: Some(vec![NetworkPolicyIngressRule {
            from: Some(vec![release.clone()]),
            ports: None,
        }]),
        egress: Some(vec![
            NetworkPolicyEgressRule {
                to: Some(vec![dns]),
                ports: Some(vec![port("UDP", 53), port("TCP", 53)]),
            },
            NetworkPolicyEgressRule {
                to: Some(vec![release]),
                ports: Some(fleet.ports.iter().map(|&p| port("TCP", p)).collect()),
            },
        ]),
    }
}

fn read_only(api_group: &str, resources: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![api_group.to_string()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: ["get", "list", "watch"].map(String::from).to_vec(),
        ..PolicyRule::default()
    }
}

#[cfg(test)]
mod tests;
