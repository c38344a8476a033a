//! The rmcp glue: [`server::FoodMcp`], the `ServerHandler` with its tool router, [`service`], the
//! stateless Streamable HTTP service mounted at `/mcp`, and [`ui`], the MCP Apps views.

pub mod server;
pub mod ui;

use std::{convert::Infallible, sync::Arc};

use axum::{Router, extract::Request};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::tools::{DiaryTools, FoodService};
use server::FoodMcp;

/// `/mcp`: rmcp's Streamable HTTP service, stateless with JSON responses. Kept as its own router
/// so the bearer layer wraps `/mcp` alone.
pub fn service(
    config: &Config,
    service: Arc<FoodService>,
    diary: DiaryTools,
    cancel: CancellationToken,
) -> Router {
    let http_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(config.allowed_hosts())
        // The transport spec's Origin check: rmcp's own, a 403 for any Origin not listed.
        .with_allowed_origins(config.allowed_origins())
        .with_max_request_body_bytes(config.mcp.max_request_bytes)
        .with_cancellation_token(cancel);
    // The factory runs per request when stateless: one Arc clone.
    let handler = FoodMcp::new(service, diary);
    let mcp = Arc::new(StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        http_config,
    ));
    // Behind an `Arc`: axum clones a route's service for every request, and rmcp's service
    // clones its whole config each time (the host and origin lists, and a cancellation token
    // whose clone takes a lock every request shares); `handle` needs only `&self`.
    let endpoint = tower::service_fn(move |request: Request| {
        let mcp = mcp.clone();
        async move { Ok::<_, Infallible>(mcp.handle(request).await) }
    });
    Router::new().nest_service("/mcp", endpoint)
}
