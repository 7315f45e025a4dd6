//! Comments on assets, with the spam rules: only on `ready` (approved) assets; a
//! length limit, a link limit, blocked terms, duplicate detection and a per-user rate
//! limit; reports that hide a comment pending review once `report_hide_threshold`
//! distinct users reported it; and the moderators' review of reported comments.

use super::assets::{page_size, parse_cursor};
use super::community::require_user;
use super::moderation::blocked_term_flags;
use super::spam::{self, Action, Limit};
use super::{AssetStatus, Comment, Content, is_moderator};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use crate::store::entities::{comment, comment_report};
use marquee_platform::Principal;
use marquee_platform::input::{self, Text, fields};

/// Comment states.
pub mod comment_status {
    pub const VISIBLE: &str = "visible";
    /// Reported by enough users; waiting for a moderator.
    pub const HIDDEN: &str = "hidden";
    /// Removed by a moderator (kept for the record, shown to no one).
    pub const REMOVED: &str = "removed";
}

pub const MAX_REPORT_REASON_CHARS: usize = fields::REPORT_REASON.max_chars;

impl Content {
    /// Posts a comment on an asset the caller can see and that is `ready`.
    pub async fn create_comment(
        &self,
        caller: &Principal,
        asset_id: &str,
        body: &str,
    ) -> Result<Comment> {
        require_user(caller)?;
        let asset = self.asset(caller, asset_id).await?;
        if asset.status != AssetStatus::Ready {
            return Err(ContentError::conflict(
                "asset_not_commentable",
                "only approved, processed assets can be commented",
            ));
        }
        let settings = &self.settings;
        Text {
            max_chars: settings.comment_max_chars,
            ..fields::COMMENT_BODY
        }
        .check(body)?;
        let body = body.trim();
        let links = spam::count_links(body);
        if links > settings.comment_max_links as usize {
            return Err(ContentError::invalid(
                "too_many_links",
                format!(
                    "a comment may contain at most {} links",
                    settings.comment_max_links
                ),
            ));
        }
        let blocked = blocked_term_flags(&settings.blocked_terms, [body]);
        if !blocked.is_empty() {
            return Err(ContentError::invalid(
                "blocked_term",
                "the comment contains a blocked term",
            ));
        }
        let now = chrono::Utc::now();
        let hash = spam::body_hash(body);
        let txn = marquee_db::begin_write(&self.db).await?;
        if settings.duplicate_comment_window_secs > 0 {
            let since = now
                - chrono::Duration::seconds(
                    i64::try_from(settings.duplicate_comment_window_secs).unwrap_or(i64::MAX),
                );
            if store::community::recent_duplicate(
                &txn,
                &caller.tenant_id,
                &caller.subject,
                &hash,
                since,
            )
            .await?
            {
                return Err(ContentError::conflict(
                    "duplicate_comment",
                    "you posted the same comment a moment ago",
                ));
            }
        }
        spam::take(
            &txn,
            &caller.tenant_id,
            &caller.subject,
            Action::Comment,
            Limit {
                max: settings.comments_per_window,
                window_secs: settings.comment_window_secs,
            },
        )
        .await?;
        let comment = store::community::insert_comment(
            &txn,
            comment::Model {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: caller.tenant_id.clone(),
                asset_id: asset.id.clone(),
                author_id: caller.subject.clone(),
                body: body.to_string(),
                body_hash: hash,
                status: comment_status::VISIBLE.to_string(),
                report_count: 0,
                created_at: now,
                updated_at: now,
            },
        )
        .await?;
        publish::comment_created(&txn, &comment, &asset.owner_id).await?;
        txn.commit().await?;
        self.wake_relay();
        Ok(comment)
    }

