//! The `food-mcp` binary: serve (the default) and the operator commands.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use food_mcp::{admin, app::App, catalog, config::Config, storage};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    version,
    about = "A self-hosted MCP server for deterministic nutrition facts"
)]
struct Cli {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "food_mcp=info,tower_http=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = Config::load().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Import(ImportCommand::Usda { input }) => import_usda(config, input).await,
        Command::Owner(OwnerCommand::SetPassword) => admin::set_owner_password(&config).await,
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        public_url = %config.public_url,
        database = %config.database_path.display(),
        "food-mcp listening; MCP endpoint {}",
        config.mcp_resource()
    );
    let app = App::build(config).await?;
    app.serve(listener, shutdown_signal()).await
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
