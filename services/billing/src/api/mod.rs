//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `BillingError` maps to them in `error.rs`.
//!
//! The one `BillingService` impl delegates each RPC to its resource module (named like
//! the domain modules); `convert` holds the domain → protobuf conversions.

mod convert;
mod plans;
mod quotas;
mod subscriptions;
mod webhooks;

use crate::domain::Billing;

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

#[tonic::async_trait]
impl BillingService for BillingGrpc {
    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        plans::list(&self.billing, request).await
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        subscriptions::get(&self.billing, request).await
    }

    async fn get_usage(
        &self,
        request: Request<pb::GetUsageRequest>,
    ) -> Result<Response<pb::Usage>, Status> {
        quotas::usage(&self.billing, request).await
    }

    async fn create_checkout(
        &self,
        request: Request<pb::CreateCheckoutRequest>,
    ) -> Result<Response<pb::CheckoutSession>, Status> {
        subscriptions::checkout(&self.billing, request).await
    }

    async fn create_portal(
        &self,
        request: Request<pb::CreatePortalRequest>,
    ) -> Result<Response<pb::PortalSession>, Status> {
        subscriptions::portal(&self.billing, request).await
    }

    async fn list_invoices(
        &self,
        request: Request<pb::ListInvoicesRequest>,
    ) -> Result<Response<pb::ListInvoicesResponse>, Status> {
        subscriptions::invoices(&self.billing, request).await
    }

    async fn check_entitlement(
        &self,
        request: Request<pb::CheckEntitlementRequest>,
    ) -> Result<Response<pb::CheckEntitlementResponse>, Status> {
        quotas::check_entitlement(&self.billing, request).await
    }

    async fn reserve(
        &self,
        request: Request<pb::ReserveRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        quotas::reserve(&self.billing, request).await
    }

    async fn commit(
        &self,
        request: Request<pb::SettleRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        quotas::commit(&self.billing, request).await
    }

    async fn release(
        &self,
        request: Request<pb::SettleRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        quotas::release(&self.billing, request).await
    }

    async fn report_usage(
        &self,
        request: Request<pb::ReportUsageRequest>,
    ) -> Result<Response<pb::ReportUsageResponse>, Status> {
        quotas::report_usage(&self.billing, request).await
    }

    async fn free_usage(
        &self,
        request: Request<pb::FreeUsageRequest>,
    ) -> Result<Response<pb::FreeUsageResponse>, Status> {
        quotas::free_usage(&self.billing, request).await
    }

    async fn handle_stripe_webhook(
        &self,
        request: Request<pb::StripeWebhookRequest>,
    ) -> Result<Response<pb::StripeWebhookResponse>, Status> {
        webhooks::handle_stripe(&self.billing, request).await
    }
}
