//! Two replicas against one Lease on a fake API server that keeps the Lease and enforces
//! server-side apply's field ownership the way the API server does (a second manager's
//! apply of a field another owns with a different value is a 409 Conflict): only one holds
//! it, the other waits while the holder renews, and takes over when it is released.

use super::*;
use http::{Request, Response};
use kube::client::Body;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_test::mock;

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/marquee/leases";

/// The one Lease, its fields' owners (field manager per `spec` field) and its version.
#[derive(Default)]
struct LeaseStore {
    spec: Option<Map<String, Value>>,
    owners: HashMap<String, String>,
    version: u64,
}

impl LeaseStore {
    fn lease(&self) -> Value {
        json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {
                "name": "marquee-tenant-operator", "namespace": "marquee",
                "resourceVersion": self.version.to_string(),
            },
            "spec": self.spec.clone().unwrap_or_default(),
        })
    }

    fn holder(&self) -> Option<String> {
        self.spec
            .as_ref()?
            .get("holderIdentity")?
            .as_str()
            .map(String::from)
    }

    fn answer(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        apply: bool,
        body: Value,
    ) -> (u16, Value) {
        let named = format!("{LEASES}/marquee-tenant-operator");
        match (method, path) {
            ("GET", p) if p == named => match self.spec {
                Some(_) => (200, self.lease()),
                None => failure(404, "NotFound"),
            },
            ("POST", p) if p == LEASES => {
                if self.spec.is_some() {
                    return failure(409, "AlreadyExists");
                }
                self.spec = Some(Map::new());
                self.version += 1;
                (201, self.lease())
            }
            ("PATCH", p) if p == named => {
                let Some(spec) = self.spec.as_mut() else {
                    return failure(404, "NotFound");
                };
                let manager = query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("fieldManager="))
                    .unwrap_or_default()
                    .to_string();
                let patch = body["spec"].as_object().cloned().unwrap_or_default();
                if apply {
                    for (field, value) in &patch {
                        let owner = self.owners.get(field);
                        if owner.is_some_and(|o| *o != manager) && spec.get(field) != Some(value) {
                            return failure(409, "Conflict");
                        }
                    }
                }
                for (field, value) in patch {
                    if value.is_null() {
                        spec.remove(&field);
                        self.owners.remove(&field);
                    } else {
                        spec.insert(field.clone(), value);
                        self.owners.insert(field, manager.clone());
                    }
                }
                self.version += 1;
                (200, self.lease())
            }
            _ => panic!("unexpected request {method} {path}"),
        }
    }
}

fn failure(code: u16, reason: &str) -> (u16, Value) {
    (
        code,
        json!({
            "apiVersion": "v1", "kind": "Status", "status": "Failure",
            "code": code, "reason": reason, "message": reason,
        }),
    )
}

/// A client of the shared fake API server.
fn client(store: &Arc<Mutex<LeaseStore>>) -> kube::Client {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let store = store.clone();
    tokio::spawn(async move {
        while let Some((request, respond)) = handle.next_request().await {
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.unwrap();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap()
            };
            let apply = parts
                .headers
                .get("content-type")
                .is_some_and(|v| v.to_str().unwrap().contains("apply-patch"));
            let (code, answer) = store.lock().unwrap().answer(
                parts.method.as_str(),
                parts.uri.path(),
                parts.uri.query().unwrap_or(""),
                apply,
                body,
            );
            respond.send_response(
                Response::builder()
                    .status(code)
                    .header("content-type", "application/json")
                    .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                    .unwrap(),
            );
        }
    });
    kube::Client::new(service, "default")
}

fn settings() -> LeaseSettings {
    LeaseSettings {
        name: "marquee-tenant-operator".into(),
        namespace: "marquee".into(),
        // Renewed every 2 s, with 4 s to spare for a busy test machine.
        duration_secs: 6,
        grace_secs: 4,
    }
}

#[tokio::test]
async fn one_replica_holds_the_lease_and_the_other_takes_over_on_release() {
    let store = Arc::new(Mutex::new(LeaseStore::default()));
    let never = std::future::pending::<()>();
    let first = acquire(client(&store), &settings(), "replica-a", never)
        .await
        .unwrap()
        .expect("the first replica takes the free lease");
    assert_eq!(store.lock().unwrap().holder().as_deref(), Some("replica-a"));

    // The second waits: the holder renews before its 6 s run out (twice in 5 s).
    let standby_store = store.clone();
    let standby = tokio::spawn(async move {
        acquire(
            client(&standby_store),
            &settings(),
            "replica-b",
            std::future::pending(),
        )
        .await
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !standby.is_finished(),
        "two replicas held the lease at once"
    );
    assert_eq!(store.lock().unwrap().holder().as_deref(), Some("replica-a"));

    // Released (a rollout's SIGTERM): the standby leads, without waiting for expiry.
    first.release().await;
    let second = tokio::time::timeout(Duration::from_secs(10), standby)
        .await
        .expect("the standby took over")
        .unwrap()
        .unwrap()
        .expect("leading");
    assert_eq!(store.lock().unwrap().holder().as_deref(), Some("replica-b"));
    second.release().await;
    assert_eq!(store.lock().unwrap().holder(), None);
}

#[tokio::test]
async fn a_standby_asked_to_stop_returns_without_the_lease() {
    let store = Arc::new(Mutex::new(LeaseStore::default()));
    let holder = acquire(
        client(&store),
        &settings(),
        "replica-a",
        std::future::pending(),
    )
    .await
    .unwrap()
    .unwrap();
    let stopped = acquire(
        client(&store),
        &settings(),
        "replica-b",
        tokio::time::sleep(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    assert!(stopped.is_none());
    assert_eq!(store.lock().unwrap().holder().as_deref(), Some("replica-a"));
    holder.release().await;
}
