//! The `food-mcp` binary: serve (the default) and the operator commands.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use food_mcp::{
    admin,
    app::App,
    catalog,
    config::Config,
    http::serve,
    storage,
    telemetry::{self, LogFormat},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the settings come from, shown under `--help`.
const CONFIGURATION_HELP: &str = "\
Configuration (later layers win): the built-in defaults (every setting with a comment: \
config/default.toml in the source) < the TOML file named by --config or FOOD_MCP_CONFIG < a .env \
file in the working directory < environment variables FOOD_MCP__<SECTION>__<KEY> (top-level keys: \
FOOD_MCP__<KEY>), e.g. FOOD_MCP__PUBLIC_URL=https://food.example.com or FOOD_MCP__USDA__API_KEY=... \
--database overrides database_path (default data/food-mcp.db, relative to the working directory). \
Logs: RUST_LOG, NO_COLOR; traces: OTEL_EXPORTER_OTLP_ENDPOINT.";

#[derive(Parser)]
#[command(
    version,
    about = "A self-hosted MCP server for deterministic nutrition facts",
    after_help = CONFIGURATION_HELP
)]
struct Cli {
    /// A TOML file layered over the defaults (default: $FOOD_MCP_CONFIG; none).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The SQLite database to use (default: `database_path` of the configuration).
    #[arg(long, global = true, value_name = "FILE")]
    database: Option<PathBuf>,
    /// Log line format (default: `log.format` of the configuration, "text").
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over HTTP (the default).
    Serve,
    /// Import a bulk dataset into the offline catalog.
    #[command(subcommand)]
    Import(ImportCommand),
    /// The owner's consent password.
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// OAuth clients that registered with this server.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Exit 0 when the server at the configured address answers ready (for container health checks).
    Health,
    /// The owner's food diary.
    #[command(subcommand)]
    Diary(DiaryCommand),
    /// Copy the whole database (saved foods, diary, goals, clients) to a new file; safe while
    /// the server runs.
    Backup {
        /// Where to write the copy; it must not exist yet.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum DiaryCommand {
    /// Print every entry of a span of days, one row each (date, time, meal, food, amount,
    /// unit, grams, main nutrients), on stdout.
    Export {
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// The last day, YYYY-MM-DD (included).
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: admin::ExportFormat,
    },
}

#[derive(Subcommand)]
enum OwnerCommand {
    /// Set the password the consent page asks for (prompted twice, or one line on stdin).
    SetPassword,
    /// Print a code the consent page accepts once instead of the password (for 10 minutes),
    /// even while password attempts are locked out.
    OneTimeCode,
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// List registered clients.
    List,
    /// Delete a client and revoke all of its tokens.
    Revoke {
        /// The client_id, as `clients list` shows it.
        client_id: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a USDA FoodData Central CSV download (SR Legacy, Foundation or Survey/FNDDS; a .zip
    /// or its unpacked folder). A re-import replaces the catalog; a failed one changes nothing.
    Usda {
        /// The download's URL, or the downloaded .zip or its folder. Without it, prints where
        /// to download SR Legacy.
        input: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A sentence for the operator, not a backtrace.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The configuration first: its `.env` may carry RUST_LOG and the OTEL_* variables.
    let mut config = Config::load(cli.config.as_deref())
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    if let Some(database) = &cli.database {
        config.database_path = database.clone();
    }
    let settings = telemetry::Settings::from_env(cli.log_format.unwrap_or(config.log.format));
    let telemetry = telemetry::init(&settings)?;
    let result = dispatch(cli, config, &telemetry).await;
    // Flushes the spans still batched, whatever the command's outcome.
    telemetry.shutdown().await;
    result
}

async fn dispatch(
    cli: Cli,
    config: Config,
    telemetry: &telemetry::Telemetry,
) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, telemetry).await,
        Command::Import(ImportCommand::Usda { input }) => import_usda(config, input).await,
        Command::Owner(OwnerCommand::SetPassword) => admin::set_owner_password(&config).await,
        Command::Owner(OwnerCommand::OneTimeCode) => admin::one_time_code(&config).await,
        Command::Clients(ClientsCommand::List) => admin::list_clients(&config).await,
        Command::Clients(ClientsCommand::Revoke { client_id }) => {
            admin::revoke_client(&config, &client_id).await
        }
        Command::Health => admin::health(&config).await,
        Command::Diary(DiaryCommand::Export { from, to, format }) => {
            admin::export_diary(&config, &from, &to, format).await
        }
        Command::Backup { file } => admin::backup(&config, &file).await,
    }
}

async fn import_usda(config: Config, input: Option<PathBuf>) -> anyhow::Result<()> {
    let Some(input) = input else {
        println!(
            "The USDA FoodData Central SR Legacy download:\n  {url}\n\
             Import it straight from there (when this machine can reach it):\n  \
             food-mcp import usda {url}\n\
             or download it first and pass the file (or its unpacked folder):\n  \
             food-mcp import usda FoodData_Central_sr_legacy_food_csv_2018-04.zip\n\
             (A server with an empty catalog imports it by itself at start: catalog.auto_import.)",
            url = config.catalog.url
        );
        return Ok(());
    };
    // The one admin command that may create the database: importing is a way to set one up.
    admin::announce_database(&config);
    let pool = storage::open(&config.database_path).await?;
    let result = catalog::import_command(&pool, &input).await;
    pool.close().await;
    let summary =
        result.map_err(|e| anyhow::anyhow!("import failed, the catalog is unchanged: {e}"))?;
    println!("{summary}");
    Ok(())
}

async fn serve(config: Config, telemetry: &telemetry::Telemetry) -> anyhow::Result<()> {
    let listener = serve::listen(config.bind, config.http.max_connections)
        .map_err(|e| anyhow::anyhow!("binding {} (bind): {e}", config.bind))?;
    let metrics_listener = match config.metrics.bind {
        Some(address) => Some(TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!("binding the metrics address {address} (metrics.bind): {e}")
        })?),
        None => None,
    };
    let (public_url, database, mcp, http_settings) = (
        config.public_url.clone(),
        config.database_path.clone(),
        config.mcp_resource(),
        config.http.clone(),
    );
    match serve::fit_open_files(config.http.max_connections) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(why) => tracing::warn!("{why}"),
    }
    let app = App::build(config).await?;
    // Only now: every start-up check (exposure, database, migrations, actors) has passed.
    tracing::info!(
        address = %listener.local_addr()?,
        %public_url,
        database = %database.display(),
        traces = if telemetry.exporting() { "exported over OTLP" } else { "not exported" },
        "food-mcp listening; MCP endpoint {mcp}"
    );
    let metrics_stop = CancellationToken::new();
    let metrics_task = match metrics_listener {
        Some(metrics_listener) => {
            tracing::info!(address = %metrics_listener.local_addr()?, "metrics at /metrics");
            let router = app.metrics_router();
            let stop = metrics_stop.clone();
            // The same connection limits and bounded drain as the public listener.
            Some(tokio::spawn(async move {
                serve::serve(
                    metrics_listener,
                    router,
                    &http_settings,
                    stop.cancelled_owned(),
                )
                .await
            }))
        }
        None => None,
    };
    let served = app.serve(listener, shutdown_signal()).await;
    metrics_stop.cancel();
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    served
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
