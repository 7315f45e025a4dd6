//! Spam tooling for the community: per-user rate limits kept in the database (so every
//! replica counts the same actions), link counting, and the normalisation behind
//! duplicate-comment detection. Blocked terms reuse [`super::moderation`].

use crate::error::{ContentError, Result};
use crate::store;
use crate::store::entities::rate_event;
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

/// A rate-limited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Comment,
    Follow,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Follow => "follow",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Comment => "comment_rate_limited",
            Self::Follow => "follow_rate_limited",
        }
    }
}

/// At most `max` actions per `window_secs` (a sliding window); `max = 0` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u64,
}

/// Seconds until the oldest of `recent` (times inside the window, oldest first) leaves
/// the window, when `recent` already holds `limit.max` actions; `None` if allowed.
pub fn retry_after(
    limit: Limit,
    recent: &[chrono::DateTime<chrono::Utc>],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<u64> {
    if limit.max == 0 || recent.len() < limit.max as usize {
        return None;
    }
    let window = chrono::Duration::seconds(i64::try_from(limit.window_secs).unwrap_or(i64::MAX));
    let oldest_counting = recent[recent.len() - limit.max as usize];
    let wait = (oldest_counting + window - now).num_seconds() + 1;
    Some(u64::try_from(wait).unwrap_or(1).max(1))
}

/// Checks the limit and records the action, in the caller's transaction (so a refused
/// or failed action does not count).
pub async fn take(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    action: Action,
    limit: Limit,
) -> Result<()> {
    if limit.max == 0 {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let since =
        now - chrono::Duration::seconds(i64::try_from(limit.window_secs).unwrap_or(i64::MAX));
    let recent =
        store::community::rate_events_since(db, tenant_id, user_id, action.name(), since).await?;
    if let Some(retry_after) = retry_after(limit, &recent, now) {
        return Err(ContentError::RateLimited {
            code: action.code(),
            message: format!(
                "at most {} {}s per {} seconds; try again in {retry_after} s",
                limit.max,
                action.name(),
                limit.window_secs
            ),
            retry_after,
        });
    }
    store::community::record_rate_event(
        db,
        rate_event::Model {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant_id.to_string(),
            user_id: user_id.to_string(),
            action: action.name().to_string(),
            created_at: now,
        },
        since,
    )
    .await?;
    Ok(())
}

/// Links in `text`: `http://`, `https://` and `www.` occurrences, case-insensitively.
pub fn count_links(text: &str) -> usize {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| c.is_whitespace() || c == '(' || c == '<' || c == '[' || c == '"')
        .filter(|word| {
            word.contains("http://") || word.contains("https://") || word.starts_with("www.")
        })
        .count()
}

/// The body as compared for duplicates: lower case, whitespace collapsed, trimmed.
pub fn normalise(body: &str) -> String {
    body.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hex SHA-256 of the normalised body.
pub fn body_hash(body: &str) -> String {
    hex::encode(Sha256::digest(normalise(body).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_counted() {
        assert_eq!(count_links("no links here"), 0);
        assert_eq!(
            count_links("see https://a.example and HTTP://b.example/x or www.c.example"),
            3
        );
        assert_eq!(count_links("(https://a.example)"), 1);
    }

    #[test]
    fn duplicates_ignore_case_and_spacing() {
        assert_eq!(normalise("  Nice   SHOT\n!"), "nice shot !");
        assert_eq!(body_hash("Nice shot"), body_hash(" nice\tshot "));
        assert_ne!(body_hash("Nice shot"), body_hash("Nice shots"));
    }

    #[test]
    fn retry_after_counts_from_the_oldest_action_in_the_window() {
        let now = chrono::Utc::now();
        let limit = Limit {
            max: 2,
            window_secs: 60,
        };
        let at = |secs_ago| now - chrono::Duration::seconds(secs_ago);
        assert_eq!(retry_after(limit, &[at(10)], now), None);
        assert_eq!(retry_after(limit, &[at(50), at(10)], now), Some(11));
        assert_eq!(
            retry_after(
                Limit {
                    max: 0,
                    window_secs: 60
                },
                &[at(1), at(1)],
                now
            ),
            None
        );
    }
}
