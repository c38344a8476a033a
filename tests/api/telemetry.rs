//! Observability: the spans of one authenticated `tools/call`, received by an in-process OTLP/HTTP
//! collector, form one tree HTTP → tool → actor → storage with the documented attributes, and no
//! secret reaches a span or a log line; `GET /metrics` reports requests, tools, actors and tokens.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, routing::post};
use food_mcp::telemetry::{self, Export, LogFormat, Settings};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{AnyValue, KeyValue, any_value},
    trace::v1::Span,
};
use prost::Message;
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::TcpListener;
use wiremock::{Mock, ResponseTemplate, matchers::any};

use crate::helpers::{Logs, call_ok, spawn_app};
use crate::oauth::{
    PASSWORD, REDIRECT, code_for, oats, raw_call, register_public, spawn_auth_app, token,
    tokens_for_new_client,
};

/// What the collector received: spans, and the resource attributes they came with.
#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    resource: Vec<KeyValue>,
}

type Collector = Arc<Mutex<Received>>;

/// An OTLP/HTTP trace receiver on 127.0.0.1:0; answers the URL to export to.
async fn start_collector() -> (String, Collector) {
    async fn receive(State(received): State<Collector>, body: Bytes) -> StatusCode {
        let size = body.len();
        let Ok(request) = ExportTraceServiceRequest::decode(body) else {
            eprintln!("collector: undecodable export of {size} bytes");
            return StatusCode::BAD_REQUEST;
        };
        let mut received = received.lock().unwrap();
        for resource_spans in request.resource_spans {
            if let Some(resource) = resource_spans.resource {
                received.resource = resource.attributes;
            }
            for scope in resource_spans.scope_spans {
                received.spans.extend(scope.spans);
            }
        }
        StatusCode::OK
    }
    let received = Collector::default();
    let app = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(received.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(n)) => n.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attributes(span: &Span) -> HashMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

/// Every string a span carries: name, attributes, events and their attributes, status.
fn strings_of(span: &Span) -> Vec<String> {
    let mut all = vec![span.name.clone()];
    for kv in &span.attributes {
        all.push(format!("{}={}", kv.key, text(&kv.value)));
    }
    for event in &span.events {
        all.push(event.name.clone());
        for kv in &event.attributes {
            all.push(format!("{}={}", kv.key, text(&kv.value)));
        }
    }
    if let Some(status) = &span.status {
        all.push(status.message.clone());
    }
    all
}

fn find<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn child_of<'a>(spans: &'a [Span], parent: &Span, name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name && s.parent_span_id == parent.span_id)
        .unwrap_or_else(|| {
            let names: Vec<_> = spans
                .iter()
                .filter(|s| s.parent_span_id == parent.span_id)
                .map(|s| s.name.as_str())
                .collect();
            panic!("no {name} under {}; its children: {names:?}", parent.name)
        })
}

