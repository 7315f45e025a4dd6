//! Human moderation: the queue of processed assets waiting for a decision, and
//! approve / reject with a reason. Every decision is recorded (`moderation_decisions`)
//! and published (`asset.approved` / `asset.rejected`).

use super::assets::{page_size, parse_cursor};
use super::{Asset, AssetStatus, Content, ModerationState, is_moderator};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use crate::store::entities::moderation_decision;
use marquee_platform::Principal;
use marquee_platform::input::{self, fields};

pub const MAX_REASON_CHARS: usize = fields::DECISION_REASON.max_chars;

fn moderator(caller: &Principal) -> Result<()> {
    if is_moderator(caller) {
        Ok(())
    } else {
        Err(ContentError::Forbidden("the moderator role is required"))
    }
}

impl Content {
    /// Assets waiting for review, oldest first.
    pub async fn review_queue(
        &self,
        caller: &Principal,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<(Vec<Asset>, Option<String>)> {
        moderator(caller)?;
        let limit = page_size(limit);
        let assets =
            store::assets::review_queue(&self.db, &caller.tenant_id, parse_cursor(cursor)?, limit)
                .await?;
        let next = (assets.len() as u64 == limit)
            .then(|| assets.last().map(|a| a.id.clone()))
            .flatten();
        Ok((assets, next))
    }

    /// Approves or rejects an asset. Rejections need a reason. An asset still being
    /// processed may be decided early: the decision applies when processing finishes.
    pub async fn moderate(
        &self,
        caller: &Principal,
        id: &str,
        approve: bool,
        reason: &str,
    ) -> Result<Asset> {
        moderator(caller)?;
        input::id("id", id)?;
        if approve {
            fields::DECISION_REASON.check(reason)?;
        } else {
            fields::REJECTION_REASON.check(reason)?;
        }
        let reason = reason.trim();
        let txn = marquee_db::begin_write(&self.db).await?;
        let mut asset = store::assets::find_for_update(&txn, &caller.tenant_id, id)
            .await?
            .ok_or(ContentError::NotFound("asset"))?;
        if asset.status == AssetStatus::Failed {
            return Err(ContentError::conflict(
                "not_reviewable",
                "the asset failed processing; it cannot be reviewed",
            ));
        }
        let now = chrono::Utc::now();
        asset.moderation = if approve {
            ModerationState::Approved
        } else {
            ModerationState::Rejected
        };
        if asset.status != AssetStatus::Processing {
            asset.status = if approve {
                AssetStatus::Ready
            } else {
                AssetStatus::Rejected
            };
        }
        asset.status_reason = if approve {
            String::new()
        } else {
            reason.to_string()
        };
        asset.updated_at = now;
        let asset = store::assets::save(&txn, asset).await?;
        store::moderation::insert(
            &txn,
            moderation_decision::Model {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: caller.tenant_id.clone(),
                asset_id: asset.id.clone(),
                moderator_id: caller.subject.clone(),
                decision: asset.moderation,
                reason: reason.to_string(),
                created_at: now,
            },
        )
        .await?;
        publish::asset_moderated(&txn, &asset, &caller.subject, approve, reason).await?;
        txn.commit().await?;
        self.wake_relay();
        tracing::info!(asset_id = %asset.id, moderator = %caller.subject, approve, "moderation decision");
        Ok(asset)
    }
}
