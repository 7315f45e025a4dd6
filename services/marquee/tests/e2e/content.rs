//! Content through the gateway: upload an image → processed with a thumbnail →
//! moderated → visible to another user; downloads with Range; auto-approval by tenant
//! flag; and bad uploads, wrong types, oversize and other tenants' ids as clear 4xx
//! problems.

use super::{Options, TestFleet, assert_problem, spawn_fleet};
use marquee_testkit::wait_for;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) const BOUNDARY: &str = "marquee-e2e-boundary";

/// A multipart/form-data body, built by hand so tests can also break it.
pub(crate) fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, seed])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub(crate) async fn upload_raw(fleet: &TestFleet, token: &str, body: Vec<u8>) -> reqwest::Response {
    fleet
        .http
        .post(fleet.at("/api/v1/assets"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn upload(
    fleet: &TestFleet,
    token: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> reqwest::Response {
    upload_raw(fleet, token, form(fields, Some(file))).await
}

/// The `Location` header of a create (or of a `409 duplicate_asset`).
pub(crate) fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

pub(crate) async fn token_of(fleet: &TestFleet, email: &str) -> String {
    fleet.register(email).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) async fn get_json(fleet: &TestFleet, path: &str, token: &str) -> (StatusCode, Value) {
    let response = fleet.get_with(path, token).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls the asset until its status leaves `processing`.
pub(crate) async fn processed(fleet: &TestFleet, token: &str, id: &str) -> Value {
    let path = format!("/api/v1/assets/{id}");
    wait_for(
        Duration::from_secs(30),
        &format!("asset {id} to leave processing"),
        || async {
            let (status, asset) = get_json(fleet, &path, token).await;
            assert_eq!(status, StatusCode::OK, "{asset}");
            if asset["status"] != "processing" {
                Ok(asset)
            } else {
                Err(asset["status"].clone())
            }
        },
    )
    .await
}

pub(crate) async fn post_json(
    fleet: &TestFleet,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    fleet
        .http
        .post(fleet.at(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_is_processed_moderated_and_then_visible() {
    let fleet = spawn_fleet(Options::default()).await;
    let creator = token_of(&fleet, "creator@content.test").await;
    let viewer = token_of(&fleet, "viewer@content.test").await;
    let moderator = fleet.admin_token().await;
    let picture = png(400, 200, 7);

    let response = upload(
        &fleet,
        &creator,
        &[
            ("title", "Sunset"),
            ("description", "Over the bay"),
            ("tags", "sea, Sky"),
        ],
        ("sunset.png", &picture),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created_at = location(&response);
    // The asset itself, as its read returns it.
    let asset: Value = response.json().await.unwrap();
    let id = asset["id"].as_str().unwrap().to_string();
    assert_eq!(created_at, format!("/api/v1/assets/{id}"));
    assert!(asset.get("asset").is_none() && asset.get("deduplicated").is_none());
    let (status, read) = get_json(&fleet, &created_at, &creator).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&read["id"], &read["sha256"]),
        (&asset["id"], &asset["sha256"])
    );
    assert_eq!(asset["title"], "Sunset");
    assert_eq!(asset["description"], "Over the bay");
    assert_eq!(asset["content_type"], "image/png");
    assert_eq!(asset["kind"], "image");
    assert_eq!(asset["size_bytes"], picture.len());
    assert_eq!(asset["filename"], "sunset.png");
    assert_eq!(asset["tags"], json!(["sea", "sky"]));
    assert_eq!(asset["sha256"].as_str().unwrap().len(), 64);

    let asset = processed(&fleet, &creator, &id).await;
    assert_eq!(asset["status"], "pending_review", "{asset}");
    assert_eq!(asset["width"], 400);
    assert_eq!(asset["height"], 200);
    assert_eq!(asset["has_thumbnail"], true);

    // Not approved yet: invisible to others, exactly like a missing asset.
    let hidden = fleet
        .get_with(&format!("/api/v1/assets/{id}"), &viewer)
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let (_, page) = get_json(&fleet, "/api/v1/assets", &viewer).await;
    assert_eq!(page, json!({"items": [], "next_cursor": null}));

    // Moderation: creators may not; a rejection needs a reason; the queue shows it.
    let refused = fleet.get_with("/api/v1/moderation/assets", &creator).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let (status, queue) = get_json(&fleet, "/api/v1/moderation/assets", &moderator).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let no_reason = post_json(
        &fleet,
        &format!("/api/v1/moderation/assets/{id}/reject"),
        &moderator,
        json!({}),
    )
    .await;
    assert_problem(no_reason, StatusCode::BAD_REQUEST, "reason_required").await;
    let approved = post_json(
        &fleet,
        &format!("/api/v1/moderation/assets/{id}/approve"),
        &moderator,
        json!({}),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["status"], "ready");

    // Now everyone in the tenant sees it.
    let (status, seen) = get_json(&fleet, &format!("/api/v1/assets/{id}"), &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["title"], "Sunset");
    let (_, page) = get_json(&fleet, "/api/v1/assets?kind=image&status=ready", &viewer).await;
    assert_eq!(page["items"][0]["id"], id.as_str());

    // Downloads: whole, ranged, thumbnail; the original stays the owner's.
    let content = format!("/api/v1/assets/{id}/content");
    let whole = fleet.get_with(&content, &viewer).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "image/png");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let published = whole.bytes().await.unwrap();
    let decoded = image::load_from_memory(&published).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (400, 200));
    let ranged = fleet
        .http
        .get(fleet.at(&content))
        .bearer_auth(&viewer)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 0-9/{}", published.len()).as_str()
    );
    assert_eq!(ranged.bytes().await.unwrap(), published[..10]);
    let thumbnail = fleet
        .get_with(&format!("{content}?variant=thumbnail"), &viewer)
        .await;
    assert_eq!(thumbnail.status(), StatusCode::OK);
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    let thumbnail = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
    let original = fleet
        .get_with(&format!("{content}?variant=original"), &viewer)
        .await;
    assert_problem(original, StatusCode::FORBIDDEN, "forbidden").await;
    let original = fleet
        .get_with(&format!("{content}?variant=original"), &creator)
        .await;
    assert_eq!(original.bytes().await.unwrap(), picture);

    // The same bytes again: a conflict naming the existing asset; nothing of this
    // upload is stored or applied.
    let again = upload(
        &fleet,
        &creator,
        &[("title", "Again"), ("description", "New words")],
        ("again.png", &picture),
    )
    .await;
    assert_eq!(location(&again), format!("/api/v1/assets/{id}"));
    let problem = assert_problem(again, StatusCode::CONFLICT, "duplicate_asset").await;
    assert_eq!(problem["asset_id"], id.as_str());
    let (_, existing) = get_json(&fleet, &format!("/api/v1/assets/{id}"), &creator).await;
    assert_eq!(
        (&existing["title"], &existing["description"]),
        (&json!("Sunset"), &json!("Over the bay"))
    );
    assert_eq!(existing["filename"], "sunset.png");

    // Editing is the owner's.
    let path = format!("/api/v1/assets/{id}");
    let edit = |token: &str| {
        fleet
            .http
            .patch(fleet.at(&path))
            .bearer_auth(token.to_string())
            .json(&json!({"title": "Sunset, edited"}))
            .send()
    };
    assert_problem(
        edit(&viewer).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let edited: Value = edit(&creator).await.unwrap().json().await.unwrap();
    assert_eq!(edited["title"], "Sunset, edited");

    // Delete: gone for everyone.
    let deleted = fleet
        .http
        .delete(fleet.at(&path))
        .bearer_auth(&creator)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = fleet.get_with(&path, &creator).await;
    assert_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_flag_auto_approves_and_other_tenants_see_nothing() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;
    let created = post_json(
        &fleet,
        "/api/v1/admin/tenants",
        &admin,
        json!({"name": "Acme", "slug": "acme"}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created_at = location(&created);
    let tenant: Value = created.json().await.unwrap();
    let tenant_id = tenant["id"].as_str().unwrap();
    assert_eq!(created_at, format!("/api/v1/admin/tenants/{tenant_id}"));
    let (status, read) = get_json(&fleet, &created_at, &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        read, tenant,
        "the create answers the tenant as its read does"
    );
    let put = fleet
        .http
        .put(fleet.at(&format!("/api/v1/admin/tenants/{tenant_id}/flags")))
        .bearer_auth(&admin)
        .json(&json!({"flags": {"auto_approve_assets": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let member = fleet.register_in(tenant_id, "member@acme.test").await;
    assert_eq!(member.status(), StatusCode::CREATED);
    let member: Value = member.json().await.unwrap();
    let member = member["access_token"].as_str().unwrap().to_string();

    let response = upload(&fleet, &member, &[], ("notes.txt", b"plain notes\n")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    let id = uploaded["id"].as_str().unwrap().to_string();
    assert_eq!(
        uploaded["title"], "notes.txt",
        "title defaults to the file name"
    );
    assert_eq!(uploaded["kind"], "document");
    let asset = processed(&fleet, &member, &id).await;
    assert_eq!(asset["status"], "ready", "auto-approved: {asset}");
    assert_eq!(asset["text_excerpt"], "plain notes", "{asset}");
    assert!(asset.get("page_count").is_none(), "{asset}");

    // The default tenant's users, even moderators, never see it.
    let outsider = token_of(&fleet, "outsider@content.test").await;
    for token in [&outsider, &admin] {
        let response = fleet.get_with(&format!("/api/v1/assets/{id}"), token).await;
        assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
        let response = fleet
            .get_with(&format!("/api/v1/assets/{id}/content"), token)
            .await;
        assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    let approve = post_json(
        &fleet,
        &format!("/api/v1/moderation/assets/{id}/approve"),
        &admin,
        json!({}),
    )
    .await;
    assert_problem(approve, StatusCode::NOT_FOUND, "not_found").await;
    let delete = fleet
        .http
        .delete(fleet.at(&format!("/api/v1/assets/{id}")))
        .bearer_auth(&outsider)
        .send()
        .await
        .unwrap();
    assert_problem(delete, StatusCode::NOT_FOUND, "not_found").await;
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_clear_problems() {
    let fleet = spawn_fleet(Options {
        gateway: Box::new(|gateway| gateway.upload_limit_bytes = 64 * 1024),
        content: Box::new(|content| {
            content.max_upload_bytes = 32 * 1024;
            content.blocked_terms = vec!["scam".into()];
        }),
        ..Default::default()
    })
    .await;
    let creator = token_of(&fleet, "bad@content.test").await;

    // Not multipart at all.
    let json_body = post_json(&fleet, "/api/v1/assets", &creator, json!({"file": "x"})).await;
    assert_problem(
        json_body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // Multipart that breaks off in the middle.
    let mut broken = form(&[("title", "x")], Some(("a.png", &png(8, 8, 1))));
    broken.truncate(broken.len() - 30);
    let broken = upload_raw(&fleet, &creator, broken).await;
    assert_problem(broken, StatusCode::BAD_REQUEST, "invalid_multipart").await;
    // No file.
    let no_file = upload_raw(&fleet, &creator, form(&[("title", "x")], None)).await;
    assert_problem(no_file, StatusCode::BAD_REQUEST, "file_missing").await;
    // Unknown field.
    let unknown = upload_raw(&fleet, &creator, form(&[("color", "red")], None)).await;
    assert_problem(unknown, StatusCode::BAD_REQUEST, "invalid_multipart").await;
    // Empty file.
    let empty = upload(&fleet, &creator, &[], ("empty.png", b"")).await;
    assert_problem(empty, StatusCode::BAD_REQUEST, "empty_file").await;
    // A type we do not take, whatever the name says.
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0\x01\0\0\0";
    let exe = upload(&fleet, &creator, &[], ("cat.png", elf)).await;
    let problem = assert_problem(
        exe,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not supported")
    );
    // Over the service's limit (32 KiB), under the gateway's.
    let big = vec![b'a'; 40 * 1024];
    let over_service = upload(&fleet, &creator, &[], ("big.txt", &big)).await;
    assert_problem(
        over_service,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // Over the gateway's limit (64 KiB).
    let huge = vec![b'a'; 200 * 1024];
    let over_gateway = upload(&fleet, &creator, &[], ("huge.txt", &huge)).await;
    assert_problem(
        over_gateway,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // Too long a title.
    let long_title = "t".repeat(300);
    let titled = upload(
        &fleet,
        &creator,
        &[("title", &long_title)],
        ("a.txt", b"hi"),
    )
    .await;
    assert_problem(titled, StatusCode::BAD_REQUEST, "title_too_long").await;
    // Bad list parameters.
    for (query, code) in [
        ("status=nope", "invalid_status"),
        ("kind=exe", "invalid_kind"),
        ("cursor=abc", "invalid_cursor"),
    ] {
        let response = fleet
            .get_with(&format!("/api/v1/assets?{query}"), &creator)
            .await;
        assert_problem(response, StatusCode::BAD_REQUEST, code).await;
    }
    let variant = fleet
        .get_with("/api/v1/assets/x/content?variant=raw", &creator)
        .await;
    assert_problem(variant, StatusCode::BAD_REQUEST, "invalid_variant").await;
    let missing = fleet.get_with("/api/v1/assets/nope", &creator).await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;

    // A corrupt image is stored, then fails processing with a reason; retry re-runs it.
    let mut corrupt = png(64, 64, 3);
    corrupt.truncate(100);
    let response = upload(&fleet, &creator, &[], ("broken.png", &corrupt)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    let id = uploaded["id"].as_str().unwrap().to_string();
    let failed = processed(&fleet, &creator, &id).await;
    assert_eq!(failed["status"], "failed");
    assert!(!failed["status_reason"].as_str().unwrap().is_empty());
    let retry = post_json(
        &fleet,
        &format!("/api/v1/assets/{id}/retry"),
        &creator,
        json!({}),
    )
    .await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(processed(&fleet, &creator, &id).await["status"], "failed");

    // A blocked term flags the asset for review.
    let flagged = upload(
        &fleet,
        &creator,
        &[("title", "Total SCAM offer")],
        ("offer.txt", b"buy now"),
    )
    .await;
    assert_eq!(flagged.status(), StatusCode::CREATED);
    let flagged: Value = flagged.json().await.unwrap();
    assert_eq!(flagged["flags"], json!(["blocked_term:scam"]));
    fleet.stop().await;
}

/// The same flow on the production backends: auth and content on PostgreSQL, events
/// through RabbitMQ (an exchange of this test's own, deleted afterwards).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_flow_on_postgres_and_rabbitmq() {
    let fleet = spawn_fleet(Options {
        postgres: true,
        amqp: true,
        ..Default::default()
    })
    .await;
    let creator = token_of(&fleet, "creator@amqp.test").await;
    let viewer = token_of(&fleet, "viewer@amqp.test").await;
    let moderator = fleet.admin_token().await;
    let picture = png(640, 320, 11);

    let response = upload(
        &fleet,
        &creator,
        &[("title", "Harbour")],
        ("harbour.png", &picture),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    let id = uploaded["id"].as_str().unwrap().to_string();

    // asset.uploaded went through RabbitMQ to the processing worker.
    let asset = processed(&fleet, &creator, &id).await;
    assert_eq!(asset["status"], "pending_review", "{asset}");
    assert_eq!(
        (asset["width"].clone(), asset["height"].clone()),
        (json!(640), json!(320))
    );
    assert_eq!(asset["has_thumbnail"], true);
    let hidden = fleet
        .get_with(&format!("/api/v1/assets/{id}"), &viewer)
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;

    let approved = post_json(
        &fleet,
        &format!("/api/v1/moderation/assets/{id}/approve"),
        &moderator,
        json!({}),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);

    let (status, seen) = get_json(&fleet, &format!("/api/v1/assets/{id}"), &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["status"], "ready");
    let thumbnail = fleet
        .get_with(
            &format!("/api/v1/assets/{id}/content?variant=thumbnail"),
            &viewer,
        )
        .await;
    assert_eq!(thumbnail.status(), StatusCode::OK);
    let thumbnail = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
    fleet.stop().await;
}

/// Signs like the content service does, with the key the fleet was given.
fn sign(key: &str, id: &str, variant: &str, expires: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("marquee-signed-download/v1\n{id}\n{variant}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_urls_and_unsatisfiable_ranges() {
    const KEY: &str = "e2e signing key";
    let fleet = spawn_fleet(Options {
        content: Box::new(|content| {
            content.signing_key = Some(marquee_platform::SecretString::from(KEY));
        }),
        ..Default::default()
    })
    .await;
    let creator = token_of(&fleet, "creator@signed.test").await;
    let viewer = token_of(&fleet, "viewer@signed.test").await;
    let moderator = fleet.admin_token().await;
    let picture = png(64, 32, 5);
    let response = upload(&fleet, &creator, &[], ("signed.png", &picture)).await;
    let uploaded: Value = response.json().await.unwrap();
    let id = uploaded["id"].as_str().unwrap().to_string();
    processed(&fleet, &creator, &id).await;
    let approved = post_json(
        &fleet,
        &format!("/api/v1/moderation/assets/{id}/approve"),
        &moderator,
        json!({}),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let published = fleet
        .get_with(&format!("/api/v1/assets/{id}/content"), &viewer)
        .await
        .bytes()
        .await
        .unwrap();

    // A range past the end: 416 with the size.
    let past = fleet
        .http
        .get(fleet.at(&format!("/api/v1/assets/{id}/content")))
        .bearer_auth(&viewer)
        .header("range", format!("bytes={}-", published.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{}", published.len()).as_str()
    );
    assert_problem(
        past,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    )
    .await;

    // Minting: anyone who may download; the original only for its owner.
    let path = format!("/api/v1/assets/{id}/signed-url");
    let minted = post_json(&fleet, &path, &viewer, json!({"expires_in": 120})).await;
    assert_eq!(minted.status(), StatusCode::OK);
    let minted: Value = minted.json().await.unwrap();
    let url = minted["url"].as_str().unwrap().to_string();
    let expires_at = chrono::DateTime::parse_from_rfc3339(minted["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let now = chrono::Utc::now().timestamp();
    assert!((now + 110..=now + 130).contains(&expires_at), "{minted}");
    let capped: Value = post_json(&fleet, &path, &viewer, json!({"expires_in": 999_999}))
        .await
        .json()
        .await
        .unwrap();
    let capped_at = chrono::DateTime::parse_from_rfc3339(capped["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!(
        capped_at <= chrono::Utc::now().timestamp() + 3600,
        "{capped}"
    );
    let original = post_json(&fleet, &path, &viewer, json!({"variant": "original"})).await;
    assert_problem(original, StatusCode::FORBIDDEN, "forbidden").await;
    let zero = post_json(&fleet, &path, &viewer, json!({"expires_in": 0})).await;
    assert_problem(zero, StatusCode::BAD_REQUEST, "invalid_expires_in").await;
    let anonymous = fleet.post(&path, json!({})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // The URL works without a token, Range included.
    let whole = fleet.http.get(fleet.at(&url)).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.bytes().await.unwrap(), published);
    let ranged = fleet
        .http
        .get(fleet.at(&url))
        .header("range", "bytes=-4")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        ranged.bytes().await.unwrap(),
        published[published.len() - 4..]
    );
    let owner_original: Value = post_json(&fleet, &path, &creator, json!({"variant": "original"}))
        .await
        .json()
        .await
        .unwrap();
    let original = fleet
        .http
        .get(fleet.at(owner_original["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(original.bytes().await.unwrap(), picture);

    // Tampered: another variant, a later expiry, a changed signature.
    let signature = url.rsplit_once("signature=").unwrap().1.to_string();
    let base = format!("/api/v1/assets/{id}/content/signed");
    for tampered in [
        url.replace("variant=published", "variant=original"),
        url.replace(
            &format!("expires={expires_at}"),
            &format!("expires={}", expires_at + 3600),
        ),
        // The last hex digit changed (a fixed "0" left 1 in 16 signatures intact).
        format!(
            "{base}?expires={expires_at}&signature={}{}",
            &signature[..signature.len() - 1],
            if signature.ends_with('0') { '1' } else { '0' }
        ),
        format!("{base}?expires={expires_at}&signature=not-hex"),
    ] {
        let response = fleet.http.get(fleet.at(&tampered)).send().await.unwrap();
        assert_problem(response, StatusCode::FORBIDDEN, "invalid_signature").await;
    }
    let missing = fleet.http.get(fleet.at(&base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    // Expired: correctly signed, but the expiry has passed.
    let past = chrono::Utc::now().timestamp() - 1;
    let expired = format!(
        "{base}?variant=published&expires={past}&signature={}",
        sign(KEY, &id, "published", past)
    );
    let response = fleet.http.get(fleet.at(&expired)).send().await.unwrap();
    assert_problem(response, StatusCode::FORBIDDEN, "url_expired").await;
    // And the format the test signs with is the service's: a future expiry works.
    let future = chrono::Utc::now().timestamp() + 60;
    let forged_ok = format!(
        "{base}?variant=thumbnail&expires={future}&signature={}",
        sign(KEY, &id, "thumbnail", future)
    );
    let response = fleet.http.get(fleet.at(&forged_ok)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Another tenant cannot mint one (its asset is a 404 there).
    let admin = moderator;
    let tenant: Value = post_json(
        &fleet,
        "/api/v1/admin/tenants",
        &admin,
        json!({"name": "Other", "slug": "other-signed"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let member: Value = fleet
        .register_in(tenant["id"].as_str().unwrap(), "m@other.test")
        .await
        .json()
        .await
        .unwrap();
    let outsider = member["access_token"].as_str().unwrap();
    let foreign = post_json(&fleet, &path, outsider, json!({})).await;
    assert_problem(foreign, StatusCode::NOT_FOUND, "not_found").await;

    // A deleted asset's URL is a 404.
    let deleted = fleet
        .http
        .delete(fleet.at(&format!("/api/v1/assets/{id}")))
        .bearer_auth(&creator)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = fleet.http.get(fleet.at(&url)).send().await.unwrap();
    assert_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
    fleet.stop().await;
}

/// A minimal PDF with one page per text, each drawing its text; the cross-reference
/// table carries the real offsets.
fn pdf(texts: &[&str]) -> Vec<u8> {
    let pages = texts.len();
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} /MediaBox [0 0 595 842] >>",
            kids.join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>".to_string(),
    ];
    for (i, text) in texts.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let content = format!("BT /F1 12 Tf 72 700 Td ({text}) Tj ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn mp4_box(name: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(name);
    out.extend_from_slice(payload);
    out
}

/// `ftyp`, a media-data box of `mdat_len` bytes, then `moov` (with only `mvhd`) at the
/// end, as many encoders write it: the duration is found past the media data.
fn mp4(timescale: u32, duration: u32, mdat_len: usize) -> Vec<u8> {
    let mut ftyp = b"isom".to_vec();
    ftyp.extend_from_slice(&512u32.to_be_bytes());
    ftyp.extend_from_slice(b"isomiso2mp41");
    let mut mvhd = vec![0u8; 12]; // version 0, flags, creation and modification times
    mvhd.extend_from_slice(&timescale.to_be_bytes());
    mvhd.extend_from_slice(&duration.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0; 10]);
    for value in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&value.to_be_bytes());
    }
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mut out = mp4_box(b"ftyp", &ftyp);
    out.extend(mp4_box(b"mdat", &vec![7u8; mdat_len]));
    out.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mp4_gets_its_duration() {
    let fleet = spawn_fleet(Options::default()).await;
    let creator = token_of(&fleet, "filmmaker@content.test").await;
    let video = mp4(600, 45_300, 300_000);
    let response = upload(&fleet, &creator, &[], ("clip.mp4", &video)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    assert_eq!(uploaded["content_type"], "video/mp4");
    let id = uploaded["id"].as_str().unwrap().to_string();
    let asset = processed(&fleet, &creator, &id).await;
    assert_eq!(asset["status"], "pending_review", "{asset}");
    assert_eq!(asset["duration_ms"], 75_500, "{asset}");
    assert!(asset.get("page_count").is_none(), "{asset}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_gets_page_count_and_text_excerpt() {
    let fleet = spawn_fleet(Options::default()).await;
    let creator = token_of(&fleet, "writer@content.test").await;
    let document = pdf(&["Quarterly report", "Second page"]);

    let response = upload(
        &fleet,
        &creator,
        &[("title", "Report")],
        ("report.pdf", &document),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    assert_eq!(uploaded["content_type"], "application/pdf");
    assert_eq!(uploaded["kind"], "document");
    let id = uploaded["id"].as_str().unwrap().to_string();

    let asset = processed(&fleet, &creator, &id).await;
    assert_eq!(asset["status"], "pending_review", "{asset}");
    assert_eq!(asset["page_count"], 2, "{asset}");
    let excerpt = asset["text_excerpt"].as_str().unwrap();
    assert!(excerpt.contains("Quarterly report"), "{excerpt}");
    assert!(excerpt.contains("Second page"), "{excerpt}");
    assert!(asset.get("duration_ms").is_none(), "{asset}");
    assert!(asset.get("width").is_none(), "{asset}");

    // A PDF lopdf cannot read fails with a reason the owner reads.
    let broken = b"%PDF-1.7\nthis is not really a PDF\n".to_vec();
    let response = upload(&fleet, &creator, &[], ("broken.pdf", &broken)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.unwrap();
    let id = uploaded["id"].as_str().unwrap().to_string();
    let asset = processed(&fleet, &creator, &id).await;
    assert_eq!(asset["status"], "failed", "{asset}");
    assert!(
        asset["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("unreadable PDF"),
        "{asset}"
    );
}
