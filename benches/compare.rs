//! Side-by-side load: an authenticated `tools/call get_nutrition` (150 g of food 173944) against
//! servers that are already running, alternating between them round by round, so both see the
//! same machine state. Each target is driven through its own OAuth flow first (dynamic
//! registration, auto-approving /authorize, PKCE token exchange), then through an MCP initialize
//! (keeping a session id if the server hands one out). Loopback only; bounded by request count.
//!
//! `bench/compare.sh` starts food-mcp and the TypeScript anchor and runs this. Directly:
//! `BENCH_TARGETS="food-mcp=http://127.0.0.1:3000,ts-seed=http://localhost:3100" cargo bench --bench compare`
//! (env: BENCH_REQUESTS per round, default 5000; BENCH_CONCURRENCY, default 16; BENCH_ROUNDS, default 3).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One authenticated MCP endpoint.
#[derive(Clone)]
struct Target {
    name: String,
    mcp: String,
    token: String,
    session: Option<String>,
}

async fn connect(name: &str, base: &str) -> anyhow::Result<Target> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let registered: Value = http
        .post(format!("{base}/register"))
        .json(&json!({"client_name": "bench", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                       "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let client_id = registered["client_id"]
        .as_str()
        .context("client_id")?
        .to_string();
    let verifier = URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{name}{:?}", Instant::now()).as_bytes(),
    ));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mcp = format!("{base}/mcp");
    let authorize = http
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "s"),
            ("resource", &mcp),
        ])
        .send()
        .await?;
    let location = authorize
        .headers()
        .get("location")
        .context("the server must auto-approve (302)")?
        .to_str()?;
    let code = url::Url::parse(location)?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .context("code")?
        .1
        .into_owned();
    let tokens: Value = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
            ("resource", &mcp),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = tokens["access_token"]
        .as_str()
        .context("access_token")?
        .to_string();
    let init = http
        .post(&mcp)
        .bearer_auth(&token)
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                      "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}))
        .send()
        .await?
        .error_for_status()?;
    let session = init
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    init.bytes().await?;
    let mut target = Target {
        name: name.to_string(),
        mcp,
        token,
        session,
    };
    if target.session.is_some() {
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        request(&http, &target, &note).await?;
    }
    call(&http, &target)
        .await
        .with_context(|| format!("first tools/call on {name}"))?;
    target.name = name.to_string();
    Ok(target)
}

async fn request(http: &reqwest::Client, target: &Target, body: &Value) -> anyhow::Result<String> {
    let mut builder = http
        .post(&target.mcp)
        .bearer_auth(&target.token)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(body);
    if let Some(session) = &target.session {
        builder = builder.header("mcp-session-id", session);
    }
    let response = builder.send().await?;
    if !response.status().is_success() {
        bail!("{} answered {}", target.name, response.status());
    }
    Ok(response.text().await?)
}

/// One authenticated tools/call; checks the answer carries the banana's 133.5 kcal.
async fn call(http: &reqwest::Client, target: &Target) -> anyhow::Result<()> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_nutrition",
                      "arguments": {"foodId": "173944", "source": "usda", "amount": 150, "unit": "g"}}});
    let text = request(http, target, &body).await?;
    if !text.contains("133.5") {
        bail!("{}: unexpected answer {text}", target.name);
    }
    Ok(())
}

struct Round {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

async fn round(target: &Target, requests: usize, concurrency: usize) -> anyhow::Result<Round> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let per_worker = requests / concurrency;
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, target) = (http.clone(), target.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                for _ in 0..per_worker {
                    let t = Instant::now();
                    call(&http, &target).await?;
                    latencies.push(t.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(Round {
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.5),
        p99: pct(0.99),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Ok(spec) = std::env::var("BENCH_TARGETS") else {
        println!("compare: set BENCH_TARGETS=name=url,... (bench/compare.sh does); nothing to do");
        return Ok(());
    };
    let requests = env_usize("BENCH_REQUESTS", 5_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 16).max(1);
    let rounds = env_usize("BENCH_ROUNDS", 3).max(1);
    let mut targets = Vec::new();
    for entry in spec.split(',') {
        let (name, base) = entry
            .split_once('=')
            .context("BENCH_TARGETS entries are name=url")?;
        targets.push(connect(name, base.trim_end_matches('/')).await?);
    }
    let mut totals = vec![0.0; targets.len()];
    for r in 1..=rounds {
        for (i, target) in targets.iter().enumerate() {
            let result = round(target, requests, concurrency).await?;
            totals[i] += result.rps;
            println!(
                "round {r} {:<10} {:>8.0} req/s  p50 {:>8.2?}  p99 {:>8.2?}  ({requests} requests, concurrency {concurrency})",
                target.name, result.rps, result.p50, result.p99
            );
        }
    }
    for (target, total) in targets.iter().zip(&totals) {
        println!(
            "mean {:<10} {:>8.0} req/s",
            target.name,
            total / rounds as f64
        );
    }
    if totals.len() == 2 {
        println!(
            "ratio {}/{}: {:.2}x",
            targets[0].name,
            targets[1].name,
            totals[0] / totals[1]
        );
    }
    Ok(())
}
