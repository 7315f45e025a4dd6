//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `TaggingError` maps to them in `error.rs`.

mod convert;
mod recommendations;
mod search;
mod tags;
mod taxonomy;

use crate::domain::Tagging;
use marquee_proto::tagging::v1 as pb;
use pb::tagging_service_server::TaggingService;
use tonic::{Request, Response, Status};

pub use pb::tagging_service_server::TaggingServiceServer;

pub struct TaggingGrpc {
    tagging: Tagging,
}

impl TaggingGrpc {
    pub fn new(tagging: Tagging) -> Self {
        Self { tagging }
    }

    pub fn into_server(self) -> TaggingServiceServer<Self> {
        TaggingServiceServer::new(self)
            .max_decoding_message_size(1024 * 1024)
            .max_encoding_message_size(4 * 1024 * 1024)
    }
}

#[tonic::async_trait]
impl TaggingService for TaggingGrpc {
    async fn get_tags(
        &self,
        request: Request<pb::GetTagsRequest>,
    ) -> Result<Response<pb::AssetTags>, Status> {
        tags::get(&self.tagging, request).await
    }

    async fn set_tags(
        &self,
        request: Request<pb::SetTagsRequest>,
    ) -> Result<Response<pb::AssetTags>, Status> {
        tags::set(&self.tagging, request).await
    }

    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        search::search(&self.tagging, request).await
    }

    async fn similar_assets(
        &self,
        request: Request<pb::SimilarAssetsRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        search::similar(&self.tagging, request).await
    }

    async fn recommendations(
        &self,
        request: Request<pb::RecommendationsRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        recommendations::recommendations(&self.tagging, request).await
    }

    async fn record_view(
        &self,
        request: Request<pb::RecordViewRequest>,
    ) -> Result<Response<pb::RecordViewResponse>, Status> {
        recommendations::record_view(&self.tagging, request).await
    }

    async fn get_taxonomy(
        &self,
        request: Request<pb::GetTaxonomyRequest>,
    ) -> Result<Response<pb::Taxonomy>, Status> {
        taxonomy::get(&self.tagging, request).await
    }

    async fn set_taxonomy(
        &self,
        request: Request<pb::SetTaxonomyRequest>,
    ) -> Result<Response<pb::Taxonomy>, Status> {
        taxonomy::set(&self.tagging, request).await
    }
}
