//! Tenant feature flags from auth's `GetTenantFlags`, with the caller's principal,
//! cached briefly per tenant (the shared [`TenantFlagsCache`]).

use crate::domain::flags::FlagSource;
use marquee_clients::{AuthClient, TenantFlagsCache};
use marquee_platform::Principal;
use marquee_platform::service_identity::ServiceIdentity;
use std::time::Duration;

/// Flags from auth over gRPC, cached per tenant for the TTL.
pub struct AuthFlags {
    cache: TenantFlagsCache,
}

impl AuthFlags {
    pub fn new(auth: AuthClient, ttl: Duration) -> Self {
        Self {
            cache: TenantFlagsCache::new(auth, ttl),
        }
    }

    /// A client of auth at `url`, connected on first use.
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
        ttl: Duration,
    ) -> Result<Self, tonic::transport::Error> {
        Ok(Self::new(AuthClient::connect_lazy(url, identity)?, ttl))
    }
}

#[async_trait::async_trait]
impl FlagSource for AuthFlags {
    async fn enabled(&self, caller: &Principal, flag: &str) -> anyhow::Result<bool> {
        self.cache
            .enabled(caller, flag)
            .await
            .map_err(|error| anyhow::anyhow!("reading tenant flags from auth: {error}"))
    }
}
