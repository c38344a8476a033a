//! Wiring: config → storage → actors (under a supervisor) → router, and the serve loop with
//! graceful shutdown.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{Router, http::StatusCode, middleware, routing::get};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tower_http::timeout::TimeoutLayer;

use crate::actors::auth_codes::{self, AuthCodes, AuthCodesHandle};
use crate::actors::client_registry::{self, ClientRegistry, ClientRegistryHandle};
use crate::actors::diary::{self, Diary, DiaryHandle};
use crate::actors::food_cache::{self, FoodCache, FoodCacheHandle};
use crate::actors::supervisor::{Roster, Supervision};
use crate::actors::token_store::{self, TokenStore, TokenStoreHandle};
use crate::clock::Clock;
use crate::config::{Config, ConsentMode, HttpConfig};
use crate::first_run;
use crate::http::bearer::{BearerState, require_bearer};
use crate::http::oauth::metadata::RESOURCE_METADATA_PATH;
use crate::http::oauth::{self, Actors, OAuthState};
use crate::http::{fallback, health, home, owner::OwnerPassword, serve};
use crate::mcp;
use crate::sources::{FoodSource, openfoodfacts::OpenFoodFactsClient, usda::UsdaClient};
use crate::storage::catalog::CatalogStore;
use crate::storage::catalog_foods::CatalogFoods;
use crate::storage::{
    self, Pool, diary::SqliteDiaryRepo, foods::SqliteFoodRepo, oauth::OAuthStore, owner::OwnerRepo,
};
use crate::telemetry;
use crate::tools::{DiaryTools, FoodService};

/// A built application: the router plus what must be stopped when it shuts down.
pub struct App {
    pub router: Router,
    pool: Pool,
    supervision: Supervision,
    background: Vec<JoinHandle<()>>,
    mcp_cancel: CancellationToken,
    metrics: PrometheusHandle,
    http: HttpConfig,
}

impl App {
    /// Opens the database, starts the actors and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        check_exposure(&config)?;
        let metrics = telemetry::prometheus();
        let (pool, database_file) = storage::open_guarded(&config.database_path)
            .await
            .with_context(|| format!("opening database {}", config.database_path.display()))?;
        let clock = Clock::system();
        let mut supervision = Supervision::start()
            .await
            .context("starting the actor supervisor")?;
        let call_timeout = config.actors.call_timeout;
        let mut background = Vec::new();

        let http = reqwest::Client::builder()
            .build()
            .context("building the HTTP client")?;
        let upstreams: Vec<Arc<dyn FoodSource>> = vec![
            Arc::new(UsdaClient::new(&config.usda, http.clone())?),
            Arc::new(OpenFoodFactsClient::new(&config.openfoodfacts, http)?),
        ];
        let cache_args = food_cache::Arguments {
            repo: Arc::new(SqliteFoodRepo::new(pool.clone())),
            upstreams,
            ttl: config.cache.clone(),
            clock: clock.clone(),
        };
        let food_cache = supervision
            .supervise(FoodCache, move || cache_args.clone(), call_timeout)
            .await
            .context("starting the food cache")?;
        // A lookup may wait for a fetch, which the slowest upstream's own timeout bounds.
        let fetch_timeout = config.usda.timeout.max(config.openfoodfacts.timeout);
        let food_cache = FoodCacheHandle::new(food_cache, fetch_timeout);

