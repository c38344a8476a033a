//! TokenStore actor: active access and refresh tokens, indexed in memory by SHA-256 hash so that
//! verifying a bearer token reads no database. Every change is written through to storage
//! before the reply; a failed write answers with an error and leaves memory unchanged.
//!
//! Refresh tokens rotate. The exchanged token stays known (hash only, kind `Rotated`) until it
//! would have expired, so a later replay is recognised and revokes its whole family. Within a
//! short grace after rotation a replay instead gets the same successor again (racing clients, a
//! retry after a lost answer — also across a restart): the successor pair is derived from the
//! rotated token and a random salt stored with the rotation (`auth::token::Grace`), so no token
//! is ever held or stored in clear to answer it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{ActorHandle, NoAnswer, reply};
use crate::auth::secrets::{EntropyError, Secret, SecretHash, random_bytes};
use crate::auth::token::{
    FamilyId, Grace, Grant, IssuedTokens, Principal, TokenChange, TokenKind, TokenRecord,
    successors,
};
use crate::clock::{Clock, secs};
use crate::ports::{StorageError, TokenRepo};

/// How long a revoked family stays refused by `Issue`: it covers a code replay that revokes the
/// family between the first redemption and its `Issue` (two actors, two messages).
const REVOKED_FAMILY_MEMORY_SECS: i64 = 600;

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
    /// The store is stopped or did not answer in time (see [`NoAnswer`]).
    #[error("the token store is not answering")]
    Unavailable,
}

impl From<NoAnswer> for TokenError {
    fn from(_: NoAnswer) -> Self {
        TokenError::Unavailable
    }
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
    /// Whether a client holds a live grant (an unexpired access or refresh token): the owner
    /// approved it and has not revoked it. /authorize redirects errors only to such clients.
    /// Reads memory only.
    HasGrant {
        client_id: String,
        reply: RpcReplyPort<Result<bool, TokenError>>,
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
    /// Revokes every token descending from one authorization code (code replay).
    RevokeFamily {
        family: FamilyId,
        reply: RpcReplyPort<Result<(), TokenError>>,
    },
    /// Forgets expired tokens, ended graces and tokens deleted from storage by the CLI; answers
    /// how many tokens storage deleted.
    /// Also sent without a reply port every `sweep_interval`. On a storage failure memory is
    /// kept as it was until a sweep succeeds.
    Sweep {
        reply: Option<RpcReplyPort<Result<u64, TokenError>>>,
    },
}

pub type TokenStoreRef = ActorRef<super::Envelope<TokenStoreMsg>>;
impl super::ActorMessage for TokenStoreMsg {
    const ACTOR: &'static str = "token_store";
    const SPAN: &'static str = "actor.token_store";

    fn kind(&self) -> &'static str {
        match self {
            TokenStoreMsg::Issue { .. } => "Issue",
            TokenStoreMsg::Verify { .. } => "Verify",
            TokenStoreMsg::HasGrant { .. } => "HasGrant",
            TokenStoreMsg::Refresh { .. } => "Refresh",
            TokenStoreMsg::Revoke { .. } => "Revoke",
            TokenStoreMsg::RevokeFamily { .. } => "RevokeFamily",
            TokenStoreMsg::Sweep { .. } => "Sweep",
        }
    }
}

#[derive(Clone, Copy)]
pub struct TokenStore;

#[derive(Clone)]
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
    /// Families revoked recently, with when.
    revoked_families: HashMap<FamilyId, i64>,
}

impl Actor for TokenStore {
    type Msg = super::Envelope<TokenStoreMsg>;
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
            revoked_families: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        myself: TokenStoreRef,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        state.publish_active_tokens();
        myself.send_interval(state.config.sweep_interval, || {
            TokenStoreMsg::Sweep { reply: None }.into()
        });
        Ok(())
    }

    async fn handle(
        &self,
        _myself: TokenStoreRef,
        msg: super::Envelope<TokenStoreMsg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every failure is answered through a reply port; nothing here may stop the actor.
        // Reads change nothing; everything else may change how many tokens are active.
        let read = matches!(
            msg.message(),
            TokenStoreMsg::Verify { .. } | TokenStoreMsg::HasGrant { .. }
        );
        msg.handle(|msg| state.handle_msg(msg)).await;
        if !read {
            state.publish_active_tokens();
        }
        Ok(())
    }
}

