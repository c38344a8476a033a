//! The operator's commands: `owner set-password`, `clients list`, `clients revoke` and `health`.
//! The first three work on the database directly, so they run beside a live server (a running
//! server drops revoked tokens from memory at its next sweep, `auth.sweep_interval`); each says
//! which database it uses and refuses to create one.

use std::io::{BufRead, IsTerminal};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Config;
use crate::http::owner::OwnerPassword;
use crate::ports::ClientStore;
use crate::storage::{self, Pool, oauth::OAuthStore, owner::OwnerRepo};

/// Sets the owner's consent password: asked twice on a terminal, else read as one line of stdin.
pub async fn set_owner_password(config: &Config) -> anyhow::Result<()> {
    // The database first: nobody should type a password twice to learn it is the wrong folder.
    let pool = open_existing(config).await?;
    let result = match read_new_password() {
        Ok(password) => OwnerPassword::new(OwnerRepo::new(pool.clone()), Clock::system())
            .set(&password)
            .await
            .map_err(anyhow::Error::from),
        Err(err) => Err(err),
    };
    pool.close().await;
    result?;
    println!(
        "Owner password set. Clients already approved keep their access; revoke them with `food-mcp clients revoke`."
    );
    Ok(())
}

fn read_new_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New owner password: ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn list_clients(config: &Config) -> anyhow::Result<()> {
    let pool = open_existing(config).await?;
    let clients = OAuthStore::new(pool.clone()).list_clients().await;
    pool.close().await;
    let clients = clients?;
    if clients.is_empty() {
        println!("No registered clients.");
        return Ok(());
    }
    println!(
        "{:<40} {:<28} {:<24} {:<20} last used",
        "client_id", "name", "redirect hosts", "registered"
    );
    for client in clients {
        let mut hosts: Vec<String> = client
            .redirect_uris
            .iter()
            .filter_map(|u| {
                url::Url::parse(u.as_str())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
            })
            .collect();
        hosts.dedup();
        println!(
            "{:<40} {:<28} {:<24} {:<20} {}",
            client.client_id,
            client.client_name.as_deref().unwrap_or("-"),
            hosts.join(","),
            date(client.created_at),
            client
                .last_used_at
                .map(date)
                .unwrap_or_else(|| "never".into())
        );
    }
    Ok(())
}

pub async fn revoke_client(config: &Config, client_id: &str) -> anyhow::Result<()> {
    let pool = open_existing(config).await?;
    let result = OAuthStore::new(pool.clone()).revoke_client(client_id).await;
    pool.close().await;
    let (existed, tokens) = result?;
    anyhow::ensure!(
        existed || tokens > 0,
        "no client {client_id}; `food-mcp clients list` shows the registered ones"
    );
    println!(
        "Revoked client {client_id} and {tokens} token(s). A running server stops accepting them within {}.",
        humantime::format_duration(config.auth.sweep_interval)
    );
    Ok(())
}

/// Says on stderr which database a command works on (stdout stays the command's answer), and
/// answers its absolute path.
pub fn announce_database(config: &Config) -> PathBuf {
    let path =
        std::path::absolute(&config.database_path).unwrap_or_else(|_| config.database_path.clone());
    eprintln!("database: {}", path.display());
    path
}

/// Opens the database of an installation that exists. A missing file means the command runs in
/// the wrong folder or with the wrong settings: creating an empty database there would only
/// hide that ("No registered clients.").
async fn open_existing(config: &Config) -> anyhow::Result<Pool> {
    let path = announce_database(config);
    anyhow::ensure!(
        path.is_file(),
        "there is no food-mcp database at {}; nothing was created. Run this command in the \
         server's folder (database_path {:?} is relative to the working directory), or name the \
         database with --database FILE or the server's settings with --config FILE \
         (`food-mcp serve` creates the database at its first start)",
        path.display(),
        config.database_path
    );
    Ok(storage::open(&path).await?)
}

/// The path `food-mcp health` asks; it answers 200 when the server is ready to serve.
pub const READY_PATH: &str = "/health";

/// `food-mcp health`: succeeds when the server at the configured address answers [`READY_PATH`]
/// with 200 within a few seconds (Docker's HEALTHCHECK runs it inside the container).
pub async fn health(config: &Config) -> anyhow::Result<()> {
    let url = format!("http://{}{READY_PATH}", probe_address(config.bind));
    // Loopback only: never through an HTTP proxy the environment may name.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("not ready: no answer from {url}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "not ready: {url} answered {status}");
    println!("ready: {url} answered {status}");
    Ok(())
}

/// Where to reach a server bound to `bind`: a server on every interface (`0.0.0.0`, `[::]`) is
/// asked on loopback.
fn probe_address(bind: SocketAddr) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bind.port())
}

fn date(unix: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_asks_loopback_for_a_server_on_every_interface() {
        let probe = |bind: &str| probe_address(bind.parse().unwrap()).to_string();
        assert_eq!(probe("0.0.0.0:3000"), "127.0.0.1:3000");
        assert_eq!(probe("[::]:3000"), "[::1]:3000");
        assert_eq!(probe("192.168.1.5:8080"), "192.168.1.5:8080");
    }
}
