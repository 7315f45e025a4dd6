//! Inbound Stripe webhooks: the RAW body (never re-serialised, the signature covers its
//! bytes) and the `Stripe-Signature` header go to billing over gRPC, which verifies,
//! stores and answers at once; processing happens asynchronously in billing.

use crate::AppState;
use crate::clients::anonymous;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures::StreamExt;
use marquee_platform::{Error, ErrorKind};
use marquee_proto::billing::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

/// Longest `Stripe-Signature` header accepted.
const MAX_SIGNATURE: usize = 4096;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    pub event_id: String,
    /// False when the event had been received before (a redelivery).
    pub accepted: bool,
}

/// Stripe webhook endpoint
///
/// Authenticated by the `Stripe-Signature` header (HMAC-SHA256, verified by billing);
/// a missing or bad signature is 400 and nothing is stored.
#[utoipa::path(
    tag = "webhooks",
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature of the raw body: `t=<unix time>,v1=<hex HMAC-SHA256>`; at most 4096 characters", max_length = 4096)),
    request_body(content = serde_json::Value, content_type = "application/json", description = "A Stripe event, exactly as Stripe sent it (the signature covers these bytes)"),
    responses(
        (status = 200, description = "Stored", body = WebhookAck),
        (status = 400, description = "A missing or bad signature (`invalid_signature`, nothing is stored) or an unreadable event (`invalid_payload`)", body = marquee_platform::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the webhook limit (`payload_too_large`)", body = marquee_platform::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/api/v1/webhooks/stripe")]
pub async fn stripe(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let limit = state.settings.webhook_body_limit;
    let signature = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_SIGNATURE)
        .ok_or_else(|| {
            Error::invalid(
                "invalid_signature",
                "the Stripe-Signature header is missing or too long",
            )
        })?
        .to_string();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::invalid("invalid_body", e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::new(
                ErrorKind::PayloadTooLarge,
                "payload_too_large",
                format!("the body exceeds {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let ack = state
        .billing
        .grpc()
        .handle_stripe_webhook(anonymous(pb::StripeWebhookRequest {
            payload: body.freeze().to_vec(),
            signature,
        }))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(WebhookAck {
        event_id: ack.event_id,
        accepted: ack.accepted,
    }))
}
