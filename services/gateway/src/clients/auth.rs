//! What only the gateway does with auth: auditing access denials without waiting, and
//! serving as the token verifier's JWKS source and revocation source.

use crate::clients::{AuthClient, anonymous, for_caller};
use crate::request_id::RequestContext;
use crate::revocation::{RevocationPage, RevocationSource, Revoked};
use crate::token::{JwkSet, JwksSource, PublicJwk};
use futures::future::BoxFuture;
use marquee_platform::{Error, Principal};
use marquee_proto::auth::v1::{GetJwksRequest, ListRevocationsRequest, RecordAuditRequest};

/// Records an access denial in auth's audit log without waiting for it.
pub fn record_denied(
    auth: &AuthClient,
    principal: &Principal,
    context: Option<&RequestContext>,
    detail: String,
) {
    let request = for_caller(
        principal,
        RecordAuditRequest {
            action: "access_denied".into(),
            outcome: "denied".into(),
            detail,
            client: context.and_then(RequestContext::client_info),
        },
    );
    let mut client = auth.grpc();
    let span = tracing::Span::current();
    tokio::spawn(tracing::Instrument::instrument(
        async move {
            if let Err(status) = client.record_audit(request).await {
                tracing::warn!(code = ?status.code(), message = status.message(), "could not record access denial");
            }
        },
        span,
    ));
}

impl JwksSource for AuthClient {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, Error>> {
        let mut client = self.grpc();
        Box::pin(async move {
            let jwks = client
                .get_jwks(anonymous(GetJwksRequest {}))
                .await?
                .into_inner();
            Ok(JwkSet {
                keys: jwks
                    .keys
                    .into_iter()
                    .map(|key| PublicJwk {
                        kty: key.kty,
                        crv: key.crv,
                        x: key.x,
                        kid: key.kid,
                        alg: key.alg,
                        use_: key.r#use,
                    })
                    .collect(),
            })
        })
    }
}

impl RevocationSource for AuthClient {
    fn changed_since(&self, cursor: Option<i64>) -> BoxFuture<'_, Result<RevocationPage, Error>> {
        let mut client = self.grpc();
        Box::pin(async move {
            let page = client
                .list_revocations(anonymous(ListRevocationsRequest {
                    changed_since: cursor,
                }))
                .await?
                .into_inner();
            let revoked = page
                .revocations
                .into_iter()
                .map(|revocation| {
                    if revocation.session_id.is_empty() {
                        Revoked::Subject {
                            id: revocation.subject,
                            not_before_ms: revocation.not_before_ms,
                            expires_at: revocation.expires_at,
                        }
                    } else {
                        Revoked::Session {
                            id: revocation.session_id,
                            expires_at: revocation.expires_at,
                        }
                    }
                })
                .collect();
            Ok(RevocationPage {
                revoked,
                as_of: page.as_of,
            })
        })
    }
}
