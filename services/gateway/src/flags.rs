//! A short-lived cache of tenant feature flags over auth's `GetTenantFlags`, so partner
//! clients polling their flags do not each cost a round trip. Writes through the admin
//! API invalidate the tenant's entry.

use crate::clients::{AuthClient, for_caller};
use marquee_platform::{Error, Principal};
use marquee_proto::auth::v1::{GetTenantFlagsRequest, TenantFlags};
use std::sync::Arc;
use std::time::Duration;

pub struct FlagCache {
    cache: moka::future::Cache<String, Arc<TenantFlags>>,
}

impl FlagCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The caller's tenant's flags; concurrent misses share one call to auth.
    pub async fn for_caller(
        &self,
        auth: &AuthClient,
        caller: &Principal,
    ) -> Result<Arc<TenantFlags>, Error> {
        let tenant_id = caller.tenant_id.clone();
        self.cache
            .try_get_with(tenant_id.clone(), async {
                let flags = auth
                    .grpc()
                    .get_tenant_flags(for_caller(caller, GetTenantFlagsRequest { tenant_id }))
                    .await?
                    .into_inner();
                Ok::<_, Error>(Arc::new(flags))
            })
            .await
            .map_err(|shared| {
                let mut error =
                    Error::new(shared.kind, shared.code.clone(), shared.message.clone());
                error.retry_after = shared.retry_after;
                error
            })
    }

    pub async fn invalidate(&self, tenant_id: &str) {
        self.cache.invalidate(tenant_id).await;
    }
}
