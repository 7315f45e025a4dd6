//! The OpenAPI 3.1 document, generated from the code: paths and schemas are collected
//! from the handlers' `#[utoipa::path]` annotations as they are registered
//! (`api::configure`), then security requirements and the standard problem responses
//! are filled in from the route policy table, so the document cannot drift from what
//! the gateway enforces.

use crate::policy::{self, Access, Rate};
use actix_web::App;
use marquee_platform::Problem;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::ToSchema;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, Schema};
use utoipa_actix_web::AppExt;

pub const BEARER: &str = "bearer";
pub const OAUTH2: &str = "oauth2";
pub const CLIENT_BASIC: &str = "client_basic";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Marquee API",
        description = "The REST API of Marquee, a creator marketplace with an AI marketing-campaign studio.\n\n\
Every error is an RFC 9457 `application/problem+json` document with a stable `code` and the \
`request_id` (also echoed in the `X-Request-Id` header of every response). Rate-limited routes \
answer with `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` headers, and with \
`429` plus `Retry-After` once the budget is spent.\n\n\
Users authenticate with the access token from `/api/v1/auth/login`; partner integrations with \
a client-credentials token from `/api/v1/oauth/token`. Both are sent as `Authorization: Bearer`.",
        license(name = "Apache-2.0"),
    ),
    paths(healthz, readyz),
    components(schemas(Problem, Health)),
    tags(
        (name = "auth", description = "Accounts, sessions and signing keys"),
        (name = "oauth", description = "OAuth2 client-credentials grant for partner integrations"),
        (name = "admin", description = "Administration (admin role)"),
        (name = "tenant", description = "The caller's tenant"),
        (name = "assets", description = "Creators' assets: upload, read, download, edit (scopes assets:read / assets:write)"),
        (name = "moderation", description = "Reviewing assets and reported comments (moderator role)"),
        (name = "creators", description = "Creator profiles and follows (scopes assets:read / assets:write)"),
        (name = "comments", description = "Comments on assets, reports (scopes assets:read / assets:write)"),
        (name = "tagging", description = "Asset tags, semantic search, similar assets, recommendations and the tenant's taxonomy (scopes assets:read / assets:write; replacing the taxonomy needs the admin role)"),
        (name = "campaigns", description = "The campaign studio: a business brief becomes an analysed, themed, written, illustrated, scheduled and published social-media campaign; the guidance chat; exports (scopes campaigns:read / campaigns:write; creating needs the creator role)"),
        (name = "campaign-posts", description = "A campaign's posts: writing and rewriting them (jobs), edits, pictures and videos (jobs), the calendar and the delivery log"),
        (name = "jobs", description = "The campaign studio's long operations: read, cancel, or follow one as Server-Sent Events"),
        (name = "campaign-templates", description = "Campaigns saved to start others from, private or in the tenant's catalogue"),
        (name = "connectors", description = "Where scheduled posts are published: signed webhooks, Bluesky and Mastodon accounts (secrets go in, never out)"),
        (name = "billing", description = "Plans, subscription, usage against limits, checkout and invoices"),
        (name = "webhooks", description = "Inbound provider webhooks (signature-authenticated)"),
        (name = "meta", description = "Health and this document (metrics are on the admin port only)"),
    ),
)]
struct BaseDocument;

/// A probe's answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses((status = 200, description = "The process is alive", body = Health)),
)]
#[allow(dead_code)]
fn healthz() {}

/// Readiness
///
/// Ready once the signing keys have been fetched from auth.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready yet", body = Health),
    ),
)]
#[allow(dead_code)]
fn readyz() {}

/// The complete document.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(BaseDocument::openapi())
        .configure(crate::api::configure)
        .split_for_parts();
    document.info.version = env!("CARGO_PKG_VERSION").to_string();
    add_components(&mut document);
    for (path, item) in &mut document.paths.paths {
        for (method, operation) in operations_mut(item) {
            if let Some(policy) = policy::find(method, path) {
                apply_policy(operation, policy, path.contains('{'));
            }
            constrain_path_ids(operation);
        }
    }
    document
}

/// Every path parameter is an id, refused with `400 invalid_id` otherwise
/// ([`crate::validate::path_ids`]): the document says so once, for all of them.
fn constrain_path_ids(operation: &mut Operation) {
    use marquee_platform::input::{ID_PATTERN, MAX_ID_CHARS};
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && parameter.parameter_in == ParameterIn::Path
        {
            parameter.schema = Some(RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX_ID_CHARS))
                    .pattern(Some(ID_PATTERN))
                    .build(),
            )));
        }
    }
}

