//! The MCP tools, independent of the protocol: what each one does ([`food`]: search_food,
//! get_nutrition, calculate_meal, save_food; [`diary`]: log_food, get_diary, update_diary_entry,
//! delete_diary_entry, set_goals, get_goals, with their own input and output types) and the food
//! tools' input and output types ([`types`], whose doc comments become the JSON Schemas a model
//! reads). `mcp/` exposes them over rmcp.

pub mod diary;
pub mod food;
pub mod types;

pub use diary::DiaryTools;
pub use food::{FoodService, ToolError};
