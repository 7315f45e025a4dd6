//! JWKS key sets (auth's `GetJwks`: kty, crv, x, kid, alg, use as strings): any set
//! installs without a panic, and only Ed25519 keys with a kid are published.
#![no_main]

use futures::future::BoxFuture;
use libfuzzer_sys::fuzz_target;
use marquee_gateway::token::{JwkSet, JwksSource, PublicJwk, TokenVerifier};
use marquee_platform::{Error, ErrorKind};

struct NoRefresh;

impl JwksSource for NoRefresh {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, Error>> {
        Box::pin(async { Err(Error::new(ErrorKind::Unavailable, "unavailable", "fuzzing")) })
    }
}

type Fields = (String, String, String, String, String, String);

fuzz_target!(|keys: Vec<Fields>| {
    let keys: Vec<PublicJwk> = keys
        .into_iter()
        .map(|(kty, crv, x, kid, alg, use_)| PublicJwk {
            kty,
            crv,
            x,
            kid,
            alg,
            use_,
        })
        .collect();
    let verifier = TokenVerifier::new(Box::new(NoRefresh), "marquee-auth", "marquee-api", 10);
    verifier.install(JwkSet { keys: keys.clone() });
    for key in verifier.jwks().keys {
        assert!(key.kty == "OKP" && key.crv == "Ed25519" && !key.kid.is_empty());
        assert!(keys.contains(&key));
    }
});
