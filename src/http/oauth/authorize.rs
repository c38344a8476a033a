//! `GET /authorize` (the consent page) and `POST /authorize` (the owner's decision → 302 to the
//! client with `code`, `state` and `iss`, RFC 9207).
//!
//! A bad `client_id` or `redirect_uri` is shown as an error page and never redirected to
//! (RFC 6749 §4.1.2.1); every other problem is redirected to the client as an OAuth error.
//! The form carries a CSRF token (`csrf.rs`) bound to a cookie that repeated GETs reuse, so
//! opening the page twice never invalidates the first one, and there is only ever one cookie.

use std::net::IpAddr;
use tracing::field::Empty;

use askama::Template;
use axum::{
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use url::Url;

use crate::actors::auth_codes::CodeError;
use crate::auth::client::{Client, GrantType};
use crate::auth::code::CodeRequest;
use crate::auth::pkce::CodeChallenge;
use crate::auth::scopes;
use crate::auth::secrets::Secret;
use crate::config::ConsentMode;
use crate::http::client_addr::ClientAddr;
use crate::http::oauth::error::{ErrorPage, render_page};
use crate::http::oauth::{LookupError, OAuthState, read_form};
use crate::http::owner::OwnerError;
use crate::http::rate_limit::RetryAfter;

const CSRF_COOKIE: &str = "food_mcp_csrf";

/// The parameters of an authorization request (query string on GET, hidden fields on POST).
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    resource: Option<String>,
}

/// The consent form: the request again, plus the owner's answer.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    csrf: Option<String>,
    password: Option<String>,
    decision: Option<String>,
}

/// A request that passed every check: safe to show, and to redirect for.
struct Valid {
    client: Client,
    /// Where the answer goes: the presented URI, or the client's only registered one.
    redirect_uri: String,
    /// Whether the request named it: the token request must repeat it only then (RFC 6749 §4.1.3).
    redirect_presented: bool,
    state: Option<String>,
    scopes: Vec<String>,
    challenge: CodeChallenge,
    resource: String,
}

/// Why a request cannot proceed: a page (cannot trust the redirect) or an error for the client.
enum Rejection {
    Page(ErrorPage),
    Redirect(Response),
    Internal,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Page(page) => page.into_response(),
            Rejection::Redirect(response) => response,
            Rejection::Internal => ErrorPage {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                title: "Something went wrong",
                message: "The server could not complete the request; try again shortly.".into(),
            }
            .into_response(),
        }
    }
}

/// A 302 to `redirect_uri` with `params` added to its query, plus `iss` (RFC 9207).
fn redirect_to(redirect_uri: &str, issuer: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return ErrorPage::bad_request(
            "Invalid redirect URI",
            "The client's redirect URI is not a valid URL.",
        )
        .into_response();
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
        query.append_pair("iss", issuer);
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn error_redirect(
    valid_uri: &str,
    state: Option<&str>,
    issuer: &str,
    error: &str,
    description: &str,
) -> Rejection {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    Rejection::Redirect(redirect_to(valid_uri, issuer, &params))
}

async fn validate(oauth: &OAuthState, params: &AuthorizeParams) -> Result<Valid, Rejection> {
    let Some(client_id) = params.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Err(Rejection::Page(ErrorPage::bad_request(
            "Missing client",
            "The request names no client_id.",
        )));
    };
    let client = match oauth.client(client_id).await {
        Ok(client) => client,
        Err(LookupError::Unknown(message)) => {
            return Err(Rejection::Page(ErrorPage::bad_request(
                "Unknown client",
                message,
            )));
        }
        // Not a redirect: the client is not known to be real yet.
        Err(LookupError::Unavailable) => {
            return Err(Rejection::Page(ErrorPage {
                status: StatusCode::SERVICE_UNAVAILABLE,
                title: "Try again shortly",
                message: "The server is busy for a moment; reload this page shortly.".into(),
            }));
        }
        Err(LookupError::Internal(err)) => {
            tracing::error!(error = %err, "client lookup failed");
            return Err(Rejection::Internal);
        }
    };
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if client.allows_redirect(uri) => uri.to_string(),
        Some(_) => {
            return Err(Rejection::Page(ErrorPage::bad_request(
                "Unregistered redirect URI",
                "The redirect_uri is not one this client registered, so the answer cannot be sent to it.",
            )));
        }
        // OAuth 2.1 lets a client with exactly one registered URI omit it.
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].as_str().to_string(),
        None => {
            return Err(Rejection::Page(ErrorPage::bad_request(
                "Missing redirect URI",
                "The request names no redirect_uri.",
            )));
        }
    };
    let issuer = oauth.issuer();
    let state = params.state.as_deref();
    let fail = |error: &str, description: &str| {
        error_redirect(&redirect_uri, state, issuer, error, description)
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "response_type must be \"code\"",
        ));
    }
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(fail(
            "unauthorized_client",
            "this client did not register the authorization_code grant",
        ));
    }
    let challenge = CodeChallenge::parse(
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    )
    .map_err(|e| fail("invalid_request", &e.to_string()))?;
    let scopes = scopes::parse(params.scope.as_deref()).map_err(|e| fail("invalid_scope", &e))?;
    let resource = oauth
        .check_resource(params.resource.as_deref())
        .map_err(|e| fail("invalid_target", &e))?;
    Ok(Valid {
        client,
        redirect_uri,
        redirect_presented: params.redirect_uri.is_some(),
        state: params.state.clone(),
        scopes,
        challenge,
        resource,
    })
}

