//! SQLite implementations of `ClientStore`, `CodeStore` and `TokenRepo` (tables from
//! `migrations/0002_oauth.sql`). Secrets arrive and leave as SHA-256 hashes only.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::StorageError;
use crate::actors::auth_codes::{CodeRecord, CodeStore};
use crate::actors::client_registry::{AuthMethod, Client, ClientStore, GrantType};
use crate::actors::token_store::{FamilyId, TokenChange, TokenKind, TokenRecord, TokenRepo};
use crate::oauth::pkce::CodeChallenge;
use crate::oauth::redirect::RedirectUri;
use crate::oauth::secrets::SecretHash;

/// The OAuth tables in the server's SQLite database.
#[derive(Debug, Clone)]
pub struct OAuthStore {
    pool: SqlitePool,
}

impl OAuthStore {
    pub fn new(pool: SqlitePool) -> OAuthStore {
        OAuthStore { pool }
    }
}

fn corrupt(what: impl std::fmt::Display) -> StorageError {
    StorageError(format!("corrupt row: {what}"))
}

fn hash_of(row: &SqliteRow, column: &str) -> Result<SecretHash, StorageError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    SecretHash::from_slice(&bytes).ok_or_else(|| corrupt(format!("{column} is not 32 bytes")))
}

fn scopes_of(row: &SqliteRow) -> Result<Vec<String>, StorageError> {
    let joined: String = row.try_get("scopes")?;
    Ok(joined.split_whitespace().map(str::to_owned).collect())
}

// Scopes are space-delimited on the wire (RFC 6749 §3.3), so a scope never contains a space.
fn join_scopes(scopes: &[String]) -> String {
    scopes.join(" ")
}

// ---- clients ------------------------------------------------------------------------------

