//! Campaigns: create, list, read, edit, delete, duplicate; start the analysis; the
//! guidance chat; exports.

use super::{
    CampaignBody, CampaignPageBody, CampaignTypeName, CampaignUrl, ExportFormatName, HashtagName,
    JobBody, PlatformName, ResourceId, TimeZoneName, accepted, campaign_url, check_asset_ids,
    check_campaign_type, check_creativity, check_platforms, check_post_count, check_time_zone,
    check_urls, idempotency_key, one_of, rules, text_at,
};
use crate::AppState;
use crate::api::created;
use crate::api::creators::PageQuery;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, OptionalJsonObject};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::campaign::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// A new campaign's brief. It needs something to analyse: a business description (not
/// blank) or a website in `urls` (`brief_required`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaignBody {
    /// 1 to 120 characters, one line, not blank (stored trimmed).
    #[schema(
        example = "Spring launch",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// What the campaign should achieve: at most 1000 characters; tab and newline are the
    /// only control characters.
    #[schema(
        example = "Fill the tasting room on launch weekend",
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub objective: Option<String>,
    /// What the campaign promotes; `product` when absent.
    #[schema(value_type = Option<CampaignTypeName>, example = "product")]
    pub campaign_type: Option<String>,
    /// The business in the creator's words: at most 10,000 characters; tab and newline
    /// are the only control characters.
    #[schema(
        example = "Acme Coffee roasts single-origin beans in Lyon and sells them online and in its tasting room.",
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub business_description: Option<String>,
    /// Up to 3 websites the analysis reads.
    #[schema(
        value_type = Option<Vec<CampaignUrl>>,
        max_items = 3,
        example = json!(["https://acme-coffee.example"])
    )]
    pub urls: Option<Vec<String>>,
    /// Up to 10 of the creator's assets the analysis and the posts draw on.
    #[schema(value_type = Option<Vec<ResourceId>>, max_items = 10, example = json!([]))]
    pub asset_ids: Option<Vec<String>>,
    /// Who the campaign speaks to: at most 1000 characters; tab and newline are the only
    /// control characters.
    #[schema(
        example = "Coffee lovers in Lyon, 25 to 45",
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub target_audience: Option<String>,
    /// Where the posts go: 1 to 8 platform ids.
    #[schema(
        value_type = Vec<PlatformName>,
        min_items = 1,
        max_items = 8,
        example = json!(["instagram", "linkedin"])
    )]
    pub platforms: Vec<String>,
    /// 1 (plain, factual) to 10 (bold, playful); 5 when absent.
    #[schema(example = 6, minimum = 1, maximum = 10)]
    pub creativity: Option<u32>,
    /// Posts to write in total across the platforms, 3 to 15; 9 when absent.
    #[schema(example = 9, minimum = 3, maximum = 15)]
    pub post_count: Option<u32>,
    /// The time zone the calendar is shown and entered in; `UTC` when absent.
    #[schema(value_type = Option<TimeZoneName>, example = "Europe/Paris")]
    pub time_zone: Option<String>,
}

impl CreateCampaignBody {
    /// Checks the brief with the campaign service's rules and codes.
    pub fn check(&self) -> Result<(), Error> {
        validate::text(&rules::NAME, &self.name)?;
        validate::optional_text(&rules::OBJECTIVE, self.objective.as_deref())?;
        validate::optional_text(
            &rules::BUSINESS_DESCRIPTION,
            self.business_description.as_deref(),
        )?;
        validate::optional_text(&rules::TARGET_AUDIENCE, self.target_audience.as_deref())?;
        if let Some(kind) = &self.campaign_type {
            check_campaign_type(kind)?;
        }
        let urls = self.urls.as_deref().unwrap_or_default();
        check_urls(urls)?;
        check_asset_ids(self.asset_ids.as_deref().unwrap_or_default())?;
        let described = self
            .business_description
            .as_deref()
            .is_some_and(|description| !description.trim().is_empty());
        if !described && urls.is_empty() {
            return Err(brief_required());
        }
        check_platforms("platforms", &self.platforms)?;
        if let Some(creativity) = self.creativity {
            check_creativity(creativity)?;
        }
        if let Some(count) = self.post_count {
            check_post_count(count)?;
        }
        if let Some(zone) = &self.time_zone {
            check_time_zone(zone)?;
        }
        Ok(())
    }

