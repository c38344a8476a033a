//! OAuth end to end: rmcp's OAuth client through discovery, registration, the consent form,
//! token, tools, refresh and revocation; then the rules one by one, each with its RFC error.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use food_mcp::config::{Config, ConsentMode};
use oauth2::TokenResponse;
use reqwest::{StatusCode, header};
use rmcp::{
    ServiceExt,
    transport::{
        StreamableHttpClientTransport,
        auth::{AuthClient, AuthorizationRequest, OAuthState},
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::MockServer;

use crate::helpers::{TestApp, call_ok, spawn_app_on, spawn_app_with};

pub(crate) const PASSWORD: &str = "correct horse battery";
pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A server with OAuth on, the owner's password set before it starts.
pub(crate) async fn spawn_auth_app(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    set_password(&dir).await;
    let (usda, off) = (MockServer::start().await, MockServer::start().await);
    spawn_app_with(dir, usda, off, |c| {
        c.auth.enabled = true;
        c.auth.consent = ConsentMode::Password;
        adjust(c);
    })
    .await
}

pub(crate) async fn set_password(dir: &tempfile::TempDir) {
    let pool = food_mcp::storage::open(&dir.path().join("food-mcp.db"))
        .await
        .unwrap();
    let owner = food_mcp::http::owner::OwnerPassword::new(
        food_mcp::storage::owner::OwnerRepo::new(pool.clone()),
        food_mcp::clock::Clock::system(),
    );
    owner.set(PASSWORD).await.unwrap();
    pool.close().await;
}

/// Plays the owner's browser: opens the consent page, submits the form, returns where the
/// server redirected to. Keeps cookies like a browser; never follows the redirect.
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
}

impl Browser {
    pub(crate) fn new() -> Browser {
        Browser::with_headers(header::HeaderMap::new())
    }

    /// A browser whose requests reach the server through a trusted proxy that names `client`
    /// in `X-Forwarded-For`.
    pub(crate) fn behind_proxy(client: &str) -> Browser {
        let mut headers = header::HeaderMap::new();
        headers.insert("x-forwarded-for", client.parse().unwrap());
        Browser::with_headers(headers)
    }

    fn with_headers(headers: header::HeaderMap) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        Browser { http }
    }

    /// The consent page's form fields.
    pub(crate) async fn open(&self, url: &str) -> Vec<(String, String)> {
        let page = self.http.get(url).send().await.unwrap();
        assert_eq!(page.status(), 200, "consent page");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        assert!(
            page.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        hidden_inputs(&page.text().await.unwrap())
    }

    pub(crate) async fn submit(
        &self,
        base: &str,
        fields: &[(String, String)],
        password: &str,
        decision: &str,
    ) -> reqwest::Response {
        let mut form = fields.to_vec();
        form.push(("password".into(), password.into()));
        form.push(("decision".into(), decision.into()));
        self.http
            .post(format!("{base}/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Approves with the right password and returns the redirect's URL.
    pub(crate) async fn approve(&self, base: &str, url: &str) -> String {
        let fields = self.open(url).await;
        let answer = self.submit(base, &fields, PASSWORD, "approve").await;
        assert_eq!(
            answer.status(),
            StatusCode::FOUND,
            "{}",
            answer.text().await.unwrap()
        );
        answer.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string()
    }
}

/// `<input type="hidden" name="…" value="…">` pairs of a page we rendered ourselves.
pub(crate) fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tail| {
            let name = tail.strip_prefix("name=\"")?.split('"').next()?;
            let value = tail.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), unescape_html(value)))
        })
        .collect()
}

