//! pgvector: embeddings in a `vector(384)` column with an HNSW index (cosine), where the
//! PostgreSQL server has the extension (Cloud SQL and DigitalOcean's managed PostgreSQL
//! ship it; Debian bookworm doesn't package it). Detected at start-up; SQLite and a
//! server without it use the exact in-memory index instead.
//!
//! The column sits beside the portable `embedding` bytes (which stay the source of
//! truth: the in-memory index and a later move off pgvector read those).

use crate::domain::index::{ExactIndex, Filter, Scored, VectorSearch};
use crate::error::Result;
use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement,
    Value,
};
use std::sync::Arc;

/// Nearest-neighbour queries answered by pgvector's HNSW index; the in-memory index
/// gives each hit its title, tags and visibility.
pub struct PgVectorSearch {
    db: DatabaseConnection,
    index: Arc<ExactIndex>,
}

impl PgVectorSearch {
    /// Enables pgvector on `db` (see [`enable`]) and copies the vectors stored before.
    pub async fn enable(
        db: DatabaseConnection,
        index: Arc<ExactIndex>,
        dim: usize,
    ) -> Result<Self> {
        enable(&db, dim).await?;
        backfill(&db, dim).await?;
        Ok(Self { db, index })
    }
}

#[async_trait]
impl VectorSearch for PgVectorSearch {
    fn name(&self) -> &'static str {
        "pgvector"
    }

    async fn nearest(&self, query: &[f32], filter: &Filter, limit: usize) -> Result<Vec<Scored>> {
        let found = nearest(&self.db, query, filter, limit).await?;
        Ok(found
            .into_iter()
            .filter_map(|(asset_id, score)| {
                let (asset, _) = self.index.get(&filter.tenant_id, &asset_id)?;
                Some(Scored { asset, score })
            })
            .collect())
    }

    async fn save(
        &self,
        txn: &DatabaseTransaction,
        asset_id: &str,
        vector: Option<&[f32]>,
    ) -> Result<()> {
        Ok(set(txn, asset_id, vector).await?)
    }
}

/// Fills `embedding_vec` from the stored bytes where it is still empty (rows tagged
/// before pgvector was enabled), a page at a time.
async fn backfill(db: &DatabaseConnection, dim: usize) -> Result<(), DbErr> {
    loop {
        let rows = db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT asset_id, embedding FROM tagged_assets \
                 WHERE embedding IS NOT NULL AND embedding_vec IS NULL LIMIT 500",
            ))
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in rows {
            let asset_id: String = row.try_get("", "asset_id")?;
            let bytes: Vec<u8> = row.try_get("", "embedding")?;
            match crate::domain::vector::from_bytes(&bytes, dim) {
                Some(vector) => set(db, &asset_id, Some(&vector)).await?,
                // Not a vector of this model: leave it out of pgvector for good.
                None => {
                    db.execute_raw(Statement::from_sql_and_values(
                        DatabaseBackend::Postgres,
                        "UPDATE tagged_assets SET embedding = NULL WHERE asset_id = $1",
                        [asset_id.into()],
                    ))
                    .await?;
                }
            }
        }
    }
}

/// Whether the server can give us pgvector: PostgreSQL with the extension available.
pub async fn available(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(false);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT 1 AS present FROM pg_available_extensions WHERE name = 'vector'",
        ))
        .await?;
    Ok(row.is_some())
}

/// Creates the extension, the column and its HNSW index (idempotent), and fills the
/// column for rows stored before (`backfill` reads their bytes).
pub async fn enable(db: &impl ConnectionTrait, dim: usize) -> Result<(), DbErr> {
    for sql in [
        "CREATE EXTENSION IF NOT EXISTS vector".to_string(),
        format!("ALTER TABLE tagged_assets ADD COLUMN IF NOT EXISTS embedding_vec vector({dim})"),
        "CREATE INDEX IF NOT EXISTS tagged_assets_embedding_hnsw ON tagged_assets \
         USING hnsw (embedding_vec vector_cosine_ops)"
            .to_string(),
    ] {
        db.execute_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}

/// pgvector's text form of a vector: `[0.1,0.2,…]`.
pub fn literal(vector: &[f32]) -> String {
    let mut out = String::with_capacity(vector.len() * 12 + 2);
    out.push('[');
    for (i, x) in vector.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&x.to_string());
    }
    out.push(']');
    out
}