/// Issues the code and redirects back to the client.
async fn approve(oauth: &OAuthState, valid: Valid) -> Response {
    let request = CodeRequest {
        client_id: valid.client.client_id.clone(),
        redirect_uri: valid.redirect_presented.then(|| valid.redirect_uri.clone()),
        code_challenge: valid.challenge,
        scopes: valid.scopes,
        resource: valid.resource,
    };
    let code = match oauth.codes.issue(request).await {
        Ok(code) => code,
        // RFC 6749 §4.1.2.1: the client is valid, so it is told, and may simply retry.
        Err(CodeError::Unavailable) => {
            let state = valid.state.as_deref();
            return error_redirect(
                &valid.redirect_uri,
                state,
                oauth.issuer(),
                "temporarily_unavailable",
                "the server is busy for a moment; try again shortly",
            )
            .into_response();
        }
        Err(err) => {
            tracing::error!(error = %err, "issuing an authorization code failed");
            return Rejection::Internal.into_response();
        }
    };
    tracing::info!(client_id = %valid.client.client_id, "authorization approved");
    let mut params = vec![("code", code.expose())];
    if let Some(state) = valid.state.as_deref() {
        params.push(("state", state));
    }
    redirect_to(&valid.redirect_uri, oauth.issuer(), &params)
}

pub async fn show(
    State(oauth): State<OAuthState>,
    ClientAddr(ip): ClientAddr,
    jar: CookieJar,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    // Bounded like the decision: each look-up may fetch a client metadata document.
    if let Err(retry) = oauth.consent_limit.check(ip) {
        return too_many(retry);
    }
    let valid = match validate(&oauth, &params).await {
        Ok(valid) => valid,
        Err(rejection) => return rejection.into_response(),
    };
    if oauth.consent == ConsentMode::Auto {
        return approve(&oauth, valid).await;
    }
    if let Some(cookie) = csrf_cookie(&jar) {
        let viewer = Viewer {
            client: ip,
            cookie: &cookie,
        };
        return consent_page(&oauth, &params, &valid, viewer, None, StatusCode::OK);
    }
    let Ok(secret) = Secret::generate() else {
        return Rejection::Internal.into_response();
    };
    let cookie = secret.expose().to_string();
    let viewer = Viewer {
        client: ip,
        cookie: &cookie,
    };
    let page = consent_page(&oauth, &params, &valid, viewer, None, StatusCode::OK);
    let cookie = Cookie::build((CSRF_COOKIE, cookie))
        .path("/authorize")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::hours(1))
        .secure(oauth.issuer().starts_with("https://"));
    (jar.add(cookie), page).into_response()
}

