//! The web studio's built files (`services/studio/dist`), served at `/`.
//!
//! The files are read into memory once at start (a few hundred kilobytes): no path from a
//! request ever reaches the file system, so there is nothing to traverse. Vite names
//! everything under `assets/` by its content hash, so those answers are cached for a year;
//! `index.html` is revalidated every time so a deploy is picked up at the next load. Any
//! other `GET` outside `/api/` that asks for HTML gets `index.html` (the app routes in
//! the browser). Each text file is also kept gzip-compressed and sent so when the browser
//! accepts it.
//!
//! Every studio answer carries [`STUDIO_CSP`]: scripts, styles, fonts and requests from
//! this origin only, nothing inline, no framing, no plugins.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The studio's Content-Security-Policy. `img-src` and `media-src` allow `blob:` for
/// previews of files being uploaded; `data:` for small inlined icons. `form-action`
/// stays on this origin (Google sign-in is a link, not a form).
pub const STUDIO_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' blob: data:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Content-hashed files: their URL changes with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html` and unhashed files: always revalidated.
const REVALIDATE: &str = "no-cache";
/// Files larger than this are not loaded (a build never makes one; a stray file might).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// At most this many files are loaded.
const MAX_FILES: usize = 2_000;

struct File {
    body: actix_web::web::Bytes,
    gzip: Option<actix_web::web::Bytes>,
    content_type: String,
    cache_control: &'static str,
}

/// The loaded build; empty when the studio was not built (the API still works).
#[derive(Default)]
pub struct Studio {
    files: HashMap<String, File>,
}

impl Studio {
    /// Loads every file under `dir`. A missing directory is not an error: the gateway
    /// serves the API without a studio (and says so in the log).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if !dir.join("index.html").is_file() {
            tracing::info!(dir = %dir.display(), "no web studio build here; serving the API only (make studio)");
            return Ok(Self::default());
        }
        let mut files = HashMap::new();
        let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                let path = entry.path();
                if kind.is_dir() {
                    pending.push(path);
                    continue;
                }
                if !kind.is_file() || entry.metadata()?.len() > MAX_FILE_BYTES {
                    continue;
                }
                anyhow::ensure!(
                    files.len() < MAX_FILES,
                    "more than {MAX_FILES} files in {}",
                    dir.display()
                );
                let relative = path.strip_prefix(dir)?;
                let Some(url) = url_path(relative) else {
                    continue;
                };
                files.insert(url.clone(), File::read(&path, &url)?);
            }
        }
        tracing::info!(dir = %dir.display(), files = files.len(), "web studio loaded");
        Ok(Self { files })
    }

    pub fn is_loaded(&self) -> bool {
        !self.files.is_empty()
    }

    /// Whether this request is the studio's to answer: a `GET`/`HEAD` outside the API,
    /// the documents and the well-known paths, with a studio loaded.
    pub fn handles(&self, method: &Method, path: &str) -> bool {
        self.is_loaded()
            && (method == Method::GET || method == Method::HEAD)
            && !path.starts_with("/api/")
            && path != "/api"
            && !path.starts_with("/docs")
            && !path.starts_with("/.well-known/")
            && !matches!(path, "/healthz" | "/readyz" | "/livez" | "/metrics")
    }

    /// The answer for a request [`Self::handles`]: the file, `index.html` for an app
    /// route, or `None` (a missing asset: the caller answers 404).
    pub fn respond(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let requested = req.path();
        let (path, file) = match self.files.get(requested) {
            Some(file) => (requested, file),
            // A file-looking path (`/assets/index-1a2b.js`, `/robots.txt`) is a real 404;
            // anything else is a route of the app (`/assets/{id}` is the asset page).
            None if looks_like_file(requested) => return None,
            None => ("/index.html", self.files.get("/index.html")?),
        };
        let mut response = HttpResponse::build(StatusCode::OK);
        response
            .insert_header((header::CONTENT_TYPE, file.content_type.as_str()))
            .insert_header((header::CACHE_CONTROL, file.cache_control))
            .insert_header((header::CONTENT_SECURITY_POLICY, STUDIO_CSP))
            .insert_header((header::VARY, "Accept-Encoding"));
        if path == "/index.html" {
            // The app decides what the page shows; a referrer would leak asset ids.
            response.insert_header((header::REFERRER_POLICY, "no-referrer"));
        }
        let gzip = file.gzip.as_ref().filter(|_| accepts_gzip(req));
        let body = match gzip {
            Some(gzip) => {
                response
                    .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
                gzip.clone()
            }
            None => file.body.clone(),
        };
        if req.method() == Method::HEAD {
            response.insert_header((header::CONTENT_LENGTH, body.len()));
            return Some(response.finish());
        }
        Some(response.body(body))
    }
}

