//! The runtime every Marquee service shares: typed config, secrets, telemetry, metrics,
//! health, graceful shutdown, the platform error with its gRPC and problem+json mappings,
//! and gRPC helpers (trace context and principal propagation, serving with health).

pub mod balance;
pub mod config;
pub mod error;
pub mod grpc;
pub mod health;
pub mod identity;
pub mod input;
pub mod metrics;
pub mod principal;
pub mod profile;
pub mod service;
pub mod service_identity;
pub mod settings_keys;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use error::{Error, ErrorKind, Problem, Result};
pub use identity::{AccessClaims, Role, Scope};
pub use principal::{Principal, PrincipalKind};
pub use secrecy::{ExposeSecret, SecretString};

/// Installs the process-wide TLS crypto provider. Call first thing in every binary:
/// rustls panics at run time when more than one provider is compiled in and none is
/// chosen (see docs/dependencies.md).
pub fn install_crypto_provider() {
    // Err means one is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