    /// The brief as the service takes it: absent values are its defaults (empty, 0).
    pub fn into_brief(self) -> pb::Brief {
        pb::Brief {
            name: self.name,
            objective: self.objective.unwrap_or_default(),
            campaign_type: self.campaign_type.unwrap_or_default(),
            business_description: self.business_description.unwrap_or_default(),
            urls: self.urls.unwrap_or_default(),
            asset_ids: self.asset_ids.unwrap_or_default(),
            target_audience: self.target_audience.unwrap_or_default(),
            platforms: self.platforms,
            creativity: self.creativity.unwrap_or(0),
            post_count: self.post_count.unwrap_or(0),
            time_zone: self.time_zone.unwrap_or_default(),
        }
    }
}

fn brief_required() -> Error {
    Error::invalid(
        "brief_required",
        "describe the business in business_description or give its website in urls",
    )
}

fn yes() -> bool {
    true
}

/// One theme of an edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeEditBody {
    /// 1 to 80 characters, one line, not blank.
    #[schema(
        example = "Behind the roaster",
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// At most 500 characters, one line; empty when absent.
    #[serde(default)]
    #[schema(
        example = "How a batch is roasted, told by the people who roast it",
        max_length = 500,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub description: String,
    /// Whether the posts use it; `true` when absent.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub selected: bool,
}

/// One hashtag of an edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignTagEditBody {
    /// With or without its `#`; stored without. A hashtag already on the campaign keeps
    /// its `source`; a new one is the creator's.
    #[schema(value_type = HashtagName, example = "specialtycoffee")]
    pub name: String,
    /// Whether the posts use it; `true` when absent.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub selected: bool,
}

/// An edit of a campaign: the fields present are replaced, the others kept. Lists
/// (`urls`, `asset_ids`, `platforms`, `themes`, `tags`) are replaced whole. The brief
/// that results still needs a business description or a website (`brief_required`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCampaignBody {
    /// 1 to 120 characters, one line, not blank.
    #[schema(
        example = "Spring launch",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// At most 1000 characters; tab and newline are the only control characters.
    #[schema(
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub objective: Option<String>,
    #[schema(value_type = Option<CampaignTypeName>)]
    pub campaign_type: Option<String>,
    /// At most 10,000 characters; tab and newline are the only control characters.
    #[schema(
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub business_description: Option<String>,
    /// Up to 3 websites.
    #[schema(value_type = Option<Vec<CampaignUrl>>, max_items = 3)]
    pub urls: Option<Vec<String>>,
    /// Up to 10 of the creator's assets.
    #[schema(value_type = Option<Vec<ResourceId>>, max_items = 10)]
    pub asset_ids: Option<Vec<String>>,
    /// At most 1000 characters; tab and newline are the only control characters.
    #[schema(
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub target_audience: Option<String>,
    /// 1 to 8 platform ids.
    #[schema(value_type = Option<Vec<PlatformName>>, min_items = 1, max_items = 8)]
    pub platforms: Option<Vec<String>>,
    /// 1 to 10.
    #[schema(minimum = 1, maximum = 10)]
    pub creativity: Option<u32>,
    /// 3 to 15 posts in total.
    #[schema(minimum = 3, maximum = 15)]
    pub post_count: Option<u32>,
    #[schema(value_type = Option<TimeZoneName>)]
    pub time_zone: Option<String>,
    /// The campaign's themes, complete: at most 12.
    #[schema(max_items = 12)]
    pub themes: Option<Vec<ThemeEditBody>>,
    /// The campaign's hashtags, complete: at most 60 (a repeated one counts once).
    #[schema(max_items = 60)]
    pub tags: Option<Vec<CampaignTagEditBody>>,
    /// How the posts should sound: at most 5000 characters; tab and newline are the
    /// only control characters.
    #[schema(
        example = "Warm and concrete; one question per post; no exclamation marks.",
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub guidance: Option<String>,
}

