//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `AuthError` maps to them in `error.rs`.

mod convert;

use crate::domain::clients::NewClient;
use crate::domain::invitations::NewInvitation;
use crate::domain::oidc::ExternalCallback;
use crate::domain::tenants::NewTenant;
use crate::domain::users::{Credentials, Registration};
use crate::domain::{Auth, RequestContext, audit::AuditQuery};
use crate::error::AuthError;
use marquee_platform::service_identity::VerifiedCaller;
use marquee_platform::{Error, Principal, PrincipalKind, Role};
use marquee_proto::auth::v1 as pb;
use marquee_proto::convert::non_empty;
use pb::auth_service_server::AuthService;
use tonic::{Request, Response, Status};

pub use pb::auth_service_server::AuthServiceServer;

pub struct AuthGrpc {
    auth: Auth,
}

impl AuthGrpc {
    pub fn new(auth: Auth) -> Self {
        Self { auth }
    }

    pub fn into_server(self) -> AuthServiceServer<Self> {
        AuthServiceServer::new(self)
    }
}

fn context(edge: bool, client: Option<pb::ClientInfo>) -> RequestContext {
    // Only the gateway sees the client: another service's ClientInfo would be its guess.
    let client = client.filter(|_| edge).unwrap_or_default();
    RequestContext {
        ip: client.ip,
        user_agent: client.user_agent,
    }
}

/// Whether the verified caller is the gateway, the one service that sees end users.
fn from_edge<T>(request: &Request<T>) -> bool {
    VerifiedCaller::from_request(request).is_ok_and(|caller| &*caller.service == "gateway")
}

/// The tenant operator's service identity: it administers tenants as itself.
const TENANT_OPERATOR: &str = "tenant-operator";

/// Tenant administration (create, read, flags): an admin user, or the tenant operator
/// acting as itself (a call signed by its identity on nobody's behalf). The actor id for
/// the audit log.
fn tenant_admin<T>(request: &Request<T>) -> Result<String, Status> {
    if is_tenant_operator(request) {
        return Ok(format!("service:{TENANT_OPERATOR}"));
    }
    admin(request).map(|caller| caller.subject)
}

fn is_tenant_operator<T>(request: &Request<T>) -> bool {
    VerifiedCaller::from_request(request)
        .is_ok_and(|caller| &*caller.service == TENANT_OPERATOR && caller.principal.is_none())
}

/// Admin RPCs: the gateway enforces roles per route; this is the second line.
fn admin<T>(request: &Request<T>) -> Result<Principal, Status> {
    let caller = Principal::from_request(request)?;
    if caller.kind != PrincipalKind::User || !caller.acts_as(Role::Admin) {
        return Err(Error::forbidden("forbidden", "admin role required").into());
    }
    Ok(caller)
}

fn timestamp(
    value: Option<prost_types::Timestamp>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Status> {
    value
        .map(|ts| {
            chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0))
                .ok_or_else(|| {
                    AuthError::invalid("invalid_timestamp", "timestamp out of range").into()
                })
        })
        .transpose()
}

