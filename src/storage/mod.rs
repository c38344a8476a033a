//! SQLite storage: opening and migrating the database, and the sqlx implementations of the
//! actors' storage traits. Only this folder knows SQL.

pub mod oauth;

/// Why a storage operation failed. The message is for logs; users see a generic sentence.
#[derive(Debug, thiserror::Error)]
#[error("storage error: {0}")]
pub struct StorageError(pub String);

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        StorageError(err.to_string())
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(err: serde_json::Error) -> Self {
        StorageError(format!("corrupt payload: {err}"))
    }
}
