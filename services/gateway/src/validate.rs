//! Strict input at the edge. Handlers check every text field with the rules shared
//! with the services ([`marquee_platform::input`]: no control characters, bounded
//! lengths, ids of a safe charset, normalised e-mails), so a refusal is a clear 400
//! problem naming the field (never echoing the value) before anything is forwarded;
//! the request-body schemas carry the same limits (`maxLength`, `pattern`, …) and a
//! test keeps them in step ([`tests`]).
//!
//! Two things are checked here for every route at once:
//! - path parameters (all of them ids): [`path_ids`], a middleware after the access
//!   policy, answers `400 invalid_id`; the OpenAPI document gives every path parameter
//!   the same pattern;
//! - JSON bodies are objects: [`JsonObject`] (and [`OptionalJsonObject`]) refuse an
//!   array, which serde would otherwise read into a struct field by field.

use crate::errors;
use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use marquee_platform::input::{self, Text};
use marquee_platform::{Error, ErrorKind};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::marker::PhantomData;

pub use marquee_platform::input::fields;

/// Checks a text field.
pub fn text(rule: &Text, value: &str) -> Result<(), Error> {
    Ok(rule.check(value)?)
}

/// Checks an optional text field (absent passes).
pub fn optional_text(rule: &Text, value: Option<&str>) -> Result<(), Error> {
    Ok(rule.check_optional(value)?)
}

/// Checks a text field under another name (a shared rule such as [`fields::URL`]).
pub fn named(field: &'static str, rule: &Text, value: Option<&str>) -> Result<(), Error> {
    let rule = Text { field, ..*rule };
    Ok(rule.check_optional(value)?)
}

/// The normalised e-mail address (trimmed, lower-cased) or `400 invalid_email`.
pub fn email(value: &str) -> Result<String, Error> {
    Ok(input::email(value)?)
}

/// Checks a tenant slug (`400 invalid_slug`).
pub fn slug(value: &str) -> Result<(), Error> {
    Ok(input::slug(value)?)
}

/// Checks an id in a body or query (`400 invalid_id`).
pub fn id(field: &str, value: &str) -> Result<(), Error> {
    Ok(input::id(field, value)?)
}

/// Checks an optional id; empty counts as absent.
pub fn optional_id(field: &str, value: Option<&str>) -> Result<(), Error> {
    Ok(input::optional_id(field, value)?)
}

/// Checks a paging cursor: the `next_cursor` of a previous page, a UUID
/// (`400 invalid_cursor`); empty counts as absent.
pub fn cursor(value: Option<&str>) -> Result<(), Error> {
    match value {
        Some(cursor) if !cursor.is_empty() && !input::is_uuid(cursor) => Err(Error::invalid(
            "invalid_cursor",
            "`cursor` must be the `next_cursor` of a previous page",
        )),
        _ => Ok(()),
    }
}

/// Every path parameter of the matched route is an id; anything else is refused with
/// `400 invalid_id` before the handler runs (after the access policy, so a caller
/// without a token still learns that first).
pub async fn path_ids(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(pattern) = req.match_pattern().filter(|p| p.contains('{')) {
        let mut path = req.match_info().clone();
        if ResourceDef::new(pattern.as_str()).capture_match_info(&mut path) {
            for (name, value) in path.iter() {
                if let Err(violation) = input::id(name, value) {
                    return Ok(req.error_response(Error::from(violation)));
                }
            }
        }
    }
    next.call(req).await
}

/// Reads a JSON object into `T` (serde would also read an array into a struct, field
/// by field).
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

/// A JSON body that must be an object: `web::Json` (same limits and problems) without
/// the positional reading of arrays.
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonObject<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Object<T>>::from_request(req, payload);
        Box::pin(async move { Ok(Self(body.await?.into_inner().0)) })
    }
}

/// An optional JSON object body: no body (or `null`) is `None`; anything else must be
/// a valid object (an unknown field, an array or a wrong content type is refused, not
/// silently ignored as `Option<web::Json<T>>` would).
pub struct OptionalJsonObject<T>(pub Option<T>);

