//! Waiting for something to happen, instead of sleeping for a while and hoping it did.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

/// The first pause between checks; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// Checks `condition` until it holds, pausing briefly between checks (20 ms, doubling up
/// to 200 ms). Panics after `timeout` with "timed out after … waiting for `what`".
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(timeout, what, || {
        let check = condition();
        async move { if check.await { Ok(()) } else { Err(NotYet) } }
    })
    .await
}

/// Like [`wait_until`], for a check that yields something: polls until `poll` returns
/// `Ok(value)` and returns that value. On timeout the panic shows the last `Err` it
/// returned (say, the state seen last).
pub async fn wait_for<T, E, F, Fut>(timeout: Duration, what: &str, mut poll: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        let last = match poll().await {
            Ok(value) => return value,
            Err(last) => last,
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting for {what} (last seen: {last:?})");
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// What a failed boolean check shows.
#[derive(Debug)]
struct NotYet;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn returns_once_the_condition_holds() {
        let checks = AtomicU32::new(0);
        wait_until(Duration::from_secs(5), "the third check", || async {
            checks.fetch_add(1, Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(checks.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn wait_for_returns_the_value() {
        let checks = AtomicU32::new(0);
        let value = wait_for(Duration::from_secs(5), "a value", || async {
            match checks.fetch_add(1, Ordering::SeqCst) {
                n if n < 2 => Err(n),
                n => Ok(n * 10),
            }
        })
        .await;
        assert_eq!(value, 20);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for the impossible (last seen: \"still no\")")]
    async fn panics_after_the_timeout_with_what_it_waited_for() {
        wait_for(Duration::from_millis(50), "the impossible", || async {
            Err::<(), _>("still no")
        })
        .await;
    }
}
