//! `GET /`: a small page saying what this server is and which URL to give an MCP client, and
//! `GET /README.md`, the README the binary was built with (the page links to it).

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::config::Config;
use crate::http::oauth::error::render_page;

/// The README, compiled in: always the one of the running version, and needs no network.
const README: &str = include_str!("../../README.md");

#[derive(Clone)]
struct Home {
    mcp_url: String,
    auth: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate<'a> {
    mcp_url: &'a str,
    auth: bool,
    readme: &'a str,
}

/// `/` and `/README.md`; public, like `/health`.
pub fn router(config: &Config) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/README.md", get(readme))
        .with_state(Home {
            mcp_url: config.mcp_resource(),
            auth: config.auth.enabled,
        })
}

async fn page(State(home): State<Home>) -> Response {
    let page = HomeTemplate {
        mcp_url: &home.mcp_url,
        auth: home.auth,
        readme: "/README.md",
    };
    render_page(StatusCode::OK, &page, "'none'")
}

async fn readme() -> Response {
    let mut response = README.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_page_names_the_mcp_url_and_links_the_readme() {
        let html = HomeTemplate {
            mcp_url: "https://food.example.com/mcp",
            auth: true,
            readme: "/README.md",
        }
        .render()
        .unwrap();
        for part in [
            "<code dir=\"ltr\">https://food.example.com/mcp</code>",
            "<a href=\"/README.md\">the README</a>",
            "owner password",
        ] {
            assert!(html.contains(part), "{part} missing from {html}");
        }
        assert!(README.contains("## Security model"));
    }
}
