//! The reconciler: `Tenant` → namespace, quota, limit range, network policy, admin RBAC
//! (server-side apply), status conditions, events, a finalizer and per-tenant backoff.
//!
//! One pass ([`reconcile`]):
//! 1. [`finalizer`] adds `marquee.dev/tenant-cleanup` first (that patch triggers the next
//!    pass), and on deletion runs the cleanup before removing it.
//! 2. [`Tenant::validate`]: an invalid spec is reported (`Degraded`, reason `InvalidSpec`, a
//!    Warning event) and nothing is applied; the tenant waits for its next change — no
//!    retries, so no requeue storm.
//! 3. `namespace` isolation: every object of [`desired`] is applied, unconditionally, with
//!    server-side apply (field manager `marquee-tenant-operator`, forced). An object deleted
//!    or edited behind the operator's back is restored by the same apply. `shared`
//!    isolation applies nothing, and deletes the namespace the status says was created
//!    earlier (the spec switched from `namespace` to `shared`).
//! 4. The [`TenantDirectory`] (the auth service) gets the tenant, when one is configured.
//! 5. The status is patched only when it changed, and an event recorded with it.
//!
//! Errors go back to the controller: [`error_policy`] requeues the tenant after 5 s, doubling
//! to 5 min per consecutive failure of that tenant; a successful pass resets it.
//!
//! Every pass is measured ([`metrics`]): reconciles by outcome, errors by reason, duration,
//! and how many tenants the last pass left not `Ready`.

use crate::domain::resources::{FleetSettings, MANAGED_BY_LABEL, MANAGER, desired};
use crate::domain::tenant::{Isolation, Tenant, TenantStatus};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{self, Event as FinalizerEvent, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod directory;
pub mod metrics;
pub use directory::{DirectoryError, TenantDirectory};

/// The finalizer that holds a deleted tenant until its namespace is gone and auth knows.
pub const FINALIZER: &str = "marquee.dev/tenant-cleanup";
/// First retry after a failed pass; doubled per consecutive failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest wait between retries.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// A healthy tenant is reconciled again after this long even without a change: it
/// re-applies the objects no watch covers (LimitRange, Role, RoleBinding).
pub const RESYNC: Duration = Duration::from_secs(600);

/// Condition reasons (`status.conditions[].reason`, event reasons).
pub mod reason {
    pub const RECONCILED: &str = "Reconciled";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const APPLY_FAILED: &str = "ApplyFailed";
    pub const NAMESPACE_REMOVAL_FAILED: &str = "NamespaceRemovalFailed";
    pub const AUTH_SYNC_FAILED: &str = "AuthSyncFailed";
    pub const CLEANUP_FAILED: &str = "CleanupFailed";
    /// Any other call to the API server (the finalizer's patches, the status).
    pub const KUBERNETES: &str = "Kubernetes";
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("tenant directory: {0}")]
    Directory(#[from] DirectoryError),
    /// Only a hand-made tenant lacks them: one read from the API server has both.
    #[error("the tenant has no name or uid (an owner reference needs both)")]
    MissingMetadata,
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<finalizer::Error<Error>>),
    /// A step of the pass failed; `reason` is what the status and the metrics call it.
    #[error("{source}")]
    Step {
        reason: &'static str,
        source: Box<Error>,
    },
}

impl Error {
    /// The reason the failure is counted under (`reconcile_errors_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Step { reason, .. } => reason,
            Self::Directory(_) => reason::AUTH_SYNC_FAILED,
            Self::MissingMetadata => reason::APPLY_FAILED,
            Self::Kube(_) | Self::Finalizer(_) => reason::KUBERNETES,
        }
    }

    /// The error under any [`Error::Step`].
    pub fn root(&self) -> &Error {
        match self {
            Self::Step { source, .. } => source.root(),
            other => other,
        }
    }

    fn step(reason: &'static str) -> impl FnOnce(Error) -> Error {
        move |source| Self::Step {
            reason,
            source: Box::new(source),
        }
    }
}

/// What a pass needs: the API client, the event recorder, the fleet layout, the auth
/// directory (none when no auth URL is configured), the per-tenant retry counts and the
/// tenants not `Ready`.
pub struct Context<D> {
    client: Client,
    recorder: Recorder,
    fleet: FleetSettings,
    directory: Option<D>,
    failures: Mutex<HashMap<String, u32>>,
    not_ready: Mutex<BTreeSet<String>>,
}