#[tonic::async_trait]
impl AuthService for AuthGrpc {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        let session = self
            .auth
            .register(
                Registration {
                    email: r.email,
                    password: r.password,
                    display_name: r.display_name,
                    tenant_id: non_empty(r.tenant_id),
                    invitation: non_empty(r.invitation),
                },
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(convert::session(session)))
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        let session = self
            .auth
            .login(
                Credentials {
                    email: r.email,
                    password: r.password,
                    tenant_id: non_empty(r.tenant_id),
                },
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(convert::session(session)))
    }

    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        let session = self
            .auth
            .refresh(&r.refresh_token, &context(edge, r.client))
            .await?;
        Ok(Response::new(convert::session(session)))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        self.auth
            .logout(&r.refresh_token, &context(edge, r.client))
            .await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn get_me(
        &self,
        request: Request<pb::GetMeRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = Principal::from_request(&request)?;
        if caller.kind != PrincipalKind::User {
            return Err(Error::forbidden("forbidden", "only users have a profile").into());
        }
        let user = self.auth.user(&caller.tenant_id, &caller.subject).await?;
        Ok(Response::new(convert::user(user)))
    }

    async fn verify_email(
        &self,
        request: Request<pb::VerifyEmailRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        let user = self
            .auth
            .verify_email(&r.token, &context(edge, r.client))
            .await?;
        Ok(Response::new(convert::user(user)))
    }

    async fn resend_verification(
        &self,
        request: Request<pb::ResendVerificationRequest>,
    ) -> Result<Response<pb::ResendVerificationResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        if caller.kind != PrincipalKind::User {
            return Err(Error::forbidden("forbidden", "only users have an address").into());
        }
        let edge = from_edge(&request);
        let r = request.into_inner();
        self.auth
            .resend_verification(&caller.tenant_id, &caller.subject, &context(edge, r.client))
            .await?;
        Ok(Response::new(pb::ResendVerificationResponse {}))
    }

    async fn forgot_password(
        &self,
        request: Request<pb::ForgotPasswordRequest>,
    ) -> Result<Response<pb::ForgotPasswordResponse>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        self.auth
            .forgot_password(
                &r.email,
                non_empty(r.tenant_id).as_deref(),
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(pb::ForgotPasswordResponse {}))
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        self.auth
            .reset_password(&r.token, &r.new_password, &context(edge, r.client))
            .await?;
        Ok(Response::new(pb::ResetPasswordResponse {}))
    }

    async fn list_sign_in_providers(
        &self,
        _request: Request<pb::ListSignInProvidersRequest>,
    ) -> Result<Response<pb::ListSignInProvidersResponse>, Status> {
        Ok(Response::new(pb::ListSignInProvidersResponse {
            providers: self.auth.sign_in_providers(),
        }))
    }

    async fn begin_external_sign_in(
        &self,
        request: Request<pb::BeginExternalSignInRequest>,
    ) -> Result<Response<pb::BeginExternalSignInResponse>, Status> {
        let r = request.into_inner();
        let begun = self
            .auth
            .begin_external_sign_in(&r.provider, &r.redirect_uri)
            .await?;
        Ok(Response::new(pb::BeginExternalSignInResponse {
            authorization_url: begun.authorization_url,
            state: begun.state,
            expires_in: begun.expires_in,
        }))
    }

    async fn complete_external_sign_in(
        &self,
        request: Request<pb::CompleteExternalSignInRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        let context = context(
            edge,
            Some(pb::ClientInfo {
                ip: r.client_ip,
                user_agent: r.user_agent,
            }),
        );
        let session = self
            .auth
            .complete_external_sign_in(
                ExternalCallback {
                    provider: r.provider,
                    state: r.state,
                    code: r.code,
                    redirect_uri: r.redirect_uri,
                },
                &context,
            )
            .await?;
        Ok(Response::new(convert::session(session)))
    }

    async fn get_jwks(
        &self,
        _request: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::Jwks>, Status> {
        Ok(Response::new(convert::jwks(self.auth.jwks())))
    }

    async fn rotate_signing_key(
        &self,
        request: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        let caller = admin(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let (kid, published_kids) = self
            .auth
            .rotate_signing_key(&caller.subject, &caller.tenant_id, &context(edge, r.client))
            .await?;
        Ok(Response::new(pb::RotateSigningKeyResponse {
            kid,
            published_kids,
        }))
    }

    async fn create_o_auth_client(
        &self,
        request: Request<pb::CreateOAuthClientRequest>,
    ) -> Result<Response<pb::CreateOAuthClientResponse>, Status> {
        let caller = admin(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let (client, secret) = self
            .auth
            .create_client(
                &caller.subject,
                &caller.tenant_id,
                NewClient {
                    name: r.name,
                    scopes: r.scopes,
                    environment: r.environment,
                    rate_tier: r.rate_tier,
                    tenant_id: non_empty(r.tenant_id),
                },
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(pb::CreateOAuthClientResponse {
            client: Some(convert::client(client)),
            client_secret: secret,
        }))
    }

    async fn list_o_auth_clients(
        &self,
        request: Request<pb::ListOAuthClientsRequest>,
    ) -> Result<Response<pb::ListOAuthClientsResponse>, Status> {
        admin(&request)?;
        let clients = self.auth.list_clients().await?;
        Ok(Response::new(pb::ListOAuthClientsResponse {
            clients: clients.into_iter().map(convert::client).collect(),
        }))
    }

    async fn get_o_auth_client(
        &self,
        request: Request<pb::GetOAuthClientRequest>,
    ) -> Result<Response<pb::OAuthClient>, Status> {
        admin(&request)?;
        let client = self.auth.client(&request.into_inner().id).await?;
        Ok(Response::new(convert::client(client)))
    }

    async fn revoke_o_auth_client(
        &self,
        request: Request<pb::RevokeOAuthClientRequest>,
    ) -> Result<Response<pb::OAuthClient>, Status> {
        let caller = admin(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let client = self
            .auth
            .revoke_client(
                &caller.subject,
                &caller.tenant_id,
                &r.id,
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(convert::client(client)))
    }

    async fn rotate_o_auth_client_secret(
        &self,
        request: Request<pb::RotateOAuthClientSecretRequest>,
    ) -> Result<Response<pb::CreateOAuthClientResponse>, Status> {
        let caller = admin(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let (client, secret) = self
            .auth
            .rotate_client_secret(
                &caller.subject,
                &caller.tenant_id,
                &r.id,
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(pb::CreateOAuthClientResponse {
            client: Some(convert::client(client)),
            client_secret: secret,
        }))
    }

    async fn issue_client_token(
        &self,
        request: Request<pb::IssueClientTokenRequest>,
    ) -> Result<Response<pb::ClientToken>, Status> {
        let edge = from_edge(&request);
        let r = request.into_inner();
        let token = self
            .auth
            .issue_client_token(
                &r.client_id,
                &r.client_secret,
                &r.scope,
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(pb::ClientToken {
            access_token: token.access_token,
            token_type: "Bearer".into(),
            expires_in: token.expires_in,
            scope: token.scope,
        }))
    }

    async fn create_tenant(
        &self,
        request: Request<pb::CreateTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let actor = tenant_admin(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let tenant = self
            .auth
            .create_tenant(
                &actor,
                NewTenant {
                    name: r.name,
                    slug: r.slug,
                    sandbox: r.sandbox,
                },
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(convert::tenant(tenant)))
    }

    async fn list_tenants(
        &self,
        request: Request<pb::ListTenantsRequest>,
    ) -> Result<Response<pb::ListTenantsResponse>, Status> {
        tenant_admin(&request)?;
        let tenants = self.auth.list_tenants().await?;
        Ok(Response::new(pb::ListTenantsResponse {
            tenants: tenants.into_iter().map(convert::tenant).collect(),
        }))
    }

    async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        tenant_admin(&request)?;
        let tenant = self.auth.tenant(&request.into_inner().tenant_id).await?;
        Ok(Response::new(convert::tenant(tenant)))
    }

    /// Admins (and the tenant operator) read any tenant's flags; everyone else only their
    /// own tenant's.
    async fn get_tenant_flags(
        &self,
        request: Request<pb::GetTenantFlagsRequest>,
    ) -> Result<Response<pb::TenantFlags>, Status> {
        if is_tenant_operator(&request) {
            let tenant_id = request.into_inner().tenant_id;
            let flags = self.auth.tenant_flags(&tenant_id).await?;
            return Ok(Response::new(convert::flags(tenant_id, flags)));
        }
        let caller = Principal::from_request(&request)?;
        let tenant_id =
            non_empty(request.into_inner().tenant_id).unwrap_or_else(|| caller.tenant_id.clone());
        if tenant_id != caller.tenant_id && !caller.acts_as(Role::Admin) {
            return Err(AuthError::NotFound("tenant").into());
        }
        let flags = self.auth.tenant_flags(&tenant_id).await?;
        Ok(Response::new(convert::flags(tenant_id, flags)))
    }

    async fn set_tenant_flags(
        &self,
        request: Request<pb::SetTenantFlagsRequest>,
    ) -> Result<Response<pb::TenantFlags>, Status> {
        let actor = tenant_admin(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let flags = convert::flags_from_proto(r.flags);
        let flags = self
            .auth
            .set_tenant_flags(&actor, &r.tenant_id, flags, &context(edge, r.client))
            .await?;
        Ok(Response::new(convert::flags(r.tenant_id, flags)))
    }

    /// Owners (their tenant) and admins (any tenant); the domain decides.
    async fn create_invitation(
        &self,
        request: Request<pb::CreateInvitationRequest>,
    ) -> Result<Response<pb::CreateInvitationResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let (invitation, token) = self
            .auth
            .create_invitation(
                &caller,
                NewInvitation {
                    email: r.email,
                    role: r.role,
                    tenant_id: non_empty(r.tenant_id),
                },
                &context(edge, r.client),
            )
            .await?;
        Ok(Response::new(pb::CreateInvitationResponse {
            invitation: Some(convert::invitation(invitation)),
            token,
        }))
    }

    async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let tenant_id = non_empty(request.into_inner().tenant_id);
        let invitations = self
            .auth
            .list_invitations(&caller, tenant_id.as_deref())
            .await?;
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations: invitations.into_iter().map(convert::invitation).collect(),
        }))
    }

    async fn revoke_invitation(
        &self,
        request: Request<pb::RevokeInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let caller = Principal::from_request(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        let invitation = self
            .auth
            .revoke_invitation(&caller, &r.id, &context(edge, r.client))
            .await?;
        Ok(Response::new(convert::invitation(invitation)))
    }

    async fn list_audit(
        &self,
        request: Request<pb::ListAuditRequest>,
    ) -> Result<Response<pb::ListAuditResponse>, Status> {
        let caller = admin(&request)?;
        let r = request.into_inner();
        let (entries, next_cursor) = self
            .auth
            .list_audit(
                &caller.tenant_id,
                AuditQuery {
                    action: non_empty(r.action),
                    actor_id: non_empty(r.actor_id),
                    outcome: non_empty(r.outcome),
                    since: timestamp(r.since)?,
                    until: timestamp(r.until)?,
                    limit: r.limit,
                    cursor: non_empty(r.cursor),
                },
            )
            .await?;
        Ok(Response::new(pb::ListAuditResponse {
            entries: entries.into_iter().map(convert::audit_entry).collect(),
            next_cursor: next_cursor.unwrap_or_default(),
        }))
    }

    async fn set_user_disabled(
        &self,
        request: Request<pb::SetUserDisabledRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = admin(&request)?;
        let r = request.into_inner();
        let user = self
            .auth
            .set_user_disabled(
                &caller.subject,
                &caller.tenant_id,
                &r.user_id,
                r.disabled,
                &RequestContext::default(),
            )
            .await?;
        Ok(Response::new(convert::user(user)))
    }

    async fn revoke_user_sessions(
        &self,
        request: Request<pb::RevokeUserSessionsRequest>,
    ) -> Result<Response<pb::RevokeUserSessionsResponse>, Status> {
        let caller = admin(&request)?;
        let r = request.into_inner();
        let revoked = self
            .auth
            .revoke_user_sessions(
                &caller.subject,
                &caller.tenant_id,
                &r.user_id,
                &RequestContext::default(),
            )
            .await?;
        Ok(Response::new(pb::RevokeUserSessionsResponse {
            refresh_tokens_revoked: revoked,
        }))
    }

    /// The gateway's poll: only the gateway enforces revocations, so only it may read
    /// them (which sessions ended says who was active).
    async fn list_revocations(
        &self,
        request: Request<pb::ListRevocationsRequest>,
    ) -> Result<Response<pb::ListRevocationsResponse>, Status> {
        let caller = VerifiedCaller::from_request(&request)?;
        if &*caller.service != "gateway" {
            return Err(Error::forbidden("forbidden", "only the gateway reads revocations").into());
        }
        let since = request
            .into_inner()
            .changed_since
            .map(|ms| {
                chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| {
                    Status::from(AuthError::invalid(
                        "invalid_timestamp",
                        "changed_since out of range",
                    ))
                })
            })
            .transpose()?;
        let page = self.auth.revocations_since(since).await?;
        Ok(Response::new(convert::revocations(page)))
    }

    /// Lets the gateway record what only it sees (access denied by route policy).
    async fn record_audit(
        &self,
        request: Request<pb::RecordAuditRequest>,
    ) -> Result<Response<pb::RecordAuditResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let edge = from_edge(&request);
        let r = request.into_inner();
        if r.action != crate::domain::audit::action::ACCESS_DENIED {
            return Err(AuthError::invalid(
                "invalid_action",
                "only access_denied can be recorded from outside",
            )
            .into());
        }
        self.auth
            .audit(crate::domain::audit::AuditEvent {
                tenant_id: &caller.tenant_id,
                actor_id: &caller.subject,
                action: &r.action,
                outcome: crate::domain::audit::outcome::DENIED,
                context: &context(edge, r.client),
                detail: r.detail,
            })
            .await;
        Ok(Response::new(pb::RecordAuditResponse {}))
    }
}
