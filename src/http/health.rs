//! `GET /health` and `GET /health/ready`, unauthenticated, as JSON.
//!
//! `/health` is liveness: the process answers, its actors run and the database answers a
//! query. `/health/ready` is readiness: the same actors, and the database file is still the one
//! opened and writable, and a write transaction can start — what a save needs. A server can be
//! live but not ready: a database locked by a long import, or a file made read-only.

use std::time::Duration;

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::{Map, Value, json};

use crate::actors::supervisor::Roster;
use crate::storage::{self, DatabaseFile, Pool};

/// The readiness path, which `food-mcp health` asks.
pub const READY_PATH: &str = "/health/ready";

/// Longest readiness waits for the write lock: a writer holding it longer (a catalog import)
/// makes the server briefly not ready rather than the probe slow.
const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Checked {
    pool: Pool,
    file: DatabaseFile,
    actors: Roster,
}

/// The two routes over the database, its file and the actors they check.
pub fn router(pool: Pool, file: DatabaseFile, actors: Roster) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(READY_PATH, get(ready))
        .with_state(Checked { pool, file, actors })
}

async fn health(State(checked): State<Checked>) -> impl IntoResponse {
    let database = storage::ping(&checked.pool).await;
    if let Err(err) = &database {
        tracing::error!(%err, "health check: database unavailable");
    }
    report(
        &checked,
        database.map_err(|_| "unavailable".into()),
        "ok",
        "degraded",
    )
}

async fn ready(State(checked): State<Checked>) -> impl IntoResponse {
    let database = storage::check_ready(&checked.pool, &checked.file, WRITE_LOCK_TIMEOUT).await;
    if let Err(err) = &database {
        tracing::error!(%err, "readiness check: database not writable");
    }
    // The sentence names the file and what is wrong with it: for the operator, on a public
    // route but no secret.
    let database = database.map_err(|err| err.0);
    report(&checked, database, "ready", "not_ready")
}

/// 200 with `up` when the database check passed and every actor runs; 503 with `down` and what
/// failed otherwise.
fn report(
    checked: &Checked,
    database: Result<(), String>,
    up: &str,
    down: &str,
) -> (StatusCode, Json<Value>) {
    let mut actors = Map::new();
    let mut all_up = database.is_ok();
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
        "status": if all_up { up } else { down },
        "database": database.err().unwrap_or_else(|| "ok".into()),
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
        answer(health(State(checked.clone())).await.into_response()).await
    }

    async fn get_ready(checked: &Checked) -> (StatusCode, Value) {
        answer(ready(State(checked.clone())).await.into_response()).await
    }

    async fn answer(response: axum::response::Response) -> (StatusCode, Value) {
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn an_actor_that_is_down_is_named_and_answers_503() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, file) = storage::open_guarded(&dir.path().join("health.db"))
            .await
            .unwrap();
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
            file,
            actors: supervision.roster(),
        };

        let (status, body) = get_health(&checked).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["actors"], json!({ "food_cache": "running" }));
        let (status, body) = get_ready(&checked).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ready");

        // Stopped from outside and not restarted (the supervisor is stopping): down.
        supervision.stop().await;
        assert!(!cache.is_alive());
        let (status, body) = get_health(&checked).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["actors"], json!({ "food_cache": "down" }));
        let (status, body) = get_ready(&checked).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "not_ready");
    }

    async fn no_actors(name: &str) -> (Checked, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (pool, file) = storage::open_guarded(&dir.path().join(name)).await.unwrap();
        let supervision = Supervision::start().await.unwrap();
        let checked = Checked {
            pool,
            file,
            actors: supervision.roster(),
        };
        (checked, dir)
    }

    #[tokio::test]
    async fn a_deleted_database_file_fails_readiness_and_says_so() {
        let (checked, _dir) = no_actors("deleted.db").await;
        std::fs::remove_file(checked.file.path()).unwrap();
        let (status, body) = get_ready(&checked).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let why = body["database"].as_str().unwrap();
        assert!(why.contains("is gone"), "{why}");
    }
}