        let loading = Instant::now();
        let catalog_foods = CatalogFoods::load(pool.clone())
            .await
            .context("reading the offline USDA catalog")?;
        tracing::info!(
            foods = catalog_foods.len(),
            elapsed_ms = loading.elapsed().as_millis() as u64,
            "offline USDA catalog in memory"
        );
        background.push(catalog_foods.spawn_refresh(config.catalog.refresh_every));
        let service = Arc::new(FoodService::new(
            food_cache,
            CatalogStore::new(pool.clone()),
            catalog_foods,
        ));
        let diary_args = diary::Arguments {
            repo: Arc::new(SqliteDiaryRepo::new(pool.clone())),
            clock: clock.clone(),
        };
        let diary = supervision
            .supervise(Diary, move || diary_args.clone(), call_timeout)
            .await
            .context("starting the diary")?;
        let diary = DiaryHandle::new(diary);
        let zone = config.diary.time_zone();
        tracing::info!(
            time_zone = zone.iana_name().unwrap_or("(unnamed)"),
            "the diary's days follow this time zone"
        );
        let diary = DiaryTools::new(service.clone(), diary, zone, clock.clone());
        let mcp_cancel = CancellationToken::new();
        let mut mcp = mcp::service(&config, service, diary, mcp_cancel.clone());
        let mut router = Router::new();
        if config.auth.enabled {
            let oauth_state = start_oauth(&config, &pool, &clock, &mut supervision).await?;
            // `route_layer`: the challenge belongs to /mcp, not to the fallback's unknown paths.
            mcp = mcp.route_layer(middleware::from_fn_with_state(
                Arc::new(BearerState {
                    tokens: oauth_state.tokens.clone(),
                    resource: config.mcp_resource(),
                    metadata_url: format!("{}{RESOURCE_METADATA_PATH}", config.public_base()),
                    max_body: config.mcp.max_request_bytes,
                }),
                require_bearer,
            ));
            mcp = mcp.route_layer(middleware::from_fn(fallback::mcp_methods));
            let limits = oauth_state.clone();
            background.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limits.retain_recent();
                }
            }));
            router = router.merge(oauth::router(oauth_state));
        }
        // After the start-up writes (the owner password): the import writes in one long
        // transaction, which other writers wait for.
        background.extend(first_run::spawn_catalog_import(
            pool.clone(),
            &config.catalog,
            &config.database_path,
        ));
        let router = router
            .merge(health::router(
                pool.clone(),
                database_file,
                supervision.roster(),
            ))
            .merge(home::router(&config))
            .merge(mcp)
            .fallback(fallback::not_found)
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                config.http.request_timeout,
            ))
            // Outermost: the request span covers the timeout, the bearer check and the handler.
            // It records method, route and status only: never a query string or a header.
            .layer(middleware::from_fn(telemetry::track_http));
        Ok(App {
            router,
            pool,
            supervision,
            background,
            mcp_cancel,
            metrics,
            http: config.http.clone(),
        })
    }

    /// `GET /metrics` in the Prometheus text format, served on its own address (`metrics.bind`)
    /// so that the public listener never exposes it.
    pub fn metrics_router(&self) -> Router {
        let handle = self.metrics.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    (
                        [(
                            http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        handle.render(),
                    )
                }
            }),
        )
    }

    /// The supervised actors by name (what `/health` reports).
    pub fn actors(&self) -> Roster {
        self.supervision.roster()
    }

    /// Serves until `shutdown` resolves — or the supervisor gives up on an actor, which is then
    /// an error naming it — and drains in-flight requests (`http.drain_timeout` at most), stops
    /// the actors and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let gave_up = self.supervision.gave_up();
        serve::serve(listener, self.router, &self.http, async move {
            tokio::select! {
                () = shutdown => {}
                _ = gave_up => {}
            }
        })
        .await;
        // Only now: cancelling rmcp's token ends its handlers, which answer 500 to a request
        // still running. After a complete drain none is; after a cut-off their connections are
        // already closed.
        self.mcp_cancel.cancel();
        let failure = self.supervision.failure();
        for task in self.background {
            task.abort();
        }
        self.supervision.stop().await;
        self.pool.close().await;
        match failure {
            Some(why) => Err(anyhow::anyhow!("{why}; the server stopped")),
            None => Ok(()),
        }
    }
}

/// Without OAuth, or with consent that approves everyone, /mcp is open to whoever reaches it:
/// allowed only when nothing but this machine can reach it — a loopback bind *and* a loopback
/// `public_url` (a proxy on this host would otherwise carry the internet to the loopback bind),
/// and no trusted proxy.
fn check_exposure(config: &Config) -> anyhow::Result<()> {
    let open = if !config.auth.enabled {
        "auth.enabled = false leaves /mcp open to anyone"
    } else if config.auth.consent == ConsentMode::Auto {
        "auth.consent = \"auto\" gives a token to anyone who registers a client"
    } else {
        return Ok(());
    };
    let public_loopback = match config.public_url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    anyhow::ensure!(
        config.bind.ip().is_loopback() && public_loopback && config.proxy.trusted.is_empty(),
        "{open}; refusing to start with bind {}, public_url {} and {} trusted proxies: \
         that needs a loopback bind, a loopback public_url and no proxy.trusted \
         (or use password consent)",
        config.bind,
        config.public_url,
        config.proxy.trusted.len()
    );
    tracing::warn!("{open}: use this only for local development and protocol testing");
    Ok(())
}

