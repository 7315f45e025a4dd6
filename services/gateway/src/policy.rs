//! Who may call what: ONE declarative table, [`POLICIES`], keyed by method and the
//! actix route pattern, enforced by ONE middleware, [`enforce`]. Handlers never check
//! roles or scopes. A route missing from the table is refused (fail closed), and a test
//! keeps the table and the OpenAPI document (hence the app) in step.
//!
//! For each request [`enforce`] finds the policy, authenticates the bearer token if the
//! route needs one, takes a token from the caller's rate-limit bucket (per user, per
//! partner client by tier, or per IP when anonymous), authorizes (principal kind, role,
//! scopes; a denial is audited in auth), then hands the verified [`Caller`] to the
//! handler through request extensions.

use crate::AppState;
use crate::browser;
use crate::clients;
use crate::errors;
use crate::rate_limit::{Budget, Decision};
use crate::request_id::RequestContext;
use crate::token::{self, Caller};
use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use marquee_platform::{Error, ErrorKind, Principal, PrincipalKind, Role, Scope};
use std::future::{Ready, ready};
use std::sync::Arc;

/// What a caller must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed (a token, if sent, is ignored).
    Public,
    /// A valid access token, optionally of one principal kind, with a role (or one that
    /// [grants](Role::grants) it) and scopes.
    Token {
        kind: Option<PrincipalKind>,
        role: Option<Role>,
        scopes: &'static [Scope],
    },
}

/// Which bucket a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// Probes, metrics, documents: never throttled.
    Exempt,
    /// The caller's bucket: per user, per client (by tier), or per IP when anonymous.
    Caller,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutePolicy {
    pub method: &'static str,
    /// The actix match pattern, e.g. `/api/v1/admin/tenants/{id}/flags`.
    pub pattern: &'static str,
    pub access: Access,
    pub rate: Rate,
}

const ALL_SCOPES: &[Scope] = &[];
const CAMPAIGNS_READ: &[Scope] = &[Scope::CampaignsRead];
const CAMPAIGNS_WRITE: &[Scope] = &[Scope::CampaignsWrite];

const fn ops(method: &'static str, pattern: &'static str) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Public,
        rate: Rate::Exempt,
    }
}

const fn anonymous(method: &'static str, pattern: &'static str) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Public,
        rate: Rate::Caller,
    }
}

const fn user(method: &'static str, pattern: &'static str) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Token {
            kind: Some(PrincipalKind::User),
            role: None,
            scopes: ALL_SCOPES,
        },
        rate: Rate::Caller,
    }
}

const fn admin(method: &'static str, pattern: &'static str) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Token {
            kind: Some(PrincipalKind::User),
            role: Some(Role::Admin),
            scopes: ALL_SCOPES,
        },
        rate: Rate::Caller,
    }
}

/// Users holding `role` (or one that [grants](Role::grants) it).
const fn with_role(method: &'static str, pattern: &'static str, role: Role) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Token {
            kind: Some(PrincipalKind::User),
            role: Some(role),
            scopes: ALL_SCOPES,
        },
        rate: Rate::Caller,
    }
}

const fn moderator(method: &'static str, pattern: &'static str) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Token {
            kind: Some(PrincipalKind::User),
            role: Some(Role::Moderator),
            scopes: ALL_SCOPES,
        },
        rate: Rate::Caller,
    }
}

const fn scoped(
    method: &'static str,
    pattern: &'static str,
    scopes: &'static [Scope],
) -> RoutePolicy {
    RoutePolicy {
        method,
        pattern,
        access: Access::Token {
            kind: None,
            role: None,
            scopes,
        },
        rate: Rate::Caller,
    }
}

