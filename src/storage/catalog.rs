//! The offline USDA catalog in SQLite: whole-catalog writes for the importer, food lookup and FTS5 recall.

use std::collections::{HashMap, HashSet};

use sqlx::sqlite::SqliteRow;
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
        let Some(row) = sqlx::query(
            "SELECT fdc_id, description, data_type, category FROM catalog_food WHERE fdc_id = ?",
        )
        .bind(fdc_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let mut food = food_of(&row)?;

        let rows = sqlx::query("SELECT nutrient, amount FROM catalog_nutrient WHERE fdc_id = ?")
            .bind(fdc_id)
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            add_nutrient(&mut food.nutrients, &row)?;
        }

        // USDA's display order (unnumbered portions last, then file order), as in `catalog_foods`.
        food.portions = sqlx::query(
            "SELECT amount, unit, modifier, description, grams FROM catalog_portion
             WHERE fdc_id = ? ORDER BY seq IS NULL, seq, id",
        )
        .bind(fdc_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(portion_of)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        tx.commit().await?;
        Ok(Some(food))
    }

    /// Up to `limit` candidates for `query`, for the ranking layer to score. The query is looked for
    /// as each of its readings (`search::recall`: its own words, and with the vocabulary's
    /// replacements, "aubergine" as eggplant) and, when a word of it is in no description, with that
    /// word spelled as the catalog spells it (a near spelling, "brocoli" → broccoli; two words,
    /// "icecream" → ice cream; or two query words joined, "straw berries" → strawberries). Every word
    /// is an FTS5 prefix term after porter stemming. Foods with every word of a reading come first —
    /// those also naming the query's cooking state before the rest; every reading gets an equal share
    /// of `limit`, then the readings in order fill what is left — then, when they are under a
    /// quarter of `limit`, foods with any word, each pass in bm25 order with description hits
    /// weighted over category.
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
        let mut readings: Vec<Reading> = search::recall(query)
            .into_iter()
            .map(|r| Reading {
                required: r.required.into_iter().map(|w| vec![w]).collect(),
                cooking: r.cooking,
            })
            .collect();
        if readings.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        if let Some(spelled) = self.respell(&readings[0]).await? {
            readings.insert(1, spelled);
        }
        readings.truncate(MAX_READINGS);

        let mut lists: Vec<Vec<i64>> = Vec::with_capacity(readings.len());
        for reading in &readings {
            let every = reading
                .required
                .iter()
                .map(|alternatives| any_of(alternatives))
                .collect::<Vec<_>>()
                .join(" AND ");
            let mut found = Vec::new();
            if !reading.cooking.is_empty() {
                let cooked = format!("{every} AND {}", any_of(&reading.cooking));
                self.matches(&cooked, limit, &mut found).await?;
            }
            self.matches(&every, limit, &mut found).await?;
            lists.push(found);
        }
        // Every reading gets its share of the candidates before the first fills the rest: "cheese"
        // alone matches hundreds of foods, and its vocabulary reading (cheese cheddar) must still be
        // among those the ranking sees.
        let mut ids: Vec<i64> = Vec::with_capacity(limit);
        let share = limit.div_ceil(lists.len());
        for take in [share, limit] {
            for id in lists.iter().flat_map(|list| list.iter().take(take)) {
                if ids.len() < limit && !ids.contains(id) {
                    ids.push(*id);
                }
            }
        }
        // Foods missing a word never score as confident matches, so they only fill a short list;
        // a common word ("whole" OR "milk") would otherwise cost a scan of thousands of rows.
        if ids.len() < limit / 4 {
            let words: Vec<String> = readings
                .iter()
                .flat_map(|r| r.required.iter().flatten().cloned())
                .collect();
            self.matches(&any_of(&words), limit, &mut ids).await?;
        }
        self.summaries(&ids).await
    }

    /// The reading with each word no description has spelled as the catalog spells it, or `None`
    /// when every word is known or none has a known spelling.
    async fn respell(&self, reading: &Reading) -> Result<Option<Reading>, sqlx::Error> {
        let words: Vec<&String> = reading.required.iter().flatten().collect();
        // Every form that could be a catalog word: the words, their stems, their halves (for a split)
        // and neighbours joined (for a join).
        let mut forms: Vec<String> = Vec::new();
        for word in &words {
            forms.push((*word).clone());
            forms.extend(search::index_words(word).into_iter().map(|(_, stem)| stem));
            forms.extend(halves(word).into_iter().flat_map(|(a, b)| [a, b]));
        }
        for pair in words.windows(2) {
            forms.push(format!("{}{}", pair[0], pair[1]));
        }
        let known = self.known(&forms).await?;
        let is_known = |w: &str| {
            known.contains(w)
                || search::index_words(w)
                    .iter()
                    .any(|(_, stem)| known.contains(stem))
        };

        let mut required: Vec<Vec<String>> = Vec::new();
        let mut changed = false;
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            if let Some(next) = words.get(i + 1) {
                let joined = format!("{word}{next}");
                if known.contains(&joined) {
                    required.push(vec![joined]);
                    changed = true;
                    i += 2;
                    continue;
                }
            }
            if is_known(word) {
                required.push(vec![word.clone()]);
            } else if let Some((a, b)) = halves(word)
                .into_iter()
                .find(|(a, b)| known.contains(a) && known.contains(b))
            {
                required.push(vec![a]);
                required.push(vec![b]);
                changed = true;
            } else {
                let near = self.near_spellings(word).await?;
                changed |= !near.is_empty();
                required.push(if near.is_empty() {
                    vec![word.clone()]
                } else {
                    near
                });
            }
            i += 1;
        }
        Ok(changed.then(|| Reading {
            required,
            cooking: reading.cooking.clone(),
        }))
    }

    /// Which of `forms` are words or stems of some description.
    async fn known(&self, forms: &[String]) -> Result<HashSet<String>, sqlx::Error> {
        if forms.is_empty() {
            return Ok(HashSet::new());
        }
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT word, stem FROM catalog_word WHERE word IN (");
        let mut list = q.separated(", ");
        for form in forms {
            list.push_bind(form);
        }
        q.push(") OR stem IN (");
        let mut list = q.separated(", ");
        for form in forms {
            list.push_bind(form);
        }
        q.push(")");
        let mut known = HashSet::new();
        for row in q.build().fetch_all(&self.pool).await? {
            known.insert(row.try_get::<String, _>("word")?);
            known.insert(row.try_get::<String, _>("stem")?);
        }
        Ok(known)
    }

    /// The catalog words a typo away from `word`, commonest first (at most three): one indexed
    /// look-up of its typo keys.
    async fn near_spellings(&self, word: &str) -> Result<Vec<String>, sqlx::Error> {
        let mut keys = search::typo_keys(word);
        for (_, stem) in search::index_words(word) {
            keys.extend(search::typo_keys(&stem));
        }
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT DISTINCT w.word, w.stem, w.foods FROM catalog_word_typo t
             JOIN catalog_word w ON w.word = t.word WHERE t.key IN (",
        );
        let mut list = q.separated(", ");
        for key in &keys {
            list.push_bind(key);
        }
        q.push(") ORDER BY w.foods DESC, w.word");
        let mut near = Vec::new();
        for row in q.build().fetch_all(&self.pool).await? {
            let (candidate, stem): (String, String) = (row.try_get("word")?, row.try_get("stem")?);
            if near.len() < 3 && search::is_near_spelling(word, &candidate, &stem) {
                near.push(candidate);
            }
        }
        if near.is_empty() {
            near = self.near_by_opening(word).await?;
        }
        Ok(near)
    }

    /// Two mistakes ("vinager", "cauliflour") share no typo key with the word meant: the catalog words
    /// opening with the same three letters are read instead — a range of the word table's primary
    /// key, a few hundred words at most — and tested with the scorer's rule, commonest first.
    async fn near_by_opening(&self, word: &str) -> Result<Vec<String>, sqlx::Error> {
        let opening: String = word.chars().take(3).collect();
        if word.chars().count() < 7 || opening.chars().count() < 3 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT word, stem FROM catalog_word WHERE word >= ?1 AND word < ?1 || char(1114111)
             ORDER BY foods DESC, word",
        )
        .bind(&opening)
        .fetch_all(&self.pool)
        .await?;
        let mut near = Vec::new();
        for row in rows {
            let (candidate, stem): (String, String) = (row.try_get("word")?, row.try_get("stem")?);
            if near.len() < 3 && search::is_near_spelling(word, &candidate, &stem) {
                near.push(candidate);
            }
        }
        Ok(near)
    }

    /// Appends the best `limit` matches of `expression` (from the index alone) not already in
    /// `ids`, up to `limit` in all.
    async fn matches(
        &self,
        expression: &str,
        limit: usize,
        ids: &mut Vec<i64>,
    ) -> Result<(), sqlx::Error> {
        if ids.len() >= limit {
            return Ok(());
        }
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?1
             ORDER BY bm25(catalog_fts, 4.0, 1.0) LIMIT ?2",
        )
        .bind(expression)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        for id in rows {
            if ids.len() >= limit {
                break;
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(())
    }

    /// The candidates' summaries, most-measured first (ties in match order): details and counts are
    /// read for these rows only, not for every match of a common word.
    async fn summaries(&self, ids: &[i64]) -> Result<Vec<FoodSummary>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT f.fdc_id, f.description, f.category, f.data_type, n.amount AS kcal,
                    (SELECT COUNT(*) FROM catalog_portion p WHERE p.fdc_id = f.fdc_id) AS portions,
                    (SELECT COUNT(*) FROM catalog_nutrient c WHERE c.fdc_id = f.fdc_id) AS nutrients
             FROM catalog_food f
             LEFT JOIN catalog_nutrient n ON n.fdc_id = f.fdc_id AND n.nutrient = ",
        );
        q.push_bind(NutrientKey::Calories.key());
        q.push(" WHERE f.fdc_id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        q.push(")");
        let mut found: Vec<(usize, i64, FoodSummary)> = Vec::with_capacity(ids.len());
        for row in q.build().fetch_all(&self.pool).await? {
            let id: i64 = row.try_get("fdc_id")?;
            let (portions, nutrients): (i64, i64) =
                (row.try_get("portions")?, row.try_get("nutrients")?);
            let order = ids.iter().position(|i| *i == id).unwrap_or(usize::MAX);
            found.push((
                order,
                portions * 1000 + nutrients,
                FoodSummary {
                    id: id.to_string(),
                    source: Source::Usda,
                    name: row.try_get("description")?,
                    brand: None,
                    category: row.try_get("category")?,
                    data_type: row.try_get("data_type")?,
                    calories_per_100g: row.try_get("kcal")?,
                },
            ));
        }
        found.sort_by_key(|(order, measures, _)| (std::cmp::Reverse(*measures), *order));
        Ok(found.into_iter().map(|(_, _, food)| food).collect())
    }
}

