//! The MCP clients people use, each with the registration (or client metadata document) it
//! sends, through consent to its first token: Claude Code, Cursor (a private-use scheme beside
//! a loopback URI), VS Code (a metadata document, loopback on its fixed or any port), the
//! claude.ai / Claude Desktop and ChatGPT connectors (https callbacks, `iss`, `resource`), the
//! TypeScript and Python SDKs and rmcp (what scripts/sdk-clients and rmcp register).

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::helpers::TestApp;
use crate::oauth::{Browser, pkce, query_param, register, spawn_auth_app, token};

/// One client's connection: the URI it registered and the one it presents (loopback clients may
/// listen on another port), and what the consent page must name as the destination.
struct Connect<'a> {
    client_id: &'a str,
    secret: Option<&'a str>,
    presented: &'a str,
    shown: &'a str,
    /// ChatGPT sends RFC 8707 `resource` on both requests.
    resource: bool,
}

/// Consent with the owner's password, then the token request; answers the token response.
async fn connect(app: &TestApp, c: Connect<'_>) -> Value {
    let pkce = pkce();
    let resource = app.url("/mcp");
    let mut url = url::Url::parse(&app.url("/authorize")).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", c.client_id)
            .append_pair("redirect_uri", c.presented)
            .append_pair("state", "st-1")
            .append_pair("scope", "food:read food:write")
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if c.resource {
            q.append_pair("resource", &resource);
        }
    }
    let browser = Browser::new();
    let page = browser.http.get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{}", c.client_id);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("<code dir=\"ltr\">{}</code>", c.shown)),
        "the page names {}: {html}",
        c.shown
    );
    let scheme = c.presented.split(':').next().unwrap();
    if !matches!(scheme, "http" | "https") {
        assert!(
            csp.contains(&format!("form-action 'self' {scheme}:")),
            "{csp}"
        );
    }
    let callback = browser.approve(&app.url(""), url.as_str()).await;
    assert!(
        callback.starts_with(&format!("{}?", c.presented)),
        "{callback}"
    );
    assert_eq!(query_param(&callback, "state").as_deref(), Some("st-1"));
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(app.url("").as_str())
    );
    let code = query_param(&callback, "code").unwrap();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", c.presented),
        ("client_id", c.client_id),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    if let Some(secret) = c.secret {
        form.push(("client_secret", secret));
    }
    if c.resource {
        form.push(("resource", resource.as_str()));
    }
    let (status, issued) = token(app, &form).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert!(issued["access_token"].is_string());
    issued
}

/// Registers `metadata`; answers the client id and secret (if it got one).
async fn registered(app: &TestApp, metadata: Value) -> (String, Option<String>) {
    let answer = register(app, metadata.clone()).await;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{metadata} → {body}");
    (
        body["client_id"].as_str().unwrap().to_string(),
        body["client_secret"].as_str().map(str::to_string),
    )
}

