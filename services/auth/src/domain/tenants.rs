//! Tenants and their feature flags. Every user and client belongs to a tenant; the
//! embedded default tenant (`default`) exists from the first start.

use super::audit::{AuditEvent, action, outcome};
use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::store;
use chrono::{DateTime, Utc};
use marquee_platform::input::{self, fields};
use serde_json::{Map, Value};

pub const DEFAULT_SLUG: &str = "default";
/// The flag that disables a tenant: `true` refuses its sign-ins, refreshes and client
/// tokens (access tokens already issued run out within their lifetime). The tenant
/// operator sets it when a `Tenant` resource is deleted; its data stays.
pub const DISABLED_FLAG: &str = "disabled";
const MAX_FLAGS: usize = 100;
const MAX_FLAG_VALUE: usize = 256;

pub type Flags = Map<String, Value>;

/// A tenant: every user and client belongs to one.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub sandbox: bool,
    /// Feature flags: flag name → bool or string.
    pub flags: Flags,
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    /// Whether the tenant is disabled ([`DISABLED_FLAG`]).
    pub fn is_disabled(&self) -> bool {
        self.flags.get(DISABLED_FLAG) == Some(&Value::Bool(true))
    }
}

pub(crate) fn tenant_disabled() -> AuthError {
    AuthError::Refused {
        code: "tenant_disabled",
        message: "this tenant is disabled",
    }
}

pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub sandbox: bool,
}

impl Auth {
    pub(crate) async fn ensure_default_tenant(&self) -> Result<Tenant> {
        if let Some(tenant) = store::tenants::find_by_slug(&self.db, DEFAULT_SLUG).await? {
            return Ok(tenant);
        }
        let created = store::tenants::insert(
            &self.db,
            Tenant {
                id: uuid::Uuid::now_v7().to_string(),
                name: "Default".into(),
                slug: DEFAULT_SLUG.into(),
                sandbox: false,
                flags: Flags::new(),
                created_at: Utc::now(),
            },
        )
        .await;
        match created {
            Ok(tenant) => Ok(tenant),
            // Another replica created it first.
            Err(error) if store::is_unique_violation(&error) => {
                store::tenants::find_by_slug(&self.db, DEFAULT_SLUG)
                    .await?
                    .ok_or(AuthError::NotFound("default tenant"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The named tenant, or the default one when `tenant_id` is empty.
    pub(crate) async fn resolve_tenant(&self, tenant_id: Option<&str>) -> Result<Tenant> {
        match tenant_id.map(str::trim).filter(|id| !id.is_empty()) {
            None => self.ensure_default_tenant().await,
            Some(id) => {
                input::id("tenant_id", id)?;
                store::tenants::find(&self.db, id)
                    .await?
                    .ok_or(AuthError::NotFound("tenant"))
            }
        }
    }

    /// Refuses a disabled tenant's sessions (sign-in, refresh) with `tenant_disabled`.
    pub(crate) async fn ensure_tenant_enabled(&self, tenant_id: &str) -> Result<()> {
        match store::tenants::find(&self.db, tenant_id).await? {
            Some(tenant) if tenant.is_disabled() => Err(tenant_disabled()),
            _ => Ok(()),
        }
    }

    pub async fn create_tenant(
        &self,
        actor_id: &str,
        new: NewTenant,
        context: &RequestContext,
    ) -> Result<Tenant> {
        fields::TENANT_NAME.check(&new.name)?;
        let name = new.name.trim().to_string();
        let slug = new.slug.trim().to_string();
        input::slug(&slug)?;
        let tenant = store::tenants::insert(
            &self.db,
            Tenant {
                id: uuid::Uuid::now_v7().to_string(),
                name,
                slug,
                sandbox: new.sandbox,
                flags: Flags::new(),
                created_at: Utc::now(),
            },
        )
        .await
        .map_err(|error| {
            if store::is_unique_violation(&error) {
                AuthError::Conflict {
                    code: "slug_taken",
                    message: "a tenant with this slug already exists".into(),
                }
            } else {
                error.into()
            }
        })?;
        self.audit(AuditEvent {
            tenant_id: &tenant.id,
            actor_id,
            action: action::TENANT_CREATED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("slug={} sandbox={}", tenant.slug, tenant.sandbox),
        })
        .await;
        Ok(tenant)
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        Ok(store::tenants::list(&self.db).await?)
    }

    /// One tenant, by id (unlike [`Self::resolve_tenant`], an empty id is not found).
    pub async fn tenant(&self, tenant_id: &str) -> Result<Tenant> {
        input::id("tenant_id", tenant_id)?;
        store::tenants::find(&self.db, tenant_id)
            .await?
            .ok_or(AuthError::NotFound("tenant"))
    }

    pub async fn tenant_flags(&self, tenant_id: &str) -> Result<Flags> {
        Ok(self.resolve_tenant(Some(tenant_id)).await?.flags)
    }

    /// Replaces a tenant's flags. Names are `[a-z0-9_.-]{1,64}`; values booleans or
    /// strings of at most 256 characters.
    pub async fn set_tenant_flags(
        &self,
        actor_id: &str,
        tenant_id: &str,
        flags: Flags,
        context: &RequestContext,
    ) -> Result<Flags> {
        if flags.len() > MAX_FLAGS {
            return Err(AuthError::invalid(
                "invalid_flags",
                format!("at most {MAX_FLAGS} flags"),
            ));
        }
        for (name, value) in &flags {
            let name_ok = (1..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
            if !name_ok {
                return Err(AuthError::invalid(
                    "invalid_flags",
                    format!("flag name {name:?} must be 1 to 64 characters of a-z, 0-9, _ . -"),
                ));
            }
            match value {
                Value::Bool(_) => {}
                Value::String(text) if fields::FLAG_VALUE.check(text).is_ok() => {}
                _ => {
                    return Err(AuthError::invalid(
                        "invalid_flags",
                        format!(
                            "flag {name:?} must be a boolean or a string of at most {MAX_FLAG_VALUE} characters, one line"
                        ),
                    ));
                }
            }
        }
        let tenant = self.resolve_tenant(Some(tenant_id)).await?;
        let names: Vec<&String> = flags.keys().collect();
        let detail = format!("flags: {names:?}");
        let updated = store::tenants::set_flags(&self.db, tenant, flags).await?;
        self.audit(AuditEvent {
            tenant_id: &updated.id,
            actor_id,
            action: action::FLAGS_UPDATED,
            outcome: outcome::SUCCESS,
            context,
            detail,
        })
        .await;
        Ok(updated.flags)
    }

    /// The sandbox twin of a live tenant (`<slug>-sandbox`), created on first use.
    pub(crate) async fn sandbox_of(&self, tenant: &Tenant) -> Result<Tenant> {
        if tenant.sandbox {
            return Ok(tenant.clone());
        }
        let slug = format!("{}-sandbox", tenant.slug);
        if let Some(existing) = store::tenants::find_by_slug(&self.db, &slug).await? {
            return Ok(existing);
        }
        let created = store::tenants::insert(
            &self.db,
            Tenant {
                id: uuid::Uuid::now_v7().to_string(),
                name: format!("{} (sandbox)", tenant.name),
                slug: slug.clone(),
                sandbox: true,
                flags: Flags::new(),
                created_at: Utc::now(),
            },
        )
        .await;
        match created {
            Ok(tenant) => Ok(tenant),
            Err(error) if store::is_unique_violation(&error) => {
                store::tenants::find_by_slug(&self.db, &slug)
                    .await?
                    .ok_or(AuthError::NotFound("tenant"))
            }
            Err(error) => Err(error.into()),
        }
    }
}
