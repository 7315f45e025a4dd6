//! The services the operator calls.

pub mod auth;
