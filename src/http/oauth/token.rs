//! `POST /token`: the `authorization_code` grant (PKCE S256) and the `refresh_token` grant
//! (rotation). Client authentication: `none`, `client_secret_post`, `client_secret_basic`.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use tracing::{Span, field::Empty};

use crate::actors::auth_codes::CodeError;
use crate::actors::token_store::TokenError;
use crate::auth::client::{Client, GrantType};
use crate::auth::scopes;
use crate::auth::secrets::Secret;
use crate::auth::token::IssuedTokens;
use crate::http::client_addr::ClientAddr;
use crate::http::oauth::error::OAuthError;
use crate::http::oauth::{OAuthState, internal, limited_form};

#[derive(Deserialize)]
pub struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

/// `POST /token`, in an `oauth.token` span: grant type, client_id and outcome (`issued` or the
/// RFC 6749 error code) — never a code, verifier, secret or token.
#[tracing::instrument(
    name = "oauth.token",
    skip_all,
    fields(oauth.grant_type = Empty, oauth.client_id = Empty, oauth.outcome = Empty)
)]
pub async fn token(
    state: State<OAuthState>,
    client_addr: ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, OAuthError> {
    let answer = exchange(state, client_addr, headers, body).await;
    record_outcome(answer.as_ref().map(|_| "issued"));
    answer
}

/// Records an OAuth endpoint's outcome on the current span: what it did, or its error code.
pub(crate) fn record_outcome(outcome: Result<&'static str, &OAuthError>) {
    let outcome = match outcome {
        Ok(done) => done,
        Err(err) => err.error,
    };
    Span::current().record("oauth.outcome", outcome);
}

async fn exchange(
    State(oauth): State<OAuthState>,
    client_addr: ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, OAuthError> {
    let params: TokenParams = limited_form(&oauth, client_addr.0, &headers, body).await?;
    let presented = required(&params.grant_type, "grant_type")?;
    let Some(grant_type) = GrantType::parse(presented) else {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {presented} is not supported; use authorization_code or refresh_token"
        )));
    };
    Span::current().record("oauth.grant_type", grant_type.as_str());
    let client = oauth
        .authenticate(
            &headers,
            params.client_id.as_deref(),
            params.client_secret.as_deref(),
        )
        .await?;
    Span::current().record("oauth.client_id", client.client_id.as_str());
    let resource = oauth
        .check_resource(params.resource.as_deref())
        .map_err(OAuthError::invalid_target)?;
    let issued = match grant_type {
        GrantType::AuthorizationCode => redeem_code(&oauth, &client, &params, &resource).await?,
        GrantType::RefreshToken => refresh(&oauth, &client, &params).await?,
    };
    tracing::info!(
        client_id = %client.client_id,
        grant_type = grant_type.as_str(),
        "tokens issued"
    );
    Ok(token_response(&oauth, issued))
}

async fn redeem_code(
    oauth: &OAuthState,
    client: &Client,
    params: &TokenParams,
    resource: &str,
) -> Result<IssuedTokens, OAuthError> {
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(OAuthError::unauthorized_client(
            "this client did not register the authorization_code grant",
        ));
    }
    let code = Secret::from_presented(required(&params.code, "code")?);
    let code_verifier = Secret::from_presented(required(&params.code_verifier, "code_verifier")?);
    let redirect_uri = params.redirect_uri.clone();
    let answer = oauth
        .codes
        .redeem(code, &client.client_id, redirect_uri, code_verifier)
        .await;
    let grant = match answer {
        Ok(grant) => grant,
        Err(CodeError::Replayed { issued_family }) => {
            // RFC 6749 §4.1.2: a reused code revokes what it issued.
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; revoking its tokens");
            if let Err(err) = oauth.tokens.revoke_family(issued_family).await {
                tracing::error!(error = %err, "revoking the tokens of a replayed code failed");
            }
            return Err(OAuthError::invalid_grant(
                "authorization code was already used; the tokens it issued are revoked",
            ));
        }
        Err(CodeError::Storage(err)) => return Err(internal(err)),
        Err(CodeError::Entropy(err)) => return Err(internal(err)),
        Err(CodeError::Unavailable) => return Err(OAuthError::temporarily_unavailable()),
        Err(err) => return Err(OAuthError::invalid_grant(err.to_string())),
    };
    if grant.resource != resource {
        return Err(OAuthError::invalid_target(
            "resource differs from the one in the authorization request",
        ));
    }
    oauth.tokens.issue(grant).await.map_err(token_error)
}

async fn refresh(
    oauth: &OAuthState,
    client: &Client,
    params: &TokenParams,
) -> Result<IssuedTokens, OAuthError> {
    let refresh_token = Secret::from_presented(required(&params.refresh_token, "refresh_token")?);
    // A refresh always carries the grant's own scopes (the response says which, RFC 6749 §5.1);
    // a `scope` naming something unknown is still an error.
    scopes::parse(params.scope.as_deref()).map_err(OAuthError::invalid_scope)?;
    oauth
        .tokens
        .refresh(refresh_token, &client.client_id)
        .await
        .map_err(token_error)
}

fn token_error(err: TokenError) -> OAuthError {
    match err {
        TokenError::Storage(err) => internal(err),
        TokenError::Entropy(err) => internal(err),
        TokenError::Unavailable => OAuthError::temporarily_unavailable(),
        TokenError::Replayed => OAuthError::invalid_grant(
            "refresh token was already used; the grant is revoked, sign in again",
        ),
        other => OAuthError::invalid_grant(other.to_string()),
    }
}

fn token_response(oauth: &OAuthState, issued: IssuedTokens) -> Response {
    let expires_in = (issued.expires_at - oauth.clock.now()).clamp(0, oauth.access_ttl_secs);
    let body = json!({
        "access_token": issued.access_token.expose(),
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": issued.refresh_token.expose(),
        "scope": issued.scopes.join(" "),
    });
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
