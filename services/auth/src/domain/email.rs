//! A normalised email address: trimmed, lower-cased, plausibly shaped, bounded, free
//! of control characters (the rule the gateway enforces too, see
//! `marquee_platform::input::email`). Delivery is not verified here.

use crate::error::AuthError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        Ok(Self(marquee_platform::input::email(raw)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
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
            "ada@exa\u{1}mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(100_000));
        assert!(matches!(
            Email::parse(&long),
            Err(AuthError::Invalid {
                code: "invalid_email",
                ..
            })
        ));
    }
}