    /// Comments on an asset the caller can see, newest first. Hidden (reported)
    /// comments are listed for moderators only; removed ones for no one.
    pub async fn list_comments(
        &self,
        caller: &Principal,
        asset_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<(Vec<Comment>, Option<String>)> {
        let asset = self.asset(caller, asset_id).await?;
        let statuses: &[&str] = if is_moderator(caller) {
            &[comment_status::VISIBLE, comment_status::HIDDEN]
        } else {
            &[comment_status::VISIBLE]
        };
        let limit = page_size(limit);
        let comments = store::community::list_comments(
            &self.db,
            &caller.tenant_id,
            &asset.id,
            statuses,
            parse_cursor(cursor)?,
            limit,
        )
        .await?;
        let next = (comments.len() as u64 == limit)
            .then(|| comments.last().map(|c| c.id.clone()))
            .flatten();
        Ok((comments, next))
    }

    /// A comment the caller may act on: in their tenant, on an asset they can see, not
    /// removed, and not hidden unless they wrote it or moderate.
    async fn reachable_comment(&self, caller: &Principal, id: &str) -> Result<Comment> {
        input::id("id", id)?;
        let comment = store::community::find_comment(&self.db, &caller.tenant_id, id)
            .await?
            .ok_or(ContentError::NotFound("comment"))?;
        let moderator = is_moderator(caller);
        let hidden_from_caller = comment.status == comment_status::REMOVED
            || (comment.status == comment_status::HIDDEN
                && !moderator
                && comment.author_id != caller.subject);
        if hidden_from_caller {
            return Err(ContentError::NotFound("comment"));
        }
        self.asset(caller, &comment.asset_id)
            .await
            .map_err(|_| ContentError::NotFound("comment"))?;
        Ok(comment)
    }

    /// One comment, as far as the caller may see it (see `reachable_comment`).
    pub async fn get_comment(&self, caller: &Principal, id: &str) -> Result<Comment> {
        self.reachable_comment(caller, id).await
    }

    /// Deletes a comment (its author or a moderator).
    pub async fn delete_comment(&self, caller: &Principal, id: &str) -> Result<()> {
        let comment = self.reachable_comment(caller, id).await?;
        if comment.author_id != caller.subject && !is_moderator(caller) {
            return Err(ContentError::Forbidden(
                "only the author or a moderator can delete a comment",
            ));
        }
        let txn = marquee_db::begin_write(&self.db).await?;
        store::community::delete_comment(&txn, &caller.tenant_id, &comment.id).await?;
        txn.commit().await?;
        tracing::info!(comment_id = %comment.id, by = %caller.subject, "comment deleted");
        Ok(())
    }

    /// Reports a comment (once per user; reporting again changes nothing). At
    /// `report_hide_threshold` distinct reports it is hidden pending review. Returns
    /// whether it is hidden now.
    pub async fn report_comment(&self, caller: &Principal, id: &str, reason: &str) -> Result<bool> {
        require_user(caller)?;
        fields::REPORT_REASON.check(reason)?;
        let reason = reason.trim();
        let comment = self.reachable_comment(caller, id).await?;
        if comment.author_id == caller.subject {
            return Err(ContentError::invalid(
                "cannot_report_own_comment",
                "you cannot report your own comment",
            ));
        }
        let txn = marquee_db::begin_write(&self.db).await?;
        let inserted = store::community::insert_report(
            &txn,
            comment_report::Model {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: caller.tenant_id.clone(),
                comment_id: comment.id.clone(),
                reporter_id: caller.subject.clone(),
                reason: reason.to_string(),
                created_at: chrono::Utc::now(),
            },
        )
        .await;
        match inserted {
            Ok(()) => {}
            Err(error) if store::is_unique_violation(&error) => {
                txn.rollback().await?;
                return Ok(comment.status == comment_status::HIDDEN);
            }
            Err(error) => return Err(error.into()),
        }
        let reports = store::community::count_reports(&txn, &caller.tenant_id, &comment.id).await?;
        let mut comment = comment;
        comment.report_count = i32::try_from(reports).unwrap_or(i32::MAX);
        if reports >= u64::from(self.settings.report_hide_threshold.max(1))
            && comment.status == comment_status::VISIBLE
        {
            comment.status = comment_status::HIDDEN.to_string();
            tracing::info!(comment_id = %comment.id, reports, "comment hidden pending review");
        }
        comment.updated_at = chrono::Utc::now();
        let comment = store::community::save_comment(&txn, comment).await?;
        txn.commit().await?;
        Ok(comment.status == comment_status::HIDDEN)
    }

    /// Reported comments (hidden or not yet), oldest first (moderators).
    pub async fn reported_comments(
        &self,
        caller: &Principal,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<(Vec<Comment>, Option<String>)> {
        if !is_moderator(caller) {
            return Err(ContentError::Forbidden("the moderator role is required"));
        }
        let limit = page_size(limit);
        let comments = store::community::reported_comments(
            &self.db,
            &caller.tenant_id,
            parse_cursor(cursor)?,
            limit,
        )
        .await?;
        let next = (comments.len() as u64 == limit)
            .then(|| comments.last().map(|c| c.id.clone()))
            .flatten();
        Ok((comments, next))
    }

    /// Restores a reported comment (visible, reports cleared) or removes it for good
    /// (moderators).
    pub async fn moderate_comment(
        &self,
        caller: &Principal,
        id: &str,
        restore: bool,
    ) -> Result<Comment> {
        if !is_moderator(caller) {
            return Err(ContentError::Forbidden("the moderator role is required"));
        }
        input::id("id", id)?;
        let mut comment = store::community::find_comment(&self.db, &caller.tenant_id, id)
            .await?
            .filter(|c| c.status != comment_status::REMOVED)
            .ok_or(ContentError::NotFound("comment"))?;
        let txn = marquee_db::begin_write(&self.db).await?;
        comment.status = if restore {
            comment_status::VISIBLE
        } else {
            comment_status::REMOVED
        }
        .to_string();
        comment.report_count = 0;
        comment.updated_at = chrono::Utc::now();
        store::community::delete_reports(&txn, &caller.tenant_id, &comment.id).await?;
        let comment = store::community::save_comment(&txn, comment).await?;
        txn.commit().await?;
        tracing::info!(comment_id = %comment.id, moderator = %caller.subject, restore, "comment moderated");
        Ok(comment)
    }
}
