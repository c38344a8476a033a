//! In-memory stand-ins for the OAuth storage traits, whose writes fail on demand.
//!
//! The locks here play the database; no actor state sits behind them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::auth::client::Client;
use crate::auth::code::CodeRecord;
use crate::auth::secrets::SecretHash;
use crate::auth::token::{TokenChange, TokenRecord};
use crate::ports::{ClientStore, CodeStore, StorageError, TokenRepo};

/// A full disk on demand: every fake store's writes ask it first.
#[derive(Default)]
pub struct WriteSwitch(AtomicBool);

impl WriteSwitch {
    /// From now on every write fails (`true`) or succeeds again (`false`).
    pub fn fail(&self, fail: bool) {
        self.0.store(fail, Ordering::SeqCst);
    }

    /// The error a write answers while the switch is on.
    pub fn check(&self) -> Result<(), StorageError> {
        if self.0.load(Ordering::SeqCst) {
            Err(StorageError("injected write failure".into()))
        } else {
            Ok(())
        }
    }
}

#[derive(Default)]
pub struct FakeStore {
    pub clients: Mutex<HashMap<String, Client>>,
    pub codes: Mutex<HashMap<SecretHash, CodeRecord>>,
    pub tokens: Mutex<HashMap<SecretHash, TokenRecord>>,
    /// Successful token writes (`apply_token_change`).
    pub token_writes: AtomicUsize,
    fail_writes: WriteSwitch,
    fail_reads: AtomicBool,
}

impl FakeStore {
    /// From now on every write fails (`true`) or succeeds again (`false`).
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.fail(fail);
    }

    /// From now on loading the active tokens (what `TokenStore` does at start) fails (`true`)
    /// or succeeds again (`false`).
    pub fn fail_reads(&self, fail: bool) {
        self.fail_reads.store(fail, Ordering::SeqCst);
    }

    fn write(&self) -> Result<(), StorageError> {
        self.fail_writes.check()
    }
}

#[async_trait]
impl ClientStore for FakeStore {
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError> {
        self.write()?;
        self.clients
            .lock()
            .unwrap()
            .insert(client.client_id.clone(), client.clone());
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StorageError> {
        Ok(self.clients.lock().unwrap().get(client_id).cloned())
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StorageError> {
        let mut all: Vec<Client> = self.clients.lock().unwrap().values().cloned().collect();
        all.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(all)
    }

    async fn touch_client(&self, client_id: &str, at: i64) -> Result<(), StorageError> {
        self.write()?;
        if let Some(c) = self.clients.lock().unwrap().get_mut(client_id) {
            c.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn delete_unused_clients(&self, created_before: i64) -> Result<u64, StorageError> {
        self.write()?;
        let mut clients = self.clients.lock().unwrap();
        let before = clients.len();
        clients.retain(|_, c| c.last_used_at.is_some() || c.created_at >= created_before);
        Ok((before - clients.len()) as u64)
    }
}

#[async_trait]
impl CodeStore for FakeStore {
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StorageError> {
        self.write()?;
        self.codes.lock().unwrap().insert(code.hash, code.clone());
        Ok(())
    }

    async fn get_code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StorageError> {
        Ok(self.codes.lock().unwrap().get(hash).cloned())
    }

    async fn mark_code_redeemed(&self, hash: &SecretHash, at: i64) -> Result<bool, StorageError> {
        self.write()?;
        match self.codes.lock().unwrap().get_mut(hash) {
            Some(code) if code.redeemed_at.is_none() => {
                code.redeemed_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_expired_codes(&self, now: i64) -> Result<u64, StorageError> {
        self.write()?;
        let mut codes = self.codes.lock().unwrap();
        let before = codes.len();
        codes.retain(|_, c| c.expires_at > now);
        Ok((before - codes.len()) as u64)
    }
}

#[async_trait]
impl TokenRepo for FakeStore {
    async fn load_active_tokens(&self, now: i64) -> Result<Vec<TokenRecord>, StorageError> {
        if self.fail_reads.load(Ordering::SeqCst) {
            return Err(StorageError("injected read failure".into()));
        }
        let tokens = self.tokens.lock().unwrap();
        Ok(tokens
            .values()
            .filter(|t| t.expires_at > now)
            .cloned()
            .collect())
    }

    async fn apply_token_change(&self, change: &TokenChange) -> Result<(), StorageError> {
        self.write()?;
        let mut tokens = self.tokens.lock().unwrap();
        for hash in &change.delete {
            tokens.remove(hash);
        }
        for token in &change.insert {
            tokens.insert(token.hash, token.clone());
        }
        self.token_writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn delete_expired_tokens(&self, now: i64) -> Result<u64, StorageError> {
        self.write()?;
        let mut tokens = self.tokens.lock().unwrap();
        let before = tokens.len();
        tokens.retain(|_, t| t.expires_at > now);
        for token in tokens.values_mut() {
            if token.grace.as_ref().is_some_and(|g| g.until <= now) {
                token.grace = None;
            }
        }
        Ok((before - tokens.len()) as u64)
    }
}
