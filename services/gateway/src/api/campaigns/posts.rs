//! A campaign's posts: write them (a job), rewrite one (a job), edit one, make its
//! picture or video (a job).

use super::{
    HashtagName, JobBody, MediaKindName, PostBody, PostKindName, accepted, check_hashtag,
    check_optional_id, idempotency_key, one_of, rules,
};
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, OptionalJsonObject};
use actix_web::{HttpRequest, HttpResponse, patch, post, web};
use marquee_platform::{Error, Problem};
use marquee_proto::campaign::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

/// How to write the posts.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratePostsBody {
    /// Add to the campaign's posts instead of replacing the ones not yet scheduled
    /// (`false` when absent).
    #[serde(default)]
    #[schema(default = false)]
    pub append: bool,
}

/// What to change in a post (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegeneratePostBody {
    /// In the creator's words: at most 1000 characters; tab and newline are the only
    /// control characters.
    #[schema(
        example = "Shorter, and end with a question.",
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub instructions: Option<String>,
}

/// An edit of a post: the fields present are replaced, the others kept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePostBody {
    /// The text as published, hashtags included: 1 to 63,206 characters, not blank; tab
    /// and newline are the only control characters. It must also obey the platform's
    /// own rules as it is (its length, counted the platform's way; links; hashtags):
    /// `post_breaks_platform_rules` otherwise.
    #[schema(
        example = "Our Ethiopian spring roast lands Saturday. Come taste it ☕ #specialtycoffee",
        min_length = 1,
        max_length = 63206,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub content: Option<String>,
    /// The post's hashtags, complete (at most 60). Without `content`, the text's
    /// hashtag line is rewritten with them (`post_too_long` when they no longer fit);
    /// with it, they are taken as they are.
    #[schema(value_type = Option<Vec<HashtagName>>, max_items = 60, example = json!(["specialtycoffee", "lyon"]))]
    pub hashtags: Option<Vec<String>>,
    /// Whether it goes on the calendar when the campaign is scheduled.
    pub selected: Option<bool>,
    /// What a picture or video for it should show: at most 2000 characters; tab and
    /// newline are the only control characters.
    #[schema(
        example = "A hand pouring coffee in a sunlit tasting room",
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub media_prompt: Option<String>,
    /// One of your assets to illustrate it, or empty to take its picture off.
    #[schema(
        example = "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f",
        max_length = 128,
        pattern = "^[A-Za-z0-9_-]{0,128}$"
    )]
    pub asset_id: Option<String>,
    #[schema(value_type = Option<PostKindName>, example = "text_image")]
    pub kind: Option<String>,
}

impl UpdatePostBody {
    /// Checks the edit with the campaign service's rules and codes (the platform's own
    /// rules are the service's to apply).
    pub fn check(&self) -> Result<(), Error> {
        if let Some(hashtags) = &self.hashtags {
            if hashtags.len() > rules::MAX_HASHTAGS {
                return Err(Error::invalid(
                    "too_many_hashtags",
                    format!("a post has at most {} hashtags", rules::MAX_HASHTAGS),
                ));
            }
            for (index, hashtag) in hashtags.iter().enumerate() {
                check_hashtag(&format!("hashtags[{index}]"), hashtag)?;
            }
        }
        validate::optional_text(&rules::POST_CONTENT, self.content.as_deref())?;
        validate::optional_text(&rules::MEDIA_PROMPT, self.media_prompt.as_deref())?;
        if let Some(kind) = &self.kind {
            one_of("kind", kind, &rules::POST_KINDS, "invalid_kind")?;
        }
        check_optional_id("asset_id", self.asset_id.as_deref())
    }

    fn into_request(self, campaign_id: String, post_id: String) -> pb::UpdatePostRequest {
        pb::UpdatePostRequest {
            campaign_id,
            post_id,
            content: self.content,
            set_hashtags: self.hashtags.is_some(),
            hashtags: self.hashtags.unwrap_or_default(),
            selected: self.selected,
            media_prompt: self.media_prompt,
            asset_id: self.asset_id,
            kind: self.kind,
        }
    }
}

/// What to make for a post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateMediaBody {
    /// `image` (a picture; a card rendered locally when no AI image provider is set up)
    /// or `video`.
    #[schema(value_type = MediaKindName, example = "image")]
    pub media: String,
    /// One of your assets to put behind a rendered card (optional; empty is none).
    #[schema(
        example = "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f",
        max_length = 128,
        pattern = "^[A-Za-z0-9_-]{0,128}$"
    )]
    pub background_asset_id: Option<String>,
}

impl GenerateMediaBody {
    pub fn check(&self) -> Result<(), Error> {
        one_of("media", &self.media, &rules::MEDIA_KINDS, "invalid_media")?;
        check_optional_id("background_asset_id", self.background_asset_id.as_deref())
    }
}

/// The path of a post: its campaign and itself.
#[derive(Debug, Deserialize)]
pub struct PostPath {
    pub id: String,
    pub post_id: String,
}

