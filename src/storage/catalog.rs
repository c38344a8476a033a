//! The offline USDA catalog in SQLite: whole-catalog writes for the importer, food lookup and FTS5 recall.

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use crate::food::model::{Basis, Food, FoodSummary, Portion, Source};
use crate::food::nutrients::{NutrientKey, Nutrients};
use crate::food::search;
use crate::ports::StorageError;
use crate::ports::catalog::Batch;
use crate::storage::Untraced;

/// Read access to the imported catalog. Cheap to clone (the pool is a handle).
#[derive(Clone, Debug)]
pub struct CatalogStore {
    pool: SqlitePool,
}

impl CatalogStore {
    pub fn new(pool: SqlitePool) -> Self {
        CatalogStore { pool }
    }

    /// Number of foods in the catalog (0 before the first import).
    pub async fn count(&self) -> Result<u64, StorageError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_food")
            .fetch_one(&self.pool)
            .untraced()
            .await?;
        Ok(count.try_into().unwrap_or(0))
    }

    /// The full food: per-100 g nutrients and every portion, in USDA order.
    #[tracing::instrument(name = "storage.catalog_food", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "catalog_food"))]
    pub async fn get_food(&self, fdc_id: i64) -> Result<Option<Food>, StorageError> {
        // Untraced as a whole: an early return drops the read transaction, which queues a rollback.
        Ok(self.read_food(fdc_id).untraced().await?)
    }

    async fn read_food(&self, fdc_id: i64) -> Result<Option<Food>, sqlx::Error> {
        // One read transaction, so an import committing between the three queries cannot mix
        // the previous catalog's food with the new one's nutrients.
        let mut tx = self.pool.begin().await?;
        let Some(food) = sqlx::query(
            "SELECT description, data_type, category FROM catalog_food WHERE fdc_id = ?",
        )
        .bind(fdc_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };

        let rows = sqlx::query("SELECT nutrient, amount FROM catalog_nutrient WHERE fdc_id = ?")
            .bind(fdc_id)
            .fetch_all(&mut *tx)
            .await?;
        let mut nutrients = Nutrients::new();
        for row in rows {
            // A key a later version renamed or dropped is simply not reported.
            if let Some(key) = NutrientKey::from_key(row.try_get("nutrient")?) {
                nutrients.insert(key, row.try_get("amount")?);
            }
        }

        let portions = sqlx::query(
            "SELECT amount, unit, modifier, description, grams FROM catalog_portion
             WHERE fdc_id = ? ORDER BY seq IS NULL, seq, id",
        )
        .bind(fdc_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| {
            Ok(Portion {
                amount: row.try_get("amount")?,
                unit: row.try_get("unit")?,
                modifier: row.try_get("modifier")?,
                description: row.try_get("description")?,
                grams: row.try_get("grams")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        tx.commit().await?;

        Ok(Some(Food {
            id: fdc_id.to_string(),
            source: Source::Usda,
            name: food.try_get("description")?,
            brand: None,
            category: food.try_get("category")?,
            data_type: food.try_get("data_type")?,
            basis: Basis::Per100g,
            nutrients,
            portions,
            serving: None,
        }))
    }

    /// Up to `limit` candidates for `query`, for the ranking layer to score. Every word is matched as
    /// a prefix (`banana*`) after porter stemming (so "bananas" finds "banana"); foods matching all
    /// words come first, then — when they are under a quarter of `limit` — foods matching any word, each group in FTS5 bm25
    /// order with description hits weighted over category. When no food has every word, words that
    /// match nothing are replaced by near spellings from the index ("brocoli" → broccoli) and both
    /// passes run again.
    ///
    /// The candidates come back most-measured first: foods USDA gives more household portions (and
    /// nutrients) for are the everyday forms, so when ranking scores two foods the same, its stable
    /// sort keeps "Tomatoes, red, ripe, raw, year round average" (13 portions) before "Tomatoes,
    /// yellow, raw" (2).
    #[tracing::instrument(name = "storage.catalog_search", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "catalog_fts"))]
    pub async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<FoodSummary>, StorageError> {
        Ok(self.find(query, limit).untraced().await?)
    }

    async fn find(&self, query: &str, limit: usize) -> Result<Vec<FoodSummary>, sqlx::Error> {
        let words = query_words(query);
        let mut found = Vec::new();
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let with_every_word = self.all_then_any(&words, limit, &mut found).await?;
        // The typo pass costs a few index reads, so it runs only when some word may match nothing.
        if with_every_word == 0 {
            let corrected = self.correct(&words).await?;
            if corrected != words {
                self.all_then_any(&corrected, limit, &mut found).await?;
            }
        }
        found.sort_by_key(|c| std::cmp::Reverse(c.measures));
        Ok(found.into_iter().map(|c| c.food).collect())
    }

    /// The foods with every word, then those with any; returns how many had every word.
    async fn all_then_any(
        &self,
        words: &[String],
        limit: usize,
        found: &mut Vec<Candidate>,
    ) -> Result<usize, sqlx::Error> {
        let with_every_word = self.fts(&words.join(" AND "), limit, found).await?;
        // Foods missing a word never score as confident matches, so they only fill a short list;
        // a common word ("whole" OR "milk") would otherwise cost a scan of thousands of rows.
        if found.len() < limit / 4 && words.len() > 1 {
            self.fts(&words.join(" OR "), limit, found).await?;
        }
        Ok(with_every_word)
    }

    /// The words, each one that matches nothing replaced by the index terms within a typo of it
    /// (or kept, when there are none).
    async fn correct(&self, words: &[String]) -> Result<Vec<String>, sqlx::Error> {
        let mut corrected = Vec::with_capacity(words.len());
        for term in words {
            if self.fts(term, 1, &mut Vec::new()).await? > 0 {
                corrected.push(term.clone());
                continue;
            }
            let word = term.trim_end_matches('*').trim_matches('"');
            let Some(first) = word.chars().next() else {
                corrected.push(term.clone());
                continue;
            };
            let next = char::from_u32(u32::from(first) + 1).unwrap_or(char::MAX);
            let near: Vec<String> =
                sqlx::query_scalar("SELECT term FROM catalog_vocab WHERE term >= ? AND term < ?")
                    .bind(first.to_string())
                    .bind(next.to_string())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .filter(|t: &String| search::is_near_spelling(word, t))
                    .map(|t| format!("\"{t}\"*"))
                    .collect();
            corrected.push(match near.len() {
                0 => term.clone(),
                1 => near.concat(),
                _ => format!("({})", near.join(" OR ")),
            });
        }
        Ok(corrected)
    }

    /// Appends the matches of `expression` not already in `found`, up to `limit` in all; returns
    /// how many rows matched.
    async fn fts(
        &self,
        expression: &str,
        limit: usize,
        found: &mut Vec<Candidate>,
    ) -> Result<usize, sqlx::Error> {
        let rows = sqlx::query(
            // The inner query picks the best `limit` matches from the index alone; the details and
            // counts are then read for those rows only, not for every match of a common word.
            "SELECT f.fdc_id, f.description, f.category, f.data_type, n.amount AS kcal,
                    (SELECT COUNT(*) FROM catalog_portion p WHERE p.fdc_id = f.fdc_id) AS portions,
                    (SELECT COUNT(*) FROM catalog_nutrient c WHERE c.fdc_id = f.fdc_id) AS nutrients
             FROM (SELECT rowid AS id, bm25(catalog_fts, 4.0, 1.0) AS relevance
                   FROM catalog_fts WHERE catalog_fts MATCH ?2
                   ORDER BY relevance LIMIT ?3) AS hit
             JOIN catalog_food f ON f.fdc_id = hit.id
             LEFT JOIN catalog_nutrient n ON n.fdc_id = f.fdc_id AND n.nutrient = ?1
             ORDER BY hit.relevance",
        )
        .bind(NutrientKey::Calories.key())
        .bind(expression)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let matched = rows.len();
        for row in rows {
            if found.len() >= limit {
                break;
            }
            let id = row.try_get::<i64, _>("fdc_id")?.to_string();
            if found.iter().any(|c| c.food.id == id) {
                continue;
            }
            let (portions, nutrients): (i64, i64) =
                (row.try_get("portions")?, row.try_get("nutrients")?);
            found.push(Candidate {
                food: FoodSummary {
                    id,
                    source: Source::Usda,
                    name: row.try_get("description")?,
                    brand: None,
                    category: row.try_get("category")?,
                    data_type: row.try_get("data_type")?,
                    calories_per_100g: row.try_get("kcal")?,
                },
                measures: portions * 1000 + nutrients,
            });
        }
        Ok(matched)
    }
}

/// A search hit with how thoroughly USDA measured it: portions first, then nutrients.
struct Candidate {
    food: FoodSummary,
    measures: i64,
}

/// The query's words as FTS5 prefix terms: `Bananas, raw!` → `"bananas"*`, `"raw"*`. Only letters and
/// digits survive, so no user text can reach FTS5 as query syntax.
pub(crate) fn query_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let term = format!("\"{}\"*", word.to_lowercase());
        if !words.contains(&term) {
            words.push(term);
        }
    }
    words
}

/// One import's writes, in one transaction: the new catalog replaces the old at [`commit`], and
/// dropping the writer before (a failed or interrupted import) rolls back, keeping the previous
/// catalog as it was.
///
/// [`commit`]: CatalogWriter::commit
pub struct CatalogWriter {
    tx: sqlx::Transaction<'static, Sqlite>,
}

impl CatalogWriter {
    /// Starts the replacement: empties the catalog inside the new transaction.
    pub async fn begin(pool: &SqlitePool) -> Result<CatalogWriter, StorageError> {
        let mut tx = pool.begin().await?;
        clear(&mut tx).await?;
        Ok(CatalogWriter { tx })
    }

    pub async fn insert(&mut self, batch: Batch) -> Result<(), StorageError> {
        Ok(insert(&mut self.tx, batch).await?)
    }

    /// Rebuilds the search index, commits, and returns how many nutrient values were kept.
    pub async fn commit(mut self) -> Result<u64, StorageError> {
        let nutrients = finish(&mut self.tx).await?;
        self.tx.commit().await?;
        Ok(nutrients)
    }
}

/// Empties the catalog; only ever called inside the import's transaction.
async fn clear(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    // Children first: their rows reference catalog_food.
    for statement in [
        "DELETE FROM catalog_portion",
        "DELETE FROM catalog_nutrient",
        "DELETE FROM catalog_food",
    ] {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes one batch with a single multi-row INSERT.
async fn insert(conn: &mut SqliteConnection, batch: Batch) -> Result<(), sqlx::Error> {
    let mut query: QueryBuilder<Sqlite> = match batch {
        Batch::Foods(rows) => {
            let mut q = QueryBuilder::new(
                "INSERT INTO catalog_food (fdc_id, data_type, description, category) ",
            );
            q.push_values(rows, |mut b, row| {
                b.push_bind(row.fdc_id)
                    .push_bind(row.data_type)
                    .push_bind(row.description)
                    .push_bind(row.category);
            });
            q
        }
        Batch::Nutrients(rows) => {
            let mut q =
                QueryBuilder::new("INSERT INTO catalog_nutrient (fdc_id, nutrient, amount, rank) ");
            q.push_values(rows, |mut b, row| {
                b.push_bind(row.fdc_id)
                    .push_bind(row.key.key())
                    .push_bind(row.amount)
                    .push_bind(i64::try_from(row.rank).unwrap_or(i64::MAX));
            });
            // Rows arrive in file order, not preference order: a better-ranked USDA number (energy
            // 208 over 958 over 957) replaces a worse one whichever comes first.
            q.push(
                " ON CONFLICT (fdc_id, nutrient) DO UPDATE SET amount = excluded.amount, rank = excluded.rank
                  WHERE excluded.rank < catalog_nutrient.rank",
            );
            q
        }
        Batch::Portions(rows) => {
            let mut q = QueryBuilder::new(
                "INSERT INTO catalog_portion (fdc_id, seq, amount, unit, modifier, description, grams) ",
            );
            q.push_values(rows, |mut b, row| {
                b.push_bind(row.fdc_id)
                    .push_bind(row.seq)
                    .push_bind(row.portion.amount)
                    .push_bind(row.portion.unit)
                    .push_bind(row.portion.modifier)
                    .push_bind(row.portion.description)
                    .push_bind(row.portion.grams);
            });
            q
        }
    };
    query.build().execute(&mut *conn).await?;
    Ok(())
}

/// Rebuilds the search index from the new rows and returns how many nutrient values were kept.
async fn finish(conn: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
    sqlx::query("INSERT INTO catalog_fts (catalog_fts) VALUES ('rebuild')")
        .execute(&mut *conn)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_nutrient")
        .fetch_one(&mut *conn)
        .await?;
    Ok(count.try_into().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_are_quoted_prefix_terms() {
        assert_eq!(query_words("Bananas, raw"), ["\"bananas\"*", "\"raw\"*"]);
        assert_eq!(
            query_words("milk 2% \"fat\" OR NEAR(x)"),
            [
                "\"milk\"*",
                "\"2\"*",
                "\"fat\"*",
                "\"or\"*",
                "\"near\"*",
                "\"x\"*"
            ]
        );
        assert_eq!(query_words("jalapeño jalapeño"), ["\"jalapeño\"*"]);
        assert!(query_words(" ,;* ").is_empty());
    }
}