/// `POST /authorize`, in an `oauth.authorize` span: client_id and outcome (`approved`,
/// `denied`, `wrong_password`, `locked_out`, `rejected`), never the password or the code.
#[tracing::instrument(
    name = "oauth.authorize",
    skip_all,
    fields(oauth.client_id = Empty, oauth.outcome = "rejected")
)]
pub async fn decide(
    State(oauth): State<OAuthState>,
    ClientAddr(ip): ClientAddr,
    jar: CookieJar,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(retry) = oauth.consent_limit.check(ip) {
        return too_many(retry);
    }
    let form: ConsentForm = match read_form(&headers, body).await {
        Ok(form) => form,
        Err(err) => return ErrorPage::bad_request("Invalid form", err.description).into_response(),
    };
    let valid = match validate(&oauth, &form.params).await {
        Ok(valid) => valid,
        Err(rejection) => return rejection.into_response(),
    };
    tracing::Span::current().record("oauth.client_id", valid.client.client_id.as_str());
    let cookie = csrf_cookie(&jar);
    let now = oauth.clock.now();
    let token_ok = match (&cookie, &form.csrf) {
        (Some(cookie), Some(token)) => {
            oauth
                .csrf
                .verify(token, cookie, ip, now, &form.params.bound())
        }
        _ => false,
    };
    let Some(cookie) = cookie.filter(|_| token_ok) else {
        return ErrorPage {
            status: StatusCode::FORBIDDEN,
            title: "This form has expired",
            message: "The consent form was not opened in this browser or from this network, or it expired. Start the connection again from your MCP client.".into(),
        }
        .into_response();
    };
    if form.decision.as_deref() != Some("approve") {
        tracing::info!(client_id = %valid.client.client_id, "authorization denied by the owner");
        tracing::Span::current().record("oauth.outcome", "denied");
        let state = valid.state.as_deref();
        return error_redirect(
            &valid.redirect_uri,
            state,
            oauth.issuer(),
            "access_denied",
            "the owner denied the request",
        )
        .into_response();
    }
    if oauth.consent == ConsentMode::Password {
        let password = form.password.as_deref().unwrap_or("");
        let page = |problem: &str, status| {
            let viewer = Viewer {
                client: ip,
                cookie: &cookie,
            };
            consent_page(&oauth, &form.params, &valid, viewer, Some(problem), status)
        };
        match check_owner(&oauth, ip, password).await {
            Ok(()) => {}
            Err(OwnerDenied::Wrong) => {
                tracing::warn!(%ip, "wrong owner password on the consent page");
                tracing::Span::current().record("oauth.outcome", "wrong_password");
                return page("Wrong password.", StatusCode::UNAUTHORIZED);
            }
            Err(OwnerDenied::Locked(retry)) => {
                tracing::warn!(%ip, "owner password attempts locked out or backed off");
                tracing::Span::current().record("oauth.outcome", "locked_out");
                let problem = format!(
                    "Too many wrong passwords. Wait {} seconds and try again, or run \
                     `food-mcp owner one-time-code` on the server and enter the code it prints \
                     instead of the password.",
                    retry.header_secs()
                );
                let mut response = page(&problem, StatusCode::TOO_MANY_REQUESTS);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry.header_secs()));
                return response;
            }
            Err(OwnerDenied::Internal(err)) => {
                tracing::error!(error = %err, "owner password check failed");
                return Rejection::Internal.into_response();
            }
        }
    }
    let response = approve(&oauth, valid).await;
    if response.status() == StatusCode::FOUND {
        tracing::Span::current().record("oauth.outcome", "approved");
    }
    response
}

/// Why the owner's answer on the consent form was not accepted.
enum OwnerDenied {
    Wrong,
    /// This address is locked out, or password checks are backed off server-wide.
    Locked(RetryAfter),
    Internal(OwnerError),
}

/// Checks what the owner typed: a one-time code from the server's shell (accepted whatever the
/// lockout says), else the password — counted as a failure before its check, so that
/// simultaneous guesses cannot outrun the lockout. A wrong password that used up the
/// address's allowance answers `Locked`.
async fn check_owner(oauth: &OAuthState, ip: IpAddr, presented: &str) -> Result<(), OwnerDenied> {
    if oauth
        .owner
        .redeem_one_time_code(presented)
        .await
        .map_err(OwnerDenied::Internal)?
    {
        tracing::info!("the owner approved with a one-time code");
        return Ok(());
    }
    let attempt = oauth.lockout.begin(ip).map_err(OwnerDenied::Locked)?;
    match oauth.owner.verify(presented).await {
        Ok(true) => {
            attempt.succeeded();
            Ok(())
        }
        Ok(false) => Err(attempt
            .failed()
            .map_or_else(OwnerDenied::Locked, |()| OwnerDenied::Wrong)),
        // The attempt stays counted: a check that failed proved nothing.
        Err(err) => Err(OwnerDenied::Internal(err)),
    }
}

fn too_many(retry: RetryAfter) -> Response {
    let mut response = ErrorPage {
        status: StatusCode::TOO_MANY_REQUESTS,
        title: "Too many attempts",
        message: format!(
            "Too many attempts from this address. Wait {} seconds and try again.",
            retry.header_secs()
        ),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry.header_secs()));
    response
}

