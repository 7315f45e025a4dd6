//! Partner (OAuth) clients: the scope catalogue, creating, listing, rotating the secret
//! of and revoking them.

use crate::AppState;
use crate::api::auth::token_response;
use crate::api::{self, required, time};
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use crate::token::RateTier;
use crate::validate::{self, JsonObject, fields};
use actix_web::http::header::{self, HeaderValue};
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
    /// 1 to 100 characters, one line, not blank.
    #[schema(
        example = "Acme integration",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Scopes the client may request, from the catalogue: at least one.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    pub environment: Environment,
    /// Throttling tier; `standard` when omitted.
    #[serde(default)]
    #[schema(default = "standard")]
    pub rate_tier: Option<RateTier>,
    /// Tenant the client acts in; the caller's tenant when omitted or empty.
    #[serde(default)]
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
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

/// A client just created: the client as `GET /api/v1/admin/oauth-clients/{id}`
/// returns it, plus the OAuth2 credentials, `client_id` (the same as `id`) and
/// `client_secret` (shown this once; only its hash is kept).
#[derive(Serialize, ToSchema)]
pub struct CreatedOAuthClientBody {
    #[serde(flatten)]
    pub client: OAuthClientBody,
    /// The client's `id`, under its OAuth2 name.
    pub client_id: String,
    /// Shown this once.
    pub client_secret: String,
}

crate::api::page!(
    /// Every partner client (not paged: `next_cursor` is `null`).
    OAuthClientPageBody of OAuthClientBody
);

/// Create a partner client
///
/// The answer is the client as its read returns it, plus `client_id` (= `id`) and
/// `client_secret`: the secret is shown this once and stored only hashed.
#[utoipa::path(
    tag = "admin",
    request_body = CreateOAuthClientBody,
    responses(
        (status = 201, description = "Client created", body = CreatedOAuthClientBody,
            headers(("Location" = String, description = "The client: `/api/v1/admin/oauth-clients/{id}`"))),
        (status = 400, description = "`invalid_name`, `invalid_scope`, `invalid_id` (tenant_id), `environment_mismatch` (a sandbox client for a live tenant or the reverse), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant (`tenant_id`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/oauth-clients")]
pub async fn create_oauth_client(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    body: JsonObject<CreateOAuthClientBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    validate::text(&fields::CLIENT_NAME, &body.name)?;
    if body.scopes.is_empty() {
        return Err(Error::invalid(
            "invalid_scope",
            "`scopes` must grant at least one scope",
        ));
    }
    validate::optional_id("tenant_id", body.tenant_id.as_deref())?;
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
    let client = OAuthClientBody::from(required(created.client, "client")?);
    let mut answer = api::created(
        format!("/api/v1/admin/oauth-clients/{}", client.id),
        CreatedOAuthClientBody {
            client_id: client.id.clone(),
            client,
            client_secret: created.client_secret,
        },
    );
    // The secret is in the body: never cached.
    let headers = answer.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(answer)
}

/// A partner client
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, description = "The client", body = OAuthClientBody)),
)]
#[get("/api/v1/admin/oauth-clients/{id}")]
pub async fn get_oauth_client(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let client = state
        .auth
        .grpc()
        .get_o_auth_client(for_caller(
            caller.principal(),
            pb::GetOAuthClientRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(OAuthClientBody::from(client)))
}

/// List partner clients
#[utoipa::path(
    tag = "admin",
    responses((status = 200, description = "Every client, in one page", body = OAuthClientPageBody)),
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
    Ok(HttpResponse::Ok().json(OAuthClientPageBody::all(list.clients)))
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

/// Rotate a partner client's secret
///
/// Gives the client a new secret, answered as the create answers (the client plus
/// `client_id` and `client_secret`, shown this once; `Cache-Control: no-store`). The
/// old secret stops getting tokens at once; tokens it already got stay valid until they
/// expire. The id, name, scopes, environment and tier are kept.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 200, description = "The client with its new secret (Cache-Control: no-store)", body = CreatedOAuthClientBody),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client is revoked (`client_revoked`): create a new one", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/admin/oauth-clients/{id}/rotate-secret")]
pub async fn rotate_oauth_client_secret(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let rotated = state
        .auth
        .grpc()
        .rotate_o_auth_client_secret(for_caller(
            caller.principal(),
            pb::RotateOAuthClientSecretRequest {
                id: id.into_inner(),
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    let client = OAuthClientBody::from(required(rotated.client, "client")?);
    // The secret is in the body: never cached.
    Ok(
        token_response(HttpResponse::Ok()).json(CreatedOAuthClientBody {
            client_id: client.id.clone(),
            client,
            client_secret: rotated.client_secret,
        }),
    )
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
