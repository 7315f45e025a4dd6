//! sea-orm entities, one per table. Nested, schemaless parts of a campaign (brief,
//! analysis, themes, hashtags, chat) are JSON documents whose shape the domain types own.

pub mod campaign;
pub mod connector;
pub mod delivery;
pub mod job;
pub mod post;
pub mod template;
