//! Who is calling. The gateway verifies the access token; between services the
//! principal travels inside the caller's signed identity token
//! ([`crate::service_identity`]), which the callee's server verifies before any handler
//! runs. Handlers read it with [`Principal::from_request`]; nothing else (no plain
//! metadata) is believed.

use crate::error::Error;
pub use crate::identity::PrincipalKind;
use crate::identity::{Role, Scope};
use crate::service_identity::VerifiedCaller;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// User id or client id.
    pub subject: String,
    pub tenant_id: String,
    pub roles: Vec<Role>,
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// Whether the caller holds a role that grants `required` (admins moderate too:
    /// [`Role::grants`]).
    pub fn acts_as(&self, required: Role) -> bool {
        self.roles.iter().any(|role| role.grants(required))
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The caller of an incoming gRPC request, as the `Status` a handler returns with `?`:
    /// the principal of its verified service identity, `Unauthenticated` when the call
    /// was made on nobody's behalf.
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        request
            .extensions()
            .get::<Arc<VerifiedCaller>>()
            .and_then(|caller| caller.principal.clone())
            .ok_or_else(|| {
                Error::unauthenticated("unauthenticated", "no caller identity").to_status()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            kind: PrincipalKind::Client,
            subject: "c1".into(),
            tenant_id: "t1".into(),
            roles: vec![Role::Admin],
            scopes: vec![Scope::AssetsRead, Scope::BillingRead],
        }
    }

    #[test]
    fn roles_and_scopes_grant() {
        let principal = principal();
        assert!(principal.acts_as(Role::Moderator));
        assert!(principal.has_scope(Scope::BillingRead));
        assert!(!principal.has_scope(Scope::TenantRead));
    }

    #[test]
    fn the_principal_comes_from_the_verified_caller_only() {
        // The metadata the fleet used to believe is ignored.
        let mut forged = tonic::Request::new(());
        for (key, value) in [
            ("x-marquee-subject", "u1"),
            ("x-marquee-tenant", "t1"),
            ("x-marquee-roles", "admin"),
        ] {
            forged.metadata_mut().insert(key, value.parse().unwrap());
        }
        let status = Principal::from_request(&forged).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);

        let mut verified = tonic::Request::new(());
        verified
            .extensions_mut()
            .insert(Arc::new(VerifiedCaller::assumed(
                "gateway",
                Some(principal()),
            )));
        assert_eq!(Principal::from_request(&verified).unwrap(), principal());

        let mut on_nobodys_behalf = tonic::Request::new(());
        on_nobodys_behalf
            .extensions_mut()
            .insert(Arc::new(VerifiedCaller::assumed("gateway", None)));
        assert!(Principal::from_request(&on_nobodys_behalf).is_err());
    }
}
