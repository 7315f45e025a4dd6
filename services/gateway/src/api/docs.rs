//! The OpenAPI document and a page that renders it.

use crate::AppState;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, get, web};

/// Interactive docs: Scalar from a CDN, so nothing is downloaded at build time.
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Marquee API</title>
  </head>
  <body>
    <script id="api-reference" data-url="/api/v1/openapi.json"></script>
    <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
    <noscript>The OpenAPI document is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript>
  </body>
</html>
"#;

/// The OpenAPI 3.1 document
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "This API's OpenAPI 3.1 document", content_type = "application/json")),
)]
#[get("/api/v1/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(state.openapi_json.clone())
}

/// Interactive API documentation
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "An HTML page rendering the OpenAPI document", content_type = "text/html")),
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(DOCS_PAGE)
}
