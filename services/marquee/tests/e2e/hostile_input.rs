//! Hostile input on every write route (every POST, PUT, PATCH and DELETE of the
//! gateway's route table, `POLICIES`): in each string field of the body and in each path
//! parameter, a NUL byte and a 100 kB string are refused with a 4xx (never a 5xx, never
//! stored), and odd but valid Unicode (a right-to-left override, a zero-width joiner, a
//! lone combining mark, emoji) is accepted (2xx) wherever the field is free text, up to
//! its limit counted in characters (the limit in 4-byte characters passes, one more is
//! refused). On the embedded SQLite default and on PostgreSQL, one fleet each.

use super::content::{BOUNDARY, processed, token_of, upload};
use super::{Options, PASSWORD, TestFleet, spawn_fleet};
use marquee_gateway::api::tagging::rules as tagging_rules;
use marquee_platform::input::fields::campaign as campaign_rules;
use marquee_platform::input::{Text, fields};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Right-to-left override, zero-width joiner (in a family emoji), a lone combining
/// mark, emoji, Arabic with its marks.
const ODD: &str = "\u{202e}gnp.exe \u{200d} 👩\u{200d}👩\u{200d}👧 \u{301} 😀 اَلْعَرَبِيَّة";
/// A character of four bytes in UTF-8.
const WIDE: char = '𝔸';

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_and_odd_unicode_kept_on_sqlite() {
    run(Options::default(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_and_odd_unicode_kept_on_postgres() {
    run(
        Options {
            postgres: true,
            ..Default::default()
        },
        "postgres",
    )
    .await;
}

/// Where a hostile value goes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    /// The `{id}` of the path.
    Path,
    /// The `{post_id}` of the path.
    PostPath,
    /// A string in the JSON body, by JSON pointer.
    Json(&'static str),
    /// The (only) key of the object at this JSON pointer.
    JsonKey(&'static str),
    /// A field of the form-encoded body.
    Form(&'static str),
    /// A text field of the multipart body.
    Part(&'static str),
    /// The file name of the multipart body's file.
    Filename,
    /// The raw body.
    Raw,
}

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Field {
    /// Free text under this rule: odd Unicode is accepted, and so is the limit in
    /// 4-byte characters; one more character is refused.
    Free(Text),
    /// An id, e-mail, enum, token…: odd Unicode may be refused, never a 5xx.
    Strict,
}

#[derive(Debug, Clone)]
pub(super) enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    Multipart {
        parts: Vec<(&'static str, String)>,
        filename: String,
        file: Vec<u8>,
    },
    Raw(Vec<u8>),
}

/// A valid request to a route, into which one hostile value is put at a time.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub(super) token: Option<String>,
    pub(super) id: Option<String>,
    /// The `{post_id}` of the path, for the routes of one post.
    pub(super) post_id: Option<String>,
    pub(super) body: Body,
}

/// A write route: method, pattern, its string fields, a fresh valid request.
pub(super) type Case<'a> = (
    &'static str,
    &'static str,
    Vec<(Slot, Field)>,
    Box<dyn Fn(usize) -> Request + 'a>,
);

pub(super) struct Ids {
    pub(super) admin: String,
    pub(super) creator: String,
    pub(super) other: String,
    pub(super) other_id: String,
    /// A user nobody else acts as, whom the admin disables and signs out.
    pub(super) bystander_id: String,
    /// The creator's ready (approved) image.
    pub(super) asset: String,
    /// The creator's image that the moderation routes decide on.
    pub(super) reviewed: String,
    /// The other user's comment on `asset`.
    pub(super) comment: String,
    pub(super) tenant: String,
    pub(super) client: String,
    /// A pending invitation into the admin's tenant.
    pub(super) invitation: String,
    /// The creator's campaign, with posts written.
    pub(super) campaign: String,
    /// One of its posts.
    pub(super) post: String,
    /// The (finished) job that wrote them.
    pub(super) job: String,
    /// A template saved from the campaign.
    pub(super) template: String,
    /// A webhook connector of the creator's.
    pub(super) connector: String,
}

/// Registration (token or browser flow): `email` is a template whose `{n}` makes it unique.
fn register_case(pattern: &'static str, email: String) -> Case<'static> {
    (
        "POST",
        pattern,
        vec![
            (Slot::Json("/email"), Field::Strict),
            (Slot::Json("/password"), Field::Free(fields::PASSWORD)),
            (
                Slot::Json("/display_name"),
                Field::Free(fields::DISPLAY_NAME),
            ),
            (Slot::Json("/tenant_id"), Field::Strict),
            (Slot::Json("/invitation"), Field::Strict),
        ],
        Box::new(move |n| Request {
            token: None,
            id: None,
            post_id: None,
            body: Body::Json(json!({
                "email": email.replace("{n}", &n.to_string()),
                "password": PASSWORD,
                "display_name": "Hostile",
                "tenant_id": "",
                "invitation": "",
            })),
        }),
    )
}

/// Sign-in (token or browser flow) as nobody.
fn login_case(pattern: &'static str) -> Case<'static> {
    (
        "POST",
        pattern,
        vec![
            (Slot::Json("/email"), Field::Strict),
            (Slot::Json("/password"), Field::Strict),
            (Slot::Json("/tenant_id"), Field::Strict),
        ],
        Box::new(move |_| Request {
            token: None,
            id: None,
            post_id: None,
            body: Body::Json(json!({
                "email": "nobody@hostile.test", "password": PASSWORD, "tenant_id": ""
            })),
        }),
    )
}

/// The write routes and, for each, a fresh valid request (`n` makes it unique) and its
/// string fields.
pub(super) fn cases<'a>(ids: &'a Ids, backend: &str) -> Vec<Case<'a>> {
    let user = |token: &str, id: Option<&str>, body: Body| Request {
        token: Some(token.to_string()),
        id: id.map(str::to_string),
        post_id: None,
        body,
    };
    let on_post = move |body: Body| Request {
        token: Some(ids.creator.clone()),
        id: Some(ids.campaign.clone()),
        post_id: Some(ids.post.clone()),
        body,
    };
    let anonymous = |body: Body| Request {
        token: None,
        id: None,
        post_id: None,
        body,
    };
    // Due tomorrow: always ahead, never too far.
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
    vec![
        register_case(
            "/api/v1/auth/register",
            format!("hostile-{{n}}@{backend}.test"),
        ),
        login_case("/api/v1/auth/login"),
        (
            "POST",
            "/api/v1/auth/refresh",
            vec![(Slot::Json("/refresh_token"), Field::Strict)],
            Box::new(move |_| anonymous(Body::Json(json!({"refresh_token": "mqr_unknown"})))),
        ),
        (
            "POST",
            "/api/v1/auth/logout",
            vec![(Slot::Json("/refresh_token"), Field::Strict)],
            Box::new(move |_| anonymous(Body::Json(json!({"refresh_token": "mqr_unknown"})))),
        ),
        // Mailed links: unknown tokens (a real one is single use), so the new password
        // is refused with the token; its rule is registration's, tested there.
        (
            "POST",
            "/api/v1/auth/email/verify",
            vec![(Slot::Json("/token"), Field::Strict)],
            Box::new(move |_| anonymous(Body::Json(json!({"token": "mqv_unknown"})))),
        ),
        (
            "POST",
            "/api/v1/auth/email/verification",
            vec![],
            Box::new(move |_| user(&ids.creator, None, Body::None)),
        ),
        (
            "POST",
            "/api/v1/auth/password/forgot",
            vec![
                (Slot::Json("/email"), Field::Strict),
                (Slot::Json("/tenant_id"), Field::Strict),
            ],
            Box::new(move |_| {
                anonymous(Body::Json(
                    json!({"email": "nobody@hostile.test", "tenant_id": ""}),
                ))
            }),
        ),
        (
            "POST",
            "/api/v1/auth/password/reset",
            vec![
                (Slot::Json("/token"), Field::Strict),
                (Slot::Json("/password"), Field::Strict),
            ],
            Box::new(move |_| {
                anonymous(Body::Json(
                    json!({"token": "mqp_unknown", "password": PASSWORD}),
                ))
            }),
        ),
        register_case(
            "/api/v1/auth/browser/register",
            format!("hostile-browser-{{n}}@{backend}.test"),
        ),
        login_case("/api/v1/auth/browser/login"),
        // Cookies, not bodies: nothing to fill, and no 5xx without them.
        (
            "POST",
            "/api/v1/auth/browser/refresh",
            vec![],
            Box::new(move |_| anonymous(Body::None)),
        ),
        (
            "POST",
            "/api/v1/auth/browser/logout",
            vec![],
            Box::new(move |_| anonymous(Body::None)),
        ),
        (
            "POST",
            "/api/v1/oauth/token",
            vec![
                (Slot::Form("grant_type"), Field::Strict),
                (Slot::Form("scope"), Field::Strict),
                (Slot::Form("client_id"), Field::Strict),
                (Slot::Form("client_secret"), Field::Strict),
            ],
            Box::new(move |_| {
                anonymous(Body::Form(vec![
                    ("grant_type", "client_credentials".into()),
                    ("scope", "assets:read".into()),
                    ("client_id", "mqc_unknown".into()),
                    ("client_secret", "mqs_wrong".into()),
                ]))
            }),
        ),
        (
            "POST",
            "/api/v1/admin/oauth-clients",
            vec![
                (Slot::Json("/name"), Field::Free(fields::CLIENT_NAME)),
                (Slot::Json("/scopes/0"), Field::Strict),
                (Slot::Json("/environment"), Field::Strict),
                (Slot::Json("/rate_tier"), Field::Strict),
                (Slot::Json("/tenant_id"), Field::Strict),
            ],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    None,
                    Body::Json(json!({
                        "name": "Hostile", "scopes": ["assets:read"], "environment": "live",
                        "rate_tier": "basic", "tenant_id": ""
                    })),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/admin/oauth-clients/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.client), Body::None)),
        ),
        (
            "POST",
            "/api/v1/admin/oauth-clients/{id}/rotate-secret",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.client), Body::None)),
        ),
        (
            "POST",
            "/api/v1/admin/users/{id}/disable",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.bystander_id), Body::None)),
        ),
        (
            "POST",
            "/api/v1/admin/users/{id}/enable",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.bystander_id), Body::None)),
        ),
        (
            "POST",
            "/api/v1/admin/users/{id}/revoke-sessions",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.bystander_id), Body::None)),
        ),
        (
            "POST",
            "/api/v1/admin/tenants",
            vec![
                (Slot::Json("/name"), Field::Free(fields::TENANT_NAME)),
                (Slot::Json("/slug"), Field::Strict),
            ],
            Box::new(move |n| {
                user(
                    &ids.admin,
                    None,
                    Body::Json(json!({"name": "Hostile", "slug": format!("hostile-{n}")})),
                )
            }),
        ),
        (
            "PUT",
            "/api/v1/admin/tenants/{id}/flags",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::JsonKey("/flags"), Field::Strict),
                (Slot::Json("/flags/theme"), Field::Free(fields::FLAG_VALUE)),
            ],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    Some(&ids.tenant),
                    Body::Json(json!({"flags": {"theme": "dark"}})),
                )
            }),
        ),
        // Tenant membership (revoking a revoked invitation is a 204 again).
        (
            "POST",
            "/api/v1/tenant/invitations",
            vec![
                (Slot::Json("/email"), Field::Strict),
                (Slot::Json("/role"), Field::Strict),
                (Slot::Json("/tenant_id"), Field::Strict),
            ],
            Box::new(move |n| {
                user(
                    &ids.admin,
                    None,
                    Body::Json(json!({
                        "email": format!("invitee-{n}@hostile.test"),
                        "role": "billing_admin",
                        "tenant_id": ""
                    })),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/tenant/invitations/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.invitation), Body::None)),
        ),
        (
            "POST",
            "/api/v1/admin/keys/rotate",
            vec![],
            Box::new(move |_| user(&ids.admin, None, Body::None)),
        ),
        (
            "POST",
            "/api/v1/assets",
            vec![
                (Slot::Part("title"), Field::Free(fields::TITLE)),
                (Slot::Part("description"), Field::Free(fields::DESCRIPTION)),
                (Slot::Part("tags"), Field::Free(fields::TAG)),
                (Slot::Filename, Field::Strict),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    None,
                    Body::Multipart {
                        parts: vec![
                            ("title", "Hostile".into()),
                            ("description", "A description".into()),
                            ("tags", "one".into()),
                        ],
                        filename: "hostile.txt".into(),
                        file: format!("hostile upload number {n}\n").into_bytes(),
                    },
                )
            }),
        ),
        (
            "PATCH",
            "/api/v1/assets/{id}",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/title"), Field::Free(fields::NEW_TITLE)),
                (Slot::Json("/description"), Field::Free(fields::DESCRIPTION)),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.asset),
                    Body::Json(json!({"title": "Harbour", "description": "At dusk"})),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/assets/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.asset), Body::None)),
        ),
        (
            "POST",
            "/api/v1/assets/{id}/retry",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.asset), Body::None)),
        ),
        (
            "POST",
            "/api/v1/assets/{id}/signed-url",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/variant"), Field::Strict),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.asset),
                    Body::Json(json!({"variant": "published"})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/moderation/assets/{id}/approve",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/reason"), Field::Free(fields::DECISION_REASON)),
            ],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    Some(&ids.reviewed),
                    Body::Json(json!({"reason": "Fine"})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/moderation/assets/{id}/reject",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/reason"), Field::Free(fields::REJECTION_REASON)),
            ],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    Some(&ids.reviewed),
                    Body::Json(json!({"reason": "Blurred"})),
                )
            }),
        ),
        (
            "PUT",
            "/api/v1/creators/me",
            vec![
                (
                    Slot::Json("/display_name"),
                    Field::Free(fields::PROFILE_NAME),
                ),
                (Slot::Json("/bio"), Field::Free(fields::BIO)),
                (Slot::Json("/avatar_asset_id"), Field::Strict),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    None,
                    Body::Json(json!({"display_name": "Ada", "bio": "Hi", "avatar_asset_id": ""})),
                )
            }),
        ),
        (
            "PUT",
            "/api/v1/assets/{id}/tags",
            vec![
                (Slot::Path, Field::Strict),
                (
                    Slot::Json("/tags/0/name"),
                    Field::Free(tagging_rules::TAG_NAME),
                ),
                (Slot::Json("/tags/0/source"), Field::Strict),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.asset),
                    Body::Json(json!({"tags": [{"name": "harbour", "source": "creator"}]})),
                )
            }),
        ),
        (
            "PUT",
            "/api/v1/admin/taxonomy",
            vec![
                (
                    Slot::Json("/labels/0/name"),
                    Field::Free(tagging_rules::LABEL_NAME),
                ),
                (
                    Slot::Json("/labels/0/description"),
                    Field::Free(tagging_rules::LABEL_DESCRIPTION),
                ),
            ],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    None,
                    Body::Json(
                        json!({"labels": [{"name": "cats", "description": "Pictures of cats"}]}),
                    ),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/creators/{id}/follow",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.other_id), Body::None)),
        ),
        (
            "DELETE",
            "/api/v1/creators/{id}/follow",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.other_id), Body::None)),
        ),
        (
            "POST",
            "/api/v1/assets/{id}/comments",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/body"), Field::Free(fields::COMMENT_BODY)),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    Some(&ids.asset),
                    Body::Json(json!({"body": format!("Comment {n}")})),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/comments/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.other, Some(&ids.comment), Body::None)),
        ),
        (
            "POST",
            "/api/v1/comments/{id}/report",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/reason"), Field::Free(fields::REPORT_REASON)),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.comment),
                    Body::Json(json!({"reason": "Spam"})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/moderation/comments/{id}/restore",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.comment), Body::None)),
        ),
        (
            "POST",
            "/api/v1/moderation/comments/{id}/remove",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.admin, Some(&ids.comment), Body::None)),
        ),
        (
            "POST",
            "/api/v1/billing/checkout",
            vec![
                (Slot::Json("/plan"), Field::Strict),
                (Slot::Json("/success_url"), Field::Free(fields::URL)),
                (Slot::Json("/cancel_url"), Field::Free(fields::URL)),
            ],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    None,
                    Body::Json(json!({
                        "plan": "pro",
                        "success_url": "https://example.com/ok",
                        "cancel_url": "https://example.com/cancel"
                    })),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/billing/portal",
            vec![(Slot::Json("/return_url"), Field::Strict)],
            Box::new(move |_| {
                user(
                    &ids.admin,
                    None,
                    Body::Json(json!({"return_url": "https://example.com/back"})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/webhooks/stripe",
            vec![(Slot::Raw, Field::Strict)],
            Box::new(move |_| anonymous(Body::Raw(br#"{"id": "evt_1", "type": "ping"}"#.to_vec()))),
        ),
        // The campaign studio.
        (
            "POST",
            "/api/v1/campaigns",
            vec![
                (Slot::Json("/name"), Field::Free(campaign_rules::NAME)),
                (
                    Slot::Json("/objective"),
                    Field::Free(campaign_rules::OBJECTIVE),
                ),
                (Slot::Json("/campaign_type"), Field::Strict),
                (
                    Slot::Json("/business_description"),
                    Field::Free(campaign_rules::BUSINESS_DESCRIPTION),
                ),
                (Slot::Json("/urls/0"), Field::Strict),
                (Slot::Json("/asset_ids/0"), Field::Strict),
                (
                    Slot::Json("/target_audience"),
                    Field::Free(campaign_rules::TARGET_AUDIENCE),
                ),
                (Slot::Json("/platforms/0"), Field::Strict),
                (Slot::Json("/time_zone"), Field::Strict),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    None,
                    Body::Json(json!({
                        "name": format!("Campaign {n}"),
                        "objective": "More subscribers",
                        "campaign_type": "product",
                        "business_description": "Acme Coffee roasts beans in Lyon.",
                        "urls": ["https://acme-coffee.example"],
                        "asset_ids": [ids.asset],
                        "target_audience": "Coffee lovers",
                        "platforms": ["mastodon"],
                        "time_zone": "Europe/Paris",
                    })),
                )
            }),
        ),
        (
            "PATCH",
            "/api/v1/campaigns/{id}",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/name"), Field::Free(campaign_rules::NAME)),
                (
                    Slot::Json("/objective"),
                    Field::Free(campaign_rules::OBJECTIVE),
                ),
                (
                    Slot::Json("/business_description"),
                    Field::Free(campaign_rules::BUSINESS_DESCRIPTION),
                ),
                (
                    Slot::Json("/target_audience"),
                    Field::Free(campaign_rules::TARGET_AUDIENCE),
                ),
                (Slot::Json("/urls/0"), Field::Strict),
                (Slot::Json("/platforms/0"), Field::Strict),
                (
                    Slot::Json("/themes/0/name"),
                    Field::Free(campaign_rules::THEME_NAME),
                ),
                (
                    Slot::Json("/themes/0/description"),
                    Field::Free(campaign_rules::THEME_DESCRIPTION),
                ),
                (Slot::Json("/tags/0/name"), Field::Strict),
                (
                    Slot::Json("/guidance"),
                    Field::Free(campaign_rules::GUIDANCE),
                ),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({
                        "name": "Hostile",
                        "objective": "More subscribers",
                        "business_description": "Acme Coffee roasts beans in Lyon.",
                        "target_audience": "Coffee lovers",
                        "urls": ["https://acme-coffee.example"],
                        "platforms": ["mastodon", "linkedin"],
                        "themes": [{"name": "Roasting", "description": "How a batch is roasted"}],
                        "tags": [{"name": "coffee"}],
                        "guidance": "Warm and concrete.",
                    })),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/campaigns/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.campaign), Body::None)),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/duplicate",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/name"), Field::Free(campaign_rules::NAME)),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({"name": format!("Copy {n}")})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/analysis",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.campaign), Body::None)),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/posts/generate",
            vec![(Slot::Path, Field::Strict)],
            // Appending keeps the post the other cases edit.
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({"append": true})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/posts/{post_id}/regenerate",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::PostPath, Field::Strict),
                (
                    Slot::Json("/instructions"),
                    Field::Free(campaign_rules::INSTRUCTIONS),
                ),
            ],
            Box::new(move |_| on_post(Body::Json(json!({"instructions": "Shorter"})))),
        ),
        (
            "PATCH",
            "/api/v1/campaigns/{id}/posts/{post_id}",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::PostPath, Field::Strict),
                // The platform's own limit, counted its way, is below the shared bound:
                // only refusals are certain.
                (Slot::Json("/content"), Field::Strict),
                (Slot::Json("/hashtags/0"), Field::Strict),
                (
                    Slot::Json("/media_prompt"),
                    Field::Free(campaign_rules::MEDIA_PROMPT),
                ),
                (Slot::Json("/asset_id"), Field::Strict),
                (Slot::Json("/kind"), Field::Strict),
            ],
            Box::new(move |_| {
                on_post(Body::Json(json!({
                    "content": "Fresh coffee, roasted in Lyon this morning. #coffee",
                    "hashtags": ["coffee"],
                    "selected": true,
                    "media_prompt": "A cup of coffee",
                    "asset_id": ids.asset,
                    "kind": "text_image",
                })))
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/posts/{post_id}/media",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::PostPath, Field::Strict),
                (Slot::Json("/media"), Field::Strict),
                (Slot::Json("/background_asset_id"), Field::Strict),
            ],
            Box::new(move |_| {
                on_post(Body::Json(
                    json!({"media": "image", "background_asset_id": ids.asset}),
                ))
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/chat",
            vec![
                (Slot::Path, Field::Strict),
                (
                    Slot::Json("/message"),
                    Field::Free(campaign_rules::CHAT_MESSAGE),
                ),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({"message": "Warmer, please"})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/schedule",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/times/0/post_id"), Field::Strict),
                (Slot::Json("/times/0/at"), Field::Strict),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({"times": [{"post_id": ids.post, "at": tomorrow}]})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/unschedule",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/post_ids/0"), Field::Strict),
            ],
            Box::new(move |_| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({"post_ids": [ids.post]})),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/campaigns/{id}/template",
            vec![
                (Slot::Path, Field::Strict),
                (
                    Slot::Json("/name"),
                    Field::Free(campaign_rules::TEMPLATE_NAME),
                ),
                (
                    Slot::Json("/description"),
                    Field::Free(campaign_rules::TEMPLATE_DESCRIPTION),
                ),
                (Slot::Json("/visibility"), Field::Strict),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    Some(&ids.campaign),
                    Body::Json(json!({
                        "name": format!("Template {n}"),
                        "description": "A launch",
                        "visibility": "private",
                    })),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/campaign-templates/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.template), Body::None)),
        ),
        (
            "POST",
            "/api/v1/campaign-templates/{id}/campaigns",
            vec![
                (Slot::Path, Field::Strict),
                (Slot::Json("/name"), Field::Free(campaign_rules::NAME)),
                (
                    Slot::Json("/business_description"),
                    Field::Free(campaign_rules::BUSINESS_DESCRIPTION),
                ),
                (Slot::Json("/urls/0"), Field::Strict),
                (Slot::Json("/asset_ids/0"), Field::Strict),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    Some(&ids.template),
                    Body::Json(json!({
                        "name": format!("From template {n}"),
                        "business_description": "Acme Coffee roasts beans in Lyon.",
                        "urls": ["https://acme-coffee.example"],
                        "asset_ids": [ids.asset],
                    })),
                )
            }),
        ),
        (
            "POST",
            "/api/v1/jobs/{id}/cancel",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.job), Body::None)),
        ),
        (
            "POST",
            "/api/v1/connectors",
            vec![
                (Slot::Json("/kind"), Field::Strict),
                (
                    Slot::Json("/name"),
                    Field::Free(campaign_rules::CONNECTOR_NAME),
                ),
                (Slot::Json("/platforms/0"), Field::Strict),
                (Slot::Json("/endpoint"), Field::Strict),
                (
                    Slot::Json("/account"),
                    Field::Free(campaign_rules::CONNECTOR_ACCOUNT),
                ),
                (
                    Slot::Json("/secret"),
                    Field::Free(campaign_rules::CONNECTOR_SECRET),
                ),
            ],
            Box::new(move |n| {
                user(
                    &ids.creator,
                    None,
                    Body::Json(json!({
                        "kind": "webhook",
                        "name": format!("Hook {n}"),
                        "platforms": ["mastodon"],
                        "endpoint": "https://hooks.example/in",
                        "account": "acme",
                        "secret": "a long signing secret",
                    })),
                )
            }),
        ),
        (
            "DELETE",
            "/api/v1/connectors/{id}",
            vec![(Slot::Path, Field::Strict)],
            Box::new(move |_| user(&ids.creator, Some(&ids.connector), Body::None)),
        ),
    ]
}

