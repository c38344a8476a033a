//! Error answers of the OAuth endpoints: RFC 6749 §5.2 JSON bodies (and RFC 7591 §3.2.2 for
//! registration), the HTML error page /authorize shows when it must not redirect, and what every
//! page shares (the inline stylesheet and the hardening headers).

use std::sync::LazyLock;

use askama::Template;
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::http::rate_limit::RetryAfter;

/// An OAuth error answer: `{"error": …, "error_description": …}` with `Cache-Control: no-store`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    retry_after: Option<u64>,
    basic_challenge: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
            basic_challenge: false,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// Unknown client or failed client authentication (401: clients re-register on it).
    pub fn invalid_client(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    /// Like [`invalid_client`](Self::invalid_client), when the client tried HTTP Basic: RFC 6749
    /// §5.2 asks for a matching `WWW-Authenticate` challenge.
    pub fn invalid_client_basic(description: impl Into<String>) -> OAuthError {
        OAuthError {
            basic_challenge: true,
            ..Self::invalid_client(description)
        }
    }

    pub fn invalid_grant(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn unauthorized_client(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> OAuthError {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            description,
        )
    }

    pub fn invalid_scope(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    /// RFC 8707: the `resource` is not this server.
    pub fn invalid_target(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    /// RFC 7591 §3.2.2.
    pub fn invalid_redirect_uri(description: impl Into<String>) -> OAuthError {
        Self::new(StatusCode::BAD_REQUEST, "invalid_redirect_uri", description)
    }

    /// RFC 7591 §3.2.2.
    pub fn invalid_client_metadata(description: impl Into<String>) -> OAuthError {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            description,
        )
    }

    /// 429 with `Retry-After`; the body keeps the OAuth shape so clients parse it.
    pub fn too_many_requests(retry: RetryAfter) -> OAuthError {
        let secs = retry.header_secs();
        OAuthError {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                format!("too many requests from this address; retry in {secs} s"),
            )
        }
    }

    /// 503: an actor the endpoint needs is not answering (restarting, or stuck past its call
    /// timeout); retrying soon may work.
    pub fn temporarily_unavailable() -> OAuthError {
        OAuthError {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server is temporarily unable to handle the request; try again shortly",
            )
        }
    }

    /// A failure of ours (storage, entropy): logged in full by the caller, generic here.
    pub fn server_error() -> OAuthError {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not complete the request; try again",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.error,
            error_description: &self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.basic_challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"food-mcp\""),
            );
        }
        response
    }
}

/// The stylesheet of every page, inline (a page loads nothing): `base.html` writes it into its
/// one `<style>` element.
pub const STYLE: &str = include_str!("../../../templates/style.css");

/// The CSP source allowing exactly [`STYLE`] (CSP 3 hash source): no `'unsafe-inline'`, so an
/// injected `<style>` or `style=` attribute would not apply.
static STYLE_SOURCE: LazyLock<String> =
    LazyLock::new(|| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(STYLE))));

/// Headers every HTML page of ours carries: no framing (clickjacking), no scripts, no styles
/// but our own, no caching.
fn harden_page(response: &mut Response, form_action: &str) {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    let csp = format!(
        "default-src 'none'; style-src {}; frame-ancestors 'none'; base-uri 'none'; form-action {form_action}",
        *STYLE_SOURCE
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The page /authorize shows when the request cannot be trusted to redirect (unknown client,
/// unregistered redirect URI: RFC 6749 §4.1.2.1 forbids redirecting then; a client the owner
/// never approved: RFC 9700 §4.11.2, or registration would make us an open redirector).
pub struct ErrorPage {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn bad_request(title: &'static str, message: impl Into<String>) -> ErrorPage {
        ErrorPage {
            status: StatusCode::BAD_REQUEST,
            title,
            message: message.into(),
        }
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let page = ErrorTemplate {
            title: self.title,
            message: &self.message,
        };
        render_page(self.status, &page, "'none'")
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    title: &'a str,
    message: &'a str,
}

/// A rendered page with [`harden_page`]'s headers. Rendering fails only on a formatter error;
/// then the answer is a bare 500.
pub fn render_page(status: StatusCode, page: &impl Template, form_action: &str) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            harden_page(&mut response, form_action);
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "rendering a page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_have_the_rfc_shape_and_are_not_cached() {
        let response = OAuthError::invalid_grant("code expired").into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": "invalid_grant", "error_description": "code expired"})
        );
    }

    #[test]
    fn rate_limit_and_basic_challenges_carry_their_headers() {
        let limited =
            OAuthError::too_many_requests(RetryAfter(std::time::Duration::from_millis(1500)))
                .into_response();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "2");
        let unavailable = OAuthError::temporarily_unavailable().into_response();
        assert_eq!(unavailable.status(), 503);
        assert_eq!(unavailable.headers()["retry-after"], "1");
        let basic = OAuthError::invalid_client_basic("bad secret").into_response();
        assert_eq!(basic.status(), 401);
        assert!(
            basic.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
    }

    #[tokio::test]
    async fn the_error_page_escapes_what_it_shows() {
        let response =
            ErrorPage::bad_request("Unknown client", "<script>alert('x')</script> & \"q\"")
                .into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;q&#34;"),
            "{html}"
        );
        assert!(html.contains("<h1>Unknown client</h1>"), "{html}");
    }

    #[tokio::test]
    async fn pages_allow_their_own_stylesheet_by_hash_and_nothing_inline_else() {
        let response = ErrorPage::bad_request("Unknown client", "x").into_response();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        let style = html
            .split("<style>")
            .nth(1)
            .and_then(|rest| rest.split("</style>").next())
            .expect("one inline stylesheet");
        let hash = STANDARD.encode(Sha256::digest(style));
        assert!(
            csp.contains(&format!("style-src 'sha256-{hash}';")),
            "{csp}"
        );
        assert!(!html.contains(" style="), "no style attribute: {html}");
        assert!(
            html.contains("width=device-width, initial-scale=1"),
            "laid out for phones"
        );
    }
}
