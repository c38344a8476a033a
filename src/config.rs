//! Settings: `config/default.toml` (compiled in) < file named by `--config` or `FOOD_MCP_CONFIG` <
//! `.env` < environment.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

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
    pub actors: ActorsConfig,
    pub mcp: McpConfig,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub catalog: CatalogConfig,
    pub diary: DiaryConfig,
    pub proxy: ProxyConfig,
}

/// The offline USDA catalog the server fills by itself at its first start.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogConfig {
    /// A FoodData Central CSV download (`https://…zip`, or `file:///…` for a local zip or folder).
    pub url: Url,
    /// Import from `url` in the background when the catalog is empty at start.
    pub auto_import: bool,
    /// How often a running server checks whether an import replaced the catalog (its own, or
    /// `food-mcp import usda` run beside it), to reload its in-memory copy.
    #[serde(with = "humantime_serde")]
    pub refresh_every: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DiaryConfig {
    /// The owner's IANA time zone, checked at load; `None` (an empty setting) means the system's.
    #[serde(deserialize_with = "optional_time_zone")]
    pub timezone: Option<jiff::tz::TimeZone>,
}

impl DiaryConfig {
    /// The zone that decides "today": the configured one, else the system's, else UTC.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        if let Some(tz) = &self.timezone {
            return tz.clone();
        }
        jiff::tz::TimeZone::try_system().unwrap_or_else(|err| {
            tracing::warn!(%err, "no system time zone; the diary uses UTC (set diary.timezone)");
            jiff::tz::TimeZone::UTC
        })
    }
}

fn optional_time_zone<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<jiff::tz::TimeZone>, D::Error> {
    let text = lenient_string(deserializer)?;
    let name = text.trim();
    if name.is_empty() {
        return Ok(None);
    }
    jiff::tz::TimeZone::get(name).map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "diary.timezone {name:?} is not an IANA time zone name such as \"Europe/Paris\" or \"America/New_York\""
        ))
    })
}

/// The reverse proxies in front of the server, whose forwarding header names the client.
#[derive(Debug, Clone, Deserialize)]
pub struct ProxyConfig {
    /// Addresses and CIDR ranges of trusted proxies; empty: every peer is the client.
    #[serde(deserialize_with = "networks")]
    pub trusted: Vec<ipnet::IpNet>,
    /// Which header those proxies write.
    pub header: ForwardedHeader,
}

/// The forwarding header a trusted proxy appends the client's address to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (nginx, Caddy, Traefik, HAProxy).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// A list of addresses or CIDR ranges: a TOML array, or one string separated by commas or spaces
/// (as an environment variable spells it). A bare address is a one-address range.
fn networks<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ipnet::IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        One(String),
        Many(Vec<String>),
    }
    let entries = match List::deserialize(deserializer)? {
        List::One(text) => text
            .split([',', ' '])
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        List::Many(entries) => entries,
    };
    entries
        .iter()
        .map(|entry| {
            let entry = entry.trim();
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "proxy.trusted entry {entry:?} is not an IP address or CIDR range"
                    ))
                })
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogConfig {
    /// `text` (human-readable, the default) or `json`; `--log-format` overrides it.
    pub format: crate::telemetry::LogFormat,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served, apart from the public listener; empty turns it off.
    #[serde(deserialize_with = "optional_address")]
    pub bind: Option<SocketAddr>,
}

fn optional_address<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    let text = lenient_string(deserializer)?;
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("metrics.bind {text:?}: {e}")))
}

#[derive(Clone, Deserialize)]
pub struct UsdaConfig {
    #[serde(deserialize_with = "lenient_string")]
    pub api_key: String,
    pub base_url: Url,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(flatten)]
    pub limits: UpstreamLimits,
}

// The API key must never reach a log line, so Debug is written by hand.
impl std::fmt::Debug for UsdaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsdaConfig")
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url.as_str())
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OpenFoodFactsConfig {
    pub base_url: Url,
    #[serde(deserialize_with = "lenient_string")]
    pub user_agent: String,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    pub product_requests_per_minute: u32,
    pub search_requests_per_minute: u32,
    #[serde(flatten)]
    pub limits: UpstreamLimits,
}

