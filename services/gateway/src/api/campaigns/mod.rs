//! The campaign studio (campaign service): a business brief becomes an analysed,
//! themed, written, illustrated, scheduled and published social-media campaign. Scopes
//! `campaigns:read` / `campaigns:write`; who may act is the service's decision (403 /
//! 404): creating needs the `creator` role; a campaign, its posts, jobs and connectors
//! are their owner's (and a tenant admin's); a template is its owner's, or the tenant's
//! when shared.
//!
//! Long operations (analysis, writing, rewriting, pictures, videos) answer `202
//! Accepted` with the job and `Location: /api/v1/jobs/{id}` ([`accepted`]); the job is
//! read, cancelled or followed as Server-Sent Events there ([`jobs`]).
//!
//! Input is checked here with the rules shared with the service ([`rules`], which
//! re-exports `marquee_platform::input::fields::campaign`) and the service's codes, so a
//! refusal is the same problem whichever line catches it; the request schemas state the
//! same rules, and a test keeps them in step.

mod connectors;
mod crud;
mod jobs;
mod posts;
mod schedule;
mod templates;

pub use connectors::{CreateConnectorBody, create_connector, delete_connector, list_connectors};
pub use crud::{
    CampaignTagEditBody, ChatBody, CreateCampaignBody, DuplicateCampaignBody, ExportQuery,
    ThemeEditBody, UpdateCampaignBody, chat_guidance, create_campaign, delete_campaign,
    duplicate_campaign, export_campaign, get_campaign, list_campaigns, start_analysis,
    update_campaign,
};
pub use jobs::{cancel_job, get_job, job_events};
pub use posts::{
    GenerateMediaBody, GeneratePostsBody, RegeneratePostBody, UpdatePostBody, generate_media,
    generate_posts, regenerate_post, update_post,
};
pub use schedule::{
    PostTimeBody, ScheduleBody, ScheduleEveryBody, ScheduleTimesBody, UnscheduleBody,
    list_deliveries, schedule_posts, unschedule_posts,
};
pub use templates::{
    CreateFromTemplateBody, SaveTemplateBody, create_from_template, delete_template,
    list_templates, save_template,
};

use super::time;
use crate::validate;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use marquee_platform::Error;
use marquee_proto::campaign::v1 as pb;
use marquee_proto::convert::{self, non_empty};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Components, Ref, RefOr};

/// The bounds of the campaign studio's input: the rules shared with the campaign service
/// (`marquee_platform::input::fields::campaign`, re-exported here), plus what the edge
/// adds to state them in the OpenAPI document.
pub mod rules {
    pub use marquee_platform::input::Text;
    pub use marquee_platform::input::fields::campaign::*;

    use regex::Regex;
    use std::sync::LazyLock;

    /// The usual shape of a website (`urls`) or a connector's `endpoint`, as the
    /// OpenAPI document states it: an `http` or `https` URL whose host is a name (labels
    /// of letters and digits joined by single hyphens, the last starting with a letter)
    /// or a dotted IPv4 address, an optional port (at most 65535), then anything on one
    /// line after `/`, `?` or `#`. Every URL of this shape is accepted. What is checked
    /// is the service's rule: any URL a WHATWG parser reads with an `http(s)` scheme, a
    /// host and no user name or password, so an international domain name or an IPv6
    /// literal is accepted too.
    pub const URL_PATTERN: &str = concat!(
        r"^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*",
        r"|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})",
        r"(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
        r"([/?#][^\u0000-\u001f\u007f-\u009f]*)?$"
    );
    /// Most platforms in a list (as many as there are).
    pub const MAX_PLATFORMS: usize = PLATFORMS.len();
    /// Longest hashtag as sent: [`MAX_HASHTAG_CHARS`] and its `#`.
    pub const MAX_HASHTAG_INPUT_CHARS: usize = MAX_HASHTAG_CHARS + 1;

    /// [`URL_PATTERN`], compiled (for the tests that keep it inside the rule).
    #[cfg(test)]
    pub(crate) static URL_REGEX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(URL_PATTERN).expect("URL_PATTERN compiles"));
    /// [`HASHTAG_PATTERN`], compiled.
    pub(crate) static HASHTAG_REGEX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(HASHTAG_PATTERN).expect("HASHTAG_PATTERN compiles"));
}

// ---------------------------------------------------------------------------------------
// Named schemas of the document whose values come from the shared rules (so the document
// cannot list other values than the ones enforced).

