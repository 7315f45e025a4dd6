//! Every metric the alerts, dashboards and canary analyses read is one the services
//! export, with label values they emit: the fleet runs with admin listeners, each route
//! family is exercised, every service's `/metrics` is scraped, and the queries of
//! `deploy/prometheus/marquee-rules.yaml`, `deploy/grafana/*.json`,
//! `helm/marquee/templates/analysistemplates.yaml` and `helm/marquee/values.yaml`
//! (`analysis`) are read with a small extractor: metric names, and label matchers
//! (`label="v"`, `label=~"a|b"`, `!=`, `!~`) on them.
//!
//! A name or value only failures produce cannot show up in a healthy run: those are in
//! [`ERROR_ONLY`], each naming the source file that emits it (checked to contain it).

use super::content::{png, processed, token_of, upload};
use super::{Options, TestFleet, spawn_fleet};
use marquee_platform::SecretString;
use marquee_testkit::stripe::{FakeStripe, SECRET_KEY, WEBHOOK_SECRET, sign};
use regex::Regex;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Labels Prometheus adds to every series (scrape target, ServiceMonitor
/// `podTargetLabels`), not the services: not checked.
const TARGET_LABELS: [&str; 6] = [
    "namespace",
    "service",
    "pod",
    "instance",
    "job",
    "rollouts_pod_template_hash",
];

/// Series Prometheus makes itself.
const PROMETHEUS_SERIES: [&str; 1] = ["up"];

/// (metric, `Some((label, value))` or `None` for the metric itself, emitting file,
/// literal in it).
type ErrorOnly = (
    &'static str,
    Option<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

/// What only failures (or the AI models, a remote AI provider, or the tenant operator)
/// emit: (metric, label, value — `None` for the metric itself), the file that emits it,
/// the literal that file must contain.
const ERROR_ONLY: [ErrorOnly; 15] = [
    // An asset tagged by the models: the fleet here runs tagging without them.
    (
        "marquee_tagging_assets_tagged_total",
        None,
        "services/tagging/src/domain/assets.rs",
        r#"metrics::counter!("marquee_tagging_assets_tagged_total")"#,
    ),
    (
        "marquee_tagging_failures_total",
        None,
        "services/tagging/src/domain/assets.rs",
        r#"metrics::counter!("marquee_tagging_failures_total")"#,
    ),
    // Gemini calls: only with an API key (the fleet has none).
    (
        "marquee_tagging_remote_calls_total",
        None,
        "services/tagging/src/domain/tagger.rs",
        r#""marquee_tagging_remote_calls_total", "outcome" => "ok""#,
    ),
    (
        "marquee_tagging_remote_calls_total",
        Some(("outcome", "failed")),
        "services/tagging/src/domain/tagger.rs",
        r#""marquee_tagging_remote_calls_total", "outcome" => "failed""#,
    ),
    (
        "marquee_bus_dead_letters_total",
        None,
        "crates/bus/src/metrics.rs",
        r#"metrics::counter!(DEAD_LETTERS"#,
    ),
    (
        "marquee_bus_retries_total",
        None,
        "crates/bus/src/metrics.rs",
        r#"metrics::counter!(RETRIES"#,
    ),
    // Storing a verified event failed (answered 5xx; Stripe retries).
    (
        "marquee_billing_webhook_events_total",
        Some(("outcome", "error")),
        "services/billing/src/domain/webhooks.rs",
        r#"count(event_type, "error")"#,
    ),
    // Any 5xx answer: the status is the response's.
    (
        "http_requests_total",
        Some(("status", "5..")),
        "services/gateway/src/observe.rs",
        r#""status" => status.to_string()"#,
    ),
    // Excluded defensively: the gateway answers /metrics 404 (`unmatched`), metrics are
    // on the admin port, which counts no requests.
    (
        "http_requests_total",
        Some(("route", "/metrics")),
        "services/gateway/src/observe.rs",
        "const UNMATCHED",
    ),
    (
        "http_request_duration_seconds_bucket",
        Some(("route", "/metrics")),
        "services/gateway/src/observe.rs",
        "const UNMATCHED",
    ),
    // The tenant operator runs only in a cluster (the embedded fleet has none); its own
    // test renders these (services/tenant-operator/src/controller/tests.rs).
    (
        "marquee_tenant_operator_reconciles_total",
        None,
        "services/tenant-operator/src/controller/metrics.rs",
        r#""marquee_tenant_operator_reconciles_total", "outcome" => outcome"#,
    ),
    (
        "marquee_tenant_operator_reconcile_errors_total",
        None,
        "services/tenant-operator/src/controller/metrics.rs",
        r#""marquee_tenant_operator_reconcile_errors_total","#,
    ),
    (
        "marquee_tenant_operator_reconcile_duration_seconds_bucket",
        None,
        "services/tenant-operator/src/controller/metrics.rs",
        r#"metrics::histogram!("marquee_tenant_operator_reconcile_duration_seconds")"#,
    ),
    (
        "marquee_tenant_operator_tenants_not_ready",
        None,
        "services/tenant-operator/src/controller/metrics.rs",
        r#"metrics::gauge!("marquee_tenant_operator_tenants_not_ready")"#,
    ),
    (
        "marquee_tenant_operator_leader",
        None,
        "services/tenant-operator/src/controller/metrics.rs",
        r#"metrics::gauge!("marquee_tenant_operator_leader")"#,
    ),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A free loopback port for an admin listener.
fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// Samples of a scrape: metric name → label → values.
type Scraped = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn parse_exposition(text: &str, into: &mut Scraped) {
    let label = Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#).unwrap();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = into.entry(line[..name_end].to_string()).or_default();
        if line[name_end..].starts_with('{')
            && let Some(close) = line.rfind('}')
        {
            for found in label.captures_iter(&line[name_end + 1..close]) {
                labels
                    .entry(found[1].to_string())
                    .or_default()
                    .insert(found[2].to_string());
            }
        }
    }
}

/// One label matcher of a query, on the metric it selects.
#[derive(Debug)]
struct Matcher {
    file: String,
    metric: String,
    label: String,
    op: String,
    value: String,
}

/// The query texts of a file: the rule file and the templates whole, the dashboards'
/// `expr` / `query` strings, and values.yaml's `analysis` block.
fn queries(path: &str) -> Vec<String> {
    let text = read(path);
    if path.ends_with(".json") {
        let document: Value = serde_json::from_str(&text).unwrap();
        let mut found = Vec::new();
        collect_queries(&document, &mut found);
        found
    } else if path.ends_with("values.yaml") {
        // The top-level `analysis:` key, to the next top-level key.
        let block: Vec<&str> = text
            .lines()
            .skip_while(|line| !line.starts_with("analysis:"))
            .enumerate()
            .take_while(|(i, line)| *i == 0 || !line.starts_with(|c: char| c.is_ascii_alphabetic()))
            .map(|(_, line)| line)
            .collect();
        assert!(!block.is_empty(), "values.yaml has an analysis block");
        vec![block.join("\n")]
    } else {
        vec![text]
    }
}

fn collect_queries(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(text) if key == "expr" || key == "query" => {
                        into.push(text.clone());
                    }
                    other => collect_queries(other, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_queries(item, into)),
        _ => {}
    }
}

/// Every metric name (with one of `prefixes`) a query text names, and its matchers.
fn extract(
    file: &str,
    text: &str,
    prefixes: &BTreeSet<String>,
) -> (BTreeSet<String>, Vec<Matcher>) {
    // Go-template actions (`{{ $labels.x }}`, `{{args.service}}`) are not PromQL.
    let text = Regex::new(r"\{\{.*?\}\}")
        .unwrap()
        .replace_all(text, "TEMPLATE");
    let name = Regex::new(r"(?:^|[^a-zA-Z0-9_:.$%{])([a-zA-Z_][a-zA-Z0-9_]*)").unwrap();
    let mut names = BTreeSet::new();
    for found in name.captures_iter(&text) {
        let candidate = &found[1];
        let followed_by_colon = text[found.get(1).unwrap().end()..].starts_with(':');
        if candidate
            .split_once('_')
            .is_some_and(|(prefix, _)| prefixes.contains(prefix))
            && !followed_by_colon
        {
            names.insert(candidate.to_string());
        }
    }
    let selector = Regex::new(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}").unwrap();
    let matcher =
        Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)""#).unwrap();
    let mut matchers = Vec::new();
    for found in selector.captures_iter(&text) {
        for m in matcher.captures_iter(&found[2]) {
            matchers.push(Matcher {
                file: file.to_string(),
                metric: found[1].to_string(),
                label: m[1].to_string(),
                op: m[2].to_string(),
                value: m[3].to_string(),
            });
        }
    }
    (names, matchers)
}