/// How food-mcp shields itself from one upstream (the same keys in `[usda]` and `[openfoodfacts]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct UpstreamLimits {
    /// Largest answer body read; a longer one is stopped there and is an upstream error.
    pub max_body_bytes: usize,
    /// Most requests to this upstream at once; more wait for a free slot (within `timeout`).
    pub max_concurrent_requests: usize,
    /// Failed requests in a row that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker answers without asking before one probe request is let through.
    #[serde(with = "humantime_serde")]
    pub breaker_cool_down: Duration,
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
    /// How many cached answers (foods and searches) the food cache also keeps in memory, least
    /// recently used evicted first; at least 1.
    pub memory_entries: std::num::NonZeroUsize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ActorsConfig {
    /// Longest a caller waits for an actor's answer before it is told the actor is unavailable.
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
}

/// How the owner approves a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentMode {
    /// The consent page asks the owner's password.
    Password,
    /// Every request is approved without asking (local development).
    Auto,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    pub enabled: bool,
    pub consent: ConsentMode,
    #[serde(with = "humantime_serde")]
    pub access_token_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub refresh_token_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub refresh_grace: Duration,
    #[serde(with = "humantime_serde")]
    pub code_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub unused_client_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    pub max_redirect_uris: usize,
    pub max_registration_bytes: usize,
    pub register_per_minute: u32,
    pub token_per_minute: u32,
    pub consent_per_minute: u32,
    pub max_password_failures: u32,
    #[serde(with = "humantime_serde")]
    pub lockout: Duration,
    pub global_password_failures: u32,
    #[serde(with = "humantime_serde")]
    pub password_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub max_password_backoff: Duration,
    /// How long a consent form (its CSRF token) may be submitted after it was shown.
    #[serde(with = "humantime_serde")]
    pub consent_form_ttl: Duration,
    pub cimd: CimdSettings,
}

/// The HTTP listener's connection hygiene and shutdown (`http::serve`).
#[derive(Debug, Clone, Deserialize)]
pub struct HttpConfig {
    /// Longest one request may take before it is answered 503.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Longest a connection may wait for a request's complete header block, counted from when it
    /// starts waiting (hyper's header read timeout): it also closes idle keep-alive connections.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Most open client connections; past it a new connection is answered 503 and closed.
    pub max_connections: usize,
    /// Longest a graceful shutdown waits for in-flight requests before closing what is left.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct McpConfig {
    pub max_request_bytes: usize,
    /// Browser origins besides `public_url`'s own whose requests /mcp accepts (a request
    /// without `Origin` is not from a browser page and is always accepted).
    #[serde(default)]
    pub allowed_origins: Vec<Url>,
}

/// A string setting that an environment variable may spell as a number or boolean: figment parses
/// `FOOD_MCP__USDA__API_KEY=12345` as an integer, which must still be the key "12345".
fn lenient_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        String(String),
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        Bool(bool),
    }
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::String(s) => s,
        Scalar::Unsigned(n) => n.to_string(),
        Scalar::Signed(n) => n.to_string(),
        Scalar::Float(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
    })
}

impl Config {
    /// Loads the layered configuration: the defaults, then `file` (`--config`; without it the
    /// file named by `FOOD_MCP_CONFIG`, which a `.env` may set), then the environment. A named
    /// file that does not exist is an error.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        // A missing .env is normal; a malformed one is reported by figment below as bad values.
        let _ = dotenvy::dotenv();
        let mut figment = Figment::new().merge(Toml::string(DEFAULTS));
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("FOOD_MCP_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("FOOD_MCP__").split("__").lowercase(true))
            .extract()
            .map_err(Box::new)
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

    /// The OAuth issuer: the public URL without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_base()
    }

    /// The canonical MCP resource identifier (`{public_url}/mcp`).
    pub fn mcp_resource(&self) -> String {
        format!("{}/mcp", self.public_base())
    }

    /// `Origin` values /mcp accepts (the MCP transport requires servers to check it, against DNS
    /// rebinding and cross-site pages): `public_url`'s origin — with a loopback public URL, also
    /// the other loopback spellings on its port — and `mcp.allowed_origins`. Each is written with
    /// its port, which is how rmcp matches exactly that port.
    pub fn allowed_origins(&self) -> Vec<String> {
        let with_port = |url: &Url| {
            let host = url.host_str()?;
            let port = url.port_or_known_default()?;
            Some(format!("{}://{host}:{port}", url.scheme()))
        };
        let mut origins: Vec<String> = match self.public_url.host_str() {
            Some(host) if ["localhost", "127.0.0.1", "[::1]"].contains(&host) => {
                ["localhost", "127.0.0.1", "[::1]"]
                    .iter()
                    .filter_map(|name| {
                        let mut url = self.public_url.clone();
                        url.set_host(Some(name)).ok()?;
                        with_port(&url)
                    })
                    .collect()
            }
            _ => with_port(&self.public_url).into_iter().collect(),
        };
        origins.extend(self.mcp.allowed_origins.iter().filter_map(with_port));
        origins
    }

