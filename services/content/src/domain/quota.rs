//! Storage and asset quotas, held in billing. The domain says what it needs
//! ([`Quota`]); the billing client implements it.
//!
//! An upload (see `docs/content.md`, "Quota"):
//! 1. before a byte is stored: `Reserve(assets, 1)` and `CheckEntitlement(storage_bytes)`
//!    — what is left of the plan's storage caps the stream;
//! 2. a stream that passes the cap stops at once: 402 `quota_exceeded` naming
//!    `storage_bytes` (billing's own answer);
//! 3. at the end of the stream: `Reserve(storage_bytes, size)` — atomic in billing, so
//!    parallel uploads never pass the limit together — then the asset row commits with
//!    an `asset.holds` event, and both holds are committed in billing (again by the quota
//!    worker from that event, if this process dies first or billing does not answer);
//! 4. any failure (and a deduplicated upload) releases the holds: it costs nothing.
//!
//! Deleting an asset gives its bytes and its count back (`FreeUsage`). Billing's errors
//! pass through unchanged; billing unreachable is 503 `unavailable`, and nothing is
//! stored.

use super::Content;
use crate::error::{ContentError, Result};
use marquee_platform::{Error, ErrorKind, Principal, PrincipalKind, Role};
use std::fmt;

/// How long an upload's holds live if never settled (a crashed replica): longer than
/// any upload should take, within billing's default `reservation_max_ttl_secs` (24 h).
pub const UPLOAD_HOLD_SECS: u32 = 6 * 3600;

/// The plan limits content meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaLimit {
    /// Bytes stored.
    StorageBytes,
    /// Assets kept.
    Assets,
}

impl QuotaLimit {
    /// The limit's name in billing.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::StorageBytes => "storage_bytes",
            Self::Assets => "assets",
        }
    }
}

impl fmt::Display for QuotaLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The quota operations uploads and deletes need, on behalf of `caller` (their
/// tenant's plan). Errors are [`ContentError::Billing`] carrying billing's answer.
#[async_trait::async_trait]
pub trait Quota: Send + Sync + 'static {
    /// What is left of `limit` (committed usage and active holds subtracted).
    async fn remaining(&self, caller: &Principal, limit: QuotaLimit) -> Result<u64>;

    /// Holds `amount` of `limit` for `ttl_secs`; returns the reservation id.
    async fn reserve(
        &self,
        caller: &Principal,
        limit: QuotaLimit,
        amount: u64,
        idempotency_key: &str,
        ttl_secs: u32,
    ) -> Result<String>;

    /// Turns the whole hold into usage.
    async fn commit(&self, caller: &Principal, reservation_id: &str) -> Result<()>;

    /// Drops the hold.
    async fn release(&self, caller: &Principal, reservation_id: &str) -> Result<()>;

    /// Gives back `amount` of a level limit (storage, assets).
    /// Gives `amount` back, once per `idempotency_key` however often it is retried.
    async fn free(
        &self,
        caller: &Principal,
        limit: QuotaLimit,
        amount: u64,
        idempotency_key: &str,
    ) -> Result<()>;
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
    limit: QuotaLimit,
    id: String,
    amount: u64,
    state: State,
}

impl Held {
    /// Giving a committed hold back happens once, whatever retries.
    fn free_key(&self) -> String {
        format!("hold:{}", self.id)
    }
}

/// The holds of one upload. Without a quota (tests, tools) every step is a no-op and
/// the cap is unlimited.
pub struct UploadHold {
    quota: Option<std::sync::Arc<dyn Quota>>,
    caller: Principal,
    key: String,
    holds: Vec<Held>,
    /// Storage bytes left when the upload started.
    pub cap: u64,
}

impl UploadHold {
    /// Reserves one asset and reads the storage left. Nothing is held when it fails.
    pub async fn start(
        quota: Option<&std::sync::Arc<dyn Quota>>,
        caller: &Principal,
        asset_id: &str,
    ) -> Result<Self> {
        let mut hold = Self {
            quota: quota.cloned(),
            caller: caller.clone(),
            key: format!("upload:{asset_id}"),
            holds: Vec::new(),
            cap: u64::MAX,
        };
        let Some(quota) = quota else {
            return Ok(hold);
        };
        hold.hold(QuotaLimit::Assets, 1).await?;
        match quota.remaining(caller, QuotaLimit::StorageBytes).await {
            Ok(cap) => hold.cap = cap,
            Err(error) => {
                hold.settle_failed().await;
                return Err(error);
            }
        }
        Ok(hold)
    }

