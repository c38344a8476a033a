//! `FoodCache`: the actor that owns cached upstream answers and the owner's saved foods.
//!
//! It answers from storage while fresh, fetches upstream on a miss or expiry in a spawned task
//! (its mailbox never waits on HTTP), coalesces concurrent misses for one key into one fetch
//! (single-flight: later askers' reply ports are parked until the fetch lands), and serves an
//! expired copy marked stale when the upstream fails. Each upstream has a circuit breaker
//! ([`Breaker`]) kept here, beside the cached copies: while it is open (after repeated failures
//! or a `Retry-After`) a lookup is answered at once, stale or with a clear error, without a fetch.
//!
//! Storage is the record; the actor keeps copies in memory so that a hit costs no query: the
//! most recently used cached answers (a bounded LRU) and every saved food. Each write commits to
//! storage first and only then changes memory, so a failed write leaves both as they were.

use std::{collections::HashMap, sync::Arc, time::Duration};

use lru::LruCache;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{ActorHandle, NoAnswer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::clock::{Clock, secs};
use crate::config::CacheConfig;
use crate::food::model::{Food, FoodSummary, Source};
use crate::food::search;
use crate::ports::{CacheEntry, CustomFood, FoodRepo, Payload, StorageError};
use crate::sources::breaker::{Admission, Breaker};
use crate::sources::{FoodSource, SourceError};

/// How many results one upstream search fetches and caches; tools apply their own `limit` after
/// ranking, so the cache key does not depend on it.
pub const SEARCH_PAGE_SIZE: usize = 25;

/// How old the data behind an answer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    /// Fetched from the upstream for this request.
    Fresh,
    /// Served from the cache within its time to live.
    Cached,
    /// Past its time to live, served because the upstream failed (or a saved food not re-checked).
    Stale,
}

/// A value with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Cached<T> {
    pub value: T,
    pub freshness: Freshness,
    /// Set when the answer is stale: why, and since when.
    pub warning: Option<String>,
}

impl<T> Cached<T> {
    /// The same answer, its value turned into another shape.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Cached<U> {
        Cached {
            value: f(self.value),
            freshness: self.freshness,
            warning: self.warning,
        }
    }
}

/// What a lookup answers: the actor's own copy, shared. The caller clones out what it keeps, so
/// the mailbox never copies a food.
#[derive(Clone, Debug, PartialEq)]
pub enum Hit {
    /// A cached upstream answer.
    Answer(Arc<Payload>),
    /// A saved food.
    Saved(Arc<CustomFood>),
}

/// What is asked of the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Food { source: Source, id: String },
    Search { source: Source, query: String },
}

impl Lookup {
    /// The storage key: `usda:173944`, or `search:usda:<sha256 of the normalized query>` (case,
    /// punctuation, word forms and stop words do not make a different search).
    pub fn key(&self) -> String {
        match self {
            Lookup::Food { source, id } => format!("{source}:{id}"),
            Lookup::Search { source, query } => {
                let digest = Sha256::digest(search::normalize(query).as_bytes());
                format!("search:{source}:{}", hex::encode(digest))
            }
        }
    }

    fn source(&self) -> Source {
        match self {
            Lookup::Food { source, .. } | Lookup::Search { source, .. } => *source,
        }
    }
}

/// Why the cache could not answer. Messages are written for the person using the tool.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Upstream(#[from] SourceError),
    #[error("no saved food has id {0}; search with source \"custom\" to find saved foods")]
    CustomNotFound(String),
    #[error("food source {0} is not enabled on this server")]
    SourceDisabled(Source),
    #[error("the food store could not save or read data; try again shortly")]
    Storage,
    /// The cache is stopped or did not answer in time (see [`NoAnswer`]).
    #[error("the food cache is not answering; try again shortly")]
    Unavailable,
}

impl From<NoAnswer> for CacheError {
    fn from(_: NoAnswer) -> Self {
        CacheError::Unavailable
    }
}

pub type FoodCacheRef = ActorRef<super::Envelope<FoodCacheMsg>>;
impl super::ActorMessage for FoodCacheMsg {
    const ACTOR: &'static str = "food_cache";
    const SPAN: &'static str = "actor.food_cache";

    fn kind(&self) -> &'static str {
        match self {
            FoodCacheMsg::Get { .. } => "Get",
            FoodCacheMsg::SaveCustom { .. } => "SaveCustom",
            FoodCacheMsg::ListCustom { .. } => "ListCustom",
            FoodCacheMsg::Fetched { .. } => "Fetched",
            FoodCacheMsg::Sweep { .. } => "Sweep",
        }
    }
}

pub enum FoodCacheMsg {
    /// Answers a food or a search, from the cache or by fetching upstream.
    Get {
        lookup: Lookup,
        reply: RpcReplyPort<Result<Cached<Hit>, CacheError>>,
    },
    /// Inserts or replaces a saved food; its time to live starts again. Whether it replaced one is
    /// decided in this same message, so concurrent saves of one food report one creation.
    SaveCustom {
        food: Box<Food>,
        reply: RpcReplyPort<Result<Saved, CacheError>>,
    },
    /// Every saved food, ordered by name: the actor's snapshot, shared (no query).
    ListCustom {
        reply: RpcReplyPort<Result<SavedList, CacheError>>,
    },
    /// An upstream fetch started by `Get` finished (sent by the fetch task).
    Fetched {
        key: String,
        outcome: Result<Payload, SourceError>,
    },
    /// Deletes entries that expired longer ago than the stale retention.
    Sweep {
        reply: Option<RpcReplyPort<Result<u64, CacheError>>>,
    },
}

#[derive(Clone)]
pub struct Arguments {
    pub repo: Arc<dyn FoodRepo>,
    pub upstreams: Vec<Arc<dyn FoodSource>>,
    pub ttl: CacheConfig,
    pub clock: Clock,
}

/// Every saved food, ordered by name (then id), as the actor holds them.
pub type SavedList = Arc<[Arc<CustomFood>]>;

/// A saved food as stored, and whether it replaced an earlier one.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    pub custom: CustomFood,
    pub updated: bool,
}

