//! The offline USDA catalog in SQLite: whole-catalog writes for the importer and food lookup (its
//! search index is built in memory with each snapshot: `catalog_index`).

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use crate::food::model::{Basis, Food, Portion, Source};
use crate::food::nutrients::{NutrientKey, Nutrients};
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
        parsed: Default::default(),
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

    /// Counts the import, commits, and returns how many nutrient values were kept.
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

/// Counts the import in `catalog_generation` and returns how many nutrient values were kept.
pub(crate) async fn finish(conn: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
    // Tells running servers their in-memory copy (foods and search index) is out of date.
    sqlx::query("UPDATE catalog_generation SET generation = generation + 1")
        .execute(&mut *conn)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_nutrient")
        .fetch_one(&mut *conn)
        .await?;
    Ok(count.try_into().unwrap_or(0))
}
