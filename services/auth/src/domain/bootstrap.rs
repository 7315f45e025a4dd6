//! The first admin: created in the default tenant at start-up from
//! `MARQUEE_BOOTSTRAP_ADMIN_EMAIL` / `MARQUEE_BOOTSTRAP_ADMIN_PASSWORD` when absent.

use super::email::Email;
use super::{Auth, password};
use crate::error::{AuthError, Result};
use crate::store;
use marquee_platform::Role;
use secrecy::ExposeSecret;

impl Auth {
    pub(crate) async fn bootstrap_admin(&self) -> Result<()> {
        let (Some(email), Some(secret)) = (
            self.settings
                .bootstrap_admin_email
                .as_deref()
                .filter(|e| !e.is_empty()),
            self.settings.bootstrap_admin_password.as_ref(),
        ) else {
            return Ok(());
        };
        let email = Email::parse(email)?;
        let tenant = self.ensure_default_tenant().await?;
        if store::users::find_by_email(&self.db, &tenant.id, email.as_str())
            .await?
            .is_some()
        {
            return Ok(());
        }
        let password = secret.expose_secret();
        password::check_policy(password, &email, self.settings.password_min_length)?;
        match self
            .create_user(
                &tenant.id,
                &email,
                password,
                "Administrator",
                &[Role::Admin, Role::Moderator, Role::Creator],
            )
            .await
        {
            Ok(user) => {
                // The operator vouches for the address; no link is mailed.
                store::users::mark_email_verified(
                    &self.db,
                    &user.tenant_id,
                    &user.id,
                    &user.email,
                    chrono::Utc::now(),
                )
                .await?;
                tracing::info!(user.id = %user.id, email = %user.email, "bootstrap admin created");
                Ok(())
            }
            // Another replica created it at the same moment.
            Err(AuthError::EmailTaken) => Ok(()),
            Err(error) => Err(error),
        }
    }
}