pub struct State {
    repo: Arc<dyn FoodRepo>,
    upstreams: HashMap<Source, Arc<dyn FoodSource>>,
    /// One per upstream; a restart starts them closed.
    breakers: HashMap<Source, Breaker>,
    ttl: CacheConfig,
    clock: Clock,
    /// Fetches under way, by key: the expired copy to fall back on and everyone waiting.
    in_flight: HashMap<String, InFlight>,
    /// The most recently used cached answers, by storage key; each is also in storage.
    memory: LruCache<String, Held>,
    /// The saved foods, read from storage at the first need and kept from then on (`None`
    /// until then, so a failed read is retried by the next message instead of stopping the start).
    saved: Option<SavedFoods>,
}

struct InFlight {
    stale: Option<Held>,
    waiters: Vec<RpcReplyPort<Result<Cached<Hit>, CacheError>>>,
}

/// A cached answer as the actor keeps it in memory: a [`CacheEntry`] with its payload shared.
#[derive(Clone)]
struct Held {
    payload: Arc<Payload>,
    fetched_at: i64,
    expires_at: i64,
}

impl From<CacheEntry> for Held {
    fn from(entry: CacheEntry) -> Held {
        Held {
            payload: Arc::new(entry.payload),
            fetched_at: entry.fetched_at,
            expires_at: entry.expires_at,
        }
    }
}

/// The saved foods by id, and the same foods as the ordered list `ListCustom` hands out; saves
/// are rare, so the list is rebuilt at each one and searches only clone an `Arc`.
struct SavedFoods {
    by_id: HashMap<String, Arc<CustomFood>>,
    list: SavedList,
}

impl SavedFoods {
    fn new(all: Vec<CustomFood>) -> SavedFoods {
        let by_id = all
            .into_iter()
            .map(|c| (c.food.id.clone(), Arc::new(c)))
            .collect();
        SavedFoods::listed(by_id)
    }

    fn listed(by_id: HashMap<String, Arc<CustomFood>>) -> SavedFoods {
        let mut list: Vec<_> = by_id.values().cloned().collect();
        // The order storage lists them in (`ORDER BY name`), made total by the id.
        list.sort_by(|a, b| (&a.food.name, &a.food.id).cmp(&(&b.food.name, &b.food.id)));
        SavedFoods {
            by_id,
            list: list.into(),
        }
    }

    fn insert(&mut self, custom: CustomFood) {
        let mut by_id = std::mem::take(&mut self.by_id);
        by_id.insert(custom.food.id.clone(), Arc::new(custom));
        *self = SavedFoods::listed(by_id);
    }
}

#[derive(Clone, Copy)]
pub struct FoodCache;