impl UpdateCampaignBody {
    /// Checks the edit with the campaign service's rules and codes.
    pub fn check(&self) -> Result<(), Error> {
        validate::optional_text(&rules::NAME, self.name.as_deref())?;
        validate::optional_text(&rules::OBJECTIVE, self.objective.as_deref())?;
        validate::optional_text(
            &rules::BUSINESS_DESCRIPTION,
            self.business_description.as_deref(),
        )?;
        validate::optional_text(&rules::TARGET_AUDIENCE, self.target_audience.as_deref())?;
        if let Some(kind) = &self.campaign_type {
            check_campaign_type(kind)?;
        }
        if let Some(urls) = &self.urls {
            check_urls(urls)?;
        }
        if let Some(asset_ids) = &self.asset_ids {
            check_asset_ids(asset_ids)?;
        }
        // Clearing both sources at once can never leave a valid brief.
        let blank = self
            .business_description
            .as_deref()
            .is_some_and(|description| description.trim().is_empty());
        if blank && self.urls.as_ref().is_some_and(Vec::is_empty) {
            return Err(brief_required());
        }
        if let Some(platforms) = &self.platforms {
            check_platforms("platforms", platforms)?;
        }
        if let Some(creativity) = self.creativity {
            check_creativity(creativity)?;
        }
        if let Some(count) = self.post_count {
            check_post_count(count)?;
        }
        if let Some(zone) = &self.time_zone {
            check_time_zone(zone)?;
        }
        if let Some(themes) = &self.themes {
            if themes.len() > rules::MAX_THEMES {
                return Err(Error::invalid(
                    "too_many_themes",
                    format!("a campaign has at most {} themes", rules::MAX_THEMES),
                ));
            }
            for (index, theme) in themes.iter().enumerate() {
                text_at(
                    &format!("themes[{index}].name"),
                    &rules::THEME_NAME,
                    &theme.name,
                )?;
                text_at(
                    &format!("themes[{index}].description"),
                    &rules::THEME_DESCRIPTION,
                    &theme.description,
                )?;
            }
        }
        if let Some(tags) = &self.tags {
            if tags.len() > rules::MAX_HASHTAGS {
                return Err(Error::invalid(
                    "too_many_hashtags",
                    format!("a campaign has at most {} hashtags", rules::MAX_HASHTAGS),
                ));
            }
            for (index, tag) in tags.iter().enumerate() {
                super::check_hashtag(&format!("tags[{index}].name"), &tag.name)?;
            }
        }
        validate::optional_text(&rules::GUIDANCE, self.guidance.as_deref())?;
        Ok(())
    }

    /// The edit as the service takes it (a list is set when present, even empty).
    pub fn into_request(self, id: String) -> pb::UpdateCampaignRequest {
        pb::UpdateCampaignRequest {
            id,
            name: self.name,
            objective: self.objective,
            business_description: self.business_description,
            target_audience: self.target_audience,
            creativity: self.creativity,
            post_count: self.post_count,
            time_zone: self.time_zone,
            set_platforms: self.platforms.is_some(),
            platforms: self.platforms.unwrap_or_default(),
            set_themes: self.themes.is_some(),
            themes: self
                .themes
                .unwrap_or_default()
                .into_iter()
                .map(|theme| pb::ThemeEdit {
                    name: theme.name,
                    description: theme.description,
                    selected: theme.selected,
                })
                .collect(),
            set_hashtags: self.tags.is_some(),
            hashtags: self
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|tag| pb::HashtagEdit {
                    name: tag.name,
                    selected: tag.selected,
                })
                .collect(),
            guidance: self.guidance,
            set_urls: self.urls.is_some(),
            urls: self.urls.unwrap_or_default(),
            set_asset_ids: self.asset_ids.is_some(),
            asset_ids: self.asset_ids.unwrap_or_default(),
            campaign_type: self.campaign_type,
        }
    }
}

/// The copy's name (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateCampaignBody {
    /// 1 to 120 characters, one line, not blank; the original's name and ` (copy)` when
    /// absent.
    #[schema(
        example = "Autumn launch",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
}

/// A message to the guidance chat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    /// 1 to 2000 characters, not blank; tab and newline are the only control
    /// characters.
    #[schema(
        example = "Less formal, and mention the tasting weekend in every post.",
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub message: String,
}

/// Which file.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default), `csv` or `md`.
    #[param(value_type = Option<ExportFormatName>, inline)]
    pub format: Option<String>,
}

/// Checks an export's format (`invalid_format`); absent is `json`.
pub fn check_format(format: Option<&str>) -> Result<(), Error> {
    format.map_or(Ok(()), |format| {
        one_of("format", format, &rules::EXPORT_FORMATS, "invalid_format")
    })
}

/// The file name for `Content-Disposition`: the service's (letters, digits and dashes
/// from the campaign's name), without anything a quoted header value cannot hold.
pub fn attachment(file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .filter(|c| (c.is_ascii_graphic() && *c != '"' && *c != '\\') || *c == ' ')
        .collect();
    let name = if name.trim().is_empty() {
        "campaign"
    } else {
        name.as_str()
    };
    format!("attachment; filename=\"{name}\"")
}

