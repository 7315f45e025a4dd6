//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `BillingError` maps to them in `error.rs`.

use crate::domain::Billing;
use crate::domain::quotas::LimitUsage;
use crate::domain::subscriptions::{CheckoutInput, SubscriptionView};
use crate::store::entities::reservation;
use chrono::{DateTime, Utc};
use marquee_platform::Principal;
use marquee_proto::billing::v1 as pb;
use pb::billing_service_server::BillingService;
use tonic::{Request, Response, Status};

pub use pb::billing_service_server::BillingServiceServer;

pub struct BillingGrpc {
    billing: Billing,
}

impl BillingGrpc {
    pub fn new(billing: Billing) -> Self {
        Self { billing }
    }

    pub fn into_server(self) -> BillingServiceServer<Self> {
        BillingServiceServer::new(self)
    }
}

fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    Ok(Principal::from_metadata(request.metadata())?)
}

fn ts(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn non_empty(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

fn subscription(view: SubscriptionView) -> pb::Subscription {
    pb::Subscription {
        tenant_id: view.tenant_id,
        user_id: view.user_id,
        plan: view.plan,
        status: view.status,
        provider: view.provider.as_str().into(),
        current_period_end: view.current_period_end.map(ts),
        subscribed_plan: view.subscribed_plan,
        past_due_since: view.past_due_since.map(ts),
        cancel_at_period_end: view.cancel_at_period_end,
    }
}

fn reservation(model: reservation::Model) -> pb::Reservation {
    pb::Reservation {
        id: model.id,
        limit: model.limit_name,
        amount: u64::try_from(model.amount).unwrap_or(0),
        state: model.state,
        expires_at: Some(ts(model.expires_at)),
    }
}

fn limit_usage(usage: LimitUsage) -> pb::LimitUsage {
    pb::LimitUsage {
        limit: usage.limit.as_str().into(),
        used: usage.used,
        reserved: usage.reserved,
        limit_value: usage.allowed,
        period: usage.limit.period().as_str().into(),
    }
}

#[tonic::async_trait]
impl BillingService for BillingGrpc {
    async fn list_plans(
        &self,
        _request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        let stripe = self.billing.provider() == crate::domain::Provider::Stripe;
        let plans = self
            .billing
            .catalogue()
            .plans()
            .iter()
            .map(|plan| pb::Plan {
                id: plan.id.clone(),
                name: plan.name.clone(),
                limits: plan
                    .limits
                    .iter()
                    .map(|(limit, value)| pb::Limit {
                        name: limit.as_str().into(),
                        value: *value,
                        period: limit.period().as_str().into(),
                    })
                    .collect(),
                purchasable: !stripe || plan.stripe_price_id.is_some(),
            })
            .collect();
        Ok(Response::new(pb::ListPlansResponse { plans }))
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let caller = principal(&request)?;
        let view = self.billing.subscription(&caller.tenant_id).await?;
        Ok(Response::new(subscription(view)))
    }

    async fn get_usage(
        &self,
        request: Request<pb::GetUsageRequest>,
    ) -> Result<Response<pb::Usage>, Status> {
        let caller = principal(&request)?;
        let usage = self.billing.usage(&caller.tenant_id).await?;
        Ok(Response::new(pb::Usage {
            plan: usage.plan,
            provider: self.billing.provider().as_str().into(),
            period_start: Some(ts(usage.period_start)),
            period_end: Some(ts(usage.period_end)),
            limits: usage.limits.into_iter().map(limit_usage).collect(),
        }))
    }

    async fn create_checkout(
        &self,
        request: Request<pb::CreateCheckoutRequest>,
    ) -> Result<Response<pb::CheckoutSession>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let checkout = self
            .billing
            .checkout(
                &caller.tenant_id,
                &caller.subject,
                &CheckoutInput {
                    plan: &r.plan,
                    email: &r.email,
                    success_url: non_empty(&r.success_url),
                    cancel_url: non_empty(&r.cancel_url),
                    idempotency_key: non_empty(&r.idempotency_key),
                },
            )
            .await?;
        Ok(Response::new(pb::CheckoutSession {
            provider: self.billing.provider().as_str().into(),
            url: checkout.url.unwrap_or_default(),
            session_id: checkout.session_id.unwrap_or_default(),
            subscription: Some(subscription(checkout.subscription)),
        }))
    }

    async fn create_portal(
        &self,
        request: Request<pb::CreatePortalRequest>,
    ) -> Result<Response<pb::PortalSession>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let url = self
            .billing
            .portal(
                &caller.tenant_id,
                non_empty(&r.return_url),
                non_empty(&r.idempotency_key),
            )
            .await?;
        Ok(Response::new(pb::PortalSession { url }))
    }

    async fn list_invoices(
        &self,
        request: Request<pb::ListInvoicesRequest>,
    ) -> Result<Response<pb::ListInvoicesResponse>, Status> {
        let caller = principal(&request)?;
        let limit = request.get_ref().limit;
        let invoices = self.billing.invoices(&caller.tenant_id, limit).await?;
        Ok(Response::new(pb::ListInvoicesResponse {
            invoices: invoices
                .into_iter()
                .map(|i| pb::Invoice {
                    id: i.id,
                    number: i.number,
                    status: i.status,
                    amount_due: i.amount_due,
                    amount_paid: i.amount_paid,
                    currency: i.currency,
                    hosted_invoice_url: i.hosted_invoice_url,
                    created: Some(ts(i.created)),
                })
                .collect(),
        }))
    }

    async fn check_entitlement(
        &self,
        request: Request<pb::CheckEntitlementRequest>,
    ) -> Result<Response<pb::CheckEntitlementResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let check = self
            .billing
            .check(&caller.tenant_id, &r.limit, r.amount)
            .await?;
        Ok(Response::new(pb::CheckEntitlementResponse {
            allowed: check.allowed,
            used: check.used,
            limit: check.limit,
            plan: check.plan,
        }))
    }

    async fn reserve(
        &self,
        request: Request<pb::ReserveRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let held = self
            .billing
            .reserve(
                &caller.tenant_id,
                &r.limit,
                r.amount,
                non_empty(&r.idempotency_key),
                r.ttl_seconds,
            )
            .await?;
        Ok(Response::new(reservation(held)))
    }

    async fn commit(
        &self,
        request: Request<pb::SettleRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let done = self
            .billing
            .commit(&caller.tenant_id, &r.reservation_id, r.amount)
            .await?;
        Ok(Response::new(reservation(done)))
    }

    async fn release(
        &self,
        request: Request<pb::SettleRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let done = self
            .billing
            .release(&caller.tenant_id, &r.reservation_id)
            .await?;
        Ok(Response::new(reservation(done)))
    }

    async fn report_usage(
        &self,
        request: Request<pb::ReportUsageRequest>,
    ) -> Result<Response<pb::ReportUsageResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        let fresh = self
            .billing
            .report_usage(&caller.tenant_id, &r.meter, r.quantity, &r.identifier)
            .await?;
        Ok(Response::new(pb::ReportUsageResponse { duplicate: !fresh }))
    }

    async fn free_usage(
        &self,
        request: Request<pb::FreeUsageRequest>,
    ) -> Result<Response<pb::FreeUsageResponse>, Status> {
        let caller = principal(&request)?;
        let r = request.into_inner();
        self.billing
            .free_usage(&caller.tenant_id, &r.limit, r.amount)
            .await?;
        Ok(Response::new(pb::FreeUsageResponse {}))
    }

    async fn handle_stripe_webhook(
        &self,
        request: Request<pb::StripeWebhookRequest>,
    ) -> Result<Response<pb::StripeWebhookResponse>, Status> {
        let r = request.into_inner();
        let received = self
            .billing
            .receive_webhook(&r.payload, &r.signature)
            .await?;
        Ok(Response::new(pb::StripeWebhookResponse {
            event_id: received.event_id,
            accepted: received.accepted,
        }))
    }
}
