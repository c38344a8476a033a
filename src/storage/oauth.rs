//! SQLite implementations of `ClientStore`, `CodeStore` and `TokenRepo` (tables from
//! `migrations/0002_oauth.sql`). Secrets arrive and leave as SHA-256 hashes only.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::{StorageError, Untraced};
use crate::auth::client::{AuthMethod, Client, GrantType};
use crate::auth::code::CodeRecord;
use crate::auth::pkce::CodeChallenge;
use crate::auth::redirect::RedirectUri;
use crate::auth::secrets::SecretHash;
use crate::auth::token::{FamilyId, Grace, TokenChange, TokenKind, TokenRecord};
use crate::ports::ClientStore;
use crate::ports::CodeStore;
use crate::ports::TokenRepo;

/// The OAuth tables in the server's SQLite database.
#[derive(Debug, Clone)]
pub struct OAuthStore {
    pool: SqlitePool,
}

impl OAuthStore {
    /// Deletes a client and every token it holds, in one transaction (CLI `clients revoke`);
    /// answers whether the client existed and how many tokens went with it.

    #[tracing::instrument(name = "storage.revoke_client", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "oauth_clients"))]
    pub async fn revoke_client(&self, client_id: &str) -> Result<(bool, u64), StorageError> {
        // One untraced future for the whole transaction: dropping `tx` on an error path queues a
        // rollback, which must not carry our span either.
        let revoked = async {
            let mut tx = self.pool.begin().await?;
            let tokens = sqlx::query("DELETE FROM oauth_tokens WHERE client_id = ?")
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let existed = sqlx::query("DELETE FROM oauth_clients WHERE client_id = ?")
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((existed, tokens))
        };
        Ok(revoked.untraced().await?)
    }

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
    #[tracing::instrument(name = "storage.insert_client", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "INSERT", db.table = "oauth_clients"))]
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
        .untraced()
        .await?;
        Ok(())
    }

    #[tracing::instrument(name = "storage.get_client", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "oauth_clients"))]
    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StorageError> {
        let row = sqlx::query(
            "SELECT client_id, client_name, redirect_uris, grant_types, auth_method, secret_hash, \
             created_at, last_used_at FROM oauth_clients WHERE client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .untraced()
        .await?;
        row.as_ref().map(client_of).transpose()
    }

    #[tracing::instrument(name = "storage.list_clients", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "oauth_clients"))]
    async fn list_clients(&self) -> Result<Vec<Client>, StorageError> {
        let rows = sqlx::query(
            "SELECT client_id, client_name, redirect_uris, grant_types, auth_method, secret_hash, \
             created_at, last_used_at FROM oauth_clients ORDER BY created_at, client_id",
        )
        .fetch_all(&self.pool)
        .untraced()
        .await?;
        rows.iter().map(client_of).collect()
    }

    #[tracing::instrument(name = "storage.touch_client", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "UPDATE", db.table = "oauth_clients"))]
    async fn touch_client(&self, client_id: &str, at: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE oauth_clients SET last_used_at = ? WHERE client_id = ?")
            .bind(at)
            .bind(client_id)
            .execute(&self.pool)
            .untraced()
            .await?;
        Ok(())
    }

    #[tracing::instrument(name = "storage.delete_unused_clients", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "oauth_clients"))]
    async fn delete_unused_clients(&self, created_before: i64) -> Result<u64, StorageError> {
        let done =
            sqlx::query("DELETE FROM oauth_clients WHERE last_used_at IS NULL AND created_at < ?")
                .bind(created_before)
                .execute(&self.pool)
                .untraced()
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
    #[tracing::instrument(name = "storage.insert_code", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "INSERT", db.table = "oauth_codes"))]
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
        .untraced()
        .await?;
        Ok(())
    }

    #[tracing::instrument(name = "storage.get_code", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "oauth_codes"))]
    async fn get_code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StorageError> {
        let row = sqlx::query(
            "SELECT code_hash, client_id, redirect_uri, code_challenge, scopes, resource, family_id, \
             expires_at, redeemed_at FROM oauth_codes WHERE code_hash = ?",
        )
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .untraced()
        .await?;
        row.as_ref().map(code_of).transpose()
    }

    #[tracing::instrument(name = "storage.mark_code_redeemed", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "UPDATE", db.table = "oauth_codes"))]
    async fn mark_code_redeemed(&self, hash: &SecretHash, at: i64) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE oauth_codes SET redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL",
        )
        .bind(at)
        .bind(hash.as_bytes().as_slice())
        .execute(&self.pool)
        .untraced()
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(name = "storage.delete_expired_codes", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "oauth_codes"))]
    async fn delete_expired_codes(&self, now: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM oauth_codes WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .untraced()
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
    let grace = match (
        row.try_get::<Option<Vec<u8>>, _>("grace_salt")?,
        row.try_get::<Option<i64>, _>("grace_until")?,
    ) {
        (Some(salt), Some(until)) => Some(Grace {
            salt: <[u8; 32]>::try_from(salt.as_slice())
                .map_err(|_| corrupt("grace salt of the wrong length"))?,
            until,
        }),
        _ => None,
    };
    Ok(TokenRecord {
        hash: hash_of(row, "token_hash")?,
        kind,
        client_id: row.try_get("client_id")?,
        family: FamilyId::from_stored(row.try_get("family_id")?),
        scopes: scopes_of(row)?,
        resource: row.try_get("resource")?,
        expires_at: row.try_get("expires_at")?,
        grace,
    })
}