/// Create a campaign
///
/// From a brief. Nothing is analysed or written yet: start the analysis
/// (`POST /api/v1/campaigns/{id}/analysis`) or go straight to the posts
/// (`POST /api/v1/campaigns/{id}/posts/generate`, which analyses first). Send an
/// `Idempotency-Key` header to make retries safe: a repeated key answers the campaign the
/// first request made.
#[utoipa::path(
    tag = "campaigns",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$")),
    request_body(
        content = CreateCampaignBody,
        example = json!({
            "name": "Spring launch",
            "objective": "Fill the tasting room on launch weekend",
            "campaign_type": "product",
            "business_description": "Acme Coffee roasts single-origin beans in Lyon and sells them online and in its tasting room.",
            "urls": ["https://acme-coffee.example"],
            "platforms": ["instagram", "linkedin"],
            "creativity": 6,
            "post_count": 9,
            "time_zone": "Europe/Paris"
        })
    ),
    responses(
        (status = 201, description = "The campaign", body = CampaignBody,
            headers(("Location" = String, description = "The campaign: `/api/v1/campaigns/{id}`"))),
        (status = 400, description = "`invalid_name`, `invalid_objective`, `invalid_business_description`, `invalid_target_audience`, `invalid_campaign_type`, `too_many_urls`, `invalid_url`, `too_many_assets`, `invalid_id`, `brief_required`, `platforms_required`, `invalid_platform`, `invalid_creativity`, `invalid_post_count`, `invalid_time_zone`, `invalid_input` (the `Idempotency-Key`), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a creator (`forbidden`), or the token lacks `campaigns:write`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    body: JsonObject<CreateCampaignBody>,
) -> Result<HttpResponse, Error> {
    let idempotency_key = idempotency_key(&req)?;
    let body = body.into_inner();
    body.check()?;
    let campaign = state
        .campaign
        .grpc()
        .create_campaign(for_caller(
            caller.principal(),
            pb::CreateCampaignRequest {
                brief: Some(body.into_brief()),
                idempotency_key,
            },
        ))
        .await?
        .into_inner();
    Ok(created(
        campaign_url(&campaign.id),
        CampaignBody::from(campaign),
    ))
}

/// Your campaigns
///
/// Newest first, paged with `cursor`; without their posts and chat (read a campaign for
/// those).
#[utoipa::path(
    tag = "campaigns",
    params(PageQuery),
    responses((status = 200, description = "A page of campaigns", body = CampaignPageBody)),
)]
#[get("/api/v1/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    validate::cursor(query.cursor.as_deref())?;
    let page = state
        .campaign
        .grpc()
        .list_campaigns(for_caller(
            caller.principal(),
            pb::ListCampaignsRequest {
                limit: query.limit.unwrap_or(0),
                cursor: query.cursor.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CampaignPageBody::new(page.campaigns, page.next_cursor)))
}

/// A campaign
///
/// With its analysis, themes, hashtags, guidance, chat and posts. Yours (or, for a
/// tenant admin, any in the tenant); 404 otherwise.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    responses((status = 200, description = "The campaign", body = CampaignBody)),
)]
#[get("/api/v1/campaigns/{id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let campaign = state
        .campaign
        .grpc()
        .get_campaign(for_caller(
            caller.principal(),
            pb::GetCampaignRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CampaignBody::from(campaign)))
}

/// Edit a campaign
///
/// The brief, the themes and hashtags (complete lists; the selected ones are used) and
/// the guidance. Posts already written stay as they are until written again.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    request_body(
        content = UpdateCampaignBody,
        example = json!({
            "themes": [{"name": "Behind the roaster", "description": "How a batch is roasted", "selected": true}],
            "tags": [{"name": "specialtycoffee", "selected": true}, {"name": "lyon", "selected": false}],
            "guidance": "Warm and concrete; one question per post."
        })
    ),
    responses(
        (status = 200, description = "The edited campaign", body = CampaignBody),
        (status = 400, description = "A brief field's code (as when creating), `too_many_themes`, `invalid_theme`, `too_many_hashtags`, `invalid_hashtag`, `invalid_guidance`, `brief_required` (no description and no website would be left), or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/api/v1/campaigns/{id}")]
pub async fn update_campaign(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<UpdateCampaignBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    body.check()?;
    let campaign = state
        .campaign
        .grpc()
        .update_campaign(for_caller(
            caller.principal(),
            body.into_request(id.into_inner()),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CampaignBody::from(campaign)))
}