impl File {
    fn read(path: &Path, url: &str) -> anyhow::Result<Self> {
        let body = std::fs::read(path)?;
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let textual = mime.type_() == mime_guess::mime::TEXT
            || matches!(
                mime.subtype().as_str(),
                "javascript" | "json" | "svg" | "manifest+json"
            );
        let content_type = if textual && mime.get_param("charset").is_none() {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        };
        let gzip = if textual && body.len() > 512 {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(&body)?;
            Some(encoder.finish()?.into())
        } else {
            None
        };
        let cache_control = if url.starts_with("/assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        Ok(Self {
            body: body.into(),
            gzip,
            content_type,
            cache_control,
        })
    }
}

/// `assets/index-abc.js` → `/assets/index-abc.js`; `None` for names that are not plain
/// UTF-8 path segments.
fn url_path(relative: &Path) -> Option<String> {
    let mut url = String::new();
    for part in relative.components() {
        let std::path::Component::Normal(part) = part else {
            return None;
        };
        url.push('/');
        url.push_str(part.to_str()?);
    }
    Some(url)
}

/// A last segment with an extension (`/favicon.ico`, `/robots.txt`) names a file, not an
/// app route.
fn looks_like_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;

    fn build() -> (tempfile::TempDir, Studio) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<!doctype html><script type=module src=/assets/index-abc.js></script>",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("assets/index-abc.js"),
            "console.log('studio');".repeat(100),
        )
        .unwrap();
        std::fs::write(dir.path().join("favicon.svg"), "<svg/>").unwrap();
        let studio = Studio::load(dir.path()).unwrap();
        (dir, studio)
    }

    fn body(response: HttpResponse) -> Vec<u8> {
        response.into_body().try_into_bytes().unwrap().to_vec()
    }

    #[test]
    fn hashed_assets_are_immutable_and_index_is_revalidated() {
        let (_dir, studio) = build();
        let asset = studio
            .respond(
                &TestRequest::get()
                    .uri("/assets/index-abc.js")
                    .to_http_request(),
            )
            .unwrap();
        assert_eq!(
            asset.headers().get(header::CACHE_CONTROL).unwrap(),
            IMMUTABLE
        );
        assert_eq!(
            asset.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/javascript; charset=utf-8"
        );
        let index = studio
            .respond(&TestRequest::get().uri("/").to_http_request())
            .unwrap();
        assert_eq!(
            index.headers().get(header::CACHE_CONTROL).unwrap(),
            REVALIDATE
        );
        assert_eq!(
            index
                .headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .unwrap(),
            STUDIO_CSP
        );
    }

    #[test]
    fn app_routes_fall_back_to_index_but_missing_files_do_not() {
        let (_dir, studio) = build();
        let page = studio
            .respond(&TestRequest::get().uri("/campaigns/abc").to_http_request())
            .unwrap();
        assert!(
            String::from_utf8(body(page))
                .unwrap()
                .starts_with("<!doctype html>")
        );
        let asset_page = studio
            .respond(
                &TestRequest::get()
                    .uri("/assets/01a22a12-40c4-71fa")
                    .to_http_request(),
            )
            .unwrap();
        assert_eq!(
            asset_page.headers().get(header::CACHE_CONTROL).unwrap(),
            REVALIDATE
        );
        assert!(
            studio
                .respond(
                    &TestRequest::get()
                        .uri("/assets/gone-123.js")
                        .to_http_request()
                )
                .is_none()
        );
        assert!(
            studio
                .respond(&TestRequest::get().uri("/robots.txt").to_http_request())
                .is_none()
        );
    }

    #[test]
    fn gzip_only_when_accepted() {
        let (_dir, studio) = build();
        let plain = studio
            .respond(
                &TestRequest::get()
                    .uri("/assets/index-abc.js")
                    .to_http_request(),
            )
            .unwrap();
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let zipped = studio
            .respond(
                &TestRequest::get()
                    .uri("/assets/index-abc.js")
                    .insert_header((header::ACCEPT_ENCODING, "br, gzip"))
                    .to_http_request(),
            )
            .unwrap();
        assert_eq!(
            zipped.headers().get(header::CONTENT_ENCODING).unwrap(),
            "gzip"
        );
        assert!(body(zipped).len() < "console.log('studio');".len() * 100);
        let refused = studio
            .respond(
                &TestRequest::get()
                    .uri("/assets/index-abc.js")
                    .insert_header((header::ACCEPT_ENCODING, "gzip;q=0"))
                    .to_http_request(),
            )
            .unwrap();
        assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());
    }

    #[test]
    fn the_api_and_documents_are_never_the_studio() {
        let (_dir, studio) = build();
        assert!(studio.handles(&Method::GET, "/dashboard"));
        assert!(studio.handles(&Method::HEAD, "/"));
        assert!(!studio.handles(&Method::POST, "/dashboard"));
        for path in [
            "/api/v1/nope",
            "/api",
            "/docs",
            "/.well-known/jwks.json",
            "/readyz",
        ] {
            assert!(!studio.handles(&Method::GET, path), "{path}");
        }
        assert!(!Studio::default().handles(&Method::GET, "/"));
    }
}