/// The values a matcher's value names: its alternatives when they are literals, else
/// `None` (a real regex, matched against what was scraped instead).
fn alternatives(value: &str) -> Option<Vec<String>> {
    let literal = |s: &str| !s.chars().any(|c| "\\.^$*+?()[]{}".contains(c));
    value
        .split('|')
        .all(literal)
        .then(|| value.split('|').map(str::to_string).collect())
}

/// A label value filled in by Helm or Grafana (`%s`, `$service`, a TEMPLATE marker), not a
/// literal the code must emit.
fn templated(value: &str) -> bool {
    value.contains('%') || value.contains('$') || value.contains("TEMPLATE")
}

fn error_only(metric: &str, label: Option<(&str, &str)>) -> bool {
    ERROR_ONLY
        .iter()
        .any(|(name, allowed, _, _)| *name == metric && *allowed == label)
}

async fn scrape(fleet: &TestFleet, admins: &[(String, String)]) -> Scraped {
    let mut scraped = Scraped::new();
    for (service, addr) in admins {
        let response = fleet
            .http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("scraping {service} at {addr}: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "{service}'s /metrics");
        parse_exposition(&response.text().await.unwrap(), &mut scraped);
    }
    scraped
}

/// Every route family once: auth, an upload processed and commented, a follow, tags
/// and search, Stripe webhooks (stored, processed, failing, duplicate, rejected), a
/// campaign's posts written by the rules composer.
async fn exercise(fleet: &TestFleet) {
    let creator = fleet.register("creator@metrics.test").await;
    let creator_token = creator["access_token"].as_str().unwrap().to_string();
    let creator_id = creator["user"]["id"].as_str().unwrap().to_string();
    fleet.login("creator@metrics.test", super::PASSWORD).await;
    assert_eq!(
        fleet
            .get_with("/api/v1/auth/me", &creator_token)
            .await
            .status(),
        StatusCode::OK
    );
    let viewer = token_of(fleet, "viewer@metrics.test").await;
    let moderator = fleet.admin_token().await;

    let uploaded: Value = upload(
        fleet,
        &creator_token,
        &[("title", "Counted")],
        ("counted.png", &png(64, 48, 9)),
    )
    .await
    .json()
    .await
    .unwrap();
    let asset_id = uploaded["id"]
        .as_str()
        .expect("an uploaded asset")
        .to_string();
    processed(fleet, &creator_token, &asset_id).await;
    let approved = fleet
        .post_with(
            &format!("/api/v1/moderation/assets/{asset_id}/approve"),
            &moderator,
            json!({}),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::OK, "approve");
    let comment = fleet
        .post_with(
            &format!("/api/v1/assets/{asset_id}/comments"),
            &viewer,
            json!({"body": "Lovely light"}),
        )
        .await;
    assert_eq!(comment.status(), StatusCode::CREATED);
    let follow = fleet
        .post_with(
            &format!("/api/v1/creators/{creator_id}/follow"),
            &viewer,
            json!({}),
        )
        .await;
    assert_eq!(follow.status(), StatusCode::OK, "follow");
    for path in [
        "/healthz".to_string(),
        "/readyz".to_string(),
        format!("/api/v1/assets/{asset_id}/tags"),
        "/api/v1/search?q=light".to_string(),
    ] {
        let response = fleet.get_with(&path, &viewer).await;
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    // Stripe: an unhandled type (stored, processed), a handled one whose object Stripe
    // does not know (stored, failed), a redelivery, a bad signature.
    for (id, kind, object) in [
        ("evt_metrics_1", "customer.created", "cus_1"),
        (
            "evt_metrics_2",
            "customer.subscription.updated",
            "sub_missing",
        ),
    ] {
        let payload =
            json!({"id": id, "type": kind, "data": {"object": {"id": object}}}).to_string();
        for _delivery in 0..2 {
            let response = fleet
                .http
                .post(fleet.at("/api/v1/webhooks/stripe"))
                .header("stripe-signature", sign(&payload))
                .body(payload.clone())
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "webhook {kind}: {}",
                response.status()
            );
        }
    }
    let rejected = fleet
        .http
        .post(fleet.at("/api/v1/webhooks/stripe"))
        .header("stripe-signature", "t=1,v1=00")
        .body(r#"{"id":"evt_bad","type":"invoice.paid","data":{"object":{"id":"in_1"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);

    // A campaign's posts by the rules composer (an AI generation, counted as such).
    let created = fleet
        .post_with(
            "/api/v1/campaigns",
            &creator_token,
            json!({
                "name": "Counted launch",
                "objective": "Grow subscriptions",
                "campaign_type": "product",
                "business_description": "Acme Roasters roasts organic coffee beans in Lyon.",
                "target_audience": "Coffee lovers",
                "platforms": ["x"],
                "time_zone": "Europe/Paris",
            }),
        )
        .await;
    let status = created.status();
    let campaign: Value = created.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    let generate = fleet
        .post_with(
            &format!(
                "/api/v1/campaigns/{}/posts/generate",
                campaign["id"].as_str().unwrap()
            ),
            &creator_token,
            json!({}),
        )
        .await;
    assert_eq!(generate.status(), StatusCode::ACCEPTED);
    let job: Value = generate.json().await.unwrap();
    let job_path = format!("/api/v1/jobs/{}", job["id"].as_str().unwrap());
    marquee_testkit::wait_for(Duration::from_secs(60), "the campaign job", || async {
        let job: Value = fleet
            .get_with(&job_path, &creator_token)
            .await
            .json()
            .await
            .unwrap();
        match job["state"].as_str() {
            Some("succeeded") => Ok(()),
            Some("failed" | "cancelled") => panic!("the campaign job ended: {job}"),
            _ => Err(job["state"].clone()),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_and_label_the_deploy_reads_is_exported() {
    // Each ERROR_ONLY entry names code that does emit it.
    for (metric, _, file, literal) in ERROR_ONLY {
        assert!(
            read(file).contains(literal),
            "{metric}: {file} no longer contains {literal:?}; update ERROR_ONLY"
        );
    }

    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let admins: Vec<(String, String)> = [
        "gateway", "auth", "content", "billing", "tagging", "campaign",
    ]
    .iter()
    .map(|service| (service.to_string(), free_port()))
    .collect();
    let admin = |name: &str| {
        admins
            .iter()
            .find(|(service, _)| service == name)
            .unwrap()
            .1
            .clone()
    };
    let (gateway, auth, content, billing, tagging, campaign) = (
        admin("gateway"),
        admin("auth"),
        admin("content"),
        admin("billing"),
        admin("tagging"),
        admin("campaign"),
    );
    let fleet = spawn_fleet(Options {
        gateway: Box::new(move |s| s.common.admin_addr = gateway),
        auth: Box::new(move |s| s.common.admin_addr = auth),
        content: Box::new(move |s| s.common.admin_addr = content),
        billing: Box::new(move |s| {
            s.common.admin_addr = billing;
            s.stripe_secret_key = Some(SecretString::from(SECRET_KEY));
            s.stripe_webhook_secrets = vec![SecretString::from(WEBHOOK_SECRET)];
            s.stripe_api_base = Some(base);
            s.worker_interval_ms = 50;
        }),
        tagging: Box::new(move |s| s.common.admin_addr = tagging),
        campaign: Box::new(move |s| s.common.admin_addr = campaign),
        ..Options::default()
    })
    .await;
    exercise(&fleet).await;

    // The webhook worker and the bus run behind the answers: wait for their counts.
    let scraped = marquee_testkit::wait_for(
        Duration::from_secs(30),
        "the webhook outcomes and consumed events in /metrics",
        || async {
            let scraped = scrape(&fleet, &admins).await;
            let outcomes = scraped
                .get("marquee_billing_webhook_events_total")
                .and_then(|labels| labels.get("outcome"))
                .cloned()
                .unwrap_or_default();
            let wanted = ["stored", "duplicate", "processed", "failed", "rejected"];
            if wanted.iter().all(|o| outcomes.contains(*o)) {
                Ok(scraped)
            } else {
                Err(outcomes)
            }
        },
    )
    .await;

    let mut prefixes: BTreeSet<String> = scraped
        .keys()
        .filter_map(|name| name.split_once('_').map(|(prefix, _)| prefix.to_string()))
        .collect();
    prefixes.extend(["marquee", "grpc", "http"].map(String::from));
    let mut files = vec![
        "deploy/prometheus/marquee-rules.yaml".to_string(),
        "helm/marquee/templates/analysistemplates.yaml".to_string(),
        "helm/marquee/values.yaml".to_string(),
    ];
    let mut dashboards: Vec<String> = std::fs::read_dir(repo().join("deploy/grafana"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.ends_with(".json")
                .then(|| format!("deploy/grafana/{name}"))
        })
        .collect();
    dashboards.sort();
    assert!(!dashboards.is_empty(), "no dashboards in deploy/grafana");
    files.extend(dashboards);

    let mut problems = BTreeSet::new();
    let mut checked = (0, 0);
    for file in &files {
        for text in queries(file) {
            let (names, matchers) = extract(file, &text, &prefixes);
            for name in names {
                checked.0 += 1;
                if !scraped.contains_key(&name)
                    && !error_only(&name, None)
                    && !PROMETHEUS_SERIES.contains(&name.as_str())
                {
                    problems.insert(format!("{file}: metric {name} is exported by no service"));
                }
            }
            for m in matchers {
                if m.metric.contains(':')
                    || PROMETHEUS_SERIES.contains(&m.metric.as_str())
                    || TARGET_LABELS.contains(&m.label.as_str())
                    || templated(&m.value)
                {
                    continue;
                }
                checked.1 += 1;
                problems.extend(check_matcher(&m, &scraped));
            }
        }
    }
    // The gRPC layer's `code` values are the names the queries use (all of them are
    // accepted for its error codes below): what it emitted is in that vocabulary.
    let names: BTreeSet<&str> = (0..=16)
        .map(|n| marquee_platform::grpc::code_name(tonic::Code::from(n)))
        .chain([marquee_platform::grpc::TRANSPORT_FAILURE])
        .collect();
    let emitted = scraped
        .get("grpc_server_requests_total")
        .and_then(|labels| labels.get("code"))
        .expect("gRPC calls were counted with a code");
    assert!(emitted.contains("Ok"), "{emitted:?}");
    for code in emitted {
        if !names.contains(code.as_str()) {
            problems.insert(format!(
                "grpc_server_requests_total labels code {code:?}, not a status name"
            ));
        }
    }
    // The canary analysis's gRPC error codes come from values.yaml into `code=~"%s"`.
    let values = read("helm/marquee/values.yaml");
    let codes = Regex::new(r#"grpcServerErrorCodes:\s*"([^"]*)""#)
        .unwrap()
        .captures(&values)
        .expect("values.yaml sets analysis.grpcServerErrorCodes")[1]
        .to_string();
    problems.extend(check_matcher(
        &Matcher {
            file: "helm/marquee/values.yaml (analysis.grpcServerErrorCodes)".into(),
            metric: "grpc_server_requests_total".into(),
            label: "code".into(),
            op: "=~".into(),
            value: codes,
        },
        &scraped,
    ));
    assert!(
        checked.0 > 10 && checked.1 > 5,
        "the extractor found too little ({} names, {} matchers): is it still reading the queries?",
        checked.0,
        checked.1
    );
    assert!(
        problems.is_empty(),
        "the deploy reads what the services do not export:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
    fleet.stop().await;
}

/// Whether the code can emit what `m` matches; the problems if not.
fn check_matcher(m: &Matcher, scraped: &Scraped) -> Vec<String> {
    let label = m.label.as_str();
    let allowed = |value: &str| error_only(&m.metric, Some((label, value)));
    let Some(labels) = scraped.get(&m.metric) else {
        // Names are checked on their own; an error-only metric's values must be listed.
        return match alternatives(&m.value) {
            Some(literals) if literals.iter().all(|value| allowed(value.as_str())) => vec![],
            None if allowed(&m.value) => vec![],
            _ if !error_only(&m.metric, None) => vec![], // reported as a missing name
            _ => vec![format!(
                "{}: {}{{{}{}\"{}\"}}: not in the scrape nor in ERROR_ONLY",
                m.file, m.metric, m.label, m.op, m.value
            )],
        };
    };
    let Some(values) = labels.get(label) else {
        if allowed(&m.value) {
            return vec![];
        }
        return vec![format!(
            "{}: {} has no label {:?} (it has {:?})",
            m.file,
            m.metric,
            m.label,
            labels.keys().collect::<Vec<_>>()
        )];
    };
    // The gRPC layer labels every status code by its name: all are emittable.
    let emittable = |value: &str| {
        values.contains(value)
            || allowed(value)
            || (m.metric == "grpc_server_requests_total"
                && label == "code"
                && (0..=16)
                    .any(|n| marquee_platform::grpc::code_name(tonic::Code::from(n)) == value))
    };
    match alternatives(&m.value) {
        Some(literals) => literals
            .iter()
            .filter(|value| !emittable(value.as_str()))
            .map(|value| {
                format!(
                    "{}: {}{{{}{}\"{}\"}}: the code never emits {:?} (seen: {:?})",
                    m.file, m.metric, m.label, m.op, m.value, value, values
                )
            })
            .collect(),
        None => {
            let regex = Regex::new(&format!("^(?:{})$", m.value))
                .unwrap_or_else(|e| panic!("{}: {:?} is not a regex: {e}", m.file, m.value));
            if values.iter().any(|value| regex.is_match(value)) || allowed(&m.value) {
                vec![]
            } else {
                vec![format!(
                    "{}: {}{{{}{}\"{}\"}} matches nothing emitted (seen: {:?})",
                    m.file, m.metric, m.label, m.op, m.value, values
                )]
            }
        }
    }
}
