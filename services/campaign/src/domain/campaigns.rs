//! Campaigns: create, read, list, edit, duplicate, delete — and the parts a creator picks
//! from (themes, hashtags) and steers with (guidance, its chat).

use super::analysis::Analysis;
use super::brief::{self, Brief};
use super::posts::Post;
use super::{Studio, may_access, new_id, require_creator};
use crate::error::{CampaignError, Result};
use crate::store;
use crate::store::entities::campaign::Model as Row;
use chrono::{DateTime, Utc};
use marquee_platform::Principal;
use marquee_platform::input::fields::campaign as rules;
use serde::{Deserialize, Serialize};

/// Where a campaign is in its life.
pub mod status {
    pub const DRAFT: &str = "draft";
    pub const ANALYSING: &str = "analysing";
    pub const ANALYSED: &str = "analysed";
    pub const GENERATING: &str = "generating";
    pub const READY: &str = "ready";
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    pub name: String,
    pub description: String,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hashtag {
    /// Without `#`.
    pub name: String,
    pub selected: bool,
    /// `analysis`, `taxonomy`, `asset` or `creator`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
    pub at: DateTime<Utc>,
    pub provider: String,
}

/// A campaign with everything on it.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub brief: Brief,
    pub analysis: Option<Analysis>,
    pub themes: Vec<Theme>,
    pub hashtags: Vec<Hashtag>,
    pub guidance: String,
    pub chat: Vec<ChatMessage>,
    pub status: String,
    pub template_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Empty in lists.
    pub posts: Vec<Post>,
}

impl Campaign {
    pub(crate) fn from_row(row: Row) -> Result<Self> {
        Ok(Self {
            brief: decode(row.brief)?,
            analysis: row.analysis.map(decode).transpose()?,
            themes: decode(row.themes)?,
            hashtags: decode(row.hashtags)?,
            chat: decode(row.chat)?,
            id: row.id,
            tenant_id: row.tenant_id,
            owner_id: row.owner_id,
            guidance: row.guidance,
            status: row.status,
            template_id: row.template_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            posts: Vec::new(),
        })
    }

    pub(crate) fn to_row(&self, idempotency_key: Option<String>) -> Row {
        Row {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            owner_id: self.owner_id.clone(),
            name: self.brief.name.clone(),
            brief: encode(&self.brief),
            analysis: self.analysis.as_ref().map(encode),
            themes: encode(&self.themes),
            hashtags: encode(&self.hashtags),
            guidance: self.guidance.clone(),
            chat: encode(&self.chat),
            status: self.status.clone(),
            template_id: self.template_id.clone(),
            idempotency_key,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn selected_themes(&self) -> Vec<Theme> {
        self.themes.iter().filter(|t| t.selected).cloned().collect()
    }

    pub fn selected_hashtags(&self) -> Vec<String> {
        self.hashtags
            .iter()
            .filter(|h| h.selected)
            .map(|h| h.name.clone())
            .collect()
    }
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| CampaignError::Internal(format!("stored document unreadable: {e}")))
}

pub(crate) fn encode<T: Serialize>(value: &T) -> serde_json::Value {
    // Our own plain data types always serialise.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// A campaign's edit: fields present are replaced.
#[derive(Debug, Clone, Default)]
pub struct CampaignEdit {
    pub name: Option<String>,
    pub objective: Option<String>,
    pub campaign_type: Option<String>,
    pub business_description: Option<String>,
    pub target_audience: Option<String>,
    pub creativity: Option<u32>,
    pub post_count: Option<u32>,
    pub time_zone: Option<String>,
    pub platforms: Option<Vec<String>>,
    pub urls: Option<Vec<String>>,
    pub asset_ids: Option<Vec<String>>,
    pub themes: Option<Vec<Theme>>,
    pub hashtags: Option<Vec<(String, bool)>>,
    pub guidance: Option<String>,
}

/// A hashtag as stored: without `#`, letters, digits and underscores.
pub fn normalise_hashtag(raw: &str) -> Result<String> {
    let name = raw.trim().trim_start_matches('#');
    let count = name.chars().count();
    if count == 0
        || count > rules::MAX_HASHTAG_CHARS
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Err(CampaignError::invalid(
            "invalid_hashtag",
            "a hashtag is 1 to 100 letters, digits or underscores",
        ));
    }
    Ok(name.to_string())
}

fn check_themes(themes: &[Theme]) -> Result<()> {
    if themes.len() > rules::MAX_THEMES {
        return Err(CampaignError::invalid(
            "too_many_themes",
            format!("at most {} themes", rules::MAX_THEMES),
        ));
    }
    for theme in themes {
        rules::THEME_NAME.check(&theme.name)?;
        rules::THEME_DESCRIPTION.check(&theme.description)?;
    }
    Ok(())
}

impl Studio {
    pub async fn create_campaign(
        &self,
        caller: &Principal,
        brief: Brief,
        idempotency_key: Option<String>,
    ) -> Result<Campaign> {
        require_creator(caller)?;
        let brief = brief.checked()?;
        if let Some(key) = &idempotency_key
            && let Some(row) = store::campaigns::find_by_key(&self.db, &caller.subject, key).await?
        {
            return self.with_posts(Campaign::from_row(row)?).await;
        }
        let now = Utc::now();
        let campaign = Campaign {
            id: new_id(),
            tenant_id: caller.tenant_id.clone(),
            owner_id: caller.subject.clone(),
            brief,
            analysis: None,
            themes: Vec::new(),
            hashtags: Vec::new(),
            guidance: String::new(),
            chat: Vec::new(),
            status: status::DRAFT.into(),
            template_id: None,
            created_at: now,
            updated_at: now,
            posts: Vec::new(),
        };
        store::campaigns::insert(&self.db, campaign.to_row(idempotency_key)).await?;
        metrics::counter!("marquee_campaigns_created_total").increment(1);
        Ok(campaign)
    }

