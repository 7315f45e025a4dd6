//! The community through the gateway: an approved image is seen by another user, who
//! follows its creator and comments; profiles with counts; spam rules as clear
//! problems (429 with Retry-After for rate limits, 400/409 otherwise); reported
//! comments hidden, reviewed and deleted by a moderator; another tenant's ids as 404.

use super::content::{get_json, location, png, post_json, processed, upload};
use super::{Options, TestFleet, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Member {
    id: String,
    token: String,
}

async fn member(fleet: &TestFleet, email: &str) -> Member {
    let session = fleet.register(email).await;
    Member {
        id: session["user"]["id"].as_str().unwrap().to_string(),
        token: session["access_token"].as_str().unwrap().to_string(),
    }
}

async fn put_json(fleet: &TestFleet, path: &str, token: &str, body: Value) -> reqwest::Response {
    fleet
        .http
        .put(fleet.at(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete(fleet: &TestFleet, path: &str, token: &str) -> reqwest::Response {
    fleet
        .http
        .delete(fleet.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn ok_json(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

fn ids(list: &Value, key: &str, field: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_and_commented_with_spam_rules_and_moderation() {
    let fleet = spawn_fleet(Options {
        content: Box::new(|c| {
            c.blocked_terms = vec!["scam".into()];
            c.comments_per_window = 3;
            c.comment_window_secs = 3600;
            c.follows_per_window = 2;
            c.follow_window_secs = 3600;
            c.report_hide_threshold = 2;
        }),
        ..Default::default()
    })
    .await;
    let creator = member(&fleet, "creator@community.test").await;
    let viewer = member(&fleet, "viewer@community.test").await;
    let bystander = member(&fleet, "bystander@community.test").await;
    let moderator = fleet.admin_token().await;

    // Upload → processed → pending: nobody else can see, follow-by-asset or comment yet.
    let uploaded = ok_json(
        upload(
            &fleet,
            &creator.token,
            &[("title", "Harbour")],
            ("harbour.png", &png(64, 48, 3)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let asset_id = uploaded["id"].as_str().unwrap().to_string();
    let comments = format!("/api/v1/assets/{asset_id}/comments");
    assert_eq!(
        processed(&fleet, &creator.token, &asset_id).await["status"],
        "pending_review"
    );
    let early = post_json(&fleet, &comments, &viewer.token, json!({"body": "hi"})).await;
    assert_problem(early, StatusCode::NOT_FOUND, "not_found").await;
    let own_pending = post_json(&fleet, &comments, &creator.token, json!({"body": "hi"})).await;
    assert_problem(own_pending, StatusCode::CONFLICT, "asset_not_commentable").await;

    // Approved: visible to the viewer.
    let approved = post_json(
        &fleet,
        &format!("/api/v1/moderation/assets/{asset_id}/approve"),
        &moderator,
        json!({}),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let (status, seen) =
        get_json(&fleet, &format!("/api/v1/assets/{asset_id}"), &viewer.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["owner_id"], creator.id.as_str());

    // Profiles: the creator edits theirs (avatar = own image); others cannot use it.
    let profile = ok_json(
        put_json(
            &fleet,
            "/api/v1/creators/me",
            &creator.token,
            json!({"display_name": "Harbour Lights", "bio": "Boats at night", "avatar_asset_id": asset_id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(profile["id"], creator.id.as_str());
    assert_eq!(profile["display_name"], "Harbour Lights");
    assert_eq!(profile["avatar_asset_id"], asset_id.as_str());
    let stolen = put_json(
        &fleet,
        "/api/v1/creators/me",
        &viewer.token,
        json!({"avatar_asset_id": asset_id}),
    )
    .await;
    assert_problem(stolen, StatusCode::BAD_REQUEST, "invalid_avatar").await;
    let long_bio = put_json(
        &fleet,
        "/api/v1/creators/me",
        &viewer.token,
        json!({"bio": "x".repeat(1001)}),
    )
    .await;
    assert_problem(long_bio, StatusCode::BAD_REQUEST, "bio_too_long").await;
    let nobody = fleet
        .get_with(
            "/api/v1/creators/0192f5e8-0000-7000-8000-000000000000",
            &viewer.token,
        )
        .await;
    assert_problem(nobody, StatusCode::NOT_FOUND, "not_found").await;

    // Follow: idempotent, counted, listed; not yourself.
    let follow = format!("/api/v1/creators/{}/follow", creator.id);
    for _ in 0..2 {
        let state = ok_json(
            post_json(&fleet, &follow, &viewer.token, json!({})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(state, json!({"following": true, "followers": 1}));
    }
    let (_, profile) = get_json(
        &fleet,
        &format!("/api/v1/creators/{}", creator.id),
        &viewer.token,
    )
    .await;
    assert_eq!(profile["followers"], 1);
    assert_eq!(profile["following"], 0);
    assert_eq!(profile["followed_by_me"], true);
    assert_eq!(profile["bio"], "Boats at night");
    let (_, followers) = get_json(
        &fleet,
        &format!("/api/v1/creators/{}/followers", creator.id),
        &viewer.token,
    )
    .await;
    assert_eq!(ids(&followers, "items", "user_id"), vec![viewer.id.clone()]);
    assert_eq!(followers["next_cursor"], Value::Null);
    let (_, following) = get_json(&fleet, "/api/v1/creators/me/following", &viewer.token).await;
    assert_eq!(
        ids(&following, "items", "user_id"),
        vec![creator.id.clone()]
    );
    let (_, me) = get_json(&fleet, "/api/v1/creators/me", &viewer.token).await;
    assert_eq!(me["following"], 1);
    let selfish = post_json(
        &fleet,
        &format!("/api/v1/creators/{}/follow", viewer.id),
        &viewer.token,
        json!({}),
    )
    .await;
    assert_problem(selfish, StatusCode::BAD_REQUEST, "cannot_follow_self").await;
    let bad_cursor = fleet
        .get_with(
            &format!("/api/v1/creators/{}/followers?cursor=nope", creator.id),
            &viewer.token,
        )
        .await;
    assert_problem(bad_cursor, StatusCode::BAD_REQUEST, "invalid_cursor").await;

    // Follow rate limit (2 per window): a second creator fits, a third is refused.
    let second = member(&fleet, "second@community.test").await;
    let third = member(&fleet, "third@community.test").await;
    for other in [&second, &third] {
        let made = put_json(
            &fleet,
            "/api/v1/creators/me",
            &other.token,
            json!({"bio": "hi"}),
        )
        .await;
        assert_eq!(made.status(), StatusCode::OK);
    }
    let fine = post_json(
        &fleet,
        &format!("/api/v1/creators/{}/follow", second.id),
        &viewer.token,
        json!({}),
    )
    .await;
    assert_eq!(fine.status(), StatusCode::OK);
    let limited = post_json(
        &fleet,
        &format!("/api/v1/creators/{}/follow", third.id),
        &viewer.token,
        json!({}),
    )
    .await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3601).contains(&retry_after), "{retry_after}");
    assert_problem(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        "follow_rate_limited",
    )
    .await;

    // Comments and the spam rules (3 per window; refused ones do not count).
    let posted = post_json(
        &fleet,
        &comments,
        &viewer.token,
        json!({"body": "Lovely light"}),
    )
    .await;
    let created_at = location(&posted);
    let first = ok_json(posted, StatusCode::CREATED).await;
    assert_eq!(first["author_id"], viewer.id.as_str());
    assert_eq!(first["status"], "visible");
    let comment_id = first["id"].as_str().unwrap().to_string();
    // 201 + Location + the comment as its read returns it.
    assert_eq!(created_at, format!("/api/v1/comments/{comment_id}"));
    let (status, read) = get_json(&fleet, &created_at, &bystander.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, first);
    let duplicate = post_json(
        &fleet,
        &comments,
        &viewer.token,
        json!({"body": "  lovely   LIGHT "}),
    )
    .await;
    assert_problem(duplicate, StatusCode::CONFLICT, "duplicate_comment").await;
    let links = post_json(
        &fleet,
        &comments,
        &viewer.token,
        json!({"body": "buy http://a.example https://b.example www.c.example"}),
    )
    .await;
    assert_problem(links, StatusCode::BAD_REQUEST, "too_many_links").await;
    let blocked = post_json(
        &fleet,
        &comments,
        &viewer.token,
        json!({"body": "what a SCAM"}),
    )
    .await;
    assert_problem(blocked, StatusCode::BAD_REQUEST, "blocked_term").await;
    let empty = post_json(&fleet, &comments, &viewer.token, json!({"body": "   "})).await;
    assert_problem(empty, StatusCode::BAD_REQUEST, "comment_empty").await;
    let long = post_json(
        &fleet,
        &comments,
        &viewer.token,
        json!({"body": "y".repeat(2001)}),
    )
    .await;
    assert_problem(long, StatusCode::BAD_REQUEST, "comment_too_long").await;
    for body in ["Second thought", "Third thought"] {
        let posted = post_json(&fleet, &comments, &viewer.token, json!({"body": body})).await;
        assert_eq!(posted.status(), StatusCode::CREATED);
    }
    let limited = post_json(&fleet, &comments, &viewer.token, json!({"body": "Fourth"})).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        "comment_rate_limited",
    )
    .await;

    // Listing: newest first, cursor pages.
    let (_, page) = get_json(&fleet, &format!("{comments}?limit=2"), &bystander.token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["body"], "Third thought");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = get_json(
        &fleet,
        &format!("{comments}?limit=2&cursor={cursor}"),
        &bystander.token,
    )
    .await;
    assert_eq!(ids(&rest, "items", "id"), vec![comment_id.clone()]);
    assert_eq!(rest["next_cursor"], Value::Null, "last page: {rest}");

    // Reports: own comment refused; two distinct reporters hide it (threshold 2).
    let report = format!("/api/v1/comments/{comment_id}/report");
    let own = post_json(&fleet, &report, &viewer.token, json!({})).await;
    assert_problem(own, StatusCode::BAD_REQUEST, "cannot_report_own_comment").await;
    let once = ok_json(
        post_json(&fleet, &report, &bystander.token, json!({"reason": "rude"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(once["hidden"], false);
    let again = ok_json(
        post_json(&fleet, &report, &bystander.token, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["hidden"], false, "one report per user");
    let twice = ok_json(
        post_json(&fleet, &report, &creator.token, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(twice["hidden"], true);
    let (_, page) = get_json(&fleet, &comments, &bystander.token).await;
    assert!(
        !ids(&page, "items", "id").contains(&comment_id),
        "hidden from users"
    );
    let hidden_read = fleet.get_with(&created_at, &bystander.token).await;
    assert_problem(hidden_read, StatusCode::NOT_FOUND, "not_found").await;
    let (_, page) = get_json(&fleet, &comments, &moderator).await;
    let hidden = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == comment_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(hidden["status"], "hidden");
    assert_eq!(hidden["reports"], 2);
    let (_, read) = get_json(&fleet, &created_at, &moderator).await;
    assert_eq!(read, hidden, "moderators read it as they list it");

    // Moderators: the reported list, restore, then delete.
    let refused = fleet
        .get_with("/api/v1/moderation/comments", &viewer.token)
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let (status, reported) = get_json(&fleet, "/api/v1/moderation/comments", &moderator).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&reported, "items", "id"), vec![comment_id.clone()]);
    let restored = ok_json(
        post_json(
            &fleet,
            &format!("/api/v1/moderation/comments/{comment_id}/restore"),
            &moderator,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(restored["status"], "visible");
    let (_, page) = get_json(&fleet, &comments, &bystander.token).await;
    assert!(ids(&page, "items", "id").contains(&comment_id));
    let (_, reported) = get_json(&fleet, "/api/v1/moderation/comments", &moderator).await;
    assert_eq!(reported, json!({"items": [], "next_cursor": null}));
    let not_yours = delete(
        &fleet,
        &format!("/api/v1/comments/{comment_id}"),
        &bystander.token,
    )
    .await;
    assert_problem(not_yours, StatusCode::FORBIDDEN, "forbidden").await;
    let deleted = delete(
        &fleet,
        &format!("/api/v1/comments/{comment_id}"),
        &moderator,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = delete(
        &fleet,
        &format!("/api/v1/comments/{comment_id}"),
        &viewer.token,
    )
    .await;
    assert_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
    // Removal by a moderator: shown to no one.
    let (_, page) = get_json(&fleet, &comments, &bystander.token).await;
    let other_id = page["items"][0]["id"].as_str().unwrap().to_string();
    let removed = ok_json(
        post_json(
            &fleet,
            &format!("/api/v1/moderation/comments/{other_id}/remove"),
            &moderator,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["status"], "removed");
    let (_, page) = get_json(&fleet, &comments, &moderator).await;
    assert!(!ids(&page, "items", "id").contains(&other_id));
    // The author deletes their own.
    let (_, page) = get_json(&fleet, &comments, &viewer.token).await;
    let last_id = page["items"][0]["id"].as_str().unwrap().to_string();
    let own_delete = delete(
        &fleet,
        &format!("/api/v1/comments/{last_id}"),
        &viewer.token,
    )
    .await;
    assert_eq!(own_delete.status(), StatusCode::NO_CONTENT);

    // Unfollow: idempotent.
    for _ in 0..2 {
        let state = ok_json(delete(&fleet, &follow, &viewer.token).await, StatusCode::OK).await;
        assert_eq!(state, json!({"following": false, "followers": 0}));
    }

    // Another tenant: every id is a 404.
    let admin = moderator;
    let tenant = ok_json(
        post_json(
            &fleet,
            "/api/v1/admin/tenants",
            &admin,
            json!({"name": "Other", "slug": "other-community"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let outsider = fleet
        .register_in(tenant["id"].as_str().unwrap(), "out@other.test")
        .await;
    let outsider: Value = ok_json(outsider, StatusCode::CREATED).await;
    let outsider = outsider["access_token"].as_str().unwrap().to_string();
    let kept = ok_json(
        post_json(
            &fleet,
            &comments,
            &bystander.token,
            json!({"body": "Still here"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let surviving = kept["id"].as_str().unwrap().to_string();
    let creator_path = format!("/api/v1/creators/{}", creator.id);
    for response in [
        fleet.get_with(&creator_path, &outsider).await,
        fleet
            .get_with(&format!("{creator_path}/followers"), &outsider)
            .await,
        post_json(&fleet, &follow, &outsider, json!({})).await,
        delete(&fleet, &follow, &outsider).await,
        fleet.get_with(&comments, &outsider).await,
        post_json(&fleet, &comments, &outsider, json!({"body": "hello"})).await,
        post_json(
            &fleet,
            &format!("/api/v1/comments/{surviving}/report"),
            &outsider,
            json!({}),
        )
        .await,
        fleet
            .get_with(&format!("/api/v1/comments/{surviving}"), &outsider)
            .await,
        delete(&fleet, &format!("/api/v1/comments/{surviving}"), &outsider).await,
    ] {
        assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    fleet.stop().await;
}
