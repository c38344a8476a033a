//! The MCP tools, independent of the protocol: what each one does ([`food`]: search_food,
//! get_nutrition, calculate_meal, save_food) and its input and output types ([`types`], whose
//! doc comments become the JSON Schemas a model reads). `mcp/` exposes them over rmcp.

pub mod food;
pub mod types;

pub use food::{FoodService, ToolError};
