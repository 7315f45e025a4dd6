//! gRPC handlers of the calendar and the delivery log.

use super::{convert, id};
use crate::domain::Studio;
use crate::domain::schedule::Plan;
use crate::error::CampaignError;
use marquee_platform::Principal;
use marquee_proto::campaign::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn schedule(
    studio: &Studio,
    request: Request<pb::SchedulePostsRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    let plan = if m.times.is_empty() {
        let start = convert::time(m.start_at).ok_or_else(|| {
            CampaignError::invalid(
                "nothing_to_schedule",
                "give start_at (and interval_minutes) or times",
            )
        })?;
        Plan::Every {
            start,
            interval_minutes: m.interval_minutes,
        }
    } else {
        let mut times = Vec::with_capacity(m.times.len());
        for time in m.times {
            id("post_id", &time.post_id)?;
            let at = convert::time(time.at)
                .ok_or_else(|| CampaignError::invalid("invalid_time", "every time needs `at`"))?;
            times.push((time.post_id, at));
        }
        Plan::At(times)
    };
    let campaign = studio.schedule(&caller, &m.campaign_id, plan).await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn unschedule(
    studio: &Studio,
    request: Request<pb::UnschedulePostsRequest>,
) -> Result<Response<pb::Campaign>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    for post in &m.post_ids {
        id("post_ids", post)?;
    }
    let campaign = studio
        .unschedule(&caller, &m.campaign_id, &m.post_ids)
        .await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn deliveries(
    studio: &Studio,
    request: Request<pb::ListDeliveriesRequest>,
) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    let deliveries = studio.deliveries(&caller, &m.campaign_id).await?;
    Ok(Response::new(pb::ListDeliveriesResponse {
        deliveries: deliveries.iter().map(convert::delivery).collect(),
    }))
}
