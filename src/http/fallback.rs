//! Answers for what no route serves: an unknown path is 404 and a method `/mcp` does not take
//! is 405 — both plain, with no bearer challenge, which belongs to `/mcp`'s own requests only.

use axum::{
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The router's fallback.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "Not found. food-mcp serves MCP at /mcp; see / for what this server is.\n",
    )
        .into_response()
}

/// In front of `/mcp`'s bearer layer: rmcp serves stateless MCP over POST only (it answers GET
/// with 405 itself, after the token check, which clients opening an SSE stream expect); every
/// other method is refused here, before a token is asked for.
pub async fn mcp_methods(request: Request, next: Next) -> Response {
    if request.method() == Method::POST || request.method() == Method::GET {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed: /mcp takes POST.\n",
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
