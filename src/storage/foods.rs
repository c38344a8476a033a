//! SQLite implementation of [`FoodRepo`]: the `food_cache` and `custom_foods` tables.

use async_trait::async_trait;
use sqlx::{Row, SqlitePool};

use crate::food::model::Food;
use crate::ports::StorageError;
use crate::ports::{CacheEntry, CustomFood, FoodRepo, Payload};
use crate::storage::Untraced;

#[derive(Clone)]
pub struct SqliteFoodRepo {
    pool: SqlitePool,
}

impl SqliteFoodRepo {
    pub fn new(pool: SqlitePool) -> SqliteFoodRepo {
        SqliteFoodRepo { pool }
    }
}

fn kind_of(payload: &Payload) -> &'static str {
    match payload {
        Payload::Food(_) => "food",
        Payload::Search(_) => "search",
    }
}

fn custom_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<CustomFood, StorageError> {
    let payload: String = row.try_get("payload")?;
    let food: Food = serde_json::from_str(&payload)?;
    Ok(CustomFood {
        food,
        saved_at: row.try_get("saved_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait]
impl FoodRepo for SqliteFoodRepo {
    #[tracing::instrument(name = "storage.get_entry", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "food_cache"))]
    async fn get_entry(&self, key: &str) -> Result<Option<CacheEntry>, StorageError> {
        let row =
            sqlx::query("SELECT payload, fetched_at, expires_at FROM food_cache WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .untraced()
                .await?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get("payload")?;
        Ok(Some(CacheEntry {
            key: key.to_string(),
            payload: serde_json::from_str(&payload)?,
            fetched_at: row.try_get("fetched_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    #[tracing::instrument(name = "storage.put_entry", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "UPSERT", db.table = "food_cache"))]
    async fn put_entry(&self, entry: &CacheEntry) -> Result<(), StorageError> {
        let payload = serde_json::to_string(&entry.payload)?;
        sqlx::query(
            "INSERT INTO food_cache (key, kind, payload, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, payload = excluded.payload,
                 fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
        )
        .bind(&entry.key)
        .bind(kind_of(&entry.payload))
        .bind(payload)
        .bind(entry.fetched_at)
        .bind(entry.expires_at)
        .execute(&self.pool)
        .untraced()
        .await?;
        Ok(())
    }

    #[tracing::instrument(name = "storage.delete_expired", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "food_cache"))]
    async fn delete_expired(&self, before: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM food_cache WHERE expires_at < ?")
            .bind(before)
            .execute(&self.pool)
            .untraced()
            .await?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(name = "storage.get_custom", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "custom_foods"))]
    async fn get_custom(&self, id: &str) -> Result<Option<CustomFood>, StorageError> {
        let row =
            sqlx::query("SELECT payload, saved_at, expires_at FROM custom_foods WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .untraced()
                .await?;
        row.as_ref().map(custom_from_row).transpose()
    }

    #[tracing::instrument(name = "storage.put_custom", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "UPSERT", db.table = "custom_foods"))]
    async fn put_custom(&self, custom: &CustomFood) -> Result<(), StorageError> {
        let payload = serde_json::to_string(&custom.food)?;
        sqlx::query(
            "INSERT INTO custom_foods (id, name, brand, payload, saved_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, brand = excluded.brand,
                 payload = excluded.payload, saved_at = excluded.saved_at, expires_at = excluded.expires_at",
        )
        .bind(&custom.food.id)
        .bind(&custom.food.name)
        .bind(&custom.food.brand)
        .bind(payload)
        .bind(custom.saved_at)
        .bind(custom.expires_at)
        .execute(&self.pool)
        .untraced()
        .await?;
        Ok(())
    }

    #[tracing::instrument(name = "storage.list_custom", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "custom_foods"))]
    async fn list_custom(&self) -> Result<Vec<CustomFood>, StorageError> {
        let rows =
            sqlx::query("SELECT payload, saved_at, expires_at FROM custom_foods ORDER BY name")
                .fetch_all(&self.pool)
                .untraced()
                .await?;
        rows.iter().map(custom_from_row).collect()
    }
}
