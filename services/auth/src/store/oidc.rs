//! Pending external sign-ins and external identity links. A pending sign-in is taken
//! with a conditional delete: of two completions with one state, one wins.

use super::entities::{external_identity, oidc_sign_in};
use crate::domain::oidc::{ExternalIdentity, PendingSignIn};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

impl From<oidc_sign_in::Model> for PendingSignIn {
    fn from(model: oidc_sign_in::Model) -> Self {
        Self {
            state_hash: model.state_hash,
            provider: model.provider,
            nonce: model.nonce,
            code_verifier: model.code_verifier,
            redirect_uri: model.redirect_uri,
            created_at: model.created_at,
            expires_at: model.expires_at,
        }
    }
}

impl From<external_identity::Model> for ExternalIdentity {
    fn from(model: external_identity::Model) -> Self {
        Self {
            id: model.id,
            provider: model.provider,
            subject: model.subject,
            user_id: model.user_id,
            tenant_id: model.tenant_id,
            email: model.email,
            created_at: model.created_at,
        }
    }
}

pub async fn insert_pending(
    db: &impl ConnectionTrait,
    pending: PendingSignIn,
) -> Result<(), DbErr> {
    oidc_sign_in::ActiveModel {
        state_hash: Set(pending.state_hash),
        provider: Set(pending.provider),
        nonce: Set(pending.nonce),
        code_verifier: Set(pending.code_verifier),
        redirect_uri: Set(pending.redirect_uri),
        created_at: Set(pending.created_at),
        expires_at: Set(pending.expires_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Removes and returns the pending sign-in with this state hash; `None` when there is
/// none, or when a concurrent call took it first.
pub async fn take_pending(
    db: &impl ConnectionTrait,
    state_hash: &str,
) -> Result<Option<PendingSignIn>, DbErr> {
    let Some(row) = oidc_sign_in::Entity::find_by_id(state_hash.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = oidc_sign_in::Entity::delete_many()
        .filter(oidc_sign_in::Column::StateHash.eq(state_hash))
        .exec(db)
        .await?;
    Ok((deleted.rows_affected == 1).then(|| row.into()))
}

/// Deletes sign-ins that expired before `now`; returns how many.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let deleted = oidc_sign_in::Entity::delete_many()
        .filter(oidc_sign_in::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// The pending sign-in with this state hash, left in place (for tests and diagnostics).
pub async fn find_pending(
    db: &impl ConnectionTrait,
    state_hash: &str,
) -> Result<Option<PendingSignIn>, DbErr> {
    let row = oidc_sign_in::Entity::find_by_id(state_hash.to_string())
        .one(db)
        .await?;
    Ok(row.map(PendingSignIn::from))
}

pub async fn find_identity(
    db: &impl ConnectionTrait,
    provider: &str,
    subject: &str,
) -> Result<Option<ExternalIdentity>, DbErr> {
    let row = external_identity::Entity::find()
        .filter(external_identity::Column::Provider.eq(provider))
        .filter(external_identity::Column::Subject.eq(subject))
        .one(db)
        .await?;
    Ok(row.map(ExternalIdentity::from))
}

/// A user's links, oldest first.
pub async fn identities_of(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
) -> Result<Vec<ExternalIdentity>, DbErr> {
    let rows = external_identity::Entity::find()
        .filter(external_identity::Column::TenantId.eq(tenant_id))
        .filter(external_identity::Column::UserId.eq(user_id))
        .order_by_asc(external_identity::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(ExternalIdentity::from).collect())
}

/// Inserts a link; a unique violation when the (provider, subject) is linked already.
pub async fn insert_identity(
    db: &impl ConnectionTrait,
    identity: ExternalIdentity,
) -> Result<(), DbErr> {
    external_identity::ActiveModel {
        id: Set(identity.id),
        provider: Set(identity.provider),
        subject: Set(identity.subject),
        user_id: Set(identity.user_id),
        tenant_id: Set(identity.tenant_id),
        email: Set(identity.email),
        created_at: Set(identity.created_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}
