//! Rules for text that comes from outside, shared by the gateway (the first line, which
//! also publishes them in the OpenAPI document) and the services (the second line, so
//! nothing reaches a database unchecked whoever calls them):
//!
//! - no control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F), except
//!   tab and newline in multi-line text (descriptions, bios, comments, reasons);
//! - lengths counted in characters (Unicode scalar values), as JSON Schema's
//!   `maxLength` counts them, on the value as sent (before any trimming);
//! - ids (in paths, bodies and cursors) of a safe charset and bounded length;
//! - e-mail addresses normalised (trimmed, lower-cased) and checked before anything
//!   keys on them.
//!
//! Other Unicode is free text and stays accepted: emoji, right-to-left text and its
//! marks, joiners, combining marks. A [`Violation`] names the field and never echoes
//! the value.

/// Why a value was refused: a stable code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: &'static str,
    pub message: String,
}

impl From<Violation> for crate::Error {
    fn from(violation: Violation) -> Self {
        crate::Error::invalid(violation.code, violation.message)
    }
}

/// The code of a malformed id.
pub const INVALID_ID: &str = "invalid_id";
/// The code of a malformed e-mail address.
pub const INVALID_EMAIL: &str = "invalid_email";
/// The code of refused text without a field-specific one.
pub const INVALID_INPUT: &str = "invalid_input";

/// Longest id: UUIDs, `mqc_…` client ids, slugs, `me`.
pub const MAX_ID_CHARS: usize = 128;
/// An id, as a JSON Schema pattern.
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,128}$";
/// Longest e-mail address (RFC 5321's path limit), before trimming.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest local part (before the `@`).
pub const MAX_EMAIL_LOCAL_CHARS: usize = 64;

/// One line of text: no control character at all.
pub const ONE_LINE_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";
/// One line with at least one character that is not white space.
pub const NON_BLANK_LINE_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
/// Multi-line text: tab (U+0009) and newline (U+000A) are the only control characters.
pub const MULTI_LINE_PATTERN: &str = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$";
/// Multi-line text with at least one character that is not white space.
pub const NON_BLANK_MULTI_LINE_PATTERN: &str = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$";

/// Whether text may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// No control character at all.
    One,
    /// Tab and newline allowed.
    Many,
}

/// The rule of one text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// The field's name in the API, used in messages.
    pub field: &'static str,
    /// At least this many characters (0: may be empty).
    pub min_chars: usize,
    /// At most this many characters.
    pub max_chars: usize,
    pub lines: Lines,
    /// When set, a value that is only white space is refused with this code.
    pub blank: Option<&'static str>,
    /// The code for control characters (and for too few characters).
    pub code: &'static str,
    /// The code for too many characters.
    pub too_long: &'static str,
}

impl Text {
    /// One line of at most `max_chars`, `code` for every violation.
    pub const fn line(field: &'static str, max_chars: usize, code: &'static str) -> Self {
        Self {
            field,
            min_chars: 0,
            max_chars,
            lines: Lines::One,
            blank: None,
            code,
            too_long: code,
        }
    }

    /// Multi-line text of at most `max_chars`, `code` for every violation.
    pub const fn multi_line(field: &'static str, max_chars: usize, code: &'static str) -> Self {
        Self {
            lines: Lines::Many,
            ..Self::line(field, max_chars, code)
        }
    }

    /// The same rule with its own code for over-length values.
    pub const fn too_long(self, code: &'static str) -> Self {
        Self {
            too_long: code,
            ..self
        }
    }

    /// The same rule refusing blank values (`code`).
    pub const fn not_blank(self, code: &'static str) -> Self {
        Self {
            blank: Some(code),
            min_chars: if self.min_chars == 0 {
                1
            } else {
                self.min_chars
            },
            ..self
        }
    }

    /// The same rule with a minimum length.
    pub const fn at_least(self, min_chars: usize) -> Self {
        Self { min_chars, ..self }
    }

