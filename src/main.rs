//! The `food-mcp` binary: serve (the default) and the operator commands.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use food_mcp::{
    admin,
    app::App,
    catalog,
    config::Config,
    storage,
    telemetry::{self, LogFormat},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    version,
    about = "A self-hosted MCP server for deterministic nutrition facts"
)]
struct Cli {
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
    let config = Config::load().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
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
    }
}

async fn import_usda(config: Config, input: Option<PathBuf>) -> anyhow::Result<()> {
    let Some(input) = input else {
        println!(
            "The USDA FoodData Central SR Legacy download:\n  {url}\n\
             Import it straight from there (when this machine can reach it):\n  \
             food-mcp import usda {url}\n\
             or download it first and pass the file (or its unpacked folder):\n  \
             food-mcp import usda FoodData_Central_sr_legacy_food_csv_2018-04.zip",
            url = catalog::SR_LEGACY_DOWNLOAD_URL
        );
        return Ok(());
    };
    let pool = storage::open(&config.database_path).await?;
    let result = catalog::import_command(&pool, &input).await;
    pool.close().await;
    let summary =
        result.map_err(|e| anyhow::anyhow!("import failed, the catalog is unchanged: {e}"))?;
    println!("{summary}");
    Ok(())
}

async fn serve(config: Config, telemetry: &telemetry::Telemetry) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind).await?;
    let metrics_listener = match config.metrics.bind {
        Some(address) => Some(TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!("binding the metrics address {address} (metrics.bind): {e}")
        })?),
        None => None,
    };
    tracing::info!(
        address = %listener.local_addr()?,
        public_url = %config.public_url,
        database = %config.database_path.display(),
        traces = if telemetry.exporting() { "exported over OTLP" } else { "not exported" },
        "food-mcp listening; MCP endpoint {}",
        config.mcp_resource()
    );
    let app = App::build(config).await?;
    let metrics_stop = CancellationToken::new();
    let metrics_task = match metrics_listener {
        Some(metrics_listener) => {
            tracing::info!(address = %metrics_listener.local_addr()?, "metrics at /metrics");
            let router = app.metrics_router();
            let stop = metrics_stop.clone();
            Some(tokio::spawn(async move {
                axum::serve(metrics_listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
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
