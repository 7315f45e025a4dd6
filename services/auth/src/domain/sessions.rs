//! Sessions: a short-lived access token (JWT) plus an opaque refresh token. Refresh
//! tokens are stored as hashes, rotated on every use, and grouped in families: showing
//! a used token again revokes the whole family (whoever stole it is logged out too).

use super::audit::{AuditEvent, action, outcome};
use super::tokens::Claims;
use super::users::User;
use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use marquee_platform::{PrincipalKind, Scope};
use sha2::{Digest, Sha256};

const REFRESH_PREFIX: &str = "mqr_";

fn account_disabled() -> AuthError {
    AuthError::Refused {
        code: "account_disabled",
        message: "this account is disabled",
    }
}

pub struct Session {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// A refresh token as stored: only its hash. Each login starts a family; each refresh
/// marks the presented token used and adds its successor to the family.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_refresh_token() -> String {
    format!(
        "{REFRESH_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

impl Auth {
    /// Starts a new session (and refresh-token family) for a signed-in user.
    /// Refused for a disabled user or tenant, whatever the way in (password, provider,
    /// reset).
    pub(crate) async fn start_session(&self, user: User) -> Result<Session> {
        if user.disabled_at.is_some() {
            return Err(account_disabled());
        }
        self.ensure_tenant_enabled(&user.tenant_id).await?;
        let family_id = uuid::Uuid::now_v7().to_string();
        let (refresh_token, row) = self.refresh_token_for(&user, family_id.clone());
        store::sessions::insert(&self.db, row).await?;
        self.finish_session(user, &family_id, refresh_token)
    }

    /// A fresh refresh token in `family_id`, and the row that stores its hash.
    fn refresh_token_for(&self, user: &User, family_id: String) -> (String, RefreshToken) {
        let now = Utc::now();
        let refresh_token = new_refresh_token();
        let row = RefreshToken {
            id: uuid::Uuid::now_v7().to_string(),
            family_id,
            user_id: user.id.clone(),
            tenant_id: user.tenant_id.clone(),
            token_hash: hash_token(&refresh_token),
            created_at: now,
            expires_at: now + Duration::seconds(self.settings.refresh_token_ttl_secs),
            used_at: None,
            revoked_at: None,
        };
        (refresh_token, row)
    }

    /// The session for `user` once its refresh token is stored.
    fn finish_session(
        &self,
        user: User,
        session_id: &str,
        refresh_token: String,
    ) -> Result<Session> {
        let access_token = self.access_token_for(&user, session_id)?;
        Ok(Session {
            user: user.without_password_hash(),
            access_token,
            refresh_token,
            expires_in: self.settings.access_token_ttl_secs,
        })
    }

    fn access_token_for(&self, user: &User, session_id: &str) -> Result<String> {
        let issued = Utc::now();
        let now = issued.timestamp();
        self.keys.sign(&Claims {
            iss: self.settings.jwt_issuer.clone(),
            aud: self.settings.jwt_audience.clone(),
            sub: user.id.clone(),
            tid: user.tenant_id.clone(),
            roles: user.roles.iter().map(ToString::to_string).collect(),
            scope: Scope::join(&Scope::ALL),
            exp: now + self.settings.access_token_ttl_secs,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            principal: PrincipalKind::User,
            env: None,
            rate_tier: None,
            sid: Some(session_id.to_string()),
            iat_ms: Some(issued.timestamp_millis()),
        })
    }

    /// Exchanges a refresh token for a new session in the same family.
    pub async fn refresh(&self, presented: &str, context: &RequestContext) -> Result<Session> {
        if presented.len() > marquee_platform::input::fields::MAX_TOKEN_CHARS {
            return Err(AuthError::RefreshTokenInvalid);
        }
        let now = Utc::now();
        let Some(token) = store::sessions::find_by_hash(&self.db, &hash_token(presented)).await?
        else {
            return Err(AuthError::RefreshTokenInvalid);
        };
        if token.revoked_at.is_some() || token.expires_at <= now {
            self.audit_token(
                &token,
                action::REFRESH,
                outcome::FAILURE,
                context,
                "revoked or expired",
            )
            .await;
            return Err(AuthError::RefreshTokenInvalid);
        }
        self.ensure_tenant_enabled(&token.tenant_id).await?;
        let txn = store::begin(&self.db).await?;
        if !store::sessions::mark_used(&txn, &token.id, now).await? {
            // Used before: a replay, maybe by a thief. Revoke the family, and its access
            // tokens at the gateway.
            store::sessions::revoke_family(&txn, &token.family_id, now).await?;
            self.revoke_session(&txn, &token.family_id).await?;
            txn.commit().await?;
            self.audit_token(
                &token,
                action::REFRESH_REUSE_DETECTED,
                outcome::DENIED,
                context,
                "family revoked",
            )
            .await;
            return Err(AuthError::RefreshTokenReused);
        }
        let Some(user) = store::users::find(&txn, &token.tenant_id, &token.user_id).await? else {
            txn.rollback().await?;
            return Err(AuthError::RefreshTokenInvalid);
        };
        if user.disabled_at.is_some() {
            txn.rollback().await?;
            return Err(AuthError::RefreshTokenInvalid);
        }

        let (refresh_token, row) = self.refresh_token_for(&user, token.family_id.clone());
        store::sessions::insert(&txn, row).await?;
        let session = self.finish_session(user, &token.family_id, refresh_token)?;
        txn.commit().await?;
        self.audit_token(&token, action::REFRESH, outcome::SUCCESS, context, "")
            .await;
        Ok(session)
    }

    /// Ends every session of a user (a password reset, disabling, an admin's revoke):
    /// every refresh-token family is revoked and so is every access token issued so far
    /// (the gateway refuses them), in `db` (pass the caller's transaction). Returns how
    /// many live refresh tokens were revoked.
    pub(crate) async fn revoke_all_for_user(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<u64> {
        let now = Utc::now();
        let revoked = store::sessions::revoke_all_for_user(db, tenant_id, user_id, now).await?;
        self.revoke_subject(db, user_id).await?;
        Ok(revoked)
    }

    async fn audit_token(
        &self,
        token: &RefreshToken,
        action: &str,
        result: &str,
        context: &RequestContext,
        detail: &str,
    ) {
        self.audit(AuditEvent {
            tenant_id: &token.tenant_id,
            actor_id: &token.user_id,
            action,
            outcome: result,
            context,
            detail: detail.to_string(),
        })
        .await;
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are accepted
    /// silently: logging out twice is not an error.
    pub async fn logout(&self, presented: &str, context: &RequestContext) -> Result<()> {
        if presented.len() > marquee_platform::input::fields::MAX_TOKEN_CHARS {
            return Ok(());
        }
        let Some(token) = store::sessions::find_by_hash(&self.db, &hash_token(presented)).await?
        else {
            return Ok(());
        };
        let txn = store::begin(&self.db).await?;
        store::sessions::revoke_family(&txn, &token.family_id, Utc::now()).await?;
        self.revoke_session(&txn, &token.family_id).await?;
        txn.commit().await?;
        self.audit_token(&token, action::LOGOUT, outcome::SUCCESS, context, "")
            .await;
        Ok(())
    }
}