impl<D: TenantDirectory> Context<D> {
    /// `instance` names this replica in the events (the pod name).
    pub fn new(
        client: Client,
        fleet: FleetSettings,
        directory: Option<D>,
        instance: Option<String>,
    ) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            fleet,
            directory,
            failures: Mutex::new(HashMap::new()),
            not_ready: Mutex::new(BTreeSet::new()),
        }
    }

    /// Tenants the last pass left not `Ready` (deleted ones leave the set).
    pub fn not_ready(&self) -> Vec<String> {
        lock(&self.not_ready).iter().cloned().collect()
    }

    fn note_ready(&self, tenant: &str, ready: Option<bool>) {
        let mut set = lock(&self.not_ready);
        match ready {
            Some(false) => set.insert(tenant.to_string()),
            // Ready, or gone.
            Some(true) | None => set.remove(tenant),
        };
        metrics::tenants_not_ready(set.len());
    }

    /// Consecutive failed passes of `tenant` since its last success.
    pub fn failures(&self, tenant: &str) -> u32 {
        self.lock_failures().get(tenant).copied().unwrap_or(0)
    }

    fn lock_failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        lock(&self.failures)
    }

    fn tenants(&self) -> Api<Tenant> {
        Api::all(self.client.clone())
    }

    async fn publish(
        &self,
        tenant: &Tenant,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(truncate(note, 1024)),
            action: action.into(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, &tenant.object_ref(&())).await {
            tracing::warn!(tenant = %tenant.name_any(), %error, reason, "event not recorded");
        }
    }

    /// Patches the status when `outcome` changes it; true when it did.
    async fn write_status(&self, tenant: &Tenant, outcome: &Outcome) -> Result<bool, Error> {
        let next = next_status(
            tenant.status.as_ref(),
            tenant.metadata.generation,
            outcome,
            Timestamp::now(),
        );
        if tenant.status.as_ref() == Some(&next) {
            return Ok(false);
        }
        // Merge patch: `namespace: null` removes a namespace no longer owned.
        let patch = serde_json::json!({
            "status": {
                "conditions": next.conditions,
                "observedGeneration": next.observed_generation,
                "namespace": next.namespace,
            }
        });
        self.tenants()
            .patch_status(
                &tenant.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        Ok(true)
    }
}

/// The result of a pass, as the status reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything applied; `namespace` is the tenant's namespace (none when shared).
    Reconciled {
        namespace: Option<String>,
        message: String,
    },
    /// `validate()` refused the spec; the message lists every problem.
    InvalidSpec(String),
    /// A step failed (`reason` is one of [`reason`]).
    Failed {
        reason: &'static str,
        message: String,
    },
}

/// The status after `outcome`: `Ready` and `Degraded` conditions (a condition keeps its
/// `lastTransitionTime` while its status does not change), the generation observed, and the
/// namespace (kept as it was when the pass did not get that far).
pub fn next_status(
    previous: Option<&TenantStatus>,
    generation: Option<i64>,
    outcome: &Outcome,
    now: Timestamp,
) -> TenantStatus {
    let (ready, reason, message) = match outcome {
        Outcome::Reconciled { message, .. } => (true, reason::RECONCILED, message.as_str()),
        Outcome::InvalidSpec(message) => (false, reason::INVALID_SPEC, message.as_str()),
        Outcome::Failed { reason, message } => (false, *reason, message.as_str()),
    };
    let condition = |type_: &str, status: bool, message: &str| {
        let status = if status { "True" } else { "False" };
        let last_transition_time = previous
            .and_then(|p| p.conditions.iter().find(|c| c.type_ == type_))
            .filter(|c| c.status == status)
            .map_or(Time(now), |c| c.last_transition_time.clone());
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: message.into(),
            observed_generation: generation,
            last_transition_time,
        }
    };
    let namespace = match outcome {
        Outcome::Reconciled { namespace, .. } => namespace.clone(),
        _ => previous.and_then(|p| p.namespace.clone()),
    };
    TenantStatus {
        conditions: vec![
            condition("Ready", ready, message),
            condition("Degraded", !ready, if ready { "" } else { message }),
        ],
        observed_generation: generation,
        namespace,
    }
}

/// A panic while holding one of the context's locks leaves a plain map or set: still
/// usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One pass over `tenant` (the function `Controller::run` calls), measured, in a span of
/// its own (exported like every service's when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; the
/// calls to auth carry its trace context).
#[tracing::instrument(name = "reconcile", skip_all, fields(tenant = %tenant.name_any()))]
pub async fn reconcile<D: TenantDirectory>(
    tenant: Arc<Tenant>,
    ctx: Arc<Context<D>>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let result = reconcile_once(tenant, ctx).await;
    metrics::pass(started.elapsed(), result.as_ref().err());
    result
}