impl Actor for FoodCache {
    type Msg = super::Envelope<FoodCacheMsg>;
    type State = State;
    type Arguments = Arguments;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Arguments,
    ) -> Result<State, ActorProcessingErr> {
        Ok(State {
            repo: args.repo,
            breakers: args
                .upstreams
                .iter()
                .map(|u| (u.source(), Breaker::new(u.source(), &u.limits())))
                .collect(),
            upstreams: args
                .upstreams
                .into_iter()
                .map(|u| (u.source(), u))
                .collect(),
            memory: LruCache::new(args.ttl.memory_entries),
            ttl: args.ttl,
            clock: args.clock,
            in_flight: HashMap::new(),
            saved: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // The sweep is a message, so it is serial with every other change to the cache.
        myself.send_interval(state.ttl.sweep_interval, || {
            FoodCacheMsg::Sweep { reply: None }.into()
        });
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: super::Envelope<FoodCacheMsg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every failure is answered through a reply port; nothing here may stop the actor.
        msg.handle(|msg| state.handle_msg(myself, msg)).await;
        Ok(())
    }
}

impl State {
    async fn handle_msg(&mut self, myself: FoodCacheRef, msg: FoodCacheMsg) {
        match msg {
            FoodCacheMsg::Get { lookup, reply } => self.get(myself, lookup, reply).await,
            FoodCacheMsg::Fetched { key, outcome } => self.fetched(key, outcome).await,
            FoodCacheMsg::SaveCustom { food, reply } => {
                let _ = reply.send(self.save_custom(*food).await);
            }
            FoodCacheMsg::ListCustom { reply } => {
                let listed = self.saved().await.map(|saved| saved.list.clone());
                let _ = reply.send(listed);
            }
            FoodCacheMsg::Sweep { reply } => {
                let before = self.clock.now() - secs(self.ttl.stale_retention);
                let swept = self
                    .repo
                    .delete_expired(before)
                    .await
                    .map_err(storage_failed);
                if let Ok(n) = &swept {
                    tracing::debug!(deleted = n, "food cache swept");
                    self.forget_expired_before(before);
                }
                if let Some(reply) = reply {
                    let _ = reply.send(swept);
                }
            }
        }
    }

    async fn get(
        &mut self,
        myself: FoodCacheRef,
        lookup: Lookup,
        reply: RpcReplyPort<Result<Cached<Hit>, CacheError>>,
    ) {
        if let Lookup::Food {
            source: Source::Custom,
            id,
        } = &lookup
        {
            let _ = reply.send(self.get_custom(id).await);
            return;
        }
        let key = lookup.key();
        if let Some(flight) = self.in_flight.get_mut(&key) {
            cache_outcome("coalesced");
            flight.waiters.push(reply);
            return;
        }
        let entry = self.entry(&key).await;
        let now = self.clock.now();
        if let Some(entry) = entry.as_ref().filter(|e| e.expires_at > now) {
            cache_outcome("hit");
            let cached = Cached {
                value: Hit::Answer(entry.payload.clone()),
                freshness: Freshness::Cached,
                warning: None,
            };
            let _ = reply.send(Ok(cached));
            return;
        }
        let Some(upstream) = self.upstreams.get(&lookup.source()).cloned() else {
            let _ = reply.send(Err(CacheError::SourceDisabled(lookup.source())));
            return;
        };
        if let Some(breaker) = self.breakers.get_mut(&lookup.source())
            && let Admission::Refuse(err) = breaker.admit(now_instant())
        {
            if entry.is_none() {
                cache_outcome("refused");
            }
            let _ = reply.send(self.fall_back(entry, err));
            return;
        }
        cache_outcome("miss");
        let fetch_span = tracing::info_span!(
            "upstream.fetch",
            otel.kind = "client",
            upstream.source = %lookup.source(),
            upstream.operation = match &lookup {
                Lookup::Food { .. } => "food",
                Lookup::Search { .. } => "search",
            },
            upstream.outcome = tracing::field::Empty,
        );
        self.in_flight.insert(
            key.clone(),
            InFlight {
                stale: entry,
                waiters: vec![reply],
            },
        );
        let fetch_span_inner = fetch_span.clone();
        let task = async move {
            // The fetch runs in its own task so a panic in it still reports back and never
            // leaves waiters parked forever.
            let fetch = tokio::spawn(
                async move {
                    match lookup {
                        Lookup::Food { id, .. } => upstream
                            .fetch_food(&id)
                            .await
                            .map(|f| Payload::Food(Box::new(f))),
                        Lookup::Search { query, .. } => upstream
                            .search(&query, SEARCH_PAGE_SIZE)
                            .await
                            .map(Payload::Search),
                    }
                }
                .instrument(fetch_span_inner),
            );
            let upstream_source = upstream_source_of(&key);
            let outcome = fetch.await.unwrap_or_else(|_| {
                Err(SourceError::Unavailable {
                    upstream: upstream_source,
                    reason: "the request failed unexpectedly".into(),
                })
            });
            let source = upstream_source.to_string();
            match &outcome {
                Ok(_) => {
                    tracing::Span::current().record("upstream.outcome", "ok");
                    metrics::counter!("upstream_requests_total", "source" => source, "result" => "ok")
                        .increment(1);
                }
                Err(err) => {
                    let kind = error_kind(err);
                    tracing::Span::current().record("upstream.outcome", kind);
                    metrics::counter!("upstream_requests_total", "source" => source.clone(), "result" => kind)
                        .increment(1);
                    metrics::counter!("upstream_errors_total", "source" => source, "kind" => kind)
                        .increment(1);
                }
            }
            // Sent inside the fetch span: the `Fetched` message's span nests under it.
            let _ = myself.cast(FoodCacheMsg::Fetched { key, outcome }.into());
        };
        tokio::spawn(task.instrument(fetch_span));
    }

    /// The cached copy for `key`: from memory, else from storage (and then kept in memory). A
    /// storage read failure is logged and treated as a miss: the upstream can still answer.
    async fn entry(&mut self, key: &str) -> Option<Held> {
        if let Some(held) = self.memory.get(key) {
            return Some(held.clone());
        }
        match self.repo.get_entry(key).await {
            Ok(Some(entry)) => {
                let held = Held::from(entry);
                self.memory.put(key.to_string(), held.clone());
                Some(held)
            }
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(%err, "food cache read failed");
                None
            }
        }
    }

    /// After a sweep deleted from storage the entries that expired before `before`: memory
    /// lets them go too, so it never serves a stale copy storage no longer has.
    fn forget_expired_before(&mut self, before: i64) {
        let swept: Vec<String> = self
            .memory
            .iter()
            .filter(|(_, held)| held.expires_at < before)
            .map(|(key, _)| key.clone())
            .collect();
        for key in swept {
            self.memory.pop(&key);
        }
    }

    async fn fetched(&mut self, key: String, outcome: Result<Payload, SourceError>) {
        if let Some(breaker) = self.breakers.get_mut(&upstream_source_of(&key)) {
            breaker.record(now_instant(), outcome.as_ref().map(|_| ()));
        }
        let Some(flight) = self.in_flight.remove(&key) else {
            return;
        };
        let answer = match outcome {
            Ok(payload) => {
                let now = self.clock.now();
                let ttl = match &payload {
                    Payload::Search(_) => self.ttl.search_ttl,
                    Payload::Food(food) if food.source == Source::Openfoodfacts => {
                        self.ttl.openfoodfacts_ttl
                    }
                    Payload::Food(_) => self.ttl.usda_ttl,
                };
                let entry = CacheEntry {
                    key,
                    payload,
                    fetched_at: now,
                    expires_at: now + secs(ttl),
                };
                // A failed cache write costs a refetch later, not this answer; memory changes
                // only after storage did, so it keeps the copy storage still has.
                let written = self.repo.put_entry(&entry).await;
                let key = entry.key.clone();
                let held = Held::from(entry);
                match written {
                    Ok(()) => {
                        self.memory.put(key, held.clone());
                    }
                    Err(err) => tracing::warn!(%err, "food cache write failed"),
                }
                Ok(Cached {
                    value: Hit::Answer(held.payload),
                    freshness: Freshness::Fresh,
                    warning: None,
                })
            }
            // Nothing is written: a failed or unusable answer never replaces the cached copy.
            Err(err) => self.fall_back(flight.stale, err),
        };
        for waiter in flight.waiters {
            let _ = waiter.send(answer.clone());
        }
    }

    /// The answer when the upstream cannot give one: the expired copy, marked stale with what went
    /// wrong, unless the error is definite (not found, an impossible id) or there is no copy.
    fn fall_back(&self, stale: Option<Held>, err: SourceError) -> Result<Cached<Hit>, CacheError> {
        match stale {
            Some(stale) if err.allows_stale() => {
                cache_outcome("stale");
                Ok(Cached {
                    value: Hit::Answer(stale.payload),
                    freshness: Freshness::Stale,
                    warning: Some(format!(
                        "{err}; showing data cached {} ago",
                        age(self.clock.now() - stale.fetched_at)
                    )),
                })
            }
            _ => Err(CacheError::Upstream(err)),
        }
    }

    /// The saved foods, read from storage the first time.
    async fn saved(&mut self) -> Result<&mut SavedFoods, CacheError> {
        let saved = match self.saved.take() {
            Some(saved) => saved,
            None => SavedFoods::new(self.repo.list_custom().await.map_err(storage_failed)?),
        };
        Ok(self.saved.insert(saved))
    }

    async fn get_custom(&mut self, id: &str) -> Result<Cached<Hit>, CacheError> {
        let custom = self
            .saved()
            .await?
            .by_id
            .get(id)
            .cloned()
            .ok_or_else(|| CacheError::CustomNotFound(id.to_string()))?;
        let now = self.clock.now();
        let (freshness, warning) = if custom.expires_at > now {
            (Freshness::Cached, None)
        } else {
            let saved = age(now - custom.saved_at);
            let warning = format!("saved {saved} ago; re-check its values and save it again");
            (Freshness::Stale, Some(warning))
        };
        Ok(Cached {
            value: Hit::Saved(custom),
            freshness,
            warning,
        })
    }

    async fn save_custom(&mut self, food: Food) -> Result<Saved, CacheError> {
        let updated = self.saved().await?.by_id.contains_key(&food.id);
        let now = self.clock.now();
        let custom = CustomFood {
            food,
            saved_at: now,
            expires_at: now + secs(self.ttl.custom_ttl),
        };
        self.repo
            .put_custom(&custom)
            .await
            .map_err(storage_failed)?;
        // Committed: now memory may change.
        self.saved().await?.insert(custom.clone());
        Ok(Saved { custom, updated })
    }
}