/// `(METHOD, path)` of every operation in `document`.
pub fn operations(document: &utoipa::openapi::OpenApi) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    for (path, item) in &document.paths.paths {
        let mut item = item.clone();
        for (method, _) in operations_mut(&mut item) {
            found.push((method, path.clone()));
        }
    }
    found
}

fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("HEAD", item.head.as_mut()),
        ("OPTIONS", item.options.as_mut()),
        ("TRACE", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

/// The standard problem responses, by status, with the name they have in components.
const PROBLEMS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Malformed JSON (`malformed_json`), missing or wrong fields, a body that is not an object, query parameters (`invalid_request`), a path parameter that is not an id (`invalid_id`), control characters or over-length text (`invalid_input` or the field's own code), or other invalid values (a specific code)",
    ),
    (
        "401",
        "Unauthorized",
        "No, malformed, forged or expired access token (`token_missing`, `token_invalid`, `token_expired`); carries `WWW-Authenticate: Bearer`",
    ),
    (
        "403",
        "Forbidden",
        "The caller lacks the role (`forbidden`) or a scope (`insufficient_scope`)",
    ),
    (
        "404",
        "NotFound",
        "No such resource (`not_found`) or route (`route_not_found`)",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than the limit (`payload_too_large`)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not JSON (`unsupported_media_type`)",
    ),
    (
        "429",
        "TooManyRequests",
        "The caller's rate limit is spent (`rate_limited`); see `Retry-After`",
    ),
    (
        "500",
        "InternalError",
        "Our fault (`internal`); the detail is logged, not sent",
    ),
    (
        "503",
        "Unavailable",
        "A backing service is unavailable (`unavailable`); try again shortly",
    ),
];

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            marquee_platform::error::PROBLEM_CONTENT_TYPE,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

fn add_components(document: &mut utoipa::openapi::OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    // What a derive cannot state (one field or another), stated for the campaign bodies.
    crate::api::campaigns::refine_schemas(components);
    // The catalogue is the platform's `Scope`, whose doc comment speaks of tokens; the
    // API describes it as it always has.
    if let Some(RefOr::T(Schema::Object(scope))) = components.schemas.get_mut("Scope") {
        scope.description = Some("The scope catalogue.".to_string());
    }
    for (_, name, description) in PROBLEMS {
        components
            .responses
            .insert((*name).to_string(), RefOr::T(problem_response(description)));
    }
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some(
            "An access token (EdDSA JWT) from login, refresh or the token endpoint",
        ))
        .build();
    components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
    let scopes = Scopes::from_iter(
        marquee_platform::Scope::ALL.map(|scope| (scope.as_str(), scope.description())),
    );
    components.add_security_scheme(
        OAUTH2,
        SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
            ClientCredentials::new("/api/v1/oauth/token", scopes),
        )])),
    );
    components.add_security_scheme(
        CLIENT_BASIC,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("Partner client id and secret (client_secret_basic)"))
                .build(),
        ),
    );
}