    /// The JSON Schema pattern of the characters this rule accepts.
    pub const fn pattern(&self) -> &'static str {
        match (self.lines, self.blank.is_some()) {
            (Lines::One, false) => ONE_LINE_PATTERN,
            (Lines::One, true) => NON_BLANK_LINE_PATTERN,
            (Lines::Many, false) => MULTI_LINE_PATTERN,
            (Lines::Many, true) => NON_BLANK_MULTI_LINE_PATTERN,
        }
    }

    /// Checks `value` as sent: length first (a huge value is never scanned further),
    /// then control characters, then blankness.
    pub fn check(&self, value: &str) -> Result<(), Violation> {
        let field = self.field;
        // At most max + 1 characters are counted.
        let length = value.chars().take(self.max_chars + 1).count();
        if length > self.max_chars {
            return Err(Violation {
                code: self.too_long,
                message: format!("`{field}` must be at most {} characters", self.max_chars),
            });
        }
        if length < self.min_chars {
            return Err(Violation {
                code: self.blank.unwrap_or(self.code),
                message: if self.min_chars == 1 {
                    format!("`{field}` must not be empty")
                } else {
                    format!("`{field}` must be at least {} characters", self.min_chars)
                },
            });
        }
        if has_control(value, self.lines) {
            let allowed = match self.lines {
                Lines::One => "",
                Lines::Many => " other than tab and newline",
            };
            return Err(Violation {
                code: self.code,
                message: format!("`{field}` must not contain control characters{allowed}"),
            });
        }
        if let Some(code) = self.blank
            && value.trim().is_empty()
        {
            return Err(Violation {
                code,
                message: format!("`{field}` must not be blank"),
            });
        }
        Ok(())
    }

    /// Checks an optional value (`None` passes).
    pub fn check_optional(&self, value: Option<&str>) -> Result<(), Violation> {
        value.map_or(Ok(()), |value| self.check(value))
    }
}

/// Whether `value` holds a control character `lines` does not allow.
pub fn has_control(value: &str, lines: Lines) -> bool {
    value
        .chars()
        .any(|c| c.is_control() && !(lines == Lines::Many && (c == '\n' || c == '\t')))
}

/// Whether `value` is an id: 1 to [`MAX_ID_CHARS`] of `A-Z a-z 0-9 _ -`.
pub fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_ID_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks an id (`invalid_id`).
pub fn id(field: &str, value: &str) -> Result<(), Violation> {
    if is_id(value) {
        Ok(())
    } else {
        Err(Violation {
            code: INVALID_ID,
            message: format!(
                "`{field}` must be an id: 1 to {MAX_ID_CHARS} characters of A-Z, a-z, 0-9, _ and -"
            ),
        })
    }
}

/// Checks an optional id; empty counts as absent.
pub fn optional_id(field: &str, value: Option<&str>) -> Result<(), Violation> {
    match value {
        None | Some("") => Ok(()),
        Some(value) => id(field, value),
    }
}

/// Checks a tenant slug: [`fields::MIN_SLUG_CHARS`] to [`fields::MAX_SLUG_CHARS`] of
/// `a-z 0-9 -`, no hyphen at either end (`invalid_slug`).
pub fn slug(value: &str) -> Result<(), Violation> {
    let ok = (fields::MIN_SLUG_CHARS..=fields::MAX_SLUG_CHARS).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Violation {
            code: "invalid_slug",
            message: format!(
                "`slug` must be {} to {} characters of a-z, 0-9 and inner hyphens",
                fields::MIN_SLUG_CHARS,
                fields::MAX_SLUG_CHARS
            ),
        })
    }
}

/// Whether `value` is a UUID in its canonical hyphenated form (either case).
pub fn is_uuid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The canonical UUID form, as a JSON Schema pattern.
pub const UUID_PATTERN: &str =
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

/// Normalises an e-mail address: at most [`MAX_EMAIL_CHARS`] as sent, no control
/// characters, then trimmed and lower-cased, one `@`, a local part of 1 to
/// [`MAX_EMAIL_LOCAL_CHARS`] characters, a dotted domain, no white space inside.
pub fn email(raw: &str) -> Result<String, Violation> {
    let invalid = |message: String| Violation {
        code: INVALID_EMAIL,
        message,
    };
    if raw.chars().take(MAX_EMAIL_CHARS + 1).count() > MAX_EMAIL_CHARS {
        return Err(invalid(format!(
            "`email` must be at most {MAX_EMAIL_CHARS} characters"
        )));
    }
    let shape = || invalid("`email` must look like name@example.com".to_string());
    if has_control(raw, Lines::One) {
        return Err(shape());
    }
    let email = raw.trim().to_lowercase();
    if email.is_empty() || email.chars().any(char::is_whitespace) {
        return Err(shape());
    }
    let (local, domain) = email.split_once('@').ok_or_else(shape)?;
    if local.is_empty()
        || local.chars().count() > MAX_EMAIL_LOCAL_CHARS
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(shape());
    }
    Ok(email)
}

