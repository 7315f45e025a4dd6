//! Other services and providers tagging calls, behind the domain's ports: content (image
//! bytes, [`crate::domain::tagger::ImageSource`]) and Gemini
//! ([`crate::domain::tagger::RemoteTagger`]).

pub mod content;
pub mod gemini;
