//! A local HTTP server speaking Cloud KMS's REST wire format and the GCE/GKE metadata
//! server's token endpoint, for `marquee-envelope`'s `gcp-kms` provider.
//!
//! - `GET /computeMetadata/v1/instance/service-accounts/default/token` with
//!   `Metadata-Flavor: Google` (403 without) answers `{"access_token", "expires_in",
//!   "token_type"}` with [`ACCESS_TOKEN`].
//! - `POST /v1/{name}:encrypt` with `{"plaintext", "additionalAuthenticatedData"}` (base64)
//!   answers `{"name": "{name}/cryptoKeyVersions/1", "ciphertext", …}`; `POST
//!   /v1/{name}:decrypt` with `{"ciphertext", "additionalAuthenticatedData"}` answers
//!   `{"plaintext", "usedPrimary"}`, or 400 `INVALID_ARGUMENT` when the ciphertext or the
//!   AAD do not check out (as KMS does). Both need `Authorization: Bearer
//!   <ACCESS_TOKEN>` (401 `UNAUTHENTICATED` otherwise) and the one key the fake holds
//!   (403 `PERMISSION_DENIED` for any other name, as KMS words it).
//! - Errors are `{"error": {"code", "message", "status"}}`.
//!
//! The "encryption" is real enough to be checked: an HMAC-SHA256 keystream and tag under
//! a random secret of the fake's own, the tag covering the AAD.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub const ACCESS_TOKEN: &str = "ya29.fake-metadata-access-token";
pub const TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";

/// What the fake answers to the next KMS call (not token requests).
#[derive(Debug, Clone)]
pub enum KmsReply {
    /// This HTTP status with KMS's error body (`status` such as `PERMISSION_DENIED`).
    Status(u16, &'static str),
    /// Waits this long before answering normally.
    Delay(Duration),
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub metadata_flavor: Option<String>,
    pub body: Value,
}

struct State {
    key_name: String,
    secret: [u8; 32],
    script: VecDeque<KmsReply>,
    fail_token: bool,
    requests: Vec<Recorded>,
}

pub struct FakeKms {
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
    /// Base URL ending in `/`: both the KMS endpoint and the metadata endpoint.
    pub base: String,
}

impl FakeKms {
    /// A fake holding one key, `key_name` (`projects/…/cryptoKeys/…`).
    pub async fn start(key_name: &str) -> Self {
        let mut secret = [0u8; 32];
        for (i, byte) in uuid::Uuid::new_v4()
            .as_bytes()
            .iter()
            .chain(uuid::Uuid::new_v4().as_bytes())
            .enumerate()
        {
            secret[i] = *byte;
        }
        let state = Arc::new(Mutex::new(State {
            key_name: key_name.to_string(),
            secret,
            script: VecDeque::new(),
            fail_token: false,
            requests: Vec::new(),
        }));
        let (handle, base) =
            crate::fake_server::start("Cloud KMS", state.clone(), 64 * 1024, handle);
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
        lock(&self.state)
    }

    /// Queues an answer for the next KMS call.
    pub fn reply_next(&self, reply: KmsReply) {
        self.state().script.push_back(reply);
    }

