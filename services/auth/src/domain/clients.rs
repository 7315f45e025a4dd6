//! OAuth2 partner clients and the client-credentials grant (RFC 6749 §4.4). Admins
//! create clients with scopes from the catalogue; the secret is shown once and stored
//! hashed. Sandbox clients live in a sandbox tenant and their tokens act only there.

use super::audit::{AuditEvent, action, outcome};
use super::tokens::Claims;
use super::{Auth, RequestContext};
use crate::error::{AuthError, Result};
use crate::store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use marquee_platform::input::{self, fields};
use marquee_platform::{PrincipalKind, Scope};
use subtle::ConstantTimeEq;

pub const ENVIRONMENTS: &[&str] = &["sandbox", "live"];
pub const RATE_TIERS: &[&str] = &["basic", "standard", "premium"];
/// The tier of a client created without one.
pub const DEFAULT_RATE_TIER: &str = "standard";

/// An OAuth2 partner client. The secret is kept only as a SHA-256 hash: it is 256
/// random bits, so a slow hash adds nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthClient {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The granted scopes.
    pub scopes: Vec<Scope>,
    pub environment: String,
    pub rate_tier: String,
    pub secret_hash: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewClient {
    pub name: String,
    pub scopes: Vec<String>,
    pub environment: String,
    pub rate_tier: String,
    /// Empty: the admin's own tenant (or its sandbox, for sandbox clients).
    pub tenant_id: Option<String>,
}

pub struct ClientToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

