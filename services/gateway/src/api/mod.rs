//! REST adapters, one module per resource. Handlers extract, call a service, render;
//! they never check permissions (see `policy`) nor choose error statuses (errors come
//! back from the services as the platform error and render as problem+json).

pub mod admin;
pub mod assets;
pub mod auth;
pub mod billing;
pub mod browser;
pub mod campaigns;
pub mod comments;
pub mod creators;
pub mod docs;
pub mod invitations;
pub mod jwks;
pub mod keys;
pub mod moderation;
pub mod oauth;
pub mod tagging;
pub mod tenant;
pub mod webhooks;

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{DateTime, Utc};
use marquee_platform::Error;
use marquee_proto::Timestamp;
use marquee_proto::convert;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every documented route (the OpenAPI document is collected from these).
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(auth::register)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::verify_email)
        .service(auth::resend_verification)
        .service(auth::forgot_password)
        .service(auth::reset_password)
        .service(browser::register)
        .service(browser::login)
        .service(browser::refresh)
        .service(browser::logout)
        .service(browser::providers)
        .service(browser::google_start)
        .service(browser::google_callback)
        .service(oauth::token)
        .service(jwks::jwks)
        .service(admin::create_oauth_client)
        .service(admin::list_oauth_clients)
        .service(admin::get_oauth_client)
        .service(admin::revoke_oauth_client)
        .service(admin::rotate_oauth_client_secret)
        .service(admin::list_tenants)
        .service(admin::create_tenant)
        .service(admin::get_tenant)
        .service(admin::get_tenant_flags)
        .service(admin::set_tenant_flags)
        .service(admin::list_audit)
        .service(admin::disable_user)
        .service(admin::enable_user)
        .service(admin::revoke_user_sessions)
        .service(keys::rotate_signing_key)
        .service(tenant::own_flags)
        .service(invitations::create_invitation)
        .service(invitations::list_invitations)
        .service(invitations::revoke_invitation)
        .service(assets::upload)
        .service(assets::list_assets)
        .service(assets::get_asset)
        .service(assets::update_asset)
        .service(assets::delete_asset)
        .service(assets::retry_processing)
        .service(assets::download)
        .service(assets::download_signed)
        .service(assets::create_signed_url)
        .service(moderation::queue)
        .service(moderation::approve)
        .service(moderation::reject)
        // `me` before `{id}`, so /creators/me resolves to its own routes.
        .service(creators::get_me)
        .service(creators::update_me)
        .service(creators::get_creator)
        .service(creators::follow)
        .service(creators::unfollow)
        .service(creators::followers)
        .service(creators::following)
        .service(comments::create)
        .service(comments::list)
        .service(comments::get)
        .service(comments::remove)
        .service(comments::report)
        .service(comments::reported)
        .service(comments::restore)
        .service(comments::remove_reported)
        .service(tagging::get_tags)
        .service(tagging::set_tags)
        .service(tagging::similar)
        .service(tagging::search_assets)
        .service(tagging::recommendations)
        .service(tagging::get_taxonomy)
        .service(tagging::set_taxonomy)
        .service(campaigns::create_campaign)
        .service(campaigns::list_campaigns)
        .service(campaigns::get_campaign)
        .service(campaigns::update_campaign)
        .service(campaigns::delete_campaign)
        .service(campaigns::duplicate_campaign)
        .service(campaigns::start_analysis)
        // `posts/generate` before `posts/{post_id}`, so it resolves to its own route.
        .service(campaigns::generate_posts)
        .service(campaigns::regenerate_post)
        .service(campaigns::update_post)
        .service(campaigns::generate_media)
        .service(campaigns::chat_guidance)
        .service(campaigns::schedule_posts)
        .service(campaigns::unschedule_posts)
        .service(campaigns::list_deliveries)
        .service(campaigns::export_campaign)
        .service(campaigns::save_template)
        .service(campaigns::list_templates)
        .service(campaigns::delete_template)
        .service(campaigns::create_from_template)
        .service(campaigns::get_job)
        .service(campaigns::cancel_job)
        .service(campaigns::job_events)
        .service(campaigns::create_connector)
        .service(campaigns::list_connectors)
        .service(campaigns::delete_connector)
        .service(billing::plans)
        .service(billing::subscription)
        .service(billing::usage)
        .service(billing::invoices)
        .service(billing::checkout)
        .service(billing::portal)
        .service(webhooks::stripe)
        .service(docs::openapi_json)
        .service(docs::docs)
        .service(docs::docs_renderer)
        .service(docs::docs_init);
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    #[schema(example = "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f")]
    pub id: String,
    pub tenant_id: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Ada")]
    pub display_name: String,
    /// Any of `creator`, `moderator`, `admin`, `owner`, `billing_admin`.
    #[schema(example = json!(["creator"]))]
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Whether the user proved they read mail at `email` (the link mailed at
    /// registration, a password reset, or Google's verified address). Unverified
    /// users may sign in and use everything so far.
    pub email_verified: bool,
    /// Disabled by an admin: cannot sign in; every session was ended.
    pub disabled: bool,
}

