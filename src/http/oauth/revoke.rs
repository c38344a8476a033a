//! `POST /revoke`: RFC 7009 token revocation. Either kind of token; a refresh token takes its
//! whole grant with it. Unknown tokens answer 200, as §2.2 asks.

use tracing::field::Empty;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;

use crate::actors::token_store::TokenError;
use crate::auth::secrets::Secret;
use crate::http::client_addr::ClientAddr;
use crate::http::oauth::error::OAuthError;
use crate::http::oauth::{OAuthState, internal, limited_form};

#[derive(Deserialize)]
pub struct RevokeParams {
    token: Option<String>,
    // token_type_hint is optional and the store finds either kind by hash, so it is not read.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /revoke`, in an `oauth.revoke` span: client_id and outcome, never the token.
#[tracing::instrument(
    name = "oauth.revoke",
    skip_all,
    fields(oauth.client_id = Empty, oauth.outcome = Empty)
)]
pub async fn revoke(
    state: State<OAuthState>,
    client_addr: ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, OAuthError> {
    let answer = revoke_token(state, client_addr, headers, body).await;
    crate::http::oauth::token::record_outcome(answer.as_ref().map(|_| "revoked"));
    answer
}

async fn revoke_token(
    State(oauth): State<OAuthState>,
    client_addr: ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, OAuthError> {
    let params: RevokeParams = limited_form(&oauth, client_addr.0, &headers, body).await?;
    let client = oauth
        .authenticate(
            &headers,
            params.client_id.as_deref(),
            params.client_secret.as_deref(),
        )
        .await?;
    tracing::Span::current().record("oauth.client_id", client.client_id.as_str());
    let token = Secret::from_presented(
        params
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?,
    );
    match oauth.tokens.revoke(token, &client.client_id).await {
        Ok(()) => {
            tracing::info!(client_id = %client.client_id, "token revoked");
            Ok(StatusCode::OK)
        }
        Err(TokenError::WrongClient) => Err(OAuthError::unauthorized_client(
            "the token was issued to another client",
        )),
        Err(TokenError::Unavailable) => Err(OAuthError::temporarily_unavailable()),
        Err(err) => Err(internal(err)),
    }
}
