//! gRPC handlers of subscriptions: the current subscription, checkout, the customer
//! portal and invoices. Called from the `BillingService` impl in `mod.rs`.

use super::convert;
use crate::domain::Billing;
use crate::domain::subscriptions::CheckoutInput;
use marquee_platform::Principal;
use marquee_proto::billing::v1 as pb;
use marquee_proto::convert::non_empty_str;
use tonic::{Request, Response, Status};

pub(super) async fn get(
    billing: &Billing,
    request: Request<pb::GetSubscriptionRequest>,
) -> Result<Response<pb::Subscription>, Status> {
    let caller = Principal::from_request(&request)?;
    let view = billing.subscription(&caller.tenant_id).await?;
    Ok(Response::new(convert::subscription(view)))
}

pub(super) async fn checkout(
    billing: &Billing,
    request: Request<pb::CreateCheckoutRequest>,
) -> Result<Response<pb::CheckoutSession>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let checkout = billing
        .checkout(
            &caller.tenant_id,
            &caller.subject,
            &CheckoutInput {
                plan: &r.plan,
                email: &r.email,
                success_url: non_empty_str(&r.success_url),
                cancel_url: non_empty_str(&r.cancel_url),
                idempotency_key: non_empty_str(&r.idempotency_key),
            },
        )
        .await?;
    Ok(Response::new(pb::CheckoutSession {
        provider: billing.provider().as_str().into(),
        url: checkout.url.unwrap_or_default(),
        session_id: checkout.session_id.unwrap_or_default(),
        subscription: Some(convert::subscription(checkout.subscription)),
    }))
}

pub(super) async fn portal(
    billing: &Billing,
    request: Request<pb::CreatePortalRequest>,
) -> Result<Response<pb::PortalSession>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let url = billing
        .portal(
            &caller.tenant_id,
            non_empty_str(&r.return_url),
            non_empty_str(&r.idempotency_key),
        )
        .await?;
    Ok(Response::new(pb::PortalSession { url }))
}

pub(super) async fn invoices(
    billing: &Billing,
    request: Request<pb::ListInvoicesRequest>,
) -> Result<Response<pb::ListInvoicesResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let limit = request.get_ref().limit;
    let invoices = billing.invoices(&caller.tenant_id, limit).await?;
    Ok(Response::new(pb::ListInvoicesResponse {
        invoices: invoices.into_iter().map(convert::invoice).collect(),
    }))
}
