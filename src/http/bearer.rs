//! The bearer layer in front of `/mcp` (and only there): RFC 6750 challenges pointing at the
//! protected-resource metadata, RFC 8707 audience check, and scope per tool — the tools that
//! change the owner's data need `food:write` ([`scopes::WRITE_TOOLS`]), the others `food:read`. The verified [`Principal`] rides in the request's
//! extensions to the tools.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{borrow::Cow, sync::Arc};

use serde::Deserialize;
use serde_json::Value;

use crate::actors::token_store::{TokenError, TokenStoreHandle};
use crate::auth::scopes;
use crate::auth::secrets::Secret;
use crate::auth::token::Principal;

/// Shared by every request as an `Arc` (axum clones the state per request).
pub struct BearerState {
    pub tokens: TokenStoreHandle,
    /// The canonical resource tokens must be bound to.
    pub resource: String,
    /// `{public_url}/.well-known/oauth-protected-resource/mcp`.
    pub metadata_url: String,
    /// Largest body peeked at to find the tool a request calls (the MCP body limit).
    pub max_body: usize,
}

pub async fn require_bearer(
    State(bearer): State<Arc<BearerState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(presented) = bearer_token(request.headers()) else {
        return challenge(&bearer, StatusCode::UNAUTHORIZED, None, "");
    };
    let access_token = Secret::from_presented(presented);
    let principal = match bearer.tokens.verify(&access_token).await {
        Ok(principal) => principal,
        Err(TokenError::Expired) => {
            return challenge(
                &bearer,
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token expired",
            );
        }
        // Not the token's fault: no challenge, so the client retries instead of signing in again.
        Err(TokenError::Unavailable) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1")],
                "the token store is not answering; try again shortly",
            )
                .into_response();
        }
        Err(_) => {
            return challenge(
                &bearer,
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token is not valid",
            );
        }
    };
    if principal.resource != bearer.resource {
        return challenge(
            &bearer,
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "the access token was issued for another resource",
        );
    }
    let (mut request, needed) = match needed_scope(request, bearer.max_body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(needed) = needed
        && !principal.scopes.iter().any(|s| s == needed)
    {
        let description = format!("this call needs the {needed} scope");
        return insufficient_scope(&bearer, needed, &description);
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The scope the request needs, from a bounded look at the JSON-RPC body, which is put back for
/// rmcp.
async fn needed_scope(
    request: Request,
    max_body: usize,
) -> Result<(Request, Option<&'static str>), Response> {
    // Always the body, never the Mcp-Method/Mcp-Name headers: the body is what rmcp executes, and
    // a header that disagreed with it must not pick the scope.
    if request.method() != Method::POST {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response())?;
    let needed =
        peek_scope(&bytes).unwrap_or_else(|| match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Array(messages)) => strongest(messages.iter().map(message_scope)),
            Ok(message) => message_scope(&message),
            // Not JSON: rmcp answers the parse error; no tool runs.
            Err(_) => None,
        });
    Ok((Request::from_parts(parts, Body::from(bytes)), needed))
}

/// The two fields of a JSON-RPC message the scope depends on, borrowed from the body; serde skips
/// every other field (the arguments, the id) without building it.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<PeekParams<'a>>,
}

#[derive(Deserialize)]
struct PeekParams<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

impl Peek<'_> {
    fn scope(&self) -> Option<&'static str> {
        let name = self.params.as_ref().and_then(|p| p.name.as_deref());
        scope_for(self.method.as_deref()?, name)
    }
}

/// The scope from the peek alone (a message or a batch), or `None` when the body is not of the
/// ordinary shape (a field of another type, a key twice, not JSON): those take the whole-`Value`
/// reading, which decides as before. The peek reads `params` as serde reads a struct, as rmcp
/// does: positional params (`["save_food", …]`) name their tool too, where the `Value` reading
/// saw no name and asked only for read.
fn peek_scope(bytes: &[u8]) -> Option<Option<&'static str>> {
    let batch = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if batch {
        let messages: Vec<Peek> = serde_json::from_slice(bytes).ok()?;
        Some(strongest(messages.iter().map(Peek::scope)))
    } else {
        Some(serde_json::from_slice::<Peek>(bytes).ok()?.scope())
    }
}

/// A batch needs write when any of its messages does.
fn strongest(scopes: impl Iterator<Item = Option<&'static str>>) -> Option<&'static str> {
    scopes.flatten().max_by_key(|s| *s == scopes::WRITE)
}

fn message_scope(message: &Value) -> Option<&'static str> {
    let method = message.get("method")?.as_str()?;
    let name = message.pointer("/params/name").and_then(Value::as_str);
    scope_for(method, name)
}

