//! The owner's password hash (one row) and the one-time consent codes (hashes only).

use sqlx::{Row, SqlitePool};

use crate::auth::secrets::SecretHash;
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

    /// Stores a one-time consent code's hash until `expires_at`, dropping expired ones.
    #[tracing::instrument(name = "storage.insert_one_time_code", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "INSERT", db.table = "owner_codes"))]
    pub async fn insert_one_time_code(
        &self,
        hash: &SecretHash,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM owner_codes WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .untraced()
            .await?;
        sqlx::query("INSERT INTO owner_codes (code_hash, expires_at) VALUES (?, ?)")
            .bind(hash.as_bytes().as_slice())
            .bind(expires_at)
            .execute(&self.pool)
            .untraced()
            .await?;
        Ok(())
    }

    /// Uses up a one-time consent code: deletes it and answers whether it was there unexpired.
    #[tracing::instrument(name = "storage.take_one_time_code", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "owner_codes"))]
    pub async fn take_one_time_code(
        &self,
        hash: &SecretHash,
        now: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM owner_codes WHERE code_hash = ? AND expires_at > ?")
            .bind(hash.as_bytes().as_slice())
            .bind(now)
            .execute(&self.pool)
            .untraced()
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
