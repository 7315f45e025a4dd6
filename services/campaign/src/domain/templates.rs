//! Templates: a campaign's brief, themes, hashtags and guidance saved as a starting
//! point — private to its owner or published to the tenant's catalogue.

use super::brief::Brief;
use super::campaigns::{Campaign, Hashtag, Theme, decode, encode, status};
use super::{Studio, new_id, require_creator};
use crate::error::{CampaignError, Result};
use crate::store;
use crate::store::entities::template::Model as Row;
use chrono::{DateTime, Utc};
use marquee_platform::input::fields::campaign as rules;
use marquee_platform::{Principal, Role};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplateBody {
    pub brief: Brief,
    pub guidance: String,
    pub themes: Vec<Theme>,
    pub hashtags: Vec<Hashtag>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    pub visibility: String,
    pub owner_id: String,
    pub body: TemplateBody,
    pub created_at: DateTime<Utc>,
}

impl Template {
    fn from_row(row: Row) -> Result<Self> {
        Ok(Self {
            body: decode(row.body)?,
            id: row.id,
            name: row.name,
            description: row.description,
            visibility: row.visibility,
            owner_id: row.owner_id,
            created_at: row.created_at,
        })
    }
}

/// Whether the caller may use a template: theirs, or in their tenant's catalogue.
fn may_use(caller: &Principal, row: &Row) -> bool {
    row.tenant_id == caller.tenant_id
        && (row.owner_id == caller.subject || row.visibility == "tenant")
}

impl Studio {
    pub async fn save_template(
        &self,
        caller: &Principal,
        campaign_id: &str,
        name: &str,
        description: &str,
        visibility: &str,
    ) -> Result<Template> {
        require_creator(caller)?;
        rules::TEMPLATE_NAME.check(name)?;
        rules::TEMPLATE_DESCRIPTION.check(description)?;
        let visibility = if visibility.is_empty() {
            "private"
        } else {
            visibility
        };
        if !rules::TEMPLATE_VISIBILITIES.contains(&visibility) {
            return Err(CampaignError::invalid(
                "invalid_visibility",
                "visibility is private or tenant",
            ));
        }
        let campaign = self.load_campaign(caller, campaign_id).await?;
        let template = Template {
            id: new_id(),
            name: name.trim().to_string(),
            description: description.to_string(),
            visibility: visibility.to_string(),
            owner_id: caller.subject.clone(),
            body: TemplateBody {
                brief: campaign.brief,
                guidance: campaign.guidance,
                themes: campaign.themes,
                hashtags: campaign.hashtags,
            },
            created_at: Utc::now(),
        };
        store::templates::insert(
            &self.db,
            Row {
                id: template.id.clone(),
                tenant_id: caller.tenant_id.clone(),
                owner_id: template.owner_id.clone(),
                name: template.name.clone(),
                description: template.description.clone(),
                visibility: template.visibility.clone(),
                body: encode(&template.body),
                created_at: template.created_at,
            },
        )
        .await?;
        Ok(template)
    }

    /// The caller's templates and the tenant's catalogue, newest first.
    pub async fn templates(
        &self,
        caller: &Principal,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Template>, Option<String>)> {
        let limit = limit.clamp(1, 100) as u64;
        let rows = store::templates::visible_to(
            &self.db,
            &caller.tenant_id,
            &caller.subject,
            cursor,
            limit + 1,
        )
        .await?;
        let more = rows.len() as u64 > limit;
        let templates: Vec<Template> = rows
            .into_iter()
            .take(limit as usize)
            .map(Template::from_row)
            .collect::<Result<_>>()?;
        let next = more
            .then(|| templates.last().map(|t| t.id.clone()))
            .flatten();
        Ok((templates, next))
    }

    /// Its owner deletes a template; a tenant admin may remove one from the catalogue.
    pub async fn delete_template(&self, caller: &Principal, id: &str) -> Result<()> {
        let row = store::templates::find(&self.db, id)
            .await?
            .filter(|row| may_use(caller, row))
            .ok_or(CampaignError::NotFound("template"))?;
        if row.owner_id != caller.subject && !caller.acts_as(Role::Admin) {
            return Err(CampaignError::Forbidden(
                "only its owner or an admin deletes a template",
            ));
        }
        store::templates::delete(&self.db, id).await?;
        Ok(())
    }

    /// A new campaign from a template, with this business's name, description, URLs and
    /// assets; themes, hashtags and guidance come from the template; no analysis yet.
    pub async fn create_from_template(
        &self,
        caller: &Principal,
        template_id: &str,
        overrides: TemplateOverrides,
    ) -> Result<Campaign> {
        require_creator(caller)?;
        let row = store::templates::find(&self.db, template_id)
            .await?
            .filter(|row| may_use(caller, row))
            .ok_or(CampaignError::NotFound("template"))?;
        let template = Template::from_row(row)?;
        let mut brief = template.body.brief.clone();
        if let Some(name) = overrides.name.filter(|n| !n.is_empty()) {
            brief.name = name;
        }
        if let Some(description) = overrides.business_description.filter(|d| !d.is_empty()) {
            brief.business_description = description;
        }
        if let Some(urls) = overrides.urls {
            brief.urls = urls;
        }
        if let Some(assets) = overrides.asset_ids {
            brief.asset_ids = assets;
        }
        let mut campaign = self.create_campaign(caller, brief, None).await?;
        campaign.themes = template.body.themes;
        campaign.hashtags = template.body.hashtags;
        campaign.guidance = template.body.guidance;
        campaign.template_id = Some(template.id);
        campaign.status = status::DRAFT.into();
        store::campaigns::save(&self.db, campaign.to_row(None)).await?;
        Ok(campaign)
    }
}

#[derive(Debug, Clone, Default)]
pub struct TemplateOverrides {
    pub name: Option<String>,
    pub business_description: Option<String>,
    pub urls: Option<Vec<String>>,
    pub asset_ids: Option<Vec<String>>,
}
