//! Sign-in throttling through the gateway: the client address comes from trusted proxies
//! only (the right-most untrusted `X-Forwarded-For` hop), and an attacker hammering an
//! account slows down itself, not the owner.

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, Options, TestFleet, assert_problem, spawn_fleet};
use reqwest::{Response, StatusCode};
use serde_json::json;

const ATTACKER: &str = "198.51.100.7";
const OWNER: &str = "203.0.113.9";

/// Signs in as the admin with `password`, sending these `X-Forwarded-For` lines.
async fn login_as_admin(fleet: &TestFleet, password: &str, forwarded_for: &[&str]) -> Response {
    let mut request = fleet
        .http
        .post(fleet.at("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": password}));
    for line in forwarded_for {
        request = request.header("x-forwarded-for", *line);
    }
    request.send().await.unwrap()
}

async fn assert_waits(response: Response) {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

fn options(trusted_proxies: Vec<String>) -> Options {
    Options {
        // The test speaks for several clients from loopback: with 127.0.0.1 trusted, the
        // gateway takes each one's address from X-Forwarded-For.
        gateway: Box::new(move |gateway| {
            gateway.trusted_proxies = trusted_proxies;
            // Auth's throttle is under test, not the gateway's per-IP budget.
            gateway.rate_limit.anonymous_per_minute = 0;
        }),
        auth: Box::new(|auth| {
            // A wait never runs out in the middle of the test.
            auth.throttle.source_first_delay_secs = 60;
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_admin_signs_in_while_an_attacker_hammers_the_account() {
    let fleet = spawn_fleet(options(vec!["127.0.0.1/32".into()])).await;
    let mut statuses = Vec::new();
    for _ in 0..50 {
        let response = login_as_admin(&fleet, "not the password", &[ATTACKER]).await;
        statuses.push(response.status().as_u16());
        if statuses.len() == 50 {
            assert_waits(response).await;
        }
    }
    assert_eq!(statuses[..3], [401, 401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");

    // The owner, from elsewhere, signs in at once with the right password.
    let response = login_as_admin(&fleet, ADMIN_PASSWORD, &[OWNER]).await;
    assert_eq!(response.status(), StatusCode::OK);

    // The attacker's own left-most entry is not believed: still the attacker's address,
    // on one header line or two, even with the right password.
    let spoofed = format!("1.2.3.4, {ATTACKER}");
    assert_waits(login_as_admin(&fleet, ADMIN_PASSWORD, &[&spoofed]).await).await;
    assert_waits(login_as_admin(&fleet, ADMIN_PASSWORD, &["1.2.3.4", ATTACKER]).await).await;
    // A trusted proxy's hop to the right is skipped.
    let through_proxy = format!("{OWNER}, 127.0.0.1");
    let response = login_as_admin(&fleet, ADMIN_PASSWORD, &[&through_proxy]).await;
    assert_eq!(response.status(), StatusCode::OK);
    fleet.stop().await;
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let fleet = spawn_fleet(options(Vec::new())).await;
    for _ in 0..3 {
        let response = login_as_admin(&fleet, "not the password", &[ATTACKER]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Claiming another address changes nothing: every request is loopback's, which has
    // used up its free failures.
    assert_waits(login_as_admin(&fleet, ADMIN_PASSWORD, &[OWNER]).await).await;
    assert_waits(login_as_admin(&fleet, ADMIN_PASSWORD, &[]).await).await;
    fleet.stop().await;
}
