//! The plain HTTP surface: /health, /mcp transport rules, Host validation.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_json_with_database_status() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(
        body["actors"],
        json!({ "food_cache": "running", "diary": "running" })
    );
    app.stop().await;
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "raw-http", "version": "0" }
        }
    })
}

#[tokio::test]
async fn mcp_is_stateless_json_and_names_food_mcp() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .post(app.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("mcp-session-id").is_none(),
        "stateless: no session"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "food-mcp");
    assert_eq!(
        body["result"]["serverInfo"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");

    // A tools/list with no session id works on its own: nothing is kept between requests.
    let list = reqwest::Client::new()
        .post(app.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let body: Value = list.json().await.unwrap();
    assert_eq!(body["result"]["tools"].as_array().unwrap().len(), 10);
    app.stop().await;
}

#[tokio::test]
async fn a_foreign_host_header_is_refused() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .post(app.url("/mcp"))
        .header("Host", "evil.example.com")
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn another_loopback_spelling_of_the_public_host_is_accepted() {
    let app = spawn_app().await;
    let port = app.addr.port();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let response = reqwest::Client::new()
            .post(app.url("/mcp"))
            .header("Host", host.as_str())
            .header("Accept", "application/json, text/event-stream")
            .json(&initialize())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{host}");
    }
    let other_port = reqwest::Client::new()
        .post(app.url("/mcp"))
        .header("Host", format!("127.0.0.1:{}", port.wrapping_add(1)))
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(other_port.status(), 403);
    app.stop().await;
}
