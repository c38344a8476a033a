//! What the OAuth actors need from storage: clients, codes and tokens.

use async_trait::async_trait;

use crate::auth::client::Client;
use crate::auth::code::CodeRecord;
use crate::auth::secrets::SecretHash;
use crate::auth::token::{TokenChange, TokenRecord};
use crate::ports::StorageError;

/// Where registrations live.
#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError>;
    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StorageError>;
    async fn list_clients(&self) -> Result<Vec<Client>, StorageError>;
    /// Records a successful authentication.
    async fn touch_client(&self, client_id: &str, at: i64) -> Result<(), StorageError>;
    /// Deletes clients created before `created_before` that never authenticated; returns how many.
    async fn delete_unused_clients(&self, created_before: i64) -> Result<u64, StorageError>;
}

/// Where codes live.
#[async_trait]
pub trait CodeStore: Send + Sync {
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StorageError>;
    async fn get_code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StorageError>;
    /// Marks the code redeemed unless it already was; returns whether this call marked it.
    async fn mark_code_redeemed(&self, hash: &SecretHash, at: i64) -> Result<bool, StorageError>;
    /// Deletes codes that expired at or before `now`; returns how many.
    async fn delete_expired_codes(&self, now: i64) -> Result<u64, StorageError>;
}

/// Where tokens live between restarts.
#[async_trait]
pub trait TokenRepo: Send + Sync {
    /// Every token not expired at `now`, to fill memory at start.
    async fn load_active_tokens(&self, now: i64) -> Result<Vec<TokenRecord>, StorageError>;
    /// Applies the change atomically; a rotated token's grace is written with it.
    async fn apply_token_change(&self, change: &TokenChange) -> Result<(), StorageError>;
    /// Deletes tokens that expired at or before `now`, and forgets graces ended by then;
    /// returns how many tokens it deleted.
    async fn delete_expired_tokens(&self, now: i64) -> Result<u64, StorageError>;
}
