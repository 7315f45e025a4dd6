//! Fetching a business's website to analyse it, without letting the URL reach our own
//! network (SSRF).
//!
//! A creator types the URL, so it is hostile until checked. [`WebFetcher::fetch`]:
//!
//! - takes `http`/`https` URLs only, without user name or password;
//! - resolves the host itself and refuses the URL if ANY address it resolves to is not a
//!   public unicast address ([`is_public_address`]: loopback, private, link-local including
//!   the cloud metadata address 169.254.169.254, CGNAT, unique-local, multicast, reserved
//!   and documentation ranges, and the same hidden in IPv4-mapped or NAT64 IPv6 forms).
//!   Literal IPs are checked the same way, after URL parsing has normalised the numeric
//!   forms (`http://2130706433/` and `http://0x7f.1/` are 127.0.0.1);
//! - connects only to the addresses it checked: the request's client is pinned to them
//!   (`resolve_to_addrs`), and its resolver refuses every other name, so a DNS answer
//!   changing between the check and the connection (DNS rebinding) changes nothing;
//! - follows redirects itself (at most `max_redirects`), checking every hop like the first;
//! - ignores proxy settings from the environment (a proxy would do its own resolving);
//! - stops reading past `max_bytes` and gives up after `timeout` for the whole fetch;
//! - takes HTML, XHTML and plain text only.
//!
//! HTML becomes readable text through html5ever, Servo's implementation of the HTML
//! standard's parsing (entities, comments, raw-text elements and broken markup handled as
//! browsers do): scripts, styles, navigation, footers, forms, SVG and hidden elements are
//! dropped; headings, paragraphs, list items and table cells become lines; `<title>` and
//! the description `<meta>` tags are read. Only its tokenizer is used, which is linear
//! time on any input; its tree builder (and `scraper`, built on it) is quadratic on deeply
//! nested markup (see [`readable_html`]). No readability crate is used: ranking "the
//! article" matters less here than keeping every product and service line, and none is as
//! widely used and maintained as html5ever.

use encoding_rs::Encoding;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Media types taken, by their essence (`text/html; charset=…` → `text/html`).
const ACCEPTED_TYPES: [&str; 3] = ["text/html", "application/xhtml+xml", "text/plain"];
/// Bytes of an HTML page searched for a `<meta charset>` when the header names none.
const CHARSET_PRESCAN_BYTES: usize = 1024;

/// What may be fetched, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Bytes of body read at most (2 MiB); more is [`FetchError::TooLarge`].
    pub max_bytes: usize,
    /// The whole fetch, redirects and DNS included (10 s).
    pub timeout: Duration,
    /// Redirects followed at most (3).
    pub max_redirects: usize,
    /// Fetch private and reserved addresses too (false). Only for development setups
    /// that analyse sites on a local network.
    pub allow_private: bool,
    /// Exact socket addresses allowed although private (none): an exception for one
    /// server, e.g. a test server on 127.0.0.1:<its port>, that leaves every other
    /// private address and port refused. IPv4-mapped IPv6 forms match their IPv4 address.
    pub allowed_addresses: Vec<SocketAddr>,
    pub user_agent: String,
    /// Characters of readable text kept (20,000).
    pub max_text_chars: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            max_bytes: 2 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_redirects: 3,
            allow_private: false,
            allowed_addresses: Vec::new(),
            user_agent: "MarqueeBot/1.0 (+https://marquee.example/bot)".into(),
            max_text_chars: 20_000,
        }
    }
}

impl FetchPolicy {
    /// Whether connecting to `address` is allowed.
    pub fn permits(&self, address: SocketAddr) -> bool {
        let address = canonical(address);
        self.allow_private
            || is_public_address(address.ip())
            || self
                .allowed_addresses
                .iter()
                .any(|allowed| canonical(*allowed) == address)
    }
}

/// A fetched page, reduced to what analysis needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPage {
    /// Where the page was found, after redirects.
    pub final_url: String,
    /// `<title>`, or `og:title` when there is none.
    pub title: Option<String>,
    /// `<meta name="description">`, or `og:description` / `twitter:description`.
    pub description: Option<String>,
    /// The readable text: one line per heading, paragraph, list item…, spaces collapsed,
    /// at most `max_text_chars` characters.
    pub text: String,
    /// The media type (`text/html`), without parameters.
    pub content_type: String,
}

/// Why a page was not fetched. Messages are safe to show to the creator.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not a valid URL: {0}")]
    InvalidUrl(String),
    #[error("only http and https addresses can be fetched, not {0}")]
    UnsupportedScheme(String),
    #[error("URLs with a user name or password are not fetched")]
    CredentialsInUrl,
    #[error("{host} could not be resolved: {reason}")]
    Resolve { host: String, reason: String },
    /// The host is (or resolves to) an address that is not public.
    #[error("{host} points to a private or reserved address, which is not fetched")]
    ForbiddenAddress { host: String, address: IpAddr },
    #[error("more than {max} redirects")]
    TooManyRedirects { max: usize },
    #[error("a redirect without a valid Location")]
    BadRedirect,
    #[error("the site did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the site: {0}")]
    Connect(String),
    #[error("the site answered {0}")]
    Status(u16),
    #[error("the page is {0}, not HTML or text")]
    UnsupportedContentType(String),
    #[error("the page is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    /// Extracting the text failed unexpectedly (a bug: extraction takes any input).
    #[error("the page could not be read")]
    Unreadable,
}

/// Fetches web pages under a [`FetchPolicy`]. Cheap to share; every fetch builds the
/// small client pinned to the addresses it vetted.
#[derive(Debug, Clone, Default)]
pub struct WebFetcher {
    policy: FetchPolicy,
}

