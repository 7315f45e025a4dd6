//! The tagging routes against the fake tagging service: what reaches it, what is
//! refused before it, and the answers' shapes.

use crate::helpers::{TestApp, problem, spawn_app};
use marquee_gateway::clients::TaggingClient;
use marquee_platform::{Principal, PrincipalKind, Role};
use serde_json::{Value, json};
use std::time::Duration;

/// The tagging calls the fake has seen, as `"Rpc: request"`.
fn calls(app: &TestApp, rpc: &str) -> Vec<(Principal, String)> {
    app.seen
        .tagging_calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, call)| call.starts_with(&format!("{rpc}: ")))
        .cloned()
        .collect()
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.http
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn tags_are_read_and_replaced_through_tagging() {
    let app = spawn_app(|_| {}).await;
    let creator = app.user_token(&["creator"]);

    let response = app.get("/api/v1/assets/a-1/tags", Some(&creator)).await;
    assert_eq!(response.status(), 200);
    let tags: Value = response.json().await.unwrap();
    assert_eq!(tags["asset_id"], "a-1");
    assert_eq!(
        tags["tags"],
        json!([{"name": "sunset", "confidence": 0.75, "source": "ai", "provider": "minilm-zero-shot"}])
    );
    assert_eq!(tags["state"], "tagged");
    assert!(tags["failure_reason"].is_null());
    assert!(tags["size_class"].is_null());
    assert_eq!(tags["orientation"], "landscape");
    assert_eq!(tags["palette"], json!(["#1d3557"]));
    assert!(tags["tagged_at"].is_string());
    let (caller, _) = &calls(&app, "GetTags")[0];
    assert_eq!(caller.kind, PrincipalKind::User);

    let response = app.get("/api/v1/assets/missing/tags", Some(&creator)).await;
    problem(response, 404, "not_found").await;

    let body = json!({"tags": [
        {"name": "Harbour", "source": "creator"},
        {"name": "sunset", "source": "ai", "confidence": 0.4},
    ]});
    let response = put(&app, "/api/v1/assets/a-1/tags", &creator, &body).await;
    assert_eq!(response.status(), 200);
    let tags: Value = response.json().await.unwrap();
    assert_eq!(tags["tags"][0]["name"], "harbour");
    assert_eq!(tags["tags"][0]["provider"], "");
    let sent = &calls(&app, "SetTags")[0].1;
    assert!(sent.contains("asset_id: \"a-1\""), "{sent}");
    assert!(sent.contains("source: \"ai\""), "{sent}");

    let response = put(&app, "/api/v1/assets/someone-elses/tags", &creator, &body).await;
    problem(response, 403, "forbidden").await;

    // Refused at the edge: tagging never hears of these.
    let before = calls(&app, "SetTags").len();
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"name": format!("t{i}"), "source": "creator"}))
        .collect();
    for (body, code) in [
        (json!({"tags": many}), "too_many_tags"),
        (
            json!({"tags": [{"name": "", "source": "creator"}]}),
            "invalid_tag",
        ),
        (
            json!({"tags": [{"name": "x".repeat(51), "source": "creator"}]}),
            "invalid_tag",
        ),
        (
            json!({"tags": [{"name": "a\u{0}b", "source": "creator"}]}),
            "invalid_tag",
        ),
        (
            json!({"tags": [{"name": "ok", "source": "creator", "confidence": 2}]}),
            "invalid_tag",
        ),
        (
            json!({"tags": [{"name": "ok", "source": "owner"}]}),
            "invalid_tag_source",
        ),
        (
            json!({"tags": [{"name": "ok", "source": "creator", "extra": 1}]}),
            "invalid_request",
        ),
        (json!({"tags": [{"name": "ok"}]}), "invalid_request"),
        (
            json!([{"name": "ok", "source": "creator"}]),
            "invalid_request",
        ),
    ] {
        let response = put(&app, "/api/v1/assets/a-1/tags", &creator, &body).await;
        problem(response, 400, code).await;
    }
    let response = put(&app, "/api/v1/assets/bad%20id/tags", &creator, &body).await;
    problem(response, 400, "invalid_id").await;
    assert_eq!(calls(&app, "SetTags").len(), before);

    // Editing needs assets:write.
    let reader = app.client_token("assets:read");
    let response = put(&app, "/api/v1/assets/a-1/tags", &reader, &body).await;
    problem(response, 403, "insufficient_scope").await;
    let response = app.get("/api/v1/assets/a-1/tags", Some(&reader)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn searches_are_checked_at_the_edge_and_hits_link_thumbnails() {
    let app = spawn_app(|_| {}).await;
    let token = app.user_token(&["creator"]);

    let response = app
        .get(
            "/api/v1/search?q=sunset%20sea&tags=Sunset,harbour&tags=boats&kind=image&limit=5&cursor=bzoxMA",
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["next_cursor"], "bzoyMA");
    assert_eq!(
        page["items"][0],
        json!({
            "asset_id": "a-1", "score": 0.75, "title": "Sunset", "kind": "image",
            "tags": ["sunset"],
            "thumbnail_url": "/api/v1/assets/a-1/content?variant=thumbnail",
        })
    );
    assert!(page["items"][1]["thumbnail_url"].is_null());
    let sent = &calls(&app, "Search")[0].1;
    for part in [
        "query: \"sunset sea\"",
        "tags: [\"Sunset\", \"harbour\", \"boats\"]",
        "kind: \"image\"",
        "limit: 5",
        "cursor: \"bzoxMA\"",
    ] {
        assert!(sent.contains(part), "{part} in {sent}");
    }

    let long_query = format!("/api/v1/search?q={}", "a".repeat(501));
    let eleven = format!("/api/v1/search?tags={}", ["t"; 11].join(","));
    for (path, code) in [
        ("/api/v1/search?kind=photo", "invalid_kind"),
        ("/api/v1/search?limit=0", "invalid_limit"),
        ("/api/v1/search?limit=101", "invalid_limit"),
        ("/api/v1/search?limit=many", "invalid_limit"),
        (long_query.as_str(), "invalid_query"),
        ("/api/v1/search?q=a%0Ab", "invalid_query"),
        (eleven.as_str(), "invalid_tags"),
        ("/api/v1/search?cursor=a%2Fb", "invalid_cursor"),
        ("/api/v1/search?kind=image&kind=video", "invalid_request"),
    ] {
        problem(app.get(path, Some(&token)).await, 400, code).await;
    }
    assert_eq!(
        calls(&app, "Search").len(),
        1,
        "refusals never reach tagging"
    );
    problem(app.get("/api/v1/search", None).await, 401, "token_missing").await;
}

#[tokio::test]
async fn similar_assets_and_recommendations_are_single_pages() {
    let app = spawn_app(|_| {}).await;
    let token = app.user_token(&["creator"]);
    for path in [
        "/api/v1/assets/a-1/similar",
        "/api/v1/assets/a-1/similar?limit=3",
        "/api/v1/recommendations",
        "/api/v1/recommendations?limit=100",
    ] {
        let response = app.get(path, Some(&token)).await;
        assert_eq!(response.status(), 200, "{path}");
        let page: Value = response.json().await.unwrap();
        assert!(page["next_cursor"].is_null(), "{path}: not paged");
        assert_eq!(page["items"].as_array().unwrap().len(), 2, "{path}");
    }
    let similar = calls(&app, "SimilarAssets");
    assert!(
        similar[0].1.contains("asset_id: \"a-1\", limit: 0"),
        "{:?}",
        similar[0].1
    );
    assert!(similar[1].1.contains("limit: 3"), "{:?}", similar[1].1);
    assert!(calls(&app, "Recommendations")[1].1.contains("limit: 100"));
    for path in [
        "/api/v1/assets/a-1/similar?limit=0",
        "/api/v1/assets/a-1/similar?limit=101",
        "/api/v1/recommendations?limit=0",
        "/api/v1/recommendations?limit=-1",
    ] {
        problem(app.get(path, Some(&token)).await, 400, "invalid_limit").await;
    }
}

#[tokio::test]
async fn the_taxonomy_is_read_by_the_tenant_and_replaced_by_admins() {
    let app = spawn_app(|_| {}).await;
    let reader = app.client_token("assets:read");
    let response = app.get("/api/v1/taxonomy", Some(&reader)).await;
    assert_eq!(response.status(), 200);
    let taxonomy: Value = response.json().await.unwrap();
    assert_eq!(
        taxonomy,
        json!({"labels": [{"name": "food photography", "description": "Photos of food."}], "is_default": true})
    );

    let labels = json!({"labels": [{"name": "Boats", "description": "Boats and harbours."}]});
    let creator = app.user_token(&["creator", "moderator"]);
    let response = put(&app, "/api/v1/admin/taxonomy", &creator, &labels).await;
    problem(response, 403, "forbidden").await;

    let admin = app.user_token(&["admin"]);
    let response = put(&app, "/api/v1/admin/taxonomy", &admin, &labels).await;
    assert_eq!(response.status(), 200);
    let taxonomy: Value = response.json().await.unwrap();
    assert_eq!(taxonomy["is_default"], false);
    assert_eq!(taxonomy["labels"][0]["name"], "Boats");
    let response = put(
        &app,
        "/api/v1/admin/taxonomy",
        &admin,
        &json!({"labels": []}),
    )
    .await;
    let taxonomy: Value = response.json().await.unwrap();
    assert_eq!(taxonomy["is_default"], true, "empty restores the default");

    let before = calls(&app, "SetTaxonomy").len();
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"name": format!("l{i}"), "description": "d"}))
        .collect();
    for (body, code) in [
        (json!({"labels": many}), "too_many_labels"),
        (
            json!({"labels": [{"name": "", "description": "d"}]}),
            "invalid_label",
        ),
        (
            json!({"labels": [{"name": "a", "description": " "}]}),
            "invalid_label",
        ),
        (
            json!({"labels": [{"name": "a", "description": "d".repeat(301)}]}),
            "invalid_label",
        ),
        (json!({"labels": [{"name": "a"}]}), "invalid_request"),
        (json!({"labels": [], "is_default": true}), "invalid_request"),
    ] {
        let response = put(&app, "/api/v1/admin/taxonomy", &admin, &body).await;
        problem(response, 400, code).await;
    }
    assert_eq!(calls(&app, "SetTaxonomy").len(), before);
}

