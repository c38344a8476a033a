//! Redirect URIs: what registration accepts (https, loopback http, and the private-use schemes of
//! native apps, RFC 8252 §7.1), how an authorization request's URI is matched against the
//! registered ones (exact string, except the port of loopback URIs, RFC 8252 §7.3), and how the
//! consent page names where the code goes.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest redirect URI accepted; bounds what an open registration endpoint makes us store.
const MAX_LEN: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("redirect URI is not an absolute URL")]
    Malformed,
    #[error("redirect URI is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("redirect URI must not contain whitespace or control characters")]
    Whitespace,
    #[error(
        "redirect URI must use https, http on localhost, 127.0.0.1 or [::1], or an app's own scheme (com.example.app:/callback)"
    )]
    InsecureScheme,
    #[error("redirect URI must not contain a fragment")]
    Fragment,
    #[error("redirect URI must not contain user credentials")]
    Credentials,
}

/// Schemes a browser runs, reads locally or treats as its own: never a place to send a code to.
/// Every other non-web scheme is taken as a native app's private-use scheme (RFC 8252 §7.1:
/// `com.example.app:/cb`, and the single-word ones real apps register, `cursor://…`).
const REFUSED_SCHEMES: [&str; 11] = [
    "javascript",
    "data",
    "file",
    "vbscript",
    "blob",
    "about",
    "filesystem",
    "view-source",
    "ws",
    "wss",
    "ftp",
];

/// A registered redirect URI. Keeps the string exactly as registered: matching compares strings,
/// and a normalised copy could match a URI the client never registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    loopback: bool,
}

/// Where an authorization code goes, as the consent page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `https://host[:port]`, `http://127.0.0.1:port` or `scheme://host` / `scheme:`: ASCII
    /// only (a non-ASCII host is shown as punycode, so look-alike letters cannot pose as another).
    pub shown: String,
    pub kind: DestinationKind,
    /// The CSP `form-action` source that lets the consent form's redirect reach it.
    pub form_action: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    /// A web site.
    Web,
    /// A program on the owner's own computer listening on a loopback port.
    Loopback,
    /// A native app that registered its own URI scheme.
    App,
}

impl Destination {
    /// The destination of a URI that already matched a registered one.
    pub fn of(uri: &str) -> Option<Destination> {
        let url = Url::parse(uri).ok()?;
        let scheme = url.scheme();
        let kind = match scheme {
            "https" if is_loopback(&url) => DestinationKind::Loopback,
            "https" => DestinationKind::Web,
            "http" => DestinationKind::Loopback,
            _ => DestinationKind::App,
        };
        // `Url` writes special-scheme hosts in punycode and percent-encodes other hosts.
        let host = url.host_str().unwrap_or("");
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let shown = match (kind, host.is_empty()) {
            (DestinationKind::App, true) => format!("{scheme}:"),
            _ => format!("{scheme}://{host}{port}"),
        };
        let form_action = match kind {
            DestinationKind::App => format!("{scheme}:"),
            _ => url.origin().ascii_serialization(),
        };
        Some(Destination {
            shown,
            kind,
            form_action,
        })
    }
}

