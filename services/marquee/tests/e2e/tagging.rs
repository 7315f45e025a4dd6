//! Tagging through the gateway, with the real models: uploads come back tagged (topics,
//! keywords, and for a photo what is in it), a paraphrased query finds them, similar
//! assets and a follower's recommendations show them, creators edit their tags, another
//! tenant finds nothing, and a deleted asset leaves search. Once on the embedded
//! defaults, once on PostgreSQL + RabbitMQ.

use super::content::{get_json, post_json, processed, token_of, upload};
use super::{Options, TestFleet, assert_problem, spawn_fleet, with_models};
use marquee_testkit::wait_for;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const BREAD_TITLE: &str = "Rustic sourdough loaf on linen";
const BREAD_TEXT: &str = "Overhead shot of a crusty sourdough boule on a wrinkled linen cloth, \
     light flour dusting, natural window light.";
const SALES_TITLE: &str = "Quarterly sales dashboard template";
const SALES_TEXT: &str = "Spreadsheet with revenue charts, KPI tiles and a pipeline funnel for \
     monthly business reviews.";

fn photo() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tagging/tests/fixtures/images/coffee.jpg");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reference_labels(file: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tagging/tests/fixtures/image_reference.json");
    let all: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let entry = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file)
        .unwrap();
    entry["top5"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[1].as_str().unwrap().to_lowercase())
        .collect()
}

