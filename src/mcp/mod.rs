//! The rmcp glue: [`server::FoodMcp`], the `ServerHandler` with its tool router, [`service`], the
//! stateless Streamable HTTP service mounted at `/mcp`, and [`ui`], the MCP Apps views.

pub mod server;
pub mod ui;

use std::sync::Arc;

use axum::Router;
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
        .with_max_request_body_bytes(config.mcp.max_request_bytes)
        .with_cancellation_token(cancel);
    // The factory runs per request when stateless: one Arc clone.
    let handler = FoodMcp::new(service, diary);
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        http_config,
    );
    Router::new().nest_service("/mcp", mcp)
}