impl RedirectUri {
    /// Validates a URI offered at registration.
    pub fn parse(raw: &str) -> Result<RedirectUri, RedirectUriError> {
        if raw.len() > MAX_LEN {
            return Err(RedirectUriError::TooLong);
        }
        // `Url::parse` silently drops tabs and newlines; the stored string must be what matches.
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectUriError::Whitespace);
        }
        let url = Url::parse(raw).map_err(|_| RedirectUriError::Malformed)?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::Credentials);
        }
        // Only web URIs have a port that may vary; an app's `x://localhost` is just a name.
        let loopback = matches!(url.scheme(), "https" | "http") && is_loopback(&url);
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            "https" | "http" => return Err(RedirectUriError::InsecureScheme),
            scheme if REFUSED_SCHEMES.contains(&scheme) => {
                return Err(RedirectUriError::InsecureScheme);
            }
            _ => {}
        }
        Ok(RedirectUri {
            raw: raw.to_owned(),
            loopback,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether `presented` (from an authorization request) may be used for this registration.
    pub fn matches(&self, presented: &str) -> bool {
        if presented == self.raw {
            return true;
        }
        if !self.loopback {
            return false;
        }
        // Native apps listen on an ephemeral port chosen at run time (RFC 8252 §7.3): compare
        // everything but the port.
        match (Url::parse(&self.raw), Url::parse(presented)) {
            (Ok(mut registered), Ok(mut presented)) => {
                is_loopback(&presented)
                    && presented.fragment().is_none()
                    && registered.set_port(None).is_ok()
                    && presented.set_port(None).is_ok()
                    && registered == presented
            }
            _ => false,
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_https_and_loopback_http_only() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "http://localhost:33418/callback",
            "http://127.0.0.1/callback",
            "http://[::1]:8080/callback",
            "https://localhost/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app:/cb?x=1",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "vscode://vscode.github-authentication/did-authenticate",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        use RedirectUriError::*;
        for (bad, why) in [
            ("http://app.example.com/callback", InsecureScheme),
            ("http://127.0.0.2/callback", InsecureScheme),
            ("http://localhost.example.com/cb", InsecureScheme),
            ("http://[::2]/callback", InsecureScheme),
            ("javascript:alert(1)", InsecureScheme),
            ("JavaScript:alert(1)", InsecureScheme),
            ("data:text/html,<b>x</b>", InsecureScheme),
            ("file:///etc/passwd", InsecureScheme),
            ("vbscript:msgbox(1)", InsecureScheme),
            ("blob:https://app.example.com/1234", InsecureScheme),
            ("about:blank", InsecureScheme),
            ("wss://app.example.com/cb", InsecureScheme),
            ("com.example.app:/cb#frag", Fragment),
            ("https://app.example.com/cb#frag", Fragment),
            ("https://app.example.com/cb#", Fragment),
            ("https://user:pw@app.example.com/cb", Credentials),
            ("/relative/callback", Malformed),
            ("", Malformed),
            ("https://app.example.com/c\nb", Whitespace),
            ("https://app.example.com/c b", Whitespace),
        ] {
            assert_eq!(RedirectUri::parse(bad), Err(why), "{bad}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_LEN));
        assert_eq!(RedirectUri::parse(&long), Err(TooLong));
    }

    #[test]
    fn non_loopback_uris_match_exactly() {
        let uri = RedirectUri::parse("https://app.example.com/callback").unwrap();
        assert!(uri.matches("https://app.example.com/callback"));
        for other in [
            "https://app.example.com/callback/",
            "https://app.example.com:443/callback",
            "https://APP.example.com/callback",
            "https://app.example.com/callback?x=1",
            "https://app.example.com:8443/callback",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
    }

    #[test]
    fn loopback_uris_ignore_only_the_port() {
        let uri = RedirectUri::parse("http://localhost/callback").unwrap();
        assert!(uri.matches("http://localhost:53682/callback"));
        assert!(uri.matches("http://localhost/callback"));
        for other in [
            "http://localhost:53682/other",
            "http://127.0.0.1:53682/callback",
            "https://localhost:53682/callback",
            "http://localhost:53682/callback?x=1",
            "http://localhost:53682/callback#f",
            "http://evil.example:53682/callback",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
        let v6 = RedirectUri::parse("http://[::1]:1/cb").unwrap();
        assert!(v6.matches("http://[::1]:65000/cb"));
        let v4 = RedirectUri::parse("http://127.0.0.1:9/cb").unwrap();
        assert!(v4.matches("http://127.0.0.1:10/cb"));
        assert!(!v4.matches("not a url"));
    }

    #[test]
    fn private_use_scheme_uris_match_exactly() {
        let uri = RedirectUri::parse("cursor://anysphere.cursor-mcp/oauth/callback").unwrap();
        assert!(uri.matches("cursor://anysphere.cursor-mcp/oauth/callback"));
        for other in [
            "cursor://anysphere.cursor-mcp/oauth/callback/",
            "cursor://anysphere.cursor-mcp:1234/oauth/callback",
            "CURSOR://anysphere.cursor-mcp/oauth/callback",
            "cursor://evil.example/oauth/callback",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
        let reverse_dns = RedirectUri::parse("com.example.app:/cb").unwrap();
        assert!(reverse_dns.matches("com.example.app:/cb"));
        assert!(!reverse_dns.matches("com.example.app:/cb2"));
    }

    #[test]
    fn the_destination_names_scheme_and_ascii_host() {
        let of = |uri: &str| Destination::of(uri).unwrap();
        let web = of("https://bücher.example/cb");
        assert_eq!(web.shown, "https://xn--bcher-kva.example");
        assert_eq!(web.kind, DestinationKind::Web);
        assert_eq!(web.form_action, "https://xn--bcher-kva.example");
        let local = of("http://127.0.0.1:33418/callback");
        assert_eq!(local.shown, "http://127.0.0.1:33418");
        assert_eq!(local.kind, DestinationKind::Loopback);
        let app = of("cursor://anysphere.cursor-mcp/oauth/callback");
        assert_eq!(app.shown, "cursor://anysphere.cursor-mcp");
        assert_eq!(app.kind, DestinationKind::App);
        assert_eq!(app.form_action, "cursor:");
        let reverse_dns = of("com.example.app:/cb");
        assert_eq!(reverse_dns.shown, "com.example.app:");
        assert_eq!(reverse_dns.form_action, "com.example.app:");
        assert!(of("com.example.app://b%C3%BCcher/cb").shown.is_ascii());
    }
}
