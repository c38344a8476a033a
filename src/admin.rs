//! The operator's commands: `owner set-password`, `owner one-time-code`, `clients list`,
//! `clients revoke`, `diary export`, `backup` and `health`. All but `health` work on the database
//! directly, so they run beside a live server (WAL: readers never block its writes; a running
//! server drops revoked tokens from memory at its next sweep, `auth.sweep_interval`); each says
//! which database it uses and refuses to create one.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::clock::Clock;
use crate::config::Config;
use crate::food::diary::{DaySummary, DiaryDate, Entry, EntryReport, Goals, summarize_day};
use crate::food::nutrients::NutrientKey;
use crate::http::{health::READY_PATH, owner::OwnerPassword};
use crate::ports::{ClientStore, DiaryRepo};
use crate::storage::{self, Pool, diary::SqliteDiaryRepo, oauth::OAuthStore, owner::OwnerRepo};

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

/// Prints a one-time consent code: the owner's way in when password attempts are locked out.
pub async fn one_time_code(config: &Config) -> anyhow::Result<()> {
    let pool = open_existing(config).await?;
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

/// `food-mcp health`: succeeds when the server at the configured address answers its readiness
/// path ([`READY_PATH`]: actors running, database file in place and writable) with 200 within a
/// few seconds (Docker's HEALTHCHECK runs it inside the container).
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

/// `diary export`'s formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One row per entry, with a header line.
    Csv,
    /// An array of the same rows as objects.
    Json,
}

/// The nutrients an export row carries: the core four and the ones labels print most.
const EXPORTED: [NutrientKey; 8] = [
    NutrientKey::Calories,
    NutrientKey::ProteinG,
    NutrientKey::TotalCarbsG,
    NutrientKey::TotalFatG,
    NutrientKey::FiberG,
    NutrientKey::SugarsG,
    NutrientKey::SaturatedFatG,
    NutrientKey::SodiumMg,
];

/// One diary entry as exported: the numbers get_diary shows for it (an empty cell or null means
/// no data, never zero).
#[derive(Debug, Serialize)]
struct ExportRow {
    date: String,
    time: Option<String>,
    meal: Option<&'static str>,
    food: String,
    brand: Option<String>,
    source: &'static str,
    food_id: String,
    amount: f64,
    unit: &'static str,
    grams: Option<f64>,
    calories: Option<f64>,
    protein_g: Option<f64>,
    total_carbs_g: Option<f64>,
    total_fat_g: Option<f64>,
    fiber_g: Option<f64>,
    sugars_g: Option<f64>,
    saturated_fat_g: Option<f64>,
    sodium_mg: Option<f64>,
    note: Option<String>,
    entry_id: String,
}

impl ExportRow {
    fn of(entry: EntryReport) -> ExportRow {
        let value = |key: NutrientKey| entry.nutrients.0.get(&key).and_then(|n| n.value);
        let [
            calories,
            protein_g,
            total_carbs_g,
            total_fat_g,
            fiber_g,
            sugars_g,
            saturated_fat_g,
            sodium_mg,
        ] = EXPORTED.map(value);
        ExportRow {
            date: entry.date.to_string(),
            time: entry.time.map(|t| t.to_string()),
            meal: entry.meal.map(|m| m.as_str()),
            food: entry.name,
            brand: entry.brand,
            source: entry.source.as_str(),
            food_id: entry.food_id,
            amount: entry.amount,
            unit: entry.unit.as_str(),
            grams: entry.grams,
            calories,
            protein_g,
            total_carbs_g,
            total_fat_g,
            fiber_g,
            sugars_g,
            saturated_fat_g,
            sodium_mg,
            note: entry.note,
            entry_id: entry.id,
        }
    }
}

/// The days of `entries` that have any, each in the order get_diary shows it.
fn days_of(entries: Vec<Entry>) -> Vec<DaySummary> {
    let mut by_date: BTreeMap<DiaryDate, Vec<Entry>> = BTreeMap::new();
    for entry in entries {
        by_date.entry(entry.date).or_default().push(entry);
    }
    by_date
        .into_iter()
        .map(|(date, entries)| summarize_day(date, &entries, &Goals::new()))
        .collect()
}

/// The entries of `days`, in order, as CSV or JSON rows.
fn render_export(days: Vec<DaySummary>, format: ExportFormat) -> anyhow::Result<Vec<u8>> {
    let rows: Vec<ExportRow> = days
        .into_iter()
        .flat_map(|day| day.entries)
        .map(ExportRow::of)
        .collect();
    Ok(match format {
        ExportFormat::Json => {
            let mut out = serde_json::to_vec_pretty(&rows)?;
            out.push(b'\n');
            out
        }
        ExportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(Vec::new());
            if rows.is_empty() {
                // The header alone still tells a spreadsheet what the columns are.
                csv.write_record(CSV_HEADER)?;
            }
            for row in &rows {
                csv.serialize(row)?;
            }
            csv.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?
        }
    })
}

