//! Side-by-side load: an authenticated `tools/call get_nutrition` (150 g of food 173944) against
//! servers that are already running, alternating between them round by round, so both see the
//! same machine state. Each target is driven through its own OAuth flow first (dynamic
//! registration, auto-approving /authorize, PKCE token exchange), then through an MCP initialize
//! (keeping a session id if the server hands one out). Loopback only; bounded by request count.
//!
//! `bench/compare.sh` starts food-mcp and the TypeScript anchor and runs this. Directly:
//! `BENCH_TARGETS="food-mcp=http://127.0.0.1:3000,ts-seed=http://localhost:3100" cargo bench --bench compare`
//! (env: BENCH_REQUESTS per round, default 5000; BENCH_CONCURRENCY, default 32; BENCH_ROUNDS, default 3;
//! BENCH_OVERLOAD, default "128,512"; BENCH_CASES, words of the case labels to keep, e.g. "catalog,ping";
//! BENCH_OHA, an oha binary to drive the load with instead of this process's reqwest workers).

use std::collections::BTreeMap;
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

/// One measured request: what is posted, and a string its answer must contain.
#[derive(Clone)]
struct Case {
    label: String,
    target: Target,
    body: Value,
    expect: &'static str,
}

fn get_nutrition(food_id: &str, source: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_nutrition",
           "arguments": {"foodId": food_id, "source": source, "amount": 150, "unit": "g"}}})
}

impl Case {
    async fn new(
        label: &str,
        target: &Target,
        body: Value,
        expect: &'static str,
    ) -> anyhow::Result<Case> {
        let case = Case {
            label: label.to_string(),
            target: target.clone(),
            body,
            expect,
        };
        let http = reqwest::Client::new();
        case.send(&http)
            .await
            .with_context(|| format!("first request of {label}"))?;
        Ok(case)
    }

    async fn send(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        let text = request(http, &self.target, &self.body).await?;
        if !text.contains(self.expect) {
            bail!("{}: unexpected answer {text}", self.label);
        }
        Ok(())
    }
}

/// A food saved through save_food (89 kcal per 100 g, like the banana), for the saved-food case.
async fn save_banana(target: &Target) -> anyhow::Result<String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "save_food",
        "arguments": {"name": "Bench banana", "servingSize": {"amount": 100, "unit": "g"},
                      "nutrients": {"calories": 89, "protein_g": 1.09, "total_carbs_g": 22.84, "total_fat_g": 0.33}}}});
    let text = request(&reqwest::Client::new(), target, &body).await?;
    let id = text
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|id| id.starts_with("custom:"))
        .with_context(|| format!("save_food answered {text}"))?;
    Ok(id.to_string())
}

struct Round {
    rps: f64,
    p50: Duration,
    p99: Duration,
    /// Failed requests by kind (the status, "timeout", "connect", …), so an error count says why.
    errors: BTreeMap<String, usize>,
}

/// What kind of failure an error was: the HTTP status a server answered, or the transport fault.
fn error_kind(error: &anyhow::Error) -> String {
    if let Some(e) = error.downcast_ref::<reqwest::Error>() {
        return if e.is_timeout() {
            "timeout".into()
        } else if e.is_connect() {
            "connect".into()
        } else if e.is_body() || e.is_decode() {
            "body".into()
        } else {
            "request".into()
        };
    }
    error.to_string()
}

/// A round through oha (`BENCH_OHA`, the load generator the figures come from) when set,
/// else through this process's own reqwest workers.
async fn round(case: &Case, requests: usize, concurrency: usize) -> anyhow::Result<Round> {
    match std::env::var_os("BENCH_OHA") {
        Some(oha) => oha_round(&oha, case, requests, concurrency).await,
        None => reqwest_round(case, requests, concurrency).await,
    }
}

