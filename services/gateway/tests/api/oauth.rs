use crate::helpers::{problem, spawn_app};
use base64::Engine as _;

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn oauth_error(
    response: reqwest::Response,
    status: u16,
    error: &str,
) -> reqwest::header::HeaderMap {
    assert_eq!(response.status().as_u16(), status);
    let headers = response.headers().clone();
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    headers
}

#[tokio::test]
async fn client_credentials_grant_with_basic_and_post_auth() {
    let app = spawn_app(|_| {}).await;
    let response = app
        .http
        .post(app.url("/api/v1/oauth/token"))
        .header("authorization", basic("client-1", "s3cret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "assets:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let token: serde_json::Value = response.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "assets:read");
    assert_eq!(token["expires_in"], 600);
    let access = token["access_token"].as_str().unwrap();

    // The token works where its scope suffices and is refused where it does not.
    let response = app.get("/api/v1/tenant/flags", Some(access)).await;
    problem(response, 403, "insufficient_scope").await;

    let response = app
        .http
        .post(app.url("/api/v1/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-1"),
            ("client_secret", "s3cret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = app.seen.token_requests.lock().unwrap();
    assert_eq!(seen.last().unwrap().scope, "");
    assert_eq!(
        seen.last().unwrap().client.as_ref().unwrap().ip,
        "127.0.0.1"
    );
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc6749() {
    let app = spawn_app(|_| {}).await;
    let post = |auth: Option<String>, form: Vec<(&'static str, &'static str)>| {
        let mut request = app.http.post(app.url("/api/v1/oauth/token")).form(&form);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    let headers = oauth_error(
        post(
            Some(basic("client-1", "wrong")),
            vec![("grant_type", "client_credentials")],
        )
        .await
        .unwrap(),
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(
        headers.get("www-authenticate").unwrap(),
        "Basic realm=\"marquee\""
    );

    let headers = oauth_error(
        post(
            None,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "client-1"),
                ("client_secret", "no"),
            ],
        )
        .await
        .unwrap(),
        401,
        "invalid_client",
    )
    .await;
    assert!(headers.get("www-authenticate").is_none());

    oauth_error(
        post(None, vec![("grant_type", "client_credentials")])
            .await
            .unwrap(),
        401,
        "invalid_client",
    )
    .await;
    oauth_error(
        post(
            Some(basic("client-1", "s3cret")),
            vec![("grant_type", "password")],
        )
        .await
        .unwrap(),
        400,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        post(Some(basic("client-1", "s3cret")), vec![])
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    oauth_error(
        post(
            Some(basic("client-1", "s3cret")),
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "billing:read"),
            ],
        )
        .await
        .unwrap(),
        400,
        "invalid_scope",
    )
    .await;
    oauth_error(
        post(
            Some(basic("client-1", "s3cret")),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "client-1"),
                ("client_secret", "s3cret"),
            ],
        )
        .await
        .unwrap(),
        400,
        "invalid_request",
    )
    .await;

    let response = app
        .http
        .post(app.url("/api/v1/oauth/token"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    oauth_error(response, 400, "invalid_request").await;
}
