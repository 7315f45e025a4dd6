//! gRPC handlers of recommendations and the views that feed them.

use super::convert;
use crate::domain::Tagging;
use marquee_platform::Principal;
use marquee_proto::tagging::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn recommendations(
    tagging: &Tagging,
    request: Request<pb::RecommendationsRequest>,
) -> Result<Response<pb::SearchResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let page = tagging
        .recommendations(&caller, request.into_inner().limit)
        .await?;
    Ok(Response::new(convert::page(page)))
}

pub(super) async fn record_view(
    tagging: &Tagging,
    request: Request<pb::RecordViewRequest>,
) -> Result<Response<pb::RecordViewResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    tagging
        .record_view(&caller, &request.into_inner().asset_id)
        .await?;
    Ok(Response::new(pb::RecordViewResponse {}))
}
