//! The campaign studio through the gateway: a brief with a website → analysis → themes →
//! posts within their platforms' rules and on topic → an image made and stored in
//! content, a video job cancelled → posts scheduled and delivered (signed webhook, the
//! Bluesky and Mastodon fakes) → exports. And: websites on private networks are refused.

use super::{Options, TestFleet, assert_problem, spawn_fleet, with_local_model};
use marquee_campaign::publish::verify_signature;
use marquee_platform::SecretString;
use marquee_social::Platform;
use marquee_testkit::social::{
    FakeBluesky, FakeMastodon, WebhookReceiver, WebhookReply, bluesky, mastodon,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SITE: &str = r#"<!doctype html><html><head><title>Acme Roasters | Fresh coffee from Lyon</title>
<meta name="description" content="Small-batch organic coffee roasted every morning in Lyon.">
<script>window.tracking = "ignore me";</script></head>
<body><nav>Home Shop About</nav>
<h1>Acme Roasters</h1>
<p>We roast organic single-origin coffee beans every morning in our Lyon roastery.</p>
<p>Subscribers get freshly roasted beans delivered within 48 hours, and our baristas teach
weekend brewing classes for coffee lovers.</p>
<footer>© Acme</footer></body></html>"#;

/// A one-page website on loopback (answers every request with `SITE`).
async fn serve_site() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{SITE}",
                    SITE.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    addr
}

