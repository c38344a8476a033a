//! Settings: `config/default.toml` (compiled in) < file named by `FOOD_MCP_CONFIG` < `.env` < environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::Deserialize;
use url::Url;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub public_url: Url,
    pub bind: SocketAddr,
    pub database_path: PathBuf,
    pub usda: UsdaConfig,
    pub openfoodfacts: OpenFoodFactsConfig,
    pub cache: CacheConfig,
    pub mcp: McpConfig,
}

#[derive(Clone, Deserialize)]
pub struct UsdaConfig {
    pub api_key: String,
    pub base_url: Url,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

// The API key must never reach a log line, so Debug is written by hand.
impl std::fmt::Debug for UsdaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsdaConfig")
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url.as_str())
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OpenFoodFactsConfig {
    pub base_url: Url,
    pub user_agent: String,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    pub product_requests_per_minute: u32,
    pub search_requests_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CacheConfig {
    #[serde(with = "humantime_serde")]
    pub usda_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub openfoodfacts_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub custom_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub search_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub stale_retention: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct McpConfig {
    pub max_request_bytes: usize,
}

impl Config {
    /// Loads the layered configuration from the process environment.
    pub fn load() -> Result<Config, figment::Error> {
        // A missing .env is normal; a malformed one is reported by figment below as bad values.
        let _ = dotenvy::dotenv();
        let mut figment = Figment::new().merge(Toml::string(DEFAULTS));
        if let Ok(path) = std::env::var("FOOD_MCP_CONFIG") {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment.merge(Env::prefixed("FOOD_MCP__").split("__").lowercase(true)).extract()
    }

    /// The built-in defaults alone, for tests that then adjust fields.
    pub fn defaults() -> Config {
        Figment::new()
            .merge(Toml::string(DEFAULTS))
            .extract()
            .expect("config/default.toml is valid")
    }

    /// Base URL without a trailing slash, e.g. `https://food.example.com`.
    pub fn public_base(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_string()
    }

    /// The canonical MCP resource identifier (`{public_url}/mcp`).
    pub fn mcp_resource(&self) -> String {
        format!("{}/mcp", self.public_base())
    }

    /// Host header values /mcp accepts: the public URL's authority, with and without the port.
    pub fn allowed_hosts(&self) -> Vec<String> {
        let mut hosts = Vec::new();
        if let Some(host) = self.public_url.host_str() {
            hosts.push(host.to_string());
            if let Some(port) = self.public_url.port() {
                hosts.push(format!("{host}:{port}"));
            }
        }
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_derive_the_resource() {
        let config = Config::defaults();
        assert_eq!(config.mcp_resource(), "http://127.0.0.1:3000/mcp");
        assert_eq!(config.allowed_hosts(), vec!["127.0.0.1", "127.0.0.1:3000"]);
        assert_eq!(config.cache.usda_ttl, Duration::from_secs(30 * 86400));
    }

    #[test]
    fn debug_never_shows_the_usda_key() {
        let mut config = Config::defaults();
        config.usda.api_key = "secret-key-123".into();
        assert!(!format!("{config:?}").contains("secret-key-123"));
    }
}
