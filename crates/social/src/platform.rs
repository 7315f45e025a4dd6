//! The platforms and the rules each one enforces on a post's text.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::length::LengthUnit;

/// A social platform Marquee publishes to. Serialised as its [`id`](Platform::as_str).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    LinkedIn,
    Instagram,
    Facebook,
    TikTok,
    Threads,
    Bluesky,
    Mastodon,
}

impl Platform {
    /// Every platform, in a stable order (the order of the enum).
    pub const ALL: [Platform; 8] = [
        Platform::X,
        Platform::LinkedIn,
        Platform::Instagram,
        Platform::Facebook,
        Platform::TikTok,
        Platform::Threads,
        Platform::Bluesky,
        Platform::Mastodon,
    ];

    /// The stable id used in APIs, configuration and storage: `x`, `linkedin`, `instagram`,
    /// `facebook`, `tiktok`, `threads`, `bluesky`, `mastodon`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::LinkedIn => "linkedin",
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
            Platform::TikTok => "tiktok",
            Platform::Threads => "threads",
            Platform::Bluesky => "bluesky",
            Platform::Mastodon => "mastodon",
        }
    }

    /// The name people know the platform by, for user interfaces and prompts.
    pub const fn label(self) -> &'static str {
        match self {
            Platform::X => "X",
            Platform::LinkedIn => "LinkedIn",
            Platform::Instagram => "Instagram",
            Platform::Facebook => "Facebook",
            Platform::TikTok => "TikTok",
            Platform::Threads => "Threads",
            Platform::Bluesky => "Bluesky",
            Platform::Mastodon => "Mastodon",
        }
    }

    /// The rules this platform enforces on a post's text.
    pub fn rules(self) -> &'static Rules {
        match self {
            Platform::X => &X,
            Platform::LinkedIn => &LINKEDIN,
            Platform::Instagram => &INSTAGRAM,
            Platform::Facebook => &FACEBOOK,
            Platform::TikTok => &TIKTOK,
            Platform::Threads => &THREADS,
            Platform::Bluesky => &BLUESKY,
            Platform::Mastodon => &MASTODON,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = UnknownPlatform;

    /// Parses a platform id. ASCII case is ignored (`X` and `LinkedIn` are accepted), but
    /// nothing else is: no surrounding spaces, no aliases such as `twitter`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|platform| platform.as_str().eq_ignore_ascii_case(input))
            .ok_or_else(|| UnknownPlatform::new(input))
    }
}

/// A string that is not a platform id. Its message lists the valid ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform `{input}`: expected one of {}", valid_ids_list())]
pub struct UnknownPlatform {
    input: String,
}

impl UnknownPlatform {
    /// Longer input is cut in the error: it is echoed into messages and logs.
    const MAX_ECHOED_CHARS: usize = 64;

    fn new(input: &str) -> Self {
        let input = match input.char_indices().nth(Self::MAX_ECHOED_CHARS) {
            Some((cut, _)) => format!("{}…", &input[..cut]),
            None => input.to_owned(),
        };
        UnknownPlatform { input }
    }

    /// The rejected input (cut after 64 characters).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The ids that would have been accepted.
    pub fn valid_ids() -> [&'static str; 8] {
        Platform::ALL.map(Platform::as_str)
    }
}

fn valid_ids_list() -> String {
    UnknownPlatform::valid_ids().join(", ")
}

/// What a platform enforces on a post's text, plus guidance for writing one.
///
/// The hard limits (`max_*`) are what [`check`](crate::check) enforces and
/// [`compose`](crate::compose) repairs; `recommended_hashtags` and `style` are advice for
/// prompts and are never enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rules {
    /// The longest text allowed, measured in `length_unit`.
    pub max_length: usize,
    /// How the platform counts `max_length`.
    pub length_unit: LengthUnit,
    /// A second cap on the text's size in UTF-8 bytes, where the platform has one.
    pub max_utf8_bytes: Option<usize>,
    /// The most hashtags a post may carry, where the platform sets a limit.
    pub max_hashtags: Option<usize>,
    /// The longest hashtag (without `#`) in Unicode code points, where the platform stops
    /// linking longer ones.
    pub max_hashtag_chars: Option<usize>,
    /// The most distinct links a post may contain, where the platform rejects more.
    pub max_links: Option<usize>,
    /// Whether a URL in the text becomes a clickable link. Where it does not (Instagram
    /// captions, TikTok), a post should point to the profile link instead.
    pub links_clickable: bool,
    /// How many hashtags work well on the platform; advice, not a limit.
    pub recommended_hashtags: RangeInclusive<usize>,
    /// A short description of the platform's house style, for prompts.
    pub style: &'static str,
}

