//! Accounts: registration, sign-in, and the current user.

use super::audit::{AuditEvent, action, outcome};
use super::email::Email;
use super::sessions::Session;
use super::throttle::{Source, account_key};
use super::{Auth, RequestContext, password};
use crate::error::{AuthError, Result};
use crate::store;
use chrono::{DateTime, Utc};
use marquee_platform::Role;
use marquee_platform::input::fields;
use std::time::Duration;

/// An account in a tenant. Debug leaves the password hash out; the hash is read for
/// sign-in only and is not kept in the user cache or in sessions
/// ([`User::without_password_hash`]).
#[derive(Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    /// Normalised (trimmed, lower-case); unique per tenant.
    pub email: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
    /// When the address was verified; `None` until then (see `domain::accounts`).
    pub email_verified_at: Option<DateTime<Utc>>,
    /// When an admin disabled the user: no sign-in, no refresh, sessions revoked.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl User {
    /// The user without its password hash: what caches and sessions hold.
    pub fn without_password_hash(self) -> Self {
        Self {
            password_hash: String::new(),
            ..self
        }
    }
}

/// Recently read users, so `GET /auth/me` does not hit the database every time. Entries
/// are short-lived; users have no mutable fields yet besides what registration sets.
#[derive(Clone)]
pub struct UserCache(moka::future::Cache<String, User>);

impl UserCache {
    pub fn new() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        )
    }
}

impl UserCache {
    /// Drops the cached copy of a user that changed.
    pub(crate) async fn forget(&self, tenant_id: &str, user_id: &str) {
        self.0.invalidate(&format!("{tenant_id}/{user_id}")).await;
    }
}

impl Default for UserCache {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub tenant_id: Option<String>,
    /// An invitation token: needed to join any tenant but the default one
    /// (`domain::invitations`).
    pub invitation: Option<String>,
}

pub struct Credentials {
    pub email: String,
    pub password: String,
    pub tenant_id: Option<String>,
}

impl Auth {
    pub async fn register(
        &self,
        registration: Registration,
        context: &RequestContext,
    ) -> Result<Session> {
        let email = Email::parse(&registration.email)?;
        password::check_policy(
            &registration.password,
            &email,
            self.settings.password_min_length,
        )?;
        fields::DISPLAY_NAME.check(&registration.display_name)?;
        let display_name = registration.display_name.trim().to_string();
        let admission = self
            .admit(
                registration.tenant_id.as_deref(),
                &email,
                registration.invitation.as_deref(),
            )
            .await?;
        if admission.tenant.is_disabled() {
            return Err(super::tenants::tenant_disabled());
        }
        let user = self
            .create_member(
                admission,
                &email,
                &registration.password,
                &display_name,
                context,
            )
            .await?;
        self.audit(AuditEvent {
            tenant_id: &user.tenant_id,
            actor_id: &user.id,
            action: action::REGISTER,
            outcome: outcome::SUCCESS,
            context,
            detail: String::new(),
        })
        .await;
        // Sent in the background; a failure is logged, never the registration's.
        self.send_verification(&user, context).await;
        self.start_session(user).await
    }

    /// Inserts a user; `EmailTaken` when the email exists in the tenant.
    pub(crate) async fn create_user(
        &self,
        tenant_id: &str,
        email: &Email,
        password: &str,
        display_name: &str,
        roles: &[Role],
    ) -> Result<User> {
        let password = password.to_string();
        let password_hash = tokio::task::spawn_blocking(move || password::hash(&password))
            .await
            .map_err(|error| AuthError::Internal(error.to_string()))??;
        let display_name = if display_name.is_empty() {
            email.local_part().to_string()
        } else {
            display_name.to_string()
        };
        let user = User {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant_id.to_string(),
            email: email.as_str().to_string(),
            password_hash,
            display_name,
            roles: roles.to_vec(),
            created_at: Utc::now(),
            email_verified_at: None,
            disabled_at: None,
        };
        store::users::insert(&self.db, user).await.map_err(|error| {
            if store::is_unique_violation(&error) {
                AuthError::EmailTaken
            } else {
                error.into()
            }
        })
    }

