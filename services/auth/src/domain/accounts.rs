//! Accounts people expect: e-mail verification and password reset.
//!
//! Both work by a link mailed to the account's address. The link carries a token of 256
//! random bits, stored only as its SHA-256 hash, single use (a conditional update), and
//! expiring (`email_verification_ttl_secs`, 24 h; `password_reset_ttl_secs`, 1 h).
//!
//! - Registration mails a verification link; `resend_verification` mails a new one, at
//!   most one per `mail.resend_secs`. Unverified users may do everything (sign in,
//!   upload, …); the flag is shown (`email_verified`) so that features can ask for it.
//! - `forgot_password` answers the same whether or not the account exists, and does its
//!   work (lookup, token, mail) in the background, so neither the answer nor its timing
//!   tells. At most one reset mail per account per `mail.resend_secs`.
//! - `reset_password` sets the new password (the registration policy), spends every
//!   reset link of the user, marks the address verified (the link proved it), and ends
//!   every session of the user ([`Auth::revoke_all_for_user`]).
//!
//! Mail is sent off the request path (the [`Mailer`](crate::clients::mail::Mailer)
//! bounds each message by its timeout); a failure is logged and counted, never shown to
//! the caller.

use super::audit::{AuditEvent, action, outcome};
use super::email::Email;
use super::sessions::hash_token;
use super::users::User;
use super::{Auth, RequestContext, password};
use crate::clients::mail::Mail;
use crate::error::{AuthError, Result};
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use marquee_platform::input::fields;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "verify_email" => Some(Self::VerifyEmail),
            "reset_password" => Some(Self::ResetPassword),
            _ => None,
        }
    }

    /// Tokens say what they are for: a reset link pasted into the verification page
    /// is refused without a lookup.
    fn prefix(self) -> &'static str {
        match self {
            Self::VerifyEmail => "mqv_",
            Self::ResetPassword => "mqp_",
        }
    }

    /// The studio page the link opens.
    fn page(self) -> &'static str {
        match self {
            Self::VerifyEmail => "/verify-email",
            Self::ResetPassword => "/reset-password",
        }
    }

    fn invalid(self) -> AuthError {
        let code = match self {
            Self::VerifyEmail => "verification_token_invalid",
            Self::ResetPassword => "reset_token_invalid",
        };
        AuthError::invalid(code, "the link is invalid, expired or already used")
    }
}

/// A verification or reset token as stored: only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountToken {
    pub id: String,
    pub token_hash: String,
    /// `None`: a purpose this version does not know (usable for nothing).
    pub purpose: Option<Purpose>,
    pub tenant_id: String,
    pub user_id: String,
    /// The address the link was mailed to.
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

