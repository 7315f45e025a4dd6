//! Templates: a campaign saved to start others from (its brief, guidance, themes and
//! hashtags), kept for its owner or shared in the tenant's catalogue.

use super::{
    CampaignBody, CampaignUrl, ResourceId, TemplateBody, TemplatePageBody, TemplateVisibilityName,
    campaign_url, check_asset_ids, check_urls, one_of, rules,
};
use crate::AppState;
use crate::api::created;
use crate::api::creators::PageQuery;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, OptionalJsonObject};
use actix_web::{HttpResponse, delete, get, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::campaign::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

/// A campaign saved as a template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveTemplateBody {
    /// 1 to 120 characters, one line, not blank (stored trimmed).
    #[schema(
        example = "Seasonal product launch",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// What it is for: at most 1000 characters; tab and newline are the only control
    /// characters.
    #[schema(
        example = "Three weeks of teasers, a launch day and a thank-you.",
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub description: Option<String>,
    /// `private` (yours) or `tenant` (everyone in your tenant may start from it).
    #[schema(value_type = TemplateVisibilityName, example = "private")]
    pub visibility: String,
}

impl SaveTemplateBody {
    pub fn check(&self) -> Result<(), Error> {
        validate::text(&rules::TEMPLATE_NAME, &self.name)?;
        validate::optional_text(&rules::TEMPLATE_DESCRIPTION, self.description.as_deref())?;
        one_of(
            "visibility",
            &self.visibility,
            &rules::TEMPLATE_VISIBILITIES,
            "invalid_visibility",
        )
    }
}

/// What a campaign made from a template takes from this business instead (all
/// optional; absent or empty keeps the template's).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFromTemplateBody {
    /// 1 to 120 characters, one line, not blank.
    #[schema(
        example = "Spring launch",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// At most 10,000 characters; tab and newline are the only control characters.
    #[schema(
        example = "Acme Coffee roasts single-origin beans in Lyon.",
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub business_description: Option<String>,
    /// Up to 3 websites.
    #[schema(value_type = Option<Vec<CampaignUrl>>, max_items = 3, example = json!(["https://acme-coffee.example"]))]
    pub urls: Option<Vec<String>>,
    /// Up to 10 of your assets.
    #[schema(value_type = Option<Vec<ResourceId>>, max_items = 10)]
    pub asset_ids: Option<Vec<String>>,
}

impl CreateFromTemplateBody {
    pub fn check(&self) -> Result<(), Error> {
        validate::optional_text(&rules::NAME, self.name.as_deref())?;
        validate::optional_text(
            &rules::BUSINESS_DESCRIPTION,
            self.business_description.as_deref(),
        )?;
        check_urls(self.urls.as_deref().unwrap_or_default())?;
        check_asset_ids(self.asset_ids.as_deref().unwrap_or_default())
    }
}

/// Save a campaign as a template
///
/// Its brief, guidance, themes and hashtags (not its analysis, posts or chat), for you
/// or for your tenant's catalogue. Templates are read through their list.
#[utoipa::path(
    tag = "campaign-templates",
    params(("id" = String, Path, description = "Campaign id")),
    request_body = SaveTemplateBody,
    responses(
        (status = 201, description = "The template (no `Location`: templates are read through `GET /api/v1/campaign-templates`)", body = TemplateBody),
        (status = 400, description = "`invalid_name`, `invalid_description`, `invalid_visibility`, or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/template")]
