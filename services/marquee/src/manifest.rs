//! `marquee settings-manifest`: every environment variable each service's settings
//! read, and the ones the cluster profile requires, for the deploy checks
//! (`deploy/check/settings-manifest.json`). Derived from the settings types themselves
//! ([`marquee_platform::settings_keys`]), so the file cannot drift from the code
//! unnoticed: a test fails when the committed file is stale.

use marquee_platform::profile::Required;
use marquee_platform::settings_keys::Keys;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Where the manifest is committed, from the repository root.
pub const PATH: &str = "deploy/check/settings-manifest.json";

/// How to regenerate it.
pub const REGENERATE: &str =
    "cargo run -q -p marquee -- settings-manifest > deploy/check/settings-manifest.json";

/// Read by every service: the config file, the log filter, the OpenTelemetry exporter
/// (`OTEL_EXPORTER_OTLP_ENDPOINT` turns it on; the SDK reads the other `OTEL_*`).
const EVERY_SERVICE_ENV: [&str; 3] = [
    "MARQUEE_CONFIG_FILE",
    "RUST_LOG",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];
const EVERY_SERVICE_PREFIXES: [&str; 1] = ["OTEL_"];

/// One service's part of the manifest.
struct Service {
    name: &'static str,
    keys: Keys,
    /// Services on the event bus also read the bus's settings (loaded as `bus`).
    bus: bool,
    /// Variables read outside the layered settings.
    env: &'static [&'static str],
    prefixes: &'static [&'static str],
    required: Vec<Required>,
}

fn services() -> Vec<Service> {
    use marquee_auth::AuthSettings;
    use marquee_billing::BillingSettings;
    use marquee_campaign::CampaignSettings;
    use marquee_content::ContentSettings;
    use marquee_gateway::GatewaySettings;
    use marquee_tagging::TaggingSettings;
    use marquee_tenant_operator::settings::OperatorSettings;
    vec![
        Service {
            name: "auth",
            keys: Keys::of(&AuthSettings::default()),
            bus: false,
            env: &[],
            prefixes: &[],
            required: AuthSettings::default().required_in_cluster(),
        },
        Service {
            name: "content",
            keys: Keys::of(&ContentSettings::default()),
            bus: true,
            env: &[],
            // S3 credentials, region and endpoint (object_store's `from_env`).
            prefixes: &["AWS_"],
            required: ContentSettings::default().required_in_cluster(),
        },
        Service {
            name: "tagging",
            keys: Keys::of(&TaggingSettings::default()),
            bus: true,
            env: &[],
            prefixes: &[],
            required: TaggingSettings::default().required_in_cluster(),
        },
        Service {
            name: "billing",
            keys: Keys::of(&BillingSettings::default()),
            bus: true,
            env: &BillingSettings::DIRECT_ENV,
            prefixes: &[],
            required: BillingSettings::default().required_in_cluster(),
        },
        Service {
            name: "campaign",
            keys: Keys::of(&CampaignSettings::default()),
            bus: true,
            env: &[],
            prefixes: &[],
            required: CampaignSettings::default().required_in_cluster(),
        },
        Service {
            name: "gateway",
            keys: Keys::of(&GatewaySettings::default()),
            bus: false,
            env: &[],
            prefixes: &[],
            required: GatewaySettings::default().required_in_cluster(),
        },
        Service {
            name: "tenant-operator",
            keys: Keys::of(&OperatorSettings::default()),
            bus: false,
            // The pod name (`run --instance`); kube's in-cluster config reads the
            // service account and KUBERNETES_SERVICE_*.
            env: &["POD_NAME"],
            prefixes: &["KUBERNETES_"],
            required: OperatorSettings::default().required_in_cluster(),
        },
    ]
}

/// The manifest:
/// `{"services": {"<service>": {"binary", "env", "env_prefixes", "required_in_cluster"}}}`.
/// `env` and `env_prefixes` are sorted; each `required_in_cluster` entry is the list of
/// variables that provide one required setting, any one of which will do (the first is
/// the one to set: the service's own name for it).
pub fn manifest() -> Value {
    let bus = Keys::of(&marquee_bus::BusSettings::default()).env("bus");
    let mut by_name = Map::new();
    for service in services() {
        let (mut env, mut prefixes) = service.keys.env(service.name);
        if service.bus {
            env.extend(bus.0.iter().cloned());
            prefixes.extend(bus.1.iter().cloned());
        }
        env.extend(
            EVERY_SERVICE_ENV
                .iter()
                .chain(service.env)
                .map(|name| name.to_string()),
        );
        prefixes.extend(
            EVERY_SERVICE_PREFIXES
                .iter()
                .chain(service.prefixes)
                .map(|name| name.to_string()),
        );
        let required: Vec<Value> = service
            .required
            .iter()
            .map(|required| json!(required.env))
            .collect();
        by_name.insert(
            service.name.to_string(),
            json!({
                "binary": format!("marquee-{}", service.name),
                "env": env,
                "env_prefixes": prefixes,
                "required_in_cluster": required,
            }),
        );
    }
    json!({ "services": by_name })
}

