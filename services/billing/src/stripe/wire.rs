//! The fields of Stripe objects billing reads (JSON, deserialised with miniserde as
//! async-stripe does). Unknown fields are ignored.

use miniserde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct Customer {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub url: Option<String>,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub client_reference_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PortalSession {
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct MeterEvent {
    pub identifier: String,
}

#[derive(Debug, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    pub status: String,
    pub cancel_at_period_end: bool,
    pub metadata: BTreeMap<String, String>,
    pub items: List<SubscriptionItem>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionItem {
    pub price: Price,
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Price {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub number: Option<String>,
    pub status: Option<String>,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    pub hosted_invoice_url: Option<String>,
    pub created: i64,
    pub customer: Option<String>,
    pub parent: Option<InvoiceParent>,
}

impl Invoice {
    /// The subscription the invoice bills, if any.
    pub fn subscription(&self) -> Option<&str> {
        self.parent
            .as_ref()?
            .subscription_details
            .as_ref()?
            .subscription
            .as_deref()
    }
}

#[derive(Debug, Deserialize)]
pub struct InvoiceParent {
    pub subscription_details: Option<SubscriptionDetails>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionDetails {
    pub subscription: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_with_extra_and_missing_optional_fields() {
        let subscription: Subscription = miniserde::json::from_str(
            r#"{"id":"sub_1","object":"subscription","customer":"cus_1","status":"active",
            "cancel_at_period_end":false,"metadata":{"tenant_id":"t1"},"livemode":false,
            "items":{"object":"list","data":[{"id":"si_1","price":{"id":"price_pro"},
            "current_period_end":1800000000}]}}"#,
        )
        .unwrap();
        assert_eq!(subscription.items.data[0].price.id, "price_pro");
        assert_eq!(subscription.metadata["tenant_id"], "t1");
        let invoice: Invoice = miniserde::json::from_str(
            r#"{"id":"in_1","number":null,"status":"paid","amount_due":900,"amount_paid":900,
            "currency":"usd","hosted_invoice_url":null,"created":1,"customer":"cus_1",
            "parent":{"subscription_details":{"subscription":"sub_1"}}}"#,
        )
        .unwrap();
        assert_eq!(invoice.subscription(), Some("sub_1"));
    }
}
