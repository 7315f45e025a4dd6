//! Tenants for the tests, as the API server would hand them to the operator.

use super::tenant::{
    CpuMemory, Isolation, LimitRangeSpec, Plan, ResourceQuotaSpec, Tenant, TenantSpec,
};
use kube::api::ObjectMeta;
use std::collections::BTreeMap;

pub const ACME_UID: &str = "6f1c2a6e-0b1d-4c5e-9f3a-acme00000001";

/// `acme`: namespace isolation, quota, limit range, two admins, generation 1.
pub fn acme() -> Tenant {
    let mut tenant = Tenant::new(
        "acme",
        TenantSpec {
            display_name: "Acme Corp".into(),
            plan: Plan::Business,
            isolation: Isolation::Namespace,
            resource_quota: Some(ResourceQuotaSpec {
                requests_cpu: Some("4".into()),
                limits_cpu: "8".into(),
                requests_memory: Some("8Gi".into()),
                limits_memory: "16Gi".into(),
                pods: "100".into(),
                services_loadbalancers: Some("0".into()),
                ..ResourceQuotaSpec::default()
            }),
            limit_range: Some(LimitRangeSpec {
                default: Some(CpuMemory {
                    cpu: Some("500m".into()),
                    memory: Some("512Mi".into()),
                }),
                default_request: Some(CpuMemory {
                    cpu: Some("100m".into()),
                    memory: None,
                }),
            }),
            feature_flags: BTreeMap::from([("video.export".into(), true)]),
            admin_emails: vec!["ops@acme.example".into(), "jane@acme.example".into()],
            dedicated_replicas: BTreeMap::new(),
        },
    );
    tenant.metadata = ObjectMeta {
        name: Some("acme".into()),
        uid: Some(ACME_UID.into()),
        generation: Some(1),
        resource_version: Some("100".into()),
        ..ObjectMeta::default()
    };
    tenant
}

/// `acme` switched to shared isolation (no quota, no limit range), generation 2.
pub fn acme_shared() -> Tenant {
    let mut tenant = acme();
    tenant.spec.isolation = Isolation::Shared;
    tenant.spec.resource_quota = None;
    tenant.spec.limit_range = None;
    tenant.metadata.generation = Some(2);
    tenant
}
