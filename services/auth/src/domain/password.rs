//! Password policy and argon2id hashing.

use crate::domain::email::Email;
use crate::error::AuthError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use marquee_platform::input::{Text, fields};
use std::sync::OnceLock;

/// Checks the policy: at least `min_length` characters, at most 256, no control
/// characters, not the email or its local part.
pub fn check_policy(password: &str, email: &Email, min_length: usize) -> Result<(), AuthError> {
    Text {
        min_chars: min_length,
        ..fields::PASSWORD
    }
    .check(password)?;
    let lowered = password.trim().to_lowercase();
    if lowered == email.as_str() || lowered == email.local_part() {
        return Err(AuthError::invalid(
            "weak_password",
            "password must not be your email",
        ));
    }
    Ok(())
}

/// Hashes with argon2id (default parameters: 19 MiB, 2 passes) and a fresh salt.
pub fn hash(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| AuthError::Internal(format!("hashing password: {error}")))
}

/// What an account that signs in only through an external provider stores instead of
/// a hash: not a PHC string, so no password matches it.
pub const NO_PASSWORD: &str = "!no-password";

/// Verifies `password` against a stored PHC hash. An account without a usable hash
/// ([`NO_PASSWORD`]) matches nothing, after the time a real check takes, so the answer
/// does not tell such accounts apart.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => matches(password, &hash),
        Err(_) => {
            verify_dummy(password);
            false
        }
    }
}

fn matches(password: &str, hash: &PasswordHash) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Spends the same time as a real verification, for logins to unknown emails: the
/// response must not reveal whether the account exists.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    if let Ok(hash) = PasswordHash::new(dummy) {
        let _ = matches(password, &hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_and_email_passwords() {
        let email = Email::parse("ada@example.com").unwrap();
        assert!(check_policy("short", &email, 10).is_err());
        assert!(check_policy("ada@example.com", &email, 10).is_err());
        assert!(check_policy("ADA@EXAMPLE.COM", &email, 10).is_err());
        assert!(check_policy("correct horse battery", &email, 10).is_ok());
        assert!(check_policy("correct horse\0battery", &email, 10).is_err());
        assert!(check_policy("correct horse\tbattery", &email, 10).is_err());
        assert!(check_policy(&"x".repeat(257), &email, 10).is_err());
        assert!(check_policy("😀😀😀😀😀😀😀😀😀😀", &email, 10).is_ok());
    }

    #[test]
    fn hash_verifies_only_the_same_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("wrong horse battery", &stored));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn an_account_without_a_password_matches_no_password() {
        for attempt in ["", NO_PASSWORD, "!", "correct horse battery"] {
            assert!(!verify(attempt, NO_PASSWORD), "{attempt:?}");
        }
    }
}