/// Starts the three OAuth actors and builds the endpoints' state; at first start in password
/// mode, generates the owner's password and hands it over (`first_run`).
async fn start_oauth(
    config: &Config,
    pool: &Pool,
    clock: &Clock,
    supervision: &mut Supervision,
) -> anyhow::Result<OAuthState> {
    let auth = &config.auth;
    let call_timeout = config.actors.call_timeout;
    let store = Arc::new(OAuthStore::new(pool.clone()));
    // Each actor gets its arguments again, cloned, at every restart.
    let clients = client_registry::Arguments {
        store: store.clone(),
        clock: clock.clone(),
        max_redirect_uris: auth.max_redirect_uris,
        unused_ttl: auth.unused_client_ttl,
        sweep_interval: auth.sweep_interval,
    };
    let clients = supervision
        .supervise(ClientRegistry, move || clients.clone(), call_timeout)
        .await
        .context("starting the client registry")?;
    let codes = auth_codes::Arguments {
        store: store.clone(),
        clock: clock.clone(),
        code_ttl: auth.code_ttl,
        sweep_interval: auth.sweep_interval,
    };
    let codes = supervision
        .supervise(AuthCodes, move || codes.clone(), call_timeout)
        .await
        .context("starting the authorization codes")?;
    let tokens = token_store::Arguments {
        repo: store,
        clock: clock.clone(),
        config: token_store::TokenConfig {
            access_ttl: auth.access_token_ttl,
            refresh_ttl: auth.refresh_token_ttl,
            refresh_grace: auth.refresh_grace,
            sweep_interval: auth.sweep_interval,
        },
    };
    let tokens = supervision
        .supervise(TokenStore, move || tokens.clone(), call_timeout)
        .await
        .context("starting the token store")?;

    let owner = OwnerPassword::new(OwnerRepo::new(pool.clone()), clock.clone());
    if auth.consent == ConsentMode::Password
        && let Some(password) = owner.generate_if_absent().await?
    {
        use std::io::IsTerminal;
        first_run::hand_over_owner_password(
            &password,
            &config.database_path,
            std::io::stderr().is_terminal(),
        )?;
    }
    OAuthState::new(
        config,
        Actors {
            clients: ClientRegistryHandle::new(clients),
            codes: AuthCodesHandle::new(codes),
            tokens: TokenStoreHandle::new(tokens),
        },
        owner,
        clock.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_modes_need_a_loopback_bind_and_public_url_and_no_proxy() {
        let mut config = Config::defaults();
        config.bind = "0.0.0.0:3000".parse().unwrap();
        config.public_url = "https://food.example.com".parse().unwrap();
        assert!(
            check_exposure(&config).is_ok(),
            "password consent may listen anywhere"
        );
        config.auth.consent = ConsentMode::Auto;
        assert!(
            check_exposure(&config)
                .unwrap_err()
                .to_string()
                .contains("auto")
        );
        config.auth.consent = ConsentMode::Password;
        config.auth.enabled = false;
        assert!(
            check_exposure(&config)
                .unwrap_err()
                .to_string()
                .contains("auth.enabled")
        );
        // A loopback bind behind a proxy on the same host is still the internet.
        config.bind = "127.0.0.1:3000".parse().unwrap();
        assert!(check_exposure(&config).is_err(), "public public_url");
        for local in [
            "http://127.0.0.1:3000",
            "http://localhost:3000",
            "http://[::1]:3000",
        ] {
            config.public_url = local.parse().unwrap();
            assert!(check_exposure(&config).is_ok(), "{local}");
        }
        config.proxy.trusted = vec!["127.0.0.1/32".parse().unwrap()];
        assert!(
            check_exposure(&config).is_err(),
            "a trusted proxy forwards others"
        );
        config.proxy.trusted.clear();
        config.bind = "[::]:3000".parse().unwrap();
        assert!(check_exposure(&config).is_err(), "public bind");
    }
}
