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
}

pub use prost_types::Timestamp;
