//! The calendar: put a campaign's posts on it, take them off, and read what publishing
//! did (the delivery log).

use super::{CampaignBody, DeliveryPageBody, ResourceId, rules};
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, OptionalJsonObject};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, TimeDelta, Utc};
use marquee_platform::{Error, Problem};
use marquee_proto::campaign::v1 as pb;
use marquee_proto::convert;
use serde::Deserialize;
use utoipa::ToSchema;

/// The selected, unpublished posts in the campaign's order, from `start_at`, one every
/// `interval_minutes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEveryBody {
    /// The first post's time, RFC 3339 (e.g. `2026-04-01T09:00:00+02:00`): from now (a
    /// minute's grace) to 366 days ahead.
    #[schema(format = DateTime, example = "2026-04-01T09:00:00+02:00")]
    pub start_at: String,
    /// Minutes between two posts: 1 to 43,200 (30 days).
    #[schema(minimum = 1, maximum = 43200, example = 1440)]
    pub interval_minutes: u32,
}

/// A time for each post named.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTimesBody {
    /// At least one.
    #[schema(min_items = 1)]
    pub times: Vec<PostTimeBody>,
}

/// When one post goes out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostTimeBody {
    #[schema(value_type = ResourceId, example = "0193a1c2-7d4e-7f00-8a1b-2c3d4e5f6a7b")]
    pub post_id: String,
    /// RFC 3339, from now (a minute's grace) to 366 days ahead.
    #[schema(format = DateTime, example = "2026-04-01T09:00:00Z")]
    pub at: String,
}

/// Where posts go on the calendar: either every selected post from a start time at an
/// interval, or a time for each post named.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ScheduleBody {
    Every(ScheduleEveryBody),
    Times(ScheduleTimesBody),
}

/// Which posts to take off the calendar (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnscheduleBody {
    /// The posts; absent or empty: every scheduled post of the campaign.
    #[schema(value_type = Option<Vec<ResourceId>>)]
    pub post_ids: Option<Vec<String>>,
}

/// A time of the calendar, RFC 3339 (`invalid_time`), from now (a minute's grace,
/// `schedule_in_past`) to [`rules::MAX_SCHEDULE_DAYS`] ahead (`schedule_too_far`).
pub fn parse_time(field: &str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    let at = DateTime::parse_from_rfc3339(value)
        .map_err(|_| {
            Error::invalid(
                "invalid_time",
                format!("`{field}` must be an RFC 3339 time such as 2026-04-01T09:00:00Z"),
            )
        })?
        .with_timezone(&Utc);
    if at < now - TimeDelta::minutes(1) {
        return Err(Error::invalid(
            "schedule_in_past",
            format!("`{field}`: posts are scheduled in the future"),
        ));
    }
    if at > now + TimeDelta::days(rules::MAX_SCHEDULE_DAYS) {
        return Err(Error::invalid(
            "schedule_too_far",
            format!(
                "`{field}`: posts are scheduled at most {} days ahead",
                rules::MAX_SCHEDULE_DAYS
            ),
        ));
    }
    Ok(at)
}

impl ScheduleBody {
    /// Checks the plan with the campaign service's rules and codes and turns it into the
    /// service's request (as of `now`).
    pub fn into_request(
        self,
        campaign_id: String,
        now: DateTime<Utc>,
    ) -> Result<pb::SchedulePostsRequest, Error> {
        Ok(match self {
            Self::Every(every) => {
                let start = parse_time("start_at", &every.start_at, now)?;
                if !(1..=rules::MAX_INTERVAL_MINUTES).contains(&every.interval_minutes) {
                    return Err(Error::invalid(
                        "invalid_interval",
                        format!("`interval_minutes` is 1 to {}", rules::MAX_INTERVAL_MINUTES),
                    ));
                }
                pb::SchedulePostsRequest {
                    campaign_id,
                    start_at: Some(convert::timestamp(start)),
                    interval_minutes: every.interval_minutes,
                    times: Vec::new(),
                }
            }
            Self::Times(plan) => {
                if plan.times.is_empty() {
                    return Err(Error::invalid(
                        "nothing_to_schedule",
                        "give start_at (and interval_minutes) or times",
                    ));
                }
                let mut times = Vec::with_capacity(plan.times.len());
                for (index, time) in plan.times.into_iter().enumerate() {
                    validate::id(&format!("times[{index}].post_id"), &time.post_id)?;
                    let at = parse_time(&format!("times[{index}].at"), &time.at, now)?;
                    times.push(pb::PostTime {
                        post_id: time.post_id,
                        at: Some(convert::timestamp(at)),
                    });
                }
                pb::SchedulePostsRequest {
                    campaign_id,
                    start_at: None,
                    interval_minutes: 0,
                    times,
                }
            }
        })
    }
}

