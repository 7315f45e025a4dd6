//! The runtime every Marquee service shares: typed config, secrets, telemetry, metrics,
//! health, graceful shutdown, the platform error with its gRPC and problem+json mappings,
//! and gRPC helpers (trace context and principal propagation, serving with health).

pub mod balance;
pub mod config;
pub mod error;
pub mod grpc;
pub mod health;
pub mod identity;
pub mod in_process;
pub mod input;
pub mod listener;
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

#[doc(hidden)]
pub use mimalloc;

/// Makes mimalloc the process's allocator. Every service binary's `main.rs` says
/// `marquee_platform::global_allocator!();` once. Under load glibc's malloc cost a
/// tenth of the request path's time and contended across threads (the gateway's
/// workers, the services' runtime); mimalloc took `GET /api/v1/auth/me` from 0.14 to
/// about 0.20 of a bare actix-web server's throughput (`docs/benchmarks.md`, "Request
/// path"). Libraries and tests keep the system allocator (the fuzz targets need it for
/// their sanitizer).
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::mimalloc::MiMalloc = $crate::mimalloc::MiMalloc;
    };
}

/// Installs the process-wide TLS crypto provider. Call first thing in every binary:
/// rustls panics at run time when more than one provider is compiled in and none is
/// chosen (see docs/dependencies.md).
pub fn install_crypto_provider() {
    // Err means one is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