    /// Makes the metadata server answer 500 (or work again).
    pub fn fail_token(&self, fail: bool) {
        self.state().fail_token = fail;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn error(status: u16, kms_status: &str, message: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).json(json!({
        "error": {"code": status, "message": message, "status": kms_status}
    }))
}

fn header(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(
    state: web::Data<Mutex<State>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let path = request.path().to_string();
    let authorization = header(&request, "authorization");
    let metadata_flavor = header(&request, "metadata-flavor");
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (key_name, secret, fail_token, scripted) = {
        let mut state = lock(&state);
        state.requests.push(Recorded {
            method: request.method().to_string(),
            path: path.clone(),
            authorization: authorization.clone(),
            metadata_flavor: metadata_flavor.clone(),
            body: parsed.clone(),
        });
        let scripted = if path.starts_with("/v1/") {
            state.script.pop_front()
        } else {
            None
        };
        (
            state.key_name.clone(),
            state.secret,
            state.fail_token,
            scripted,
        )
    };
    if path == TOKEN_PATH {
        if metadata_flavor.as_deref() != Some("Google") {
            return HttpResponse::Forbidden().body("Missing Metadata-Flavor:Google header.");
        }
        if fail_token {
            return HttpResponse::InternalServerError().body("metadata server unavailable");
        }
        return HttpResponse::Ok().json(json!({
            "access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"
        }));
    }
    let Some(rest) = path.strip_prefix("/v1/") else {
        return error(404, "NOT_FOUND", "not found");
    };
    let Some((name, op)) = rest.rsplit_once(':') else {
        return error(404, "NOT_FOUND", "not found");
    };
    match scripted {
        Some(KmsReply::Status(status, kms_status)) => {
            let permission = if op == "encrypt" {
                "useToEncrypt"
            } else {
                "useToDecrypt"
            };
            let message = match status {
                403 => format!(
                    "Permission 'cloudkms.cryptoKeyVersions.{permission}' denied on resource '{name}' (or it may not exist)."
                ),
                401 => "Request had invalid authentication credentials.".to_string(),
                _ => format!("scripted {kms_status}"),
            };
            return error(status, kms_status, &message);
        }
        Some(KmsReply::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    if authorization.as_deref() != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    if name != key_name {
        return error(
            403,
            "PERMISSION_DENIED",
            &format!(
                "Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied on resource '{name}' (or it may not exist)."
            ),
        );
    }
    let field = |key: &str| -> Option<Vec<u8>> {
        match parsed.get(key) {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::String(text)) => STANDARD.decode(text).ok(),
            Some(_) => None,
        }
    };
    let Some(aad) = field("additionalAuthenticatedData") else {
        return error(
            400,
            "INVALID_ARGUMENT",
            "Invalid value at 'additional_authenticated_data'",
        );
    };
    match op {
        "encrypt" => {
            let Some(plaintext) = field("plaintext").filter(|p| !p.is_empty()) else {
                return error(400, "INVALID_ARGUMENT", "Invalid value at 'plaintext'");
            };
            let nonce = *uuid::Uuid::new_v4().as_bytes();
            let mut ciphertext = nonce.to_vec();
            ciphertext.extend(xor(&secret, &nonce, &plaintext));
            let tag = tag(&secret, &key_name, &aad, &ciphertext);
            ciphertext.extend(tag);
            HttpResponse::Ok().json(json!({
                "name": format!("{key_name}/cryptoKeyVersions/1"),
                "ciphertext": STANDARD.encode(&ciphertext),
                "verifiedPlaintextCrc32c": false,
                "verifiedAdditionalAuthenticatedDataCrc32c": false,
                "protectionLevel": "SOFTWARE"
            }))
        }
        "decrypt" => {
            let refused = || {
                error(
                    400,
                    "INVALID_ARGUMENT",
                    "Decryption failed: verify that 'name' refers to the correct CryptoKey.",
                )
            };
            let Some(ciphertext) = field("ciphertext").filter(|c| c.len() >= 16 + 32) else {
                return refused();
            };
            let (sealed, mac) = ciphertext.split_at(ciphertext.len() - 32);
            if tag(&secret, &key_name, &aad, sealed) != mac {
                return refused();
            }
            let (nonce, body) = sealed.split_at(16);
            HttpResponse::Ok().json(json!({
                "plaintext": STANDARD.encode(xor(&secret, nonce, body)),
                "usedPrimary": true,
                "protectionLevel": "SOFTWARE"
            }))
        }
        _ => error(404, "NOT_FOUND", "not found"),
    }
}

fn mac(secret: &[u8; 32]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("any key length")
}

fn xor(secret: &[u8; 32], nonce: &[u8], data: &[u8]) -> Vec<u8> {
    data.chunks(32)
        .enumerate()
        .flat_map(|(counter, chunk)| {
            let mut stream = mac(secret);
            stream.update(b"stream");
            stream.update(nonce);
            stream.update(&(counter as u64).to_be_bytes());
            let block = stream.finalize().into_bytes();
            chunk
                .iter()
                .zip(block)
                .map(|(a, b)| a ^ b)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn tag(secret: &[u8; 32], key_name: &str, aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut tag = mac(secret);
    tag.update(b"tag");
    tag.update(&(key_name.len() as u64).to_be_bytes());
    tag.update(key_name.as_bytes());
    tag.update(&(aad.len() as u64).to_be_bytes());
    tag.update(aad);
    tag.update(sealed);
    tag.finalize().into_bytes().to_vec()
}
