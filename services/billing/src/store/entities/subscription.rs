use sea_orm::Iterable;
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

/// A subscription's status: Stripe's values (the local provider uses `active`). Stored,
/// shown and published as these exact strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SubscriptionStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "trialing")]
    Trialing,
    #[sea_orm(string_value = "past_due")]
    PastDue,
    #[sea_orm(string_value = "unpaid")]
    Unpaid,
    #[sea_orm(string_value = "canceled")]
    Canceled,
    #[sea_orm(string_value = "incomplete")]
    Incomplete,
    #[sea_orm(string_value = "incomplete_expired")]
    IncompleteExpired,
    #[sea_orm(string_value = "paused")]
    Paused,
}

impl SubscriptionStatus {
    /// The stored (and published) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Trialing => "trialing",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Canceled => "canceled",
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Paused => "paused",
        }
    }

    /// The status named `name`, if it is one of these.
    pub fn parse(name: &str) -> Option<Self> {
        Self::iter().find(|status| status.as_str() == name)
    }
}

impl std::fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for SubscriptionStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Which provider runs subscriptions. Stored as `local` or `stripe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Provider {
    /// No Stripe keys: plan changes apply at once, usage is counted locally.
    #[sea_orm(string_value = "local")]
    Local,
    #[sea_orm(string_value = "stripe")]
    Stripe,
}

impl Provider {
    /// The stored (and published) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Stripe => "stripe",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Provider {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ActiveEnum;

    /// `as_str` and the stored value are the same strings, for every variant.
    #[test]
    fn names_match_the_stored_values() {
        for status in SubscriptionStatus::iter() {
            assert_eq!(status.as_str(), status.to_value());
            assert_eq!(SubscriptionStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                SubscriptionStatus::try_from_value(&status.to_value()).unwrap(),
                status
            );
        }
        for provider in Provider::iter() {
            assert_eq!(provider.as_str(), provider.to_value());
            assert_eq!(
                Provider::try_from_value(&provider.to_value()).unwrap(),
                provider
            );
        }
        assert_eq!(SubscriptionStatus::parse("something_new"), None);
    }
}
