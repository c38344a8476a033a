//! food-mcp: a remote MCP server that does nutrition lookup and arithmetic deterministically.
//!
//! Crate map:
//! - [`actors`]: the actors that own mutable state (food cache, OAuth clients, codes, tokens).
//! - [`admin`]: the operator commands (owner password, client list and revocation).
//! - [`app`]: wiring — config → storage → actors → router — and the serve loop.
//! - [`catalog`]: the offline USDA catalog — FoodData Central CSV import into SQLite, FTS5 search.
//! - [`clock`]: wall-clock unix seconds, replaceable in tests.
//! - [`config`]: layered settings (defaults, file, `.env`, environment).
//! - [`food`]: the pure nutrition domain — units, nutrients, meals, search ranking.
//! - [`mcp`]: the rmcp server handler, the four tools and their input/output types.
//! - [`oauth`]: OAuth 2.1 rules — PKCE, redirect URIs, secrets, client metadata documents, rate limits.
//! - [`service`]: what each tool does, over the food cache and the pure domain.
//! - [`sources`]: upstream clients (USDA FoodData Central, Open Food Facts).
//! - [`storage`]: opening the database and the sqlx implementations of the storage traits.
//! - [`telemetry`]: logs (text or JSON, trace ids, redaction), OpenTelemetry export, HTTP spans, metrics.

pub mod actors;
pub mod admin;
pub mod app;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod food;
pub mod mcp;
pub mod oauth;
pub mod service;
pub mod sources;
pub mod storage;
pub mod telemetry;
