use crate::helpers::{KID, Signer, client_claims, problem, spawn_app, user_claims};
use base64::Engine as _;

#[tokio::test]
async fn missing_forged_expired_and_alg_none_tokens_are_401() {
    let app = spawn_app(|_| {}).await;
    let response = app.get("/api/v1/auth/me", None).await;
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        "Bearer realm=\"marquee\""
    );
    problem(response, 401, "token_missing").await;

    let forged = Signer::new(99).sign(KID, &user_claims("user-1", &["admin"], 600));
    let expired = app.signer.sign(KID, &user_claims("user-1", &[], -120));
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none = format!(
        "{}.{}.",
        b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(user_claims("user-1", &["admin"], 600))
    );
    let mut wrong_audience = user_claims("user-1", &[], 600);
    wrong_audience["aud"] = "elsewhere".into();
    let wrong_audience = app.signer.sign(KID, &wrong_audience);
    let unknown_kid = app
        .signer
        .sign("other-kid", &user_claims("user-1", &[], 600));
    for (token, code) in [
        (forged.as_str(), "token_invalid"),
        (expired.as_str(), "token_expired"),
        (none.as_str(), "token_invalid"),
        (wrong_audience.as_str(), "token_invalid"),
        (unknown_kid.as_str(), "token_invalid"),
        ("garbage", "token_invalid"),
    ] {
        let response = app.get("/api/v1/auth/me", Some(token)).await;
        let challenge = response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.starts_with("Bearer realm=\"marquee\", error=\"invalid_token\""),
            "{challenge}"
        );
        problem(response, 401, code).await;
    }
    let response = app
        .http
        .get(app.url("/api/v1/auth/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    problem(response, 401, "token_invalid").await;
}

#[tokio::test]
async fn roles_scopes_and_principal_kinds_are_enforced_and_denials_audited() {
    let app = spawn_app(|_| {}).await;
    let creator = app.user_token(&["creator"]);
    let response = app.get("/api/v1/admin/tenants", Some(&creator)).await;
    problem(response, 403, "forbidden").await;

    let client = app.client_token("assets:read");
    let response = app.get("/api/v1/tenant/flags", Some(&client)).await;
    let challenge = response
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("tenant:read"),
        "{challenge}"
    );
    problem(response, 403, "insufficient_scope").await;

    // A client is never a user, whatever it claims.
    let mut claims = client_claims("client-9", "tenant:read", "basic");
    claims["roles"] = serde_json::json!(["admin"]);
    let sneaky = app.signer.sign(KID, &claims);
    problem(
        app.get("/api/v1/admin/audit", Some(&sneaky)).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.get("/api/v1/auth/me", Some(&sneaky)).await,
        403,
        "forbidden",
    )
    .await;

    app.wait_until("three audited denials", || {
        app.seen.audits.lock().unwrap().len() >= 4
    })
    .await;
    let audits = app.seen.audits.lock().unwrap();
    assert!(
        audits
            .iter()
            .all(|(_, r)| r.action == "access_denied" && r.outcome == "denied")
    );
    let (principal, request) = audits
        .iter()
        .find(|(_, r)| r.detail.contains("/api/v1/tenant/flags"))
        .expect("scope denial audited");
    assert!(principal.subject.starts_with("client-"));
    assert_eq!(principal.kind, marquee_platform::PrincipalKind::Client);
    assert_eq!(request.client.as_ref().unwrap().ip, "127.0.0.1");
}

#[tokio::test]
async fn tenant_flags_are_cached_and_invalidated() {
    let app = spawn_app(|_| {}).await;
    let client = app.client_token("tenant:read assets:read");
    for _ in 0..3 {
        let response = app.get("/api/v1/tenant/flags", Some(&client)).await;
        assert_eq!(response.status(), 200);
        let flags: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            flags,
            serde_json::json!({"tenant_id": "tenant-1", "flags": {"beta": true, "theme": "dark"}})
        );
    }
    let reads = || {
        app.seen
            .flag_reads
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    assert_eq!(reads(), 1, "served from the cache");
    let admin = app.user_token(&["admin"]);
    let response = app
        .http
        .put(app.url("/api/v1/admin/tenants/tenant-1/flags"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"flags": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.get("/api/v1/tenant/flags", Some(&client)).await;
    assert_eq!(reads(), 2, "a write invalidates the cached flags");
}

#[tokio::test]
async fn public_routes_ignore_tokens() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .bearer_auth("garbage")
        .json(&serde_json::json!({"email": "ada@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
