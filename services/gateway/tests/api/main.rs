//! Black-box tests of the gateway against in-process fake auth and tagging services:
//! error and policy paths, rate limits, the token endpoint, documents, lifecycle, the
//! tagging routes. The full flow against the real services lives in the fleet's
//! end-to-end tests.

mod auth;
mod docs;
mod errors;
mod hardening;
mod helpers;
mod lifecycle;
mod oauth;
mod policy;
mod rate_limit;
mod tagging;
