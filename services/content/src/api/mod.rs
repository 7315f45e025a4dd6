//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `ContentError` maps to them in `error.rs`.
//!
//! The one `ContentService` impl delegates each RPC to its resource module (named like
//! the domain modules); `convert` holds the domain ↔ protobuf conversions.

mod assets;
mod comments;
mod community;
mod convert;
mod moderation;

use crate::domain::Content;
use marquee_proto::content::v1 as pb;
use pb::content_service_server::ContentService;
use tonic::{Request, Response, Status, Streaming};

pub use pb::content_service_server::ContentServiceServer;

pub struct ContentGrpc {
    content: Content,
}

impl ContentGrpc {
    pub fn new(content: Content) -> Self {
        Self { content }
    }

    pub fn into_server(self) -> ContentServiceServer<Self> {
        ContentServiceServer::new(self)
            .max_decoding_message_size(8 * 1024 * 1024)
            .max_encoding_message_size(8 * 1024 * 1024)
    }
}

#[tonic::async_trait]
impl ContentService for ContentGrpc {
    async fn upload_asset(
        &self,
        request: Request<Streaming<pb::UploadAssetChunk>>,
    ) -> Result<Response<pb::UploadAssetResponse>, Status> {
        assets::upload(&self.content, request).await
    }

    async fn get_asset(
        &self,
        request: Request<pb::GetAssetRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        assets::get(&self.content, request).await
    }

    async fn list_assets(
        &self,
        request: Request<pb::ListAssetsRequest>,
    ) -> Result<Response<pb::ListAssetsResponse>, Status> {
        assets::list(&self.content, request).await
    }

    async fn update_asset(
        &self,
        request: Request<pb::UpdateAssetRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        assets::update(&self.content, request).await
    }

    async fn delete_asset(
        &self,
        request: Request<pb::DeleteAssetRequest>,
    ) -> Result<Response<pb::DeleteAssetResponse>, Status> {
        assets::delete(&self.content, request).await
    }

    type GetAssetContentStream = assets::ContentStream;

    async fn get_asset_content(
        &self,
        request: Request<pb::GetAssetContentRequest>,
    ) -> Result<Response<Self::GetAssetContentStream>, Status> {
        assets::download(&self.content, request).await
    }

    async fn create_signed_url(
        &self,
        request: Request<pb::CreateSignedUrlRequest>,
    ) -> Result<Response<pb::SignedUrl>, Status> {
        assets::signed_url(&self.content, request).await
    }

    async fn retry_processing(
        &self,
        request: Request<pb::RetryProcessingRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        assets::retry_processing(&self.content, request).await
    }

    async fn list_moderation_queue(
        &self,
        request: Request<pb::ListModerationQueueRequest>,
    ) -> Result<Response<pb::ListAssetsResponse>, Status> {
        moderation::queue(&self.content, request).await
    }

    async fn moderate_asset(
        &self,
        request: Request<pb::ModerateAssetRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        moderation::moderate(&self.content, request).await
    }

    async fn get_creator(
        &self,
        request: Request<pb::GetCreatorRequest>,
    ) -> Result<Response<pb::Creator>, Status> {
        community::creator(&self.content, request).await
    }

    async fn update_my_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::Creator>, Status> {
        community::update_my_profile(&self.content, request).await
    }

    async fn follow(
        &self,
        request: Request<pb::FollowRequest>,
    ) -> Result<Response<pb::FollowResponse>, Status> {
        community::follow(&self.content, request).await
    }

    async fn unfollow(
        &self,
        request: Request<pb::FollowRequest>,
    ) -> Result<Response<pb::FollowResponse>, Status> {
        community::unfollow(&self.content, request).await
    }

    async fn list_followers(
        &self,
        request: Request<pb::ListFollowsRequest>,
    ) -> Result<Response<pb::ListFollowsResponse>, Status> {
        community::followers(&self.content, request).await
    }

    async fn list_following(
        &self,
        request: Request<pb::ListFollowsRequest>,
    ) -> Result<Response<pb::ListFollowsResponse>, Status> {
        community::following(&self.content, request).await
    }

    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        comments::create(&self.content, request).await
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        comments::list(&self.content, request).await
    }

    async fn get_comment(
        &self,
        request: Request<pb::GetCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        comments::get(&self.content, request).await
    }

    async fn delete_comment(
        &self,
        request: Request<pb::DeleteCommentRequest>,
    ) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        comments::delete(&self.content, request).await
    }

    async fn report_comment(
        &self,
        request: Request<pb::ReportCommentRequest>,
    ) -> Result<Response<pb::ReportCommentResponse>, Status> {
        comments::report(&self.content, request).await
    }

    async fn list_reported_comments(
        &self,
        request: Request<pb::ListReportedCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        comments::reported(&self.content, request).await
    }

    async fn moderate_comment(
        &self,
        request: Request<pb::ModerateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        comments::moderate(&self.content, request).await
    }
}
