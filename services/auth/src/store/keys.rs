use super::entities::signing_key;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect, Set,
};

/// The newest `limit` keys, newest first.
pub async fn newest(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .limit(limit)
        .all(db)
        .await
}

pub async fn insert(db: &impl ConnectionTrait, model: signing_key::Model) -> Result<(), DbErr> {
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
