//! gRPC handlers of campaigns: create, list, get, edit, delete, duplicate, chat, export.

use super::{convert, id, optional};
use crate::domain::Studio;
use crate::domain::campaigns::{CampaignEdit, Theme};
use crate::error::CampaignError;
use marquee_platform::Principal;
use marquee_proto::campaign::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn create(
    studio: &Studio,
    request: Request<pb::CreateCampaignRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    let brief = message
        .brief
        .ok_or_else(|| CampaignError::invalid("brief_required", "the brief is missing"))?;
    let campaign = studio
        .create_campaign(
            &caller,
            convert::brief_in(brief)?,
            optional(message.idempotency_key),
        )
        .await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn list(
    studio: &Studio,
    request: Request<pb::ListCampaignsRequest>,
) -> Result<Response<pb::ListCampaignsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    if !message.cursor.is_empty() {
        id("cursor", &message.cursor)?;
    }
    let limit = if message.limit == 0 {
        20
    } else {
        message.limit
    };
    let (campaigns, next) = studio
        .campaigns(&caller, limit, optional(message.cursor).as_deref())
        .await?;
    Ok(Response::new(pb::ListCampaignsResponse {
        campaigns: campaigns.iter().map(convert::campaign).collect(),
        next_cursor: next.unwrap_or_default(),
    }))
}

pub(super) async fn get(
    studio: &Studio,
    request: Request<pb::GetCampaignRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    id("id", &message.id)?;
    let campaign = studio.campaign(&caller, &message.id).await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn update(
    studio: &Studio,
    request: Request<pb::UpdateCampaignRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("id", &m.id)?;
    let edit = CampaignEdit {
        name: m.name,
        objective: m.objective,
        campaign_type: m.campaign_type,
        business_description: m.business_description,
        target_audience: m.target_audience,
        creativity: m.creativity,
        post_count: m.post_count,
        time_zone: m.time_zone,
        platforms: m.set_platforms.then_some(m.platforms),
        urls: m.set_urls.then_some(m.urls),
        asset_ids: m.set_asset_ids.then_some(m.asset_ids),
        themes: m.set_themes.then(|| {
            m.themes
                .into_iter()
                .map(|t| Theme {
                    name: t.name,
                    description: t.description,
                    selected: t.selected,
                })
                .collect()
        }),
        hashtags: m.set_hashtags.then(|| {
            m.hashtags
                .into_iter()
                .map(|h| (h.name, h.selected))
                .collect()
        }),
        guidance: m.guidance,
    };
    let campaign = studio.update_campaign(&caller, &m.id, edit).await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn delete(
    studio: &Studio,
    request: Request<pb::DeleteCampaignRequest>,
) -> Result<Response<pb::DeleteCampaignResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    id("id", &message.id)?;
    studio.delete_campaign(&caller, &message.id).await?;
    Ok(Response::new(pb::DeleteCampaignResponse {}))
}

pub(super) async fn duplicate(
    studio: &Studio,
    request: Request<pb::DuplicateCampaignRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    id("id", &message.id)?;
    let campaign = studio
        .duplicate_campaign(&caller, &message.id, optional(message.name))
        .await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn chat(
    studio: &Studio,
    request: Request<pb::ChatGuidanceRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    id("campaign_id", &message.campaign_id)?;
    let job = studio
        .start_chat(&caller, &message.campaign_id, &message.message)
        .await?;
    Ok(Response::new(convert::job(&job)))
}

pub(super) async fn export(
    studio: &Studio,
    request: Request<pb::ExportCampaignRequest>,
) -> Result<Response<pb::ExportCampaignResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let message = request.into_inner();
    id("id", &message.id)?;
    let export = studio.export(&caller, &message.id, &message.format).await?;
    Ok(Response::new(pb::ExportCampaignResponse {
        content_type: export.content_type.to_string(),
        file_name: export.file_name,
        body: export.body,
    }))
}
