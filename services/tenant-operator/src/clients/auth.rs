//! The auth service as the [`TenantDirectory`]: a `Tenant` resource is the auth tenant
//! whose slug is the resource's name (adopted when an admin created it first), its plan is
//! the `plan` flag, its feature flags the other flags, and deletion sets `disabled: true`
//! (auth then refuses the tenant's sign-ins and refreshes; nothing is deleted).
//!
//! The operator calls as itself: each call carries its signed service identity
//! (`tenant-operator`) on nobody's behalf, which auth accepts for tenant administration
//! only (`services/auth/src/api/mod.rs`, `tenant_admin`).

use crate::controller::{DirectoryError, TenantDirectory};
use crate::domain::tenant::Tenant;
use kube::ResourceExt;
use marquee_clients::AuthClient;
use marquee_platform::grpc;
use marquee_platform::service_identity::ServiceIdentity;
use marquee_proto::auth::v1 as pb;
use std::collections::HashMap;

/// The flag that carries the plan.
pub const PLAN_FLAG: &str = "plan";
/// The flag that disables a tenant in auth.
pub const DISABLED_FLAG: &str = "disabled";

pub struct AuthDirectory {
    auth: AuthClient,
}

impl AuthDirectory {
    /// A client of auth at `url` (connected on first use) signing as `identity`.
    pub fn connect_lazy(url: &str, identity: ServiceIdentity) -> anyhow::Result<Self> {
        Ok(Self {
            auth: AuthClient::connect_lazy(url, identity)?,
        })
    }

    /// The auth tenant with this slug, if any.
    async fn find(&self, slug: &str) -> Result<Option<pb::Tenant>, DirectoryError> {
        let tenants = self
            .auth
            .grpc()
            .list_tenants(grpc::anonymous(pb::ListTenantsRequest {}))
            .await
            .map_err(failed("listing tenants"))?
            .into_inner()
            .tenants;
        Ok(tenants.into_iter().find(|tenant| tenant.slug == slug))
    }

    /// The auth tenant for `tenant`, created when missing.
    async fn ensure(&self, tenant: &Tenant) -> Result<pb::Tenant, DirectoryError> {
        let slug = tenant.name_any();
        if let Some(existing) = self.find(&slug).await? {
            return Ok(existing);
        }
        let created = self
            .auth
            .grpc()
            .create_tenant(grpc::anonymous(pb::CreateTenantRequest {
                name: tenant.spec.display_name.clone(),
                slug: slug.clone(),
                sandbox: false,
                client: None,
            }))
            .await;
        match created {
            Ok(response) => Ok(response.into_inner()),
            // Created meanwhile (another pass, an admin): use that one.
            Err(status) if status.code() == tonic::Code::AlreadyExists => self
                .find(&slug)
                .await?
                .ok_or_else(|| DirectoryError(format!("tenant {slug} exists and cannot be found"))),
            Err(status) => Err(failed("creating the tenant")(status)),
        }
    }

    async fn set_flags(
        &self,
        tenant_id: String,
        flags: HashMap<String, pb::FlagValue>,
    ) -> Result<(), DirectoryError> {
        self.auth
            .grpc()
            .set_tenant_flags(grpc::anonymous(pb::SetTenantFlagsRequest {
                tenant_id,
                flags,
                client: None,
            }))
            .await
            .map_err(failed("setting the tenant's flags"))?;
        Ok(())
    }
}

/// The flags auth keeps for `tenant`: its feature flags, its plan, and `disabled`.
pub fn flags_of(tenant: &Tenant, disabled: bool) -> HashMap<String, pb::FlagValue> {
    let flag = |value| pb::FlagValue { value: Some(value) };
    let mut flags: HashMap<_, _> = tenant
        .spec
        .feature_flags
        .iter()
        .map(|(name, on)| (name.clone(), flag(pb::flag_value::Value::BoolValue(*on))))
        .collect();
    flags.insert(
        PLAN_FLAG.into(),
        flag(pb::flag_value::Value::StringValue(
            tenant.spec.plan.as_str().into(),
        )),
    );
    flags.insert(
        DISABLED_FLAG.into(),
        flag(pb::flag_value::Value::BoolValue(disabled)),
    );
    flags
}

impl TenantDirectory for AuthDirectory {
    async fn sync(&self, tenant: &Tenant) -> Result<(), DirectoryError> {
        let found = self.ensure(tenant).await?;
        // Replaces the flags: the resource is their source of truth (a flag set by hand
        // in auth is gone at the next pass).
        self.set_flags(found.id, flags_of(tenant, false)).await
    }

    async fn disable(&self, tenant: &Tenant) -> Result<(), DirectoryError> {
        match self.find(&tenant.name_any()).await? {
            Some(found) => self.set_flags(found.id, flags_of(tenant, true)).await,
            // Never synced (auth was unreachable all along): nothing to disable.
            None => Ok(()),
        }
    }
}

/// A failed call, with what it was doing and auth's answer.
fn failed(doing: &'static str) -> impl FnOnce(tonic::Status) -> DirectoryError {
    move |status| {
        DirectoryError(format!(
            "auth: {doing}: {} ({})",
            status.message(),
            grpc::code_name(status.code())
        ))
    }
}
