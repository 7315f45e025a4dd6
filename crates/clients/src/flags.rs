//! Tenant feature flags over auth's `GetTenantFlags`, cached briefly per tenant so that
//! busy callers do not each cost a round trip. Writers through auth invalidate the
//! tenant's entry on their own replica; others see a change within the TTL.

use crate::AuthClient;
use marquee_platform::grpc::for_caller;
use marquee_platform::{Error, Principal};
use marquee_proto::auth::v1::{GetTenantFlagsRequest, TenantFlags, flag_value};
use std::sync::Arc;
use std::time::Duration;

pub struct TenantFlagsCache {
    auth: AuthClient,
    cache: moka::future::Cache<String, Arc<TenantFlags>>,
}

impl TenantFlagsCache {
    pub fn new(auth: AuthClient, ttl: Duration) -> Self {
        Self {
            auth,
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The caller's tenant's flags; concurrent misses share one call to auth.
    pub async fn for_caller(&self, caller: &Principal) -> Result<Arc<TenantFlags>, Error> {
        let tenant_id = caller.tenant_id.clone();
        self.cache
            .try_get_with(tenant_id.clone(), async {
                let flags = self
                    .auth
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

    /// Whether boolean `flag` is on for the caller's tenant: `true` or the string
    /// `"true"`; unset is off.
    pub async fn enabled(&self, caller: &Principal, flag: &str) -> Result<bool, Error> {
        let flags = self.for_caller(caller).await?;
        Ok(flags
            .flags
            .get(flag)
            .and_then(|value| value.value.as_ref())
            .is_some_and(|value| match value {
                flag_value::Value::BoolValue(on) => *on,
                flag_value::Value::StringValue(text) => text == "true",
            }))
    }

    pub async fn invalidate(&self, tenant_id: &str) {
        self.cache.invalidate(tenant_id).await;
    }
}
