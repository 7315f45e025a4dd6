use sea_orm::entity::prelude::*;

/// Failed sign-ins to one account from one source (a client IP, or an IPv6 /64), the
/// wait they impose on that source, and when the source last signed into the account.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "login_sources")]
pub struct Model {
    /// `account:<tenant>:<email>`, as the account's key in `login_throttle`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    pub failures: i32,
    pub last_failure_at: Option<DateTimeUtc>,
    /// The source's next attempt at this account waits until then.
    pub locked_until: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
