//! The OpenAPI document and a page that renders it.
//!
//! The page is Scalar's API reference, served from the binary: the standalone bundle
//! comes embedded in the `scalar_api_reference` crate (no CDN, nothing downloaded at
//! build or run time), the initialisation is a script of ours, and the page answers
//! with a Content-Security-Policy that lets it load only what this origin serves.

use crate::AppState;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, get, web};
use marquee_platform::Error;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Version of `@scalar/api-reference` inside `scalar_api_reference` 0.2.21 (it logs
/// it in the browser console); bump both together.
pub const SCALAR_VERSION: &str = "1.76.4";

/// The policy of the docs page: scripts and styles from this origin only. Scalar adds
/// `<style>` elements at run time (its theme and components), hence
/// `'unsafe-inline'` for styles, and nothing else. Requests made from the page (the
/// document, "try it") may only go to this origin, so no proxy or telemetry service is
/// ever reached, even if the configuration below were ignored.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
connect-src 'self'; worker-src 'self' blob:; manifest-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// Versioned assets are cached for a year; their URLs change with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Starts Scalar on the page, with everything that would call a third party off:
/// no hosted fonts, no telemetry, no AI agent, no request proxy.
const INIT_JS: &str = r##""use strict";
Scalar.createApiReference("#app", {
  url: "/api/v1/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  proxyUrl: "",
  agent: { disabled: true },
  showDeveloperTools: "never",
  persistAuth: false,
});
"##;

struct Asset {
    body: web::Bytes,
    /// The first 16 hex digits of the SHA-256 of `body`: the `?v=` of its URL.
    version: String,
}

impl Asset {
    fn new(body: impl Into<web::Bytes>) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self { body, version }
    }
}

static SCALAR_JS: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(scalar_api_reference::get_asset("scalar.js").unwrap_or_default()));

static INIT: LazyLock<Asset> = LazyLock::new(|| Asset::new(INIT_JS));

static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>Marquee API</title>
  </head>
  <body>
    <noscript>The OpenAPI document is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript>
    <div id="app"></div>
    <script src="/docs/scalar.js?v={scalar}"></script>
    <script src="/docs/init.js?v={init}"></script>
  </body>
</html>
"#,
        scalar = SCALAR_JS.version,
        init = INIT.version,
    )
});

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
///
/// Scalar's API reference, served from this gateway (no third-party scripts).
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "An HTML page rendering the OpenAPI document", content_type = "text/html")),
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE.as_str())
}

/// The docs page's renderer (Scalar's standalone bundle)
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "JavaScript, cached for a year (the page links it with a content hash)", content_type = "text/javascript")),
)]
#[get("/docs/scalar.js")]
pub async fn docs_renderer() -> Result<HttpResponse, Error> {
    script(&SCALAR_JS)
}

/// The docs page's start-up script
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "JavaScript, cached for a year (the page links it with a content hash)", content_type = "text/javascript")),
)]
#[get("/docs/init.js")]
pub async fn docs_init() -> Result<HttpResponse, Error> {
    script(&INIT)
}

fn script(asset: &Asset) -> Result<HttpResponse, Error> {
    if asset.body.is_empty() {
        return Err(Error::internal("the embedded docs bundle is missing"));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .insert_header((header::ETAG, format!("\"{}\"", asset.version)))
        .body(asset.body.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_embedded_and_pinned() {
        let bundle = std::str::from_utf8(&SCALAR_JS.body).expect("utf-8 script");
        assert!(
            bundle.len() > 1_000_000,
            "the standalone bundle is embedded"
        );
        assert!(
            bundle.contains(&format!("@scalar/api-reference@{SCALAR_VERSION}")),
            "SCALAR_VERSION names the embedded bundle"
        );
        assert_eq!(SCALAR_JS.version.len(), 16);
        assert!(PAGE.contains(&format!("/docs/scalar.js?v={}", SCALAR_JS.version)));
        assert!(PAGE.contains(&format!("/docs/init.js?v={}", INIT.version)));
        assert!(
            !PAGE.contains("http"),
            "the page loads nothing from elsewhere"
        );
        assert!(
            !PAGE.contains("<script>"),
            "no inline script (CSP script-src 'self')"
        );
    }
}
