//! Background jobs: analysis, post generation, regeneration, images and videos.
//!
//! A job is a row (`queued → running → succeeded | failed | cancelled`, progress %,
//! message). Any replica's runner claims a queued job with a conditional update and holds
//! it by a lease it renews while the work runs; a replica that dies leaves a lease that
//! runs out, and the job is claimed again. Cancel marks the row; the runner holding the
//! job sees the mark at its next heartbeat and cancels the work's token, which every
//! long step (model tokens, video polling) checks.

use super::{Studio, may_access, new_id};
use crate::error::{CampaignError, Result};
use crate::store;
use crate::store::entities::job::Model as Row;
use chrono::{DateTime, Utc};
use marquee_platform::{Principal, PrincipalKind, Role, Scope};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub mod kind {
    pub const ANALYSIS: &str = "analysis";
    pub const POSTS: &str = "posts";
    pub const REGENERATE: &str = "regenerate";
    pub const IMAGE: &str = "image";
    pub const VIDEO: &str = "video";
    pub const CHAT: &str = "chat";
}

pub mod state {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";

    pub fn is_final(state: &str) -> bool {
        matches!(state, SUCCEEDED | FAILED | CANCELLED)
    }
}

/// How long a claim holds without renewal, and how often it is renewed (and the cancel
/// mark read).
const LEASE: Duration = Duration::from_secs(30);
const HEARTBEAT: Duration = Duration::from_millis(300);
/// How often an idle runner looks for work nobody woke it for (other replicas' jobs,
/// expired leases).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Who a job acts as: the caller who started it, with the same rights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    pub kind: PrincipalKind,
    pub subject: String,
    pub tenant_id: String,
    pub roles: Vec<Role>,
    pub scopes: Vec<Scope>,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Self {
            kind: p.kind,
            subject: p.subject.clone(),
            tenant_id: p.tenant_id.clone(),
            roles: p.roles.clone(),
            scopes: p.scopes.clone(),
        }
    }
}

impl From<Actor> for Principal {
    fn from(a: Actor) -> Self {
        Self {
            kind: a.kind,
            subject: a.subject,
            tenant_id: a.tenant_id,
            roles: a.roles,
            scopes: a.scopes,
        }
    }
}

/// What a job needs besides its kind, campaign and post.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobParams {
    pub actor: Actor,
    /// Posts: add to the campaign's posts instead of replacing the unscheduled ones.
    #[serde(default)]
    pub append: bool,
    /// Regenerate: the creator's words.
    #[serde(default)]
    pub instructions: String,
    /// Image: the creator's asset behind the card.
    #[serde(default)]
    pub background_asset_id: String,
    /// Chat: the creator's message.
    #[serde(default)]
    pub message: String,
}

impl JobParams {
    /// Parameters acting as `caller`, nothing else set.
    pub fn for_caller(caller: &Principal) -> Self {
        Self {
            actor: Actor::from(caller),
            append: false,
            instructions: String::new(),
            background_asset_id: String::new(),
            message: String::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub campaign_id: String,
    pub post_id: Option<String>,
    pub kind: String,
    pub state: String,
    pub progress: u32,
    pub message: String,
    pub error: String,
    pub asset_id: Option<String>,
    pub provider: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Row> for Job {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            campaign_id: row.campaign_id,
            post_id: row.post_id,
            kind: row.kind,
            state: row.state,
            progress: row.progress.clamp(0, 100) as u32,
            message: row.message,
            error: row.error,
            asset_id: row.asset_id,
            provider: row.provider,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        }
    }
}

/// A running job's handle on its own row: progress, and its cancel token.
pub struct JobContext {
    pub id: String,
    cancel: CancellationToken,
    db: sea_orm::DatabaseConnection,
    progress: AtomicU32,
}

impl JobContext {
    pub fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Records progress (never backwards) and a message; `Err(Cancelled)` once the job
    /// was cancelled, so every step is a place the work stops.
    pub async fn progress(&self, percent: u32, message: &str) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(CampaignError::Cancelled);
        }
        let percent = percent.min(99).max(self.progress.load(Ordering::Relaxed));
        self.progress.store(percent, Ordering::Relaxed);
        store::jobs::set_progress(&self.db, &self.id, percent, message).await?;
        Ok(())
    }
}

/// The job's message for its owner: what went wrong, without internals.
fn public_error(error: &CampaignError) -> String {
    match error {
        CampaignError::Database(_) | CampaignError::Internal(_) => {
            "internal error (logged)".to_string()
        }
        other => other.to_string(),
    }
}

