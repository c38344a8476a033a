//! Actors under supervision, through the real server: a killed actor is restarted and answers
//! again; one that is down makes `/health`, the OAuth endpoints, `/mcp` and the tools answer
//! "unavailable" at once; one that keeps stopping stops the server with an error naming it.

use ractor::{ActorCell, ActorStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, call_err, spawn_app};
use crate::oauth::{
    Browser, REDIRECT, authorize_url, oats, pkce, query_param, raw_call, spawn_auth_app, token,
    tokens_for_new_client,
};

const OAUTH_ACTORS: [&str; 3] = ["client_registry", "auth_codes", "token_store"];

async fn health(app: &TestApp) -> (StatusCode, Value) {
    let response = reqwest::get(app.url("/health")).await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn running(app: &TestApp, name: &str) -> ActorCell {
    app.actors
        .cell(name)
        .unwrap_or_else(|| panic!("no actor {name}"))
}

/// Kills the actor and waits until the supervisor has started a new one.
async fn kill_and_await_restart(app: &TestApp, name: &str) {
    let killed = running(app, name);
    killed.kill_and_wait(None).await.unwrap();
    for _ in 0..1000 {
        let now = running(app, name);
        if now.get_id() != killed.get_id() && now.get_status() == ActorStatus::Running {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{name} was not restarted");
}

/// Takes the actor out of its supervisor's care and kills it: it stays down.
async fn take_down(app: &TestApp, name: &str) {
    let cell = running(app, name);
    cell.unlink(cell.try_get_supervisor().expect("supervised"));
    cell.kill_and_wait(None).await.unwrap();
}

#[tokio::test]
async fn every_killed_actor_is_restarted_and_answers_again() {
    let app = spawn_auth_app(|_| {}).await;
    let (client_id, tokens) = tokens_for_new_client(&app).await;
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["actors"],
        json!({ "food_cache": "running", "diary": "running", "client_registry": "running", "auth_codes": "running", "token_store": "running" })
    );

    for name in ["food_cache", "diary"].into_iter().chain(OAUTH_ACTORS) {
        kill_and_await_restart(&app, name).await;
    }

    // The token store came back from storage: the token issued before still works, and the
    // food cache behind the tool answers.
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = raw_call(&app, Some(access), "save_food", oats()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"]["isError"], json!(false), "{body}");
    // The diary came back with its goals from storage.
    let (status, _, body) = raw_call(&app, Some(access), "get_goals", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"]["isError"], json!(false), "{body}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client_id.as_str()),
    ];
    let (status, refreshed) = token(&app, &form).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    // Registration, consent and code redemption answer too.
    tokens_for_new_client(&app).await;
    assert_eq!(health(&app).await.0, StatusCode::OK);
    let metrics = reqwest::get(format!("http://{}/metrics", app.metrics_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"actor_restarts_total{actor="token_store"}"#),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_oauth_actor_that_is_down_makes_its_endpoints_answer_503_at_once() {
    let app = spawn_auth_app(|_| {}).await;
    let (client_id, tokens) = tokens_for_new_client(&app).await;
    let access = tokens["access_token"].as_str().unwrap();

    // Codes down: the client is known, so the consent redirects with the RFC 6749 error.
    take_down(&app, "auth_codes").await;
    let pkce = pkce();
    let url = authorize_url(&app, &client_id, Some(&pkce.challenge), Some("S256"));
    let callback = Browser::new().approve(&app.url(""), &url).await;
    assert_eq!(
        query_param(&callback, "error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(query_param(&callback, "state").as_deref(), Some("s1"));

    // Tokens down: /mcp is 503 without a challenge (the token is not at fault), /token and
    // /revoke answer the OAuth error.
    take_down(&app, "token_store").await;
    let (status, challenge, _) = raw_call(&app, Some(access), "save_food", oats()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(challenge, "");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client_id.as_str()),
    ];
    let (status, body) = token(&app, &form).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    let revoked = reqwest::Client::new()
        .post(app.url("/revoke"))
        .form(&[("token", access), ("client_id", client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(revoked.headers()["retry-after"], "1");

    // Registry down: registration answers the OAuth error, the consent page a 503 page.
    take_down(&app, "client_registry").await;
    let registered = reqwest::Client::new()
        .post(app.url("/register"))
        .json(&json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none" }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = registered.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("Try again shortly"));

    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "degraded");
    assert_eq!(
        body["actors"],
        json!({ "food_cache": "running", "diary": "running", "client_registry": "down", "auth_codes": "down", "token_store": "down" })
    );
    app.stop().await;
}

#[tokio::test]
async fn tools_say_so_when_the_food_cache_is_down() {
    let app = spawn_app().await;
    take_down(&app, "food_cache").await;
    let client = app.client().await;
    let message = call_err(
        &client,
        "get_nutrition",
        json!({ "foodId": "173944", "source": "usda", "amount": 100, "unit": "g" }),
    )
    .await;
    assert!(
        message.contains("the food cache is not answering; try again shortly"),
        "{message}"
    );
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["actors"]["food_cache"], "down");
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn an_actor_that_keeps_stopping_stops_the_server_with_an_error_naming_it() {
    let app = spawn_app().await;
    for _ in 0..3 {
        kill_and_await_restart(&app, "food_cache").await;
    }
    running(&app, "food_cache")
        .kill_and_wait(None)
        .await
        .unwrap();
    let err = app.exited().await.unwrap_err().to_string();
    assert!(
        err.contains("the food_cache actor stopped 4 times"),
        "{err}"
    );
}
