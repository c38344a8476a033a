//! What the diary needs from storage: the owner's diary entries and daily goals.

use async_trait::async_trait;

use crate::food::diary::{DiaryDate, Entry, Goals};
use crate::ports::StorageError;

/// Storage the diary writes through to. Every write is one transaction, durable when it returns
/// `Ok`.
#[async_trait]
pub trait DiaryRepo: Send + Sync + 'static {
    /// Entries dated `from..=to`, in logging order.
    async fn entries_between(
        &self,
        from: DiaryDate,
        to: DiaryDate,
    ) -> Result<Vec<Entry>, StorageError>;
    async fn entry(&self, id: &str) -> Result<Option<Entry>, StorageError>;
    /// Inserts all of them or none.
    async fn insert_entries(&self, entries: &[Entry]) -> Result<(), StorageError>;
    /// Replaces the entry with `entry.id`; false when there is none.
    async fn update_entry(&self, entry: &Entry) -> Result<bool, StorageError>;
    /// False when there was no such entry.
    async fn delete_entry(&self, id: &str) -> Result<bool, StorageError>;
    async fn goals(&self) -> Result<Goals, StorageError>;
    /// Replaces every goal with `goals`.
    async fn put_goals(&self, goals: &Goals, at: i64) -> Result<(), StorageError>;
}