macro_rules! component {
    ($(#[doc = $doc:literal])* $name:ident => $schema:expr) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

fn enum_schema(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .enum_values(Some(values))
            .build(),
    ))
}

fn string_schema(
    description: &str,
    max_length: usize,
    pattern: &str,
    example: &str,
) -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .min_length(Some(1))
            .max_length(Some(max_length))
            .pattern(Some(pattern))
            .examples([example])
            .build(),
    ))
}

component!(
    /// A social platform, by its API id.
    PlatformName => enum_schema("A social platform, by its API id.", rules::PLATFORMS)
);
component!(
    /// What a campaign promotes.
    CampaignTypeName => enum_schema("What a campaign promotes.", rules::CAMPAIGN_TYPES)
);
component!(
    /// What a post carries besides its text.
    PostKindName => enum_schema(
        "What a post carries besides its text: a link, an image or a video.",
        rules::POST_KINDS
    )
);
component!(
    /// What to make for a post.
    MediaKindName => enum_schema("What to make for a post.", rules::MEDIA_KINDS)
);
component!(
    /// Who sees a template.
    TemplateVisibilityName => enum_schema(
        "Who sees a template: its owner (`private`) or everyone in the tenant (`tenant`).",
        rules::TEMPLATE_VISIBILITIES
    )
);
component!(
    /// Where a connector publishes.
    ConnectorKindName => enum_schema(
        "Where a connector publishes: a signed webhook, a Bluesky account or a Mastodon account.",
        rules::CONNECTOR_KINDS
    )
);
component!(
    /// An export's file format.
    ExportFormatName => enum_schema(
        "An export's file format: `json` (everything), `csv` (one row per post) or `md` (to read and share).",
        rules::EXPORT_FORMATS
    )
);
component!(
    /// An IANA time zone name.
    TimeZoneName => RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An IANA time zone name (e.g. `Europe/Paris`), as the tz database spells it.",
            ))
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name())))
            .examples(["Europe/Paris"])
            .build(),
    ))
);
component!(
    /// A website or endpoint URL.
    CampaignUrl => string_schema(
        "An `http` or `https` URL with a host and no user name or password. The pattern is the usual shape (a host name or IPv4 address, an optional port, then anything on one line); any other URL a WHATWG parser reads that way (an international domain name, an IPv6 literal) is accepted too.",
        rules::URL.max_chars,
        rules::URL_PATTERN,
        "https://acme-coffee.example"
    )
);
component!(
    /// A hashtag, with or without its `#`.
    HashtagName => string_schema(
        "A hashtag, with or without its `#`: 1 to 100 letters, digits or underscores (stored without the `#`).",
        rules::MAX_HASHTAG_INPUT_CHARS,
        rules::HASHTAG_PATTERN,
        "specialtycoffee"
    )
);
component!(
    /// An id (of an asset or a post).
    ResourceId => string_schema(
        "An id: 1 to 128 of `A-Z a-z 0-9 _ -`.",
        marquee_platform::input::MAX_ID_CHARS,
        marquee_platform::input::ID_PATTERN,
        "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f"
    )
);

/// What JSON Schema cannot say in a struct's derive, said in the document: a new
/// campaign's brief needs a business description (not blank) or a website
/// (`brief_required`), and a Bluesky connector the account's handle
/// (`invalid_account`). Called by [`crate::openapi::document`].
pub fn refine_schemas(components: &mut Components) {
    use marquee_platform::input::{NON_BLANK_LINE_PATTERN, NON_BLANK_MULTI_LINE_PATTERN};
    let property = |name: &str, schema: Schema| {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .required(name)
                .property(name, schema)
                .build(),
        ))
    };
    let text = |pattern: &str| {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .build(),
        )
    };
    let brief_source = AnyOfBuilder::new()
        .item(property(
            "business_description",
            text(NON_BLANK_MULTI_LINE_PATTERN),
        ))
        .item(property(
            "urls",
            Schema::Array(
                ArrayBuilder::new()
                    .schema_type(Type::Array)
                    .items(Ref::from_schema_name("CampaignUrl"))
                    .min_items(Some(1))
                    .build(),
            ),
        ))
        .build();
    require(
        components,
        "CreateCampaignBody",
        Schema::AnyOf(brief_source),
    );

    let not_bluesky = ObjectBuilder::new()
        .property(
            "kind",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(
                    rules::CONNECTOR_KINDS
                        .into_iter()
                        .filter(|kind| *kind != "bluesky"),
                )),
        )
        .build();
    let bluesky_account = AnyOfBuilder::new()
        .item(RefOr::T(Schema::Object(not_bluesky)))
        .item(property("account", text(NON_BLANK_LINE_PATTERN)))
        .build();
    require(
        components,
        "CreateConnectorBody",
        Schema::AnyOf(bluesky_account),
    );
}