async fn token(fleet: &TestFleet, email: &str) -> String {
    fleet.register(email).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn send(
    fleet: &TestFleet,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = fleet
        .http
        .request(method, fleet.at(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// Waits for a job to end; returns it.
async fn finished(fleet: &TestFleet, token: &str, job_id: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let job: Value = fleet
            .get_with(&format!("/api/v1/jobs/{job_id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if matches!(
            job["state"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return job;
        }
        assert!(tokio::time::Instant::now() < deadline, "job still {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads a job's server-sent events to the end; returns the jobs they carried.
async fn job_events(fleet: &TestFleet, token: &str, job_id: &str) -> Vec<Value> {
    let response = fleet
        .get_with(&format!("/api/v1/jobs/{job_id}/events"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = tokio::time::timeout(Duration::from_secs(300), response.text())
        .await
        .expect("the event stream ends with the job")
        .unwrap();
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| serde_json::from_str(data.trim()).unwrap())
        .collect()
}

fn words_of_the_brief() -> [&'static str; 9] {
    [
        "acme", "coffee", "roast", "lyon", "bean", "brew", "barista", "organic", "subscri",
    ]
}

#[tokio::test]
async fn a_brief_becomes_published_posts_on_the_local_model() {
    let site = serve_site().await;
    let receiver = WebhookReceiver::start().await;
    let bluesky_pds = FakeBluesky::start().await;
    let mastodon_instance = FakeMastodon::start().await;
    let fleet = spawn_fleet(Options {
        campaign: Box::new(move |campaign| {
            with_local_model(campaign);
            // The test site is the one private address the analysis may read.
            campaign.fetch_allowed_addresses = vec![site.to_string()];
            // The fakes listen on loopback.
            campaign.webhook_allow_private = true;
        }),
        ..Options::default()
    })
    .await;
    let token = token(&fleet, "studio@marquee.test").await;

    let created = send(&fleet, reqwest::Method::POST, "/api/v1/campaigns", &token, Some(json!({
        "name": "Spring roast launch",
        "objective": "Grow coffee subscriptions",
        "campaign_type": "product",
        "business_description": "Acme Roasters roasts organic coffee beans in Lyon and delivers them fresh to subscribers.",
        "urls": [format!("http://{site}/")],
        "target_audience": "Coffee lovers in France",
        "platforms": ["x", "bluesky", "mastodon"],
        "creativity": 6,
        "post_count": 9,
        "time_zone": "Europe/Paris",
    }))).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let campaign: Value = created.json().await.unwrap();
    let id = campaign["id"].as_str().unwrap().to_string();
    assert_eq!(campaign["status"], "draft");
    assert!(campaign["analysis"].is_null());

    // Straight to posts: the job analyses first.
    let started = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/posts/generate"),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let job: Value = started.json().await.unwrap();
    let events = job_events(&fleet, &token, job["id"].as_str().unwrap()).await;
    let last = events.last().expect("at least the job's state");
    assert_eq!(last["state"], "succeeded", "{last}");
    assert!(events.len() >= 2, "progress was streamed: {events:?}");
    assert_eq!(last["provider"], "local");

    let campaign: Value = fleet
        .get_with(&format!("/api/v1/campaigns/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign["status"], "ready");
    let analysis = &campaign["analysis"];
    assert_eq!(analysis["provider"], "local");
    assert!(!analysis["company_name"].as_str().unwrap().is_empty());
    assert!(
        analysis["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("url:"))
    );
    assert!(campaign["themes"].as_array().unwrap().len() >= 2);
    assert!(!campaign["tags"].as_array().unwrap().is_empty());
    let posts = campaign["posts"].as_array().unwrap().clone();
    assert_eq!(posts.len(), 9);
    for platform in [Platform::X, Platform::Bluesky, Platform::Mastodon] {
        let mine: Vec<&Value> = posts
            .iter()
            .filter(|p| p["platform"] == platform.as_str())
            .collect();
        assert_eq!(mine.len(), 3, "three posts on {platform}");
        let kinds: Vec<&str> = mine.iter().map(|p| p["kind"].as_str().unwrap()).collect();
        assert!(
            kinds.contains(&"text_url")
                && kinds.contains(&"text_image")
                && kinds.contains(&"text_video"),
            "{kinds:?}"
        );
    }
    for post in &posts {
        let platform: Platform = post["platform"].as_str().unwrap().parse().unwrap();
        let content = post["content"].as_str().unwrap();
        assert!(
            marquee_social::check(platform, content).is_ok(),
            "{platform}: {content}"
        );
        let lower = content.to_lowercase();
        assert!(
            words_of_the_brief().iter().any(|w| lower.contains(w)),
            "off topic: {content}"
        );
        assert!(matches!(post["provider"].as_str(), Some("local" | "rules")));
        assert_eq!(post["ai_generated"], post["provider"] == "local");
        let score = post["engagement"]["score"].as_u64().unwrap();
        assert!(score <= 100 && !post["engagement"]["reasons"].as_array().unwrap().is_empty());
        if post["kind"] != "text_url" {
            assert!(!post["media_prompt"].as_str().unwrap().is_empty());
        }
        assert!(
            post["provenance"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == "analysis")
        );
    }

    // An image for the first picture post: a template render, stored in content.
    let picture_post = posts.iter().find(|p| p["kind"] == "text_image").unwrap();
    let pid = picture_post["id"].as_str().unwrap();
    let job: Value = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/posts/{pid}/media"),
        &token,
        Some(json!({"media": "image"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let job = finished(
        &fleet,
        &token,
        job["id"].as_str().unwrap(),
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["provider"], "template");
    let asset_id = job["asset_id"].as_str().unwrap();
    let asset: Value = fleet
        .get_with(&format!("/api/v1/assets/{asset_id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asset["kind"], "image", "{asset}");
    assert!(
        asset["description"]
            .as_str()
            .unwrap()
            .contains("not AI imagery"),
        "{asset}"
    );

    // A video job cancelled at once stops and makes nothing.
    let video_post = posts.iter().find(|p| p["kind"] == "text_video").unwrap();
    let vid = video_post["id"].as_str().unwrap();
    let job: Value = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/posts/{vid}/media"),
        &token,
        Some(json!({"media": "video"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let job_id = job["id"].as_str().unwrap();
    let cancelled = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/jobs/{job_id}/cancel"),
        &token,
        None,
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let job = finished(&fleet, &token, job_id, Duration::from_secs(60)).await;
    assert_eq!(job["state"], "cancelled", "{job}");
    assert!(job["asset_id"].is_null() || job["asset_id"] == "", "{job}");

    // Connectors: a signed webhook for everything, Bluesky, Mastodon.
    let secret = "whsec_test_0123456789";
    for body in [
        json!({"kind": "webhook", "name": "Zapier", "endpoint": format!("{}hooks/marquee", receiver.base), "secret": secret}),
        json!({"kind": "bluesky", "name": "Shop on Bluesky", "endpoint": bluesky_pds.base, "account": bluesky::HANDLE, "secret": bluesky::APP_PASSWORD}),
        json!({"kind": "mastodon", "name": "Shop on Mastodon", "endpoint": mastodon_instance.base, "account": mastodon::ACCOUNT, "secret": mastodon::TOKEN}),
    ] {
        let response = send(
            &fleet,
            reqwest::Method::POST,
            "/api/v1/connectors",
            &token,
            Some(body),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let connector = response.text().await.unwrap();
        for leaked in [secret, bluesky::APP_PASSWORD, mastodon::TOKEN] {
            assert!(
                !connector.contains(leaked),
                "secrets never come back: {connector}"
            );
        }
    }

    // Everything due in a second.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let times: Vec<Value> = posts
        .iter()
        .map(|p| json!({"post_id": p["id"], "at": at}))
        .collect();
    let scheduled = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/schedule"),
        &token,
        Some(json!({"times": times})),
    )
    .await;
    assert_eq!(scheduled.status(), StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let campaign: Value = fleet
            .get_with(&format!("/api/v1/campaigns/{id}"), &token)
            .await
            .json()
            .await
            .unwrap();
        let published = campaign["posts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "published")
            .count();
        if published == 9 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "published {published}/9: {campaign}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let hooks = receiver.requests();
    assert_eq!(hooks.len(), 9, "every post to the webhook once");
    let secret = SecretString::from(secret.to_string());
    for hook in &hooks {
        let signature = hook.header("x-marquee-signature").unwrap();
        assert!(verify_signature(
            &secret,
            signature,
            &hook.body,
            chrono::Utc::now(),
            Duration::from_secs(300)
        ));
    }
    assert_eq!(bluesky_pds.posts().len(), 3, "the Bluesky posts");
    assert_eq!(mastodon_instance.statuses().len(), 3, "the Mastodon posts");
    let deliveries: Value = fleet
        .get_with(&format!("/api/v1/campaigns/{id}/deliveries"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries["items"].as_array().unwrap().len(), 15);

    // Exports.
    let csv = fleet
        .get_with(&format!("/api/v1/campaigns/{id}/export?format=csv"), &token)
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let csv = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.records().count(), 9);
    let md = fleet
        .get_with(&format!("/api/v1/campaigns/{id}/export?format=md"), &token)
        .await
        .text()
        .await
        .unwrap();
    assert!(md.starts_with("# Spring roast launch"), "{md}");
    let exported: Value = fleet
        .get_with(
            &format!("/api/v1/campaigns/{id}/export?format=json"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exported["posts"].as_array().unwrap().len(), 9);
    let bad = fleet
        .get_with(&format!("/api/v1/campaigns/{id}/export?format=xls"), &token)
        .await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_format").await;

    // Nobody else sees the campaign.
    let other = token_of_another(&fleet).await;
    let hidden = fleet
        .get_with(&format!("/api/v1/campaigns/{id}"), &other)
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;

    receiver.stop().await;
    bluesky_pds.stop().await;
    mastodon_instance.stop().await;
    fleet.stop().await;
}

async fn token_of_another(fleet: &TestFleet) -> String {
    token(fleet, "someone-else@marquee.test").await
}

#[tokio::test]
async fn websites_on_private_networks_are_refused() {
    // An allowed site that redirects into the loopback network.
    let redirector = WebhookReceiver::start().await;
    redirector.always(WebhookReply::Redirect("http://127.0.0.1:1/admin".into()));
    let redirector_addr = redirector
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let fleet = spawn_fleet(Options {
        campaign: Box::new(move |campaign| {
            campaign.fetch_allowed_addresses = vec![redirector_addr];
        }),
        ..Options::default()
    })
    .await;
    let token = token(&fleet, "ssrf@marquee.test").await;
    for url in [
        "http://127.0.0.1:9/".to_string(),
        "http://localhost:8080/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://[::1]/".to_string(),
        "http://2130706433/".to_string(),
        format!("{}start", redirector.base),
    ] {
        let campaign: Value = send(&fleet, reqwest::Method::POST, "/api/v1/campaigns", &token, Some(json!({
            "name": "Probe", "business_description": "A shop.", "urls": [url], "platforms": ["x"], "post_count": 3,
        })))
        .await
        .json()
        .await
        .unwrap();
        let id = campaign["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{campaign}"));
        let job: Value = send(
            &fleet,
            reqwest::Method::POST,
            &format!("/api/v1/campaigns/{id}/analysis"),
            &token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let job = finished(
            &fleet,
            &token,
            job["id"].as_str().unwrap(),
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(job["state"], "failed", "{url}: {job}");
        let error = job["error"].as_str().unwrap();
        assert!(
            error.contains("private or reserved") || error.contains("redirect"),
            "{url}: {error}"
        );
        let campaign: Value = fleet
            .get_with(&format!("/api/v1/campaigns/{id}"), &token)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            campaign["analysis"].is_null(),
            "nothing was analysed from {url}"
        );
    }
    redirector.stop().await;
    fleet.stop().await;
}

#[tokio::test]
async fn campaigns_work_on_postgres_and_rabbitmq() {
    let receiver = WebhookReceiver::start().await;
    let fleet = spawn_fleet(Options {
        postgres: true,
        amqp: true,
        campaign: Box::new(|campaign| {
            campaign.webhook_allow_private = true;
            // Replicas on one database share the key that seals connector credentials.
            campaign.connector_key = Some(SecretString::from(
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string(),
            ));
        }),
        ..Options::default()
    })
    .await;
    let token = token(&fleet, "pg-studio@marquee.test").await;
    let campaign: Value = send(&fleet, reqwest::Method::POST, "/api/v1/campaigns", &token, Some(json!({
        "name": "Bakery week", "business_description": "Maison Pain bakes sourdough bread in Nantes.",
        "platforms": ["linkedin", "threads"], "post_count": 4,
    })))
    .await
    .json()
    .await
    .unwrap();
    let id = campaign["id"].as_str().unwrap().to_string();
    let job: Value = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/posts/generate"),
        &token,
        Some(json!({})),
    )
    .await
    .json()
    .await
    .unwrap();
    let job = finished(
        &fleet,
        &token,
        job["id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["provider"], "rules");
    let campaign: Value = fleet
        .get_with(&format!("/api/v1/campaigns/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    let posts = campaign["posts"].as_array().unwrap().clone();
    assert_eq!(posts.len(), 4);
    assert!(
        posts
            .iter()
            .all(|p| p["provider"] == "rules" && p["ai_generated"] == false)
    );
    // The guidance chat: a job whose turn is kept on the campaign.
    let chat = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/chat"),
        &token,
        Some(json!({"message": "Mention our Saturday tastings."})),
    )
    .await;
    assert_eq!(chat.status(), StatusCode::ACCEPTED);
    let chat: Value = chat.json().await.unwrap();
    let chat = finished(
        &fleet,
        &token,
        chat["id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(chat["state"], "succeeded", "{chat}");
    let campaign: Value = fleet
        .get_with(&format!("/api/v1/campaigns/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign["chat"].as_array().unwrap().len(), 2, "{campaign}");
    assert!(
        campaign["guidance"]
            .as_str()
            .unwrap()
            .contains("Saturday tastings"),
        "{campaign}"
    );
    let connector = send(&fleet, reqwest::Method::POST, "/api/v1/connectors", &token, Some(json!({
        "kind": "webhook", "name": "Hook", "endpoint": format!("{}in", receiver.base), "secret": "s3cret-signing-key",
    }))).await;
    assert_eq!(connector.status(), StatusCode::CREATED);
    let at = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let scheduled = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/schedule"),
        &token,
        Some(json!({"start_at": at, "interval_minutes": 1})),
    )
    .await;
    assert_eq!(scheduled.status(), StatusCode::OK);
    // The first post goes out now; the next one a minute later.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while receiver.requests().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no delivery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let campaign: Value = fleet
        .get_with(&format!("/api/v1/campaigns/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = campaign["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"published") && statuses.contains(&"scheduled"),
        "{statuses:?}"
    );
    let templates = send(
        &fleet,
        reqwest::Method::POST,
        &format!("/api/v1/campaigns/{id}/template"),
        &token,
        Some(json!({"name": "Bakery template", "visibility": "tenant"})),
    )
    .await;
    assert_eq!(templates.status(), StatusCode::CREATED);
    receiver.stop().await;
    fleet.stop().await;
}
