//! `spawn_app()` and the request helpers every integration test uses.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use food_mcp::{actors::supervisor::Roster, app::App, config::Config};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::{RoleClient, RunningService},
    transport::StreamableHttpClientTransport,
};
use serde_json::Value;
use tempfile::TempDir;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use wiremock::MockServer;

pub type Client = RunningService<RoleClient, ()>;

/// A running server with its own database folder and mock USDA / Open Food Facts upstreams.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `GET /metrics` is served (its own listener, as `metrics.bind` gives in production).
    pub metrics_addr: SocketAddr,
    pub usda: MockServer,
    pub off: MockServer,
    pub db_dir: TempDir,
    /// The supervised actors, to kill one.
    pub actors: Roster,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Log lines, captured: a `MakeWriter` for `telemetry::subscriber` (clone it into the closure).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// A subscriber writing this buffer: text lines, `food_mcp=debug`, no colours, no export.
    /// Set it as the thread's default in a single-threaded test runtime to see the server's lines.
    pub fn subscriber(&self) -> tracing::Dispatch {
        let settings = food_mcp::telemetry::Settings {
            format: food_mcp::telemetry::LogFormat::Text,
            log_filter: "food_mcp=debug".into(),
            export: food_mcp::telemetry::Export::Off,
            ansi: false,
        };
        let writer = self.clone();
        let (dispatch, _telemetry) =
            food_mcp::telemetry::subscriber(&settings, move || writer.clone()).expect("subscriber");
        dispatch
    }
}

/// Reads a recorded upstream response from `tests/fixtures/`.
pub fn fixture(path: &str) -> Value {
    let full: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", path]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_app_with(
        dir,
        MockServer::start().await,
        MockServer::start().await,
        |_| {},
    )
    .await
}

/// Starts the server on an existing database folder and mocks (for restart tests), with a hook
/// to adjust the configuration.
pub async fn spawn_app_with(
    db_dir: TempDir,
    usda: MockServer,
    off: MockServer,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let any_port = "127.0.0.1:0".parse().expect("address");
    spawn_app_on(any_port, db_dir, usda, off, adjust).await
}

/// Like [`spawn_app_with`], on a given address (a restart that keeps its port keeps its public
/// URL, and so its resource identifier).
pub async fn spawn_app_on(
    address: SocketAddr,
    db_dir: TempDir,
    usda: MockServer,
    off: MockServer,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("food_mcp=debug")
            .try_init();
    }
    let listener = TcpListener::bind(address).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut config = Config::defaults();
    config.bind = addr;
    config.public_url = format!("http://{addr}").parse().expect("url");
    config.database_path = db_dir.path().join("food-mcp.db");
    config.usda.base_url = usda.uri().parse().expect("url");
    config.usda.api_key = "test-usda-key".into();
    config.usda.timeout = Duration::from_secs(2);
    config.openfoodfacts.base_url = off.uri().parse().expect("url");
    config.openfoodfacts.timeout = Duration::from_secs(2);
    // Tool tests talk to /mcp directly; the OAuth tests turn auth back on.
    config.auth.enabled = false;
    // Tests never reach the internet: the first-run import tests point it at a mock.
    config.catalog.auto_import = false;
    adjust(&mut config);
    let app = App::build(config).await.expect("app builds");
    let metrics_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let metrics_addr = metrics_listener.local_addr().expect("address");
    let metrics = app.metrics_router();
    let actors = app.actors();
    tokio::spawn(async move { axum::serve(metrics_listener, metrics).await });
    let (shutdown, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async move {
        let _ = signal.await;
    }));
    TestApp {
        addr,
        metrics_addr,
        usda,
        off,
        db_dir,
        actors,
        shutdown,
        task,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An MCP client connected to `/mcp` (initialize done).
    pub async fn client(&self) -> Client {
        let transport = StreamableHttpClientTransport::from_uri(self.url("/mcp"));
        ().serve(transport).await.expect("MCP client connects")
    }

    /// Waits for the server to stop on its own (no shutdown signal) and answers how it ended.
    pub async fn exited(self) -> anyhow::Result<()> {
        self.task.await.expect("server task")
    }

    /// Stops the server gracefully and hands back its database folder and mocks.
    pub async fn stop(self) -> (TempDir, MockServer, MockServer) {
        let _ = self.shutdown.send(());
        self.task
            .await
            .expect("server task")
            .expect("server stops cleanly");
        (self.db_dir, self.usda, self.off)
    }
}

