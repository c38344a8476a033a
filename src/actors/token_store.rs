//! TokenStore actor: active access and refresh tokens, indexed in memory by SHA-256 hash so that
//! verifying a bearer token reads no database. Every change is written through to storage
//! before the reply; a failed write answers with an error and leaves memory unchanged.
//!
//! Refresh tokens rotate. The exchanged token stays known (hash only, kind `Rotated`) until it
//! would have expired, so a later replay is recognised and revokes its whole family. Within a
//! short grace after rotation a replay instead gets the same successor again (racing clients):
//! that successor is held in clear in this actor's memory only, never stored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SpawnErr};
use tokio::task::JoinHandle;

use super::reply;
use crate::clock::{Clock, secs};
use crate::oauth::secrets::{EntropyError, Secret, SecretHash, new_id};
use crate::storage::StorageError;

/// How long a revoked family stays refused by `Issue`: it covers a code replay that revokes the
/// family between the first redemption and its `Issue` (two actors, two messages).
const REVOKED_FAMILY_MEMORY_SECS: i64 = 600;

/// The tokens descending from one authorization code; revoked together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FamilyId(String);

impl FamilyId {
    pub fn generate() -> Result<FamilyId, EntropyError> {
        new_id().map(FamilyId)
    }

    /// Rebuilds an id read from storage.
    pub fn from_stored(id: String) -> FamilyId {
        FamilyId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a redeemed authorization code grants: the input of `Msg::Issue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// RFC 8707 resource (audience) the tokens are bound to.
    pub resource: String,
    pub family: FamilyId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    /// A refresh token already exchanged for a successor; any use of it is a replay.
    Rotated,
}

/// A token as stored: never the token itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: SecretHash,
    pub kind: TokenKind,
    pub client_id: String,
    pub family: FamilyId,
    pub scopes: Vec<String>,
    pub resource: String,
    pub expires_at: i64,
}

/// One all-or-nothing write: `delete` first, then `insert` (which may re-insert a deleted hash).
#[derive(Debug, Default)]
pub struct TokenChange {
    pub delete: Vec<SecretHash>,
    pub insert: Vec<TokenRecord>,
}

/// Where tokens live between restarts.
#[async_trait]
pub trait TokenRepo: Send + Sync {
    /// Every token not expired at `now`, to fill memory at start.
    async fn load_active_tokens(&self, now: i64) -> Result<Vec<TokenRecord>, StorageError>;
    /// Applies the change atomically.
    async fn apply_token_change(&self, change: &TokenChange) -> Result<(), StorageError>;
    /// Deletes tokens that expired at or before `now`; returns how many.
    async fn delete_expired_tokens(&self, now: i64) -> Result<u64, StorageError>;
}

/// Who an access token speaks for, as the bearer middleware needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub resource: String,
    pub expires_at: i64,
}

/// A token response's content; the tokens are in clear here and in no other place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// When the access token expires (`expires_in` = this minus now).
    pub expires_at: i64,
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown, revoked, or the wrong kind of token.
    #[error("invalid token")]
    Invalid,
    #[error("token expired")]
    Expired,
    #[error("token was issued to another client")]
    WrongClient,
    /// A rotated refresh token came back after the grace: its family is now revoked.
    #[error("refresh token was already used; its grant is revoked")]
    Replayed,
    /// The family was revoked (code replay) before its tokens were issued.
    #[error("the grant was revoked")]
    FamilyRevoked,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

pub enum TokenStoreMsg {
    /// Issues an access and a refresh token for a redeemed authorization code.
    Issue {
        grant: Grant,
        reply: RpcReplyPort<Result<IssuedTokens, TokenError>>,
    },
    /// Checks a bearer token: `Invalid` or `Expired`, or who it speaks for. Reads memory only.
    Verify {
        access_token: Secret,
        reply: RpcReplyPort<Result<Principal, TokenError>>,
    },
    /// Exchanges a refresh token for a new pair (rotation). Concurrent or retried refreshes
    /// within the grace get the same successor; later replays revoke the family.
    Refresh {
        refresh_token: Secret,
        client_id: String,
        reply: RpcReplyPort<Result<IssuedTokens, TokenError>>,
    },
    /// Revokes a token of either kind (RFC 7009); a refresh token takes its family with it.
    /// Unknown tokens succeed, as RFC 7009 §2.2 asks.
    Revoke {
        token: Secret,
        client_id: String,
        reply: RpcReplyPort<Result<(), TokenError>>,
    },
    /// Revokes every token of a client; answers how many were removed.
    RevokeClient {
        client_id: String,
        reply: RpcReplyPort<Result<usize, TokenError>>,
    },
    /// Revokes every token descending from one authorization code (code replay).
    RevokeFamily {
        family: FamilyId,
        reply: RpcReplyPort<Result<(), TokenError>>,
    },
    /// Forgets expired tokens and ended graces; answers how many tokens storage deleted.
    /// Also sent without a reply port every `sweep_interval`. On a storage failure memory is
    /// kept as it was until a sweep succeeds.
    Sweep {
        reply: Option<RpcReplyPort<Result<u64, TokenError>>>,
    },
}

pub type TokenStoreRef = ActorRef<TokenStoreMsg>;

pub struct TokenStore;

pub struct Arguments {
    pub repo: Arc<dyn TokenRepo>,
    pub clock: Clock,
    pub config: TokenConfig,
}

#[derive(Debug, Clone, Copy)]
pub struct TokenConfig {
    /// Access token lifetime (1 h by default).
    pub access_ttl: Duration,
    /// Refresh token lifetime, renewed at each rotation (30 d by default).
    pub refresh_ttl: Duration,
    /// How long a just-rotated refresh token still yields its successor.
    pub refresh_grace: Duration,
    pub sweep_interval: Duration,
}

pub struct State {
    repo: Arc<dyn TokenRepo>,
    clock: Clock,
    config: TokenConfig,
    tokens: HashMap<SecretHash, TokenRecord>,
    /// Successors of refresh tokens rotated within the grace, keyed by the rotated token's hash.
    successors: HashMap<SecretHash, Successor>,
    /// Families revoked recently, with when.
    revoked_families: HashMap<FamilyId, i64>,
}

struct Successor {
    tokens: IssuedTokens,
    until: i64,
}

pub async fn spawn(args: Arguments) -> Result<(TokenStoreRef, JoinHandle<()>), SpawnErr> {
    Actor::spawn(None, TokenStore, args).await
}

impl Actor for TokenStore {
    type Msg = TokenStoreMsg;
    type State = State;
    type Arguments = Arguments;

    async fn pre_start(
        &self,
        _myself: TokenStoreRef,
        args: Arguments,
    ) -> Result<State, ActorProcessingErr> {
        let active = args.repo.load_active_tokens(args.clock.now()).await?;
        tracing::info!(tokens = active.len(), "token store loaded");
        Ok(State {
            repo: args.repo,
            clock: args.clock,
            config: args.config,
            tokens: active.into_iter().map(|t| (t.hash, t)).collect(),
            successors: HashMap::new(),
            revoked_families: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        myself: TokenStoreRef,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        myself.send_interval(state.config.sweep_interval, || TokenStoreMsg::Sweep {
            reply: None,
        });
        Ok(())
    }

    async fn handle(
        &self,
        _myself: TokenStoreRef,
        msg: TokenStoreMsg,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every failure is answered through a reply port; nothing here may stop the actor.
        state.handle_msg(msg).await;
        Ok(())
    }
}

impl State {
    async fn handle_msg(&mut self, msg: TokenStoreMsg) {
        let now = self.clock.now();
        match msg {
            TokenStoreMsg::Issue { grant, reply: port } => {
                reply(port, self.issue(grant, now).await)
            }
            TokenStoreMsg::Verify {
                access_token,
                reply: port,
            } => reply(port, self.verify(&access_token, now)),
            TokenStoreMsg::Refresh {
                refresh_token,
                client_id,
                reply: port,
            } => reply(port, self.refresh(&refresh_token, &client_id, now).await),
            TokenStoreMsg::Revoke {
                token,
                client_id,
                reply: port,
            } => reply(port, self.revoke(&token, &client_id, now).await),
            TokenStoreMsg::RevokeClient {
                client_id,
                reply: port,
            } => {
                let families = self.families_where(|t| t.client_id == client_id);
                reply(port, self.revoke_families(families, now).await);
            }
            TokenStoreMsg::RevokeFamily {
                family,
                reply: port,
            } => {
                reply(
                    port,
                    self.revoke_families(vec![family], now).await.map(drop),
                );
            }
            TokenStoreMsg::Sweep { reply: port } => {
                let swept = self.sweep(now).await;
                if let Err(e) = &swept {
                    tracing::warn!(error = %e, "token sweep failed; retrying next time");
                }
                if let Some(port) = port {
                    reply(port, swept);
                }
            }
        }
    }

    async fn issue(&mut self, grant: Grant, now: i64) -> Result<IssuedTokens, TokenError> {
        if self.revoked_families.contains_key(&grant.family) {
            return Err(TokenError::FamilyRevoked);
        }
        let (issued, records) = self.new_pair(&grant, now)?;
        let change = TokenChange {
            delete: Vec::new(),
            insert: records.to_vec(),
        };
        self.repo.apply_token_change(&change).await?;
        self.tokens.extend(records.map(|t| (t.hash, t)));
        Ok(issued)
    }

    fn verify(&self, presented: &Secret, now: i64) -> Result<Principal, TokenError> {
        match self.tokens.get(&presented.hash()) {
            Some(t) if t.kind == TokenKind::Access && now < t.expires_at => Ok(Principal {
                client_id: t.client_id.clone(),
                scopes: t.scopes.clone(),
                resource: t.resource.clone(),
                expires_at: t.expires_at,
            }),
            Some(t) if t.kind == TokenKind::Access => Err(TokenError::Expired),
            _ => Err(TokenError::Invalid),
        }
    }

    async fn refresh(
        &mut self,
        presented: &Secret,
        client_id: &str,
        now: i64,
    ) -> Result<IssuedTokens, TokenError> {
        let hash = presented.hash();
        let record = match self.tokens.get(&hash) {
            Some(t) if t.kind != TokenKind::Access => t.clone(),
            _ => return Err(TokenError::Invalid),
        };
        if record.client_id != client_id {
            return Err(TokenError::WrongClient);
        }
        if now >= record.expires_at {
            return Err(TokenError::Expired);
        }
        if record.kind == TokenKind::Rotated {
            if let Some(successor) = self.live_successor(&hash, now) {
                return Ok(successor.clone());
            }
            tracing::warn!(
                client_id,
                family = record.family.as_str(),
                "rotated refresh token replayed; revoking its family"
            );
            self.revoke_families(vec![record.family], now).await?;
            return Err(TokenError::Replayed);
        }

        let grant = Grant {
            client_id: record.client_id.clone(),
            scopes: record.scopes.clone(),
            resource: record.resource.clone(),
            family: record.family.clone(),
        };
        let (issued, [access, refresh]) = self.new_pair(&grant, now)?;
        let rotated = TokenRecord {
            kind: TokenKind::Rotated,
            ..record
        };
        // The old token is re-inserted as `Rotated` in the same write that adds its successors.
        let change = TokenChange {
            delete: vec![hash],
            insert: vec![rotated.clone(), access.clone(), refresh.clone()],
        };
        self.repo.apply_token_change(&change).await?;
        self.tokens.extend([
            (hash, rotated),
            (access.hash, access),
            (refresh.hash, refresh),
        ]);
        let until = now.saturating_add(secs(self.config.refresh_grace));
        self.successors.insert(
            hash,
            Successor {
                tokens: issued.clone(),
                until,
            },
        );
        Ok(issued)
    }

    /// The grace successor of a rotated token, while the grace runs and the successor has not
    /// itself been rotated or revoked.
    fn live_successor(&self, rotated: &SecretHash, now: i64) -> Option<&IssuedTokens> {
        let successor = self.successors.get(rotated)?;
        let still_current = self
            .tokens
            .get(&successor.tokens.refresh_token.hash())
            .is_some_and(|t| t.kind == TokenKind::Refresh);
        (now < successor.until && still_current).then_some(&successor.tokens)
    }

    async fn revoke(
        &mut self,
        presented: &Secret,
        client_id: &str,
        now: i64,
    ) -> Result<(), TokenError> {
        let hash = presented.hash();
        let Some(record) = self.tokens.get(&hash) else {
            return Ok(());
        };
        if record.client_id != client_id {
            return Err(TokenError::WrongClient);
        }
        match record.kind {
            TokenKind::Access => {
                let change = TokenChange {
                    delete: vec![hash],
                    insert: Vec::new(),
                };
                self.repo.apply_token_change(&change).await?;
                self.tokens.remove(&hash);
                Ok(())
            }
            TokenKind::Refresh | TokenKind::Rotated => {
                let family = record.family.clone();
                self.revoke_families(vec![family], now).await.map(drop)
            }
        }
    }

    fn families_where(&self, pick: impl Fn(&TokenRecord) -> bool) -> Vec<FamilyId> {
        let mut families: Vec<FamilyId> = self
            .tokens
            .values()
            .filter(|t| pick(t))
            .map(|t| t.family.clone())
            .collect();
        families.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        families.dedup();
        families
    }

    /// Deletes every token of the given families; answers how many tokens went.
    async fn revoke_families(
        &mut self,
        families: Vec<FamilyId>,
        now: i64,
    ) -> Result<usize, TokenError> {
        let doomed: Vec<SecretHash> = self
            .tokens
            .values()
            .filter(|t| families.contains(&t.family))
            .map(|t| t.hash)
            .collect();
        if !doomed.is_empty() {
            let change = TokenChange {
                delete: doomed.clone(),
                insert: Vec::new(),
            };
            self.repo.apply_token_change(&change).await?;
        }
        for hash in &doomed {
            self.tokens.remove(hash);
            self.successors.remove(hash);
        }
        for family in families {
            self.revoked_families.insert(family, now);
        }
        Ok(doomed.len())
    }

    async fn sweep(&mut self, now: i64) -> Result<u64, TokenError> {
        // Memory-only bookkeeping ends on time whatever storage does.
        self.successors.retain(|_, s| now < s.until);
        self.revoked_families
            .retain(|_, at| now < at.saturating_add(REVOKED_FAMILY_MEMORY_SECS));
        let deleted = self.repo.delete_expired_tokens(now).await?;
        self.tokens.retain(|_, t| now < t.expires_at);
        Ok(deleted)
    }

    /// A fresh access + refresh pair for `grant`, in clear and as records.
    fn new_pair(
        &self,
        grant: &Grant,
        now: i64,
    ) -> Result<(IssuedTokens, [TokenRecord; 2]), EntropyError> {
        let access_token = Secret::generate()?;
        let refresh_token = Secret::generate()?;
        let record = |secret: &Secret, kind, ttl| TokenRecord {
            hash: secret.hash(),
            kind,
            client_id: grant.client_id.clone(),
            family: grant.family.clone(),
            scopes: grant.scopes.clone(),
            resource: grant.resource.clone(),
            expires_at: now.saturating_add(secs(ttl)),
        };
        let records = [
            record(&access_token, TokenKind::Access, self.config.access_ttl),
            record(&refresh_token, TokenKind::Refresh, self.config.refresh_ttl),
        ];
        let issued = IssuedTokens {
            access_token,
            refresh_token,
            expires_at: records[0].expires_at,
            scopes: grant.scopes.clone(),
        };
        Ok((issued, records))
    }
}