/// Write the posts
///
/// A job: writes `post_count` posts across the campaign's platforms from its analysis
/// (made first when there is none), selected themes and hashtags, and guidance, each
/// fitted to its platform's rules. Replaces the posts not yet scheduled unless `append`.
/// One analysis or writing at a time per campaign (`409 campaign_busy`).
#[utoipa::path(
    tag = "campaign-posts",
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = Option<GeneratePostsBody>, description = "Optional: `append`"),
    responses(
        (status = 202, description = "The job, queued", body = JobBody,
            headers(("Location" = String, description = "The job: `/api/v1/jobs/{id}`"))),
        (status = 409, description = "The campaign is being analysed or written (`campaign_busy`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/posts/generate")]
pub async fn generate_posts(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: OptionalJsonObject<GeneratePostsBody>,
) -> Result<HttpResponse, Error> {
    let idempotency_key = idempotency_key(&req)?;
    let body = body.into_inner().unwrap_or_default();
    let job = state
        .campaign
        .grpc()
        .generate_posts(for_caller(
            caller.principal(),
            pb::GeneratePostsRequest {
                campaign_id: id.into_inner(),
                idempotency_key,
                append: body.append,
            },
        ))
        .await?
        .into_inner();
    Ok(accepted(job))
}

/// Rewrite a post
///
/// A job: writes the post again on the same platform and theme, following the
/// instructions if any; it keeps its id, selection and picture.
#[utoipa::path(
    tag = "campaign-posts",
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("post_id" = String, Path, description = "Post id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = Option<RegeneratePostBody>, description = "Optional: what to change"),
    responses(
        (status = 202, description = "The job, queued", body = JobBody,
            headers(("Location" = String, description = "The job: `/api/v1/jobs/{id}`"))),
        (status = 400, description = "`invalid_instructions`, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The post is published (`post_published`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/posts/{post_id}/regenerate")]
pub async fn regenerate_post(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    path: web::Path<PostPath>,
    body: OptionalJsonObject<RegeneratePostBody>,
) -> Result<HttpResponse, Error> {
    let idempotency_key = idempotency_key(&req)?;
    let body = body.into_inner().unwrap_or_default();
    validate::optional_text(&rules::INSTRUCTIONS, body.instructions.as_deref())?;
    let PostPath { id, post_id } = path.into_inner();
    let job = state
        .campaign
        .grpc()
        .regenerate_post(for_caller(
            caller.principal(),
            pb::RegeneratePostRequest {
                campaign_id: id,
                post_id,
                instructions: body.instructions.unwrap_or_default(),
                idempotency_key,
            },
        ))
        .await?
        .into_inner();
    Ok(accepted(job))
}

/// Edit a post
///
/// Its text (yours now: no longer marked AI-written), hashtags, selection, media prompt,
/// picture (one of your assets) or kind. A published post cannot be edited.
#[utoipa::path(
    tag = "campaign-posts",
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("post_id" = String, Path, description = "Post id"),
    ),
    request_body(
        content = UpdatePostBody,
        example = json!({"content": "Our spring roast lands Saturday ☕ #specialtycoffee", "hashtags": ["specialtycoffee"], "selected": true})
    ),
    responses(
        (status = 200, description = "The edited post", body = PostBody),
        (status = 400, description = "`invalid_content`, `post_breaks_platform_rules` (the text breaks the platform's rules), `too_many_hashtags`, `invalid_hashtag`, `post_too_long` (the hashtags no longer fit), `invalid_media_prompt`, `invalid_kind`, `invalid_id`, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The post is published (`post_published`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/api/v1/campaigns/{id}/posts/{post_id}")]
