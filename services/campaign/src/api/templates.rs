//! gRPC handlers of templates.

use super::{convert, id, optional};
use crate::domain::Studio;
use crate::domain::templates::TemplateOverrides;
use marquee_platform::Principal;
use marquee_proto::campaign::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn save(
    studio: &Studio,
    request: Request<pb::SaveTemplateRequest>,
) -> Result<Response<pb::Template>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    let template = studio
        .save_template(
            &caller,
            &m.campaign_id,
            &m.name,
            &m.description,
            &m.visibility,
        )
        .await?;
    Ok(Response::new(convert::template(&template)))
}

pub(super) async fn list(
    studio: &Studio,
    request: Request<pb::ListTemplatesRequest>,
) -> Result<Response<pb::ListTemplatesResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    if !m.cursor.is_empty() {
        id("cursor", &m.cursor)?;
    }
    let limit = if m.limit == 0 { 20 } else { m.limit };
    let (templates, next) = studio
        .templates(&caller, limit, optional(m.cursor).as_deref())
        .await?;
    Ok(Response::new(pb::ListTemplatesResponse {
        templates: templates.iter().map(convert::template).collect(),
        next_cursor: next.unwrap_or_default(),
    }))
}

pub(super) async fn delete(
    studio: &Studio,
    request: Request<pb::DeleteTemplateRequest>,
) -> Result<Response<pb::DeleteTemplateResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("id", &m.id)?;
    studio.delete_template(&caller, &m.id).await?;
    Ok(Response::new(pb::DeleteTemplateResponse {}))
}

pub(super) async fn create_from(
    studio: &Studio,
    request: Request<pb::CreateFromTemplateRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("template_id", &m.template_id)?;
    let overrides = TemplateOverrides {
        name: optional(m.name),
        business_description: optional(m.business_description),
        urls: (!m.urls.is_empty()).then_some(m.urls),
        asset_ids: (!m.asset_ids.is_empty()).then_some(m.asset_ids),
    };
    let campaign = studio
        .create_from_template(&caller, &m.template_id, overrides)
        .await?;
    Ok(Response::new(convert::campaign(&campaign)))
}
