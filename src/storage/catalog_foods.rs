//! The offline catalog's foods in memory: an immutable snapshot read from SQLite at start and
//! again after each import, with its search index, so a catalog lookup or search is a memory read
//! rather than a transaction.
//!
//! Why a snapshot: the catalog changes only when an import commits, yet each SQLite lookup was a
//! BEGIN, three queries and a COMMIT, each a hop to sqlx's worker thread and back. The snapshot is
//! shared read-only behind an `ArcSwap`: readers take the current `Arc` without a lock; a refresh
//! builds a whole new snapshot and swaps it in, and a reader holding the previous one keeps it
//! until it drops it. A failed or rolled-back import leaves the generation as it was, so the
//! snapshot stays.

use std::cmp::Reverse;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use futures::TryStreamExt;
use sqlx::{Row, SqlitePool};

use crate::food::model::{Food, FoodSummary};
use crate::food::nutrients::NutrientKey;
use crate::food::search::Analysed;
use crate::ports::StorageError;
use crate::storage::Untraced;
use crate::storage::catalog::{add_nutrient, food_of, portion_of};
use crate::storage::catalog_index::CatalogIndex;

/// One import's foods, sorted by FDC id (a binary search finds one; no hashing, no spare buckets).
#[derive(Debug, Default)]
struct Snapshot {
    /// `catalog_generation` when it was read: the import it shows.
    generation: i64,
    ids: Vec<i64>,
    foods: Vec<Arc<Food>>,
    /// Each food's name as ranking reads it, in the same order: made the first time a search finds
    /// the food and shared by the summaries of every later search, so ranking analyses a catalog
    /// name once per snapshot rather than once per query.
    analyses: Vec<Analysed>,
    /// The foods' descriptions and categories, indexed in the same order.
    index: CatalogIndex,
}

impl Snapshot {
    fn new(generation: i64, ids: Vec<i64>, foods: Vec<Arc<Food>>) -> Snapshot {
        let index = CatalogIndex::build(
            foods
                .iter()
                .map(|food| (food.name.as_str(), food.category.as_deref())),
        );
        Snapshot {
            generation,
            ids,
            analyses: foods.iter().map(|_| Analysed::default()).collect(),
            foods,
            index,
        }
    }

    fn get(&self, fdc_id: i64) -> Option<Arc<Food>> {
        let at = self.ids.binary_search(&fdc_id).ok()?;
        Some(self.foods[at].clone())
    }

    /// The index's candidates as summaries, most-measured first (ties in match order): foods USDA
    /// gives more household portions (and nutrients) for are the everyday forms, so when ranking
    /// scores two foods the same, its stable sort keeps "Tomatoes, red, ripe, raw, year round
    /// average" (13 portions) before "Tomatoes, yellow, raw" (2).
    fn search(&self, query: &str, limit: usize) -> Vec<FoodSummary> {
        let mut found: Vec<(&Food, &Analysed)> = self
            .index
            .recall(query, limit)
            .into_iter()
            .map(|at| (&*self.foods[at as usize], &self.analyses[at as usize]))
            .collect();
        found.sort_by_key(|(food, _)| Reverse(food.portions.len() * 1000 + food.nutrients.len()));
        found
            .into_iter()
            .map(|(food, analysis)| FoodSummary {
                id: food.id.clone(),
                source: food.source,
                name: food.name.clone(),
                brand: None,
                category: food.category.clone(),
                data_type: food.data_type.clone(),
                calories_per_100g: food.nutrients.get(&NutrientKey::Calories).copied(),
                analysis: analysis.clone(),
                household_measures: food.portions.len(),
            })
            .collect()
    }
}

/// The catalog's foods by FDC id, in memory. Cheap to clone: clones share one snapshot.
#[derive(Clone, Debug)]
pub struct CatalogFoods {
    pool: SqlitePool,
    current: Arc<ArcSwap<Snapshot>>,
}