/// Schedule posts
///
/// Puts posts on the calendar: every selected, unpublished post in order from
/// `start_at`, one every `interval_minutes`; or each post named at its time. Scheduled
/// posts are published at their time through your connectors for their platform.
/// Answers the campaign.
#[utoipa::path(
    tag = "campaign-posts",
    params(("id" = String, Path, description = "Campaign id")),
    request_body(
        content = ScheduleBody,
        examples(
            ("Every day" = (value = json!({"start_at": "2026-04-01T09:00:00+02:00", "interval_minutes": 1440}))),
            ("At times" = (value = json!({"times": [{"post_id": "0193a1c2-7d4e-7f00-8a1b-2c3d4e5f6a7b", "at": "2026-04-01T09:00:00Z"}]}))),
        )
    ),
    responses(
        (status = 200, description = "The campaign, its posts with their `scheduled_at`", body = CampaignBody),
        (status = 400, description = "`invalid_time`, `schedule_in_past`, `schedule_too_far`, `invalid_interval`, `nothing_to_schedule` (no time given, or no selected unpublished post), `invalid_id`, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A post named is published (`post_published`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/schedule")]
pub async fn schedule_posts(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: JsonObject<ScheduleBody>,
) -> Result<HttpResponse, Error> {
    let request = body
        .into_inner()
        .into_request(id.into_inner(), Utc::now())?;
    let campaign = state
        .campaign
        .grpc()
        .schedule_posts(for_caller(caller.principal(), request))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CampaignBody::from(campaign)))
}

/// Unschedule posts
///
/// Takes the posts named (or every scheduled post) off the calendar; they become drafts
/// again. Published posts stay published. Answers the campaign.
#[utoipa::path(
    tag = "campaign-posts",
    params(("id" = String, Path, description = "Campaign id")),
    request_body(content = Option<UnscheduleBody>, description = "Optional: the posts"),
    responses(
        (status = 200, description = "The campaign", body = CampaignBody),
        (status = 400, description = "`invalid_id`, or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/campaigns/{id}/unschedule")]