/// Records how the cache answered a lookup: on the message's span and in the metrics.
fn cache_outcome(outcome: &'static str) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    tracing::Span::current().set_attribute("cache.outcome", outcome);
    metrics::counter!("food_cache_lookups_total", "outcome" => outcome).increment(1);
}

/// A short, bounded name for a failed fetch (a span attribute and a metric label).
fn error_kind(err: &SourceError) -> &'static str {
    match err {
        SourceError::NotFound { .. } => "not_found",
        SourceError::InvalidId(_) => "invalid_id",
        SourceError::RateLimited { .. } => "rate_limited",
        SourceError::Unavailable { .. } => "unavailable",
        SourceError::InvalidResponse { .. } => "invalid_response",
        SourceError::NoNutrients { .. } => "no_nutrients",
        SourceError::Throttled { .. } => "throttled",
        SourceError::Suspended { .. } => "suspended",
    }
}

/// The breakers' clock: tokio's, so tests with paused time move it.
fn now_instant() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

fn upstream_source_of(key: &str) -> Source {
    let name = key.trim_start_matches("search:");
    if name.starts_with("openfoodfacts:") {
        Source::Openfoodfacts
    } else {
        Source::Usda
    }
}

fn storage_failed(err: StorageError) -> CacheError {
    tracing::error!(%err, "food storage failed");
    CacheError::Storage
}

/// "3 days", "5 hours", "12 minutes": how long ago, for warnings.
fn age(seconds: i64) -> String {
    let d = Duration::from_secs(seconds.max(0) as u64);
    let (n, unit) = match d.as_secs() {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 2 * 3_600 => (s / 3_600, "hours"),
        s => (s / 60, "minutes"),
    };
    format!("{n} {unit}")
}

/// The cache's typed handle: one method per request. A lookup may wait for an upstream fetch, so
/// it waits the call timeout plus `fetch_timeout`; everything else the call timeout alone.
#[derive(Clone)]
pub struct FoodCacheHandle {
    actor: ActorHandle<FoodCacheMsg>,
    fetch_timeout: Duration,
}

impl FoodCacheHandle {
    /// `fetch_timeout`: the longest an upstream fetch may take (the slowest upstream's timeout).
    pub fn new(actor: ActorHandle<FoodCacheMsg>, fetch_timeout: Duration) -> Self {
        FoodCacheHandle {
            actor,
            fetch_timeout,
        }
    }

    pub async fn food(&self, source: Source, id: &str) -> Result<Cached<Food>, CacheError> {
        let lookup = Lookup::Food {
            source,
            id: id.to_string(),
        };
        let cached = self.get(lookup).await?;
        // The copy is made here, in the caller's task, not in the mailbox.
        let value = match cached.value {
            Hit::Saved(custom) => Arc::unwrap_or_clone(custom).food,
            Hit::Answer(payload) => match Arc::unwrap_or_clone(payload) {
                Payload::Food(food) => *food,
                Payload::Search(_) => return Err(CacheError::Storage),
            },
        };
        Ok(Cached {
            value,
            freshness: cached.freshness,
            warning: cached.warning,
        })
    }

    pub async fn search(
        &self,
        source: Source,
        query: &str,
    ) -> Result<Cached<Vec<FoodSummary>>, CacheError> {
        let lookup = Lookup::Search {
            source,
            query: query.to_string(),
        };
        let cached = self.get(lookup).await?;
        let value = match cached.value {
            Hit::Answer(payload) => match Arc::unwrap_or_clone(payload) {
                Payload::Search(hits) => hits,
                Payload::Food(_) => return Err(CacheError::Storage),
            },
            Hit::Saved(_) => return Err(CacheError::Storage),
        };
        Ok(Cached {
            value,
            freshness: cached.freshness,
            warning: cached.warning,
        })
    }

    pub async fn save_custom(&self, food: Food) -> Result<Saved, CacheError> {
        let food = Box::new(food);
        self.actor
            .ask(|reply| FoodCacheMsg::SaveCustom { food, reply })
            .await
    }

    pub async fn custom_foods(&self) -> Result<SavedList, CacheError> {
        self.actor
            .ask(|reply| FoodCacheMsg::ListCustom { reply })
            .await
    }

