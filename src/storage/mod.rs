//! SQLite storage: opening and migrating the database, and the sqlx implementations of the
//! actors' storage traits. Only this folder knows SQL.
//!
//! Tracing: each repository method runs in a `storage.<method>` span (`db.system`,
//! `db.operation`, `db.table`); the sqlx calls inside it are [`Untraced`], so sqlx's SQLite
//! worker thread holds none of our spans.

pub mod backup;
pub mod catalog;
pub mod catalog_foods;
mod catalog_index;
pub mod diary;
pub mod file;
pub mod foods;
pub mod oauth;
pub mod owner;
mod porter;

use std::{future::Future, path::Path, str::FromStr, sync::LazyLock, time::Duration};

use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tracing::{
    Dispatch,
    instrument::{WithDispatch, WithSubscriber},
    subscriber::NoSubscriber,
};

/// Polls a sqlx future with a no-op dispatcher as the thread's default, so no span is current
/// while sqlx queues its commands.
///
/// Why: for every command, sqlx-sqlite's `ConnectionWorker` sends `Span::current()` to the
/// connection's own thread, enters it there and drops it when the command is done — often after
/// the caller has moved on, so that drop is the span's last. tracing-subscriber's registry then
/// closes the span's parent through the *worker thread's* default dispatcher: under a subscriber
/// set for one thread (the telemetry tests) that is none, the parent is never released and the
/// request's whole tree never ends; under a global one the request still ends late, on the worker
/// thread. With a no-op default, `Span::current()` is `Span::none()`. (Running under a
/// `Span::none()` would not do: entering it leaves the current span as it was.)
///
/// The no-op dispatcher is built, and registered with tracing, once ([`UNTRACED`]).
pub(crate) trait Untraced: Future + Sized {
    fn untraced(self) -> WithDispatch<Self> {
        self.with_subscriber(UNTRACED.clone())
    }
}

impl<F: Future> Untraced for F {}

/// The dispatcher [`Untraced`] installs. Once, because building a `Dispatch` registers it with
/// tracing's callsite registry — a process-wide lock and an interest rebuild of every callsite;
/// per call, that was the cost visible in a `tools/call` profile. Registered, unlike
/// `Dispatch::none()`: while tracing knows a single dispatcher, it settles a new callsite's
/// interest by asking the *current thread's* default, so a callsite first reached inside an
/// untraced poll would be cached as "never" for the whole process. With this one registered too,
/// every registered subscriber is asked. Either way, sqlx's own query events for these calls are
/// not emitted.
static UNTRACED: LazyLock<Dispatch> = LazyLock::new(|| Dispatch::new(NoSubscriber::default()));

pub use crate::ports::StorageError;
pub use file::DatabaseFile;

/// The database handle the rest of the crate passes around; only this folder looks inside it.
pub type Pool = SqlitePool;

/// SQLite's code for a commit the commit hook turned into a rollback (the file check failed).
const SQLITE_CONSTRAINT_COMMITHOOK: &str = "531";

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error()
            && db.code().as_deref() == Some(SQLITE_CONSTRAINT_COMMITHOOK)
        {
            // The hook logged which check failed.
            return StorageError(
                "write refused: the database file is gone, replaced or read-only".into(),
            );
        }
        StorageError(err.to_string())
    }
}

/// Opens (creating the file and its folder if needed) and migrates the database.
pub async fn open(path: &Path) -> Result<SqlitePool, StorageError> {
    Ok(open_guarded(path).await?.0)
}