#[tokio::test]
async fn claude_code_registers_loopback_and_may_come_back_on_another_port() {
    let app = spawn_auth_app(|_| {}).await;
    let (id, _) = registered(
        &app,
        json!({
            "client_name": "Claude Code (food)",
            "redirect_uris": ["http://localhost:54212/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        }),
    )
    .await;
    let issued = connect(
        &app,
        Connect {
            client_id: &id,
            secret: None,
            presented: "http://localhost:61001/callback",
            shown: "http://localhost:61001",
            resource: false,
        },
    )
    .await;
    assert!(issued["refresh_token"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn cursor_registers_a_private_use_scheme_beside_a_loopback_uri() {
    let app = spawn_auth_app(|_| {}).await;
    let (id, _) = registered(
        &app,
        json!({
            "client_name": "Cursor",
            "redirect_uris": [
                "cursor://anysphere.cursor-mcp/oauth/callback",
                "http://127.0.0.1:41733/oauth/callback"
            ],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        }),
    )
    .await;
    connect(
        &app,
        Connect {
            client_id: &id,
            secret: None,
            presented: "cursor://anysphere.cursor-mcp/oauth/callback",
            shown: "cursor://anysphere.cursor-mcp",
            resource: false,
        },
    )
    .await;
    // RFC 8252 §7.1's reverse-DNS form, and the schemes that are never an app's, at registration.
    registered(
        &app,
        json!({"redirect_uris": ["com.example.app:/oauth2redirect"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    for bad in [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "blob:https://evil.example/1",
        "about:blank",
        "http://evil.example/cb",
    ] {
        let answer = register(
            &app,
            json!({"redirect_uris": [bad], "token_endpoint_auth_method": "none"}),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "invalid_redirect_uri", "{bad}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn vs_code_comes_with_a_client_metadata_document() {
    let docs = MockServer::start().await;
    // vscode.dev's document, served locally (loopback allowed for the test only).
    let client_id = format!("{}/oauth/client-metadata.json", docs.uri());
    wiremock::Mock::given(wiremock::matchers::path("/oauth/client-metadata.json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "client_id": client_id,
            "client_name": "Visual Studio Code",
            "client_uri": "https://code.visualstudio.com",
            "redirect_uris": ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native"
        })))
        .mount(&docs)
        .await;
    let app = spawn_auth_app(|c| c.auth.cimd.allow_loopback = true).await;
    for (presented, shown) in [
        ("http://127.0.0.1:33418/", "http://127.0.0.1:33418"),
        ("http://127.0.0.1:50123/", "http://127.0.0.1:50123"),
        ("https://vscode.dev/redirect", "https://vscode.dev"),
    ] {
        connect(
            &app,
            Connect {
                client_id: &client_id,
                secret: None,
                presented,
                shown,
                resource: false,
            },
        )
        .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn claude_ai_and_claude_desktop_connectors_use_https_callbacks() {
    let app = spawn_auth_app(|_| {}).await;
    for callback in [
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
    ] {
        let (id, secret) = registered(
            &app,
            json!({
                "client_name": "Claude",
                "redirect_uris": [callback],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post"
            }),
        )
        .await;
        let secret = secret.expect("a confidential client gets a secret");
        let shown = callback.trim_end_matches("/api/mcp/auth_callback");
        connect(
            &app,
            Connect {
                client_id: &id,
                secret: Some(&secret),
                presented: callback,
                shown,
                resource: false,
            },
        )
        .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn chatgpt_connectors_get_iss_and_their_resource() {
    let app = spawn_auth_app(|_| {}).await;
    let (id, _) = registered(
        &app,
        json!({
            "client_name": "ChatGPT",
            "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        }),
    )
    .await;
    connect(
        &app,
        Connect {
            client_id: &id,
            secret: None,
            presented: "https://chatgpt.com/connector_platform_oauth_redirect",
            shown: "https://chatgpt.com",
            resource: true,
        },
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn the_sdk_clients_register_what_they_use() {
    let app = spawn_auth_app(|_| {}).await;
    // scripts/sdk-clients/ts-client.mjs and py_client.py, and rmcp's `register_client`: loopback,
    // both grants, public.
    for name in [
        "food-mcp sdk-clients (TypeScript SDK 1.x)",
        "food-mcp sdk-clients (Python SDK 1.x)",
        "rmcp",
    ] {
        let (id, _) = registered(
            &app,
            json!({
                "client_name": name,
                "redirect_uris": ["http://127.0.0.1:20417/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none"
            }),
        )
        .await;
        let issued = connect(
            &app,
            Connect {
                client_id: &id,
                secret: None,
                presented: "http://127.0.0.1:20417/callback",
                shown: "http://127.0.0.1:20417",
                resource: false,
            },
        )
        .await;
        assert!(issued["refresh_token"].is_string(), "{name}");
    }
    app.stop().await;
}