    async fn get(&self, lookup: Lookup) -> Result<Cached<Hit>, CacheError> {
        let timeout = self.actor.timeout() + self.fetch_timeout;
        self.actor
            .ask_within(timeout, |reply| FoodCacheMsg::Get { lookup, reply })
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::actors::fakes::WriteSwitch;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use tokio::sync::Semaphore;

    use super::*;
    use crate::config::Config;
    use crate::food::model::Basis;

    /// Storage in a map; `fail_writes` makes every write fail, as a full disk would. It counts
    /// the reads, to tell an answer from memory from one that queried.
    #[derive(Default)]
    struct MemoryRepo {
        entries: Mutex<HashMap<String, CacheEntry>>,
        custom: Mutex<HashMap<String, CustomFood>>,
        fail_writes: WriteSwitch,
        reads: AtomicUsize,
    }

    impl MemoryRepo {
        fn check_write(&self) -> Result<(), StorageError> {
            self.fail_writes.check()
        }
        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl FoodRepo for MemoryRepo {
        async fn get_entry(&self, key: &str) -> Result<Option<CacheEntry>, StorageError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.entries.lock().unwrap().get(key).cloned())
        }
        async fn put_entry(&self, entry: &CacheEntry) -> Result<(), StorageError> {
            self.check_write()?;
            self.entries
                .lock()
                .unwrap()
                .insert(entry.key.clone(), entry.clone());
            Ok(())
        }
        async fn delete_expired(&self, before: i64) -> Result<u64, StorageError> {
            self.check_write()?;
            let mut entries = self.entries.lock().unwrap();
            let n = entries.len();
            entries.retain(|_, e| e.expires_at >= before);
            Ok((n - entries.len()) as u64)
        }
        async fn get_custom(&self, id: &str) -> Result<Option<CustomFood>, StorageError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.custom.lock().unwrap().get(id).cloned())
        }
        async fn put_custom(&self, custom: &CustomFood) -> Result<(), StorageError> {
            self.check_write()?;
            self.custom
                .lock()
                .unwrap()
                .insert(custom.food.id.clone(), custom.clone());
            Ok(())
        }
        async fn list_custom(&self) -> Result<Vec<CustomFood>, StorageError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.custom.lock().unwrap().values().cloned().collect())
        }
    }

    /// A USDA stand-in that counts calls, can be made to fail, and can be held at a gate.
    struct FakeUsda {
        calls: AtomicUsize,
        failure: Mutex<Option<SourceError>>,
        gate: Option<Semaphore>,
    }

    fn refused() -> SourceError {
        SourceError::Unavailable {
            upstream: Source::Usda,
            reason: "connection refused".into(),
        }
    }

    impl FakeUsda {
        fn new(gated: bool) -> Arc<FakeUsda> {
            Arc::new(FakeUsda {
                calls: AtomicUsize::new(0),
                failure: Mutex::new(None),
                gate: gated.then(|| Semaphore::new(0)),
            })
        }
        /// Every call from now on fails with `err` (`None`: succeeds).
        fn fail_with(&self, err: Option<SourceError>) {
            *self.failure.lock().unwrap() = err;
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
        async fn answer(&self) -> Result<(), SourceError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                let _permit = gate.acquire().await;
            }
            match self.failure.lock().unwrap().clone() {
                Some(err) => Err(err),
                None => Ok(()),
            }
        }
    }

    /// The default limits with a breaker that opens after [`BREAKER_FAILURES`] failures.
    const BREAKER_FAILURES: u32 = 3;
    const COOL_DOWN: Duration = Duration::from_secs(30);

    #[async_trait]
    impl FoodSource for FakeUsda {
        fn source(&self) -> Source {
            Source::Usda
        }
        fn limits(&self) -> crate::sources::UpstreamLimits {
            crate::sources::UpstreamLimits {
                breaker_failures: BREAKER_FAILURES,
                breaker_cool_down: COOL_DOWN,
                ..Config::defaults().usda.limits
            }
        }
        async fn fetch_food(&self, id: &str) -> Result<Food, SourceError> {
            self.answer().await?;
            Ok(food(id, "Bananas, raw"))
        }
        async fn search(
            &self,
            query: &str,
            _limit: usize,
        ) -> Result<Vec<FoodSummary>, SourceError> {
            self.answer().await?;
            Ok(vec![FoodSummary {
                id: "173944".into(),
                source: Source::Usda,
                name: format!("{query} result"),
                brand: None,
                category: None,
                data_type: None,
                calories_per_100g: None,
                analysis: Default::default(),
                household_measures: 0,
            }])
        }
    }

    fn food(id: &str, name: &str) -> Food {
        Food {
            id: id.into(),
            source: Source::Usda,
            name: name.into(),
            brand: None,
            category: None,
            data_type: None,
            basis: Basis::Per100g,
            nutrients: Default::default(),
            portions: vec![],
            serving: None,
        }
    }

    fn custom(name: &str) -> Food {
        Food {
            id: format!("custom:{name}"),
            source: Source::Custom,
            ..food("", name)
        }
    }

    const T0: i64 = 1_800_000_000;

    async fn start(repo: Arc<MemoryRepo>, usda: Arc<FakeUsda>) -> (FoodCacheHandle, Clock) {
        start_keeping(repo, usda, Config::defaults().cache.memory_entries).await
    }

    /// [`start`] with at most `memory_entries` cached answers in memory.
    async fn start_keeping(
        repo: Arc<MemoryRepo>,
        usda: Arc<FakeUsda>,
        memory_entries: std::num::NonZeroUsize,
    ) -> (FoodCacheHandle, Clock) {
        let clock = Clock::manual(T0);
        let args = Arguments {
            repo,
            upstreams: vec![usda],
            ttl: CacheConfig {
                memory_entries,
                ..Config::defaults().cache
            },
            clock: clock.clone(),
        };
        let actor = ActorHandle::spawn(FoodCache, args, CALL_TIMEOUT).await;
        (FoodCacheHandle::new(actor, FETCH_TIMEOUT), clock)
    }

    const CALL_TIMEOUT: Duration = Duration::from_secs(5);
    const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

    async fn sweep(cache: &FoodCacheHandle) -> Result<u64, CacheError> {
        cache
            .actor
            .ask(|reply| FoodCacheMsg::Sweep { reply: Some(reply) })
            .await
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[tokio::test]
    async fn miss_fetches_then_hit_serves_from_cache() {
        let usda = FakeUsda::new(false);
        let (cache, _clock) = start(Arc::default(), usda.clone()).await;
        let first = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(first.freshness, Freshness::Fresh);
        assert_eq!(first.value.name, "Bananas, raw");
        let second = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(second.freshness, Freshness::Cached);
        assert_eq!(second.value, first.value);
        assert_eq!(usda.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_hit_after_a_write_is_answered_from_memory() {
        let repo = Arc::new(MemoryRepo::default());
        let usda = FakeUsda::new(false);
        let (cache, _clock) = start(repo.clone(), usda.clone()).await;
        cache.food(Source::Usda, "173944").await.unwrap();
        cache.search(Source::Usda, "banana").await.unwrap();
        let reads = repo.reads();
        for _ in 0..3 {
            let food = cache.food(Source::Usda, "173944").await.unwrap();
            assert_eq!(food.freshness, Freshness::Cached);
            assert_eq!(food.value.name, "Bananas, raw");
            let hits = cache.search(Source::Usda, "Banana").await.unwrap();
            assert_eq!(hits.freshness, Freshness::Cached);
        }
        assert_eq!(repo.reads(), reads, "no storage read per hit");
        assert_eq!(usda.calls(), 2);
    }

    #[tokio::test]
    async fn a_restarted_cache_reads_storage_once_then_answers_from_memory() {
        let repo = Arc::new(MemoryRepo::default());
        let usda = FakeUsda::new(false);
        let (cache, _clock) = start(repo.clone(), usda.clone()).await;
        cache.food(Source::Usda, "173944").await.unwrap();
        cache.save_custom(custom("granola")).await.unwrap();
        // A new actor on the same storage starts with empty memory.
        let (cache, _clock) = start(repo.clone(), usda.clone()).await;
        let reads = repo.reads();
        for _ in 0..3 {
            let food = cache.food(Source::Usda, "173944").await.unwrap();
            assert_eq!(food.freshness, Freshness::Cached);
            let saved = cache.food(Source::Custom, "custom:granola").await.unwrap();
            assert_eq!(saved.value.name, "granola");
        }
        assert_eq!(
            repo.reads(),
            reads + 2,
            "one entry read, one listing of saved foods"
        );
        assert_eq!(usda.calls(), 1);
    }

    #[tokio::test]
    async fn memory_keeps_at_most_memory_entries_answers() {
        let repo = Arc::new(MemoryRepo::default());
        let usda = FakeUsda::new(false);
        let two = std::num::NonZeroUsize::new(2).unwrap();
        let (cache, _clock) = start_keeping(repo.clone(), usda.clone(), two).await;
        for id in ["1", "2", "3"] {
            cache.food(Source::Usda, id).await.unwrap();
        }
        let reads = repo.reads();
        // 2 and 3 are in memory; 1, the least recently used, was dropped from it.
        cache.food(Source::Usda, "3").await.unwrap();
        cache.food(Source::Usda, "2").await.unwrap();
        assert_eq!(repo.reads(), reads);
        let first = cache.food(Source::Usda, "1").await.unwrap();
        assert_eq!(first.freshness, Freshness::Cached, "still in storage");
        assert_eq!(repo.reads(), reads + 1);
        // Reading 1 back dropped 3, now the least recently used.
        cache.food(Source::Usda, "3").await.unwrap();
        assert_eq!(repo.reads(), reads + 2);
        assert_eq!(usda.calls(), 3, "nothing fetched twice");
    }

    #[tokio::test]
    async fn a_failed_write_leaves_memory_and_storage_as_they_were() {
        let (cache, usda, repo) = expired_copy_and_failing_upstream(refused()).await;
        usda.fail_with(None);
        repo.fail_writes.fail(true);
        let before = repo.entries.lock().unwrap().clone();
        // The upstream answers; the answer is given but neither kept in storage nor in memory.
        let fresh = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(fresh.freshness, Freshness::Fresh);
        assert_eq!(*repo.entries.lock().unwrap(), before);
        let reads = repo.reads();
        // Memory still holds the expired copy: the next lookup asks the upstream again, and
        // when that fails it falls back on the old copy, 31 days old.
        assert_eq!(
            cache.food(Source::Usda, "173944").await.unwrap().freshness,
            Freshness::Fresh
        );
        usda.fail_with(Some(refused()));
        let stale = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(stale.freshness, Freshness::Stale);
        assert!(stale.warning.unwrap().contains("31 days ago"));
        assert_eq!(repo.reads(), reads, "answered from memory");
    }

    #[tokio::test]
    async fn a_sweep_drops_from_memory_what_it_deleted_from_storage() {
        let repo = Arc::new(MemoryRepo::default());
        let usda = FakeUsda::new(false);
        let (cache, clock) = start(repo.clone(), usda.clone()).await;
        cache.food(Source::Usda, "173944").await.unwrap(); // expires after 30 d
        clock.advance(121 * DAY); // expired 91 d ago; retention is 90 d
        assert_eq!(sweep(&cache).await.unwrap(), 1);
        usda.fail_with(Some(refused()));
        // No copy left anywhere, so no stale answer either.
        let err = cache.food(Source::Usda, "173944").await.unwrap_err();
        assert_eq!(err, CacheError::Upstream(refused()));
    }

    #[tokio::test]
    async fn saved_foods_are_listed_from_memory_including_one_saved_after_start() {
        let repo = Arc::new(MemoryRepo::default());
        let (cache, _clock) = start(repo.clone(), FakeUsda::new(false)).await;
        cache.save_custom(custom("oats")).await.unwrap();
        let reads = repo.reads();
        cache.save_custom(custom("granola")).await.unwrap();
        let names = |list: &SavedList| -> Vec<String> {
            list.iter().map(|c| c.food.name.clone()).collect()
        };
        let listed = cache.custom_foods().await.unwrap();
        assert_eq!(names(&listed), ["granola", "oats"], "ordered by name");
        let mut changed = custom("granola");
        changed.brand = Some("Acme".into());
        cache.save_custom(changed).await.unwrap();
        let listed = cache.custom_foods().await.unwrap();
        assert_eq!(names(&listed), ["granola", "oats"]);
        assert_eq!(listed[0].food.brand.as_deref(), Some("Acme"));
        assert_eq!(repo.reads(), reads, "no listing query per search");
        // A failed save changes neither the list nor storage.
        repo.fail_writes.fail(true);
        assert_eq!(
            cache.save_custom(custom("muesli")).await.unwrap_err(),
            CacheError::Storage
        );
        assert_eq!(
            names(&cache.custom_foods().await.unwrap()),
            ["granola", "oats"]
        );
        assert_eq!(repo.custom.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn expired_entry_is_refetched() {
        let usda = FakeUsda::new(false);
        let (cache, clock) = start(Arc::default(), usda.clone()).await;
        cache.food(Source::Usda, "173944").await.unwrap();
        clock.advance(29 * DAY);
        assert_eq!(
            cache.food(Source::Usda, "173944").await.unwrap().freshness,
            Freshness::Cached
        );
        clock.advance(2 * DAY);
        assert_eq!(
            cache.food(Source::Usda, "173944").await.unwrap().freshness,
            Freshness::Fresh
        );
        assert_eq!(usda.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn upstream_failure_serves_the_expired_copy_as_stale() {
        let usda = FakeUsda::new(false);
        let (cache, clock) = start(Arc::default(), usda.clone()).await;
        cache.food(Source::Usda, "173944").await.unwrap();
        clock.advance(31 * DAY);
        usda.fail_with(Some(refused()));
        let stale = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(stale.freshness, Freshness::Stale);
        assert_eq!(stale.value.name, "Bananas, raw");
        let warning = stale.warning.unwrap();
        assert!(
            warning.contains("usda is unavailable") && warning.contains("31 days ago"),
            "{warning}"
        );
    }

    #[tokio::test]
    async fn upstream_failure_with_nothing_cached_is_an_error() {
        let usda = FakeUsda::new(false);
        usda.fail_with(Some(refused()));
        let (cache, _clock) = start(Arc::default(), usda).await;
        let err = cache.food(Source::Usda, "173944").await.unwrap_err();
        assert!(
            matches!(err, CacheError::Upstream(SourceError::Unavailable { .. })),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn concurrent_misses_make_one_upstream_call() {
        let usda = FakeUsda::new(true);
        let (cache, _clock) = start(Arc::default(), usda.clone()).await;
        let askers: Vec<_> = (0..20)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.search(Source::Usda, "Banana").await })
            })
            .collect();
        // Let every asker reach the actor while the one fetch is held at the gate.
        while usda.calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        usda.gate.as_ref().unwrap().add_permits(100);
        for asker in askers {
            let hits = asker.await.unwrap().unwrap();
            assert_eq!(hits.value[0].name, "Banana result");
        }
        assert_eq!(usda.calls.load(Ordering::SeqCst), 1);
        // Case and spacing map to the same key.
        assert_eq!(
            cache
                .search(Source::Usda, "  banana ")
                .await
                .unwrap()
                .freshness,
            Freshness::Cached
        );
    }

    #[tokio::test]
    async fn sweep_removes_only_entries_past_the_stale_retention() {
        let repo = Arc::new(MemoryRepo::default());
        let usda = FakeUsda::new(false);
        let (cache, clock) = start(repo.clone(), usda).await;
        cache.search(Source::Usda, "banana").await.unwrap(); // expires after 24 h
        cache.food(Source::Usda, "173944").await.unwrap(); // expires after 30 d
        cache.save_custom(custom("granola")).await.unwrap();
        clock.advance(92 * DAY); // search expired 91 d ago, food 62 d ago; retention is 90 d
        assert_eq!(sweep(&cache).await.unwrap(), 1);
        assert_eq!(repo.entries.lock().unwrap().len(), 1);
        clock.advance(365 * DAY);
        assert_eq!(sweep(&cache).await.unwrap(), 1);
        assert_eq!(
            cache.custom_foods().await.unwrap().len(),
            1,
            "saved foods are never swept"
        );
    }

    #[tokio::test]
    async fn failed_save_answers_an_error_and_keeps_the_previous_food() {
        let repo = Arc::new(MemoryRepo::default());
        let (cache, _clock) = start(repo.clone(), FakeUsda::new(false)).await;
        cache.save_custom(custom("granola")).await.unwrap();
        repo.fail_writes.fail(true);
        let mut changed = custom("granola");
        changed.brand = Some("Acme".into());
        assert_eq!(
            cache.save_custom(changed).await.unwrap_err(),
            CacheError::Storage
        );
        let saved = cache.food(Source::Custom, "custom:granola").await.unwrap();
        assert_eq!(saved.value.brand, None);
        // The actor is still alive and answering.
        assert_eq!(cache.custom_foods().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn saved_food_turns_stale_after_its_ttl_and_a_resave_resets_it() {
        let (cache, clock) = start(Arc::default(), FakeUsda::new(false)).await;
        cache.save_custom(custom("granola")).await.unwrap();
        clock.advance(91 * DAY);
        let stale = cache.food(Source::Custom, "custom:granola").await.unwrap();
        assert_eq!(stale.freshness, Freshness::Stale);
        assert!(stale.warning.unwrap().contains("91 days"));
        cache.save_custom(custom("granola")).await.unwrap();
        let fresh = cache.food(Source::Custom, "custom:granola").await.unwrap();
        assert_eq!(fresh.freshness, Freshness::Cached);
        let err = cache.food(Source::Custom, "custom:nope").await.unwrap_err();
        assert_eq!(err, CacheError::CustomNotFound("custom:nope".into()));
    }

    #[tokio::test]
    async fn disabled_source_is_a_clear_error() {
        let (cache, _clock) = start(Arc::default(), FakeUsda::new(false)).await;
        let err = cache
            .food(Source::Openfoodfacts, "3017620422003")
            .await
            .unwrap_err();
        assert_eq!(err, CacheError::SourceDisabled(Source::Openfoodfacts));
    }

    #[tokio::test]
    async fn a_stopped_cache_answers_unavailable() {
        let (cache, _clock) = start(Arc::default(), FakeUsda::new(false)).await;
        let actor = cache.actor.cell().unwrap();
        actor.stop_and_wait(None, None).await.unwrap();
        assert_eq!(
            cache.custom_foods().await.unwrap_err(),
            CacheError::Unavailable
        );
        let err = cache.food(Source::Usda, "173944").await.unwrap_err();
        assert_eq!(
            ToString::to_string(&err),
            "the food cache is not answering; try again shortly"
        );
    }

    // Paused time: once every task waits, the runtime jumps to the next timer, so the timeout
    // passes without real time passing.
    #[tokio::test(start_paused = true)]
    async fn a_lookup_stuck_past_its_timeout_answers_unavailable() {
        // The upstream never answers (a gate that is never opened), so the fetch never lands.
        let usda = FakeUsda::new(true);
        let (cache, _clock) = start(Arc::default(), usda.clone()).await;
        let started = tokio::time::Instant::now();
        let err = cache.food(Source::Usda, "173944").await.unwrap_err();
        assert_eq!(err, CacheError::Unavailable);
        assert!(started.elapsed() >= CALL_TIMEOUT + FETCH_TIMEOUT);
        assert_eq!(usda.calls.load(Ordering::SeqCst), 1);
        // The mailbox itself was never blocked: other requests are answered.
        assert!(cache.custom_foods().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn concurrent_saves_of_one_food_report_one_creation() {
        let repo = Arc::new(MemoryRepo::default());
        let (cache, _clock) = start(repo.clone(), FakeUsda::new(false)).await;
        let saves: Vec<_> = (0..20)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.save_custom(custom("granola")).await })
            })
            .collect();
        let mut created = 0;
        for save in saves {
            if !save.await.unwrap().unwrap().updated {
                created += 1;
            }
        }
        assert_eq!(created, 1);
        assert_eq!(repo.custom.lock().unwrap().len(), 1);
    }

    /// Caches 173944, lets it expire, and makes the upstream fail with `err`.
    async fn expired_copy_and_failing_upstream(
        err: SourceError,
    ) -> (FoodCacheHandle, Arc<FakeUsda>, Arc<MemoryRepo>) {
        let repo = Arc::new(MemoryRepo::default());
        let usda = FakeUsda::new(false);
        let (cache, clock) = start(repo.clone(), usda.clone()).await;
        cache.food(Source::Usda, "173944").await.unwrap();
        clock.advance(31 * DAY);
        usda.fail_with(Some(err));
        (cache, usda, repo)
    }

    #[tokio::test]
    async fn a_bad_answer_serves_the_copy_stale_and_never_replaces_it() {
        for err in [
            SourceError::InvalidResponse {
                upstream: Source::Usda,
                reason: "an HTML page instead of JSON".into(),
            },
            SourceError::NoNutrients {
                upstream: Source::Usda,
                id: "173944".into(),
            },
            SourceError::Throttled {
                upstream: Source::Usda,
                retry_after: Duration::from_secs(5),
            },
        ] {
            let (cache, _usda, repo) = expired_copy_and_failing_upstream(err.clone()).await;
            let before = repo.entries.lock().unwrap().clone();
            let stale = cache.food(Source::Usda, "173944").await.unwrap();
            assert_eq!(stale.freshness, Freshness::Stale, "{err}");
            assert_eq!(stale.value.name, "Bananas, raw");
            assert!(stale.warning.unwrap().starts_with(&err.to_string()));
            assert_eq!(
                *repo.entries.lock().unwrap(),
                before,
                "{err}: nothing written"
            );
        }
        // "Not found" is an answer, not a failure: no stale copy for a food that is gone.
        let gone = SourceError::NotFound {
            upstream: Source::Usda,
            id: "173944".into(),
        };
        let (cache, _usda, _repo) = expired_copy_and_failing_upstream(gone.clone()).await;
        assert_eq!(
            cache.food(Source::Usda, "173944").await.unwrap_err(),
            CacheError::Upstream(gone)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_opens_answers_without_asking_and_a_probe_closes_it() {
        let (cache, usda, _repo) = expired_copy_and_failing_upstream(refused()).await;
        let calls_before = usda.calls();
        for id in ["1", "2", "3"] {
            let err = cache.food(Source::Usda, id).await.unwrap_err();
            assert_eq!(err, CacheError::Upstream(refused()));
        }
        assert_eq!(usda.calls(), calls_before + 3);
        // Open: an expired copy comes back stale and an uncached food fails, neither asking.
        let stale = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(stale.freshness, Freshness::Stale);
        let warning = stale.warning.unwrap();
        assert!(
            warning.contains("not being asked for now (3 failed requests in a row"),
            "{warning}"
        );
        let err = cache.food(Source::Usda, "4").await.unwrap_err().to_string();
        assert!(err.contains("next attempt in 30s"), "{err}");
        assert_eq!(usda.calls(), calls_before + 3, "no request while open");

        // After the cool-down one probe goes out; it succeeds and closes the breaker.
        tokio::time::advance(COOL_DOWN).await;
        usda.fail_with(None);
        let fresh = cache.food(Source::Usda, "173944").await.unwrap();
        assert_eq!(fresh.freshness, Freshness::Fresh);
        assert_eq!(
            cache.food(Source::Usda, "5").await.unwrap().freshness,
            Freshness::Fresh
        );
        assert_eq!(usda.calls(), calls_before + 5);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_obeyed_for_every_lookup_of_that_upstream() {
        let limited = SourceError::RateLimited {
            upstream: Source::Usda,
            retry_after: Some(Duration::from_secs(30)),
        };
        let (cache, usda, _repo) = expired_copy_and_failing_upstream(limited).await;
        let calls_before = usda.calls();
        for _ in 0..5 {
            let stale = cache.food(Source::Usda, "173944").await.unwrap();
            assert_eq!(stale.freshness, Freshness::Stale);
        }
        let err = cache.search(Source::Usda, "milk").await.unwrap_err();
        assert!(
            err.to_string().contains("rate limit reached; retry in 30s"),
            "{err}"
        );
        assert_eq!(
            usda.calls(),
            calls_before + 1,
            "one request inside the Retry-After"
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        usda.fail_with(None);
        assert_eq!(
            cache.food(Source::Usda, "173944").await.unwrap().freshness,
            Freshness::Fresh
        );
    }
}
