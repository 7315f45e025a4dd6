//! Refresh-token rows. Rotation and reuse detection rely on `mark_used` being a
//! conditional update: of two concurrent refreshes with the same token, one wins.

use super::entities::refresh_token;
use crate::domain::sessions::RefreshToken;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

impl From<refresh_token::Model> for RefreshToken {
    fn from(model: refresh_token::Model) -> Self {
        Self {
            id: model.id,
            family_id: model.family_id,
            user_id: model.user_id,
            tenant_id: model.tenant_id,
            token_hash: model.token_hash,
            created_at: model.created_at,
            expires_at: model.expires_at,
            used_at: model.used_at,
            revoked_at: model.revoked_at,
        }
    }
}

impl From<RefreshToken> for refresh_token::Model {
    fn from(token: RefreshToken) -> Self {
        Self {
            id: token.id,
            family_id: token.family_id,
            user_id: token.user_id,
            tenant_id: token.tenant_id,
            token_hash: token.token_hash,
            created_at: token.created_at,
            expires_at: token.expires_at,
            used_at: token.used_at,
            revoked_at: token.revoked_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, token: RefreshToken) -> Result<(), DbErr> {
    let model = refresh_token::Model::from(token);
    refresh_token::ActiveModel {
        id: Set(model.id),
        family_id: Set(model.family_id),
        user_id: Set(model.user_id),
        tenant_id: Set(model.tenant_id),
        token_hash: Set(model.token_hash),
        created_at: Set(model.created_at),
        expires_at: Set(model.expires_at),
        used_at: Set(model.used_at),
        revoked_at: Set(model.revoked_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<RefreshToken>, DbErr> {
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?;
    Ok(row.map(RefreshToken::from))
}

/// Marks an unused token used; false when it was already used (a concurrent refresh or
/// a replay).
pub async fn mark_used(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every live refresh token of a user, whatever the family (every session).
pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::TenantId.eq(tenant_id))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Revokes every live token of a family (reuse detected, or logout).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
