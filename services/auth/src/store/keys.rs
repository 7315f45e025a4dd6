use super::entities::signing_key;
use crate::domain::keys::SigningKey;
use marquee_platform::{ExposeSecret, SecretString};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect, Set,
};

impl From<signing_key::Model> for SigningKey {
    fn from(model: signing_key::Model) -> Self {
        Self {
            kid: model.kid,
            private_key: SecretString::from(model.private_key),
            public_key: model.public_key,
            created_at: model.created_at,
        }
    }
}

impl From<SigningKey> for signing_key::Model {
    fn from(key: SigningKey) -> Self {
        Self {
            kid: key.kid,
            private_key: key.private_key.expose_secret().to_string(),
            public_key: key.public_key,
            created_at: key.created_at,
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

pub async fn insert(db: &impl ConnectionTrait, key: SigningKey) -> Result<(), DbErr> {
    let model = signing_key::Model::from(key);
    signing_key::ActiveModel {
        kid: Set(model.kid),
        private_key: Set(model.private_key),
        public_key: Set(model.public_key),
        created_at: Set(model.created_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}
