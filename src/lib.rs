//! food-mcp: a remote MCP server that does nutrition lookup and arithmetic deterministically.
//!
//! Crate map:
//! - [`config`]: layered settings (defaults, file, `.env`, environment).
//! - [`food`]: the pure nutrition domain — units, nutrients, meals, search ranking.
//! - [`sources`]: upstream clients (USDA FoodData Central, Open Food Facts).

pub mod actors;
pub mod clock;
pub mod config;
pub mod food;
pub mod sources;
pub mod storage;
