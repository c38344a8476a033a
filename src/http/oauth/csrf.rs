//! The consent form's CSRF tokens: an HMAC that binds the browser's cookie, the client address
//! (the same key the rate limits use), the time the page was shown and the authorization request
//! it approves. A token works only in the browser and network it was shown to, only for that
//! request, and only for `auth.consent_form_ttl`.

use std::net::IpAddr;
use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::secrets::{EntropyError, Secret};
use crate::http::rate_limit::client_key;

/// Bytes of the issue time at the front of a token.
const TIME_BYTES: usize = 8;

/// The process's CSRF key: random per start (open forms do not survive a restart, which only
/// asks the owner to reload), and how long a token lasts.
pub struct CsrfKey {
    key: [u8; 32],
    ttl_secs: i64,
}

impl CsrfKey {
    pub fn generate(ttl: Duration) -> Result<CsrfKey, EntropyError> {
        let mut key = [0u8; 32];
        key.copy_from_slice(Secret::generate()?.hash().as_bytes());
        Ok(CsrfKey {
            key,
            ttl_secs: crate::clock::secs(ttl),
        })
    }

    /// The token of a page shown at `now` (unix seconds) for `request`, the fields of the
    /// authorization request in a fixed order.
    pub fn issue(
        &self,
        cookie: &str,
        client: IpAddr,
        now: i64,
        request: &[Option<&str>],
    ) -> String {
        let mac = self.mac(cookie, client, now, request);
        let mut token = now.to_be_bytes().to_vec();
        token.extend_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(token)
    }

    /// Whether `token` was issued for this cookie, address and request, less than the TTL ago.
    pub fn verify(
        &self,
        token: &str,
        cookie: &str,
        client: IpAddr,
        now: i64,
        request: &[Option<&str>],
    ) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        let Some((time, tag)) = bytes.split_first_chunk::<TIME_BYTES>() else {
            return false;
        };
        let issued_at = i64::from_be_bytes(*time);
        // The tag first: the time means nothing until it is known to be ours.
        self.mac(cookie, client, issued_at, request)
            .verify_slice(tag)
            .is_ok()
            && issued_at <= now
            && now - issued_at < self.ttl_secs
    }

    fn mac(
        &self,
        cookie: &str,
        client: IpAddr,
        issued_at: i64,
        request: &[Option<&str>],
    ) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(&issued_at.to_be_bytes());
        let client = client_key(client).to_string();
        // Length-prefixed, so no two different field lists hash the same bytes.
        for part in [Some(cookie), Some(client.as_str())].iter().chain(request) {
            let part = part.unwrap_or("");
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn key() -> CsrfKey {
        CsrfKey::generate(Duration::from_secs(900)).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const REQUEST: [Option<&str>; 3] = [Some("client"), Some("http://127.0.0.1/cb"), None];

    #[test]
    fn a_token_works_for_its_cookie_address_and_request_within_its_time() {
        let key = key();
        let me = ip("198.51.100.1");
        let token = key.issue("cookie", me, T0, &REQUEST);
        assert!(key.verify(&token, "cookie", me, T0, &REQUEST));
        assert!(key.verify(&token, "cookie", me, T0 + 899, &REQUEST));
        assert!(
            !key.verify(&token, "cookie", me, T0 + 900, &REQUEST),
            "expired"
        );
        assert!(
            !key.verify(&token, "other", me, T0, &REQUEST),
            "another browser"
        );
        assert!(
            !key.verify(&token, "cookie", ip("198.51.100.2"), T0, &REQUEST),
            "another address"
        );
        let other = [Some("client"), Some("http://127.0.0.1/cb"), Some("state")];
        assert!(
            !key.verify(&token, "cookie", me, T0, &other),
            "another request"
        );
        assert!(
            !key.verify(&token, "cookie", me, T0, &REQUEST[..2]),
            "a field left out"
        );
        assert!(
            !CsrfKey::generate(Duration::from_secs(900))
                .unwrap()
                .verify(&token, "cookie", me, T0, &REQUEST)
        );
    }

    #[test]
    fn a_token_cannot_be_moved_in_time_or_cut_short() {
        let key = key();
        let me = ip("2001:db8::1");
        let token = key.issue("cookie", me, T0, &REQUEST);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[..TIME_BYTES].copy_from_slice(&(T0 + 600).to_be_bytes());
        let moved = URL_SAFE_NO_PAD.encode(&bytes);
        assert!(!key.verify(&moved, "cookie", me, T0 + 1000, &REQUEST));
        assert!(!key.verify(&token[..10], "cookie", me, T0, &REQUEST));
        assert!(!key.verify("not base64!", "cookie", me, T0, &REQUEST));
        assert!(!key.verify("", "cookie", me, T0, &REQUEST));
        // The same /64 is the same network: a privacy address change keeps the form valid.
        assert!(key.verify(&token, "cookie", ip("2001:db8::2"), T0, &REQUEST));
        // A token from the future (another clock) is refused.
        let future = key.issue("cookie", me, T0 + 60, &REQUEST);
        assert!(!key.verify(&future, "cookie", me, T0, &REQUEST));
    }
}
