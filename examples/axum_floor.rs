//! The benchmark floor (`bench/compare.sh`): a bare axum server answering every `POST /mcp` with
//! a fixed small JSON body — what HTTP and JSON framing alone cost on this machine.
//!
//! `cargo run --release --example axum_floor -- 127.0.0.1:3200`

use axum::{Json, Router, routing::post};
use serde_json::{Value, json};

async fn answer(Json(_request): Json<Value>) -> Json<Value> {
    Json(json!({"jsonrpc": "2.0", "id": 1, "result": {"calories": 133.5}}))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3200".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let app = Router::new()
        .route("/mcp", post(answer))
        .route("/health", axum::routing::get(|| async { "ok" }));
    axum::serve(listener, app).await?;
    Ok(())
}