impl State {
    /// Sets the `oauth_active_tokens` gauge from memory: unexpired access and refresh tokens.
    fn publish_active_tokens(&self) {
        let now = self.clock.now();
        let (mut access, mut refresh) = (0usize, 0usize);
        for token in self.tokens.values().filter(|t| t.expires_at > now) {
            match token.kind {
                TokenKind::Access => access += 1,
                TokenKind::Refresh => refresh += 1,
                TokenKind::Rotated => {}
            }
        }
        metrics::gauge!("oauth_active_tokens", "kind" => "access").set(access as f64);
        metrics::gauge!("oauth_active_tokens", "kind" => "refresh").set(refresh as f64);
    }

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
            TokenStoreMsg::HasGrant {
                client_id,
                reply: port,
            } => reply(port, Ok(self.has_grant(&client_id, now))),
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
            TokenStoreMsg::RevokeFamily {
                family,
                reply: port,
            } => reply(port, self.revoke_family(family, now).await),
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

    /// A scan of memory: one owner's server holds a handful of grants, and /authorize is rare.
    fn has_grant(&self, client_id: &str, now: i64) -> bool {
        self.tokens
            .values()
            .any(|t| t.client_id == client_id && t.kind != TokenKind::Rotated && now < t.expires_at)
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
            if let Some(successor) = self.grace_successor(&record, presented, now) {
                return Ok(successor);
            }
            tracing::warn!(
                client_id,
                family = record.family.as_str(),
                "rotated refresh token replayed; revoking its family"
            );
            self.revoke_family(record.family, now).await?;
            return Err(TokenError::Replayed);
        }

        let grant = Grant {
            client_id: record.client_id.clone(),
            scopes: record.scopes.clone(),
            resource: record.resource.clone(),
            family: record.family.clone(),
        };
        let salt = random_bytes()?;
        let (access_token, refresh_token) = successors(presented, &salt);
        let (issued, [access, refresh]) = self.pair(&grant, access_token, refresh_token, now);
        let rotated = TokenRecord {
            kind: TokenKind::Rotated,
            grace: Some(Grace {
                salt,
                until: now.saturating_add(secs(self.config.refresh_grace)),
            }),
            ..record
        };
        // The old token is re-inserted as `Rotated`, with its grace, in the same write that adds
        // its successors: a crash leaves either the old token current or the rotation complete.
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
        Ok(issued)
    }

    /// The successor pair of a rotated token presented again, while its grace runs and both
    /// successors are still current (not rotated, revoked or expired in turn).
    fn grace_successor(
        &self,
        rotated: &TokenRecord,
        presented: &Secret,
        now: i64,
    ) -> Option<IssuedTokens> {
        let grace = rotated.grace.as_ref().filter(|g| now < g.until)?;
        let (access_token, refresh_token) = successors(presented, &grace.salt);
        let current = |secret: &Secret, kind| {
            self.tokens
                .get(&secret.hash())
                .filter(|t| t.kind == kind && now < t.expires_at)
        };
        let access = current(&access_token, TokenKind::Access)?;
        current(&refresh_token, TokenKind::Refresh)?;
        Some(IssuedTokens {
            expires_at: access.expires_at,
            scopes: access.scopes.clone(),
            access_token,
            refresh_token,
        })
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
                self.revoke_family(family, now).await
            }
        }
    }

    /// Deletes every token of one family and remembers the family as revoked.
    async fn revoke_family(&mut self, family: FamilyId, now: i64) -> Result<(), TokenError> {
        let doomed: Vec<SecretHash> = self
            .tokens
            .values()
            .filter(|t| t.family == family)
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
        }
        self.revoked_families.insert(family, now);
        Ok(())
    }

    async fn sweep(&mut self, now: i64) -> Result<u64, TokenError> {
        // Memory-only bookkeeping ends on time whatever storage does; so does the grace, which
        // storage forgets below.
        for token in self.tokens.values_mut() {
            if token.grace.as_ref().is_some_and(|g| now >= g.until) {
                token.grace = None;
            }
        }
        self.revoked_families
            .retain(|_, at| now < at.saturating_add(REVOKED_FAMILY_MEMORY_SECS));
        let deleted = self.repo.delete_expired_tokens(now).await?;
        // Every change made here is written through, so a token in memory but not in storage
        // was removed from outside (the `clients revoke` command): forget it too.
        let stored: std::collections::HashSet<SecretHash> = self
            .repo
            .load_active_tokens(now)
            .await?
            .into_iter()
            .map(|t| t.hash)
            .collect();
        self.tokens
            .retain(|hash, t| now < t.expires_at && stored.contains(hash));
        Ok(deleted)
    }

    /// A fresh random access + refresh pair for `grant`, in clear and as records.
    fn new_pair(
        &self,
        grant: &Grant,
        now: i64,
    ) -> Result<(IssuedTokens, [TokenRecord; 2]), EntropyError> {
        Ok(self.pair(grant, Secret::generate()?, Secret::generate()?, now))
    }

    /// A token response for `grant` with these two tokens, and their records.
    fn pair(
        &self,
        grant: &Grant,
        access_token: Secret,
        refresh_token: Secret,
        now: i64,
    ) -> (IssuedTokens, [TokenRecord; 2]) {
        let record = |secret: &Secret, kind, ttl| TokenRecord {
            hash: secret.hash(),
            kind,
            client_id: grant.client_id.clone(),
            family: grant.family.clone(),
            scopes: grant.scopes.clone(),
            resource: grant.resource.clone(),
            expires_at: now.saturating_add(secs(ttl)),
            grace: None,
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
        (issued, records)
    }
}

