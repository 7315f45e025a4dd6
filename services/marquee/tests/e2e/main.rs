//! End-to-end: start the embedded fleet (auth + gateway on loopback ports, real gRPC
//! between them) and drive the REST API like a client would.

mod accounts;
mod admin;
mod amqp;
mod auth_flow;
mod billing;
mod browser;
mod campaign;
mod community;
mod content;
mod edges;
mod hostile_input;
mod isolation;
mod keys;
mod lockout;
mod membership;
mod metrics_contract;
mod partner;
mod problems;
mod quota;
mod rate_limit;
mod service_identity;
mod sessions;
mod stripe;
mod tagging;
mod tokens;
mod traces;

use marquee::{Fleet, FleetSettings, Transport};
use marquee_auth::AuthSettings;
use marquee_content::ContentSettings;
use marquee_gateway::GatewaySettings;
use marquee_platform::SecretString;
use marquee_testkit::amqp::{BrokerLock, Topology, amqp_url, unique_name};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@marquee.test";
pub const ADMIN_PASSWORD: &str = "admin password 123";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestFleet {
    pub url: String,
    pub http: reqwest::Client,
    pub data_dir: std::path::PathBuf,
    pub auth_settings: AuthSettings,
    fleet: Fleet,
    _dir: tempfile::TempDir,
    _database: Option<marquee_testkit::TestDatabase>,
    _content_database: Option<marquee_testkit::TestDatabase>,
    _tagging_database: Option<marquee_testkit::TestDatabase>,
    _campaign_database: Option<marquee_testkit::TestDatabase>,
    _topology: Option<Topology>,
    // Last: released once everything else is gone.
    _broker_lock: Option<BrokerLock>,
}

pub struct Options {
    /// Auth and content on PostgreSQL (a database each, dropped afterwards).
    pub postgres: bool,
    /// Content's (and billing's) bus on RabbitMQ, with an exchange of this fleet's own;
    /// the fleet holds the broker lock (shared) while it lives.
    pub amqp: bool,
    pub gateway: Box<dyn FnOnce(&mut GatewaySettings) + Send>,
    pub auth: Box<dyn FnOnce(&mut AuthSettings) + Send>,
    pub content: Box<dyn FnOnce(&mut ContentSettings) + Send>,
    pub billing: Box<dyn FnOnce(&mut marquee_billing::BillingSettings) + Send>,
    /// Tagging runs without models unless this sets `models_dir` (see [`with_models`]):
    /// most tests don't need AI tags, and loading the models costs every fleet time.
    pub tagging: Box<dyn FnOnce(&mut marquee_tagging::TaggingSettings) + Send>,
    /// The campaign studio writes with the rules composer unless this chooses the local
    /// model (see [`with_local_model`]): loading it costs every fleet time and memory.
    pub campaign: Box<dyn FnOnce(&mut marquee_campaign::CampaignSettings) + Send>,
}

/// The campaign studio on the local model (`make models` puts it in `<repo>/models`).
pub fn with_local_model(campaign: &mut marquee_campaign::CampaignSettings) {
    campaign.models_dir = models_dir();
    campaign.provider = marquee_campaign::settings::ProviderChoice::Local;
    // Tests run side by side: one thread keeps ~25 tokens/s however busy the cores are.
    campaign.local_model_threads = 1;
}

/// Tagging with the real models (`make models` puts them in `<repo>/models`).
pub fn with_models(tagging: &mut marquee_tagging::TaggingSettings) {
    tagging.models_dir = models_dir();
}