async fn reconcile_once<D: TenantDirectory>(
    tenant: Arc<Tenant>,
    ctx: Arc<Context<D>>,
) -> Result<Action, Error> {
    let name = tenant.name_any();
    let api = ctx.tenants();
    let result = finalizer(&api, FINALIZER, tenant, |event| async {
        match event {
            FinalizerEvent::Apply(tenant) => apply(&tenant, &ctx).await,
            FinalizerEvent::Cleanup(tenant) => cleanup(&tenant, &ctx).await,
        }
    })
    .await;
    match result {
        Ok(action) => {
            ctx.lock_failures().remove(&name);
            Ok(action)
        }
        Err(finalizer::Error::ApplyFailed(error) | finalizer::Error::CleanupFailed(error)) => {
            Err(error)
        }
        Err(other) => Err(Error::Finalizer(Box::new(other))),
    }
}

/// Requeues a failed tenant after 5 s, 10 s, 20 s… up to 5 min (per tenant).
pub fn error_policy<D: TenantDirectory>(
    tenant: Arc<Tenant>,
    error: &Error,
    ctx: Arc<Context<D>>,
) -> Action {
    let name = tenant.name_any();
    let failures = {
        let mut map = ctx.lock_failures();
        let count = map.entry(name.clone()).or_insert(0);
        *count = count.saturating_add(1);
        *count
    };
    let delay = backoff(failures);
    tracing::warn!(tenant = %name, %error, failures, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// The wait after `failures` consecutive failures (1 → 5 s).
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << doublings).min(BACKOFF_MAX)
}

/// The tenant a watched object belongs to: its controller owner reference to a `Tenant`.
/// Tenants are cluster-scoped, so the reference carries no namespace — `Controller::owns`
/// would put the child's namespace in it and never find the tenant of a NetworkPolicy.
pub fn owning_tenant<K: Resource>(object: K) -> Option<ObjectRef<Tenant>> {
    let api_version = Tenant::api_version(&());
    let kind = Tenant::kind(&());
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .find(|owner| {
            owner.controller == Some(true) && owner.api_version == api_version && owner.kind == kind
        })
        .map(|owner| ObjectRef::new(&owner.name))
}

async fn apply<D: TenantDirectory>(tenant: &Tenant, ctx: &Context<D>) -> Result<Action, Error> {
    if let Err(errors) = tenant.validate() {
        ctx.note_ready(&tenant.name_any(), Some(false));
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        if ctx
            .write_status(tenant, &Outcome::InvalidSpec(message.clone()))
            .await?
        {
            ctx.publish(
                tenant,
                EventType::Warning,
                reason::INVALID_SPEC,
                "Validate",
                message,
            )
            .await;
        }
        return Ok(Action::await_change());
    }
    match ensure(tenant, ctx).await {
        Ok((namespace, message)) => {
            ctx.note_ready(&tenant.name_any(), Some(true));
            let outcome = Outcome::Reconciled {
                namespace,
                message: message.clone(),
            };
            if ctx.write_status(tenant, &outcome).await? {
                ctx.publish(tenant, EventType::Normal, "Applied", "Reconcile", message)
                    .await;
            }
            Ok(Action::requeue(RESYNC))
        }
        Err((reason, error)) => {
            ctx.note_ready(&tenant.name_any(), Some(false));
            let outcome = Outcome::Failed {
                reason,
                message: error.to_string(),
            };
            if let Err(status_error) = ctx.write_status(tenant, &outcome).await {
                tracing::warn!(tenant = %tenant.name_any(), %status_error, "status not written");
            }
            ctx.publish(
                tenant,
                EventType::Warning,
                reason,
                "Reconcile",
                error.to_string(),
            )
            .await;
            Err(Error::step(reason)(error))
        }
    }
}

/// Applies what the spec asks for: the tenant's namespace (if any) and a summary; on
/// failure, the condition reason with the error.
async fn ensure<D: TenantDirectory>(
    tenant: &Tenant,
    ctx: &Context<D>,
) -> Result<(Option<String>, String), (&'static str, Error)> {
    let namespace = match tenant.spec.isolation {
        Isolation::Namespace => {
            let objects = desired(tenant, &ctx.fleet)
                .ok_or(Error::MissingMetadata)
                .map_err(failed(reason::APPLY_FAILED))?;
            let ns = objects.namespace.name_any();
            let client = || ctx.client.clone();
            let applied = async {
                server_side_apply(&Api::all(client()), &objects.namespace).await?;
                server_side_apply(&Api::namespaced(client(), &ns), &objects.quota).await?;
                server_side_apply(&Api::namespaced(client(), &ns), &objects.limit_range).await?;
                server_side_apply(&Api::namespaced(client(), &ns), &objects.network_policy).await?;
                server_side_apply(&Api::namespaced(client(), &ns), &objects.role).await?;
                server_side_apply(&Api::namespaced(client(), &ns), &objects.role_binding).await?;
                Ok::<_, kube::Error>(())
            };
            applied.await.map_err(failed(reason::APPLY_FAILED))?;
            Some(ns)
        }
        Isolation::Shared => {
            // Shared: a namespace recorded in the status is one this operator created
            // while the tenant had namespace isolation.
            if let Some(old) = tenant.status.as_ref().and_then(|s| s.namespace.as_deref()) {
                delete_namespace(&ctx.client, old)
                    .await
                    .map_err(failed(reason::NAMESPACE_REMOVAL_FAILED))?;
                ctx.publish(
                    tenant,
                    EventType::Normal,
                    "NamespaceRemoved",
                    "Reconcile",
                    format!("isolation is shared now: namespace {old} deleted"),
                )
                .await;
            }
            None
        }
    };
    let auth = match &ctx.directory {
        Some(directory) => {
            directory
                .sync(tenant)
                .await
                .map_err(failed(reason::AUTH_SYNC_FAILED))?;
            "auth synced"
        }
        None => "auth sync not configured",
    };
    let message = match &namespace {
        Some(ns) => format!("namespace {ns}: 6 objects applied; {auth}"),
        None => format!("shared isolation: no namespaced objects; {auth}"),
    };
    Ok((namespace, message))
}