impl<T> OptionalJsonObject<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJsonObject<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(None));
            }
            let json = content_type
                .as_deref()
                .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"));
            if !json {
                return Err(Error::new(
                    ErrorKind::UnsupportedMediaType,
                    "unsupported_media_type",
                    "the request body must be JSON (Content-Type: application/json)",
                )
                .into());
            }
            let parsed: Option<Object<T>> =
                serde_json::from_slice(&bytes).map_err(errors::json_body_error)?;
            Ok(Self(parsed.map(|object| object.0)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        title: Option<String>,
    }

    #[test]
    fn bodies_are_objects_not_arrays() {
        let object: Object<Body> = serde_json::from_str(r#"{"title": "a"}"#).unwrap();
        assert_eq!(object.0.title.as_deref(), Some("a"));
        for bad in ["[null]", "[\"a\"]", "\"a\"", "1", r#"{"other": 1}"#] {
            assert!(serde_json::from_str::<Object<Body>>(bad).is_err(), "{bad}");
        }
        let none: Option<Object<Body>> = serde_json::from_str("null").unwrap();
        assert!(none.is_none());
    }

    /// The request-body schemas publish exactly the rules the handlers enforce.
    #[test]
    fn the_document_states_the_rules() {
        use crate::api::tagging::rules as tagging;
        let document = serde_json::to_value(crate::openapi::document()).unwrap();
        let schemas = &document["components"]["schemas"];
        for (schema, property, rule) in [
            ("RegisterBody", "password", fields::PASSWORD),
            ("RegisterBody", "display_name", fields::DISPLAY_NAME),
            ("LoginBody", "password", fields::LOGIN_PASSWORD),
            ("CreateOAuthClientBody", "name", fields::CLIENT_NAME),
            ("CreateTenantBody", "name", fields::TENANT_NAME),
            ("TokenForm", "client_secret", fields::CLIENT_SECRET),
            ("UploadForm", "title", fields::TITLE),
            ("UploadForm", "description", fields::DESCRIPTION),
            ("UpdateAssetBody", "title", fields::NEW_TITLE),
            ("UpdateAssetBody", "description", fields::DESCRIPTION),
            ("DecisionBody", "reason", fields::DECISION_REASON),
            ("RejectionBody", "reason", fields::REJECTION_REASON),
            ("UpdateProfileBody", "display_name", fields::PROFILE_NAME),
            ("UpdateProfileBody", "bio", fields::BIO),
            ("NewCommentBody", "body", fields::COMMENT_BODY),
            ("ReportBody", "reason", fields::REPORT_REASON),
            ("CheckoutBody", "success_url", fields::URL),
            ("CheckoutBody", "cancel_url", fields::URL),
            ("PortalBody", "return_url", fields::URL),
            ("NewTagBody", "name", tagging::TAG_NAME),
            ("NewTaxonomyLabelBody", "name", tagging::LABEL_NAME),
            (
                "NewTaxonomyLabelBody",
                "description",
                tagging::LABEL_DESCRIPTION,
            ),
        ] {
            let documented = &schemas[schema]["properties"][property];
            let at = format!("{schema}.{property}");
            assert_eq!(documented["maxLength"], rule.max_chars, "{at}");
            let min = documented["minLength"].as_u64().unwrap_or(0);
            assert_eq!(min, rule.min_chars as u64, "{at}");
            assert_eq!(documented["pattern"], rule.pattern(), "{at}");
        }
        let property =
            |schema: &str, property: &str| schemas[schema]["properties"][property].clone();
        assert_eq!(
            property("RegisterBody", "email")["maxLength"],
            input::MAX_EMAIL_CHARS
        );
        assert_eq!(property("RegisterBody", "email")["format"], "email");
        let slug = property("CreateTenantBody", "slug");
        assert_eq!(slug["pattern"], fields::SLUG_PATTERN);
        assert_eq!(slug["minLength"], fields::MIN_SLUG_CHARS);
        assert_eq!(slug["maxLength"], fields::MAX_SLUG_CHARS);
        assert_eq!(
            property("RefreshTokenBody", "refresh_token")["pattern"],
            fields::TOKEN_PATTERN
        );
        let optional_id = input::ID_PATTERN.replace("{1,", "{0,");
        for (schema, property_name) in [
            ("RegisterBody", "tenant_id"),
            ("LoginBody", "tenant_id"),
            ("CreateOAuthClientBody", "tenant_id"),
            ("UpdateProfileBody", "avatar_asset_id"),
            ("TokenForm", "client_id"),
        ] {
            assert_eq!(
                property(schema, property_name)["pattern"],
                optional_id.as_str(),
                "{schema}.{property_name}"
            );
        }
        let tags = property("UploadForm", "tags");
        let tag = fields::TAG
            .pattern()
            .trim_start_matches("^[^")
            .trim_end_matches("]*$");
        assert_eq!(
            tags["pattern"],
            format!(
                "^[^,{tag}]{{0,{max}}}(,[^,{tag}]{{0,{max}}}){{0,{more}}}$",
                max = fields::TAG.max_chars,
                more = fields::MAX_TAGS - 1
            )
        );
        assert_eq!(
            tags["maxLength"],
            fields::MAX_TAGS * (fields::TAG.max_chars + 1) - 1
        );
        let scope = property("TokenForm", "scope");
        let names = marquee_platform::Scope::ALL.map(|s| s.as_str()).join("|");
        assert_eq!(scope["pattern"], format!("^(({names})( ({names}))*)?$"));
        assert_eq!(scope["maxLength"], fields::SCOPE.max_chars);

        // Every path parameter, of every operation, is an id.
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for operation in item.as_object().unwrap().values() {
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    if parameter["in"] == "path" {
                        assert_eq!(parameter["schema"]["pattern"], input::ID_PATTERN, "{path}");
                        assert_eq!(parameter["schema"]["maxLength"], input::MAX_ID_CHARS);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 20, "{checked} path parameters");
    }

    #[test]
    fn cursors_are_uuids() {
        assert!(cursor(None).is_ok());
        assert!(cursor(Some("")).is_ok());
        assert!(cursor(Some("0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f")).is_ok());
        for bad in ["abc", "0192f5e86a1b7c3d9e4f0a1b2c3d4e5f", "\0"] {
            assert_eq!(cursor(Some(bad)).unwrap_err().code, "invalid_cursor");
        }
    }
}