    async fn hold(&mut self, limit: QuotaLimit, amount: u64) -> Result<()> {
        let Some(quota) = &self.quota else {
            return Ok(());
        };
        let id = quota
            .reserve(
                &self.caller,
                limit,
                amount,
                &format!("{}:{limit}", self.key),
                UPLOAD_HOLD_SECS,
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
        let Some(quota) = &self.quota else {
            return ContentError::Internal("over quota without billing".into());
        };
        match quota
            .reserve(
                &self.caller,
                QuotaLimit::StorageBytes,
                seen,
                &format!("{}:probe", self.key),
                UPLOAD_HOLD_SECS,
            )
            .await
        {
            Err(error) => error,
            Ok(probe) => {
                if let Err(error) = quota.release(&self.caller, &probe).await {
                    tracing::warn!(%error, "releasing a storage probe");
                }
                ContentError::Billing(Error::new(
                    ErrorKind::QuotaExceeded,
                    "quota_exceeded",
                    format!(
                        "quota exceeded for {}: the upload is larger than the {} bytes left when it started",
                        QuotaLimit::StorageBytes,
                        self.cap
                    ),
                ))
            }
        }
    }

    /// Holds the stored size (at the end of the stream).
    pub async fn reserve_storage(&mut self, size: u64) -> Result<()> {
        self.hold(QuotaLimit::StorageBytes, size).await
    }

    /// The billing reservations held (none without a quota).
    pub fn reservation_ids(&self) -> Vec<String> {
        self.holds.iter().map(|held| held.id.clone()).collect()
    }

    /// Turns the holds into usage (the asset is stored).
    pub async fn commit(&mut self) -> Result<()> {
        let Some(quota) = &self.quota else {
            return Ok(());
        };
        for held in &mut self.holds {
            held.state = State::Unknown;
            quota.commit(&self.caller, &held.id).await?;
            held.state = State::Committed;
        }
        Ok(())
    }

    /// The upload did not produce a new asset: release what is held and give back
    /// what was committed. Failures are logged; unsettled holds expire in billing.
    pub async fn settle_failed(self) {
        let Some(quota) = &self.quota else {
            return;
        };
        let caller = &self.caller;
        for held in &self.holds {
            let result = match held.state {
                State::Held => quota.release(caller, &held.id).await,
                State::Committed => {
                    quota
                        .free(caller, held.limit, held.amount, &held.free_key())
                        .await
                }
                // Billing answers a conflict when the commit did apply: give it back.
                State::Unknown => match quota.release(caller, &held.id).await {
                    Err(ContentError::Billing(error)) if error.kind == ErrorKind::Conflict => {
                        quota
                            .free(caller, held.limit, held.amount, &held.free_key())
                            .await
                    }
                    other => other,
                },
            };
            if let Err(error) = result {
                tracing::warn!(%error, limit = %held.limit, "settling a failed upload with billing");
            }
        }
    }
}

impl Content {
    /// Gives a deleted asset's bytes and count back. Called inside the delete's
    /// transaction: when billing cannot take them, the delete is refused (503).
    /// Gives a deleted asset's bytes and its count back to its owner's tenant, once per
    /// asset (idempotency keys `asset:<id>:deleted`): called after the delete commits,
    /// and again by the `asset.deleted` consumer, which retries until billing answers.
    /// Commits an upload's holds (the quota worker, on `asset.holds`): a hold committed
    /// already is a no-op in billing. A hold released or expired meanwhile cannot be
    /// committed any more: logged, not retried.
    pub async fn commit_upload_holds(
        &self,
        tenant_id: &str,
        owner_id: &str,
        asset_id: &str,
        reservation_ids: &[String],
    ) -> Result<()> {
        let Some(quota) = &self.quota else {
            return Ok(());
        };
        let owner = owner_principal(tenant_id, owner_id);
        for id in reservation_ids {
            match quota.commit(&owner, id).await {
                Ok(()) => {}
                Err(ContentError::Billing(error))
                    if matches!(error.kind, ErrorKind::Conflict | ErrorKind::NotFound) =>
                {
                    tracing::warn!(%error, %asset_id, reservation = %id, "an upload's hold can no longer be billed");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    pub async fn give_back_quota(
        &self,
        tenant_id: &str,
        owner_id: &str,
        asset_id: &str,
        size_bytes: u64,
    ) -> Result<()> {
        let Some(quota) = &self.quota else {
            return Ok(());
        };
        let owner = owner_principal(tenant_id, owner_id);
        let key = format!("asset:{asset_id}:deleted");
        if size_bytes > 0 {
            quota
                .free(&owner, QuotaLimit::StorageBytes, size_bytes, &key)
                .await?;
        }
        quota.free(&owner, QuotaLimit::Assets, 1, &key).await
    }
}

/// The owner of an asset, as the quota worker acts for them in billing.
fn owner_principal(tenant_id: &str, owner_id: &str) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        subject: owner_id.to_string(),
        tenant_id: tenant_id.to_string(),
        roles: vec![Role::Creator],
        scopes: Vec::new(),
    }
}