/// Replaces the component `name` by `allOf: [itself, rule]`, keeping its description.
fn require(components: &mut Components, name: &str, rule: Schema) {
    let Some(RefOr::T(mut schema)) = components.schemas.remove(name) else {
        return;
    };
    let description = match &mut schema {
        Schema::Object(object) => object.description.take(),
        _ => None,
    };
    let combined = AllOfBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(description)
        .item(schema)
        .item(rule)
        .build();
    components
        .schemas
        .insert(name.to_string(), RefOr::T(Schema::AllOf(combined)));
}

// ---------------------------------------------------------------------------------------
// Views.

/// A campaign's brief: what the creator told the studio about the business and the
/// campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct BriefBody {
    #[schema(example = "Spring launch")]
    pub name: String,
    /// What the campaign should achieve.
    #[schema(example = "Fill the tasting room on launch weekend")]
    pub objective: String,
    /// `product`, `service`, `brand` or `event`.
    #[schema(example = "product")]
    pub campaign_type: String,
    #[schema(
        example = "Acme Coffee roasts single-origin beans in Lyon and sells them online and in its tasting room."
    )]
    pub business_description: String,
    /// Websites the analysis reads.
    #[schema(example = json!(["https://acme-coffee.example"]))]
    pub urls: Vec<String>,
    /// The creator's assets the analysis and the posts draw on.
    #[schema(example = json!(["0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f"]))]
    pub asset_ids: Vec<String>,
    #[schema(example = "Coffee lovers in Lyon, 25 to 45")]
    pub target_audience: String,
    /// Platform ids: `x`, `linkedin`, `instagram`, `facebook`, `tiktok`, `threads`,
    /// `bluesky`, `mastodon`.
    #[schema(example = json!(["instagram", "linkedin"]))]
    pub platforms: Vec<String>,
    /// 1 (plain, factual) to 10 (bold, playful).
    #[schema(example = 6)]
    pub creativity: u32,
    /// Posts to write in total across the platforms, 3 to 15.
    #[schema(example = 9)]
    pub post_count: u32,
    /// The IANA time zone the calendar is shown and entered in.
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
}

impl From<pb::Brief> for BriefBody {
    fn from(brief: pb::Brief) -> Self {
        Self {
            name: brief.name,
            objective: brief.objective,
            campaign_type: brief.campaign_type,
            business_description: brief.business_description,
            urls: brief.urls,
            asset_ids: brief.asset_ids,
            target_audience: brief.target_audience,
            platforms: brief.platforms,
            creativity: brief.creativity,
            post_count: brief.post_count,
            time_zone: brief.time_zone,
        }
    }
}

/// What the analysis found out about the business.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisBody {
    #[schema(example = "Acme Coffee")]
    pub company_name: String,
    #[schema(example = "Specialty coffee roasting")]
    pub industry: String,
    #[schema(example = "Urban coffee lovers who care where their beans come from")]
    pub target_audience: String,
    #[schema(example = json!(["Roasted in small batches every week", "Direct trade with growers"]))]
    pub value_propositions: Vec<String>,
    #[schema(example = "Warm, knowledgeable, never snobbish")]
    pub brand_voice: String,
    #[schema(example = json!(["Roastery and tasting room under one roof"]))]
    pub competitive_advantages: Vec<String>,
    #[schema(example = json!(["Taste the difference fresh roasting makes"]))]
    pub key_messages: Vec<String>,
    #[schema(example = "A spring single-origin from Ethiopia, launched with a tasting weekend")]
    pub product_context: String,
    /// What wrote it: `gemini`, `local` (the local model) or `rules` (without AI).
    #[schema(example = "gemini")]
    pub provider: String,
    /// What it read: `description`, `url:<url>`, `asset:<id>`.
    #[schema(example = json!(["description", "url:https://acme-coffee.example"]))]
    pub sources: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<pb::Analysis> for AnalysisBody {
    fn from(analysis: pb::Analysis) -> Self {
        Self {
            company_name: analysis.company_name,
            industry: analysis.industry,
            target_audience: analysis.target_audience,
            value_propositions: analysis.value_propositions,
            brand_voice: analysis.brand_voice,
            competitive_advantages: analysis.competitive_advantages,
            key_messages: analysis.key_messages,
            product_context: analysis.product_context,
            provider: analysis.provider,
            sources: analysis.sources,
            created_at: time(analysis.created_at),
        }
    }
}

