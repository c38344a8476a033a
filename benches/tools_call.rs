//! Load benchmark: `tools/call get_nutrition` (150 g of an SR Legacy banana, answered from the
//! cache) against the real server on loopback, through raw Streamable HTTP POSTs on keep-alive
//! connections, without OAuth (bench/compare.sh measures the authenticated path). Bounded: a
//! fixed number of requests, loopback only.
//!
//! `cargo bench --bench tools_call` (env: BENCH_REQUESTS, default 20000; BENCH_CONCURRENCY, default 16).
//! The server and the load generator share the machine's cores, so compare runs, not absolutes.

use std::time::{Duration, Instant};

use food_mcp::{app::App, config::Config};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests = env_usize("BENCH_REQUESTS", 20_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 16).max(1);

    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/usda/food-173944-sr-legacy-banana.json"
    ))?)?;
    let usda = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/food/173944"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture))
        .mount(&usda)
        .await;

    let dir = tempfile::tempdir()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut config = Config::defaults();
    config.bind = addr;
    config.public_url = format!("http://{addr}").parse()?;
    config.database_path = dir.path().join("bench.db");
    config.usda.base_url = usda.uri().parse()?;
    // Never fetch the real catalog from a benchmark.
    config.catalog.auto_import = false;
    // The tool path alone; bench/compare.sh measures it behind OAuth.
    config.auth.enabled = false;
    let app = App::build(config).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));

    let url = format!("http://{addr}/mcp");
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "get_nutrition",
                    "arguments": { "foodId": "173944", "source": "usda", "amount": 150, "unit": "g" } }
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let call = |http: reqwest::Client, url: String, body: Value| async move {
        let response = http
            .post(&url)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-06-18")
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "status {}", response.status());
        let answer: Value = response.json().await?;
        let kcal = &answer["result"]["structuredContent"]["nutrients"]["calories"]["value"];
        anyhow::ensure!(kcal == &json!(133.5), "unexpected answer {answer}");
        Ok::<_, anyhow::Error>(())
    };
    // Warm the cache (the one upstream fetch) and the connections.
    call(http.clone(), url.clone(), body.clone()).await?;

    let started = Instant::now();
    let per_worker = requests / concurrency;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, body) = (http.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                for _ in 0..per_worker {
                    let t = Instant::now();
                    call(http.clone(), url.clone(), body.clone()).await?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(requests);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "tools/call get_nutrition: {} requests, concurrency {concurrency}, {:.2} s, {:.0} req/s, p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies[latencies.len() - 1],
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}
