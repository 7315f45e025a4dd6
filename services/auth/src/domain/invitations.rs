//! Tenant membership: who may join a tenant, and as what.
//!
//! Anyone may register in the default tenant (as a `creator`). Joining any other tenant
//! needs an invitation: created by the tenant's owner (or a platform admin, for any
//! tenant), bound to one e-mail address (compared normalised, so case-insensitively),
//! carrying the tenant role the new member gets beside `creator`, single use, and
//! expiring (`invitation_ttl_secs`, 7 days by default). The token is 256 random bits,
//! returned once and stored only as its SHA-256 hash.
//!
//! A registration naming another tenant without an invitation is refused with
//! `invitation_required`, whether or not that tenant exists; an invitation that is
//! unknown, used, revoked, expired, for another address or another tenant is refused
//! with `invitation_invalid`, the same answer for each reason.

use super::audit::{AuditEvent, action, outcome};
use super::email::Email;
use super::sessions::hash_token;
use super::tenants::Tenant;
use super::users::User;
use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use marquee_platform::input;
use marquee_platform::{Principal, PrincipalKind, Role};

const TOKEN_PREFIX: &str = "mqi_";
/// The most invitations a list answers (newest first).
pub const LIST_LIMIT: u64 = 200;

/// The roles an invitation may carry. `admin` is the platform's, never a tenant's: no
/// invitation makes one.
pub const INVITABLE: [Role; 4] = [
    Role::Creator,
    Role::Moderator,
    Role::BillingAdmin,
    Role::Owner,
];

/// An invitation to join a tenant, as stored (the token only as its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub id: String,
    pub tenant_id: String,
    /// Normalised (trimmed, lower-case).
    pub email: String,
    /// The role the new member gets beside `creator`.
    pub role: Role,
    pub token_hash: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

impl InvitationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

impl Invitation {
    pub fn status(&self, now: DateTime<Utc>) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }

    /// The roles of the member it makes: `creator`, and its role.
    pub fn member_roles(&self) -> Vec<Role> {
        member_roles(self.role)
    }
}

/// Everyone who joins a tenant is a creator; an invitation's role comes on top.
fn member_roles(role: Role) -> Vec<Role> {
    if role == Role::Creator {
        vec![Role::Creator]
    } else {
        vec![Role::Creator, role]
    }
}

pub struct NewInvitation {
    pub email: String,
    /// A role name; empty means `creator`.
    pub role: String,
    /// Admins only: another tenant; empty means the caller's.
    pub tenant_id: Option<String>,
}

/// Where a registration lands, and with which roles.
pub(crate) struct Admission {
    pub tenant: Tenant,
    pub roles: Vec<Role>,
    pub invitation: Option<Invitation>,
}

fn new_token() -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

fn invitation_required() -> AuthError {
    AuthError::Refused {
        code: "invitation_required",
        message: "joining this tenant needs an invitation",
    }
}

fn invitation_invalid() -> AuthError {
    AuthError::Refused {
        code: "invitation_invalid",
        message: "this invitation cannot be used: it is unknown, used, revoked or expired, or it was made for another e-mail address or tenant",
    }
}

/// The role an invitation may carry, or `invalid_role`.
pub fn invitable_role(name: &str) -> Result<Role> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(Role::Creator);
    }
    Role::parse(name)
        .filter(|role| INVITABLE.contains(role))
        .ok_or_else(|| {
            AuthError::invalid(
                "invalid_role",
                format!(
                    "role must be one of {}",
                    INVITABLE.map(Role::as_str).join(", ")
                ),
            )
        })
}

/// Whether `caller` manages `tenant_id`'s membership: its owners, and admins for every
/// tenant. Users only.
fn manages(caller: &Principal, tenant_id: &str) -> bool {
    caller.kind == PrincipalKind::User
        && (caller.acts_as(Role::Admin)
            || (caller.tenant_id == tenant_id && caller.acts_as(Role::Owner)))
}

impl Auth {
    /// The tenant whose invitations `caller` asks about: its own unless an admin names
    /// another. Someone else's tenant is "not found", whether it exists or not.
    async fn managed_tenant(&self, caller: &Principal, tenant_id: Option<&str>) -> Result<Tenant> {
        if caller.kind != PrincipalKind::User || !caller.acts_as(Role::Owner) {
            return Err(AuthError::Forbidden(
                "managing a tenant's members needs the owner role",
            ));
        }
        let tenant_id = tenant_id
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .unwrap_or(&caller.tenant_id);
        input::id("tenant_id", tenant_id)?;
        if !manages(caller, tenant_id) {
            return Err(AuthError::NotFound("tenant"));
        }
        self.tenant(tenant_id).await
    }

    /// Creates an invitation; returns it with its token, which is not stored in clear.
    pub async fn create_invitation(
        &self,
        caller: &Principal,
        new: NewInvitation,
        context: &RequestContext,
    ) -> Result<(Invitation, String)> {
        let email = Email::parse(&new.email)?;
        let role = invitable_role(&new.role)?;
        let tenant = self
            .managed_tenant(caller, new.tenant_id.as_deref())
            .await?;
        let token = new_token();
        let now = Utc::now();
        let invitation = store::invitations::insert(
            &self.db,
            Invitation {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.id.clone(),
                email: email.as_str().to_string(),
                role,
                token_hash: hash_token(&token),
                created_by: caller.subject.clone(),
                created_at: now,
                expires_at: now + Duration::seconds(self.settings.invitation_ttl_secs.max(1)),
                accepted_at: None,
                accepted_by: None,
                revoked_at: None,
            },
        )
        .await?;
        self.audit(AuditEvent {
            tenant_id: &tenant.id,
            actor_id: &caller.subject,
            action: action::INVITATION_CREATED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("invitation={} role={}", invitation.id, invitation.role),
        })
        .await;
        Ok((invitation, token))
    }

