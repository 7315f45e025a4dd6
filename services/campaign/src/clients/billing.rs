//! Billing's quota holds: the `Quota` port.

use crate::domain::{Hold, Quota};
use crate::error::Result;
use async_trait::async_trait;
use marquee_clients::BillingClient;
use marquee_platform::Principal;
use marquee_platform::grpc;
use marquee_platform::service_identity::ServiceIdentity;
use marquee_proto::billing::v1 as pb;

/// How long a hold lives if nobody settles it (a job's longest run, with room).
const HOLD_TTL_SECONDS: u32 = 30 * 60;

pub struct BillingQuota {
    billing: BillingClient,
}

impl BillingQuota {
    pub fn connect_lazy(url: &str, identity: ServiceIdentity) -> anyhow::Result<Self> {
        Ok(Self {
            billing: BillingClient::connect_lazy(url, identity)?,
        })
    }
}

#[async_trait]
impl Quota for BillingQuota {
    async fn reserve(
        &self,
        owner: &Principal,
        limit: &str,
        amount: u64,
        key: &str,
    ) -> Result<Hold> {
        let reservation = self
            .billing
            .grpc()
            .reserve(grpc::for_caller(
                owner,
                pb::ReserveRequest {
                    limit: limit.to_string(),
                    amount,
                    idempotency_key: key.to_string(),
                    ttl_seconds: HOLD_TTL_SECONDS,
                },
            ))
            .await?
            .into_inner();
        Ok(Hold { id: reservation.id })
    }

    async fn commit(&self, owner: &Principal, hold: &Hold) -> Result<()> {
        self.billing
            .grpc()
            .commit(grpc::for_caller(
                owner,
                pb::SettleRequest {
                    reservation_id: hold.id.clone(),
                    amount: 0,
                },
            ))
            .await?;
        Ok(())
    }

    async fn release(&self, owner: &Principal, hold: &Hold) -> Result<()> {
        self.billing
            .grpc()
            .release(grpc::for_caller(
                owner,
                pb::SettleRequest {
                    reservation_id: hold.id.clone(),
                    amount: 0,
                },
            ))
            .await?;
        Ok(())
    }
}
