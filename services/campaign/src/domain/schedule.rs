//! The calendar and the publisher: selected posts get times (start + interval, or one
//! per post, entered in the creator's time zone and stored in UTC); a scheduler on every
//! replica publishes due posts. A post is claimed with a conditional update before it is
//! sent, so with several replicas each post is published once; a replica that dies
//! mid-publish leaves a claim that runs out and the post is tried again, and connectors
//! already delivered to are not sent to twice (the delivery log says which).

use super::connectors::{DeliveryFailure, Outgoing, OutgoingMedia};
use super::posts::{Post, post_status};
use super::{Studio, new_id};
use crate::error::{CampaignError, Result};
use crate::events;
use crate::store;
use crate::store::entities::delivery::Model as DeliveryRow;
use chrono::{DateTime, Duration as Span, Utc};
use marquee_platform::Principal;
use marquee_platform::input::fields::campaign as rules;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a publishing claim holds.
const CLAIM: Span = Span::minutes(2);
/// Publishing tries before a post is marked failed, and the wait between them.
const MAX_PUBLISH_ATTEMPTS: i32 = 5;
const RETRY_BACKOFF: Span = Span::seconds(30);
/// Due posts taken per pass.
const BATCH: u64 = 20;
/// Largest picture attached to a post.
const MAX_MEDIA_BYTES: u64 = 8 * 1024 * 1024;

/// When posts go out.
#[derive(Debug, Clone)]
pub enum Plan {
    /// The selected posts, in order, from `start` every `interval_minutes`.
    Every {
        start: DateTime<Utc>,
        interval_minutes: u32,
    },
    /// A time per post.
    At(Vec<(String, DateTime<Utc>)>),
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub post_id: String,
    pub connector_id: String,
    pub connector_kind: String,
    pub status: String,
    pub attempts: u32,
    pub status_code: u32,
    pub remote_id: String,
    pub remote_url: String,
    pub error: String,
    pub at: DateTime<Utc>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Self {
            id: row.id,
            post_id: row.post_id,
            connector_id: row.connector_id,
            connector_kind: row.connector_kind,
            status: row.status,
            attempts: row.attempts.max(0) as u32,
            status_code: row.status_code.max(0) as u32,
            remote_id: row.remote_id,
            remote_url: row.remote_url,
            error: row.error,
            at: row.at,
        }
    }
}

fn check_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if at < now - Span::minutes(1) {
        return Err(CampaignError::invalid(
            "schedule_in_past",
            "posts are scheduled in the future",
        ));
    }
    if at > now + Span::days(rules::MAX_SCHEDULE_DAYS) {
        return Err(CampaignError::invalid(
            "schedule_too_far",
            format!(
                "posts are scheduled at most {} days ahead",
                rules::MAX_SCHEDULE_DAYS
            ),
        ));
    }
    Ok(())
}

impl Studio {
    pub async fn schedule(
        &self,
        caller: &Principal,
        campaign_id: &str,
        plan: Plan,
    ) -> Result<super::campaigns::Campaign> {
        let campaign = self.campaign(caller, campaign_id).await?;
        let now = Utc::now();
        let times: Vec<(String, DateTime<Utc>)> = match plan {
            Plan::Every {
                start,
                interval_minutes,
            } => {
                if interval_minutes == 0 || interval_minutes > rules::MAX_INTERVAL_MINUTES {
                    return Err(CampaignError::invalid(
                        "invalid_interval",
                        format!("interval_minutes is 1 to {}", rules::MAX_INTERVAL_MINUTES),
                    ));
                }
                let chosen: Vec<&Post> = campaign
                    .posts
                    .iter()
                    .filter(|p| p.selected && !p.is_locked())
                    .collect();
                if chosen.is_empty() {
                    return Err(CampaignError::invalid(
                        "nothing_to_schedule",
                        "select at least one unpublished post",
                    ));
                }
                chosen
                    .iter()
                    .enumerate()
                    .map(|(i, post)| {
                        (
                            post.id.clone(),
                            start + Span::minutes(i64::from(interval_minutes) * i as i64),
                        )
                    })
                    .collect()
            }
            Plan::At(times) => {
                if times.is_empty() {
                    return Err(CampaignError::invalid(
                        "nothing_to_schedule",
                        "give start_at or times",
                    ));
                }
                times
            }
        };
        for (post_id, at) in &times {
            check_time(*at, now)?;
            let post = campaign
                .posts
                .iter()
                .find(|p| &p.id == post_id)
                .ok_or(CampaignError::NotFound("post"))?;
            if post.is_locked() {
                return Err(CampaignError::conflict(
                    "post_published",
                    "a published post cannot be scheduled again",
                ));
            }
        }
        store::posts::schedule(&self.db, &campaign.id, &times).await?;
        self.campaign(caller, campaign_id).await
    }

