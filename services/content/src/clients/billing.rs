//! Storage quota held in billing (`marquee.billing.v1.BillingService`) over gRPC, with
//! the caller's principal, a deadline and the trace context: the domain's
//! [`Quota`] port on the shared [`BillingClient`]. Billing's errors pass through
//! unchanged (`Error::from(status)`); billing unreachable is 503 `unavailable`.

use crate::domain::quota::{Quota, QuotaLimit};
use crate::error::{ContentError, Result};
use marquee_clients::BillingClient;
use marquee_platform::grpc::for_caller;
use marquee_platform::service_identity::ServiceIdentity;
use marquee_platform::{Error, Principal};
use marquee_proto::billing::v1 as pb;

fn billing_error(status: tonic::Status) -> ContentError {
    ContentError::Billing(Error::from(status))
}

/// Billing's quota calls.
#[derive(Clone, Debug)]
pub struct BillingQuota {
    billing: BillingClient,
}

impl BillingQuota {
    pub fn new(billing: BillingClient) -> Self {
        Self { billing }
    }

    /// A client of billing at `url`, connected on first use.
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        Ok(Self::new(BillingClient::connect_lazy(url, identity)?))
    }
}

#[async_trait::async_trait]
impl Quota for BillingQuota {
    async fn remaining(&self, caller: &Principal, limit: QuotaLimit) -> Result<u64> {
        let check = self
            .billing
            .grpc()
            .check_entitlement(for_caller(
                caller,
                pb::CheckEntitlementRequest {
                    limit: limit.as_str().into(),
                    amount: 0,
                },
            ))
            .await
            .map_err(billing_error)?
            .into_inner();
        Ok(check.limit.saturating_sub(check.used))
    }

    async fn reserve(
        &self,
        caller: &Principal,
        limit: QuotaLimit,
        amount: u64,
        idempotency_key: &str,
        ttl_secs: u32,
    ) -> Result<String> {
        let reservation = self
            .billing
            .grpc()
            .reserve(for_caller(
                caller,
                pb::ReserveRequest {
                    limit: limit.as_str().into(),
                    amount,
                    idempotency_key: idempotency_key.into(),
                    ttl_seconds: ttl_secs,
                },
            ))
            .await
            .map_err(billing_error)?
            .into_inner();
        Ok(reservation.id)
    }

    async fn commit(&self, caller: &Principal, reservation_id: &str) -> Result<()> {
        self.billing
            .grpc()
            .commit(for_caller(
                caller,
                pb::SettleRequest {
                    reservation_id: reservation_id.into(),
                    amount: 0,
                },
            ))
            .await
            .map_err(billing_error)?;
        Ok(())
    }

    async fn release(&self, caller: &Principal, reservation_id: &str) -> Result<()> {
        self.billing
            .grpc()
            .release(for_caller(
                caller,
                pb::SettleRequest {
                    reservation_id: reservation_id.into(),
                    amount: 0,
                },
            ))
            .await
            .map_err(billing_error)?;
        Ok(())
    }

    async fn free(
        &self,
        caller: &Principal,
        limit: QuotaLimit,
        amount: u64,
        idempotency_key: &str,
    ) -> Result<()> {
        self.billing
            .grpc()
            .free_usage(for_caller(
                caller,
                pb::FreeUsageRequest {
                    limit: limit.as_str().into(),
                    amount,
                    idempotency_key: idempotency_key.into(),
                },
            ))
            .await
            .map_err(billing_error)?;
        Ok(())
    }
}