/// Every text field of the API with its rule: the gateway checks them at the edge and
/// documents them in the OpenAPI document; auth and content check them again.
pub mod fields {
    use super::{INVALID_INPUT, Text};

    // Accounts (auth).
    /// Registration: 10 (auth's default `password_min_length`) to 256 characters.
    pub const PASSWORD: Text = Text::line("password", 256, "weak_password").at_least(10);
    /// Sign-in: whatever registration could have accepted, bounded.
    pub const LOGIN_PASSWORD: Text = Text::line("password", 256, INVALID_INPUT).at_least(1);
    /// A user's name at registration; the e-mail's local part when empty.
    pub const DISPLAY_NAME: Text = Text::line("display_name", 100, "invalid_display_name");
    /// A tenant's name.
    pub const TENANT_NAME: Text = Text::line("name", 100, "invalid_name").not_blank("invalid_name");
    /// A partner client's name.
    pub const CLIENT_NAME: Text = Text::line("name", 100, "invalid_name").not_blank("invalid_name");
    /// A tenant's slug: 3 to 40 of `a-z 0-9 -`, no hyphen at either end.
    pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$";
    pub const MIN_SLUG_CHARS: usize = 3;
    pub const MAX_SLUG_CHARS: usize = 40;
    /// At most this many feature flags per tenant.
    pub const MAX_FLAGS: usize = 100;
    /// A flag's name.
    pub const FLAG_NAME_PATTERN: &str = "^[a-z0-9_.-]{1,64}$";
    pub const MAX_FLAG_NAME_CHARS: usize = 64;
    /// A string flag value.
    pub const FLAG_VALUE: Text = Text::line("flags", 256, "invalid_flags");
    /// Opaque tokens (refresh tokens): `mqr_` and base64url.
    pub const TOKEN_PATTERN: &str = "^[A-Za-z0-9_-]{1,512}$";
    pub const MAX_TOKEN_CHARS: usize = 512;
    /// A partner client's secret, as presented to the token endpoint.
    pub const CLIENT_SECRET: Text = Text::line("client_secret", 256, "invalid_request");
    /// Scopes asked of the token endpoint (space-separated).
    pub const SCOPE: Text = Text::line("scope", 1024, "invalid_scope");

    // Assets (content).
    pub const TITLE: Text = Text::line("title", 200, INVALID_INPUT).too_long("title_too_long");
    /// An edited title may not be blank.
    pub const NEW_TITLE: Text = TITLE.not_blank("title_required");
    pub const DESCRIPTION: Text =
        Text::multi_line("description", 5000, INVALID_INPUT).too_long("description_too_long");
    /// One tag (tags are trimmed and lower-cased).
    pub const TAG: Text = Text::line("tags", 50, "invalid_tags");
    pub const MAX_TAGS: usize = 20;
    /// The uploaded file's name.
    pub const FILENAME: Text = Text::line("filename", 255, "invalid_filename");

    // Community and moderation (content).
    /// A comment; content's `comment_max_chars` may set a lower limit.
    pub const COMMENT_BODY: Text = Text::multi_line("body", 2000, "comment_invalid")
        .too_long("comment_too_long")
        .not_blank("comment_empty");
    pub const REPORT_REASON: Text =
        Text::multi_line("reason", 500, INVALID_INPUT).too_long("reason_too_long");
    /// A moderator's note when approving an asset.
    pub const DECISION_REASON: Text =
        Text::multi_line("reason", 1000, INVALID_INPUT).too_long("reason_too_long");
    /// A rejection's reason, which the owner reads.
    pub const REJECTION_REASON: Text = DECISION_REASON.not_blank("reason_required");
    /// A creator's display name.
    pub const PROFILE_NAME: Text = Text::line("display_name", 80, "display_name_invalid");
    pub const BIO: Text = Text::multi_line("bio", 1000, INVALID_INPUT).too_long("bio_too_long");