/// Delete a campaign
///
/// With its posts, delivery log and jobs (running ones are stopped). Published posts
/// stay where they were published.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/api/v1/campaigns/{id}")]
pub async fn delete_campaign(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .campaign
        .grpc()
        .delete_campaign(for_caller(
            caller.principal(),
            pb::DeleteCampaignRequest {
                id: id.into_inner(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Duplicate a campaign
///
/// A copy of the brief, analysis, themes, hashtags, guidance and posts (as unscheduled
/// drafts), without the chat, under a new name.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    request_body(content = Option<DuplicateCampaignBody>, description = "Optional new name"),
    responses(
        (status = 201, description = "The copy", body = CampaignBody,
            headers(("Location" = String, description = "The copy: `/api/v1/campaigns/{id}`"))),
        (status = 400, description = "`invalid_name`, or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/duplicate")]
pub async fn duplicate_campaign(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: OptionalJsonObject<DuplicateCampaignBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner().unwrap_or_default();
    validate::optional_text(&rules::NAME, body.name.as_deref())?;
    let campaign = state
        .campaign
        .grpc()
        .duplicate_campaign(for_caller(
            caller.principal(),
            pb::DuplicateCampaignRequest {
                id: id.into_inner(),
                name: body.name.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(created(
        campaign_url(&campaign.id),
        CampaignBody::from(campaign),
    ))
}

/// Analyse the business
///
/// A job: reads the description, the websites and the assets, then suggests themes and
/// hashtags (replacing the campaign's) and guidance (unless you wrote some). Follow it at
/// the `Location`. One analysis or writing at a time per campaign (`409 campaign_busy`).
#[utoipa::path(
    tag = "campaigns",
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$"),
    ),
    responses(
        (status = 202, description = "The job, queued", body = JobBody,
            headers(("Location" = String, description = "The job: `/api/v1/jobs/{id}`"))),
        (status = 409, description = "The campaign is being analysed or written (`campaign_busy`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/analysis")]
pub async fn start_analysis(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let idempotency_key = idempotency_key(&req)?;
    let job = state
        .campaign
        .grpc()
        .start_analysis(for_caller(
            caller.principal(),
            pb::StartAnalysisRequest {
                campaign_id: id.into_inner(),
                idempotency_key,
            },
        ))
        .await?
        .into_inner();
    Ok(accepted(job))
}

/// Talk about the guidance
///
/// A job: the assistant answers and revises the campaign's guidance; the conversation is
/// kept in the campaign's `chat` (read the campaign once the job succeeded). Follow it at
/// the `Location`.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    request_body = ChatBody,
    responses(
        (status = 202, description = "The job, queued", body = JobBody,
            headers(("Location" = String, description = "The job: `/api/v1/jobs/{id}`"))),
        (status = 400, description = "`invalid_message`, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "The plan's AI text generations are spent (`quota_exceeded`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/chat")]
pub async fn chat_guidance(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<ChatBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    validate::text(&rules::CHAT_MESSAGE, &body.message)?;
    let job = state
        .campaign
        .grpc()
        .chat_guidance(for_caller(
            caller.principal(),
            pb::ChatGuidanceRequest {
                campaign_id: id.into_inner(),
                message: body.message,
            },
        ))
        .await?
        .into_inner();
    Ok(accepted(job))
}

/// Export a campaign
///
/// As a file to download: `json` (everything), `csv` (one row per post, for
/// spreadsheets and schedulers) or `md` (to read and share). Times are in the campaign's
/// time zone.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id"), ExportQuery),
    responses(
        (status = 200, description = "The file, with `Content-Disposition: attachment; filename=\"…\"`",
            content(("application/json"), ("text/csv"), ("text/markdown")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"spring-launch.csv\"`"))),
        (status = 400, description = "`invalid_format`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/campaigns/{id}/export")]
pub async fn export_campaign(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, Error> {
    let format = query.into_inner().format;
    check_format(format.as_deref())?;
    let export = state
        .campaign
        .grpc()
        .export_campaign(for_caller(
            caller.principal(),
            pb::ExportCampaignRequest {
                id: id.into_inner(),
                format: format.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let content_type = HeaderValue::from_str(&export.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, attachment(&export.file_name)))
        .body(export.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn brief() -> CreateCampaignBody {
        CreateCampaignBody {
            name: "Spring launch".into(),
            objective: None,
            campaign_type: None,
            business_description: Some("Acme Coffee roasts beans in Lyon.".into()),
            urls: None,
            asset_ids: None,
            target_audience: None,
            platforms: vec!["instagram".into(), "linkedin".into()],
            creativity: None,
            post_count: None,
            time_zone: None,
        }
    }

    fn code(body: CreateCampaignBody) -> String {
        let error = body.check().unwrap_err();
        assert_eq!(error.status().as_u16(), 400);
        assert!(error.message.len() < 200, "never echoes: {}", error.message);
        error.code.into_owned()
    }

    #[test]
    fn briefs_are_checked_with_the_services_codes() {
        assert!(brief().check().is_ok());
        let full = CreateCampaignBody {
            name: "𝔸".repeat(120),
            objective: Some("line\n\ttab".into()),
            campaign_type: Some("event".into()),
            business_description: Some("𝔸".repeat(10_000)),
            urls: Some(vec![
                "https://acme-coffee.example".into(),
                "http://shop.acme-coffee.example:8080/beans?origin=ethiopia#spring".into(),
                "https://localhost:65535/ünïcode path".into(),
            ]),
            asset_ids: Some((0..10).map(|i| format!("asset-{i}")).collect()),
            target_audience: Some("\u{202e}odd \u{200d} 😀".into()),
            platforms: rules::PLATFORMS.iter().map(|p| p.to_string()).collect(),
            creativity: Some(10),
            post_count: Some(15),
            time_zone: Some("America/Argentina/Buenos_Aires".into()),
        };
        assert!(full.check().is_ok());
        let website_only = CreateCampaignBody {
            business_description: None,
            urls: Some(vec!["https://acme-coffee.example".into()]),
            ..brief()
        };
        assert!(website_only.check().is_ok());

        let long = "x".repeat(100_000);
        for (body, expected) in [
            (
                CreateCampaignBody {
                    name: String::new(),
                    ..brief()
                },
                "invalid_name",
            ),
            (
                CreateCampaignBody {
                    name: "  ".into(),
                    ..brief()
                },
                "invalid_name",
            ),
            (
                CreateCampaignBody {
                    name: "𝔸".repeat(121),
                    ..brief()
                },
                "invalid_name",
            ),
            (
                CreateCampaignBody {
                    name: "a\nb".into(),
                    ..brief()
                },
                "invalid_name",
            ),
            (
                CreateCampaignBody {
                    name: long.clone(),
                    ..brief()
                },
                "invalid_name",
            ),
            (
                CreateCampaignBody {
                    objective: Some("a\0".into()),
                    ..brief()
                },
                "invalid_objective",
            ),
            (
                CreateCampaignBody {
                    objective: Some("x".repeat(1001)),
                    ..brief()
                },
                "invalid_objective",
            ),
            (
                CreateCampaignBody {
                    business_description: Some(long.clone()),
                    ..brief()
                },
                "invalid_business_description",
            ),
            (
                CreateCampaignBody {
                    target_audience: Some("\u{7}".into()),
                    ..brief()
                },
                "invalid_target_audience",
            ),
            (
                CreateCampaignBody {
                    campaign_type: Some("gadget".into()),
                    ..brief()
                },
                "invalid_campaign_type",
            ),
            (
                CreateCampaignBody {
                    campaign_type: Some(String::new()),
                    ..brief()
                },
                "invalid_campaign_type",
            ),
            (
                CreateCampaignBody {
                    urls: Some(vec!["https://a.example".into(); 4]),
                    ..brief()
                },
                "too_many_urls",
            ),
            (
                CreateCampaignBody {
                    asset_ids: Some(vec!["a".into(); 11]),
                    ..brief()
                },
                "too_many_assets",
            ),
            (
                CreateCampaignBody {
                    asset_ids: Some(vec!["not an id".into()]),
                    ..brief()
                },
                "invalid_id",
            ),
            (
                CreateCampaignBody {
                    business_description: None,
                    ..brief()
                },
                "brief_required",
            ),
            (
                CreateCampaignBody {
                    business_description: Some(" \n\t".into()),
                    urls: Some(vec![]),
                    ..brief()
                },
                "brief_required",
            ),
            (
                CreateCampaignBody {
                    platforms: vec![],
                    ..brief()
                },
                "platforms_required",
            ),
            (
                CreateCampaignBody {
                    platforms: vec!["myspace".into()],
                    ..brief()
                },
                "invalid_platform",
            ),
            (
                CreateCampaignBody {
                    platforms: vec!["X".into()],
                    ..brief()
                },
                "invalid_platform",
            ),
            (
                CreateCampaignBody {
                    platforms: vec!["x".into(); 9],
                    ..brief()
                },
                "invalid_platform",
            ),
            (
                CreateCampaignBody {
                    creativity: Some(0),
                    ..brief()
                },
                "invalid_creativity",
            ),
            (
                CreateCampaignBody {
                    creativity: Some(11),
                    ..brief()
                },
                "invalid_creativity",
            ),
            (
                CreateCampaignBody {
                    post_count: Some(2),
                    ..brief()
                },
                "invalid_post_count",
            ),
            (
                CreateCampaignBody {
                    post_count: Some(16),
                    ..brief()
                },
                "invalid_post_count",
            ),
            (
                CreateCampaignBody {
                    time_zone: Some("Mars/Olympus".into()),
                    ..brief()
                },
                "invalid_time_zone",
            ),
            (
                CreateCampaignBody {
                    time_zone: Some("europe/paris".into()),
                    ..brief()
                },
                "invalid_time_zone",
            ),
            (
                CreateCampaignBody {
                    time_zone: Some(String::new()),
                    ..brief()
                },
                "invalid_time_zone",
            ),
            (
                CreateCampaignBody {
                    time_zone: Some(long.clone()),
                    ..brief()
                },
                "invalid_time_zone",
            ),
        ] {
            assert_eq!(code(body), expected);
        }
    }

    #[test]
    fn websites_are_http_urls_the_service_reads() {
        let check = |url: &str| super::super::check_urls(&[url.to_string()]);
        for ok in [
            "http://a.example",
            "https://acme-coffee.example/",
            "https://x.y.z.example:443/path?q=1#frag",
            "https://localhost",
            "https://example.com?query",
            "https://example.com/ünïcode and spaces",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://2130706433/",
            "https://café.example/",
            "HTTPS://A.EXAMPLE",
            " https://a.example ",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "a.example",
            "ftp://a.example",
            "mailto:a@b.example",
            "javascript:alert(1)",
            "https://",
            "https://user:pw@a.example",
            "https://user@a.example",
            "https://a.example:65536",
            "https://a b.example",
            "https://[::1",
            "https://a.example/\u{7}",
            "//a.example",
        ] {
            let error = check(bad).unwrap_err();
            assert_eq!(error.code, "invalid_url", "{bad:?}");
            assert!(error.message.starts_with("`urls[0]`"), "{}", error.message);
        }
        let longest = format!("https://a.example/{}", "x".repeat(2048 - 18));
        assert!(check(&longest).is_ok());
        assert!(check(&format!("{longest}x")).is_err());
    }

    /// Every URL of the documented shape is one the check (and so the service) accepts;
    /// the shape leaves out what may not parse.
    #[test]
    fn the_documented_url_shape_is_always_accepted() {
        let shaped = |url: &str| rules::URL_REGEX.is_match(url);
        for url in [
            "http://a",
            "https://a1.b-c.example:0/",
            "https://x.y:65535?",
            "https://a.example#",
            "http://255.255.255.255/x",
            "http://0.0.0.0",
            "https://example.com/ünïcode and spaces?q=😀#top",
            "https://a-b-c.d-e",
        ] {
            assert!(shaped(url), "{url}");
            assert!(
                super::super::check_urls(&[url.to_string()]).is_ok(),
                "{url}"
            );
        }
        for url in [
            "https://xn--a.example",
            "https://a--b.example",
            "https://-a.example",
            "https://a.example.",
            "https://a.123",
            "https://1.2.3.4.5",
            "https://256.1.1.1",
            "https://01.1.1.1",
            "https://a.example:65536",
            "https://a.example:123456",
            "https://[::1]/",
            "https://a.example\\path",
            "https://a.example /x",
            "https://user@a.example",
        ] {
            assert!(!shaped(url), "{url}");
        }
    }

    #[test]
    fn edits_are_checked_with_the_services_codes() {
        let theme = |name: &str, description: &str| ThemeEditBody {
            name: name.into(),
            description: description.into(),
            selected: true,
        };
        let tag = |name: &str| CampaignTagEditBody {
            name: name.into(),
            selected: true,
        };
        assert!(UpdateCampaignBody::default().check().is_ok());
        let edit = UpdateCampaignBody {
            themes: Some(vec![
                theme("Behind the roaster", ""),
                theme(&"𝔸".repeat(80), &"𝔸".repeat(500)),
            ]),
            tags: Some(vec![
                tag("#café"),
                tag("東京"),
                tag("a_1"),
                tag(&"𝔸".repeat(100)),
            ]),
            guidance: Some("𝔸".repeat(5000)),
            urls: Some(vec![]),
            asset_ids: Some(vec![]),
            platforms: Some(vec!["x".into()]),
            business_description: Some(String::new()),
            ..Default::default()
        };
        assert!(edit.check().is_err(), "no description and no website");
        let edit = UpdateCampaignBody {
            business_description: None,
            ..edit
        };
        assert!(edit.check().is_ok(), "{:?}", edit.check());

        let code = |edit: UpdateCampaignBody| edit.check().unwrap_err().code.into_owned();
        for (edit, expected) in [
            (
                UpdateCampaignBody {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "invalid_name",
            ),
            (
                UpdateCampaignBody {
                    platforms: Some(vec![]),
                    ..Default::default()
                },
                "platforms_required",
            ),
            (
                UpdateCampaignBody {
                    themes: Some((0..13).map(|i| theme(&format!("t{i}"), "")).collect()),
                    ..Default::default()
                },
                "too_many_themes",
            ),
            (
                UpdateCampaignBody {
                    themes: Some(vec![theme("", "")]),
                    ..Default::default()
                },
                "invalid_theme",
            ),
            (
                UpdateCampaignBody {
                    themes: Some(vec![theme("ok", "two\nlines")]),
                    ..Default::default()
                },
                "invalid_theme",
            ),
            (
                UpdateCampaignBody {
                    tags: Some((0..61).map(|i| tag(&format!("t{i}"))).collect()),
                    ..Default::default()
                },
                "too_many_hashtags",
            ),
            (
                UpdateCampaignBody {
                    tags: Some(vec![tag("two words")]),
                    ..Default::default()
                },
                "invalid_hashtag",
            ),
            (
                UpdateCampaignBody {
                    tags: Some(vec![tag("##double")]),
                    ..Default::default()
                },
                "invalid_hashtag",
            ),
            (
                UpdateCampaignBody {
                    tags: Some(vec![tag("#")]),
                    ..Default::default()
                },
                "invalid_hashtag",
            ),
            (
                UpdateCampaignBody {
                    tags: Some(vec![tag(&"a".repeat(101))]),
                    ..Default::default()
                },
                "invalid_hashtag",
            ),
            (
                UpdateCampaignBody {
                    guidance: Some("\0".into()),
                    ..Default::default()
                },
                "invalid_guidance",
            ),
            (
                UpdateCampaignBody {
                    creativity: Some(0),
                    ..Default::default()
                },
                "invalid_creativity",
            ),
        ] {
            assert_eq!(code(edit), expected);
        }
        let error = UpdateCampaignBody {
            themes: Some(vec![theme("ok", ""), theme("ok", &"x".repeat(501))]),
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert!(
            error.message.starts_with("`themes[1].description`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn edits_set_only_the_lists_they_carry() {
        let edit: UpdateCampaignBody = serde_json::from_str(
            r#"{"name": "New", "urls": [], "tags": [{"name": "lyon"}], "themes": [{"name": "A", "selected": false}]}"#,
        )
        .unwrap();
        let request = edit.into_request("c-1".into());
        assert_eq!(request.id, "c-1");
        assert_eq!(request.name.as_deref(), Some("New"));
        assert!(request.objective.is_none());
        assert!(request.set_urls && request.urls.is_empty());
        assert!(!request.set_platforms && !request.set_asset_ids);
        assert!(request.set_hashtags);
        assert_eq!(request.hashtags[0].name, "lyon");
        assert!(request.hashtags[0].selected, "selected unless said");
        assert!(request.set_themes);
        assert!(!request.themes[0].selected);
        assert_eq!(request.themes[0].description, "");
    }

    #[test]
    fn bodies_refuse_unknown_fields() {
        let body: CreateCampaignBody = serde_json::from_str(
            r#"{"name": "a", "platforms": ["x"], "business_description": "b"}"#,
        )
        .unwrap();
        let brief = body.into_brief();
        assert_eq!(brief.creativity, 0, "absent: the service's default");
        assert_eq!(brief.campaign_type, "");
        for bad in [
            r#"{"name": "a", "platforms": ["x"], "status": "ready"}"#,
            r#"{"name": "a"}"#,
            r#"{"platforms": ["x"]}"#,
            r#"{"name": "a", "platforms": ["x"], "creativity": -1}"#,
            r#"{"name": "a", "platforms": ["x"], "creativity": 2.5}"#,
        ] {
            assert!(
                serde_json::from_str::<CreateCampaignBody>(bad).is_err(),
                "{bad}"
            );
        }
        for bad in [
            r#"{"hashtags": []}"#,
            r#"{"themes": [{"name": "a", "weight": 1}]}"#,
            r#"{"tags": [{"name": "a", "source": "ai"}]}"#,
        ] {
            assert!(
                serde_json::from_str::<UpdateCampaignBody>(bad).is_err(),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<ChatBody>(r#"{"text": "hi"}"#).is_err());
        assert!(serde_json::from_str::<DuplicateCampaignBody>(r#"{"title": "x"}"#).is_err());
    }

    #[test]
    fn exports_name_their_file() {
        assert!(check_format(None).is_ok());
        for format in ["json", "csv", "md"] {
            assert!(check_format(Some(format)).is_ok());
        }
        for bad in ["pdf", "", "JSON"] {
            assert_eq!(check_format(Some(bad)).unwrap_err().code, "invalid_format");
        }
        assert_eq!(
            attachment("spring-launch.csv"),
            "attachment; filename=\"spring-launch.csv\""
        );
        assert_eq!(
            attachment("a\"b\\c\r\nd é.md"),
            "attachment; filename=\"abcd .md\""
        );
        assert_eq!(attachment(""), "attachment; filename=\"campaign\"");
    }
}
