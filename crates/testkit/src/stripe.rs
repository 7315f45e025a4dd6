//! A local HTTP server that speaks Stripe's wire format, for the real async-stripe
//! client: form-encoded requests under `/v1`, `Authorization: Bearer <secret key>`, JSON
//! objects carrying `object`, lists as `{"object":"list","data":[…]}`, errors as
//! `{"error":{"type","code","message","param"}}`, `Idempotency-Key` replays (same
//! response for the same key and parameters; `idempotency_error` for other parameters).
//! Tests change the account's state with the methods below and build signed webhook
//! events from it, as Stripe's dashboard or a customer would.
//!
//! Used by billing's integration tests (`services/billing/tests/billing/stripe_flows.rs`)
//! and the end-to-end tests through the gateway (`services/marquee/tests/e2e/stripe.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

pub const SECRET_KEY: &str = "sk_test_fake_marquee";
pub const WEBHOOK_SECRET: &str = "whsec_fake_marquee";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    pub stripe_version: Option<String>,
}

impl Recorded {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .chain(self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    seq: u64,
    requests: Vec<Recorded>,
    /// Idempotency key → (method + path + body, status, response).
    idempotent: HashMap<String, (String, u16, Value)>,
    prices: BTreeSet<String>,
    customers: BTreeMap<String, Value>,
    sessions: BTreeMap<String, Value>,
    subscriptions: BTreeMap<String, Value>,
    invoices: BTreeMap<String, Value>,
    /// Meter events Stripe accepted.
    meter_events: Vec<Value>,
    /// (method, path prefix, status): the next matching request fails like this.
    failures: Vec<(String, String, u16)>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_test{:06}", self.seq)
    }
}

pub struct FakeStripe {
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
    /// The base URL to configure as `stripe_api_base` (ends in `/`).
    pub base: String,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"type": kind, "message": message});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    (status, json!({ "error": body }))
}

fn missing(kind: &str, id: &str, param: &str) -> (u16, Value) {
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {kind}: '{id}'"),
        Some(param),
    )
}

/// `metadata[k]=v` → `{"k":"v"}` for the given prefix (`metadata`, `subscription_data[metadata]`).
fn map_param(form: &[(String, String)], prefix: &str) -> Value {
    let start = format!("{prefix}[");
    let mut map = serde_json::Map::new();
    for (key, value) in form {
        if let Some(rest) = key.strip_prefix(&start)
            && let Some(name) = rest.strip_suffix(']')
            && !name.contains('[')
        {
            map.insert(name.to_string(), json!(value));
        }
    }
    Value::Object(map)
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn route(state: &mut State, method: &str, path: &str, request: &Recorded) -> (u16, Value) {
    let form = &request.form;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["v1", "customers"]) => {
            let id = state.id("cus");
            let customer = json!({
                "id": id, "object": "customer", "created": now(), "livemode": false,
                "email": param(form, "email"), "metadata": map_param(form, "metadata"),
            });
            state.customers.insert(id, customer.clone());
            (200, customer)
        }
        ("POST", ["v1", "checkout", "sessions"]) => {
            if param(form, "mode") != Some("subscription") {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: mode.",
                    Some("mode"),
                );
            }
            let Some(customer) = param(form, "customer") else {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: customer.",
                    Some("customer"),
                );
            };
            if !state.customers.contains_key(customer) {
                return missing("customer", customer, "customer");
            }
            let price = param(form, "line_items[0][price]").unwrap_or_default();
            if !state.prices.contains(price) {
                return missing("price", price, "line_items[0][price]");
            }
            if param(form, "success_url").is_none() {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: success_url.",
                    Some("success_url"),
                );
            }
            let id = state.id("cs");
            let session = json!({
                "id": id, "object": "checkout.session", "livemode": false, "mode": "subscription",
                "status": "open", "payment_status": "unpaid",
                "url": format!("https://checkout.stripe.test/c/pay/{id}"),
                "customer": customer, "subscription": null,
                "client_reference_id": param(form, "client_reference_id"),
                "metadata": map_param(form, "metadata"),
                "success_url": param(form, "success_url"), "cancel_url": param(form, "cancel_url"),
                // Kept for completing the session (Stripe keeps them server-side).
                "x_price": price,
                "x_subscription_metadata": map_param(form, "subscription_data[metadata]"),
            });
            state.sessions.insert(id, session.clone());
            (200, session)
        }
        ("GET", ["v1", "checkout", "sessions", id]) => match state.sessions.get(*id) {
            Some(session) => (200, session.clone()),
            None => missing("checkout.session", id, "session"),
        },
        ("GET", ["v1", "subscriptions", id]) => match state.subscriptions.get(*id) {
            Some(subscription) => (200, subscription.clone()),
            None => missing("subscription", id, "id"),
        },
        ("GET", ["v1", "invoices", id]) => match state.invoices.get(*id) {
            Some(invoice) => (200, invoice.clone()),
            None => missing("invoice", id, "invoice"),
        },
        ("GET", ["v1", "invoices"]) => {
            let customer = request.param("customer").map(str::to_string);
            let limit: usize = request
                .param("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(10);
            let mut data: Vec<Value> = state
                .invoices
                .values()
                .filter(|i| customer.as_deref().is_none_or(|c| i["customer"] == c))
                .cloned()
                .collect();
            data.reverse(); // newest first
            let has_more = data.len() > limit;
            data.truncate(limit);
            (
                200,
                json!({"object": "list", "url": "/v1/invoices", "has_more": has_more, "data": data}),
            )
        }
        ("POST", ["v1", "billing_portal", "sessions"]) => {
            let Some(customer) = param(form, "customer") else {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: customer.",
                    Some("customer"),
                );
            };
            if !state.customers.contains_key(customer) {
                return missing("customer", customer, "customer");
            }
            let id = state.id("bps");
            (
                200,
                json!({
                    "id": id, "object": "billing_portal.session", "livemode": false, "created": now(),
                    "customer": customer, "return_url": param(form, "return_url"),
                    "url": format!("https://billing.stripe.test/p/session/{id}"),
                }),
            )
        }
        ("POST", ["v1", "billing", "meter_events"]) => {
            let (Some(event_name), Some(customer), Some(value)) = (
                param(form, "event_name"),
                param(form, "payload[stripe_customer_id]"),
                param(form, "payload[value]"),
            ) else {
                return error(
                    400,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: event_name or payload.",
                    Some("payload"),
                );
            };
            let event = json!({
                "object": "billing.meter_event", "livemode": false, "created": now(),
                "event_name": event_name, "identifier": param(form, "identifier"),
                "payload": {"stripe_customer_id": customer, "value": value},
                "timestamp": param(form, "timestamp").and_then(|t| t.parse::<i64>().ok()),
            });
            state.meter_events.push(event.clone());
            (200, event)
        }
        _ => error(
            404,
            "invalid_request_error",
            None,
            &format!("Unrecognized request URL ({method}: {path})."),
            None,
        ),
    }
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Mutex<State>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let method = req.method().as_str().to_string();
    let path = req.path().to_string();
    let (status, response) = {
        let mut state = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        answer(&mut state, &method, &path, &req, &body, header)
    };
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .insert_header(("request-id", "req_fake"))
        .json(response)
}