impl Auth {
    /// Creates a client; returns it with its secret, which is not stored in clear.
    pub async fn create_client(
        &self,
        actor_id: &str,
        actor_tenant_id: &str,
        new: NewClient,
        context: &RequestContext,
    ) -> Result<(OAuthClient, String)> {
        fields::CLIENT_NAME.check(&new.name)?;
        let name = new.name.trim().to_string();
        let scopes = parse_scopes(new.scopes.iter().map(String::as_str))?;
        if scopes.is_empty() {
            return Err(AuthError::InvalidScope("grant at least one scope".into()));
        }
        let environment = if new.environment.is_empty() {
            "live".to_string()
        } else {
            new.environment
        };
        if !ENVIRONMENTS.contains(&environment.as_str()) {
            return Err(AuthError::invalid(
                "invalid_environment",
                "environment must be sandbox or live",
            ));
        }
        let rate_tier = if new.rate_tier.is_empty() {
            DEFAULT_RATE_TIER.to_string()
        } else {
            new.rate_tier
        };
        if !RATE_TIERS.contains(&rate_tier.as_str()) {
            return Err(AuthError::invalid(
                "invalid_rate_tier",
                format!("rate_tier must be one of {}", RATE_TIERS.join(", ")),
            ));
        }
        let sandbox = environment == "sandbox";
        let tenant = match new.tenant_id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => self.resolve_tenant(Some(id)).await?,
            None => {
                let own = self.resolve_tenant(Some(actor_tenant_id)).await?;
                if sandbox {
                    self.sandbox_of(&own).await?
                } else {
                    own
                }
            }
        };
        if tenant.sandbox != sandbox {
            return Err(AuthError::invalid(
                "environment_mismatch",
                "sandbox clients belong to sandbox tenants and live clients to live tenants",
            ));
        }
        let secret = new_secret();
        let client = store::clients::insert(
            &self.db,
            OAuthClient {
                id: format!("mqc_{}", uuid::Uuid::new_v4().simple()),
                tenant_id: tenant.id.clone(),
                name,
                scopes,
                environment,
                rate_tier,
                secret_hash: super::sessions::hash_token(&secret),
                created_by: actor_id.to_string(),
                created_at: Utc::now(),
                revoked_at: None,
            },
        )
        .await?;
        self.audit(AuditEvent {
            tenant_id: actor_tenant_id,
            actor_id,
            action: action::CLIENT_CREATED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!(
                "client={} tenant={} scopes={}",
                client.id,
                client.tenant_id,
                Scope::join(&client.scopes)
            ),
        })
        .await;
        Ok((client, secret))
    }

    /// Every client (admin is a platform role).
    pub async fn list_clients(&self) -> Result<Vec<OAuthClient>> {
        let tenants: Vec<String> = self
            .list_tenants()
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        Ok(store::clients::list(&self.db, &tenants).await?)
    }

    /// One client, revoked or not (admin is a platform role).
    pub async fn client(&self, client_id: &str) -> Result<OAuthClient> {
        input::id("id", client_id)?;
        store::clients::find(&self.db, client_id)
            .await?
            .ok_or(AuthError::NotFound("client"))
    }

    pub async fn revoke_client(
        &self,
        actor_id: &str,
        actor_tenant_id: &str,
        client_id: &str,
        context: &RequestContext,
    ) -> Result<OAuthClient> {
        input::id("id", client_id)?;
        let client = store::clients::find(&self.db, client_id)
            .await?
            .ok_or(AuthError::NotFound("client"))?;
        if client.revoked_at.is_some() {
            return Ok(client);
        }
        let txn = store::begin(&self.db).await?;
        let client = store::clients::revoke(&txn, client, Utc::now()).await?;
        // Its tokens already issued die with it (the gateway polls revocations).
        self.revoke_subject(&txn, &client.id).await?;
        txn.commit().await?;
        self.audit(AuditEvent {
            tenant_id: actor_tenant_id,
            actor_id,
            action: action::CLIENT_REVOKED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("client={}", client.id),
        })
        .await;
        Ok(client)
    }

    /// Gives a live client a new secret and returns it with the client (the secret is
    /// not stored in clear). The old secret stops issuing tokens at once; tokens it
    /// already issued stay valid until they expire. Id, name, scopes, environment and
    /// tier are kept. A revoked client stays revoked: `Conflict` (`client_revoked`).
    pub async fn rotate_client_secret(
        &self,
        actor_id: &str,
        actor_tenant_id: &str,
        client_id: &str,
        context: &RequestContext,
    ) -> Result<(OAuthClient, String)> {
        input::id("id", client_id)?;
        let client = store::clients::find(&self.db, client_id)
            .await?
            .ok_or(AuthError::NotFound("client"))?;
        let revoked = || AuthError::Conflict {
            code: "client_revoked",
            message: "the client is revoked; create a new one".into(),
        };
        if client.revoked_at.is_some() {
            return Err(revoked());
        }
        let secret = new_secret();
        let secret_hash = super::sessions::hash_token(&secret);
        // Written only while the client is live: a revoke between the read and here
        // wins, and the new secret is never handed out.
        if !store::clients::replace_secret_hash(&self.db, &client.id, &secret_hash).await? {
            return Err(revoked());
        }
        let client = OAuthClient {
            secret_hash,
            ..client
        };
        self.audit(AuditEvent {
            tenant_id: actor_tenant_id,
            actor_id,
            action: action::CLIENT_SECRET_ROTATED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("client={} tenant={}", client.id, client.tenant_id),
        })
        .await;
        Ok((client, secret))
    }

    /// The client-credentials grant: authenticates the client and issues a token with
    /// the requested scopes (all granted scopes when none are asked for).
    pub async fn issue_client_token(
        &self,
        client_id: &str,
        secret: &str,
        requested_scope: &str,
        context: &RequestContext,
    ) -> Result<ClientToken> {
        // Credentials of a shape never issued fail like wrong ones, without a lookup;
        // the audit entry does not repeat what was sent.
        if !input::is_id(client_id) || fields::CLIENT_SECRET.check(secret).is_err() {
            self.audit(AuditEvent {
                tenant_id: "",
                actor_id: "",
                action: action::CLIENT_TOKEN_ISSUED,
                outcome: outcome::FAILURE,
                context,
                detail: "malformed client credentials".into(),
            })
            .await;
            return Err(AuthError::InvalidClient);
        }
        if let Err(violation) = fields::SCOPE.check(requested_scope) {
            return Err(AuthError::InvalidScope(violation.message));
        }
        let client = store::clients::find(&self.db, client_id).await?;
        let authenticated = client.filter(|client| {
            let presented = super::sessions::hash_token(secret);
            bool::from(presented.as_bytes().ct_eq(client.secret_hash.as_bytes()))
                && client.revoked_at.is_none()
        });
        let Some(client) = authenticated else {
            self.audit(AuditEvent {
                tenant_id: "",
                actor_id: client_id,
                action: action::CLIENT_TOKEN_ISSUED,
                outcome: outcome::FAILURE,
                context,
                detail: "invalid client credentials or revoked client".into(),
            })
            .await;
            return Err(AuthError::InvalidClient);
        };
        let requested = parse_scopes([requested_scope])?;
        let scopes = if requested.is_empty() {
            client.scopes.clone()
        } else {
            if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
                return Err(AuthError::InvalidScope(format!(
                    "scope {extra:?} was not granted to this client"
                )));
            }
            requested
        };
        let tenant = self.resolve_tenant(Some(&client.tenant_id)).await?;
        if tenant.is_disabled() {
            return Err(super::tenants::tenant_disabled());
        }
        if tenant.sandbox != (client.environment == "sandbox") {
            return Err(AuthError::UnauthorizedClient(
                "this client's environment does not match its tenant".into(),
            ));
        }
        let issued = Utc::now();
        let now = issued.timestamp();
        let ttl = self.settings.client_token_ttl_secs;
        let scope = Scope::join(&scopes);
        let access_token = self.keys.sign(&Claims {
            iss: self.settings.jwt_issuer.clone(),
            aud: self.settings.jwt_audience.clone(),
            sub: client.id.clone(),
            tid: client.tenant_id.clone(),
            roles: Vec::new(),
            scope: scope.clone(),
            exp: now + ttl,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            principal: PrincipalKind::Client,
            env: Some(client.environment.clone()),
            rate_tier: Some(client.rate_tier.clone()),
            sid: None,
            iat_ms: Some(issued.timestamp_millis()),
        })?;
        self.audit(AuditEvent {
            tenant_id: &client.tenant_id,
            actor_id: &client.id,
            action: action::CLIENT_TOKEN_ISSUED,
            outcome: outcome::SUCCESS,
            context,
            detail: format!("scope={scope}"),
        })
        .await;
        Ok(ClientToken {
            access_token,
            expires_in: ttl,
            scope,
        })
    }
}