    // Billing (gateway).
    /// Redirect URLs given to checkout and the portal.
    pub const URL: Text = Text::line("url", 2048, INVALID_INPUT);
    /// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
    pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";
    pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

    /// The campaign studio's fields (gateway and campaign service).
    pub mod campaign {
        use super::super::Text;

        pub const NAME: Text = Text::line("name", 120, "invalid_name").not_blank("invalid_name");
        pub const OBJECTIVE: Text = Text::multi_line("objective", 1000, "invalid_objective");
        pub const BUSINESS_DESCRIPTION: Text = Text::multi_line(
            "business_description",
            10_000,
            "invalid_business_description",
        );
        pub const TARGET_AUDIENCE: Text =
            Text::multi_line("target_audience", 1000, "invalid_target_audience");
        /// A website the analysis reads (http or https).
        pub const URL: Text = Text::line("urls", 2048, "invalid_url").not_blank("invalid_url");
        pub const MAX_URLS: usize = 3;
        pub const MAX_ASSETS: usize = 10;
        pub const CAMPAIGN_TYPES: [&str; 4] = ["product", "service", "brand", "event"];
        pub const MIN_CREATIVITY: u32 = 1;
        pub const MAX_CREATIVITY: u32 = 10;
        pub const DEFAULT_CREATIVITY: u32 = 5;
        /// Posts in total across the platforms.
        pub const MIN_POSTS: u32 = 3;
        pub const MAX_POSTS: u32 = 15;
        pub const DEFAULT_POSTS: u32 = 9;
        /// An IANA time zone name.
        pub const TIME_ZONE: Text = Text::line("time_zone", 64, "invalid_time_zone");
        pub const GUIDANCE: Text = Text::multi_line("guidance", 5000, "invalid_guidance");
        pub const THEME_NAME: Text =
            Text::line("themes.name", 80, "invalid_theme").not_blank("invalid_theme");
        pub const THEME_DESCRIPTION: Text = Text::line("themes.description", 500, "invalid_theme");
        pub const MAX_THEMES: usize = 12;
        /// A hashtag without its `#`: letters, digits and underscores.
        pub const HASHTAG_PATTERN: &str = r"^#?[\p{L}\p{N}_]{1,100}$";
        pub const MAX_HASHTAG_CHARS: usize = 100;
        pub const MAX_HASHTAGS: usize = 60;
        pub const CHAT_MESSAGE: Text =
            Text::multi_line("message", 2000, "invalid_message").not_blank("invalid_message");
        pub const INSTRUCTIONS: Text =
            Text::multi_line("instructions", 1000, "invalid_instructions");
        /// A post's text as edited by its author; the platform's own limit is checked too.
        pub const POST_CONTENT: Text =
            Text::multi_line("content", 63_206, "invalid_content").not_blank("invalid_content");
        pub const MEDIA_PROMPT: Text =
            Text::multi_line("media_prompt", 2000, "invalid_media_prompt");
        pub const TEMPLATE_NAME: Text =
            Text::line("name", 120, "invalid_name").not_blank("invalid_name");
        pub const TEMPLATE_DESCRIPTION: Text =
            Text::multi_line("description", 1000, "invalid_description");
        pub const TEMPLATE_VISIBILITIES: [&str; 2] = ["private", "tenant"];
        pub const CONNECTOR_KINDS: [&str; 3] = ["webhook", "bluesky", "mastodon"];
        pub const CONNECTOR_NAME: Text =
            Text::line("name", 120, "invalid_name").not_blank("invalid_name");
        pub const CONNECTOR_ENDPOINT: Text =
            Text::line("endpoint", 2048, "invalid_endpoint").not_blank("invalid_endpoint");
        pub const CONNECTOR_ACCOUNT: Text = Text::line("account", 256, "invalid_account");
        pub const CONNECTOR_SECRET: Text =
            Text::line("secret", 1024, "invalid_secret").not_blank("invalid_secret");
        pub const MEDIA_KINDS: [&str; 2] = ["image", "video"];
        pub const POST_KINDS: [&str; 3] = ["text_url", "text_image", "text_video"];
        pub const EXPORT_FORMATS: [&str; 3] = ["json", "csv", "md"];
        /// Spacing of scheduled posts, in minutes (up to 30 days).
        pub const MAX_INTERVAL_MINUTES: u32 = 43_200;
        /// Farthest a post can be scheduled ahead, in days.
        pub const MAX_SCHEDULE_DAYS: i64 = 366;
        /// The platforms a campaign writes for, by their API ids (`marquee_social::Platform`).
        pub const PLATFORMS: [&str; 8] = [
            "x",
            "linkedin",
            "instagram",
            "facebook",
            "tiktok",
            "threads",
            "bluesky",
            "mastodon",
        ];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: Text = Text::line("title", 5, "invalid_title").too_long("title_too_long");

