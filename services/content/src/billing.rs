//! Storage quota held in billing (`marquee.billing.v1.BillingService`) over gRPC, with
//! the caller's principal and the trace context in metadata.
//!
//! An upload (see `docs/content.md`, "Quota"):
//! 1. before a byte is stored: `Reserve(assets, 1)` and `CheckEntitlement(storage_bytes)`
//!    — what is left of the plan's storage caps the stream;
//! 2. a stream that passes the cap stops at once: 402 `quota_exceeded` naming
//!    `storage_bytes` (billing's own answer);
//! 3. at the end of the stream: `Reserve(storage_bytes, size)` — atomic in billing, so
//!    parallel uploads never pass the limit together — then both holds are committed in
//!    the same step as the asset row;
//! 4. any failure (and a deduplicated upload) releases the holds: it costs nothing.
//!
//! Deleting an asset gives its bytes and its count back (`FreeUsage`). Billing's errors
//! pass through unchanged (`Error::from(status)`); billing unreachable is 503
//! `unavailable`, and nothing is stored.

use crate::error::{ContentError, Result};
use marquee_platform::grpc::TraceContextInterceptor;
use marquee_platform::{Error, ErrorKind, Principal};
use marquee_proto::billing::v1 as pb;
use pb::billing_service_client::BillingServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const STORAGE_BYTES: &str = "storage_bytes";
pub const ASSETS: &str = "assets";
/// How long an upload's holds live if never settled (a crashed replica): longer than
/// any upload should take, within billing's default `reservation_max_ttl_secs` (24 h).
pub const UPLOAD_HOLD_SECS: u32 = 6 * 3600;

fn billing_error(status: tonic::Status) -> ContentError {
    ContentError::Billing(Error::from(status))
}

/// A lazily connected client of billing's quota calls.
#[derive(Clone)]
pub struct BillingClient {
    client: BillingServiceClient<InterceptedService<Channel, TraceContextInterceptor>>,
}

impl BillingClient {
    pub fn connect_lazy(url: &str) -> anyhow::Result<Self> {
        let channel = marquee_platform::grpc::channel(url)?;
        Ok(Self {
            client: BillingServiceClient::with_interceptor(channel, TraceContextInterceptor),
        })
    }

    fn request<T>(caller: &Principal, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        caller.write_to(request.metadata_mut());
        request
    }

    /// What is left of `limit` (committed usage and active holds subtracted).
    pub async fn remaining(&self, caller: &Principal, limit: &str) -> Result<u64> {
        let check = self
            .client
            .clone()
            .check_entitlement(Self::request(
                caller,
                pb::CheckEntitlementRequest {
                    limit: limit.into(),
                    amount: 0,
                },
            ))
            .await
            .map_err(billing_error)?
            .into_inner();
        Ok(check.limit.saturating_sub(check.used))
    }

    /// Holds `amount` of `limit`; returns the reservation id.
    pub async fn reserve(
        &self,
        caller: &Principal,
        limit: &str,
        amount: u64,
        idempotency_key: &str,
    ) -> Result<String> {
        let reservation = self
            .client
            .clone()
            .reserve(Self::request(
                caller,
                pb::ReserveRequest {
                    limit: limit.into(),
                    amount,
                    idempotency_key: idempotency_key.into(),
                    ttl_seconds: UPLOAD_HOLD_SECS,
                },
            ))
            .await
            .map_err(billing_error)?
            .into_inner();
        Ok(reservation.id)
    }