impl From<marquee_proto::auth::v1::User> for UserBody {
    fn from(user: marquee_proto::auth::v1::User) -> Self {
        Self {
            id: user.id,
            tenant_id: user.tenant_id,
            email: user.email,
            display_name: user.display_name,
            roles: user.roles,
            created_at: time(user.created_at),
            email_verified: user.email_verified,
            disabled: user.disabled,
        }
    }
}

/// Declares a list's answer, `{"items": [...], "next_cursor": "..." | null}`, every
/// list's shape. One struct per item type, so that each page is a schema of its own
/// in the OpenAPI document whose `items` refer to the item's schema (utoipa inlines
/// the arguments of a generic `Page<T>`, which would copy the item into every page).
macro_rules! page {
    ($(#[doc = $doc:literal])* $name:ident of $item:ty) => {
        $(#[doc = $doc])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; `null` on the last page, and always
            /// for lists that are not paged (they answer everything at once).
            #[schema(required = true)]
            pub next_cursor: Option<String>,
        }

        impl $name {
            /// A page of a paged list; an empty cursor (protobuf's "none") is `null`.
            pub fn new<I: Into<$item>>(
                items: impl IntoIterator<Item = I>,
                next_cursor: String,
            ) -> Self {
                Self {
                    items: items.into_iter().map(Into::into).collect(),
                    next_cursor: Some(next_cursor).filter(|c| !c.is_empty()),
                }
            }

            /// The whole of a list that is not paged: `next_cursor` is `null`.
            pub fn all<I: Into<$item>>(items: impl IntoIterator<Item = I>) -> Self {
                Self::new(items, String::new())
            }
        }
    };
}
pub(crate) use page;

/// A create's answer: `201 Created`, `Location` naming the new resource's read URL
/// (relative, e.g. `/api/v1/assets/{id}`; ids are service-made UUIDs), and the
/// resource as that read returns it.
pub fn created(location: String, resource: impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(resource)
}

/// A protobuf timestamp that must be set (e.g. `created_at`) as UTC; a missing or
/// out-of-range one reads as the epoch. Optional ones use [`convert::time`].
pub fn time(timestamp: Option<Timestamp>) -> DateTime<Utc> {
    convert::time(timestamp).unwrap_or_default()
}

/// A field auth must always fill, missing: auth's bug, our 500.
pub fn required<T>(value: Option<T>, what: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::internal(format!("auth returned no {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_timestamps_read_missing_as_the_epoch() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T01:40:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(time(Some(convert::timestamp(at))), at);
        assert_eq!(time(None), DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(
            time(Some(Timestamp::default())),
            DateTime::<Utc>::UNIX_EPOCH
        );
        let json = serde_json::to_value(UserBody::from(marquee_proto::auth::v1::User {
            id: "u".into(),
            created_at: Some(convert::timestamp(at)),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(json["created_at"], "2026-11-22T01:40:00.500Z");
    }
}
