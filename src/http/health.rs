//! `GET /health`: unauthenticated liveness with a database check, as JSON.

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};

use crate::storage::{self, Pool};

/// The `/health` route over the database it checks.
pub fn router(pool: Pool) -> Router {
    Router::new().route("/health", get(health)).with_state(pool)
}

async fn health(State(pool): State<Pool>) -> impl IntoResponse {
    let version = env!("CARGO_PKG_VERSION");
    match storage::ping(&pool).await {
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
