//! `GET /health`: unauthenticated liveness, as JSON — the database and each supervised actor;
//! 503 when any of them is down.

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::{Map, Value, json};

use crate::actors::supervisor::Roster;
use crate::storage::{self, Pool};

#[derive(Clone)]
struct Checked {
    pool: Pool,
    actors: Roster,
}

/// The `/health` route over the database and the actors it checks.
pub fn router(pool: Pool, actors: Roster) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(Checked { pool, actors })
}

async fn health(State(checked): State<Checked>) -> impl IntoResponse {
    let database = match storage::ping(&checked.pool).await {
        Ok(()) => true,
        Err(err) => {
            tracing::error!(%err, "health check: database unavailable");
            false
        }
    };
    let mut actors = Map::new();
    let mut all_up = database;
    for (name, alive) in checked.actors.liveness() {
        if !alive {
            tracing::error!(actor = name, "health check: actor down");
        }
        all_up &= alive;
        actors.insert(name.into(), json!(if alive { "running" } else { "down" }));
    }
    let status = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if all_up { "ok" } else { "degraded" },
        "database": if database { "ok" } else { "unavailable" },
        "actors": Value::Object(actors),
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, Json(body))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::actors::food_cache::FoodCache;
    use crate::actors::supervisor::Supervision;
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::storage::foods::SqliteFoodRepo;

    async fn get_health(checked: &Checked) -> (StatusCode, Value) {
        let response = health(State(checked.clone())).await.into_response();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn an_actor_that_is_down_is_named_and_answers_503() {
        let dir = tempfile::tempdir().unwrap();
        let pool = storage::open(&dir.path().join("health.db")).await.unwrap();
        let mut supervision = Supervision::start().await.unwrap();
        let repo = SqliteFoodRepo::new(pool.clone());
        let cache = supervision
            .supervise(
                FoodCache,
                move || crate::actors::food_cache::Arguments {
                    repo: std::sync::Arc::new(repo.clone()),
                    upstreams: vec![],
                    ttl: Config::defaults().cache,
                    clock: Clock::system(),
                },
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        let checked = Checked {
            pool,
            actors: supervision.roster(),
        };

        let (status, body) = get_health(&checked).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["actors"], json!({ "food_cache": "running" }));

        // Stopped from outside and not restarted (the supervisor is stopping): down.
        supervision.stop().await;
        assert!(!cache.is_alive());
        let (status, body) = get_health(&checked).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["actors"], json!({ "food_cache": "down" }));
    }
}
