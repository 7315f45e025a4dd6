//! gRPC and event contracts, generated at build time from `proto/marquee/**`.
//!
//! Each package is a module named after its path: `marquee_proto::auth::v1` is
//! `marquee.auth.v1`. Generated code is exempt from our lints.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod auth {
    pub mod v1 {
        tonic::include_proto!("marquee.auth.v1");
    }
}

pub mod content {
    pub mod v1 {
        tonic::include_proto!("marquee.content.v1");
    }
}

pub mod tagging {
    pub mod v1 {
        tonic::include_proto!("marquee.tagging.v1");
    }
}

pub mod billing {
    pub mod v1 {
        tonic::include_proto!("marquee.billing.v1");
    }
}

pub mod campaign {
    pub mod v1 {
        tonic::include_proto!("marquee.campaign.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("marquee.events.v1");
    }

    /// Event types: the routing keys on the bus, each naming the payload message it
    /// carries (`marquee.events.v1.<Message>`). Producers and consumers use these, never
    /// a literal.
    pub mod types {
        /// `AssetUploaded`, by content: bytes stored, processing to follow.
        pub const ASSET_UPLOADED: &str = "asset.uploaded";
        /// `AssetProcessed`, by content: metadata, thumbnail, extracted text (or failure).
        pub const ASSET_PROCESSED: &str = "asset.processed";
        /// `AssetModerated`, by content: approved by a moderator or automatically.
        pub const ASSET_APPROVED: &str = "asset.approved";
        /// `AssetModerated`, by content: rejected by a moderator.
        pub const ASSET_REJECTED: &str = "asset.rejected";
        /// `AssetDeleted`, by content.
        pub const ASSET_DELETED: &str = "asset.deleted";
        /// `AssetHolds`, by content for its own quota worker: an upload's billing holds.
        pub const ASSET_HOLDS: &str = "asset.holds";
        /// `CreatorFollowed`, by content.
        pub const CREATOR_FOLLOWED: &str = "creator.followed";
        /// `CommentCreated`, by content.
        pub const COMMENT_CREATED: &str = "comment.created";
        /// `AssetTagged`, by tagging: AI tags on an asset (or why tagging failed).
        pub const ASSET_TAGGED: &str = "asset.tagged";
        /// `PostPublished`, by campaign: a scheduled post went out.
        pub const POST_PUBLISHED: &str = "post.published";
        /// `SubscriptionChanged`, by billing.
        pub const SUBSCRIPTION_CHANGED: &str = "subscription.changed";
    }
}

pub use prost_types::Timestamp;

/// Conversions every service and the gateway need between wire and Rust types.
pub mod convert {
    use super::Timestamp;
    use chrono::{DateTime, Utc};

    /// A UTC time as a protobuf timestamp.
    pub fn timestamp(time: DateTime<Utc>) -> Timestamp {
        Timestamp {
            seconds: time.timestamp(),
            nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
        }
    }

    /// An optional UTC time as an optional protobuf timestamp.
    pub fn optional_timestamp(time: Option<DateTime<Utc>>) -> Option<Timestamp> {
        time.map(timestamp)
    }

    /// A protobuf timestamp as UTC; unset, all-zero (proto3's default) or out of range
    /// reads as `None`.
    pub fn time(timestamp: Option<Timestamp>) -> Option<DateTime<Utc>> {
        let timestamp = timestamp?;
        if timestamp.seconds == 0 && timestamp.nanos == 0 {
            return None;
        }
        DateTime::from_timestamp(timestamp.seconds, u32::try_from(timestamp.nanos).ok()?)
    }

    /// proto3 strings have no "unset": empty means absent.
    pub fn non_empty(value: String) -> Option<String> {
        (!value.is_empty()).then_some(value)
    }

    /// [`non_empty`] for a borrowed string.
    pub fn non_empty_str(value: &str) -> Option<&str> {
        (!value.is_empty()).then_some(value)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn timestamps_convert_both_ways() {
            let at = DateTime::parse_from_rfc3339("2026-11-22T01:40:00.5Z")
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(time(Some(timestamp(at))), Some(at));
            assert_eq!(time(None), None);
            assert_eq!(time(Some(Timestamp::default())), None);
            assert_eq!(
                time(Some(Timestamp {
                    seconds: 1,
                    nanos: -1
                })),
                None
            );
            assert_eq!(non_empty(String::new()), None);
            assert_eq!(non_empty("a".into()).as_deref(), Some("a"));
        }
    }
}
