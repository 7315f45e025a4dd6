//! Partner (OAuth) clients: the scope catalogue, creating, listing and revoking them.

use crate::AppState;
use crate::api::{required, time};
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use crate::token::RateTier;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use marquee_proto::convert;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The scope catalogue (defined once, in the platform).
pub use marquee_platform::Scope;

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
    /// Throttling tier; `standard` when omitted.
    #[serde(default)]
    #[schema(default = "standard")]
    pub rate_tier: Option<RateTier>,
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
            revoked_at: convert::time(client.revoked_at),
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
                // Omitted: auth applies its default (`standard`).
                rate_tier: body.rate_tier.map(tier_str).unwrap_or_default().into(),
                tenant_id: body.tenant_id.unwrap_or_default(),
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    // The secret is in the body: never cached.
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(CreatedOAuthClientBody {
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
        assert_eq!(ok.rate_tier, Some(RateTier::Premium));
        let defaulted: CreateOAuthClientBody = serde_json::from_value(serde_json::json!({
            "name": "x", "scopes": ["assets:read"], "environment": "live"
        }))
        .unwrap();
        assert_eq!(defaulted.rate_tier, None, "auth applies the default");
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
}
