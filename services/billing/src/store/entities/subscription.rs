use sea_orm::entity::prelude::*;

/// A tenant's subscription (one per tenant). No row means the free plan.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Who started it (checkout caller).
    pub user_id: String,
    /// The plan bought (entitlements may be lower while past due).
    pub plan: String,
    pub status: SubscriptionStatus,
    pub provider: Provider,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub current_period_end: Option<DateTimeUtc>,
    pub cancel_at_period_end: bool,
    pub past_due_since: Option<DateTimeUtc>,
    /// When the Stripe state in this row was fetched (the request's start). A state
    /// fetched earlier never overwrites it (workers on several replicas finishing out
    /// of order).
    pub stripe_synced_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

marquee_db::stored_enum! {
    /// A subscription's status: Stripe's values (the local provider uses `active`). Stored,
    /// shown and published as these exact strings.
    pub enum SubscriptionStatus {
        Active = "active",
        Trialing = "trialing",
        PastDue = "past_due",
        Unpaid = "unpaid",
        Canceled = "canceled",
        Incomplete = "incomplete",
        IncompleteExpired = "incomplete_expired",
        Paused = "paused",
    }
}

marquee_db::stored_enum! {
    /// Which provider runs subscriptions. Stored as `local` or `stripe`.
    pub enum Provider {
        /// No Stripe keys: plan changes apply at once, usage is counted locally.
        Local = "local",
        Stripe = "stripe",
    }
}