/// The manifest as committed: pretty JSON and a final newline.
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&manifest()).expect("JSON values serialize");
    text.push('\n');
    text
}

/// Every variable any service reads (the docs check names against it).
pub fn every_variable() -> BTreeSet<String> {
    let manifest = manifest();
    manifest["services"]
        .as_object()
        .into_iter()
        .flat_map(|services| services.values())
        .flat_map(|service| service["env"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(manifest: &'a Value, service: &str) -> Vec<&'a str> {
        manifest["services"][service]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect()
    }

    #[test]
    fn the_committed_settings_manifest_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == render(),
            "{PATH} is missing or stale: the settings changed. Regenerate it with\n    {REGENERATE}"
        );
    }

    #[test]
    fn the_manifest_names_what_each_service_reads_and_requires() {
        let manifest = manifest();
        let auth = env_of(&manifest, "auth");
        for var in [
            "MARQUEE_AUTH_DATABASE_URL",
            "MARQUEE_DATABASE_URL",
            "MARQUEE_DB_POOL__MAX_CONNECTIONS",
            "MARQUEE_DB_POOL__MIN_CONNECTIONS",
            "MARQUEE_DB_POOL__ACQUIRE_TIMEOUT_SECS",
            "MARQUEE_PROFILE",
            "MARQUEE_IDENTITY__SIGNING_KEY",
            "MARQUEE_AUTH_KEK__PROVIDER",
            "MARQUEE_AUTH_MAIL__SMTP_URL",
            "MARQUEE_GRPC_RESOLVE_INTERVAL_SECS",
            "MARQUEE_TLS__CA_FILE",
            "MARQUEE_LOG__FORMAT",
        ] {
            assert!(auth.contains(&var), "auth: {var}");
        }
        assert!(
            !auth.contains(&"MARQUEE_AMQP_URL"),
            "auth is not on the bus"
        );
        let content = env_of(&manifest, "content");
        for var in [
            "MARQUEE_AMQP_URL",
            "MARQUEE_BUS_RETRY__MAX_ATTEMPTS",
            "MARQUEE_OBJECT_STORE_URL",
            "MARQUEE_CONTENT_SIGNING_KEY",
        ] {
            assert!(content.contains(&var), "content: {var}");
        }
        let prefixes = &manifest["services"]["content"]["env_prefixes"];
        for prefix in [
            "AWS_",
            "MARQUEE_CONTENT_OBJECT_STORE_OPTIONS__",
            "MARQUEE_IDENTITY__TRUSTED__",
        ] {
            assert!(
                prefixes.as_array().unwrap().contains(&json!(prefix)),
                "content: {prefix}"
            );
        }
        let billing = env_of(&manifest, "billing");
        assert!(billing.contains(&"MARQUEE_STRIPE_WEBHOOK_SECRET"));
        assert!(billing.contains(&"MARQUEE_BILLING_PLANS__PRO__STRIPE_PRICE_ID"));
        let gateway = env_of(&manifest, "gateway");
        for var in [
            "MARQUEE_REDIS_URL",
            "MARQUEE_REDIS_CA_FILE",
            "MARQUEE_GATEWAY_ADDR",
            "MARQUEE_GATEWAY_CONTENT_URL",
        ] {
            assert!(gateway.contains(&var), "gateway: {var}");
        }
        assert_eq!(
            manifest["services"]["gateway"]["binary"],
            json!("marquee-gateway")
        );
        assert_eq!(
            manifest["services"]["content"]["required_in_cluster"][0],
            json!(["MARQUEE_CONTENT_DATABASE_URL", "MARQUEE_DATABASE_URL"])
        );
        assert!(every_variable().contains("MARQUEE_GEMINI_API_KEY"));
        assert!(
            !render().contains("[redacted]"),
            "values are not in the manifest"
        );
    }
}
