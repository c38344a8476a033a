//! Integration tests: the real server on 127.0.0.1:0 with a temp database and mock upstreams,
//! driven by rmcp's MCP client. One binary so the suite links once.

mod catalog;
mod catalog_foods;
mod cli;
mod clients;
mod diary;
mod helpers;
mod http;
mod lifecycle;
mod oauth;
mod search_quality;
mod security;
mod supervision;
mod telemetry;
mod tidy;
mod tools;
mod ui;
mod upstreams;
