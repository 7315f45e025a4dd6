//! The fleet at its edges, as a new user on a weak connection or an impatient one meets
//! it: uploads slower than any unary deadline get through; an upload that stalls or
//! whose client goes away holds no quota and leaves no object behind; concurrent
//! writes through every service on the embedded SQLite default never answer 5xx.

use super::content::{BOUNDARY, form, token_of, upload};
use super::{Options, TestFleet, spawn_fleet};
use marquee_testkit::wait_until;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What billing holds for the caller's `assets` limit: (used, reserved).
async fn assets_usage(fleet: &TestFleet, token: &str) -> (u64, u64) {
    let response = fleet.get_with("/api/v1/billing/usage", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let usage: Value = response.json().await.unwrap();
    let assets = usage["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["limit"] == "assets")
        .cloned()
        .unwrap();
    (
        assets["used"].as_u64().unwrap(),
        assets["reserved"].as_u64().unwrap(),
    )
}

/// Files under the local object store (partial multipart uploads included).
fn stored_files(data_dir: &Path) -> usize {
    fn walk(dir: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|entry| {
                let path = entry.path();
                if path.is_dir() { walk(&path) } else { 1 }
            })
            .sum()
    }
    walk(&data_dir.join("objects"))
}

/// An upload written by hand over TCP, so the test controls the pace: the request head,
/// then the body in `chunk`-byte pieces with `pause` between them, stopping after
/// `send_bytes` of the body (all of it when `None`).
async fn raw_upload(
    fleet: &TestFleet,
    token: &str,
    body: &[u8],
    chunk: usize,
    pause: Duration,
    send_bytes: Option<usize>,
) -> tokio::net::TcpStream {
    let address = fleet.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/assets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let until = send_bytes.unwrap_or(body.len());
    for piece in body[..until].chunks(chunk) {
        stream.write_all(piece).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(pause).await;
    }
    stream
}

/// The status code of the HTTP response on `stream` (within `timeout`).
async fn response_status(stream: &mut tokio::net::TcpStream, timeout: Duration) -> u16 {
    let mut buffer = vec![0u8; 4096];
    let read = tokio::time::timeout(timeout, stream.read(&mut buffer))
        .await
        .expect("an answer in time")
        .unwrap();
    let head = String::from_utf8_lossy(&buffer[..read]);
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"))
}

fn text_file(size: usize) -> Vec<u8> {
    b"a slow phone on a weak connection "
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_bounded_by_idle_time_not_total_time() {
    let fleet = spawn_fleet(Options {
        // Unary calls get 1 s; the upload must not.
        content: Box::new(|content| {
            content.common.grpc_deadline_secs = 1;
            content.upload_idle_timeout_secs = 1;
        }),
        gateway: Box::new(|gateway| gateway.upload_idle_timeout_secs = 1),
        ..Default::default()
    })
    .await;
    let token = token_of(&fleet, "slow@edges.test").await;

    // About 2.5 s of trickling: longer than the unary deadline, never idle for 1 s.
    let body = form(&[("title", "Slow")], Some(("slow.txt", &text_file(50_000))));
    let mut stream = raw_upload(
        &fleet,
        &token,
        &body,
        2_000,
        Duration::from_millis(100),
        None,
    )
    .await;
    assert_eq!(
        response_status(&mut stream, Duration::from_secs(30)).await,
        201,
        "a slow upload gets through"
    );
    assert_eq!(assets_usage(&fleet, &token).await, (1, 0));
    let stored = stored_files(&fleet.data_dir);

    // Stalls: half the body, then nothing. The upload fails once idle for 1 s and
    // gives back every hold; its partial object goes.
    let mut stalled = raw_upload(
        &fleet,
        &token,
        &form(
            &[("title", "Stalled")],
            Some(("stalled.txt", &text_file(50_000))),
        ),
        10_000,
        Duration::from_millis(10),
        Some(25_000),
    )
    .await;
    let status = response_status(&mut stalled, Duration::from_secs(30)).await;
    assert_eq!(
        status, 400,
        "the stalled upload is refused (upload_stalled)"
    );
    wait_until(
        Duration::from_secs(10),
        "the stalled upload's hold released",
        || async { assets_usage(&fleet, &token).await == (1, 0) },
    )
    .await;
    assert_eq!(
        stored_files(&fleet.data_dir),
        stored,
        "no partial object left"
    );

    // Goes away: the client disconnects mid-body.
    let gone = raw_upload(
        &fleet,
        &token,
        &form(&[("title", "Gone")], Some(("gone.txt", &text_file(50_000)))),
        10_000,
        Duration::from_millis(10),
        Some(25_000),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(gone);
    wait_until(
        Duration::from_secs(10),
        "the abandoned upload's hold released",
        || async { assets_usage(&fleet, &token).await == (1, 0) },
    )
    .await;
    wait_until(
        Duration::from_secs(10),
        "the abandoned upload's object removed",
        || async { stored_files(&fleet.data_dir) == stored },
    )
    .await;
    fleet.stop().await;
}

/// Uploads, processing, moderation, comments, follows and quota reservations all at
/// once on the embedded SQLite default: every answer is a success or a 4xx, never 5xx
/// (SQLite's "database is locked" used to surface as 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_through_every_service_never_answer_5xx() {
    let fleet = spawn_fleet(Options::default()).await;
    let admin = fleet.admin_token().await;
    let mut creators = Vec::new();
    for n in 0..4 {
        creators.push(token_of(&fleet, &format!("busy{n}@edges.test")).await);
    }
    // Something to moderate and comment on.
    let mut assets = Vec::new();
    for (n, token) in creators.iter().enumerate() {
        let response = upload(
            &fleet,
            token,
            &[("title", &format!("seed {n}"))],
            ("seed.txt", &text_file(2_000 + n)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let asset: Value = response.json().await.unwrap();
        assets.push(asset["id"].as_str().unwrap().to_string());
    }

    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..6 {
        for (n, token) in creators.iter().cloned().enumerate() {
            let http = fleet.http.clone();
            let url = fleet.url.clone();
            let asset = assets[(n + 1) % assets.len()].clone();
            let own = assets[n].clone();
            let admin = admin.clone();
            let creator_id = n;
            tasks.spawn(async move {
                let mut statuses = Vec::new();
                // An upload (quota reservation + processing behind it).
                let body = form(
                    &[("title", &format!("round {round}"))],
                    Some((
                        "r.txt",
                        format!("round {round} by {creator_id} ")
                            .repeat(50 + round)
                            .as_bytes(),
                    )),
                );
                let response = http
                    .post(format!("{url}/api/v1/assets"))
                    .bearer_auth(&token)
                    .header(
                        "content-type",
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    )
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                statuses.push(("upload", response.status()));
                // A comment on someone else's asset.
                let response = http
                    .post(format!("{url}/api/v1/assets/{asset}/comments"))
                    .bearer_auth(&token)
                    .json(&json!({"body": format!("nice work, round {round}")}))
                    .send()
                    .await
                    .unwrap();
                statuses.push(("comment", response.status()));
                // An edit of one's own asset.
                let response = http
                    .patch(format!("{url}/api/v1/assets/{own}"))
                    .bearer_auth(&token)
                    .json(&json!({"description": format!("edited in round {round}")}))
                    .send()
                    .await
                    .unwrap();
                statuses.push(("edit", response.status()));
                // A moderator decision while the processing worker writes.
                let response = http
                    .post(format!("{url}/api/v1/moderation/assets/{asset}/approve"))
                    .bearer_auth(&admin)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                statuses.push(("approve", response.status()));
                statuses
            });
        }
    }
    let mut seen = 0;
    while let Some(joined) = tasks.join_next().await {
        for (what, status) in joined.unwrap() {
            seen += 1;
            assert!(
                !status.is_server_error(),
                "{what} answered {status} under concurrent writes"
            );
        }
    }
    assert_eq!(seen, 6 * 4 * 4);
    fleet.stop().await;
}

/// A SIGTERM (the fleet's stop) while uploads stream in: the gateway stops taking
/// connections and drains; the services behind it stop only after, callers before what
/// they call (`marquee::STOP_ORDER`). Every upload in flight completes with 201 — when
/// everything stopped at once, content's call to billing met a closed port and the
/// uploads got 503 (found by `make chaos`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_flight_when_the_fleet_stops_complete() {
    let fleet = spawn_fleet(Options::default()).await;
    let token = token_of(&fleet, "drain@edges.test").await;
    let address = fleet.url.trim_start_matches("http://").to_string();
    let uploads: Vec<_> = (0..3)
        .map(|i| {
            let body = form(
                &[("title", "Draining")],
                Some(("drain.txt", &text_file(20_000 + i))),
            );
            let (address, token) = (address.clone(), token.clone());
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
                let head = format!(
                    "POST /api/v1/assets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.unwrap();
                // About a second of body: the stop begins in the middle of it.
                for piece in body.chunks(2_000) {
                    stream.write_all(piece).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                response_status(&mut stream, Duration::from_secs(30)).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.stop().await;
    for upload in uploads {
        assert_eq!(
            upload.await.unwrap(),
            201,
            "an upload in flight was dropped"
        );
    }
}
