//! Per-request context: the request id (a sane incoming `X-Request-Id`, else a fresh
//! UUIDv7), the client IP and the User-Agent. Computed once by the edge middleware and
//! read by handlers through the [`RequestContext`] extractor.
//!
//! The client IP is the TCP peer's address unless the peer is one of the configured
//! `trusted_proxies`: only then is the forwarding chain read ([`Forwarding::origin`]).
//! Anyone can send `X-Forwarded-For` or `Forwarded`, so every entry a proxy did not add
//! itself is the client's word; the chain is walked from the right (the hop our proxy
//! saw) past trusted proxies, and the first address that is not a trusted proxy is the
//! client. Rate limits, the sign-in throttle and the audit log all key on that address.

use crate::settings::ForwardedHeader;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use ipnet::IpNet;
use marquee_platform::Error;
use marquee_proto::auth::v1::ClientInfo;
use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    /// The context of `req`, whose client address is `client_ip` (see
    /// [`Forwarding::origin`]); `unknown` when there is none (no peer address).
    pub fn from_request(req: &ServiceRequest, client_ip: Option<IpAddr>) -> Self {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let request_id = header(HEADER)
            .filter(|id| is_sane(id))
            .map(Arc::from)
            .unwrap_or_else(|| Arc::from(uuid::Uuid::now_v7().to_string()));
        let client_ip = client_ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
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

/// Parses `trusted_proxies`: CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or single addresses.
/// Blank entries (a trailing comma in the env value) are skipped; a bad one is an error
/// naming it, so the gateway refuses to start rather than trust the wrong hops.
pub fn parse_trusted_proxies(entries: &[String]) -> anyhow::Result<Vec<IpNet>> {
    entries
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    anyhow::anyhow!(
                        "trusted_proxies: {entry:?} is not a CIDR like 10.0.0.0/8 or 2001:db8::/32"
                    )
                })
        })
        .collect()
}

/// How the client's address and scheme are read: from the TCP peer, or, when the peer
/// is a trusted proxy, from the forwarding header the proxies write. Built once from the
/// settings.
#[derive(Debug, Clone, Default)]
pub struct Forwarding {
    trusted: Vec<IpNet>,
    header: ForwardedHeader,
    trust_proto: bool,
}

/// What [`Forwarding::origin`] concluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client's address; `None` without a peer address.
    pub client_ip: Option<IpAddr>,
    /// A trusted proxy says the client reached it over https.
    pub https: bool,
}

