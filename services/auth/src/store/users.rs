use super::entities::user;
use crate::domain::users::User;
use chrono::{DateTime, Utc};
use marquee_platform::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

/// Unknown role names (written by a newer auth) are left out.
impl From<user::Model> for User {
    fn from(model: user::Model) -> Self {
        Self {
            roles: model
                .roles
                .split_whitespace()
                .filter_map(Role::parse)
                .collect(),
            id: model.id,
            tenant_id: model.tenant_id,
            email: model.email,
            password_hash: model.password_hash,
            display_name: model.display_name,
            created_at: model.created_at,
            email_verified_at: model.email_verified_at,
            disabled_at: model.disabled_at,
        }
    }
}

/// Roles are stored as space-separated names.
impl From<User> for user::Model {
    fn from(user: User) -> Self {
        Self {
            roles: user
                .roles
                .iter()
                .map(|role| role.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            id: user.id,
            tenant_id: user.tenant_id,
            email: user.email,
            password_hash: user.password_hash,
            display_name: user.display_name,
            created_at: user.created_at,
            email_verified_at: user.email_verified_at,
            disabled_at: user.disabled_at,
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, user: User) -> Result<User, DbErr> {
    let model = user::Model::from(user);
    let active = user::ActiveModel {
        id: Set(model.id),
        tenant_id: Set(model.tenant_id),
        email: Set(model.email),
        password_hash: Set(model.password_hash),
        display_name: Set(model.display_name),
        roles: Set(model.roles),
        created_at: Set(model.created_at),
        email_verified_at: Set(model.email_verified_at),
        disabled_at: Set(model.disabled_at),
    };
    active.insert(db).await.map(User::from)
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    email: &str,
) -> Result<Option<User>, DbErr> {
    let row = user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant_id))
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?;
    Ok(row.map(User::from))
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
) -> Result<Option<User>, DbErr> {
    let row = user::Entity::find_by_id(id.to_string())
        .filter(user::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?;
    Ok(row.map(User::from))
}

/// Marks the user's address verified, if it is still `email` (and not verified yet).
pub async fn mark_email_verified(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
    email: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::TenantId.eq(tenant_id))
        .filter(user::Column::Email.eq(email))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Replaces the user's password hash.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    id: &str,
    password_hash: &str,
) -> Result<bool, DbErr> {
    let result = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Disables (`Some(when)`) or enables (`None`) a user of `tenant_id`; `None` when there
/// is no such user.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    user_id: &str,
    disabled_at: Option<DateTime<Utc>>,
) -> Result<Option<User>, DbErr> {
    let Some(found) = user::Entity::find_by_id(user_id)
        .filter(user::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut active: user::ActiveModel = found.into();
    active.disabled_at = Set(disabled_at);
    Ok(Some(active.update(db).await?.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn roles_are_stored_space_separated_and_unknown_names_read_as_absent() {
        let user = User {
            id: "u1".into(),
            tenant_id: "t1".into(),
            email: "ada@example.com".into(),
            password_hash: "$argon2id$…".into(),
            display_name: "Ada".into(),
            roles: vec![Role::Admin, Role::Creator],
            created_at: Utc::now(),
            email_verified_at: None,
            disabled_at: None,
        };
        let mut row = user::Model::from(user.clone());
        assert_eq!(row.roles, "admin creator");
        assert_eq!(User::from(row.clone()), user);
        row.roles = "wizard  creator".into();
        assert_eq!(User::from(row).roles, [Role::Creator]);
    }
}
