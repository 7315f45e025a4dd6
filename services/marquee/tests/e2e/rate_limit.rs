//! Rate limits answer 429 with Retry-After and RateLimit-* headers, in memory and in
//! Redis (shared between gateway replicas).

use super::{Options, spawn_fleet};
use marquee_platform::SecretString;
use reqwest::StatusCode;
use serde_json::json;

async fn anonymous_budget_runs_out(redis: bool) {
    let fleet = spawn_fleet(Options {
        gateway: Box::new(move |gateway| {
            gateway.rate_limit.anonymous_per_minute = 5;
            gateway.rate_limit.anonymous_burst = 5;
            if redis {
                gateway.redis_url = Some(SecretString::from("redis://127.0.0.1:6379"));
                gateway.rate_limit.redis_key_prefix = format!("e2e-{}", uuid::Uuid::new_v4());
            }
        }),
        // The gateway's budget is under test, not auth's sign-in throttle (which would
        // make the fourth failed sign-in wait).
        auth: Box::new(|auth| auth.throttle.source_free_failures = 1000),
        ..Default::default()
    })
    .await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..8 {
        let response = fleet
            .post(
                "/api/v1/auth/login",
                json!({"email": "x@example.com", "password": "whatever123"}),
            )
            .await;
        assert!(response.headers().contains_key("ratelimit-limit"));
        assert!(response.headers().contains_key("ratelimit-remaining"));
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.unwrap_or_else(|| panic!("no 429 in {statuses:?}"));
    assert!(
        statuses.len() >= 5,
        "the first five are within budget: {statuses:?}"
    );
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert!(limited.headers().contains_key("ratelimit-reset"));
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    super::assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    fleet.stop().await;
}

#[tokio::test]
async fn anonymous_rate_limit_in_memory() {
    anonymous_budget_runs_out(false).await;
}

#[tokio::test]
async fn anonymous_rate_limit_in_redis() {
    anonymous_budget_runs_out(true).await;
}
