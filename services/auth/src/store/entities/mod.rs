//! sea-orm entities: one file per table. Ids are UUID strings (UUIDv7 where order
//! matters), so the same schema works on PostgreSQL and SQLite.

pub mod account_token;
pub mod audit_entry;
pub mod external_identity;
pub mod invitation;
pub mod login_source;
pub mod login_throttle;
pub mod oauth_client;
pub mod oidc_sign_in;
pub mod refresh_token;
pub mod revocation;
pub mod signing_key;
pub mod tenant;
pub mod user;
