//! Domain ↔ wire conversions, in one place.

use crate::domain::analysis::Analysis;
use crate::domain::brief::{Brief, parse_platforms};
use crate::domain::campaigns::{Campaign, ChatMessage, Hashtag, Theme};
use crate::domain::connectors::Connector;
use crate::domain::jobs::Job;
use crate::domain::posts::Post;
use crate::domain::schedule::Delivery;
use crate::domain::templates::Template;
use crate::error::Result;
use marquee_proto::campaign::v1 as pb;
pub use marquee_proto::convert::{time, timestamp};

pub fn brief_in(brief: pb::Brief) -> Result<Brief> {
    Ok(Brief {
        platforms: parse_platforms(&brief.platforms)?,
        name: brief.name,
        objective: brief.objective,
        campaign_type: brief.campaign_type,
        business_description: brief.business_description,
        urls: brief.urls,
        asset_ids: brief.asset_ids,
        target_audience: brief.target_audience,
        creativity: brief.creativity,
        post_count: brief.post_count,
        time_zone: brief.time_zone,
    })
}

pub fn brief(brief: &Brief) -> pb::Brief {
    pb::Brief {
        name: brief.name.clone(),
        objective: brief.objective.clone(),
        campaign_type: brief.campaign_type.clone(),
        business_description: brief.business_description.clone(),
        urls: brief.urls.clone(),
        asset_ids: brief.asset_ids.clone(),
        target_audience: brief.target_audience.clone(),
        platforms: brief
            .platforms
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        creativity: brief.creativity,
        post_count: brief.post_count,
        time_zone: brief.time_zone.clone(),
    }
}

fn analysis(analysis: &Analysis) -> pb::Analysis {
    let a = &analysis.draft;
    pb::Analysis {
        company_name: a.company_name.clone(),
        industry: a.industry.clone(),
        target_audience: a.target_audience.clone(),
        value_propositions: a.value_propositions.clone(),
        brand_voice: a.brand_voice.clone(),
        competitive_advantages: a.competitive_advantages.clone(),
        key_messages: a.key_messages.clone(),
        product_context: a.product_context.clone(),
        provider: analysis.provider.clone(),
        created_at: Some(timestamp(analysis.created_at)),
        sources: analysis.sources.clone(),
    }
}

pub fn theme(theme: &Theme) -> pb::Theme {
    pb::Theme {
        name: theme.name.clone(),
        description: theme.description.clone(),
        selected: theme.selected,
    }
}

pub fn hashtag(hashtag: &Hashtag) -> pb::Hashtag {
    pb::Hashtag {
        name: hashtag.name.clone(),
        selected: hashtag.selected,
        source: hashtag.source.clone(),
    }
}

fn chat(message: &ChatMessage) -> pb::ChatMessage {
    pb::ChatMessage {
        role: message.role.clone(),
        text: message.text.clone(),
        at: Some(timestamp(message.at)),
        provider: message.provider.clone(),
    }
}

pub fn post(post: &Post) -> pb::Post {
    pb::Post {
        id: post.id.clone(),
        campaign_id: post.campaign_id.clone(),
        platform: post.platform.as_str().to_string(),
        kind: post.kind.clone(),
        content: post.content.clone(),
        hashtags: post.hashtags.clone(),
        selected: post.selected,
        provider: post.provider.clone(),
        media_prompt: post.media_prompt.clone(),
        asset_id: post.asset_id.clone().unwrap_or_default(),
        scheduled_at: post.scheduled_at.map(timestamp),
        status: post.status.clone(),
        engagement: Some(pb::Engagement {
            score: post.engagement.score,
            reasons: post.engagement.reasons.clone(),
        }),
        theme: post.theme.clone(),
        ai_generated: post.ai_generated,
        provenance: post.provenance.clone(),
        repairs: post.repairs.clone(),
        failure_reason: post.failure_reason.clone().unwrap_or_default(),
        published_at: post.published_at.map(timestamp),
        created_at: Some(timestamp(post.created_at)),
        updated_at: Some(timestamp(post.updated_at)),
        media_provider: post.media_provider.clone().unwrap_or_default(),
    }
}

pub fn campaign(campaign: &Campaign) -> pb::Campaign {
    pb::Campaign {
        id: campaign.id.clone(),
        tenant_id: campaign.tenant_id.clone(),
        owner_id: campaign.owner_id.clone(),
        brief: Some(brief(&campaign.brief)),
        analysis: campaign.analysis.as_ref().map(analysis),
        themes: campaign.themes.iter().map(theme).collect(),
        hashtags: campaign.hashtags.iter().map(hashtag).collect(),
        guidance: campaign.guidance.clone(),
        chat: campaign.chat.iter().map(chat).collect(),
        posts: campaign.posts.iter().map(post).collect(),
        status: campaign.status.clone(),
        created_at: Some(timestamp(campaign.created_at)),
        updated_at: Some(timestamp(campaign.updated_at)),
        template_id: campaign.template_id.clone().unwrap_or_default(),
    }
}

pub fn job(job: &Job) -> pb::Job {
    pb::Job {
        id: job.id.clone(),
        campaign_id: job.campaign_id.clone(),
        kind: job.kind.clone(),
        state: job.state.clone(),
        progress: job.progress,
        message: job.message.clone(),
        error: job.error.clone(),
        post_id: job.post_id.clone().unwrap_or_default(),
        asset_id: job.asset_id.clone().unwrap_or_default(),
        provider: job.provider.clone(),
        created_at: Some(timestamp(job.created_at)),
        updated_at: Some(timestamp(job.updated_at)),
        finished_at: job.finished_at.map(timestamp),
    }
}

pub fn template(template: &Template) -> pb::Template {
    pb::Template {
        id: template.id.clone(),
        name: template.name.clone(),
        description: template.description.clone(),
        brief: Some(brief(&template.body.brief)),
        guidance: template.body.guidance.clone(),
        themes: template.body.themes.iter().map(theme).collect(),
        hashtags: template.body.hashtags.iter().map(hashtag).collect(),
        visibility: template.visibility.clone(),
        owner_id: template.owner_id.clone(),
        created_at: Some(timestamp(template.created_at)),
    }
}

pub fn connector(connector: &Connector) -> pb::Connector {
    pb::Connector {
        id: connector.id.clone(),
        kind: connector.kind.clone(),
        name: connector.name.clone(),
        platforms: connector
            .platforms
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        endpoint: connector.endpoint.clone(),
        account: connector.account.clone(),
        created_at: Some(timestamp(connector.created_at)),
    }
}

pub fn delivery(delivery: &Delivery) -> pb::Delivery {
    pb::Delivery {
        id: delivery.id.clone(),
        post_id: delivery.post_id.clone(),
        connector_id: delivery.connector_id.clone(),
        connector_kind: delivery.connector_kind.clone(),
        status: delivery.status.clone(),
        attempts: delivery.attempts,
        status_code: delivery.status_code,
        remote_id: delivery.remote_id.clone(),
        remote_url: delivery.remote_url.clone(),
        error: delivery.error.clone(),
        at: Some(timestamp(delivery.at)),
    }
}