impl Forwarding {
    pub fn new(
        trusted_proxies: &[String],
        header: ForwardedHeader,
        trust_proto: bool,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            trusted: parse_trusted_proxies(trusted_proxies)?,
            header,
            trust_proto,
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` with `headers`.
    ///
    /// An untrusted peer's forwarding headers are ignored entirely. From a trusted peer,
    /// the chain is walked from the right: trusted hops are skipped and the first
    /// untrusted one is the client; if every hop is trusted, the left-most. A hop that is
    /// not an address (garbage, `unknown`, an obfuscated RFC 7239 identifier) stops the
    /// walk and the last good address stands, so the client never picks its own.
    pub fn origin(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Origin {
        let Some(peer) = peer.map(|ip| ip.to_canonical()) else {
            return Origin::default();
        };
        if !self.trusts(peer) {
            return Origin {
                client_ip: Some(peer),
                https: false,
            };
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
            ForwardedHeader::Forwarded => forwarded(headers),
        };
        let mut client = peer;
        // RFC 7239: the element our peer added says how it was reached; a hop further
        // left, if it says, how the client reached the outermost proxy.
        let mut proto = hops.last().and_then(|hop| hop.proto.clone());
        for hop in hops.into_iter().rev() {
            let Some(ip) = hop.ip else { break };
            client = ip;
            if hop.proto.is_some() {
                proto = hop.proto;
            }
            if !self.trusts(ip) {
                break;
            }
        }
        let proto = match self.header {
            ForwardedHeader::XForwardedFor => last_forwarded_proto(headers),
            ForwardedHeader::Forwarded => proto,
        };
        Origin {
            client_ip: Some(client),
            https: self.trust_proto
                && proto.is_some_and(|proto| proto.eq_ignore_ascii_case("https")),
        }
    }
}

/// One hop of a forwarding chain: the address a proxy saw (`None`: missing, `unknown`,
/// obfuscated or unparsable) and, from `Forwarded`, the scheme it was reached by.
#[derive(Debug)]
struct Hop {
    ip: Option<IpAddr>,
    proto: Option<String>,
}

impl Hop {
    fn garbage() -> Self {
        Self {
            ip: None,
            proto: None,
        }
    }
}

/// Every `X-Forwarded-For` line in order, each split at commas.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for line in headers.get_all("x-forwarded-for") {
        match line.to_str() {
            Ok(line) => hops.extend(line.split(',').map(|entry| Hop {
                ip: parse_node(entry),
                proto: None,
            })),
            Err(_) => hops.push(Hop::garbage()),
        }
    }
    hops
}

/// The right-most `X-Forwarded-Proto` entry: the one the proxy next to us wrote.
fn last_forwarded_proto(headers: &HeaderMap) -> Option<String> {
    let line = headers.get_all("x-forwarded-proto").last()?.to_str().ok()?;
    Some(line.rsplit(',').next()?.trim().to_string())
}

/// Every `Forwarded` (RFC 7239) element in order, across header lines.
fn forwarded(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for line in headers.get_all("forwarded") {
        match line.to_str() {
            Ok(line) => hops.extend(split_unquoted(line, b',').map(forwarded_element)),
            Err(_) => hops.push(Hop::garbage()),
        }
    }
    hops
}

/// `for=…;proto=…;by=…`: a hop with the `for` node; a missing, repeated or malformed
/// parameter makes the element garbage.
fn forwarded_element(element: &str) -> Hop {
    let mut node = None;
    let mut proto = None;
    for pair in split_unquoted(element, b';') {
        let Some((name, value)) = pair.split_once('=') else {
            return Hop::garbage();
        };
        let Some(value) = unquote(value.trim()) else {
            return Hop::garbage();
        };
        let slot = match name.trim().to_ascii_lowercase().as_str() {
            "for" => &mut node,
            "proto" => &mut proto,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Hop::garbage();
        }
    }
    Hop {
        ip: node.as_deref().and_then(parse_node),
        proto,
    }
}

/// Splits at `separator` outside double quotes (a quoted string may hold `,` and `;`).
fn split_unquoted(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, byte) in text.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if byte == separator && !quoted => {
                pieces.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter()
}

/// A token as is, or a quoted string without its quotes and escapes.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.contains('"')).then(|| value.to_string());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// An address with an optional port: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711` (RFC 7239 ports may be obfuscated, `_x`).
/// Anything else (`unknown`, `_hidden`, a host name) is not an address.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    let ip = if let Some(rest) = node.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        if !after.is_empty() && !is_port(after.strip_prefix(':')?) {
            return None;
        }
        IpAddr::V6(address.parse::<Ipv6Addr>().ok()?)
    } else if let Ok(ip) = node.parse::<IpAddr>() {
        ip
    } else {
        let (address, port) = node.rsplit_once(':')?;
        if !is_port(port) {
            return None;
        }
        IpAddr::V4(address.parse::<Ipv4Addr>().ok()?)
    };
    Some(ip.to_canonical())
}

