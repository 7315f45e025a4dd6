//! Leader election: replicas compete for one `coordination.k8s.io/v1` Lease
//! (kube-lease-manager: server-side apply on `spec.holderIdentity`, so a second claimant
//! gets a conflict), and only the holder runs the controller. The holder renews the lease
//! `grace` before it expires; a crashed holder is replaced after at most its duration. A
//! replica that loses the lease stops reconciling and exits, so it restarts as a standby.

use crate::settings::LeaseSettings;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;
use tokio::task::JoinHandle;

type LeaseTask = JoinHandle<kube_lease_manager::Result<kube_lease_manager::LeaseManager>>;

/// The lease, held.
pub struct Leadership {
    holding: watch::Receiver<bool>,
    task: LeaseTask,
}

/// Waits until `identity` holds the lease, or `stop` resolves first (then `None`).
pub async fn acquire(
    client: kube::Client,
    lease: &LeaseSettings,
    identity: &str,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<Option<Leadership>> {
    let manager = LeaseManagerBuilder::new(client, &lease.name)
        .with_namespace(&lease.namespace)
        .with_identity(identity)
        .with_duration(lease.duration_secs)
        .with_grace(lease.grace_secs)
        .build()
        .await?;
    let (mut holding, task) = manager.watch().await;
    tokio::pin!(stop);
    loop {
        if *holding.borrow_and_update() {
            return Ok(Some(Leadership { holding, task }));
        }
        tokio::select! {
            changed = holding.changed() => {
                if changed.is_err() {
                    // The lease task ended: its error says why.
                    return Err(match task.await {
                        Ok(Err(error)) => anyhow::Error::from(error),
                        Ok(Ok(_)) => anyhow::anyhow!("the lease manager stopped"),
                        Err(error) => anyhow::Error::from(error),
                    }
                    .context(format!("leader election on lease {}/{}", lease.namespace, lease.name)));
                }
            }
            () = &mut stop => {
                release(holding, task).await;
                return Ok(None);
            }
        }
    }
}

impl Leadership {
    /// Resolves when the lease is lost (taken over after a missed renewal, or its task
    /// failed).
    pub async fn lost(&mut self) {
        loop {
            if !*self.holding.borrow_and_update() {
                return;
            }
            if self.holding.changed().await.is_err() {
                return;
            }
        }
    }

    /// Gives the lease up, so a standby takes over without waiting for it to expire.
    pub async fn release(self) {
        release(self.holding, self.task).await;
    }
}

async fn release(holding: watch::Receiver<bool>, task: LeaseTask) {
    // Closing the channel makes the manager release the lease and return.
    drop(holding);
    match task.await {
        Ok(Ok(_)) => tracing::info!("leader lease released"),
        Ok(Err(error)) => tracing::warn!(%error, "leader lease not released; it expires"),
        Err(error) => tracing::warn!(%error, "lease task failed; the lease expires"),
    }
}

#[cfg(test)]
mod tests;