pub async fn update_post(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<PostPath>,
    body: JsonObject<UpdatePostBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    body.check()?;
    let PostPath { id, post_id } = path.into_inner();
    let post = state
        .campaign
        .grpc()
        .update_post(for_caller(
            caller.principal(),
            body.into_request(id, post_id),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(PostBody::from(post)))
}

/// Make a post's picture or video
///
/// A job: the media is stored as one of your assets (moderated, tagged and counted
/// against your plan like any upload) and set as the post's picture; the job's
/// `asset_id` names it.
#[utoipa::path(
    tag = "campaign-posts",
    params(
        ("id" = String, Path, description = "Campaign id"),
        ("post_id" = String, Path, description = "Post id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = GenerateMediaBody, example = json!({"media": "image"})),
    responses(
        (status = 202, description = "The job, queued", body = JobBody,
            headers(("Location" = String, description = "The job: `/api/v1/jobs/{id}`"))),
        (status = 400, description = "`invalid_media`, `invalid_id`, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The post is published (`post_published`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/posts/{post_id}/media")]
pub async fn generate_media(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    path: web::Path<PostPath>,
    body: JsonObject<GenerateMediaBody>,
) -> Result<HttpResponse, Error> {
    let idempotency_key = idempotency_key(&req)?;
    let body = body.into_inner();
    body.check()?;
    let PostPath { id, post_id } = path.into_inner();
    let job = state
        .campaign
        .grpc()
        .generate_media(for_caller(
            caller.principal(),
            pb::GenerateMediaRequest {
                campaign_id: id,
                post_id,
                media: body.media,
                background_asset_id: body.background_asset_id.unwrap_or_default(),
                idempotency_key,
            },
        ))
        .await?
        .into_inner();
    Ok(accepted(job))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_edits_are_checked_with_the_services_codes() {
        assert!(UpdatePostBody::default().check().is_ok());
        let edit = UpdatePostBody {
            content: Some("Line one\nline two ☕ \u{202e}".into()),
            hashtags: Some(vec![
                "#specialtycoffee".into(),
                "café".into(),
                "東京_2".into(),
            ]),
            selected: Some(false),
            media_prompt: Some(String::new()),
            asset_id: Some(String::new()),
            kind: Some("text_video".into()),
        };
        assert!(edit.check().is_ok());
        let code = |edit: UpdatePostBody| {
            let error = edit.check().unwrap_err();
            assert!(error.message.len() < 200, "never echoes: {}", error.message);
            error.code.into_owned()
        };
        let long = "x".repeat(100_000);
        for (edit, expected) in [
            (
                UpdatePostBody {
                    content: Some(" \n".into()),
                    ..Default::default()
                },
                "invalid_content",
            ),
            (
                UpdatePostBody {
                    content: Some("a\0".into()),
                    ..Default::default()
                },
                "invalid_content",
            ),
            (
                UpdatePostBody {
                    content: Some("x".repeat(63_207)),
                    ..Default::default()
                },
                "invalid_content",
            ),
            (
                UpdatePostBody {
                    hashtags: Some(vec!["a b".into()]),
                    ..Default::default()
                },
                "invalid_hashtag",
            ),
            (
                UpdatePostBody {
                    hashtags: Some(vec![long.clone()]),
                    ..Default::default()
                },
                "invalid_hashtag",
            ),
            (
                UpdatePostBody {
                    hashtags: Some(vec!["a".into(); 61]),
                    ..Default::default()
                },
                "too_many_hashtags",
            ),
            (
                UpdatePostBody {
                    media_prompt: Some(long.clone()),
                    ..Default::default()
                },
                "invalid_media_prompt",
            ),
            (
                UpdatePostBody {
                    kind: Some("text".into()),
                    ..Default::default()
                },
                "invalid_kind",
            ),
            (
                UpdatePostBody {
                    asset_id: Some("not an id".into()),
                    ..Default::default()
                },
                "invalid_id",
            ),
        ] {
            assert_eq!(code(edit), expected);
        }
        let error = UpdatePostBody {
            hashtags: Some(vec!["ok".into(), "not ok".into()]),
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert!(
            error.message.starts_with("`hashtags[1]`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn post_edits_set_only_what_they_carry() {
        let edit: UpdatePostBody = serde_json::from_str(r#"{"selected": false}"#).unwrap();
        let request = edit.into_request("c".into(), "p".into());
        assert_eq!(request.selected, Some(false));
        assert!(!request.set_hashtags);
        assert!(request.content.is_none() && request.asset_id.is_none());
        let edit: UpdatePostBody =
            serde_json::from_str(r#"{"hashtags": [], "asset_id": ""}"#).unwrap();
        let request = edit.into_request("c".into(), "p".into());
        assert!(request.set_hashtags && request.hashtags.is_empty());
        assert_eq!(
            request.asset_id.as_deref(),
            Some(""),
            "empty takes the picture off"
        );
    }

    #[test]
    fn media_and_rewrites_are_checked() {
        let media = |media: &str, background: Option<&str>| GenerateMediaBody {
            media: media.into(),
            background_asset_id: background.map(str::to_string),
        };
        assert!(media("image", None).check().is_ok());
        assert!(media("video", Some("")).check().is_ok());
        assert!(media("image", Some("a-1")).check().is_ok());
        assert_eq!(
            media("gif", None).check().unwrap_err().code,
            "invalid_media"
        );
        assert_eq!(media("", None).check().unwrap_err().code, "invalid_media");
        assert_eq!(
            media("image", Some("a/b")).check().unwrap_err().code,
            "invalid_id"
        );
        assert!(serde_json::from_str::<GenerateMediaBody>(r#"{}"#).is_err());
        assert!(
            serde_json::from_str::<GenerateMediaBody>(r#"{"media": "image", "style": "x"}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<GeneratePostsBody>(r#"{"append": true}"#)
                .unwrap()
                .append
        );
        assert!(
            !serde_json::from_str::<GeneratePostsBody>(r#"{}"#)
                .unwrap()
                .append
        );
        assert!(serde_json::from_str::<GeneratePostsBody>(r#"{"count": 3}"#).is_err());
        assert!(serde_json::from_str::<RegeneratePostBody>(r#"{"prompt": "x"}"#).is_err());
        assert!(serde_json::from_str::<UpdatePostBody>(r#"{"platform": "x"}"#).is_err());
    }
}
