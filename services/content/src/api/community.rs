//! gRPC handlers of the community: creator profiles and follows. Called from the
//! `ContentService` impl in `mod.rs`.

use super::convert;
use crate::domain::Content;
use crate::domain::community::ProfileUpdate;
use marquee_platform::Principal;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::non_empty;
use tonic::{Request, Response, Status};

pub(super) async fn creator(
    content: &Content,
    request: Request<pb::GetCreatorRequest>,
) -> Result<Response<pb::Creator>, Status> {
    let caller = Principal::from_request(&request)?;
    let creator = content.creator(&caller, &request.into_inner().id).await?;
    Ok(Response::new(convert::creator(creator)))
}

pub(super) async fn update_my_profile(
    content: &Content,
    request: Request<pb::UpdateProfileRequest>,
) -> Result<Response<pb::Creator>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let creator = content
        .update_profile(
            &caller,
            ProfileUpdate {
                display_name: r.display_name,
                bio: r.bio,
                avatar_asset_id: r.avatar_asset_id,
            },
        )
        .await?;
    Ok(Response::new(convert::creator(creator)))
}

pub(super) async fn follow(
    content: &Content,
    request: Request<pb::FollowRequest>,
) -> Result<Response<pb::FollowResponse>, Status> {
    set_follow(content, request, true).await
}

pub(super) async fn unfollow(
    content: &Content,
    request: Request<pb::FollowRequest>,
) -> Result<Response<pb::FollowResponse>, Status> {
    set_follow(content, request, false).await
}

pub(super) async fn followers(
    content: &Content,
    request: Request<pb::ListFollowsRequest>,
) -> Result<Response<pb::ListFollowsResponse>, Status> {
    follows(content, request, true).await
}

pub(super) async fn following(
    content: &Content,
    request: Request<pb::ListFollowsRequest>,
) -> Result<Response<pb::ListFollowsResponse>, Status> {
    follows(content, request, false).await
}

async fn set_follow(
    content: &Content,
    request: Request<pb::FollowRequest>,
    follow: bool,
) -> Result<Response<pb::FollowResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let creator_id = request.into_inner().creator_id;
    let (following, followers) = if follow {
        content.follow(&caller, &creator_id).await?
    } else {
        content.unfollow(&caller, &creator_id).await?
    };
    Ok(Response::new(pb::FollowResponse {
        following,
        followers,
    }))
}

/// `followers`: the creator's followers; otherwise whom the creator follows.
async fn follows(
    content: &Content,
    request: Request<pb::ListFollowsRequest>,
    followers: bool,
) -> Result<Response<pb::ListFollowsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let (entries, next) = content
        .follows(
            &caller,
            &r.creator_id,
            followers,
            r.limit,
            non_empty(r.cursor),
        )
        .await?;
    Ok(Response::new(pb::ListFollowsResponse {
        entries: entries.into_iter().map(convert::follow_entry).collect(),
        next_cursor: next.unwrap_or_default(),
    }))
}
