//! The address a request speaks for: the socket peer, or — when the peer is a trusted reverse
//! proxy (`proxy.trusted`) — the rightmost hop of its forwarding header that is not itself a
//! trusted proxy. Everyone else's forwarding headers are ignored, so a client cannot pick its own
//! address for the rate limits and the password lockout.
//!
//! Hops are parsed one by one rather than the header as a whole: a client can put anything left
//! of what its proxy appends, and one malformed entry there must not make the proxy's own address
//! (shared by every client behind it) the key.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::{HeaderMap, StatusCode, request::Parts};
use ipnet::IpNet;

use crate::config::{ForwardedHeader, ProxyConfig};

/// The reverse proxies whose forwarding header is believed.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    pub fn new(config: &ProxyConfig) -> TrustedProxies {
        TrustedProxies {
            networks: config.trusted.clone(),
            header: config.header,
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; else the hops of the
    /// forwarding header from the right, skipping trusted proxies, up to the first that is not
    /// one. A hop that cannot be read stops the walk at the last trusted address before it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in self.hops(headers).into_iter().rev() {
            let Some(hop) = hop else {
                return client;
            };
            client = hop;
            if !self.trusts(hop) {
                return hop;
            }
        }
        client
    }

    /// Every hop of the configured header, leftmost first, over all its header lines.
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let name = match self.header {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        };
        let mut hops = Vec::new();
        for line in headers.get_all(name) {
            let Ok(line) = line.to_str() else {
                hops.push(None);
                continue;
            };
            match self.header {
                ForwardedHeader::XForwardedFor => {
                    hops.extend(line.split(',').map(|hop| parse_node(hop.trim())));
                }
                ForwardedHeader::Forwarded => hops.extend(forwarded_for(line)),
            }
        }
        hops
    }
}

/// A dual-stack listener reports IPv4 peers as `::ffff:a.b.c.d`; they are IPv4 addresses.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One node: `192.0.2.1`, `2001:db8::1`, `192.0.2.1:4711` or `[2001:db8::1]:4711` (RFC 7239
/// §6); `unknown` and obfuscated names (`_hidden`) identify nobody.
fn parse_node(node: &str) -> Option<IpAddr> {
    let ip = node
        .parse::<IpAddr>()
        .or_else(|_| node.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| node.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(canonical(ip))
}

/// The `for=` node of each element of a `Forwarded` header line (RFC 7239 §4); an element
/// without one identifies nobody.
fn forwarded_for(line: &str) -> Vec<Option<IpAddr>> {
    split_unquoted(line, ',')
        .into_iter()
        .map(|element| {
            split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(&unquote(value.trim())))
            })?
        })
        .collect()
}

