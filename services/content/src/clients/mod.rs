//! Other services content calls, on the shared clients of `marquee_clients`, each
//! implementing a port the domain declares: billing holds quota ([`billing`],
//! `domain::quota::Quota`), auth answers tenant flags ([`auth`],
//! `domain::flags::FlagSource`).

pub mod auth;
pub mod billing;