/// The models `make models` made: `MARQUEE_MODELS_DIR`, else `<repo>/models`.
pub fn models_dir() -> std::path::PathBuf {
    std::env::var_os("MARQUEE_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

impl Default for Options {
    fn default() -> Self {
        Self {
            postgres: false,
            amqp: false,
            gateway: Box::new(|_| {}),
            auth: Box::new(|_| {}),
            content: Box::new(|_| {}),
            billing: Box::new(|_| {}),
            tagging: Box::new(|_| {}),
            campaign: Box::new(|_| {}),
        }
    }
}

/// Starts a fleet of its own: a temp data dir, free ports, a bootstrap admin, and
/// settings from code only (the test process's environment is not read).
pub async fn spawn_fleet(options: Options) -> TestFleet {
    marquee_platform::install_crypto_provider();
    marquee_platform::telemetry::init_for_tests();
    // Before anything runs: the broker-restart test may hold the broker.
    let broker_lock = options.amqp.then(BrokerLock::shared);
    let dir = tempfile::tempdir().unwrap();
    let mut auth = AuthSettings {
        data_dir: dir.path().to_path_buf(),
        bootstrap_admin_email: Some(ADMIN_EMAIL.into()),
        bootstrap_admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        key_reload_secs: 1,
        ..Default::default()
    };
    let database = if options.postgres {
        let database = marquee_testkit::TestDatabase::create("e2e").await.unwrap();
        auth.database_url = Some(SecretString::from(database.url.clone()));
        // Required with PostgreSQL (replicas share it): seals the signing keys.
        auth.kek.key = Some(SecretString::from(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string(),
        ));
        Some(database)
    } else {
        None
    };
    (options.auth)(&mut auth);
    let mut gateway = GatewaySettings {
        workers: 1,
        access_log: false,
        ..Default::default()
    };
    (options.gateway)(&mut gateway);
    let mut content = ContentSettings {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    // The in-process bus is shared per process and exchange: one exchange per fleet.
    content.bus.exchange = unique_name("marquee.e2e");
    content.bus.outbox.poll_interval_ms = 50;
    let content_database = if options.postgres {
        let database = marquee_testkit::TestDatabase::create("e2e_content")
            .await
            .unwrap();
        content.database_url = Some(SecretString::from(database.url.clone()));
        Some(database)
    } else {
        None
    };
    if options.amqp {
        content.bus.amqp_url = Some(SecretString::from(amqp_url()));
    }
    (options.content)(&mut content);
    let topology = options.amqp.then(|| {
        amqp::topology(
            &content.bus,
            &[
                marquee_content::events::processing_worker::CONSUMER,
                marquee_content::events::quota_worker::CONSUMER,
                marquee_tagging::events::asset_worker::CONSUMER,
                marquee_tagging::events::signal_worker::CONSUMER,
            ],
        )
    });
    let auth_settings = auth.clone();
    let mut billing = marquee_billing::BillingSettings {
        data_dir: dir.path().to_path_buf(),
        // The same in-process exchange as content: one bus per fleet.
        bus: content.bus.clone(),
        ..Default::default()
    };
    (options.billing)(&mut billing);
    let mut tagging = marquee_tagging::TaggingSettings {
        data_dir: dir.path().to_path_buf(),
        models_dir: dir.path().join("no-models"),
        bus: content.bus.clone(),
        ..Default::default()
    };
    let tagging_database = if options.postgres {
        let database = marquee_testkit::TestDatabase::create("e2e_tagging")
            .await
            .unwrap();
        tagging.database_url = Some(SecretString::from(database.url.clone()));
        Some(database)
    } else {
        None
    };
    (options.tagging)(&mut tagging);
    let mut campaign = marquee_campaign::CampaignSettings {
        data_dir: dir.path().to_path_buf(),
        models_dir: dir.path().join("no-models"),
        provider: marquee_campaign::settings::ProviderChoice::Rules,
        scheduler_interval_ms: 100,
        bus: content.bus.clone(),
        ..Default::default()
    };
    let campaign_database = if options.postgres {
        let database = marquee_testkit::TestDatabase::create("e2e_campaign")
            .await
            .unwrap();
        campaign.database_url = Some(SecretString::from(database.url.clone()));
        // Required with PostgreSQL (replicas share it); a fixed test key.
        campaign.connector_key = Some(SecretString::from(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string(),
        ));
        Some(database)
    } else {
        None
    };
    (options.campaign)(&mut campaign);
    let settings = FleetSettings {
        auth,
        gateway,
        content,
        billing,
        tagging,
        campaign,
        // Both transports stay exercised end to end: the embedded default's in-process
        // calls, and TCP (as separate processes call each other) with PostgreSQL.
        transport: if options.postgres {
            Transport::Tcp
        } else {
            Transport::InProcess
        },
    };
    let fleet = Fleet::start(settings, "127.0.0.1:0").await.unwrap();
    TestFleet {
        url: fleet.gateway_url.clone(),
        http: reqwest::Client::new(),
        data_dir: dir.path().to_path_buf(),
        auth_settings,
        fleet,
        _dir: dir,
        _database: database,
        _content_database: content_database,
        _tagging_database: tagging_database,
        _campaign_database: campaign_database,
        _topology: topology,
        _broker_lock: broker_lock,
    }
}

impl TestFleet {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(self.at(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_with(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .post(self.at(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_with(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.at(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Registers a user and returns the session JSON.
    pub async fn register(&self, email: &str) -> Value {
        let response = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": PASSWORD, "display_name": "Test User"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// An invitation into `tenant_id` for `email` with `role`, made by `token`'s user
    /// (an admin or the tenant's owner); returns the created invitation's JSON.
    pub async fn invite(&self, token: &str, tenant_id: &str, email: &str, role: &str) -> Value {
        let response = self
            .post_with(
                "/api/v1/tenant/invitations",
                token,
                json!({"email": email, "role": role, "tenant_id": tenant_id}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "invite {email}");
        response.json().await.unwrap()
    }

    /// Registers `email` into `tenant_id` with an invitation from the admin (a tenant
    /// other than the default one needs one); the register response.
    pub async fn register_in(&self, tenant_id: &str, email: &str) -> Response {
        let admin = self.admin_token().await;
        let invitation = self.invite(&admin, tenant_id, email, "creator").await;
        self.post(
            "/api/v1/auth/register",
            json!({
                "email": email, "password": PASSWORD, "display_name": "Member",
                "tenant_id": tenant_id, "invitation": invitation["token"]
            }),
        )
        .await
    }

    /// A new tenant (made by the admin) whose first owner, `email`, joined by
    /// invitation; returns the tenant id and the owner's session JSON.
    pub async fn tenant_with_owner(&self, slug: &str, email: &str) -> (String, Value) {
        let admin = self.admin_token().await;
        let tenant = self
            .post_with(
                "/api/v1/admin/tenants",
                &admin,
                json!({"name": slug, "slug": slug}),
            )
            .await;
        assert_eq!(tenant.status(), StatusCode::CREATED, "tenant {slug}");
        let tenant_id = tenant.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let invitation = self.invite(&admin, &tenant_id, email, "owner").await;
        let response = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": PASSWORD, "invitation": invitation["token"]}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "owner {email}");
        let session: Value = response.json().await.unwrap();
        assert_eq!(session["user"]["tenant_id"], tenant_id.as_str());
        (tenant_id, session)
    }

    /// Signs `email` (password [`PASSWORD`]) into `tenant_id`; the session JSON.
    pub async fn login_in(&self, tenant_id: &str, email: &str) -> Value {
        let response = self
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": PASSWORD, "tenant_id": tenant_id}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login as {email}");
        response.json().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let response = self
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login as {email}");
        response.json().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The running fleet (its services' addresses).
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    pub async fn stop(mut self) {
        self.fleet.stop().await;
    }
}

/// Asserts an RFC 9457 problem with the given status and code; returns its body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status for expected code {code}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type:?} for {code}"
    );
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "problem body: {body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["type"].is_string() && body["detail"].is_string());
    assert!(request_id.is_some(), "every response carries X-Request-Id");
    assert_eq!(body["request_id"].as_str(), request_id.as_deref());
    body
}
