//! RabbitMQ for tests: the broker on this machine, names of a test's own, clean-up, and
//! the lock that keeps the broker-restart test away from the others.
//!
//! Every test that uses the broker holds [`BrokerLock::shared`] for its duration; a test
//! that stops the broker (`rabbitmqctl stop_app`) holds [`BrokerLock::exclusive`]. The lock
//! is a file lock, so it works across nextest's test processes and `cargo test`'s threads
//! alike.

use std::fs::File;
use std::sync::Mutex;

/// The broker tests use when `MARQUEE_TEST_AMQP_URL` is not set.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The test broker: `MARQUEE_TEST_AMQP_URL`, or [`DEFAULT_AMQP_URL`].
pub fn amqp_url() -> String {
    std::env::var("MARQUEE_TEST_AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.to_string())
}

/// `<prefix>.<random>`: an exchange (or queue) name no other test uses, so parallel tests
/// never share queues. With a dotted lowercase `prefix` it is a valid exchange name.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

/// A test's exchange and queues on the broker, deleted when this is dropped.
pub struct Topology {
    exchange: String,
    queues: Mutex<Vec<String>>,
}

impl Topology {
    pub fn new(exchange: impl Into<String>) -> Self {
        Self {
            exchange: exchange.into(),
            queues: Mutex::new(Vec::new()),
        }
    }

    pub fn exchange(&self) -> &str {
        &self.exchange
    }

    /// Queues to delete with the exchange (say, a consumer's work, delay and dead-letter
    /// queues).
    pub fn add_queues(&self, queues: impl IntoIterator<Item = String>) {
        self.queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(queues);
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let exchange = std::mem::take(&mut self.exchange);
        let queues = std::mem::take(
            self.queues
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        crate::block_on_own_runtime(async move {
            delete_topology(&amqp_url(), &exchange, &queues).await;
        });
    }
}

/// Deletes `queues` and `exchange` on the broker at `url`, ignoring what is not there (or
/// a broker that cannot be reached: this is clean-up).
pub async fn delete_topology(url: &str, exchange: &str, queues: &[String]) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let Ok(connection) =
        lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    let Ok(channel) = connection.create_channel().await else {
        return;
    };
    for queue in queues {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await;
    let _ = connection.close(200, "test done".into()).await;
}

/// Held (shared) by every test using the broker and (exclusively) by a test that stops
/// it; released when dropped. Taking it blocks the calling thread until it is free: take
/// it at the start of the test, before anything else runs on its runtime.
#[must_use = "the lock is released when this is dropped"]
pub struct BrokerLock {
    _file: File,
}

impl BrokerLock {
    /// For a test that uses the broker: waits while a test that stops the broker runs.
    pub fn shared() -> Self {
        Self::take(false)
    }

    /// For a test that stops (or otherwise disturbs) the broker: waits until no other test
    /// uses it, and keeps them all waiting until dropped.
    pub fn exclusive() -> Self {
        Self::take(true)
    }

    fn take(exclusive: bool) -> Self {
        let path = lock_path();
        let file = open_lock_file(&path);
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.unwrap_or_else(|error| panic!("locking {}: {error}", path.display()));
        Self { _file: file }
    }
}

/// `$TMPDIR/marquee-bus-rabbitmq-tests.lock`, the same file for every test process.
fn lock_path() -> std::path::PathBuf {
    std::env::temp_dir().join("marquee-bus-rabbitmq-tests.lock")
}

fn open_lock_file(path: &std::path::Path) -> File {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap_or_else(|error| panic!("opening the broker lock {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_holder_keeps_exclusive_takers_out_but_not_other_users() {
        let _shared = BrokerLock::shared();
        // Another process (or test) opening the file on its own:
        let other = open_lock_file(&lock_path());
        assert!(
            other.try_lock().is_err(),
            "the broker-restart test must wait"
        );
        other
            .try_lock_shared()
            .expect("other tests using the broker go ahead");
    }

    #[test]
    fn unique_names_are_valid_exchange_names_and_differ() {
        let (a, b) = (unique_name("test"), unique_name("test"));
        assert_ne!(a, b);
        assert!(a.starts_with("test."));
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.')
        );
    }
}