pub async fn unschedule_posts(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    body: OptionalJsonObject<UnscheduleBody>,
) -> Result<HttpResponse, Error> {
    let post_ids = body
        .into_inner()
        .unwrap_or_default()
        .post_ids
        .unwrap_or_default();
    for (index, post_id) in post_ids.iter().enumerate() {
        validate::id(&format!("post_ids[{index}]"), post_id)?;
    }
    let campaign = state
        .campaign
        .grpc()
        .unschedule_posts(for_caller(
            caller.principal(),
            pb::UnschedulePostsRequest {
                campaign_id: id.into_inner(),
                post_ids,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CampaignBody::from(campaign)))
}

/// A campaign's delivery log
///
/// Every attempt to publish its posts through a connector, newest first (not paged).
#[utoipa::path(
    tag = "campaign-posts",
    params(("id" = String, Path, description = "Campaign id")),
    responses((status = 200, description = "The deliveries", body = DeliveryPageBody)),
)]
#[get("/api/v1/campaigns/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let log = state
        .campaign
        .grpc()
        .list_deliveries(for_caller(
            caller.principal(),
            pb::ListDeliveriesRequest {
                campaign_id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(DeliveryPageBody::all(log.deliveries)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn plan(json: &str) -> Result<pb::SchedulePostsRequest, Error> {
        let body: ScheduleBody = serde_json::from_str(json)
            .map_err(|e| Error::invalid("invalid_request", e.to_string()))?;
        body.into_request("c-1".into(), now())
    }

    fn code(json: &str) -> String {
        let error = plan(json).unwrap_err();
        assert!(error.message.len() < 200, "never echoes: {}", error.message);
        error.code.into_owned()
    }

    #[test]
    fn plans_are_either_an_interval_or_times() {
        let every =
            plan(r#"{"start_at": "2026-03-02T09:00:00+01:00", "interval_minutes": 60}"#).unwrap();
        assert_eq!(every.campaign_id, "c-1");
        assert_eq!(every.interval_minutes, 60);
        assert_eq!(
            convert::time(every.start_at).unwrap().to_rfc3339(),
            "2026-03-02T08:00:00+00:00"
        );
        assert!(every.times.is_empty());

        let times = plan(
            r#"{"times": [{"post_id": "p-1", "at": "2026-03-01T11:59:30Z"}, {"post_id": "p-2", "at": "2027-03-01T12:00:00Z"}]}"#,
        )
        .unwrap();
        assert!(times.start_at.is_none());
        assert_eq!(times.times.len(), 2);
        assert_eq!(times.times[1].post_id, "p-2");

        for bad in [
            r#"{"start_at": "2026-03-02T09:00:00Z"}"#,
            r#"{"start_at": "2026-03-02T09:00:00Z", "interval_minutes": 5, "times": []}"#,
            r#"{"times": [{"post_id": "p", "at": "2026-03-02T09:00:00Z", "extra": 1}]}"#,
            r#"{"interval_minutes": 5}"#,
            r#"{}"#,
        ] {
            assert_eq!(code(bad), "invalid_request", "{bad}");
        }
    }

    #[test]
    fn times_are_checked_with_the_services_codes() {
        assert_eq!(code(r#"{"times": []}"#), "nothing_to_schedule");
        for (json, expected) in [
            (
                r#"{"start_at": "tomorrow", "interval_minutes": 5}"#,
                "invalid_time",
            ),
            (
                r#"{"start_at": "2026-03-02 09:00", "interval_minutes": 5}"#,
                "invalid_time",
            ),
            (
                r#"{"start_at": "2026-03-01T11:58:00Z", "interval_minutes": 5}"#,
                "schedule_in_past",
            ),
            (
                r#"{"start_at": "2027-03-03T00:00:00Z", "interval_minutes": 5}"#,
                "schedule_too_far",
            ),
            (
                r#"{"start_at": "2026-03-02T09:00:00Z", "interval_minutes": 0}"#,
                "invalid_interval",
            ),
            (
                r#"{"start_at": "2026-03-02T09:00:00Z", "interval_minutes": 43201}"#,
                "invalid_interval",
            ),
            (
                r#"{"times": [{"post_id": "not an id", "at": "2026-03-02T09:00:00Z"}]}"#,
                "invalid_id",
            ),
            (
                r#"{"times": [{"post_id": "p", "at": "2020-01-01T00:00:00Z"}]}"#,
                "schedule_in_past",
            ),
        ] {
            assert_eq!(code(json), expected, "{json}");
        }
        assert!(plan(r#"{"start_at": "2026-03-02T09:00:00Z", "interval_minutes": 43200}"#).is_ok());
        let error = plan(r#"{"times": [{"post_id": "p", "at": "2026-03-02T09:00:00Z"}, {"post_id": "q", "at": "x"}]}"#).unwrap_err();
        assert!(
            error.message.starts_with("`times[1].at`"),
            "{}",
            error.message
        );
    }

    /// The JSON body extractor reads the untagged plan (an object, not an array).
    #[actix_web::test]
    async fn plans_arrive_through_the_json_extractor() {
        use actix_web::FromRequest;
        use actix_web::test::TestRequest;
        let read = |body: serde_json::Value| async move {
            let (req, mut payload) = TestRequest::post().set_json(body).to_http_parts();
            JsonObject::<ScheduleBody>::from_request(&req, &mut payload).await
        };
        let plan =
            read(serde_json::json!({"times": [{"post_id": "p", "at": "2026-03-02T09:00:00Z"}]}))
                .await
                .unwrap()
                .into_inner();
        assert!(matches!(plan, ScheduleBody::Times(ref t) if t.times.len() == 1));
        let plan =
            read(serde_json::json!({"start_at": "2026-03-02T09:00:00Z", "interval_minutes": 5}))
                .await
                .unwrap()
                .into_inner();
        assert!(matches!(plan, ScheduleBody::Every(ref e) if e.interval_minutes == 5));
        assert!(read(serde_json::json!([{"times": []}])).await.is_err());
        assert!(
            read(serde_json::json!({"times": [], "start_at": "x"}))
                .await
                .is_err()
        );
    }

    #[test]
    fn unschedule_bodies_refuse_unknown_fields() {
        let body: UnscheduleBody = serde_json::from_str(r#"{"post_ids": ["p-1"]}"#).unwrap();
        assert_eq!(body.post_ids.unwrap(), ["p-1"]);
        assert!(serde_json::from_str::<UnscheduleBody>(r#"{"posts": []}"#).is_err());
    }
}
