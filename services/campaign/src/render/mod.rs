//! Pictures made locally, without any AI provider.

pub mod card;