// Sources: X's twitter-text configuration v3 and conformance tests; Threads' publishing
// API documentation (emoji counted in bytes, the link limit); Bluesky's post and facet
// lexicons (graphemes, bytes, tag length); schedulers' documentation (Buffer, Ayrshare)
// where a platform's own is silent (UTF-16 counting, the Instagram and TikTok limits).

static X: Rules = Rules {
    max_length: 280,
    length_unit: LengthUnit::XWeighted,
    max_utf8_bytes: None,
    max_hashtags: None,
    max_hashtag_chars: None,
    max_links: None,
    links_clickable: true,
    recommended_hashtags: 1..=2,
    style: "Short and punchy: one idea, a hook in the first words, conversational tone; \
            1-2 hashtags at most, woven in or at the end.",
};

static LINKEDIN: Rules = Rules {
    max_length: 3_000,
    length_unit: LengthUnit::Utf16CodeUnits,
    max_utf8_bytes: None,
    max_hashtags: None,
    max_hashtag_chars: None,
    max_links: None,
    links_clickable: true,
    recommended_hashtags: 3..=5,
    style: "Professional and insightful: a strong first line (only about 210 characters show \
            before \"see more\"), short paragraphs, a concrete takeaway or a question to close; \
            3-5 relevant hashtags at the end.",
};

static INSTAGRAM: Rules = Rules {
    max_length: 2_200,
    length_unit: LengthUnit::Utf16CodeUnits,
    max_utf8_bytes: None,
    max_hashtags: Some(30),
    max_hashtag_chars: None,
    max_links: None,
    links_clickable: false,
    recommended_hashtags: 3..=5,
    style: "Visual and personal: write for the picture, hook in the first line (captions are cut \
            after about 125 characters), emoji welcome; links are not clickable, so say \"link in \
            bio\"; up to 30 hashtags are allowed but 3-5 focused ones work best.",
};

static FACEBOOK: Rules = Rules {
    max_length: 63_206,
    length_unit: LengthUnit::Utf16CodeUnits,
    max_utf8_bytes: None,
    max_hashtags: None,
    max_hashtag_chars: None,
    max_links: None,
    links_clickable: true,
    recommended_hashtags: 0..=2,
    style: "Friendly and community-minded: short posts (under about 80 characters) get the most \
            engagement, invite comments, tell a small story; hashtags matter little, 0-2.",
};

static TIKTOK: Rules = Rules {
    max_length: 2_200,
    length_unit: LengthUnit::Utf16CodeUnits,
    max_utf8_bytes: None,
    max_hashtags: None,
    max_hashtag_chars: None,
    max_links: None,
    links_clickable: false,
    recommended_hashtags: 3..=5,
    style: "Casual, energetic and trend-aware: the caption supports the video with a hook and a \
            call to action; links are not clickable; 3-5 hashtags mixing broad and niche.",
};

static THREADS: Rules = Rules {
    max_length: 500,
    length_unit: LengthUnit::ThreadsCharacters,
    max_utf8_bytes: None,
    // Threads turns one tag per post into a topic; further `#words` stay plain text.
    max_hashtags: Some(1),
    // Topic tags are limited to 50 characters.
    max_hashtag_chars: Some(50),
    // Since December 2025 the API rejects posts with more than 5 distinct links.
    max_links: Some(5),
    links_clickable: true,
    recommended_hashtags: 0..=1,
    style: "Conversational and authentic, like talking with friends: opinions, questions, \
            replies welcome; at most one topic tag.",
};