/// A URL's host with the addresses it was vetted at.
struct Vetted {
    /// The DNS name to pin, `None` for a literal IP.
    domain: Option<String>,
    addresses: Vec<SocketAddr>,
}

impl WebFetcher {
    pub fn new(policy: FetchPolicy) -> Self {
        Self { policy }
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Fetches `url` (following up to `max_redirects` redirects) and extracts its
    /// readable content.
    pub async fn fetch(&self, url: &str) -> Result<WebPage, FetchError> {
        let timeout = self.policy.timeout;
        tokio::time::timeout(timeout, self.fetch_within_timeout(url))
            .await
            .map_err(|_| FetchError::Timeout(timeout))?
    }

    async fn fetch_within_timeout(&self, url: &str) -> Result<WebPage, FetchError> {
        let mut url = parse_url(url)?;
        let mut redirects = 0;
        loop {
            let vetted = self.vet(&url).await?;
            let client = self.client_pinned_to(&vetted)?;
            let response = client
                .get(url.clone())
                .header(
                    ACCEPT,
                    "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8",
                )
                .send()
                .await
                .map_err(|e| transport_error(&e, self.policy.timeout))?;
            let status = response.status();
            if status.is_redirection() {
                if redirects >= self.policy.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        max: self.policy.max_redirects,
                    });
                }
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::BadRedirect)?;
                let next = url.join(location).map_err(|_| FetchError::BadRedirect)?;
                check_url(&next)?;
                tracing::debug!(from = %url, to = %next, "following a redirect");
                url = next;
                redirects += 1;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let header_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let essence = media_type_essence(&header_type);
            if !ACCEPTED_TYPES.contains(&essence.as_str()) {
                let shown = if essence.is_empty() {
                    "of no stated type".to_string()
                } else {
                    essence
                };
                return Err(FetchError::UnsupportedContentType(shown));
            }
            let body = self.read_capped(response).await?;
            // Parsing up to max_bytes is CPU work: keep it off the async workers.
            let max_text_chars = self.policy.max_text_chars;
            let final_url = url.to_string();
            return tokio::task::spawn_blocking(move || {
                extract(&final_url, &essence, &header_type, &body, max_text_chars)
            })
            .await
            .map_err(|_| FetchError::Unreadable);
        }
    }

    /// The addresses `url` may be fetched at, all of them permitted by the policy.
    async fn vet(&self, url: &Url) -> Result<Vetted, FetchError> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::InvalidUrl("no port".into()))?;
        let (domain, addresses) = match url.host() {
            Some(Host::Ipv4(ip)) => (None, vec![SocketAddr::new(IpAddr::V4(ip), port)]),
            Some(Host::Ipv6(ip)) => (None, vec![SocketAddr::new(IpAddr::V6(ip), port)]),
            Some(Host::Domain(domain)) => {
                let resolved: Vec<SocketAddr> = tokio::net::lookup_host((domain, port))
                    .await
                    .map_err(|e| FetchError::Resolve {
                        host: domain.to_string(),
                        reason: e.to_string(),
                    })?
                    .collect();
                if resolved.is_empty() {
                    return Err(FetchError::Resolve {
                        host: domain.to_string(),
                        reason: "no addresses".into(),
                    });
                }
                (Some(domain.to_string()), resolved)
            }
            None => return Err(FetchError::InvalidUrl("no host".into())),
        };
        let host = url.host_str().unwrap_or_default();
        // One bad address is enough to refuse: the client could connect to any of them.
        if let Some(refused) = addresses.iter().find(|a| !self.policy.permits(**a)) {
            return Err(FetchError::ForbiddenAddress {
                host: host.to_string(),
                address: refused.ip(),
            });
        }
        Ok(Vetted { domain, addresses })
    }

    /// A client that can only connect to the vetted addresses.
    fn client_pinned_to(&self, vetted: &Vetted) -> Result<reqwest::Client, FetchError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(self.policy.user_agent.as_str())
            .timeout(self.policy.timeout)
            .dns_resolver(Arc::new(RefuseUnvettedNames));
        if let Some(domain) = &vetted.domain {
            builder = builder.resolve_to_addrs(domain, &vetted.addresses);
        }
        builder
            .build()
            .map_err(|_| FetchError::Connect("the HTTP client could not be built".into()))
    }

    /// The body, refusing it as soon as it exceeds `max_bytes`.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let max_bytes = self.policy.max_bytes;
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > u64::try_from(max_bytes).unwrap_or(u64::MAX)) {
            return Err(FetchError::TooLarge { max_bytes });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&e, self.policy.timeout))?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge { max_bytes });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The resolver of pinned clients: every name they may connect to is pinned with
/// `resolve_to_addrs`, so a lookup reaching here is for a name nobody vetted.
struct RefuseUnvettedNames;

impl reqwest::dns::Resolve for RefuseUnvettedNames {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let refusal = format!("{} was not vetted for fetching", name.as_str());
        Box::pin(std::future::ready(Err(refusal.into())))
    }
}

fn parse_url(input: &str) -> Result<Url, FetchError> {
    let url = Url::parse(input.trim()).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
    check_url(&url)?;
    Ok(url)
}

/// The checks that need no DNS: scheme, credentials, a host.
fn check_url(url: &Url) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::UnsupportedScheme(url.scheme().to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::CredentialsInUrl);
    }
    if url.host().is_none() {
        return Err(FetchError::InvalidUrl("no host".into()));
    }
    Ok(())
}

