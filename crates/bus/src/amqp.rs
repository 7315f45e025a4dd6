//! RabbitMQ through lapin.
//!
//! Topology (declared by publishers and consumers on every (re)connect, idempotently):
//! a durable topic exchange; per consumer a durable work queue bound with its patterns,
//! one durable delay queue per distinct retry delay (`x-message-ttl`, dead-lettering
//! back to the work queue through the default exchange), and a durable dead-letter
//! queue. Messages are persistent, publishers wait for confirms, consumers ack manually
//! after the handler (and any republish to a delay or dead-letter queue) succeeded.
//!
//! Connections are not shared between publisher and consumers: a blocked publisher
//! (broker memory alarm) must not stall consuming. Every failure drops the connection and
//! a fresh one is opened with exponential backoff; dropping a connection (also when a
//! consumer task is aborted) closes it, so the broker requeues unacknowledged deliveries.

use crate::consumer::{Consumer, DeadLetter, Decision, QueueStats};
use crate::envelope;
use crate::error::{BusError, Result};
use crate::metrics;
use crate::names::QueueNames;
use crate::settings::BusSettings;
use crate::trace;
use crate::{BusKind, EventBus};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions,
    BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use marquee_platform::SecretString;
use marquee_platform::shutdown::CancellationToken;
use marquee_proto::events::v1::Envelope;
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

/// Header: which attempt this delivery is (absent means 1).
pub const ATTEMPT_HEADER: &str = "x-marquee-attempt";
/// Header: the handler's last error (on retries and in the dead-letter queue).
pub const ERROR_HEADER: &str = "x-marquee-error";
/// Header on dead letters: when the last attempt failed (RFC 3339).
pub const FAILED_AT_HEADER: &str = "x-marquee-failed-at";
/// Header on dead letters: the work queue it came from.
pub const QUEUE_HEADER: &str = "x-marquee-queue";
/// Header: how often the message was replayed from the dead-letter queue.
pub const REPLAYS_HEADER: &str = "x-marquee-replays";
/// Header: the event's tenant.
pub const TENANT_HEADER: &str = "x-marquee-tenant";

const PERSISTENT: u8 = 2;
const CONTENT_TYPE: &str = "application/x-protobuf";
const MAX_ERROR_LEN: usize = 2000;
/// How long a stopping (or disconnected) consumer waits for handlers in hand.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The RabbitMQ implementation of [`EventBus`].
pub struct AmqpBus {
    settings: BusSettings,
    url: SecretString,
    publisher: Mutex<Option<PublisherLink>>,
}

impl std::fmt::Debug for AmqpBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBus")
            .field("exchange", &self.settings.exchange)
            .finish_non_exhaustive()
    }
}

struct PublisherLink {
    // Kept so the connection lives as long as the channel; dropping it closes both.
    _connection: Connection,
    channel: Channel,
}

