//! Tenant feature flags, read from auth's `GetTenantFlags` with the caller's principal
//! and cached briefly per tenant.

use marquee_platform::Principal;
use marquee_platform::grpc::TraceContextInterceptor;
use marquee_proto::auth::v1::auth_service_client::AuthServiceClient;
use marquee_proto::auth::v1::{GetTenantFlagsRequest, flag_value};
use std::time::Duration;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The flag that skips manual review of new assets.
pub const AUTO_APPROVE_ASSETS: &str = "auto_approve_assets";

/// Where flags come from; a trait so the core can be tested without auth.
#[async_trait::async_trait]
pub trait FlagSource: Send + Sync + 'static {
    /// Whether `flag` is on for the caller's tenant. Errors are the caller's to decide
    /// on (content treats an unknown flag as off).
    async fn enabled(&self, caller: &Principal, flag: &str) -> anyhow::Result<bool>;
}

/// Flags from auth over gRPC, cached per tenant for `ttl`.
pub struct AuthFlags {
    client: AuthServiceClient<InterceptedService<Channel, TraceContextInterceptor>>,
    cache: moka::future::Cache<String, std::sync::Arc<std::collections::HashMap<String, bool>>>,
}

impl AuthFlags {
    pub fn connect_lazy(url: &str, ttl: Duration) -> anyhow::Result<Self> {
        let channel = marquee_platform::grpc::channel(url)?;
        Ok(Self {
            client: AuthServiceClient::with_interceptor(channel, TraceContextInterceptor),
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        })
    }
}

#[async_trait::async_trait]
impl FlagSource for AuthFlags {
    async fn enabled(&self, caller: &Principal, flag: &str) -> anyhow::Result<bool> {
        let flags = self
            .cache
            .try_get_with(caller.tenant_id.clone(), async {
                let mut request = tonic::Request::new(GetTenantFlagsRequest {
                    tenant_id: caller.tenant_id.clone(),
                });
                caller.write_to(request.metadata_mut());
                let flags = self
                    .client
                    .clone()
                    .get_tenant_flags(request)
                    .await?
                    .into_inner();
                let map = flags
                    .flags
                    .into_iter()
                    .filter_map(|(name, value)| match value.value? {
                        flag_value::Value::BoolValue(b) => Some((name, b)),
                        flag_value::Value::StringValue(s) => Some((name, s == "true")),
                    })
                    .collect();
                Ok::<_, tonic::Status>(std::sync::Arc::new(map))
            })
            .await
            .map_err(|status| anyhow::anyhow!("reading tenant flags from auth: {status}"))?;
        Ok(flags.get(flag).copied().unwrap_or(false))
    }
}

/// Fixed flags, for tests and tools.
#[derive(Debug, Default, Clone)]
pub struct StaticFlags(pub std::collections::HashMap<String, bool>);

#[async_trait::async_trait]
impl FlagSource for StaticFlags {
    async fn enabled(&self, _caller: &Principal, flag: &str) -> anyhow::Result<bool> {
        Ok(self.0.get(flag).copied().unwrap_or(false))
    }
}
