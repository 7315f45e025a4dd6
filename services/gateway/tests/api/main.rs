//! Black-box tests of the gateway against an in-process fake auth service: error and
//! policy paths, rate limits, the token endpoint, documents, lifecycle. The full flow
//! against the real auth service lives in the fleet's end-to-end tests.

mod auth;
mod docs;
mod errors;
mod hardening;
mod helpers;
mod lifecycle;
mod oauth;
mod policy;
mod rate_limit;