static BLUESKY: Rules = Rules {
    max_length: 300,
    length_unit: LengthUnit::Graphemes,
    // The post record's `text` is also limited to 3,000 bytes.
    max_utf8_bytes: Some(3_000),
    max_hashtags: None,
    // Tag facets are limited to 64 graphemes; counting code points is stricter.
    max_hashtag_chars: Some(64),
    max_links: None,
    links_clickable: true,
    recommended_hashtags: 1..=2,
    style: "Conversational, witty and genuine; the community dislikes hard selling; \
            1-2 hashtags at most.",
};

static MASTODON: Rules = Rules {
    max_length: 500,
    length_unit: LengthUnit::MastodonCharacters,
    max_utf8_bytes: None,
    max_hashtags: None,
    max_hashtag_chars: None,
    max_links: None,
    links_clickable: true,
    recommended_hashtags: 2..=4,
    style: "Friendly, community-first, no hard sell; there is no algorithm, so hashtags are how \
            people find posts: 2-4, in CamelCase so screen readers can say them.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_from_str_display_and_serde() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(platform));
            assert_eq!(platform.to_string(), platform.as_str());
            let json = serde_json::to_string(&platform).expect("a platform serialises");
            assert_eq!(json, format!("\"{}\"", platform.as_str()));
            let back: Platform = serde_json::from_str(&json).expect("its id deserialises");
            assert_eq!(back, platform);
        }
    }

    #[test]
    fn ids_are_exactly_the_documented_ones() {
        assert_eq!(
            UnknownPlatform::valid_ids(),
            [
                "x",
                "linkedin",
                "instagram",
                "facebook",
                "tiktok",
                "threads",
                "bluesky",
                "mastodon"
            ]
        );
        let labels = Platform::ALL.map(Platform::label);
        assert_eq!(
            labels,
            [
                "X",
                "LinkedIn",
                "Instagram",
                "Facebook",
                "TikTok",
                "Threads",
                "Bluesky",
                "Mastodon"
            ]
        );
    }

    #[test]
    fn parsing_ignores_ascii_case_only() {
        assert_eq!("LinkedIn".parse::<Platform>(), Ok(Platform::LinkedIn));
        assert_eq!("X".parse::<Platform>(), Ok(Platform::X));
        assert!(" x".parse::<Platform>().is_err());
        assert!("twitter".parse::<Platform>().is_err());
        assert!(serde_json::from_str::<Platform>("\"LinkedIn\"").is_err());
    }

    #[test]
    fn unknown_platform_names_the_input_and_the_valid_ids() {
        let error = "myspace".parse::<Platform>().expect_err("not a platform");
        assert_eq!(error.input(), "myspace");
        assert_eq!(
            error.to_string(),
            "unknown platform `myspace`: expected one of x, linkedin, instagram, facebook, \
             tiktok, threads, bluesky, mastodon"
        );
        let long = "y".repeat(1_000);
        let error = long.parse::<Platform>().expect_err("not a platform");
        assert_eq!(error.input().chars().count(), 65);
    }

    #[test]
    fn limits_are_the_documented_ones() {
        let limit = |platform: Platform| platform.rules().max_length;
        assert_eq!(limit(Platform::X), 280);
        assert_eq!(limit(Platform::LinkedIn), 3_000);
        assert_eq!(limit(Platform::Instagram), 2_200);
        assert_eq!(limit(Platform::Facebook), 63_206);
        assert_eq!(limit(Platform::TikTok), 2_200);
        assert_eq!(limit(Platform::Threads), 500);
        assert_eq!(limit(Platform::Bluesky), 300);
        assert_eq!(limit(Platform::Mastodon), 500);
        assert_eq!(Platform::Instagram.rules().max_hashtags, Some(30));
        for platform in Platform::ALL {
            let rules = platform.rules();
            assert!(!rules.style.is_empty());
            if let Some(max) = rules.max_hashtags {
                assert!(*rules.recommended_hashtags.end() <= max, "{platform}");
            }
        }
    }
}