/// Undoes the page's HTML escaping (askama writes numeric references: `&#34;` for `"`).
fn unescape_html(text: &str) -> String {
    [
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&#60;", "<"),
        ("&#62;", ">"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
    ]
    .iter()
    .fold(text.to_string(), |text, (from, to)| text.replace(from, to))
    // Last, so that an escaped reference (`&#38;#34;`) is not decoded twice.
    .replace("&#38;", "&")
    .replace("&amp;", "&")
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// rmcp's OAuth client, authorized through the consent page.
pub(crate) async fn authorize_with_rmcp(
    app: &TestApp,
    scopes: &[&str],
) -> rmcp::transport::auth::AuthorizationManager {
    let base = app.url("");
    let mut oauth = OAuthState::new(app.url("/mcp"), None).await.unwrap();
    let request = AuthorizationRequest::new(REDIRECT)
        .with_client_name("food-mcp integration test")
        .with_scopes(scopes.iter().copied());
    oauth.start_authorization(request).await.unwrap();
    let url = oauth.get_authorization_url().await.unwrap();
    let browser = Browser::new();

    // A wrong password shows the form again, with 401 and no redirect.
    let fields = browser.open(&url).await;
    let wrong = browser
        .submit(&base, &fields, "not the password", "approve")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("Wrong password"));

    let callback = browser.approve(&base, &url).await;
    assert!(callback.starts_with(REDIRECT), "{callback}");
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(base.as_str()),
        "RFC 9207 iss"
    );
    oauth.handle_callback_url(&callback).await.unwrap();
    oauth.into_authorization_manager().expect("authorized")
}

async fn mcp_client(
    app: &TestApp,
    manager: rmcp::transport::auth::AuthorizationManager,
) -> crate::helpers::Client {
    let auth_client = AuthClient::new(reqwest_013::Client::new(), manager);
    let transport = StreamableHttpClientTransport::with_client(
        auth_client,
        StreamableHttpClientTransportConfig::with_uri(app.url("/mcp")),
    );
    ().serve(transport)
        .await
        .expect("authorized MCP client connects")
}

pub(crate) async fn tokens_of(
    manager: &rmcp::transport::auth::AuthorizationManager,
) -> (String, String, String) {
    let (client_id, response) = manager.get_credentials().await.unwrap();
    let response = response.expect("tokens");
    let refresh = response
        .refresh_token()
        .expect("a refresh token")
        .secret()
        .clone();
    (client_id, response.access_token().secret().clone(), refresh)
}

