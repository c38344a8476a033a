//! The operator's commands: `owner set-password`, `owner one-time-code`, `clients list`,
//! `clients revoke`. They work on
//! the database directly, so they run beside a live server; a running server drops revoked
//! tokens from memory at its next sweep (`auth.sweep_interval`).

use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Config;
use crate::http::owner::OwnerPassword;
use crate::ports::ClientStore;
use crate::storage::{self, oauth::OAuthStore, owner::OwnerRepo};

/// Sets the owner's consent password: asked twice on a terminal, else read as one line of stdin.
pub async fn set_owner_password(config: &Config) -> anyhow::Result<()> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New owner password: ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    let pool = storage::open(&config.database_path).await?;
    let owner = OwnerPassword::new(OwnerRepo::new(pool.clone()), Clock::system());
    let result = owner.set(&password).await;
    pool.close().await;
    result?;
    println!(
        "Owner password set. Clients already approved keep their access; revoke them with `food-mcp clients revoke`."
    );
    Ok(())
}

/// Prints a one-time consent code: the owner's way in when password attempts are locked out.
pub async fn one_time_code(config: &Config) -> anyhow::Result<()> {
    let pool = storage::open(&config.database_path).await?;
    let owner = OwnerPassword::new(OwnerRepo::new(pool.clone()), Clock::system());
    let code = owner.issue_one_time_code().await;
    pool.close().await;
    let code = code?;
    println!(
        "One-time consent code (valid {}, one use):\n  {}\n\
         Enter it in the consent page's password field instead of the owner password; it is \
         accepted even while password attempts are locked out.",
        humantime::format_duration(crate::http::owner::ONE_TIME_CODE_TTL),
        code.expose()
    );
    Ok(())
}

pub async fn list_clients(config: &Config) -> anyhow::Result<()> {
    let pool = storage::open(&config.database_path).await?;
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
    let pool = storage::open(&config.database_path).await?;
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

fn date(unix: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}
