//! Invitation rows. Acceptance and revocation are conditional updates: of two
//! registrations with the same token, one wins; a revoked or expired invitation cannot
//! be accepted, an accepted one cannot be revoked.

use super::entities::invitation;
use crate::domain::invitations::Invitation;
use chrono::{DateTime, Utc};
use marquee_platform::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

/// An unknown role name (written by a newer auth) reads as `creator`, which grants the
/// least.
impl From<invitation::Model> for Invitation {
    fn from(model: invitation::Model) -> Self {
        Self {
            role: Role::parse(&model.role).unwrap_or(Role::Creator),
            id: model.id,
            tenant_id: model.tenant_id,
            email: model.email,
            token_hash: model.token_hash,
            created_by: model.created_by,
            created_at: model.created_at,
            expires_at: model.expires_at,
            accepted_at: model.accepted_at,
            accepted_by: model.accepted_by,
            revoked_at: model.revoked_at,
        }
    }
}

impl From<Invitation> for invitation::Model {
    fn from(invitation: Invitation) -> Self {
        Self {
            role: invitation.role.as_str().to_string(),
            id: invitation.id,
            tenant_id: invitation.tenant_id,
            email: invitation.email,
            token_hash: invitation.token_hash,
            created_by: invitation.created_by,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            accepted_at: invitation.accepted_at,
            accepted_by: invitation.accepted_by,
            revoked_at: invitation.revoked_at,
        }
    }
}

pub async fn insert(
    db: &impl ConnectionTrait,
    invitation: Invitation,
) -> Result<Invitation, DbErr> {
    invitation::Model::from(invitation)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await
        .map(Invitation::from)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Invitation>, DbErr> {
    let row = invitation::Entity::find_by_id(id.to_string())
        .one(db)
        .await?;
    Ok(row.map(Invitation::from))
}

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<Invitation>, DbErr> {
    let row = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?;
    Ok(row.map(Invitation::from))
}

/// A tenant's invitations, newest first, at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    limit: u64,
) -> Result<Vec<Invitation>, DbErr> {
    let rows = invitation::Entity::find()
        .filter(invitation::Column::TenantId.eq(tenant_id))
        .order_by_desc(invitation::Column::CreatedAt)
        .order_by_desc(invitation::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Invitation::from).collect())
}

/// Claims a pending invitation (not accepted, not revoked, not expired at `now`); false
/// when it is not pending any more (another registration won, or it was revoked).
pub async fn claim(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let result = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the user a claimed invitation made.
pub async fn set_accepted_by(
    db: &impl ConnectionTrait,
    id: &str,
    user_id: &str,
) -> Result<(), DbErr> {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedBy, Expr::value(user_id))
        .filter(invitation::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Gives a claim back (the registration it was for failed), so the invitation can be
/// used again.
pub async fn release(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::AcceptedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::AcceptedBy.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Revokes an invitation that is neither accepted nor revoked; false otherwise.
pub async fn revoke(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = invitation::Entity::update_many()
        .col_expr(invitation::Column::RevokedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_stored_by_name_and_unknown_ones_read_as_creator() {
        let now = Utc::now();
        let invitation = Invitation {
            id: "i1".into(),
            tenant_id: "t1".into(),
            email: "ada@example.com".into(),
            role: Role::BillingAdmin,
            token_hash: "00".into(),
            created_by: "u1".into(),
            created_at: now,
            expires_at: now,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        let mut row = invitation::Model::from(invitation.clone());
        assert_eq!(row.role, "billing_admin");
        assert_eq!(Invitation::from(row.clone()), invitation);
        row.role = "wizard".into();
        assert_eq!(Invitation::from(row).role, Role::Creator);
    }
}
