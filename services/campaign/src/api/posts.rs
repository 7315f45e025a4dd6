//! gRPC handlers of posts: generate, regenerate, edit, media.

use super::{convert, id, optional};
use crate::domain::Studio;
use crate::domain::posts::PostEdit;
use marquee_platform::Principal;
use marquee_proto::campaign::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn generate(
    studio: &Studio,
    request: Request<pb::GeneratePostsRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    let job = studio
        .start_generation(
            &caller,
            &m.campaign_id,
            m.append,
            optional(m.idempotency_key),
        )
        .await?;
    Ok(Response::new(convert::job(&job)))
}

pub(super) async fn regenerate(
    studio: &Studio,
    request: Request<pb::RegeneratePostRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    id("post_id", &m.post_id)?;
    let job = studio
        .start_regeneration(
            &caller,
            &m.campaign_id,
            &m.post_id,
            &m.instructions,
            optional(m.idempotency_key),
        )
        .await?;
    Ok(Response::new(convert::job(&job)))
}

pub(super) async fn update(
    studio: &Studio,
    request: Request<pb::UpdatePostRequest>,
) -> Result<Response<pb::Post>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    id("post_id", &m.post_id)?;
    let edit = PostEdit {
        content: m.content,
        hashtags: m.set_hashtags.then_some(m.hashtags),
        selected: m.selected,
        media_prompt: m.media_prompt,
        asset_id: m.asset_id,
        kind: m.kind,
    };
    let post = studio
        .update_post(&caller, &m.campaign_id, &m.post_id, edit)
        .await?;
    Ok(Response::new(convert::post(&post)))
}

pub(super) async fn media(
    studio: &Studio,
    request: Request<pb::GenerateMediaRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    id("post_id", &m.post_id)?;
    let job = studio
        .start_media(
            &caller,
            &m.campaign_id,
            &m.post_id,
            &m.media,
            &m.background_asset_id,
            optional(m.idempotency_key),
        )
        .await?;
    Ok(Response::new(convert::job(&job)))
}