/// Like [`open`], and answers the file it opened, which readiness checks ([`check_ready`]).
///
/// Every connection checks the file before each commit (SQLite's commit hook): when the path no
/// longer names the file that was opened (deleted, moved, replaced) or the file became
/// read-only, the commit becomes a rollback and the write fails — instead of landing in a
/// deleted file, acknowledged, and lost at the next start.
pub async fn open_guarded(path: &Path) -> Result<(SqlitePool, DatabaseFile), StorageError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        // WAL lets readers run while a writer commits; NORMAL is durable across app crashes in WAL.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    // Created here, once: a pool connection opened later must not create an empty database in
    // place of one that was deleted.
    SqliteConnection::connect_with(&options.clone().create_if_missing(true))
        .await?
        .close()
        .await?;
    let file = DatabaseFile::of(path)?;
    let guarded = file.clone();
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .after_connect(move |conn, _| {
            let file = guarded.clone();
            Box::pin(async move {
                conn.lock_handle().await?.set_commit_hook(move || {
                    let checked = file.check();
                    if let Err(why) = &checked {
                        tracing::error!(%why, "refusing to commit a write");
                    }
                    checked.is_ok()
                });
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| StorageError(format!("migration failed: {e}")))?;
    Ok((pool, file))
}

/// Cheap liveness check for /health.
pub async fn ping(pool: &SqlitePool) -> Result<(), StorageError> {
    sqlx::query("SELECT 1").execute(pool).untraced().await?;
    Ok(())
}

/// Readiness of the database: `file` is still the file opened and writable, and a write
/// transaction can start (`BEGIN IMMEDIATE`, then rolled back) within `within` — a database
/// locked by another writer, or frozen, fails it.
pub async fn check_ready(
    pool: &SqlitePool,
    file: &DatabaseFile,
    within: Duration,
) -> Result<(), StorageError> {
    file.check()?;
    let write_lock = async {
        let tx = pool.begin_with("BEGIN IMMEDIATE").untraced().await?;
        tx.rollback().untraced().await
    };
    match tokio::time::timeout(within, write_lock).await {
        Ok(taken) => Ok(taken?),
        Err(_) => Err(StorageError(format!(
            "no write transaction could start within {}",
            humantime::format_duration(within)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicIsize, Ordering},
    };

    use tracing::{Event, Instrument, Subscriber, span};
    use tracing_subscriber::{Registry, layer::Context, prelude::*};

    use super::*;

    /// What a subscriber saw: spans still open (+1 on start, −1 when the registry closes one) and
    /// events.
    #[derive(Clone, Default)]
    struct Seen {
        open_spans: Arc<AtomicIsize>,
        events: Arc<AtomicIsize>,
    }

    impl<S: Subscriber> tracing_subscriber::Layer<S> for Seen {
        fn on_new_span(&self, _: &span::Attributes<'_>, _: &span::Id, _: Context<'_, S>) {
            self.open_spans.fetch_add(1, Ordering::SeqCst);
        }
        fn on_close(&self, _: span::Id, _: Context<'_, S>) {
            self.open_spans.fetch_sub(1, Ordering::SeqCst);
        }
        fn on_event(&self, _: &Event<'_>, _: Context<'_, S>) {
            self.events.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A subscriber for this thread only, as in the telemetry tests: sqlx's worker thread has none.
    fn seen_on_this_thread() -> (Seen, tracing::subscriber::DefaultGuard) {
        let seen = Seen::default();
        let guard = tracing::subscriber::set_default(Registry::default().with(seen.clone()));
        (seen, guard)
    }

    #[tokio::test]
    async fn an_untraced_query_leaves_sqlx_no_span_to_hold() {
        let (seen, _default) = seen_on_this_thread();
        let dir = tempfile::tempdir().unwrap();
        let pool = open(&dir.path().join("untraced.db")).await.unwrap();

        let request = tracing::info_span!("request");
        for _ in 0..20 {
            let storage = tracing::info_span!(parent: &request, "storage");
            sqlx::query("SELECT 1")
                .execute(&pool)
                .untraced()
                .instrument(storage)
                .await
                .unwrap();
        }
        drop(request);

        // Nothing else holds a clone, so the last drop above closed the whole tree, here.
        assert_eq!(seen.open_spans.load(Ordering::SeqCst), 0);
    }

    /// One callsite, reached from both sides of the no-op dispatcher.
    fn note() {
        tracing::info!("note");
    }

    #[tokio::test]
    async fn a_write_into_a_deleted_file_is_refused_not_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guarded.db");
        let (pool, file) = open_guarded(&path).await.unwrap();
        let write = "INSERT INTO owner (id, password_hash, updated_at) VALUES (1, 'x', 0) \
                     ON CONFLICT (id) DO UPDATE SET updated_at = updated_at + 1";
        sqlx::query(write).execute(&pool).await.unwrap();

        std::fs::remove_file(&path).unwrap();
        let refused = StorageError::from(sqlx::query(write).execute(&pool).await.unwrap_err());
        assert!(refused.0.contains("write refused"), "{refused}");
        assert!(file.check().is_err());
    }

    #[tokio::test]
    async fn a_write_lock_held_elsewhere_fails_readiness_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, file) = open_guarded(&dir.path().join("locked.db")).await.unwrap();
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(file.path());
        let mut other = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap();
        let locked = check_ready(&pool, &file, Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(locked.0.contains("no write transaction"), "{locked}");
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
        check_ready(&pool, &file, Duration::from_secs(2))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_callsite_first_reached_untraced_still_reaches_the_subscriber_later() {
        let (seen, _default) = seen_on_this_thread();
        async { note() }.untraced().await;
        note();
        assert_eq!(seen.events.load(Ordering::SeqCst), 1);
    }
}
