//! Administration (admin users only, see `policy`): partner clients, tenants and their
//! feature flags, the audit log.

use super::tenant::{FlagValue, FlagsBody};
use super::{optional_time, required, time, to_timestamp};
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use crate::token::RateTier;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The scope catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "assets:read")]
    AssetsRead,
    #[serde(rename = "assets:write")]
    AssetsWrite,
    #[serde(rename = "campaigns:read")]
    CampaignsRead,
    #[serde(rename = "campaigns:write")]
    CampaignsWrite,
    #[serde(rename = "billing:read")]
    BillingRead,
    #[serde(rename = "tenant:read")]
    TenantRead,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Self::AssetsRead,
        Self::AssetsWrite,
        Self::CampaignsRead,
        Self::CampaignsWrite,
        Self::BillingRead,
        Self::TenantRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AssetsRead => "assets:read",
            Self::AssetsWrite => "assets:write",
            Self::CampaignsRead => "campaigns:read",
            Self::CampaignsWrite => "campaigns:write",
            Self::BillingRead => "billing:read",
            Self::TenantRead => "tenant:read",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::AssetsRead => "Read assets",
            Self::AssetsWrite => "Upload and change assets",
            Self::CampaignsRead => "Read campaigns",
            Self::CampaignsWrite => "Create and change campaigns",
            Self::BillingRead => "Read plans, subscriptions and usage",
            Self::TenantRead => "Read the tenant's feature flags",
        }
    }
}

/// Where a partner client may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Only inside a sandbox tenant.
    Sandbox,
    Live,
}

impl Environment {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Live => "live",
        }
    }
}

fn tier_str(tier: RateTier) -> &'static str {
    match tier {
        RateTier::Basic => "basic",
        RateTier::Standard => "standard",
        RateTier::Premium => "premium",
    }
}

/// A new partner client.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOAuthClientBody {
    #[schema(example = "Acme integration")]
    pub name: String,
    /// Scopes the client may request, from the catalogue.
    pub scopes: Vec<Scope>,
    pub environment: Environment,
    pub rate_tier: RateTier,
    /// Tenant the client acts in; the caller's tenant when omitted.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// A partner client (its secret is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthClientBody {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    #[schema(example = json!(["assets:read"]))]
    pub scopes: Vec<String>,
    #[schema(example = "sandbox")]
    pub environment: String,
    #[schema(example = "basic")]
    pub rate_tier: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<pb::OAuthClient> for OAuthClientBody {
    fn from(client: pb::OAuthClient) -> Self {
        Self {
            id: client.id,
            tenant_id: client.tenant_id,
            name: client.name,
            scopes: client.scopes,
            environment: client.environment,
            rate_tier: client.rate_tier,
            created_at: time(client.created_at),
            revoked_at: optional_time(client.revoked_at),
        }
    }
}

/// A client just created, with its secret (shown once).
#[derive(Serialize, ToSchema)]
pub struct CreatedOAuthClientBody {
    pub client: OAuthClientBody,
    pub client_secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct OAuthClientListBody {
    pub clients: Vec<OAuthClientBody>,
}

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

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `login`, `access_denied`, `client_created`.
    pub action: Option<String>,
    /// User or client id.
    pub actor_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: Option<String>,
    /// Entries at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size (auth caps it).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryBody {
    pub id: String,
    pub tenant_id: String,
    /// User or client id; empty when unknown (e.g. a failed login).
    pub actor_id: String,
    #[schema(example = "access_denied")]
    pub action: String,
    #[schema(example = "denied")]
    pub outcome: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
    pub occurred_at: DateTime<Utc>,
}

