//! The server's lifecycle: SIGTERM drains in-flight requests (the real binary, a slow upstream), a
//! half-sent request holds neither a connection nor a shutdown, connections past the cap are
//! refused while `/health` answers under it, a refresh retried inside the grace after a SIGKILL,
//! and a database file that is moved away or made read-only.

use std::{os::unix::fs::MetadataExt, path::Path, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{
    Client, call_err, call_ok, fixture, raw_tool, raw_tool_call, serve_binary_on,
    serve_binary_with, spawn_app, spawn_app_on, spawn_app_with,
};
use crate::oauth::{set_password, tokens_for_new_client};

/// Concurrent calls in flight when the SIGTERM arrives.
const IN_FLIGHT: usize = 16;

#[tokio::test]
async fn sigterm_under_concurrent_load_fails_no_in_flight_request_and_exits_zero() {
    let usda = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/foods/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("usda/foods-search-banana.json"))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&usda)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve_binary_with(dir.path(), |server| {
        server.env("FOOD_MCP__USDA__BASE_URL", usda.uri());
    })
    .await;
    let http = reqwest::Client::new();
    let calls: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let (http, base) = (http.clone(), served.base.clone());
            // A query each, so each call makes its own upstream request.
            let args = json!({ "query": format!("banana {i}"), "source": "usda" });
            tokio::spawn(async move { raw_tool_call(&http, &base, "search_food", args).await })
        })
        .collect();
    // Each call is inside its handler once the upstream has its request.
    for _ in 0..300 {
        if usda.received_requests().await.unwrap().len() >= IN_FLIGHT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(usda.received_requests().await.unwrap().len() >= IN_FLIGHT);

    served.terminate();
    let mut failed = Vec::new();
    for call in calls {
        match call.await.unwrap() {
            Ok((StatusCode::OK, body)) if body["result"]["isError"] != json!(true) => {}
            other => failed.push(format!("{other:?}")),
        }
    }
    let status = served.exit_status(Duration::from_secs(30)).await;
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(
        failed.is_empty(),
        "{} of {IN_FLIGHT} in-flight calls failed: {failed:?}\n{log}",
        failed.len()
    );
    assert!(status.success(), "exit status {status}\n{log}");
    assert!(log.contains("every in-flight request finished"), "{log}");
    // Nothing listens any more.
    assert!(
        http.get(format!("{}/health", served.base))
            .send()
            .await
            .is_err()
    );
}

/// Half a request head, as a stuck or slowloris client sends it.
async fn half_sent(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        .await
        .unwrap();
    stream
}

/// Reads until the server closes the connection (at most 20 s); answers what it sent.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer));
    match read.await {
        Ok(Ok(_)) | Ok(Err(_)) => String::from_utf8_lossy(&answer).into_owned(),
        Err(_) => panic!("the server kept the connection open"),
    }
}

#[tokio::test]
async fn a_stuck_half_sent_request_does_not_hold_shutdown_past_the_drain_deadline() {
    let app = spawn_app_with(
        tempfile::tempdir().unwrap(),
        MockServer::start().await,
        MockServer::start().await,
        |c| {
            c.http.drain_timeout = Duration::from_millis(500);
            // Only the drain deadline can end it.
            c.http.header_read_timeout = Duration::from_secs(600);
        },
    )
    .await;
    let mut stuck = half_sent(app.addr).await;
    // Connections are accepted in order: once a later one is answered, the stuck one is open.
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    let stopped = tokio::time::timeout(Duration::from_secs(20), app.stop()).await;
    assert!(stopped.is_ok(), "shutdown waited on the stuck client");
    until_closed(&mut stuck).await;
}

