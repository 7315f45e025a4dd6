//! The in-process bus for the embedded fleet: the same topic routing, per-consumer
//! queues, retries with exponential backoff, dead-letter queue and replay as RabbitMQ,
//! in memory.
//!
//! A delivery in flight is held by a guard: if the consumer task is aborted before the
//! handler settles it, the guard puts it back at the head of the queue (as the broker
//! does with unacknowledged deliveries). What is in memory is lost when the process
//! exits; producers publish through the outbox, so an event whose change committed is
//! published again only if the process died before the relay marked it — consumers'
//! effects are durable through their inbox. See `docs/events.md`.

use crate::consumer::{Consumer, DeadLetter, Decision, QueueStats};
use crate::envelope;
use crate::error::{BusError, Result};
use crate::metrics;
use crate::names::{QueueNames, Topic};
use crate::settings::BusSettings;
use crate::trace;
use crate::{BusKind, EventBus};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use marquee_platform::shutdown::CancellationToken;
use marquee_proto::events::v1::Envelope;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The in-memory implementation of [`EventBus`].
#[derive(Debug)]
pub struct InProcessBus {
    settings: BusSettings,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    queues: HashMap<String, QueueState>,
}

#[derive(Debug)]
struct QueueState {
    names: QueueNames,
    topics: Vec<Topic>,
    ready: VecDeque<Message>,
    delayed: Vec<(Instant, Message)>,
    dead: VecDeque<DeadLetter>,
    consumers: u32,
    notify: Arc<Notify>,
}

impl QueueState {
    fn report_depth(&self) {
        metrics::queue_depth(&self.names.work, self.ready.len() as u64);
        metrics::queue_depth(&self.names.dead_letter, self.dead.len() as u64);
    }
}

#[derive(Debug, Clone)]
struct Message {
    envelope: Envelope,
    attempt: u32,
}

static SHARED: OnceLock<Mutex<HashMap<String, Arc<InProcessBus>>>> = OnceLock::new();

impl InProcessBus {
    /// A bus of its own (tests; one process hosting isolated fleets).
    pub fn new(settings: BusSettings) -> Result<Self> {
        settings.validate()?;
        Ok(Self {
            settings,
            state: Arc::new(Mutex::new(State::default())),
        })
    }

