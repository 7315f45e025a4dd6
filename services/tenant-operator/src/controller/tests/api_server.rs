//! A scripted Kubernetes API server for the reconciler's tests (kube's `tower-test`
//! approach): each expected request is a method and path with the reply to give; the server
//! fails the test on any other request, and hands back what it received for assertions.

use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;
use tower_test::mock::{self, Handle};

/// How the server answers one request.
pub enum Reply {
    /// 200 with the request's own body plus server-set metadata (what an apply returns).
    Echo,
    /// This status and JSON body.
    Json(u16, Value),
}

/// One expected request.
pub struct Expect {
    method: &'static str,
    path: String,
    reply: Reply,
}

pub fn expect(method: &'static str, path: impl Into<String>, reply: Reply) -> Expect {
    Expect {
        method,
        path: path.into(),
        reply,
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub content_type: String,
    pub body: Value,
}

/// A Kubernetes `Status` failure body.
pub fn status_error(code: u16, reason: &str, message: &str) -> Reply {
    Reply::Json(
        code,
        json!({
            "apiVersion": "v1", "kind": "Status", "status": "Failure",
            "code": code, "reason": reason, "message": message,
        }),
    )
}

/// A client talking to a server that plays `script`, in order. Await the handle after the
/// client (and everything holding a clone) is dropped: it fails on an unexpected or a
/// missing request and returns every request seen.
pub fn serve(script: Vec<Expect>) -> (Client, JoinHandle<Vec<Seen>>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let server = tokio::spawn(play(handle, script));
    (Client::new(service, "default"), server)
}

async fn play(mut handle: Handle<Request<Body>, Response<Body>>, script: Vec<Expect>) -> Vec<Seen> {
    let mut seen = Vec::new();
    let total = script.len();
    for (i, step) in script.into_iter().enumerate() {
        let next = tokio::time::timeout(Duration::from_secs(5), handle.next_request()).await;
        let Ok(Some((request, respond))) = next else {
            panic!(
                "request {} of {total} ({} {}) never came; seen: {:#?}",
                i + 1,
                step.method,
                step.path,
                summary(&seen)
            );
        };
        let request = read(request).await;
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            (step.method, step.path.as_str()),
            "request {} of {total}; seen before: {:#?}",
            i + 1,
            summary(&seen)
        );
        let (code, body) = match step.reply {
            Reply::Echo => (200, echo(&request.body)),
            Reply::Json(code, body) => (code, body),
        };
        let response = Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        respond.send_response(response);
        seen.push(request);
    }
    // The client is gone once the test dropped it: nothing else may arrive.
    let extra = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .expect("the client was not dropped before awaiting the server");
    if let Some((request, _)) = extra {
        let request = read(request).await;
        panic!(
            "unexpected request {} {} after the script; seen: {:#?}",
            request.method,
            request.path,
            summary(&seen)
        );
    }
    seen
}

async fn read(request: Request<Body>) -> Seen {
    let (parts, body) = request.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    let query = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query,
        content_type: parts
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        body: if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        },
    }
}

fn echo(body: &Value) -> Value {
    let mut object = body.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("uid")
            .or_insert(json!("00000000-0000-0000-0000-000000000042"));
        meta.insert("resourceVersion".into(), json!("200"));
    }
    object
}

fn summary(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect()
}
