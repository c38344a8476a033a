//! Wiring: config → storage → actors → router, and the serve loop with graceful shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use sqlx::SqlitePool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

use crate::actors::food_cache::{self, FoodCacheHandle};
use crate::catalog::CatalogStore;
use crate::clock::Clock;
use crate::config::Config;
use crate::mcp::server::FoodMcp;
use crate::service::FoodService;
use crate::sources::{FoodSource, openfoodfacts::OpenFoodFactsClient, usda::UsdaClient};
use crate::storage::{self, foods::SqliteFoodRepo};

/// Longest a request may take before the server answers 503; upstream timeouts are shorter.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A built application: the router plus what must be stopped when it shuts down.
pub struct App {
    pub router: Router,
    pool: SqlitePool,
    food_cache: FoodCacheHandle,
    actor_tasks: Vec<tokio::task::JoinHandle<()>>,
    mcp_cancel: CancellationToken,
}

#[derive(Clone)]
struct AppState {
    pool: SqlitePool,
}

impl App {
    /// Opens the database, starts the actors and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let pool = storage::open(&config.database_path)
            .await
            .with_context(|| format!("opening database {}", config.database_path.display()))?;
        let http = reqwest::Client::builder()
            .build()
            .context("building the HTTP client")?;
        let upstreams: Vec<Arc<dyn FoodSource>> = vec![
            Arc::new(UsdaClient::new(&config.usda, http.clone())?),
            Arc::new(OpenFoodFactsClient::new(&config.openfoodfacts, http)?),
        ];
        let (food_cache, cache_task) = FoodCacheHandle::spawn(food_cache::Arguments {
            repo: Arc::new(SqliteFoodRepo::new(pool.clone())),
            upstreams,
            ttl: config.cache.clone(),
            clock: Clock::system(),
        })
        .await
        .context("starting the food cache")?;

        let catalog = CatalogStore::new(pool.clone());
        let service = Arc::new(FoodService::new(food_cache.clone(), catalog));
        let mcp_cancel = CancellationToken::new();
        let mcp = mcp_service(&config, service, mcp_cancel.clone());
        let router = Router::new()
            .route("/health", get(health))
            .with_state(AppState { pool: pool.clone() })
            .merge(mcp)
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                REQUEST_TIMEOUT,
            ))
            .layer(TraceLayer::new_for_http());
        Ok(App {
            router,
            pool,
            food_cache,
            actor_tasks: vec![cache_task],
            mcp_cancel,
        })
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests, stops the actors and
    /// closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        use axum::serve::ListenerExt;
        // Without TCP_NODELAY, small responses on keep-alive connections wait ~40 ms for the
        // client's delayed ACK (Nagle's algorithm).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let mcp_cancel = self.mcp_cancel.clone();
        axum::serve(listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                mcp_cancel.cancel();
            })
            .await
            .context("serving HTTP")?;
        self.food_cache.actor().stop(None);
        for task in self.actor_tasks {
            let _ = task.await;
        }
        self.pool.close().await;
        Ok(())
    }
}

/// `/mcp`: rmcp's Streamable HTTP service, stateless with JSON responses. Kept as its own router
/// so the bearer layer wraps `/mcp` alone.
fn mcp_service(config: &Config, service: Arc<FoodService>, cancel: CancellationToken) -> Router {
    let http_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(config.allowed_hosts())
        .with_max_request_body_bytes(config.mcp.max_request_bytes)
        .with_cancellation_token(cancel);
    // The factory runs per request when stateless: a clone of two Arcs.
    let mcp = StreamableHttpService::new(
        move || Ok(FoodMcp::new(service.clone())),
        Arc::new(LocalSessionManager::default()),
        http_config,
    );
    Router::new().nest_service("/mcp", mcp)
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let version = env!("CARGO_PKG_VERSION");
    match storage::ping(&state.pool).await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ok", "database": "ok", "version": version })),
        ),
        Err(err) => {
            tracing::error!(%err, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({ "status": "degraded", "database": "unavailable", "version": version }),
                ),
            )
        }
    }
}
