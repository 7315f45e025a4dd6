//! Billing for the caller's tenant: plans, subscription, usage against limits,
//! invoices (scope `billing:read`), and checkout / portal sessions (users). Errors,
//! including over-quota (402/429 naming the limit), come back from billing as the
//! platform error and render as problem+json.

use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject, fields};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use marquee_platform::Error;
use marquee_proto::billing::v1 as pb;
use marquee_proto::convert::{self, non_empty};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One limit of a plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitBody {
    #[schema(example = "ai_text_generations")]
    pub name: String,
    pub value: u64,
    /// `month` (resets each period) or `total` (a level such as storage).
    pub period: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanBody {
    #[schema(example = "pro")]
    pub id: String,
    pub name: String,
    pub limits: Vec<LimitBody>,
    pub purchasable: bool,
}

super::page!(
    /// The plans catalogue, whole (not paged: `next_cursor` is `null`).
    PlanPageBody of PlanBody
);

/// The tenant's subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionBody {
    pub tenant_id: String,
    /// The plan whose limits apply now.
    #[schema(example = "pro")]
    pub plan: String,
    /// The plan bought (differs from `plan` once a past-due grace has run out).
    pub subscribed_plan: String,
    #[schema(example = "active")]
    pub status: String,
    /// `stripe` or `local`.
    #[schema(example = "local")]
    pub provider: String,
    pub current_period_end: Option<DateTime<Utc>>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
}

