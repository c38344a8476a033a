//! `POST /register`: RFC 7591 dynamic client registration, bounded in size, redirect URIs and
//! rate. Public clients (`token_endpoint_auth_method: "none"`, as Claude Code registers) get no
//! secret; the response never carries null fields.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::actors::client_registry::ClientError;
use crate::auth::client::{ClientMetadata, MetadataError};
use crate::http::client_addr::ClientAddr;
use crate::http::oauth::error::OAuthError;
use crate::http::oauth::{OAuthState, internal, read_body};

/// The registration fields food-mcp reads; others (logo_uri, contacts, …) are accepted and ignored.
#[derive(Deserialize)]
struct RegistrationRequest {
    #[serde(default)]
    redirect_uris: Vec<String>,
    client_name: Option<String>,
    #[serde(default)]
    grant_types: Vec<String>,
    #[serde(default)]
    response_types: Vec<String>,
    token_endpoint_auth_method: Option<String>,
}

pub async fn register(
    State(state): State<OAuthState>,
    ClientAddr(client): ClientAddr,
    body: Body,
) -> Result<Response, OAuthError> {
    state
        .register_limit
        .check(client)
        .map_err(OAuthError::too_many_requests)?;
    let bytes = read_body(body, state.max_registration_bytes)
        .await
        .map_err(|e| OAuthError::invalid_client_metadata(e.description))?;
    let request: RegistrationRequest = serde_json::from_slice(&bytes).map_err(|e| {
        OAuthError::invalid_client_metadata(format!(
            "the body must be a JSON object of client metadata: {e}"
        ))
    })?;
    if request.redirect_uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri(
            "redirect_uris is required",
        ));
    }
    if request.response_types.iter().any(|t| t != "code") {
        return Err(OAuthError::invalid_client_metadata(
            "response_types may only contain \"code\"",
        ));
    }
    let metadata = ClientMetadata {
        client_name: request.client_name,
        redirect_uris: request.redirect_uris,
        grant_types: request.grant_types,
        token_endpoint_auth_method: request.token_endpoint_auth_method,
    };
    let registered = match state.clients.register(metadata).await {
        Ok(registered) => registered,
        Err(ClientError::Metadata(MetadataError::InvalidRedirectUri(reason))) => {
            return Err(OAuthError::invalid_redirect_uri(reason));
        }
        Err(ClientError::Metadata(MetadataError::InvalidMetadata(reason))) => {
            return Err(OAuthError::invalid_client_metadata(reason));
        }
        Err(ClientError::Unavailable) => return Err(OAuthError::temporarily_unavailable()),
        Err(err) => return Err(internal(err)),
    };
    let client = registered.client;
    let mut document = Map::new();
    document.insert("client_id".into(), json!(client.client_id));
    document.insert("client_id_issued_at".into(), json!(client.created_at));
    if let Some(name) = &client.client_name {
        document.insert("client_name".into(), json!(name));
    }
    let uris: Vec<&str> = client.redirect_uris.iter().map(|u| u.as_str()).collect();
    document.insert("redirect_uris".into(), json!(uris));
    let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    document.insert("grant_types".into(), json!(grants));
    document.insert("response_types".into(), json!(["code"]));
    document.insert(
        "token_endpoint_auth_method".into(),
        json!(client.auth_method.as_str()),
    );
    if let Some(secret) = &registered.client_secret {
        document.insert("client_secret".into(), json!(secret.expose()));
        document.insert("client_secret_expires_at".into(), json!(0));
    }
    let mut response = (StatusCode::CREATED, Json(Value::Object(document))).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
