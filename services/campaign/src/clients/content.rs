//! Content (and tagging's tags): the `Assets` port. Calls are made as the campaign's
//! owner, so content's own rules (who may read, quota, moderation) apply to the studio
//! as to the creator.

use crate::domain::{AssetFacts, Assets, NewAsset};
use crate::error::{CampaignError, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use marquee_clients::{ContentClient, TaggingClient};
use marquee_platform::Principal;
use marquee_platform::grpc;
use marquee_platform::service_identity::ServiceIdentity;
use marquee_proto::content::v1 as pb;
use marquee_proto::tagging::v1 as tagging_pb;
use std::time::Duration;

/// Longest a download or upload may take, start to end.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);
/// Upload chunk size.
const CHUNK: usize = 256 * 1024;

pub struct ContentAssets {
    content: ContentClient,
    tagging: TaggingClient,
}

impl ContentAssets {
    pub fn connect_lazy(
        content_url: &str,
        tagging_url: &str,
        identity: ServiceIdentity,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            content: ContentClient::connect_lazy(content_url, identity.clone())?,
            tagging: TaggingClient::connect_lazy(tagging_url, identity)?,
        })
    }
}

#[async_trait]
impl Assets for ContentAssets {
    async fn facts(&self, owner: &Principal, asset_id: &str) -> Result<AssetFacts> {
        let asset = self
            .content
            .grpc()
            .get_asset(grpc::for_caller(
                owner,
                pb::GetAssetRequest {
                    id: asset_id.to_string(),
                },
            ))
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound | tonic::Code::PermissionDenied => CampaignError::invalid(
                    "asset_not_found",
                    format!("asset {asset_id} is not one you can use"),
                ),
                _ => status.into(),
            })?
            .into_inner();
        let mut tags = asset.tags.clone();
        // Tagging's AI tags when tagging is there; without it the creator's tags do.
        match self
            .tagging
            .grpc()
            .get_tags(grpc::for_caller(
                owner,
                tagging_pb::GetTagsRequest {
                    asset_id: asset_id.to_string(),
                },
            ))
            .await
        {
            Ok(found) => {
                for tag in found.into_inner().tags {
                    if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag.name)) {
                        tags.push(tag.name);
                    }
                }
            }
            Err(status) => tracing::debug!(%status, "no AI tags for the asset"),
        }
        Ok(AssetFacts {
            id: asset.id,
            title: asset.title,
            description: asset.description,
            kind: asset.kind,
            content_type: asset.content_type,
            text_excerpt: asset.text_excerpt.unwrap_or_default(),
            tags,
        })
    }

    async fn picture(&self, owner: &Principal, asset_id: &str, max_bytes: u64) -> Result<Bytes> {
        let fetch = async {
            let request = pb::GetAssetContentRequest {
                id: asset_id.to_string(),
                variant: pb::ContentVariant::Unspecified as i32,
                range: None,
                signed: None,
            };
            let mut stream = self
                .content
                .grpc()
                .get_asset_content(grpc::stream_for_caller(owner, request))
                .await
                .map_err(|status| match status.code() {
                    tonic::Code::NotFound | tonic::Code::PermissionDenied => {
                        CampaignError::invalid(
                            "asset_not_found",
                            format!("asset {asset_id} is not one you can use"),
                        )
                    }
                    _ => status.into(),
                })?
                .into_inner();
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                match chunk?.part {
                    Some(pb::asset_content_chunk::Part::Header(header))
                        if header.total_size > max_bytes =>
                    {
                        return Err(CampaignError::invalid(
                            "asset_too_large",
                            format!("the picture is larger than {max_bytes} bytes"),
                        ));
                    }
                    Some(pb::asset_content_chunk::Part::Data(data)) => {
                        if (bytes.len() + data.len()) as u64 > max_bytes {
                            return Err(CampaignError::invalid(
                                "asset_too_large",
                                format!("the picture is larger than {max_bytes} bytes"),
                            ));
                        }
                        bytes.extend_from_slice(&data);
                    }
                    _ => {}
                }
            }
            Ok(Bytes::from(bytes))
        };
        tokio::time::timeout(TRANSFER_TIMEOUT, fetch)
            .await
            .map_err(|_| {
                CampaignError::Internal("reading the asset from content timed out".into())
            })?
    }

    async fn upload(&self, owner: &Principal, asset: NewAsset) -> Result<String> {
        let size = asset.bytes.len() as u64;
        let mut chunks = vec![pb::UploadAssetChunk {
            part: Some(pb::upload_asset_chunk::Part::Metadata(pb::UploadMetadata {
                title: asset.title,
                description: asset.description,
                tags: asset.tags,
                filename: asset.filename,
            })),
        }];
        let mut offset = 0;
        while offset < asset.bytes.len() {
            let end = (offset + CHUNK).min(asset.bytes.len());
            chunks.push(pb::UploadAssetChunk {
                part: Some(pb::upload_asset_chunk::Part::Data(
                    asset.bytes[offset..end].to_vec(),
                )),
            });
            offset = end;
        }
        chunks.push(pb::UploadAssetChunk {
            part: Some(pb::upload_asset_chunk::Part::End(pb::UploadEnd {
                size_bytes: size,
            })),
        });
        let request = grpc::stream_for_caller(owner, futures::stream::iter(chunks));
        let response =
            tokio::time::timeout(TRANSFER_TIMEOUT, self.content.grpc().upload_asset(request))
                .await
                .map_err(|_| CampaignError::Internal("uploading to content timed out".into()))??
                .into_inner();
        response
            .asset
            .map(|asset| asset.id)
            .ok_or_else(|| CampaignError::Internal("content answered no asset".into()))
    }
}
