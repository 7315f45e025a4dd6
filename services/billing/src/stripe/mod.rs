//! Stripe through async-stripe 1.0 (the split crates): the client, the typed request
//! builders (form encoding, paths) and idempotency keys come from the library. Responses
//! are read into the few fields billing uses (`wire`), so a newer API version adding or
//! reshaping fields we ignore cannot break deserialisation.

pub mod wire;

use crate::error::BillingError;
use std::collections::HashMap;
use stripe::{Client, ClientBuilder, StripeError};
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};

/// The calls billing makes to Stripe.
#[derive(Clone)]
pub struct StripeApi {
    client: Client,
}

fn idempotent(key: &str) -> Result<RequestStrategy, BillingError> {
    // Stripe caps keys at 255 characters.
    let key: String = key.chars().take(255).collect();
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| BillingError::invalid("invalid_idempotency_key", format!("{e:?}")))
}

fn stripe_error(error: StripeError) -> BillingError {
    match error {
        // 401/403 (a revoked or wrong key) are our configuration, not the caller's request.
        StripeError::Stripe(api, status)
            if (400..500).contains(&status) && !matches!(status, 401 | 403 | 429) =>
        {
            BillingError::StripeRejected(api.message.unwrap_or_else(|| format!("status {status}")))
        }
        other => BillingError::Stripe(other.to_string()),
    }
}

impl StripeApi {
    /// A client for `secret_key`, against `api_base` when given (tests), else Stripe.
    pub fn new(secret_key: &str, api_base: Option<&str>) -> Result<Self, BillingError> {
        let mut builder = ClientBuilder::new(secret_key).app_info(
            "marquee-billing",
            Some(env!("CARGO_PKG_VERSION").to_string()),
            None,
        );
        if let Some(base) = api_base {
            let base = if base.ends_with('/') {
                base.to_string()
            } else {
                format!("{base}/")
            };
            builder = builder.url(base);
        }
        let client = builder
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|e| BillingError::Internal(format!("stripe client: {e}")))?;
        Ok(Self { client })
    }

    /// Creates the tenant's customer; the key makes a retry return the same customer.
    pub async fn create_customer(
        &self,
        tenant_id: &str,
        email: &str,
        idempotency_key: &str,
    ) -> Result<wire::Customer, BillingError> {
        let mut request = stripe_core::customer::CreateCustomer::new().metadata(HashMap::from([(
            "tenant_id".to_string(),
            tenant_id.to_string(),
        )]));
        if !email.is_empty() {
            request = request.email(email);
        }
        request
            .build()
            .customize::<wire::Customer>()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(stripe_error)
    }

    /// A subscription-mode Checkout Session for one price.
    pub async fn create_checkout_session(
        &self,
        checkout: &CheckoutRequest<'_>,
    ) -> Result<wire::CheckoutSession, BillingError> {
        use stripe_checkout::checkout_session::{
            CreateCheckoutSession, CreateCheckoutSessionLineItems,
            CreateCheckoutSessionSubscriptionData,
        };
        let metadata = HashMap::from([
            ("tenant_id".to_string(), checkout.tenant_id.to_string()),
            ("plan".to_string(), checkout.plan.to_string()),
        ]);
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(checkout.price_id.to_string());
        item.quantity = Some(1);
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        subscription_data.metadata = Some(metadata.clone());
        CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Subscription)
            .customer(checkout.customer_id)
            .client_reference_id(checkout.tenant_id)
            .line_items(vec![item])
            .subscription_data(subscription_data)
            .metadata(metadata)
            .success_url(checkout.success_url)
            .cancel_url(checkout.cancel_url)
            .build()
            .customize::<wire::CheckoutSession>()
            .request_strategy(idempotent(checkout.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(stripe_error)
    }

    pub async fn create_portal_session(
        &self,
        customer_id: &str,
        return_url: &str,
        idempotency_key: &str,
    ) -> Result<wire::PortalSession, BillingError> {
        stripe_billing::billing_portal_session::CreateBillingPortalSession::new()
            .customer(customer_id)
            .return_url(return_url)
            .build()
            .customize::<wire::PortalSession>()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(stripe_error)
    }

    pub async fn retrieve_checkout_session(
        &self,
        id: &str,
    ) -> Result<wire::CheckoutSession, BillingError> {
        stripe_checkout::checkout_session::RetrieveCheckoutSession::new(id)
            .build()
            .customize::<wire::CheckoutSession>()
            .send(&self.client)
            .await
            .map_err(stripe_error)
    }

    pub async fn retrieve_subscription(
        &self,
        id: &str,
    ) -> Result<wire::Subscription, BillingError> {
        stripe_billing::subscription::RetrieveSubscription::new(id)
            .build()
            .customize::<wire::Subscription>()
            .send(&self.client)
            .await
            .map_err(stripe_error)
    }

    pub async fn retrieve_invoice(&self, id: &str) -> Result<wire::Invoice, BillingError> {
        stripe_billing::invoice::RetrieveInvoice::new(id)
            .build()
            .customize::<wire::Invoice>()
            .send(&self.client)
            .await
            .map_err(stripe_error)
    }

    pub async fn list_invoices(
        &self,
        customer_id: &str,
        limit: u32,
    ) -> Result<Vec<wire::Invoice>, BillingError> {
        let list = stripe_billing::invoice::ListInvoice::new()
            .customer(customer_id)
            .limit(i64::from(limit.clamp(1, 100)))
            .build()
            .customize::<wire::List<wire::Invoice>>()
            .send(&self.client)
            .await
            .map_err(stripe_error)?;
        Ok(list.data)
    }

    /// Sends a Billing Meter event; Stripe deduplicates on `identifier`.
    pub async fn create_meter_event(
        &self,
        event_name: &str,
        customer_id: &str,
        value: i64,
        identifier: &str,
        timestamp: i64,
    ) -> Result<(), BillingError> {
        let payload = HashMap::from([
            ("stripe_customer_id".to_string(), customer_id.to_string()),
            ("value".to_string(), value.to_string()),
        ]);
        stripe_billing::billing_meter_event::CreateBillingMeterEvent::new(event_name, payload)
            .identifier(identifier)
            .timestamp(timestamp)
            .build()
            .customize::<wire::MeterEvent>()
            .request_strategy(idempotent(&format!("meter-{identifier}"))?)
            .send(&self.client)
            .await
            .map_err(stripe_error)?;
        Ok(())
    }
}

pub struct CheckoutRequest<'a> {
    pub tenant_id: &'a str,
    pub plan: &'a str,
    pub price_id: &'a str,
    pub customer_id: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub idempotency_key: &'a str,
}
