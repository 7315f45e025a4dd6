//! The domain's `Publisher` port over the connectors: builds (and keeps, so a Bluesky
//! session is reused) one connector per stored connector, refuses destinations on
//! private networks unless allowed (a connector's URL is the creator's input: without
//! this check the scheduler could be made to POST into the cluster), and turns the
//! outcome into the domain's delivery report.

use super::{
    BlueskyConfig, BlueskyConnector, Connector, MastodonConfig, MastodonConnector, Media,
    OutgoingPost, PublishError, WebhookConfig, WebhookConnector,
};
use crate::clients::web::is_public_address;
use crate::domain::connectors::{Delivered, DeliveryFailure, Destination, Outgoing, Publisher};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct Connectors {
    allow_private: bool,
    built: Mutex<HashMap<String, Arc<dyn Connector>>>,
}

impl Connectors {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        Ok(Self {
            allow_private,
            built: Mutex::new(HashMap::new()),
        })
    }

    fn build(&self, destination: &Destination) -> Result<Arc<dyn Connector>, DeliveryFailure> {
        if let Ok(built) = self.built.lock()
            && let Some(connector) = built.get(&destination.connector_id)
        {
            return Ok(connector.clone());
        }
        let url = url::Url::parse(&destination.endpoint)
            .map_err(|_| permanent("the connector's endpoint is not a URL"))?;
        let connector: Arc<dyn Connector> = match destination.kind.as_str() {
            "webhook" => {
                let mut config = WebhookConfig::new(url, destination.secret.clone());
                if !self.allow_private {
                    // Checked again on the address actually connected to (no rebinding).
                    config.address_filter = Some(Arc::new(is_public_address));
                }
                Arc::new(WebhookConnector::new(config).map_err(failure)?)
            }
            "bluesky" => {
                let mut config =
                    BlueskyConfig::new(destination.account.clone(), destination.secret.clone());
                config.service_url = url;
                Arc::new(BlueskyConnector::new(config).map_err(failure)?)
            }
            "mastodon" => Arc::new(
                MastodonConnector::new(MastodonConfig::new(url, destination.secret.clone()))
                    .map_err(failure)?,
            ),
            other => return Err(permanent(&format!("unknown connector kind {other}"))),
        };
        if let Ok(mut built) = self.built.lock() {
            built.insert(destination.connector_id.clone(), connector.clone());
        }
        Ok(connector)
    }

    /// Refuses an endpoint whose host resolves to a private, loopback or link-local
    /// address (unless allowed by configuration, for tests and development).
    async fn check_endpoint(&self, endpoint: &str) -> Result<(), DeliveryFailure> {
        if self.allow_private {
            return Ok(());
        }
        let url = url::Url::parse(endpoint)
            .map_err(|_| permanent("the connector's endpoint is not a URL"))?;
        let host = url
            .host_str()
            .ok_or_else(|| permanent("the connector's endpoint has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| DeliveryFailure {
                message: "the connector's host does not resolve".into(),
                retry: true,
                attempts: 0,
                status_code: 0,
            })?;
        for address in addresses {
            if !is_public_address(address.ip()) {
                return Err(permanent(
                    "the connector's endpoint is on a private network; refused",
                ));
            }
        }
        Ok(())
    }
}

fn permanent(message: &str) -> DeliveryFailure {
    DeliveryFailure {
        message: message.to_string(),
        retry: false,
        attempts: 0,
        status_code: 0,
    }
}

fn failure(error: PublishError) -> DeliveryFailure {
    let attempts = error.log().len() as u32;
    DeliveryFailure {
        retry: error.is_transient(),
        status_code: error.status_code().unwrap_or(0),
        attempts,
        message: error.to_string(),
    }
}

#[async_trait]
impl Publisher for Connectors {
    async fn publish(
        &self,
        destination: &Destination,
        post: &Outgoing,
    ) -> Result<Delivered, DeliveryFailure> {
        self.check_endpoint(&destination.endpoint).await?;
        let connector = self.build(destination)?;
        let outgoing = OutgoingPost {
            post_id: post.post_id.clone(),
            campaign_id: post.campaign_id.clone(),
            platform: post.platform.as_str().to_string(),
            text: post.text.clone(),
            hashtags: post.hashtags.clone(),
            media: post
                .media
                .iter()
                .map(|m| Media {
                    content_type: m.content_type.clone(),
                    bytes: m.bytes.clone(),
                    alt: m.alt.clone(),
                })
                .collect(),
            scheduled_at: post.scheduled_at,
            language: None,
        };
        let delivery = connector.publish(&outgoing).await.map_err(failure)?;
        Ok(Delivered {
            remote_id: delivery.remote_id.unwrap_or_default(),
            remote_url: delivery.remote_url.unwrap_or_default(),
            attempts: delivery.attempts,
            status_code: delivery.status_code.unwrap_or(0),
        })
    }
}
