//! MCP Apps (the `io.modelcontextprotocol/ui` extension): the HTML views a host renders beside a
//! tool's result — their `ui://` resources with the CSP they declare, the `_meta.ui` that links a
//! tool to its view, and the capability that advertises the extension. Hosts without the extension
//! ignore all of it and keep showing the tools' text content.

use rmcp::{
    ErrorData,
    model::{
        ExtensionCapabilities, JsonObject, ListResourcesResult, MetaObject, ReadResourceResult,
        Resource, ResourceContents,
    },
};
use serde_json::{Value, json};

/// The extension's identifier in `capabilities.extensions`.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/ui";

/// The only content type the extension defines: an HTML5 document speaking the MCP Apps bridge.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";

/// One view: a complete, self-contained HTML document (no external scripts, styles or fonts)
/// embedded at build time.
pub struct View {
    pub uri: &'static str,
    name: &'static str,
    title: &'static str,
    description: &'static str,
    html: &'static str,
}

/// The Nutrition Facts label of `get_nutrition` and `calculate_meal`.
pub const NUTRITION_LABEL: View = View {
    uri: "ui://food-mcp/nutrition-label.html",
    name: "nutrition-label",
    title: "Nutrition Facts label",
    description: "An FDA-style Nutrition Facts panel for a get_nutrition or calculate_meal result \
                  (with each item of a meal), %DV from the FDA daily values; nutrients without \
                  data are shown as \"no data\", never 0.",
    // The part both views share comes first, so each served document stands alone.
    html: concat!(
        include_str!("../../ui/shared-head.html"),
        include_str!("../../ui/nutrition-label.html")
    ),
};

/// A food diary day of `get_diary`: totals, goals and meals.
pub const DAY_VIEW: View = View {
    uri: "ui://food-mcp/day-view.html",
    name: "day-view",
    title: "Food diary day",
    description: "A food diary day from get_diary: the day's totals, progress against the owner's \
                  goals, and each meal's entries.",
    html: concat!(
        include_str!("../../ui/shared-head.html"),
        include_str!("../../ui/day-view.html")
    ),
};

/// Every view the server serves, in `resources/list` order.
pub const VIEWS: [&View; 2] = [&NUTRITION_LABEL, &DAY_VIEW];

/// The value of `capabilities.extensions`: the extension, with the content type its resources
/// use (the settings object a client sends has the same shape).
pub fn extensions() -> ExtensionCapabilities {
    ExtensionCapabilities::from([(
        EXTENSION_ID.to_string(),
        object(json!({ "mimeTypes": [MIME_TYPE] })),
    )])
}

/// A tool's `_meta` naming the view that renders its result.
pub fn tool_meta(view: &View) -> MetaObject {
    MetaObject(object(json!({ "ui": { "resourceUri": view.uri } })))
}

/// The views' resource `_meta`: the strictest CSP the extension can express — every domain list
/// empty, so the host allows no network connection, no external script, style, image or font, no
/// nested frame and no other base URI — and a host-drawn border.
fn resource_meta() -> MetaObject {
    MetaObject(object(json!({
        "ui": {
            "csp": {
                "connectDomains": [],
                "resourceDomains": [],
                "frameDomains": [],
                "baseUriDomains": [],
            },
            "prefersBorder": true,
        }
    })))
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("built from an object literal"),
    }
}

/// `resources/list`: the views, with their `_meta` for hosts that review them at connection time.
pub fn list() -> ListResourcesResult {
    ListResourcesResult::with_all_items(
        VIEWS
            .iter()
            .map(|view| {
                Resource::new(view.uri, view.name)
                    .with_title(view.title)
                    .with_description(view.description)
                    .with_mime_type(MIME_TYPE)
                    .with_size(view.html.len() as u64)
                    .with_meta(resource_meta())
            })
            .collect(),
    )
}

/// `resources/read` of a view's URI; any other URI is the protocol's resource-not-found error.
pub fn read(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let view = VIEWS.iter().find(|view| view.uri == uri).ok_or_else(|| {
        let known: Vec<&str> = VIEWS.iter().map(|view| view.uri).collect();
        ErrorData::resource_not_found(
            format!("no resource {uri}; this server has {}", known.join(", ")),
            Some(json!({ "uri": uri })),
        )
    })?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::TextResourceContents {
            uri: view.uri.to_string(),
            mime_type: Some(MIME_TYPE.to_string()),
            text: view.html.to_string(),
            meta: Some(resource_meta()),
        },
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_is_one_whole_document_without_external_resources() {
        for view in VIEWS {
            assert!(view.uri.starts_with("ui://food-mcp/"), "{}", view.uri);
            let html = view.html;
            assert!(html.starts_with("<!doctype html>"), "{}", view.uri);
            assert!(html.trim_end().ends_with("</html>"), "{}", view.uri);
            for tag in ["<html", "<head>", "</head>", "<body>", "</body>"] {
                assert_eq!(html.matches(tag).count(), 1, "{} has {tag} once", view.uri);
            }
            // Self-contained: nothing is loaded from anywhere, so the empty CSP lists hold.
            for external in ["src=", "href=", "@import", "url(", "http://", "https://"] {
                assert!(!html.contains(external), "{} contains {external}", view.uri);
            }
        }
    }

    #[test]
    fn reads_answer_the_html_with_the_mime_type_and_csp_and_unknown_uris_fail() {
        let read = read(NUTRITION_LABEL.uri).unwrap();
        let json = serde_json::to_value(&read).unwrap();
        let content = &json["contents"][0];
        assert_eq!(content["uri"], NUTRITION_LABEL.uri);
        assert_eq!(content["mimeType"], MIME_TYPE);
        assert_eq!(content["text"], NUTRITION_LABEL.html);
        assert_eq!(content["_meta"]["ui"]["csp"]["connectDomains"], json!([]));
        assert_eq!(content["_meta"]["ui"]["csp"]["resourceDomains"], json!([]));

        let error = super::read("ui://food-mcp/nope.html").unwrap_err();
        assert_eq!(error.code, rmcp::model::ErrorCode::RESOURCE_NOT_FOUND);
        assert!(error.message.contains(DAY_VIEW.uri), "{}", error.message);
    }

    #[test]
    fn the_extension_and_tool_meta_have_the_specified_shape() {
        assert_eq!(
            serde_json::to_value(extensions()).unwrap(),
            json!({ "io.modelcontextprotocol/ui": { "mimeTypes": ["text/html;profile=mcp-app"] } })
        );
        assert_eq!(
            serde_json::to_value(tool_meta(&DAY_VIEW)).unwrap(),
            json!({ "ui": { "resourceUri": "ui://food-mcp/day-view.html" } })
        );
    }
}
