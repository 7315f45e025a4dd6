//! Storage quota end to end: content holds `storage_bytes` and `assets` in billing for
//! every upload. A tiny free plan: an upload within it succeeds, the next one is a 402
//! `quota_exceeded` naming `storage_bytes`, usage shows at `/api/v1/billing/usage`, a
//! duplicate costs nothing, and deleting gives the bytes back.

use super::content::{token_of, upload};
use super::{Options, assert_problem, spawn_fleet};
use reqwest::StatusCode;
use serde_json::Value;

const LIMIT: u64 = 5000;

fn text(seed: &str, len: usize) -> Vec<u8> {
    seed.bytes().cycle().take(len).collect()
}

async fn usage(fleet: &super::TestFleet, token: &str, limit: &str) -> Value {
    let response = fleet.get_with("/api/v1/billing/usage", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let usage: Value = response.json().await.unwrap();
    usage["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["limit"] == limit)
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_held_to_the_storage_quota() {
    let fleet = spawn_fleet(Options {
        billing: Box::new(|billing| billing.plans.free.limits.storage_bytes = Some(LIMIT)),
        ..Default::default()
    })
    .await;
    let creator = token_of(&fleet, "quota@content.test").await;
    let first = text("first file ", 3000);
    let second = text("second file ", 3000);

    let response = upload(&fleet, &creator, &[("title", "First")], ("a.txt", &first)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    let id = uploaded["id"].as_str().unwrap().to_string();

    let storage = usage(&fleet, &creator, "storage_bytes").await;
    assert_eq!(storage["used"], 3000, "{storage}");
    assert_eq!(storage["reserved"], 0);
    assert_eq!(storage["limit_value"], LIMIT);
    assert_eq!(usage(&fleet, &creator, "assets").await["used"], 1);

    // 3000 of 5000 used: another 3000 bytes do not fit.
    let response = upload(&fleet, &creator, &[("title", "Second")], ("b.txt", &second)).await;
    let problem = assert_problem(response, StatusCode::PAYMENT_REQUIRED, "quota_exceeded").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("storage_bytes"), "{detail}");
    let storage = usage(&fleet, &creator, "storage_bytes").await;
    assert_eq!(
        (storage["used"].as_u64(), storage["reserved"].as_u64()),
        (Some(3000), Some(0))
    );
    assert_eq!(usage(&fleet, &creator, "assets").await["used"], 1);

    // The same bytes again: a conflict naming the existing asset, costing nothing.
    let response = upload(&fleet, &creator, &[("title", "Again")], ("a.txt", &first)).await;
    let again = assert_problem(response, StatusCode::CONFLICT, "duplicate_asset").await;
    assert_eq!(again["asset_id"], id.as_str());
    assert_eq!(usage(&fleet, &creator, "storage_bytes").await["used"], 3000);
    assert_eq!(usage(&fleet, &creator, "assets").await["used"], 1);

    // Deleting gives the bytes back: now the second file fits.
    let deleted = fleet
        .http
        .delete(fleet.at(&format!("/api/v1/assets/{id}")))
        .bearer_auth(&creator)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(usage(&fleet, &creator, "storage_bytes").await["used"], 0);
    assert_eq!(usage(&fleet, &creator, "assets").await["used"], 0);
    let response = upload(&fleet, &creator, &[("title", "Second")], ("b.txt", &second)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(usage(&fleet, &creator, "storage_bytes").await["used"], 3000);
    fleet.stop().await;
}