    /// Turns the whole hold into usage.
    pub async fn commit(&self, caller: &Principal, reservation_id: &str) -> Result<()> {
        self.client
            .clone()
            .commit(Self::request(
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

    pub async fn release(&self, caller: &Principal, reservation_id: &str) -> Result<()> {
        self.client
            .clone()
            .release(Self::request(
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

    /// Gives back `amount` of a level limit (storage, assets).
    pub async fn free(&self, caller: &Principal, limit: &str, amount: u64) -> Result<()> {
        self.client
            .clone()
            .free_usage(Self::request(
                caller,
                pb::FreeUsageRequest {
                    limit: limit.into(),
                    amount,
                },
            ))
            .await
            .map_err(billing_error)?;
        Ok(())
    }
}

/// Where one hold stands, as far as this upload knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Held,
    Committed,
    /// A commit failed: billing may or may not have applied it.
    Unknown,
}

struct Held {
    limit: &'static str,
    id: String,
    amount: u64,
    state: State,
}

/// The holds of one upload. Without a billing client (tests, tools) every step is a
/// no-op and the cap is unlimited.
pub struct UploadHold {
    billing: Option<BillingClient>,
    caller: Principal,
    key: String,
    holds: Vec<Held>,
    /// Storage bytes left when the upload started.
    pub cap: u64,
}

impl UploadHold {
    /// Reserves one asset and reads the storage left. Nothing is held when it fails.
    pub async fn start(
        billing: Option<&BillingClient>,
        caller: &Principal,
        asset_id: &str,
    ) -> Result<Self> {
        let mut hold = Self {
            billing: billing.cloned(),
            caller: caller.clone(),
            key: format!("upload:{asset_id}"),
            holds: Vec::new(),
            cap: u64::MAX,
        };
        let Some(billing) = billing else {
            return Ok(hold);
        };
        hold.hold(ASSETS, 1).await?;
        match billing.remaining(caller, STORAGE_BYTES).await {
            Ok(cap) => hold.cap = cap,
            Err(error) => {
                hold.settle_failed().await;
                return Err(error);
            }
        }
        Ok(hold)
    }

    async fn hold(&mut self, limit: &'static str, amount: u64) -> Result<()> {
        let Some(billing) = &self.billing else {
            return Ok(());
        };
        let id = billing
            .reserve(
                &self.caller,
                limit,
                amount,
                &format!("{}:{limit}", self.key),
            )
            .await?;
        self.holds.push(Held {
            limit,
            id,
            amount,
            state: State::Held,
        });
        Ok(())
    }

    /// The error for a stream that passed the cap after `seen` bytes: billing's own
    /// answer to holding them (402 `quota_exceeded`, naming `storage_bytes`, the plan,
    /// used and allowed). Should the space have been freed meanwhile, the probe is
    /// released and the answer is the same problem, worded here.
    pub async fn over_quota(&self, seen: u64) -> ContentError {
        let Some(billing) = &self.billing else {
            return ContentError::Internal("over quota without billing".into());
        };
        match billing
            .reserve(
                &self.caller,
                STORAGE_BYTES,
                seen,
                &format!("{}:probe", self.key),
            )
            .await
        {
            Err(error) => error,
            Ok(probe) => {
                if let Err(error) = billing.release(&self.caller, &probe).await {
                    tracing::warn!(%error, "releasing a storage probe");
                }
                ContentError::Billing(Error::new(
                    ErrorKind::QuotaExceeded,
                    "quota_exceeded",
                    format!(
                        "quota exceeded for {STORAGE_BYTES}: the upload is larger than the {} bytes left when it started",
                        self.cap
                    ),
                ))
            }
        }
    }

    /// Holds the stored size (at the end of the stream).
    pub async fn reserve_storage(&mut self, size: u64) -> Result<()> {
        self.hold(STORAGE_BYTES, size).await
    }

    /// Turns the holds into usage (the asset is being stored).
    pub async fn commit(&mut self) -> Result<()> {
        let Some(billing) = &self.billing else {
            return Ok(());
        };
        for held in &mut self.holds {
            held.state = State::Unknown;
            billing.commit(&self.caller, &held.id).await?;
            held.state = State::Committed;
        }
        Ok(())
    }

    /// The upload did not produce a new asset: release what is held and give back
    /// what was committed. Failures are logged; unsettled holds expire in billing.
    pub async fn settle_failed(self) {
        let Some(billing) = &self.billing else {
            return;
        };
        let caller = &self.caller;
        for held in &self.holds {
            let result = match held.state {
                State::Held => billing.release(caller, &held.id).await,
                State::Committed => billing.free(caller, held.limit, held.amount).await,
                // Billing answers a conflict when the commit did apply: give it back.
                State::Unknown => match billing.release(caller, &held.id).await {
                    Err(ContentError::Billing(error)) if error.kind == ErrorKind::Conflict => {
                        billing.free(caller, held.limit, held.amount).await
                    }
                    other => other,
                },
            };
            if let Err(error) = result {
                tracing::warn!(%error, limit = held.limit, "settling a failed upload with billing");
            }
        }
    }
}

impl crate::Content {
    /// Gives a deleted asset's bytes and count back. Called inside the delete's
    /// transaction: when billing cannot take them, the delete is refused (503).
    pub(crate) async fn give_back_quota(
        &self,
        caller: &Principal,
        asset: &crate::domain::Asset,
    ) -> Result<()> {
        let Some(billing) = &self.billing else {
            return Ok(());
        };
        let size = u64::try_from(asset.size_bytes).unwrap_or(0);
        if size > 0 {
            billing.free(caller, STORAGE_BYTES, size).await?;
        }
        billing.free(caller, ASSETS, 1).await
    }
}
