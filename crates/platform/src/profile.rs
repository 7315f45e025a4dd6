//! The deployment profile (`MARQUEE_PROFILE`): `dev`, the default, lets a service stand
//! in for what is not configured — a SQLite file for the database, the in-process bus
//! for the broker, local files for the object store, a generated key for a signing key —
//! so `marquee up` and the tests need nothing. `cluster` (what the Helm chart sets)
//! refuses to start instead, naming the variable: in a cluster every one of those
//! stand-ins is a silent fault (data in a container's file system, events that never
//! leave the pod, signatures no other replica accepts).
//!
//! Each service lists what it needs ([`Required`]) and calls [`Profile::require`] when
//! its settings load; `marquee settings-manifest` publishes the same lists for the
//! deploy checks.

use serde::{Deserialize, Serialize};

/// How a service treats settings that are missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Embedded stand-ins for whatever is not configured.
    #[default]
    Dev,
    /// No stand-ins: a missing required setting is a start-up error.
    Cluster,
}

/// A setting the cluster profile requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    /// What it is, for the message: `"database URL"`.
    pub what: &'static str,
    /// The variables that provide it, the one to set first; any one of them will do.
    pub env: Vec<String>,
    /// What the service does without it outside the cluster profile.
    pub fallback: &'static str,
    /// Whether the loaded settings have it.
    pub present: bool,
}

impl Required {
    pub fn new<I, S>(what: &'static str, env: I, fallback: &'static str, present: bool) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            what,
            env: env.into_iter().map(Into::into).collect(),
            fallback,
            present,
        }
    }

    /// A service's database URL (`MARQUEE_<SERVICE>_DATABASE_URL`, or the shared
    /// `MARQUEE_DATABASE_URL`); `url` is the configured one, blank counting as unset.
    pub fn database(service: &str, url: Option<&secrecy::SecretString>) -> Self {
        Self::new(
            "database URL",
            env_names(service, "database_url"),
            "a SQLite file in the container",
            is_set(url),
        )
    }

    /// The RabbitMQ URL (`MARQUEE_AMQP_URL`; the bus settings load under `bus`).
    pub fn broker(url: Option<&secrecy::SecretString>) -> Self {
        Self::new(
            "broker URL",
            [
                "MARQUEE_AMQP_URL".to_string(),
                "MARQUEE_BUS_AMQP_URL".into(),
            ],
            "the in-process bus, whose events never leave the pod",
            is_set(url),
        )
    }

    /// The service's identity signing key (`MARQUEE_IDENTITY__SIGNING_KEY`, usually from
    /// the service's own Secret).
    pub fn identity_key(service: &str, common: &crate::config::CommonSettings) -> Self {
        Self::new(
            "service identity signing key",
            env_names(service, "identity.signing_key"),
            "an ephemeral key no other service trusts",
            is_set(common.identity.signing_key.as_ref()),
        )
    }
}

/// Whether a secret is set and not blank.
pub fn is_set(secret: Option<&secrecy::SecretString>) -> bool {
    use secrecy::ExposeSecret;
    secret.is_some_and(|value| !value.expose_secret().trim().is_empty())
}

/// The variables a settings key is read from, most specific first:
/// `MARQUEE_<SERVICE>_<KEY>` and the shared `MARQUEE_<KEY>`, nested keys joined by `__`
/// (`identity.signing_key` → `MARQUEE_AUTH_IDENTITY__SIGNING_KEY`,
/// `MARQUEE_IDENTITY__SIGNING_KEY`). See [`crate::config`].
pub fn env_names(service: &str, key: &str) -> [String; 2] {
    let key = key.split('.').collect::<Vec<_>>().join("__").to_uppercase();
    [
        format!("{}_{key}", service_prefix(service)),
        format!("MARQUEE_{key}"),
    ]
}

/// `MARQUEE_<SERVICE>`, as [`crate::config::load_from`] reads it.
pub fn service_prefix(service: &str) -> String {
    format!("MARQUEE_{}", service.to_uppercase().replace('-', "_"))
}

impl Profile {
    /// Under `cluster`, an error naming every required setting that is missing (and the
    /// variables that set it); under `dev`, nothing.
    pub fn require(self, service: &str, required: &[Required]) -> anyhow::Result<()> {
        if self == Self::Dev {
            return Ok(());
        }
        let missing: Vec<String> = required
            .iter()
            .filter(|required| !required.present)
            .map(|required| {
                let (first, others) = required
                    .env
                    .split_first()
                    .map_or(("?", &[][..]), |(f, o)| (f.as_str(), o));
                let alternatives = if others.is_empty() {
                    String::new()
                } else {
                    format!(" (or {})", others.join(", "))
                };
                format!(
                    "  - {}: set {first}{alternatives}; outside the cluster profile {service} \
                     would fall back to {}",
                    required.what, required.fallback
                )
            })
            .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "MARQUEE_PROFILE=cluster: {service} cannot start without:\n{}",
            missing.join("\n")
        );
        Ok(())
    }

    pub fn is_cluster(self) -> bool {
        self == Self::Cluster
    }
}

/// For the services' settings tests: the environments they load from and what they read
/// from [`Required`] lists.
pub mod testing {
    use std::collections::HashMap;

    /// An environment for a settings `load_from`: `pairs` and no config file.
    pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(
            "MARQUEE_CONFIG_FILE".into(),
            "/nonexistent/settings.toml".into(),
        );
        env
    }

    /// The first variable of each required setting (the one the chart sets).
    pub fn first_env(required: &[super::Required]) -> Vec<&str> {
        required.iter().map(|r| r.env[0].as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_follow_the_config_layers() {
        assert_eq!(
            env_names("auth", "identity.signing_key"),
            [
                "MARQUEE_AUTH_IDENTITY__SIGNING_KEY",
                "MARQUEE_IDENTITY__SIGNING_KEY"
            ]
        );
        assert_eq!(
            env_names("content", "database_url"),
            ["MARQUEE_CONTENT_DATABASE_URL", "MARQUEE_DATABASE_URL"]
        );
    }

    #[test]
    fn only_the_cluster_profile_refuses_missing_settings_and_names_them() {
        let required = [
            Required::database("auth", None),
            Required::broker(Some(&secrecy::SecretString::from("amqp://x"))),
            Required::database("auth", Some(&secrecy::SecretString::from("  "))),
        ];
        Profile::Dev.require("auth", &required).unwrap();
        let error = Profile::Cluster
            .require("auth", &required)
            .unwrap_err()
            .to_string();
        assert!(error.contains("MARQUEE_PROFILE=cluster"), "{error}");
        assert!(
            error.contains("set MARQUEE_AUTH_DATABASE_URL (or MARQUEE_DATABASE_URL)"),
            "{error}"
        );
        assert!(error.contains("SQLite"), "{error}");
        assert!(!error.contains("MARQUEE_AMQP_URL"), "present: {error}");
        Profile::Cluster
            .require("auth", &[Required::broker(Some(&"amqp://x".into()))])
            .unwrap();
    }

    #[test]
    fn the_profile_is_read_from_the_environment() {
        let env = std::collections::HashMap::from([
            (
                "MARQUEE_CONFIG_FILE".to_string(),
                "/nonexistent.toml".to_string(),
            ),
            ("MARQUEE_PROFILE".to_string(), "cluster".to_string()),
        ]);
        let common: crate::config::CommonSettings =
            crate::config::load_from("sample", env).unwrap();
        assert_eq!(common.profile, Profile::Cluster);
        let common: crate::config::CommonSettings =
            crate::config::load_from("sample", Default::default()).unwrap();
        assert_eq!(common.profile, Profile::Dev);
    }
}
