//! gRPC handlers of asset moderation: the review queue and a moderator's decision.
//! Called from the `ContentService` impl in `mod.rs`.

use super::convert;
use crate::domain::Content;
use marquee_platform::Principal;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::non_empty;
use tonic::{Request, Response, Status};

pub(super) async fn queue(
    content: &Content,
    request: Request<pb::ListModerationQueueRequest>,
) -> Result<Response<pb::ListAssetsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let (assets, next) = content
        .review_queue(&caller, r.limit, non_empty(r.cursor))
        .await?;
    Ok(Response::new(pb::ListAssetsResponse {
        assets: assets.into_iter().map(convert::asset).collect(),
        next_cursor: next.unwrap_or_default(),
    }))
}

pub(super) async fn moderate(
    content: &Content,
    request: Request<pb::ModerateAssetRequest>,
) -> Result<Response<pb::Asset>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let asset = content
        .moderate(&caller, &r.id, r.approve, &r.reason)
        .await?;
    Ok(Response::new(convert::asset(asset)))
}