impl Studio {
    /// Queues a job on a campaign. A retried request with the same idempotency key
    /// answers the first job. Analysis and post generation run one at a time per
    /// campaign (`campaign_busy`).
    pub(crate) async fn enqueue_job(
        &self,
        caller: &Principal,
        campaign_id: &str,
        kind: &'static str,
        post_id: Option<String>,
        params: JobParams,
        idempotency_key: Option<String>,
    ) -> Result<Job> {
        if let Some(key) = &idempotency_key
            && let Some(row) = store::jobs::find_by_key(&self.db, &caller.subject, key).await?
        {
            return Ok(row.into());
        }
        if matches!(kind, kind::ANALYSIS | kind::POSTS)
            && store::jobs::has_active_text_job(&self.db, campaign_id).await?
        {
            return Err(CampaignError::conflict(
                "campaign_busy",
                "the campaign is being analysed or written; wait for that job or cancel it",
            ));
        }
        let now = Utc::now();
        let provider = match kind {
            kind::IMAGE => self.visuals.image_provider(),
            kind::VIDEO => self.visuals.video_provider().unwrap_or("none"),
            _ => self.provider(),
        };
        let row = Row {
            id: new_id(),
            tenant_id: caller.tenant_id.clone(),
            owner_id: caller.subject.clone(),
            campaign_id: campaign_id.to_string(),
            post_id,
            kind: kind.to_string(),
            state: state::QUEUED.to_string(),
            progress: 0,
            message: "queued".into(),
            error: String::new(),
            asset_id: None,
            provider: provider.to_string(),
            params: super::campaigns::encode(&params),
            idempotency_key,
            cancel_requested: false,
            lease_until: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        store::jobs::insert(&self.db, row.clone()).await?;
        metrics::counter!("marquee_campaign_jobs_total", "kind" => kind).increment(1);
        self.jobs_waiting.notify_one();
        Ok(row.into())
    }

    pub async fn job(&self, caller: &Principal, id: &str) -> Result<Job> {
        let row = store::jobs::find(&self.db, id)
            .await?
            .filter(|row| may_access(caller, &row.tenant_id, &row.owner_id))
            .ok_or(CampaignError::NotFound("job"))?;
        Ok(row.into())
    }

    /// Cancels a job: a queued one at once, a running one at its next step. A job that
    /// already ended is answered as it is.
    pub async fn cancel_job(&self, caller: &Principal, id: &str) -> Result<Job> {
        let job = self.job(caller, id).await?;
        if !state::is_final(&job.state) {
            store::jobs::request_cancel(&self.db, id).await?;
        }
        self.job(caller, id).await
    }

    /// Claims and runs queued jobs, `workers` at a time, until `shutdown`.
    pub async fn run_jobs_until_stopped(self, workers: usize, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(workers.max(1)));
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => return,
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            match store::jobs::claim_next(&self.db, LEASE).await {
                Ok(Some(row)) => {
                    let studio = self.clone();
                    let stop = shutdown.child_token();
                    let span = tracing::info_span!("job", job = %row.id, kind = %row.kind);
                    tokio::spawn(
                        async move {
                            studio.run_job(row, stop).await;
                            drop(permit);
                        }
                        .instrument(span),
                    );
                    continue;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "claiming a job failed"),
            }
            drop(permit);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.jobs_waiting.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    async fn run_job(&self, row: Row, shutdown: CancellationToken) {
        let job_id = row.id.clone();
        let kind = row.kind.clone();
        let context = Arc::new(JobContext {
            id: job_id.clone(),
            cancel: CancellationToken::new(),
            db: self.db.clone(),
            progress: AtomicU32::new(row.progress.clamp(0, 100) as u32),
        });
        // The heartbeat renews the lease and turns the cancel mark (or shutdown) into
        // the work's cancellation.
        let heartbeat = {
            let db = self.db.clone();
            let context = context.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => { context.cancel.cancel(); return; }
                        _ = tokio::time::sleep(HEARTBEAT) => {}
                    }
                    match store::jobs::renew(&db, &context.id, LEASE).await {
                        Ok(true) => {
                            context.cancel.cancel();
                            return;
                        }
                        Ok(false) => {}
                        Err(error) => tracing::warn!(%error, "renewing a job's lease failed"),
                    }
                }
            })
        };
        let result = match decode_params(&row) {
            Ok(params) => self.work(&row, params, &context).await,
            Err(error) => Err(error),
        };
        heartbeat.abort();
        let finish = match &result {
            Ok(asset_id) => {
                store::jobs::finish(
                    &self.db,
                    &job_id,
                    state::SUCCEEDED,
                    "done",
                    "",
                    asset_id.clone(),
                )
                .await
            }
            Err(CampaignError::Cancelled) if shutdown.is_cancelled() => {
                // Shutting down, not cancelled: leave the lease to run out so another
                // replica (or this one, restarted) takes the job again.
                Ok(())
            }
            Err(CampaignError::Cancelled) => {
                store::jobs::finish(&self.db, &job_id, state::CANCELLED, "cancelled", "", None)
                    .await
            }
            Err(error) => {
                tracing::warn!(job = %job_id, %kind, %error, "job failed");
                store::jobs::finish(
                    &self.db,
                    &job_id,
                    state::FAILED,
                    "failed",
                    &public_error(error),
                    None,
                )
                .await
            }
        };
        if let Err(error) = finish {
            tracing::error!(job = %job_id, %error, "recording a job's end failed");
        }
        let outcome = match &result {
            Ok(_) => "succeeded",
            Err(CampaignError::Cancelled) => "cancelled",
            Err(_) => "failed",
        };
        metrics::counter!("marquee_campaign_jobs_finished_total", "kind" => kind, "outcome" => outcome)
            .increment(1);
    }

    /// The job's work; `Ok` carries the asset a media job made.
    async fn work(&self, row: &Row, params: JobParams, job: &JobContext) -> Result<Option<String>> {
        let owner: Principal = params.actor.clone().into();
        match row.kind.as_str() {
            kind::ANALYSIS => {
                self.run_analysis(&owner, &row.campaign_id, job).await?;
                Ok(None)
            }
            kind::POSTS => {
                self.run_generate_posts(&owner, &row.campaign_id, params.append, job)
                    .await?;
                Ok(None)
            }
            kind::REGENERATE => {
                let post_id = row.post_id.as_deref().unwrap_or_default();
                self.run_regenerate(&owner, &row.campaign_id, post_id, &params.instructions, job)
                    .await?;
                Ok(None)
            }
            kind::IMAGE | kind::VIDEO => {
                let post_id = row.post_id.as_deref().unwrap_or_default();
                let asset = self
                    .run_media(&owner, &row.campaign_id, post_id, &row.kind, &params, job)
                    .await?;
                Ok(Some(asset))
            }
            kind::CHAT => {
                self.run_chat(&owner, &row.campaign_id, &params.message, job)
                    .await?;
                Ok(None)
            }
            other => Err(CampaignError::Internal(format!("unknown job kind {other}"))),
        }
    }
}

