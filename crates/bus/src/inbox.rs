//! The inbox: which events a consumer has applied, recorded in the same transaction as
//! the effect, so a redelivered event has no second effect.
//!
//! ```ignore
//! Consumer::new("tagging", move |envelope| {
//!     let db = db.clone();
//!     async move {
//!         let Some(txn) = marquee_bus::inbox::claim(&db, "tagging", &envelope).await? else {
//!             return Ok(()); // already applied
//!         };
//!         apply_the_effect(&txn, &envelope).await?;
//!         txn.commit().await?;
//!         Ok(())
//!     }
//! })
//! ```

use chrono::{DateTime, Utc};
use marquee_proto::events::v1::Envelope;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set, TryInsertResult,
};

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// An event a consumer has applied.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub event_type: String,
        pub processed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records `envelope` as applied by `consumer` inside `txn`. `false` means it already
/// was: skip the effect. On PostgreSQL a concurrent claim of the same event waits for
/// this transaction and then sees it.
pub async fn record(
    txn: &impl ConnectionTrait,
    consumer: &str,
    envelope: &Envelope,
) -> Result<bool, DbErr> {
    let inserted = entity::Entity::insert(entity::ActiveModel {
        consumer: Set(consumer.to_string()),
        event_id: Set(envelope.id.clone()),
        event_type: Set(envelope.r#type.clone()),
        processed_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([entity::Column::Consumer, entity::Column::EventId])
    .exec_without_returning(txn)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0))
}

/// Begins a transaction with the event recorded as applied, or `None` if it already
/// was. Apply the effect on the transaction and commit it; dropping it instead (an
/// error) rolls both back, and the event will be handled again.
pub async fn claim(
    db: &DatabaseConnection,
    consumer: &str,
    envelope: &Envelope,
) -> Result<Option<DatabaseTransaction>, DbErr> {
    let txn = marquee_db::begin_write(db).await?;
    if record(&txn, consumer, envelope).await? {
        Ok(Some(txn))
    } else {
        txn.rollback().await?;
        Ok(None)
    }
}

/// Whether `consumer` has applied the event.
pub async fn contains(
    db: &impl ConnectionTrait,
    consumer: &str,
    event_id: &str,
) -> Result<bool, DbErr> {
    Ok(
        entity::Entity::find_by_id((consumer.to_string(), event_id.to_string()))
            .one(db)
            .await?
            .is_some(),
    )
}

/// Forgets entries older than `before`. Keep them longer than any redelivery can take
/// (retries plus time parked in the dead-letter queue).
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(entity::Entity::delete_many()
        .filter(entity::Column::ProcessedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