/// The whole access policy of the gateway.
pub const POLICIES: &[RoutePolicy] = &[
    // Operations and documents.
    ops("GET", "/healthz"),
    ops("GET", "/readyz"),
    ops("GET", "/api/v1/openapi.json"),
    ops("GET", "/docs"),
    ops("GET", "/docs/scalar.js"),
    ops("GET", "/docs/init.js"),
    ops("GET", "/.well-known/jwks.json"),
    // Sessions.
    anonymous("POST", "/api/v1/auth/register"),
    anonymous("POST", "/api/v1/auth/login"),
    anonymous("POST", "/api/v1/auth/refresh"),
    anonymous("POST", "/api/v1/auth/logout"),
    user("GET", "/api/v1/auth/me"),
    // E-mail verification and password reset: links mailed by auth. The anonymous ones
    // spend the per-IP budget; auth also mails an account at most once a minute.
    anonymous("POST", "/api/v1/auth/email/verify"),
    user("POST", "/api/v1/auth/email/verification"),
    anonymous("POST", "/api/v1/auth/password/forgot"),
    anonymous("POST", "/api/v1/auth/password/reset"),
    // Browser sessions (cookies; refresh and logout check the CSRF token themselves).
    anonymous("POST", "/api/v1/auth/browser/register"),
    anonymous("POST", "/api/v1/auth/browser/login"),
    anonymous("POST", "/api/v1/auth/browser/refresh"),
    anonymous("POST", "/api/v1/auth/browser/logout"),
    anonymous("GET", "/api/v1/auth/providers"),
    anonymous("GET", "/api/v1/auth/google/start"),
    anonymous("GET", "/api/v1/auth/google/callback"),
    // OAuth2 client-credentials grant.
    anonymous("POST", "/api/v1/oauth/token"),
    // Administration.
    admin("POST", "/api/v1/admin/oauth-clients"),
    admin("GET", "/api/v1/admin/oauth-clients"),
    admin("GET", "/api/v1/admin/oauth-clients/{id}"),
    admin("DELETE", "/api/v1/admin/oauth-clients/{id}"),
    admin("POST", "/api/v1/admin/oauth-clients/{id}/rotate-secret"),
    admin("POST", "/api/v1/admin/users/{id}/disable"),
    admin("POST", "/api/v1/admin/users/{id}/enable"),
    admin("POST", "/api/v1/admin/users/{id}/revoke-sessions"),
    admin("GET", "/api/v1/admin/tenants"),
    admin("POST", "/api/v1/admin/tenants"),
    admin("GET", "/api/v1/admin/tenants/{id}"),
    admin("GET", "/api/v1/admin/tenants/{id}/flags"),
    admin("PUT", "/api/v1/admin/tenants/{id}/flags"),
    admin("GET", "/api/v1/admin/audit"),
    admin("POST", "/api/v1/admin/keys/rotate"),
    // Tenant data for users and partner clients.
    scoped("GET", "/api/v1/tenant/flags", &[Scope::TenantRead]),
    // Tenant membership: the tenant's owners (and admins, for any tenant) invite.
    with_role("POST", "/api/v1/tenant/invitations", Role::Owner),
    with_role("GET", "/api/v1/tenant/invitations", Role::Owner),
    with_role("DELETE", "/api/v1/tenant/invitations/{id}", Role::Owner),
    // Assets (content service).
    scoped("POST", "/api/v1/assets", &[Scope::AssetsWrite]),
    scoped("GET", "/api/v1/assets", &[Scope::AssetsRead]),
    scoped("GET", "/api/v1/assets/{id}", &[Scope::AssetsRead]),
    scoped("PATCH", "/api/v1/assets/{id}", &[Scope::AssetsWrite]),
    scoped("DELETE", "/api/v1/assets/{id}", &[Scope::AssetsWrite]),
    scoped("POST", "/api/v1/assets/{id}/retry", &[Scope::AssetsWrite]),
    scoped("GET", "/api/v1/assets/{id}/content", &[Scope::AssetsRead]),
    scoped(
        "POST",
        "/api/v1/assets/{id}/signed-url",
        &[Scope::AssetsRead],
    ),
    // Signed download URLs: no token; the content service checks the signature.
    // Throttled per IP like any anonymous call.
    anonymous("GET", "/api/v1/assets/{id}/content/signed"),
    // Moderation (content service).
    moderator("GET", "/api/v1/moderation/assets"),
    moderator("POST", "/api/v1/moderation/assets/{id}/approve"),
    moderator("POST", "/api/v1/moderation/assets/{id}/reject"),
    // Community (content service): creators, follows, comments.
    scoped("GET", "/api/v1/creators/me", &[Scope::AssetsRead]),
    scoped("PUT", "/api/v1/creators/me", &[Scope::AssetsWrite]),
    scoped("GET", "/api/v1/creators/{id}", &[Scope::AssetsRead]),
    scoped(
        "POST",
        "/api/v1/creators/{id}/follow",
        &[Scope::AssetsWrite],
    ),
    scoped(
        "DELETE",
        "/api/v1/creators/{id}/follow",
        &[Scope::AssetsWrite],
    ),
    scoped(
        "GET",
        "/api/v1/creators/{id}/followers",
        &[Scope::AssetsRead],
    ),
    scoped(
        "GET",
        "/api/v1/creators/{id}/following",
        &[Scope::AssetsRead],
    ),
    scoped(
        "POST",
        "/api/v1/assets/{id}/comments",
        &[Scope::AssetsWrite],
    ),
    scoped("GET", "/api/v1/assets/{id}/comments", &[Scope::AssetsRead]),
    scoped("GET", "/api/v1/comments/{id}", &[Scope::AssetsRead]),
    scoped("DELETE", "/api/v1/comments/{id}", &[Scope::AssetsWrite]),
    scoped(
        "POST",
        "/api/v1/comments/{id}/report",
        &[Scope::AssetsWrite],
    ),
    moderator("GET", "/api/v1/moderation/comments"),
    moderator("POST", "/api/v1/moderation/comments/{id}/restore"),
    moderator("POST", "/api/v1/moderation/comments/{id}/remove"),
    // Tagging (tagging service): tags, search, similar assets, recommendations; who may
    // edit an asset's tags (owner or moderator) is the service's decision.
    scoped("GET", "/api/v1/assets/{id}/tags", &[Scope::AssetsRead]),
    scoped("PUT", "/api/v1/assets/{id}/tags", &[Scope::AssetsWrite]),
    scoped("GET", "/api/v1/assets/{id}/similar", &[Scope::AssetsRead]),
    scoped("GET", "/api/v1/search", &[Scope::AssetsRead]),
    scoped("GET", "/api/v1/recommendations", &[Scope::AssetsRead]),
    scoped("GET", "/api/v1/taxonomy", &[Scope::AssetsRead]),
    admin("PUT", "/api/v1/admin/taxonomy"),
    // Campaign studio (campaign service): who may act (creating needs the creator role;
    // a campaign, its posts, jobs and connectors are their owner's and a tenant admin's;
    // templates their owner's or the tenant's) is the service's decision.
    scoped("POST", "/api/v1/campaigns", CAMPAIGNS_WRITE),
    scoped("GET", "/api/v1/campaigns", CAMPAIGNS_READ),
    scoped("GET", "/api/v1/campaigns/{id}", CAMPAIGNS_READ),
    scoped("PATCH", "/api/v1/campaigns/{id}", CAMPAIGNS_WRITE),
    scoped("DELETE", "/api/v1/campaigns/{id}", CAMPAIGNS_WRITE),
    scoped("POST", "/api/v1/campaigns/{id}/duplicate", CAMPAIGNS_WRITE),
    scoped("POST", "/api/v1/campaigns/{id}/analysis", CAMPAIGNS_WRITE),
    scoped(
        "POST",
        "/api/v1/campaigns/{id}/posts/generate",
        CAMPAIGNS_WRITE,
    ),
    scoped(
        "POST",
        "/api/v1/campaigns/{id}/posts/{post_id}/regenerate",
        CAMPAIGNS_WRITE,
    ),
    scoped(
        "PATCH",
        "/api/v1/campaigns/{id}/posts/{post_id}",
        CAMPAIGNS_WRITE,
    ),
    scoped(
        "POST",
        "/api/v1/campaigns/{id}/posts/{post_id}/media",
        CAMPAIGNS_WRITE,
    ),
    scoped("POST", "/api/v1/campaigns/{id}/chat", CAMPAIGNS_WRITE),
    scoped("POST", "/api/v1/campaigns/{id}/schedule", CAMPAIGNS_WRITE),
    scoped("POST", "/api/v1/campaigns/{id}/unschedule", CAMPAIGNS_WRITE),
    scoped("GET", "/api/v1/campaigns/{id}/deliveries", CAMPAIGNS_READ),
    scoped("GET", "/api/v1/campaigns/{id}/export", CAMPAIGNS_READ),
    scoped("POST", "/api/v1/campaigns/{id}/template", CAMPAIGNS_WRITE),
    scoped("GET", "/api/v1/campaign-templates", CAMPAIGNS_READ),
    scoped("DELETE", "/api/v1/campaign-templates/{id}", CAMPAIGNS_WRITE),
    scoped(
        "POST",
        "/api/v1/campaign-templates/{id}/campaigns",
        CAMPAIGNS_WRITE,
    ),
    scoped("GET", "/api/v1/jobs/{id}", CAMPAIGNS_READ),
    scoped("POST", "/api/v1/jobs/{id}/cancel", CAMPAIGNS_WRITE),
    // An event stream spends one token when it opens, however long it lasts.
    scoped("GET", "/api/v1/jobs/{id}/events", CAMPAIGNS_READ),
    scoped("POST", "/api/v1/connectors", CAMPAIGNS_WRITE),
    scoped("GET", "/api/v1/connectors", CAMPAIGNS_READ),
    scoped("DELETE", "/api/v1/connectors/{id}", CAMPAIGNS_WRITE),
    // Billing: reads for users and partner clients; what the whole tenant pays is
    // changed by its billing admins and owners (and admins) only.
    scoped("GET", "/api/v1/billing/plans", &[Scope::BillingRead]),
    scoped("GET", "/api/v1/billing/subscription", &[Scope::BillingRead]),
    scoped("GET", "/api/v1/billing/usage", &[Scope::BillingRead]),
    scoped("GET", "/api/v1/billing/invoices", &[Scope::BillingRead]),
    with_role("POST", "/api/v1/billing/checkout", Role::BillingAdmin),
    with_role("POST", "/api/v1/billing/portal", Role::BillingAdmin),
    // Stripe webhooks: authenticated by their signature (in billing), not throttled.
    ops("POST", "/api/v1/webhooks/stripe"),
];

