//! E-mail verification and password-reset tokens. Consuming one is a conditional update:
//! of two concurrent uses, one wins.

use super::entities::account_token;
use crate::domain::accounts::{AccountToken, Purpose};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

impl From<account_token::Model> for AccountToken {
    fn from(model: account_token::Model) -> Self {
        Self {
            id: model.id,
            token_hash: model.token_hash,
            // An unknown purpose (a newer auth's) can be used for nothing here.
            purpose: Purpose::parse(&model.purpose),
            tenant_id: model.tenant_id,
            user_id: model.user_id,
            email: model.email,
            created_at: model.created_at,
            expires_at: model.expires_at,
            used_at: model.used_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, token: AccountToken) -> Result<(), DbErr> {
    account_token::ActiveModel {
        id: Set(token.id),
        token_hash: Set(token.token_hash),
        purpose: Set(token
            .purpose
            .map(Purpose::as_str)
            .unwrap_or_default()
            .to_string()),
        tenant_id: Set(token.tenant_id),
        user_id: Set(token.user_id),
        email: Set(token.email),
        created_at: Set(token.created_at),
        expires_at: Set(token.expires_at),
        used_at: Set(token.used_at),
    }
    .insert(db)
    .await
    .map(drop)
}

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<AccountToken>, DbErr> {
    let row = account_token::Entity::find()
        .filter(account_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?;
    Ok(row.map(AccountToken::from))
}

/// Marks an unused, unexpired token used; false when it was used (or expired) already.
pub async fn consume(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::Id.eq(id))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// When the user's newest token of this purpose was made.
pub async fn latest_issued_at(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    purpose: Purpose,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let row = account_token::Entity::find()
        .filter(account_token::Column::TenantId.eq(tenant_id))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .order_by_desc(account_token::Column::CreatedAt)
        .one(db)
        .await?;
    Ok(row.map(|row| row.created_at))
}

/// Ends every unused token of this purpose the user holds (a reset done, or a new
/// link superseding the old ones); returns how many.
pub async fn spend_all(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::TenantId.eq(tenant_id))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes the user's tokens of this purpose that can never be used again (used or
/// expired before `before`), so rows do not pile up.
pub async fn delete_spent(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    purpose: Purpose,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = account_token::Entity::delete_many()
        .filter(account_token::Column::TenantId.eq(tenant_id))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .filter(
            Condition::any()
                .add(account_token::Column::UsedAt.lt(before))
                .add(account_token::Column::ExpiresAt.lt(before)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
