//! Revoked sessions, refused on every request. Access tokens are verified here without
//! calling auth and cached until they expire, so a logout, a reused refresh token, a
//! revoked partner client, a disabled user or a password reset would otherwise leave
//! the tokens already issued working for up to their lifetime. Auth records each
//! revocation; every replica polls them every `revocation_poll_secs` (a cursor on auth's
//! clock, see auth's `domain::revocations` for why polling) and keeps them in memory
//! until no token they cover can still be live.

use crate::token::Caller;
use futures::future::BoxFuture;
use marquee_platform::Error;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One revocation as auth reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// Every token carrying this `sid`.
    Session { id: String, expires_at: i64 },
    /// Every token of this subject issued before `not_before_ms` (unix milliseconds).
    Subject {
        id: String,
        not_before_ms: i64,
        expires_at: i64,
    },
}

/// A poll's answer: new revocations, and the cursor to ask from next time.
pub struct RevocationPage {
    pub revoked: Vec<Revoked>,
    pub as_of: i64,
}

/// Where revocations come from (auth's `ListRevocations`).
pub trait RevocationSource: Send + Sync {
    fn changed_since(&self, cursor: Option<i64>) -> BoxFuture<'_, Result<RevocationPage, Error>>;
}

#[derive(Default)]
struct State {
    /// Session id → when the revocation can be forgotten.
    sessions: HashMap<String, i64>,
    /// Subject → (tokens issued before this, in ms, are revoked; when it can be
    /// forgotten, in s).
    subjects: HashMap<String, (i64, i64)>,
    cursor: Option<i64>,
}

/// The revocations in force, shared by every request of this replica.
#[derive(Default)]
pub struct Revocations {
    state: RwLock<State>,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Revocations {
    /// Whether `caller`'s token is revoked.
    pub fn covers(&self, caller: &Caller) -> bool {
        let state = self
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.sessions.is_empty() && state.subjects.is_empty() {
            return false;
        }
        let session_ended = caller
            .session_id
            .as_deref()
            .is_some_and(|sid| state.sessions.contains_key(sid));
        let subject_revoked = state
            .subjects
            .get(&caller.principal.subject)
            .is_some_and(|(not_before_ms, _)| caller.issued_at_ms < *not_before_ms);
        session_ended || subject_revoked
    }

    /// Takes in a poll's answer and forgets what expired.
    pub fn apply(&self, page: RevocationPage) {
        let now = now_secs();
        let mut state = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for revoked in page.revoked {
            match revoked {
                Revoked::Session { id, expires_at } => {
                    state.sessions.insert(id, expires_at);
                }
                Revoked::Subject {
                    id,
                    not_before_ms,
                    expires_at,
                } => {
                    let entry = state
                        .subjects
                        .entry(id)
                        .or_insert((not_before_ms, expires_at));
                    // The latest revocation of a subject covers the earlier ones.
                    *entry = (entry.0.max(not_before_ms), entry.1.max(expires_at));
                }
            }
        }
        state.sessions.retain(|_, expires_at| *expires_at > now);
        state
            .subjects
            .retain(|_, (_, expires_at)| *expires_at > now);
        state.cursor = Some(page.as_of);
        metrics::gauge!("marquee_gateway_revocations")
            .set((state.sessions.len() + state.subjects.len()) as f64);
    }

    fn cursor(&self) -> Option<i64> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .cursor
    }

    /// Polls `source` every `interval` until `shutdown` (a failed poll is retried at the
    /// next tick with the same cursor, so nothing is missed).
    pub async fn run_poll_until_stopped(
        self: Arc<Self>,
        source: Arc<dyn RevocationSource>,
        interval: Duration,
        shutdown: marquee_platform::shutdown::CancellationToken,
    ) {
        loop {
            match source.changed_since(self.cursor()).await {
                Ok(page) => self.apply(page),
                Err(error) => {
                    metrics::counter!("marquee_gateway_revocation_poll_failures_total")
                        .increment(1);
                    tracing::warn!(%error, "polling revocations failed");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::RateTier;
    use marquee_platform::{Principal, PrincipalKind};

    fn caller(subject: &str, session: Option<&str>, issued_at_ms: i64) -> Caller {
        Caller {
            principal: Principal {
                kind: PrincipalKind::User,
                subject: subject.into(),
                tenant_id: "t1".into(),
                roles: vec![],
                scopes: vec![],
            },
            rate_tier: RateTier::default(),
            expires_at: u64::MAX,
            session_id: session.map(Into::into),
            issued_at_ms,
        }
    }

    #[test]
    fn sessions_and_subjects_are_refused_until_they_expire() {
        let now = now_secs();
        let revocations = Revocations::default();
        assert!(!revocations.covers(&caller("u1", Some("s1"), now)));
        revocations.apply(RevocationPage {
            revoked: vec![
                Revoked::Session {
                    id: "s1".into(),
                    expires_at: now + 900,
                },
                Revoked::Subject {
                    id: "u2".into(),
                    not_before_ms: now * 1000,
                    expires_at: now + 900,
                },
                Revoked::Session {
                    id: "old".into(),
                    expires_at: now - 1,
                },
            ],
            as_of: 42,
        });
        assert!(revocations.covers(&caller("u1", Some("s1"), now * 1000)));
        assert!(!revocations.covers(&caller("u1", Some("s2"), now * 1000)));
        assert!(revocations.covers(&caller("u2", Some("s3"), now * 1000 - 1)));
        assert!(
            !revocations.covers(&caller("u2", Some("s4"), now * 1000)),
            "a token issued after the revocation works"
        );
        assert!(
            !revocations.covers(&caller("u9", Some("old"), now)),
            "expired ones are forgotten"
        );
        assert_eq!(revocations.cursor(), Some(42));
    }

    struct Flaky(
        std::sync::Mutex<Vec<Result<RevocationPage, Error>>>,
        std::sync::Mutex<Vec<Option<i64>>>,
    );

    impl RevocationSource for Flaky {
        fn changed_since(
            &self,
            cursor: Option<i64>,
        ) -> BoxFuture<'_, Result<RevocationPage, Error>> {
            self.1.lock().unwrap().push(cursor);
            let next = self.0.lock().unwrap().pop();
            Box::pin(async move {
                next.unwrap_or_else(|| {
                    Ok(RevocationPage {
                        revoked: vec![],
                        as_of: 7,
                    })
                })
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_poll_is_retried_from_the_same_cursor() {
        let source = Arc::new(Flaky(
            std::sync::Mutex::new(vec![
                Ok(RevocationPage {
                    revoked: vec![],
                    as_of: 5,
                }),
                Err(Error::new(
                    marquee_platform::ErrorKind::Unavailable,
                    "unavailable",
                    "down",
                )),
                Ok(RevocationPage {
                    revoked: vec![],
                    as_of: 3,
                }),
            ]),
            std::sync::Mutex::new(vec![]),
        ));
        let revocations = Arc::new(Revocations::default());
        let shutdown = marquee_platform::shutdown::CancellationToken::new();
        let polling = tokio::spawn(revocations.clone().run_poll_until_stopped(
            source.clone(),
            Duration::from_secs(2),
            shutdown.clone(),
        ));
        tokio::time::sleep(Duration::from_secs(7)).await;
        shutdown.cancel();
        polling.await.unwrap();
        let cursors = source.1.lock().unwrap().clone();
        assert_eq!(&cursors[..4], &[None, Some(3), Some(3), Some(5)]);
    }
}