impl CatalogFoods {
    /// Reads every catalog food (an empty catalog gives an empty snapshot).
    pub async fn load(pool: SqlitePool) -> Result<CatalogFoods, StorageError> {
        let snapshot = read(&pool).untraced().await?;
        Ok(CatalogFoods {
            pool,
            current: Arc::new(ArcSwap::from_pointee(snapshot)),
        })
    }

    /// The food with this FDC id, with its per-100 g nutrients and its portions in USDA order.
    pub fn get(&self, fdc_id: i64) -> Option<Arc<Food>> {
        self.current.load().get(fdc_id)
    }

    /// Up to `limit` catalog foods for `query`, for the ranking layer to score: recall and order as
    /// [`CatalogIndex`] describes them, from memory.
    #[tracing::instrument(name = "storage.catalog_search", level = "debug", skip_all)]
    pub fn search(&self, query: &str, limit: usize) -> Vec<FoodSummary> {
        self.current.load().search(query, limit)
    }

    /// How many foods the snapshot holds.
    pub fn len(&self) -> usize {
        self.current.load().ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the catalog again when an import has committed since the snapshot was read (one
    /// small query otherwise); `true` when the snapshot was replaced.
    #[tracing::instrument(name = "storage.catalog_refresh", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "catalog_generation"))]
    pub async fn refresh(&self) -> Result<bool, StorageError> {
        let generation = generation(&self.pool).untraced().await?;
        if generation == self.current.load().generation {
            return Ok(false);
        }
        let started = Instant::now();
        let snapshot = read(&self.pool).untraced().await?;
        let foods = snapshot.ids.len();
        self.current.store(Arc::new(snapshot));
        tracing::info!(
            foods,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "offline USDA catalog reloaded after an import"
        );
        Ok(true)
    }

    /// Refreshes every `every` until the task is aborted; a failed check is logged and retried at
    /// the next tick, with the snapshot kept.
    pub fn spawn_refresh(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let foods = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(err) = foods.refresh().await {
                    tracing::warn!(%err, "cannot check the offline USDA catalog for a new import");
                }
            }
        })
    }
}

/// The number of imports committed so far (`catalog_generation`).
async fn generation<'c>(db: impl sqlx::SqliteExecutor<'c>) -> Result<i64, sqlx::Error> {
    let generation = sqlx::query_scalar("SELECT generation FROM catalog_generation")
        .fetch_optional(db)
        .await?;
    Ok(generation.unwrap_or(0))
}

/// The whole catalog in one read transaction, so an import committing meanwhile cannot mix two
/// catalogs: three scans in FDC id order, merged by binary search on the sorted ids.
async fn read(pool: &SqlitePool) -> Result<Snapshot, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let generation = generation(&mut *tx).await?;
    // Streamed row by row: 200,000 nutrient rows held at once would cost more than the snapshot.
    let (mut ids, mut foods) = (Vec::new(), Vec::new());
    let mut rows = sqlx::query(
        "SELECT fdc_id, description, data_type, category FROM catalog_food ORDER BY fdc_id",
    )
    .fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        ids.push(row.try_get::<i64, _>("fdc_id")?);
        foods.push(food_of(&row)?);
    }
    drop(rows);

    let mut rows =
        sqlx::query("SELECT fdc_id, nutrient, amount FROM catalog_nutrient").fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        if let Ok(at) = ids.binary_search(&row.try_get("fdc_id")?) {
            add_nutrient(&mut foods[at].nutrients, &row)?;
        }
    }
    drop(rows);

    // Each food's portions in USDA's display order, as `CatalogStore::get_food` reads them.
    let mut rows = sqlx::query(
        "SELECT fdc_id, amount, unit, modifier, description, grams FROM catalog_portion
         ORDER BY fdc_id, seq IS NULL, seq, id",
    )
    .fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        if let Ok(at) = ids.binary_search(&row.try_get("fdc_id")?) {
            foods[at].portions.push(portion_of(&row)?);
        }
    }
    drop(rows);
    tx.commit().await?;

    let foods = foods
        .into_iter()
        .map(|mut food| {
            food.portions.shrink_to_fit();
            Arc::new(food)
        })
        .collect();
    Ok(Snapshot::new(generation, ids, foods))
}
