//! `food-mcp backup`: a consistent copy of the whole database, safe while the server runs.
//!
//! `VACUUM INTO` reads one snapshot (a read transaction: in WAL mode the server keeps writing
//! meanwhile) and writes it as a new, compact database, the migration history included, so a
//! server started on the copy serves the same data.

use std::path::Path;

use sqlx::{ConnectOptions, Connection, Row, SqlitePool, sqlite::SqliteConnectOptions};

use crate::ports::StorageError;

/// What a backup holds, read back from the copy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub bytes: u64,
    pub diary_entries: i64,
    pub saved_foods: i64,
}

/// Copies the database behind `pool` to `dest`, which must not exist yet; then checks the copy's
/// integrity and reads its counts.
pub async fn backup(pool: &SqlitePool, dest: &Path) -> Result<BackupSummary, StorageError> {
    if dest.exists() {
        return Err(StorageError(format!(
            "{} already exists; choose a new file name (a backup never overwrites)",
            dest.display()
        )));
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    let target = dest
        .to_str()
        .ok_or_else(|| StorageError(format!("{} is not a UTF-8 path", dest.display())))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(pool)
        .await?;
    // SQLite does not promise to fsync the file VACUUM INTO writes; a backup must be on disk.
    std::fs::File::open(dest)
        .and_then(|file| file.sync_all())
        .map_err(|e| StorageError(format!("syncing {}: {e}", dest.display())))?;

    let mut copy = SqliteConnectOptions::new()
        .filename(dest)
        .read_only(true)
        .connect()
        .await?;
    let integrity: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?
        .try_get(0)?;
    if integrity != "ok" {
        return Err(StorageError(format!(
            "the copy failed its integrity check: {integrity}"
        )));
    }
    let diary_entries: i64 = sqlx::query("SELECT count(*) FROM diary_entries")
        .fetch_one(&mut copy)
        .await?
        .try_get(0)?;
    let saved_foods: i64 = sqlx::query("SELECT count(*) FROM custom_foods")
        .fetch_one(&mut copy)
        .await?
        .try_get(0)?;
    copy.close().await?;
    let bytes = std::fs::metadata(dest)
        .map_err(|e| StorageError(format!("reading {}: {e}", dest.display())))?
        .len();
    Ok(BackupSummary {
        bytes,
        diary_entries,
        saved_foods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_copy_is_a_complete_database_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::storage::open(&dir.path().join("live.db"))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO custom_foods (id, name, payload, saved_at, expires_at) VALUES ('custom:1', 'Oats', '{}', 1, 2)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let dest = dir.path().join("copies/backup.db");
        let summary = backup(&pool, &dest).await.unwrap();
        assert_eq!((summary.saved_foods, summary.diary_entries), (1, 0));
        assert!(summary.bytes > 0);
        // The copy carries its migration history: opening it migrates nothing and keeps the row.
        let reopened = crate::storage::open(&dest).await.unwrap();
        let name: String = sqlx::query("SELECT name FROM custom_foods")
            .fetch_one(&reopened)
            .await
            .unwrap()
            .get(0);
        assert_eq!(name, "Oats");
        let again = backup(&pool, &dest).await.unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
    }
}
