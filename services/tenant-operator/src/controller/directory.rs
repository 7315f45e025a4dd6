//! Where tenants are known outside Kubernetes: the auth service (tenant, plan, feature
//! flags; disabled — never deleted — when the `Tenant` goes). Its gRPC implementation is
//! the next slice of issue 15; until then the operator runs without one and says so in
//! the `Ready` condition's message ("auth sync not configured").

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
    /// Creates or updates the tenant: display name, plan, feature flags, admins.
    fn sync(&self, tenant: &Tenant) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Marks the tenant disabled (its data stays) when the `Tenant` is deleted.
    fn disable(&self, tenant: &Tenant) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// No directory: a type with no values, so `Option<NoDirectory>` can only be `None` and
/// nothing pretends to sync. The `run` command uses it until the auth client exists.
#[derive(Debug)]
pub enum NoDirectory {}

impl TenantDirectory for NoDirectory {
    async fn sync(&self, _: &Tenant) -> Result<(), DirectoryError> {
        match *self {}
    }

    async fn disable(&self, _: &Tenant) -> Result<(), DirectoryError> {
        match *self {}
    }
}