/// The store's typed handle: one method per request, each bounded by the call timeout.
#[derive(Clone)]
pub struct TokenStoreHandle(ActorHandle<TokenStoreMsg>);

impl TokenStoreHandle {
    pub fn new(actor: ActorHandle<TokenStoreMsg>) -> Self {
        TokenStoreHandle(actor)
    }

    /// Issues an access and a refresh token for a redeemed code.
    pub async fn issue(&self, grant: Grant) -> Result<IssuedTokens, TokenError> {
        self.0
            .ask(|reply| TokenStoreMsg::Issue { grant, reply })
            .await
    }

    /// Who a bearer token speaks for; reads memory only.
    pub async fn verify(&self, access_token: &Secret) -> Result<Principal, TokenError> {
        let access_token = access_token.clone();
        self.0
            .ask(|reply| TokenStoreMsg::Verify {
                access_token,
                reply,
            })
            .await
    }

    /// Whether `client_id` holds a live grant; reads memory only.
    pub async fn has_grant(&self, client_id: &str) -> Result<bool, TokenError> {
        let client_id = client_id.to_string();
        self.0
            .ask(|reply| TokenStoreMsg::HasGrant { client_id, reply })
            .await
    }

    /// Exchanges a refresh token for a new pair (rotation).
    pub async fn refresh(
        &self,
        refresh_token: Secret,
        client_id: &str,
    ) -> Result<IssuedTokens, TokenError> {
        let client_id = client_id.to_string();
        self.0
            .ask(|reply| TokenStoreMsg::Refresh {
                refresh_token,
                client_id,
                reply,
            })
            .await
    }

    /// Revokes a token of either kind (RFC 7009).
    pub async fn revoke(&self, token: Secret, client_id: &str) -> Result<(), TokenError> {
        let client_id = client_id.to_string();
        self.0
            .ask(|reply| TokenStoreMsg::Revoke {
                token,
                client_id,
                reply,
            })
            .await
    }

