use super::entities::oauth_client;
use crate::domain::clients::OAuthClient;
use chrono::{DateTime, Utc};
use marquee_platform::Scope;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};

/// Unknown scope names (written by a newer auth) are left out.
impl From<oauth_client::Model> for OAuthClient {
    fn from(model: oauth_client::Model) -> Self {
        Self {
            scopes: model
                .scopes
                .split_whitespace()
                .filter_map(Scope::parse)
                .collect(),
            id: model.id,
            tenant_id: model.tenant_id,
            name: model.name,
            environment: model.environment,
            rate_tier: model.rate_tier,
            secret_hash: model.secret_hash,
            created_by: model.created_by,
            created_at: model.created_at,
            revoked_at: model.revoked_at,
        }
    }
}

/// Scopes are stored space-separated.
impl From<OAuthClient> for oauth_client::Model {
    fn from(client: OAuthClient) -> Self {
        Self {
            scopes: Scope::join(&client.scopes),
            id: client.id,
            tenant_id: client.tenant_id,
            name: client.name,
            environment: client.environment,
            rate_tier: client.rate_tier,
            secret_hash: client.secret_hash,
            created_by: client.created_by,
            created_at: client.created_at,
            revoked_at: client.revoked_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, client: OAuthClient) -> Result<OAuthClient, DbErr> {
    oauth_client::Model::from(client)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(OAuthClient::from)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<OAuthClient>, DbErr> {
    let row = oauth_client::Entity::find_by_id(id.to_string())
        .one(db)
        .await?;
    Ok(row.map(OAuthClient::from))
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant_ids: &[String],
) -> Result<Vec<OAuthClient>, DbErr> {
    let rows = oauth_client::Entity::find()
        .filter(oauth_client::Column::TenantId.is_in(tenant_ids.iter().cloned()))
        .order_by_desc(oauth_client::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(OAuthClient::from).collect())
}

/// Only `revoked_at` is written.
pub async fn revoke(
    db: &impl ConnectionTrait,
    client: OAuthClient,
    now: DateTime<Utc>,
) -> Result<OAuthClient, DbErr> {
    let mut active = oauth_client::Model::from(client).into_active_model();
    active.revoked_at = Set(Some(now));
    active.update(db).await.map(OAuthClient::from)
}

/// Replaces the secret hash of a client that is not revoked; false when there is no
/// such client (unknown, or revoked meanwhile). Only `secret_hash` is written.
pub async fn replace_secret_hash(
    db: &impl ConnectionTrait,
    id: &str,
    secret_hash: &str,
) -> Result<bool, DbErr> {
    let result = oauth_client::Entity::update_many()
        .col_expr(oauth_client::Column::SecretHash, Expr::value(secret_hash))
        .filter(oauth_client::Column::Id.eq(id))
        .filter(oauth_client::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_stored_space_separated_and_unknown_names_read_as_absent() {
        let client = OAuthClient {
            id: "mqc_1".into(),
            tenant_id: "t1".into(),
            name: "Partner".into(),
            scopes: vec![Scope::AssetsRead, Scope::BillingRead],
            environment: "live".into(),
            rate_tier: "basic".into(),
            secret_hash: "00".into(),
            created_by: "admin".into(),
            created_at: Utc::now(),
            revoked_at: None,
        };
        let mut row = oauth_client::Model::from(client.clone());
        assert_eq!(row.scopes, "assets:read billing:read");
        assert_eq!(OAuthClient::from(row.clone()), client);
        row.scopes = "teleport assets:read".into();
        assert_eq!(OAuthClient::from(row).scopes, [Scope::AssetsRead]);
    }
}
