//! OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, as used by
//! the MCP authorization spec 2025-11-25): a `client_id` that is an https URL names a JSON
//! document with the client's metadata, which [`CimdFetcher`] fetches, checks and caches.
//!
//! Fetching a URL chosen by an unauthenticated caller is a server-side request forgery risk, so
//! the fetch follows no redirects, goes through no proxy, is bounded in size and time, and
//! connects only to public addresses — checked on the addresses actually connected to (in the
//! DNS resolver), so a name that re-resolves to a private address later cannot slip through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Deserialize;
use url::{Host, Url};

use crate::auth::client::{self, GrantType};
use crate::auth::redirect::RedirectUri;
#[cfg(test)]
use crate::config::CIMD_DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES;
use crate::config::{CIMD_MIN_MAX_BYTES as MIN_MAX_BYTES, CimdSettings};

/// Longest accepted `client_id` URL, as for redirect URIs.
const MAX_CLIENT_ID_LEN: usize = 2000;
/// moka refuses a time to live over 1000 years; a configured TTL is capped well below that.
const MAX_CACHE_TTL: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// A validated client metadata document. A CIMD client is always public: it authenticates at
/// the token endpoint with `none` (PKCE), and a document asking for anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadataDocument {
    /// The URL the document was fetched from, which the document names as its `client_id`.
    pub client_id: String,
    pub client_name: Option<String>,
    /// Never empty.
    pub redirect_uris: Vec<RedirectUri>,
    /// The listed grants this server supports (absent → `authorization_code`); never empty.
    pub grant_types: Vec<GrantType>,
    /// Kept only when an https URL.
    pub logo_uri: Option<String>,
    /// Kept only when an https URL.
    pub client_uri: Option<String>,
}

/// Why a URL `client_id` was not accepted. Messages are safe to show on an error page: they
/// name nothing beyond the URL the client chose.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CimdError {
    #[error("this server does not accept client ID metadata documents")]
    Disabled,
    #[error(
        "client_id is not a valid client metadata document URL \
         (https, with a path, no fragment or credentials, in normalized form)"
    )]
    InvalidUrl,
    #[error(
        "the client_id host is a private or reserved address, which this server does not contact"
    )]
    ForbiddenAddress,
    #[error("the client metadata document could not be fetched")]
    Unreachable,
    #[error("fetching the client metadata document took longer than {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error(
        "the client metadata document URL answered with a redirect (HTTP {0}); redirects are not followed"
    )]
    Redirect(u16),
    #[error("the client metadata document URL answered HTTP {0} instead of 200")]
    Status(u16),
    #[error("the client metadata document is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the client metadata document is not a JSON object")]
    NotJson,
    #[error("the client metadata document's client_id is not the URL it was fetched from")]
    ClientIdMismatch,
    #[error("invalid client metadata document: {0}")]
    InvalidDocument(String),
}

/// Whether `s` has the shape of a metadata-document `client_id`: an https URL with a path other
/// than `/`, no fragment, no user info. With `allow_loopback` (tests), `http://127.0.0.1:…` and
/// `http://[::1]:…` too. Anything else is an ordinary registered `client_id`.
pub fn is_cimd_client_id(s: &str, allow_loopback: bool) -> bool {
    parse_client_id(s, allow_loopback).is_some()
}

fn parse_client_id(s: &str, allow_loopback: bool) -> Option<Url> {
    if s.len() > MAX_CLIENT_ID_LEN || s.contains('#') {
        return None;
    }
    let url = Url::parse(s).ok()?;
    // The document must name itself with this exact string, and what is fetched is the parsed
    // URL: requiring them to be the same string rules out dot segments, stray whitespace, odd
    // escapes and default ports that would make the two differ.
    if url.as_str() != s {
        return None;
    }
    let scheme_ok = match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(Host::Ipv4(ip))) => allow_loopback && ip.is_loopback(),
        ("http", Some(Host::Ipv6(ip))) => allow_loopback && ip.is_loopback(),
        _ => false,
    };
    let path_ok = !matches!(url.path(), "" | "/");
    let no_credentials = url.username().is_empty() && url.password().is_none();
    (scheme_ok && path_ok && no_credentials).then_some(url)
}

