//! `FoodMcp`: the rmcp server handler. Each tool parses its own arguments so that bad input is a
//! tool result with `isError` and a readable reason (which a model can act on), not a protocol
//! error.

use std::{sync::Arc, time::Instant};

use rmcp::{
    ErrorData, ServerHandler,
    handler::server::{
        common::{schema_for_input, schema_for_output},
        router::tool::ToolRouter,
        tool::IntoCallToolResult,
    },
    model::{
        CallToolResponse, CallToolResult, ContentBlock, Implementation, IntoContents, JsonObject,
        ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
        ReadResourceResponse, ServerCapabilities, ServerConfig,
    },
    tool, tool_handler, tool_router,
};
use serde::{Serialize, de::DeserializeOwned};
use tracing::{Instrument, field::Empty};

use crate::http::bearer::principal_of;
use crate::mcp::ui;
use crate::telemetry::RequestSpan;
use crate::tools::diary::{
    DeleteDiaryEntryInput, DeleteDiaryEntryOutput, GetDiaryInput, GetDiaryOutput, GetGoalsInput,
    GoalsOutput, LogFoodInput, LogFoodOutput, SetGoalsInput, UpdateDiaryEntryInput,
    UpdateDiaryEntryOutput,
};
use crate::tools::types::{
    CalculateMealInput, CalculateMealOutput, GetNutritionInput, NutritionOutput, SaveFoodInput,
    SaveFoodOutput, SearchFoodInput, SearchFoodOutput,
};
use crate::tools::{DiaryTools, FoodService, ToolError};

const INSTRUCTIONS: &str = "Nutrition facts and arithmetic, computed deterministically. \
Find a food with search_food, then pass its id and source to get_nutrition (one food) or \
calculate_meal (several foods, with totals). Never estimate numbers yourself: every conversion \
and sum is done here. save_food stores the owner's own foods (recipes, labels) for later. \
The food diary keeps what the owner ate: log_food records foods (resolved like get_nutrition) on \
a day and meal, get_diary reads days back with meal and day totals and progress against the \
goals set with set_goals; update_diary_entry and delete_diary_entry correct entries by id.";

impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.0)]
    }
}

/// A tool's output as a result: the structured content, and the same JSON as a text block for
/// clients that read only text. rmcp's `Json` builds the `Value` and then formats that `Value`
/// through `Display` for the text; here the text is written straight from the output, which
/// costs about half as much (the two were ≈ 8 % of a catalog get_nutrition; BENCHMARKS.md).
struct Structured<T>(T);

impl<T: Serialize> IntoCallToolResult for Structured<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let failed = |err: serde_json::Error| {
            ErrorData::internal_error(format!("the tool's answer did not serialise: {err}"), None)
        };
        let text = serde_json::to_string(&self.0).map_err(failed)?;
        let value = serde_json::to_value(&self.0).map_err(failed)?;
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(value);
        Ok(result.into())
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
    Arc::new(portable(schema.as_ref().clone()))
}

fn output_schema<T: schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    Arc::new(portable(schema_for_output::<T>().as_ref().clone()))
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

/// Keywords that describe a schema rather than constrain its values: they stay beside an `anyOf`.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// A schema in the subset every client's schema dialect reads: only standard formats, and one
/// `type` per schema. schemars writes an `Option<f64>` as `"type": ["number", "null"]`, legal
/// JSON Schema that single-type dialects (the OpenAPI subset of Gemini's function declarations)
/// reject; it becomes `"anyOf": [{"type": "number"}, {"type": "null"}]`, each branch with the
/// value constraints, the annotations beside the `anyOf`. Done here, on the generated schema, so
/// it covers the domain types the tool outputs nest (`NutrientAmount`, `RankedFood`…) too.
fn portable(mut schema: JsonObject) -> JsonObject {
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
                split_type_array(map);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    schema.values_mut().for_each(walk);
    split_type_array(&mut schema);
    schema
}