fn transport_error(error: &reqwest::Error, timeout: Duration) -> FetchError {
    if error.is_timeout() {
        return FetchError::Timeout(timeout);
    }
    // The deepest cause says what happened ("connection refused"); no URL in it.
    let mut cause: &(dyn std::error::Error + 'static) = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    FetchError::Connect(cause.to_string())
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as the IPv4 address they are.
fn canonical(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), address.port()),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

/// Whether `ip` is a public unicast address, one a website may live at. Everything else
/// — this host, the local networks, the cloud metadata service, multicast, ranges kept
/// for documentation, benchmarks or future use — is not.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(network)) & mask)
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    // IANA's special-purpose registry, minus nothing: none of these hosts websites.
    const NOT_PUBLIC: [([u8; 4], u32); 15] = [
        ([0, 0, 0, 0], 8),       // "this network", 0.0.0.0
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // carrier-grade NAT
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata (169.254.169.254)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
        ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
    ];
    !NOT_PUBLIC
        .iter()
        .any(|(network, prefix)| in_v4(ip, *network, *prefix))
}

fn in_v6(ip: Ipv6Addr, network: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::from(network)) & mask)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // ::ffff:a.b.c.d is the IPv4 host a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address through a gateway.
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // Only global unicast (2000::/3) is public; that excludes ::, ::1, IPv4-compatible,
    // unique-local fc00::/7, link-local fe80::/10, site-local, multicast ff00::/8, …
    if !in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return false;
    }
    const NOT_PUBLIC: [([u16; 8], u32); 4] = [
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments (Teredo, …)
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), // 6to4: embeds any IPv4, deprecated
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
    ];
    !NOT_PUBLIC
        .iter()
        .any(|(network, prefix)| in_v6(ip, *network, *prefix))
}

/// `text/html; charset=UTF-8` → `text/html`.
fn media_type_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The `charset` parameter of a Content-Type, if it names an encoding we know.
fn charset_of(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// A `<meta charset=…>` or `<meta http-equiv … content="…; charset=…">` near the start
/// of an HTML page (the spec's prescan, simplified to a search).
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(CHARSET_PRESCAN_BYTES)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let start = head.find("charset=")? + "charset=".len();
    let label: String = head[start..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

/// The body as text: a byte-order mark wins, then the header's charset, then (HTML) a
/// meta charset, then UTF-8. Undecodable bytes become U+FFFD.
fn decode(body: &[u8], essence: &str, header_type: &str) -> String {
    let declared = charset_of(header_type).or_else(|| {
        if essence == "text/plain" {
            None
        } else {
            meta_charset(body)
        }
    });
    let (text, _, _) = declared.unwrap_or(encoding_rs::UTF_8).decode(body);
    text.into_owned()
}

fn extract(
    final_url: &str,
    essence: &str,
    header_type: &str,
    body: &[u8],
    max_text_chars: usize,
) -> WebPage {
    let decoded = decode(body, essence, header_type);
    if essence == "text/plain" {
        let mut text = TextBuilder::new(max_text_chars);
        for line in decoded.lines() {
            text.push(line);
            text.end_block();
        }
        return WebPage {
            final_url: final_url.to_string(),
            title: None,
            description: None,
            text: text.finish(),
            content_type: essence.to_string(),
        };
    }
    let readable = readable_html(&decoded, max_text_chars);
    WebPage {
        final_url: final_url.to_string(),
        title: readable.title,
        description: readable.description,
        text: readable.text,
        content_type: essence.to_string(),
    }
}

/// Elements whose content is not readable text. Void ones (`embed`) have no content to
/// skip and are ignored.
const SKIPPED_ELEMENTS: [&str; 21] = [
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "nav", "footer", "form", "button", "select", "textarea", "video", "audio", "noembed",
    "noframes", "datalist",
];

/// Elements that start a new line of text.
const BLOCK_ELEMENTS: [&str; 36] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "br",
    "hr",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "body",
    "caption",
    "xmp",
    "plaintext",
];

/// Elements that never have content (no end tag).
const VOID_ELEMENTS: [&str; 15] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen",
];

/// Elements whose end tag may be left out (the parser closes them when a sibling starts):
/// a `hidden` one is not skipped, since without its end tag we could not tell where
/// it ends.
const OPTIONAL_END_ELEMENTS: [&str; 14] = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rt",
    "rp",
];

/// Characters of `<title>` kept while reading (an unclosed title runs to the end).
const MAX_TITLE_CHARS: usize = 1000;

/// What [`readable_html`] extracts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadableHtml {
    pub title: Option<String>,
    pub description: Option<String>,
    pub text: String,
}