const CSV_HEADER: [&str; 20] = [
    "date",
    "time",
    "meal",
    "food",
    "brand",
    "source",
    "food_id",
    "amount",
    "unit",
    "grams",
    "calories",
    "protein_g",
    "total_carbs_g",
    "total_fat_g",
    "fiber_g",
    "sugars_g",
    "saturated_fat_g",
    "sodium_mg",
    "note",
    "entry_id",
];

/// `diary export`: every entry dated `from..=to` on stdout.
pub async fn export_diary(
    config: &Config,
    from: &str,
    to: &str,
    format: ExportFormat,
) -> anyhow::Result<()> {
    let from = DiaryDate::parse("--from", from)?;
    let to = DiaryDate::parse("--to", to)?;
    anyhow::ensure!(from <= to, "--to ({to}) is before --from ({from})");
    let pool = open_existing(config).await?;
    let entries = SqliteDiaryRepo::new(pool.clone())
        .entries_between(from, to)
        .await;
    pool.close().await;
    let out = render_export(days_of(entries?), format)?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// `backup`: a consistent copy of the whole database, taken while the server may be running.
pub async fn backup(config: &Config, dest: &Path) -> anyhow::Result<()> {
    let pool = open_existing(config).await?;
    let result = storage::backup::backup(&pool, dest).await;
    pool.close().await;
    let summary = result?;
    println!(
        "Backed up {} to {} ({} bytes: {} diary entries, {} saved foods). Serve it with FOOD_MCP__DATABASE_PATH={}.",
        config.database_path.display(),
        dest.display(),
        summary.bytes,
        summary.diary_entries,
        summary.saved_foods,
        dest.display()
    );
    Ok(())
}

fn date(unix: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::food::diary::{ClockTime, Meal, Measure, NewEntry};
    use crate::food::model::{Basis, Food, Source};
    use crate::food::units::Unit;

    #[test]
    fn the_probe_asks_loopback_for_a_server_on_every_interface() {
        let probe = |bind: &str| probe_address(bind.parse().unwrap()).to_string();
        assert_eq!(probe("0.0.0.0:3000"), "127.0.0.1:3000");
        assert_eq!(probe("[::]:3000"), "[::1]:3000");
        assert_eq!(probe("192.168.1.5:8080"), "192.168.1.5:8080");
    }

    fn entry(id: &str, date: &str, time: Option<&str>, note: Option<&str>) -> Entry {
        let food = Food {
            id: "173944".into(),
            source: Source::Usda,
            name: "Bananas, raw".into(),
            brand: None,
            category: None,
            data_type: None,
            basis: Basis::Per100g,
            nutrients: [(NutrientKey::Calories, 89.0), (NutrientKey::SodiumMg, 1.0)].into(),
            portions: vec![],
            serving: None,
        };
        NewEntry {
            time: time.map(|t| ClockTime::parse("time", t).unwrap()),
            meal: Some(Meal::Breakfast),
            note: note.map(str::to_string),
            measure: Measure::of(&food, 118.0, Unit::G).unwrap().0,
            food,
        }
        .into_entry(id.into(), DiaryDate::parse("date", date).unwrap(), 0)
    }

    #[test]
    fn csv_has_one_row_per_entry_in_diary_order() {
        let entries = vec![
            entry("entry:2", "2026-03-15", None, Some("ripe, \"spotty\"")),
            entry("entry:1", "2026-03-14", Some("08:00"), None),
            entry("entry:3", "2026-03-15", Some("07:00"), None),
        ];
        let csv =
            String::from_utf8(render_export(days_of(entries), ExportFormat::Csv).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(
            lines[1],
            "2026-03-14,08:00,breakfast,\"Bananas, raw\",,usda,173944,118.0,g,118.0,105.0,,,,,,,1.18,,entry:1"
        );
        assert!(
            lines[2].ends_with(",entry:3"),
            "07:00 comes first on the 15th"
        );
        assert!(
            lines[3].ends_with(",\"ripe, \"\"spotty\"\"\",entry:2"),
            "{}",
            lines[3]
        );
        assert_eq!(lines.len(), 4);
        let empty = String::from_utf8(render_export(vec![], ExportFormat::Csv).unwrap()).unwrap();
        assert_eq!(empty.trim_end(), CSV_HEADER.join(","));
    }

    #[test]
    fn json_rows_carry_the_same_fields_with_null_for_no_data() {
        let out = render_export(
            days_of(vec![entry("entry:1", "2026-03-14", None, None)]),
            ExportFormat::Json,
        )
        .unwrap();
        let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(rows[0]["calories"], 105.0);
        assert_eq!(rows[0]["protein_g"], serde_json::Value::Null);
        assert_eq!(rows[0]["time"], serde_json::Value::Null);
        let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), CSV_HEADER.len());
    }
}
