//! The owner's password hash (one row).

use sqlx::{Row, SqlitePool};

use crate::ports::StorageError;
use crate::storage::Untraced;

#[derive(Clone)]
pub struct OwnerRepo {
    pool: SqlitePool,
}

impl OwnerRepo {
    pub fn new(pool: SqlitePool) -> OwnerRepo {
        OwnerRepo { pool }
    }

    #[tracing::instrument(name = "storage.password_hash", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "owner"))]
    pub async fn password_hash(&self) -> Result<Option<String>, StorageError> {
        let row = sqlx::query("SELECT password_hash FROM owner WHERE id = 1")
            .fetch_optional(&self.pool)
            .untraced()
            .await?;
        Ok(row.map(|r| r.try_get("password_hash")).transpose()?)
    }

    /// Sets the hash, replacing any earlier one.

    #[tracing::instrument(name = "storage.set_password_hash", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "UPSERT", db.table = "owner"))]
    pub async fn set_password_hash(&self, hash: &str, now: i64) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO owner (id, password_hash, updated_at) VALUES (1, ?, ?)
             ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        )
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .untraced()
        .await?;
        Ok(())
    }

    /// Sets the hash only if none is set; returns whether it was set (first start, racing CLI).

    #[tracing::instrument(name = "storage.set_password_hash_if_absent", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "INSERT", db.table = "owner"))]
    pub async fn set_password_hash_if_absent(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query("INSERT INTO owner (id, password_hash, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(hash)
            .bind(now)
            .execute(&self.pool)
            .untraced()
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