/// The result of looking a request up in a table.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'t> {
    Found(&'t RoutePolicy),
    /// No route matched the path.
    NoRoute,
    /// The path has policies, but not for this method.
    WrongMethod(Vec<&'static str>),
    /// A route matched but the table does not list it: refused.
    Unlisted,
}

pub fn lookup<'t>(table: &'t [RoutePolicy], method: &str, pattern: Option<&str>) -> Lookup<'t> {
    let Some(pattern) = pattern else {
        return Lookup::NoRoute;
    };
    let mut allowed = Vec::new();
    for policy in table.iter().filter(|p| p.pattern == pattern) {
        if policy.method == method {
            return Lookup::Found(policy);
        }
        allowed.push(policy.method);
    }
    if allowed.is_empty() {
        Lookup::Unlisted
    } else {
        Lookup::WrongMethod(allowed)
    }
}

/// Why an authenticated caller is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Denial {
    WrongPrincipal(PrincipalKind),
    MissingRole(Role),
    MissingScopes(Vec<Scope>),
}

impl Denial {
    pub fn error(&self) -> Error {
        match self {
            Self::WrongPrincipal(PrincipalKind::User) => {
                Error::forbidden("forbidden", "this route is only for signed-in users")
            }
            Self::WrongPrincipal(PrincipalKind::Client) => {
                Error::forbidden("forbidden", "this route is only for partner clients")
            }
            Self::MissingRole(role) => {
                let others: Vec<&str> = Role::granting(*role)
                    .into_iter()
                    .skip(1)
                    .map(Role::as_str)
                    .collect();
                let message = if others.is_empty() {
                    format!("this route needs the {role} role")
                } else {
                    format!(
                        "this route needs the {role} role (or {})",
                        others.join(" or ")
                    )
                };
                Error::forbidden("forbidden", message)
            }
            Self::MissingScopes(scopes) => Error::forbidden(
                "insufficient_scope",
                format!("this route needs the scope {}", Scope::join(scopes)),
            ),
        }
    }
}

