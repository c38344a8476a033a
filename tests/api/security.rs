//! The security hardening of issue 11, one regression test per hole: client addresses behind a
//! trusted proxy, password guessing (concurrent, distributed, one-time codes), the CSRF token's
//! life, argon2's memory, no redirect before trust, display-safe names, Origin on /mcp, grant
//! types, and 404/405 without a bearer challenge.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::oauth::{
    Browser, PASSWORD, REDIRECT, authorize_url, pkce, register_public, spawn_auth_app,
};

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

/// Issues a one-time consent code as `food-mcp owner one-time-code` does: straight into the
/// database the running server uses.
async fn one_time_code(app: &TestApp) -> String {
    let pool = food_mcp::storage::open(&app.db_dir.path().join("food-mcp.db"))
        .await
        .unwrap();
    let owner = food_mcp::http::owner::OwnerPassword::new(
        food_mcp::storage::owner::OwnerRepo::new(pool.clone()),
        food_mcp::clock::Clock::system(),
    );
    let code = owner.issue_one_time_code().await.unwrap();
    pool.close().await;
    code.expose().to_string()
}

/// A consent URL for a freshly registered public client.
async fn consent_url(app: &TestApp) -> String {
    let client_id = register_public(app).await;
    authorize_url(app, &client_id, Some(&pkce().challenge), Some("S256"))
}

#[tokio::test]
async fn simultaneous_wrong_guesses_cannot_outrun_the_lockout() {
    let app = spawn_auth_app(|c| c.auth.max_password_failures = 5).await;
    let url = consent_url(&app).await;
    let browser = Browser::new();
    let fields = browser.open(&url).await;
    let base = app.url("");
    let guesses = (0..12).map(|i| {
        let (browser, fields, base) = (&browser, &fields, &base);
        async move {
            browser
                .submit(base, fields, &format!("wrong-{i}"), "approve")
                .await
                .status()
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(
        checked, 4,
        "four wrong answers, the fifth locks: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{answers:?}"
    );
    let right = browser.submit(&base, &fields, PASSWORD, "approve").await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits out the lockout"
    );
    assert!(right.headers().contains_key("retry-after"));
    let page = right.text().await.unwrap();
    assert!(page.contains("food-mcp owner one-time-code"), "{page}");

    // The owner's way in from the server's shell: a one-time code, accepted while locked out.
    let code = one_time_code(&app).await;
    let approved = browser.submit(&base, &fields, &code, "approve").await;
    assert_eq!(approved.status(), StatusCode::FOUND);
    let again = browser.submit(&base, &fields, &code, "approve").await;
    assert_eq!(
        again.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a code works once; after that it is a (locked-out) password guess"
    );
    app.stop().await;
}

#[tokio::test]
async fn guesses_from_many_addresses_meet_a_server_wide_back_off() {
    let app = spawn_auth_app(|c| {
        c.proxy.trusted = vec!["127.0.0.1/32".parse().unwrap()];
        c.auth.max_password_failures = 5;
        c.auth.global_password_failures = 20;
        // Long enough that no step of the test can outlast it.
        c.auth.password_backoff = std::time::Duration::from_secs(3600);
        c.auth.max_password_backoff = std::time::Duration::from_secs(3600);
    })
    .await;
    let url = consent_url(&app).await;
    let base = app.url("");
    // 20 addresses × 4 guesses: none is locked out on its own.
    let mut checked = 0;
    let mut refused = 0;
    for address in 1..=20 {
        let browser = Browser::behind_proxy(&format!("198.51.100.{address}"));
        let fields = browser.open(&url).await;
        for guess in 0..4 {
            let answer = browser
                .submit(
                    &base,
                    &fields,
                    &format!("guess-{address}-{guess}"),
                    "approve",
                )
                .await;
            match answer.status() {
                StatusCode::UNAUTHORIZED => checked += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait: u64 = answer.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(wait > 3000, "the server-wide back-off: {wait}");
                    refused += 1;
                }
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(
        checked, 21,
        "the budget of 20, then one attempt per back-off"
    );
    assert_eq!(refused, 59);
    // The owner, from a fresh address, meets the back-off too — and gets in with a code.
    let owner = Browser::behind_proxy("203.0.113.77");
    let fields = owner.open(&url).await;
    let right = owner.submit(&base, &fields, PASSWORD, "approve").await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let code = one_time_code(&app).await;
    let approved = owner.submit(&base, &fields, &code, "approve").await;
    assert_eq!(approved.status(), StatusCode::FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_consent_form_expires() {
    let app = spawn_auth_app(|c| c.auth.consent_form_ttl = std::time::Duration::ZERO).await;
    let url = consent_url(&app).await;
    let browser = Browser::new();
    let fields = browser.open(&url).await;
    let answer = browser
        .submit(&app.url(""), &fields, PASSWORD, "approve")
        .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(answer.text().await.unwrap().contains("expired"));
    app.stop().await;
}

#[tokio::test]
async fn a_consent_form_works_only_from_its_address_and_for_its_request() {
    let app = spawn_auth_app(|c| c.proxy.trusted = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let url = consent_url(&app).await;
    let browser = Browser::behind_proxy("198.51.100.1");
    let fields = browser.open(&url).await;
    let post = |fields: Vec<(String, String)>, client: &'static str| {
        let mut form = fields;
        form.push(("password".into(), PASSWORD.into()));
        form.push(("decision".into(), "approve".into()));
        let request = browser
            .http
            .post(app.url("/authorize"))
            .header("x-forwarded-for", client)
            .form(&form);
        async move { request.send().await.unwrap().status() }
    };
    // The cookie and the token, carried to another network: refused.
    assert_eq!(
        post(fields.clone(), "203.0.113.66").await,
        StatusCode::FORBIDDEN
    );
    // The token, moved to another request (another state): refused.
    let moved: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "state" => (k.clone(), "other".into()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    assert_eq!(post(moved, "198.51.100.1").await, StatusCode::FORBIDDEN);
    assert_eq!(post(fields, "198.51.100.1").await, StatusCode::FOUND);
    app.stop().await;
}