/// `tools/call` of a writing tool needs write, of anything else read; discovery needs only a
/// token.
fn scope_for(method: &str, tool: Option<&str>) -> Option<&'static str> {
    (method == "tools/call").then(|| scopes::for_tool(tool.unwrap_or_default()))
}

fn challenge(
    bearer: &BearerState,
    status: StatusCode,
    error: Option<&str>,
    description: &str,
) -> Response {
    let mut value = format!(
        "Bearer resource_metadata=\"{}\", scope=\"{}\"",
        bearer.metadata_url,
        scopes::SCOPES.join(" ")
    );
    if let Some(error) = error {
        value.push_str(&format!(
            ", error=\"{error}\", error_description=\"{description}\""
        ));
    }
    with_challenge(status, value)
}

fn insufficient_scope(bearer: &BearerState, needed: &str, description: &str) -> Response {
    let value = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{needed}\", resource_metadata=\"{}\", error_description=\"{description}\"",
        bearer.metadata_url
    );
    with_challenge(StatusCode::FORBIDDEN, value)
}

fn with_challenge(status: StatusCode, value: String) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The principal a tool call runs as, when the bearer layer is on.
pub fn principal_of(parts: &axum::http::request::Parts) -> Option<&Principal> {
    parts.extensions.get::<Principal>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_tools_need_write_and_other_tools_read() {
        for tool in [
            "save_food",
            "log_food",
            "update_diary_entry",
            "delete_diary_entry",
            "set_goals",
        ] {
            assert_eq!(
                scope_for("tools/call", Some(tool)),
                Some("food:write"),
                "{tool}"
            );
        }
        for tool in ["get_diary", "get_goals"] {
            assert_eq!(
                scope_for("tools/call", Some(tool)),
                Some("food:read"),
                "{tool}"
            );
        }
        assert_eq!(
            scope_for("tools/call", Some("get_nutrition")),
            Some("food:read")
        );
        assert_eq!(scope_for("tools/list", None), None);
        assert_eq!(scope_for("initialize", None), None);
    }

    /// The borrowed peek and the whole-`Value` reading agree on every shape, odd ones included.
    #[test]
    fn the_peek_finds_the_scope_the_full_parse_finds() {
        let full = |body: &str| match serde_json::from_str::<Value>(body) {
            Ok(Value::Array(messages)) => strongest(messages.iter().map(message_scope)),
            Ok(message) => message_scope(&message),
            Err(_) => None,
        };
        let bodies = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_nutrition","arguments":{"foodId":"1"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"name":"x"},"name":"save_food"}}"#,
            r#" [{"method":"tools/list"},{"method":"tools/call","params":{"name":"log_food"}}]"#,
            r#"[{"method":"tools/call","params":{"name":"get_goals"}}]"#,
            r#"{"method":"tools\/call","params":{"name":"set_\u0067oals"}}"#,
            r#"{"method":"tools/list"}"#,
            r#"{"method":"tools/call"}"#,
            r#"{"method":"tools/call","params":null}"#,
            r#"{"method":7,"params":{"name":"save_food"}}"#,
            r#"{"method":"tools/call","params":{"name":5}}"#,
            r#"{"method":"tools/list","method":"tools/call","params":{"name":"save_food"}}"#,
            r#"{"method":"tools/call","params":{"name":"get_diary","name":"delete_diary_entry"}}"#,
            r#"[{"method":"tools/call","params":{"name":"save_food"}}, 3]"#,
            r#""tools/call""#,
            "not json",
            "",
        ];
        for body in bodies {
            let peeked = peek_scope(body.as_bytes());
            let expected = full(body);
            assert_eq!(peeked.unwrap_or(expected), expected, "{body}");
        }
        assert_eq!(
            peek_scope(bodies[0].as_bytes()),
            Some(Some("food:read")),
            "the ordinary call takes the peek"
        );
        assert_eq!(peek_scope(bodies[4].as_bytes()), Some(Some("food:write")));
        let positional = r#"{"method":"tools/call","params":["save_food"]}"#;
        assert_eq!(peek_scope(positional.as_bytes()), Some(Some("food:write")));
        assert_eq!(full(bodies[10]), Some("food:write"), "the last key counts");
        assert_eq!(full(bodies[11]), Some("food:write"));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer_token(&headers).as_deref(), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
    }
}
