//! The `Tenant` custom resource (`tenants.marquee.dev`, version `v1`).
//!
//! **Cluster-scoped**: a tenant with `namespace` isolation owns a namespace (`tenant-<name>`),
//! so the resource cannot live inside one — it would be deleted with, or be readable by,
//! whatever namespace held it, and a namespaced owner cannot own a cluster-scoped
//! namespace through an owner reference.
//!
//! The OpenAPI schema generated from these types (enums, lengths, patterns, bounds, one CEL
//! rule) makes the API server refuse malformed specs at `kubectl apply`. What a schema cannot
//! express (map keys, cross-field comparisons of quantities) is checked by
//! [`TenantSpec::validate`], which the reconciler runs before acting.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A Kubernetes quantity as the schema accepts it: a non-negative decimal with an optional
/// SI or binary suffix (`500m`, `2`, `1.5Gi`, `10G`). Exponent forms (`1e3`) are refused.
pub const QUANTITY_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
/// An object count (pods, claims, services…): a plain non-negative integer.
pub const COUNT_PATTERN: &str = r"^[0-9]+$";
/// A coarse e-mail shape for the schema; [`valid_email`] is stricter.
pub const EMAIL_PATTERN: &str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";
/// Most dedicated replicas of one service.
pub const MAX_DEDICATED_REPLICAS: i32 = 20;
/// The services a tenant may get dedicated replicas of (the chart's `services:` keys).
pub const DEDICATED_SERVICES: [&str; 6] = [
    "auth", "billing", "campaign", "content", "gateway", "tagging",
];
/// Flags the operator writes itself next to the spec's: the plan, and whether the tenant
/// is disabled (`services/auth/src/domain/tenants.rs`, `DISABLED_FLAG`).
pub const RESERVED_FLAGS: [&str; 2] = ["plan", "disabled"];
/// Feature flags per tenant: the auth service's limit of 100
/// (`services/auth/src/domain/tenants.rs`) less the [`RESERVED_FLAGS`].
pub const MAX_FEATURE_FLAGS: usize = 100 - RESERVED_FLAGS.len();
/// Admin e-mails per tenant.
pub const MAX_ADMIN_EMAILS: usize = 20;
/// Longest tenant name: the namespace `tenant-<name>` must stay a 63-character DNS label.
pub const MAX_TENANT_NAME: usize = 63 - NAMESPACE_PREFIX.len();
/// Prefix of the namespace a `namespace`-isolated tenant gets.
pub const NAMESPACE_PREFIX: &str = "tenant-";

/// A tenant of the Marquee fleet, declared in git and applied with kubectl.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "marquee.dev",
    version = "v1",
    kind = "Tenant",
    plural = "tenants",
    singular = "tenant",
    shortname = "tnt",
    status = "TenantStatus",
    derive = "PartialEq",
    doc = "A Marquee tenant: plan, isolation, quotas, feature flags and admins (reconciled by marquee-tenant-operator)",
    printcolumn = r#"{"name": "Plan", "type": "string", "jsonPath": ".spec.plan"}"#,
    printcolumn = r#"{"name": "Isolation", "type": "string", "jsonPath": ".spec.isolation"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("self.isolation != 'namespace' || has(self.resourceQuota)")
    .message("namespace isolation requires a resourceQuota"))]
#[x_kube(validation = Rule::new("self.isolation == 'namespace' || (!has(self.resourceQuota) && !has(self.limitRange) && (!has(self.dedicatedReplicas) || size(self.dedicatedReplicas) == 0))")
    .message("resourceQuota, limitRange and dedicatedReplicas need namespace isolation"))]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// Human-readable name shown in the studio and the admin API.
    #[schemars(length(min = 1, max = 100))]
    pub display_name: String,
    /// Billing plan (the plan ids of the billing service's catalogue).
    pub plan: Plan,
    /// `shared`: the tenant's data lives in the shared fleet. `namespace`: the tenant gets its
    /// own namespace with a quota, limit range, default-deny network policy and RBAC.
    pub isolation: Isolation,
    /// Hard limits of the tenant namespace's ResourceQuota (required for `namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_quota: Option<ResourceQuotaSpec>,
    /// Per-container defaults of the tenant namespace's LimitRange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_range: Option<LimitRangeSpec>,
    /// Feature flags synchronised to the auth service (names `[a-z0-9_.-]{1,64}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "feature_flags_schema")]
    pub feature_flags: BTreeMap<String, bool>,
    /// The tenant's administrators: read access to the tenant namespace, tenant admins in auth.
    #[schemars(length(min = 1, max = 20), inner(email, length(max = 254), regex(pattern = EMAIL_PATTERN)))]
    pub admin_emails: Vec<String>,
    /// Dedicated replicas of the tenant's heavy services, service name → replicas (0..=20);
    /// only with `namespace` isolation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "dedicated_replicas_schema")]
    pub dedicated_replicas: BTreeMap<String, i32>,
}

