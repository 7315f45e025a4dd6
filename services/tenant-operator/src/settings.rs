//! Operator settings: defaults → `MARQUEE_CONFIG_FILE` → `MARQUEE_*` →
//! `MARQUEE_TENANT_OPERATOR_*` (most specific wins), like every Marquee service.

use crate::domain::resources::FleetSettings;
use marquee_platform::config::CommonSettings;
use marquee_platform::profile::{Required, env_names};
use serde::{Deserialize, Serialize};

/// The name settings and the service identity go by.
pub const SERVICE: &str = "tenant-operator";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct OperatorSettings {
    /// The namespace of the Marquee release: tenant namespaces may reach it, and only it.
    pub release_namespace: String,
    /// Ports of the release namespace tenant pods may reach (the gateway's HTTP port, the
    /// services' gRPC port). Env: comma-separated.
    pub fleet_ports: Vec<u16>,
    /// The auth service's gRPC URL: tenants, plans and flags are synced there. Unset (the
    /// default outside a cluster) means no sync, which the `Ready` message says.
    pub auth_url: Option<String>,
    /// Leader election: only the replica holding the Lease reconciles.
    pub lease: LeaseSettings,
    #[serde(flatten)]
    pub common: CommonSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct LeaseSettings {
    /// The Lease's name (`coordination.k8s.io/v1`).
    pub name: String,
    /// Its namespace: the release namespace, where the operator's Role allows leases.
    pub namespace: String,
    /// How long a holder's claim lasts without renewal: a crashed leader is replaced
    /// after at most this long.
    pub duration_secs: u64,
    /// How long before expiry the holder renews (less than `duration_secs`).
    pub grace_secs: u64,
}

impl Default for OperatorSettings {
    fn default() -> Self {
        Self {
            release_namespace: "marquee".into(),
            fleet_ports: vec![8080, 50051],
            auth_url: None,
            lease: LeaseSettings::default(),
            common: CommonSettings::default(),
        }
    }
}

impl Default for LeaseSettings {
    fn default() -> Self {
        Self {
            name: "marquee-tenant-operator".into(),
            namespace: "marquee".into(),
            duration_secs: 15,
            grace_secs: 5,
        }
    }
}

impl OperatorSettings {
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars().collect())
    }

    /// [`OperatorSettings::load`] from the environment `env`, checked.
    pub fn load_from(env: std::collections::HashMap<String, String>) -> anyhow::Result<Self> {
        let settings: Self = marquee_platform::config::load_from(SERVICE, env)?;
        settings.validate()?;
        settings
            .common
            .profile
            .require(SERVICE, &settings.required_in_cluster())?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.fleet_ports.is_empty() && !self.fleet_ports.contains(&0),
            "fleet_ports must name at least one port, none of them 0"
        );
        anyhow::ensure!(
            self.lease.grace_secs > 0 && self.lease.grace_secs < self.lease.duration_secs,
            "lease.grace_secs must be more than 0 and less than lease.duration_secs"
        );
        if let Some(url) = &self.auth_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "auth_url must be an http:// or https:// URL"
            );
        }
        Ok(())
    }

    /// In a cluster the operator syncs to auth, which trusts only a configured key.
    pub fn required_in_cluster(&self) -> Vec<Required> {
        vec![
            Required::new(
                "auth service URL",
                env_names(SERVICE, "auth_url"),
                "no sync to the auth service",
                self.auth_url
                    .as_deref()
                    .is_some_and(|url| !url.trim().is_empty()),
            ),
            Required::identity_key(SERVICE, &self.common),
        ]
    }

    pub fn fleet(&self) -> FleetSettings {
        FleetSettings {
            release_namespace: self.release_namespace.clone(),
            ports: self.fleet_ports.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_environment_names_the_chart_sets_are_read() {
        let settings = OperatorSettings::load_from(env(&[
            ("MARQUEE_TENANT_OPERATOR_RELEASE_NAMESPACE", "prod"),
            ("MARQUEE_TENANT_OPERATOR_FLEET_PORTS", "8080,50051"),
            ("MARQUEE_TENANT_OPERATOR_AUTH_URL", "http://auth:50051"),
            ("MARQUEE_TENANT_OPERATOR_LEASE__NAMESPACE", "prod"),
        ]))
        .unwrap();
        assert_eq!(settings.release_namespace, "prod");
        assert_eq!(settings.fleet_ports, [8080, 50051]);
        assert_eq!(settings.auth_url.as_deref(), Some("http://auth:50051"));
        assert_eq!(settings.lease.namespace, "prod");
        assert_eq!(settings.lease.name, "marquee-tenant-operator");
    }

    #[test]
    fn bad_values_are_refused_at_start() {
        for pairs in [
            [("MARQUEE_TENANT_OPERATOR_FLEET_PORTS", "0")],
            [("MARQUEE_TENANT_OPERATOR_AUTH_URL", "auth:50051")],
            [("MARQUEE_TENANT_OPERATOR_LEASE__GRACE_SECS", "15")],
        ] {
            assert!(
                OperatorSettings::load_from(env(&pairs)).is_err(),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn the_cluster_profile_requires_the_auth_url_and_the_identity_key() {
        let error = OperatorSettings::load_from(env(&[("MARQUEE_PROFILE", "cluster")]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("MARQUEE_TENANT_OPERATOR_AUTH_URL"),
            "{error}"
        );
        assert!(
            error.contains("MARQUEE_TENANT_OPERATOR_IDENTITY__SIGNING_KEY"),
            "{error}"
        );
    }
}
