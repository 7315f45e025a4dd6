//! gRPC handlers of assets: upload (a client stream), get, list, update, delete, the
//! content download (a server stream, also behind a signed URL), signed URLs and
//! processing retries. Called from the `ContentService` impl in `mod.rs`.

use super::convert;
use crate::domain::Content;
use crate::domain::assets::{AssetUpdate, ListQuery};
use crate::domain::upload::UploadPart;
use crate::error::ContentError;
use futures::{Stream, StreamExt};
use marquee_platform::Principal;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::non_empty;
use std::pin::Pin;
use tonic::{Request, Response, Status, Streaming};

const DOWNLOAD_CHUNK: usize = 256 * 1024;

/// The stream `GetAssetContent` answers: a header, then the bytes in chunks of at most
/// [`DOWNLOAD_CHUNK`].
pub(super) type ContentStream =
    Pin<Box<dyn Stream<Item = Result<pb::AssetContentChunk, Status>> + Send>>;

pub(super) async fn upload(
    content: &Content,
    request: Request<Streaming<pb::UploadAssetChunk>>,
) -> Result<Response<pb::UploadAssetResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let parts = request.into_inner().map(|chunk| match chunk {
        Ok(pb::UploadAssetChunk {
            part: Some(pb::upload_asset_chunk::Part::Metadata(m)),
        }) => Ok(UploadPart::Metadata(convert::upload_metadata(m))),
        Ok(pb::UploadAssetChunk {
            part: Some(pb::upload_asset_chunk::Part::Data(data)),
        }) => Ok(UploadPart::Data(data.into())),
        Ok(pb::UploadAssetChunk {
            part: Some(pb::upload_asset_chunk::Part::End(end)),
        }) => Ok(UploadPart::End {
            size_bytes: end.size_bytes,
        }),
        Ok(pb::UploadAssetChunk { part: None }) => Err(ContentError::invalid(
            "invalid_upload",
            "an upload chunk is empty",
        )),
        Err(status) => Err(ContentError::invalid(
            "upload_interrupted",
            format!("the upload stream broke: {}", status.message()),
        )),
    });
    let uploaded = content.upload(&caller, Box::pin(parts)).await?;
    Ok(Response::new(pb::UploadAssetResponse {
        asset: Some(convert::asset(uploaded.asset)),
        deduplicated: uploaded.deduplicated,
    }))
}

pub(super) async fn get(
    content: &Content,
    request: Request<pb::GetAssetRequest>,
) -> Result<Response<pb::Asset>, Status> {
    let caller = Principal::from_request(&request)?;
    let asset = content.asset(&caller, &request.into_inner().id).await?;
    Ok(Response::new(convert::asset(asset)))
}

pub(super) async fn list(
    content: &Content,
    request: Request<pb::ListAssetsRequest>,
) -> Result<Response<pb::ListAssetsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let status = convert::status_from_proto(r.status());
    let (assets, next) = content
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

pub(super) async fn update(
    content: &Content,
    request: Request<pb::UpdateAssetRequest>,
) -> Result<Response<pb::Asset>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let asset = content
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

pub(super) async fn delete(
    content: &Content,
    request: Request<pb::DeleteAssetRequest>,
) -> Result<Response<pb::DeleteAssetResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    content
        .delete_asset(&caller, &request.into_inner().id)
        .await?;
    Ok(Response::new(pb::DeleteAssetResponse {}))
}

pub(super) async fn download(
    content: &Content,
    request: Request<pb::GetAssetContentRequest>,
) -> Result<Response<ContentStream>, Status> {
    // A signed URL's download carries no caller: the signature decides.
    let caller = Principal::from_request(&request);
    let r = request.into_inner();
    let variant = convert::variant(r.variant());
    let range = convert::byte_range(r.range)?;
    let download = match r.signed {
        Some(signed) => {
            content
                .download_signed(&r.id, variant, signed.expires, &signed.signature, range)
                .await?
        }
        None => content.download(&caller?, &r.id, variant, range).await?,
    };
    let header = convert::content_header(download.header);
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

pub(super) async fn signed_url(
    content: &Content,
    request: Request<pb::CreateSignedUrlRequest>,
) -> Result<Response<pb::SignedUrl>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let signed = content
        .signed_url(
            &caller,
            &r.id,
            convert::variant(r.variant()),
            r.expires_in_secs,
        )
        .await?;
    Ok(Response::new(convert::signed_url(signed)))
}

pub(super) async fn retry_processing(
    content: &Content,
    request: Request<pb::RetryProcessingRequest>,
) -> Result<Response<pb::Asset>, Status> {
    let caller = Principal::from_request(&request)?;
    let asset = content
        .retry_processing(&caller, &request.into_inner().id)
        .await?;
    Ok(Response::new(convert::asset(asset)))
}
