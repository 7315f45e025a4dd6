//! Tagging's taxonomy: the `Taxonomy` port.

use crate::domain::Taxonomy;
use crate::error::Result;
use async_trait::async_trait;
use marquee_clients::TaggingClient;
use marquee_platform::Principal;
use marquee_platform::grpc;
use marquee_platform::service_identity::ServiceIdentity;
use marquee_proto::tagging::v1 as pb;

pub struct TaggingTaxonomy {
    tagging: TaggingClient,
}

impl TaggingTaxonomy {
    pub fn connect_lazy(url: &str, identity: ServiceIdentity) -> anyhow::Result<Self> {
        Ok(Self {
            tagging: TaggingClient::connect_lazy(url, identity)?,
        })
    }
}

#[async_trait]
impl Taxonomy for TaggingTaxonomy {
    async fn labels(&self, owner: &Principal) -> Result<Vec<String>> {
        let taxonomy = self
            .tagging
            .grpc()
            .get_taxonomy(grpc::for_caller(owner, pb::GetTaxonomyRequest {}))
            .await?
            .into_inner();
        Ok(taxonomy
            .labels
            .into_iter()
            .map(|label| label.name)
            .collect())
    }
}
