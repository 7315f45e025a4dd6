//! Per-request context: the request id (a sane incoming `X-Request-Id`, else a fresh
//! UUIDv7), the client IP (peer address, or the first `X-Forwarded-For` hop when the
//! gateway sits behind a trusted proxy) and the User-Agent. Computed once by the edge
//! middleware and read by handlers through the [`RequestContext`] extractor.

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use marquee_platform::Error;
use marquee_proto::auth::v1::ClientInfo;
use std::future::{Ready, ready};
use std::sync::Arc;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: Arc<str>,
    pub client_ip: Arc<str>,
    pub user_agent: Arc<str>,
    /// The matched route pattern (`/api/v1/admin/tenants/{id}/flags`), if any.
    pub route: Option<Arc<str>>,
}

impl RequestContext {
    pub fn from_request(req: &ServiceRequest, trust_forwarded_for: bool) -> Self {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let request_id = header(HEADER)
            .filter(|id| is_sane(id))
            .map(Arc::from)
            .unwrap_or_else(|| Arc::from(uuid::Uuid::now_v7().to_string()));
        let forwarded = trust_forwarded_for
            .then(|| header("x-forwarded-for"))
            .flatten()
            .and_then(first_hop);
        let client_ip = forwarded
            .or_else(|| req.peer_addr().map(|addr| addr.ip().to_string()))
            .unwrap_or_else(|| "unknown".to_string());
        let user_agent = header("user-agent")
            .unwrap_or("")
            .chars()
            .take(512)
            .collect::<String>();
        Self {
            request_id,
            client_ip: Arc::from(client_ip),
            user_agent: Arc::from(user_agent),
            route: req.match_pattern().map(Arc::from),
        }
    }

    /// Where the request came from, as auth records it.
    pub fn client_info(&self) -> Option<ClientInfo> {
        Some(ClientInfo {
            ip: self.client_ip.to_string(),
            user_agent: self.user_agent.to_string(),
        })
    }
}

/// Ids are echoed in headers and logs: printable, short, no separators that could forge
/// log fields.
fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The first `X-Forwarded-For` entry, when it is an IP address.
fn first_hop(header: &str) -> Option<String> {
    let first = header.split(',').next()?.trim();
    first
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| {
            first
                .parse::<std::net::SocketAddr>()
                .ok()
                .map(|addr| addr.ip())
        })
        .map(|ip| ip.to_string())
}

impl FromRequest for RequestContext {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Self>().cloned().ok_or_else(|| {
            Error::internal("request context missing: edge middleware not installed")
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn keeps_sane_ids_and_replaces_others() {
        let req = TestRequest::default()
            .insert_header((HEADER, "abc-123_x.y:z"))
            .to_srv_request();
        assert_eq!(
            &*RequestContext::from_request(&req, false).request_id,
            "abc-123_x.y:z"
        );

        for bad in ["", "has space", "semi;colon", &"x".repeat(200), "ünicode"] {
            let req = TestRequest::default()
                .insert_header((HEADER, bad))
                .to_srv_request();
            let id = RequestContext::from_request(&req, false).request_id;
            assert_ne!(&*id, bad);
            let uuid = uuid::Uuid::parse_str(&id).expect("a UUID");
            assert_eq!(uuid.get_version_num(), 7);
        }
    }

    #[test]
    fn client_ip_from_peer_unless_forwarded_is_trusted() {
        let req = || {
            TestRequest::default()
                .peer_addr("10.0.0.9:5555".parse().unwrap())
                .insert_header(("x-forwarded-for", "203.0.113.7, 10.0.0.1"))
                .insert_header(("user-agent", "curl/8"))
                .to_srv_request()
        };
        let untrusted = RequestContext::from_request(&req(), false);
        assert_eq!(&*untrusted.client_ip, "10.0.0.9");
        assert_eq!(&*untrusted.user_agent, "curl/8");
        let trusted = RequestContext::from_request(&req(), true);
        assert_eq!(&*trusted.client_ip, "203.0.113.7");

        let garbage = TestRequest::default()
            .peer_addr("10.0.0.9:5555".parse().unwrap())
            .insert_header(("x-forwarded-for", "not-an-ip"))
            .to_srv_request();
        assert_eq!(
            &*RequestContext::from_request(&garbage, true).client_ip,
            "10.0.0.9"
        );
    }
}
