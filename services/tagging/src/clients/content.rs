//! Content's `GetAssetContent`: an image's thumbnail (enough for a 224-pixel model and
//! small), else its published copy, at most `max_bytes`.

use crate::domain::tagger::ImageSource;
use crate::error::{Result, TaggingError};
use async_trait::async_trait;
use futures::StreamExt;
use marquee_clients::ContentClient;
use marquee_platform::grpc;
use marquee_platform::service_identity::{SERVICE_SUBJECT_PREFIX, ServiceIdentity};
use marquee_platform::{Principal, PrincipalKind, Role, Scope};
use marquee_proto::content::v1 as pb;
use std::time::Duration;

/// Longest a fetch may take, start to end.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ContentImages {
    content: ContentClient,
}

impl ContentImages {
    pub fn connect_lazy(url: &str, identity: ServiceIdentity) -> anyhow::Result<Self> {
        Ok(Self {
            content: ContentClient::connect_lazy(url, identity)?,
        })
    }

    /// Who tagging reads as: a moderator of the asset's tenant (it reads assets before
    /// they are approved). Content accepts a `service:tagging` principal only inside an
    /// identity tagging signed (`marquee_platform::service_identity`).
    fn reader(tenant_id: &str) -> Principal {
        Principal {
            kind: PrincipalKind::Client,
            subject: format!("{SERVICE_SUBJECT_PREFIX}tagging"),
            tenant_id: tenant_id.into(),
            roles: vec![Role::Moderator],
            scopes: vec![Scope::AssetsRead],
        }
    }

    async fn fetch(
        &self,
        tenant_id: &str,
        asset_id: &str,
        variant: pb::ContentVariant,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>> {
        let request = pb::GetAssetContentRequest {
            id: asset_id.to_string(),
            variant: variant as i32,
            range: None,
            signed: None,
        };
        let response = self
            .content
            .grpc()
            .get_asset_content(grpc::stream_for_caller(&Self::reader(tenant_id), request))
            .await;
        let mut stream = match response {
            Ok(response) => response.into_inner(),
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::NotFound | tonic::Code::FailedPrecondition
                ) =>
            {
                return Ok(None);
            }
            Err(status) => return Err(status.into()),
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk?.part {
                Some(pb::asset_content_chunk::Part::Header(header))
                    if header.total_size > max_bytes =>
                {
                    return Err(TaggingError::invalid(
                        "image_too_large",
                        format!("{} bytes is more than {max_bytes}", header.total_size),
                    ));
                }
                Some(pb::asset_content_chunk::Part::Data(data)) => {
                    if (bytes.len() + data.len()) as u64 > max_bytes {
                        return Err(TaggingError::invalid(
                            "image_too_large",
                            format!("more than {max_bytes} bytes"),
                        ));
                    }
                    bytes.extend_from_slice(&data);
                }
                Some(pb::asset_content_chunk::Part::Header(_)) | None => {}
            }
        }
        Ok(Some(bytes))
    }
}

#[async_trait]
impl ImageSource for ContentImages {
    async fn image_bytes(
        &self,
        tenant_id: &str,
        asset_id: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>> {
        let fetch = async {
            if let Some(bytes) = self
                .fetch(
                    tenant_id,
                    asset_id,
                    pb::ContentVariant::Thumbnail,
                    max_bytes,
                )
                .await?
            {
                return Ok(Some(bytes));
            }
            self.fetch(
                tenant_id,
                asset_id,
                pb::ContentVariant::Unspecified,
                max_bytes,
            )
            .await
        };
        tokio::time::timeout(FETCH_TIMEOUT, fetch)
            .await
            .map_err(|_| {
                TaggingError::Internal("fetching the image from content timed out".into())
            })?
    }
}
