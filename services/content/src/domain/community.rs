//! Creator profiles and follows. A creator exists in a tenant once they have a profile
//! or an asset there; any other id (including every id of another tenant) is a 404.
//! `me` names the caller.

use super::assets::{page_size, parse_cursor};
use super::spam::{self, Action, Limit};
use super::{AssetStatus, Content};
use crate::error::{ContentError, Result};
use crate::events::publish;
use crate::store;
use crate::store::entities::{creator_profile, follow};
use marquee_platform::input::{self, Text, fields};
use marquee_platform::{Principal, PrincipalKind};

pub const MAX_DISPLAY_NAME_CHARS: usize = fields::PROFILE_NAME.max_chars;
pub const MAX_BIO_CHARS: usize = fields::BIO.max_chars;

/// A creator's profile with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub bio: String,
    pub avatar_asset_id: Option<String>,
    pub followers: u64,
    pub following: u64,
    pub followed_by_me: bool,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    /// `Some("")` clears the avatar.
    pub avatar_asset_id: Option<String>,
}

/// One row of a follower / following list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowEntry {
    pub user_id: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// Community actions are for people, not partner clients.
pub(crate) fn require_user(caller: &Principal) -> Result<()> {
    if caller.kind == PrincipalKind::User {
        Ok(())
    } else {
        Err(ContentError::Forbidden(
            "only users can do this, not API clients",
        ))
    }
}

fn resolve<'a>(caller: &'a Principal, id: &'a str) -> &'a str {
    if id == "me" { &caller.subject } else { id }
}

/// Checks text as sent (the shared rule), then trims it.
fn check_text(value: &str, rule: &Text) -> Result<String> {
    rule.check(value)?;
    Ok(value.trim().to_string())
}

impl Content {
    /// Whether `user_id` is a creator of the caller's tenant.
    async fn creator_exists(&self, caller: &Principal, user_id: &str) -> Result<bool> {
        if user_id == caller.subject {
            return Ok(true);
        }
        Ok(
            store::community::profile(&self.db, &caller.tenant_id, user_id)
                .await?
                .is_some()
                || store::community::has_assets(&self.db, &caller.tenant_id, user_id).await?,
        )
    }

    async fn existing_creator(&self, caller: &Principal, id: &str) -> Result<String> {
        input::id("id", id)?;
        let id = resolve(caller, id).to_string();
        if id.is_empty() || !self.creator_exists(caller, &id).await? {
            return Err(ContentError::NotFound("creator"));
        }
        Ok(id)
    }

    /// A creator's profile and counts.
    pub async fn creator(&self, caller: &Principal, id: &str) -> Result<Creator> {
        let id = self.existing_creator(caller, id).await?;
        self.creator_view(caller, &id).await
    }

    async fn creator_view(&self, caller: &Principal, id: &str) -> Result<Creator> {
        let tenant = &caller.tenant_id;
        let profile = store::community::profile(&self.db, tenant, id).await?;
        let followers = store::community::count_followers(&self.db, tenant, id).await?;
        let following = store::community::count_following(&self.db, tenant, id).await?;
        let followed_by_me = store::community::find_follow(&self.db, tenant, &caller.subject, id)
            .await?
            .is_some();
        Ok(Creator {
            id: id.to_string(),
            tenant_id: tenant.clone(),
            display_name: profile
                .as_ref()
                .map(|p| p.display_name.clone())
                .unwrap_or_default(),
            bio: profile.as_ref().map(|p| p.bio.clone()).unwrap_or_default(),
            avatar_asset_id: profile.as_ref().and_then(|p| p.avatar_asset_id.clone()),
            followers,
            following,
            followed_by_me,
            updated_at: profile.map(|p| p.updated_at),
        })
    }