#[async_trait]
impl TokenRepo for OAuthStore {
    #[tracing::instrument(name = "storage.load_active_tokens", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "oauth_tokens"))]
    async fn load_active_tokens(&self, now: i64) -> Result<Vec<TokenRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT token_hash, kind, client_id, family_id, scopes, resource, expires_at, \
             grace_salt, grace_until FROM oauth_tokens WHERE expires_at > ?",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .untraced()
        .await?;
        rows.iter().map(token_of).collect()
    }

    #[tracing::instrument(name = "storage.apply_token_change", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "TRANSACTION", db.table = "oauth_tokens"))]
    async fn apply_token_change(&self, change: &TokenChange) -> Result<(), StorageError> {
        // One untraced future for the whole transaction (see `revoke_client`).
        let applied = async {
            let mut tx = self.pool.begin().await?;
            for hash in &change.delete {
                sqlx::query("DELETE FROM oauth_tokens WHERE token_hash = ?")
                    .bind(hash.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            for token in &change.insert {
                sqlx::query(
                    "INSERT INTO oauth_tokens (token_hash, kind, client_id, family_id, scopes, resource, expires_at, grace_salt, grace_until) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(token.hash.as_bytes().as_slice())
                .bind(kind_str(token.kind))
                .bind(&token.client_id)
                .bind(token.family.as_str())
                .bind(join_scopes(&token.scopes))
                .bind(&token.resource)
                .bind(token.expires_at)
                .bind(token.grace.as_ref().map(|g| g.salt.as_slice()))
                .bind(token.grace.as_ref().map(|g| g.until))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        };
        Ok(applied.untraced().await?)
    }

    #[tracing::instrument(name = "storage.delete_expired_tokens", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "oauth_tokens"))]
    async fn delete_expired_tokens(&self, now: i64) -> Result<u64, StorageError> {
        let swept = async {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("DELETE FROM oauth_tokens WHERE expires_at <= ?")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // An ended grace's salt could only ever re-derive tokens the actor no longer hands
            // out: forget it.
            sqlx::query(
                "UPDATE oauth_tokens SET grace_salt = NULL, grace_until = NULL WHERE grace_until <= ?",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done.rows_affected())
        };
        Ok(swept.untraced().await?)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::*;
    use crate::actors::ActorHandle;
    use crate::actors::token_store::{self, TokenConfig, TokenStore, TokenStoreHandle};
    use crate::auth::secrets::Secret;
    use crate::auth::token::Grant;
    use crate::clock::Clock;

    const T0: i64 = 1_800_000_000;

    /// A fresh database file with every migration in `migrations/` applied.
    async fn open(dir: &tempfile::TempDir) -> OAuthStore {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("test.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .unwrap();
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
        migrator.run(&pool).await.unwrap();
        OAuthStore::new(pool)
    }

    fn client(id: &str, secret: Option<&Secret>) -> Client {
        Client {
            client_id: id.into(),
            client_name: Some("Claude Code".into()),
            redirect_uris: vec![
                RedirectUri::parse("http://localhost/callback").unwrap(),
                RedirectUri::parse("https://app.example/cb?x=1").unwrap(),
            ],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            auth_method: if secret.is_some() {
                AuthMethod::ClientSecretPost
            } else {
                AuthMethod::None
            },
            secret_hash: secret.map(Secret::hash),
            created_at: T0,
            last_used_at: None,
        }
    }

    fn token(kind: TokenKind, family: &FamilyId, expires_at: i64) -> TokenRecord {
        TokenRecord {
            hash: Secret::generate().unwrap().hash(),
            kind,
            client_id: "client-a".into(),
            family: family.clone(),
            scopes: vec!["food:read".into(), "food:write".into()],
            resource: "https://food.example/mcp".into(),
            expires_at,
            grace: None,
        }
    }

    #[tokio::test]
    async fn clients_round_trip_and_unused_ones_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir).await;
        let secret = Secret::generate().unwrap();
        let confidential = client("conf", Some(&secret));
        let public = client("pub", None);
        store.insert_client(&confidential).await.unwrap();
        store.insert_client(&public).await.unwrap();
        assert_eq!(store.get_client("conf").await.unwrap(), Some(confidential));
        assert_eq!(store.get_client("nobody").await.unwrap(), None);

        store.touch_client("pub", T0 + 5).await.unwrap();
        assert_eq!(store.list_clients().await.unwrap().len(), 2);
        assert_eq!(store.delete_unused_clients(T0 + 1).await.unwrap(), 1);
        let left = store.list_clients().await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].last_used_at, Some(T0 + 5));
    }

    #[tokio::test]
    async fn codes_are_claimed_once_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir).await;
        let code = CodeRecord {
            hash: Secret::generate().unwrap().hash(),
            client_id: "client-a".into(),
            redirect_uri: None,
            code_challenge: CodeChallenge::parse(
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                Some("S256"),
            )
            .unwrap(),
            scopes: vec!["food:read".into()],
            resource: "https://food.example/mcp".into(),
            family: FamilyId::generate().unwrap(),
            expires_at: T0 + 60,
            redeemed_at: None,
        };
        store.insert_code(&code).await.unwrap();
        assert_eq!(
            store.get_code(&code.hash).await.unwrap(),
            Some(code.clone())
        );
        assert!(store.mark_code_redeemed(&code.hash, T0 + 1).await.unwrap());
        assert!(!store.mark_code_redeemed(&code.hash, T0 + 2).await.unwrap());
        let stored = store.get_code(&code.hash).await.unwrap().unwrap();
        assert_eq!(stored.redeemed_at, Some(T0 + 1));

        assert_eq!(store.delete_expired_codes(T0 + 59).await.unwrap(), 0);
        assert_eq!(store.delete_expired_codes(T0 + 60).await.unwrap(), 1);
        assert_eq!(store.get_code(&code.hash).await.unwrap(), None);
    }

    #[tokio::test]
    async fn revoking_a_client_deletes_it_with_its_tokens_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir).await;
        store
            .insert_client(&client("client-a", None))
            .await
            .unwrap();
        store
            .insert_client(&client("client-b", None))
            .await
            .unwrap();
        let family = FamilyId::generate().unwrap();
        let other = TokenRecord {
            client_id: "client-b".into(),
            ..token(TokenKind::Access, &family, T0 + 3600)
        };
        let change = TokenChange {
            delete: vec![],
            insert: vec![
                token(TokenKind::Access, &family, T0 + 3600),
                token(TokenKind::Refresh, &family, T0 + 86_400),
                other.clone(),
            ],
        };
        store.apply_token_change(&change).await.unwrap();

        assert_eq!(store.revoke_client("client-a").await.unwrap(), (true, 2));
        assert_eq!(store.revoke_client("client-a").await.unwrap(), (false, 0));
        assert_eq!(store.get_client("client-a").await.unwrap(), None);
        assert!(store.get_client("client-b").await.unwrap().is_some());
        assert_eq!(store.load_active_tokens(T0).await.unwrap(), [other]);
    }

    #[tokio::test]
    async fn token_changes_are_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir).await;
        let family = FamilyId::generate().unwrap();
        let access = token(TokenKind::Access, &family, T0 + 3600);
        let refresh = token(TokenKind::Refresh, &family, T0 + 86_400);
        let change = TokenChange {
            delete: vec![],
            insert: vec![access.clone(), refresh.clone()],
        };
        store.apply_token_change(&change).await.unwrap();

        // Rotation: the refresh token is re-inserted as rotated in the same write.
        let rotated = TokenRecord {
            kind: TokenKind::Rotated,
            grace: Some(Grace {
                salt: [9; 32],
                until: T0 + 60,
            }),
            ..refresh.clone()
        };
        let successor = token(TokenKind::Refresh, &family, T0 + 90_000);
        let rotation = TokenChange {
            delete: vec![refresh.hash],
            insert: vec![rotated.clone(), successor.clone()],
        };
        store.apply_token_change(&rotation).await.unwrap();
        let mut loaded = store.load_active_tokens(T0).await.unwrap();
        loaded.sort_by_key(|t| t.expires_at);
        assert_eq!(loaded, [access.clone(), rotated, successor.clone()]);

        // A failing insert (duplicate hash) rolls the delete back too.
        let broken = TokenChange {
            delete: vec![successor.hash],
            insert: vec![access.clone()],
        };
        assert!(store.apply_token_change(&broken).await.is_err());
        assert_eq!(store.load_active_tokens(T0).await.unwrap().len(), 3);

        assert_eq!(store.load_active_tokens(T0 + 3600).await.unwrap().len(), 2);
        assert_eq!(store.delete_expired_tokens(T0 + 3600).await.unwrap(), 1);
        assert_eq!(store.delete_expired_tokens(T0 + 3600).await.unwrap(), 0);
        // The sweep also forgot the ended grace.
        let left = store.load_active_tokens(T0 + 3600).await.unwrap();
        assert!(left.iter().all(|t| t.grace.is_none()), "{left:?}");
    }

    #[tokio::test]
    async fn token_store_persists_only_hashes_and_its_grace_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open(&dir).await);
        let args = || token_store::Arguments {
            repo: store.clone(),
            clock: Clock::manual(T0),
            config: TokenConfig {
                access_ttl: Duration::from_secs(3600),
                refresh_ttl: Duration::from_secs(30 * 86_400),
                refresh_grace: Duration::from_secs(10),
                sweep_interval: Duration::from_secs(3600),
            },
        };
        let start = || async {
            let actor = ActorHandle::spawn(TokenStore, args(), Duration::from_secs(5)).await;
            TokenStoreHandle::new(actor)
        };
        let tokens = start().await;
        let grant = Grant {
            client_id: "client-a".into(),
            scopes: vec!["food:read".into()],
            resource: "https://food.example/mcp".into(),
            family: FamilyId::generate().unwrap(),
        };
        let issued = tokens.issue(grant).await.unwrap();
        let successor = tokens
            .refresh(issued.refresh_token.clone(), "client-a")
            .await
            .unwrap();

        // A new store over the same database, as after a restart, knows the tokens, and a retry
        // of the rotated one within the grace gets the same successor.
        let restarted = start().await;
        let verified = restarted.verify(&issued.access_token).await;
        assert_eq!(verified.unwrap().client_id, "client-a");
        let again = restarted
            .refresh(issued.refresh_token.clone(), "client-a")
            .await
            .unwrap();
        assert_eq!(again, successor);

        let mut file = std::fs::read(dir.path().join("test.db")).unwrap();
        file.extend(std::fs::read(dir.path().join("test.db-wal")).unwrap_or_default());
        for clear in [
            &issued.access_token,
            &issued.refresh_token,
            &successor.access_token,
            &successor.refresh_token,
        ] {
            let needle = clear.expose().as_bytes();
            assert!(
                !file.windows(needle.len()).any(|w| w == needle),
                "token stored in clear"
            );
        }
    }
}
