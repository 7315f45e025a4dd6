//! gRPC handlers of entitlements and usage: checks, quota reservations (reserve,
//! commit, release), freed capacity, metered usage and the usage report. Called from
//! the `BillingService` impl in `mod.rs`.

use super::convert;
use crate::domain::Billing;
use marquee_platform::Principal;
use marquee_proto::billing::v1 as pb;
use marquee_proto::convert::non_empty_str;
use tonic::{Request, Response, Status};

pub(super) async fn usage(
    billing: &Billing,
    request: Request<pb::GetUsageRequest>,
) -> Result<Response<pb::Usage>, Status> {
    let caller = Principal::from_request(&request)?;
    let usage = billing.usage(&caller.tenant_id).await?;
    Ok(Response::new(convert::usage(usage, billing.provider())))
}

pub(super) async fn check_entitlement(
    billing: &Billing,
    request: Request<pb::CheckEntitlementRequest>,
) -> Result<Response<pb::CheckEntitlementResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let check = billing.check(&caller.tenant_id, &r.limit, r.amount).await?;
    Ok(Response::new(convert::check(check)))
}

pub(super) async fn reserve(
    billing: &Billing,
    request: Request<pb::ReserveRequest>,
) -> Result<Response<pb::Reservation>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let held = billing
        .reserve(
            &caller.tenant_id,
            &r.limit,
            r.amount,
            non_empty_str(&r.idempotency_key),
            r.ttl_seconds,
        )
        .await?;
    Ok(Response::new(convert::reservation(held)))
}

pub(super) async fn commit(
    billing: &Billing,
    request: Request<pb::SettleRequest>,
) -> Result<Response<pb::Reservation>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let done = billing
        .commit(&caller.tenant_id, &r.reservation_id, r.amount)
        .await?;
    Ok(Response::new(convert::reservation(done)))
}

pub(super) async fn release(
    billing: &Billing,
    request: Request<pb::SettleRequest>,
) -> Result<Response<pb::Reservation>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let done = billing
        .release(&caller.tenant_id, &r.reservation_id)
        .await?;
    Ok(Response::new(convert::reservation(done)))
}

pub(super) async fn report_usage(
    billing: &Billing,
    request: Request<pb::ReportUsageRequest>,
) -> Result<Response<pb::ReportUsageResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let fresh = billing
        .report_usage(&caller.tenant_id, &r.meter, r.quantity, &r.identifier)
        .await?;
    Ok(Response::new(pb::ReportUsageResponse { duplicate: !fresh }))
}

pub(super) async fn free_usage(
    billing: &Billing,
    request: Request<pb::FreeUsageRequest>,
) -> Result<Response<pb::FreeUsageResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    billing
        .free_usage(&caller.tenant_id, &r.limit, r.amount, &r.idempotency_key)
        .await?;
    Ok(Response::new(pb::FreeUsageResponse {}))
}