fn is_port(port: &str) -> bool {
    port.parse::<u16>().is_ok()
        || port.strip_prefix('_').is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
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
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::test::TestRequest;

    #[test]
    fn keeps_sane_ids_and_replaces_others() {
        let req = TestRequest::default()
            .insert_header((HEADER, "abc-123_x.y:z"))
            .to_srv_request();
        assert_eq!(
            &*RequestContext::from_request(&req, None).request_id,
            "abc-123_x.y:z"
        );

        for bad in ["", "has space", "semi;colon", &"x".repeat(200), "ünicode"] {
            let req = TestRequest::default()
                .insert_header((HEADER, bad))
                .to_srv_request();
            let id = RequestContext::from_request(&req, None).request_id;
            assert_ne!(&*id, bad);
            let uuid = uuid::Uuid::parse_str(&id).expect("a UUID");
            assert_eq!(uuid.get_version_num(), 7);
        }
    }

    #[test]
    fn context_carries_the_client_ip_and_user_agent() {
        let req = TestRequest::default()
            .insert_header(("user-agent", "curl/8"))
            .to_srv_request();
        let context = RequestContext::from_request(&req, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(&*context.client_ip, "203.0.113.7");
        assert_eq!(&*context.user_agent, "curl/8");
        assert_eq!(
            &*RequestContext::from_request(&req, None).client_ip,
            "unknown"
        );
    }

    const PROXIES: &[&str] = &["10.0.0.0/8", "2001:db8:ffff::/48"];

    fn forwarding(header: ForwardedHeader) -> Forwarding {
        let proxies: Vec<String> = PROXIES.iter().map(|p| p.to_string()).collect();
        Forwarding::new(&proxies, header, true).unwrap()
    }

    fn headers(lines: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    /// The client `forwarding` sees for a request from `peer` with `lines`.
    fn client(forwarding: &Forwarding, peer: &str, lines: &[(&str, &[u8])]) -> String {
        let peer = peer.parse().unwrap();
        let origin = forwarding.origin(Some(peer), &headers(lines));
        origin.client_ip.unwrap().to_string()
    }

    fn xff(peer: &str, lines: &[(&str, &[u8])]) -> String {
        client(&forwarding(ForwardedHeader::XForwardedFor), peer, lines)
    }

    #[test]
    fn spoofed_left_most_entries_are_ignored_and_the_right_most_untrusted_hop_wins() {
        // The client wrote "1.2.3.4"; the ingress appended the address it saw.
        let lines: &[(&str, &[u8])] = &[("x-forwarded-for", b"1.2.3.4, 198.51.100.7")];
        assert_eq!(xff("10.1.2.3", lines), "198.51.100.7");
        // Through two trusted proxies: their hops are skipped.
        let lines: &[(&str, &[u8])] = &[(
            "x-forwarded-for",
            b"1.2.3.4, 198.51.100.7, 10.9.9.9, 10.8.8.8",
        )];
        assert_eq!(xff("10.1.2.3", lines), "198.51.100.7");
        // Every hop trusted: the left-most.
        let lines: &[(&str, &[u8])] = &[("x-forwarded-for", b"10.0.0.5, 10.0.0.6")];
        assert_eq!(xff("10.1.2.3", lines), "10.0.0.5");
        // No header from a trusted peer: the peer itself.
        assert_eq!(xff("10.1.2.3", &[]), "10.1.2.3");
    }

    #[test]
    fn every_x_forwarded_for_line_counts_in_order() {
        let lines: &[(&str, &[u8])] = &[
            ("x-forwarded-for", b"1.2.3.4"),
            ("x-forwarded-for", b"203.0.113.9, 10.0.0.7"),
        ];
        assert_eq!(xff("10.1.2.3", lines), "203.0.113.9");
        let lines: &[(&str, &[u8])] = &[
            ("x-forwarded-for", b"203.0.113.9"),
            ("x-forwarded-for", b"10.0.0.7"),
        ];
        assert_eq!(xff("10.1.2.3", lines), "203.0.113.9");
    }

    #[test]
    fn an_untrusted_peers_forwarding_headers_are_ignored() {
        let lines: &[(&str, &[u8])] = &[
            ("x-forwarded-for", b"10.0.0.1"),
            ("forwarded", b"for=10.0.0.1;proto=https"),
            ("x-forwarded-proto", b"https"),
        ];
        for header in [ForwardedHeader::XForwardedFor, ForwardedHeader::Forwarded] {
            let origin =
                forwarding(header).origin(Some("198.51.100.7".parse().unwrap()), &headers(lines));
            assert_eq!(origin.client_ip, Some("198.51.100.7".parse().unwrap()));
            assert!(!origin.https, "{header:?}");
        }
        // No trusted proxies at all (the default): the peer, always.
        let none = Forwarding::default();
        assert_eq!(client(&none, "10.1.2.3", lines), "10.1.2.3");
        assert_eq!(client(&none, "127.0.0.1", lines), "127.0.0.1");
        assert_eq!(none.origin(None, &headers(lines)), Origin::default());
    }

    #[test]
    fn garbage_hops_stop_the_walk_at_the_last_good_address() {
        let cases: &[(&[u8], &str)] = &[
            (b"not-an-ip", "10.1.2.3"),
            (b"1.2.3.4, garbage", "10.1.2.3"),
            // The client's own entry left of the garbage is never taken.
            (b"1.2.3.4, unknown, 10.0.0.7", "10.0.0.7"),
            (b"1.2.3.4, , 10.0.0.7", "10.0.0.7"),
            (b"1.2.3.4, 203.0.113.9:8443", "203.0.113.9"),
            (b"[2001:db8::9]:443", "2001:db8::9"),
            (b"1.2.3.4, 203.0.113.9:99999", "10.1.2.3"),
            (b"1.2.3.4, 203.0.113.9/24", "10.1.2.3"),
            (b"1.2.3.4, host.example", "10.1.2.3"),
            (b"1.2.3.4, \xff\xfe", "10.1.2.3"),
        ];
        for &(value, expected) in cases {
            let lines: &[(&str, &[u8])] = &[("x-forwarded-for", value)];
            assert_eq!(
                xff("10.1.2.3", lines),
                expected,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        // A line that is not text is one garbage hop in its place.
        let lines: &[(&str, &[u8])] = &[
            ("x-forwarded-for", b"1.2.3.4"),
            ("x-forwarded-for", b"\xff"),
            ("x-forwarded-for", b"10.0.0.7"),
        ];
        assert_eq!(xff("10.1.2.3", lines), "10.0.0.7");
    }

    #[test]
    fn forwarded_elements_with_ipv6_ports_and_quotes() {
        let fwd = forwarding(ForwardedHeader::Forwarded);
        let cases: &[(&[u8], &str)] = &[
            (b"for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            (b"for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            (b"For=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
            (b"for=\"192.0.2.43:47011\", for=10.0.0.7", "192.0.2.43"),
            // Spoofed left-most element ignored; trusted IPv6 proxy skipped.
            (
                b"for=1.2.3.4, for=\"[2001:db8::1]:4711\";proto=https, for=\"[2001:db8:ffff::2]\"",
                "2001:db8::1",
            ),
            // Quoted strings may hold separators.
            (
                b"for=1.2.3.4;ext=\"a,b;c\", for=198.51.100.7",
                "198.51.100.7",
            ),
            // IPv4-mapped addresses are plain IPv4.
            (b"for=\"[::ffff:198.51.100.7]\"", "198.51.100.7"),
            // Obfuscated and unknown identifiers stop the walk.
            (b"for=1.2.3.4, for=_hidden, for=10.0.0.7", "10.0.0.7"),
            (b"for=1.2.3.4, for=unknown", "10.1.2.3"),
            (b"for=\"[2001:db8::1]:_port\"", "2001:db8::1"),
            // Malformed elements are garbage: no `for`, a repeated `for`, bad quoting.
            (b"for=1.2.3.4, proto=https", "10.1.2.3"),
            (b"for=1.2.3.4, for=5.6.7.8;for=9.9.9.9", "10.1.2.3"),
            (b"for=1.2.3.4, for=\"198.51.100.7", "10.1.2.3"),
            (b"for=1.2.3.4, for=[2001:db8::1", "10.1.2.3"),
        ];
        for &(value, expected) in cases {
            let lines: &[(&str, &[u8])] = &[("forwarded", value)];
            assert_eq!(
                client(&fwd, "10.1.2.3", lines),
                expected,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
        // Across header lines, and X-Forwarded-For is not read in this mode.
        let lines: &[(&str, &[u8])] = &[
            ("forwarded", b"for=1.2.3.4"),
            ("forwarded", b"for=203.0.113.9, for=10.0.0.7"),
            ("x-forwarded-for", b"5.6.7.8"),
        ];
        assert_eq!(client(&fwd, "10.1.2.3", lines), "203.0.113.9");
        // …and `Forwarded` is not read in the X-Forwarded-For mode.
        let lines: &[(&str, &[u8])] = &[("forwarded", b"for=1.2.3.4")];
        assert_eq!(xff("10.1.2.3", lines), "10.1.2.3");
    }

    #[test]
    fn the_scheme_is_believed_only_from_a_trusted_peer() {
        let xff = forwarding(ForwardedHeader::XForwardedFor);
        let https = |forwarding: &Forwarding, peer: &str, name: &str, value: &[u8]| {
            forwarding
                .origin(Some(peer.parse().unwrap()), &headers(&[(name, value)]))
                .https
        };
        let proto = "x-forwarded-proto";
        assert!(https(&xff, "10.1.2.3", proto, b"https"));
        assert!(!https(&xff, "198.51.100.7", proto, b"https"));
        // The right-most entry is the one the proxy next to us wrote.
        assert!(!https(&xff, "10.1.2.3", proto, b"https, http"));
        assert!(https(&xff, "10.1.2.3", proto, b"http, HTTPS"));
        let off = Forwarding::new(
            &["10.0.0.0/8".into()],
            ForwardedHeader::XForwardedFor,
            false,
        )
        .unwrap();
        assert!(!https(&off, "10.1.2.3", proto, b"https"));

        let fwd = forwarding(ForwardedHeader::Forwarded);
        let element = b"for=1.2.3.4;proto=https";
        assert!(https(&fwd, "10.1.2.3", "forwarded", element));
        assert!(
            !https(&fwd, "10.1.2.3", proto, b"https"),
            "X-Forwarded-Proto unread"
        );
        assert!(!https(&fwd, "198.51.100.7", "forwarded", element));
    }

    #[test]
    fn trusted_proxies_parse_or_name_the_bad_entry() {
        let parsed = parse_trusted_proxies(&[
            "10.0.0.0/8".into(),
            " 192.168.1.7 ".into(),
            "2001:db8::/32".into(),
            "".into(),
        ])
        .unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[1].to_string(), "192.168.1.7/32");
        for bad in ["10.0.0.0/33", "10.0.0/8", "example.com", "10.0.0.0/8/8"] {
            let error = parse_trusted_proxies(&[bad.into()])
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("trusted_proxies") && error.contains(bad),
                "{error}"
            );
        }
        // An IPv4-mapped peer (a dual-stack listener) matches IPv4 networks.
        let forwarding = Forwarding::new(&["10.0.0.0/8".into()], Default::default(), true).unwrap();
        let lines: &[(&str, &[u8])] = &[("x-forwarded-for", b"198.51.100.7")];
        assert_eq!(
            client(&forwarding, "::ffff:10.1.2.3", lines),
            "198.51.100.7"
        );
    }
}
