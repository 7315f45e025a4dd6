//! Migration 0003: media metadata on assets — duration, page count, text excerpt —
//! nullable, so existing rows (and kinds nothing is extracted from) stay valid.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct M0003MediaMetadata;

impl MigrationName for M0003MediaMetadata {
    fn name(&self) -> &str {
        "m0003_media_metadata"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003MediaMetadata {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            big_integer_null(Assets::DurationMs),
            integer_null(Assets::PageCount),
            text_null(Assets::TextExcerpt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Assets::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Assets::TextExcerpt, Assets::PageCount, Assets::DurationMs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Assets::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    DurationMs,
    PageCount,
    TextExcerpt,
}