    #[test]
    fn lengths_count_characters_as_sent() {
        assert!(TITLE.check("abcde").is_ok());
        // Four-byte characters count once each.
        assert!(TITLE.check("😀😀😀😀😀").is_ok());
        let error = TITLE.check("😀😀😀😀😀😀").unwrap_err();
        assert_eq!(error.code, "title_too_long");
        assert_eq!(error.message, "`title` must be at most 5 characters");
        // Trailing spaces count: the value as sent is what JSON Schema measures.
        assert!(TITLE.check("abcd  ").is_err());
        let huge = "x".repeat(100_000);
        assert_eq!(TITLE.check(&huge).unwrap_err().code, "title_too_long");
    }

    #[test]
    fn control_characters_are_refused_but_odd_unicode_is_text() {
        for bad in ["a\0b", "a\nb", "a\tb", "\u{7f}", "\u{85}", "\u{9f}", "\r"] {
            let error = TITLE.check(bad).unwrap_err();
            assert_eq!(error.code, "invalid_title", "{bad:?}");
            assert!(!error.message.contains(bad), "never echoes the value");
        }
        for fine in ["\u{202e}abc", "a\u{200d}b", "\u{301}", "😀", "اب", ""] {
            assert!(TITLE.check(fine).is_ok(), "{fine:?}");
        }
        let body = Text::multi_line("body", 10, "comment_invalid");
        assert!(body.check("a\nb\tc").is_ok());
        assert!(body.check("a\r\nb").is_err());
        assert!(body.check("a\0").is_err());
    }

    #[test]
    fn blank_values_can_be_refused() {
        let name = Text::line("name", 10, "invalid_name").not_blank("invalid_name");
        assert_eq!(name.min_chars, 1);
        assert_eq!(name.check("").unwrap_err().code, "invalid_name");
        assert_eq!(name.check("   ").unwrap_err().code, "invalid_name");
        assert!(name.check(" a ").is_ok());
        assert_eq!(name.pattern(), NON_BLANK_LINE_PATTERN);
        assert_eq!(TITLE.pattern(), ONE_LINE_PATTERN);
    }

    #[test]
    fn ids_are_a_safe_charset() {
        for ok in [
            "0192f5e8-6a1b-7c3d-9e4f-0a1b2c3d4e5f",
            "mqc_0123abcd",
            "me",
            "acme-sandbox",
        ] {
            assert!(id("id", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a\0", "a/b", "..", "é", &"a".repeat(129)] {
            assert_eq!(id("id", bad).unwrap_err().code, INVALID_ID, "{bad:?}");
        }
        assert!(optional_id("tenant_id", Some("")).is_ok());
        assert!(is_uuid("0192F5E8-6a1b-7c3d-9e4f-0a1b2c3d4e5f"));
        assert!(!is_uuid("0192f5e86a1b7c3d9e4f0a1b2c3d4e5f"));
    }

    #[test]
    fn emails_are_normalised_and_bounded() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada\0@example.com",
            "ada@example.com\u{85}",
        ] {
            assert_eq!(email(bad).unwrap_err().code, INVALID_EMAIL, "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(email(&long_local).is_err());
        let longest = format!("{}@{}.com", "a".repeat(64), "b".repeat(185));
        assert_eq!(longest.chars().count(), 254);
        assert!(email(&longest).is_ok());
        assert!(email(&format!("{longest}m")).is_err());
        assert!(email(&"a".repeat(100_000)).is_err());
    }
}
