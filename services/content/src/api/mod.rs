//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `ContentError` maps to them in `error.rs`.

mod community;
mod convert;

use crate::domain::Content;
use crate::domain::assets::{AssetUpdate, ByteRange, ListQuery, Variant};
use crate::domain::upload::{UploadMetadata, UploadPart};
use crate::error::ContentError;
use futures::{Stream, StreamExt};
use marquee_platform::Principal;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::non_empty;
use pb::content_service_server::ContentService;
use std::pin::Pin;
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

fn metadata(m: pb::UploadMetadata) -> UploadMetadata {
    UploadMetadata {
        title: m.title,
        description: m.description,
        tags: m.tags,
        filename: m.filename,
    }
}

fn range(range: Option<pb::ByteRange>) -> Result<Option<ByteRange>, Status> {
    let Some(range) = range else { return Ok(None) };
    match (range.start, range.end, range.suffix) {
        (Some(start), end, None) => {
            if end.is_some_and(|end| end < start) {
                return Err(ContentError::invalid(
                    "invalid_range",
                    "the range ends before it starts",
                )
                .into());
            }
            Ok(Some(ByteRange::From { start, end }))
        }
        (None, None, Some(suffix)) => Ok(Some(ByteRange::Suffix(suffix))),
        _ => Err(ContentError::invalid("invalid_range", "the range is malformed").into()),
    }
}

fn variant(variant: pb::ContentVariant) -> Variant {
    match variant {
        pb::ContentVariant::Unspecified => Variant::Published,
        pb::ContentVariant::Thumbnail => Variant::Thumbnail,
        pb::ContentVariant::Original => Variant::Original,
    }
}

const DOWNLOAD_CHUNK: usize = 256 * 1024;

type ContentStream = Pin<Box<dyn Stream<Item = Result<pb::AssetContentChunk, Status>> + Send>>;

