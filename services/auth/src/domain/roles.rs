//! Roles of users and the catalogue of OAuth scopes.

use crate::error::AuthError;

pub const CREATOR: &str = "creator";
pub const MODERATOR: &str = "moderator";
pub const ADMIN: &str = "admin";
pub const ROLES: &[&str] = &[CREATOR, MODERATOR, ADMIN];

/// Every scope a token can carry. Users get all of them; partner clients get what an
/// admin granted.
pub const SCOPES: &[&str] = &[
    "assets:read",
    "assets:write",
    "campaigns:read",
    "campaigns:write",
    "billing:read",
    "tenant:read",
];

/// Parses a space-separated or listed set of scopes, rejecting unknown ones.
pub fn parse_scopes<'a>(
    scopes: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, AuthError> {
    let mut parsed: Vec<String> = Vec::new();
    for scope in scopes.into_iter().flat_map(str::split_whitespace) {
        if !SCOPES.contains(&scope) {
            return Err(AuthError::InvalidScope(format!(
                "unknown scope {scope:?}; known scopes: {}",
                SCOPES.join(" ")
            )));
        }
        if !parsed.iter().any(|s| s == scope) {
            parsed.push(scope.to_string());
        }
    }
    Ok(parsed)
}

pub fn split(words: &str) -> Vec<String> {
    words.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_once() {
        let scopes = parse_scopes(["assets:read billing:read", "assets:read"]).unwrap();
        assert_eq!(scopes, ["assets:read", "billing:read"]);
        assert!(parse_scopes(["assets:delete"]).is_err());
    }
}