fn split_type_array(map: &mut JsonObject) {
    use serde_json::{Value, json};
    // A schema that already has an `anyOf` would need an `allOf` around both; schemars writes none.
    if !map.get("type").is_some_and(Value::is_array) || map.contains_key("anyOf") {
        return;
    }
    let Some(Value::Array(types)) = map.remove("type") else {
        return;
    };
    let constraints: JsonObject = map
        .keys()
        .filter(|key| !ANNOTATIONS.contains(&key.as_str()))
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(|key| map.remove_entry(&key))
        .collect();
    let branches = types
        .into_iter()
        .map(|kind| {
            if kind == "null" {
                return json!({ "type": "null" });
            }
            let mut branch = constraints.clone();
            branch.insert("type".into(), kind);
            Value::Object(branch)
        })
        .collect();
    map.insert("anyOf".into(), Value::Array(branches));
}

/// The MCP handler. Built per request (the transport is stateless), so it is one `Arc` clone:
/// the tool router is built once.
#[derive(Clone)]
pub struct FoodMcp {
    shared: Arc<Shared>,
}

struct Shared {
    service: Arc<FoodService>,
    diary: DiaryTools,
    tool_router: ToolRouter<FoodMcp>,
}

#[tool_router]
impl FoodMcp {
    pub fn new(service: Arc<FoodService>, diary: DiaryTools) -> FoodMcp {
        FoodMcp {
            shared: Arc::new(Shared {
                service,
                diary,
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
    async fn search_food(
        &self,
        args: JsonObject,
    ) -> Result<Structured<SearchFoodOutput>, ToolError> {
        let input: SearchFoodInput = parse(args)?;
        self.shared
            .service
            .search(&input.query, input.source, input.limit)
            .await
            .map(Structured)
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
    async fn get_nutrition(
        &self,
        args: JsonObject,
    ) -> Result<Structured<NutritionOutput>, ToolError> {
        let input: GetNutritionInput = parse(args)?;
        self.shared.service.nutrition(&input).await.map(Structured)
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
    ) -> Result<Structured<CalculateMealOutput>, ToolError> {
        let input: CalculateMealInput = parse(args)?;
        self.shared.service.meal(&input.items).await.map(Structured)
    }

    /// Save the owner's own food (a recipe, a label) with its nutrients for a serving. Saving the
    /// same name and brand again updates it. Returns the id to use with source "custom".
    #[tool(
        input_schema = input_schema::<SaveFoodInput>(),
        output_schema = output_schema::<SaveFoodOutput>(),
        annotations(title = "Save food", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn save_food(&self, args: JsonObject) -> Result<Structured<SaveFoodOutput>, ToolError> {
        let input: SaveFoodInput = parse(args)?;
        self.shared.service.save(input).await.map(Structured)
    }

    /// Log what the owner ate to the food diary: each item (an id and source from search_food,
    /// an amount and unit, exactly as in get_nutrition) becomes an entry with a stable id and a
    /// snapshot of the food's numbers. Date defaults to today in the owner's time zone. Answers
    /// the entries and the day's totals and goals. If one item fails, nothing is logged.
    #[tool(
        input_schema = input_schema::<LogFoodInput>(),
        output_schema = output_schema::<LogFoodOutput>(),
        annotations(title = "Log food", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true)
    )]
    async fn log_food(&self, args: JsonObject) -> Result<Structured<LogFoodOutput>, ToolError> {
        let input: LogFoodInput = parse(args)?;
        self.shared.diary.log_food(input).await.map(Structured)
    }

    /// Read the food diary: one day (default today) or a range of up to 31 days, each with its
    /// entries, totals per meal and for the day (exact sums), nutrient coverage, and progress
    /// against the daily goals (target, value, remaining or over).
    #[tool(
        input_schema = input_schema::<GetDiaryInput>(),
        output_schema = output_schema::<GetDiaryOutput>(),
        annotations(title = "Get diary", read_only_hint = true, open_world_hint = false),
        meta = ui::tool_meta(&ui::DAY_VIEW)
    )]
    async fn get_diary(&self, args: JsonObject) -> Result<Structured<GetDiaryOutput>, ToolError> {
        let input: GetDiaryInput = parse(args)?;
        self.shared.diary.get_diary(input).await.map(Structured)
    }

    /// Correct a diary entry by id: a new amount or unit (measured again from the food's data
    /// as logged), date, time, meal or note. Answers the entry and its day.
    #[tool(
        input_schema = input_schema::<UpdateDiaryEntryInput>(),
        output_schema = output_schema::<UpdateDiaryEntryOutput>(),
        annotations(title = "Update diary entry", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn update_diary_entry(
        &self,
        args: JsonObject,
    ) -> Result<Structured<UpdateDiaryEntryOutput>, ToolError> {
        let input: UpdateDiaryEntryInput = parse(args)?;
        self.shared.diary.update_entry(input).await.map(Structured)
    }

    /// Remove a diary entry by id. Answers the removed entry and its day without it.
    #[tool(
        input_schema = input_schema::<DeleteDiaryEntryInput>(),
        output_schema = output_schema::<DeleteDiaryEntryOutput>(),
        annotations(title = "Delete diary entry", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn delete_diary_entry(
        &self,
        args: JsonObject,
    ) -> Result<Structured<DeleteDiaryEntryOutput>, ToolError> {
        let input: DeleteDiaryEntryInput = parse(args)?;
        self.shared.diary.delete_entry(input).await.map(Structured)
    }

    /// Set the owner's daily goals by nutrient (calories, protein_g, fiber_g, …): a number sets
    /// one, null removes it, others stay. Every day in get_diary shows progress against them.
    #[tool(
        input_schema = input_schema::<SetGoalsInput>(),
        output_schema = output_schema::<GoalsOutput>(),
        annotations(title = "Set goals", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn set_goals(&self, args: JsonObject) -> Result<Structured<GoalsOutput>, ToolError> {
        let input: SetGoalsInput = parse(args)?;
        self.shared.diary.set_goals(input).await.map(Structured)
    }

    /// The owner's daily goals by nutrient, with their units.
    #[tool(
        input_schema = input_schema::<GetGoalsInput>(),
        output_schema = output_schema::<GoalsOutput>(),
        annotations(title = "Get goals", read_only_hint = true, open_world_hint = false)
    )]
    async fn get_goals(&self, args: JsonObject) -> Result<Structured<GoalsOutput>, ToolError> {
        let GetGoalsInput {} = parse(args)?;
        self.shared.diary.get_goals().await.map(Structured)
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: serde_json::Value) -> JsonObject {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_type_array_becomes_single_type_branches_with_the_constraints() {
        let schema = object(json!({
            "type": "object",
            "properties": {
                "value": { "description": "kcal", "type": ["number", "null"], "format": "double", "minimum": 0 },
                "name": { "type": "string" }
            },
            "$defs": { "Brand": { "type": ["string", "null"], "maxLength": 80, "title": "Brand" } }
        }));
        let portable = serde_json::Value::Object(portable(schema));
        assert_eq!(
            portable["properties"]["value"],
            json!({ "description": "kcal", "anyOf": [{ "type": "number", "minimum": 0 }, { "type": "null" }] })
        );
        assert_eq!(portable["properties"]["name"], json!({ "type": "string" }));
        assert_eq!(
            portable["$defs"]["Brand"],
            json!({ "title": "Brand", "anyOf": [{ "type": "string", "maxLength": 80 }, { "type": "null" }] })
        );
    }

    /// Every tool's schemas: one `type` per schema, standard formats only.
    #[test]
    fn every_tool_schema_is_portable() {
        fn check(tool: &str, value: &serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    assert!(
                        !map.get("type").is_some_and(serde_json::Value::is_array),
                        "{tool}: a type array in {value}"
                    );
                    if let Some(format) = map.get("format").and_then(|f| f.as_str()) {
                        assert!(
                            STANDARD_FORMATS.contains(&format),
                            "{tool}: format {format}"
                        );
                    }
                    map.values().for_each(|v| check(tool, v));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| check(tool, v)),
                _ => {}
            }
        }
        let tools = FoodMcp::tool_router().list_all();
        assert_eq!(tools.len(), 10);
        for tool in tools {
            let schemas = serde_json::to_value((&tool.input_schema, &tool.output_schema)).unwrap();
            check(&tool.name, &schemas);
        }
    }

    #[test]
    fn the_write_scope_covers_exactly_the_tools_that_are_not_read_only() {
        let tools = FoodMcp::tool_router().list_all();
        assert_eq!(tools.len(), 10);
        for tool in tools {
            let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
            let writes = crate::auth::scopes::WRITE_TOOLS.contains(&tool.name.as_ref());
            assert_eq!(read_only, Some(!writes), "{}", tool.name);
        }
    }
}