/// Fetches, validates and caches client metadata documents. Cheap to clone; clones share the
/// HTTP client and the cache.
#[derive(Clone)]
pub struct CimdFetcher {
    settings: CimdSettings,
    http: reqwest::Client,
    cache: moka::future::Cache<String, ClientMetadataDocument>,
}

impl CimdFetcher {
    /// Builds the HTTP client (fails only if the TLS backend cannot start).
    pub fn new(settings: CimdSettings, user_agent: &str) -> Result<CimdFetcher, reqwest::Error> {
        let settings = CimdSettings {
            max_bytes: settings.max_bytes.max(MIN_MAX_BYTES),
            ..settings
        };
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve and connect for us, out of the resolver's sight.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback: settings.allow_loopback,
            }))
            .https_only(!settings.allow_loopback)
            .connect_timeout(settings.timeout)
            .build()?;
        let cache = moka::future::Cache::builder()
            .max_capacity(settings.cache_entries)
            .time_to_live(settings.cache_ttl.min(MAX_CACHE_TTL))
            .build();
        Ok(CimdFetcher {
            settings,
            http,
            cache,
        })
    }

    /// Whether `client_id` is for this fetcher: enabled and shaped like a document URL.
    pub fn handles(&self, client_id: &str) -> bool {
        self.settings.enabled && is_cimd_client_id(client_id, self.settings.allow_loopback)
    }

    /// The validated document for `client_id`, from the cache or fetched. Concurrent calls for
    /// one `client_id` share one fetch; failures are not cached.
    pub async fn resolve(&self, client_id: &str) -> Result<ClientMetadataDocument, CimdError> {
        if !self.settings.enabled {
            return Err(CimdError::Disabled);
        }
        let url = parse_client_id(client_id, self.settings.allow_loopback)
            .ok_or(CimdError::InvalidUrl)?;
        self.cache
            .try_get_with(client_id.to_owned(), self.fetch(url))
            .await
            .map_err(|e| (*e).clone())
    }

    async fn fetch(&self, url: Url) -> Result<ClientMetadataDocument, CimdError> {
        let timeout = self.settings.timeout;
        let body = match tokio::time::timeout(timeout, self.fetch_body(&url)).await {
            Ok(body) => body?,
            Err(_) => return Err(CimdError::Timeout(timeout)),
        };
        parse_document(url.as_str(), &body)
    }

    async fn fetch_body(&self, url: &Url) -> Result<Vec<u8>, CimdError> {
        // reqwest connects to an IP literal without asking the resolver, so check it here.
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if literal.is_some_and(|ip| !permitted(ip, self.settings.allow_loopback)) {
            return Err(CimdError::ForbiddenAddress);
        }
        let mut response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.fetch_error(url, &e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(CimdError::Redirect(status.as_u16()));
        }
        if status != StatusCode::OK {
            return Err(CimdError::Status(status.as_u16()));
        }
        let max = self.settings.max_bytes;
        // Content-Length is only an early answer; the count below is what is enforced.
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(CimdError::TooLarge(max));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.fetch_error(url, &e))?
        {
            if body.len().saturating_add(chunk.len()) > max {
                return Err(CimdError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The shown error for a failed request; the details (which may name internal hosts or
    /// resolver messages) go to the log only.
    fn fetch_error(&self, url: &Url, error: &reqwest::Error) -> CimdError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            if e.is::<ForbiddenTarget>() {
                return CimdError::ForbiddenAddress;
            }
            source = e.source();
        }
        tracing::info!(%url, error = ?error, "client metadata document fetch failed");
        if error.is_timeout() {
            CimdError::Timeout(self.settings.timeout)
        } else {
            CimdError::Unreachable
        }
    }
}

/// The document as published; unknown members are ignored.
#[derive(Deserialize)]
struct RawDocument {
    client_id: Option<String>,
    client_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    client_secret: Option<serde_json::Value>,
    logo_uri: Option<String>,
    client_uri: Option<String>,
}

/// Checks a fetched body against the `client_id` it was fetched for.
fn parse_document(client_id: &str, body: &[u8]) -> Result<ClientMetadataDocument, CimdError> {
    use CimdError::InvalidDocument;

    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| CimdError::NotJson)?;
    if !value.is_object() {
        return Err(CimdError::NotJson);
    }
    let raw: RawDocument =
        serde_json::from_value(value).map_err(|e| InvalidDocument(e.to_string()))?;
    if raw.client_id.as_deref() != Some(client_id) {
        return Err(CimdError::ClientIdMismatch);
    }
    // A document is public, so any secret in it is no secret (draft §4.1).
    if raw.client_secret.is_some() {
        return Err(InvalidDocument(
            "it must not contain a client_secret".into(),
        ));
    }
    match raw.token_endpoint_auth_method.as_deref() {
        None | Some("none") => {}
        Some(_) => {
            return Err(InvalidDocument(
                "token_endpoint_auth_method must be \"none\" (this server accepts only public \
                 metadata-document clients)"
                    .into(),
            ));
        }
    }
    let redirect_uris = raw
        .redirect_uris
        .filter(|uris| !uris.is_empty())
        .ok_or_else(|| InvalidDocument("redirect_uris is missing or empty".into()))?
        .iter()
        .map(|uri| {
            RedirectUri::parse(uri)
                .map_err(|e| InvalidDocument(format!("redirect_uris: {uri:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let client_name = client::client_name(raw.client_name).map_err(InvalidDocument)?;
    // Grants this server does not implement are ignored.
    let grant_types = match raw.grant_types {
        None => vec![GrantType::AuthorizationCode],
        Some(listed) => {
            let supported: Vec<GrantType> =
                listed.iter().filter_map(|g| GrantType::parse(g)).collect();
            if supported.is_empty() {
                return Err(InvalidDocument(
                    "grant_types lists neither authorization_code nor refresh_token".into(),
                ));
            }
            supported
        }
    };
    Ok(ClientMetadataDocument {
        client_id: client_id.to_owned(),
        client_name,
        redirect_uris,
        grant_types,
        logo_uri: raw.logo_uri.filter(|u| is_https_url(u)),
        client_uri: raw.client_uri.filter(|u| is_https_url(u)),
    })
}

fn is_https_url(s: &str) -> bool {
    !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && Url::parse(s).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
}

/// What an address is, for deciding whether to connect to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressClass {
    Public,
    Loopback,
    /// Private, link-local, reserved, multicast, documentation and the like.
    Restricted,
}

fn permitted(ip: IpAddr, allow_loopback: bool) -> bool {
    match classify(ip) {
        AddressClass::Public => true,
        AddressClass::Loopback => allow_loopback,
        AddressClass::Restricted => false,
    }
}

fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if a == 127 {
        return AddressClass::Loopback;
    }
    let restricted = a == 0 // "this network", including 0.0.0.0
        || a == 10
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
        || (a == 169 && b == 254) // link-local, including cloud metadata services
        || (a == 172 && (b & 0xf0) == 16)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b & 0xfe) == 18) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    if restricted {
        AddressClass::Restricted
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if ip == Ipv6Addr::LOCALHOST {
        return AddressClass::Loopback;
    }
    let s = ip.segments();
    // Prefixes that carry an IPv4 destination: the embedded address decides.
    let embedded =
        |hi: u16, lo: u16| match classify_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
        {
            AddressClass::Public => AddressClass::Public,
            _ => AddressClass::Restricted,
        };
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return embedded(s[6], s[7]); // NAT64, 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return embedded(s[1], s[2]); // 6to4, 2002::/16
    }
    let restricted = s[..4] == [0, 0, 0, 0] // ::/64: unspecified, IPv4-compatible, IPv4-translated
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64, 64:ff9b:1::/48
        || s[..4] == [0x100, 0, 0, 0] // discard-only, 100::/64
        || (s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments incl. Teredo, 2001::/23
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (s[0] & 0xff00) == 0xff00; // multicast
    if restricted {
        AddressClass::Restricted
    } else {
        AddressClass::Public
    }
}

/// Marks a resolution refused because every address was restricted; found again in reqwest's
/// error chain to give a precise message.
#[derive(Debug, thiserror::Error)]
#[error("every address of the host is private or reserved")]
struct ForbiddenTarget;

/// Resolves with the system resolver and keeps only the addresses that may be connected to.
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| permitted(addr.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() && !resolved.is_empty() {
                return Err(ForbiddenTarget.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn test_settings() -> CimdSettings {
        CimdSettings {
            allow_loopback: true,
            timeout: Duration::from_secs(3),
            ..CimdSettings::default()
        }
    }

    fn fetcher(settings: CimdSettings) -> CimdFetcher {
        CimdFetcher::new(settings, "food-mcp-test").unwrap()
    }

    fn document(client_id: &str) -> serde_json::Value {
        json!({
            "client_id": client_id,
            "client_name": "Example MCP Client",
            "redirect_uris": ["http://127.0.0.1/callback", "https://app.example.com/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
            "logo_uri": "https://app.example.com/logo.png",
            "client_uri": "javascript:alert(1)",
            "software_id": "ignored",
        })
    }

    /// A wiremock server answering `/client.json` with `response`, expecting `calls` requests.
    async fn serve(response: ResponseTemplate, calls: u64) -> (MockServer, String) {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/client.json"))
            .respond_with(response)
            .expect(calls)
            .mount(&server)
            .await;
        let client_id = format!("{}/client.json", server.uri());
        (server, client_id)
    }

    /// A bare HTTP/1.1 server for what wiremock cannot send: writes `parts` after the request
    /// headers, pausing `pause` between them. Returns its base URL and a connection count.
    async fn raw_server(parts: Vec<Vec<u8>>, pause: Duration) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let parts = parts.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    for part in parts {
                        if socket.write_all(&part).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(pause).await;
                    }
                });
            }
        });
        (base, connections)
    }

    #[tokio::test]
    async fn fetches_a_valid_document_once_and_then_serves_it_from_the_cache() {
        let server = MockServer::start().await;
        let client_id = format!("{}/client.json", server.uri());
        Mock::given(method("GET"))
            .and(path("/client.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(document(&client_id)))
            .expect(1)
            .mount(&server)
            .await;
        let fetcher = fetcher(test_settings());
        assert!(fetcher.handles(&client_id));

        let doc = fetcher.resolve(&client_id).await.unwrap();
        assert_eq!(doc.client_id, client_id);
        assert_eq!(doc.client_name.as_deref(), Some("Example MCP Client"));
        assert_eq!(doc.redirect_uris.len(), 2);
        assert!(doc.redirect_uris[0].matches("http://127.0.0.1:4321/callback"));
        assert_eq!(
            doc.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert_eq!(
            doc.logo_uri.as_deref(),
            Some("https://app.example.com/logo.png")
        );
        assert_eq!(doc.client_uri, None);

        assert_eq!(fetcher.resolve(&client_id).await.unwrap(), doc);
        server.verify().await;
    }

    #[tokio::test]
    async fn a_redirect_is_refused_not_followed() {
        let server = MockServer::start().await;
        let client_id = format!("{}/client.json", server.uri());
        let target = format!("{}/elsewhere.json", server.uri());
        Mock::given(path("/client.json"))
            .respond_with(ResponseTemplate::new(302).insert_header("Location", target.as_str()))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/elsewhere.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(document(&client_id)))
            .expect(0)
            .mount(&server)
            .await;
        let result = fetcher(test_settings()).resolve(&client_id).await;
        assert_eq!(result, Err(CimdError::Redirect(302)));
        server.verify().await;
    }

    #[tokio::test]
    async fn a_non_200_status_is_refused() {
        let (server, client_id) = serve(ResponseTemplate::new(404), 1).await;
        let result = fetcher(test_settings()).resolve(&client_id).await;
        assert_eq!(result, Err(CimdError::Status(404)));
        server.verify().await;
    }

    #[tokio::test]
    async fn an_oversize_body_with_content_length_is_refused() {
        let body = vec![b' '; MIN_MAX_BYTES + 1];
        let (_server, client_id) = serve(ResponseTemplate::new(200).set_body_bytes(body), 1).await;
        let settings = CimdSettings {
            max_bytes: MIN_MAX_BYTES,
            ..test_settings()
        };
        let result = fetcher(settings).resolve(&client_id).await;
        assert_eq!(result, Err(CimdError::TooLarge(MIN_MAX_BYTES)));
    }

    #[tokio::test]
    async fn an_oversize_chunked_body_is_refused_while_streaming() {
        let chunk = vec![b' '; 16 * 1024];
        let mut parts =
            vec![b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()];
        for _ in 0..(DEFAULT_MAX_BYTES / chunk.len() + 2) {
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            parts.push(framed);
        }
        parts.push(b"0\r\n\r\n".to_vec());
        let (base, _) = raw_server(parts, Duration::ZERO).await;
        let result = fetcher(test_settings())
            .resolve(&format!("{base}/client.json"))
            .await;
        assert_eq!(result, Err(CimdError::TooLarge(DEFAULT_MAX_BYTES)));
    }

    #[tokio::test]
    async fn a_configured_size_limit_below_the_floor_is_raised_to_it() {
        let server = MockServer::start().await;
        let client_id = format!("{}/client.json", server.uri());
        let mut doc = document(&client_id);
        doc["padding"] = json!("x".repeat(20 * 1024));
        Mock::given(path("/client.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(doc))
            .mount(&server)
            .await;
        let settings = CimdSettings {
            max_bytes: 5 * 1024,
            ..test_settings()
        };
        assert!(fetcher(settings).resolve(&client_id).await.is_ok());
    }

    #[tokio::test]
    async fn a_slow_server_times_out() {
        let response = ResponseTemplate::new(200)
            .set_body_json(json!({}))
            .set_delay(Duration::from_secs(10));
        let (_server, client_id) = serve(response, 1).await;
        let settings = CimdSettings {
            timeout: Duration::from_millis(300),
            ..test_settings()
        };
        let result = fetcher(settings).resolve(&client_id).await;
        assert_eq!(result, Err(CimdError::Timeout(Duration::from_millis(300))));
    }

    #[tokio::test]
    async fn the_time_limit_covers_a_trickling_body() {
        let head =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
        let parts = std::iter::once(head.to_vec())
            .chain((0..100).map(|_| b" ".to_vec()))
            .collect();
        let (base, _) = raw_server(parts, Duration::from_millis(50)).await;
        let settings = CimdSettings {
            timeout: Duration::from_millis(500),
            ..test_settings()
        };
        let result = fetcher(settings)
            .resolve(&format!("{base}/client.json"))
            .await;
        assert_eq!(result, Err(CimdError::Timeout(Duration::from_millis(500))));
    }

    #[tokio::test]
    async fn a_document_naming_another_client_id_is_refused_and_not_cached() {
        let server = MockServer::start().await;
        let client_id = format!("{}/client.json", server.uri());
        let other = format!("{}/other.json", server.uri());
        Mock::given(path("/client.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(document(&other)))
            .expect(2)
            .mount(&server)
            .await;
        let fetcher = fetcher(test_settings());
        for _ in 0..2 {
            assert_eq!(
                fetcher.resolve(&client_id).await,
                Err(CimdError::ClientIdMismatch)
            );
        }
        server.verify().await;
    }

    #[tokio::test]
    async fn a_document_without_redirect_uris_is_refused() {
        let server = MockServer::start().await;
        let client_id = format!("{}/client.json", server.uri());
        let mut doc = document(&client_id);
        doc.as_object_mut().unwrap().remove("redirect_uris");
        Mock::given(path("/client.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(doc))
            .mount(&server)
            .await;
        let result = fetcher(test_settings()).resolve(&client_id).await;
        assert_eq!(
            result,
            Err(CimdError::InvalidDocument(
                "redirect_uris is missing or empty".into()
            ))
        );
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_json_object_is_refused() {
        for body in ["<html>hello</html>", "[1, 2]", ""] {
            let (_server, client_id) = serve(
                ResponseTemplate::new(200).set_body_raw(body, "application/json"),
                1,
            )
            .await;
            let result = fetcher(test_settings()).resolve(&client_id).await;
            assert_eq!(result, Err(CimdError::NotJson), "{body:?}");
        }
    }

    #[tokio::test]
    async fn without_allow_loopback_loopback_targets_are_refused_before_any_request() {
        let (server, client_id) = serve(ResponseTemplate::new(200), 0).await;
        let port = server.address().port();
        let fetcher = fetcher(CimdSettings::default());
        assert!(!fetcher.handles(&client_id));
        assert_eq!(
            fetcher.resolve(&client_id).await,
            Err(CimdError::InvalidUrl)
        );
        for url in [
            format!("https://127.0.0.1:{port}/client.json"),
            // ::ffff:127.0.0.1 in the normalized form `url` writes.
            format!("https://[::ffff:7f00:1]:{port}/client.json"),
            // A name: refused by the resolver, when connecting.
            format!("https://localhost:{port}/client.json"),
        ] {
            assert!(fetcher.handles(&url), "{url}");
            assert_eq!(
                fetcher.resolve(&url).await,
                Err(CimdError::ForbiddenAddress),
                "{url}"
            );
        }
        server.verify().await;
    }

    #[tokio::test]
    async fn allow_loopback_still_refuses_other_private_addresses() {
        let fetcher = fetcher(test_settings());
        for url in [
            "https://10.0.0.1/client.json",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/client.json",
        ] {
            assert_eq!(
                fetcher.resolve(url).await,
                Err(CimdError::ForbiddenAddress),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn a_disabled_fetcher_refuses_everything() {
        let fetcher = fetcher(CimdSettings {
            enabled: false,
            ..test_settings()
        });
        let url = "https://app.example.com/client.json";
        assert!(!fetcher.handles(url));
        assert_eq!(fetcher.resolve(url).await, Err(CimdError::Disabled));
    }

    #[test]
    fn client_id_shape() {
        for ok in [
            "https://app.example.com/client.json",
            "https://app.example.com:8443/oauth/metadata?v=2",
            "https://203.0.113.5/c",
        ] {
            assert!(is_cimd_client_id(ok, false), "{ok}");
        }
        for bad in [
            "https://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/?x=1",
            "https://app.example.com/c#frag",
            "https://app.example.com/c#",
            "https://user:pw@app.example.com/c",
            "https://user@app.example.com/c",
            "https://app.example.com/a/../c",
            "https://app.example.com/a/./c",
            "https://APP.example.com/c",
            "https://app.example.com:443/c",
            "https://app.example.com/c d",
            " https://app.example.com/c",
            "http://app.example.com/c",
            "http://127.0.0.1:8080/c",
            "my-client-id",
            "urn:example:client",
            "",
        ] {
            assert!(!is_cimd_client_id(bad, false), "{bad}");
        }
        assert!(is_cimd_client_id("http://127.0.0.1:8080/c", true));
        assert!(is_cimd_client_id("http://[::1]:8080/c", true));
        assert!(!is_cimd_client_id("http://localhost:8080/c", true));
        assert!(!is_cimd_client_id("http://10.0.0.1:8080/c", true));
        let long = format!("https://a.example/{}", "x".repeat(MAX_CLIENT_ID_LEN));
        assert!(!is_cimd_client_id(&long, false));
    }

    #[test]
    fn ipv4_classification() {
        use AddressClass::*;
        for (ip, class) in [
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("172.15.255.255", Public),
            ("172.32.0.0", Public),
            ("192.0.1.1", Public),
            ("198.20.0.1", Public),
            ("223.255.255.255", Public),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("0.0.0.0", Restricted),
            ("0.1.2.3", Restricted),
            ("10.1.2.3", Restricted),
            ("100.64.0.1", Restricted),
            ("100.127.255.255", Restricted),
            ("169.254.169.254", Restricted),
            ("172.16.0.1", Restricted),
            ("172.31.255.255", Restricted),
            ("192.0.0.8", Restricted),
            ("192.0.2.1", Restricted),
            ("192.168.1.1", Restricted),
            ("198.18.0.1", Restricted),
            ("198.19.255.255", Restricted),
            ("198.51.100.7", Restricted),
            ("203.0.113.7", Restricted),
            ("224.0.0.1", Restricted),
            ("239.255.255.250", Restricted),
            ("240.0.0.1", Restricted),
            ("255.255.255.255", Restricted),
        ] {
            assert_eq!(classify(ip.parse().unwrap()), class, "{ip}");
        }
    }

    #[test]
    fn ipv6_classification() {
        use AddressClass::*;
        for (ip, class) in [
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001::200e", Public),
            ("2001:4860:4860::8888", Public),
            ("::ffff:8.8.8.8", Public),
            ("64:ff9b::808:808", Public),
            ("2002:808:808::1", Public),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::", Restricted),
            ("::ffff:10.0.0.1", Restricted),
            ("::ffff:169.254.169.254", Restricted),
            ("::ffff:100.64.0.1", Restricted),
            ("::10.0.0.1", Restricted),
            ("::ffff:0:8.8.8.8", Restricted),
            ("64:ff9b::a00:1", Restricted),
            ("64:ff9b::7f00:1", Restricted),
            ("64:ff9b:1::1", Restricted),
            ("2002:a00:1::1", Restricted),
            ("2002:7f00:1::1", Restricted),
            ("100::1", Restricted),
            ("2001::1", Restricted),
            ("2001:db8::1", Restricted),
            ("fc00::1", Restricted),
            ("fd12:3456::1", Restricted),
            ("fe80::1", Restricted),
            ("febf::1", Restricted),
            ("fec0::1", Restricted),
            ("ff02::1", Restricted),
        ] {
            assert_eq!(classify(ip.parse().unwrap()), class, "{ip}");
        }
    }

    #[test]
    fn document_rules() {
        let id = "https://app.example.com/client.json";
        let check = |edit: fn(&mut serde_json::Value)| {
            let mut doc = document(id);
            edit(&mut doc);
            parse_document(id, doc.to_string().as_bytes())
        };
        assert!(check(|_| {}).is_ok());
        assert!(check(|d| d["token_endpoint_auth_method"] = json!(null)).is_ok());

        let minimal = check(|d| {
            *d = json!({"client_id": "https://app.example.com/client.json",
                        "redirect_uris": ["https://app.example.com/cb"]})
        })
        .unwrap();
        assert_eq!(minimal.grant_types, [GrantType::AuthorizationCode]);
        assert_eq!(minimal.client_name, None);

        let filtered = check(|d| d["grant_types"] = json!(["client_credentials", "refresh_token"]));
        assert_eq!(filtered.unwrap().grant_types, [GrantType::RefreshToken]);

        let invalid = |r: Result<ClientMetadataDocument, CimdError>| {
            matches!(r, Err(CimdError::InvalidDocument(_)))
        };
        for edit in [
            (|d: &mut serde_json::Value| {
                d["token_endpoint_auth_method"] = json!("client_secret_basic")
            }) as fn(&mut serde_json::Value),
            |d| d["token_endpoint_auth_method"] = json!("private_key_jwt"),
            |d| d["client_secret"] = json!("s3cret"),
            |d| d["redirect_uris"] = json!([]),
            |d| d["redirect_uris"] = json!(["http://app.example.com/cb"]),
            |d| d["redirect_uris"] = json!("https://app.example.com/cb"),
            |d| d["grant_types"] = json!(["client_credentials"]),
            |d| d["client_name"] = json!("x".repeat(201)),
            |d| d["client_name"] = json!("evil\u{202e}\u{7}"),
        ] {
            assert!(invalid(check(edit)));
        }
        assert_eq!(
            check(|d| d["client_id"] = json!(null)),
            Err(CimdError::ClientIdMismatch)
        );
        assert_eq!(
            check(|d| d["client_id"] = json!("https://app.example.com/client.json/")),
            Err(CimdError::ClientIdMismatch)
        );
    }
}
