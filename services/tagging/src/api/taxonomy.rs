//! gRPC handlers of the tenant's taxonomy.

use super::convert;
use crate::domain::Tagging;
use marquee_platform::Principal;
use marquee_proto::tagging::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn get(
    tagging: &Tagging,
    request: Request<pb::GetTaxonomyRequest>,
) -> Result<Response<pb::Taxonomy>, Status> {
    let caller = Principal::from_request(&request)?;
    let taxonomy = tagging.taxonomy(&caller).await?;
    Ok(Response::new(convert::taxonomy(taxonomy)))
}

pub(super) async fn set(
    tagging: &Tagging,
    request: Request<pb::SetTaxonomyRequest>,
) -> Result<Response<pb::Taxonomy>, Status> {
    let caller = Principal::from_request(&request)?;
    let labels = request
        .into_inner()
        .labels
        .into_iter()
        .map(convert::label)
        .collect();
    let taxonomy = tagging.set_taxonomy(&caller, labels).await?;
    Ok(Response::new(convert::taxonomy(taxonomy)))
}
