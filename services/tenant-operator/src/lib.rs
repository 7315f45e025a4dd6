//! The Marquee tenant operator: `Tenant` custom resources (`tenants.marquee.dev`) for
//! enterprise tenants isolated in their own namespaces.
//!
//! The resource types, their validation and the CRD generated from them
//! (`marquee-tenant-operator crd`, committed at `helm/marquee/crds/tenants.marquee.dev.yaml`),
//! the objects a tenant gets ([`domain::resources`]), the reconciler ([`controller`]), the
//! sync to the auth service ([`clients::auth`]) and leader election ([`leader`]);
//! `marquee-tenant-operator run` wires them ([`settings`]). See docs/ops/tenants.md.

pub mod clients;
pub mod controller;
pub mod domain;
pub mod leader;
pub mod settings;

use kube::CustomResourceExt;

pub use domain::tenant::{Tenant, TenantSpec, TenantStatus};

/// Where the generated CRD is committed, relative to the repository root.
pub const CRD_PATH: &str = "helm/marquee/crds/tenants.marquee.dev.yaml";
/// The command that regenerates it (from the repository root).
pub const REGENERATE: &str =
    "cargo run -p marquee-tenant-operator -- crd > helm/marquee/crds/tenants.marquee.dev.yaml";

/// The `Tenant` CustomResourceDefinition as YAML, with a header naming its source.
pub fn crd_yaml() -> anyhow::Result<String> {
    let body = serde_saphyr::to_string(&Tenant::crd())?;
    Ok(format!(
        "# Generated from services/tenant-operator/src/domain/tenant.rs: do not edit.\n\
         # Regenerate: {REGENERATE}\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn committed_crd_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(CRD_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = crd_yaml().unwrap();
        assert!(
            committed == generated,
            "{CRD_PATH} is stale or missing; regenerate it from the repository root:\n  {REGENERATE}"
        );
    }

    #[test]
    fn crd_names_scope_and_columns() {
        let crd = Tenant::crd();
        assert_eq!(crd.metadata.name.as_deref(), Some("tenants.marquee.dev"));
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(
            crd.spec.names.short_names.as_deref(),
            Some(&["tnt".to_string()][..])
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1");
        assert!(version.subresources.as_ref().unwrap().status.is_some());
        let columns: Vec<(&str, &str)> = version
            .additional_printer_columns
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| (c.name.as_str(), c.json_path.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                ("Plan", ".spec.plan"),
                ("Isolation", ".spec.isolation"),
                ("Ready", ".status.conditions[?(@.type==\"Ready\")].status"),
                ("Age", ".metadata.creationTimestamp"),
            ]
        );
    }

    #[test]
    fn schema_carries_the_validation() {
        let crd = serde_json::to_value(Tenant::crd()).unwrap();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let props = &spec["properties"];
        assert_eq!(
            props["plan"]["enum"],
            serde_json::json!(["free", "pro", "business"])
        );
        assert_eq!(
            props["isolation"]["enum"],
            serde_json::json!(["shared", "namespace"])
        );
        assert_eq!(props["adminEmails"]["maxItems"], 20);
        assert_eq!(props["adminEmails"]["items"]["format"], "email");
        assert_eq!(props["displayName"]["maxLength"], 100);
        let replicas = &props["dedicatedReplicas"]["additionalProperties"];
        assert_eq!(
            (replicas["minimum"].as_f64(), replicas["maximum"].as_f64()),
            (Some(0.0), Some(20.0))
        );
        assert_eq!(
            props["resourceQuota"]["properties"]["limitsCpu"]["pattern"],
            domain::tenant::QUANTITY_PATTERN
        );
        let mut required: Vec<&str> = spec["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        required.sort_unstable();
        assert_eq!(
            required,
            ["adminEmails", "displayName", "isolation", "plan"]
        );
        let rules = spec["x-kubernetes-validations"].as_array().unwrap();
        assert!(rules.iter().any(|r| {
            r["rule"]
                .as_str()
                .unwrap()
                .contains("has(self.resourceQuota)")
        }));
    }
}
