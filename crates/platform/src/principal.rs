//! Who is calling. The gateway verifies the access token and forwards the principal to
//! internal services in gRPC metadata; services trust it because only the gateway can
//! reach them (NetworkPolicy in the Helm chart) and it strips these headers from
//! outside requests (they are never read from HTTP).

use crate::error::Error;
pub use crate::identity::PrincipalKind;
use crate::identity::{Role, Scope};
use tonic::metadata::MetadataMap;

const SUBJECT: &str = "x-marquee-subject";
const TENANT: &str = "x-marquee-tenant";
const ROLES: &str = "x-marquee-roles";
const SCOPES: &str = "x-marquee-scopes";
const KIND: &str = "x-marquee-principal-kind";

#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub fn write_to(&self, metadata: &mut MetadataMap) {
        let kind = self.kind.as_str();
        let pairs = [
            (SUBJECT, self.subject.clone()),
            (TENANT, self.tenant_id.clone()),
            (ROLES, join(&self.roles, Role::as_str)),
            (SCOPES, Scope::join(&self.scopes)),
            (KIND, kind.to_string()),
        ];
        for (key, value) in pairs {
            if let Ok(value) = value.parse() {
                metadata.insert(key, value);
            }
        }
    }

    /// The caller of an incoming gRPC request, as the `Status` a handler returns with `?`.
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        Self::from_metadata(request.metadata()).map_err(|error| error.to_status())
    }

    /// The principal of an incoming gRPC request; `unauthenticated` when absent.
    pub fn from_metadata(metadata: &MetadataMap) -> Result<Self, Error> {
        let get = |key| metadata.get(key).and_then(|v| v.to_str().ok());
        let subject = get(SUBJECT).filter(|s| !s.is_empty());
        let tenant_id = get(TENANT).filter(|s| !s.is_empty());
        let (Some(subject), Some(tenant_id)) = (subject, tenant_id) else {
            return Err(Error::unauthenticated(
                "unauthenticated",
                "no caller identity",
            ));
        };
        // Unknown names (from a newer peer) grant nothing.
        let words = |key| get(key).unwrap_or("").split_whitespace();
        Ok(Self {
            kind: match get(KIND) {
                Some("client") => PrincipalKind::Client,
                _ => PrincipalKind::User,
            },
            subject: subject.to_string(),
            tenant_id: tenant_id.to_string(),
            roles: words(ROLES).filter_map(Role::parse).collect(),
            scopes: words(SCOPES).filter_map(Scope::parse).collect(),
        })
    }
}

fn join<T: Copy>(items: &[T], name: fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|item| name(*item))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_metadata() {
        let principal = Principal {
            kind: PrincipalKind::Client,
            subject: "c1".into(),
            tenant_id: "t1".into(),
            roles: vec![Role::Admin],
            scopes: vec![Scope::AssetsRead, Scope::BillingRead],
        };
        assert!(principal.acts_as(Role::Moderator));
        assert!(principal.has_scope(Scope::BillingRead));
        assert!(!principal.has_scope(Scope::TenantRead));
        let mut metadata = MetadataMap::new();
        principal.write_to(&mut metadata);
        assert_eq!(Principal::from_metadata(&metadata).unwrap(), principal);
    }

    #[test]
    fn unknown_roles_and_scopes_grant_nothing() {
        let mut metadata = MetadataMap::new();
        metadata.insert(SUBJECT, "u1".parse().unwrap());
        metadata.insert(TENANT, "t1".parse().unwrap());
        metadata.insert(ROLES, "root creator".parse().unwrap());
        metadata.insert(SCOPES, "everything assets:read".parse().unwrap());
        let principal = Principal::from_metadata(&metadata).unwrap();
        assert_eq!(principal.roles, [Role::Creator]);
        assert_eq!(principal.scopes, [Scope::AssetsRead]);
        assert_eq!(principal.kind, PrincipalKind::User);
    }

    #[test]
    fn missing_principal_is_unauthenticated() {
        let error = Principal::from_metadata(&MetadataMap::new()).unwrap_err();
        assert_eq!(error.kind, crate::ErrorKind::Unauthenticated);
    }
}