/// A raw tools/call with a bearer token; answers the status and the WWW-Authenticate header.
pub(crate) async fn raw_call(
    app: &TestApp,
    token: Option<&str>,
    tool: &str,
    args: Value,
) -> (StatusCode, String, Value) {
    let mut request = reqwest::Client::new()
        .post(app.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

pub(crate) fn oats() -> Value {
    json!({ "name": "Overnight oats", "servingSize": { "amount": 250, "unit": "g" }, "nutrients": { "calories": 350, "protein_g": 15 } })
}

#[tokio::test]
async fn rmcp_oauth_client_completes_the_whole_flow() {
    let app = spawn_auth_app(|_| {}).await;

    // Unauthenticated: 401 pointing at the protected-resource metadata, no error code.
    let (status, challenge, _) = raw_call(&app, None, "search_food", json!({"query": "x"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let metadata_url = app.url("/.well-known/oauth-protected-resource/mcp");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"food:read food:write\"") && !challenge.contains("error="),
        "{challenge}"
    );

    let manager = authorize_with_rmcp(&app, &[]).await;
    let (client_id, access, refresh) = tokens_of(&manager).await;

    // Refresh through the client's own code: a new pair, and the new one works.
    let refreshed = manager.refresh_token().await.unwrap();
    let new_access = refreshed.access_token().secret().clone();
    assert_ne!(new_access, access);
    assert_ne!(refreshed.refresh_token().unwrap().secret(), &refresh);

    let client = mcp_client(&app, manager).await;
    assert_eq!(client.list_all_tools().await.unwrap().len(), 10);
    let saved = call_ok(&client, "save_food", oats()).await;
    let eaten = call_ok(
        &client,
        "get_nutrition",
        json!({"foodId": saved["id"], "source": "custom", "amount": 125, "unit": "g"}),
    )
    .await;
    assert_eq!(eaten["nutrients"]["calories"]["value"], 175.0);
    let found = call_ok(
        &client,
        "search_food",
        json!({"query": "oats", "source": "custom"}),
    )
    .await;
    assert_eq!(found["results"][0]["id"], saved["id"]);
    let meal = call_ok(
        &client,
        "calculate_meal",
        json!({"items": [{"foodId": saved["id"], "source": "custom", "amount": 250, "unit": "g"}]}),
    )
    .await;
    assert_eq!(meal["totals"]["calories"]["value"], 350.0);
    client.cancel().await.unwrap();

    // Revoking the current refresh token revokes its grant: the access token stops working.
    let latest_refresh = refreshed.refresh_token().unwrap().secret().clone();
    let revoked = reqwest::Client::new()
        .post(app.url("/revoke"))
        .form(&[
            ("token", latest_refresh.as_str()),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (status, challenge, _) = raw_call(
        &app,
        Some(&new_access),
        "search_food",
        json!({"query": "oats", "source": "custom"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    app.stop().await;
}

#[tokio::test]
async fn clients_and_tokens_survive_a_restart_but_not_a_new_resource() {
    let app = spawn_auth_app(|_| {}).await;
    let manager = authorize_with_rmcp(&app, &[]).await;
    let (_, access, _) = tokens_of(&manager).await;
    let addr = app.addr;
    let (dir, usda, off) = app.stop().await;

    let enable = |c: &mut Config| {
        c.auth.enabled = true;
    };
    let app = spawn_app_on(addr, dir, usda, off, enable).await;
    let (status, _, body) = raw_call(&app, Some(&access), "save_food", oats()).await;
    assert_eq!(status, 200, "{body}");
    let refreshed = manager
        .refresh_token()
        .await
        .expect("the refresh token survived too");
    assert!(!refreshed.access_token().secret().is_empty());
    let (dir, usda, off) = app.stop().await;

    // The same database served under another URL is another resource (RFC 8707 audience).
    let app = spawn_app_with(dir, usda, off, enable).await;
    let (status, challenge, _) = raw_call(
        &app,
        Some(refreshed.access_token().secret()),
        "save_food",
        oats(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("another resource"), "{challenge}");
    app.stop().await;
}

#[tokio::test]
async fn a_read_only_token_cannot_save_food() {
    let app = spawn_auth_app(|_| {}).await;
    let manager = authorize_with_rmcp(&app, &["food:read"]).await;
    let (_, access, _) = tokens_of(&manager).await;
    let (status, challenge, _) = raw_call(&app, Some(&access), "save_food", oats()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"food:write\""),
        "{challenge}"
    );
    let (status, _, body) = raw_call(
        &app,
        Some(&access),
        "search_food",
        json!({"query": "oats", "source": "custom"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Headers that name another method, or a batch that hides save_food, change nothing.
    let save = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "save_food", "arguments": oats()}});
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    for (body, headers) in [
        (save.clone(), vec![("Mcp-Method", "tools/list")]),
        (
            save.clone(),
            vec![("Mcp-Method", "tools/call"), ("Mcp-Name", "search_food")],
        ),
        (json!([list, save]), vec![]),
    ] {
        let mut request = reqwest::Client::new()
            .post(app.url("/mcp"))
            .bearer_auth(&access)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-06-18")
            .json(&body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_auth_app(|c| c.auth.access_token_ttl = Duration::ZERO).await;
    let manager = authorize_with_rmcp(&app, &[]).await;
    let (_, access, _) = tokens_of(&manager).await;
    let (status, challenge, _) =
        raw_call(&app, Some(&access), "search_food", json!({"query": "x"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.contains("error=\"invalid_token\"") && challenge.contains("expired"),
        "{challenge}"
    );
    app.stop().await;
}

#[tokio::test]
async fn discovery_documents_describe_this_server() {
    let app = spawn_auth_app(|_| {}).await;
    let base = app.url("");
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let prm: Value = reqwest::get(app.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(prm["resource"], format!("{base}/mcp"));
        assert_eq!(prm["authorization_servers"], json!([base]));
        assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    }
    let asm: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asm["issuer"], base);
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(asm["authorization_response_iss_parameter_supported"], true);
    assert_eq!(asm["client_id_metadata_document_supported"], true);
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
    ] {
        assert!(asm[key].as_str().unwrap().starts_with(&base), "{key}");
    }
    assert!(
        asm["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    app.stop().await;
}

// ---- The rules, one by one, with a hand-driven client ----

pub(crate) struct Pkce {
    pub(crate) verifier: String,
    pub(crate) challenge: String,
}

pub(crate) fn pkce() -> Pkce {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let digest = Sha256::digest(format!("{seed}{:p}", &bytes).as_bytes());
    bytes.copy_from_slice(&digest);
    bytes
}

pub(crate) async fn register(app: &TestApp, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn register_public(app: &TestApp) -> String {
    let answer = register(app, json!({"client_name": "rules", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]})).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body.get("client_secret").is_none(),
        "public clients get no secret"
    );
    assert!(
        body.as_object().unwrap().values().all(|v| !v.is_null()),
        "no null fields: {body}"
    );
    body["client_id"].as_str().unwrap().to_string()
}

pub(crate) fn authorize_url(
    app: &TestApp,
    client_id: &str,
    challenge: Option<&str>,
    method: Option<&str>,
) -> String {
    let mut url = url::Url::parse(&app.url("/authorize")).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", "s1");
        if let Some(challenge) = challenge {
            q.append_pair("code_challenge", challenge);
        }
        if let Some(method) = method {
            q.append_pair("code_challenge_method", method);
        }
    }
    url.to_string()
}

/// Runs the consent for a fresh PKCE pair and returns (code, verifier).
pub(crate) async fn code_for(app: &TestApp, client_id: &str) -> (String, String) {
    let pkce = pkce();
    let url = authorize_url(app, client_id, Some(&pkce.challenge), Some("S256"));
    let callback = Browser::new().approve(&app.url(""), &url).await;
    assert_eq!(query_param(&callback, "state").as_deref(), Some("s1"));
    (query_param(&callback, "code").unwrap(), pkce.verifier)
}

/// Registers a public client and runs the code flow by hand; answers its id and the token response.
pub(crate) async fn tokens_for_new_client(app: &TestApp) -> (String, Value) {
    let client_id = register_public(app).await;
    let (code, verifier) = code_for(app, &client_id).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, tokens) = token(app, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    (client_id, tokens)
}

pub(crate) async fn token(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(app.url("/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn assert_oauth_error(got: (StatusCode, Value), status: StatusCode, error: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], error, "{}", got.1);
    assert!(got.1["error_description"].is_string(), "{}", got.1);
}

#[tokio::test]
async fn authorize_never_redirects_to_an_unknown_client_or_unregistered_uri() {
    let app = spawn_auth_app(|_| {}).await;
    let client_id = register_public(&app).await;
    let pkce = pkce();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let unknown = http
        .get(authorize_url(
            &app,
            "no-such-client",
            Some(&pkce.challenge),
            Some("S256"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert!(unknown.headers().get(header::LOCATION).is_none());
    let other = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"))
        .replace("127.0.0.1%3A9", "evil.example.com");
    let mismatched = http.get(other).send().await.unwrap();
    assert_eq!(mismatched.status(), 400);
    assert!(mismatched.headers().get(header::LOCATION).is_none());

    // A loopback redirect on another port is the same client (RFC 8252 §7.3).
    let other_port = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"))
        .replace("127.0.0.1%3A9", "127.0.0.1%3A55123");
    assert_eq!(http.get(other_port).send().await.unwrap().status(), 200);

    // Problems with a registered redirect, from a client the owner never approved, are shown as
    // a page: anyone can register a client (RFC 9700 §4.11.2, no open redirector).
    let malformed = [
        (None, Some("S256")),
        (Some(pkce.verifier.as_str()), Some("plain")),
        (Some(pkce.challenge.as_str()), None),
    ];
    for (challenge, method) in malformed {
        let answer = http
            .get(authorize_url(&app, &client_id, challenge, method))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.headers().get(header::LOCATION).is_none());
        assert!(answer.text().await.unwrap().contains("invalid_request"));
    }

    // Once the owner approved the client (it holds tokens), they go back to it as OAuth errors.
    let (code, verifier) = code_for(&app, &client_id).await;
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    assert_eq!(token(&app, &redeem).await.0, StatusCode::OK);
    for (challenge, method) in malformed {
        let answer = http
            .get(authorize_url(&app, &client_id, challenge, method))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FOUND);
        let location = answer.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some("invalid_request"),
            "{location}"
        );
        assert_eq!(query_param(&location, "state").as_deref(), Some("s1"));
    }
    let wrong_resource = format!(
        "{}&resource=https%3A%2F%2Fother.example%2Fmcp",
        authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"))
    );
    let answer = http.get(wrong_resource).send().await.unwrap();
    let location = answer.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_target")
    );

    // Deny sends access_denied back.
    let browser = Browser::new();
    let fields = browser
        .open(&authorize_url(
            &app,
            &client_id,
            Some(&pkce.challenge),
            Some("S256"),
        ))
        .await;
    let denied = browser.submit(&app.url(""), &fields, "", "deny").await;
    let location = denied.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );

    // A form posted without the browser's cookie (a cross-site post) is refused.
    let forged = reqwest::Client::new()
        .post(app.url("/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn opening_the_consent_page_twice_keeps_the_first_form_valid() {
    let app = spawn_auth_app(|_| {}).await;
    let client_id = register_public(&app).await;
    let pkce = pkce();
    let url = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"));
    let browser = Browser::new();
    let first = browser.open(&url).await;
    let _second = browser.open(&url).await;
    let answer = browser
        .submit(&app.url(""), &first, PASSWORD, "approve")
        .await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    app.stop().await;
}

#[tokio::test]
async fn token_endpoint_rules_each_have_their_error() {
    let app = spawn_auth_app(|_| {}).await;
    let client_id = register_public(&app).await;
    let other_client = register_public(&app).await;

    // A wrong verifier, then another client, are refused without using the code up.
    let (code, verifier) = code_for(&app, &client_id).await;
    let wrong = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let with = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        base.iter()
            .chain(extra)
            .map(|(k, v)| (*k, v.to_string()))
            .collect()
    };
    let send = |form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(app, &form).await
        }
    };
    assert_oauth_error(
        send(with(&[
            ("client_id", &client_id),
            ("code_verifier", &wrong),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert_oauth_error(
        send(with(&[
            ("client_id", &other_client),
            ("code_verifier", &verifier),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert_oauth_error(
        send(with(&[
            ("client_id", "no-such-client"),
            ("code_verifier", &verifier),
        ]))
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    assert_oauth_error(
        send(with(&[
            ("client_id", &client_id),
            ("code_verifier", &verifier),
            ("resource", "https://other.example/mcp"),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_target",
    );

    // The right redemption works once; a replay is refused and revokes what the code issued.
    let (status, issued) = send(with(&[
        ("client_id", &client_id),
        ("code_verifier", &verifier),
    ]))
    .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["token_type"], "Bearer");
    assert_eq!(issued["scope"], "food:read food:write");
    let access = issued["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        raw_call(&app, Some(&access), "save_food", oats()).await.0,
        200
    );
    assert_oauth_error(
        send(with(&[
            ("client_id", &client_id),
            ("code_verifier", &verifier),
        ]))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert_eq!(
        raw_call(&app, Some(&access), "save_food", oats()).await.0,
        StatusCode::UNAUTHORIZED,
        "replay revoked the grant"
    );

    assert_oauth_error(
        token(
            &app,
            &[("grant_type", "password"), ("client_id", &client_id)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        token(&app, &[("client_id", &client_id)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let json_body = reqwest::Client::new()
        .post(app.url("/token"))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(
        (json_body.status(), json_body.json().await.unwrap()),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let huge = "x".repeat(64 * 1024);
    assert_oauth_error(
        token(
            &app,
            &[("grant_type", "authorization_code"), ("code", &huge)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let refresh = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", "not-a-token"),
        ],
    )
    .await;
    assert_oauth_error(refresh, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = spawn_auth_app(|c| c.auth.code_ttl = Duration::ZERO).await;
    let client_id = register_public(&app).await;
    let (code, verifier) = code_for(&app, &client_id).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    assert_oauth_error(
        token(&app, &form).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    app.stop().await;
}

#[tokio::test]
async fn confidential_clients_authenticate_with_basic_or_post() {
    let app = spawn_auth_app(|_| {}).await;
    let answer = register(&app, json!({"client_name": "web", "redirect_uris": ["https://app.example.com/cb", REDIRECT], "token_endpoint_auth_method": "client_secret_basic", "grant_types": ["authorization_code", "refresh_token"]})).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let registered: Value = answer.json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_string();
    let secret = registered["client_secret"]
        .as_str()
        .expect("confidential clients get a secret")
        .to_string();
    assert_eq!(registered["client_secret_expires_at"], 0);

    let (code, verifier) = code_for(&app, &client_id).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let wrong = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&client_id, Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let right = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let issued: Value = right.json().await.unwrap();

    // It registered client_secret_basic: the secret in the body is not accepted instead.
    let refresh = issued["refresh_token"].as_str().unwrap();
    let posted = [
        ("token", refresh),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let refused = reqwest::Client::new()
        .post(app.url("/revoke"))
        .form(&posted)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let revoke = reqwest::Client::new()
        .post(app.url("/revoke"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let reuse = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let after = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&reuse)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::BAD_REQUEST,
        "a revoked refresh token is dead"
    );

    // A client_secret_post client authenticates with the secret in the body.
    let answer = register(
        &app,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await;
    let registered: Value = answer.json().await.unwrap();
    let (post_id, post_secret) = (
        registered["client_id"].as_str().unwrap().to_string(),
        registered["client_secret"].as_str().unwrap().to_string(),
    );
    let (code, verifier) = code_for(&app, &post_id).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
        ("client_id", post_id.as_str()),
        ("client_secret", post_secret.as_str()),
    ];
    assert_eq!(token(&app, &form).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn registration_is_validated_and_bounded() {
    let app = spawn_auth_app(|c| c.auth.register_per_minute = 4).await;
    let bad_json = reqwest::Client::new()
        .post(app.url("/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_oauth_error(
        (bad_json.status(), bad_json.json().await.unwrap()),
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
    );
    let plain_http = register(
        &app,
        json!({"redirect_uris": ["http://evil.example.com/cb"]}),
    )
    .await;
    assert_oauth_error(
        (plain_http.status(), plain_http.json().await.unwrap()),
        StatusCode::BAD_REQUEST,
        "invalid_redirect_uri",
    );
    let many: Vec<String> = (0..50).map(|i| format!("http://127.0.0.1/cb{i}")).collect();
    let too_many = register(&app, json!({"redirect_uris": many})).await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    let huge = register(
        &app,
        json!({"redirect_uris": [REDIRECT], "client_name": "x".repeat(100_000)}),
    )
    .await;
    assert_oauth_error(
        (huge.status(), huge.json().await.unwrap()),
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
    );
    let limited = register(&app, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    let body: Value = limited.json().await.unwrap();
    assert!(body["error"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_lock_the_address_out() {
    let app = spawn_auth_app(|c| c.auth.max_password_failures = 2).await;
    let client_id = register_public(&app).await;
    let pkce = pkce();
    let url = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"));
    let browser = Browser::new();
    let fields = browser.open(&url).await;
    assert_eq!(
        browser
            .submit(&app.url(""), &fields, "wrong-1", "approve")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser
            .submit(&app.url(""), &fields, "wrong-2", "approve")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let locked = browser
        .submit(&app.url(""), &fields, PASSWORD, "approve")
        .await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the lockout"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_id_metadata_document_stands_in_for_registration() {
    let docs = MockServer::start().await;
    let client_id = format!("{}/client.json", docs.uri());
    wiremock::Mock::given(wiremock::matchers::path("/client.json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "client_id": client_id, "client_name": "Doc Client", "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none"
        })))
        .mount(&docs)
        .await;
    let app = spawn_auth_app(|c| c.auth.cimd.allow_loopback = true).await;
    let pkce = pkce();
    let url = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"));
    let page = Browser::new()
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Doc Client"),
        "the consent page names the document's client"
    );
    let (code, verifier) = code_for(&app, &client_id).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, issued) = token(&app, &form).await;
    assert_eq!(status, 200, "{issued}");
    app.stop().await;
}

#[tokio::test]
async fn a_client_with_one_redirect_uri_may_leave_it_out() {
    let app = spawn_auth_app(|_| {}).await;
    let client_id = register_public(&app).await;
    let pkce = pkce();
    let url = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256")).replace(
        &format!(
            "&redirect_uri={}",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ),
        "",
    );
    assert!(!url.contains("redirect_uri"), "{url}");
    let callback = Browser::new().approve(&app.url(""), &url).await;
    assert!(
        callback.starts_with(REDIRECT),
        "the registered URI is used: {callback}"
    );
    let code = query_param(&callback, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let (status, body) = token(&app, &form).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}
