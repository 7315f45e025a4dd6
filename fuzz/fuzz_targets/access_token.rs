//! Access tokens at the gateway (JWT header and claims decoding, then the EdDSA check):
//! nothing the fuzzer writes is a valid token, so every one must be refused.
#![no_main]

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use futures::future::BoxFuture;
use libfuzzer_sys::fuzz_target;
use marquee_gateway::token::{JwkSet, JwksSource, PublicJwk, TokenVerifier};
use marquee_platform::{Error, ErrorKind};
use std::sync::LazyLock;

struct NoRefresh;

impl JwksSource for NoRefresh {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, Error>> {
        Box::pin(async { Err(Error::new(ErrorKind::Unavailable, "unavailable", "fuzzing")) })
    }
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
});

static VERIFIER: LazyLock<TokenVerifier> = LazyLock::new(|| {
    let public = SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes();
    let verifier = TokenVerifier::new(Box::new(NoRefresh), "marquee-auth", "marquee-api", 1000);
    verifier.install(JwkSet {
        keys: vec![PublicJwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public),
            kid: "k1".into(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        }],
    });
    verifier
});

fuzz_target!(|token: &str| {
    let verified = RUNTIME.block_on(VERIFIER.verify(token));
    assert!(verified.is_err(), "a fuzzed token verified: {token:?}");
});
