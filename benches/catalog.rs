//! Offline catalog benchmark: imports SR Legacy (time, peak RSS), then times `search_food` over
//! everyday queries and `get_nutrition` from the catalog through the real server on loopback, one
//! request at a time; before that, one search split in process (catalog recall, ranking).
//!
//! `FOOD_MCP_USDA_DATA=/work/shared/data/usda-sr-legacy cargo bench --bench catalog`
//! (env: BENCH_ROUNDS, default 20 passes over the queries). The USDA API is a mock answering no
//! foods, cached after the warm-up pass, so the search numbers are the catalog, ranking and MCP.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use food_mcp::food::search;
use food_mcp::storage::catalog_foods::CatalogFoods;
use food_mcp::{app::App, config::Config};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

/// Everyday queries (a subset of tests/api/search_quality.rs) plus a few with no match and typos.
const QUERIES: &[&str] = &[
    "banana",
    "whole milk",
    "egg",
    "apple",
    "butter",
    "white rice",
    "brown rice",
    "chicken breast",
    "salmon",
    "broccoli",
    "carrots",
    "potato",
    "orange",
    "strawberries",
    "oats",
    "peanut butter",
    "almonds",
    "avocado",
    "cheddar cheese",
    "greek yogurt",
    "white bread",
    "spinach",
    "tomato",
    "olive oil",
    "sugar",
    "honey",
    "ground beef",
    "bacon",
    "blueberries",
    "onion",
    "black beans",
    "lentils",
    "tofu",
    "coffee",
    "orange juice",
    "canned tuna",
    "mozzarella",
    "cottage cheese",
    "sweet potato",
    "popcorn",
    "brocoli",
    "avacado",
    "saffron risotto",
    "pad thai",
    "bubble tea",
    "chicken tikka masala",
];

/// (FDC id, amount, unit) answered from the catalog.
const NUTRITION: &[(&str, f64, &str)] = &[
    ("173944", 1.0, "medium"),
    ("171265", 1.0, "cup"),
    ("171287", 2.0, "large"),
    ("169655", 1.0, "tbsp"),
    ("168462", 100.0, "g"),
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Peak resident set size of this process so far, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let data = std::env::var_os("FOOD_MCP_USDA_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/usda-sr-legacy")
        });
    if !data.join("sr_legacy/food.csv").is_file() {
        println!(
            "SKIPPED: SR Legacy data not found at {} (set FOOD_MCP_USDA_DATA)",
            data.display()
        );
        return Ok(());
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let pool = food_mcp::storage::open(&db).await?;
    let started = Instant::now();
    let summary = food_mcp::catalog::import_command(&pool, &data).await?;
    let import = started.elapsed();
    println!(
        "import SR Legacy: {} foods, {} nutrient values, {} portions in {:.2} s; peak RSS {:.0} MiB",
        summary.foods(),
        summary.nutrients,
        summary.portions,
        import.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN),
    );

    // One search split in process, without MCP: the catalog's recall (snapshot index and summaries)
    // and ranking — what the tools/call figures below add framing and the USDA cache to.
    let started = Instant::now();
    let foods = CatalogFoods::load(pool.clone()).await?;
    let loaded = started.elapsed();
    pool.close().await;
    let (mut recalls, mut ranks) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for query in QUERIES {
            let started = Instant::now();
            let hits = foods.search(query, 100);
            recalls.push(started.elapsed());
            let started = Instant::now();
            std::hint::black_box(search::rank(query, hits));
            ranks.push(started.elapsed());
        }
    }
    recalls.sort();
    ranks.sort();
    println!(
        "catalog snapshot with search index loaded in {:.0} ms; in process, {} queries x {rounds}: \
         recall p50 {:?}, p99 {:?}; rank p50 {:?}, p99 {:?}",
        loaded.as_secs_f64() * 1000.0,
        QUERIES.len(),
        percentile(&recalls, 0.50),
        percentile(&recalls, 0.99),
        percentile(&ranks, 0.50),
        percentile(&ranks, 0.99),
    );
    drop(foods);

    let usda = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalHits": 0, "foods": []})),
        )
        .mount(&usda)
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut config = Config::defaults();
    config.bind = addr;
    config.public_url = format!("http://{addr}").parse()?;
    config.database_path = db;
    config.usda.base_url = usda.uri().parse()?;
    // The catalog under test is the one imported above, never a download.
    config.catalog.auto_import = false;
    // The tool path is measured, not the bearer check (allowed: the bind is loopback).
    config.auth.enabled = false;
    let app = App::build(config).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));

    let url = format!("http://{addr}/mcp");
    let http = reqwest::Client::new();
    let call = |name: &'static str, arguments: Value| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let body = json!({
                "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": { "name": name, "arguments": arguments }
            });
            let started = Instant::now();
            let response = http
                .post(&url)
                .header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2025-06-18")
                .json(&body)
                .send()
                .await?;
            anyhow::ensure!(response.status() == 200, "status {}", response.status());
            let answer: Value = response.json().await?;
            let elapsed = started.elapsed();
            anyhow::ensure!(
                answer["result"]["isError"] != json!(true),
                "{name} failed: {answer}"
            );
            Ok::<_, anyhow::Error>(elapsed)
        }
    };

    // Warm-up: fills the USDA search cache, connections and SQLite's page cache.
    for query in QUERIES {
        call("search_food", json!({"query": query, "source": "usda"})).await?;
    }
    let mut searches = Vec::with_capacity(rounds * QUERIES.len());
    for _ in 0..rounds {
        for query in QUERIES {
            searches.push(call("search_food", json!({"query": query, "source": "usda"})).await?);
        }
    }
    searches.sort();
    println!(
        "search_food (catalog + cached USDA API, {} queries x {rounds}): p50 {:?}, p99 {:?}, max {:?}",
        QUERIES.len(),
        percentile(&searches, 0.50),
        percentile(&searches, 0.99),
        searches[searches.len() - 1],
    );

    let mut lookups = Vec::with_capacity(rounds * 20 * NUTRITION.len());
    for _ in 0..rounds * 20 {
        for (id, amount, unit) in NUTRITION {
            let args = json!({"foodId": id, "source": "usda", "amount": amount, "unit": unit});
            lookups.push(call("get_nutrition", args).await?);
        }
    }
    lookups.sort();
    println!(
        "get_nutrition (catalog, {} foods x {}): p50 {:?}, p99 {:?}, max {:?}",
        NUTRITION.len(),
        rounds * 20,
        percentile(&lookups, 0.50),
        percentile(&lookups, 0.99),
        lookups[lookups.len() - 1],
    );

    let _ = stop.send(());
    server.await??;
    Ok(())
}
