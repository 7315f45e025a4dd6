//! Tenants and their feature flags.

use crate::AppState;
use crate::api::tenant::{FlagValue, FlagsBody};
use crate::api::{created, time};
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use crate::validate::{self, JsonObject, fields};
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantBody {
    pub id: String,
    #[schema(example = "Acme")]
    pub name: String,
    #[schema(example = "acme")]
    pub slug: String,
    pub sandbox: bool,
    pub created_at: DateTime<Utc>,
}

impl From<pb::Tenant> for TenantBody {
    fn from(tenant: pb::Tenant) -> Self {
        Self {
            id: tenant.id,
            name: tenant.name,
            slug: tenant.slug,
            sandbox: tenant.sandbox,
            created_at: time(tenant.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTenantBody {
    /// 1 to 100 characters, one line, not blank.
    #[schema(
        example = "Acme",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// 3 to 40 lower-case letters, digits and inner dashes; unique.
    #[schema(
        example = "acme",
        min_length = 3,
        max_length = 40,
        pattern = "^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"
    )]
    pub slug: String,
    #[serde(default)]
    pub sandbox: bool,
}

crate::api::page!(
    /// Every tenant (not paged: `next_cursor` is `null`).
    TenantPageBody of TenantBody
);

/// The new complete set of flags of a tenant: at most 100, names of 1 to 64 characters
/// of `a-z 0-9 _ . -`, values booleans or strings of at most 256 characters.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetFlagsBody {
    #[schema(
        example = json!({"campaign_video": true, "theme": "dark"}),
        schema_with = flags_schema
    )]
    pub flags: BTreeMap<String, FlagValue>,
}

/// The flags a request may set, exactly as [`check_flags`] takes them.
fn flags_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let value = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(fields::FLAG_VALUE.max_chars))
                .pattern(Some(fields::FLAG_VALUE.pattern())),
        );
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(fields::MAX_FLAG_NAME_CHARS))
        .pattern(Some(fields::FLAG_NAME_PATTERN));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Flag name (1 to 64 of `a-z 0-9 _ . -`) → a boolean or a string of at most 256 characters (one line); at most 100 flags",
        ))
        .property_names(Some(name))
        .additional_properties(Some(utoipa::openapi::Schema::OneOf(value.build())))
        .max_properties(Some(fields::MAX_FLAGS))
        .build()
}

/// Most flags a tenant may have (auth enforces the same bounds).
pub const MAX_FLAGS: usize = 100;
/// Longest flag name, in characters.
pub const MAX_FLAG_NAME: usize = 64;
/// Longest string flag value, in characters.
pub const MAX_FLAG_VALUE: usize = 256;
/// Longest tenant id accepted in a path (ids are UUIDs).
pub const MAX_TENANT_ID: usize = 128;

/// Refuses oversized or malformed flags at the edge, before they reach auth (and before
/// an oversized name could be echoed into a gRPC status). Never echoes a long input.
pub fn check_flags(flags: &BTreeMap<String, FlagValue>) -> Result<(), Error> {
    let invalid = |message: String| Error::invalid("invalid_flags", message);
    if flags.len() > MAX_FLAGS {
        return Err(invalid(format!(
            "at most {MAX_FLAGS} flags, got {}",
            flags.len()
        )));
    }
    for (name, value) in flags {
        let length = name.chars().count();
        if length == 0 || length > MAX_FLAG_NAME {
            return Err(invalid(format!(
                "flag names must be 1 to {MAX_FLAG_NAME} characters of a-z, 0-9, _ . - (got one of {length} characters)"
            )));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
        {
            return Err(invalid(format!(
                "flag name {name:?} must be 1 to {MAX_FLAG_NAME} characters of a-z, 0-9, _ . -"
            )));
        }
        if let FlagValue::String(text) = value {
            let length = text.chars().count();
            if length > MAX_FLAG_VALUE {
                return Err(invalid(format!(
                    "flag {name:?}: string values are at most {MAX_FLAG_VALUE} characters (got {length})"
                )));
            }
            if marquee_platform::input::has_control(text, marquee_platform::input::Lines::One) {
                return Err(invalid(format!(
                    "flag {name:?}: string values must not contain control characters"
                )));
            }
        }
    }
    Ok(())
}

/// A tenant id from the path, bounded before it is sent anywhere.
fn tenant_id(id: web::Path<String>) -> Result<String, Error> {
    let id = id.into_inner();
    if id.is_empty() || id.chars().count() > MAX_TENANT_ID {
        return Err(Error::invalid(
            "invalid_request",
            format!("invalid path parameter: a tenant id is 1 to {MAX_TENANT_ID} characters"),
        ));
    }
    Ok(id)
}

/// List tenants
#[utoipa::path(
    tag = "admin",
    responses((status = 200, description = "All tenants, in one page", body = TenantPageBody)),
)]
#[get("/api/v1/admin/tenants")]
pub async fn list_tenants(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let list = state
        .auth
        .grpc()
        .list_tenants(for_caller(caller.principal(), pb::ListTenantsRequest {}))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(TenantPageBody::all(list.tenants)))
}

