//! Storage: sea-orm entities, the queries the domain runs (one file per resource), and
//! the migrations.

pub mod campaigns;
pub mod connectors;
pub mod deliveries;
pub mod entities;
pub mod jobs;
pub mod migration;
pub mod posts;
pub mod templates;
