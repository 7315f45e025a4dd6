//! Tenant membership: invitations to join the caller's tenant, by its owners (and
//! admins, who may name any tenant). The token is shown once, in the create's answer;
//! the invited person registers with it (`POST /api/v1/auth/register`, `invitation`).

use crate::AppState;
use crate::api::auth::token_response;
use crate::api::{required, time};
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use crate::validate::{self, JsonObject};
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::auth::v1 as pb;
use marquee_proto::convert;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The tenant role an invitation gives, beside `creator` (every member is a creator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationRole {
    Creator,
    Moderator,
    /// Manages the tenant's billing (checkout, portal, plan changes).
    BillingAdmin,
    /// Manages the tenant's members and billing.
    Owner,
}

impl InvitationRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Creator => "creator",
            Self::Moderator => "moderator",
            Self::BillingAdmin => "billing_admin",
            Self::Owner => "owner",
        }
    }
}

/// A new invitation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateInvitationBody {
    /// Only this address may accept it (compared trimmed and lower-cased).
    #[schema(example = "grace@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// `creator` when omitted.
    #[serde(default)]
    #[schema(default = "creator")]
    pub role: Option<InvitationRole>,
    /// Admins only: the tenant to invite into (e.g. a tenant's first owner); the
    /// caller's tenant when omitted or empty. An owner naming another tenant gets 404.
    #[serde(default)]
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub tenant_id: Option<String>,
}

/// An invitation to join a tenant (its token is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationBody {
    pub id: String,
    pub tenant_id: String,
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// `creator`, `moderator`, `billing_admin` or `owner`.
    #[schema(example = "billing_admin")]
    pub role: String,
    /// `pending`, `accepted`, `expired` or `revoked`.
    #[schema(example = "pending")]
    pub status: String,
    /// The user who created it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[schema(required = true)]
    pub accepted_at: Option<DateTime<Utc>>,
    /// The user it made; `null` until accepted.
    #[schema(required = true)]
    pub accepted_by: Option<String>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<pb::Invitation> for InvitationBody {
    fn from(invitation: pb::Invitation) -> Self {
        Self {
            id: invitation.id,
            tenant_id: invitation.tenant_id,
            email: invitation.email,
            role: invitation.role,
            status: invitation.status,
            created_by: invitation.created_by,
            created_at: time(invitation.created_at),
            expires_at: time(invitation.expires_at),
            accepted_at: convert::time(invitation.accepted_at),
            accepted_by: Some(invitation.accepted_by).filter(|id| !id.is_empty()),
            revoked_at: convert::time(invitation.revoked_at),
        }
    }
}

/// An invitation just created: as its list shows it, plus the token (shown this once;
/// only its hash is kept) and the web studio's sign-up page that accepts it.
#[derive(Serialize, ToSchema)]
pub struct CreatedInvitationBody {
    #[serde(flatten)]
    pub invitation: InvitationBody,
    /// Send it to the invited person (e-mail is not sent by Marquee yet); they register
    /// with it as `invitation`.
    #[schema(example = "mqi_3q2-7wEjCk1V0Qm1hQ0pB8b1lQ2u2a3f5YvXn0Zt8xk")]
    pub token: String,
    /// The studio's sign-up page with the token filled in, relative to the studio's
    /// origin.
    #[schema(example = "/signup?invitation=mqi_3q2-7wEjCk1V0Qm1hQ0pB8b1lQ2u2a3f5YvXn0Zt8xk")]
    pub accept_path: String,
}

crate::api::page!(
    /// A tenant's invitations, newest first, at most 200 (not paged: `next_cursor` is
    /// `null`).
    InvitationPageBody of InvitationBody
);

/// Which tenant's invitations to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationQuery {
    /// Admins only: another tenant's; the caller's tenant when omitted or empty.
    #[param(max_length = 128, pattern = "^[A-Za-z0-9_-]{0,128}$")]
    pub tenant_id: Option<String>,
}