    /// The campaign, if the caller may see it (else `NotFound`: its existence is not
    /// told to others).
    pub(crate) async fn load_campaign(&self, caller: &Principal, id: &str) -> Result<Campaign> {
        let row = store::campaigns::find(&self.db, id)
            .await?
            .filter(|row| may_access(caller, &row.tenant_id, &row.owner_id))
            .ok_or(CampaignError::NotFound("campaign"))?;
        Campaign::from_row(row)
    }

    pub(crate) async fn with_posts(&self, mut campaign: Campaign) -> Result<Campaign> {
        campaign.posts = self.posts_of(&campaign.id).await?;
        Ok(campaign)
    }

    pub async fn campaign(&self, caller: &Principal, id: &str) -> Result<Campaign> {
        let campaign = self.load_campaign(caller, id).await?;
        self.with_posts(campaign).await
    }

    /// The caller's campaigns, newest first.
    pub async fn campaigns(
        &self,
        caller: &Principal,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Campaign>, Option<String>)> {
        let limit = limit.clamp(1, 100) as u64;
        let rows = store::campaigns::list(
            &self.db,
            &caller.tenant_id,
            &caller.subject,
            cursor,
            limit + 1,
        )
        .await?;
        let more = rows.len() as u64 > limit;
        let campaigns: Vec<Campaign> = rows
            .into_iter()
            .take(limit as usize)
            .map(Campaign::from_row)
            .collect::<Result<_>>()?;
        let next = if more {
            campaigns.last().map(|c| c.id.clone())
        } else {
            None
        };
        Ok((campaigns, next))
    }

