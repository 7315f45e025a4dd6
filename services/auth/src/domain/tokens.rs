//! Access-token claims. The gateway verifies these; their shape is a contract
//! (docs/architecture.md, "Tokens").

use serde::{Deserialize, Serialize};

pub const PRINCIPAL_USER: &str = "user";
pub const PRINCIPAL_CLIENT: &str = "client";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// User id or client id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    pub roles: Vec<String>,
    /// Space-separated scopes.
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// `user` or `client`.
    pub principal: String,
    /// Partner clients only: `sandbox` or `live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Partner clients only: rate-limit tier (`basic`, `standard`, `premium`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_tier: Option<String>,
}
