use sea_orm::entity::prelude::*;

/// A signal for recommendations: a user viewed or commented on an asset, or followed a
/// creator.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "interactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub kind: InteractionKind,
    pub asset_id: Option<String>,
    pub creator_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

marquee_db::stored_enum! {
    /// What a user did. Stored as these exact strings.
    pub enum InteractionKind {
        View = "view",
        Comment = "comment",
        Follow = "follow",
    }
}