fn answer(
    state: &mut State,
    method: &str,
    path: &str,
    req: &HttpRequest,
    body: &[u8],
    header: impl Fn(&str) -> Option<String>,
) -> (u16, Value) {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let recorded = Recorded {
        method: method.to_string(),
        path: path.to_string(),
        query,
        form,
        idempotency_key: header("idempotency-key"),
        content_type: header("content-type"),
        stripe_version: header("stripe-version"),
    };
    state.requests.push(recorded.clone());
    if header("authorization").as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        return error(
            401,
            "invalid_request_error",
            None,
            "Invalid API Key provided: sk_test_****",
            None,
        );
    }
    if method == "POST"
        && recorded.content_type.as_deref() != Some("application/x-www-form-urlencoded")
    {
        return error(
            400,
            "invalid_request_error",
            None,
            "Invalid request: bodies must be form-encoded.",
            None,
        );
    }
    // Stripe compares the parameters, not their order (async-stripe encodes maps in
    // hash order, which differs between two otherwise equal requests).
    let mut params = recorded.form.clone();
    params.sort();
    let fingerprint = format!("{method} {path} {params:?}");
    if let Some(key) = &recorded.idempotency_key
        && let Some((seen, status, response)) = state.idempotent.get(key)
    {
        return if *seen == fingerprint {
            (*status, response.clone())
        } else {
            error(
                400,
                "idempotency_error",
                None,
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
                None,
            )
        };
    }
    if let Some(at) = state
        .failures
        .iter()
        .position(|(m, prefix, _)| m == method && path.starts_with(prefix.as_str()))
    {
        let (_, _, status) = state.failures.remove(at);
        // Stripe does not store failed (5xx) requests under their idempotency key.
        return error(
            status,
            "api_error",
            None,
            "An unknown error occurred (fake outage).",
            None,
        );
    }
    let (status, response) = route(state, method, path, &recorded);
    if let Some(key) = recorded.idempotency_key
        && method == "POST"
        && status < 500
    {
        state
            .idempotent
            .insert(key, (fingerprint, status, response.clone()));
    }
    (status, response)
}

