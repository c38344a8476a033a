//! Imports a FoodData Central CSV download into a SQLite file, as `food-mcp import usda` will:
//! `cargo run --release --example import_usda -- <db file> <zip|dir> [query]` (for timing and memory).

use std::path::PathBuf;

use food_mcp::catalog::import_command;
use food_mcp::config::Config;
use food_mcp::storage::catalog_foods::CatalogFoods;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(db), Some(input)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: import_usda <db file> <zip|dir> [query]\nSR Legacy: {}",
            Config::defaults().catalog.url
        );
        std::process::exit(2);
    };
    let options = SqliteConnectOptions::new()
        .filename(PathBuf::from(db))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new().connect_with(options).await?;
    sqlx::migrate!("./migrations").run(&pool).await?;

    let summary = import_command(&pool, &PathBuf::from(input)).await?;
    println!("{summary}");
    if let Some(query) = args.next() {
        for hit in CatalogFoods::load(pool)
            .await?
            .search(&query.to_string_lossy(), 10)
        {
            println!(
                "{:>7}  {:>6?} kcal  {}",
                hit.id, hit.calories_per_100g, hit.name
            );
        }
    }
    Ok(())
}