impl AmqpBus {
    /// Does not connect: the first publish or consumer does, and reconnects as needed, so
    /// a service starts even while the broker is down.
    pub fn new(settings: BusSettings) -> Result<Self> {
        settings.validate()?;
        let url = settings
            .amqp_url
            .clone()
            .ok_or_else(|| BusError::Config("the RabbitMQ bus needs MARQUEE_AMQP_URL".into()))?;
        Ok(Self {
            settings,
            url,
            publisher: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &BusSettings {
        &self.settings
    }

    async fn connect(&self, purpose: &str) -> Result<Connection> {
        let properties = ConnectionProperties::default()
            .with_connection_name(LongString::from(format!("marquee {purpose}")));
        let url = self.url.expose_secret().to_string();
        match tokio::time::timeout(
            self.settings.connect_timeout(),
            Connection::connect(&url, properties),
        )
        .await
        {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(error)) => Err(BusError::Unavailable(error.to_string())),
            Err(_) => Err(BusError::Unavailable(format!(
                "connecting took longer than {:?}",
                self.settings.connect_timeout()
            ))),
        }
    }

    async fn declare_exchange(&self, channel: &Channel) -> Result<()> {
        channel
            .exchange_declare(
                short(&self.settings.exchange)?,
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    async fn declare_topology(&self, channel: &Channel, consumer: &Consumer) -> Result<QueueNames> {
        let topics = consumer.validate()?;
        let names = QueueNames::new(&self.settings.exchange, consumer.name());
        self.declare_exchange(channel).await?;
        declare_queue(channel, &names.work, FieldTable::default()).await?;
        for topic in &topics {
            channel
                .queue_bind(
                    short(&names.work)?,
                    short(&self.settings.exchange)?,
                    short(topic.as_str())?,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        declare_queue(channel, &names.dead_letter, FieldTable::default()).await?;
        for delay in self.settings.retry.delays_ms() {
            let mut arguments = FieldTable::default();
            arguments.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(i64::try_from(delay).unwrap_or(i64::MAX)),
            );
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(LongString::from("")),
            );
            arguments.insert(
                "x-dead-letter-routing-key".into(),
                AMQPValue::LongString(LongString::from(names.work.as_str())),
            );
            declare_queue(channel, &names.retry(delay), arguments).await?;
        }
        Ok(names)
    }

    /// The publishing channel, (re)connecting and re-declaring the exchange if needed.
    async fn publish_channel(&self) -> Result<Channel> {
        let mut slot = self.publisher.lock().await;
        if let Some(link) = slot.as_ref()
            && link.channel.status().connected()
        {
            return Ok(link.channel.clone());
        }
        *slot = None;
        let connection = self.connect("publisher").await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.declare_exchange(&channel).await?;
        tracing::info!(exchange = %self.settings.exchange, "publisher connected to RabbitMQ");
        *slot = Some(PublisherLink {
            _connection: connection,
            channel: channel.clone(),
        });
        Ok(channel)
    }

    async fn drop_publisher(&self) {
        *self.publisher.lock().await = None;
    }

    /// One consumer connection's life: declare, consume, handle until stopped or the
    /// connection fails.
    async fn consume_session(
        &self,
        consumer: &Consumer,
        stop: &CancellationToken,
        backoff: &mut crate::settings::Backoff,
    ) -> Result<()> {
        let connection = self
            .connect(&format!("consumer {}", consumer.name()))
            .await?;
        let channel = connection.create_channel().await?;
        let names = self.declare_topology(&channel, consumer).await?;
        channel
            .basic_qos(self.settings.prefetch, BasicQosOptions::default())
            .await?;
        let republish = connection.create_channel().await?;
        republish
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let depth = connection.create_channel().await?;
        let tag = format!("{}-{}", consumer.name(), uuid::Uuid::new_v4().simple());
        let mut deliveries = channel
            .basic_consume(
                short(&names.work)?,
                short(&tag)?,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        backoff.reset();
        tracing::info!(queue = %names.work, "consuming from RabbitMQ");

        let concurrency = consumer.concurrency_or(self.settings.concurrency);
        let mut in_flight = FuturesUnordered::new();
        let mut depth_timer = tokio::time::interval(self.settings.depth_interval());
        depth_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let outcome: Result<()> = loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break Ok(()),
                Some(result) = in_flight.next(), if !in_flight.is_empty() => {
                    let result: Result<()> = result;
                    if let Err(error) = result {
                        break Err(error);
                    }
                }
                _ = depth_timer.tick() => {
                    if let Err(error) = report_depth(&depth, &names).await {
                        tracing::debug!(%error, "queue depth poll failed");
                    }
                }
                delivery = deliveries.next(), if in_flight.len() < concurrency => match delivery {
                    Some(Ok(delivery)) => {
                        in_flight.push(self.process(consumer, &names, &republish, delivery));
                    }
                    Some(Err(error)) => break Err(error.into()),
                    None => {
                        break Err(BusError::Unavailable("the broker cancelled the consumer".into()));
                    }
                },
            }
        };

        // Take no more deliveries and let the handlers in hand finish (their effects
        // commit even if the ack can no longer reach a broker that went away: the
        // redelivery then meets the inbox). Whatever was prefetched but not acknowledged
        // goes back to the queue when the connection closes.
        if outcome.is_ok() {
            let _ = channel
                .basic_cancel(short(&tag)?, BasicCancelOptions::default())
                .await;
        }
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while let Some(result) = in_flight.next().await {
                if let Err(error) = result {
                    tracing::debug!(%error, queue = %names.work, "delivery not settled; it will be redelivered");
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(queue = %names.work, "handlers still running after {DRAIN_TIMEOUT:?}; abandoning them");
        }
        drop(in_flight);
        if outcome.is_ok() {
            let _ = connection.close(200, "consumer stopping".into()).await;
            tracing::info!(queue = %names.work, "consumer stopped");
        }
        outcome
    }

    /// Handles one delivery and settles it: ack, or republish to a delay queue or the
    /// dead-letter queue (confirmed) and then ack.
    async fn process(
        &self,
        consumer: &Consumer,
        names: &QueueNames,
        republish: &Channel,
        delivery: Delivery,
    ) -> Result<()> {
        let headers = delivery.properties.headers().clone().unwrap_or_default();
        let attempt = header_u32(&headers, ATTEMPT_HEADER).unwrap_or(1).max(1);
        let decision = match envelope::decode(&delivery.data) {
            Ok(envelope) => {
                let span = trace::consumer_span(&envelope, &names.work, attempt, Some(&headers));
                consumer
                    .handle(envelope, &names.work, attempt, &self.settings.retry, span)
                    .await
            }
            Err(error) => {
                tracing::error!(%error, queue = %names.work, "undecodable message; dead-lettering");
                let decision = Decision::DeadLetter {
                    error: format!("undecodable envelope: {error}"),
                };
                metrics::consumed(&names.work, decision.outcome());
                decision
            }
        };
        match decision {
            Decision::Ack => {}
            Decision::Retry { delay_ms, error } => {
                let mut headers = headers;
                set_header(
                    &mut headers,
                    ATTEMPT_HEADER,
                    AMQPValue::LongLongInt(i64::from(attempt) + 1),
                );
                set_header(&mut headers, ERROR_HEADER, long_string(&truncate(&error)));
                let properties = delivery.properties.clone().with_headers(headers);
                self.republish(
                    republish,
                    &names.retry(delay_ms),
                    &delivery.data,
                    properties,
                )
                .await?;
            }
            Decision::DeadLetter { error } => {
                let mut headers = headers;
                set_header(
                    &mut headers,
                    ATTEMPT_HEADER,
                    AMQPValue::LongLongInt(i64::from(attempt)),
                );
                set_header(&mut headers, ERROR_HEADER, long_string(&truncate(&error)));
                set_header(
                    &mut headers,
                    FAILED_AT_HEADER,
                    long_string(&chrono::Utc::now().to_rfc3339()),
                );
                set_header(&mut headers, QUEUE_HEADER, long_string(&names.work));
                let properties = delivery.properties.clone().with_headers(headers);
                self.republish(republish, &names.dead_letter, &delivery.data, properties)
                    .await?;
            }
        }
        delivery.acker.ack(BasicAckOptions::default()).await?;
        Ok(())
    }

    /// Publishes straight to `queue` through the default exchange and waits for the
    /// confirm.
    async fn republish(
        &self,
        channel: &Channel,
        queue: &str,
        data: &[u8],
        properties: BasicProperties,
    ) -> Result<()> {
        let confirm = channel
            .basic_publish(
                "".into(),
                short(queue)?,
                BasicPublishOptions::default(),
                data,
                properties.with_delivery_mode(PERSISTENT),
            )
            .await?;
        match tokio::time::timeout(self.settings.confirm_timeout(), confirm).await {
            Ok(Ok(confirmation)) if confirmation.is_ack() => Ok(()),
            Ok(Ok(_)) => Err(BusError::Nacked(format!("republish to {queue}"))),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(BusError::ConfirmTimeout(self.settings.confirm_timeout())),
        }
    }

    /// A short-lived channel for operator commands.
    async fn admin_channel(&self) -> Result<(Connection, Channel)> {
        let connection = self.connect("admin").await?;
        let channel = connection.create_channel().await?;
        Ok((connection, channel))
    }

    async fn queue_size(&self, connection: &Connection, queue: &str) -> Result<Option<(u64, u32)>> {
        // A passive declare of a missing queue closes the channel: one channel per look.
        let name = short(queue)?;
        let channel = connection.create_channel().await?;
        match passive_declare(&channel, name).await {
            Ok(sizes) => {
                let _ = channel.close(200, "ok".into()).await;
                Ok(Some(sizes))
            }
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

#[async_trait::async_trait]
impl EventBus for AmqpBus {
    fn kind(&self) -> BusKind {
        BusKind::RabbitMq
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<()>> {
        let mut results: Vec<Option<Result<()>>> = Vec::with_capacity(envelopes.len());
        let channel = match self.publish_channel().await {
            Ok(channel) => channel,
            Err(error) => {
                let message = match error {
                    BusError::Unavailable(message) => message,
                    other => other.to_string(),
                };
                return envelopes
                    .iter()
                    .map(|_| Err(BusError::Unavailable(message.clone())))
                    .collect();
            }
        };
        let exchange = match short(&self.settings.exchange) {
            Ok(exchange) => exchange,
            Err(error) => {
                return envelopes
                    .iter()
                    .map(|_| Err(BusError::Config(error.to_string())))
                    .collect();
            }
        };
        let mut confirms = Vec::with_capacity(envelopes.len());
        let mut broken: Option<String> = None;
        for envelope in envelopes {
            if let Some(reason) = &broken {
                results.push(Some(Err(BusError::Unavailable(reason.clone()))));
                confirms.push(None);
                continue;
            }
            if let Err(error) = envelope::validate(envelope) {
                results.push(Some(Err(error)));
                confirms.push(None);
                continue;
            }
            let sent = channel
                .basic_publish(
                    exchange.clone(),
                    short(&envelope.r#type).unwrap_or_default(),
                    BasicPublishOptions::default(),
                    &envelope::encode(envelope),
                    properties(envelope),
                )
                .await;
            match sent {
                Ok(confirm) => {
                    results.push(None);
                    confirms.push(Some(confirm));
                }
                Err(error) => {
                    broken = Some(error.to_string());
                    results.push(Some(Err(error.into())));
                    confirms.push(None);
                }
            }
        }
        let deadline = tokio::time::Instant::now() + self.settings.confirm_timeout();
        for (index, confirm) in confirms.into_iter().enumerate() {
            let Some(confirm) = confirm else { continue };
            let result = match tokio::time::timeout_at(deadline, confirm).await {
                Ok(Ok(confirmation)) if confirmation.is_ack() => {
                    metrics::published(&envelopes[index].r#type);
                    Ok(())
                }
                Ok(Ok(_)) => Err(BusError::Nacked(envelopes[index].id.clone())),
                Ok(Err(error)) => {
                    broken = Some(error.to_string());
                    Err(error.into())
                }
                Err(_) => {
                    broken = Some("confirm timeout".into());
                    Err(BusError::ConfirmTimeout(self.settings.confirm_timeout()))
                }
            };
            results[index] = Some(result);
        }
        if let Some(reason) = broken {
            tracing::warn!(%reason, "publishing failed; reconnecting on the next publish");
            self.drop_publisher().await;
        }
        results
            .into_iter()
            .map(|result| result.unwrap_or(Ok(())))
            .collect()
    }

    async fn declare(&self, consumer: &Consumer) -> Result<()> {
        let (connection, channel) = self.admin_channel().await?;
        self.declare_topology(&channel, consumer).await?;
        let _ = connection.close(200, "declared".into()).await;
        Ok(())
    }

    async fn run_consumer(&self, consumer: Consumer, stop: CancellationToken) -> Result<()> {
        consumer.validate()?;
        let mut backoff = self.settings.reconnect_backoff();
        loop {
            if stop.is_cancelled() {
                return Ok(());
            }
            match self.consume_session(&consumer, &stop, &mut backoff).await {
                Ok(()) => return Ok(()),
                Err(error @ BusError::Config(_)) => return Err(error),
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        consumer = consumer.name(),
                        %error,
                        retry_in = ?delay,
                        "consumer lost RabbitMQ; reconnecting"
                    );
                    tokio::select! {
                        () = stop.cancelled() => return Ok(()),
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    async fn dead_letters(&self, consumer: &str, limit: usize) -> Result<Vec<DeadLetter>> {
        crate::names::validate_consumer(consumer)?;
        let names = QueueNames::new(&self.settings.exchange, consumer);
        let (connection, channel) = self.admin_channel().await?;
        let mut letters = Vec::new();
        while letters.len() < limit {
            let message = match channel
                .basic_get(
                    short(&names.dead_letter)?,
                    BasicGetOptions { no_ack: false },
                )
                .await
            {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(error) if is_not_found(&error) => break,
                Err(error) => return Err(error.into()),
            };
            letters.push(dead_letter(&message.delivery)?);
        }
        // Closing without acks puts every message back where it was.
        let _ = connection.close(200, "peeked".into()).await;
        Ok(letters)
    }

    async fn replay_dead_letters(&self, consumer: &str, limit: Option<u64>) -> Result<u64> {
        crate::names::validate_consumer(consumer)?;
        let names = QueueNames::new(&self.settings.exchange, consumer);
        let (connection, channel) = self.admin_channel().await?;
        let Some((waiting, _)) = self.queue_size(&connection, &names.dead_letter).await? else {
            return Err(BusError::Config(format!(
                "no dead-letter queue {} (has consumer {consumer} ever run?)",
                names.dead_letter
            )));
        };
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        // Only what is there now: a message that fails again comes back after its
        // retries, and must not be replayed in the same run.
        let budget = limit.map_or(waiting, |limit| limit.min(waiting));
        let mut replayed = 0;
        while replayed < budget {
            let Some(message) = channel
                .basic_get(
                    short(&names.dead_letter)?,
                    BasicGetOptions { no_ack: false },
                )
                .await?
            else {
                break;
            };
            let mut headers = message.properties.headers().clone().unwrap_or_default();
            let replays = header_u32(&headers, REPLAYS_HEADER).unwrap_or(0) + 1;
            let mut kept = FieldTable::default();
            for (key, value) in headers.inner() {
                if ![ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, QUEUE_HEADER]
                    .contains(&key.as_str())
                {
                    kept.insert(key.clone(), value.clone());
                }
            }
            headers = kept;
            set_header(
                &mut headers,
                REPLAYS_HEADER,
                AMQPValue::LongLongInt(i64::from(replays)),
            );
            let properties = message.properties.clone().with_headers(headers);
            self.republish(&channel, &names.work, &message.data, properties)
                .await?;
            message.acker.ack(BasicAckOptions::default()).await?;
            replayed += 1;
        }
        let _ = connection.close(200, "replayed".into()).await;
        tracing::info!(consumer, replayed, "replayed dead letters");
        Ok(replayed)
    }

    async fn ping(&self) -> Result<()> {
        let connection = self.connect("health").await?;
        // A clean close, so the broker logs no dropped client.
        let _ = connection.close(200, short("ok")?).await;
        Ok(())
    }

    async fn stats(&self, consumer: &str) -> Result<QueueStats> {
        crate::names::validate_consumer(consumer)?;
        let names = QueueNames::new(&self.settings.exchange, consumer);
        let connection = self.connect("admin").await?;
        let Some((ready, consumers)) = self.queue_size(&connection, &names.work).await? else {
            return Err(BusError::Config(format!(
                "no queue {} on the broker",
                names.work
            )));
        };
        let dead_lettered = self
            .queue_size(&connection, &names.dead_letter)
            .await?
            .map_or(0, |(count, _)| count);
        let mut retrying = 0;
        for delay in self.settings.retry.delays_ms() {
            if let Some((count, _)) = self.queue_size(&connection, &names.retry(delay)).await? {
                retrying += count;
            }
        }
        let _ = connection.close(200, "stats".into()).await;
        metrics::queue_depth(&names.work, ready);
        metrics::queue_depth(&names.dead_letter, dead_lettered);
        Ok(QueueStats {
            queue: names.work,
            ready,
            retrying,
            dead_lettered,
            consumers,
        })
    }
}

fn short(value: &str) -> Result<ShortString> {
    ShortString::try_new(value).map_err(|error| BusError::InvalidEvent(error.to_string()))
}

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

fn set_header(headers: &mut FieldTable, key: &str, value: AMQPValue) {
    headers.insert(key.into(), value);
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_ERROR_LEN {
        return text.to_string();
    }
    let mut end = MAX_ERROR_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn header_u32(headers: &FieldTable, key: &str) -> Option<u32> {
    let value = match headers.inner().get(key)? {
        AMQPValue::LongLongInt(v) => *v,
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        _ => return None,
    };
    u32::try_from(value).ok()
}

fn properties(envelope: &Envelope) -> BasicProperties {
    let mut headers = FieldTable::default();
    trace::inject_headers(envelope, &mut headers);
    if !envelope.tenant_id.is_empty() {
        set_header(
            &mut headers,
            TENANT_HEADER,
            long_string(&envelope.tenant_id),
        );
    }
    let mut properties = BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_content_type(CONTENT_TYPE.into())
        .with_headers(headers);
    // Validated lengths (≤ 200 bytes) fit AMQP short strings.
    if let Ok(id) = ShortString::try_new(envelope.id.as_str()) {
        properties = properties.with_message_id(id);
    }
    if let Ok(kind) = ShortString::try_new(envelope.r#type.as_str()) {
        properties = properties.with_type(kind);
    }
    if let Ok(source) = ShortString::try_new(envelope.source.as_str()) {
        properties = properties.with_app_id(source);
    }
    if let Some(at) = &envelope.occurred_at
        && let Ok(seconds) = u64::try_from(at.seconds)
    {
        properties = properties.with_timestamp(seconds);
    }
    properties
}

fn dead_letter(delivery: &Delivery) -> Result<DeadLetter> {
    let headers = delivery.properties.headers().clone().unwrap_or_default();
    Ok(DeadLetter {
        envelope: envelope::decode(&delivery.data)?,
        error: trace::header_str(&headers, ERROR_HEADER)
            .unwrap_or_default()
            .to_string(),
        attempts: header_u32(&headers, ATTEMPT_HEADER).unwrap_or(1),
        failed_at: trace::header_str(&headers, FAILED_AT_HEADER)
            .unwrap_or_default()
            .to_string(),
    })
}

async fn declare_queue(channel: &Channel, name: &str, arguments: FieldTable) -> Result<()> {
    channel
        .queue_declare(
            short(name)?,
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await?;
    Ok(())
}

async fn passive_declare(channel: &Channel, name: ShortString) -> lapin::Result<(u64, u32)> {
    let queue = channel
        .queue_declare(
            name,
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok((u64::from(queue.message_count()), queue.consumer_count()))
}

fn is_not_found(error: &lapin::Error) -> bool {
    use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
    matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(amqp)
            if matches!(amqp.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND))
    )
}

/// Polls the work and dead-letter queues' depth into `marquee_bus_queue_depth`.
async fn report_depth(channel: &Channel, names: &QueueNames) -> Result<()> {
    for queue in [&names.work, &names.dead_letter] {
        let (ready, _) = passive_declare(channel, short(queue)?).await?;
        metrics::queue_depth(queue, ready);
    }
    Ok(())
}