#[tokio::test]
async fn a_half_sent_request_is_cut_off_after_the_header_read_timeout() {
    let app = spawn_app_with(
        tempfile::tempdir().unwrap(),
        MockServer::start().await,
        MockServer::start().await,
        |c| c.http.header_read_timeout = Duration::from_millis(300),
    )
    .await;
    let mut stuck = half_sent(app.addr).await;
    until_closed(&mut stuck).await;
    app.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_while_health_answers_under_it() {
    let app = spawn_app_with(
        tempfile::tempdir().unwrap(),
        MockServer::start().await,
        MockServer::start().await,
        |c| c.http.max_connections = 4,
    )
    .await;
    // One keep-alive connection that answered, and three held by half-sent requests: the cap.
    let under = reqwest::Client::new();
    let health = under.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(half_sent(app.addr).await);
    }

    let refused = reqwest::Client::new()
        .get(app.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(refused.headers()["connection"], "close");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_connections");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("4 connections open"),
        "{body}"
    );

    // The connection under the cap keeps answering.
    for _ in 0..3 {
        let health = under.get(app.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
    // A held connection that goes away makes room.
    drop(held.pop());
    let mut admitted = false;
    for _ in 0..100 {
        let answer = reqwest::Client::new()
            .get(app.url("/health"))
            .send()
            .await
            .unwrap();
        if answer.status() == StatusCode::OK {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted, "a freed slot was never reused");
    drop(held);
    app.stop().await;
}

/// A refresh-token grant at `base`; answers the status and the token response.
async fn refresh(base: &str, client_id: &str, refresh_token: &str) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_refresh_retried_inside_the_grace_after_sigkill_gets_the_same_working_successor() {
    let dir = tempfile::tempdir().unwrap();
    set_password(&dir).await;
    // Registration and consent in process, on the port the binary serves next (same public URL,
    // same resource).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}").parse().unwrap();
    let app = spawn_app_on(
        address,
        dir,
        MockServer::start().await,
        MockServer::start().await,
        |c| c.auth.enabled = true,
    )
    .await;
    let (client_id, first) = tokens_for_new_client(&app).await;
    let (dir, _, _) = app.stop().await;
    let with_auth = |server: &mut std::process::Command| {
        server.env("FOOD_MCP__AUTH__ENABLED", "true");
    };

    let mut served = serve_binary_on(dir.path(), port, with_auth).await;
    let old = first["refresh_token"].as_str().unwrap();
    let (status, successor) = refresh(&served.base, &client_id, old).await;
    assert_eq!(status, StatusCode::OK, "{successor}");
    served.child.kill().expect("SIGKILL");
    served.child.wait().unwrap();

    // The client never saw that answer and retries, inside the 60 s grace.
    let mut served = serve_binary_on(dir.path(), port, with_auth).await;
    let (status, again) = refresh(&served.base, &client_id, old).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["refresh_token"], successor["refresh_token"]);
    assert_eq!(again["access_token"], successor["access_token"]);

    let access = again["access_token"].as_str().unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{}/mcp", served.base))
        .bearer_auth(access)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_goals", "arguments": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    assert_ne!(body["result"]["isError"], json!(true), "{body}");
    // The grant goes on: the successor rotates in turn.
    let next = successor["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&served.base, &client_id, next).await.0,
        StatusCode::OK
    );
    served.terminate();
    assert!(served.exit_status(Duration::from_secs(30)).await.success());
}

fn food(name: &str) -> Value {
    json!({ "name": name, "servingSize": { "amount": 100, "unit": "g" }, "nutrients": { "calories": 350 } })
}

async fn saved_names(client: &Client, query: &str) -> Vec<String> {
    let found = call_ok(
        client,
        "search_food",
        json!({ "query": query, "source": "custom" }),
    )
    .await;
    found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

async fn readiness(url: &str) -> (StatusCode, Value) {
    let answer = reqwest::get(url).await.unwrap();
    (answer.status(), answer.json().await.unwrap())
}

#[tokio::test]
async fn a_database_moved_away_fails_readiness_and_refuses_saves_and_loses_nothing_acknowledged() {
    let app = spawn_app().await;
    let client = app.client().await;
    call_ok(&client, "save_food", food("Oats")).await;
    assert_eq!(readiness(&app.url("/health/ready")).await.0, StatusCode::OK);

    let database = app.db_dir.path().join("food-mcp.db");
    let aside = app.db_dir.path().join("aside.db");
    std::fs::rename(&database, &aside).unwrap();
    let (status, body) = readiness(&app.url("/health/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["database"].as_str().unwrap().contains("is gone"),
        "{body}"
    );
    let refused = call_err(&client, "save_food", food("Rye")).await;
    assert!(refused.contains("could not save"), "{refused}");

    // Put back: the same file again, writable again.
    std::fs::rename(&aside, &database).unwrap();
    assert_eq!(readiness(&app.url("/health/ready")).await.0, StatusCode::OK);
    call_ok(&client, "save_food", food("Barley")).await;
    client.cancel().await.unwrap();

    let (dir, usda, off) = app.stop().await;
    let app = spawn_app_with(dir, usda, off, |_| {}).await;
    let client = app.client().await;
    assert_eq!(saved_names(&client, "Oats").await, ["Oats"]);
    assert_eq!(saved_names(&client, "Barley").await, ["Barley"]);
    assert!(
        saved_names(&client, "Rye").await.is_empty(),
        "refused, so not stored"
    );
    client.cancel().await.unwrap();
    app.stop().await;
}

/// Permissions bind root only on a read-only mount, so as root the server runs as `nobody`
/// for this test, on a folder it owns.
fn as_unprivileged(dir: &Path, server: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    const NOBODY: u32 = 65534;
    if std::fs::metadata(dir).unwrap().uid() == 0 {
        std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
        server.uid(NOBODY).gid(NOBODY);
    }
}

fn set_mode(file: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn a_read_only_database_fails_readiness_and_refuses_saves_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve_binary_with(dir.path(), |s| as_unprivileged(dir.path(), s)).await;
    let http = reqwest::Client::new();
    let save = |name: &str| raw_tool(&http, &served.base, "save_food", food(name));
    assert!(save("Oats").await.is_some());
    let ready = format!("{}/health/ready", served.base);
    assert_eq!(readiness(&ready).await.0, StatusCode::OK);

    let database = dir.path().join("food-mcp.db");
    set_mode(&database, 0o444);
    let (status, body) = readiness(&ready).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["database"].as_str().unwrap().contains("read-only"),
        "{body}"
    );
    let (status, refused) = raw_tool_call(&http, &served.base, "save_food", food("Rye"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(refused["result"]["isError"], json!(true), "{refused}");

    set_mode(&database, 0o644);
    assert_eq!(readiness(&ready).await.0, StatusCode::OK);
    assert!(save("Barley").await.is_some());
    served.child.kill().expect("SIGKILL");
    served.child.wait().unwrap();

    let mut served = serve_binary_with(dir.path(), |s| as_unprivileged(dir.path(), s)).await;
    let found = |query: &'static str| {
        let (http, base) = (http.clone(), served.base.clone());
        async move {
            let args = json!({ "query": query, "source": "custom" });
            let results = raw_tool(&http, &base, "search_food", args).await.unwrap();
            results["results"].as_array().unwrap().len()
        }
    };
    assert_eq!(found("Oats").await, 1);
    assert_eq!(found("Barley").await, 1);
    assert_eq!(found("Rye").await, 0, "refused, so not stored");
    served.terminate();
    assert!(served.exit_status(Duration::from_secs(30)).await.success());
}
