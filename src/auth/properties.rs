//! Property tests of the authorization rules: redirect URI matching agrees with RFC 8252 (exact
//! string, except the port of loopback URIs) for generated URIs, and PKCE accepts exactly the
//! verifier that made the challenge.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crate::auth::pkce::CodeChallenge;
use crate::auth::redirect::RedirectUri;
use crate::auth::secrets::Secret;

/// The parts of a generated URI; `to_string` writes it.
#[derive(Clone, Debug)]
struct Parts {
    scheme: &'static str,
    host: &'static str,
    port: Option<u16>,
    path: String,
    query: Option<String>,
}

impl Parts {
    /// Loopback in the RFC 8252 §7.3 sense: only web-scheme URIs have a port that may vary.
    fn loopback(&self) -> bool {
        matches!(self.scheme, "https" | "http")
            && matches!(self.host, "localhost" | "127.0.0.1" | "[::1]")
    }

    fn render(&self) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let query = self
            .query
            .as_ref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        format!("{}://{}{port}{}{query}", self.scheme, self.host, self.path)
    }

    /// RFC 8252 §7.3 and OAuth 2.1 §2.3.1: same URI, or a loopback one differing only in port.
    fn should_match(&self, other: &Parts) -> bool {
        let same_but_port = self.scheme == other.scheme
            && self.host == other.host
            && self.path == other.path
            && self.query == other.query;
        self.render() == other.render() || (self.loopback() && same_but_port)
    }
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        prop::sample::select(vec!["https", "http", "com.example.app", "cursor"]),
        prop::sample::select(vec![
            "localhost",
            "127.0.0.1",
            "[::1]",
            "app.example.com",
            "example.org",
        ]),
        proptest::option::of(1024u16..),
        prop::sample::select(vec!["/", "/callback", "/cb", "/oauth/callback"]),
        proptest::option::of(prop::sample::select(vec!["x=1", "a=b&c=d"])),
    )
        .prop_map(|(scheme, host, port, path, query)| Parts {
            scheme,
            host,
            port,
            path: path.to_string(),
            query: query.map(str::to_string),
        })
}

fn verifier() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{43,128}"
}

fn challenge_of(verifier: &str) -> CodeChallenge {
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    CodeChallenge::parse(Some(&digest), Some("S256")).unwrap()
}

proptest! {
    #[test]
    fn registration_accepts_https_and_loopback_http_only(uri in parts()) {
        let accepted = RedirectUri::parse(&uri.render()).is_ok();
        let private_use = !matches!(uri.scheme, "https" | "http");
        prop_assert_eq!(accepted, uri.scheme == "https" || uri.loopback() || private_use, "{}", uri.render());
    }

    #[test]
    fn matching_is_exact_except_the_loopback_port(registered in parts(), presented in parts()) {
        let Ok(uri) = RedirectUri::parse(&registered.render()) else {
            return Ok(());
        };
        prop_assert_eq!(
            uri.matches(&presented.render()),
            registered.should_match(&presented),
            "{} vs {}", registered.render(), presented.render()
        );
    }

    #[test]
    fn a_loopback_uri_matches_itself_on_any_port(registered in parts(), port in 1u16..) {
        prop_assume!(registered.loopback());
        let uri = RedirectUri::parse(&registered.render()).unwrap();
        let other = Parts { port: Some(port), ..registered.clone() };
        prop_assert!(uri.matches(&other.render()));
    }

    #[test]
    fn fragments_and_whitespace_are_refused(uri in parts(), junk in prop::sample::select(vec!["#x", " ", "\t", "\n"])) {
        let uri = format!("{}{junk}", uri.render());
        prop_assert!(RedirectUri::parse(&uri).is_err());
    }

    #[test]
    fn pkce_accepts_the_verifier_that_made_the_challenge(verifier in verifier()) {
        let challenge = challenge_of(&verifier);
        prop_assert!(challenge.verify(&Secret::from_presented(verifier)).is_ok());
    }

    #[test]
    fn pkce_refuses_every_other_verifier(verifier in verifier(), other in verifier()) {
        prop_assume!(verifier != other);
        let challenge = challenge_of(&verifier);
        prop_assert!(challenge.verify(&Secret::from_presented(other)).is_err());
    }

    #[test]
    fn pkce_refuses_malformed_verifiers(verifier in "[^A-Za-z0-9._~-]{1,5}|.{0,42}|.{129,140}") {
        let challenge = challenge_of(&"a".repeat(43));
        prop_assume!(verifier != "a".repeat(43));
        prop_assert!(challenge.verify(&Secret::from_presented(verifier)).is_err());
    }
}