/// At most this many readings of one query are looked for (its own, a respelled one, aliases).
const MAX_READINGS: usize = 5;

/// One reading of the query for the index: each required slot with its alternatives (a respelled
/// word may have several), and the cooking words any of which a first pass asks for.
#[derive(Clone, Debug)]
struct Reading {
    required: Vec<Vec<String>>,
    cooking: Vec<String>,
}

/// An FTS5 expression matching any of the words as prefix terms: `("brocoli"* OR "broccoli"*)`. The
/// words come from `search` (letters and digits only), so no user text reaches FTS5 as syntax.
fn any_of(words: &[String]) -> String {
    let terms: Vec<String> = words
        .iter()
        .filter(|w| !w.is_empty() && w.chars().all(char::is_alphanumeric))
        .map(|w| format!("\"{w}\"*"))
        .collect();
    match terms.len() {
        0 => "\"\"".to_string(),
        1 => terms.concat(),
        _ => format!("({})", terms.join(" OR ")),
    }
}

/// The ways to cut a word into two of at least three letters: "icecream" → (ice, cream), ….
fn halves(word: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = word.chars().collect();
    (3..chars.len().saturating_sub(2))
        .map(|i| (chars[..i].iter().collect(), chars[i..].iter().collect()))
        .collect()
}