/// Calls a tool and returns the result (error results included).
pub async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("tool arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool} call failed at the protocol level: {e}"))
}

/// The structured content of a successful call.
pub async fn call_ok(client: &Client, tool: &'static str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {}",
        text_of(&result)
    );
    result
        .structured_content
        .clone()
        .expect("structured content")
}

/// The message of an `isError` result.
pub async fn call_err(client: &Client, tool: &'static str, args: Value) -> String {
    let result = call(client, tool, args).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} should fail, got {:?}",
        result.structured_content
    );
    text_of(&result)
}

pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts two numbers agree to 1e-6.
pub fn assert_close(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is not a number"));
    assert!((actual - expected).abs() < 1e-6, "{actual} != {expected}");
}

/// The server binary, running on a fresh port on the database in a folder.
pub struct Served {
    pub child: Child,
    pub base: String,
}

impl Served {
    /// Sends SIGTERM, what `docker stop` and systemd send.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit, at most `bound`; answers its exit status.
    pub async fn exit_status(&mut self, bound: Duration) -> ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if started.elapsed() > bound {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the server did not exit within {bound:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The binary as an operator command on the database in `dir`, OAuth off, upstreams closed,
/// no catalog import, no metrics listener; `FOOD_MCP…` variables of the test's own environment
/// removed.
pub fn binary(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_food-mcp"));
    for (name, _) in std::env::vars() {
        if name.starts_with("FOOD_MCP") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir)
        .env("FOOD_MCP__DATABASE_PATH", dir.join("food-mcp.db"))
        .env("FOOD_MCP__USDA__BASE_URL", "http://127.0.0.1:9")
        .env("FOOD_MCP__OPENFOODFACTS__BASE_URL", "http://127.0.0.1:9")
        .env("FOOD_MCP__METRICS__BIND", "")
        .env("FOOD_MCP__AUTH__ENABLED", "false")
        .env("FOOD_MCP__CATALOG__AUTO_IMPORT", "false")
        .stdin(Stdio::null());
    command
}

/// The server binary on a fresh port, on the database in `dir`; see [`binary`].
pub async fn serve_binary(dir: &Path) -> Served {
    serve_binary_with(dir, |_| {}).await
}

/// Like [`serve_binary`], with a hook to set more of its environment. Its log goes to
/// `server.log` in `dir` (appended, so a restart keeps the earlier lines).
pub async fn serve_binary_with(dir: &Path, adjust: impl FnOnce(&mut Command)) -> Served {
    // The kernel picks a free port; it is released and handed to the server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    serve_binary_on(dir, port, adjust).await
}

/// Like [`serve_binary_with`], on a given port (a restart that keeps its public URL).
pub async fn serve_binary_on(dir: &Path, port: u16, adjust: impl FnOnce(&mut Command)) -> Served {
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let mut command = binary(dir);
    command
        .env("FOOD_MCP__BIND", format!("127.0.0.1:{port}"))
        .env("FOOD_MCP__PUBLIC_URL", &base)
        .stdout(Stdio::null())
        .stderr(log);
    adjust(&mut command);
    let mut child = command.spawn().expect("the server binary starts");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(answer) = http.get(format!("{base}/health")).send().await
            && answer.status().is_success()
        {
            return Served { child, base };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "the server binary never answered /health: {}",
        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
    );
}

/// A bare stateless tools/call: the HTTP status and the JSON-RPC body, or the transport error
/// (refused, reset) as text.
pub async fn raw_tool_call(
    http: &reqwest::Client,
    base: &str,
    tool: &str,
    args: Value,
) -> Result<(reqwest::StatusCode, Value), String> {
    let answer = http
        .post(format!("{base}/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}}))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = answer.status();
    let body = answer.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// The structured content of a successful bare tools/call, or None when it failed in any way
/// (connection refused, HTTP error, tool error).
pub async fn raw_tool(
    http: &reqwest::Client,
    base: &str,
    tool: &str,
    args: Value,
) -> Option<Value> {
    let (status, body) = raw_tool_call(http, base, tool, args).await.ok()?;
    let result = body.get("result").filter(|_| status.is_success())?;
    (result["isError"] != serde_json::json!(true)).then(|| result["structuredContent"].clone())
}
