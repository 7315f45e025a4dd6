//! gRPC handlers of search and similar assets.

use super::convert;
use crate::domain::Tagging;
use crate::domain::search::SearchQuery;
use marquee_platform::Principal;
use marquee_proto::tagging::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn search(
    tagging: &Tagging,
    request: Request<pb::SearchRequest>,
) -> Result<Response<pb::SearchResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let page = tagging
        .search(
            &caller,
            SearchQuery {
                text: r.query,
                tags: r.tags,
                kind: r.kind,
                limit: r.limit,
                cursor: r.cursor,
            },
        )
        .await?;
    Ok(Response::new(convert::page(page)))
}

pub(super) async fn similar(
    tagging: &Tagging,
    request: Request<pb::SimilarAssetsRequest>,
) -> Result<Response<pb::SearchResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let page = tagging.similar(&caller, &r.asset_id, r.limit).await?;
    Ok(Response::new(convert::page(page)))
}