    /// A tenant's invitations, newest first (at most [`LIST_LIMIT`]).
    pub async fn list_invitations(
        &self,
        caller: &Principal,
        tenant_id: Option<&str>,
    ) -> Result<Vec<Invitation>> {
        let tenant = self.managed_tenant(caller, tenant_id).await?;
        Ok(store::invitations::list(&self.db, &tenant.id, LIST_LIMIT).await?)
    }

    /// Revokes a pending invitation (revoking a revoked or expired one changes nothing);
    /// an accepted one is `invitation_accepted`. Another tenant's is "not found".
    pub async fn revoke_invitation(
        &self,
        caller: &Principal,
        id: &str,
        context: &RequestContext,
    ) -> Result<Invitation> {
        input::id("id", id)?;
        if caller.kind != PrincipalKind::User || !caller.acts_as(Role::Owner) {
            return Err(AuthError::Forbidden(
                "managing a tenant's members needs the owner role",
            ));
        }
        let invitation = store::invitations::find(&self.db, id)
            .await?
            .filter(|invitation| manages(caller, &invitation.tenant_id))
            .ok_or(AuthError::NotFound("invitation"))?;
        let now = Utc::now();
        match invitation.status(now) {
            InvitationStatus::Accepted => {
                return Err(AuthError::Conflict {
                    code: "invitation_accepted",
                    message: "this invitation was accepted: remove the member instead".into(),
                });
            }
            InvitationStatus::Revoked => return Ok(invitation),
            InvitationStatus::Pending | InvitationStatus::Expired => {}
        }
        if !store::invitations::revoke(&self.db, id, now).await? {
            // Accepted or revoked meanwhile: answer as it is now.
            let current = store::invitations::find(&self.db, id)
                .await?
                .ok_or(AuthError::NotFound("invitation"))?;
            if current.status(now) == InvitationStatus::Accepted {
                return Err(AuthError::Conflict {
                    code: "invitation_accepted",
                    message: "this invitation was accepted: remove the member instead".into(),
                });
            }
            return Ok(current);
        }
        self.audit(AuditEvent {
            tenant_id: &invitation.tenant_id,
            actor_id: &caller.subject,
            action: action::INVITATION_REVOKED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("invitation={}", invitation.id),
        })
        .await;
        Ok(Invitation {
            revoked_at: Some(now),
            ..invitation
        })
    }

    /// Where a registration of `email` may land: the default tenant as a creator, or,
    /// with a valid invitation for `email`, the invitation's tenant with its roles.
    pub(crate) async fn admit(
        &self,
        tenant_id: Option<&str>,
        email: &Email,
        invitation: Option<&str>,
    ) -> Result<Admission> {
        let tenant_id = tenant_id.map(str::trim).filter(|id| !id.is_empty());
        if let Some(id) = tenant_id {
            input::id("tenant_id", id)?;
        }
        let token = invitation.map(str::trim).filter(|token| !token.is_empty());
        let Some(token) = token else {
            let default = self.ensure_default_tenant().await?;
            return match tenant_id {
                None => Ok(Admission {
                    tenant: default,
                    roles: vec![Role::Creator],
                    invitation: None,
                }),
                Some(id) if id == default.id => Ok(Admission {
                    tenant: default,
                    roles: vec![Role::Creator],
                    invitation: None,
                }),
                // Whether or not it exists: the answer says nothing about the tenant.
                Some(_) => Err(invitation_required()),
            };
        };
        let found = store::invitations::find_by_hash(&self.db, &hash_token(token)).await?;
        let invitation = found
            .filter(|found| found.status(Utc::now()) == InvitationStatus::Pending)
            .filter(|found| found.email == email.as_str())
            .filter(|found| tenant_id.is_none_or(|id| id == found.tenant_id))
            .ok_or_else(invitation_invalid)?;
        let tenant = store::tenants::find(&self.db, &invitation.tenant_id)
            .await?
            .ok_or_else(invitation_invalid)?;
        Ok(Admission {
            tenant,
            roles: invitation.member_roles(),
            invitation: Some(invitation),
        })
    }

    /// Creates the user an [`Admission`] allows. An invitation is claimed first (single
    /// use: of two registrations with it, one wins) and given back if the user cannot be
    /// created (e.g. the e-mail is taken in that tenant).
    pub(crate) async fn create_member(
        &self,
        admission: Admission,
        email: &Email,
        password: &str,
        display_name: &str,
        context: &RequestContext,
    ) -> Result<User> {
        let Some(invitation) = admission.invitation else {
            return self
                .create_user(
                    &admission.tenant.id,
                    email,
                    password,
                    display_name,
                    &admission.roles,
                )
                .await;
        };
        if !store::invitations::claim(&self.db, &invitation.id, Utc::now()).await? {
            return Err(invitation_invalid());
        }
        let created = self
            .create_user(
                &admission.tenant.id,
                email,
                password,
                display_name,
                &admission.roles,
            )
            .await;
        let user = match created {
            Ok(user) => user,
            Err(error) => {
                if let Err(release) = store::invitations::release(&self.db, &invitation.id).await {
                    tracing::warn!(%release, invitation = %invitation.id, "giving an invitation back failed");
                }
                return Err(error);
            }
        };
        store::invitations::set_accepted_by(&self.db, &invitation.id, &user.id).await?;
        self.audit(AuditEvent {
            tenant_id: &user.tenant_id,
            actor_id: &user.id,
            action: action::INVITATION_ACCEPTED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("invitation={} role={}", invitation.id, invitation.role),
        })
        .await;
        Ok(user)
    }
}