fn apply_policy(operation: &mut Operation, policy: &policy::RoutePolicy, has_path_params: bool) {
    let mut add = |status: &str| {
        if let Some((_, name, _)) = PROBLEMS.iter().find(|(code, _, _)| *code == status) {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
        }
    };
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| match body {
            RefOr::T(body) => body.content.contains_key("application/json"),
            RefOr::Ref(_) => true,
        });
    let has_query = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if operation.request_body.is_some() || has_query || has_path_params {
        add("400");
    }
    if json_body {
        add("413");
        add("415");
    }
    if has_path_params {
        add("404");
    }
    if let Access::Token { kind, scopes, .. } = policy.access {
        add("401");
        add("403");
        let mut security = vec![SecurityRequirement::new(BEARER, Vec::<String>::new())];
        if kind != Some(marquee_platform::PrincipalKind::User) {
            security.push(SecurityRequirement::new(
                OAUTH2,
                scopes.iter().map(|scope| scope.as_str()),
            ));
        }
        operation.security = Some(security);
    }
    if policy.rate == Rate::Caller {
        add("429");
        add("503");
    }
    add("500");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The web studio's TypeScript client is generated from a committed copy of this
    /// document; a route change must regenerate it (`make studio-client`).
    #[test]
    fn the_studio_client_is_generated_from_this_document() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../studio/openapi.json");
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
        assert!(
            committed == serde_json::to_value(document()).unwrap(),
            "services/studio/openapi.json is stale: run `make studio-client` and commit both it and src/api/schema.d.ts"
        );
    }

    #[test]
    fn document_is_openapi_3_1_with_security_and_problems() {
        let json = serde_json::to_value(document()).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        let schemes = &json["components"]["securitySchemes"];
        assert_eq!(schemes[BEARER]["scheme"], "bearer");
        assert_eq!(schemes[BEARER]["bearerFormat"], "JWT");
        let flow = &schemes[OAUTH2]["flows"]["clientCredentials"];
        assert_eq!(flow["tokenUrl"], "/api/v1/oauth/token");
        assert!(flow["scopes"]["tenant:read"].is_string());
        assert_eq!(flow["scopes"].as_object().unwrap().len(), 6);
        let scope = &json["components"]["schemas"]["Scope"];
        assert_eq!(scope["description"], "The scope catalogue.");
        assert_eq!(scope["enum"].as_array().unwrap().len(), 6);

        let me = &json["paths"]["/api/v1/auth/me"]["get"];
        assert_eq!(
            me["responses"]["401"]["$ref"],
            "#/components/responses/Unauthorized"
        );
        assert_eq!(me["security"], serde_json::json!([{"bearer": []}]));
        let flags = &json["paths"]["/api/v1/tenant/flags"]["get"];
        assert_eq!(
            flags["security"],
            serde_json::json!([{"bearer": []}, {"oauth2": ["tenant:read"]}])
        );
        let register = &json["paths"]["/api/v1/auth/register"]["post"];
        for status in ["201", "400", "409", "413", "415", "429", "500"] {
            assert!(
                register["responses"][status].is_object(),
                "register {status}"
            );
        }
        assert!(register.get("security").is_none());
        let token = &json["paths"]["/api/v1/oauth/token"]["post"];
        assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
        assert!(
            token["responses"]["415"].is_null(),
            "form endpoint has no JSON 415"
        );
        let revoke = &json["paths"]["/api/v1/admin/oauth-clients/{id}"]["delete"];
        assert_eq!(revoke["parameters"][0]["name"], "id");
        // Rotating answers the created client's shape, with the admin's problems.
        let rotate = &json["paths"]["/api/v1/admin/oauth-clients/{id}/rotate-secret"]["post"];
        assert_eq!(
            rotate["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/CreatedOAuthClientBody"
        );
        for status in ["400", "401", "403", "404", "409"] {
            assert!(rotate["responses"][status].is_object(), "rotate {status}");
        }
        let problem = &json["components"]["schemas"]["Problem"];
        assert!(problem["properties"]["request_id"].is_object());
        let audit = &json["paths"]["/api/v1/admin/audit"]["get"];
        let names: Vec<&str> = audit["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "action", "actor_id", "outcome", "since", "until", "limit", "cursor"
            ]
        );
    }

    /// The REST shape: creates answer 201 + `Location` + the resource as its read
    /// returns it; lists answer `{items, next_cursor}`; a duplicate upload is a 409
    /// problem naming the existing asset.
    #[test]
    fn creates_and_lists_have_one_shape() {
        let json = serde_json::to_value(document()).unwrap();
        let paths = &json["paths"];
        let schemas = &json["components"]["schemas"];
        let schema_of = |response: &serde_json::Value, media: &str| {
            let reference = response["content"][media]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("no schema reference in {response}"));
            reference
                .strip_prefix("#/components/schemas/")
                .unwrap()
                .to_string()
        };
        // (create, its read): the 201 is the read's schema (plus credentials for a
        // partner client) and names the resource in `Location`.
        for (create, read, schema) in [
            ("/api/v1/assets", "/api/v1/assets/{id}", "AssetBody"),
            (
                "/api/v1/assets/{id}/comments",
                "/api/v1/comments/{id}",
                "CommentBody",
            ),
            (
                "/api/v1/admin/tenants",
                "/api/v1/admin/tenants/{id}",
                "TenantBody",
            ),
            (
                "/api/v1/admin/oauth-clients",
                "/api/v1/admin/oauth-clients/{id}",
                "OAuthClientBody",
            ),
            (
                "/api/v1/campaigns",
                "/api/v1/campaigns/{id}",
                "CampaignBody",
            ),
            (
                "/api/v1/campaigns/{id}/duplicate",
                "/api/v1/campaigns/{id}",
                "CampaignBody",
            ),
            (
                "/api/v1/campaign-templates/{id}/campaigns",
                "/api/v1/campaigns/{id}",
                "CampaignBody",
            ),
        ] {
            let created = &paths[create]["post"]["responses"]["201"];
            assert!(
                created["headers"]["Location"]["schema"].is_object(),
                "{create}: Location"
            );
            assert_eq!(
                schema_of(&paths[read]["get"]["responses"]["200"], "application/json"),
                schema,
                "{read}"
            );
            let answered = schema_of(created, "application/json");
            if answered != schema {
                assert_eq!(
                    schemas[&answered]["allOf"][0]["$ref"],
                    format!("#/components/schemas/{schema}"),
                    "{create} answers {answered}, not the resource"
                );
            }
        }
        let client = &schemas["CreatedOAuthClientBody"]["allOf"][1];
        assert_eq!(
            client["required"],
            serde_json::json!(["client_id", "client_secret"])
        );
        // Every list is a page.
        for (list, item) in [
            ("/api/v1/assets", "AssetBody"),
            ("/api/v1/moderation/assets", "AssetBody"),
            ("/api/v1/assets/{id}/comments", "CommentBody"),
            ("/api/v1/moderation/comments", "CommentBody"),
            ("/api/v1/creators/{id}/followers", "FollowEntryBody"),
            ("/api/v1/creators/{id}/following", "FollowEntryBody"),
            ("/api/v1/admin/tenants", "TenantBody"),
            ("/api/v1/admin/oauth-clients", "OAuthClientBody"),
            ("/api/v1/admin/audit", "AuditEntryBody"),
            ("/api/v1/billing/plans", "PlanBody"),
            ("/api/v1/billing/invoices", "InvoiceBody"),
            ("/api/v1/search", "SearchHitBody"),
            ("/api/v1/assets/{id}/similar", "SearchHitBody"),
            ("/api/v1/recommendations", "SearchHitBody"),
            ("/api/v1/campaigns", "CampaignSummaryBody"),
            ("/api/v1/campaigns/{id}/deliveries", "DeliveryBody"),
            ("/api/v1/campaign-templates", "TemplateBody"),
            ("/api/v1/connectors", "ConnectorBody"),
        ] {
            let page =
                &schemas[schema_of(&paths[list]["get"]["responses"]["200"], "application/json")];
            assert_eq!(
                page["required"],
                serde_json::json!(["items", "next_cursor"]),
                "{list}"
            );
            assert_eq!(page["properties"].as_object().unwrap().len(), 2, "{list}");
            assert_eq!(
                page["properties"]["items"]["items"]["$ref"],
                format!("#/components/schemas/{item}"),
                "{list}"
            );
            assert_eq!(
                page["properties"]["next_cursor"]["type"],
                serde_json::json!(["string", "null"]),
                "{list}"
            );
        }
        // A duplicate upload.
        let upload = &paths["/api/v1/assets"]["post"]["responses"];
        assert!(upload["200"].is_null(), "no 200 for a duplicate any more");
        let duplicate = &upload["409"];
        assert!(duplicate["headers"]["Location"].is_object());
        let problem = &schemas[schema_of(duplicate, marquee_platform::error::PROBLEM_CONTENT_TYPE)];
        assert_eq!(problem["allOf"][0]["$ref"], "#/components/schemas/Problem");
        assert_eq!(
            problem["allOf"][1]["required"],
            serde_json::json!(["asset_id"])
        );
    }

    #[test]
    fn every_referenced_schema_exists() {
        let json = serde_json::to_string(&document()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let schemas = value["components"]["schemas"].as_object().unwrap();
        let responses = value["components"]["responses"].as_object().unwrap();
        for reference in json.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            if let Some(name) = target.strip_prefix("#/components/schemas/") {
                assert!(schemas.contains_key(name), "missing schema {name}");
            } else if let Some(name) = target.strip_prefix("#/components/responses/") {
                assert!(responses.contains_key(name), "missing response {name}");
            } else {
                panic!("unexpected reference {target}");
            }
        }
    }
}
