//! Ports: what the actors and the catalog importer need from storage, as traits and the records
//! that cross them. `storage/` implements them with SQLite; actor tests use in-memory fakes. This
//! is where the two sides meet, so neither imports the other.

pub mod catalog;
pub mod diary;
pub mod foods;
pub mod oauth;

pub use diary::DiaryRepo;
pub use foods::{CacheEntry, CustomFood, FoodRepo, Payload};
pub use oauth::{ClientStore, CodeStore, TokenRepo};

/// Why a storage operation failed. The message is for logs; users see a generic sentence.
#[derive(Debug, thiserror::Error)]
#[error("storage error: {0}")]
pub struct StorageError(pub String);

impl From<serde_json::Error> for StorageError {
    fn from(err: serde_json::Error) -> Self {
        StorageError(format!("corrupt payload: {err}"))
    }
}
