//! `FoodMcp`: the rmcp server handler. Each tool parses its own arguments so that bad input is a
//! tool result with `isError` and a readable reason (which a model can act on), not a protocol
//! error.

use std::{sync::Arc, time::Instant};

use rmcp::{
    Json, ServerHandler,
    handler::server::{
        common::{schema_for_input, schema_for_output},
        router::tool::ToolRouter,
    },
    model::{
        ContentBlock, Implementation, IntoContents, JsonObject, ListResourcesResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        ServerCapabilities, ServerConfig,
    },
    tool, tool_handler, tool_router,
};
use serde::de::DeserializeOwned;
use tracing::{Instrument, field::Empty};

use crate::http::bearer::principal_of;
use crate::mcp::ui;
use crate::telemetry::RequestSpan;
use crate::tools::types::{
    CalculateMealInput, CalculateMealOutput, GetNutritionInput, NutritionOutput, SaveFoodInput,
    SaveFoodOutput, SearchFoodInput, SearchFoodOutput,
};
use crate::tools::{FoodService, ToolError};

const INSTRUCTIONS: &str = "Nutrition facts and arithmetic, computed deterministically. \
Find a food with search_food, then pass its id and source to get_nutrition (one food) or \
calculate_meal (several foods, with totals). Never estimate numbers yourself: every conversion \
and sum is done here. save_food stores the owner's own foods (recipes, labels) for later.";

impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.0)]
    }
}

/// Parses tool arguments, turning a schema mismatch into a readable tool error.
fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(serde_json::Value::Object(args))
        .map_err(|e| ToolError(format!("invalid arguments: {e}")))
}

fn input_schema<T: schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    let schema =
        schema_for_input::<T>().unwrap_or_else(|e| panic!("tool input schema is invalid: {e}"));
    Arc::new(standard_formats_only(schema.as_ref().clone()))
}

fn output_schema<T: schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    Arc::new(standard_formats_only(
        schema_for_output::<T>().as_ref().clone(),
    ))
}

/// JSON Schema 2020-12 §7.3 formats; schemars also emits Rust ones ("uint", "uint32", "double")
/// that strict client-side validators reject.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

fn standard_formats_only(mut schema: JsonObject) -> JsonObject {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if map
                    .get("format")
                    .and_then(|f| f.as_str())
                    .is_some_and(|f| !STANDARD_FORMATS.contains(&f))
                {
                    map.remove("format");
                }
                map.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    schema.values_mut().for_each(walk);
    schema
}

/// The MCP handler. Built per request (the transport is stateless), so it is one `Arc` clone:
/// the tool router is built once.
#[derive(Clone)]
pub struct FoodMcp {
    shared: Arc<Shared>,
}

struct Shared {
    service: Arc<FoodService>,
    tool_router: ToolRouter<FoodMcp>,
}

#[tool_router]
impl FoodMcp {
    pub fn new(service: Arc<FoodService>) -> FoodMcp {
        FoodMcp {
            shared: Arc::new(Shared {
                service,
                tool_router: Self::tool_router(),
            }),
        }
    }