/// A tenant
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The tenant", body = TenantBody)),
)]
#[get("/api/v1/admin/tenants/{id}")]
pub async fn get_tenant(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let tenant = state
        .auth
        .grpc()
        .get_tenant(for_caller(
            caller.principal(),
            pb::GetTenantRequest {
                tenant_id: tenant_id(id)?,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(TenantBody::from(tenant)))
}

/// Create a tenant
#[utoipa::path(
    tag = "admin",
    request_body = CreateTenantBody,
    responses(
        (status = 201, description = "Tenant created", body = TenantBody,
            headers(("Location" = String, description = "The tenant: `/api/v1/admin/tenants/{id}`"))),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/tenants")]
pub async fn create_tenant(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    body: JsonObject<CreateTenantBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    validate::text(&fields::TENANT_NAME, &body.name)?;
    validate::slug(&body.slug)?;
    let tenant = state
        .auth
        .grpc()
        .create_tenant(for_caller(
            caller.principal(),
            pb::CreateTenantRequest {
                name: body.name,
                slug: body.slug,
                sandbox: body.sandbox,
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    let location = format!("/api/v1/admin/tenants/{}", tenant.id);
    Ok(created(location, TenantBody::from(tenant)))
}

/// A tenant's feature flags
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "The tenant's flags", body = FlagsBody),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/admin/tenants/{id}/flags")]
pub async fn get_tenant_flags(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let flags = state
        .auth
        .grpc()
        .get_tenant_flags(for_caller(
            caller.principal(),
            pb::GetTenantFlagsRequest {
                tenant_id: tenant_id(id)?,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(FlagsBody::from(&flags)))
}

/// Replace a tenant's feature flags
///
/// At most 100 flags; names are 1 to 64 characters of `a-z 0-9 _ . -`; values are
/// booleans or strings of at most 256 characters (`400 invalid_flags` otherwise).
/// Gateways pick the change up at once for this replica and within
/// `flags_cache_ttl_secs` for the others.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Tenant id")),
    request_body = SetFlagsBody,
    responses(
        (status = 200, description = "The tenant's new flags", body = FlagsBody),
        (status = 400, description = "Invalid flags (`invalid_flags`) or body (`invalid_request`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/api/v1/admin/tenants/{id}/flags")]
pub async fn set_tenant_flags(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    id: web::Path<String>,
    body: JsonObject<SetFlagsBody>,
) -> Result<HttpResponse, Error> {
    let tenant_id = tenant_id(id)?;
    let body = body.into_inner();
    check_flags(&body.flags)?;
    let flags = state
        .auth
        .grpc()
        .set_tenant_flags(for_caller(
            caller.principal(),
            pb::SetTenantFlagsRequest {
                tenant_id: tenant_id.clone(),
                flags: body
                    .flags
                    .into_iter()
                    .map(|(name, value)| (name, value.into()))
                    .collect(),
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    state.flags.invalidate(&tenant_id).await;
    if flags.tenant_id != tenant_id && !flags.tenant_id.is_empty() {
        state.flags.invalidate(&flags.tenant_id).await;
    }
    Ok(HttpResponse::Ok().json(FlagsBody::from(&flags)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(pairs: &[(&str, FlagValue)]) -> BTreeMap<String, FlagValue> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_string(), value.clone()))
            .collect()
    }

    #[test]
    fn flags_are_bounded_without_echoing_long_input() {
        let longest = "a".repeat(MAX_FLAG_NAME);
        let ok = flags(&[
            ("campaign_video", FlagValue::Bool(true)),
            ("ui.theme-v2", FlagValue::String("d".repeat(MAX_FLAG_VALUE))),
            (longest.as_str(), FlagValue::Bool(false)),
        ]);
        assert!(check_flags(&ok).is_ok());
        let long = "x".repeat(100_000);
        for bad in [
            flags(&[(long.as_str(), FlagValue::Bool(true))]),
            flags(&[("", FlagValue::Bool(true))]),
            flags(&[("Upper", FlagValue::Bool(true))]),
            flags(&[("ok", FlagValue::String(long.clone()))]),
            (0..=MAX_FLAGS)
                .map(|i| (format!("f{i}"), FlagValue::Bool(true)))
                .collect(),
        ] {
            let error = check_flags(&bad).unwrap_err();
            assert_eq!(error.code, "invalid_flags");
            assert_eq!(error.status().as_u16(), 400);
            assert!(error.message.len() < 200, "{}", error.message);
        }
    }
}