#[tokio::test]
async fn views_are_recorded_for_users_in_the_background() {
    let app = spawn_app(|_| {}).await;
    let tagging = TaggingClient::connect_lazy(&app.tagging_url, app.gateway.clone()).unwrap();
    let principal = |kind, subject: &str| Principal {
        kind,
        subject: subject.into(),
        tenant_id: "tenant-1".into(),
        roles: vec![Role::Creator],
        scopes: vec![],
    };
    marquee_gateway::clients::tagging::record_view(
        &tagging,
        &principal(PrincipalKind::Client, "client-1"),
        "a-1",
    );
    marquee_gateway::clients::tagging::record_view(
        &tagging,
        &principal(PrincipalKind::User, "user-7"),
        "a-1",
    );
    app.wait_until("the view to be recorded", || {
        !calls(&app, "RecordView").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let views = calls(&app, "RecordView");
    assert_eq!(views.len(), 1, "users only: {views:?}");
    assert_eq!(views[0].0.subject, "user-7");
    assert!(views[0].1.contains("asset_id: \"a-1\""));

    // Tagging down: nothing waits, nothing fails.
    let down = TaggingClient::connect_lazy("http://127.0.0.1:1", app.gateway.clone()).unwrap();
    let started = std::time::Instant::now();
    marquee_gateway::clients::tagging::record_view(
        &down,
        &principal(PrincipalKind::User, "user-7"),
        "a-1",
    );
    assert!(started.elapsed() < Duration::from_millis(50));
}