/// An angle the posts can take.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeBody {
    #[schema(example = "Behind the roaster")]
    pub name: String,
    #[schema(example = "How a batch is roasted, told by the people who roast it")]
    pub description: String,
    /// Whether the posts use it.
    pub selected: bool,
}

impl From<pb::Theme> for ThemeBody {
    fn from(theme: pb::Theme) -> Self {
        Self {
            name: theme.name,
            description: theme.description,
            selected: theme.selected,
        }
    }
}

/// One of a campaign's hashtags.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignTagBody {
    /// Without the `#`.
    #[schema(example = "specialtycoffee")]
    pub name: String,
    /// Whether the posts use it.
    pub selected: bool,
    /// Where it came from: `analysis`, `taxonomy`, `asset` or `creator`.
    #[schema(example = "analysis")]
    pub source: String,
}

impl From<pb::Hashtag> for CampaignTagBody {
    fn from(tag: pb::Hashtag) -> Self {
        Self {
            name: tag.name,
            selected: tag.selected,
            source: tag.source,
        }
    }
}

/// One message of the guidance chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatMessageBody {
    /// `user` or `assistant`.
    #[schema(example = "user")]
    pub role: String,
    #[schema(example = "Less formal, and mention the tasting weekend in every post.")]
    pub text: String,
    pub at: DateTime<Utc>,
    /// What answered (`gemini`, `local`, `rules`); empty for the creator's messages.
    #[schema(example = "")]
    pub provider: String,
}

impl From<pb::ChatMessage> for ChatMessageBody {
    fn from(message: pb::ChatMessage) -> Self {
        Self {
            role: message.role,
            text: message.text,
            at: time(message.at),
            provider: message.provider,
        }
    }
}

/// A post's predicted engagement.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EngagementBody {
    /// 0 to 100.
    #[schema(example = 72)]
    pub score: u32,
    /// What the prediction rests on.
    #[schema(example = json!(["asks a question", "2 hashtags (the platform's sweet spot)"]))]
    pub reasons: Vec<String>,
}

/// A post of a campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostBody {
    #[schema(example = "0193a1c2-7d4e-7f00-8a1b-2c3d4e5f6a7b")]
    pub id: String,
    /// A platform id (see the brief's `platforms`).
    #[schema(example = "instagram")]
    pub platform: String,
    /// `text_url`, `text_image` or `text_video`.
    #[schema(example = "text_image")]
    pub kind: String,
    /// The text as published, hashtags included.
    #[schema(
        example = "Our Ethiopian spring roast lands Saturday. Come taste it where it was roasted ☕ #specialtycoffee #lyon"
    )]
    pub content: String,
    /// Without the `#`.
    #[schema(example = json!(["specialtycoffee", "lyon"]))]
    pub hashtags: Vec<String>,
    /// Whether it goes on the calendar when the campaign is scheduled.
    pub selected: bool,
    /// What wrote it: `gemini`, `local` or `rules`.
    #[schema(example = "gemini")]
    pub provider: String,
    /// Whether its text is the AI's (false once the creator rewrote it).
    pub ai_generated: bool,
    /// What a picture or video for it should show.
    #[schema(example = "A hand pouring coffee in a sunlit tasting room")]
    pub media_prompt: String,
    /// The asset illustrating it; `null` until it has one.
    #[schema(required = true, example = json!(null))]
    pub asset_id: Option<String>,
    /// How its media was made: `gemini`, `veo`, `template` (a card rendered locally, not
    /// AI) or `creator` (the creator's own asset); `null` without media.
    #[schema(required = true, example = json!(null))]
    pub media_provider: Option<String>,
    /// When it is to be published; `null` when not scheduled.
    #[schema(required = true)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// `draft`, `scheduled`, `publishing`, `published` or `failed`.
    #[schema(example = "draft")]
    pub status: String,
    pub engagement: EngagementBody,
    /// The theme it was written for.
    #[schema(example = "Behind the roaster")]
    pub theme: String,
    /// What fed it: `analysis`, `theme:<name>`, `asset:<id>`, `url:<url>`, `tag:<name>`.
    #[schema(example = json!(["analysis", "theme:Behind the roaster"]))]
    pub provenance: Vec<String>,
    /// How the platform's rules changed the model's text, if at all.
    #[schema(example = json!([]))]
    pub repairs: Vec<String>,
    /// Why publishing failed; `null` otherwise.
    #[schema(required = true, example = json!(null))]
    pub failure_reason: Option<String>,
    /// When it went out; `null` until it has.
    #[schema(required = true)]
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<pb::Post> for PostBody {
    fn from(post: pb::Post) -> Self {
        let engagement = post.engagement.unwrap_or_default();
        Self {
            id: post.id,
            platform: post.platform,
            kind: post.kind,
            content: post.content,
            hashtags: post.hashtags,
            selected: post.selected,
            provider: post.provider,
            ai_generated: post.ai_generated,
            media_prompt: post.media_prompt,
            asset_id: non_empty(post.asset_id),
            media_provider: non_empty(post.media_provider),
            scheduled_at: convert::time(post.scheduled_at),
            status: post.status,
            engagement: EngagementBody {
                score: engagement.score,
                reasons: engagement.reasons,
            },
            theme: post.theme,
            provenance: post.provenance,
            repairs: post.repairs,
            failure_reason: non_empty(post.failure_reason),
            published_at: convert::time(post.published_at),
            created_at: time(post.created_at),
            updated_at: time(post.updated_at),
        }
    }
}

