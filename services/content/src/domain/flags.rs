//! Tenant feature flags, as the content rules need them. Where they come from is a
//! port: auth's flags in production (the auth client), fixed ones in tests.

use marquee_platform::Principal;

/// The flag that skips manual review of new assets.
pub const AUTO_APPROVE_ASSETS: &str = "auto_approve_assets";

/// Where flags come from; a trait so the core can be tested without auth.
#[async_trait::async_trait]
pub trait FlagSource: Send + Sync + 'static {
    /// Whether `flag` is on for the caller's tenant. Errors are the caller's to decide
    /// on (content treats an unknown flag as off).
    async fn enabled(&self, caller: &Principal, flag: &str) -> anyhow::Result<bool>;
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