/// The billing plans (`services/billing/src/domain/plans.rs`: `free`, `pro`, `business`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Business,
}

impl Plan {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Business => "business",
        }
    }
}

/// How a tenant is separated from the others.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    Shared,
    Namespace,
}

/// `spec.hard` of the tenant namespace's ResourceQuota. CPU, memory and storage are
/// quantities; the object counts are integers.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceQuotaSpec {
    /// `requests.cpu`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub requests_cpu: Option<String>,
    /// `limits.cpu`
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub limits_cpu: String,
    /// `requests.memory`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub requests_memory: Option<String>,
    /// `limits.memory`
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub limits_memory: String,
    /// `requests.storage`: all persistent volume claims together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub requests_storage: Option<String>,
    /// `pods`
    #[schemars(length(max = 9), regex(pattern = COUNT_PATTERN))]
    pub pods: String,
    /// `persistentvolumeclaims`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 9), regex(pattern = COUNT_PATTERN))]
    pub persistentvolumeclaims: Option<String>,
    /// `services`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 9), regex(pattern = COUNT_PATTERN))]
    pub services: Option<String>,
    /// `services.loadbalancers` (usually 0: traffic enters through the shared gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 9), regex(pattern = COUNT_PATTERN))]
    pub services_loadbalancers: Option<String>,
    /// `configmaps`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 9), regex(pattern = COUNT_PATTERN))]
    pub configmaps: Option<String>,
    /// `secrets`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 9), regex(pattern = COUNT_PATTERN))]
    pub secrets: Option<String>,
}

/// The tenant namespace's LimitRange for containers.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeSpec {
    /// Limits given to a container that sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<CpuMemory>,
    /// Requests given to a container that sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_request: Option<CpuMemory>,
}

/// A CPU and memory pair of quantities.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CpuMemory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = QUANTITY_PATTERN))]
    pub memory: Option<String>,
}

/// What the operator reports back.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// `Ready` and `Degraded` (metav1.Condition: type, status, reason, message,
    /// lastTransitionTime, observedGeneration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub conditions: Vec<Condition>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The namespace created for the tenant (`namespace` isolation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

fn feature_flags_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": MAX_FEATURE_FLAGS,
        "additionalProperties": { "type": "boolean" },
    })
}

fn dedicated_replicas_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": DEDICATED_SERVICES.len(),
        "additionalProperties": {
            "type": "integer",
            "format": "int32",
            "minimum": 0,
            "maximum": MAX_DEDICATED_REPLICAS,
        },
    })
}