/// Deletion: auth marks the tenant disabled, then its namespace goes (and with it everything
/// in it). The finalizer is removed only after both succeeded.
async fn cleanup<D: TenantDirectory>(tenant: &Tenant, ctx: &Context<D>) -> Result<Action, Error> {
    let namespace = tenant
        .status
        .as_ref()
        .and_then(|s| s.namespace.clone())
        .or_else(|| tenant.namespace_name());
    let result = async {
        if let Some(directory) = &ctx.directory {
            directory.disable(tenant).await?;
        }
        if let Some(ns) = &namespace {
            delete_namespace(&ctx.client, ns).await?;
        }
        Ok::<_, Error>(())
    }
    .await;
    match result {
        Ok(()) => {
            ctx.note_ready(&tenant.name_any(), None);
            let note = match &namespace {
                Some(ns) => format!("namespace {ns} deleted"),
                None => "no namespace to delete".to_string(),
            };
            ctx.publish(tenant, EventType::Normal, "CleanedUp", "Cleanup", note)
                .await;
            Ok(Action::await_change())
        }
        Err(error) => {
            ctx.publish(
                tenant,
                EventType::Warning,
                reason::CLEANUP_FAILED,
                "Cleanup",
                error.to_string(),
            )
            .await;
            Err(Error::step(reason::CLEANUP_FAILED)(error))
        }
    }
}

/// Runs the controller until `stop` resolves (a signal, or the lost leader lease): watches
/// Tenants, and the Namespaces, NetworkPolicies and ResourceQuotas labelled
/// `managed-by: marquee-tenant-operator`, so a change to (or the deletion of) one of those
/// brings its tenant back to reconcile. In-flight passes finish before it returns. Run it
/// only while holding the leader lease ([`crate::leader`]).
pub async fn run<D: TenantDirectory>(
    ctx: Context<D>,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let tenants = Api::<Tenant>::all(client.clone());
    // Fail early, with a clear message, when the CRD is not installed or RBAC is missing.
    tenants
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .map_err(|error| {
            anyhow::anyhow!("cannot list tenants.marquee.dev (is the CRD installed?): {error}")
        })?;
    let owned = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGER}"));
    Controller::new(tenants, watcher::Config::default())
        .watches(
            Api::<Namespace>::all(client.clone()),
            owned.clone(),
            owning_tenant,
        )
        .watches(
            Api::<NetworkPolicy>::all(client.clone()),
            owned.clone(),
            owning_tenant,
        )
        .watches(Api::<ResourceQuota>::all(client), owned, owning_tenant)
        .graceful_shutdown_on(stop)
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|result| async move {
            match result {
                Ok((tenant, _)) => tracing::debug!(tenant = %tenant.name, "reconciled"),
                Err(error) => tracing::warn!(%error, "reconcile failed"),
            }
        })
        .await;
    tracing::info!("controller stopped");
    Ok(())
}

/// Server-side apply, forced: the operator owns these fields, whoever changed them.
fn server_side_apply<'a, K>(
    api: &'a Api<K>,
    object: &'a K,
) -> impl Future<Output = Result<K, kube::Error>> + 'a
where
    K: Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    async move {
        api.patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(object),
        )
        .await
    }
}

/// Tags an error with the condition reason it is reported under.
fn failed<E: Into<Error>>(reason: &'static str) -> impl FnOnce(E) -> (&'static str, Error) {
    move |error| (reason, error.into())
}

/// Deletes a namespace; one already gone is fine.
async fn delete_namespace(client: &Client, name: &str) -> Result<(), kube::Error> {
    match Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests;
