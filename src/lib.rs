//! food-mcp: a remote MCP server that does nutrition lookup and arithmetic deterministically.
//!
//! Crate map:
//! - [`catalog`]: the offline USDA catalog — FoodData Central CSV import into SQLite, FTS5 search.
//! - [`config`]: layered settings (defaults, file, `.env`, environment).
//! - [`food`]: the pure nutrition domain — units, nutrients, meals, search ranking.
//! - [`sources`]: upstream clients (USDA FoodData Central, Open Food Facts).

pub mod catalog;
pub mod config;
pub mod food;
pub mod sources;