/// Percent-encodes everything but unreserved characters.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn multipart(parts: &[(&str, String)], filename: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in parts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Puts `value` into `slot` of `request`.
fn with(mut request: Request, slot: Slot, value: &str) -> Request {
    match (slot, &mut request.body) {
        (Slot::Path, _) => request.id = Some(value.to_string()),
        (Slot::PostPath, _) => request.post_id = Some(value.to_string()),
        (Slot::Json(pointer), Body::Json(json)) => {
            *json.pointer_mut(pointer).expect(pointer) = Value::String(value.to_string());
        }
        (Slot::JsonKey(pointer), Body::Json(json)) => {
            let object = json
                .pointer_mut(pointer)
                .and_then(Value::as_object_mut)
                .expect(pointer);
            let entry = object.values().next().cloned().expect("one entry");
            object.clear();
            object.insert(value.to_string(), entry);
        }
        (Slot::Form(name), Body::Form(pairs)) => {
            for (key, field) in pairs.iter_mut() {
                if *key == name {
                    *field = value.to_string();
                }
            }
        }
        (Slot::Part(name), Body::Multipart { parts, .. }) => {
            for (key, field) in parts.iter_mut() {
                if *key == name {
                    *field = value.to_string();
                }
            }
        }
        (Slot::Filename, Body::Multipart { filename, .. }) => *filename = value.to_string(),
        (Slot::Raw, Body::Raw(bytes)) => {
            // A Stripe event carrying the value.
            let mut event = br#"{"id": "evt_1", "type": ""#.to_vec();
            event.extend_from_slice(value.as_bytes());
            event.extend_from_slice(br#""}"#);
            *bytes = event;
        }
        (slot, body) => panic!("{slot:?} does not fit {body:?}"),
    }
    request
}

pub(super) async fn send(
    fleet: &TestFleet,
    method: &str,
    pattern: &str,
    request: &Request,
) -> StatusCode {
    let mut path = match &request.id {
        Some(id) => pattern.replace("{id}", &encode(id)),
        None => pattern.to_string(),
    };
    if let Some(post_id) = &request.post_id {
        path = path.replace("{post_id}", &encode(post_id));
    }
    let mut builder = fleet.http.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        fleet.at(&path),
    );
    if let Some(token) = &request.token {
        builder = builder.bearer_auth(token);
    }
    builder = match &request.body {
        Body::None => builder,
        Body::Json(json) => builder.json(json),
        Body::Form(pairs) => builder
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded(pairs)),
        Body::Multipart {
            parts,
            filename,
            file,
        } => builder
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(parts, filename, file)),
        Body::Raw(bytes) => builder
            .header("content-type", "application/json")
            .header("stripe-signature", "t=1,v1=00")
            .body(bytes.clone()),
    };
    let response = builder
        .send()
        .await
        .unwrap_or_else(|error| panic!("{method} {pattern}: {}", error.without_url()));
    response.status()
}