/// One oha run (`--output-format json`): its throughput and latency percentiles, and every answer
/// but a 200 counted as an error by status, oha's own errors (timeouts, resets) by message. oha
/// does not read the answers; `Case::new` checked one.
async fn oha_round(
    oha: &std::ffi::OsStr,
    case: &Case,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<Round> {
    let target = &case.target;
    let mut command = tokio::process::Command::new(oha);
    command
        .args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-n", &requests.to_string(), "-c", &concurrency.to_string()])
        .args(["-H", &format!("Authorization: Bearer {}", target.token)])
        .args(["-H", "Accept: application/json, text/event-stream"])
        .args(["-H", "Content-Type: application/json"])
        .args(["-H", "MCP-Protocol-Version: 2025-06-18"]);
    if let Some(session) = &target.session {
        command.args(["-H", &format!("mcp-session-id: {session}")]);
    }
    let output = command
        .args(["-d", &case.body.to_string(), &target.mcp])
        .output()
        .await
        .context("running oha")?;
    if !output.status.success() {
        bail!("oha failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let report: Value = serde_json::from_slice(&output.stdout).context("oha's JSON report")?;
    let seconds = |pointer: &str| {
        report
            .pointer(pointer)
            .and_then(Value::as_f64)
            .map(Duration::from_secs_f64)
            .with_context(|| format!("oha's report has no {pointer}"))
    };
    let mut errors = BTreeMap::new();
    let counts = |key: &str| {
        report[key]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(kind, n)| Some((kind.clone(), usize::try_from(n.as_u64()?).ok()?)))
            .collect::<Vec<_>>()
    };
    for (status, n) in counts("statusCodeDistribution") {
        if status != "200" {
            errors.insert(status, n);
        }
    }
    errors.extend(counts("errorDistribution"));
    // Answered requests per second, as the reqwest rounds count them.
    let answered = report["summary"]["successRate"].as_f64().unwrap_or(0.0);
    if answered == 0.0 {
        bail!("{}: every request failed: {errors:?}", case.label);
    }
    Ok(Round {
        rps: answered
            * report["summary"]["requestsPerSec"]
                .as_f64()
                .context("oha's report has no requestsPerSec")?,
        p50: seconds("/latencyPercentiles/p50")?,
        p99: seconds("/latencyPercentiles/p99")?,
        errors,
    })
}

async fn reqwest_round(case: &Case, requests: usize, concurrency: usize) -> anyhow::Result<Round> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let per_worker = requests.div_ceil(concurrency);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, case) = (http.clone(), case.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                let mut errors = BTreeMap::<String, usize>::new();
                for _ in 0..per_worker {
                    let t = Instant::now();
                    match case.send(&http).await {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(e) => *errors.entry(error_kind(&e)).or_default() += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = BTreeMap::<String, usize>::new();
    for worker in workers {
        let (l, e) = worker.await?;
        latencies.extend(l);
        for (kind, n) in e {
            *errors.entry(kind).or_default() += n;
        }
    }
    let elapsed = started.elapsed();
    if latencies.is_empty() {
        bail!("{}: every request failed", case.label);
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(Round {
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.5),
        p99: pct(0.99),
        errors,
    })
}

/// Rounds of every case at `concurrency`, alternating case by case; the mean throughput per case.
async fn rounds(
    cases: &[Case],
    rounds: usize,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut totals = vec![0.0; cases.len()];
    for r in 1..=rounds {
        for (i, case) in cases.iter().enumerate() {
            let result = round(case, requests.max(concurrency * 20), concurrency).await?;
            totals[i] += result.rps;
            println!(
                "round {r} c={concurrency:<4} {:<30} {:>8.0} req/s  p50 {:>9.2?}  p99 {:>9.2?}  errors {}{}",
                case.label,
                result.rps,
                result.p50,
                result.p99,
                result.errors.values().sum::<usize>(),
                if result.errors.is_empty() {
                    String::new()
                } else {
                    format!(" {:?}", result.errors)
                }
            );
        }
    }
    for (case, total) in cases.iter().zip(&mut totals) {
        *total /= rounds as f64;
        println!(
            "mean    c={concurrency:<4} {:<30} {:>8.0} req/s",
            case.label, total
        );
    }
    Ok(totals)
}

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

/// `BENCH_TARGETS=food-mcp=URL,ts-seed=URL[,floor=URL]`: the cases are the anchor's get_nutrition,
/// food-mcp's get_nutrition of the catalog food and of a saved food, food-mcp's tools/list and
/// ping, and the floor (a bare axum JSON answer, `examples/axum_floor.rs`); then food-mcp's catalog
/// get_nutrition and the anchor at each of `BENCH_OVERLOAD` connections (p99 and errors).
/// `BENCH_CASES=catalog,ping` keeps only the cases whose label holds one of the words.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Ok(spec) = std::env::var("BENCH_TARGETS") else {
        println!("compare: set BENCH_TARGETS=name=url,... (bench/compare.sh does); nothing to do");
        return Ok(());
    };
    let requests = env_usize("BENCH_REQUESTS", 5_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 32).max(1);
    let rounds_n = env_usize("BENCH_ROUNDS", 3).max(1);
    let overload = env_list("BENCH_OVERLOAD", "128,512");
    let mut urls = BTreeMap::new();
    for entry in spec.split(',') {
        let (name, base) = entry
            .split_once('=')
            .context("BENCH_TARGETS entries are name=url")?;
        urls.insert(name.to_string(), base.trim_end_matches('/').to_string());
    }
    let food = connect(
        "food-mcp",
        urls.get("food-mcp").context("a food-mcp target")?,
    )
    .await?;
    let catalog = Case::new(
        "food-mcp get_nutrition catalog",
        &food,
        get_nutrition("173944", "usda"),
        "133.5",
    )
    .await?;
    let mut cases = Vec::new();
    let anchor = match urls.get("ts-seed") {
        Some(url) => {
            let ts = connect("ts-seed", url).await?;
            Some(
                Case::new(
                    "ts-seed get_nutrition",
                    &ts,
                    get_nutrition("173944", "usda"),
                    "133.5",
                )
                .await?,
            )
        }
        None => None,
    };
    cases.extend(anchor.clone());
    cases.push(catalog.clone());
    let saved = save_banana(&food).await?;
    cases.push(
        Case::new(
            "food-mcp get_nutrition saved",
            &food,
            get_nutrition(&saved, "custom"),
            "133.5",
        )
        .await?,
    );
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    cases.push(Case::new("food-mcp tools/list", &food, list, "get_nutrition").await?);
    // The MCP framing and the bearer check alone: since tools/list carries ten tools' schemas
    // (tens of kilobytes), it is no longer the floor of what a call costs.
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    cases.push(Case::new("food-mcp ping", &food, ping, "\"result\"").await?);
    if let Some(url) = urls.get("floor") {
        let floor = Target {
            name: "floor".into(),
            mcp: format!("{url}/mcp"),
            token: String::new(),
            session: None,
        };
        cases.push(Case::new("axum floor", &floor, json!({}), "133.5").await?);
    }
    // BENCH_CASES: only the cases whose label holds one of these words (to profile one path).
    if let Ok(only) = std::env::var("BENCH_CASES") {
        cases.retain(|case| only.split(',').any(|word| case.label.contains(word.trim())));
    }
    let means = rounds(&cases, rounds_n, requests, concurrency).await?;
    let mean = |label: &str| {
        cases
            .iter()
            .position(|c| c.label == label)
            .map(|i| means[i])
    };
    let catalog_rps = mean(&catalog.label).unwrap_or(0.0);
    for (other, what) in [
        (
            "ts-seed get_nutrition",
            "catalog get_nutrition / the TypeScript anchor",
        ),
        (
            "food-mcp tools/list",
            "catalog get_nutrition / food-mcp tools/list",
        ),
        ("food-mcp ping", "catalog get_nutrition / food-mcp ping"),
        (
            "food-mcp get_nutrition saved",
            "catalog get_nutrition / saved-food get_nutrition",
        ),
        ("axum floor", "catalog get_nutrition / the axum floor"),
    ] {
        if let Some(rps) = mean(other) {
            println!("ratio {what}: {:.2}", catalog_rps / rps);
        }
    }
    for c in overload {
        let heavy: Vec<Case> = anchor.iter().cloned().chain([catalog.clone()]).collect();
        rounds(&heavy, rounds_n, requests, c).await?;
    }
    Ok(())
}
