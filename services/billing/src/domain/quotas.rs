//! Entitlements and quota reservations.
//!
//! `reserve` holds capacity before an expensive job, `commit` turns (part of) it into
//! usage when the job succeeds, `release` gives it back when it fails, and holds never
//! settled expire after their TTL (the sweeper releases them). A hold is one
//! conditional UPDATE, so any number of parallel reservations stays within the limit.

use super::plans::{LimitName, Period};
use super::{Billing, month};
use crate::error::{BillingError, Result};
use crate::store::{self, entities::reservation};
use chrono::{DateTime, Duration, Utc};

/// The caller's view of one limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitUsage {
    pub limit: LimitName,
    pub used: u64,
    pub reserved: u64,
    pub allowed: u64,
}

#[derive(Debug, Clone)]
pub struct UsageReport {
    pub plan: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub limits: Vec<LimitUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub allowed: bool,
    pub used: u64,
    pub limit: u64,
    pub plan: String,
}

pub fn parse_limit(value: &str) -> Result<LimitName> {
    LimitName::parse(value).ok_or_else(|| {
        BillingError::invalid(
            "unknown_limit",
            format!(
                "unknown limit {value:?}; known limits: {}",
                LimitName::ALL.map(LimitName::as_str).join(", ")
            ),
        )
    })
}

