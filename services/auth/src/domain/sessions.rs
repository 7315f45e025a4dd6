//! Sessions: a short-lived access token (JWT) plus an opaque refresh token. Refresh
//! tokens are stored as hashes, rotated on every use, and grouped in families: showing
//! a used token again revokes the whole family (whoever stole it is logged out too).

use super::audit::{AuditEvent, action, outcome};
use super::tokens::Claims;
use marquee_platform::{PrincipalKind, Scope};
use super::{Auth, RequestContext, roles};
use crate::error::{AuthError, Result};
use crate::store;
use crate::store::entities::{refresh_token, user};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use sea_orm::TransactionTrait;
use sha2::{Digest, Sha256};

const REFRESH_PREFIX: &str = "mqr_";

pub struct Session {
    pub user: user::Model,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
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
    pub(crate) async fn start_session(&self, user: user::Model) -> Result<Session> {
        let family_id = uuid::Uuid::now_v7().to_string();
        self.issue_session(user, family_id, &self.db).await
    }

    async fn issue_session(
        &self,
        user: user::Model,
        family_id: String,
        db: &impl sea_orm::ConnectionTrait,
    ) -> Result<Session> {
        let now = Utc::now();
        let refresh_token = new_refresh_token();
        store::sessions::insert(
            db,
            refresh_token::Model {
                id: uuid::Uuid::now_v7().to_string(),
                family_id,
                user_id: user.id.clone(),
                tenant_id: user.tenant_id.clone(),
                token_hash: hash_token(&refresh_token),
                created_at: now,
                expires_at: now + Duration::seconds(self.settings.refresh_token_ttl_secs),
                used_at: None,
                revoked_at: None,
            },
        )
        .await?;
        let access_token = self.access_token_for(&user)?;
        Ok(Session {
            user,
            access_token,
            refresh_token,
            expires_in: self.settings.access_token_ttl_secs,
        })
    }

    fn access_token_for(&self, user: &user::Model) -> Result<String> {
        let now = Utc::now().timestamp();
        self.keys.sign(&Claims {
            iss: self.settings.jwt_issuer.clone(),
            aud: self.settings.jwt_audience.clone(),
            sub: user.id.clone(),
            tid: user.tenant_id.clone(),
            roles: roles::split(&user.roles),
            scope: Scope::join(&Scope::ALL),
            exp: now + self.settings.access_token_ttl_secs,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            principal: PrincipalKind::User,
            env: None,
            rate_tier: None,
        })
    }

    /// Exchanges a refresh token for a new session in the same family.
    pub async fn refresh(&self, presented: &str, context: &RequestContext) -> Result<Session> {
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
        let txn = self.db.begin().await?;
        if !store::sessions::mark_used(&txn, &token.id, now).await? {
            // Used before: a replay, maybe by a thief. Revoke the family.
            store::sessions::revoke_family(&txn, &token.family_id, now).await?;
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
        let session = self
            .issue_session(user, token.family_id.clone(), &txn)
            .await?;
        txn.commit().await?;
        self.audit_token(&token, action::REFRESH, outcome::SUCCESS, context, "")
            .await;
        Ok(session)
    }

    async fn audit_token(
        &self,
        token: &refresh_token::Model,
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
        let Some(token) = store::sessions::find_by_hash(&self.db, &hash_token(presented)).await?
        else {
            return Ok(());
        };
        store::sessions::revoke_family(&self.db, &token.family_id, Utc::now()).await?;
        self.audit_token(&token, action::LOGOUT, outcome::SUCCESS, context, "")
            .await;
        Ok(())
    }
}
