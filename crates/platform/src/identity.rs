//! Roles, scopes and access-token claims, defined once: auth issues them, the gateway
//! verifies and enforces them, services check them. Nothing else spells a role or a
//! scope as a string literal.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's role. Admins moderate too, owners manage billing too: [`Role::grants`] is the
/// one place that says what a role is enough for, for the gateway's route policy and the
/// services alike.
///
/// `creator`, `moderator`, `owner` and `billing_admin` are roles *in the user's tenant*
/// (every check pairs them with the caller's own tenant); `admin` is the platform's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Uploads, comments, runs campaigns.
    Creator,
    /// Reviews assets and reported comments.
    Moderator,
    /// The platform's operator: everything, in every tenant.
    Admin,
    /// Runs a tenant: invites members (any tenant role) and manages its billing.
    Owner,
    /// Manages a tenant's billing (checkout, portal, plan changes), nothing else.
    BillingAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Creator,
        Self::Moderator,
        Self::Admin,
        Self::Owner,
        Self::BillingAdmin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Creator => "creator",
            Self::Moderator => "moderator",
            Self::Admin => "admin",
            Self::Owner => "owner",
            Self::BillingAdmin => "billing_admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == value)
    }

    /// Whether holding `self` is enough where `required` is asked for: an admin is
    /// enough for anything, a moderator for creator routes, an owner for billing-admin
    /// routes; otherwise only the role itself.
    pub const fn grants(self, required: Role) -> bool {
        matches!(
            (self, required),
            (Self::Admin, _)
                | (Self::Moderator, Self::Moderator | Self::Creator)
                | (Self::Creator, Self::Creator)
                | (Self::Owner, Self::Owner | Self::BillingAdmin)
                | (Self::BillingAdmin, Self::BillingAdmin)
        )
    }

    /// The roles that are enough where `required` is asked for, `required` first.
    pub fn granting(required: Role) -> Vec<Role> {
        let mut roles = vec![required];
        roles.extend(
            Self::ALL
                .into_iter()
                .filter(|role| *role != required && role.grants(required)),
        );
        roles
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scope catalogue. Users' tokens carry every scope; partner clients carry what an
/// admin granted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AssetsRead => "assets:read",
            Self::AssetsWrite => "assets:write",
            Self::CampaignsRead => "campaigns:read",
            Self::CampaignsWrite => "campaigns:write",
            Self::BillingRead => "billing:read",
            Self::TenantRead => "tenant:read",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Self::AssetsRead => "Read assets",
            Self::AssetsWrite => "Upload and change assets",
            Self::CampaignsRead => "Read campaigns",
            Self::CampaignsWrite => "Create and change campaigns",
            Self::BillingRead => "Read plans, subscriptions and usage",
            Self::TenantRead => "Read the tenant's feature flags",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == value)
    }

    /// Scopes as a token's space-separated `scope` claim.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A person signed in with email and password.
    User,
    /// An OAuth2 partner client (client-credentials grant).
    Client,
}

impl PrincipalKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Client => "client",
        }
    }
}

/// The claims of an access token (a JWT signed by auth, `alg: EdDSA`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// User id or client id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Role names; an unknown one (from a newer auth) is ignored by readers.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub principal: PrincipalKind,
    /// Partner clients only: `sandbox` or `live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Partner clients only: rate-limit tier (`basic`, `standard`, `premium`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_tier: Option<String>,
    /// Users only: the session (refresh-token family) the token belongs to; revoking
    /// the session revokes the token at the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// When the token was issued, in milliseconds: `iat` is whole seconds (RFC 7519),
    /// too coarse to tell a token issued just before a revocation from one just after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
}

impl AccessClaims {
    /// The known roles among the claim's names.
    pub fn known_roles(&self) -> Vec<Role> {
        self.roles.iter().filter_map(|r| Role::parse(r)).collect()
    }

    /// The known scopes among the claim's words.
    pub fn known_scopes(&self) -> Vec<Scope> {
        self.scope
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_admins_moderate() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
            assert_eq!(
                serde_json::to_string(&scope).unwrap(),
                format!("\"{scope}\"")
            );
        }
        assert!(Role::Admin.grants(Role::Moderator));
        assert!(Role::Moderator.grants(Role::Moderator));
        assert!(!Role::Creator.grants(Role::Moderator));
        assert!(!Role::Moderator.grants(Role::Admin));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("billing_admin"), Some(Role::BillingAdmin));
        assert_eq!(
            serde_json::to_string(&Role::BillingAdmin).unwrap(),
            "\"billing_admin\""
        );
    }

    #[test]
    fn owners_and_billing_admins_manage_billing_and_only_owners_membership() {
        for role in Role::ALL {
            assert!(role.grants(role), "{role} grants itself");
            assert!(Role::Admin.grants(role), "admin grants {role}");
        }
        assert!(Role::Owner.grants(Role::BillingAdmin));
        assert!(!Role::BillingAdmin.grants(Role::Owner));
        for tenant_role in [Role::Owner, Role::BillingAdmin] {
            assert!(!tenant_role.grants(Role::Admin));
            assert!(!tenant_role.grants(Role::Moderator));
            assert!(!tenant_role.grants(Role::Creator), "{tenant_role}");
        }
        for member in [Role::Creator, Role::Moderator] {
            assert!(!member.grants(Role::BillingAdmin), "{member}");
            assert!(!member.grants(Role::Owner), "{member}");
        }
        assert_eq!(
            Role::granting(Role::BillingAdmin),
            [Role::BillingAdmin, Role::Admin, Role::Owner]
        );
        assert_eq!(Role::granting(Role::Admin), [Role::Admin]);
        assert_eq!(
            Scope::join(&[Scope::AssetsRead, Scope::TenantRead]),
            "assets:read tenant:read"
        );
    }

    #[test]
    fn claims_read_unknown_roles_and_scopes_as_absent() {
        let claims: AccessClaims = serde_json::from_value(serde_json::json!({
            "iss": "marquee", "aud": "marquee-api", "sub": "u1", "tid": "default",
            "roles": ["creator", "wizard"], "scope": "assets:read teleport",
            "exp": 2, "iat": 1, "jti": "j", "principal": "user"
        }))
        .unwrap();
        assert_eq!(claims.known_roles(), [Role::Creator]);
        assert_eq!(claims.known_scopes(), [Scope::AssetsRead]);
        assert_eq!(claims.principal, PrincipalKind::User);
    }
}
