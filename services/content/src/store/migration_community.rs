//! Migration 0002: the community — creator profiles, follows, comments, comment
//! reports, and the rate-limit log shared by every replica.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct M0002Community;

impl MigrationName for M0002Community {
    fn name(&self) -> &str {
        "m0002_community"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Community {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CreatorProfiles::Table)
                    .col(string(CreatorProfiles::TenantId))
                    .col(string(CreatorProfiles::UserId))
                    .col(string(CreatorProfiles::DisplayName))
                    .col(text(CreatorProfiles::Bio))
                    .col(string_null(CreatorProfiles::AvatarAssetId))
                    .col(timestamp_with_time_zone(CreatorProfiles::CreatedAt))
                    .col(timestamp_with_time_zone(CreatorProfiles::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CreatorProfiles::TenantId)
                            .col(CreatorProfiles::UserId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Follows::Table)
                    .col(string(Follows::Id).primary_key())
                    .col(string(Follows::TenantId))
                    .col(string(Follows::FollowerId))
                    .col(string(Follows::CreatorId))
                    .col(timestamp_with_time_zone(Follows::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("follows_pair_key")
                    .table(Follows::Table)
                    .col(Follows::TenantId)
                    .col(Follows::FollowerId)
                    .col(Follows::CreatorId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("follows_creator_idx")
                    .table(Follows::Table)
                    .col(Follows::TenantId)
                    .col(Follows::CreatorId)
                    .col(Follows::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(string(Comments::Id).primary_key())
                    .col(string(Comments::TenantId))
                    .col(string(Comments::AssetId))
                    .col(string(Comments::AuthorId))
                    .col(text(Comments::Body))
                    .col(string(Comments::BodyHash))
                    .col(string(Comments::Status))
                    .col(integer(Comments::ReportCount))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .col(timestamp_with_time_zone(Comments::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comments_asset_idx")
                    .table(Comments::Table)
                    .col(Comments::TenantId)
                    .col(Comments::AssetId)
                    .col(Comments::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comments_author_hash_idx")
                    .table(Comments::Table)
                    .col(Comments::TenantId)
                    .col(Comments::AuthorId)
                    .col(Comments::BodyHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommentReports::Table)
                    .col(string(CommentReports::Id).primary_key())
                    .col(string(CommentReports::TenantId))
                    .col(string(CommentReports::CommentId))
                    .col(string(CommentReports::ReporterId))
                    .col(text(CommentReports::Reason))
                    .col(timestamp_with_time_zone(CommentReports::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comment_reports_once_key")
                    .table(CommentReports::Table)
                    .col(CommentReports::TenantId)
                    .col(CommentReports::CommentId)
                    .col(CommentReports::ReporterId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RateEvents::Table)
                    .col(string(RateEvents::Id).primary_key())
                    .col(string(RateEvents::TenantId))
                    .col(string(RateEvents::UserId))
                    .col(string(RateEvents::Action))
                    .col(timestamp_with_time_zone(RateEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rate_events_user_idx")
                    .table(RateEvents::Table)
                    .col(RateEvents::TenantId)
                    .col(RateEvents::UserId)
                    .col(RateEvents::Action)
                    .col(RateEvents::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RateEvents::Table.into_iden(),
            CommentReports::Table.into_iden(),
            Comments::Table.into_iden(),
            Follows::Table.into_iden(),
            CreatorProfiles::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CreatorProfiles {
    Table,
    TenantId,
    UserId,
    DisplayName,
    Bio,
    AvatarAssetId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Follows {
    Table,
    Id,
    TenantId,
    FollowerId,
    CreatorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    TenantId,
    AssetId,
    AuthorId,
    Body,
    BodyHash,
    Status,
    ReportCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CommentReports {
    Table,
    Id,
    TenantId,
    CommentId,
    ReporterId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RateEvents {
    Table,
    Id,
    TenantId,
    UserId,
    Action,
    CreatedAt,
}
