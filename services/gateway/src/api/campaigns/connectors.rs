//! Connectors: where scheduled posts are published (a signed webhook, a Bluesky account,
//! a Mastodon account). The secret goes in and never comes out.

use super::{
    CampaignUrl, ConnectorBody, ConnectorKindName, ConnectorPageBody, PlatformName,
    check_platforms, check_url, one_of, rules,
};
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject};
use actix_web::{HttpResponse, delete, get, post, web};
use marquee_platform::ExposeSecret;
use marquee_platform::{Error, Problem, SecretString};
use marquee_proto::campaign::v1 as pb;
use serde::Deserialize;
use utoipa::ToSchema;

/// A new connector. A Bluesky connector needs the account's handle (`account`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectorBody {
    #[schema(value_type = ConnectorKindName, example = "mastodon")]
    pub kind: String,
    /// 1 to 120 characters, one line, not blank (stored trimmed).
    #[schema(
        example = "Acme on Mastodon",
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Platforms whose posts it publishes (1 to 8); absent: Bluesky's or Mastodon's own,
    /// every platform for a webhook.
    #[schema(value_type = Option<Vec<PlatformName>>, min_items = 1, max_items = 8, example = json!(["mastodon"]))]
    pub platforms: Option<Vec<String>>,
    /// The webhook's URL, the Bluesky service (e.g. `https://bsky.social`), the Mastodon
    /// instance.
    #[schema(value_type = CampaignUrl, example = "https://mastodon.example")]
    pub endpoint: String,
    /// The Bluesky handle (required for Bluesky); at most 256 characters, one line.
    #[schema(
        example = "",
        max_length = 256,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub account: Option<String>,
    /// The webhook's signing secret, the Bluesky app password or the Mastodon access
    /// token: 1 to 1024 characters, one line, not blank. Stored encrypted; never shown
    /// again.
    #[schema(
        example = "a long random secret",
        min_length = 1,
        max_length = 1024,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        value_type = String,
        write_only
    )]
    pub secret: SecretString,
}

impl CreateConnectorBody {
    /// Checks the connector with the campaign service's rules and codes.
    pub fn check(&self) -> Result<(), Error> {
        one_of(
            "kind",
            &self.kind,
            &rules::CONNECTOR_KINDS,
            "invalid_connector_kind",
        )?;
        validate::text(&rules::CONNECTOR_NAME, &self.name)?;
        check_url("endpoint", &rules::CONNECTOR_ENDPOINT, &self.endpoint)?;
        let account = self.account.as_deref().unwrap_or_default();
        validate::text(&rules::CONNECTOR_ACCOUNT, account)?;
        validate::text(&rules::CONNECTOR_SECRET, self.secret.expose_secret())?;
        if let Some(platforms) = &self.platforms {
            check_platforms("platforms", platforms)?;
        }
        if self.kind == "bluesky" && account.trim().is_empty() {
            return Err(Error::invalid(
                "invalid_account",
                "a Bluesky connector needs the account's handle",
            ));
        }
        Ok(())
    }
}

/// Add a connector
///
/// Scheduled posts of its platforms are published through it. Answers the connector
/// without its secret. Connectors are read through their list.
#[utoipa::path(
    tag = "connectors",
    request_body(
        content = CreateConnectorBody,
        example = json!({"kind": "mastodon", "name": "Acme on Mastodon", "endpoint": "https://mastodon.example", "secret": "a long random secret"})
    ),
    responses(
        (status = 201, description = "The connector (no `Location`: connectors are read through `GET /api/v1/connectors`)", body = ConnectorBody),
        (status = 400, description = "`invalid_connector_kind`, `invalid_name`, `invalid_endpoint`, `invalid_account` (also a Bluesky connector without one), `invalid_secret`, `platforms_required`, `invalid_platform`, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a creator (`forbidden`), or the token lacks `campaigns:write`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/connectors")]