async fn upload_text(
    fleet: &TestFleet,
    token: &str,
    title: &str,
    text: &str,
    file: &str,
) -> String {
    let response = upload(
        fleet,
        token,
        &[("title", title), ("description", text)],
        (file, format!("{title}\n\n{text}\n").as_bytes()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

async fn approve(fleet: &TestFleet, moderator: &str, id: &str) {
    let response = post_json(
        fleet,
        &format!("/api/v1/moderation/assets/{id}/approve"),
        moderator,
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Polls an asset's tags until tagging is done (`tagged`) and returns them.
async fn tagged(fleet: &TestFleet, token: &str, id: &str) -> Value {
    let path = format!("/api/v1/assets/{id}/tags");
    wait_for(
        Duration::from_secs(60),
        &format!("asset {id} to be tagged"),
        || async {
            let (status, body) = get_json(fleet, &path, token).await;
            if status == StatusCode::OK && body["state"] != "pending" {
                Ok(body)
            } else {
                Err(body)
            }
        },
    )
    .await
}

fn names(tags: &Value) -> Vec<String> {
    tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn item_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["asset_id"].as_str().unwrap().to_string())
        .collect()
}

async fn put_tags(fleet: &TestFleet, token: &str, id: &str, tags: Value) -> reqwest::Response {
    fleet
        .http
        .put(fleet.at(&format!("/api/v1/assets/{id}/tags")))
        .bearer_auth(token)
        .json(&json!({ "tags": tags }))
        .send()
        .await
        .unwrap()
}

async fn the_whole_flow(fleet: TestFleet) {
    let moderator = fleet.admin_token().await;
    let creator_session = fleet.register("creator@tagging.test").await;
    let creator = creator_session["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let creator_id = creator_session["user"]["id"].as_str().unwrap().to_string();
    let buyer = token_of(&fleet, "buyer@tagging.test").await;

    let bread = upload_text(&fleet, &creator, BREAD_TITLE, BREAD_TEXT, "bread.txt").await;
    let sales = upload_text(&fleet, &creator, SALES_TITLE, SALES_TEXT, "sales.txt").await;
    let response = upload(
        &fleet,
        &creator,
        &[("title", "Morning cup")],
        ("coffee.jpg", &photo()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let coffee = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for id in [&bread, &sales, &coffee] {
        processed(&fleet, &creator, id).await;
        approve(&fleet, &moderator, id).await;
    }

    // Tagged, with confidences, sources and providers.
    let bread_tags = tagged(&fleet, &creator, &bread).await;
    assert_eq!(bread_tags["state"], "tagged", "{bread_tags}");
    let tags = bread_tags["tags"].as_array().unwrap();
    assert!(!tags.is_empty(), "{bread_tags}");
    for tag in tags {
        let confidence = tag["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{tag}");
        assert_eq!(tag["source"], "ai");
        assert!(!tag["provider"].as_str().unwrap().is_empty(), "{tag}");
    }
    let bread_names = names(&bread_tags);
    assert!(
        bread_names
            .iter()
            .any(|n| n.contains("food") || n.contains("bread") || n.contains("baking")),
        "topic or keyword tags about bread: {bread_names:?}"
    );
    let coffee_tags = tagged(&fleet, &creator, &coffee).await;
    let visual: Vec<String> = coffee_tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["provider"] == "efficientnet-lite0")
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    let expected = reference_labels("coffee.jpg");
    assert!(
        visual.iter().any(|v| expected.contains(v)),
        "the photo's visual tags {visual:?} include one of the reference's top five {expected:?}"
    );
    assert_eq!(coffee_tags["orientation"], "landscape", "{coffee_tags}");
    assert!(!coffee_tags["palette"].as_array().unwrap().is_empty());

    // A buyer finds the bread by meaning, not by its words.
    let (status, found) = get_json(
        &fleet,
        "/api/v1/search?q=artisan%20bread%20photo%20on%20a%20cloth",
        &buyer,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(item_ids(&found).first(), Some(&bread), "{found}");
    let first = &found["items"][0];
    assert_eq!(first["title"], BREAD_TITLE);
    assert_eq!(first["kind"], "document");
    assert!(first["score"].as_f64().unwrap() > 0.0);
    let (_, found) = get_json(
        &fleet,
        "/api/v1/search?q=business%20metrics%20report",
        &buyer,
    )
    .await;
    assert_eq!(item_ids(&found).first(), Some(&sales), "{found}");
    let (_, images) = get_json(&fleet, "/api/v1/search?q=espresso&kind=image", &buyer).await;
    assert_eq!(item_ids(&images), [coffee.as_str()], "{images}");
    assert!(
        images["items"][0]["thumbnail_url"].as_str().is_some(),
        "{images}"
    );

    let (status, similar) =
        get_json(&fleet, &format!("/api/v1/assets/{bread}/similar"), &buyer).await;
    assert_eq!(status, StatusCode::OK, "{similar}");
    let similar_ids = item_ids(&similar);
    assert!(
        !similar_ids.contains(&bread) && similar_ids.len() == 2,
        "{similar}"
    );

    // Following the creator brings their work to the buyer's recommendations.
    let follow = post_json(
        &fleet,
        &format!("/api/v1/creators/{creator_id}/follow"),
        &buyer,
        json!({}),
    )
    .await;
    assert!(follow.status().is_success(), "{}", follow.status());
    let recommended = wait_for(
        Duration::from_secs(20),
        "a follower's recommendations",
        || async {
            let (_, page) = get_json(&fleet, "/api/v1/recommendations", &buyer).await;
            let ids = item_ids(&page);
            if [&bread, &sales, &coffee].iter().all(|id| ids.contains(id)) {
                Ok(page)
            } else {
                Err(page)
            }
        },
    )
    .await;
    assert!(recommended["items"][0]["score"].as_f64().is_some());
    // Reading an asset records a view (the gateway tells tagging in the background): what
    // the buyer has seen leaves their recommendations, what resembles it stays.
    let (status, _) = get_json(&fleet, &format!("/api/v1/assets/{sales}"), &buyer).await;
    assert_eq!(status, StatusCode::OK);
    wait_for(
        Duration::from_secs(20),
        "a viewed asset to leave the viewer's recommendations",
        || async {
            let (_, page) = get_json(&fleet, "/api/v1/recommendations", &buyer).await;
            let ids = item_ids(&page);
            if !ids.contains(&sales) && ids.contains(&bread) && ids.contains(&coffee) {
                Ok(())
            } else {
                Err(page)
            }
        },
    )
    .await;
    let (_, own) = get_json(&fleet, "/api/v1/recommendations", &creator).await;
    assert!(
        item_ids(&own)
            .iter()
            .all(|id| ![&bread, &sales, &coffee].contains(&id)),
        "never one's own: {own}"
    );

    // The creator edits: drops an AI tag, adds one; a buyer may not.
    let dropped = bread_names[0].clone();
    let kept: Vec<Value> = bread_tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|t| json!({"name": t["name"], "source": "ai"}))
        .chain([json!({"name": "Homemade", "source": "creator"})])
        .collect();
    let edited = put_tags(&fleet, &creator, &bread, json!(kept)).await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.unwrap();
    let edited_names = names(&edited);
    assert!(edited_names.contains(&"homemade".to_string()), "{edited}");
    assert!(!edited_names.contains(&dropped), "{edited}");
    let homemade = edited["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "homemade")
        .unwrap();
    assert_eq!(homemade["source"], "creator");
    assert_eq!(homemade["confidence"], 1.0);
    let refused = put_tags(&fleet, &buyer, &bread, json!([])).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let (_, by_tag) = get_json(&fleet, "/api/v1/search?tags=homemade", &buyer).await;
    assert_eq!(item_ids(&by_tag), [bread.as_str()], "{by_tag}");

    // Another tenant's user finds nothing of it, and can't read its tags.
    let created = post_json(
        &fleet,
        "/api/v1/admin/tenants",
        &moderator,
        json!({"name": "Other", "slug": "other"}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let other_tenant = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let outsider = fleet
        .register_in(&other_tenant, "outsider@other.test")
        .await;
    let outsider: Value = outsider.json().await.unwrap();
    let outsider = outsider["access_token"].as_str().unwrap();
    for query in ["artisan%20bread", "espresso", ""] {
        let (status, page) = get_json(&fleet, &format!("/api/v1/search?q={query}"), outsider).await;
        assert_eq!(status, StatusCode::OK);
        assert!(item_ids(&page).is_empty(), "{page}");
    }
    let (_, page) = get_json(&fleet, "/api/v1/recommendations", outsider).await;
    assert!(item_ids(&page).is_empty(), "{page}");
    let response = fleet
        .get_with(&format!("/api/v1/assets/{bread}/tags"), outsider)
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;

    // Deleted: out of search, tags gone.
    let deleted = fleet
        .http
        .delete(fleet.at(&format!("/api/v1/assets/{bread}")))
        .bearer_auth(&creator)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    wait_for(
        Duration::from_secs(20),
        "the deleted asset to leave search",
        || async {
            let (_, page) = get_json(&fleet, "/api/v1/search?q=artisan%20bread", &buyer).await;
            if item_ids(&page).contains(&bread) {
                Err(page)
            } else {
                Ok(())
            }
        },
    )
    .await;
    let response = fleet
        .get_with(&format!("/api/v1/assets/{bread}/tags"), &creator)
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_found_similar_recommended_on_embedded_defaults() {
    let fleet = spawn_fleet(Options {
        tagging: Box::new(with_models),
        ..Default::default()
    })
    .await;
    the_whole_flow(fleet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_found_similar_recommended_on_postgres_and_rabbitmq() {
    let fleet = spawn_fleet(Options {
        postgres: true,
        amqp: true,
        tagging: Box::new(with_models),
        ..Default::default()
    })
    .await;
    the_whole_flow(fleet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_models_assets_say_tagging_is_off_and_search_matches_words() {
    let fleet = spawn_fleet(Options::default()).await;
    let moderator = fleet.admin_token().await;
    let creator = token_of(&fleet, "creator@nomodels.test").await;
    let id = upload_text(&fleet, &creator, BREAD_TITLE, BREAD_TEXT, "bread.txt").await;
    processed(&fleet, &creator, &id).await;
    approve(&fleet, &moderator, &id).await;
    let tags = tagged(&fleet, &creator, &id).await;
    assert_eq!(tags["state"], "untagged", "{tags}");
    assert!(
        tags["tags"].as_array().unwrap().is_empty(),
        "never fake tags: {tags}"
    );
    assert!(
        tags["failure_reason"]
            .as_str()
            .unwrap()
            .contains("make models"),
        "{tags}"
    );
    let (_, found) = get_json(&fleet, "/api/v1/search?q=sourdough", &creator).await;
    assert_eq!(item_ids(&found), [id.as_str()], "{found}");
    let (_, none) = get_json(&fleet, "/api/v1/search?q=espresso", &creator).await;
    assert!(item_ids(&none).is_empty(), "{none}");
    fleet.stop().await;
}
