//! Queries on `signing_keys`. Private keys are stored sealed (`private_key_sealed`);
//! the plaintext column only ever holds keys written before m0006, until start-up seals
//! them ([`plaintext`], [`seal_plaintext`]).

use super::entities::signing_key;
use crate::domain::keys::SigningKey;
use marquee_platform::SecretString;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

impl From<signing_key::Model> for SigningKey {
    fn from(model: signing_key::Model) -> Self {
        Self {
            kid: model.kid,
            sealed: model.private_key_sealed.unwrap_or_default(),
            public_key: model.public_key,
            created_at: model.created_at,
        }
    }
}

/// The newest `limit` keys, newest first.
pub async fn newest(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<SigningKey>, DbErr> {
    let rows = signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(SigningKey::from).collect())
}

/// Every key (for re-wrapping after a KEK rotation), newest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<SigningKey>, DbErr> {
    newest(db, u64::MAX >> 1).await
}

pub async fn insert(db: &impl ConnectionTrait, key: SigningKey) -> Result<(), DbErr> {
    signing_key::ActiveModel {
        kid: Set(key.kid),
        private_key: Set(String::new()),
        private_key_sealed: Set(Some(key.sealed)),
        public_key: Set(key.public_key),
        created_at: Set(key.created_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Keys still stored in the clear: `(kid, PKCS#8 DER in base64)`.
pub async fn plaintext(db: &impl ConnectionTrait) -> Result<Vec<(String, SecretString)>, DbErr> {
    let rows = signing_key::Entity::find()
        .filter(signing_key::Column::PrivateKeySealed.is_null())
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.kid, SecretString::from(row.private_key)))
        .collect())
}

/// Stores a plaintext key sealed and empties its plaintext column, unless another
/// replica did it first. Returns whether this call did it.
pub async fn seal_plaintext(
    db: &impl ConnectionTrait,
    kid: &str,
    sealed: String,
) -> Result<bool, DbErr> {
    let result = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::PrivateKeySealed, Expr::value(sealed))
        .col_expr(signing_key::Column::PrivateKey, Expr::value(String::new()))
        .filter(signing_key::Column::Kid.eq(kid))
        .filter(signing_key::Column::PrivateKeySealed.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Replaces a key's sealed value (re-wrapped under a new KEK) if it is still `old`.
pub async fn replace_sealed(
    db: &impl ConnectionTrait,
    kid: &str,
    old: &str,
    new: String,
) -> Result<bool, DbErr> {
    let result = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::PrivateKeySealed, Expr::value(new))
        .filter(signing_key::Column::Kid.eq(kid))
        .filter(signing_key::Column::PrivateKeySealed.eq(old))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
