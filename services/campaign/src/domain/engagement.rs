//! A post's predicted engagement, 0–100, with its reasons. A transparent heuristic of
//! what social-media guides agree on (length in the platform's sweet spot, hashtags near
//! the recommended count, a question or a call to action, media over plain text) — not
//! a trained model; the reasons say exactly what moved the score.

use marquee_social::Platform;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Engagement {
    pub score: u32,
    pub reasons: Vec<String>,
}

/// Characters (as the platform counts) where posts do best, per platform.
fn sweet_spot(platform: Platform) -> (usize, usize) {
    match platform {
        Platform::X => (70, 200),
        Platform::Bluesky => (60, 250),
        Platform::Threads | Platform::Mastodon => (80, 400),
        Platform::LinkedIn => (150, 1300),
        Platform::Instagram | Platform::TikTok => (80, 1200),
        Platform::Facebook => (40, 400),
    }
}

const CALLS_TO_ACTION: &[&str] = &[
    "shop",
    "order",
    "book",
    "visit",
    "try",
    "join",
    "sign up",
    "learn more",
    "discover",
    "register",
    "get yours",
    "download",
    "subscribe",
    "reserve",
    "call",
    "link",
    "tap",
];

pub fn predict(platform: Platform, post_kind: &str, text: &str, hashtags: &[String]) -> Engagement {
    let mut score: i32 = 50;
    let mut reasons = Vec::new();
    let length = marquee_social::length(platform, text);
    let (low, high) = sweet_spot(platform);
    if (low..=high).contains(&length) {
        score += 10;
        reasons.push(format!(
            "length {length} is in {}'s sweet spot ({low}–{high})",
            platform.label()
        ));
    } else if length < low {
        score -= 5;
        reasons.push(format!("short for {} ({length} < {low})", platform.label()));
    } else {
        score -= 8;
        reasons.push(format!("long for {} ({length} > {high})", platform.label()));
    }
    let recommended = *platform.rules().recommended_hashtags.end();
    let tags = hashtags.len();
    if tags == 0 {
        score -= 5;
        reasons.push("no hashtags: less discoverable".into());
    } else if tags <= recommended {
        score += 8;
        reasons.push(format!(
            "{tags} hashtag(s), within the recommended {recommended}"
        ));
    } else {
        score -= 4;
        reasons.push(format!(
            "{tags} hashtags, more than the recommended {recommended}"
        ));
    }
    let lower = text.to_lowercase();
    if text.contains('?') {
        score += 7;
        reasons.push("asks a question, inviting replies".into());
    }
    if CALLS_TO_ACTION.iter().any(|cta| lower.contains(cta)) {
        score += 7;
        reasons.push("has a call to action".into());
    }
    match post_kind {
        "text_video" => {
            score += 12;
            reasons.push("video draws the most engagement".into());
        }
        "text_image" => {
            score += 8;
            reasons.push("an image lifts engagement over text alone".into());
        }
        _ => {
            if matches!(platform, Platform::Instagram | Platform::TikTok) {
                score -= 15;
                reasons.push(format!(
                    "{} is visual: a link post does poorly",
                    platform.label()
                ));
            } else {
                reasons.push("a link drives traffic but lowers reach".into());
                score -= 2;
            }
        }
    }
    if text
        .chars()
        .any(|c| matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF))
    {
        score += 3;
        reasons.push("emoji add personality".into());
    }
    Engagement {
        score: score.clamp(0, 100) as u32,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_habits_score_higher_and_say_why() {
        let plain = predict(Platform::X, "text_url", "Coffee", &[]);
        let good = predict(
            Platform::X,
            "text_video",
            "Our new single-origin roast is here. Ready to taste the difference? Order today ☕",
            &["Coffee".into()],
        );
        assert!(good.score > plain.score + 20, "{good:?} vs {plain:?}");
        assert!(good.reasons.iter().any(|r| r.contains("question")));
        assert!(good.score <= 100);
    }
}