/// The browser's CSRF cookie, when it sent a non-empty one.
fn csrf_cookie(jar: &CookieJar) -> Option<String> {
    jar.get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

impl AuthorizeParams {
    /// Every field, in a fixed order: what a CSRF token is bound to.
    fn bound(&self) -> [Option<&str>; 8] {
        [
            self.response_type.as_deref(),
            self.client_id.as_deref(),
            self.redirect_uri.as_deref(),
            self.state.as_deref(),
            self.scope.as_deref(),
            self.code_challenge.as_deref(),
            self.code_challenge_method.as_deref(),
            self.resource.as_deref(),
        ]
    }
}

/// One line of the consent page's list of what the client may do.
struct ScopeLine<'a> {
    name: &'a str,
    description: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentTemplate<'a> {
    client_name: &'a str,
    client_id: &'a str,
    redirect_host: &'a str,
    scopes: Vec<ScopeLine<'a>>,
    problem: Option<&'a str>,
    /// The authorization request again, field by field, as the POST must repeat it.
    hidden: Vec<(&'static str, &'a str)>,
    csrf: &'a str,
    ask_password: bool,
}

/// The form the owner sees, for `client`'s browser holding `cookie`.
struct Viewer<'a> {
    client: IpAddr,
    cookie: &'a str,
}

fn consent_page(
    oauth: &OAuthState,
    params: &AuthorizeParams,
    valid: &Valid,
    viewer: Viewer<'_>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = oauth.csrf.issue(
        viewer.cookie,
        viewer.client,
        oauth.clock.now(),
        &params.bound(),
    );
    let redirect = Url::parse(&valid.redirect_uri).ok();
    let scopes = valid
        .scopes
        .iter()
        .map(|scope| ScopeLine {
            name: scope,
            description: match scope.as_str() {
                scopes::READ => Some("search foods, look up nutrition, total meals"),
                scopes::WRITE => Some("save your own foods"),
                _ => None,
            },
        })
        .collect();
    let hidden = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("state", &params.state),
        ("scope", &params.scope),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("resource", &params.resource),
    ]
    .into_iter()
    .filter_map(|(field, value)| Some((field, value.as_deref()?)))
    .collect();
    let page = ConsentTemplate {
        client_name: valid
            .client
            .client_name
            .as_deref()
            .unwrap_or("An unnamed client"),
        client_id: &valid.client.client_id,
        redirect_host: redirect.as_ref().and_then(|u| u.host_str()).unwrap_or("?"),
        scopes,
        problem,
        hidden,
        csrf: &token,
        ask_password: oauth.consent == ConsentMode::Password,
    };
    // The form posts here and then redirects to the client: both must be allowed form targets.
    let origin = redirect
        .as_ref()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    render_page(status, &page, &format!("'self' {origin}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(client_name: &str, state: &str) -> String {
        ConsentTemplate {
            client_name,
            client_id: "c1",
            redirect_host: "127.0.0.1",
            scopes: vec![
                ScopeLine {
                    name: scopes::READ,
                    description: Some("search foods, look up nutrition, total meals"),
                },
                ScopeLine {
                    name: "other",
                    description: None,
                },
            ],
            problem: Some("Wrong password."),
            hidden: vec![("client_id", "c1"), ("state", state)],
            csrf: "token",
            ask_password: true,
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_consent_page_escapes_what_the_client_supplied() {
        let html = page("<img src=x onerror=alert(1)>", "\"><script>x</script>");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&#60;img src=x onerror=alert(1)&#62;"),
            "{html}"
        );
        assert!(
            html.contains(
                "<input type=\"hidden\" name=\"state\" value=\"&#34;&#62;&#60;script&#62;x&#60;/script&#62;\">"
            ),
            "{html}"
        );
    }

    #[test]
    fn the_consent_form_has_its_fields_password_and_buttons() {
        let html = page("Claude Code", "s1");
        for part in [
            "<form method=\"post\" action=\"/authorize\">",
            "<input type=\"hidden\" name=\"client_id\" value=\"c1\">",
            "<input type=\"hidden\" name=\"csrf\" value=\"token\">",
            "<input type=\"password\" name=\"password\"",
            "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>",
            "<li><b>food:read</b> — search foods, look up nutrition, total meals</li>",
            "<li><b>other</b></li>",
            "<p role=\"alert\" style=\"color:#b00\">Wrong password.</p>",
        ] {
            assert!(html.contains(part), "{part} missing from {html}");
        }
    }
}
