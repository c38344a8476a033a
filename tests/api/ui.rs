//! MCP Apps through a real MCP client that announces the extension: the capability, the views as
//! `ui://` resources (mime type, HTML, CSP), the tools that name them, and the text content hosts
//! without the extension keep reading.

use rmcp::{
    ServiceError, ServiceExt,
    model::{
        CallToolRequestParams, ClientCapabilities, ClientConfig, ErrorCode, ExtensionCapabilities,
        Implementation, ReadResourceRequestParams, ResourceContents,
    },
    service::{RoleClient, RunningService},
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, text_of};

const EXTENSION: &str = "io.modelcontextprotocol/ui";
const MIME: &str = "text/html;profile=mcp-app";
const LABEL: &str = "ui://food-mcp/nutrition-label.html";
const DAY: &str = "ui://food-mcp/day-view.html";

/// A client that says it renders MCP Apps, as Claude, VS Code and the other hosts do.
async fn apps_client(app: &TestApp) -> RunningService<RoleClient, ClientConfig> {
    let extensions = ExtensionCapabilities::from([(
        EXTENSION.to_string(),
        serde_json::from_value(json!({ "mimeTypes": [MIME] })).expect("object"),
    )]);
    let capabilities = ClientCapabilities::builder()
        .enable_extensions_with(extensions)
        .build();
    ClientConfig::new(capabilities, Implementation::new("apps-host", "1"))
        .serve(StreamableHttpClientTransport::from_uri(app.url("/mcp")))
        .await
        .expect("MCP client connects")
}

#[tokio::test]
async fn the_server_advertises_the_extension_and_lists_and_reads_its_views() {
    let app = spawn_app().await;
    let client = apps_client(&app).await;
    let capabilities = &client.peer_info().expect("initialized").capabilities;
    let extension = capabilities
        .extensions
        .as_ref()
        .and_then(|e| e.get(EXTENSION))
        .expect("the ui extension is advertised");
    assert_eq!(
        Value::Object(extension.clone()),
        json!({ "mimeTypes": [MIME] })
    );
    assert!(capabilities.resources.is_some(), "resources are advertised");

    let resources = client.list_all_resources().await.unwrap();
    let mut uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    uris.sort();
    assert_eq!(uris, [DAY, LABEL]);
    for resource in &resources {
        assert_eq!(
            resource.mime_type.as_deref(),
            Some(MIME),
            "{}",
            resource.uri
        );
        let meta = serde_json::to_value(&resource.meta).unwrap();
        assert_eq!(
            meta["ui"]["csp"]["connectDomains"],
            json!([]),
            "{}",
            resource.uri
        );

        let read = client
            .read_resource(ReadResourceRequestParams::new(resource.uri.clone()))
            .await
            .unwrap();
        let [
            ResourceContents::TextResourceContents {
                uri,
                mime_type,
                text,
                meta,
            },
        ] = read.contents.as_slice()
        else {
            panic!(
                "{} reads as one text content: {:?}",
                resource.uri, read.contents
            );
        };
        assert_eq!(uri, &resource.uri);
        assert_eq!(mime_type.as_deref(), Some(MIME));
        assert!(
            text.starts_with("<!doctype html>"),
            "{uri} is an HTML document"
        );
        assert!(text.contains("ui/initialize"), "{uri} speaks the bridge");
        assert_eq!(resource.size, Some(text.len() as u64), "{uri} size");
        // The strictest CSP: the host may allow no external origin of any kind.
        let csp = &serde_json::to_value(meta).unwrap()["ui"]["csp"];
        for list in [
            "connectDomains",
            "resourceDomains",
            "frameDomains",
            "baseUriDomains",
        ] {
            assert_eq!(csp[list], json!([]), "{uri} csp.{list}");
        }
    }
}

#[tokio::test]
async fn reading_an_unknown_ui_resource_is_resource_not_found() {
    let app = spawn_app().await;
    let client = apps_client(&app).await;
    let error = client
        .read_resource(ReadResourceRequestParams::new("ui://food-mcp/nope.html"))
        .await
        .unwrap_err();
    let ServiceError::McpError(error) = error else {
        panic!("a JSON-RPC error, got {error:?}");
    };
    assert_eq!(error.code, ErrorCode::RESOURCE_NOT_FOUND);
    assert!(error.message.contains(LABEL), "{}", error.message);
}

#[tokio::test]
async fn nutrition_tools_name_the_label_and_keep_their_text_content() {
    let app = spawn_app().await;
    let client = apps_client(&app).await;
    let tools = client.list_all_tools().await.unwrap();
    for tool in &tools {
        let view = tool
            .meta
            .as_ref()
            .and_then(|m| m.0.get("ui"))
            .and_then(|ui| ui.get("resourceUri"))
            .and_then(Value::as_str);
        let want = match tool.name.as_ref() {
            "get_nutrition" | "calculate_meal" => Some(LABEL),
            "get_diary" => Some(DAY),
            _ => None,
        };
        assert_eq!(view, want, "{}", tool.name);
    }

    // A host without the extension reads the text content: the same JSON as structuredContent.
    let saved = client
        .call_tool(
            CallToolRequestParams::new("save_food").with_arguments(
                serde_json::from_value(json!({
                    "name": "Label test oats",
                    "servingSize": { "amount": 100, "unit": "g" },
                    "nutrients": { "calories": 380, "protein_g": 13 },
                }))
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    let id = saved.structured_content.unwrap()["id"].clone();
    let result = client
        .call_tool(
            CallToolRequestParams::new("get_nutrition").with_arguments(
                serde_json::from_value(
                    json!({ "foodId": id, "source": "custom", "amount": 50, "unit": "g" }),
                )
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    let structured = result
        .structured_content
        .clone()
        .expect("structured content");
    assert_eq!(structured["nutrients"]["calories"]["value"], json!(190.0));
    let text: Value = serde_json::from_str(&text_of(&result)).expect("text content is JSON");
    assert_eq!(text, structured);
}