pub async fn save_template(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<SaveTemplateBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    body.check()?;
    let template = state
        .campaign
        .grpc()
        .save_template(for_caller(
            caller.principal(),
            pb::SaveTemplateRequest {
                campaign_id: id.into_inner(),
                name: body.name,
                description: body.description.unwrap_or_default(),
                visibility: body.visibility,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(TemplateBody::from(template)))
}

/// Templates
///
/// Yours and your tenant's catalogue, newest first, paged with `cursor`.
#[utoipa::path(
    tag = "campaign-templates",
    params(PageQuery),
    responses((status = 200, description = "A page of templates", body = TemplatePageBody)),
)]
#[get("/api/v1/campaign-templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    validate::cursor(query.cursor.as_deref())?;
    let page = state
        .campaign
        .grpc()
        .list_templates(for_caller(
            caller.principal(),
            pb::ListTemplatesRequest {
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(TemplatePageBody::new(page.templates, page.next_cursor)))
}

/// Delete a template
///
/// Its owner, or a tenant admin for the catalogue (`403 forbidden` for anyone else who
/// can see it). Campaigns made from it stay.
#[utoipa::path(
    tag = "campaign-templates",
    params(("id" = String, Path, description = "Template id")),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/api/v1/campaign-templates/{id}")]
pub async fn delete_template(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .campaign
        .grpc()
        .delete_template(for_caller(
            caller.principal(),
            pb::DeleteTemplateRequest {
                id: id.into_inner(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Start a campaign from a template
///
/// A new campaign with the template's brief, themes, hashtags and guidance, and this
/// business's name, description, websites and assets where given; not analysed yet.
#[utoipa::path(
    tag = "campaign-templates",
    params(("id" = String, Path, description = "Template id")),
    request_body(content = Option<CreateFromTemplateBody>, description = "Optional: what to take from this business instead"),
    responses(
        (status = 201, description = "The campaign", body = CampaignBody,
            headers(("Location" = String, description = "The campaign: `/api/v1/campaigns/{id}`"))),
        (status = 400, description = "`invalid_name`, `invalid_business_description`, `too_many_urls`, `invalid_url`, `too_many_assets`, `invalid_id`, or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaign-templates/{id}/campaigns")]
pub async fn create_from_template(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: OptionalJsonObject<CreateFromTemplateBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner().unwrap_or_default();
    body.check()?;
    let campaign = state
        .campaign
        .grpc()
        .create_from_template(for_caller(
            caller.principal(),
            pb::CreateFromTemplateRequest {
                template_id: id.into_inner(),
                name: body.name.unwrap_or_default(),
                business_description: body.business_description.unwrap_or_default(),
                urls: body.urls.unwrap_or_default(),
                asset_ids: body.asset_ids.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(created(
        campaign_url(&campaign.id),
        CampaignBody::from(campaign),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked_with_the_services_codes() {
        let save = |name: &str, description: Option<&str>, visibility: &str| SaveTemplateBody {
            name: name.into(),
            description: description.map(str::to_string),
            visibility: visibility.into(),
        };
        assert!(save("Launch", None, "private").check().is_ok());
        assert!(
            save(&"𝔸".repeat(120), Some(&"𝔸".repeat(1000)), "tenant")
                .check()
                .is_ok()
        );
        for (body, expected) in [
            (save("", None, "private"), "invalid_name"),
            (save(" ", None, "private"), "invalid_name"),
            (save("a\tb", None, "private"), "invalid_name"),
            (save("a", Some("\0"), "private"), "invalid_description"),
            (
                save("a", Some(&"x".repeat(1001)), "private"),
                "invalid_description",
            ),
            (save("a", None, "public"), "invalid_visibility"),
            (save("a", None, ""), "invalid_visibility"),
        ] {
            assert_eq!(body.check().unwrap_err().code, expected);
        }
        assert!(serde_json::from_str::<SaveTemplateBody>(r#"{"name": "a"}"#).is_err());

        assert!(CreateFromTemplateBody::default().check().is_ok());
        let from = |json: &str| serde_json::from_str::<CreateFromTemplateBody>(json).unwrap();
        assert!(
            from(r#"{"name": "New", "urls": ["https://a.example"], "asset_ids": ["a-1"]}"#)
                .check()
                .is_ok()
        );
        for (json, expected) in [
            (r#"{"name": ""}"#, "invalid_name"),
            (
                r#"{"business_description": "\u0000"}"#,
                "invalid_business_description",
            ),
            (r#"{"urls": ["mailto:a@b.example"]}"#, "invalid_url"),
            (
                r#"{"urls": ["https://a.example", "https://b.example", "https://c.example", "https://d.example"]}"#,
                "too_many_urls",
            ),
            (r#"{"asset_ids": ["a b"]}"#, "invalid_id"),
        ] {
            assert_eq!(from(json).check().unwrap_err().code, expected, "{json}");
        }
        assert!(serde_json::from_str::<CreateFromTemplateBody>(r#"{"guidance": "x"}"#).is_err());
    }
}
