//! The security hardening of issue 11, one regression test per hole: client addresses behind a
//! trusted proxy, password guessing (concurrent, distributed, one-time codes), the CSRF token's
//! life, argon2's memory, no redirect before trust, display-safe names, Origin on /mcp, grant
//! types, and 404/405 without a bearer challenge.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::oauth::{REDIRECT, spawn_auth_app};

/// Registers a public client as the proxy's client `forwarded_for`; answers the status.
async fn register_as(app: &TestApp, forwarded_for: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url("/register"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_trusted_proxy_gives_each_client_its_own_limits() {
    // The test client connects from 127.0.0.1: the trusted proxy.
    let app = spawn_auth_app(|c| {
        c.auth.register_per_minute = 1;
        c.proxy.trusted = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(register_as(&app, "198.51.100.1").await, StatusCode::CREATED);
    assert_eq!(
        register_as(&app, "198.51.100.2").await,
        StatusCode::CREATED,
        "another client behind the same proxy has its own allowance"
    );
    assert_eq!(
        register_as(&app, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client cannot forge its way to a fresh allowance: the proxy appends the real address.
    assert_eq!(
        register_as(&app, "203.0.113.50, 198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_auth_app(|c| c.auth.register_per_minute = 1).await;
    assert_eq!(register_as(&app, "198.51.100.1").await, StatusCode::CREATED);
    assert_eq!(
        register_as(&app, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "no proxy is trusted: the socket peer is the client"
    );
    app.stop().await;
}
