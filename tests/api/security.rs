//! The security hardening of issue 11, one regression test per hole: client addresses behind a
//! trusted proxy, password guessing (concurrent, distributed, one-time codes), the CSRF token's
//! life, argon2's memory, no redirect before trust, display-safe names, Origin on /mcp, grant
//! types, and 404/405 without a bearer challenge.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::MockServer;

use crate::helpers::TestApp;
use crate::oauth::{
    Browser, PASSWORD, REDIRECT, authorize_url, code_for, pkce, query_param, raw_call, register,
    register_public, spawn_auth_app, token, tokens_for_new_client,
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

/// A fresh public client registered with `metadata`'s fields; answers its id.
async fn register_with(app: &TestApp, metadata: serde_json::Value) -> String {
    let answer = register(app, metadata).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let body: serde_json::Value = answer.json().await.unwrap();
    body["client_id"].as_str().unwrap().to_string()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_unapproved_client_gets_its_errors_as_a_page_not_a_redirect() {
    let app = spawn_auth_app(|_| {}).await;
    // Anyone may register a client with any https redirect URI: the phishing set-up of the issue.
    let phisher = register_with(
        &app,
        json!({"redirect_uris": ["https://evil.example/phish"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let url = app.url(&format!("/authorize?client_id={phisher}&response_type=x"));
    let answer = no_redirects().get(url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());
    let page = answer.text().await.unwrap();
    assert!(page.contains("unsupported_response_type"), "{page}");
    assert!(
        !page.contains("evil.example"),
        "the page links nowhere: {page}"
    );

    // A client the owner approved (it holds tokens) is told its errors the OAuth way.
    let (client_id, _) = tokens_for_new_client(&app).await;
    let url = format!(
        "{}&response_type=x",
        authorize_url(&app, &client_id, Some(&pkce().challenge), Some("S256"))
            .replace("response_type=code&", "")
    );
    let answer = no_redirects().get(url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("unsupported_response_type")
    );
    app.stop().await;
}

/// A `tools/list` with a bearer token and, when given, an `Origin` header; answers the status.
async fn list_tools_from(app: &TestApp, token: &str, origin: Option<&str>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn mcp_accepts_only_its_own_and_configured_origins() {
    let app = spawn_auth_app(|c| {
        c.mcp.allowed_origins = vec!["https://inspector.example.com".parse().unwrap()];
    })
    .await;
    let (_, tokens) = tokens_for_new_client(&app).await;
    let token = tokens["access_token"].as_str().unwrap();
    let port = app.addr.port();
    let own = app.url("");
    let localhost = format!("http://localhost:{port}");
    for allowed in [
        None,
        Some(own.as_str()),
        Some(localhost.as_str()),
        Some("https://inspector.example.com"),
    ] {
        assert_eq!(
            list_tools_from(&app, token, allowed).await,
            StatusCode::OK,
            "{allowed:?}"
        );
    }
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1));
    for refused in [
        "https://evil.example",
        "null",
        other_port.as_str(),
        "http://inspector.example.com",
    ] {
        assert_eq!(
            list_tools_from(&app, token, Some(refused)).await,
            StatusCode::FORBIDDEN,
            "{refused}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn refresh_tokens_go_only_to_clients_that_registered_the_grant() {
    let app = spawn_auth_app(|_| {}).await;
    // RFC 7591 §2: no grant_types means authorization_code alone.
    let client_id = register_with(
        &app,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let (code, verifier) = code_for(&app, &client_id).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, issued) = token(&app, &form).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert!(issued["access_token"].is_string());
    assert!(issued.get("refresh_token").is_none(), "{issued}");
    let (status, refused) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id.as_str()),
            ("refresh_token", "anything"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "unauthorized_client", "{refused}");

    // What Claude Code, the SDKs and rmcp register (both grants) still gets one.
    let (_, issued) = tokens_for_new_client(&app).await;
    assert!(issued["refresh_token"].is_string(), "{issued}");
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_without_a_bearer_challenge() {
    let app = spawn_auth_app(|_| {}).await;
    let http = reqwest::Client::new();
    for (method, path, status) in [
        (reqwest::Method::GET, "/nope", StatusCode::NOT_FOUND),
        (reqwest::Method::POST, "/admin", StatusCode::NOT_FOUND),
        (reqwest::Method::GET, "/.env", StatusCode::NOT_FOUND),
        (
            reqwest::Method::OPTIONS,
            "/mcp",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (reqwest::Method::PUT, "/mcp", StatusCode::METHOD_NOT_ALLOWED),
        (
            reqwest::Method::DELETE,
            "/mcp",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            reqwest::Method::GET,
            "/token",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            reqwest::Method::POST,
            "/health",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let answer = http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{method} {path}");
        assert!(
            answer.headers().get("www-authenticate").is_none(),
            "{method} {path}: no bearer challenge"
        );
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(answer.headers().contains_key("allow"), "{method} {path}");
        }
    }
    // /mcp itself still asks for a token.
    let (status, challenge, _) = raw_call(&app, None, "search_food", json!({"query": "x"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    app.stop().await;
}

#[tokio::test]
async fn the_home_page_says_what_this_is_and_where_mcp_is() {
    let app = spawn_auth_app(|_| {}).await;
    let home = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let csp = home.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("style-src 'sha256-") && !csp.contains("unsafe-inline"));
    let page = home.text().await.unwrap();
    assert!(page.contains(&app.url("/mcp")), "{page}");
    assert!(page.contains("href=\"/README.md\""), "{page}");
    let readme = reqwest::get(app.url("/README.md")).await.unwrap();
    assert_eq!(readme.status(), StatusCode::OK);
    assert!(readme.text().await.unwrap().starts_with("# food-mcp"));
    app.stop().await;
}

#[tokio::test]
async fn names_with_format_characters_are_refused_and_user_text_is_isolated() {
    let app = spawn_auth_app(|_| {}).await;
    for name in [
        "Claude Code \u{202E}moc.elgoog\u{202C}",
        "Safe\u{200B}App",
        "\u{2067}isolated\u{2069}",
    ] {
        let answer = register(
            &app,
            json!({"client_name": name, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{name:?}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    }
    // A right-to-left name is fine, but sits in <bdi>; a non-ASCII host is shown as punycode.
    let client_id = register_with(
        &app,
        json!({"client_name": "تطبيق", "redirect_uris": ["https://bücher.example/cb"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let url = authorize_url(&app, &client_id, Some(&pkce().challenge), Some("S256")).replace(
        &url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize("https://bücher.example/cb".as_bytes())
            .collect::<String>(),
    );
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<bdi>تطبيق</bdi>"), "{html}");
    assert!(
        html.contains("<code dir=\"ltr\">https://xn--bcher-kva.example</code>"),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_metadata_document_with_a_bidi_name_is_refused() {
    let docs = MockServer::start().await;
    let client_id = format!("{}/client.json", docs.uri());
    wiremock::Mock::given(wiremock::matchers::path("/client.json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "client_id": client_id, "client_name": "Docs \u{202E}lapyap", "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none"
        })))
        .mount(&docs)
        .await;
    let app = spawn_auth_app(|c| c.auth.cimd.allow_loopback = true).await;
    let url = authorize_url(&app, &client_id, Some(&pkce().challenge), Some("S256"));
    let answer = no_redirects().get(url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());
    assert!(answer.text().await.unwrap().contains("U+202E"));
    app.stop().await;
}