fn period_key(limit: LimitName, now: DateTime<Utc>) -> String {
    match limit.period() {
        Period::Month => month(now).0,
        Period::Total => "total".to_string(),
    }
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| BillingError::invalid("invalid_amount", "amount too large"))
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Billing {
    /// Usage against every limit of the tenant's plan, for the current period.
    pub async fn usage(&self, tenant: &str) -> Result<UsageReport> {
        let now = Utc::now();
        let plan = self.effective_plan(tenant, now).await?;
        let (_, period_start, period_end) = month(now);
        let mut limits = Vec::new();
        for limit in LimitName::ALL {
            let counter =
                store::quotas::counter(self.db(), tenant, limit.as_str(), &period_key(limit, now))
                    .await?;
            let (used, reserved) = counter.map_or((0, 0), |c| (to_u64(c.used), to_u64(c.reserved)));
            limits.push(LimitUsage {
                limit,
                used,
                reserved,
                allowed: plan.limit(limit),
            });
        }
        Ok(UsageReport {
            plan: plan.id,
            period_start,
            period_end,
            limits,
        })
    }

    /// Whether `amount` more fits now; holds nothing.
    pub async fn check(&self, tenant: &str, limit: &str, amount: u64) -> Result<Check> {
        let limit = parse_limit(limit)?;
        let now = Utc::now();
        let plan = self.effective_plan(tenant, now).await?;
        let counter =
            store::quotas::counter(self.db(), tenant, limit.as_str(), &period_key(limit, now))
                .await?;
        let used = counter.map_or(0, |c| to_u64(c.used) + to_u64(c.reserved));
        let allowed = plan.limit(limit);
        Ok(Check {
            allowed: used.saturating_add(amount) <= allowed,
            used,
            limit: allowed,
            plan: plan.id,
        })
    }

    /// Holds `amount` of `limit` for `ttl_secs` (0 = default). A repeated key returns
    /// the reservation it created.
    pub async fn reserve(
        &self,
        tenant: &str,
        limit: &str,
        amount: u64,
        idempotency_key: Option<&str>,
        ttl_secs: u32,
    ) -> Result<reservation::Model> {
        let limit = parse_limit(limit)?;
        if amount == 0 {
            return Err(BillingError::invalid(
                "invalid_amount",
                "amount must be positive",
            ));
        }
        let amount_i = to_i64(amount)?;
        let settings = self.settings();
        let ttl = if ttl_secs == 0 {
            settings.reservation_ttl_secs
        } else {
            ttl_secs
        };
        if ttl > settings.reservation_max_ttl_secs {
            return Err(BillingError::invalid(
                "invalid_ttl",
                format!(
                    "ttl_seconds may be at most {}",
                    settings.reservation_max_ttl_secs
                ),
            ));
        }
        if let Some(key) = idempotency_key
            && let Some(existing) =
                store::quotas::reservation_by_key(self.db(), tenant, key).await?
        {
            return Ok(existing);
        }
        let now = Utc::now();
        let plan = self.effective_plan(tenant, now).await?;
        let allowed = plan.limit(limit);
        let period = period_key(limit, now);
        let txn = marquee_db::begin_write(self.db()).await?;
        store::quotas::ensure_counter(&txn, tenant, limit.as_str(), &period).await?;
        let held = store::quotas::try_hold(
            &txn,
            tenant,
            limit.as_str(),
            &period,
            amount_i,
            to_i64(allowed)?,
        )
        .await?;
        if !held {
            let counter = store::quotas::counter(&txn, tenant, limit.as_str(), &period).await?;
            txn.rollback().await?;
            let used = counter.map_or(0, |c| to_u64(c.used) + to_u64(c.reserved));
            return Err(BillingError::QuotaExceeded {
                limit: limit.as_str(),
                plan: plan.id,
                used,
                allowed,
                requested: amount,
                rate: limit.is_rate(),
                retry_after_secs: u64::try_from((month(now).2 - now).num_seconds()).unwrap_or(60),
            });
        }
        let model = reservation::Model {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant.to_string(),
            limit_name: limit.as_str().to_string(),
            period,
            amount: amount_i,
            state: "held".into(),
            idempotency_key: idempotency_key.map(str::to_string),
            created_at: now,
            expires_at: now + Duration::seconds(i64::from(ttl)),
            settled_at: None,
        };
        match store::quotas::insert_reservation(&txn, model.clone()).await {
            Ok(()) => {
                txn.commit().await?;
                metrics::counter!("marquee_billing_reservations_total", "limit" => limit.as_str())
                    .increment(1);
                Ok(model)
            }
            Err(error) if store::is_unique_violation(&error) => {
                // The same key raced us: ours rolls back, theirs is the answer.
                txn.rollback().await?;
                let key = idempotency_key.unwrap_or_default();
                store::quotas::reservation_by_key(self.db(), tenant, key)
                    .await?
                    .ok_or(BillingError::NotFound("reservation"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Turns a hold into usage: `amount` (0 = all of it, at most the held amount).
    /// Committing a committed reservation again returns it unchanged.
    pub async fn commit(&self, tenant: &str, id: &str, amount: u64) -> Result<reservation::Model> {
        let held = self.held(tenant, id).await?;
        let Some(held) = held else {
            return self.settled(tenant, id, "committed").await;
        };
        let used = if amount == 0 {
            held.amount
        } else {
            to_i64(amount)?
        };
        if used > held.amount {
            return Err(BillingError::invalid(
                "invalid_amount",
                format!("cannot commit {used}: only {} was reserved", held.amount),
            ));
        }
        let now = Utc::now();
        let txn = marquee_db::begin_write(self.db()).await?;
        if !store::quotas::transition(&txn, id, "committed", now).await? {
            txn.rollback().await?;
            return self.settled(tenant, id, "committed").await;
        }
        store::quotas::settle_hold(
            &txn,
            tenant,
            &held.limit_name,
            &held.period,
            held.amount,
            used,
        )
        .await?;
        self.record_usage(
            &txn,
            tenant,
            &held.limit_name,
            used,
            &format!("reservation:{id}"),
            now,
        )
        .await?;
        txn.commit().await?;
        self.settled(tenant, id, "committed").await
    }

    /// Gives a hold back (the job failed: it costs nothing).
    pub async fn release(&self, tenant: &str, id: &str) -> Result<reservation::Model> {
        let Some(held) = self.held(tenant, id).await? else {
            return self.settled(tenant, id, "released").await;
        };
        self.end_hold(&held, "released").await?;
        self.settled(tenant, id, "released").await
    }

    /// Releases holds whose TTL passed; returns how many.
    pub async fn expire_reservations(&self) -> Result<usize> {
        let expired = store::quotas::expired_reservations(self.db(), Utc::now(), 500).await?;
        let mut count = 0;
        for held in expired {
            if self.end_hold(&held, "expired").await? {
                count += 1;
            }
        }
        Ok(count)
    }

    async fn end_hold(&self, held: &reservation::Model, state: &str) -> Result<bool> {
        let txn = marquee_db::begin_write(self.db()).await?;
        if !store::quotas::transition(&txn, &held.id, state, Utc::now()).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        store::quotas::settle_hold(
            &txn,
            &held.tenant_id,
            &held.limit_name,
            &held.period,
            held.amount,
            0,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn held(&self, tenant: &str, id: &str) -> Result<Option<reservation::Model>> {
        let found = store::quotas::reservation(self.db(), tenant, id)
            .await?
            .ok_or(BillingError::NotFound("reservation"))?;
        Ok((found.state == "held").then_some(found))
    }

    /// The reservation after a settle: in `wanted` state, or a conflict naming its state.
    async fn settled(&self, tenant: &str, id: &str, wanted: &str) -> Result<reservation::Model> {
        let found = store::quotas::reservation(self.db(), tenant, id)
            .await?
            .ok_or(BillingError::NotFound("reservation"))?;
        if found.state == wanted {
            Ok(found)
        } else {
            Err(BillingError::Conflict {
                code: "reservation_settled",
                message: format!("the reservation is already {}", found.state),
            })
        }
    }

    /// Records usage that happened (no limit check), once per identifier. Returns false
    /// for a duplicate.
    pub async fn report_usage(
        &self,
        tenant: &str,
        limit: &str,
        quantity: u64,
        identifier: &str,
    ) -> Result<bool> {
        let limit = parse_limit(limit)?;
        if identifier.is_empty() {
            return Err(BillingError::invalid(
                "identifier_required",
                "identifier is required",
            ));
        }
        let now = Utc::now();
        let txn = marquee_db::begin_write(self.db()).await?;
        let fresh = self
            .record_usage(
                &txn,
                tenant,
                limit.as_str(),
                to_i64(quantity)?,
                identifier,
                now,
            )
            .await?;
        if fresh {
            store::quotas::add_used(
                &txn,
                tenant,
                limit.as_str(),
                &period_key(limit, now),
                to_i64(quantity)?,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(fresh)
    }

    /// Gives back capacity of a level limit (storage, assets) when something is deleted.
    /// Gives `amount` of a level (storage, assets) back, once per `idempotency_key`: a
    /// retried delete frees nothing the second time.
    pub async fn free_usage(
        &self,
        tenant: &str,
        limit: &str,
        amount: u64,
        idempotency_key: &str,
    ) -> Result<()> {
        let limit = parse_limit(limit)?;
        if limit.period() != Period::Total {
            return Err(BillingError::invalid(
                "not_a_level",
                format!("{} resets each period and cannot be freed", limit.as_str()),
            ));
        }
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(BillingError::invalid(
                "invalid_idempotency_key",
                "freeing usage needs an idempotency key of 1 to 200 characters",
            ));
        }
        let quantity = -to_i64(amount)?;
        let txn = marquee_db::begin_write(self.db()).await?;
        let fresh = self
            .record_usage(
                &txn,
                tenant,
                limit.as_str(),
                quantity,
                &format!("free:{}:{key}", limit.as_str()),
                Utc::now(),
            )
            .await?;
        if fresh {
            store::quotas::add_used(&txn, tenant, limit.as_str(), "total", quantity).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    async fn record_usage(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        tenant: &str,
        limit: &str,
        quantity: i64,
        identifier: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let meter = LimitName::parse(limit)
            .and_then(|l| self.catalogue().meter(l))
            // Only consumption is metered; a level given back (negative) is not.
            .filter(|_| quantity > 0 && self.provider() == super::Provider::Stripe)
            .map(str::to_string);
        Ok(store::quotas::insert_record(
            txn,
            store::entities::usage_record::Model {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                limit_name: limit.to_string(),
                quantity,
                identifier: format!("{tenant}:{identifier}"),
                meter_event: meter,
                created_at: now,
                reported_at: None,
                attempts: 0,
                last_error: None,
                next_attempt_at: None,
            },
        )
        .await?)
    }
}
