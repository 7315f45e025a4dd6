//! Roles of users and the scopes a token may carry, as auth stores them: the names are
//! defined once in `marquee_platform::identity`; here they are parsed from requests
//! and from the database's space-separated columns.

use crate::error::AuthError;
use marquee_platform::{Role, Scope};

/// Parses a space-separated or listed set of scopes, rejecting unknown ones.
pub fn parse_scopes<'a>(
    scopes: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Scope>, AuthError> {
    let mut parsed: Vec<Scope> = Vec::new();
    for word in scopes.into_iter().flat_map(str::split_whitespace) {
        let Some(scope) = Scope::parse(word) else {
            return Err(AuthError::InvalidScope(format!(
                "unknown scope {word:?}; known scopes: {}",
                Scope::join(&Scope::ALL)
            )));
        };
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    Ok(parsed)
}

/// Roles as stored (space-separated names).
pub fn join_roles(roles: &[Role]) -> String {
    roles.iter().map(|role| role.as_str()).collect::<Vec<_>>().join(" ")
}

/// Words of a space-separated column.
pub fn split(words: &str) -> Vec<String> {
    words.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_once() {
        let scopes = parse_scopes(["assets:read billing:read", "assets:read"]).unwrap();
        assert_eq!(scopes, [Scope::AssetsRead, Scope::BillingRead]);
        assert!(parse_scopes(["assets:delete"]).is_err());
        assert_eq!(join_roles(&[Role::Admin, Role::Creator]), "admin creator");
    }
}
