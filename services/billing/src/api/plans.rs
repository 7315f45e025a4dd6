//! gRPC handlers of the plans catalogue. Called from the `BillingService` impl in
//! `mod.rs`.

use super::convert;
use crate::domain::{Billing, Provider};
use marquee_proto::billing::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn list(
    billing: &Billing,
    _request: Request<pb::ListPlansRequest>,
) -> Result<Response<pb::ListPlansResponse>, Status> {
    let stripe = billing.provider() == Provider::Stripe;
    let plans = billing
        .catalogue()
        .plans()
        .iter()
        .map(|plan| convert::plan(plan, !stripe || plan.stripe_price_id.is_some()))
        .collect();
    Ok(Response::new(pb::ListPlansResponse { plans }))
}
