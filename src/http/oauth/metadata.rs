//! Discovery documents: RFC 9728 protected-resource metadata and RFC 8414 authorization-server
//! metadata. Both are derived from `public_url` alone.

use axum::{Json, extract::State, response::IntoResponse};
use serde_json::{Value, json};

use crate::auth::client::GrantType;
use crate::auth::scopes::{OFFLINE_ACCESS, SCOPES};
use crate::http::oauth::OAuthState;

/// The path of this server's protected-resource metadata document.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

pub async fn protected_resource(State(state): State<OAuthState>) -> impl IntoResponse {
    Json(protected_resource_document(&state))
}

pub async fn authorization_server(State(state): State<OAuthState>) -> impl IntoResponse {
    Json(authorization_server_document(&state))
}

fn protected_resource_document(state: &OAuthState) -> Value {
    json!({
        "resource": state.resource(),
        "authorization_servers": [state.issuer()],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": "food-mcp",
    })
}

fn authorization_server_document(state: &OAuthState) -> Value {
    let issuer = state.issuer();
    let mut scopes: Vec<&str> = SCOPES.to_vec();
    scopes.push(OFFLINE_ACCESS);
    let auth_methods = ["none", "client_secret_post", "client_secret_basic"];
    let grant_types = GrantType::ALL.map(GrantType::as_str);
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": scopes,
        "client_id_metadata_document_supported": state.cimd_enabled(),
        "authorization_response_iss_parameter_supported": true,
    })
}