/// A campaign as lists show it: everything but its posts and chat (read the campaign
/// for those).
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignSummaryBody {
    #[schema(example = "0193a1c0-1b2c-7d3e-8f40-5a6b7c8d9e0f")]
    pub id: String,
    #[serde(flatten)]
    pub brief: BriefBody,
    /// `draft`, `analysing`, `analysed`, `generating`, `ready` or `failed`.
    #[schema(example = "ready")]
    pub status: String,
    /// `null` until the first analysis has finished.
    #[schema(required = true)]
    pub analysis: Option<AnalysisBody>,
    /// Angles the posts can take; the selected ones are used.
    pub themes: Vec<ThemeBody>,
    /// The campaign's hashtags; the selected ones are used.
    pub tags: Vec<CampaignTagBody>,
    /// How the posts should sound: the analysis suggests it, the creator edits it or
    /// refines it in the chat.
    #[schema(example = "Warm and concrete; one question per post; no exclamation marks.")]
    pub guidance: String,
    /// The template it was made from; `null` when none.
    #[schema(required = true, example = json!(null))]
    pub template_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<pb::Campaign> for CampaignSummaryBody {
    fn from(campaign: pb::Campaign) -> Self {
        Self {
            id: campaign.id,
            brief: campaign.brief.unwrap_or_default().into(),
            status: campaign.status,
            analysis: campaign.analysis.map(Into::into),
            themes: campaign.themes.into_iter().map(Into::into).collect(),
            tags: campaign.hashtags.into_iter().map(Into::into).collect(),
            guidance: campaign.guidance,
            template_id: non_empty(campaign.template_id),
            created_at: time(campaign.created_at),
            updated_at: time(campaign.updated_at),
        }
    }
}

/// A campaign, whole: its brief, analysis, themes, hashtags, guidance and its chat, and
/// its posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignBody {
    #[serde(flatten)]
    pub campaign: CampaignSummaryBody,
    /// The guidance chat, oldest first.
    pub chat: Vec<ChatMessageBody>,
    /// In the campaign's order (a `start_at` schedule follows it).
    pub posts: Vec<PostBody>,
}

impl From<pb::Campaign> for CampaignBody {
    fn from(mut campaign: pb::Campaign) -> Self {
        let chat = std::mem::take(&mut campaign.chat);
        let posts = std::mem::take(&mut campaign.posts);
        Self {
            campaign: campaign.into(),
            chat: chat.into_iter().map(Into::into).collect(),
            posts: posts.into_iter().map(Into::into).collect(),
        }
    }
}

super::page!(
    /// A page of the caller's campaigns, newest first.
    CampaignPageBody of CampaignSummaryBody
);