    /// Edits the caller's own profile (created on first edit). The avatar must be one
    /// of the caller's own image assets.
    pub async fn update_profile(
        &self,
        caller: &Principal,
        update: ProfileUpdate,
    ) -> Result<Creator> {
        require_user(caller)?;
        let now = chrono::Utc::now();
        let existing =
            store::community::profile(&self.db, &caller.tenant_id, &caller.subject).await?;
        let exists = existing.is_some();
        let mut profile = existing.unwrap_or_else(|| creator_profile::Model {
            tenant_id: caller.tenant_id.clone(),
            user_id: caller.subject.clone(),
            display_name: String::new(),
            bio: String::new(),
            avatar_asset_id: None,
            created_at: now,
            updated_at: now,
        });
        if let Some(name) = update.display_name {
            profile.display_name = check_text(&name, &fields::PROFILE_NAME)?;
        }
        if let Some(bio) = update.bio {
            profile.bio = check_text(&bio, &fields::BIO)?;
        }
        if let Some(avatar) = update.avatar_asset_id {
            let avatar = avatar.trim();
            profile.avatar_asset_id = if avatar.is_empty() {
                None
            } else if !input::is_id(avatar) {
                return Err(ContentError::invalid(
                    "invalid_avatar",
                    "the avatar must be one of your own image assets",
                ));
            } else {
                let asset = store::assets::find(&self.db, &caller.tenant_id, avatar).await?;
                match asset {
                    Some(asset) if asset.owner_id == caller.subject && asset.kind == "image" => {
                        if matches!(asset.status, AssetStatus::Failed | AssetStatus::Rejected) {
                            return Err(ContentError::invalid(
                                "invalid_avatar",
                                "the avatar asset failed processing or was rejected",
                            ));
                        }
                        Some(asset.id)
                    }
                    _ => {
                        return Err(ContentError::invalid(
                            "invalid_avatar",
                            "the avatar must be one of your own image assets",
                        ));
                    }
                }
            };
        }
        profile.updated_at = now;
        match store::community::save_profile(&self.db, profile.clone(), exists).await {
            Ok(_) => {}
            // A concurrent first edit created the profile meanwhile: this edit updates it.
            Err(error) if !exists && store::is_unique_violation(&error) => {
                store::community::save_profile(&self.db, profile, true).await?;
            }
            Err(error) => return Err(error.into()),
        }
        self.creator_view(caller, &caller.subject.clone()).await
    }

    /// Follows a creator. Idempotent: following again changes nothing (and does not
    /// count against the rate limit). Publishes `creator.followed` for a new follow.
    pub async fn follow(&self, caller: &Principal, creator_id: &str) -> Result<(bool, u64)> {
        require_user(caller)?;
        let creator_id = resolve(caller, creator_id).to_string();
        if creator_id == caller.subject {
            return Err(ContentError::invalid(
                "cannot_follow_self",
                "you cannot follow yourself",
            ));
        }
        let creator_id = self.existing_creator(caller, &creator_id).await?;
        let tenant = &caller.tenant_id;
        if store::community::find_follow(&self.db, tenant, &caller.subject, &creator_id)
            .await?
            .is_none()
        {
            let txn = marquee_db::begin_write(&self.db).await?;
            spam::take(
                &txn,
                tenant,
                &caller.subject,
                Action::Follow,
                Limit {
                    max: self.settings.follows_per_window,
                    window_secs: self.settings.follow_window_secs,
                },
            )
            .await?;
            let inserted = store::community::insert_follow(
                &txn,
                follow::Model {
                    id: uuid::Uuid::now_v7().to_string(),
                    tenant_id: tenant.clone(),
                    follower_id: caller.subject.clone(),
                    creator_id: creator_id.clone(),
                    created_at: chrono::Utc::now(),
                },
            )
            .await;
            match inserted {
                Ok(()) => {
                    publish::creator_followed(&txn, tenant, &caller.subject, &creator_id).await?;
                    txn.commit().await?;
                    self.wake_relay();
                }
                // A concurrent identical follow won: the caller follows either way.
                Err(error) if store::is_unique_violation(&error) => txn.rollback().await?,
                Err(error) => return Err(error.into()),
            }
        }
        let followers = store::community::count_followers(&self.db, tenant, &creator_id).await?;
        Ok((true, followers))
    }

    /// Stops following. Idempotent.
    pub async fn unfollow(&self, caller: &Principal, creator_id: &str) -> Result<(bool, u64)> {
        require_user(caller)?;
        let creator_id = self.existing_creator(caller, creator_id).await?;
        let tenant = &caller.tenant_id;
        store::community::delete_follow(&self.db, tenant, &caller.subject, &creator_id).await?;
        let followers = store::community::count_followers(&self.db, tenant, &creator_id).await?;
        Ok((false, followers))
    }

    /// A creator's followers (`followers = true`) or the creators they follow; newest
    /// first, with the next page's cursor.
    pub async fn follows(
        &self,
        caller: &Principal,
        creator_id: &str,
        followers: bool,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<(Vec<FollowEntry>, Option<String>)> {
        let creator_id = self.existing_creator(caller, creator_id).await?;
        let limit = page_size(limit);
        let rows = store::community::list_follows(
            &self.db,
            &caller.tenant_id,
            &creator_id,
            followers,
            parse_cursor(cursor)?,
            limit,
        )
        .await?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        let entries = rows
            .into_iter()
            .map(|row| FollowEntry {
                user_id: if followers {
                    row.follower_id
                } else {
                    row.creator_id
                },
                since: row.created_at,
            })
            .collect();
        Ok((entries, next))
    }
}