    /// The process's bus for `settings.exchange`: every service of the embedded fleet
    /// that connects gets the same one, so their events reach each other. The first
    /// caller's settings (retry policy) apply.
    pub fn shared(settings: BusSettings) -> Result<Arc<Self>> {
        settings.validate()?;
        let mut buses = lock(SHARED.get_or_init(Default::default));
        let bus = buses
            .entry(settings.exchange.clone())
            .or_insert_with(|| {
                Arc::new(Self {
                    settings,
                    state: Arc::new(Mutex::new(State::default())),
                })
            })
            .clone();
        Ok(bus)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn declare_queue(&self, consumer: &Consumer) -> Result<(QueueNames, Arc<Notify>)> {
        let topics = consumer.validate()?;
        let mut state = self.state();
        let queue = state
            .queues
            .entry(consumer.name().to_string())
            .or_insert_with(|| QueueState {
                names: QueueNames::new(&self.settings.exchange, consumer.name()),
                topics: Vec::new(),
                ready: VecDeque::new(),
                delayed: Vec::new(),
                dead: VecDeque::new(),
                consumers: 0,
                notify: Arc::new(Notify::new()),
            });
        // Like a broker's bindings, they accumulate.
        for topic in topics {
            if !queue.topics.contains(&topic) {
                queue.topics.push(topic);
            }
        }
        Ok((queue.names.clone(), queue.notify.clone()))
    }

    /// Takes the next ready message (moving due retries to the queue first), or says
    /// when the next retry falls due.
    fn take(&self, consumer: &str) -> std::result::Result<InFlight, Option<Instant>> {
        let mut state = self.state();
        let Some(queue) = state.queues.get_mut(consumer) else {
            return Err(None);
        };
        let now = Instant::now();
        if queue.delayed.iter().any(|(due, _)| *due <= now) {
            queue.delayed.sort_by_key(|(due, _)| *due);
            let split = queue.delayed.partition_point(|(due, _)| *due <= now);
            let due: Vec<_> = queue.delayed.drain(..split).collect();
            queue
                .ready
                .extend(due.into_iter().map(|(_, message)| message));
        }
        match queue.ready.pop_front() {
            Some(message) => {
                queue.report_depth();
                Ok(InFlight {
                    state: self.state.clone(),
                    consumer: consumer.to_string(),
                    message: Some(message),
                })
            }
            None => Err(queue.delayed.iter().map(|(due, _)| *due).min()),
        }
    }

    async fn process(&self, consumer: &Consumer, work: &str, mut in_flight: InFlight) {
        let Some(message) = in_flight.message.clone() else {
            return;
        };
        let span = trace::consumer_span(&message.envelope, work, message.attempt, None);
        let decision = consumer
            .handle(
                message.envelope,
                work,
                message.attempt,
                &self.settings.retry,
                span,
            )
            .await;
        in_flight.settle(decision);
    }
}

/// A delivery being handled. Dropped unsettled (the consumer task was aborted), it
/// returns to the head of its queue.
struct InFlight {
    state: Arc<Mutex<State>>,
    consumer: String,
    message: Option<Message>,
}

impl InFlight {
    fn settle(&mut self, decision: Decision) {
        let Some(mut message) = self.message.take() else {
            return;
        };
        let mut state = lock(&self.state);
        let Some(queue) = state.queues.get_mut(&self.consumer) else {
            return;
        };
        match decision {
            Decision::Ack => {}
            Decision::Retry { delay_ms, .. } => {
                message.attempt += 1;
                let due = Instant::now() + Duration::from_millis(delay_ms);
                queue.delayed.push((due, message));
                queue.notify.notify_waiters();
            }
            Decision::DeadLetter { error } => {
                queue.dead.push_back(DeadLetter {
                    envelope: message.envelope,
                    error,
                    attempts: message.attempt,
                    failed_at: chrono::Utc::now().to_rfc3339(),
                });
            }
        }
        queue.report_depth();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(message) = self.message.take() {
            let mut state = lock(&self.state);
            if let Some(queue) = state.queues.get_mut(&self.consumer) {
                queue.ready.push_front(message);
                queue.notify.notify_waiters();
            }
        }
    }
}

/// Counts a running consumer for `stats`, until dropped.
struct Registration {
    state: Arc<Mutex<State>>,
    consumer: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(queue) = lock(&self.state).queues.get_mut(&self.consumer) {
            queue.consumers = queue.consumers.saturating_sub(1);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing holding these locks can panic half-way through a change.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    fn kind(&self) -> BusKind {
        BusKind::InProcess
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<()>> {
        let mut state = self.state();
        envelopes
            .iter()
            .map(|envelope| {
                envelope::validate(envelope)?;
                for queue in state.queues.values_mut() {
                    if queue.topics.iter().any(|t| t.matches(&envelope.r#type)) {
                        queue.ready.push_back(Message {
                            envelope: envelope.clone(),
                            attempt: 1,
                        });
                        queue.notify.notify_waiters();
                        queue.report_depth();
                    }
                }
                metrics::published(&envelope.r#type);
                Ok(())
            })
            .collect()
    }

    async fn declare(&self, consumer: &Consumer) -> Result<()> {
        self.declare_queue(consumer).map(|_| ())
    }

    async fn run_consumer(&self, consumer: Consumer, stop: CancellationToken) -> Result<()> {
        let (names, notify) = self.declare_queue(&consumer)?;
        let name = consumer.name().to_string();
        if let Some(queue) = self.state().queues.get_mut(&name) {
            queue.consumers += 1;
        }
        let _registration = Registration {
            state: self.state.clone(),
            consumer: name.clone(),
        };
        let concurrency = consumer.concurrency_or(self.settings.concurrency);
        let mut in_flight = FuturesUnordered::new();
        loop {
            // Registered before looking, so a publish in between is not missed.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let mut next_due = None;
            while in_flight.len() < concurrency {
                match self.take(&name) {
                    Ok(delivery) => in_flight.push(self.process(&consumer, &names.work, delivery)),
                    Err(due) => {
                        next_due = due;
                        break;
                    }
                }
            }
            let wake_at = next_due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
                () = &mut notified => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
        while in_flight.next().await.is_some() {}
        tracing::info!(queue = %names.work, "in-process consumer stopped");
        Ok(())
    }

    async fn dead_letters(&self, consumer: &str, limit: usize) -> Result<Vec<DeadLetter>> {
        let state = self.state();
        Ok(state
            .queues
            .get(consumer)
            .map(|queue| queue.dead.iter().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn replay_dead_letters(&self, consumer: &str, limit: Option<u64>) -> Result<u64> {
        let mut state = self.state();
        let queue = state
            .queues
            .get_mut(consumer)
            .ok_or_else(|| BusError::Config(format!("no consumer {consumer} on this bus")))?;
        let count = limit.map_or(queue.dead.len(), |limit| {
            usize::try_from(limit)
                .unwrap_or(usize::MAX)
                .min(queue.dead.len())
        });
        for letter in queue.dead.drain(..count) {
            queue.ready.push_back(Message {
                envelope: letter.envelope,
                attempt: 1,
            });
        }
        queue.notify.notify_waiters();
        queue.report_depth();
        tracing::info!(consumer, replayed = count, "replayed dead letters");
        Ok(count as u64)
    }

    async fn stats(&self, consumer: &str) -> Result<QueueStats> {
        let state = self.state();
        let queue = state
            .queues
            .get(consumer)
            .ok_or_else(|| BusError::Config(format!("no consumer {consumer} on this bus")))?;
        queue.report_depth();
        Ok(QueueStats {
            queue: queue.names.work.clone(),
            ready: queue.ready.len() as u64,
            retrying: queue.delayed.len() as u64,
            dead_lettered: queue.dead.len() as u64,
            consumers: queue.consumers,
        })
    }
}