/// Sets (or, with `None`, clears) an asset's vector.
pub async fn set(
    db: &impl ConnectionTrait,
    asset_id: &str,
    vector: Option<&[f32]>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "UPDATE tagged_assets SET embedding_vec = $1::vector WHERE asset_id = $2",
        [Value::String(vector.map(literal)), asset_id.into()],
    ))
    .await
    .map(drop)
}

/// The query's SQL and values: the `limit` admitted assets nearest to `vector` by cosine
/// distance (the HNSW index orders them), with their cosine similarity.
pub fn nearest_statement(vector: &[f32], filter: &Filter, limit: usize) -> Statement {
    let exclude: Vec<&String> = filter.exclude.iter().collect();
    Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT a.asset_id, (1 - (a.embedding_vec <=> $1::vector))::real AS score \
         FROM tagged_assets a \
         WHERE a.tenant_id = $2 AND a.state <> 'deleted' AND a.embedding_vec IS NOT NULL \
           AND (a.visible OR a.owner_id = $3) \
           AND ($4 = '' OR a.kind = $4) \
           AND ($5 = '' OR a.owner_id <> $5) \
           AND a.asset_id NOT IN (SELECT jsonb_array_elements_text($6::jsonb)) \
           AND (SELECT count(DISTINCT t.name) FROM asset_tags t \
                WHERE t.asset_id = a.asset_id \
                  AND t.name IN (SELECT jsonb_array_elements_text($7::jsonb))) \
               = jsonb_array_length($7::jsonb) \
         ORDER BY a.embedding_vec <=> $1::vector \
         LIMIT $8",
        [
            literal(vector).into(),
            filter.tenant_id.clone().into(),
            filter.viewer.clone().into(),
            filter.kind.clone().unwrap_or_default().into(),
            filter.exclude_owner.clone().unwrap_or_default().into(),
            serde_json::to_string(&exclude)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            serde_json::to_string(&filter.tags)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ],
    )
}

/// Runs [`nearest_statement`]: `(asset_id, cosine)`, nearest first. HNSW filters after
/// its candidate search, so a very selective filter may return fewer than `limit`
/// (pgvector ≥ 0.8's iterative scans lift that; `hnsw.ef_search` widens the search).
pub async fn nearest(
    db: &impl ConnectionTrait,
    vector: &[f32],
    filter: &Filter,
    limit: usize,
) -> Result<Vec<(String, f32)>, DbErr> {
    let rows = db
        .query_all_raw(nearest_statement(vector, filter, limit))
        .await?;
    rows.into_iter()
        .map(|row| Ok((row.try_get("", "asset_id")?, row.try_get("", "score")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_written_in_pgvector_text_form() {
        assert_eq!(literal(&[0.5, -1.0, 0.25]), "[0.5,-1,0.25]");
        assert_eq!(literal(&[]), "[]");
    }

    #[test]
    fn the_query_binds_every_filter() {
        let mut filter = Filter {
            tenant_id: "t".into(),
            viewer: "u".into(),
            kind: Some("image".into()),
            tags: vec!["cat".into()],
            ..Filter::default()
        };
        filter.exclude.insert("a1".into());
        let statement = nearest_statement(&[1.0, 0.0], &filter, 5);
        assert!(
            statement
                .sql
                .contains("ORDER BY a.embedding_vec <=> $1::vector")
        );
        let values = statement.values.unwrap().0;
        assert_eq!(values.len(), 8);
        assert_eq!(values[0], Value::from("[1,0]"));
        assert_eq!(values[3], Value::from("image"));
        assert_eq!(values[5], Value::from("[\"a1\"]"));
        assert_eq!(values[6], Value::from("[\"cat\"]"));
        assert_eq!(values[7], Value::from(5i64));
    }
}