/// Checks an authenticated principal against a route's access rule.
pub fn authorize(access: &Access, principal: &Principal) -> Result<(), Denial> {
    let Access::Token { kind, role, scopes } = access else {
        return Ok(());
    };
    if let Some(kind) = kind
        && principal.kind != *kind
    {
        return Err(Denial::WrongPrincipal(*kind));
    }
    if let Some(role) = *role
        && !principal.acts_as(role)
    {
        return Err(Denial::MissingRole(role));
    }
    let missing: Vec<Scope> = scopes
        .iter()
        .copied()
        .filter(|scope| !principal.has_scope(*scope))
        .collect();
    if !missing.is_empty() {
        return Err(Denial::MissingScopes(missing));
    }
    Ok(())
}

/// The verified caller, for handlers of routes that need a token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Caller>);

impl Authenticated {
    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }
}

impl FromRequest for Authenticated {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Arc<Caller>>()
                .cloned()
                .map(Self)
                .ok_or_else(|| {
                    Error::internal("handler needs a caller but its route policy is public")
                }),
        )
    }
}

/// The middleware. Every answer it gives itself is a problem; it never returns `Err`.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(Error::internal("gateway state missing")));
    };
    let context = req.extensions().get::<RequestContext>().cloned();
    let pattern: Option<Arc<str>> = match &context {
        Some(context) => context.route.clone(),
        None => req.match_pattern().map(Arc::from),
    };
    let policy = match lookup(POLICIES, req.method().as_str(), pattern.as_deref()) {
        Lookup::Found(policy) => policy,
        // The web studio's pages and files: public, never throttled.
        Lookup::NoRoute if state.studio.handles(req.method(), req.path()) => {
            return next.call(req).await;
        }
        Lookup::NoRoute => {
            let error = errors::route_not_found_error(req.method().as_str(), req.path());
            return Ok(req.error_response(error));
        }
        Lookup::WrongMethod(allowed) => {
            let response = errors::method_not_allowed(req.method().as_str(), &allowed);
            return Ok(req.into_response(response));
        }
        Lookup::Unlisted => {
            tracing::error!(route = ?pattern, "route has no access policy; refusing");
            let error = Error::forbidden("forbidden", "no access policy covers this route");
            return Ok(req.error_response(error));
        }
    };

    // Authenticate.
    let (caller, unauthenticated) = match policy.access {
        Access::Public => (None, None),
        Access::Token { .. } => {
            let header = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            // No Authorization header: a browser session's cookie, if any.
            let cookie = match header {
                Some(_) => None,
                None => match browser::access_token(req.request()) {
                    Ok(cookie) => cookie,
                    Err(csrf) => return Ok(req.error_response(csrf)),
                },
            };
            let verified = match (&cookie, token::bearer(header)) {
                (Some(cookie), _) => state.verifier.verify(cookie).await,
                (None, Ok(token)) => state.verifier.verify(token).await,
                (None, Err(error)) => Err(error),
            };
            match verified {
                Ok(caller) => (Some(caller), None),
                Err(error) => (None, Some(error)),
            }
        }
    };

    // Throttle (failed authentications spend the IP's anonymous budget).
    let decision = match policy.rate {
        Rate::Exempt => None,
        Rate::Caller => throttle(&state, caller.as_deref(), context.as_ref()).await,
    };
    if let Some(decision) = decision
        && !decision.allowed
    {
        let error = Error::new(
            ErrorKind::RateLimited,
            "rate_limited",
            "too many requests, slow down",
        )
        .with_retry_after(decision.retry_after_secs);
        let mut response = req.error_response(error);
        rate_headers(response.headers_mut(), &decision);
        return Ok(response);
    }
    if let Some(error) = unauthenticated {
        let mut response = req.error_response(challenge(error));
        if let Some(decision) = decision {
            rate_headers(response.headers_mut(), &decision);
        }
        return Ok(response);
    }

    // Authorize.
    if let Some(caller) = &caller {
        if let Err(denial) = authorize(&policy.access, &caller.principal) {
            let error = denial.error();
            clients::auth::record_denied(
                &state.auth,
                &caller.principal,
                context.as_ref(),
                format!("{} {}: {}", policy.method, policy.pattern, error.message),
            );
            let mut response = req.error_response(error);
            if let Denial::MissingScopes(scopes) = &denial {
                let value = format!(
                    "Bearer realm=\"marquee\", error=\"insufficient_scope\", scope=\"{}\"",
                    Scope::join(scopes)
                );
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
            }
            if let Some(decision) = decision {
                rate_headers(response.headers_mut(), &decision);
            }
            return Ok(response);
        }
        req.extensions_mut().insert(caller.clone());
    }

    let mut response = next.call(req).await?;
    if let Some(decision) = decision {
        rate_headers(response.headers_mut(), &decision);
    }
    Ok(response)
}

