//! Access-token claims: the shape is a contract between auth (which signs them) and the
//! gateway (which verifies them), defined once in `marquee_platform::identity`
//! (docs/architecture.md, "Tokens").

pub use marquee_platform::AccessClaims as Claims;
