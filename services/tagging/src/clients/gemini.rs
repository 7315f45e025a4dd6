//! Gemini as a tagger: `models/{model}:generateContent` with the asset's words and, for
//! images, its bytes inline, asking for JSON that follows a response schema
//! (`{"tags": [{"name", "confidence"}]}`). Any failure — 429, a timeout, a malformed
//! answer — is returned for the caller to fall back to the local models.

use crate::domain::tagger::{AssetText, RemoteTagger};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use marquee_platform::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// Tags asked of Gemini at most.
const MAX_TAGS: usize = 12;
/// Characters of a document's text sent at most.
const MAX_TEXT_CHARS: usize = 4000;

pub struct Gemini {
    http: reqwest::Client,
    endpoint: String,
    api_key: SecretString,
}

impl Gemini {
    /// `base_url` ends in `/` (`https://generativelanguage.googleapis.com/`).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            http,
            endpoint: format!("{base_url}v1beta/models/{model}:generateContent"),
            api_key,
        })
    }

    fn body(text: &AssetText, image: Option<(&[u8], &str)>) -> serde_json::Value {
        let excerpt: String = text.text_excerpt.chars().take(MAX_TEXT_CHARS).collect();
        let prompt = format!(
            "You tag assets on a creator marketplace so buyers can find them. Give up to \
             {MAX_TAGS} short lowercase tags (1-3 words each) for what this {kind} shows or is \
             about: subjects, style, mood, use. Confidence is 0 to 1.\n\nTitle: {title}\n\
             Description: {description}\nCreator's tags: {tags}\nText: {excerpt}",
            kind = if text.kind.is_empty() {
                "asset"
            } else {
                &text.kind
            },
            title = text.title,
            description = text.description,
            tags = text.creator_tags.join(", "),
        );
        let mut parts = vec![json!({ "text": prompt })];
        if let Some((bytes, mime_type)) = image {
            parts.push(json!({
                "inline_data": { "mime_type": mime_type, "data": STANDARD.encode(bytes) }
            }));
        }
        json!({
            "contents": [{ "role": "user", "parts": parts }],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": {
                    "type": "OBJECT",
                    "properties": {
                        "tags": {
                            "type": "ARRAY",
                            "items": {
                                "type": "OBJECT",
                                "properties": {
                                    "name": { "type": "STRING" },
                                    "confidence": { "type": "NUMBER" }
                                },
                                "required": ["name", "confidence"]
                            }
                        }
                    },
                    "required": ["tags"]
                },
                "temperature": 0.2
            }
        })
    }
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
}

#[derive(Deserialize)]
struct Candidate {
    content: Option<Content>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Tags {
    tags: Vec<TagOut>,
}

#[derive(Deserialize)]
struct TagOut {
    name: String,
    confidence: f32,
}

/// The tags in a `generateContent` answer body.
pub fn parse_answer(body: &str) -> Result<Vec<(String, f32)>, String> {
    let response: Response =
        serde_json::from_str(body).map_err(|e| format!("not a generateContent answer: {e}"))?;
    let text: String = response
        .candidates
        .into_iter()
        .next()
        .and_then(|c| c.content)
        .map(|c| c.parts.into_iter().filter_map(|p| p.text).collect())
        .ok_or("the answer has no candidate")?;
    let tags: Tags =
        serde_json::from_str(&text).map_err(|e| format!("the answer's JSON is malformed: {e}"))?;
    Ok(tags
        .tags
        .into_iter()
        .filter(|t| t.confidence.is_finite())
        .take(MAX_TAGS)
        .map(|t| (t.name, t.confidence.clamp(0.0, 1.0)))
        .collect())
}

#[async_trait]
impl RemoteTagger for Gemini {
    async fn tag(
        &self,
        text: &AssetText,
        image: Option<(&[u8], &str)>,
    ) -> Result<Vec<(String, f32)>, String> {
        let response = self
            .http
            .post(&self.endpoint)
            .header("x-goog-api-key", self.api_key.expose_secret())
            .json(&Self::body(text, image))
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "Gemini timed out".to_string()
                } else {
                    format!("Gemini unreachable: {e}")
                }
            })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("Gemini's answer was cut: {e}"))?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err("Gemini is rate limiting (429)".into());
        }
        if !status.is_success() {
            let snippet: String = body.chars().take(200).collect();
            return Err(format!("Gemini answered {status}: {snippet}"));
        }
        parse_answer(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_bad_ones_are_errors() {
        let ok = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"{\"tags\":[{\"name\":\"espresso\",\"confidence\":0.93},{\"name\":\"cafe\",\"confidence\":1.7}]}"}]},"finishReason":"STOP"}]}"#;
        assert_eq!(
            parse_answer(ok).unwrap(),
            vec![("espresso".to_string(), 0.93), ("cafe".to_string(), 1.0)]
        );
        assert!(parse_answer("{").is_err());
        assert!(parse_answer(r#"{"candidates":[]}"#).is_err());
        let bad_inner = r#"{"candidates":[{"content":{"parts":[{"text":"tags: espresso"}]}}]}"#;
        assert!(parse_answer(bad_inner).unwrap_err().contains("malformed"));
    }

    #[test]
    fn the_request_carries_the_schema_and_the_image() {
        let text = AssetText {
            title: "Espresso".into(),
            kind: "image".into(),
            ..AssetText::default()
        };
        let body = Gemini::body(&text, Some((b"\xff\xd8", "image/jpeg")));
        assert_eq!(
            body["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert_eq!(
            body["contents"][0]["parts"][1]["inline_data"]["mime_type"],
            "image/jpeg"
        );
        assert!(
            body["contents"][0]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .contains("Espresso")
        );
    }
}