pub async fn create_connector(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonObject<CreateConnectorBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    body.check()?;
    let connector = state
        .campaign
        .grpc()
        .create_connector(for_caller(
            caller.principal(),
            pb::CreateConnectorRequest {
                kind: body.kind,
                name: body.name,
                platforms: body.platforms.unwrap_or_default(),
                endpoint: body.endpoint,
                account: body.account.unwrap_or_default(),
                secret: body.secret.expose_secret().to_string(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(ConnectorBody::from(connector)))
}

/// Your connectors
///
/// Without their secrets (not paged: `next_cursor` is `null`).
#[utoipa::path(
    tag = "connectors",
    responses((status = 200, description = "The connectors", body = ConnectorPageBody)),
)]
#[get("/api/v1/connectors")]
pub async fn list_connectors(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let list = state
        .campaign
        .grpc()
        .list_connectors(for_caller(caller.principal(), pb::ListConnectorsRequest {}))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(ConnectorPageBody::all(list.connectors)))
}

/// Delete a connector
///
/// Its secret goes with it; posts it published stay published.
#[utoipa::path(
    tag = "connectors",
    params(("id" = String, Path, description = "Connector id")),
    responses((status = 204, description = "Deleted")),
)]
#[delete("/api/v1/connectors/{id}")]
pub async fn delete_connector(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .campaign
        .grpc()
        .delete_connector(for_caller(
            caller.principal(),
            pb::DeleteConnectorRequest {
                id: id.into_inner(),
            },
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(json: &str) -> CreateConnectorBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn connectors_are_checked_with_the_services_codes() {
        let ok = r#"{"kind": "webhook", "name": "Hook", "endpoint": "https://hooks.example/in", "secret": "s3cret"}"#;
        assert!(connector(ok).check().is_ok());
        assert!(
            connector(r#"{"kind": "bluesky", "name": "B", "endpoint": "https://bsky.social", "account": "acme.bsky.social", "secret": "app-pass", "platforms": ["bluesky"]}"#)
                .check()
                .is_ok()
        );
        for (json, expected) in [
            (
                r#"{"kind": "ftp", "name": "a", "endpoint": "https://a.example", "secret": "s"}"#,
                "invalid_connector_kind",
            ),
            (
                r#"{"kind": "webhook", "name": " ", "endpoint": "https://a.example", "secret": "s"}"#,
                "invalid_name",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "", "secret": "s"}"#,
                "invalid_endpoint",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "javascript:alert(1)", "secret": "s"}"#,
                "invalid_endpoint",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://u:p@a.example", "secret": "s"}"#,
                "invalid_endpoint",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": " "}"#,
                "invalid_secret",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": "a\nb"}"#,
                "invalid_secret",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": "s", "account": "a\u0000"}"#,
                "invalid_account",
            ),
            (
                r#"{"kind": "bluesky", "name": "a", "endpoint": "https://bsky.social", "secret": "s"}"#,
                "invalid_account",
            ),
            (
                r#"{"kind": "bluesky", "name": "a", "endpoint": "https://bsky.social", "secret": "s", "account": "  "}"#,
                "invalid_account",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": "s", "platforms": []}"#,
                "platforms_required",
            ),
            (
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": "s", "platforms": ["fax"]}"#,
                "invalid_platform",
            ),
        ] {
            let error = connector(json).check().unwrap_err();
            assert_eq!(error.code, expected, "{json}");
            assert!(!error.message.contains("s3cret"));
        }
        let long = format!(
            r#"{{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": "{}"}}"#,
            "x".repeat(1025)
        );
        assert_eq!(connector(&long).check().unwrap_err().code, "invalid_secret");
        assert!(
            serde_json::from_str::<CreateConnectorBody>(
                r#"{"kind": "webhook", "name": "a", "endpoint": "https://a.example", "secret": "s", "token": "t"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn the_secret_never_prints() {
        let body = connector(
            r#"{"kind": "webhook", "name": "Hook", "endpoint": "https://hooks.example", "secret": "hunter2-secret"}"#,
        );
        assert!(!format!("{body:?}").contains("hunter2"));
        let json = serde_json::to_value(ConnectorBody::from(pb::Connector {
            id: "k-1".into(),
            kind: "webhook".into(),
            name: "Hook".into(),
            platforms: vec!["x".into()],
            endpoint: "https://hooks.example/".into(),
            account: String::new(),
            created_at: None,
        }))
        .unwrap();
        assert!(json.get("secret").is_none());
        assert_eq!(json["endpoint"], "https://hooks.example/");
    }
}
