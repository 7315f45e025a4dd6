//! Tenants and their feature flags.

use crate::AppState;
use crate::api::tenant::{FlagValue, FlagsBody};
use crate::api::time;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
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
    #[schema(example = "Acme")]
    pub name: String,
    /// Lower-case letters, digits and dashes.
    #[schema(example = "acme")]
    pub slug: String,
    #[serde(default)]
    pub sandbox: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TenantListBody {
    pub tenants: Vec<TenantBody>,
}

/// The new complete set of flags of a tenant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetFlagsBody {
    #[schema(example = json!({"campaign_video": true, "theme": "dark"}))]
    pub flags: BTreeMap<String, FlagValue>,
}

/// List tenants
#[utoipa::path(
    tag = "admin",
    responses((status = 200, description = "All tenants", body = TenantListBody)),
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
    Ok(HttpResponse::Ok().json(TenantListBody {
        tenants: list.tenants.into_iter().map(Into::into).collect(),
    }))
}

/// Create a tenant
#[utoipa::path(
    tag = "admin",
    request_body = CreateTenantBody,
    responses(
        (status = 201, description = "Tenant created", body = TenantBody),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/tenants")]
pub async fn create_tenant(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    body: web::Json<CreateTenantBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
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
    Ok(HttpResponse::Created().json(TenantBody::from(tenant)))
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
                tenant_id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(FlagsBody::from(&flags)))
}

/// Replace a tenant's feature flags
///
/// Values are booleans or strings. Gateways pick the change up at once for this replica
/// and within `flags_cache_ttl_secs` for the others.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Tenant id")),
    request_body = SetFlagsBody,
    responses(
        (status = 200, description = "The tenant's new flags", body = FlagsBody),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/api/v1/admin/tenants/{id}/flags")]
pub async fn set_tenant_flags(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    id: web::Path<String>,
    body: web::Json<SetFlagsBody>,
) -> Result<HttpResponse, Error> {
    let tenant_id = id.into_inner();
    let flags = state
        .auth
        .grpc()
        .set_tenant_flags(for_caller(
            caller.principal(),
            pb::SetTenantFlagsRequest {
                tenant_id: tenant_id.clone(),
                flags: body
                    .into_inner()
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