impl From<pb::Subscription> for SubscriptionBody {
    fn from(s: pb::Subscription) -> Self {
        Self {
            tenant_id: s.tenant_id,
            plan: s.plan,
            subscribed_plan: s.subscribed_plan,
            status: s.status,
            provider: s.provider,
            current_period_end: convert::time(s.current_period_end),
            past_due_since: convert::time(s.past_due_since),
            cancel_at_period_end: s.cancel_at_period_end,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitUsageBody {
    #[schema(example = "ai_text_generations")]
    pub limit: String,
    pub used: u64,
    /// Held by reservations not yet committed or released.
    pub reserved: u64,
    pub limit_value: u64,
    pub period: String,
}

/// Usage against limits for the current period.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageBody {
    pub plan: String,
    pub provider: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub limits: Vec<LimitUsageBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceBody {
    pub id: String,
    pub number: String,
    pub status: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    pub hosted_invoice_url: String,
    pub created: Option<DateTime<Utc>>,
}

super::page!(
    /// The tenant's 20 most recent invoices, newest first (not paged: `next_cursor`
    /// is `null`).
    InvoicePageBody of InvoiceBody
);

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckoutBody {
    #[schema(example = "pro", value_type = PlanName)]
    pub plan: String,
    /// Where Stripe sends the buyer after paying: at most 2048 characters, one line.
    #[schema(max_length = 2048, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub success_url: Option<String>,
    /// Where Stripe sends the buyer who cancels: at most 2048 characters, one line.
    #[schema(max_length = 2048, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub cancel_url: Option<String>,
}

/// A plan of the catalogue.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PlanName {
    Free,
    Pro,
    Business,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResponse {
    /// `stripe` or `local`.
    pub provider: String,
    /// Stripe-hosted checkout page; absent for the local provider (applied at once).
    pub url: Option<String>,
    pub session_id: Option<String>,
    pub subscription: Option<SubscriptionBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PortalBody {
    /// Where the portal sends the customer back: at most 2048 characters, one line.
    #[schema(max_length = 2048, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub return_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalResponse {
    pub url: String,
}

/// The `Idempotency-Key` header: absent, or 1 to 255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Result<String, Error> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(String::new());
    };
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > fields::MAX_IDEMPOTENCY_KEY_CHARS
        || !bytes.iter().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::invalid(
            "invalid_input",
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// The plans catalogue
#[utoipa::path(tag = "billing", responses((status = 200, description = "Every plan and its limits", body = PlanPageBody)))]
#[get("/api/v1/billing/plans")]
pub async fn plans(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let plans = state
        .billing
        .grpc()
        .list_plans(for_caller(caller.principal(), pb::ListPlansRequest {}))
        .await?
        .into_inner();
    Ok(
        HttpResponse::Ok().json(PlanPageBody::all(plans.plans.into_iter().map(|p| {
            PlanBody {
                id: p.id,
                name: p.name,
                purchasable: p.purchasable,
                limits: p
                    .limits
                    .into_iter()
                    .map(|l| LimitBody {
                        name: l.name,
                        value: l.value,
                        period: l.period,
                    })
                    .collect(),
            }
        }))),
    )
}

/// The tenant's subscription
#[utoipa::path(tag = "billing", responses((status = 200, description = "Plan, status and provider", body = SubscriptionBody)))]
#[get("/api/v1/billing/subscription")]
pub async fn subscription(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let subscription = state
        .billing
        .grpc()
        .get_subscription(for_caller(
            caller.principal(),
            pb::GetSubscriptionRequest {},
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(SubscriptionBody::from(subscription)))
}

/// Usage against limits for the current period
#[utoipa::path(tag = "billing", responses((status = 200, description = "Each limit: used, reserved, allowed", body = UsageBody)))]
#[get("/api/v1/billing/usage")]
pub async fn usage(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let usage = state
        .billing
        .grpc()
        .get_usage(for_caller(caller.principal(), pb::GetUsageRequest {}))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(UsageBody {
        plan: usage.plan,
        provider: usage.provider,
        period_start: convert::time(usage.period_start),
        period_end: convert::time(usage.period_end),
        limits: usage
            .limits
            .into_iter()
            .map(|l| LimitUsageBody {
                limit: l.limit,
                used: l.used,
                reserved: l.reserved,
                limit_value: l.limit_value,
                period: l.period,
            })
            .collect(),
    }))
}

/// The tenant's invoices (empty for the local provider)
#[utoipa::path(tag = "billing", responses((status = 200, description = "Most recent first", body = InvoicePageBody)))]
#[get("/api/v1/billing/invoices")]
pub async fn invoices(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let list = state
        .billing
        .grpc()
        .list_invoices(for_caller(
            caller.principal(),
            pb::ListInvoicesRequest { limit: 20 },
        ))
        .await?
        .into_inner();
    Ok(
        HttpResponse::Ok().json(InvoicePageBody::all(list.invoices.into_iter().map(|i| {
            InvoiceBody {
                id: i.id,
                number: i.number,
                status: i.status,
                amount_due: i.amount_due,
                amount_paid: i.amount_paid,
                currency: i.currency,
                hosted_invoice_url: i.hosted_invoice_url,
                created: convert::time(i.created),
            }
        }))),
    )
}

/// Subscribe to a plan
///
/// With Stripe: a Checkout Session to redirect to; the plan changes when Stripe
/// confirms. With the local provider the plan applies at once. Send an
/// `Idempotency-Key` header to make retries safe.
#[utoipa::path(
    tag = "billing",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$")),
    request_body = CheckoutBody,
    responses(
        (status = 200, description = "The session (or the applied change)", body = CheckoutResponse),
        (status = 400, description = "`unknown_plan`, `plan_not_purchasable` (Stripe: a plan without a price), `invalid_input`, or a malformed body", body = marquee_platform::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/billing/checkout")]
pub async fn checkout(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    body: JsonObject<CheckoutBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    let idempotency_key = idempotency_key(&req)?;
    validate::id("plan", &body.plan)?;
    validate::named("success_url", &fields::URL, body.success_url.as_deref())?;
    validate::named("cancel_url", &fields::URL, body.cancel_url.as_deref())?;
    let session = state
        .billing
        .grpc()
        .create_checkout(for_caller(
            caller.principal(),
            pb::CreateCheckoutRequest {
                plan: body.plan,
                success_url: body.success_url.unwrap_or_default(),
                cancel_url: body.cancel_url.unwrap_or_default(),
                idempotency_key,
                email: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CheckoutResponse {
        provider: session.provider,
        url: non_empty(session.url),
        session_id: non_empty(session.session_id),
        subscription: session.subscription.map(SubscriptionBody::from),
    }))
}

/// Open the Stripe Customer Portal
///
/// Only with Stripe: on the local billing provider the answer is `409
/// stripe_not_configured` (a configuration, not an outage; retrying will not help).
#[utoipa::path(
    tag = "billing",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", max_length = 255, pattern = "^[!-~]{1,255}$")),
    request_body = PortalBody,
    responses(
        (status = 200, description = "The portal URL", body = PortalResponse),
        (status = 409, description = "Stripe is not configured (`stripe_not_configured`)", body = marquee_platform::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/billing/portal")]
pub async fn portal(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    body: JsonObject<PortalBody>,
) -> Result<HttpResponse, Error> {
    let idempotency_key = idempotency_key(&req)?;
    let return_url = body.into_inner().return_url;
    validate::named("return_url", &fields::URL, return_url.as_deref())?;
    let session = state
        .billing
        .grpc()
        .create_portal(for_caller(
            caller.principal(),
            pb::CreatePortalRequest {
                return_url: return_url.unwrap_or_default(),
                idempotency_key,
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(PortalResponse { url: session.url }))
}
