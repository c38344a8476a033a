//! What the food cache needs from storage: cached upstream answers and the owner's saved foods.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::food::model::{Food, FoodSummary};
use crate::ports::StorageError;

/// What a cache entry holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "lowercase")]
pub enum Payload {
    Food(Box<Food>),
    Search(Vec<FoodSummary>),
}

/// A stored upstream answer.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheEntry {
    pub key: String,
    pub payload: Payload,
    pub fetched_at: i64,
    pub expires_at: i64,
}

/// A food the owner saved.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomFood {
    pub food: Food,
    pub saved_at: i64,
    /// After this the food is reported stale (never deleted).
    pub expires_at: i64,
}

/// Storage the cache writes through to.
#[async_trait]
pub trait FoodRepo: Send + Sync + 'static {
    async fn get_entry(&self, key: &str) -> Result<Option<CacheEntry>, StorageError>;
    async fn put_entry(&self, entry: &CacheEntry) -> Result<(), StorageError>;
    /// Deletes cache entries that expired before `before`; returns how many. Never touches
    /// custom foods.
    async fn delete_expired(&self, before: i64) -> Result<u64, StorageError>;
    async fn get_custom(&self, id: &str) -> Result<Option<CustomFood>, StorageError>;
    /// Inserts or replaces the custom food with `food.id`.
    async fn put_custom(&self, custom: &CustomFood) -> Result<(), StorageError>;
    async fn list_custom(&self) -> Result<Vec<CustomFood>, StorageError>;
}