    /// Signs in. Every failure looks the same to the caller (status, code and time),
    /// whether or not the email exists.
    pub async fn login(
        &self,
        credentials: Credentials,
        context: &RequestContext,
    ) -> Result<Session> {
        // Only a well-formed address is throttled (and looked up): the account key is
        // the normalised, bounded address, and an invalid one (which can match no
        // account) is refused before any throttle row exists.
        let email = Email::parse(&credentials.email)?;
        let tenant = self
            .resolve_tenant(credentials.tenant_id.as_deref())
            .await
            .ok();
        let tenant_id = tenant.as_ref().map(|t| t.id.clone()).unwrap_or_default();
        let account = account_key(&tenant_id, email.as_str());
        let source = Source::of(&context.ip);
        if let Err(error) = self.admit_sign_in(&account, &source).await {
            self.audit_login(&tenant_id, "", outcome::DENIED, context, "throttled")
                .await;
            return Err(error);
        }

        let user = match &tenant {
            Some(tenant) => {
                store::users::find_by_email(&self.db, &tenant.id, email.as_str()).await?
            }
            None => None,
        };
        let password = credentials.password;
        let (user, verified) = tokio::task::spawn_blocking(move || match user {
            Some(user) => {
                let ok = password::verify(&password, &user.password_hash);
                (Some(user), ok)
            }
            None => {
                password::verify_dummy(&password);
                (None, false)
            }
        })
        .await
        .map_err(|error| AuthError::Internal(error.to_string()))?;

        match user {
            Some(user) if verified => {
                self.record_sign_in_success(&account, &source).await?;
                self.audit_login(&user.tenant_id, &user.id, outcome::SUCCESS, context, "")
                    .await;
                self.start_session(user).await
            }
            user => {
                self.record_sign_in_failure(&account, &source).await?;
                let (actor, detail) = match &user {
                    Some(user) => (user.id.as_str(), "wrong password"),
                    None => ("", "unknown account"),
                };
                self.audit_login(&tenant_id, actor, outcome::FAILURE, context, detail)
                    .await;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    pub(super) async fn audit_login(
        &self,
        tenant_id: &str,
        actor_id: &str,
        result: &str,
        context: &RequestContext,
        detail: &str,
    ) {
        self.audit(AuditEvent {
            tenant_id,
            actor_id,
            action: action::LOGIN,
            outcome: result,
            context,
            detail: detail.to_string(),
        })
        .await;
    }

    /// The user behind a verified principal.
    pub async fn user(&self, tenant_id: &str, user_id: &str) -> Result<User> {
        let key = format!("{tenant_id}/{user_id}");
        if let Some(user) = self.users.0.get(&key).await {
            return Ok(user);
        }
        let user = store::users::find(&self.db, tenant_id, user_id)
            .await?
            .ok_or(AuthError::NotFound("user"))?
            .without_password_hash();
        self.users.0.insert(key, user.clone()).await;
        Ok(user)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::AuthSettings;
    use std::path::PathBuf;

    /// Auth on a fresh SQLite file in a temp dir, removed on drop.
    pub(crate) struct TempAuth {
        pub auth: Auth,
        dir: PathBuf,
    }

    impl Drop for TempAuth {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    pub(crate) async fn start() -> TempAuth {
        start_with(|_| {}).await
    }

    /// [`start`] with settings changed by `configure`.
    pub(crate) async fn start_with(configure: impl FnOnce(&mut AuthSettings)) -> TempAuth {
        let dir = std::env::temp_dir().join(format!(
            "marquee-auth-unit-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut settings = AuthSettings {
            data_dir: dir.clone(),
            database_url: None,
            ..AuthSettings::default()
        };
        configure(&mut settings);
        let db = crate::open_database(&settings).await.expect("database");
        let auth = Auth::start(db, settings).await.expect("auth starts");
        TempAuth { auth, dir }
    }

    pub(crate) fn context() -> RequestContext {
        RequestContext {
            ip: "203.0.113.7".into(),
            user_agent: "unit-test".into(),
        }
    }

    #[tokio::test]
    async fn display_name_defaults_to_the_emails_local_part() {
        let test = start().await;
        for (email, display_name, expected) in [
            ("Grace.Hopper@Example.com", "", "grace.hopper"),
            ("ada@example.com", "   ", "ada"),
            ("alan@example.com", " Alan T. ", "Alan T."),
        ] {
            let session = test
                .auth
                .register(
                    Registration {
                        email: email.into(),
                        password: "correct horse battery".into(),
                        display_name: display_name.into(),
                        tenant_id: None,
                        invitation: None,
                    },
                    &context(),
                )
                .await
                .expect("registered");
            assert_eq!(session.user.display_name, expected, "{email}");
        }
    }

    async fn throttle_keys(test: &TempAuth) -> Vec<String> {
        use sea_orm::EntityTrait;
        crate::store::entities::login_throttle::Entity::find()
            .all(&test.auth.db)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.key)
            .collect()
    }

    #[tokio::test]
    async fn throttle_keys_are_normalised_addresses_and_invalid_ones_leave_none() {
        let test = start().await;
        let login = |email: &str| Credentials {
            email: email.into(),
            password: "not the password".into(),
            tenant_id: None,
        };
        for hostile in [
            "ada\0@example.com".to_string(),
            format!("{}@example.com", "a".repeat(100_000)),
            "not an address".to_string(),
        ] {
            let Err(error) = test.auth.login(login(&hostile), &context()).await else {
                panic!("signed in with an invalid email");
            };
            assert!(
                matches!(
                    error,
                    AuthError::Invalid {
                        code: "invalid_email",
                        ..
                    }
                ),
                "{error:?}"
            );
        }
        assert!(
            throttle_keys(&test).await.is_empty(),
            "no rows for invalid emails"
        );

        let Err(error) = test
            .auth
            .login(login("  Grace@Example.COM "), &context())
            .await
        else {
            panic!("signed in with a wrong password");
        };
        assert!(matches!(error, AuthError::InvalidCredentials));
        let keys = throttle_keys(&test).await;
        let tenant = test.auth.ensure_default_tenant().await.unwrap();
        assert!(
            keys.contains(&account_key(&tenant.id, "grace@example.com")),
            "{keys:?}"
        );
        assert!(keys.iter().all(|key| key.len() < 400), "{keys:?}");
    }

    #[tokio::test]
    async fn registration_refuses_control_characters_and_over_length() {
        let test = start().await;
        let register = |email: &str, password: &str, display_name: &str| Registration {
            email: email.into(),
            password: password.into(),
            display_name: display_name.into(),
            tenant_id: None,
            invitation: None,
        };
        for (registration, code) in [
            (
                register("a@example.com", "correct horse\0battery", ""),
                "weak_password",
            ),
            (
                register("a@example.com", &"x".repeat(257), ""),
                "weak_password",
            ),
            (
                register("a@example.com", "correct horse battery", "Ada\u{7}"),
                "invalid_display_name",
            ),
            (
                register("a@example.com", "correct horse battery", &"d".repeat(101)),
                "invalid_display_name",
            ),
            (
                register("a\u{1}@example.com", "correct horse battery", ""),
                "invalid_email",
            ),
        ] {
            let Err(error) = test.auth.register(registration, &context()).await else {
                panic!("registered with {code}");
            };
            match error {
                AuthError::Invalid { code: got, .. } => assert_eq!(got, code),
                other => panic!("{other:?}"),
            }
        }
        let session = test
            .auth
            .register(
                register(
                    "b@example.com",
                    "correct horse battery",
                    "\u{202e}Ada \u{200d}😀",
                ),
                &context(),
            )
            .await
            .expect("odd but valid Unicode is a name");
        assert_eq!(session.user.display_name, "\u{202e}Ada \u{200d}😀");
        let Err(error) = test
            .auth
            .register(
                Registration {
                    tenant_id: Some("t\0".into()),
                    ..register("c@example.com", "correct horse battery", "")
                },
                &context(),
            )
            .await
        else {
            panic!("registered in a malformed tenant");
        };
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "invalid_id",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn password_hashes_stay_out_of_sessions_the_cache_and_debug() {
        let temp = start_with(|_| {}).await;
        let auth = &temp.auth;
        let session = auth
            .register(
                Registration {
                    email: "hash@example.com".into(),
                    password: "correct horse battery".into(),
                    display_name: "Hash".into(),
                    tenant_id: None,
                    invitation: None,
                },
                &context(),
            )
            .await
            .unwrap();
        assert!(session.user.password_hash.is_empty(), "session");
        let stored = store::users::find(auth.db(), &session.user.tenant_id, &session.user.id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.password_hash.starts_with("$argon2id$"));
        assert!(!format!("{stored:?}").contains("argon2"), "Debug");
        let me = auth
            .user(&session.user.tenant_id, &session.user.id)
            .await
            .unwrap();
        assert!(me.password_hash.is_empty(), "returned");
        let cached = auth
            .users
            .0
            .get(&format!("{}/{}", me.tenant_id, me.id))
            .await
            .unwrap();
        assert!(cached.password_hash.is_empty(), "cached");
    }
}