/// A long operation of the studio: an analysis, a writing of posts, a rewrite, a
/// picture or a video.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobBody {
    #[schema(example = "0193a1c4-2e3f-7a40-9b5c-6d7e8f9a0b1c")]
    pub id: String,
    #[schema(example = "0193a1c0-1b2c-7d3e-8f40-5a6b7c8d9e0f")]
    pub campaign_id: String,
    /// `analysis`, `posts`, `regenerate`, `image` or `video`.
    #[schema(example = "posts")]
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled` (the last three are
    /// final).
    #[schema(example = "running")]
    pub state: String,
    /// 0 to 100.
    #[schema(example = 40)]
    pub progress: u32,
    /// What it is doing, for people.
    #[schema(example = "writing posts")]
    pub message: String,
    /// Why it failed; `null` unless it has.
    #[schema(required = true, example = json!(null))]
    pub error: Option<String>,
    /// The post a rewrite, picture or video is for; `null` for campaign-wide jobs.
    #[schema(required = true, example = json!(null))]
    pub post_id: Option<String>,
    /// The asset a picture or video job made; `null` until it has.
    #[schema(required = true, example = json!(null))]
    pub asset_id: Option<String>,
    /// What does the work: `gemini`, `local`, `rules` for text; `gemini`, `template`
    /// for pictures; `veo` (or `none`) for videos.
    #[schema(example = "gemini")]
    pub provider: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it ended; `null` while it runs.
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<pb::Job> for JobBody {
    fn from(job: pb::Job) -> Self {
        Self {
            id: job.id,
            campaign_id: job.campaign_id,
            kind: job.kind,
            state: job.state,
            progress: job.progress,
            message: job.message,
            error: non_empty(job.error),
            post_id: non_empty(job.post_id),
            asset_id: non_empty(job.asset_id),
            provider: job.provider,
            created_at: time(job.created_at),
            updated_at: time(job.updated_at),
            finished_at: convert::time(job.finished_at),
        }
    }
}

/// Whether a job's state is final (`succeeded`, `failed` or `cancelled`).
pub fn is_final(state: &str) -> bool {
    matches!(state, "succeeded" | "failed" | "cancelled")
}

/// One attempt to publish a post through a connector.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    #[schema(example = "0193a1d2-3f40-7b51-8c6d-7e8f9a0b1c2d")]
    pub id: String,
    #[schema(example = "0193a1c2-7d4e-7f00-8a1b-2c3d4e5f6a7b")]
    pub post_id: String,
    #[schema(example = "0193a1b0-0a1b-7c2d-8e3f-4a5b6c7d8e9f")]
    pub connector_id: String,
    /// `webhook`, `bluesky` or `mastodon`.
    #[schema(example = "mastodon")]
    pub connector_kind: String,
    /// `delivered` or `failed`.
    #[schema(example = "delivered")]
    pub status: String,
    /// Tries it took.
    #[schema(example = 1)]
    pub attempts: u32,
    /// The destination's HTTP status; `null` when it never answered.
    #[schema(required = true, example = 200)]
    pub status_code: Option<u32>,
    /// The post's id at the destination; `null` when unknown.
    #[schema(required = true, example = "113456789012345678")]
    pub remote_id: Option<String>,
    /// Where the post can be seen; `null` when unknown.
    #[schema(
        required = true,
        example = "https://mastodon.example/@acme/113456789012345678"
    )]
    pub remote_url: Option<String>,
    /// Why it failed; `null` when delivered.
    #[schema(required = true, example = json!(null))]
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<pb::Delivery> for DeliveryBody {
    fn from(delivery: pb::Delivery) -> Self {
        Self {
            id: delivery.id,
            post_id: delivery.post_id,
            connector_id: delivery.connector_id,
            connector_kind: delivery.connector_kind,
            status: delivery.status,
            attempts: delivery.attempts,
            status_code: (delivery.status_code > 0).then_some(delivery.status_code),
            remote_id: non_empty(delivery.remote_id),
            remote_url: non_empty(delivery.remote_url),
            error: non_empty(delivery.error),
            at: time(delivery.at),
        }
    }
}

super::page!(
    /// A campaign's delivery log, newest first (not paged: `next_cursor` is `null`).
    DeliveryPageBody of DeliveryBody
);

/// A campaign saved to start others from: its brief, guidance, themes and hashtags.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateBody {
    #[schema(example = "0193a1e0-4a5b-7c6d-8e7f-9a0b1c2d3e4f")]
    pub id: String,
    #[schema(example = "Seasonal product launch")]
    pub name: String,
    #[schema(example = "Three weeks of teasers, a launch day and a thank-you.")]
    pub description: String,
    /// `private` (its owner's) or `tenant` (the tenant's catalogue).
    #[schema(example = "tenant")]
    pub visibility: String,
    #[schema(example = "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f")]
    pub owner_id: String,
    /// The brief a campaign made from it starts with.
    pub brief: BriefBody,
    #[schema(example = "Warm and concrete; one question per post; no exclamation marks.")]
    pub guidance: String,
    pub themes: Vec<ThemeBody>,
    pub tags: Vec<CampaignTagBody>,
    pub created_at: DateTime<Utc>,
}

impl From<pb::Template> for TemplateBody {
    fn from(template: pb::Template) -> Self {
        Self {
            id: template.id,
            name: template.name,
            description: template.description,
            visibility: template.visibility,
            owner_id: template.owner_id,
            brief: template.brief.unwrap_or_default().into(),
            guidance: template.guidance,
            themes: template.themes.into_iter().map(Into::into).collect(),
            tags: template.hashtags.into_iter().map(Into::into).collect(),
            created_at: time(template.created_at),
        }
    }
}

super::page!(
    /// A page of templates: the caller's own and the tenant's catalogue, newest first.
    TemplatePageBody of TemplateBody
);

/// Where posts are published. Its secret is never shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorBody {
    #[schema(example = "0193a1b0-0a1b-7c2d-8e3f-4a5b6c7d8e9f")]
    pub id: String,
    /// `webhook`, `bluesky` or `mastodon`.
    #[schema(example = "mastodon")]
    pub kind: String,
    #[schema(example = "Acme on Mastodon")]
    pub name: String,
    /// Platforms whose posts it publishes.
    #[schema(example = json!(["mastodon"]))]
    pub platforms: Vec<String>,
    /// The non-secret part: the webhook's URL, the Bluesky service, the Mastodon
    /// instance.
    #[schema(example = "https://mastodon.example/")]
    pub endpoint: String,
    /// The account (a Bluesky handle); empty when the kind needs none.
    #[schema(example = "")]
    pub account: String,
    pub created_at: DateTime<Utc>,
}

impl From<pb::Connector> for ConnectorBody {
    fn from(connector: pb::Connector) -> Self {
        Self {
            id: connector.id,
            kind: connector.kind,
            name: connector.name,
            platforms: connector.platforms,
            endpoint: connector.endpoint,
            account: connector.account,
            created_at: time(connector.created_at),
        }
    }
}

super::page!(
    /// The caller's connectors, oldest first (not paged: `next_cursor` is `null`).
    ConnectorPageBody of ConnectorBody
);

// ---------------------------------------------------------------------------------------
// Answers and headers shared by the resources.

/// Where a campaign is read.
pub fn campaign_url(id: &str) -> String {
    format!("/api/v1/campaigns/{id}")
}

/// Where a job is read.
pub fn job_url(id: &str) -> String {
    format!("/api/v1/jobs/{id}")
}

/// A started job's answer: `202 Accepted`, `Location` naming the job (ids are
/// service-made UUIDs) and the job as `GET /api/v1/jobs/{id}` returns it.
pub fn accepted(job: pb::Job) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((header::LOCATION, job_url(&job.id)))
        .json(JobBody::from(job))
}

/// The `Idempotency-Key` header: absent (empty), or 1 to 255 visible ASCII characters
/// (`invalid_input`), as billing reads it. A repeated key answers what the first request
/// made.
pub fn idempotency_key(req: &HttpRequest) -> Result<String, Error> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(String::new());
    };
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > validate::fields::MAX_IDEMPOTENCY_KEY_CHARS
        || !bytes.iter().all(u8::is_ascii_graphic)
    {
        return Err(Error::invalid(
            "invalid_input",
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

// ---------------------------------------------------------------------------------------
// Checks shared by the bodies: the service's rules and codes; messages name the field
// (by index in a list) and never repeat the value.

/// A text field under its shared rule, named `field` in the message (e.g. `urls[2]`).
fn text_at(field: &str, rule: &rules::Text, value: &str) -> Result<(), Error> {
    rule.check(value).map_err(|violation| {
        let message =
            violation
                .message
                .replacen(&format!("`{}`", rule.field), &format!("`{field}`"), 1);
        Error::invalid(violation.code, message)
    })
}

/// One of a fixed list of values (`code` otherwise).
fn one_of(field: &str, value: &str, allowed: &[&str], code: &'static str) -> Result<(), Error> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            code,
            format!("`{field}` is one of {}", allowed.join(", ")),
        ))
    }
}

/// `product`, `service`, `brand` or `event` (`invalid_campaign_type`).
fn check_campaign_type(value: &str) -> Result<(), Error> {
    one_of(
        "campaign_type",
        value,
        &rules::CAMPAIGN_TYPES,
        "invalid_campaign_type",
    )
}

/// At least one platform (`platforms_required`), at most one of each, all known
/// (`invalid_platform`).
fn check_platforms(field: &str, platforms: &[String]) -> Result<(), Error> {
    if platforms.is_empty() {
        return Err(Error::invalid(
            "platforms_required",
            "choose at least one platform",
        ));
    }
    if platforms.len() > rules::MAX_PLATFORMS {
        return Err(Error::invalid(
            "invalid_platform",
            format!("`{field}` lists at most {} platforms", rules::MAX_PLATFORMS),
        ));
    }
    for (index, platform) in platforms.iter().enumerate() {
        one_of(
            &format!("{field}[{index}]"),
            platform,
            &rules::PLATFORMS,
            "invalid_platform",
        )?;
    }
    Ok(())
}

/// An `http` or `https` URL with a host and no user name or password, as the campaign
/// service reads it (the same WHATWG parser, on the value trimmed), under `rule` (its
/// length and code).
fn check_url(field: &str, rule: &rules::Text, value: &str) -> Result<(), Error> {
    text_at(field, rule, value)?;
    let readable = url::Url::parse(value.trim()).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|host| !host.is_empty())
            && url.username().is_empty()
            && url.password().is_none()
    });
    if readable {
        Ok(())
    } else {
        Err(Error::invalid(
            rule.code,
            format!(
                "`{field}` must be an http or https URL with a host and no user name or password"
            ),
        ))
    }
}

/// At most [`rules::MAX_URLS`] websites (`too_many_urls`), each a URL (`invalid_url`).
fn check_urls(urls: &[String]) -> Result<(), Error> {
    if urls.len() > rules::MAX_URLS {
        return Err(Error::invalid(
            "too_many_urls",
            format!("give at most {} urls", rules::MAX_URLS),
        ));
    }
    for (index, url) in urls.iter().enumerate() {
        check_url(&format!("urls[{index}]"), &rules::URL, url)?;
    }
    Ok(())
}

/// At most [`rules::MAX_ASSETS`] assets (`too_many_assets`), each an id (`invalid_id`).
fn check_asset_ids(asset_ids: &[String]) -> Result<(), Error> {
    if asset_ids.len() > rules::MAX_ASSETS {
        return Err(Error::invalid(
            "too_many_assets",
            format!("give at most {} asset_ids", rules::MAX_ASSETS),
        ));
    }
    for (index, id) in asset_ids.iter().enumerate() {
        validate::id(&format!("asset_ids[{index}]"), id)?;
    }
    Ok(())
}

/// 1 to 10 (`invalid_creativity`).
fn check_creativity(value: u32) -> Result<(), Error> {
    if (rules::MIN_CREATIVITY..=rules::MAX_CREATIVITY).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_creativity",
            format!(
                "`creativity` is {} to {}",
                rules::MIN_CREATIVITY,
                rules::MAX_CREATIVITY
            ),
        ))
    }
}

/// 3 to 15 posts in all (`invalid_post_count`).
fn check_post_count(value: u32) -> Result<(), Error> {
    if (rules::MIN_POSTS..=rules::MAX_POSTS).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_post_count",
            format!(
                "`post_count` is {} to {} (the total across platforms)",
                rules::MIN_POSTS,
                rules::MAX_POSTS
            ),
        ))
    }
}

/// An IANA time zone name, as the tz database spells it (`invalid_time_zone`).
fn check_time_zone(value: &str) -> Result<(), Error> {
    validate::text(&rules::TIME_ZONE, value)?;
    value.parse::<chrono_tz::Tz>().map(drop).map_err(|_| {
        Error::invalid(
            "invalid_time_zone",
            "`time_zone` must be an IANA time zone name such as Europe/Paris",
        )
    })
}

/// A hashtag of [`rules::HASHTAG_PATTERN`] (`invalid_hashtag`).
fn check_hashtag(field: &str, value: &str) -> Result<(), Error> {
    let fits = value
        .chars()
        .take(rules::MAX_HASHTAG_INPUT_CHARS + 1)
        .count()
        <= rules::MAX_HASHTAG_INPUT_CHARS;
    if fits && rules::HASHTAG_REGEX.is_match(value) {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_hashtag",
            format!(
                "`{field}` must be a hashtag: 1 to {} letters, digits or underscores, after an optional #",
                rules::MAX_HASHTAG_CHARS
            ),
        ))
    }
}

/// An optional id: absent or empty (none), else an id (`invalid_id`).
fn check_optional_id(field: &str, value: Option<&str>) -> Result<(), Error> {
    validate::optional_id(field, value)
}

#[cfg(test)]
mod tests;
