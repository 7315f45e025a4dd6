//! Adapters to other services and third-party APIs: content, billing and tagging (the
//! domain's ports), Gemini/Veo, and the web (fetching a business's site safely).

pub mod billing;
pub mod content;
pub mod gemini;
pub mod tagging;
pub mod web;
