//! Storage: sea-orm entities, the queries the domain runs (one file per resource), and
//! the migrations.

pub mod assets;
pub mod entities;
pub mod interactions;
pub mod migration;
pub mod pgvector;
pub mod tags;
pub mod taxonomy;