/// Splits at `separator` outside double-quoted strings (which may hold `\"`).
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A token as is, or a quoted-string without its quotes and escapes.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// The client address of a request, as [`TrustedProxies::client`] decides it: what the rate
/// limits, the password lockout and the consent form key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddr
where
    Arc<TrustedProxies>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Served through `into_make_service_with_connect_info`, every request has its peer.
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "no peer address"));
        };
        let proxies = Arc::<TrustedProxies>::from_ref(state);
        Ok(ClientAddr(proxies.client(peer.ip(), &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn proxies(trusted: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies {
            networks: trusted.iter().map(|n| n.parse().unwrap()).collect(),
            header,
        }
    }

    fn headers(name: &'static str, lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(name, HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let claims = headers("x-forwarded-for", &["198.51.100.1"]);
        assert_eq!(p.client(ip("203.0.113.5"), &claims), ip("203.0.113.5"));
        let none = proxies(&[], ForwardedHeader::XForwardedFor);
        assert_eq!(none.client(ip("127.0.0.1"), &claims), ip("127.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(
            &["10.0.0.0/8", "192.0.2.7/32"],
            ForwardedHeader::XForwardedFor,
        );
        // The client forged the first entry; its proxy chain appended the rest.
        let h = headers(
            "x-forwarded-for",
            &["1.1.1.1, 203.0.113.9", "192.0.2.7, 10.1.1.1"],
        );
        assert_eq!(p.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        // Garbage left of the real client is never reached.
        let h = headers("x-forwarded-for", &["not an address, 203.0.113.9"]);
        assert_eq!(p.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        // A trusted proxy that wrote garbage: the last trusted hop stands.
        let h = headers("x-forwarded-for", &["203.0.113.9, junk, 10.1.1.1"]);
        assert_eq!(p.client(ip("10.0.0.2"), &h), ip("10.1.1.1"));
        // Only proxies all the way: the leftmost.
        let h = headers("x-forwarded-for", &["10.9.9.9, 10.1.1.1"]);
        assert_eq!(p.client(ip("10.0.0.2"), &h), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(p.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let p = proxies(&["127.0.0.1/32"], ForwardedHeader::XForwardedFor);
        let h = headers("x-forwarded-for", &["[2001:db8::1]:443, 198.51.100.3:8080"]);
        assert_eq!(p.client(ip("::ffff:127.0.0.1"), &h), ip("198.51.100.3"));
        let h = headers("x-forwarded-for", &["::ffff:198.51.100.4"]);
        assert_eq!(p.client(ip("127.0.0.1"), &h), ip("198.51.100.4"));
    }

    #[test]
    fn forwarded_is_read_per_rfc_7239() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let h = headers(
            "forwarded",
            &[
                "for=1.1.1.1, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.1",
                "For=10.2.2.2;host=\"a,b\"",
            ],
        );
        assert_eq!(p.client(ip("10.0.0.3"), &h), ip("2001:db8:cafe::17"));
        // Obfuscated and unknown nodes identify nobody: the walk stops at the proxy.
        let h = headers("forwarded", &["for=198.51.100.1, for=_hidden"]);
        assert_eq!(p.client(ip("10.0.0.3"), &h), ip("10.0.0.3"));
        // With X-Forwarded-For configured, Forwarded is ignored (and the other way round).
        let xff = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        assert_eq!(xff.client(ip("10.0.0.3"), &h), ip("10.0.0.3"));
        let h = headers("x-forwarded-for", &["198.51.100.1"]);
        assert_eq!(p.client(ip("10.0.0.3"), &h), ip("10.0.0.3"));
    }

    /// One hop as a proxy or a client might write it: an address (some in the trusted range,
    /// some with a port) or junk.
    fn hop() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
            any::<u8>().prop_map(|b| format!("10.0.0.{b}")),
            any::<std::net::Ipv6Addr>().prop_map(|a| format!("[{a}]:443")),
            "[ -+--~]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any printable header is read without a panic, and an untrusted peer always stands for
        /// itself.
        #[test]
        fn any_header_line_is_safe(line in "[ -~]{0,160}", forwarded in any::<bool>()) {
            let header = if forwarded { ForwardedHeader::Forwarded } else { ForwardedHeader::XForwardedFor };
            let name = if forwarded { "forwarded" } else { "x-forwarded-for" };
            let h = headers(name, &[line.as_str()]);
            let p = proxies(&["10.0.0.0/8"], header);
            prop_assert_eq!(p.client(ip("203.0.113.1"), &h), ip("203.0.113.1"));
            let _ = p.client(ip("10.0.0.1"), &h);
        }

        /// Behind a trusted proxy the answer is the proxy or an address some hop named.
        #[test]
        fn the_client_is_the_peer_or_a_named_hop(
            hops in prop::collection::vec(hop(), 0..6),
            forwarded in any::<bool>(),
        ) {
            let (header, name, line) = if forwarded {
                let line: Vec<String> = hops.iter().map(|h| format!("for=\"{h}\"")).collect();
                (ForwardedHeader::Forwarded, "forwarded", line.join(", "))
            } else {
                (ForwardedHeader::XForwardedFor, "x-forwarded-for", hops.join(", "))
            };
            let h = headers(name, &[line.as_str()]);
            let p = proxies(&["10.0.0.0/8"], header);
            let peer = ip("10.0.0.1");
            let client = p.client(peer, &h);
            let named: Vec<IpAddr> = hops.iter().filter_map(|h| parse_node(h.trim())).collect();
            prop_assert!(client == peer || named.contains(&client), "{client} from {line}");
        }
    }
}