fn new_token(purpose: Purpose) -> String {
    format!(
        "{}{}",
        purpose.prefix(),
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

/// "24 hours", "1 hour", "30 minutes".
fn lifetime(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs >= 3600 && secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else {
        plural((secs / 60).max(1), "minute")
    }
}

/// The message carrying a link.
fn compose(purpose: Purpose, user: &User, link: &str, ttl_secs: i64) -> Mail {
    let lifetime = lifetime(ttl_secs);
    let (subject, text) = match purpose {
        Purpose::VerifyEmail => (
            "Verify your e-mail address for Marquee",
            format!(
                "Hello,\n\nplease confirm that {email} is your address by opening this \
                 link:\n\n{link}\n\nThe link works once and expires in {lifetime}. If you did \
                 not create a Marquee account, ignore this message.\n",
                email = user.email,
            ),
        ),
        Purpose::ResetPassword => (
            "Reset your Marquee password",
            format!(
                "Hello,\n\nsomeone (we hope you) asked to reset the password of the \
                 Marquee account {email}. Choose a new one here:\n\n{link}\n\nThe link works \
                 once and expires in {lifetime}. Resetting signs you out everywhere. If you \
                 did not ask, ignore this message: your password stays as it is.\n",
                email = user.email,
            ),
        ),
    };
    Mail {
        to: user.email.clone(),
        subject: subject.to_string(),
        text,
    }
}

impl Auth {
    /// Mails a verification link to a new user. Never fails the caller: a failure is
    /// logged (the user can ask for another link).
    pub(crate) async fn send_verification(&self, user: &User, context: &RequestContext) {
        match self.issue_and_mail(user, Purpose::VerifyEmail).await {
            Ok(()) => {
                self.audit_account(
                    user,
                    action::VERIFICATION_SENT,
                    outcome::SUCCESS,
                    context,
                    "",
                )
                .await
            }
            Err(error) => {
                tracing::warn!(%error, user.id = %user.id, "no verification link could be issued")
            }
        }
    }

    /// Mails a new verification link to the signed-in user, at most one per
    /// `mail.resend_secs` (`MailRecentlySent` otherwise). Nothing is sent when the
    /// address is verified already.
    pub async fn resend_verification(
        &self,
        tenant_id: &str,
        user_id: &str,
        context: &RequestContext,
    ) -> Result<()> {
        let user = store::users::find(&self.db, tenant_id, user_id)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        if let Some(wait) = self.too_soon(&user, Purpose::VerifyEmail).await? {
            return Err(AuthError::MailRecentlySent {
                retry_after_secs: wait,
            });
        }
        self.issue_and_mail(&user, Purpose::VerifyEmail).await?;
        self.audit_account(
            &user,
            action::VERIFICATION_SENT,
            outcome::SUCCESS,
            context,
            "resent",
        )
        .await;
        Ok(())
    }

    /// Verifies the address a link was mailed to; the user as they are now.
    pub async fn verify_email(&self, presented: &str, context: &RequestContext) -> Result<User> {
        let purpose = Purpose::VerifyEmail;
        let token = self.usable_token(presented, purpose).await?;
        let now = Utc::now();
        let txn = store::begin(&self.db).await?;
        let Some(user) = store::users::find(&txn, &token.tenant_id, &token.user_id).await? else {
            return Err(purpose.invalid());
        };
        // A link for an address the user no longer has proves nothing.
        if user.email != token.email || !store::accounts::consume(&txn, &token.id, now).await? {
            return Err(purpose.invalid());
        }
        store::users::mark_email_verified(&txn, &user.tenant_id, &user.id, &user.email, now)
            .await?;
        store::accounts::spend_all(&txn, &user.tenant_id, &user.id, purpose, now).await?;
        txn.commit().await?;
        self.forget_user(&user).await;
        self.audit_account(&user, action::EMAIL_VERIFIED, outcome::SUCCESS, context, "")
            .await;
        let verified_at = user.email_verified_at.unwrap_or(now);
        Ok(User {
            email_verified_at: Some(verified_at),
            ..user
        })
    }

    /// Asks for a reset link. Only a malformed address or tenant id is refused; whether
    /// the account exists is never told, by the answer or by its time: the lookup and
    /// the mail happen in the background.
    pub async fn forgot_password(
        &self,
        email: &str,
        tenant_id: Option<&str>,
        context: &RequestContext,
    ) -> Result<()> {
        let email = Email::parse(email)?;
        if let Some(id) = tenant_id.map(str::trim).filter(|id| !id.is_empty()) {
            marquee_platform::input::id("tenant_id", id)?;
        }
        let auth = self.clone();
        let tenant_id = tenant_id.map(str::to_string);
        let context = context.clone();
        tokio::spawn(async move {
            if let Err(error) = auth
                .send_password_reset(&email, tenant_id.as_deref(), &context)
                .await
            {
                tracing::warn!(%error, "a password reset could not be handled");
            }
        });
        Ok(())
    }

    async fn send_password_reset(
        &self,
        email: &Email,
        tenant_id: Option<&str>,
        context: &RequestContext,
    ) -> Result<()> {
        let user = match self.resolve_tenant(tenant_id).await {
            Ok(tenant) => store::users::find_by_email(&self.db, &tenant.id, email.as_str()).await?,
            Err(AuthError::NotFound(_)) => None,
            Err(error) => return Err(error),
        };
        let Some(user) = user else {
            tracing::info!("password reset asked for an unknown account");
            return Ok(());
        };
        if self
            .too_soon(&user, Purpose::ResetPassword)
            .await?
            .is_some()
        {
            self.audit_account(
                &user,
                action::PASSWORD_RESET_REQUESTED,
                outcome::DENIED,
                context,
                "a link was sent moments ago",
            )
            .await;
            return Ok(());
        }
        self.issue_and_mail(&user, Purpose::ResetPassword).await?;
        self.audit_account(
            &user,
            action::PASSWORD_RESET_REQUESTED,
            outcome::SUCCESS,
            context,
            "",
        )
        .await;
        Ok(())
    }

    /// Sets a new password with a reset link: the link and every other reset link of
    /// the user are spent, the address counts as verified, and every session of the
    /// user ends.
    pub async fn reset_password(
        &self,
        presented: &str,
        new_password: &str,
        context: &RequestContext,
    ) -> Result<()> {
        let purpose = Purpose::ResetPassword;
        let token = self.usable_token(presented, purpose).await?;
        let Some(user) = store::users::find(&self.db, &token.tenant_id, &token.user_id).await?
        else {
            return Err(purpose.invalid());
        };
        if user.email != token.email {
            return Err(purpose.invalid());
        }
        // The registration policy; a refused password leaves the link usable.
        let email = Email::parse(&user.email)?;
        password::check_policy(new_password, &email, self.settings.password_min_length)?;
        let new_password = new_password.to_string();
        let hash = tokio::task::spawn_blocking(move || password::hash(&new_password))
            .await
            .map_err(|error| AuthError::Internal(error.to_string()))??;

        let now = Utc::now();
        let txn = store::begin(&self.db).await?;
        if !store::accounts::consume(&txn, &token.id, now).await? {
            return Err(purpose.invalid());
        }
        store::users::set_password_hash(&txn, &user.tenant_id, &user.id, &hash).await?;
        store::users::mark_email_verified(&txn, &user.tenant_id, &user.id, &user.email, now)
            .await?;
        store::accounts::spend_all(&txn, &user.tenant_id, &user.id, purpose, now).await?;
        let revoked = self
            .revoke_all_for_user(&txn, &user.tenant_id, &user.id)
            .await?;
        txn.commit().await?;
        self.forget_user(&user).await;
        self.audit_account(
            &user,
            action::PASSWORD_RESET,
            outcome::SUCCESS,
            context,
            &format!("revoked {revoked} refresh tokens"),
        )
        .await;
        Ok(())
    }

    /// The stored token behind a presented one, if it is of this purpose, unused and
    /// unexpired; `<purpose>_token_invalid` otherwise (the same for every reason).
    async fn usable_token(&self, presented: &str, purpose: Purpose) -> Result<AccountToken> {
        let shaped =
            presented.len() <= fields::MAX_TOKEN_CHARS && presented.starts_with(purpose.prefix());
        if !shaped {
            return Err(purpose.invalid());
        }
        let token = store::accounts::find_by_hash(&self.db, &hash_token(presented))
            .await?
            .filter(|token| {
                token.purpose == Some(purpose)
                    && token.used_at.is_none()
                    && token.expires_at > Utc::now()
            });
        token.ok_or_else(|| purpose.invalid())
    }

    /// Seconds to wait before another mail of this purpose may go to the user, if any.
    async fn too_soon(&self, user: &User, purpose: Purpose) -> Result<Option<u64>> {
        let window = self.settings.mail.resend_secs;
        if window <= 0 {
            return Ok(None);
        }
        let latest =
            store::accounts::latest_issued_at(&self.db, &user.tenant_id, &user.id, purpose).await?;
        let wait = latest
            .map(|at| (at + Duration::seconds(window) - Utc::now()).num_seconds())
            .filter(|wait| *wait > 0);
        Ok(wait.map(|wait| wait.unsigned_abs()))
    }

    /// Stores a new token and mails its link in the background.
    async fn issue_and_mail(&self, user: &User, purpose: Purpose) -> Result<()> {
        let ttl_secs = match purpose {
            Purpose::VerifyEmail => self.settings.email_verification_ttl_secs,
            Purpose::ResetPassword => self.settings.password_reset_ttl_secs,
        };
        let now = Utc::now();
        let token = new_token(purpose);
        store::accounts::delete_spent(&self.db, &user.tenant_id, &user.id, purpose, now).await?;
        store::accounts::insert(
            &self.db,
            AccountToken {
                id: uuid::Uuid::now_v7().to_string(),
                token_hash: hash_token(&token),
                purpose: Some(purpose),
                tenant_id: user.tenant_id.clone(),
                user_id: user.id.clone(),
                email: user.email.clone(),
                created_at: now,
                expires_at: now + Duration::seconds(ttl_secs),
                used_at: None,
            },
        )
        .await?;
        let link = format!(
            "{}{}?token={token}",
            self.settings.public_url(),
            purpose.page()
        );
        let mail = compose(purpose, user, &link, ttl_secs);
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            let result = mailer.send(&mail).await;
            let outcome = if result.is_ok() { "sent" } else { "failed" };
            metrics::counter!("auth_mail_total", "purpose" => purpose.as_str(), "outcome" => outcome)
                .increment(1);
            if let Err(error) = result {
                tracing::warn!(%error, purpose = purpose.as_str(), "mail not sent");
            }
        });
        Ok(())
    }

    /// Drops the cached copy of a user that changed.
    async fn forget_user(&self, user: &User) {
        self.users.forget(&user.tenant_id, &user.id).await;
    }

    async fn audit_account(
        &self,
        user: &User,
        action: &str,
        result: &str,
        context: &RequestContext,
        detail: &str,
    ) {
        self.audit(AuditEvent {
            tenant_id: &user.tenant_id,
            actor_id: &user.id,
            action,
            outcome: result,
            context,
            detail: detail.to_string(),
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::users::tests::{context, start_with};
    use crate::domain::users::{Credentials, Registration};

    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(lifetime(24 * 3600), "24 hours");
        assert_eq!(lifetime(3600), "1 hour");
        assert_eq!(lifetime(1800), "30 minutes");
        assert_eq!(lifetime(1), "1 minute");
    }

    #[test]
    fn tokens_are_random_and_say_what_they_are_for() {
        let a = new_token(Purpose::VerifyEmail);
        assert!(a.starts_with("mqv_") && a.len() == 4 + 43, "{a}");
        assert_ne!(a, new_token(Purpose::VerifyEmail));
        assert!(new_token(Purpose::ResetPassword).starts_with("mqp_"));
        for purpose in [Purpose::VerifyEmail, Purpose::ResetPassword] {
            assert_eq!(Purpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(Purpose::parse("wizard"), None);
    }

    /// The links mailed to `to` so far, oldest first, read from the mailbox.
    pub(crate) fn links(auth: &Auth, to: &str, page: &str) -> Vec<String> {
        let Some(dir) = auth.mailer.mailbox_dir() else {
            return Vec::new();
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                    .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .filter(|text| text.contains(&format!("To: {to}")))
            .filter_map(|text| {
                let needle = format!("{page}?token=");
                text.split_whitespace()
                    .find(|word| word.starts_with("http") && word.contains(&needle))
                    .map(str::to_string)
            })
            .collect()
    }

    async fn wait_for_links(auth: &Auth, to: &str, page: &str, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let found = links(auth, to, page);
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no {count} mails to {to} with {page}");
    }

    fn token_of(link: &str) -> &str {
        link.split_once("token=").unwrap().1
    }

    async fn register(auth: &Auth, email: &str) -> super::super::sessions::Session {
        auth.register(
            Registration {
                email: email.into(),
                password: "correct horse battery".into(),
                display_name: "Ada".into(),
                tenant_id: None,
                invitation: None,
            },
            &context(),
        )
        .await
        .expect("registered")
    }

    #[tokio::test]
    async fn registration_mails_a_link_that_verifies_once() {
        let test =
            start_with(|settings| settings.public_url = "https://studio.example/".into()).await;
        let auth = &test.auth;
        let session = register(auth, "ada@example.com").await;
        assert_eq!(session.user.email_verified_at, None);
        let links = wait_for_links(auth, "ada@example.com", "/verify-email", 1).await;
        assert!(
            links[0].starts_with("https://studio.example/verify-email?token=mqv_"),
            "{links:?}"
        );
        let token = token_of(&links[0]);

        // Only the hash is stored.
        let stored = store::accounts::find_by_hash(&auth.db, &hash_token(token))
            .await
            .unwrap()
            .expect("stored by hash");
        assert_ne!(stored.token_hash, token);
        assert_eq!(stored.purpose, Some(Purpose::VerifyEmail));

        let user = auth
            .verify_email(token, &context())
            .await
            .expect("verified");
        assert!(user.email_verified_at.is_some());
        let me = auth.user(&user.tenant_id, &user.id).await.unwrap();
        assert!(me.email_verified_at.is_some(), "the cache was refreshed");

        for spoiled in [token, "mqv_unknown", "mqp_wrong-purpose", ""] {
            let error = auth.verify_email(spoiled, &context()).await.unwrap_err();
            assert!(
                matches!(
                    error,
                    AuthError::Invalid {
                        code: "verification_token_invalid",
                        ..
                    }
                ),
                "{spoiled}: {error:?}"
            );
        }
        // Verified: a resend sends nothing.
        auth.resend_verification(&user.tenant_id, &user.id, &context())
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(
            super::tests::links(auth, "ada@example.com", "/verify-email").len(),
            1
        );
    }

    #[tokio::test]
    async fn resending_is_limited_and_expired_links_are_refused() {
        let test = start_with(|settings| {
            settings.mail.resend_secs = 3600;
            settings.email_verification_ttl_secs = -1;
        })
        .await;
        let auth = &test.auth;
        let session = register(auth, "grace@example.com").await;
        let links = wait_for_links(auth, "grace@example.com", "/verify-email", 1).await;
        let error = auth
            .verify_email(token_of(&links[0]), &context())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "verification_token_invalid",
                ..
            }
        ));
        let error = auth
            .resend_verification(&session.user.tenant_id, &session.user.id, &context())
            .await
            .unwrap_err();
        let AuthError::MailRecentlySent { retry_after_secs } = error else {
            panic!("{error:?}");
        };
        assert!(retry_after_secs > 3500 && retry_after_secs <= 3600);
    }

    #[tokio::test]
    async fn a_reset_sets_the_password_spends_the_link_and_ends_every_session() {
        let test = start_with(|_| {}).await;
        let auth = &test.auth;
        let first = register(auth, "alan@example.com").await;
        let second = auth
            .login(
                Credentials {
                    email: "alan@example.com".into(),
                    password: "correct horse battery".into(),
                    tenant_id: None,
                },
                &context(),
            )
            .await
            .unwrap();

        auth.forgot_password("Alan@Example.com", None, &context())
            .await
            .unwrap();
        // Unknown accounts and tenants answer alike, and get no mail.
        auth.forgot_password("nobody@example.com", None, &context())
            .await
            .unwrap();
        auth.forgot_password("alan@example.com", Some("no-such-tenant"), &context())
            .await
            .unwrap();
        assert!(matches!(
            auth.forgot_password("not an address", None, &context())
                .await,
            Err(AuthError::Invalid {
                code: "invalid_email",
                ..
            })
        ));
        let links = wait_for_links(auth, "alan@example.com", "/reset-password", 1).await;
        let token = token_of(&links[0]).to_string();
        // A second request moments later mails nothing.
        auth.forgot_password("alan@example.com", None, &context())
            .await
            .unwrap();

        // The policy applies and a refused password leaves the link usable.
        let error = auth
            .reset_password(&token, "alan@example.com", &context())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "weak_password",
                ..
            }
        ));
        let error = auth
            .reset_password(&token, "short", &context())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "weak_password",
                ..
            }
        ));

        auth.reset_password(&token, "a brand new passphrase", &context())
            .await
            .expect("reset");
        let error = auth
            .reset_password(&token, "yet another passphrase", &context())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "reset_token_invalid",
                ..
            }
        ));

        for session in [&first, &second] {
            assert!(matches!(
                auth.refresh(&session.refresh_token, &context()).await,
                Err(AuthError::RefreshTokenInvalid)
            ));
        }
        let login = |password: &str| Credentials {
            email: "alan@example.com".into(),
            password: password.into(),
            tenant_id: None,
        };
        assert!(matches!(
            auth.login(login("correct horse battery"), &context()).await,
            Err(AuthError::InvalidCredentials)
        ));
        let session = auth
            .login(login("a brand new passphrase"), &context())
            .await
            .expect("the new password works");
        assert!(
            session.user.email_verified_at.is_some(),
            "the reset link proved the address"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(links.len(), 1);
        assert_eq!(
            super::tests::links(auth, "alan@example.com", "/reset-password").len(),
            1,
            "one mail within resend_secs"
        );
        assert!(super::tests::links(auth, "nobody@example.com", "/reset-password").is_empty());
    }

    #[tokio::test]
    async fn expired_reset_links_are_refused() {
        let test = start_with(|settings| settings.password_reset_ttl_secs = -1).await;
        let auth = &test.auth;
        register(auth, "kay@example.com").await;
        auth.forgot_password("kay@example.com", None, &context())
            .await
            .unwrap();
        let links = wait_for_links(auth, "kay@example.com", "/reset-password", 1).await;
        let error = auth
            .reset_password(token_of(&links[0]), "a brand new passphrase", &context())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "reset_token_invalid",
                ..
            }
        ));
    }
}
