//! Names on the broker, derived in one place from the exchange and the consumer name,
//! and the topic patterns consumers bind with.
//!
//! For exchange `marquee.events` and consumer `tagging`:
//!
//! | what | name |
//! |---|---|
//! | work queue | `marquee.events.tagging` |
//! | delay queue per retry delay | `marquee.events.tagging.retry.<ms>` |
//! | dead-letter queue | `marquee.events.tagging.dlq` |

use crate::error::BusError;

const MAX_NAME: usize = 200;

/// The queues belonging to one consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNames {
    pub work: String,
    pub dead_letter: String,
    retry_prefix: String,
}

impl QueueNames {
    pub fn new(exchange: &str, consumer: &str) -> Self {
        let work = format!("{exchange}.{consumer}");
        Self {
            dead_letter: format!("{work}.dlq"),
            retry_prefix: format!("{work}.retry."),
            work,
        }
    }

    /// The delay queue that holds messages for `delay_ms` before they return to work.
    pub fn retry(&self, delay_ms: u64) -> String {
        format!("{}{delay_ms}", self.retry_prefix)
    }
}

fn is_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Exchange names: dotted lowercase words.
pub fn validate_exchange(name: &str) -> Result<(), BusError> {
    // Short enough that `<exchange>.<consumer>.retry.<ms>` fits an AMQP short string.
    if name.len() > 100 || !name.split('.').all(is_word) {
        return Err(BusError::Config(format!(
            "exchange {name:?} must be dotted lowercase words (a-z, 0-9, _ and -)"
        )));
    }
    Ok(())
}

/// Consumer names (one queue each): one lowercase word, e.g. `tagging`.
pub fn validate_consumer(name: &str) -> Result<(), BusError> {
    if name.len() > 64 || !is_word(name) {
        return Err(BusError::Config(format!(
            "consumer name {name:?} must be one lowercase word (a-z, 0-9, _ and -), at most 64 bytes"
        )));
    }
    Ok(())
}

/// Event types are routing keys: dotted lowercase words, e.g. `asset.uploaded`.
pub fn validate_event_type(event_type: &str) -> Result<(), BusError> {
    if event_type.len() > MAX_NAME || !event_type.split('.').all(is_word) {
        return Err(BusError::InvalidEvent(format!(
            "event type {event_type:?} must be dotted lowercase words, e.g. asset.uploaded"
        )));
    }
    Ok(())
}

/// A topic binding: dotted words where `*` matches exactly one word and `#` zero or more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    pub fn parse(pattern: &str) -> Result<Self, BusError> {
        let valid = pattern.len() <= MAX_NAME
            && pattern
                .split('.')
                .all(|word| word == "*" || word == "#" || is_word(word));
        if !valid {
            return Err(BusError::Config(format!(
                "binding {pattern:?} must be dotted words, `*` or `#`, e.g. asset.*"
            )));
        }
        Ok(Self(pattern.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `routing_key` matches, with RabbitMQ's topic-exchange semantics.
    pub fn matches(&self, routing_key: &str) -> bool {
        let pattern: Vec<&str> = self.0.split('.').collect();
        let key: Vec<&str> = routing_key.split('.').collect();
        matches_words(&pattern, &key)
    }
}

fn matches_words(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| matches_words(rest, &key[skip..])),
        Some((&word, rest)) => match key.split_first() {
            Some((&first, key_rest)) => {
                (word == "*" || word == first) && matches_words(rest, key_rest)
            }
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, key: &str) -> bool {
        Topic::parse(pattern).unwrap().matches(key)
    }

    #[test]
    fn topic_semantics_follow_rabbitmq() {
        assert!(matches("asset.uploaded", "asset.uploaded"));
        assert!(matches("asset.*", "asset.uploaded"));
        assert!(!matches("asset.*", "asset"));
        assert!(!matches("asset.*", "asset.uploaded.v2"));
        assert!(matches("asset.#", "asset"));
        assert!(matches("asset.#", "asset.uploaded.v2"));
        assert!(matches("#", "anything.at.all"));
        assert!(matches("*.approved", "asset.approved"));
        assert!(!matches("*.approved", "asset.rejected"));
        assert!(matches("#.approved", "a.b.approved"));
        assert!(!matches("asset.uploaded", "asset.processed"));
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_consumer("tagging").is_ok());
        assert!(validate_consumer("Tagging").is_err());
        assert!(validate_consumer("a.b").is_err());
        assert!(validate_consumer("").is_err());
        assert!(validate_event_type("asset.uploaded").is_ok());
        assert!(validate_event_type("asset..uploaded").is_err());
        assert!(validate_event_type(&"a".repeat(300)).is_err());
        assert!(Topic::parse("asset.*").is_ok());
        assert!(Topic::parse("asset.up*").is_err());
        assert!(validate_exchange("marquee.events").is_ok());
        assert!(validate_exchange("").is_err());
    }

    #[test]
    fn queue_names_derive_from_exchange_and_consumer() {
        let names = QueueNames::new("marquee.events", "tagging");
        assert_eq!(names.work, "marquee.events.tagging");
        assert_eq!(names.dead_letter, "marquee.events.tagging.dlq");
        assert_eq!(names.retry(4000), "marquee.events.tagging.retry.4000");
    }
}
