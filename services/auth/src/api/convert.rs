//! Domain types → protobuf messages (and back for flags).

use crate::domain::audit::AuditEntry;
use crate::domain::clients::OAuthClient;
use crate::domain::invitations::Invitation;
use crate::domain::keys::PublicKey;
use crate::domain::revocations::{RevocationPage, Revoked};
use crate::domain::sessions::Session;
use crate::domain::tenants::{Flags, Tenant};
use crate::domain::users::User;
use marquee_proto::auth::v1 as pb;
use pb::flag_value::Value as FlagKind;
use serde_json::Value;
use std::collections::HashMap;

use marquee_proto::convert::timestamp as ts;

pub fn user(user: User) -> pb::User {
    pb::User {
        roles: user.roles.iter().map(ToString::to_string).collect(),
        id: user.id,
        tenant_id: user.tenant_id,
        email: user.email,
        display_name: user.display_name,
        created_at: Some(ts(user.created_at)),
        email_verified: user.email_verified_at.is_some(),
        disabled: user.disabled_at.is_some(),
    }
}

pub fn session(session: Session) -> pb::Session {
    pb::Session {
        user: Some(user(session.user)),
        access_token: session.access_token,
        refresh_token: session.refresh_token,
        token_type: "Bearer".into(),
        expires_in: session.expires_in,
    }
}

pub fn jwks(keys: Vec<PublicKey>) -> pb::Jwks {
    pb::Jwks {
        keys: keys
            .into_iter()
            .map(|key| pb::Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: key.x,
                kid: key.kid,
                alg: "EdDSA".into(),
                r#use: "sig".into(),
            })
            .collect(),
    }
}

pub fn client(client: OAuthClient) -> pb::OAuthClient {
    pb::OAuthClient {
        scopes: client.scopes.iter().map(ToString::to_string).collect(),
        id: client.id,
        tenant_id: client.tenant_id,
        name: client.name,
        environment: client.environment,
        rate_tier: client.rate_tier,
        created_at: Some(ts(client.created_at)),
        revoked_at: client.revoked_at.map(ts),
    }
}

pub fn tenant(tenant: Tenant) -> pb::Tenant {
    pb::Tenant {
        id: tenant.id,
        name: tenant.name,
        slug: tenant.slug,
        sandbox: tenant.sandbox,
        created_at: Some(ts(tenant.created_at)),
    }
}

/// Its status as of now.
pub fn invitation(invitation: Invitation) -> pb::Invitation {
    pb::Invitation {
        status: invitation.status(chrono::Utc::now()).as_str().into(),
        role: invitation.role.as_str().into(),
        id: invitation.id,
        tenant_id: invitation.tenant_id,
        email: invitation.email,
        created_by: invitation.created_by,
        created_at: Some(ts(invitation.created_at)),
        expires_at: Some(ts(invitation.expires_at)),
        accepted_at: invitation.accepted_at.map(ts),
        accepted_by: invitation.accepted_by.unwrap_or_default(),
        revoked_at: invitation.revoked_at.map(ts),
    }
}

pub fn flags(tenant_id: String, flags: Flags) -> pb::TenantFlags {
    let flags = flags
        .into_iter()
        .filter_map(|(name, value)| {
            let kind = match value {
                Value::Bool(b) => FlagKind::BoolValue(b),
                Value::String(s) => FlagKind::StringValue(s),
                _ => return None,
            };
            Some((name, pb::FlagValue { value: Some(kind) }))
        })
        .collect();
    pb::TenantFlags { tenant_id, flags }
}

/// Flags without a value are dropped (a proto `oneof` may arrive empty).
pub fn flags_from_proto(flags: HashMap<String, pb::FlagValue>) -> Flags {
    flags
        .into_iter()
        .filter_map(|(name, value)| {
            let value = match value.value? {
                FlagKind::BoolValue(b) => Value::Bool(b),
                FlagKind::StringValue(s) => Value::String(s),
            };
            Some((name, value))
        })
        .collect()
}

pub fn audit_entry(entry: AuditEntry) -> pb::AuditEntry {
    pb::AuditEntry {
        id: entry.id,
        tenant_id: entry.tenant_id,
        actor_id: entry.actor_id,
        action: entry.action,
        outcome: entry.outcome,
        ip: entry.ip,
        user_agent: entry.user_agent,
        detail: entry.detail,
        occurred_at: Some(ts(entry.occurred_at)),
    }
}

pub fn revocations(page: RevocationPage) -> pb::ListRevocationsResponse {
    pb::ListRevocationsResponse {
        revocations: page
            .revocations
            .into_iter()
            .map(|revocation| {
                let (session_id, subject) = match revocation.revoked {
                    Revoked::Session(id) => (id, String::new()),
                    Revoked::Subject(id) => (String::new(), id),
                };
                pb::Revocation {
                    id: revocation.id,
                    session_id,
                    subject,
                    not_before_ms: revocation.not_before.timestamp_millis(),
                    expires_at: revocation.expires_at.timestamp(),
                }
            })
            .collect(),
        as_of: page.as_of.timestamp_millis(),
    }
}