impl From<pb::AuditEntry> for AuditEntryBody {
    fn from(entry: pb::AuditEntry) -> Self {
        Self {
            id: entry.id,
            tenant_id: entry.tenant_id,
            actor_id: entry.actor_id,
            action: entry.action,
            outcome: entry.outcome,
            ip: entry.ip,
            user_agent: entry.user_agent,
            detail: entry.detail,
            occurred_at: time(entry.occurred_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPageBody {
    pub entries: Vec<AuditEntryBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Create a partner client
///
/// The response holds the client secret; it is shown once and stored only hashed.
#[utoipa::path(
    tag = "admin",
    request_body = CreateOAuthClientBody,
    responses((status = 201, description = "Client created", body = CreatedOAuthClientBody)),
)]
#[post("/api/v1/admin/oauth-clients")]
pub async fn create_oauth_client(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    body: web::Json<CreateOAuthClientBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let created = state
        .auth
        .grpc()
        .create_o_auth_client(for_caller(
            caller.principal(),
            pb::CreateOAuthClientRequest {
                name: body.name,
                scopes: body.scopes.iter().map(|s| s.as_str().to_string()).collect(),
                environment: body.environment.as_str().into(),
                rate_tier: tier_str(body.rate_tier).into(),
                tenant_id: body.tenant_id.unwrap_or_default(),
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(CreatedOAuthClientBody {
        client: required(created.client, "client")?.into(),
        client_secret: created.client_secret,
    }))
}

/// List partner clients
#[utoipa::path(
    tag = "admin",
    responses((status = 200, description = "The tenant's clients", body = OAuthClientListBody)),
)]
#[get("/api/v1/admin/oauth-clients")]
pub async fn list_oauth_clients(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let list = state
        .auth
        .grpc()
        .list_o_auth_clients(for_caller(
            caller.principal(),
            pb::ListOAuthClientsRequest {},
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(OAuthClientListBody {
        clients: list.clients.into_iter().map(Into::into).collect(),
    }))
}

/// Revoke a partner client
///
/// Its secret stops working at once; tokens already issued expire on their own.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/api/v1/admin/oauth-clients/{id}")]
pub async fn revoke_oauth_client(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .auth
        .grpc()
        .revoke_o_auth_client(for_caller(
            caller.principal(),
            pb::RevokeOAuthClientRequest {
                id: id.into_inner(),
                client: context.client_info(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
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

/// The audit log
///
/// Newest first, filtered, paged with an opaque cursor.
#[utoipa::path(
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, description = "A page of entries", body = AuditPageBody)),
)]
#[get("/api/v1/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let page = state
        .auth
        .grpc()
        .list_audit(for_caller(
            caller.principal(),
            pb::ListAuditRequest {
                action: query.action.unwrap_or_default(),
                actor_id: query.actor_id.unwrap_or_default(),
                outcome: query.outcome.unwrap_or_default(),
                since: query.since.map(to_timestamp),
                until: query.until.map(to_timestamp),
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AuditPageBody {
        entries: page.entries.into_iter().map(Into::into).collect(),
        next_cursor: Some(page.next_cursor).filter(|c| !c.is_empty()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_reject_values_outside_the_catalogue() {
        let ok: CreateOAuthClientBody = serde_json::from_value(serde_json::json!({
            "name": "x", "scopes": ["assets:read", "tenant:read"],
            "environment": "sandbox", "rate_tier": "premium"
        }))
        .unwrap();
        assert_eq!(ok.scopes, vec![Scope::AssetsRead, Scope::TenantRead]);
        assert_eq!(ok.rate_tier, RateTier::Premium);
        for bad in [
            serde_json::json!({"name": "x", "scopes": ["root"], "environment": "live", "rate_tier": "basic"}),
            serde_json::json!({"name": "x", "scopes": [], "environment": "prod", "rate_tier": "basic"}),
            serde_json::json!({"name": "x", "scopes": [], "environment": "live", "rate_tier": "gold"}),
        ] {
            assert!(serde_json::from_value::<CreateOAuthClientBody>(bad).is_err());
        }
        for scope in Scope::ALL {
            assert_eq!(serde_json::to_value(scope).unwrap(), scope.as_str());
        }
    }

    #[test]
    fn audit_query_parses_times() {
        let query: AuditQuery =
            serde_urlencoded::from_str("action=login&since=2026-11-01T00:00:00Z&limit=10").unwrap();
        assert_eq!(query.limit, Some(10));
        assert!(query.since.is_some());
        assert!(serde_urlencoded::from_str::<AuditQuery>("since=yesterday").is_err());
        assert!(serde_urlencoded::from_str::<AuditQuery>("limit=-1").is_err());
    }
}
