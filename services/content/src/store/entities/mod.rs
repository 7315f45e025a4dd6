//! sea-orm entities: one file per table. Ids are UUIDv7 strings (time-ordered, so they
//! double as pagination cursors); the same schema runs on PostgreSQL and SQLite.

pub mod asset;
pub mod comment;
pub mod comment_report;
pub mod creator_profile;
pub mod follow;
pub mod moderation_decision;
pub mod rate_event;