/// Starting jobs: each checks what it can at once (the campaign, the post, the input)
/// and answers the queued job.
impl Studio {
    fn params(caller: &Principal) -> JobParams {
        JobParams::for_caller(caller)
    }

    pub async fn start_analysis(
        &self,
        caller: &Principal,
        campaign_id: &str,
        idempotency_key: Option<String>,
    ) -> Result<Job> {
        super::require_creator(caller)?;
        let campaign = self.load_campaign(caller, campaign_id).await?;
        self.enqueue_job(
            caller,
            &campaign.id,
            kind::ANALYSIS,
            None,
            Self::params(caller),
            idempotency_key,
        )
        .await
    }

    pub async fn start_generation(
        &self,
        caller: &Principal,
        campaign_id: &str,
        append: bool,
        idempotency_key: Option<String>,
    ) -> Result<Job> {
        super::require_creator(caller)?;
        let campaign = self.load_campaign(caller, campaign_id).await?;
        let params = JobParams {
            append,
            ..Self::params(caller)
        };
        self.enqueue_job(
            caller,
            &campaign.id,
            kind::POSTS,
            None,
            params,
            idempotency_key,
        )
        .await
    }

    pub async fn start_regeneration(
        &self,
        caller: &Principal,
        campaign_id: &str,
        post_id: &str,
        instructions: &str,
        idempotency_key: Option<String>,
    ) -> Result<Job> {
        super::require_creator(caller)?;
        marquee_platform::input::fields::campaign::INSTRUCTIONS.check(instructions)?;
        let campaign = self.load_campaign(caller, campaign_id).await?;
        let post = self.post_of(&campaign.id, post_id).await?;
        if post.is_locked() {
            return Err(CampaignError::conflict(
                "post_published",
                "the post is published",
            ));
        }
        let params = JobParams {
            instructions: instructions.to_string(),
            ..Self::params(caller)
        };
        self.enqueue_job(
            caller,
            &campaign.id,
            kind::REGENERATE,
            Some(post.id),
            params,
            idempotency_key,
        )
        .await
    }

    pub async fn start_media(
        &self,
        caller: &Principal,
        campaign_id: &str,
        post_id: &str,
        media: &str,
        background_asset_id: &str,
        idempotency_key: Option<String>,
    ) -> Result<Job> {
        super::require_creator(caller)?;
        let media_kind = match media {
            "image" | "" => kind::IMAGE,
            "video" => kind::VIDEO,
            _ => {
                return Err(CampaignError::invalid(
                    "invalid_media",
                    "media is image or video",
                ));
            }
        };
        if !background_asset_id.is_empty() {
            marquee_platform::input::id("background_asset_id", background_asset_id)?;
        }
        let campaign = self.load_campaign(caller, campaign_id).await?;
        let post = self.post_of(&campaign.id, post_id).await?;
        if post.is_locked() {
            return Err(CampaignError::conflict(
                "post_published",
                "the post is published",
            ));
        }
        let params = JobParams {
            background_asset_id: background_asset_id.to_string(),
            ..Self::params(caller)
        };
        self.enqueue_job(
            caller,
            &campaign.id,
            media_kind,
            Some(post.id),
            params,
            idempotency_key,
        )
        .await
    }
}

fn decode_params(row: &Row) -> Result<JobParams> {
    super::campaigns::decode(row.params.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_stay_internal() {
        assert_eq!(
            public_error(&CampaignError::Internal("db at 10.0.0.3 said no".into())),
            "internal error (logged)"
        );
        assert!(public_error(&CampaignError::invalid("url_refused", "nope")).contains("nope"));
    }

    #[test]
    fn final_states() {
        assert!(state::is_final(state::CANCELLED));
        assert!(!state::is_final(state::RUNNING));
    }
}
