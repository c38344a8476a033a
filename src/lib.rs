//! food-mcp: a remote MCP server that does nutrition lookup and arithmetic deterministically.
//!
//! Crate map, from the bottom layer up (a module only imports modules listed before it, except
//! `storage`, which implements the ports for `app` to wire in):
//! - [`memory`]: the global allocator (mimalloc) and handing freed memory back to the OS.
//! - [`clock`]: wall-clock unix seconds, replaceable in tests.
//! - [`telemetry`]: logs (text or JSON, trace ids, redaction), OpenTelemetry export, HTTP spans, metrics.
//! - [`config`]: layered settings (defaults, file, `.env`, environment).
//! - [`food`]: the pure nutrition domain — units, portions, nutrients, meals, search ranking, the
//!   food diary's rules.
//! - [`auth`]: the pure OAuth 2.1 domain — client, code and token records, PKCE, redirect URIs,
//!   secrets, scopes, client metadata rules.
//! - [`ports`]: what the actors and the importer need from storage (traits, `StorageError`).
//! - [`sources`]: upstream clients (USDA FoodData Central, Open Food Facts).
//! - [`storage`]: opening the database and the sqlx implementations of the ports; the only SQL.
//! - [`catalog`]: the offline USDA catalog importer (FoodData Central CSV → SQLite).
//! - [`first_run`]: what a first start does by itself — import an empty USDA catalog, hand over
//!   the generated owner password without logging it.
//! - [`actors`]: the actors that own mutable state, each behind a typed handle.
//! - [`tools`]: what each MCP tool does, and its input and output types.
//! - [`http`]: the HTTP edge — health, the bearer layer, the OAuth endpoints and consent page,
//!   rate limits, the owner password, client metadata documents.
//! - [`mcp`]: the rmcp glue — the server handler, its tool router and the `/mcp` service.
//! - [`app`]: wiring — config → storage → actors → router — and the serve loop.
//! - [`admin`]: the operator commands (owner password, client list and revocation, diary export,
//!   backup).

pub mod actors;
pub mod admin;
pub mod app;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod first_run;
pub mod food;
pub mod http;
pub mod mcp;
pub mod memory;
pub mod ports;
pub mod sources;
pub mod storage;
pub mod telemetry;
pub mod tools;