    pub async fn update_campaign(
        &self,
        caller: &Principal,
        id: &str,
        edit: CampaignEdit,
    ) -> Result<Campaign> {
        let mut campaign = self.load_campaign(caller, id).await?;
        let mut brief = campaign.brief.clone();
        if let Some(name) = edit.name {
            brief.name = name;
        }
        if let Some(objective) = edit.objective {
            brief.objective = objective;
        }
        if let Some(kind) = edit.campaign_type {
            brief.campaign_type = kind;
        }
        if let Some(description) = edit.business_description {
            brief.business_description = description;
        }
        if let Some(audience) = edit.target_audience {
            brief.target_audience = audience;
        }
        if let Some(creativity) = edit.creativity {
            brief.creativity = creativity;
        }
        if let Some(count) = edit.post_count {
            brief.post_count = count;
        }
        if let Some(zone) = edit.time_zone {
            brief.time_zone = zone;
        }
        if let Some(platforms) = edit.platforms {
            brief.platforms = brief::parse_platforms(&platforms)?;
        }
        if let Some(urls) = edit.urls {
            brief.urls = urls;
        }
        if let Some(asset_ids) = edit.asset_ids {
            brief.asset_ids = asset_ids;
        }
        campaign.brief = brief.checked()?;
        if let Some(themes) = edit.themes {
            check_themes(&themes)?;
            campaign.themes = themes;
        }
        if let Some(hashtags) = edit.hashtags {
            if hashtags.len() > rules::MAX_HASHTAGS {
                return Err(CampaignError::invalid(
                    "too_many_hashtags",
                    format!("at most {} hashtags", rules::MAX_HASHTAGS),
                ));
            }
            let mut kept: Vec<Hashtag> = Vec::with_capacity(hashtags.len());
            for (name, selected) in hashtags {
                let name = normalise_hashtag(&name)?;
                if kept.iter().any(|h| h.name.eq_ignore_ascii_case(&name)) {
                    continue;
                }
                let source = campaign
                    .hashtags
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(&name))
                    .map_or_else(|| "creator".to_string(), |h| h.source.clone());
                kept.push(Hashtag {
                    name,
                    selected,
                    source,
                });
            }
            campaign.hashtags = kept;
        }
        if let Some(guidance) = edit.guidance {
            rules::GUIDANCE.check(&guidance)?;
            campaign.guidance = guidance;
        }
        campaign.updated_at = Utc::now();
        store::campaigns::save(&self.db, campaign.to_row(None)).await?;
        self.with_posts(campaign).await
    }

    /// Deletes the campaign, its posts, delivery log and jobs (running ones are told to
    /// stop first).
    pub async fn delete_campaign(&self, caller: &Principal, id: &str) -> Result<()> {
        let campaign = self.load_campaign(caller, id).await?;
        store::jobs::request_cancel_for_campaign(&self.db, &campaign.id).await?;
        store::campaigns::delete(&self.db, &campaign.id).await?;
        Ok(())
    }

    /// A copy of the brief, analysis, themes, hashtags, guidance and posts (as drafts,
    /// unscheduled), under a new name.
    pub async fn duplicate_campaign(
        &self,
        caller: &Principal,
        id: &str,
        name: Option<String>,
    ) -> Result<Campaign> {
        require_creator(caller)?;
        let source = self.campaign(caller, id).await?;
        let mut copy = source.clone();
        copy.id = new_id();
        copy.tenant_id = caller.tenant_id.clone();
        copy.owner_id = caller.subject.clone();
        copy.brief.name = match name {
            Some(name) if !name.trim().is_empty() => name,
            _ => copy_name(&source.brief.name),
        };
        copy.brief = copy.brief.checked()?;
        copy.chat.clear();
        let now = Utc::now();
        copy.created_at = now;
        copy.updated_at = now;
        if copy.status == status::ANALYSING || copy.status == status::GENERATING {
            copy.status = if copy.analysis.is_some() {
                status::ANALYSED.into()
            } else {
                status::DRAFT.into()
            };
        }
        let posts = source
            .posts
            .iter()
            .map(|post| post.copied_to(&copy, now))
            .collect::<Vec<_>>();
        store::campaigns::insert_with_posts(
            &self.db,
            copy.to_row(None),
            posts.iter().map(Post::to_row).collect(),
        )
        .await?;
        copy.posts = posts;
        Ok(copy)
    }
}

fn copy_name(name: &str) -> String {
    let suffix = " (copy)";
    let room = rules::NAME.max_chars - suffix.chars().count();
    let mut base: String = name.chars().take(room).collect();
    base.push_str(suffix);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_normalised_or_refused() {
        assert_eq!(
            normalise_hashtag("#Coffee_Lovers").unwrap(),
            "Coffee_Lovers"
        );
        assert_eq!(normalise_hashtag("café").unwrap(), "café");
        for bad in ["", "#", "two words", "semi;colon", &"a".repeat(101)] {
            assert!(normalise_hashtag(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn copies_keep_within_the_name_limit() {
        let long = "n".repeat(rules::NAME.max_chars);
        assert_eq!(copy_name(&long).chars().count(), rules::NAME.max_chars);
        assert_eq!(copy_name("Launch"), "Launch (copy)");
    }
}