impl FakeStripe {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        // Stripe's requests are small forms; actix's default body limit (256 kB) fits.
        let (handle, base) = crate::fake_server::start("Stripe", state.clone(), 256 * 1024, handle);
        Self {
            state,
            handle,
            base,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn add_price(&self, id: &str) {
        self.state().prices.insert(id.to_string());
    }

    /// The next `method` request whose path starts with `prefix` fails with `status`.
    pub fn fail_next(&self, method: &str, prefix: &str, status: u16) {
        self.state()
            .failures
            .push((method.to_string(), prefix.to_string(), status));
    }

    pub fn requests(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    pub fn meter_events(&self) -> Vec<Value> {
        self.state().meter_events.clone()
    }

    pub fn session(&self, id: &str) -> Value {
        self.state().sessions[id].clone()
    }

    pub fn subscription(&self, id: &str) -> Value {
        self.state().subscriptions[id].clone()
    }

    pub fn invoice(&self, id: &str) -> Value {
        self.state().invoices[id].clone()
    }

    /// The customer pays: the session completes, a subscription (active) and its paid
    /// first invoice exist. Returns the subscription id.
    pub fn complete_checkout(&self, session_id: &str) -> String {
        let mut state = self.state();
        let session = state.sessions[session_id].clone();
        let subscription_id = state.id("sub");
        let item = state.id("si");
        let created = now();
        let subscription = json!({
            "id": subscription_id, "object": "subscription", "livemode": false,
            "created": created, "customer": session["customer"], "status": "active",
            "cancel_at_period_end": false, "collection_method": "charge_automatically",
            "metadata": session["x_subscription_metadata"],
            "items": {"object": "list", "has_more": false,
                "url": format!("/v1/subscription_items?subscription={subscription_id}"),
                "data": [{"id": item, "object": "subscription_item", "quantity": 1,
                    "current_period_start": created, "current_period_end": created + 30 * 86400,
                    "price": {"id": session["x_price"], "object": "price", "currency": "usd"}}]},
        });
        state
            .subscriptions
            .insert(subscription_id.clone(), subscription);
        let entry = state.sessions.get_mut(session_id).expect("session");
        entry["status"] = json!("complete");
        entry["payment_status"] = json!("paid");
        entry["subscription"] = json!(subscription_id);
        drop(state);
        self.create_invoice(&subscription_id, "paid");
        subscription_id
    }

    /// Changes a subscription the way the dashboard, the portal or dunning would.
    pub fn update_subscription(&self, id: &str, change: impl FnOnce(&mut Value)) {
        change(
            self.state()
                .subscriptions
                .get_mut(id)
                .expect("subscription"),
        );
    }

    pub fn set_price(&self, subscription_id: &str, price: &str) {
        self.update_subscription(subscription_id, |s| {
            s["items"]["data"][0]["price"]["id"] = json!(price);
        });
    }

    pub fn set_status(&self, subscription_id: &str, status: &str) {
        self.update_subscription(subscription_id, |s| s["status"] = json!(status));
    }

    /// A new invoice for the subscription (`paid` or `open`). Returns its id.
    pub fn create_invoice(&self, subscription_id: &str, status: &str) -> String {
        let mut state = self.state();
        let subscription = state.subscriptions[subscription_id].clone();
        let id = state.id("in");
        let paid = status == "paid";
        let invoice = json!({
            "id": id, "object": "invoice", "livemode": false, "created": now(),
            "customer": subscription["customer"], "status": status,
            "number": format!("FAKE-{:04}", state.invoices.len() + 1),
            "currency": "usd", "amount_due": 1900, "amount_paid": if paid { 1900 } else { 0 },
            "hosted_invoice_url": format!("https://invoice.stripe.test/i/{id}"),
            "parent": {"type": "subscription_details", "quote_details": null,
                "subscription_details": {"metadata": {}, "subscription": subscription_id}},
        });
        state.invoices.insert(id.clone(), invoice);
        id
    }

    /// A Stripe `Event` (JSON text) of `event_type` carrying `object` as it is now.
    pub fn event(&self, event_type: &str, object: Value) -> String {
        let id = self.state().id("evt");
        json!({
            "id": id, "object": "event", "api_version": "2025-09-30.clover",
            "created": now(), "livemode": false, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": event_type, "data": {"object": object},
        })
        .to_string()
    }
}

/// A `Stripe-Signature` header for `payload` at `timestamp`, one `v1` per secret.
pub fn signature(payload: &str, timestamp: i64, secrets: &[&str]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(format!("{timestamp}.{payload}").as_bytes());
        header.push_str(&format!(",v1={}", hex::encode(mac.finalize().into_bytes())));
    }
    header
}

/// Signs `payload` now with the configured webhook secret.
pub fn sign(payload: &str) -> String {
    signature(payload, now(), &[WEBHOOK_SECRET])
}