#[tonic::async_trait]
impl ContentService for ContentGrpc {
    async fn upload_asset(
        &self,
        request: Request<Streaming<pb::UploadAssetChunk>>,
    ) -> Result<Response<pb::UploadAssetResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let parts = request.into_inner().map(|chunk| match chunk {
            Ok(pb::UploadAssetChunk {
                part: Some(pb::upload_asset_chunk::Part::Metadata(m)),
            }) => Ok(UploadPart::Metadata(metadata(m))),
            Ok(pb::UploadAssetChunk {
                part: Some(pb::upload_asset_chunk::Part::Data(data)),
            }) => Ok(UploadPart::Data(data.into())),
            Ok(pb::UploadAssetChunk { part: None }) => Err(ContentError::invalid(
                "invalid_upload",
                "an upload chunk is empty",
            )),
            Err(status) => Err(ContentError::invalid(
                "upload_interrupted",
                format!("the upload stream broke: {}", status.message()),
            )),
        });
        let uploaded = self.content.upload(&caller, Box::pin(parts)).await?;
        Ok(Response::new(pb::UploadAssetResponse {
            asset: Some(convert::asset(uploaded.asset)),
            deduplicated: uploaded.deduplicated,
        }))
    }

    async fn get_asset(
        &self,
        request: Request<pb::GetAssetRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        let caller = Principal::from_request(&request)?;
        let asset = self
            .content
            .asset(&caller, &request.into_inner().id)
            .await?;
        Ok(Response::new(convert::asset(asset)))
    }

    async fn list_assets(
        &self,
        request: Request<pb::ListAssetsRequest>,
    ) -> Result<Response<pb::ListAssetsResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let status = convert::status_from_proto(r.status());
        let (assets, next) = self
            .content
            .list_assets(
                &caller,
                ListQuery {
                    owner_id: non_empty(r.owner_id),
                    status,
                    kind: non_empty(r.kind),
                    limit: r.limit,
                    cursor: non_empty(r.cursor),
                },
            )
            .await?;
        Ok(Response::new(pb::ListAssetsResponse {
            assets: assets.into_iter().map(convert::asset).collect(),
            next_cursor: next.unwrap_or_default(),
        }))
    }

    async fn update_asset(
        &self,
        request: Request<pb::UpdateAssetRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let asset = self
            .content
            .update_asset(
                &caller,
                &r.id,
                AssetUpdate {
                    title: r.title,
                    description: r.description,
                },
            )
            .await?;
        Ok(Response::new(convert::asset(asset)))
    }

    async fn delete_asset(
        &self,
        request: Request<pb::DeleteAssetRequest>,
    ) -> Result<Response<pb::DeleteAssetResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        self.content
            .delete_asset(&caller, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::DeleteAssetResponse {}))
    }

    type GetAssetContentStream = ContentStream;

    async fn get_asset_content(
        &self,
        request: Request<pb::GetAssetContentRequest>,
    ) -> Result<Response<Self::GetAssetContentStream>, Status> {
        // A signed URL's download carries no caller: the signature decides.
        let caller = Principal::from_request(&request);
        let r = request.into_inner();
        let variant = variant(r.variant());
        let range = range(r.range)?;
        let download = match r.signed {
            Some(signed) => {
                self.content
                    .download_signed(&r.id, variant, signed.expires, &signed.signature, range)
                    .await?
            }
            None => {
                self.content
                    .download(&caller?, &r.id, variant, range)
                    .await?
            }
        };
        let h = download.header;
        let header = pb::AssetContentChunk {
            part: Some(pb::asset_content_chunk::Part::Header(
                pb::AssetContentHeader {
                    content_type: h.content_type,
                    total_size: h.total_size,
                    start: h.start,
                    end: h.end,
                    partial: h.partial,
                    filename: h.filename,
                    sha256: h.sha256,
                },
            )),
        };
        let body = download.body.flat_map(|result| {
            let chunks: Vec<Result<pb::AssetContentChunk, Status>> = match result {
                Ok(bytes) => {
                    let mut out = Vec::new();
                    let mut offset = 0;
                    while offset < bytes.len() {
                        let end = (offset + DOWNLOAD_CHUNK).min(bytes.len());
                        out.push(Ok(pb::AssetContentChunk {
                            part: Some(pb::asset_content_chunk::Part::Data(
                                bytes.slice(offset..end).to_vec(),
                            )),
                        }));
                        offset = end;
                    }
                    out
                }
                Err(error) => vec![Err(Status::from(error))],
            };
            futures::stream::iter(chunks)
        });
        let stream = futures::stream::once(async { Ok(header) }).chain(body);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn create_signed_url(
        &self,
        request: Request<pb::CreateSignedUrlRequest>,
    ) -> Result<Response<pb::SignedUrl>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let signed = self
            .content
            .signed_url(&caller, &r.id, variant(r.variant()), r.expires_in_secs)
            .await?;
        Ok(Response::new(pb::SignedUrl {
            path: signed.path,
            expires_at: Some(prost_types::Timestamp {
                seconds: signed.expires_at,
                nanos: 0,
            }),
        }))
    }

    async fn retry_processing(
        &self,
        request: Request<pb::RetryProcessingRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        let caller = Principal::from_request(&request)?;
        let asset = self
            .content
            .retry_processing(&caller, &request.into_inner().id)
            .await?;
        Ok(Response::new(convert::asset(asset)))
    }

    async fn list_moderation_queue(
        &self,
        request: Request<pb::ListModerationQueueRequest>,
    ) -> Result<Response<pb::ListAssetsResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let (assets, next) = self
            .content
            .review_queue(&caller, r.limit, non_empty(r.cursor))
            .await?;
        Ok(Response::new(pb::ListAssetsResponse {
            assets: assets.into_iter().map(convert::asset).collect(),
            next_cursor: next.unwrap_or_default(),
        }))
    }

    async fn moderate_asset(
        &self,
        request: Request<pb::ModerateAssetRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let asset = self
            .content
            .moderate(&caller, &r.id, r.approve, &r.reason)
            .await?;
        Ok(Response::new(convert::asset(asset)))
    }

    async fn get_creator(
        &self,
        request: Request<pb::GetCreatorRequest>,
    ) -> Result<Response<pb::Creator>, Status> {
        self.get_creator_impl(request).await
    }

    async fn update_my_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::Creator>, Status> {
        self.update_my_profile_impl(request).await
    }

    async fn follow(
        &self,
        request: Request<pb::FollowRequest>,
    ) -> Result<Response<pb::FollowResponse>, Status> {
        self.follow_impl(request, true).await
    }

    async fn unfollow(
        &self,
        request: Request<pb::FollowRequest>,
    ) -> Result<Response<pb::FollowResponse>, Status> {
        self.follow_impl(request, false).await
    }

    async fn list_followers(
        &self,
        request: Request<pb::ListFollowsRequest>,
    ) -> Result<Response<pb::ListFollowsResponse>, Status> {
        self.list_follows_impl(request, true).await
    }

    async fn list_following(
        &self,
        request: Request<pb::ListFollowsRequest>,
    ) -> Result<Response<pb::ListFollowsResponse>, Status> {
        self.list_follows_impl(request, false).await
    }

    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        self.create_comment_impl(request).await
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        self.list_comments_impl(request).await
    }

    async fn delete_comment(
        &self,
        request: Request<pb::DeleteCommentRequest>,
    ) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        self.delete_comment_impl(request).await
    }

    async fn report_comment(
        &self,
        request: Request<pb::ReportCommentRequest>,
    ) -> Result<Response<pb::ReportCommentResponse>, Status> {
        self.report_comment_impl(request).await
    }

    async fn list_reported_comments(
        &self,
        request: Request<pb::ListReportedCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        self.list_reported_comments_impl(request).await
    }

    async fn moderate_comment(
        &self,
        request: Request<pb::ModerateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        self.moderate_comment_impl(request).await
    }
}
