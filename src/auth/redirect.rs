//! Redirect URIs: what registration accepts and how an authorization request's URI is matched
//! against the registered ones (exact string, except the port of loopback URIs, RFC 8252 §7.3).

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
    #[error("redirect URI must use https, or http on localhost, 127.0.0.1 or [::1]")]
    InsecureScheme,
    #[error("redirect URI must not contain a fragment")]
    Fragment,
    #[error("redirect URI must not contain user credentials")]
    Credentials,
}

/// A registered redirect URI. Keeps the string exactly as registered: matching compares strings,
/// and a normalised copy could match a URI the client never registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    loopback: bool,
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
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            _ => return Err(RedirectUriError::InsecureScheme),
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
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        use RedirectUriError::*;
        for (bad, why) in [
            ("http://app.example.com/callback", InsecureScheme),
            ("http://127.0.0.2/callback", InsecureScheme),
            ("http://localhost.example.com/cb", InsecureScheme),
            ("myapp://callback", InsecureScheme),
            ("javascript:alert(1)", InsecureScheme),
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
}
