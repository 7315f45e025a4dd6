//! The gateway verifies tokens itself: forged, expired, `alg: none`, wrong algorithm,
//! wrong issuer or audience are all 401.

use super::{Options, TestFleet, assert_problem, spawn_fleet};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use marquee_platform::ExposeSecret;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The fleet's real signing key, read from its database and opened with its
/// key-encryption key (as an attacker never could: they would need both).
async fn real_key(fleet: &TestFleet) -> (String, EncodingKey) {
    let db = marquee_auth::store::connect(fleet.auth_settings.database_url().expose_secret())
        .await
        .unwrap();
    let key = marquee_auth::store::keys::newest(&db, 1)
        .await
        .unwrap()
        .remove(0);
    let sealer = marquee_auth::domain::keys::sealer(&fleet.auth_settings).unwrap();
    let aad = marquee_envelope::Aad::new("marquee.auth.signing_key").with("kid", &key.kid);
    let der = sealer.open(&key.sealed, &aad).await.unwrap();
    (key.kid, EncodingKey::from_ed_der(der.expose_secret()))
}

fn claims(user: &Value, exp_offset: i64, iss: &str, aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": iss, "aud": aud,
        "sub": user["id"], "tid": user["tenant_id"],
        "roles": ["creator", "admin"], "scope": "tenant:read",
        "exp": now + exp_offset, "iat": now - 10, "jti": uuid::Uuid::new_v4().to_string(),
        "principal": "user",
    })
}

fn sign(kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let fleet = spawn_fleet(Options::default()).await;
    let session = fleet.register("eve@example.com").await;
    let user = &session["user"];
    let (kid, key) = real_key(&fleet).await;
    let me = "/api/v1/auth/me";

    // Control: a token we sign with the real key and sane claims is accepted, so the
    // rejections below are about what each one changes.
    let good = sign(
        &kid,
        &key,
        &claims(user, 300, "marquee-auth", "marquee-api"),
    );
    assert_eq!(fleet.get_with(me, &good).await.status(), StatusCode::OK);

    let missing = fleet.http.get(fleet.at(me)).send().await.unwrap();
    assert!(missing.headers().contains_key("www-authenticate"));
    assert_problem(missing, StatusCode::UNAUTHORIZED, "token_missing").await;

    let expired = sign(
        &kid,
        &key,
        &claims(user, -120, "marquee-auth", "marquee-api"),
    );
    assert_problem(
        fleet.get_with(me, &expired).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;

    // Right kid, wrong key: a forgery.
    let forger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let forged_key = EncodingKey::from_ed_der(forger.to_pkcs8_der().unwrap().as_bytes());
    let forged = sign(
        &kid,
        &forged_key,
        &claims(user, 300, "marquee-auth", "marquee-api"),
    );
    assert_problem(
        fleet.get_with(me, &forged).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;

    // Unknown kid.
    let unknown_kid = sign(
        "no-such-kid",
        &key,
        &claims(user, 300, "marquee-auth", "marquee-api"),
    );
    assert_problem(
        fleet.get_with(me, &unknown_kid).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;

    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
    let payload =
        URL_SAFE_NO_PAD.encode(claims(user, 300, "marquee-auth", "marquee-api").to_string());
    for none in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_problem(
            fleet.get_with(me, &none).await,
            StatusCode::UNAUTHORIZED,
            "token_invalid",
        )
        .await;
    }

    // HS256 with the public key as the shared secret (the classic confusion attack).
    let jwks: Value = fleet
        .http
        .get(fleet.at("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims(user, 300, "marquee-auth", "marquee-api"),
        &EncodingKey::from_secret(x.as_bytes()),
    )
    .unwrap();
    assert_problem(
        fleet.get_with(me, &confused).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;

    // Right key, wrong issuer or audience.
    let wrong_iss = sign(
        &kid,
        &key,
        &claims(user, 300, "someone-else", "marquee-api"),
    );
    assert_problem(
        fleet.get_with(me, &wrong_iss).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;
    let wrong_aud = sign(
        &kid,
        &key,
        &claims(user, 300, "marquee-auth", "another-api"),
    );
    assert_problem(
        fleet.get_with(me, &wrong_aud).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;

    assert_problem(
        fleet.get_with(me, "not.a.jwt").await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;
    fleet.stop().await;
}

#[tokio::test]
async fn jwks_publishes_ed25519_keys() {
    let fleet = spawn_fleet(Options::default()).await;
    let jwks: Value = fleet
        .http
        .get(fleet.at("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(key["x"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert!(jwks["keys"][0].get("d").is_none(), "no private material");
    fleet.stop().await;
}