    pub async fn unschedule(
        &self,
        caller: &Principal,
        campaign_id: &str,
        post_ids: &[String],
    ) -> Result<super::campaigns::Campaign> {
        let campaign = self.load_campaign(caller, campaign_id).await?;
        store::posts::unschedule(&self.db, &campaign.id, post_ids).await?;
        self.campaign(caller, campaign_id).await
    }

    pub async fn deliveries(&self, caller: &Principal, campaign_id: &str) -> Result<Vec<Delivery>> {
        let campaign = self.load_campaign(caller, campaign_id).await?;
        Ok(store::deliveries::of_campaign(&self.db, &campaign.id)
            .await?
            .into_iter()
            .map(Delivery::from)
            .collect())
    }

    /// Publishes due posts every `interval` until `shutdown`.
    pub async fn run_scheduler_until_stopped(
        self,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        loop {
            if let Err(error) = self.publish_due().await {
                tracing::warn!(%error, "publishing due posts failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One pass: claim each due post and publish it.
    pub async fn publish_due(&self) -> Result<usize> {
        let now = Utc::now();
        let mut published = 0;
        for row in store::posts::due(&self.db, now, BATCH).await? {
            if !store::posts::claim(&self.db, &row.id, now, now + CLAIM).await? {
                continue; // another replica took it
            }
            let attempts = row.publish_attempts + 1;
            let post = Post::from_row(row)?;
            match self.publish_post(&post).await {
                Ok(()) => {
                    store::posts::mark_published(&self.db, &post.id, Utc::now()).await?;
                    let txn = marquee_db::begin_write(&self.db).await?;
                    events::publish::post_published(&txn, &post).await?;
                    txn.commit().await?;
                    self.wake_relay();
                    metrics::counter!("marquee_campaign_posts_published_total", "platform" => post.platform.as_str()).increment(1);
                    published += 1;
                }
                Err(failure) if failure.retry && attempts < MAX_PUBLISH_ATTEMPTS => {
                    store::posts::retry_later(
                        &self.db,
                        &post.id,
                        attempts,
                        Utc::now() + RETRY_BACKOFF * attempts,
                        &failure.message,
                    )
                    .await?;
                }
                Err(failure) => {
                    store::posts::mark_failed(&self.db, &post.id, attempts, &failure.message)
                        .await?;
                    metrics::counter!("marquee_campaign_posts_failed_total", "platform" => post.platform.as_str()).increment(1);
                }
            }
        }
        Ok(published)
    }

    /// Sends a post to each of its owner's connectors for the platform that has not had
    /// it yet, logging every delivery.
    async fn publish_post(&self, post: &Post) -> std::result::Result<(), DeliveryFailure> {
        let internal = |error: CampaignError| DeliveryFailure {
            message: error.to_string(),
            retry: true,
            attempts: 0,
            status_code: 0,
        };
        let destinations = self
            .destinations(&post.tenant_id, &post.owner_id, post.platform)
            .await
            .map_err(internal)?;
        if destinations.is_empty() {
            return Err(DeliveryFailure {
                message: format!("no connector publishes to {}", post.platform.label()),
                retry: false,
                attempts: 0,
                status_code: 0,
            });
        }
        let done = store::deliveries::delivered_connectors(&self.db, &post.id)
            .await
            .map_err(|e| internal(e.into()))?;
        let outgoing = Outgoing {
            post_id: post.id.clone(),
            campaign_id: post.campaign_id.clone(),
            platform: post.platform,
            text: post.content.clone(),
            hashtags: post.hashtags.clone(),
            media: self.media_of(post).await,
            scheduled_at: post.scheduled_at.unwrap_or_else(Utc::now),
        };
        let mut first_failure: Option<DeliveryFailure> = None;
        for destination in destinations {
            if done.contains(&destination.connector_id) {
                continue;
            }
            let result = self.publishers.publish(&destination, &outgoing).await;
            let row = match &result {
                Ok(delivered) => DeliveryRow {
                    id: new_id(),
                    tenant_id: post.tenant_id.clone(),
                    campaign_id: post.campaign_id.clone(),
                    post_id: post.id.clone(),
                    connector_id: destination.connector_id.clone(),
                    connector_kind: destination.kind.clone(),
                    status: "delivered".into(),
                    attempts: delivered.attempts as i32,
                    status_code: i32::from(delivered.status_code),
                    remote_id: delivered.remote_id.clone(),
                    remote_url: delivered.remote_url.clone(),
                    error: String::new(),
                    at: Utc::now(),
                },
                Err(failure) => DeliveryRow {
                    id: new_id(),
                    tenant_id: post.tenant_id.clone(),
                    campaign_id: post.campaign_id.clone(),
                    post_id: post.id.clone(),
                    connector_id: destination.connector_id.clone(),
                    connector_kind: destination.kind.clone(),
                    status: "failed".into(),
                    attempts: failure.attempts as i32,
                    status_code: i32::from(failure.status_code),
                    remote_id: String::new(),
                    remote_url: String::new(),
                    error: failure.message.clone(),
                    at: Utc::now(),
                },
            };
            store::deliveries::insert(&self.db, row)
                .await
                .map_err(|e| internal(e.into()))?;
            if let Err(failure) = result {
                tracing::warn!(post = %post.id, connector = %destination.kind, error = %failure.message, "delivery failed");
                first_failure.get_or_insert(failure);
            }
        }
        match first_failure {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// The post's picture, if it has one (best effort: a missing picture publishes the
    /// text alone).
    async fn media_of(&self, post: &Post) -> Vec<OutgoingMedia> {
        let Some(asset_id) = &post.asset_id else {
            return Vec::new();
        };
        let owner = Principal {
            kind: marquee_platform::PrincipalKind::User,
            subject: post.owner_id.clone(),
            tenant_id: post.tenant_id.clone(),
            roles: vec![marquee_platform::Role::Creator],
            scopes: vec![marquee_platform::Scope::AssetsRead],
        };
        match self.assets.picture(&owner, asset_id, MAX_MEDIA_BYTES).await {
            Ok(bytes) => {
                let content_type = sniff_image(&bytes);
                match content_type {
                    Some(content_type) => vec![OutgoingMedia {
                        content_type: content_type.into(),
                        bytes,
                        alt: post.media_prompt.chars().take(1000).collect(),
                    }],
                    None => Vec::new(),
                }
            }
            Err(error) => {
                tracing::warn!(post = %post.id, %error, "the post's picture is unavailable; publishing text only");
                Vec::new()
            }
        }
    }
}

fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF8") {
        Some("image/gif")
    } else {
        None
    }
}

/// Posts scheduled by status (for the API).
pub fn is_scheduled(post: &Post) -> bool {
    post.status == post_status::SCHEDULED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_must_be_ahead_but_not_too_far() {
        let now = Utc::now();
        assert!(check_time(now + Span::minutes(5), now).is_ok());
        assert!(check_time(now - Span::hours(1), now).is_err());
        assert!(check_time(now + Span::days(400), now).is_err());
    }

    #[test]
    fn pictures_are_sniffed() {
        assert_eq!(sniff_image(b"\x89PNG\r\n"), Some("image/png"));
        assert_eq!(sniff_image(b"<svg"), None);
    }
}
