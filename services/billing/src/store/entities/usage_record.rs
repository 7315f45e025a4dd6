use sea_orm::entity::prelude::*;

/// The usage ledger: one row per usage record (a committed reservation or a report),
/// unique by identifier; rows with a meter are sent to Stripe Billing Meters.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub limit_name: String,
    pub quantity: i64,
    #[sea_orm(unique)]
    pub identifier: String,
    /// Stripe meter event name, when this usage is metered to Stripe.
    pub meter_event: Option<String>,
    pub created_at: DateTimeUtc,
    pub reported_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// After a failed send, when the next may start (exponential backoff).
    pub next_attempt_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