/// A client secret: 256 random bits, shown once.
fn new_secret() -> String {
    format!("mqs_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()))
}

/// Parses a space-separated or listed set of scopes, rejecting unknown ones.
pub fn parse_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Result<Vec<Scope>> {
    let mut parsed: Vec<Scope> = Vec::new();
    for word in scopes.into_iter().flat_map(str::split_whitespace) {
        let Some(scope) = Scope::parse(word) else {
            return Err(AuthError::InvalidScope(format!(
                "unknown scope {word:?}; known scopes: {}",
                Scope::join(&Scope::ALL)
            )));
        };
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rate_tier_defaults_to_standard() {
        let test = crate::domain::users::tests::start().await;
        let tenant = test.auth.ensure_default_tenant().await.unwrap();
        let create = |rate_tier: &str| NewClient {
            name: "Acme sync".into(),
            scopes: vec!["assets:read".into()],
            environment: "live".into(),
            rate_tier: rate_tier.into(),
            tenant_id: None,
        };
        let context = crate::domain::users::tests::context();
        let (client, _) = test
            .auth
            .create_client("admin-1", &tenant.id, create(""), &context)
            .await
            .unwrap();
        assert_eq!(client.rate_tier, "standard");
        let (client, _) = test
            .auth
            .create_client("admin-1", &tenant.id, create("premium"), &context)
            .await
            .unwrap();
        assert_eq!(client.rate_tier, "premium");
        let error = test
            .auth
            .create_client("admin-1", &tenant.id, create("gold"), &context)
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AuthError::Invalid {
                code: "invalid_rate_tier",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn names_ids_and_credentials_are_checked_before_the_database() {
        let test = crate::domain::users::tests::start().await;
        let context = crate::domain::users::tests::context();
        let tenant = test.auth.ensure_default_tenant().await.unwrap();
        let create = |name: &str, tenant_id: Option<&str>| NewClient {
            name: name.into(),
            scopes: vec!["assets:read".into()],
            environment: "live".into(),
            rate_tier: String::new(),
            tenant_id: tenant_id.map(str::to_string),
        };
        for (new, code) in [
            (create("Acme\0", None), "invalid_name"),
            (create(&"n".repeat(101), None), "invalid_name"),
            (create("   ", None), "invalid_name"),
            (create("Acme", Some("t\0")), "invalid_id"),
        ] {
            match test
                .auth
                .create_client("admin-1", &tenant.id, new, &context)
                .await
            {
                Err(AuthError::Invalid { code: got, .. }) => assert_eq!(got, code),
                other => panic!("{:?}", other.map(|(client, _)| client)),
            }
        }
        let long = "c".repeat(100_000);
        for (id, secret) in [
            ("mqc_\0", "s"),
            (long.as_str(), "s"),
            ("mqc_x", long.as_str()),
        ] {
            assert!(matches!(
                test.auth.issue_client_token(id, secret, "", &context).await,
                Err(AuthError::InvalidClient)
            ));
        }
        assert!(matches!(
            test.auth
                .revoke_client("admin-1", &tenant.id, "mqc_\0", &context)
                .await,
            Err(AuthError::Invalid {
                code: "invalid_id",
                ..
            })
        ));
        match test
            .auth
            .create_tenant(
                "admin-1",
                crate::domain::tenants::NewTenant {
                    name: "Acme\u{85}".into(),
                    slug: "acme".into(),
                    sandbox: false,
                },
                &context,
            )
            .await
        {
            Err(AuthError::Invalid { code, .. }) => assert_eq!(code, "invalid_name"),
            other => panic!("{:?}", other.map(|tenant| tenant.id)),
        }
    }

    #[test]
    fn parses_known_scopes_once() {
        let scopes = parse_scopes(["assets:read billing:read", "assets:read"]).unwrap();
        assert_eq!(scopes, [Scope::AssetsRead, Scope::BillingRead]);
        assert!(parse_scopes(["assets:delete"]).is_err());
    }
}