/// Invite someone to the tenant
///
/// Needs the `owner` role (or `admin`). The invitation is bound to `email`, carries
/// `role`, works once and expires after 7 days (`MARQUEE_AUTH_INVITATION_TTL_SECS`).
/// The answer carries the token, shown this once (`Cache-Control: no-store`): give it
/// to the invited person, who registers with it.
#[utoipa::path(
    tag = "tenant",
    request_body = CreateInvitationBody,
    responses(
        (status = 201, description = "Invitation created (Cache-Control: no-store); no `Location`: invitations are read through their list", body = CreatedInvitationBody),
        (status = 400, description = "`invalid_email`, `invalid_id` (tenant_id), or a malformed body (an unknown `role` is `invalid_request`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant, or one the caller does not own", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/tenant/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    body: JsonObject<CreateInvitationBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let email = validate::email(&body.email)?;
    validate::optional_id("tenant_id", body.tenant_id.as_deref())?;
    let created = state
        .auth
        .grpc()
        .create_invitation(for_caller(
            caller.principal(),
            pb::CreateInvitationRequest {
                email,
                role: body.role.unwrap_or(InvitationRole::Creator).as_str().into(),
                tenant_id: body.tenant_id.unwrap_or_default(),
                client: context.client_info(),
            },
        ))
        .await?
        .into_inner();
    let invitation = InvitationBody::from(required(created.invitation, "invitation")?);
    Ok(
        token_response(HttpResponse::Created()).json(CreatedInvitationBody {
            invitation,
            accept_path: format!("/signup?invitation={}", created.token),
            token: created.token,
        }),
    )
}

/// The tenant's invitations
///
/// Needs the `owner` role (or `admin`). Newest first, at most 200, with their status
/// as of now; tokens are never shown again.
#[utoipa::path(
    tag = "tenant",
    params(InvitationQuery),
    responses(
        (status = 200, description = "The invitations, in one page", body = InvitationPageBody),
        (status = 404, description = "No such tenant, or one the caller does not own", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/tenant/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<InvitationQuery>,
) -> Result<HttpResponse, Error> {
    let tenant_id = query.into_inner().tenant_id;
    validate::optional_id("tenant_id", tenant_id.as_deref())?;
    let list = state
        .auth
        .grpc()
        .list_invitations(for_caller(
            caller.principal(),
            pb::ListInvitationsRequest {
                tenant_id: tenant_id.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(InvitationPageBody::all(list.invitations)))
}

/// Revoke an invitation
///
/// Needs the `owner` role (or `admin`). It stops working at once; revoking a revoked
/// or expired one changes nothing.
#[utoipa::path(
    tag = "tenant",
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such invitation in a tenant the caller owns", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_accepted`: it was used (the member exists)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/api/v1/tenant/invitations/{id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .auth
        .grpc()
        .revoke_invitation(for_caller(
            caller.principal(),
            pb::RevokeInvitationRequest {
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
    fn roles_are_the_tenant_roles_by_name() {
        for (name, role) in [
            ("creator", InvitationRole::Creator),
            ("moderator", InvitationRole::Moderator),
            ("billing_admin", InvitationRole::BillingAdmin),
            ("owner", InvitationRole::Owner),
        ] {
            let parsed: InvitationRole = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed, role);
            assert_eq!(role.as_str(), name);
            assert_eq!(marquee_platform::Role::parse(name).unwrap().as_str(), name);
        }
        for refused in ["admin", "Owner", "root", ""] {
            assert!(
                serde_json::from_value::<InvitationRole>(serde_json::json!(refused)).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn an_invitation_reads_empty_values_as_null() {
        let body = InvitationBody::from(pb::Invitation {
            id: "i1".into(),
            role: "owner".into(),
            status: "pending".into(),
            ..Default::default()
        });
        let json = serde_json::to_value(body).unwrap();
        assert_eq!(json["accepted_by"], serde_json::Value::Null);
        assert_eq!(json["accepted_at"], serde_json::Value::Null);
        assert_eq!(json["revoked_at"], serde_json::Value::Null);
        assert_eq!(json["role"], "owner");
    }
}
