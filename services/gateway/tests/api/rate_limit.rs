use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn anonymous_budget_per_ip_gives_429_with_headers() {
    let app = spawn_app(|settings| {
        settings.rate_limit.anonymous_per_minute = 3;
        settings.rate_limit.anonymous_burst = 3;
    })
    .await;
    let body = serde_json::json!({"email": "ada@example.com", "password": "correct horse"});
    for remaining in [2, 1, 0] {
        let response = app.post_json("/api/v1/auth/login", &body).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers().get("ratelimit-limit").unwrap(), "3");
        assert_eq!(
            response.headers().get("ratelimit-remaining").unwrap(),
            &remaining.to_string()
        );
        assert!(response.headers().get("ratelimit-reset").is_some());
    }
    let response = app.post_json("/api/v1/auth/login", &body).await;
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers().get("ratelimit-remaining").unwrap(), "0");
    problem(response, 429, "rate_limited").await;

    // Probes are never throttled; signed-in users have their own budget.
    assert_eq!(app.get("/readyz", None).await.status(), 200);
    let token = app.user_token(&[]);
    let response = app.get("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("ratelimit-limit").unwrap(), "200");
}

#[tokio::test]
async fn partner_clients_are_throttled_by_tier() {
    let app = spawn_app(|settings| {
        settings.rate_limit.client_standard_per_minute = 2;
    })
    .await;
    let client = app.client_token("tenant:read");
    for _ in 0..2 {
        assert_eq!(
            app.get("/api/v1/tenant/flags", Some(&client))
                .await
                .status(),
            200
        );
    }
    problem(
        app.get("/api/v1/tenant/flags", Some(&client)).await,
        429,
        "rate_limited",
    )
    .await;
    // Another client of the same tier has its own bucket.
    let other = app.client_token("tenant:read");
    assert_eq!(
        app.get("/api/v1/tenant/flags", Some(&other)).await.status(),
        200
    );
}

#[tokio::test]
async fn redis_shares_the_budget_between_replicas() {
    let prefix = format!("marquee-test:{}", uuid::Uuid::now_v7());
    let settings = |settings: &mut marquee_gateway::GatewaySettings| {
        settings.redis_url = Some("redis://127.0.0.1:6379".to_string().into());
        settings.rate_limit.redis_key_prefix = prefix.clone();
        settings.rate_limit.user_per_minute = 3;
        settings.rate_limit.user_burst = 3;
    };
    let first = spawn_app(settings).await;
    let second = spawn_app(settings).await;
    // Same signing seed in both fakes, so one token works on both replicas.
    let token = first.user_token(&[]);
    assert_eq!(
        first.get("/api/v1/auth/me", Some(&token)).await.status(),
        200
    );
    assert_eq!(
        second.get("/api/v1/auth/me", Some(&token)).await.status(),
        200
    );
    assert_eq!(
        first.get("/api/v1/auth/me", Some(&token)).await.status(),
        200
    );
    problem(
        second.get("/api/v1/auth/me", Some(&token)).await,
        429,
        "rate_limited",
    )
    .await;
}
