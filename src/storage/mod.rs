//! SQLite storage: opening and migrating the database, and the sqlx implementations of the
//! actors' storage traits. Only this folder knows SQL.
//!
//! Tracing: each repository method runs in a `storage.<method>` span (`db.system`,
//! `db.operation`, `db.table`). The sqlx calls inside run with no subscriber
//! (`.with_subscriber(NoSubscriber)`): sqlx's SQLite worker thread keeps a clone of the caller's
//! current span for each command it queues, which let request spans outlive their request and
//! end (or get lost) outside it. The cost: sqlx's own query logs for these calls are not emitted.

pub mod backup;
pub mod catalog;
pub mod diary;
pub mod foods;
pub mod oauth;
pub mod owner;

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use crate::ports::StorageError;

/// The database handle the rest of the crate passes around; only this folder looks inside it.
pub type Pool = SqlitePool;

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        StorageError(err.to_string())
    }
}

/// Opens (creating the file and its folder if needed) and migrates the database.
pub async fn open(path: &Path) -> Result<SqlitePool, StorageError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        // WAL lets readers run while a writer commits; NORMAL is durable across app crashes in WAL.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| StorageError(format!("migration failed: {e}")))?;
    Ok(pool)
}

/// Cheap liveness check for /health.
pub async fn ping(pool: &SqlitePool) -> Result<(), StorageError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
