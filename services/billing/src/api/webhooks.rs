//! gRPC handler of Stripe webhooks: verify and store the event; the webhook worker
//! (`events::webhook_worker`) processes it. Called from the `BillingService` impl in
//! `mod.rs`.

use super::convert;
use crate::domain::Billing;
use marquee_proto::billing::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn handle_stripe(
    billing: &Billing,
    request: Request<pb::StripeWebhookRequest>,
) -> Result<Response<pb::StripeWebhookResponse>, Status> {
    let r = request.into_inner();
    let received = billing.receive_webhook(&r.payload, &r.signature).await?;
    Ok(Response::new(convert::webhook_received(received)))
}