/// A `catalog_food` row (`fdc_id, description, data_type, category`) as a food without nutrients
/// or portions yet.
pub(super) fn food_of(row: &SqliteRow) -> Result<Food, sqlx::Error> {
    let fdc_id: i64 = row.try_get("fdc_id")?;
    Ok(Food {
        id: fdc_id.to_string(),
        source: Source::Usda,
        name: row.try_get("description")?,
        brand: None,
        category: row.try_get("category")?,
        data_type: row.try_get("data_type")?,
        basis: Basis::Per100g,
        nutrients: Nutrients::new(),
        portions: Vec::new(),
        serving: None,
    })
}

/// Adds a `catalog_nutrient` row (`nutrient, amount`) to `nutrients`.
pub(super) fn add_nutrient(nutrients: &mut Nutrients, row: &SqliteRow) -> Result<(), sqlx::Error> {
    // A key a later version renamed or dropped is simply not reported.
    if let Some(key) = NutrientKey::from_key(row.try_get("nutrient")?) {
        nutrients.insert(key, row.try_get("amount")?);
    }
    Ok(())
}

/// A `catalog_portion` row (`amount, unit, modifier, description, grams`).
pub(super) fn portion_of(row: &SqliteRow) -> Result<Portion, sqlx::Error> {
    Ok(Portion {
        amount: row.try_get("amount")?,
        unit: row.try_get("unit")?,
        modifier: row.try_get("modifier")?,
        description: row.try_get("description")?,
        grams: row.try_get("grams")?,
    })
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
        "DELETE FROM catalog_word_typo",
        "DELETE FROM catalog_word",
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

/// Rebuilds the search index and the word index from the new rows and returns how many nutrient
/// values were kept.
pub(crate) async fn finish(conn: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
    sqlx::query("INSERT INTO catalog_fts (catalog_fts) VALUES ('rebuild')")
        .execute(&mut *conn)
        .await?;
    index_words(conn).await?;
    // Tells running servers their in-memory copy is out of date (`catalog_foods`).
    sqlx::query("UPDATE catalog_generation SET generation = generation + 1")
        .execute(&mut *conn)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_nutrient")
        .fetch_one(&mut *conn)
        .await?;
    Ok(count.try_into().unwrap_or(0))
}

/// Fills `catalog_word` and `catalog_word_typo` from the descriptions (see migration 0007).
async fn index_words(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let descriptions: Vec<String> = sqlx::query_scalar("SELECT description FROM catalog_food")
        .fetch_all(&mut *conn)
        .await?;
    let mut words: HashMap<String, (String, i64)> = HashMap::new();
    for description in &descriptions {
        for (word, stem) in search::index_words(description) {
            words.entry(word).or_insert((stem, 0)).1 += 1;
        }
    }
    let mut rows: Vec<(&String, &String, i64)> =
        words.iter().map(|(w, (s, n))| (w, s, *n)).collect();
    rows.sort();
    // SQLite allows 32,766 bound values per statement: batches of 1,000 rows stay well under it.
    for batch in rows.chunks(1_000) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO catalog_word (word, stem, foods) ");
        q.push_values(batch, |mut b, (word, stem, foods)| {
            b.push_bind(*word).push_bind(*stem).push_bind(*foods);
        });
        q.build().execute(&mut *conn).await?;
    }
    let mut keys: Vec<(String, &String)> = Vec::new();
    for (word, stem, _) in &rows {
        let mut own = search::typo_keys(word);
        own.extend(search::typo_keys(stem));
        own.sort();
        own.dedup();
        keys.extend(own.into_iter().map(|k| (k, *word)));
    }
    for batch in keys.chunks(5_000) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO catalog_word_typo (key, word) ");
        q.push_values(batch, |mut b, (key, word)| {
            b.push_bind(key).push_bind(*word);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_terms_are_quoted_prefixes_of_letters_and_digits_only() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(any_of(&words(&["banana"])), "\"banana\"*");
        assert_eq!(
            any_of(&words(&["brocoli", "broccoli"])),
            "(\"brocoli\"* OR \"broccoli\"*)"
        );
        assert_eq!(
            any_of(&words(&["x\" OR", "y"])),
            "\"y\"*",
            "no syntax gets through"
        );
    }

    #[test]
    fn halves_cut_a_word_into_two_of_three_letters_or_more() {
        let cuts = halves("icecream");
        assert!(cuts.contains(&("ice".to_string(), "cream".to_string())));
        assert!(cuts.iter().all(|(a, b)| a.len() >= 3 && b.len() >= 3));
        assert!(halves("pea").is_empty());
    }
}
