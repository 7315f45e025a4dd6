//! Where tenants are known outside Kubernetes: the auth service (tenant, plan, feature
//! flags; disabled — never deleted — when the `Tenant` goes), implemented over gRPC by
//! [`crate::clients::auth::AuthDirectory`]. Without an auth URL the operator runs without
//! one and says so in the `Ready` condition's message ("auth sync not configured").

use crate::domain::tenant::Tenant;
use std::fmt;
use std::future::Future;

/// A failure of the directory, reported as `Degraded` with reason `AuthSyncFailed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryError(pub String);

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DirectoryError {}

/// The tenant directory the controller keeps in step with the `Tenant` resources.
pub trait TenantDirectory: Send + Sync + 'static {
    /// Creates the tenant (named by its display name) if missing, and sets its plan and
    /// feature flags.
    fn sync(&self, tenant: &Tenant) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Marks the tenant disabled (its data stays) when the `Tenant` is deleted.
    fn disable(&self, tenant: &Tenant) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}