/// Picks the caller's bucket and takes a token; `None` when unlimited or the store
/// could not answer.
async fn throttle(
    state: &AppState,
    caller: Option<&Caller>,
    context: Option<&RequestContext>,
) -> Option<Decision> {
    let limits = &state.settings.rate_limit;
    if !limits.enabled {
        return None;
    }
    let (key, budget): (String, Option<Budget>) = match caller {
        Some(caller) => match caller.principal.kind {
            PrincipalKind::User => (format!("user:{}", caller.principal.subject), limits.user()),
            PrincipalKind::Client => (
                format!("client:{}", caller.principal.subject),
                limits.client(caller.rate_tier),
            ),
        },
        None => (
            format!("ip:{}", context.map_or("unknown", |c| &c.client_ip)),
            limits.anonymous(),
        ),
    };
    state.limiter.check(&key, budget?).await
}

fn rate_headers(headers: &mut header::HeaderMap, decision: &Decision) {
    for (name, value) in [
        ("ratelimit-limit", decision.limit),
        ("ratelimit-remaining", decision.remaining),
        ("ratelimit-reset", decision.reset_secs),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// A 401 with the RFC 6750 challenge.
fn challenge(error: Error) -> Challenge {
    Challenge(error)
}

struct Challenge(Error);

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Challenge {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.0.error_response();
        if self.0.kind == ErrorKind::Unauthenticated {
            let value = if self.0.code == "token_missing" {
                "Bearer realm=\"marquee\"".to_string()
            } else {
                let description: String = self
                    .0
                    .message
                    .chars()
                    .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
                    .collect();
                format!(
                    "Bearer realm=\"marquee\", error=\"invalid_token\", error_description=\"{description}\""
                )
            };
            if let Ok(value) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// The policy of a documented operation (`method` in upper case).
pub fn find(method: &str, pattern: &str) -> Option<&'static RoutePolicy> {
    match lookup(POLICIES, method, Some(pattern)) {
        Lookup::Found(policy) => Some(policy),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn principal(kind: PrincipalKind, roles: &[&str], scopes: &[&str]) -> Principal {
        Principal {
            kind,
            subject: "s".into(),
            tenant_id: "t".into(),
            roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
            scopes: scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        }
    }

    #[test]
    fn every_documented_operation_has_exactly_one_policy_and_vice_versa() {
        let document = crate::openapi::document();
        let documented: BTreeSet<(String, String)> = crate::openapi::operations(&document)
            .into_iter()
            .map(|(method, path)| (method.to_string(), path))
            .collect();
        let listed: BTreeSet<(String, String)> = POLICIES
            .iter()
            .map(|p| (p.method.to_string(), p.pattern.to_string()))
            .collect();
        assert_eq!(
            listed.len(),
            POLICIES.len(),
            "duplicate entries in POLICIES"
        );
        assert_eq!(documented, listed, "OpenAPI operations and POLICIES differ");
    }

    #[test]
    fn lookup_fails_closed() {
        assert!(matches!(
            lookup(POLICIES, "GET", Some("/api/v1/auth/me")),
            Lookup::Found(p) if p.pattern == "/api/v1/auth/me"
        ));
        assert_eq!(lookup(POLICIES, "GET", None), Lookup::NoRoute);
        assert_eq!(
            lookup(POLICIES, "GET", Some("/api/v1/secret")),
            Lookup::Unlisted
        );
        assert_eq!(
            lookup(POLICIES, "PATCH", Some("/api/v1/admin/tenants/{id}/flags")),
            Lookup::WrongMethod(vec!["GET", "PUT"])
        );
        assert_eq!(
            lookup(&[], "GET", Some("/healthz")),
            Lookup::Unlisted,
            "an empty table denies everything"
        );
    }

    #[test]
    fn admin_routes_need_an_admin_user() {
        let policy = find("GET", "/api/v1/admin/tenants").unwrap();
        let admin = principal(PrincipalKind::User, &["admin"], &[]);
        let creator = principal(PrincipalKind::User, &["creator"], &["tenant:read"]);
        let client = principal(PrincipalKind::Client, &["admin"], &["tenant:read"]);
        assert_eq!(authorize(&policy.access, &admin), Ok(()));
        assert_eq!(
            authorize(&policy.access, &creator),
            Err(Denial::MissingRole(Role::Admin))
        );
        assert_eq!(
            authorize(&policy.access, &client),
            Err(Denial::WrongPrincipal(PrincipalKind::User)),
            "a client claiming a role is still not a user"
        );
        assert_eq!(Denial::MissingRole(Role::Admin).error().code, "forbidden");
        assert_eq!(
            Denial::MissingRole(Role::Admin).error().message,
            "this route needs the admin role"
        );
    }

    #[test]
    fn admins_pass_moderator_routes_but_moderators_not_admin_ones() {
        let moderation = find("GET", "/api/v1/moderation/assets").unwrap();
        let administration = find("GET", "/api/v1/admin/tenants").unwrap();
        let admin = principal(PrincipalKind::User, &["admin"], &[]);
        let moderator = principal(PrincipalKind::User, &["creator", "moderator"], &[]);
        let creator = principal(PrincipalKind::User, &["creator"], &[]);
        let unknown = principal(PrincipalKind::User, &["superadmin"], &[]);
        assert_eq!(authorize(&moderation.access, &admin), Ok(()));
        assert_eq!(authorize(&moderation.access, &moderator), Ok(()));
        for caller in [&creator, &unknown] {
            assert_eq!(
                authorize(&moderation.access, caller),
                Err(Denial::MissingRole(Role::Moderator))
            );
        }
        assert_eq!(
            authorize(&administration.access, &moderator),
            Err(Denial::MissingRole(Role::Admin))
        );
    }

    #[test]
    fn billing_changes_need_a_billing_admin_owner_or_admin() {
        let member = principal(PrincipalKind::User, &["creator", "moderator"], &[]);
        let client = principal(
            PrincipalKind::Client,
            &["owner"],
            &["billing:read", "tenant:read"],
        );
        for pattern in ["/api/v1/billing/checkout", "/api/v1/billing/portal"] {
            let policy = find("POST", pattern).unwrap();
            for roles in [&["creator", "owner"][..], &["billing_admin"], &["admin"]] {
                let caller = principal(PrincipalKind::User, roles, &[]);
                assert_eq!(authorize(&policy.access, &caller), Ok(()), "{roles:?}");
            }
            let denial = authorize(&policy.access, &member).unwrap_err();
            assert_eq!(denial, Denial::MissingRole(Role::BillingAdmin));
            assert_eq!(denial.error().code, "forbidden");
            assert_eq!(
                denial.error().message,
                "this route needs the billing_admin role (or admin or owner)"
            );
            assert!(authorize(&policy.access, &client).is_err());
        }
        // Reads stay open to every member and to partner clients with the scope.
        let read = find("GET", "/api/v1/billing/subscription").unwrap();
        assert_eq!(authorize(&read.access, &client), Ok(()));
    }

    #[test]
    fn invitations_are_for_owners_and_admins() {
        for (method, pattern) in [
            ("POST", "/api/v1/tenant/invitations"),
            ("GET", "/api/v1/tenant/invitations"),
            ("DELETE", "/api/v1/tenant/invitations/{id}"),
        ] {
            let policy = find(method, pattern).unwrap();
            for roles in [&["creator", "owner"][..], &["admin"]] {
                let caller = principal(PrincipalKind::User, roles, &[]);
                assert_eq!(authorize(&policy.access, &caller), Ok(()), "{roles:?}");
            }
            for roles in [&["creator", "billing_admin"][..], &["moderator"], &[]] {
                let caller = principal(PrincipalKind::User, roles, &[]);
                assert_eq!(
                    authorize(&policy.access, &caller),
                    Err(Denial::MissingRole(Role::Owner)),
                    "{roles:?}"
                );
            }
        }
    }

    #[test]
    fn me_is_for_users_only() {
        let policy = find("GET", "/api/v1/auth/me").unwrap();
        let client = principal(PrincipalKind::Client, &[], &["tenant:read"]);
        assert!(authorize(&policy.access, &client).is_err());
        let user = principal(PrincipalKind::User, &[], &[]);
        assert_eq!(authorize(&policy.access, &user), Ok(()));
    }

    #[test]
    fn tenant_flags_need_the_scope() {
        let policy = find("GET", "/api/v1/tenant/flags").unwrap();
        let without = principal(PrincipalKind::Client, &[], &["assets:read"]);
        let denial = authorize(&policy.access, &without).unwrap_err();
        assert_eq!(denial, Denial::MissingScopes(vec![Scope::TenantRead]));
        assert_eq!(
            denial.error().message,
            "this route needs the scope tenant:read"
        );
        assert_eq!(denial.error().code, "insufficient_scope");
        assert_eq!(denial.error().status().as_u16(), 403);
        let with = principal(PrincipalKind::Client, &[], &["tenant:read"]);
        assert_eq!(authorize(&policy.access, &with), Ok(()));
        let user = principal(
            PrincipalKind::User,
            &["creator"],
            &["tenant:read", "assets:read"],
        );
        assert_eq!(authorize(&policy.access, &user), Ok(()));
    }

    #[test]
    fn tagging_reads_and_writes_need_asset_scopes_and_the_taxonomy_an_admin() {
        let reader = principal(PrincipalKind::Client, &[], &["assets:read"]);
        let writer = principal(PrincipalKind::Client, &[], &["assets:read", "assets:write"]);
        for (method, pattern) in [
            ("GET", "/api/v1/assets/{id}/tags"),
            ("GET", "/api/v1/assets/{id}/similar"),
            ("GET", "/api/v1/search"),
            ("GET", "/api/v1/recommendations"),
            ("GET", "/api/v1/taxonomy"),
        ] {
            let policy = find(method, pattern).unwrap();
            assert_eq!(authorize(&policy.access, &reader), Ok(()), "{pattern}");
            assert_eq!(policy.rate, Rate::Caller);
            let none = principal(PrincipalKind::User, &["admin"], &[]);
            assert_eq!(
                authorize(&policy.access, &none),
                Err(Denial::MissingScopes(vec![Scope::AssetsRead])),
                "{pattern}"
            );
        }
        let edit = find("PUT", "/api/v1/assets/{id}/tags").unwrap();
        assert_eq!(
            authorize(&edit.access, &reader),
            Err(Denial::MissingScopes(vec![Scope::AssetsWrite]))
        );
        assert_eq!(authorize(&edit.access, &writer), Ok(()));

        let replace = find("PUT", "/api/v1/admin/taxonomy").unwrap();
        let admin = principal(PrincipalKind::User, &["admin"], &[]);
        let moderator = principal(PrincipalKind::User, &["moderator"], &["assets:write"]);
        let client = principal(PrincipalKind::Client, &["admin"], &["assets:write"]);
        assert_eq!(authorize(&replace.access, &admin), Ok(()));
        assert_eq!(
            authorize(&replace.access, &moderator),
            Err(Denial::MissingRole(Role::Admin))
        );
        assert_eq!(
            authorize(&replace.access, &client),
            Err(Denial::WrongPrincipal(PrincipalKind::User))
        );
    }

    #[test]
    fn campaign_reads_and_writes_need_campaign_scopes() {
        let reader = principal(PrincipalKind::Client, &[], &["campaigns:read"]);
        let writer = principal(
            PrincipalKind::User,
            &["creator"],
            &["campaigns:read", "campaigns:write"],
        );
        let assets = principal(
            PrincipalKind::User,
            &["admin"],
            &["assets:read", "assets:write"],
        );
        let campaign_routes: Vec<&RoutePolicy> = POLICIES
            .iter()
            .filter(|p| {
                ["/api/v1/campaign", "/api/v1/jobs/", "/api/v1/connectors"]
                    .iter()
                    .any(|prefix| p.pattern.starts_with(prefix))
            })
            .collect();
        assert_eq!(campaign_routes.len(), 26);
        for policy in campaign_routes {
            let route = format!("{} {}", policy.method, policy.pattern);
            assert_eq!(policy.rate, Rate::Caller, "{route}");
            let Access::Token { kind, role, scopes } = policy.access else {
                panic!("{route} needs a token");
            };
            assert_eq!((kind, role), (None, None), "{route}: the service decides");
            let needed = if policy.method == "GET" {
                Scope::CampaignsRead
            } else {
                Scope::CampaignsWrite
            };
            assert_eq!(scopes, [needed], "{route}");
            assert_eq!(authorize(&policy.access, &writer), Ok(()), "{route}");
            assert_eq!(
                authorize(&policy.access, &assets),
                Err(Denial::MissingScopes(vec![needed])),
                "{route}"
            );
            let for_reader = authorize(&policy.access, &reader);
            if needed == Scope::CampaignsRead {
                assert_eq!(for_reader, Ok(()), "{route}");
            } else {
                assert!(for_reader.is_err(), "{route}");
            }
        }
    }

    #[test]
    fn public_routes_need_nothing_and_probes_are_not_throttled() {
        for pattern in ["/healthz", "/readyz", "/docs", "/docs/scalar.js"] {
            let policy = find("GET", pattern).unwrap();
            assert_eq!(policy.access, Access::Public);
            assert_eq!(policy.rate, Rate::Exempt);
        }
        let login = find("POST", "/api/v1/auth/login").unwrap();
        assert_eq!(login.access, Access::Public);
        assert_eq!(login.rate, Rate::Caller);
    }

    #[actix_web::test]
    async fn the_middleware_refuses_routes_missing_from_the_table() {
        use actix_web::{App, HttpResponse, test};
        let settings = crate::GatewaySettings {
            auth_url: "http://127.0.0.1:1".into(),
            ..Default::default()
        };
        let state = web::Data::new(crate::AppState::new(settings).unwrap());
        let app = test::init_service(
            App::new()
                .app_data(state)
                .route("/api/v1/unlisted", web::get().to(HttpResponse::Ok))
                .route("/healthz", web::get().to(HttpResponse::Ok))
                .wrap(actix_web::middleware::from_fn(enforce)),
        )
        .await;
        let response = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/api/v1/unlisted")
                .to_request(),
        )
        .await;
        assert_eq!(
            response.status().as_u16(),
            403,
            "registered but unlisted: denied"
        );
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
        assert_eq!(response.status().as_u16(), 200, "listed: served");
        let response = test::call_service(
            &app,
            test::TestRequest::get().uri("/elsewhere").to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 404);
    }
}
