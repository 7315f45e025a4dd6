//! Administration (admin users only, see `policy`): partner clients, tenants and their
//! feature flags, the audit log, disabling users and ending their sessions.

mod audit;
mod oauth_clients;
mod tenants;
mod users;

pub use audit::{AuditEntryBody, AuditPageBody, AuditQuery, list_audit};
pub use oauth_clients::{
    CreateOAuthClientBody, CreatedOAuthClientBody, Environment, OAuthClientBody,
    OAuthClientPageBody, Scope, create_oauth_client, get_oauth_client, list_oauth_clients,
    revoke_oauth_client, rotate_oauth_client_secret,
};
pub use tenants::{
    CreateTenantBody, SetFlagsBody, TenantBody, TenantPageBody, create_tenant, get_tenant,
    get_tenant_flags, list_tenants, set_tenant_flags,
};
pub use users::{RevokedSessionsBody, disable_user, enable_user, revoke_user_sessions};
