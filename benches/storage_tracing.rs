//! Cost of one repository call under the binary's subscriber: `SqliteFoodRepo::get_entry` (a
//! cache hit, one indexed SELECT) inside a request span, one at a time and from concurrent tasks.
//! It shows what keeping sqlx's SQLite worker away from our spans (`src/storage/mod.rs`) costs.
//!
//! `cargo bench --bench storage_tracing` (env: BENCH_CALLS, default 20000, run once one at a time
//! and once spread over the tasks; BENCH_TASKS, default 8). Wall time on a shared machine is noisy:
//! BENCHMARKS.md ("Storage tracing") also gives callgrind instruction counts and how to get them.

use std::time::{Duration, Instant};

use food_mcp::ports::{CacheEntry, FoodRepo, Payload};
use food_mcp::storage::{self, foods::SqliteFoodRepo};
use food_mcp::telemetry::{self, Export, LogFormat, Settings};
use tracing::Instrument;

const KEY: &str = "usda:food:173944";
const WARM_UP: usize = 1_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `calls` cache hits, each under its own request span; answers each call's latency.
async fn hits(repo: SqliteFoodRepo, calls: usize) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let entry = repo
            .get_entry(KEY)
            .instrument(tracing::info_span!(target: "food_mcp::bench", "bench.request"))
            .await?;
        anyhow::ensure!(entry.is_some(), "the cached entry is gone");
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

fn report(what: &str, mut latencies: Vec<Duration>, elapsed: Duration) {
    if latencies.is_empty() {
        return;
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "get_entry, {what}: {} calls, {:.0} calls/s, mean {:?}, p50 {:?}, p99 {:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        elapsed / latencies.len() as u32,
        pct(0.50),
        pct(0.99),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls = env_usize("BENCH_CALLS", 20_000);
    let tasks = env_usize("BENCH_TASKS", 8).max(1);

    // As `food-mcp serve` without OTLP: the OpenTelemetry layer and log lines at the default
    // filter (written nowhere), installed process-wide.
    let settings = Settings {
        format: LogFormat::Text,
        log_filter: telemetry::DEFAULT_LOG_FILTER.into(),
        export: Export::Off,
        ansi: false,
    };
    let (dispatch, _telemetry) = telemetry::subscriber(&settings, std::io::sink)?;
    tracing::dispatcher::set_global_default(dispatch)?;

    let dir = tempfile::tempdir()?;
    let repo = SqliteFoodRepo::new(storage::open(&dir.path().join("bench.db")).await?);
    repo.put_entry(&CacheEntry {
        key: KEY.into(),
        payload: Payload::Search(Vec::new()),
        fetched_at: 0,
        expires_at: i64::MAX,
    })
    .await?;
    hits(repo.clone(), WARM_UP).await?;

    let started = Instant::now();
    let latencies = hits(repo.clone(), calls).await?;
    report("one at a time", latencies, started.elapsed());

    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| tokio::spawn(hits(repo.clone(), calls / tasks)))
        .collect();
    let mut latencies = Vec::with_capacity(calls);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    report(&format!("{tasks} tasks"), latencies, started.elapsed());
    Ok(())
}
