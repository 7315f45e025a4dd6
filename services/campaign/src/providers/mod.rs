//! The AI providers behind the domain's `Writer` and `VisualMaker` ports: Gemini (with
//! an API key), the local model (llama.cpp, the embedded default) and the rules composer
//! (no model at all — labelled `rules`, never passed off as AI); Gemini/Veo visuals or
//! local template renders.

pub mod gemini;
pub mod local;
pub mod prompts;
pub mod rules;
pub mod visuals;
