//! SQLite storage: opening and migrating the database, and the sqlx implementations of the
//! actors' storage traits. Only this folder knows SQL.
//!
//! Tracing: each repository method runs in a `storage.<method>` span (`db.system`,
//! `db.operation`, `db.table`); the sqlx calls inside it are [`Untraced`], so sqlx's SQLite
//! worker thread holds none of our spans.

pub mod backup;
pub mod catalog;
pub mod catalog_foods;
pub mod diary;
pub mod foods;
pub mod oauth;
pub mod owner;

use std::{future::Future, path::Path, str::FromStr, sync::LazyLock, time::Duration};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
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
    sqlx::query("SELECT 1").execute(pool).untraced().await?;
    Ok(())
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
    async fn a_callsite_first_reached_untraced_still_reaches_the_subscriber_later() {
        let (seen, _default) = seen_on_this_thread();
        async { note() }.untraced().await;
        note();
        assert_eq!(seen.events.load(Ordering::SeqCst), 1);
    }
}