/// The title, description and readable text of an HTML document. Any input is fine, and
/// the work is linear in its size.
///
/// This runs html5ever's tokenizer (the HTML standard's tokenization: entities, comments,
/// raw-text elements, broken markup all handled as browsers do) and reads the tokens
/// directly, without building a tree: html5ever's tree builder walks the stack of open
/// elements for many tags, which is quadratic on deep nesting (8,000 nested `<div>`s took
/// 5.7 s in a debug build), and a hostile 2 MiB page holds 400,000 of them. Skipped
/// elements are tracked on a stack of their own with per-name counts, so closing them is
/// amortised constant time however they nest.
pub fn readable_html(html: &str, max_text_chars: usize) -> ReadableHtml {
    let sink = TokenReader {
        state: RefCell::new(ReaderState {
            text: TextBuilder::new(max_text_chars),
            ..ReaderState::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The reader never asks the tokenizer to pause for a script, so one feed reads all.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    ReadableHtml {
        title: state.title.or(state.meta.og_title),
        description: state
            .meta
            .description
            .or(state.meta.og_description)
            .or(state.meta.twitter_description),
        text: state.text.finish(),
    }
}

/// The token sink of [`readable_html`].
struct TokenReader {
    state: RefCell<ReaderState>,
}

#[derive(Default)]
struct ReaderState {
    /// Skipped elements currently open, innermost last, and how many of each name.
    skipped: Vec<String>,
    skipped_counts: HashMap<String, usize>,
    /// Reading the first `<title>`.
    in_title: bool,
    title_text: String,
    title: Option<String>,
    meta: MetaDescriptions,
    text: TextBuilder,
}

impl ReaderState {
    fn skip(&mut self, name: &str) {
        self.skipped.push(name.to_string());
        *self.skipped_counts.entry(name.to_string()).or_default() += 1;
    }

    /// Closes the innermost open skipped element named `name`, and any opened inside it
    /// (misnested markup); false if none is open.
    fn close_skipped(&mut self, name: &str) -> bool {
        if self.skipped_counts.get(name).copied().unwrap_or(0) == 0 {
            return false;
        }
        while let Some(open) = self.skipped.pop() {
            if let Some(count) = self.skipped_counts.get_mut(&open) {
                *count = count.saturating_sub(1);
            }
            if open == name {
                break;
            }
        }
        true
    }

    fn start_tag(&mut self, tag: &Tag) {
        let name = &*tag.name;
        let void = VOID_ELEMENTS.contains(&name);
        // Foreign elements (SVG, MathML) honour `<svg/>`; HTML elements ignore the slash.
        let self_closed = tag.self_closing && matches!(name, "svg" | "math");
        if !self.skipped.is_empty() {
            if SKIPPED_ELEMENTS.contains(&name) && !void && !self_closed {
                self.skip(name);
            }
            return;
        }
        let attribute = |wanted: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == wanted)
                .map(|a| &*a.value)
        };
        let hidden = attribute("hidden").is_some()
            || attribute("aria-hidden").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let hideable = !void && !self_closed && !OPTIONAL_END_ELEMENTS.contains(&name);
        if SKIPPED_ELEMENTS.contains(&name) || (hidden && hideable) {
            if !void && !self_closed {
                self.skip(name);
            }
            return;
        }
        match name {
            "meta" => self.meta.read(
                attribute("name"),
                attribute("property"),
                attribute("content"),
            ),
            "title" if self.title.is_none() => self.in_title = true,
            "img" => {
                if let Some(alt) = attribute("alt") {
                    // Alt text often names the products on image-heavy sites.
                    self.text.push(" ");
                    self.text.push(alt);
                    self.text.push(" ");
                }
            }
            _ => {}
        }
        if BLOCK_ELEMENTS.contains(&name) {
            self.text.end_block();
        }
    }

    fn end_tag(&mut self, tag: &Tag) {
        let name = &*tag.name;
        if self.close_skipped(name) || !self.skipped.is_empty() {
            return;
        }
        if name == "title" && self.in_title {
            self.in_title = false;
            self.title = Some(collapse_whitespace(&self.title_text)).filter(|t| !t.is_empty());
        }
        if BLOCK_ELEMENTS.contains(&name) {
            self.text.end_block();
        }
    }

    fn characters(&mut self, text: &str) {
        if self.in_title {
            if self.title_text.chars().count() < MAX_TITLE_CHARS {
                self.title_text.push_str(text);
            }
        } else if self.skipped.is_empty() {
            self.text.push(text);
        }
    }
}

impl TokenSink for TokenReader {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => {
                state.start_tag(&tag);
                // What the tree builder would tell the tokenizer: these elements' content
                // is text up to their end tag, not markup.
                match &*tag.name {
                    "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        return TokenSinkResult::RawData(RawKind::Rawtext);
                    }
                    "title" | "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => return TokenSinkResult::Plaintext,
                    _ => {}
                }
            }
            Token::TagToken(tag) => state.end_tag(&tag),
            Token::CharacterTokens(text) => state.characters(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The description-like `<meta>` tags, first of each kind.
#[derive(Default)]
struct MetaDescriptions {
    description: Option<String>,
    og_description: Option<String>,
    twitter_description: Option<String>,
    og_title: Option<String>,
}

impl MetaDescriptions {
    fn read(&mut self, name: Option<&str>, property: Option<&str>, content: Option<&str>) {
        let Some(content) = content.map(collapse_whitespace).filter(|c| !c.is_empty()) else {
            return;
        };
        let key = name.or(property).unwrap_or_default().to_ascii_lowercase();
        let slot = match key.as_str() {
            "description" => &mut self.description,
            "og:description" => &mut self.og_description,
            "twitter:description" => &mut self.twitter_description,
            "og:title" => &mut self.og_title,
            _ => return,
        };
        slot.get_or_insert(content);
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Readable text in lines, spaces collapsed, cut at a number of characters.
#[derive(Default)]
struct TextBuilder {
    lines: Vec<String>,
    current: String,
    chars: usize,
    max_chars: usize,
}

impl TextBuilder {
    fn new(max_chars: usize) -> Self {
        Self {
            lines: Vec::new(),
            current: String::new(),
            chars: 0,
            max_chars,
        }
    }

    fn full(&self) -> bool {
        self.chars >= self.max_chars
    }

    fn push(&mut self, text: &str) {
        // Bounded: a 2 MiB page of one text node does not grow a 2 MiB line first.
        if self.full() || self.current.len() > self.max_chars.saturating_mul(4) {
            return;
        }
        self.current.push_str(text);
    }

    fn end_block(&mut self) {
        if self.full() {
            self.current.clear();
            return;
        }
        let line = collapse_whitespace(&self.current);
        self.current.clear();
        if line.is_empty() {
            return;
        }
        // Counting the newline joining it to the previous line.
        let separator = usize::from(!self.lines.is_empty());
        let room = self.max_chars.saturating_sub(self.chars + separator);
        let line: String = line.chars().take(room).collect();
        self.chars += separator + line.chars().count();
        if !line.is_empty() {
            self.lines.push(line);
        }
    }

    fn finish(mut self) -> String {
        self.end_block();
        self.lines.join("\n")
    }
}

/// The domain's `Web` port: pages fetched under the settings' policy. A refused address is
/// the caller's error (`url_refused`); a site that fails is `url_unreadable`.
pub struct SafeWeb {
    fetcher: WebFetcher,
}

impl SafeWeb {
    pub fn new(settings: &crate::settings::CampaignSettings) -> anyhow::Result<Self> {
        let allowed_addresses = settings
            .fetch_allowed_addresses
            .iter()
            .map(|address| {
                address
                    .parse::<SocketAddr>()
                    .map_err(|e| anyhow::anyhow!("fetch_allowed_addresses {address:?}: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            fetcher: WebFetcher::new(FetchPolicy {
                max_bytes: usize::try_from(settings.fetch_max_bytes).unwrap_or(usize::MAX),
                timeout: Duration::from_secs(settings.fetch_timeout_secs.max(1)),
                max_redirects: settings.fetch_max_redirects as usize,
                allow_private: settings.fetch_allow_private,
                allowed_addresses,
                ..FetchPolicy::default()
            }),
        })
    }
}

#[async_trait::async_trait]
impl crate::domain::Web for SafeWeb {
    async fn fetch(&self, url: &str) -> crate::error::Result<crate::domain::Page> {
        use crate::error::CampaignError;
        match self.fetcher.fetch(url).await {
            Ok(page) => Ok(crate::domain::Page {
                url: page.final_url,
                title: page.title.unwrap_or_default(),
                description: page.description.unwrap_or_default(),
                text: page.text,
            }),
            Err(
                error @ (FetchError::ForbiddenAddress { .. }
                | FetchError::UnsupportedScheme(_)
                | FetchError::CredentialsInUrl
                | FetchError::InvalidUrl(_)),
            ) => Err(CampaignError::invalid(
                "url_refused",
                format!("{url}: {error}"),
            )),
            Err(error) => Err(CampaignError::invalid(
                "url_unreadable",
                format!("{url} could not be read: {error}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// How the test site answers one path.
    #[derive(Clone)]
    enum Page {
        /// A complete response: status line, headers and body.
        Raw(Vec<u8>),
        /// The response after a wait.
        Slow(Duration, Vec<u8>),
        /// 200 with this content type and no length, then bytes until the client leaves.
        Endless(&'static str),
    }

    fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn redirect(location: &str) -> Page {
        Page::Raw(
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes(),
        )
    }

    fn html(body: &str) -> Page {
        Page::Raw(response(
            "200 OK",
            "text/html; charset=utf-8",
            body.as_bytes(),
        ))
    }

    /// A tiny HTTP/1.1 server on 127.0.0.1 answering from a table of paths; it counts
    /// the requests it got.
    struct TestSite {
        address: SocketAddr,
        hits: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl TestSite {
        async fn start(pages: Vec<(&'static str, Page)>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let pages: Arc<HashMap<&'static str, Page>> = Arc::new(pages.into_iter().collect());
            let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let counter = hits.clone();
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let pages = pages.clone();
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        let mut head = Vec::new();
                        let mut buffer = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut buffer).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => head.extend_from_slice(&buffer[..n]),
                            }
                        }
                        let head = String::from_utf8_lossy(&head);
                        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                        let page = pages.get(path.as_str()).cloned().unwrap_or_else(|| {
                            Page::Raw(response("404 Not Found", "text/plain", b"missing"))
                        });
                        match page {
                            Page::Raw(bytes) => {
                                let _ = stream.write_all(&bytes).await;
                            }
                            Page::Slow(wait, bytes) => {
                                tokio::time::sleep(wait).await;
                                let _ = stream.write_all(&bytes).await;
                            }
                            Page::Endless(content_type) => {
                                let head = format!(
                                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
                                );
                                if stream.write_all(head.as_bytes()).await.is_err() {
                                    return;
                                }
                                let chunk = vec![b'a'; 64 * 1024];
                                while stream.write_all(&chunk).await.is_ok() {}
                            }
                        }
                        let _ = stream.shutdown().await;
                    });
                }
            });
            Self { address, hits }
        }

        fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.address)
        }

        fn hits(&self) -> usize {
            self.hits.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    /// Private addresses allowed: for fetching from the local test site.
    fn permissive() -> WebFetcher {
        marquee_platform::install_crypto_provider();
        WebFetcher::new(FetchPolicy {
            allow_private: true,
            timeout: Duration::from_secs(5),
            ..FetchPolicy::default()
        })
    }

    /// The default policy, with only `site` excepted.
    fn strict_except(site: &TestSite) -> WebFetcher {
        marquee_platform::install_crypto_provider();
        WebFetcher::new(FetchPolicy {
            allowed_addresses: vec![site.address],
            timeout: Duration::from_secs(5),
            ..FetchPolicy::default()
        })
    }

    const SHOP: &str = r#"<!doctype html>
<html><head>
  <title>  Bean &amp; Leaf
     Coffee </title>
  <meta name="description" content="Small-batch coffee roasted in Porto.">
  <meta property="og:description" content="OG text">
  <style>body { color: red }</style>
  <script>var secret = "tracking";</script>
</head>
<body>
  <nav><a href="/">Home</a><a href="/shop">Shop</a></nav>
  <header><h1>Bean &amp; Leaf</h1></header>
  <main>
    <p>We roast   single-origin beans
       every Tuesday.</p>
    <ul><li>Espresso blend</li><li>Ethiopian Yirgacheffe</li></ul>
    <img src="x.jpg" alt="Our roastery in Porto">
    <div hidden>Hidden promo</div>
    <noscript>Enable JavaScript</noscript>
    <svg><title>icon</title><text>svg text</text></svg>
    <script>document.write("injected")</script>
  </main>
  <footer>© 2026 Bean &amp; Leaf · Privacy</footer>
</body></html>"#;

    #[tokio::test]
    async fn a_page_becomes_title_description_and_readable_text() {
        let site = TestSite::start(vec![("/", html(SHOP))]).await;
        let page = permissive().fetch(&site.url("/")).await.unwrap();
        assert_eq!(page.title.as_deref(), Some("Bean & Leaf Coffee"));
        assert_eq!(
            page.description.as_deref(),
            Some("Small-batch coffee roasted in Porto.")
        );
        assert_eq!(page.content_type, "text/html");
        assert_eq!(page.final_url, site.url("/"));
        assert_eq!(
            page.text,
            "Bean & Leaf\nWe roast single-origin beans every Tuesday.\nEspresso blend\n\
             Ethiopian Yirgacheffe\nOur roastery in Porto"
        );
        for absent in [
            "tracking",
            "injected",
            "Home",
            "Privacy",
            "Hidden",
            "JavaScript",
            "svg",
            "color",
        ] {
            assert!(!page.text.contains(absent), "{absent} in {:?}", page.text);
        }
    }

    #[tokio::test]
    async fn the_same_local_page_is_refused_under_the_default_policy() {
        let site = TestSite::start(vec![("/", html(SHOP))]).await;
        marquee_platform::install_crypto_provider();
        let error = WebFetcher::default()
            .fetch(&site.url("/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, FetchError::ForbiddenAddress { address, .. } if address == IpAddr::from([127, 0, 0, 1])),
            "{error:?}"
        );
        assert_eq!(site.hits(), 0, "nothing may be sent to a refused address");
        // Excepting its exact address lets it through.
        assert!(strict_except(&site).fetch(&site.url("/")).await.is_ok());
    }

    #[tokio::test]
    async fn private_reserved_and_disguised_addresses_are_refused() {
        marquee_platform::install_crypto_provider();
        let fetcher = WebFetcher::default();
        for url in [
            "http://127.0.0.1/",
            "http://localhost/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://172.16.5.4/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://127.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "https://192.0.2.10/",
        ] {
            let error = fetcher.fetch(url).await.unwrap_err();
            assert!(
                matches!(error, FetchError::ForbiddenAddress { .. }),
                "{url}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn other_schemes_and_credentials_are_refused() {
        let fetcher = WebFetcher::default();
        for url in [
            "file:///etc/passwd",
            "gopher://example.com/",
            "ftp://example.com/",
            "data:text/html,hi",
        ] {
            let error = fetcher.fetch(url).await.unwrap_err();
            assert!(
                matches!(error, FetchError::UnsupportedScheme(_)),
                "{url}: {error:?}"
            );
        }
        let error = fetcher
            .fetch("http://user:pass@example.com/")
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::CredentialsInUrl), "{error:?}");
        assert!(!error.to_string().contains("pass@"));
        let error = fetcher.fetch("not a url").await.unwrap_err();
        assert!(matches!(error, FetchError::InvalidUrl(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_redirect_to_a_private_address_is_refused_at_that_hop() {
        // A second site that would answer, were the redirect followed.
        let internal = TestSite::start(vec![("/admin", html("<p>internal</p>"))]).await;
        let to_other_port = internal.url("/admin");
        let site = TestSite::start(vec![
            ("/other-port", redirect(&to_other_port)),
            ("/other-ip", redirect("http://127.0.0.2/admin")),
            (
                "/metadata",
                redirect("http://169.254.169.254/latest/meta-data/"),
            ),
        ])
        .await;
        let fetcher = strict_except(&site);
        for path in ["/other-port", "/other-ip", "/metadata"] {
            let error = fetcher.fetch(&site.url(path)).await.unwrap_err();
            assert!(
                matches!(error, FetchError::ForbiddenAddress { .. }),
                "{path}: {error:?}"
            );
        }
        assert_eq!(internal.hits(), 0);
        // `localhost` on the excepted port: refused at once if it resolves to ::1 too (not
        // excepted), else at the redirect to 127.0.0.2.
        let via_name = format!("http://localhost:{}/other-ip", site.address.port());
        let error = fetcher.fetch(&via_name).await.unwrap_err();
        assert!(
            matches!(error, FetchError::ForbiddenAddress { .. })
                || matches!(error, FetchError::Resolve { .. }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn redirects_are_followed_up_to_the_limit() {
        let site_pages = vec![
            ("/a", redirect("/b")),
            ("/b", redirect("/c")),
            ("/c", redirect("/d")),
            ("/d", html("<title>Arrived</title><p>done</p>")),
            ("/loop", redirect("/loop")),
            (
                "/nowhere",
                Page::Raw(
                    b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec(),
                ),
            ),
        ];
        let site = TestSite::start(site_pages).await;
        let fetcher = permissive();
        let page = fetcher.fetch(&site.url("/a")).await.unwrap();
        assert_eq!(page.title.as_deref(), Some("Arrived"));
        assert_eq!(page.final_url, site.url("/d"));
        let error = fetcher.fetch(&site.url("/loop")).await.unwrap_err();
        assert!(
            matches!(error, FetchError::TooManyRedirects { max: 3 }),
            "{error:?}"
        );
        let error = fetcher.fetch(&site.url("/nowhere")).await.unwrap_err();
        assert!(matches!(error, FetchError::BadRedirect), "{error:?}");
        let redirect_to_file = TestSite::start(vec![("/", redirect("file:///etc/passwd"))]).await;
        let error = fetcher.fetch(&redirect_to_file.url("/")).await.unwrap_err();
        assert!(
            matches!(error, FetchError::UnsupportedScheme(_)),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_cut_off() {
        let big = "x".repeat(4096);
        let site = TestSite::start(vec![
            ("/declared", html(&big)),
            ("/endless", Page::Endless("text/html")),
        ])
        .await;
        let fetcher = WebFetcher::new(FetchPolicy {
            max_bytes: 1024,
            ..permissive().policy().clone()
        });
        for path in ["/declared", "/endless"] {
            let error = fetcher.fetch(&site.url(path)).await.unwrap_err();
            assert!(
                matches!(error, FetchError::TooLarge { max_bytes: 1024 }),
                "{path}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_slow_site_times_out() {
        let site = TestSite::start(vec![(
            "/",
            Page::Slow(
                Duration::from_secs(5),
                response("200 OK", "text/html", b"late"),
            ),
        )])
        .await;
        let fetcher = WebFetcher::new(FetchPolicy {
            timeout: Duration::from_millis(300),
            ..permissive().policy().clone()
        });
        let started = std::time::Instant::now();
        let error = fetcher.fetch(&site.url("/")).await.unwrap_err();
        assert!(matches!(error, FetchError::Timeout(_)), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn only_html_and_text_are_taken() {
        let site = TestSite::start(vec![
            (
                "/pdf",
                Page::Raw(response("200 OK", "application/pdf", b"%PDF-1.7")),
            ),
            (
                "/none",
                Page::Raw(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".to_vec(),
                ),
            ),
            (
                "/text",
                Page::Raw(response(
                    "200 OK",
                    "text/plain",
                    b"Opening hours:\n  Mon-Fri   8-18\n",
                )),
            ),
            (
                "/missing",
                Page::Raw(response("404 Not Found", "text/html", b"gone")),
            ),
        ])
        .await;
        let fetcher = permissive();
        let error = fetcher.fetch(&site.url("/pdf")).await.unwrap_err();
        assert!(
            matches!(&error, FetchError::UnsupportedContentType(t) if t == "application/pdf"),
            "{error:?}"
        );
        let error = fetcher.fetch(&site.url("/none")).await.unwrap_err();
        assert!(
            matches!(error, FetchError::UnsupportedContentType(_)),
            "{error:?}"
        );
        let page = fetcher.fetch(&site.url("/text")).await.unwrap();
        assert_eq!(page.text, "Opening hours:\nMon-Fri 8-18");
        assert_eq!(page.title, None);
        let error = fetcher.fetch(&site.url("/missing")).await.unwrap_err();
        assert!(matches!(error, FetchError::Status(404)), "{error:?}");
    }

    #[tokio::test]
    async fn legacy_charsets_and_invalid_bytes_decode() {
        // "Café" in windows-1252, declared in the header, and in a meta tag.
        let latin1 = b"<title>Caf\xe9</title><p>Cr\xe8me br\xfbl\xe9e</p>";
        let mut meta_declared = b"<meta charset=\"windows-1252\"><title>Caf\xe9</title>".to_vec();
        meta_declared.extend_from_slice(b"<p>ok</p>");
        let site = TestSite::start(vec![
            (
                "/header",
                Page::Raw(response("200 OK", "text/html; charset=ISO-8859-1", latin1)),
            ),
            (
                "/meta",
                Page::Raw(response("200 OK", "text/html", &meta_declared)),
            ),
            (
                "/broken",
                Page::Raw(response("200 OK", "text/html", b"<p>ok \xff\xfe bytes</p>")),
            ),
        ])
        .await;
        let fetcher = permissive();
        let page = fetcher.fetch(&site.url("/header")).await.unwrap();
        assert_eq!(page.title.as_deref(), Some("Café"));
        assert_eq!(page.text, "Crème brûlée");
        let page = fetcher.fetch(&site.url("/meta")).await.unwrap();
        assert_eq!(page.title.as_deref(), Some("Café"));
        let page = fetcher.fetch(&site.url("/broken")).await.unwrap();
        assert_eq!(page.text, "ok \u{fffd}\u{fffd} bytes");
    }

    #[test]
    fn malformed_and_hostile_html_does_not_panic() {
        // As much hostile nesting as max_bytes (2 MiB) lets through, in several shapes.
        let deep = "<div>".repeat(400_000) + "deep text";
        let deep_skipped = "<nav>".repeat(200_000) + &"</x>".repeat(200_000);
        let deep_fonts: String = (0..100_000).map(|i| format!("<font color={i}>x")).collect();
        let started = std::time::Instant::now();
        for html in [
            "",
            "<",
            "<<<>>>",
            "<html><body><p>unclosed <b>bold <i>italic",
            "</p></div></body>stray closers",
            "<title>only a title",
            "<script>never closed",
            "\u{0}\u{feff}<p>\u{0}nul</p>",
            deep.as_str(),
            deep_skipped.as_str(),
            deep_fonts.as_str(),
        ] {
            let _ = readable_html(html, 20_000);
        }
        // Linear: seconds even unoptimised on a shared machine (the tree builder took
        // minutes on the first shape).
        assert!(started.elapsed() < Duration::from_secs(60));
        assert_eq!(readable_html(&deep, 100).text, "deep text");
        let readable = readable_html("<p>unclosed <b>bold <i>italic", 100);
        assert_eq!(readable.text, "unclosed bold italic");
    }

    #[test]
    fn text_is_capped_at_the_character_limit() {
        let html = "<p>".to_string() + &"é".repeat(50) + "</p><p>" + &"b".repeat(50) + "</p>";
        let readable = readable_html(&html, 60);
        assert_eq!(readable.text.chars().count(), 60);
        assert!(readable.text.starts_with(&"é".repeat(50)));
    }

    #[test]
    fn descriptions_fall_back_to_open_graph() {
        let readable = readable_html(
            r#"<meta property="og:title" content="OG Title"><meta property="og:description" content=" From   OG ">"#,
            100,
        );
        assert_eq!(readable.title.as_deref(), Some("OG Title"));
        assert_eq!(readable.description.as_deref(), Some("From OG"));
    }

    #[test]
    fn address_classification() {
        let public = [
            "93.184.215.14",
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "64:ff9b::808:808",
        ];
        for ip in public {
            assert!(
                is_public_address(ip.parse().unwrap()),
                "{ip} should be public"
            );
        }
        let not_public = [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.251",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "2002:7f00:1::1",
            "3fff::1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "fec0::1",
        ];
        for ip in not_public {
            assert!(
                !is_public_address(ip.parse().unwrap()),
                "{ip} should not be public"
            );
        }
        // Just outside the private blocks.
        assert!(is_public_address("172.32.0.1".parse().unwrap()));
        assert!(is_public_address("100.128.0.1".parse().unwrap()));
        assert!(is_public_address("11.0.0.1".parse().unwrap()));
    }

    #[test]
    fn exceptions_match_exact_socket_addresses() {
        let policy = FetchPolicy {
            allowed_addresses: vec!["127.0.0.1:8080".parse().unwrap()],
            ..FetchPolicy::default()
        };
        assert!(policy.permits("127.0.0.1:8080".parse().unwrap()));
        assert!(policy.permits("[::ffff:127.0.0.1]:8080".parse().unwrap()));
        assert!(!policy.permits("127.0.0.1:8081".parse().unwrap()));
        assert!(!policy.permits("127.0.0.2:8080".parse().unwrap()));
        assert!(!policy.permits("[::1]:8080".parse().unwrap()));
        assert!(policy.permits("8.8.8.8:443".parse().unwrap()));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const MARKER: &str = "SCRIPTMARKER";

        /// Ordinary markup: text, entities, comments and elements that are neither raw
        /// text (`<xmp>`, `<plaintext>`: their content *is* text) nor skipped.
        fn ordinary_markup() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                "[a-zA-Z0-9 .,!?é]{0,20}",
                prop::sample::select(vec![
                    "p", "div", "span", "b", "i", "a", "h1", "li", "ul", "br", "img", "td",
                ])
                .prop_flat_map(|tag| {
                    prop_oneof![
                        Just(format!("<{tag}>")),
                        Just(format!("</{tag}>")),
                        Just(format!("<{tag} class=\"x\" id=y>")),
                    ]
                }),
                Just("&amp;".to_string()),
                Just("&lt;script&gt;".to_string()),
                Just("<!-- a comment -->".to_string()),
                Just("<title>A title</title>".to_string()),
                Just("<meta name=\"description\" content=\"About us\">".to_string()),
            ];
            proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
        }

        /// Script content that does not end the script before the marker, with the
        /// tokenizer's tricky states (`<!--`, `<script>` inside, near-miss end tags).
        fn script_content() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                "[^<]{0,20}",
                prop::sample::select(vec![
                    "<!--",
                    "-->",
                    "<script>",
                    "</scrip",
                    "</scriptx>",
                    "<p>",
                    "</style>",
                    "</p>",
                    "<",
                    "&lt;",
                    "\"</",
                    "'",
                ])
                .prop_map(str::to_string),
            ];
            proptest::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
        }

        /// Whether `content` holds an end tag of `name` (`</name` then a space, `/` or
        /// `>`): the element would end there.
        fn ends(content: &str, name: &str) -> bool {
            let content = content.to_ascii_lowercase();
            let end = format!("</{name}");
            content.match_indices(&end).any(|(at, _)| {
                matches!(
                    content.as_bytes().get(at + end.len()),
                    Some(b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>')
                )
            })
        }

        fn script_start() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "<script>",
                "<SCRIPT>",
                "<Script type=\"text/javascript\">",
                "<script\n>",
                "<style>",
                "<noscript>",
                "<template>",
            ])
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_and_respects_the_cap(html in ".{0,400}", max in 0usize..300) {
                let readable = readable_html(&html, max);
                prop_assert!(readable.text.chars().count() <= max);
            }

            #[test]
            fn never_panics_on_tag_soup(
                pieces in proptest::collection::vec(
                    prop_oneof![
                        "<[a-zA-Z!/?]{0,10}[ a-z=\"'/]{0,10}>?",
                        "&[a-z#0-9]{0,8};?",
                        "[^<&]{0,10}",
                        Just("<!--".to_string()),
                        Just("<![CDATA[".to_string()),
                        Just("<script>".to_string()),
                        Just("</script>".to_string()),
                    ],
                    0..40,
                ),
                max in 0usize..300,
            ) {
                let html = pieces.concat();
                let readable = readable_html(&html, max);
                prop_assert!(readable.text.chars().count() <= max);
            }

            /// What a script (or style, noscript, template) holds never reaches the text,
            /// the title or the description.
            #[test]
            fn script_content_is_never_text(
                before in ordinary_markup(),
                start in script_start(),
                inside_before in script_content(),
                inside_after in script_content(),
                after in ordinary_markup(),
            ) {
                let name: String = start[1..]
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect::<String>()
                    .to_ascii_lowercase();
                prop_assume!(!ends(&inside_before, &name));
                let end = format!("</{name}>");
                let html = format!("{before}{start}{inside_before}{MARKER}{inside_after}{end}{after}");
                let readable = readable_html(&html, 100_000);
                prop_assert!(!readable.text.contains(MARKER), "text {:?} of {html:?}", readable.text);
                for field in [&readable.title, &readable.description].into_iter().flatten() {
                    prop_assert!(!field.contains(MARKER), "{field:?} of {html:?}");
                }
            }
        }
    }
}