fn client_of(row: &SqliteRow) -> Result<Client, StorageError> {
    let uris: String = row.try_get("redirect_uris")?;
    let uris: Vec<String> = serde_json::from_str(&uris)?;
    let redirect_uris = uris
        .iter()
        .map(|u| RedirectUri::parse(u).map_err(corrupt))
        .collect::<Result<_, _>>()?;
    let grants: String = row.try_get("grant_types")?;
    let grant_types = grants
        .split_whitespace()
        .map(|g| GrantType::parse(g).ok_or_else(|| corrupt(format!("grant type {g:?}"))))
        .collect::<Result<_, _>>()?;
    let method: String = row.try_get("auth_method")?;
    let secret_hash = match row.try_get::<Option<Vec<u8>>, _>("secret_hash")? {
        None => None,
        Some(bytes) => Some(
            SecretHash::from_slice(&bytes).ok_or_else(|| corrupt("secret_hash is not 32 bytes"))?,
        ),
    };
    Ok(Client {
        client_id: row.try_get("client_id")?,
        client_name: row.try_get("client_name")?,
        redirect_uris,
        grant_types,
        auth_method: AuthMethod::parse(&method)
            .ok_or_else(|| corrupt(format!("auth method {method:?}")))?,
        secret_hash,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

#[async_trait]
impl ClientStore for OAuthStore {
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError> {
        let uris: Vec<&str> = client
            .redirect_uris
            .iter()
            .map(RedirectUri::as_str)
            .collect();
        let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
        sqlx::query(
            "INSERT INTO oauth_clients (client_id, client_name, redirect_uris, grant_types, auth_method, \
             secret_hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&client.client_id)
        .bind(&client.client_name)
        .bind(serde_json::to_string(&uris)?)
        .bind(grants.join(" "))
        .bind(client.auth_method.as_str())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(client.created_at)
        .bind(client.last_used_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StorageError> {
        let row = sqlx::query(
            "SELECT client_id, client_name, redirect_uris, grant_types, auth_method, secret_hash, \
             created_at, last_used_at FROM oauth_clients WHERE client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(client_of).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StorageError> {
        let rows = sqlx::query(
            "SELECT client_id, client_name, redirect_uris, grant_types, auth_method, secret_hash, \
             created_at, last_used_at FROM oauth_clients ORDER BY created_at, client_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(client_of).collect()
    }

    async fn touch_client(&self, client_id: &str, at: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE oauth_clients SET last_used_at = ? WHERE client_id = ?")
            .bind(at)
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM oauth_clients WHERE client_id = ?")
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_unused_clients(&self, created_before: i64) -> Result<u64, StorageError> {
        let done =
            sqlx::query("DELETE FROM oauth_clients WHERE last_used_at IS NULL AND created_at < ?")
                .bind(created_before)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}

// ---- authorization codes ------------------------------------------------------------------

fn code_of(row: &SqliteRow) -> Result<CodeRecord, StorageError> {
    let challenge: String = row.try_get("code_challenge")?;
    Ok(CodeRecord {
        hash: hash_of(row, "code_hash")?,
        client_id: row.try_get("client_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: CodeChallenge::parse(Some(&challenge), Some("S256")).map_err(corrupt)?,
        scopes: scopes_of(row)?,
        resource: row.try_get("resource")?,
        family: FamilyId::from_stored(row.try_get("family_id")?),
        expires_at: row.try_get("expires_at")?,
        redeemed_at: row.try_get("redeemed_at")?,
    })
}

#[async_trait]
impl CodeStore for OAuthStore {
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO oauth_codes (code_hash, client_id, redirect_uri, code_challenge, scopes, resource, \
             family_id, expires_at, redeemed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code.hash.as_bytes().as_slice())
        .bind(&code.client_id)
        .bind(&code.redirect_uri)
        .bind(code.code_challenge.as_str())
        .bind(join_scopes(&code.scopes))
        .bind(&code.resource)
        .bind(code.family.as_str())
        .bind(code.expires_at)
        .bind(code.redeemed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StorageError> {
        let row = sqlx::query(
            "SELECT code_hash, client_id, redirect_uri, code_challenge, scopes, resource, family_id, \
             expires_at, redeemed_at FROM oauth_codes WHERE code_hash = ?",
        )
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(code_of).transpose()
    }

    async fn mark_code_redeemed(&self, hash: &SecretHash, at: i64) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE oauth_codes SET redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL",
        )
        .bind(at)
        .bind(hash.as_bytes().as_slice())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_expired_codes(&self, now: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM oauth_codes WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

// ---- tokens -------------------------------------------------------------------------------

fn kind_str(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
        TokenKind::Rotated => "rotated",
    }
}

fn token_of(row: &SqliteRow) -> Result<TokenRecord, StorageError> {
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "access" => TokenKind::Access,
        "refresh" => TokenKind::Refresh,
        "rotated" => TokenKind::Rotated,
        other => return Err(corrupt(format!("token kind {other:?}"))),
    };
    Ok(TokenRecord {
        hash: hash_of(row, "token_hash")?,
        kind,
        client_id: row.try_get("client_id")?,
        family: FamilyId::from_stored(row.try_get("family_id")?),
        scopes: scopes_of(row)?,
        resource: row.try_get("resource")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait]
impl TokenRepo for OAuthStore {
    async fn load_active_tokens(&self, now: i64) -> Result<Vec<TokenRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT token_hash, kind, client_id, family_id, scopes, resource, expires_at \
             FROM oauth_tokens WHERE expires_at > ?",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_of).collect()
    }

    async fn apply_token_change(&self, change: &TokenChange) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        for hash in &change.delete {
            sqlx::query("DELETE FROM oauth_tokens WHERE token_hash = ?")
                .bind(hash.as_bytes().as_slice())
                .execute(&mut *tx)
                .await?;
        }
        for token in &change.insert {
            sqlx::query(
                "INSERT INTO oauth_tokens (token_hash, kind, client_id, family_id, scopes, resource, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(token.hash.as_bytes().as_slice())
            .bind(kind_str(token.kind))
            .bind(&token.client_id)
            .bind(token.family.as_str())
            .bind(join_scopes(&token.scopes))
            .bind(&token.resource)
            .bind(token.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_expired_tokens(&self, now: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM oauth_tokens WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
