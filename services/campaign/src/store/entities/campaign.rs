use sea_orm::entity::prelude::*;

/// A campaign: the brief and everything generated from it except posts.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub name: String,
    /// `domain::brief::Brief`.
    pub brief: Json,
    /// `domain::analysis::Analysis`, once analysed.
    pub analysis: Option<Json>,
    /// `Vec<domain::campaigns::Theme>`.
    pub themes: Json,
    /// `Vec<domain::campaigns::Hashtag>`.
    pub hashtags: Json,
    #[sea_orm(column_type = "Text")]
    pub guidance: String,
    /// `Vec<domain::campaigns::ChatMessage>`.
    pub chat: Json,
    pub status: String,
    pub template_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
