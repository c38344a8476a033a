//! food-mcp: a remote MCP server that does nutrition lookup and arithmetic deterministically.
//!
//! Crate map:
//! - [`actors`]: the actors that own mutable state (OAuth clients, codes, tokens).
//! - [`clock`]: wall-clock unix seconds, replaceable in tests.
//! - [`config`]: layered settings (defaults, file, `.env`, environment).
//! - [`food`]: the pure nutrition domain — units, nutrients, meals, search ranking.
//! - [`oauth`]: OAuth 2.1 rules — PKCE, redirect URIs, secrets.
//! - [`sources`]: upstream clients (USDA FoodData Central, Open Food Facts).
//! - [`storage`]: sqlx SQLite implementations of the actors' storage traits.

pub mod actors;
pub mod app;
pub mod clock;
pub mod config;
pub mod food;
pub mod mcp;
pub mod oauth;
pub mod service;
pub mod sources;
pub mod storage;
