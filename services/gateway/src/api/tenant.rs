//! The caller's tenant, for users and partner clients (scope `tenant:read`).

use crate::AppState;
use crate::policy::Authenticated;
use actix_web::{HttpResponse, get, web};
use marquee_platform::Error;
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A feature flag's value: a boolean or a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FlagValue {
    Bool(bool),
    String(String),
}

impl<'de> Deserialize<'de> for FlagValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = FlagValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean or a string")
            }

            fn visit_bool<E>(self, value: bool) -> Result<FlagValue, E> {
                Ok(FlagValue::Bool(value))
            }

            fn visit_str<E>(self, value: &str) -> Result<FlagValue, E> {
                Ok(FlagValue::String(value.to_string()))
            }

            fn visit_string<E>(self, value: String) -> Result<FlagValue, E> {
                Ok(FlagValue::String(value))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl From<FlagValue> for pb::FlagValue {
    fn from(value: FlagValue) -> Self {
        Self {
            value: Some(match value {
                FlagValue::Bool(b) => pb::flag_value::Value::BoolValue(b),
                FlagValue::String(s) => pb::flag_value::Value::StringValue(s),
            }),
        }
    }
}

/// A tenant's feature flags.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagsBody {
    pub tenant_id: String,
    #[schema(example = json!({"campaign_video": true, "theme": "dark"}))]
    pub flags: BTreeMap<String, FlagValue>,
}

impl From<&pb::TenantFlags> for FlagsBody {
    fn from(flags: &pb::TenantFlags) -> Self {
        Self {
            tenant_id: flags.tenant_id.clone(),
            flags: flags
                .flags
                .iter()
                .filter_map(|(name, value)| {
                    let value = match value.value.clone()? {
                        pb::flag_value::Value::BoolValue(b) => FlagValue::Bool(b),
                        pb::flag_value::Value::StringValue(s) => FlagValue::String(s),
                    };
                    Some((name.clone(), value))
                })
                .collect(),
        }
    }
}

/// The caller's tenant's feature flags
///
/// Served from a short cache (`flags_cache_ttl_secs`). Needs the scope `tenant:read`.
#[utoipa::path(
    tag = "tenant",
    responses((status = 200, description = "The flags of the caller's tenant", body = FlagsBody)),
)]
#[get("/api/v1/tenant/flags")]
pub async fn own_flags(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let flags = state.flags.for_caller(caller.principal()).await?;
    Ok(HttpResponse::Ok().json(FlagsBody::from(flags.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_are_booleans_or_strings() {
        let flags: BTreeMap<String, FlagValue> =
            serde_json::from_str(r#"{"a": true, "b": "dark"}"#).unwrap();
        assert_eq!(flags["a"], FlagValue::Bool(true));
        assert_eq!(flags["b"], FlagValue::String("dark".into()));
        let error = serde_json::from_str::<BTreeMap<String, FlagValue>>(r#"{"a": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("a boolean or a string"), "{error}");
        assert!(serde_json::from_str::<BTreeMap<String, FlagValue>>(r#"{"a": null}"#).is_err());
        let json = serde_json::to_value(FlagsBody {
            tenant_id: "t".into(),
            flags,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"tenant_id": "t", "flags": {"a": true, "b": "dark"}})
        );
    }
}