fn serde_urlencoded(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Sets the fleet up: an admin, a creator with a ready image and an image under review,
/// another user with a profile and a comment on the ready image, a tenant, a client.
pub(super) async fn setup(fleet: &TestFleet) -> Ids {
    let admin = fleet.admin_token().await;
    let creator = token_of(fleet, "creator@hostile.test").await;
    let other_session = fleet.register("other@hostile.test").await;
    let other = other_session["access_token"].as_str().unwrap().to_string();
    let other_id = other_session["user"]["id"].as_str().unwrap().to_string();
    let bystander = fleet.register("bystander@hostile.test").await;
    let bystander_id = bystander["user"]["id"].as_str().unwrap().to_string();

    let mut assets = Vec::new();
    for seed in [1, 2] {
        let picture = super::content::png(8, 8, seed);
        let response = upload(
            fleet,
            &creator,
            &[("title", "Setup")],
            ("setup.png", &picture),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let asset: Value = response.json().await.unwrap();
        let id = asset["id"].as_str().unwrap().to_string();
        processed(fleet, &creator, &id).await;
        assets.push(id);
    }
    let approved = fleet
        .post_with(
            &format!("/api/v1/moderation/assets/{}/approve", assets[0]),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    // Tagging learns of the asset from content's events: its tags are editable once it has.
    let tags = format!("/api/v1/assets/{}/tags", assets[0]);
    marquee_testkit::wait_until(
        Duration::from_secs(30),
        "tagging to know the asset",
        || async { fleet.get_with(&tags, &creator).await.status() == StatusCode::OK },
    )
    .await;

    let profile = fleet
        .http
        .put(fleet.at("/api/v1/creators/me"))
        .bearer_auth(&other)
        .json(&json!({"display_name": "Other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::OK);
    let comment = fleet
        .post_with(
            &format!("/api/v1/assets/{}/comments", assets[0]),
            &other,
            json!({"body": "First!"}),
        )
        .await;
    assert_eq!(comment.status(), StatusCode::CREATED);
    let comment: Value = comment.json().await.unwrap();

    let tenant = fleet
        .post_with(
            "/api/v1/admin/tenants",
            &admin,
            json!({"name": "Flags", "slug": "flags-tenant"}),
        )
        .await;
    assert_eq!(tenant.status(), StatusCode::CREATED);
    let tenant: Value = tenant.json().await.unwrap();
    let client = fleet
        .post_with(
            "/api/v1/admin/oauth-clients",
            &admin,
            json!({"name": "Partner", "scopes": ["assets:read"], "environment": "live"}),
        )
        .await;
    assert_eq!(client.status(), StatusCode::CREATED);
    let client: Value = client.json().await.unwrap();
    let invitation = fleet
        .post_with(
            "/api/v1/tenant/invitations",
            &admin,
            json!({"email": "invited@hostile.test", "role": "owner"}),
        )
        .await;
    assert_eq!(invitation.status(), StatusCode::CREATED);
    let invitation: Value = invitation.json().await.unwrap();

    // The campaign studio: a campaign whose posts the rules composer writes, a template
    // of it, a connector.
    let campaign = fleet
        .post_with(
            "/api/v1/campaigns",
            &creator,
            json!({
                "name": "Hostile",
                "business_description": "Acme Coffee roasts beans in Lyon.",
                "platforms": ["mastodon", "linkedin"],
                "post_count": 3,
            }),
        )
        .await;
    assert_eq!(campaign.status(), StatusCode::CREATED);
    let campaign: Value = campaign.json().await.unwrap();
    let campaign = campaign["id"].as_str().unwrap().to_string();
    let job = fleet
        .post_with(
            &format!("/api/v1/campaigns/{campaign}/posts/generate"),
            &creator,
            json!({}),
        )
        .await;
    assert_eq!(job.status(), StatusCode::ACCEPTED);
    let job: Value = job.json().await.unwrap();
    let job = job["id"].as_str().unwrap().to_string();
    let written = marquee_testkit::wait_for(
        Duration::from_secs(120),
        "the posts to be written",
        || async {
            let job: Value = fleet
                .get_with(&format!("/api/v1/jobs/{job}"), &creator)
                .await
                .json()
                .await
                .unwrap();
            match job["state"].as_str() {
                Some("succeeded" | "failed" | "cancelled") => Ok(job),
                _ => Err(job),
            }
        },
    )
    .await;
    assert_eq!(written["state"], "succeeded", "{written}");
    let posts: Value = fleet
        .get_with(&format!("/api/v1/campaigns/{campaign}"), &creator)
        .await
        .json()
        .await
        .unwrap();
    let post = posts["posts"][0]["id"].as_str().unwrap().to_string();
    let template = fleet
        .post_with(
            &format!("/api/v1/campaigns/{campaign}/template"),
            &creator,
            json!({"name": "Hostile template", "visibility": "private"}),
        )
        .await;
    assert_eq!(template.status(), StatusCode::CREATED);
    let template: Value = template.json().await.unwrap();
    let connector = fleet
        .post_with(
            "/api/v1/connectors",
            &creator,
            json!({
                "kind": "webhook",
                "name": "Hook",
                "endpoint": "https://hooks.example/in",
                "secret": "a long signing secret",
            }),
        )
        .await;
    assert_eq!(connector.status(), StatusCode::CREATED);
    let connector: Value = connector.json().await.unwrap();

    Ids {
        admin,
        creator,
        other,
        other_id,
        bystander_id,
        asset: assets[0].clone(),
        reviewed: assets[1].clone(),
        comment: comment["id"].as_str().unwrap().to_string(),
        tenant: tenant["id"].as_str().unwrap().to_string(),
        client: client["id"].as_str().unwrap().to_string(),
        invitation: invitation["id"].as_str().unwrap().to_string(),
        campaign,
        post,
        job,
        template: template["id"].as_str().unwrap().to_string(),
        connector: connector["id"].as_str().unwrap().to_string(),
    }
}

/// `options` with every budget and throttle off: only the checks under test refuse
/// anything.
pub(super) fn unthrottled(mut options: Options) -> Options {
    // No per-user comment or follow budget,
    // no duplicate-comment window.
    options.content = Box::new(|content| {
        content.comments_per_window = 0;
        content.follows_per_window = 0;
        content.duplicate_comment_window_secs = 0;
    });
    // …nor the anonymous budget per IP (every request comes from one address), nor the
    // user's (hundreds of requests from one account), nor auth's failed-login throttle.
    options.gateway = Box::new(|gateway| {
        gateway.rate_limit.anonymous_per_minute = 0;
        gateway.rate_limit.user_per_minute = 0;
    });
    options.auth = Box::new(|auth| {
        auth.throttle.ip_max_failures = 1_000_000;
        auth.throttle.account_max_failures = 1_000_000;
        auth.throttle.source_free_failures = 1_000_000;
    });
    // …nor the plan's AI budget (every accepted chat and rewrite spends some).
    options.billing = Box::new(|billing| {
        billing.plans.free.limits.ai_text_generations = Some(1_000_000);
        billing.plans.free.limits.image_generations = Some(1_000_000);
    });
    options
}

async fn run(options: Options, backend: &str) {
    let fleet = spawn_fleet(unthrottled(options)).await;
    let ids = setup(&fleet).await;
    let cases = cases(&ids, backend);

    // Every write route of the table has a case, and every case is a route.
    let mut routes: Vec<(&str, &str)> = marquee_gateway::policy::POLICIES
        .iter()
        .filter(|p| matches!(p.method, "POST" | "PUT" | "PATCH" | "DELETE"))
        .map(|p| (p.method, p.pattern))
        .collect();
    let mut covered: Vec<(&str, &str)> = cases.iter().map(|(m, p, _, _)| (*m, *p)).collect();
    routes.sort_unstable();
    covered.sort_unstable();
    assert_eq!(covered, routes, "a case for every write route");

    let nul = "bad\0value";
    let huge = "x".repeat(100_000);
    let mut n = 0;
    let mut sent = 0;
    let mut failures = Vec::new();
    for (method, pattern, slots, make) in &cases {
        if slots.is_empty() {
            // Nothing to fill: the route still answers without a 5xx.
            let status = send(&fleet, method, pattern, &make(0)).await;
            sent += 1;
            if status.is_server_error() {
                failures.push(format!("{method} {pattern}: {status}"));
            }
            continue;
        }
        for (slot, field) in slots {
            // A URI is at most 64 kB (and a request head far less): a path gets as
            // long as the client can send.
            let long = match slot {
                Slot::Path | Slot::PostPath => &huge[..60_000],
                _ => huge.as_str(),
            };
            let mut attempts: Vec<(String, &str, Option<bool>)> = vec![
                (nul.to_string(), "a NUL byte", Some(false)),
                (long.to_string(), "100 kB", Some(false)),
            ];
            match field {
                Field::Free(rule) => {
                    attempts.push((ODD.to_string(), "odd Unicode", Some(true)));
                    let longest: String = std::iter::repeat_n(WIDE, rule.max_chars).collect();
                    attempts.push((
                        format!("{longest}{WIDE}"),
                        "one 4-byte character too many",
                        Some(false),
                    ));
                    attempts.push((longest, "the limit in 4-byte characters", Some(true)));
                }
                Field::Strict => attempts.push((ODD.to_string(), "odd Unicode", None)),
            }
            for (value, what, accepted) in attempts {
                n += 1;
                let request = with(make(n), *slot, &value);
                let status = send(&fleet, method, pattern, &request).await;
                sent += 1;
                if std::env::var_os("HOSTILE_TRACE").is_some() {
                    eprintln!("{method} {pattern} {slot:?} {what}: {status}");
                }
                let ok = match accepted {
                    _ if status.is_server_error() => false,
                    Some(true) => status.is_success(),
                    Some(false) => status.is_client_error(),
                    None => true,
                };
                if !ok {
                    failures.push(format!("{method} {pattern} {slot:?} with {what}: {status}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{backend}: {} of {sent} requests answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    fleet.stop().await;
}