#[tokio::test]
async fn one_tools_call_is_one_trace_from_http_through_the_actors_to_storage() {
    let (endpoint, collector) = start_collector().await;
    let logs = Logs::default();
    let writer = logs.clone();
    let settings = Settings {
        format: LogFormat::Json,
        log_filter: "food_mcp=debug".into(),
        export: Export::To(endpoint),
        ansi: false,
    };
    let (subscriber, telemetry) =
        telemetry::subscriber(&settings, move || writer.clone()).expect("subscriber");
    // This test's runtime is single-threaded: the server, the actors and the collector all run
    // on this thread, so a thread-local default subscriber sees every span.
    let _default = tracing::dispatcher::set_default(&subscriber);

    let app = spawn_auth_app(|_| {}).await;
    let client_id = register_public(&app).await;
    let (code, verifier) = code_for(&app, &client_id).await;
    let (status, tokens) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let (status, _, body) = raw_call(&app, Some(&access), "save_food", oats()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["result"]["isError"], true, "{body}");

    // The batch exporter sends on flush; spans of the request may end a moment after the reply.
    let mut spans = Vec::new();
    for _ in 0..40 {
        telemetry.flush().await;
        spans = collector.lock().unwrap().spans.clone();
        if [
            "storage.put_custom",
            "POST /mcp",
            "oauth.token",
            "POST /token",
        ]
        .iter()
        .all(|name| !find(&spans, name).is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // HTTP → tool → actor → storage, one trace.
    let tool = *find(&spans, "tools/call save_food")
        .first()
        .unwrap_or_else(|| {
            panic!(
                "no tool span in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    let http = spans
        .iter()
        .find(|s| s.span_id == tool.parent_span_id)
        .expect("the tool span's parent was exported");
    assert_eq!(http.name, "POST /mcp");
    let http_attributes = attributes(http);
    assert_eq!(http_attributes["http.request.method"], "POST");
    assert_eq!(http_attributes["http.route"], "/mcp");
    assert_eq!(http_attributes["http.response.status_code"], "200");
    assert!(http.parent_span_id.is_empty(), "the HTTP span is the root");

    let tool_attributes = attributes(tool);
    assert_eq!(tool_attributes["mcp.tool.name"], "save_food");
    assert_eq!(
        tool_attributes["oauth.client_id"], client_id,
        "the principal reaches the tool"
    );
    assert_eq!(tool_attributes["mcp.tool.is_error"], "false");

    // save_food may look the food up first; the save is its own message.
    let actor = spans
        .iter()
        .find(|s| {
            s.name == "actor.food_cache"
                && s.parent_span_id == tool.span_id
                && attributes(s)["message.kind"] == "SaveCustom"
        })
        .expect("a SaveCustom message under the tool span");
    let actor_attributes = attributes(actor);
    assert_eq!(actor_attributes["actor"], "food_cache");
    assert_eq!(actor_attributes["message.kind"], "SaveCustom");
    assert!(actor_attributes.contains_key("mailbox.waited_us"));
    assert!(actor_attributes.contains_key("handled_us"));

    let storage = child_of(&spans, actor, "storage.put_custom");
    let storage_attributes = attributes(storage);
    assert_eq!(storage_attributes["db.system"], "sqlite");
    assert_eq!(storage_attributes["db.operation"], "UPSERT");

    // The bearer check is the token store's, under the same request.
    let verify = child_of(&spans, http, "actor.token_store");
    assert_eq!(attributes(verify)["message.kind"], "Verify");
    for span in [tool, actor, storage, verify] {
        assert_eq!(
            span.trace_id, http.trace_id,
            "{} in the same trace",
            span.name
        );
    }

    // The token endpoint says what happened, without the secrets.
    let token_span = *find(&spans, "oauth.token").first().unwrap_or_else(|| {
        panic!(
            "no oauth.token in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    });
    let token_attributes = attributes(token_span);
    assert_eq!(token_attributes["oauth.grant_type"], "authorization_code");
    assert_eq!(token_attributes["oauth.client_id"], client_id);
    assert_eq!(token_attributes["oauth.outcome"], "issued");
    let token_http = spans
        .iter()
        .find(|s| s.span_id == token_span.parent_span_id)
        .expect("oauth.token's parent");
    assert_eq!(token_http.name, "POST /token");

    let resource: HashMap<String, String> = collector
        .lock()
        .unwrap()
        .resource
        .iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect();
    assert_eq!(resource["service.name"], "food-mcp");
    assert_eq!(resource["service.version"], env!("CARGO_PKG_VERSION"));

    // Log lines carry their trace id.
    let log_text = logs.text();
    let trace_id = hex::encode(&http.trace_id);
    let answered = log_text
        .lines()
        .find(|line| line.contains("POST /mcp answered"))
        .expect("a log line for the request");
    let answered: serde_json::Value = serde_json::from_str(answered).expect("a JSON log line");
    assert_eq!(answered["trace_id"], trace_id.as_str());

    // No secret anywhere: not in span names, attributes or events, not in a log line.
    let secrets = [
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("authorization code", code.as_str()),
        ("PKCE verifier", verifier.as_str()),
        ("owner password", PASSWORD),
        ("USDA API key", "test-usda-key"),
    ];
    let span_strings: Vec<String> = spans.iter().flat_map(strings_of).collect();
    for (what, secret) in secrets {
        assert!(
            !span_strings.iter().any(|s| s.contains(secret)),
            "the {what} appears in a span"
        );
        assert!(
            !log_text.contains(secret),
            "the {what} appears in a log line"
        );
    }
    app.stop().await;
    telemetry.shutdown().await;
}

#[tokio::test]
async fn metrics_count_requests_tools_actors_cache_upstreams_and_tokens() {
    let app = spawn_app().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.usda)
        .await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(app.url("/health")).send().await.unwrap().status(),
        200
    );
    let client = app.client().await;
    call_ok(&client, "save_food", oats()).await;
    // A USDA miss whose fetch fails: a cache miss and an upstream error.
    let _ = crate::helpers::call(
        &client,
        "get_nutrition",
        json!({ "foodId": "999999991", "source": "usda", "amount": 100, "unit": "g" }),
    )
    .await;
    // The token gauge comes from a running token store.
    let auth = spawn_auth_app(|_| {}).await;
    tokens_for_new_client(&auth).await;

    // Not on the public listener.
    let public = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);

    let answer = http
        .get(format!("http://{}/metrics", app.metrics_addr))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = answer.text().await.unwrap();
    for expected in [
        r#"http_requests_total{method="GET",route="/health",status="200"}"#,
        r#"http_requests_total{method="POST",route="/mcp",status="200"}"#,
        "# TYPE http_request_duration_seconds histogram",
        r#"http_request_duration_seconds_bucket{method="GET",route="/health",le="0.005"}"#,
        r#"mcp_tool_calls_total{tool="save_food",outcome="ok"}"#,
        r#"mcp_tool_calls_total{tool="get_nutrition",outcome="error"}"#,
        "# TYPE mcp_tool_call_duration_seconds histogram",
        r#"actor_mailbox_depth{actor="food_cache"}"#,
        r#"actor_message_duration_seconds_count{actor="food_cache",message="SaveCustom"}"#,
        r#"food_cache_lookups_total{outcome="miss"}"#,
        r#"upstream_errors_total{source="usda",kind="unavailable"}"#,
        r#"oauth_active_tokens{kind="access"}"#,
        r#"oauth_active_tokens{kind="refresh"}"#,
    ] {
        assert!(body.contains(expected), "{expected} missing from:\n{body}");
    }
    // Every sample line parses as `name{labels} value`.
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    auth.stop().await;
    app.stop().await;
}