    /// Search foods by name, brand or barcode across the owner's saved foods, USDA FoodData
    /// Central and Open Food Facts. Returns ids to pass to get_nutrition / calculate_meal.
    #[tool(
        input_schema = input_schema::<SearchFoodInput>(),
        output_schema = output_schema::<SearchFoodOutput>(),
        annotations(title = "Search foods", read_only_hint = true, open_world_hint = true)
    )]
    async fn search_food(&self, args: JsonObject) -> Result<Json<SearchFoodOutput>, ToolError> {
        let input: SearchFoodInput = parse(args)?;
        self.shared
            .service
            .search(&input.query, input.source, input.limit)
            .await
            .map(Json)
    }

    /// Nutrients in an amount of one food, e.g. 150 g or 1 medium or 1 cup. Converts units
    /// with exact factors and the food's own portion weights; says what is missing rather than
    /// guessing.
    #[tool(
        input_schema = input_schema::<GetNutritionInput>(),
        output_schema = output_schema::<NutritionOutput>(),
        annotations(title = "Get nutrition", read_only_hint = true, open_world_hint = true),
        meta = ui::tool_meta(&ui::NUTRITION_LABEL)
    )]
    async fn get_nutrition(&self, args: JsonObject) -> Result<Json<NutritionOutput>, ToolError> {
        let input: GetNutritionInput = parse(args)?;
        self.shared.service.nutrition(&input).await.map(Json)
    }

    /// Nutrient totals of a meal: each item's breakdown, the totals, and which nutrients every
    /// item covered. Fails naming the item if any item cannot be computed.
    #[tool(
        input_schema = input_schema::<CalculateMealInput>(),
        output_schema = output_schema::<CalculateMealOutput>(),
        annotations(title = "Calculate meal", read_only_hint = true, open_world_hint = true),
        meta = ui::tool_meta(&ui::NUTRITION_LABEL)
    )]
    async fn calculate_meal(
        &self,
        args: JsonObject,
    ) -> Result<Json<CalculateMealOutput>, ToolError> {
        let input: CalculateMealInput = parse(args)?;
        self.shared.service.meal(&input.items).await.map(Json)
    }

    /// Save the owner's own food (a recipe, a label) with its nutrients for a serving. Saving the
    /// same name and brand again updates it. Returns the id to use with source "custom".
    #[tool(
        input_schema = input_schema::<SaveFoodInput>(),
        output_schema = output_schema::<SaveFoodOutput>(),
        annotations(title = "Save food", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn save_food(&self, args: JsonObject) -> Result<Json<SaveFoodOutput>, ToolError> {
        let input: SaveFoodInput = parse(args)?;
        self.shared.service.save(input).await.map(Json)
    }
}

#[tool_handler(router = self.shared.tool_router)]
impl ServerHandler for FoodMcp {
    /// Every tool call runs in an `mcp.tool` span (tool name, isError) under the HTTP request's
    /// span — rmcp runs the handler in a task of its own, so the parent is taken from the
    /// request's extensions — and is counted by tool and outcome.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        // A label only for the tools that exist: a client cannot mint new metric series.
        let tool = self
            .shared
            .tool_router
            .get(&request.name)
            .map_or_else(|| "unknown".to_string(), |t| t.name.to_string());
        let parts = context.extensions.get::<http::request::Parts>();
        let parent = parts
            .and_then(|parts| parts.extensions.get::<RequestSpan>())
            .map(|span| span.0.clone());
        // Who is calling: the OAuth client the bearer layer verified (absent with auth off).
        let client_id = parts
            .and_then(|parts| principal_of(parts))
            .map_or("-", |principal| principal.client_id.as_str());
        let span = tracing::info_span!(
            parent: parent.as_ref().and_then(|p| p.id()),
            "mcp.tool",
            otel.name = %format_args!("tools/call {tool}"),
            mcp.tool.name = %tool,
            oauth.client_id = %client_id,
            mcp.tool.is_error = Empty,
            otel.status_code = Empty,
        );
        let started = Instant::now();
        let call = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        let result = self
            .shared
            .tool_router
            .call(call)
            .instrument(span.clone())
            .await;
        let outcome = match &result {
            Ok(rmcp::model::CallToolResponse::Complete(done)) if done.is_error == Some(true) => {
                "error"
            }
            Ok(_) => "ok",
            Err(_) => "protocol_error",
        };
        span.record("mcp.tool.is_error", outcome != "ok");
        if outcome != "ok" {
            span.record("otel.status_code", "ERROR");
        }
        metrics::counter!("mcp_tool_calls_total", "tool" => tool.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("mcp_tool_call_duration_seconds", "tool" => tool)
            .record(started.elapsed());
        result
    }

    /// The MCP Apps views (`ui://`), for hosts that render tool results with them.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<ListResourcesResult, rmcp::ErrorData> {
        Ok(ui::list())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<ReadResourceResponse, rmcp::ErrorData> {
        ui::read(&request.uri).map(ReadResourceResponse::from)
    }

    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_extensions_with(ui::extensions())
            .enable_resources()
            .enable_tools()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("food-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}