    /// Host header values /mcp accepts: the public URL's authority.
    /// A loopback public URL also accepts the other loopback names (`localhost`, `127.0.0.1`,
    /// `[::1]`) on its port, so a local client may use either spelling.
    pub fn allowed_hosts(&self) -> Vec<String> {
        let Some(host) = self.public_url.host_str() else {
            return Vec::new();
        };
        let loopback = ["localhost", "127.0.0.1", "[::1]"];
        let names: Vec<&str> = if loopback.contains(&host) {
            loopback.to_vec()
        } else {
            vec![host]
        };
        // With an explicit port only that port matches; without one the Host header carries no
        // port (the scheme's default), and a bare name is what must match.
        match self.public_url.port() {
            Some(port) => names.iter().map(|name| format!("{name}:{port}")).collect(),
            None => names.iter().map(|name| name.to_string()).collect(),
        }
    }
}

/// Default size limit of a client metadata document.
pub const CIMD_DEFAULT_MAX_BYTES: usize = 128 * 1024;
/// The smallest size limit a configuration may set: a 5 KB cap elsewhere broke real clients,
/// whose documents list many redirect URIs and long names.
pub const CIMD_MIN_MAX_BYTES: usize = 64 * 1024;

/// Client ID Metadata Documents: URL-shaped `client_id`s fetched by `http::cimd`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CimdSettings {
    /// Whether URL `client_id`s are accepted (advertised as
    /// `client_id_metadata_document_supported`).
    pub enabled: bool,
    /// Tests only: also fetch `http://127.0.0.1:<port>/…` and connect to loopback addresses.
    /// Other private and reserved addresses stay refused.
    pub allow_loopback: bool,
    /// Largest document accepted, in bytes; values below [`CIMD_MIN_MAX_BYTES`] are raised to it.
    pub max_bytes: usize,
    /// Limit for the whole fetch: resolving, connecting, TLS, headers and body.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How long a valid document is reused before being fetched again.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// Most documents kept in the cache.
    pub cache_entries: u64,
}

