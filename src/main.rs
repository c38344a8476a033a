//! The `food-mcp` binary: serve (the default) and the operator commands.

use clap::{Parser, Subcommand};
use food_mcp::{app::App, config::Config};
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
    }
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
