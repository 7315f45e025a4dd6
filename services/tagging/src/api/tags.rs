//! gRPC handlers of an asset's tags.

use super::convert;
use crate::domain::Tagging;
use crate::domain::tags::RequestedTag;
use marquee_platform::Principal;
use marquee_proto::tagging::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn get(
    tagging: &Tagging,
    request: Request<pb::GetTagsRequest>,
) -> Result<Response<pb::AssetTags>, Status> {
    let caller = Principal::from_request(&request)?;
    let found = tagging
        .tags(&caller, &request.into_inner().asset_id)
        .await?;
    Ok(Response::new(convert::asset_tags(
        found,
        tagging.models_off(),
    )))
}

pub(super) async fn set(
    tagging: &Tagging,
    request: Request<pb::SetTagsRequest>,
) -> Result<Response<pb::AssetTags>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let requested = r
        .tags
        .into_iter()
        .map(|t| RequestedTag {
            name: t.name,
            source: t.source,
        })
        .collect();
    let found = tagging.set_tags(&caller, &r.asset_id, requested).await?;
    Ok(Response::new(convert::asset_tags(
        found,
        tagging.models_off(),
    )))
}
