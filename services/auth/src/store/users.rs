use super::entities::user;
use crate::domain::users::User;
use marquee_platform::Role;
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
        };
        let mut row = user::Model::from(user.clone());
        assert_eq!(row.roles, "admin creator");
        assert_eq!(User::from(row.clone()), user);
        row.roles = "wizard  creator".into();
        assert_eq!(User::from(row).roles, [Role::Creator]);
    }
}
