//! Outside systems auth talks to (besides its database): outgoing mail.

pub mod mail;