/// One problem with a tenant, naming the field (`spec.adminEmails[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl Tenant {
    /// The namespace a `namespace`-isolated tenant owns.
    pub fn namespace_name(&self) -> Option<String> {
        let name = self.metadata.name.as_deref()?;
        (self.spec.isolation == Isolation::Namespace).then(|| format!("{NAMESPACE_PREFIX}{name}"))
    }

    /// The name (it must leave room for the namespace prefix) and the spec.
    pub fn validate(&self) -> Result<(), Vec<SpecError>> {
        let mut errors = match self.spec.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors,
        };
        match self.metadata.name.as_deref() {
            None => errors.insert(0, error("metadata.name", "is missing")),
            Some(name) if !valid_label(name) || name.len() > MAX_TENANT_NAME => errors.insert(
                0,
                error(
                    "metadata.name",
                    format!(
                        "{name:?} must be a DNS label of at most {MAX_TENANT_NAME} characters \
                         (the namespace is {NAMESPACE_PREFIX}<name>)"
                    ),
                ),
            ),
            Some(_) => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl TenantSpec {
    /// Checks beyond the schema, all of them (not just the first failure). The schema
    /// repeats some of them; they are checked again because a spec can reach the operator
    /// without the API server's validation (an older CRD, a test, a `kubectl replace
    /// --validate=false` against a server without the CEL rules).
    pub fn validate(&self) -> Result<(), Vec<SpecError>> {
        let mut errors = Vec::new();
        let display_name = self.display_name.trim();
        if display_name.is_empty() || self.display_name.chars().count() > 100 {
            errors.push(error(
                "spec.displayName",
                "must be 1 to 100 characters, not blank",
            ));
        }

        if self.admin_emails.is_empty() || self.admin_emails.len() > MAX_ADMIN_EMAILS {
            errors.push(error(
                "spec.adminEmails",
                format!("must list 1 to {MAX_ADMIN_EMAILS} addresses"),
            ));
        }
        let mut seen = Vec::new();
        for (i, email) in self.admin_emails.iter().enumerate() {
            let field = format!("spec.adminEmails[{i}]");
            if !valid_email(email) {
                errors.push(error(
                    &field,
                    format!("{email:?} is not a valid e-mail address"),
                ));
            }
            let folded = email.to_ascii_lowercase();
            if seen.contains(&folded) {
                errors.push(error(&field, format!("{email:?} is listed twice")));
            }
            seen.push(folded);
        }

        if self.feature_flags.len() > MAX_FEATURE_FLAGS {
            errors.push(error(
                "spec.featureFlags",
                format!("at most {MAX_FEATURE_FLAGS} flags"),
            ));
        }
        for name in self.feature_flags.keys() {
            if !valid_flag_name(name) {
                errors.push(error(
                    format!("spec.featureFlags.{name}"),
                    "flag names are 1 to 64 characters of a-z, 0-9, _ . -",
                ));
            } else if RESERVED_FLAGS.contains(&name.as_str()) {
                errors.push(error(
                    format!("spec.featureFlags.{name}"),
                    format!("{name:?} is set by the operator (the plan, and disabled on deletion)"),
                ));
            }
        }

        for (service, replicas) in &self.dedicated_replicas {
            let field = format!("spec.dedicatedReplicas.{service}");
            if !DEDICATED_SERVICES.contains(&service.as_str()) {
                errors.push(error(
                    &field,
                    format!("unknown service (one of {})", DEDICATED_SERVICES.join(", ")),
                ));
            }
            if !(0..=MAX_DEDICATED_REPLICAS).contains(replicas) {
                errors.push(error(
                    &field,
                    format!("{replicas} is outside 0..={MAX_DEDICATED_REPLICAS}"),
                ));
            }
        }

        match self.isolation {
            Isolation::Namespace => {
                if self.resource_quota.is_none() {
                    errors.push(error(
                        "spec.resourceQuota",
                        "is required with namespace isolation",
                    ));
                }
            }
            Isolation::Shared => {
                for (present, field) in [
                    (self.resource_quota.is_some(), "spec.resourceQuota"),
                    (self.limit_range.is_some(), "spec.limitRange"),
                    (
                        !self.dedicated_replicas.is_empty(),
                        "spec.dedicatedReplicas",
                    ),
                ] {
                    if present {
                        errors.push(error(field, "needs namespace isolation"));
                    }
                }
            }
        }

        if let Some(quota) = &self.resource_quota {
            quota.check(&mut errors);
        }
        if let Some(limits) = &self.limit_range {
            limits.check(self.resource_quota.as_ref(), &mut errors);
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl ResourceQuotaSpec {
    fn check(&self, errors: &mut Vec<SpecError>) {
        let quantities = [
            ("requestsCpu", self.requests_cpu.as_deref()),
            ("limitsCpu", Some(self.limits_cpu.as_str())),
            ("requestsMemory", self.requests_memory.as_deref()),
            ("limitsMemory", Some(self.limits_memory.as_str())),
            ("requestsStorage", self.requests_storage.as_deref()),
        ];
        for (name, value) in quantities {
            if let Some(value) = value
                && parse_quantity(value).is_none()
            {
                errors.push(error(
                    format!("spec.resourceQuota.{name}"),
                    format!("{value:?} is not a quantity (500m, 2, 1.5Gi…)"),
                ));
            }
        }
        let counts = [
            ("pods", Some(self.pods.as_str())),
            (
                "persistentvolumeclaims",
                self.persistentvolumeclaims.as_deref(),
            ),
            ("services", self.services.as_deref()),
            (
                "servicesLoadbalancers",
                self.services_loadbalancers.as_deref(),
            ),
            ("configmaps", self.configmaps.as_deref()),
            ("secrets", self.secrets.as_deref()),
        ];
        for (name, value) in counts {
            if let Some(value) = value
                && (value.is_empty()
                    || value.len() > 9
                    || !value.bytes().all(|b| b.is_ascii_digit()))
            {
                errors.push(error(
                    format!("spec.resourceQuota.{name}"),
                    format!("{value:?} is not a count (a whole number)"),
                ));
            }
        }
        if self.pods.parse::<u32>() == Ok(0) {
            errors.push(error(
                "spec.resourceQuota.pods",
                "0 pods leaves the namespace unusable",
            ));
        }
        for (what, request, limit) in [
            ("cpu", self.requests_cpu.as_deref(), &self.limits_cpu),
            (
                "memory",
                self.requests_memory.as_deref(),
                &self.limits_memory,
            ),
        ] {
            if let (Some(request), Some(limit)) =
                (request.and_then(parse_quantity), parse_quantity(limit))
                && request > limit
            {
                errors.push(error(
                    format!("spec.resourceQuota.requests{}", capitalise(what)),
                    format!("requests exceed the {what} limit"),
                ));
            }
        }
    }
}

impl LimitRangeSpec {
    fn check(&self, quota: Option<&ResourceQuotaSpec>, errors: &mut Vec<SpecError>) {
        for (name, pair) in [
            ("default", &self.default),
            ("defaultRequest", &self.default_request),
        ] {
            let Some(pair) = pair else { continue };
            for (what, value) in [("cpu", &pair.cpu), ("memory", &pair.memory)] {
                if let Some(value) = value
                    && parse_quantity(value).is_none()
                {
                    errors.push(error(
                        format!("spec.limitRange.{name}.{what}"),
                        format!("{value:?} is not a quantity"),
                    ));
                }
            }
        }
        let get = |pair: &Option<CpuMemory>, what: &str| {
            let pair = pair.as_ref()?;
            let value = if what == "cpu" {
                &pair.cpu
            } else {
                &pair.memory
            };
            parse_quantity(value.as_deref()?)
        };
        for what in ["cpu", "memory"] {
            let default = get(&self.default, what);
            let request = get(&self.default_request, what);
            if let (Some(default), Some(request)) = (default, request)
                && request > default
            {
                errors.push(error(
                    format!("spec.limitRange.defaultRequest.{what}"),
                    "exceeds the default limit",
                ));
            }
            let quota_limit = quota.and_then(|q| {
                parse_quantity(if what == "cpu" {
                    &q.limits_cpu
                } else {
                    &q.limits_memory
                })
            });
            if let (Some(default), Some(quota_limit)) = (default, quota_limit)
                && default > quota_limit
            {
                errors.push(error(
                    format!("spec.limitRange.default.{what}"),
                    format!("exceeds the namespace's {what} quota"),
                ));
            }
        }
    }
}

fn error(field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError {
        field: field.into(),
        message: message.into(),
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The value of a quantity matching [`QUANTITY_PATTERN`] in base units (cores, bytes), or
/// `None` when it does not match.
pub fn parse_quantity(value: &str) -> Option<f64> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(split);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    if whole.is_empty()
        || fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let multiplier = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    number.parse::<f64>().ok().map(|n| n * multiplier)
}

/// An e-mail address the auth service can send to: one `@`, a local part without spaces,
/// a dotted domain of DNS labels, at most 254 characters.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"@()<>[]\\,;:\"".contains(c))
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A feature flag name as the auth service accepts it: `[a-z0-9_.-]{1,64}`.
pub fn valid_flag_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

fn valid_label(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests;