impl Default for CimdSettings {
    fn default() -> CimdSettings {
        CimdSettings {
            enabled: true,
            allow_loopback: false,
            max_bytes: CIMD_DEFAULT_MAX_BYTES,
            timeout: Duration::from_secs(5),
            cache_ttl: Duration::from_secs(60 * 60),
            cache_entries: 256,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_origins_are_the_public_origin_and_the_configured_ones() {
        let mut config = Config::defaults();
        config.public_url = "https://food.example.com".parse().unwrap();
        config.mcp.allowed_origins = vec![
            "https://inspector.example.com".parse().unwrap(),
            "http://localhost:6274".parse().unwrap(),
        ];
        assert_eq!(
            config.allowed_origins(),
            vec![
                "https://food.example.com:443",
                "https://inspector.example.com:443",
                "http://localhost:6274"
            ]
        );
    }

    #[test]
    fn defaults_parse_and_derive_the_resource() {
        let config = Config::defaults();
        assert_eq!(config.mcp_resource(), "http://127.0.0.1:3000/mcp");
        let hosts = config.allowed_hosts();
        for host in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"] {
            assert!(hosts.contains(&host.to_string()), "{host} in {hosts:?}");
        }
        assert_eq!(hosts.len(), 3, "only the public port: {hosts:?}");
        assert_eq!(
            config.allowed_origins(),
            vec![
                "http://localhost:3000",
                "http://127.0.0.1:3000",
                "http://[::1]:3000"
            ]
        );
        assert_eq!(config.cache.usda_ttl, Duration::from_secs(30 * 86400));
        assert_eq!(config.log.format, crate::telemetry::LogFormat::Text);
        assert_eq!(config.metrics.bind, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(config.actors.call_timeout, Duration::from_secs(10));
        assert!(config.catalog.auto_import);
        for limits in [config.usda.limits, config.openfoodfacts.limits] {
            assert_eq!(limits.max_body_bytes, 4 * 1024 * 1024);
            assert_eq!(limits.max_concurrent_requests, 8);
            assert_eq!(limits.breaker_failures, 5);
            assert_eq!(limits.breaker_cool_down, Duration::from_secs(30));
        }
        assert!(
            config
                .catalog
                .url
                .as_str()
                .ends_with("FoodData_Central_sr_legacy_food_csv_2018-04.zip")
        );
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment::Jail's closure signature is fixed"
    )]
    fn a_named_file_layers_under_the_environment_and_must_exist() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "food.toml",
                "database_path = \"/srv/food.db\"\n[catalog]\nauto_import = false\n",
            )?;
            jail.set_env("FOOD_MCP__CATALOG__URL", "http://127.0.0.1:9/sr.zip");
            let config = Config::load(Some(Path::new("food.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.database_path, Path::new("/srv/food.db"));
            assert!(!config.catalog.auto_import);
            assert_eq!(config.catalog.url.as_str(), "http://127.0.0.1:9/sr.zip");

            jail.set_env("FOOD_MCP_CONFIG", "food.toml");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.database_path, Path::new("/srv/food.db"));
            let missing = Config::load(Some(Path::new("nope.toml"))).unwrap_err();
            assert!(missing.to_string().contains("nope.toml"), "{missing}");
            Ok(())
        });
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment::Jail's closure signature is fixed"
    )]
    fn environment_overrides_defaults_even_for_numeric_looking_strings() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FOOD_MCP__USDA__API_KEY", "12345");
            jail.set_env("FOOD_MCP__PUBLIC_URL", "https://food.example.com");
            jail.set_env("FOOD_MCP__CACHE__SEARCH_TTL", "2h");
            jail.set_env("FOOD_MCP__LOG__FORMAT", "json");
            jail.set_env("FOOD_MCP__METRICS__BIND", "");
            jail.set_env("FOOD_MCP__ACTORS__CALL_TIMEOUT", "3s");
            jail.set_env("FOOD_MCP__USDA__MAX_CONCURRENT_REQUESTS", "2");
            jail.set_env("FOOD_MCP__OPENFOODFACTS__BREAKER_COOL_DOWN", "5m");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.usda.api_key, "12345");
            assert_eq!(config.mcp_resource(), "https://food.example.com/mcp");
            assert_eq!(config.allowed_hosts(), vec!["food.example.com"]);
            assert_eq!(config.cache.search_ttl, Duration::from_secs(7200));
            assert_eq!(config.log.format, crate::telemetry::LogFormat::Json);
            assert_eq!(config.metrics.bind, None);
            assert_eq!(config.actors.call_timeout, Duration::from_secs(3));
            assert_eq!(config.usda.limits.max_concurrent_requests, 2);
            assert_eq!(
                config.openfoodfacts.limits.breaker_cool_down,
                Duration::from_secs(300)
            );
            Ok(())
        });
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment::Jail's closure signature is fixed"
    )]
    fn the_diary_time_zone_is_an_iana_name_or_the_systems() {
        assert!(Config::defaults().diary.timezone.is_none());
        figment::Jail::expect_with(|jail| {
            jail.set_env("FOOD_MCP__DIARY__TIMEZONE", "Asia/Tokyo");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.diary.time_zone().iana_name(), Some("Asia/Tokyo"));
            jail.set_env("FOOD_MCP__DIARY__TIMEZONE", "Mars/Olympus_Mons");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("not an IANA time zone"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment::Jail's closure signature is fixed"
    )]
    fn trusted_proxies_parse_from_a_list_or_one_string() {
        let config = Config::defaults();
        assert!(config.proxy.trusted.is_empty());
        assert_eq!(config.proxy.header, ForwardedHeader::XForwardedFor);
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "food.toml",
                "[proxy]\ntrusted = [\"192.0.2.0/24\", \"::1\"]\n",
            )?;
            jail.set_env("FOOD_MCP_CONFIG", "food.toml");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            let trusted: Vec<String> = config.proxy.trusted.iter().map(|n| n.to_string()).collect();
            assert_eq!(trusted, ["192.0.2.0/24", "::1/128"]);
            jail.set_env("FOOD_MCP__PROXY__TRUSTED", "127.0.0.1, 10.0.0.0/8 ::1");
            jail.set_env("FOOD_MCP__PROXY__HEADER", "forwarded");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            let trusted: Vec<String> = config.proxy.trusted.iter().map(|n| n.to_string()).collect();
            assert_eq!(trusted, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
            assert_eq!(config.proxy.header, ForwardedHeader::Forwarded);
            jail.set_env("FOOD_MCP__PROXY__TRUSTED", "10.0.0.0/33");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("10.0.0.0/33"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn debug_never_shows_the_usda_key() {
        let mut config = Config::defaults();
        config.usda.api_key = "secret-key-123".into();
        assert!(!format!("{config:?}").contains("secret-key-123"));
    }
}