    /// Revokes every token descending from one authorization code.
    pub async fn revoke_family(&self, family: FamilyId) -> Result<(), TokenError> {
        self.0
            .ask(|reply| TokenStoreMsg::RevokeFamily { family, reply })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::actors::fakes::FakeStore;

    const T0: i64 = 1_800_000_000;
    const HOUR: Duration = Duration::from_secs(3600);
    const GRACE: Duration = Duration::from_secs(10);
    const RESOURCE: &str = "https://food.example/mcp";

    async fn start_on(store: Arc<FakeStore>, clock: Clock) -> TokenStoreHandle {
        let args = Arguments {
            repo: store,
            clock,
            config: TokenConfig {
                access_ttl: HOUR,
                refresh_ttl: 30 * 24 * HOUR,
                refresh_grace: GRACE,
                sweep_interval: HOUR,
            },
        };
        TokenStoreHandle::new(ActorHandle::spawn(TokenStore, args, Duration::from_secs(5)).await)
    }

    async fn start() -> (TokenStoreHandle, Arc<FakeStore>, Clock) {
        let store = Arc::new(FakeStore::default());
        let clock = Clock::manual(T0);
        (start_on(store.clone(), clock.clone()).await, store, clock)
    }

    fn grant(client_id: &str) -> Grant {
        Grant {
            client_id: client_id.into(),
            scopes: vec!["food:read".into()],
            resource: RESOURCE.into(),
            family: FamilyId::generate().unwrap(),
        }
    }

    async fn issue(actor: &TokenStoreHandle, grant: Grant) -> Result<IssuedTokens, TokenError> {
        actor.issue(grant).await
    }

    async fn verify(actor: &TokenStoreHandle, token: &Secret) -> Result<Principal, TokenError> {
        actor.verify(token).await
    }

    async fn refresh(
        actor: &TokenStoreHandle,
        token: &Secret,
        client_id: &str,
    ) -> Result<IssuedTokens, TokenError> {
        actor.refresh(token.clone(), client_id).await
    }

    async fn revoke(
        actor: &TokenStoreHandle,
        token: &Secret,
        client_id: &str,
    ) -> Result<(), TokenError> {
        actor.revoke(token.clone(), client_id).await
    }

    async fn sweep(actor: &TokenStoreHandle) -> Result<u64, TokenError> {
        actor
            .0
            .ask(|reply| TokenStoreMsg::Sweep { reply: Some(reply) })
            .await
    }

    fn active_refresh_tokens(store: &FakeStore, family: &FamilyId) -> usize {
        let tokens = store.tokens.lock().unwrap();
        tokens
            .values()
            .filter(|t| &t.family == family && t.kind == TokenKind::Refresh)
            .count()
    }

    #[tokio::test]
    async fn tokens_deleted_from_storage_outside_the_actor_are_dropped_at_the_sweep() {
        let (actor, store, _clock) = start().await;
        let issued = issue(&actor, grant("client-a")).await.unwrap();
        store.tokens.lock().unwrap().clear(); // what `food-mcp clients revoke` does
        assert!(
            verify(&actor, &issued.access_token).await.is_ok(),
            "memory until the sweep"
        );
        sweep(&actor).await.unwrap();
        assert!(matches!(
            verify(&actor, &issued.access_token).await,
            Err(TokenError::Invalid)
        ));
    }

    #[tokio::test]
    async fn issued_tokens_verify_expire_and_are_swept() {
        let (actor, store, clock) = start().await;
        let issued = issue(&actor, grant("client-a")).await.unwrap();
        assert_eq!(issued.expires_at, T0 + 3600);
        {
            let stored = store.tokens.lock().unwrap();
            assert_eq!(stored.len(), 2);
            assert_eq!(
                stored[&issued.refresh_token.hash()].expires_at,
                T0 + 30 * 24 * 3600
            );
        }
        let principal = verify(&actor, &issued.access_token).await.unwrap();
        assert_eq!(
            principal,
            Principal {
                client_id: "client-a".into(),
                scopes: vec!["food:read".into()],
                resource: RESOURCE.into(),
                expires_at: T0 + 3600,
            }
        );
        assert!(matches!(
            verify(&actor, &issued.refresh_token).await,
            Err(TokenError::Invalid)
        ));
        let unknown = Secret::generate().unwrap();
        assert!(matches!(
            verify(&actor, &unknown).await,
            Err(TokenError::Invalid)
        ));

        clock.advance(HOUR - Duration::from_secs(1));
        assert!(verify(&actor, &issued.access_token).await.is_ok());
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            verify(&actor, &issued.access_token).await,
            Err(TokenError::Expired)
        ));
        assert_eq!(sweep(&actor).await.unwrap(), 1);
        assert!(matches!(
            verify(&actor, &issued.access_token).await,
            Err(TokenError::Invalid)
        ));
        assert!(
            refresh(&actor, &issued.refresh_token, "client-a")
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn refresh_rotates_and_keeps_the_grant() {
        let (actor, store, _clock) = start().await;
        let g = grant("client-a");
        let first = issue(&actor, g.clone()).await.unwrap();
        let second = refresh(&actor, &first.refresh_token, "client-a")
            .await
            .unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_ne!(second.access_token, first.access_token);
        assert_eq!(
            verify(&actor, &second.access_token).await.unwrap().scopes,
            g.scopes
        );
        assert_eq!(active_refresh_tokens(&store, &g.family), 1);
        let old = store.tokens.lock().unwrap()[&first.refresh_token.hash()].kind;
        assert_eq!(old, TokenKind::Rotated);

        assert!(matches!(
            refresh(&actor, &second.refresh_token, "client-b").await,
            Err(TokenError::WrongClient)
        ));
        assert!(matches!(
            refresh(&actor, &second.access_token, "client-a").await,
            Err(TokenError::Invalid)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn fifty_concurrent_refreshes_yield_exactly_one_successor() {
        let (actor, store, _clock) = start().await;
        let g = grant("client-a");
        let first = issue(&actor, g.clone()).await.unwrap();
        let writes_before = store.token_writes.load(Ordering::SeqCst);

        let racers = (0..50).map(|_| {
            let (actor, token) = (actor.clone(), first.refresh_token.clone());
            tokio::spawn(async move { refresh(&actor, &token, "client-a").await })
        });
        let answers: Vec<IssuedTokens> = futures::future::join_all(racers)
            .await
            .into_iter()
            .map(|joined| joined.unwrap().unwrap())
            .collect();

        assert!(
            answers.iter().all(|a| a == &answers[0]),
            "one successor for all"
        );
        assert_eq!(store.token_writes.load(Ordering::SeqCst) - writes_before, 1);
        assert_eq!(active_refresh_tokens(&store, &g.family), 1);
    }

    #[tokio::test]
    async fn a_replay_within_the_grace_gets_the_same_successor() {
        let (actor, _store, clock) = start().await;
        let first = issue(&actor, grant("client-a")).await.unwrap();
        let successor = refresh(&actor, &first.refresh_token, "client-a")
            .await
            .unwrap();
        clock.advance(GRACE - Duration::from_secs(1));
        let again = refresh(&actor, &first.refresh_token, "client-a")
            .await
            .unwrap();
        assert_eq!(again, successor);
        assert!(verify(&actor, &successor.access_token).await.is_ok());
    }

    #[tokio::test]
    async fn a_retry_within_the_grace_after_a_restart_gets_the_same_successor() {
        let (actor, store, clock) = start().await;
        let first = issue(&actor, grant("client-a")).await.unwrap();
        let successor = refresh(&actor, &first.refresh_token, "client-a")
            .await
            .unwrap();
        // A crash: nothing of this actor's memory survives, only what storage holds.
        actor.0.cell().unwrap().kill();
        let restarted = start_on(store.clone(), clock.clone()).await;
        clock.advance(GRACE - Duration::from_secs(1));
        let again = refresh(&restarted, &first.refresh_token, "client-a")
            .await
            .unwrap();
        assert_eq!(again, successor);
        assert!(verify(&restarted, &again.access_token).await.is_ok());

        // Past the grace the sweep forgets the salt, and a replay revokes the grant as before.
        clock.advance(Duration::from_secs(1));
        sweep(&restarted).await.unwrap();
        let rotated = store.tokens.lock().unwrap()[&first.refresh_token.hash()].clone();
        assert_eq!(rotated.grace, None);
        let replay = refresh(&restarted, &first.refresh_token, "client-a").await;
        assert!(matches!(replay, Err(TokenError::Replayed)));
    }

    #[tokio::test]
    async fn a_replay_after_the_grace_revokes_the_family() {
        let (actor, store, clock) = start().await;
        let g = grant("client-a");
        let first = issue(&actor, g.clone()).await.unwrap();
        let other = issue(&actor, grant("client-a")).await.unwrap();
        let successor = refresh(&actor, &first.refresh_token, "client-a")
            .await
            .unwrap();
        clock.advance(GRACE);

        let replay = refresh(&actor, &first.refresh_token, "client-a").await;
        assert!(matches!(replay, Err(TokenError::Replayed)));
        for token in [&first.access_token, &successor.access_token] {
            assert!(matches!(
                verify(&actor, token).await,
                Err(TokenError::Invalid)
            ));
        }
        let next = refresh(&actor, &successor.refresh_token, "client-a").await;
        assert!(matches!(next, Err(TokenError::Invalid)));
        assert!(
            store
                .tokens
                .lock()
                .unwrap()
                .values()
                .all(|t| t.family != g.family)
        );
        assert!(
            verify(&actor, &other.access_token).await.is_ok(),
            "other grants untouched"
        );
    }

    #[tokio::test]
    async fn replaying_a_token_whose_successor_was_used_revokes_even_within_the_grace() {
        let (actor, _store, _clock) = start().await;
        let first = issue(&actor, grant("client-a")).await.unwrap();
        let second = refresh(&actor, &first.refresh_token, "client-a")
            .await
            .unwrap();
        let third = refresh(&actor, &second.refresh_token, "client-a")
            .await
            .unwrap();
        let replay = refresh(&actor, &first.refresh_token, "client-a").await;
        assert!(matches!(replay, Err(TokenError::Replayed)));
        assert!(matches!(
            verify(&actor, &third.access_token).await,
            Err(TokenError::Invalid)
        ));
    }

    #[tokio::test]
    async fn revocation_by_token_and_family() {
        let (actor, _store, _clock) = start().await;
        let a1 = issue(&actor, grant("client-a")).await.unwrap();
        let a2 = issue(&actor, grant("client-a")).await.unwrap();
        let b = issue(&actor, grant("client-b")).await.unwrap();

        // An access token goes alone.
        revoke(&actor, &a1.access_token, "client-a").await.unwrap();
        assert!(matches!(
            verify(&actor, &a1.access_token).await,
            Err(TokenError::Invalid)
        ));
        assert!(refresh(&actor, &a1.refresh_token, "client-a").await.is_ok());
        // A refresh token takes its family; unknown tokens are fine; others' tokens are not.
        revoke(&actor, &a2.refresh_token, "client-a").await.unwrap();
        assert!(matches!(
            verify(&actor, &a2.access_token).await,
            Err(TokenError::Invalid)
        ));
        revoke(&actor, &Secret::generate().unwrap(), "client-a")
            .await
            .unwrap();
        let foreign = revoke(&actor, &b.access_token, "client-a").await;
        assert!(matches!(foreign, Err(TokenError::WrongClient)));

        assert!(verify(&actor, &b.access_token).await.is_ok());

        // A family (code replay) goes whole, and cannot be issued afterwards.
        let g = grant("client-b");
        actor.revoke_family(g.family.clone()).await.unwrap();
        assert!(matches!(
            issue(&actor, g).await,
            Err(TokenError::FamilyRevoked)
        ));
    }

    #[tokio::test]
    async fn failing_storage_answers_an_error_and_leaves_memory_unchanged() {
        let (actor, store, clock) = start().await;
        let issued = issue(&actor, grant("client-a")).await.unwrap();
        store.fail_writes(true);

        assert!(matches!(
            issue(&actor, grant("client-a")).await,
            Err(TokenError::Storage(_))
        ));
        let rotation = refresh(&actor, &issued.refresh_token, "client-a").await;
        assert!(matches!(rotation, Err(TokenError::Storage(_))));
        let revocation = revoke(&actor, &issued.access_token, "client-a").await;
        assert!(matches!(revocation, Err(TokenError::Storage(_))));
        assert!(verify(&actor, &issued.access_token).await.is_ok());
        clock.advance(HOUR);
        assert!(matches!(sweep(&actor).await, Err(TokenError::Storage(_))));
        assert!(matches!(
            verify(&actor, &issued.access_token).await,
            Err(TokenError::Expired)
        ));

        store.fail_writes(false);
        assert_eq!(store.tokens.lock().unwrap().len(), 2);
        let rotated = refresh(&actor, &issued.refresh_token, "client-a").await;
        assert!(rotated.is_ok(), "the refresh token was never consumed");
    }

    #[tokio::test]
    async fn a_restarted_store_loads_active_tokens() {
        let (actor, store, clock) = start().await;
        let issued = issue(&actor, grant("client-a")).await.unwrap();
        actor.0.cell().unwrap().stop(None);
        let restarted = start_on(store, clock).await;
        assert!(verify(&restarted, &issued.access_token).await.is_ok());
    }
}
